"""Evaluate step: the model's AUC on the test set, written to evaluation.json for the gate.

Runs in the XGBoost container with this file alone (`code=`), so it loads the model itself.
"""

from __future__ import annotations

import argparse
import json
import logging
import tarfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xgboost as xgb

LOG = logging.getLogger("evaluate")


def auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """Area under the ROC curve (the rank statistic; ties count half)."""
    positives, negatives = scores[labels == 1], scores[labels == 0]
    if not len(positives) or not len(negatives):
        raise ValueError("the test set needs both classes to compute an AUC")
    greater = (positives[:, None] > negatives[None, :]).sum()
    ties = (positives[:, None] == negatives[None, :]).sum()
    return float((greater + 0.5 * ties) / (len(positives) * len(negatives)))


def load(model_dir: Path) -> xgb.Booster:
    """The booster from model.tar.gz (or an unpacked xgboost-model) in `model_dir`."""
    archive = model_dir / "model.tar.gz"
    if archive.is_file():
        with tarfile.open(archive) as tar:
            tar.extractall(model_dir, filter="data")
    booster = xgb.Booster()
    booster.load_model(str(model_dir / "xgboost-model"))
    return booster


def evaluate(booster: xgb.Booster, test: pd.DataFrame, label: str) -> dict[str, Any]:
    """The evaluation report of `booster` on `test`."""
    features = test.drop(columns=[label])
    scores = np.asarray(booster.inplace_predict(features.to_numpy()), dtype=float)
    labels = test[label].to_numpy()
    accuracy = float(((scores >= 0.5).astype(int) == labels).mean())
    return {"auc": round(auc(labels, scores), 6), "accuracy": round(accuracy, 6), "rows": len(test)}


def main(argv: list[str] | None = None) -> None:
    """Score the test set; write evaluation.json."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model-dir", type=Path, required=True)
    parser.add_argument("--test-dir", type=Path, required=True)
    parser.add_argument("--output-dir", type=Path, required=True)
    parser.add_argument("--label", required=True)
    args = parser.parse_args(argv)
    test = pd.concat([pd.read_csv(f) for f in sorted(args.test_dir.rglob("*.csv"))])
    report = evaluate(load(args.model_dir), test, args.label)
    args.output_dir.mkdir(parents=True, exist_ok=True)
    (args.output_dir / "evaluation.json").write_text(json.dumps(report), encoding="utf-8")
    LOG.info("test AUC %.4f", report["auc"])


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    main()
