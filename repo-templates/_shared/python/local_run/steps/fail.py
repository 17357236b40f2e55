"""FailStep: stop the run with the step's message."""

from __future__ import annotations

from typing import Any

from ..context import RunContext
from ..errors import PipelineFailed
from ..registry import step_runner


@step_runner("Fail")
def run_fail(context: RunContext, step: dict[str, Any]) -> dict[str, Any]:
    """Stop the run with the step's error message."""
    message = str(context.resolve(step.get("Arguments", {}).get("ErrorMessage", "")))
    context.result.failure = message
    raise PipelineFailed(f"step {step['Name']} failed the pipeline: {message}")
