"""Deploy-time build: the pipeline definition for one approved package in one environment.

`deploy-terraform plan` calls `prepare` before planning: it reads the package's artifact from
the dev registry, builds the definition with the environment's execution role, network and
bucket, and writes deploy/build/pipeline-definition.json, which Terraform deploys unchanged.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from . import settings

BUILD = Path("deploy") / "build"
DEFINITION = BUILD / "pipeline-definition.json"


class BuildError(RuntimeError):
    """The definition cannot be built; the message names the value and the fix."""


def model_data_url(sagemaker: Any, arn: str) -> str:
    """The model artifact of package `arn` (its one inference container)."""
    described = sagemaker.describe_model_package(ModelPackageName=arn)
    containers = described.get("InferenceSpecification", {}).get("Containers", [])
    urls = [c["ModelDataUrl"] for c in containers if c.get("ModelDataUrl")]
    if len(urls) != 1:
        raise BuildError(
            f"model package {arn} has {len(urls)} model artifacts: the batch pipeline serves "
            "exactly one (model-training registers one)"
        )
    return str(urls[0])


def definition(
    environment: str, arn: str, session: Any, role: str, bucket: str, network: Any
) -> dict[str, Any]:
    """The definition JSON of the environment's pipeline, serving package `arn`."""
    from .pipeline import get_pipeline

    url = model_data_url(session.client("sagemaker"), arn)
    pipeline = get_pipeline(
        settings.REGION,
        role,
        bucket,
        pipeline_name=settings.pipeline_name(environment),
        model_data_url=url,
        network=network,
    )
    document: dict[str, Any] = json.loads(pipeline.definition())
    return document


def prepare(environment: str, arn: str) -> list[str]:
    """Write deploy/build/pipeline-definition.json for `arn`; no extra tfvars are needed."""
    from .core.platform import artifact_bucket, boto_session, execution_role, require_network

    session = boto_session(settings.REGION)
    role = execution_role(session, None)
    if not role:
        raise BuildError(
            f"no SageMaker execution role in the {environment} account: the platform publishes "
            f"it at {settings.EXECUTION_ROLE_PARAMETER}"
        )
    network = require_network(session, False)
    bucket = artifact_bucket(session, settings.REGION)
    document = definition(environment, arn, session, role, bucket, network)
    BUILD.mkdir(parents=True, exist_ok=True)
    DEFINITION.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    print(f"built {DEFINITION} for {arn}")
    return []
