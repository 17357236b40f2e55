"""Preprocess step: validate the records and split them into model features and record ids.

The transform job sends features.csv line by line to the model (no header, no id column), and
postprocess joins the answers back to ids.csv in the same order.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import pandas as pd

ID_COLUMN = "record_id"
N_FEATURES = 30
LOG = logging.getLogger("preprocess")


class DataError(ValueError):
    """The records cannot be scored; the message names the problem and the fix."""


def split(records: pd.DataFrame, n_features: int = N_FEATURES) -> tuple[pd.DataFrame, pd.Series]:
    """Return (features, ids) of `records`; ids are generated when there is no id column."""
    if records.empty:
        raise DataError("the input holds no records: send a CSV with a header and rows")
    if ID_COLUMN in records.columns:
        ids = records[ID_COLUMN].astype(str)
        features = records.drop(columns=[ID_COLUMN])
    else:
        ids = pd.Series([f"row-{i}" for i in range(len(records))], name=ID_COLUMN)
        features = records
    if features.shape[1] != n_features:
        raise DataError(
            f"records have {features.shape[1]} feature columns, the model takes {n_features} "
            f"(plus an optional {ID_COLUMN!r} column)"
        )
    non_numeric = [c for c in features.columns if not pd.api.types.is_numeric_dtype(features[c])]
    if non_numeric:
        raise DataError(f"non-numeric columns {non_numeric}: the model takes numbers only")
    missing = int(features.isna().any(axis=1).sum())
    if missing:
        raise DataError(f"{missing} records have missing values: fill or drop them first")
    if ids.duplicated().any():
        raise DataError(f"duplicate {ID_COLUMN} values {sorted(set(ids[ids.duplicated()]))[:5]}")
    return features.reset_index(drop=True), ids.reset_index(drop=True)


def main(argv: list[str] | None = None) -> None:
    """Read every CSV of the input folder; write features/features.csv and ids/ids.csv."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--input-dir", type=Path, required=True)
    parser.add_argument("--output-dir", type=Path, required=True)
    args = parser.parse_args(argv)
    files = sorted(args.input_dir.rglob("*.csv"))
    if not files:
        raise DataError(f"no CSV file in {args.input_dir}: point InputDataUrl at the records")
    features, ids = split(pd.concat([pd.read_csv(f) for f in files], ignore_index=True))
    for name, frame in (("features", features), ("ids", ids.to_frame())):
        (args.output_dir / name).mkdir(parents=True, exist_ok=True)
        frame.to_csv(args.output_dir / name / f"{name}.csv", header=False, index=False)
    LOG.info("%d records to score", len(ids))


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    main()
