"""The training image's entry point: SageMaker runs `train` with the job's /opt/ml tree.

Channels hold CSV files with the 0/1 label in the first column (SageMaker's convention for
CSV training data) or, with a header row, in the column the `label` hyperparameter names.
Any failure is written to /opt/ml/output/failure, which SageMaker reports as the job's
FailureReason, and the process exits non-zero.
"""

from __future__ import annotations

import csv
import json
import logging
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from . import model
from .contract import ContractError, TrainingEnv, ml_root

log = logging.getLogger(__name__)
TRAIN_CHANNEL = "train"
VALIDATION_CHANNEL = "validation"


def _numbers(row: list[str], where: str) -> list[float]:
    try:
        return [float(cell) for cell in row]
    except ValueError as exc:
        raise ContractError(f"{where} is not numeric ({exc})") from None


def read_csv_channel(
    folder: Path, label: str = ""
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Read every *.csv under `folder` into features and labels.

    A first row that is not numeric is a header; the label is the column named `label`, or the
    first column (SageMaker's convention for CSV training data).
    """
    files = sorted(p for p in folder.rglob("*.csv") if p.is_file())
    if not files:
        raise ContractError(f"No *.csv files in {folder}: the channel must hold CSV files")
    rows: list[list[float]] = []
    for path in files:
        with path.open(newline="", encoding="utf-8") as fh:
            lines = [r for r in csv.reader(fh) if r]
        if not lines:
            continue
        header: list[str] | None = None
        try:
            [float(c) for c in lines[0]]
        except ValueError:
            header, lines = lines[0], lines[1:]
        if label and header is None:
            raise ContractError(f'{path.name} has no header, so label "{label}" cannot be found')
        column = 0
        if label:
            assert header is not None
            if label not in header:
                raise ContractError(f'{path.name} has no column "{label}"; columns: {header}')
            column = header.index(label)
        for number, row in enumerate(lines, start=2 if header else 1):
            values = _numbers(row, f"{path.name} line {number}")
            rows.append([values[column], *values[:column], *values[column + 1 :]])
    widths = {len(r) for r in rows}
    if not rows or min(widths) < 2:
        raise ContractError(f"CSV files in {folder} need a label and at least one feature")
    if len(widths) > 1:
        raise ContractError(f"CSV rows in {folder} have different widths {sorted(widths)}")
    data = np.asarray(rows, dtype=np.float64)
    return data[:, 1:], data[:, 0]


def accuracy(booster: Any, x: NDArray[np.float64], y: NDArray[np.float64]) -> float:
    """Share of rows whose thresholded probability matches the label."""
    return float(np.mean((model.score(booster, x) >= 0.5) == (y == 1.0)))


def run(env: TrainingEnv) -> dict[str, float]:
    """Train on the job's channels, write the model and metrics, return the metrics."""
    hps = model.Hyperparameters.parse(env.hyperparameters)
    x, y = read_csv_channel(env.channel(TRAIN_CHANNEL), hps.label)
    validation = None
    if VALIDATION_CHANNEL in env.channels:
        validation = read_csv_channel(env.channel(VALIDATION_CHANNEL), hps.label)
        if validation[0].shape[1] != x.shape[1]:
            raise ContractError(
                f"Validation data has {validation[0].shape[1]} features, training data {x.shape[1]}"
            )
    booster = model.fit(x, y, hps, validation)
    metrics = {"train:accuracy": accuracy(booster, x, y)}
    if validation is not None:
        metrics["validation:accuracy"] = accuracy(booster, *validation)
    model.save(booster, env.model_dir)
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
