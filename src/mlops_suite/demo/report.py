"""Stages with progress and timing, and the summary table the demo ends with."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any


class StageFailed(RuntimeError):
    """A stage failed; the message names it and why."""

    def __init__(self, stage: str, reason: str) -> None:
        super().__init__(f"stage {stage!r} failed: {reason}")
        self.stage = stage
        self.reason = reason


@dataclass
class Progress:
    """Prints each stage as it starts and ends; keeps each stage's time."""

    times: dict[str, float] = field(default_factory=dict)
    out: Any = sys.stdout

    @contextmanager
    def stage(self, name: str, what: str) -> Iterator[None]:
        """Run the block as stage `name`; StageFailed (naming it) on any error."""
        print(f"\n==> {name}: {what}", file=self.out, flush=True)
        started = time.monotonic()
        try:
            yield
        except StageFailed:
            raise
        except BaseException as exc:
            self.times[name] = time.monotonic() - started
            if isinstance(exc, KeyboardInterrupt):
                raise
            detail = f"{type(exc).__name__}: {exc}".strip()
            raise StageFailed(name, detail[-3000:]) from exc
        self.times[name] = time.monotonic() - started
        print(f"    {name} done in {self.times[name]:.1f} s", file=self.out, flush=True)

    def note(self, text: str) -> None:
        print(f"    {text}", file=self.out, flush=True)


def table(rows: list[tuple[str, str]], title: str) -> str:
    """A two-column text table."""
    width = max(len(k) for k, _ in rows)
    line = "-" * min(100, width + 3 + max(len(v) for _, v in rows))
    body = "\n".join(f"{k.ljust(width)} | {v}" for k, v in rows)
    return f"{title}\n{line}\n{body}\n{line}"


def summary(result: dict[str, Any], times: dict[str, float]) -> str:
    """The final summary: repositories, package, what each account holds, each stage's time."""
    rows: list[tuple[str, str]] = [
        ("platform", result["platform"]),
        *[(f"repository ({kind})", url) for kind, url in result["repositories"].items()],
        ("model package", result["package"]["arn"]),
        ("package status", result["package"]["status"]),
        ("dispatch", f"{result['dispatch']['event_type']} -> {result['dispatch']['repository']}"),
    ]
    if result.get("moto_settings"):
        rows.append(("deploy repo, for moto", result["moto_settings"]))
    for env, holds in result["accounts"].items():
        rows.append((f"{env} ({holds['account']})", holds["summary"]))
    rows += [(f"time: {name}", f"{seconds:.1f} s") for name, seconds in times.items()]
    rows.append(("time: total", f"{sum(times.values()):.1f} s"))
    return table(rows, "mlops-suite demo: summary")
