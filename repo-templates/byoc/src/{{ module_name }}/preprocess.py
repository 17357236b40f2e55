"""The processing image's entry point: split a CSV with a header into training channels.

A SageMaker processing job mounts its inputs and outputs where the job says (by convention
under /opt/ml/processing); the output holds train/, validation/ and test/ with headerless,
label-first CSV files: what `train` reads.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

SPLITS = ("train", "validation", "test")


def to_label_first(header: list[str], rows: list[list[str]], label: str) -> NDArray[np.float64]:
    """Move column `label` first and parse every value as a number."""
    if label not in header:
        raise ValueError(
            f'Label column "{label}" is not in the header {header}: pass --label-column'
        )
    order = [header.index(label)] + [i for i, h in enumerate(header) if h != label]
    try:
        return np.array([[float(r[i]) for i in order] for r in rows], dtype=np.float64)
    except (ValueError, IndexError) as exc:
        raise ValueError(f"Input is not a numeric CSV with {len(header)} columns: {exc}") from None


def split(
    data: NDArray[np.float64], validation: float, test: float, seed: int
) -> dict[str, NDArray[np.float64]]:
    """Shuffle rows and split them into train, validation and test."""
    if not (0 < validation < 1 and 0 < test < 1 and validation + test < 1):
        raise ValueError(f"Fractions validation={validation} test={test}: each in (0, 1), sum < 1")
    rows = np.random.default_rng(seed).permutation(len(data))
    n_val, n_test = int(len(data) * validation), int(len(data) * test)
    if min(n_val, n_test, len(data) - n_val - n_test) < 1:
        raise ValueError(f"{len(data)} rows are too few to split into three non-empty parts")
    parts = np.split(rows, [len(data) - n_val - n_test, len(data) - n_test])
    return {name: data[idx] for name, idx in zip(SPLITS, parts, strict=True)}


def run(input_dir: Path, output_dir: Path, label: str, validation: float, test: float,
        seed: int) -> dict[str, int]:  # fmt: skip
    """Read the input CSV files, write the three splits; return rows per split."""
    files = sorted(input_dir.glob("*.csv"))
    if not files:
        raise ValueError(f"No *.csv files in {input_dir}: map the processing input there")
    header: list[str] | None = None
    rows: list[list[str]] = []
    for path in files:
        with path.open(newline="", encoding="utf-8") as fh:
            reader = csv.reader(fh)
            head = next(reader)
            if header is not None and head != header:
                raise ValueError(f"{path.name} has another header than {files[0].name}")
            header = head
            rows.extend(r for r in reader if r)
    assert header is not None
    parts = split(to_label_first(header, rows, label), validation, test, seed)
    for name, part in parts.items():
        (output_dir / name).mkdir(parents=True, exist_ok=True)
        np.savetxt(output_dir / name / f"{name}.csv", part, delimiter=",", fmt="%.10g")
    return {name: len(part) for name, part in parts.items()}


def main(argv: list[str] | None = None) -> int:
    """`preprocess`: parse arguments, split, print the row counts."""
    parser = argparse.ArgumentParser(prog="preprocess", description=__doc__.splitlines()[0])
    parser.add_argument("--input-dir", type=Path, default=Path("/opt/ml/processing/input"))
    parser.add_argument("--output-dir", type=Path, default=Path("/opt/ml/processing/output"))
    parser.add_argument("--label-column", required=True)
    parser.add_argument("--validation-fraction", type=float, default=0.15)
    parser.add_argument("--test-fraction", type=float, default=0.15)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    try:
        counts = run(args.input_dir, args.output_dir, args.label_column,
                     args.validation_fraction, args.test_fraction, args.seed)  # fmt: skip
    except (ValueError, OSError) as exc:
        print(f"preprocess: {exc}", file=sys.stderr)
        return 1
    print(" ".join(f"{k}={v}" for k, v in counts.items()))
    return 0


def cli() -> None:
    """Console entry point."""
    raise SystemExit(main())


if __name__ == "__main__":
    cli()
