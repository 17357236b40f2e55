"""Split step: the labelled data into a training and a test set, stratified by the label.

Writes train/train.csv and test/test.csv with their header: the label and the 30 features.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import pandas as pd
from sklearn.model_selection import train_test_split

LOG = logging.getLogger("split")


class DataError(ValueError):
    """The data cannot be trained on; the message names the problem and the fix."""


def split(
    data: pd.DataFrame, label: str, test_size: float = 0.2, seed: int = 42
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return (train, test), each with the label as the first column."""
    if label not in data.columns:
        raise DataError(f"no label column {label!r} in {list(data.columns)[:5]}...: add it")
    if data[label].nunique() != 2:
        raise DataError(f"label {label!r} has {data[label].nunique()} classes: need 0 and 1")
    if data.isna().any().any():
        raise DataError("the data has missing values: fill or drop them first")
    ordered = data[[label, *[c for c in data.columns if c != label]]]
    train, test = train_test_split(
        ordered, test_size=test_size, random_state=seed, stratify=ordered[label]
    )
    return train.reset_index(drop=True), test.reset_index(drop=True)


def main(argv: list[str] | None = None) -> None:
    """Read every CSV of the input folder; write train/train.csv and test/test.csv."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--input-dir", type=Path, required=True)
    parser.add_argument("--output-dir", type=Path, required=True)
    parser.add_argument("--label", required=True)
    args = parser.parse_args(argv)
    files = sorted(args.input_dir.rglob("*.csv"))
    if not files:
        raise DataError(f"no CSV file in {args.input_dir}: point TrainingDataUrl at the data")
    train, test = split(pd.concat([pd.read_csv(f) for f in files], ignore_index=True), args.label)
    for name, frame in (("train", train), ("test", test)):
        (args.output_dir / name).mkdir(parents=True, exist_ok=True)
        frame.to_csv(args.output_dir / name / f"{name}.csv", index=False)
    LOG.info("%d training and %d test rows", len(train), len(test))


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    main()
