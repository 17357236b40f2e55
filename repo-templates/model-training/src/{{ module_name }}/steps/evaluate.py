"""Evaluation step: score the trained model on the held-out test set and write evaluation.json.

The report uses SageMaker's model-quality layout, so the model registry shows it as the model
package's metrics, and the pipeline's condition reads the AUC from it through a PropertyFile.
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
from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score, roc_auc_score

LABEL = "malignant"
MODEL_FILE = "xgboost-model"
REPORT_FILE = "evaluation.json"
LOG = logging.getLogger("evaluate")


def predict(model: xgb.Booster, X: pd.DataFrame) -> np.ndarray:
    """Return the predicted probability of the positive class for each row of `X`."""
    return np.asarray(model.predict(xgb.DMatrix(X)), dtype=float)


def evaluate(
    model: xgb.Booster, X: pd.DataFrame, y: pd.Series, cutoff: float = 0.5
) -> dict[str, Any]:
    """Return the model-quality report of `model` on (`X`, `y`), AUC first."""
    if y.nunique() < 2:
        raise ValueError("the test set holds one class only: AUC needs both 0 and 1 labels")
    scores = predict(model, X)
    labels = (scores >= cutoff).astype(int)

    def metric(value: float) -> dict[str, Any]:
        return {"value": round(float(value), 6), "standard_deviation": "NaN"}

    return {
        "binary_classification_metrics": {
            "auc": metric(roc_auc_score(y, scores)),
            "accuracy": metric(accuracy_score(y, labels)),
            "precision": metric(precision_score(y, labels, zero_division=0)),
            "recall": metric(recall_score(y, labels, zero_division=0)),
            "f1": metric(f1_score(y, labels, zero_division=0)),
        },
        "test_rows": len(y),
    }


def _inside(root: Path, name: str) -> bool:
    target = (root / name).resolve()
    return target == root.resolve() or root.resolve() in target.parents


def load_model(model_dir: Path) -> xgb.Booster:
    """Load the booster from the model.tar.gz (or loose model file) that training produced."""
    archive = model_dir / "model.tar.gz"
    if archive.exists():
        with tarfile.open(archive) as tar:
            # The containers' Pythons may predate tarfile's extraction filters: check by hand.
            for member in tar.getmembers():
                if not (member.isfile() or member.isdir()) or not _inside(model_dir, member.name):
                    raise ValueError(f"refusing to extract {member.name!r} from {archive}")
            tar.extractall(model_dir)  # noqa: S202 - members checked above
    booster = xgb.Booster()
    booster.load_model(str(model_dir / MODEL_FILE))
    return booster


def main(argv: list[str] | None = None) -> None:
    """Read the model and test data, evaluate, write the report."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model-dir", type=Path, required=True)
    parser.add_argument("--test-dir", type=Path, required=True)
    parser.add_argument("--output-dir", type=Path, required=True)
    args = parser.parse_args(argv)

    test = pd.concat([pd.read_csv(f) for f in sorted(args.test_dir.rglob("*.csv"))])
    report = evaluate(load_model(args.model_dir), test.drop(columns=[LABEL]), test[LABEL])
    args.output_dir.mkdir(parents=True, exist_ok=True)
    (args.output_dir / REPORT_FILE).write_text(json.dumps(report, indent=2), encoding="utf-8")
    LOG.info("test AUC %s", report["binary_classification_metrics"]["auc"]["value"])


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    main()
