"""Step runners by step type: a new step type registers itself, the scheduler stays as it is."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .context import RunContext
from .errors import LocalRunError

StepRunner = Callable[[RunContext, dict[str, Any]], dict[str, Any]]
"""Run one step (its definition as written) and return its properties."""

RUNNERS: dict[str, StepRunner] = {}
# Step types whose jobs the step cache may reuse, with where their outputs live.
CACHEABLE: dict[str, Callable[[dict[str, Any]], list[str]]] = {}


def step_runner(
    step_type: str, outputs: Callable[[dict[str, Any]], list[str]] | None = None
) -> Callable[[StepRunner], StepRunner]:
    """Register the decorated function as the runner of `step_type`.

    `outputs` makes the type cacheable: given the step's properties it returns the S3 URLs
    that must still exist for a cached run to be reused.
    """

    def register(runner: StepRunner) -> StepRunner:
        if step_type in RUNNERS and RUNNERS[step_type] is not runner:
            raise LocalRunError(f"step type {step_type} already has a runner: {RUNNERS[step_type]}")
        RUNNERS[step_type] = runner
        if outputs is not None:
            CACHEABLE[step_type] = outputs
        return runner

    return register


def runner_for(step: dict[str, Any]) -> StepRunner:
    """Return the runner of the step's type, or refuse the step by name."""
    from . import steps  # noqa: F401  (the built-in runners register on import)

    runner = RUNNERS.get(step.get("Type", ""))
    if runner is None:
        raise LocalRunError(
            f"step {step.get('Name')} has type {step.get('Type')}, which the local run does not "
            f"execute (it runs {sorted(RUNNERS)}): run it in SageMaker (run-pipeline without "
            "--local)"
        )
    return runner
