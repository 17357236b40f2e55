"""The model: a standardised logistic regression, stored as JSON so serving needs only numpy.

Training uses scikit-learn; the artifact is plain numbers, so the inference image neither ships
scikit-learn nor unpickles anything it downloads. Swap in your own model here and in `train.py`.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

MODEL_FILE = "model.json"
FORMAT = "byoc-logistic/1"


@dataclass(frozen=True)
class Hyperparameters:
    """What `train` accepts in hyperparameters.json (SageMaker passes every value as a string)."""

    c: float = 1.0
    max_iter: int = 200

    @classmethod
    def parse(cls, raw: dict[str, str]) -> Hyperparameters:
        """Parse SageMaker's string hyperparameters; a bad or unknown one names the fix."""
        known = {"C": ("c", float), "max_iter": ("max_iter", int)}
        unknown = sorted(
            set(raw) - set(known) - {"sagemaker_program", "sagemaker_submit_directory"}
        )
        if unknown:
            raise ValueError(f"Unknown hyperparameters {unknown}: use {sorted(known)}")
        values: dict[str, float | int] = {}
        for name, (field, kind) in known.items():
            if name not in raw:
                continue
            try:
                value = kind(raw[name])
            except ValueError:
                noun = "an integer" if kind is int else "a number"
                example = getattr(cls(), field)
                raise ValueError(
                    f'Hyperparameter {name}="{raw[name]}" is not {noun}: use e.g. {name}={example}'
                ) from None
            if value <= 0:
                raise ValueError(f"Hyperparameter {name}={raw[name]} must be greater than 0")
            values[field] = value
        return cls(**values)  # type: ignore[arg-type]


@dataclass(frozen=True)
class LogisticModel:
    """Standardisation and logistic regression weights, enough to score a row with numpy."""

    mean: list[float]
    scale: list[float]
    coef: list[float]
    intercept: float
    format: str = FORMAT

    @property
    def n_features(self) -> int:
        """How many values a row must have."""
        return len(self.coef)

    def predict_proba(self, x: NDArray[np.float64]) -> NDArray[np.float64]:
        """Probability of the positive class for each row of `x`."""
        z = (x - np.asarray(self.mean)) / np.asarray(self.scale)
        logits = z @ np.asarray(self.coef) + self.intercept
        return np.asarray(1.0 / (1.0 + np.exp(-logits)), dtype=np.float64)

    def save(self, folder: Path) -> Path:
        """Write the model to `folder`/model.json."""
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / MODEL_FILE
        path.write_text(json.dumps(asdict(self)), encoding="utf-8")
        return path

    @classmethod
    def load(cls, folder: Path) -> LogisticModel:
        """Read `folder`/model.json, refusing a file that is not this model's format."""
        path = folder / MODEL_FILE
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format") != FORMAT:
            raise ValueError(f"{path} is not a {FORMAT} model (format {data.get('format')!r})")
        return cls(**data)


def fit(x: NDArray[np.float64], y: NDArray[np.float64], hps: Hyperparameters) -> LogisticModel:
    """Fit the model on features `x` and 0/1 labels `y`."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    labels = set(np.unique(y).tolist())
    if not labels <= {0.0, 1.0} or len(labels) < 2:
        raise ValueError(f"Labels must be 0 and 1 (both present); found {sorted(labels)}")
    scaler = StandardScaler().fit(x)
    scale = np.where(scaler.scale_ == 0, 1.0, scaler.scale_)
    clf = LogisticRegression(C=hps.c, max_iter=hps.max_iter).fit((x - scaler.mean_) / scale, y)
    return LogisticModel(
        mean=scaler.mean_.tolist(),
        scale=scale.tolist(),
        coef=clf.coef_[0].tolist(),
        intercept=float(clf.intercept_[0]),
    )
