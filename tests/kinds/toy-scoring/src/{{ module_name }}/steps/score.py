"""The toy kind's one step: sum a CSV column into a JSON report."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pandas as pd


def score(df: pd.DataFrame) -> dict[str, float]:
    """Return the total of the `value` column."""
    return {"total": float(df["value"].sum())}


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--input-dir", type=Path, required=True)
    parser.add_argument("--output-dir", type=Path, required=True)
    args = parser.parse_args()
    frames = [pd.read_csv(p) for p in sorted(args.input_dir.glob("*.csv"))]
    args.output_dir.mkdir(parents=True, exist_ok=True)
    report = score(pd.concat(frames))
    (args.output_dir / "score.json").write_text(json.dumps(report), encoding="utf-8")
