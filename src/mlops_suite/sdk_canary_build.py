"""Build a rendered repository's pipeline definition with the SDK installed here; write JSON.

Runs inside the rendered repository's own venv (stdlib, boto3, moto and the repository only),
so that `sdk_canary` can build the same pipeline under SDK v2 and v3 and compare them.
Usage: python sdk_canary_build.py <package> <out.json>
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import traceback
from importlib import metadata

ACCOUNT = "210987654321"


def build(package: str) -> dict[str, object]:
    """Return {"sdk": version, "definition": ...} or {"sdk": version, "error": ...}."""
    os.environ.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",  # noqa: S106 - moto's throwaway credentials
        MOTO_ACCOUNT_ID=ACCOUNT,
        SAGEMAKER_SUPPRESS_V2_WARNING="1",
    )
    version = metadata.version("sagemaker")
    # "<package>.v3" asks for the kind's SDK v3 port, <package>/pipeline_v3.py.
    package, _, variant = package.partition(".")
    module = "pipeline_v3" if variant == "v3" else "pipeline"
    settings = importlib.import_module(f"{package}.settings")
    os.environ["AWS_DEFAULT_REGION"] = os.environ["AWS_REGION"] = settings.REGION
    import boto3
    from moto import mock_aws

    with mock_aws():
        bucket = f"canary-{ACCOUNT}-{settings.REGION}"
        s3 = boto3.client("s3", region_name=settings.REGION)
        config = {} if settings.REGION == "us-east-1" else {"LocationConstraint": settings.REGION}
        s3.create_bucket(Bucket=bucket, **({"CreateBucketConfiguration": config} if config else {}))
        try:
            platform = importlib.import_module(f"{package}.core.platform")
            pipeline = importlib.import_module(f"{package}.{module}")
            network = platform.JobNetwork(
                ["subnet-0123456789abcdef0"],
                ["sg-0123456789abcdef0"],
                f"arn:{settings.partition(settings.REGION)}:kms:{settings.REGION}:{ACCOUNT}:key/canary",
            )
            role = f"arn:{settings.partition(settings.REGION)}:iam::{ACCOUNT}:role/canary"
            text = pipeline.get_pipeline(
                settings.REGION, role, bucket, network=network
            ).definition()
        except Exception as exc:  # the canary reports what blocks, it does not crash on it
            last = traceback.extract_tb(exc.__traceback__)[-1]
            return {
                "sdk": version,
                "error": f"{type(exc).__name__}: {exc} ({last.filename}:{last.lineno})",
            }
    return {"sdk": version, "definition": json.loads(text)}


if __name__ == "__main__":
    result = build(sys.argv[1])
    with open(sys.argv[2], "w", encoding="utf-8") as out:
        json.dump(result, out, indent=2, sort_keys=True)
