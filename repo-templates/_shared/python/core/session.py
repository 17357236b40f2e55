"""The SageMaker SDK session every kind builds its pipeline with: telemetry off, quiet logging.

SDK-version-specific construction lives here and in the kind's pipeline module only, so that a
move to another major version of the SDK is a change to those two modules.
"""

from __future__ import annotations

import logging
import os
import warnings
from typing import Any

# Set before the SageMaker SDK is first imported (the core and the kinds import it lazily).
os.environ.setdefault("SAGEMAKER_SUPPRESS_V2_WARNING", "1")

# Jobs run VPC-only and the SDK's usage telemetry would call a public endpoint: opt out.
SDK_CONFIG: dict[str, Any] = {
    "SchemaVersion": "1.0",
    "SageMaker": {"PythonSDK": {"Modules": {"TelemetryOptOut": True}}},
}


def quiet_logging() -> None:
    """Keep a console run's output to its own lines and errors.

    The SDK logs every default it applies and botocore every endpoint it resolves (the step
    scripts turn INFO on in-process).
    """
    for name in ("sagemaker", "sagemaker.config", "botocore.credentials"):
        logging.getLogger(name).setLevel(logging.ERROR)
    logging.getLogger("botocore").setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", message="Running within a PipelineSession")


def validate_config_once() -> None:
    """Let the SDK check SDK_CONFIG against its schema once, not on every lookup.

    SDK v2 re-validates the session's config against its JSON schema on each of the ~100 config
    lookups a definition build makes (most of the build's time). The session validates SDK_CONFIG
    when it is made; later lookups of that same object skip the check, any other config is
    still checked.
    """
    import sagemaker.utils

    name = "validate_sagemaker_config"  # imported into sagemaker.utils, which calls it there
    original = getattr(sagemaker.utils, name)
    if getattr(original, "validates_once", False):
        return

    def validate(config: Any = None) -> Any:
        return None if config is SDK_CONFIG else original(config)

    validate.validates_once = True  # type: ignore[attr-defined]
    setattr(sagemaker.utils, name, validate)


def get_session(region: str, default_bucket: str) -> Any:
    """Return a PipelineSession in `region` that stages code and artifacts in `default_bucket`."""
    import boto3
    from sagemaker.workflow.pipeline_context import PipelineSession

    validate_config_once()

    boto = boto3.Session(region_name=region)
    return PipelineSession(
        boto_session=boto,
        sagemaker_client=boto.client("sagemaker"),
        default_bucket=default_bucket,
        sagemaker_config=SDK_CONFIG,
    )
