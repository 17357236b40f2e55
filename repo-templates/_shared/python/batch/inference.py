"""Serving handlers for the XGBoost container (script mode): CSV rows in, one probability out.

The SageMaker XGBoost container calls these in the transform job; the local run serves the
model with the same functions.
"""

from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path
from typing import Any

import numpy as np
import xgboost as xgb

MODEL_FILE = "xgboost-model"


def model_fn(model_dir: str) -> xgb.Booster:
    """Load the booster model-training saved (`xgboost-model`, inside model.tar.gz or not)."""
    folder = Path(model_dir)
    archive = folder / "model.tar.gz"
    if not (folder / MODEL_FILE).is_file() and archive.is_file():
        with tarfile.open(archive) as tar:
            member = tar.getmember(MODEL_FILE)
            extracted = tar.extractfile(member)
            if extracted is None:
                raise ValueError(f"{archive} holds no {MODEL_FILE} file")
            (folder / MODEL_FILE).write_bytes(extracted.read())
    booster = xgb.Booster()
    booster.load_model(os.fspath(folder / MODEL_FILE))
    return booster


def input_fn(body: bytes | str, content_type: str) -> np.ndarray:
    """Parse CSV rows of features (no header)."""
    if content_type.split(";")[0].strip() != "text/csv":
        raise ValueError(f"unsupported content type {content_type!r}: send text/csv")
    text = body.decode("utf-8") if isinstance(body, bytes) else body
    data = np.loadtxt(io.StringIO(text), delimiter=",", ndmin=2)
    return np.asarray(data, dtype=float)


def predict_fn(data: np.ndarray, model: xgb.Booster) -> np.ndarray:
    """The positive-class probability of each row."""
    if data.shape[1] != model.num_features():
        raise ValueError(
            f"rows have {data.shape[1]} values, the model takes {model.num_features()}"
        )
    return np.asarray(model.inplace_predict(data), dtype=float)


def output_fn(prediction: np.ndarray, accept: str) -> Any:
    """One probability per line."""
    return "".join(f"{p:.6f}\n" for p in prediction)
