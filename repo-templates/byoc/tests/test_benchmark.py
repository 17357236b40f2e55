"""The loopback benchmark runs and reports what it promises: p50, p95 and requests per second."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARK = Path(__file__).resolve().parents[1] / "benchmarks" / "serve_latency.py"
REPORT = re.compile(r"p50 ([0-9.]+) ms\s+p95 ([0-9.]+) ms\s+([0-9]+) requests/s")


@pytest.mark.local_run  # trains a model and starts the server: the suite runs it for one set
def test_benchmark_prints_p50_p95_and_throughput() -> None:
    args = ["--requests", "200", "--clients", "2", "--workers", "1"]
    done = subprocess.run(
        [sys.executable, str(BENCHMARK), *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    found = REPORT.search(done.stdout)
    assert found, done.stdout
    p50, p95, rps = (float(v) for v in found.groups())
    assert 0 < p50 <= p95
    assert rps > 0
    assert "200 requests, 1 row(s) each, 2 clients, 1 workers" in done.stdout
