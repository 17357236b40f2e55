"""The training image's entry point: SageMaker runs `train` with the job's /opt/ml tree.

Channels hold headerless CSV files with the 0/1 label in the first column (SageMaker's
convention for CSV training data). Any failure is written to /opt/ml/output/failure, which
SageMaker reports as the job's FailureReason, and the process exits non-zero.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Mapping
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from .contract import ContractError, TrainingEnv, ml_root
from .model import Hyperparameters, LogisticModel, fit

log = logging.getLogger(__name__)
TRAIN_CHANNEL = "train"
VALIDATION_CHANNEL = "validation"


def read_csv_channel(folder: Path) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Read every *.csv under `folder` (label first, no header) into features and labels."""
    files = sorted(p for p in folder.rglob("*.csv") if p.is_file())
    if not files:
        raise ContractError(f"No *.csv files in {folder}: the channel must hold CSV files")
    blocks = []
    for path in files:
        try:
            block = np.loadtxt(path, delimiter=",", dtype=np.float64, ndmin=2)
        except ValueError as exc:
            raise ContractError(
                f"{path.name} is not numeric CSV ({exc}): write the label first, then the "
                "features, without a header row"
            ) from None
        if block.shape[1] < 2:
            raise ContractError(f"{path.name} has one column: write the label, then features")
        blocks.append(block)
    widths = {b.shape[1] for b in blocks}
    if len(widths) > 1:
        raise ContractError(f"CSV files in {folder} have different widths {sorted(widths)}")
    data = np.vstack(blocks)
    return data[:, 1:], data[:, 0]


def accuracy(model: LogisticModel, x: NDArray[np.float64], y: NDArray[np.float64]) -> float:
    """Share of rows whose thresholded probability matches the label."""
    return float(np.mean((model.predict_proba(x) >= 0.5) == (y == 1.0)))


def run(env: TrainingEnv) -> dict[str, float]:
    """Train on the job's channels, write the model and metrics, return the metrics."""
    hps = Hyperparameters.parse(env.hyperparameters)
    x, y = read_csv_channel(env.channel(TRAIN_CHANNEL))
    model = fit(x, y, hps)
    metrics = {"train:accuracy": accuracy(model, x, y)}
    if VALIDATION_CHANNEL in env.channels:
        vx, vy = read_csv_channel(env.channel(VALIDATION_CHANNEL))
        if vx.shape[1] != model.n_features:
            raise ContractError(
                f"Validation data has {vx.shape[1]} features, training data {model.n_features}"
            )
        metrics["validation:accuracy"] = accuracy(model, vx, vy)
    model.save(env.model_dir)
    env.output_data_dir.mkdir(parents=True, exist_ok=True)
    (env.output_data_dir / "metrics.json").write_text(json.dumps(metrics), encoding="utf-8")
    for name, value in metrics.items():
        # SageMaker metric definitions match lines like this one in the job's log.
        log.info("%s=%.6f", name, value)
    return metrics


def write_failure(root_output: Path, message: str) -> None:
    """Leave the reason where SageMaker reads it (it keeps the first 1024 characters)."""
    root_output.mkdir(parents=True, exist_ok=True)
    (root_output / "failure").write_text(message[:1024], encoding="utf-8")


def main(argv: list[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    """`train`: SageMaker calls it with the argument "train" (or none); returns the exit code."""
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stdout)
    args = sys.argv[1:] if argv is None else argv
    if args not in ([], ["train"]):
        print(f"usage: train [train]; got {' '.join(args)!r}", file=sys.stderr)
        return 2
    output = ml_root(environ) / "output"
    try:
        env = TrainingEnv.load(environ)
        run(env)
    except (ContractError, ValueError) as exc:
        write_failure(output, str(exc))
        log.error("training failed: %s", exc)
        return 1
    except Exception as exc:  # the job must still say why it failed
        write_failure(output, f"{type(exc).__name__}: {exc}")
        log.exception("training failed")
        return 2
    return 0


def cli() -> None:
    """Console entry point."""
    raise SystemExit(main())


if __name__ == "__main__":
    cli()
