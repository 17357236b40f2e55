"""Execute a SageMaker pipeline definition on this machine, without Docker.

The runner reads the definition JSON that the SageMaker SDK produced (the same document the
cloud run upserts) and executes its steps with the arguments, hyperparameters, channels and
input/output wiring written there: each job gets a folder laid out like its container
(`<workdir>/<step>/opt/ml/...`, given to programs as $OPT_ML), container paths in arguments
are re-rooted into it, and data moves through S3 exactly as the definition says, against
whatever endpoint boto3 points at (moto in tests). Each step type has its runner in
`local_run.steps`, registered with `step_runner`; anything the runner does not know how to
execute raises `LocalRunError` naming the step and the field: a local run never silently
skips part of the definition.
"""

from __future__ import annotations

from .context import LocalRunResult, RunContext, RunOptions
from .errors import LocalRunError, PipelineFailed, StepFailed
from .jobs import OPT_ML_ENV
from .registry import RUNNERS, step_runner
from .scheduler import LocalPipelineRun
from .storage import parse_s3_url
from .values import step_references

__all__ = [
    "OPT_ML_ENV",
    "RUNNERS",
    "LocalPipelineRun",
    "LocalRunError",
    "LocalRunResult",
    "PipelineFailed",
    "RunContext",
    "RunOptions",
    "StepFailed",
    "parse_s3_url",
    "step_references",
    "step_runner",
]
