"""What the platform publishes in each account: the execution role, network, KMS key and bucket."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from .. import settings

ROLE_ENV = "SAGEMAKER_EXECUTION_ROLE_ARN"
# What an offline definition (get-pipeline-definition without --upload) puts where the account's
# values would be: named as placeholders, so nobody mistakes the JSON for a deployable one.
PLACEHOLDER_ACCOUNT = "000000000000"
PLACEHOLDER_ROLE = (
    f"arn:{settings.partition(settings.REGION)}:iam::{PLACEHOLDER_ACCOUNT}"
    ":role/PLACEHOLDER-execution-role"
)


class UsageError(RuntimeError):
    """Bad input or missing setup; the message names the value and the fix."""


def boto_session(region: str) -> Any:
    """Return a boto3 session in `region` with the credentials in use."""
    import boto3

    return boto3.Session(region_name=region)


def account_id(session: Any) -> str:
    """Return the account of the credentials in use."""
    return str(session.client("sts").get_caller_identity()["Account"])


def artifact_bucket(session: Any, region: str) -> str:
    """Return the project's artifact bucket in the account of the credentials in use."""
    return settings.ARTIFACT_BUCKET_PATTERN.format(
        project_id=settings.SAGEMAKER_PROJECT_ID, account_id=account_id(session), region=region
    )


def execution_role(session: Any, explicit: str | None) -> str | None:
    """Return the SageMaker execution role: --role-arn, $SAGEMAKER_EXECUTION_ROLE_ARN or SSM."""
    from botocore.exceptions import ClientError

    if explicit or os.environ.get(ROLE_ENV):
        return explicit or os.environ[ROLE_ENV]
    try:
        parameter = session.client("ssm").get_parameter(Name=settings.EXECUTION_ROLE_PARAMETER)
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ParameterNotFound":
            raise
        return None
    return str(parameter["Parameter"]["Value"])


def require_role(session: Any, explicit: str | None) -> str:
    """Return the execution role for a cloud run, or say in one line how to give one."""
    role = execution_role(session, explicit)
    if not role:
        raise UsageError(
            f"no execution role: pass --role-arn, set ${ROLE_ENV}, or publish it in SSM "
            f"parameter {settings.EXECUTION_ROLE_PARAMETER} (the platform's ssm module does)"
        )
    return role


def _credential_errors() -> tuple[type[Exception], ...]:
    from botocore.exceptions import NoCredentialsError, PartialCredentialsError

    return (NoCredentialsError, PartialCredentialsError)


# botocore's errors for credentials that are missing or incomplete (caught by the entry points).
CREDENTIAL_ERRORS = _credential_errors()


def credentials_hint(exc: Exception) -> str:
    """One line for missing or partial AWS credentials, naming the ways to provide them."""
    return (
        f"no usable AWS credentials ({exc}): run `aws sso login` or `aws configure`, or set"
        " AWS_PROFILE; to try without an account use `run-pipeline --local --embedded-aws`"
        " or `get-pipeline-definition` without --upload"
    )


@dataclass(frozen=True)
class JobNetwork:
    """Where the platform lets jobs run: its private subnets and security group, and its KMS key."""

    subnets: list[str]
    security_group_ids: list[str]
    kms_key_arn: str

    def processing(self) -> dict[str, Any]:
        """Keyword arguments that put a processor in the VPC with encrypted volumes and outputs."""
        from sagemaker.network import NetworkConfig

        subnets: list[Any] = list(self.subnets)  # the SDK's hints also allow pipeline variables
        groups: list[Any] = list(self.security_group_ids)
        return {
            "network_config": NetworkConfig(
                subnets=subnets,
                security_group_ids=groups,
                encrypt_inter_container_traffic=True,
            ),
            "volume_kms_key": self.kms_key_arn,
            "output_kms_key": self.kms_key_arn,
        }

    def training(self) -> dict[str, Any]:
        """The same for an estimator."""
        return {
            "subnets": self.subnets,
            "security_group_ids": self.security_group_ids,
            "encrypt_inter_container_traffic": True,
            "volume_kms_key": self.kms_key_arn,
            "output_kms_key": self.kms_key_arn,
        }


def platform_network(session: Any) -> JobNetwork | None:
    """Return the platform's JobNetwork from SSM, or None where the platform is not deployed."""
    names = settings.NETWORK_PARAMETERS
    found = session.client("ssm").get_parameters(Names=sorted(names.values()))
    values = {p["Name"]: str(p["Value"]) for p in found["Parameters"]}
    missing = sorted(set(names.values()) - set(values))
    if len(missing) == len(names):
        return None
    if missing:
        raise UsageError(
            f"SSM parameter(s) {missing} are missing while {sorted(values)} exist: "
            "finish deploying the platform's network and KMS modules in this account"
        )

    def split(name: str) -> list[str]:
        return [v.strip() for v in values[names[name]].split(",") if v.strip()]

    return JobNetwork(
        subnets=split("subnets"),
        security_group_ids=split("security_group"),
        kms_key_arn=values[names["kms_key"]],
    )


def placeholder_network(region: str) -> JobNetwork:
    """The network an offline definition shows: the cloud run's shape, with placeholder ids."""
    return JobNetwork(
        subnets=["subnet-PLACEHOLDER"],
        security_group_ids=["sg-PLACEHOLDER"],
        kms_key_arn=(
            f"arn:{settings.partition(region)}:kms:{region}:{PLACEHOLDER_ACCOUNT}:key/PLACEHOLDER"
        ),
    )


def require_network(session: Any, no_vpc: bool) -> JobNetwork | None:
    """Return the platform network for a cloud run; refuse to run outside it unless told to."""
    network = platform_network(session)
    if network is None and not no_vpc:
        parameters = sorted(settings.NETWORK_PARAMETERS.values())
        raise UsageError(
            f"no platform network in this account (SSM {parameters}):"
            " deploy the platform, or pass --no-vpc to run jobs outside a VPC without a KMS key"
        )
    return network


def ensure_bucket(session: Any, bucket: str, region: str) -> None:
    """Create `bucket` unless it exists (local runs; in the cloud the platform creates it)."""
    from botocore.exceptions import ClientError

    s3 = session.client("s3")
    try:
        s3.head_bucket(Bucket=bucket)
    except ClientError:
        config = {} if region == "us-east-1" else {"LocationConstraint": region}
        s3.create_bucket(Bucket=bucket, **({"CreateBucketConfiguration": config} if config else {}))
