"""`monitor-baseline`: the data-quality baseline Model Monitor compares captured requests with.

Writes statistics.json and constraints.json in Model Monitor's layout from the training data,
without the label and with the feature names Model Monitor gives headerless CSV captures
(`_c0`, `_c1`, ...). deploy/monitoring/ holds the result for the shipped data; the tests check
that it is what this function computes, so baseline and data cannot drift apart.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import pandas as pd

from . import settings

COMPARISON_THRESHOLD = 0.1  # distribution distance above which a feature counts as drifted


def features_of(training: pd.DataFrame, label: str = settings.LABEL) -> pd.DataFrame:
    """The model's input columns, renamed as Model Monitor names headerless CSV columns."""
    if label not in training.columns:
        raise ValueError(f"label column {label!r} missing from the training data")
    features = training.drop(columns=[label])
    non_numeric = [c for c in features.columns if not pd.api.types.is_numeric_dtype(features[c])]
    if non_numeric:
        raise ValueError(f"non-numeric columns {non_numeric}: the model takes numbers only")
    return features.set_axis([f"_c{i}" for i in range(features.shape[1])], axis=1)


def _num(value: float) -> float:
    return round(float(value), 6)


def statistics(features: pd.DataFrame) -> dict[str, Any]:
    """Per-feature statistics in Model Monitor's statistics.json layout."""
    out = []
    for name in features.columns:
        col = features[name]
        present = col.dropna()
        out.append(
            {
                "name": name,
                "inferred_type": "Fractional",
                "numerical_statistics": {
                    "common": {
                        "num_present": int(present.size),
                        "num_missing": int(col.isna().sum()),
                    },
                    "mean": _num(present.mean()),
                    "sum": _num(present.sum()),
                    "std_dev": _num(present.std(ddof=0)),
                    "min": _num(present.min()),
                    "max": _num(present.max()),
                },
            }
        )
    return {"version": 0.0, "dataset": {"item_count": len(features)}, "features": out}


def constraints(features: pd.DataFrame) -> dict[str, Any]:
    """Constraints in Model Monitor's constraints.json layout: type, completeness, sign."""
    out = []
    for name in features.columns:
        col = features[name]
        out.append(
            {
                "name": name,
                "inferred_type": "Fractional",
                "completeness": _num(col.notna().mean()),
                "num_constraints": {"is_non_negative": bool((col.dropna() >= 0).all())},
            }
        )
    return {
        "version": 0.0,
        "features": out,
        "monitoring_config": {
            "evaluate_constraints": "Enabled",
            "emit_metrics": "Enabled",
            "datatype_check_threshold": 1.0,
            "domain_content_threshold": 1.0,
            "distribution_constraints": {
                "perform_comparison": "Enabled",
                "comparison_threshold": COMPARISON_THRESHOLD,
                "comparison_method": "Robust",
            },
        },
    }


def write(training_csv: Path, output: Path) -> list[Path]:
    """Write statistics.json and constraints.json for `training_csv` into `output`."""
    features = features_of(pd.read_csv(training_csv))
    output.mkdir(parents=True, exist_ok=True)
    written = []
    for name, doc in (
        ("statistics.json", statistics(features)),
        ("constraints.json", constraints(features)),
    ):
        path = output / name
        path.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> None:
    """Parse arguments and write the baseline."""
    parser = argparse.ArgumentParser(prog="monitor-baseline", description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path(settings.TRAINING_DATA))
    parser.add_argument("--output", type=Path, default=Path(settings.BASELINE_DIR))
    args = parser.parse_args(argv)
    for path in write(args.data, args.output):
        print(f"wrote {path}")
