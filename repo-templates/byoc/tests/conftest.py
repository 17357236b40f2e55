"""Shared fixtures: a temporary /opt/ml tree with a small, separable training set."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

N_FEATURES = 4


def make_rows(n: int, seed: int) -> np.ndarray:
    """Label-first rows whose label follows the first two features."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, N_FEATURES))
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).astype(float)
    return np.column_stack([y, x])


def write_tree(root: Path, channels: dict[str, np.ndarray], hps: dict[str, str]) -> Path:
    """Lay out what SageMaker mounts for a training job under `root`."""
    config = root / "input" / "config"
    config.mkdir(parents=True)
    (config / "hyperparameters.json").write_text(json.dumps(hps))
    data_config = {
        name: {"ContentType": "text/csv", "TrainingInputMode": "File"} for name in channels
    }
    (config / "inputdataconfig.json").write_text(json.dumps(data_config))
    (config / "resourceconfig.json").write_text(
        json.dumps(
            {"current_host": "algo-1", "hosts": ["algo-1"], "network_interface_name": "eth0"}
        )
    )
    for name, rows in channels.items():
        folder = root / "input" / "data" / name
        folder.mkdir(parents=True)
        np.savetxt(folder / f"{name}.csv", rows, delimiter=",", fmt="%.8g")
    return root


@pytest.fixture
def opt_ml(tmp_path: Path) -> Path:
    """A training job's tree with train and validation channels."""
    channels = {"train": make_rows(200, 1), "validation": make_rows(60, 2)}
    return write_tree(tmp_path / "opt_ml", channels, {"max_depth": "3", "num_round": "50"})
