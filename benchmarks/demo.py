"""Print each stage's time of the whole-flow demo, for each deployment kind, and the total.

The issue's budget: the whole demo under 2 minutes on a 2-core machine with warm package caches
(the first run fills uv's cache; run twice to see the warm time).

Usage: python benchmarks/demo.py [--deployment realtime|batch ...]
"""

from __future__ import annotations

import argparse
import io
import shutil
import tempfile
from pathlib import Path

from mlops_suite import demo
from mlops_suite.demo.report import Progress

BUDGET_S = 120.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--deployment", action="append", choices=sorted(demo.DEPLOYMENTS), default=None
    )
    args = parser.parse_args()
    over = []
    for deployment in args.deployment or sorted(demo.DEPLOYMENTS):
        work = Path(tempfile.mkdtemp(prefix=f"demo-bench-{deployment}-"))
        progress = Progress(out=io.StringIO())  # the stage log is not the benchmark's output
        try:
            demo.run(work, deployment, progress)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        total = sum(progress.times.values())
        print(f"demo --deployment {deployment}")
        for stage, seconds in progress.times.items():
            print(f"  {stage:<10} {seconds:6.1f} s")
        print(f"  {'total':<10} {total:6.1f} s (budget {BUDGET_S:.0f} s)")
        if total > BUDGET_S:
            over.append(deployment)
    if over:
        print(f"over budget: {', '.join(over)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
