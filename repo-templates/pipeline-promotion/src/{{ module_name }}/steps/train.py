"""Training script (XGBoost script mode): fit a binary classifier on the train channel.

Saves the booster as `xgboost-model` in the model folder, with the serving handlers
(inference.py) under code/, so the model serves itself in the transform job without a repack.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
from pathlib import Path
from typing import Any

import pandas as pd
import xgboost as xgb

LOG = logging.getLogger("train")
HERE = Path(__file__).resolve().parent


def fit(frame: pd.DataFrame, label: str, max_depth: int, eta: float, num_round: int) -> xgb.Booster:
    """Train the booster on `frame` (the label column and the features)."""
    matrix = xgb.DMatrix(frame.drop(columns=[label]), label=frame[label])
    params: dict[str, Any] = {
        "objective": "binary:logistic",
        "eval_metric": "auc",
        "max_depth": max_depth,
        "eta": eta,
        "seed": 42,
        "tree_method": "hist",
    }
    return xgb.train(params, matrix, num_boost_round=num_round)


def save(booster: xgb.Booster, model_dir: Path) -> None:
    """Write the model as the XGBoost container and steps/inference.py load it."""
    model_dir.mkdir(parents=True, exist_ok=True)
    staged = model_dir / "xgboost-model.ubj"
    booster.save_model(str(staged))
    staged.replace(model_dir / "xgboost-model")
    (model_dir / "code").mkdir(exist_ok=True)
    shutil.copy2(HERE / "inference.py", model_dir / "code" / "inference.py")


def main(argv: list[str] | None = None) -> None:
    """Parse the hyperparameters and the SageMaker folders; train and save the model."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--label", required=True)
    parser.add_argument("--max_depth", type=int, default=3)
    parser.add_argument("--eta", type=float, default=0.3)
    parser.add_argument("--num_round", type=int, default=50)
    parser.add_argument("--train", type=Path, default=Path(os.environ.get("SM_CHANNEL_TRAIN", ".")))
    parser.add_argument(
        "--model-dir", type=Path, default=Path(os.environ.get("SM_MODEL_DIR", "model"))
    )
    args, _ = parser.parse_known_args(argv)
    files = sorted(args.train.rglob("*.csv"))
    if not files:
        raise FileNotFoundError(f"no CSV in the train channel {args.train}")
    frame = pd.concat([pd.read_csv(f) for f in files], ignore_index=True)
    booster = fit(frame, args.label, args.max_depth, args.eta, args.num_round)
    save(booster, args.model_dir)
    LOG.info("trained on %d rows", len(frame))


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    main()
