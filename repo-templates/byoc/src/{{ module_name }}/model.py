"""The model: an XGBoost binary classifier, saved as `xgboost-model`.

XGBoost is pinned to the library of the SageMaker XGBoost container 3.0-5 (xgboost 3.0.5), and
the file name is the one that container loads: a model trained by this image can be evaluated
and served by model-training's XGBoost steps, and by this repository's inference image.
Swap in your own model here; `train.py` and `serve.py` only call `fit`, `save`, `load`, `score`.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np
import xgboost as xgb
from numpy.typing import NDArray

MODEL_FILE = "xgboost-model"
# SageMaker adds these to the hyperparameters of some jobs; they configure SageMaker, not us.
SAGEMAKER_OWN = ("sagemaker_", "_tuning_objective_metric")


@dataclass(frozen=True)
class Hyperparameters:
    """What `train` accepts in hyperparameters.json (SageMaker passes every value as a string)."""

    max_depth: int = 4
    eta: float = 0.2
    min_child_weight: float = 1.0
    subsample: float = 0.9
    num_round: int = 200
    early_stopping_rounds: int = 20
    # Name of the label column when the CSV files have a header; else the label is column one.
    label: str = ""

    @classmethod
    def parse(cls, raw: dict[str, str]) -> Hyperparameters:
        """Parse SageMaker's string hyperparameters; a bad or unknown one names the fix."""
        known = {f.name: f for f in fields(cls)}
        ours = {k: v for k, v in raw.items() if not k.startswith(SAGEMAKER_OWN)}
        unknown = sorted(set(ours) - set(known))
        if unknown:
            raise ValueError(f"Unknown hyperparameters {unknown}: use {sorted(known)}")
        values: dict[str, object] = {}
        for name, text in ours.items():
            kind = type(getattr(cls(), name))
            if kind is str:
                values[name] = text
                continue
            try:
                value = kind(text)
            except ValueError:
                noun = "an integer" if kind is int else "a number"
                example = getattr(cls(), name)
                raise ValueError(
                    f'Hyperparameter {name}="{text}" is not {noun}: use e.g. {name}={example}'
                ) from None
            if value <= 0 or (name == "subsample" and value > 1):
                limit = "in (0, 1]" if name == "subsample" else "greater than 0"
                raise ValueError(f"Hyperparameter {name}={text} must be {limit}")
            values[name] = value
        return cls(**values)  # type: ignore[arg-type]

    def params(self) -> dict[str, object]:
        """XGBoost parameters for binary classification judged by AUC."""
        return {
            "objective": "binary:logistic",
            "eval_metric": "auc",
            "max_depth": self.max_depth,
            "eta": self.eta,
            "min_child_weight": self.min_child_weight,
            "subsample": self.subsample,
            "tree_method": "hist",
            "seed": 42,
        }


def fit(
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    hps: Hyperparameters,
    validation: tuple[NDArray[np.float64], NDArray[np.float64]] | None = None,
) -> xgb.Booster:
    """Fit on features `x` and 0/1 labels `y`, stopping early on `validation` when given."""
    labels = set(np.unique(y).tolist())
    if not labels <= {0.0, 1.0} or len(labels) < 2:
        raise ValueError(f"Labels must be 0 and 1 (both present); found {sorted(labels)}")
    train = xgb.DMatrix(x, label=y)
    evals = [(train, "train")]
    if validation is not None:
        evals.append((xgb.DMatrix(validation[0], label=validation[1]), "validation"))
    return xgb.train(
        hps.params(),
        train,
        num_boost_round=hps.num_round,
        evals=evals,
        early_stopping_rounds=hps.early_stopping_rounds if validation is not None else None,
        verbose_eval=False,
    )


def score(booster: xgb.Booster, x: NDArray[np.float64]) -> NDArray[np.float64]:
    """Probability of the positive class for each row of `x`."""
    best = getattr(booster, "best_iteration", None)
    rounds = (0, best + 1) if best is not None else (0, 0)
    return np.asarray(booster.inplace_predict(x, iteration_range=rounds), dtype=np.float64)


def save(booster: xgb.Booster, folder: Path) -> Path:
    """Write the booster to `folder`/xgboost-model."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / MODEL_FILE
    # UBJSON, the format XGBoost 3 writes by default and the SageMaker container loads.
    path.write_bytes(bytes(booster.save_raw(raw_format="ubj")))
    return path


def load(folder: Path) -> xgb.Booster:
    """Read `folder`/xgboost-model."""
    path = folder / MODEL_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist: the model archive must hold {MODEL_FILE}")
    booster = xgb.Booster()
    booster.load_model(str(path))
    return booster
