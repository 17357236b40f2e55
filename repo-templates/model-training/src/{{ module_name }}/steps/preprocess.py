"""Preprocessing step: validate the raw CSV and split it into train, validation and test sets.

Runs in the SageMaker scikit-learn processing container; arguments carry every path, so the
pipeline definition (and the local run that reads it) decide where data comes from and goes.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import pandas as pd
from sklearn.model_selection import train_test_split

LOG = logging.getLogger("preprocess")


class DataError(ValueError):
    """The input data cannot be used; the message names the problem and the fix."""


def clean(df: pd.DataFrame, label: str, drop: tuple[str, ...] = ()) -> pd.DataFrame:
    """Return `df` with the label first, only numeric columns, and no rows with missing values.

    `drop` names the columns that are not features; the label column always comes first, as
    the training and evaluation steps expect.
    """
    if label not in df.columns:
        raise DataError(
            f"label column {label!r} is missing (columns: {sorted(df.columns)[:8]}): set"
            " LABEL_COLUMN in settings.py to your CSV's 0/1 column"
        )
    unknown = sorted(set(drop) - set(df.columns))
    if unknown:
        raise DataError(f"DROP_COLUMNS {unknown} are not columns of the CSV: fix settings.py")
    df = df.drop(columns=list(drop))
    non_numeric = [c for c in df.columns if not pd.api.types.is_numeric_dtype(df[c])]
    if non_numeric:
        raise DataError(f"non-numeric columns {non_numeric}: encode them as numbers first")
    out = df.dropna().reset_index(drop=True)
    labels = set(out[label].unique().tolist())
    if not labels <= {0, 1}:
        raise DataError(f"label values {sorted(labels)} are not binary: use 0 and 1")
    if len(labels) < 2:
        raise DataError(f"only label value(s) {sorted(labels)} present: both 0 and 1 are needed")
    features = [c for c in out.columns if c != label]
    return out[[label, *features]].astype({label: "int64"})


def split(
    df: pd.DataFrame,
    validation_size: float = 0.15,
    test_size: float = 0.15,
    seed: int = 42,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Split a clean()ed `df` into (train, validation, test), stratified on the label."""
    if not 0 < validation_size < 1 or not 0 < test_size < 1 or validation_size + test_size >= 1:
        raise DataError(
            f"validation_size={validation_size} and test_size={test_size}: "
            "use fractions above 0 whose sum is below 1, e.g. 0.15 and 0.15"
        )
    label = df.columns[0]  # clean() puts it first
    rest, test = train_test_split(df, test_size=test_size, stratify=df[label], random_state=seed)
    train, validation = train_test_split(
        rest,
        test_size=validation_size / (1 - test_size),
        stratify=rest[label],
        random_state=seed,
    )
    return (
        train.reset_index(drop=True),
        validation.reset_index(drop=True),
        test.reset_index(drop=True),
    )


def read_input(input_dir: Path) -> pd.DataFrame:
    """Read and concatenate every CSV file under `input_dir`."""
    files = sorted(input_dir.rglob("*.csv"))
    if not files:
        raise DataError(f"no CSV file under {input_dir}: point the InputDataUrl parameter at one")
    return pd.concat([pd.read_csv(f) for f in files], ignore_index=True)


def main(argv: list[str] | None = None) -> None:
    """Read the raw data, split it and write one CSV per split."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--input-dir", type=Path, required=True)
    parser.add_argument("--output-dir", type=Path, required=True)
    parser.add_argument("--label", required=True, help="the 0/1 column (settings.LABEL_COLUMN)")
    parser.add_argument("--drop-columns", default="", help="comma-separated non-feature columns")
    parser.add_argument("--validation-size", type=float, default=0.15)
    parser.add_argument("--test-size", type=float, default=0.15)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)

    drop = tuple(c for c in args.drop_columns.split(",") if c)
    df = clean(read_input(args.input_dir), args.label, drop)
    train, validation, test = split(df, args.validation_size, args.test_size, args.seed)
    for name, part in {"train": train, "validation": validation, "test": test}.items():
        target = args.output_dir / name
        target.mkdir(parents=True, exist_ok=True)
        part.to_csv(target / f"{name}.csv", index=False)
        LOG.info("wrote %d rows to %s", len(part), target)


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    main()
