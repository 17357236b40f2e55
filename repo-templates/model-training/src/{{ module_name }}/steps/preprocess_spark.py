"""Preprocessing on Spark: preprocess.py's validation and split, for data beyond one machine.

Runs in SageMaker Processing's Spark container (PySparkProcessor, `smspark-submit`); chosen with
`settings.PREPROCESSING_ENGINE = "spark"`. It writes the same three folders of headed CSV files,
label first, so training and evaluation read its output unchanged.
"""

from __future__ import annotations

import argparse
from typing import Any

LABEL = "malignant"
FRACTIONS = (0.7, 0.15, 0.15)  # train, validation, test: as preprocess.py splits
SEED = 42


def clean(df: Any, label: str = LABEL) -> Any:
    """Return `df` with the label first as an integer, numeric columns only, complete rows."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import NumericType

    if label not in df.columns:
        raise ValueError(f"label column {label!r} is missing: the CSV needs a 0/1 {label!r} column")
    numeric = {f.name for f in df.schema.fields if isinstance(f.dataType, NumericType)}
    non_numeric = [c for c in df.columns if c not in numeric]
    if non_numeric:
        raise ValueError(f"non-numeric columns {non_numeric}: encode them as numbers first")
    out = df.dropna()
    labels = {row[0] for row in out.select(label).distinct().collect()}
    if not labels <= {0, 1} or len(labels) < 2:
        raise ValueError(f"label values {sorted(labels)}: use both 0 and 1, and only those")
    features = [c for c in out.columns if c != label]
    return out.select(F.col(label).cast("int").alias(label), *features)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--input-dir", required=True)
    parser.add_argument("--output-dir", required=True)
    parser.add_argument("--label", default=LABEL, help="the 0/1 label column")
    parser.add_argument("--drop-columns", default="", help="comma-separated columns to drop")
    args = parser.parse_args(argv)
    from pyspark.sql import SparkSession

    spark = SparkSession.builder.appName("preprocess").getOrCreate()
    raw = spark.read.csv(f"file://{args.input_dir}", header=True, inferSchema=True)
    dropped = [c for c in args.drop_columns.split(",") if c]
    splits = clean(raw.drop(*dropped), args.label).randomSplit(list(FRACTIONS), seed=SEED)
    for name, part in zip(("train", "validation", "test"), splits, strict=True):
        target = f"file://{args.output_dir}/{name}"
        part.coalesce(1).write.csv(target, header=True, mode="overwrite")
    spark.stop()


if __name__ == "__main__":
    main()
