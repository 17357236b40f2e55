"""Postprocess step: join the transform output to the record ids and check the output's quality.

Writes predictions/predictions.csv (record_id, score, label) and quality/quality.json, which the
pipeline's condition reads: `failed_checks` must be 0 for the run to succeed.
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path
from typing import Any

import pandas as pd

ID_COLUMN = "record_id"
CUTOFF = 0.5
LOG = logging.getLogger("postprocess")


def read_scores(folder: Path) -> list[float]:
    """Every score of the transform output (`*.out`, one per line), in input order."""
    files = sorted(folder.rglob("*.out"))
    if not files:
        raise FileNotFoundError(f"no transform output (*.out) in {folder}")
    lines = [ln for f in files for ln in f.read_text(encoding="utf-8").splitlines() if ln.strip()]
    return [float(ln.split(",")[0]) for ln in lines]


def join(ids: list[str], scores: list[float], cutoff: float = CUTOFF) -> pd.DataFrame:
    """Predictions per record; the lengths must agree (the quality check reports it if not)."""
    n = min(len(ids), len(scores))
    frame = pd.DataFrame({ID_COLUMN: ids[:n], "score": scores[:n]})
    frame["label"] = (frame["score"] >= cutoff).astype(int)
    return frame


def quality(
    ids: list[str], scores: list[float], min_positive_rate: float, max_positive_rate: float
) -> dict[str, Any]:
    """The quality report: each check with its value, and how many failed."""
    positives = sum(1 for s in scores if s >= CUTOFF)
    rate = positives / len(scores) if scores else 0.0
    checks: dict[str, dict[str, Any]] = {
        "every_record_scored": {"passed": len(ids) == len(scores) > 0,
                                "records": len(ids), "scores": len(scores)},
        "scores_are_probabilities": {"passed": all(0.0 <= s <= 1.0 for s in scores)},
        "positive_rate_in_bounds": {"passed": min_positive_rate <= rate <= max_positive_rate,
                                    "value": round(rate, 6),
                                    "bounds": [min_positive_rate, max_positive_rate]},
    }  # fmt: skip
    failed = sorted(name for name, check in checks.items() if not check["passed"])
    return {"records": len(ids), "failed_checks": len(failed), "failed": failed, "checks": checks}


def main(argv: list[str] | None = None) -> None:
    """Read ids and transform output; write predictions and the quality report."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ids-dir", type=Path, required=True)
    parser.add_argument("--transform-dir", type=Path, required=True)
    parser.add_argument("--output-dir", type=Path, required=True)
    parser.add_argument("--min-positive-rate", type=float, required=True)
    parser.add_argument("--max-positive-rate", type=float, required=True)
    args = parser.parse_args(argv)
    id_files = sorted(args.ids_dir.rglob("*.csv"))
    ids = [ln.strip() for f in id_files for ln in f.read_text().splitlines() if ln.strip()]
    scores = read_scores(args.transform_dir)
    report = quality(ids, scores, args.min_positive_rate, args.max_positive_rate)
    for name in ("predictions", "quality"):
        (args.output_dir / name).mkdir(parents=True, exist_ok=True)
    join(ids, scores).to_csv(args.output_dir / "predictions" / "predictions.csv", index=False)
    text = json.dumps(report, indent=2)
    (args.output_dir / "quality" / "quality.json").write_text(text, encoding="utf-8")
    LOG.info("%d records, failed checks: %s", len(ids), report["failed"] or "none")


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    main()
