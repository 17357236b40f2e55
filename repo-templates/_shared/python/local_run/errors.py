"""What a local run raises: every message names the step and the field, value or fix."""

from __future__ import annotations


class LocalRunError(RuntimeError):
    """The definition could not be executed locally; the message names the step and the cause."""


class PipelineFailed(LocalRunError):
    """The pipeline reached a FailStep; the message is the step's ErrorMessage."""


class StepFailed(LocalRunError):
    """A job's program exited non-zero; the message names the exit code and where its log is."""

    def __init__(self, message: str, exit_code: int, log: str) -> None:
        super().__init__(message)
        self.exit_code = exit_code
        self.log = log


def refuse(step: str, field: str, why: str) -> LocalRunError:
    """Return the error for a field of `step` that a local run cannot execute."""
    return LocalRunError(f"step {step}: {field} {why}")
