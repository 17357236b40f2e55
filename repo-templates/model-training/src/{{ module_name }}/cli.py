"""Console entry points: `get-pipeline-definition` and `run-pipeline` (cloud or `--local`)."""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import sys
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import settings

if TYPE_CHECKING:
    from .pipeline import JobNetwork

# Set before the SageMaker SDK is first imported (lazily, by the commands below).
os.environ.setdefault("SAGEMAKER_SUPPRESS_V2_WARNING", "1")
# The SDK logs every default it applies and botocore every endpoint it resolves (the step
# scripts turn INFO on in-process); a console run only needs its own output and errors.
for _logger in ("sagemaker", "sagemaker.config", "botocore.credentials"):
    logging.getLogger(_logger).setLevel(logging.ERROR)
logging.getLogger("botocore").setLevel(logging.WARNING)
warnings.filterwarnings("ignore", message="Running within a PipelineSession")

ROLE_ENV = "SAGEMAKER_EXECUTION_ROLE_ARN"


class UsageError(RuntimeError):
    """Bad input or missing setup; the message names the value and the fix."""


def _boto_session(region: str) -> Any:
    import boto3

    return boto3.Session(region_name=region)


def account_id(boto_session: Any) -> str:
    """Return the account of the credentials in use."""
    return str(boto_session.client("sts").get_caller_identity()["Account"])


def artifact_bucket(boto_session: Any, region: str) -> str:
    """Return the project's artifact bucket in the account of the credentials in use."""
    return settings.ARTIFACT_BUCKET_PATTERN.format(
        project_id=settings.SAGEMAKER_PROJECT_ID, account_id=account_id(boto_session), region=region
    )


def execution_role(boto_session: Any, explicit: str | None) -> str | None:
    """Return the SageMaker execution role: --role-arn, $SAGEMAKER_EXECUTION_ROLE_ARN or SSM."""
    from botocore.exceptions import ClientError

    if explicit or os.environ.get(ROLE_ENV):
        return explicit or os.environ[ROLE_ENV]
    try:
        parameter = boto_session.client("ssm").get_parameter(Name=settings.EXECUTION_ROLE_PARAMETER)
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ParameterNotFound":
            raise
        return None
    return str(parameter["Parameter"]["Value"])


def platform_network(boto_session: Any) -> JobNetwork | None:
    """Return the platform's JobNetwork from SSM, or None where the platform is not deployed."""
    from .pipeline import JobNetwork

    names = settings.NETWORK_PARAMETERS
    found = boto_session.client("ssm").get_parameters(Names=sorted(names.values()))
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


def require_network(boto_session: Any, no_vpc: bool) -> JobNetwork | None:
    """Return the platform network for a cloud run; refuse to run outside it unless told to."""
    network = platform_network(boto_session)
    network_parameters = settings.NETWORK_PARAMETERS.values()
    if network is None and not no_vpc:
        raise UsageError(
            f"no platform network in this account (SSM {sorted(network_parameters)}): deploy the"
            " platform, or pass --no-vpc to run jobs outside a VPC without a KMS key"
        )
    return network


def parse_parameters(pairs: list[str]) -> dict[str, str]:
    """Turn ["Name=value", ...] into a dict."""
    out = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise UsageError(f"--parameter {pair!r} is not Name=value, e.g. ModelAucThreshold=0.8")
        out[name] = value
    return out


def stage_input(boto_session: Any, bucket: str, input_data: str | None) -> dict[str, str]:
    """Return the InputDataUrl override for `input_data`, uploading it first when it is a file."""
    if not input_data:
        return {}
    if input_data.startswith("s3://"):
        return {"InputDataUrl": input_data}
    path = Path(input_data)
    if not path.is_file():
        raise UsageError(f"--input-data {input_data!r} is neither a file nor an s3:// URL")
    key = f"{settings.PIPELINE_NAME}/input/{path.name}"
    boto_session.client("s3").upload_file(str(path), bucket, key)
    return {"InputDataUrl": f"s3://{bucket}/{key}"}


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--region", default=os.environ.get("AWS_REGION", settings.REGION))
    parser.add_argument("--role-arn", help=f"execution role (default: ${ROLE_ENV} or SSM)")
    parser.add_argument("--bucket", help="artifact bucket (default: the project's, by account)")
    parser.add_argument(
        "--no-vpc", action="store_true", help="allow jobs outside the platform's VPC and KMS key"
    )


def get_pipeline_definition(argv: list[str] | None = None) -> int:
    """Print (or write) the pipeline definition JSON; code is staged in the artifact bucket."""
    parser = argparse.ArgumentParser(prog="get-pipeline-definition", description=__doc__)
    _add_common(parser)
    parser.add_argument("-o", "--output", type=Path, help="write to this file instead of stdout")
    args = parser.parse_args(argv)
    from .pipeline import get_pipeline

    session = _boto_session(args.region)
    role = execution_role(session, args.role_arn)
    if not role:
        print(f"error: no execution role: pass --role-arn or set ${ROLE_ENV}", file=sys.stderr)
        return 2
    try:
        network = require_network(session, args.no_vpc)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    bucket = args.bucket or artifact_bucket(session, args.region)
    pipeline = get_pipeline(args.region, role, bucket, network=network)
    text = json.dumps(json.loads(pipeline.definition()), indent=2, sort_keys=True)
    if args.output:
        args.output.write_text(text + "\n", encoding="utf-8")
    else:
        print(text)
    return 0


@contextmanager
def embedded_aws(region: str) -> Iterator[None]:
    """Run the block against moto's in-process AWS, with throwaway credentials."""
    try:
        from moto import mock_aws
    except ImportError as exc:
        raise UsageError("--embedded-aws needs moto: pip install -e '.[dev]'") from exc
    fake = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    saved = {k: os.environ.get(k) for k in [*fake, "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL"]}
    os.environ.update(fake, AWS_DEFAULT_REGION=region)
    os.environ.pop("AWS_ENDPOINT_URL", None)
    try:
        with mock_aws():
            yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def run_local(
    region: str,
    role: str | None = None,
    bucket: str | None = None,
    input_data: str | None = None,
    parameters: dict[str, str] | None = None,
    workdir: Path | None = None,
    cache_dir: Path | None = None,
) -> Any:
    """Build the definition and execute it here; return the LocalRunResult.

    With `cache_dir`, cached steps (CacheConfig) whose definition, parameters and inputs match
    an earlier run, and whose outputs still exist, are reused as SageMaker would.
    """
    from botocore.exceptions import ClientError

    from .local_run import LocalPipelineRun
    from .pipeline import get_pipeline

    session = _boto_session(region)
    bucket = bucket or artifact_bucket(session, region)
    s3 = session.client("s3")
    try:
        s3.head_bucket(Bucket=bucket)
    except ClientError:
        config = {} if region == "us-east-1" else {"LocationConstraint": region}
        s3.create_bucket(Bucket=bucket, **({"CreateBucketConfiguration": config} if config else {}))
    # Locally the role is only written into the definition; no job assumes it.
    role = execution_role(session, role) or (
        f"arn:{settings.partition(region)}:iam::{account_id(session)}:role/local-run"
    )
    values = {**stage_input(session, bucket, input_data), **(parameters or {})}
    # Same definition as the cloud run, network included where the platform publishes one; the
    # local runner does not need it (the jobs run on this machine).
    network = platform_network(session)
    definition = json.loads(get_pipeline(region, role, bucket, network=network).definition())
    workdir = workdir or Path(tempfile.mkdtemp(prefix=f"{settings.PIPELINE_NAME}-local-"))
    runner = LocalPipelineRun(
        definition,
        workdir,
        session,
        parameters=values,
        pipeline_name=settings.PIPELINE_NAME,
        cache_dir=cache_dir,
    )
    return runner.run()


def _report_local(result: Any) -> None:
    print(f"local execution {result.execution_id} in {result.workdir}")
    print("steps: " + " -> ".join(result.executed))
    if result.cached:
        print("reused from the step cache: " + ", ".join(result.cached))
    for name, report in result.reports.items():
        metrics = report.get("binary_classification_metrics", {})
        shown = ", ".join(f"{k} {v['value']:.4f}" for k, v in metrics.items())
        print(f"{name}: {shown or json.dumps(report)}")
    for name, props in result.properties.items():
        if "ModelPackageArn" in props:
            print(f"{name}: {props['ModelPackageArn']} ({props['ModelApprovalStatus']})")


def run_cloud(
    region: str,
    role: str,
    bucket: str,
    parameters: dict[str, str],
    wait: bool,
    network: JobNetwork | None = None,
) -> int:
    """Upsert the pipeline and start it; 0 when it started (or, with `wait`, succeeded)."""
    from .pipeline import get_pipeline

    pipeline = get_pipeline(region, role, bucket, network=network)
    tags: list[dict[str, Any]] = [{"Key": k, "Value": v} for k, v in settings.TAGS.items()]
    pipeline.upsert(role_arn=role, description=f"{settings.PROJECT_NAME} training", tags=tags)
    execution = pipeline.start(parameters=parameters or None)
    arn = execution.arn
    print(f"started {arn}")
    status = "Executing"
    if wait:
        from botocore.exceptions import WaiterError

        with contextlib.suppress(WaiterError):  # the status below says why
            execution.wait(delay=30, max_attempts=240)
        status = execution.describe()["PipelineExecutionStatus"]
    steps = execution.list_steps() if wait else []
    summary(arn, status, steps)
    return 0 if status == "Succeeded" or (status == "Executing" and not wait) else 1


def summary(arn: str, status: str, steps: list[dict[str, Any]]) -> None:
    """Print the execution's outcome, and append it to the GitHub job summary when there is one."""
    lines = [f"### Pipeline execution: {status}", "", f"`{arn}`", ""]
    if steps:
        lines += ["| step | status | detail |", "| --- | --- | --- |"]
        for step in reversed(steps):  # the API lists the newest first
            meta = step.get("Metadata", {})
            detail = meta.get("RegisterModel", {}).get("Arn") or step.get("FailureReason", "")
            detail = " ".join(str(detail).replace("|", "\\|").split())  # one table cell
            lines.append(f"| {step['StepName']} | {step['StepStatus']} | {detail} |")
    text = "\n".join(lines) + "\n"
    print(text)
    target = os.environ.get("GITHUB_STEP_SUMMARY")
    if target:
        with open(target, "a", encoding="utf-8") as out:
            out.write(text)


def run_pipeline(argv: list[str] | None = None) -> int:
    """Upsert and start the pipeline in SageMaker, or run it here with --local."""
    parser = argparse.ArgumentParser(prog="run-pipeline", description=run_pipeline.__doc__)
    _add_common(parser)
    parser.add_argument("--local", action="store_true", help="run the steps on this machine")
    parser.add_argument(
        "--embedded-aws", action="store_true", help="with --local: use an in-process moto AWS"
    )
    parser.add_argument("--input-data", help="CSV file or s3:// URL (default: the parameter's)")
    parser.add_argument(
        "--parameter", action="append", default=[], metavar="NAME=VALUE", help="repeatable"
    )
    parser.add_argument("--wait", action="store_true", help="wait for the cloud run to finish")
    parser.add_argument("--workdir", type=Path, help="with --local: where the jobs' folders go")
    parser.add_argument(
        "--cache-dir", type=Path, help="with --local: reuse unchanged cached steps from here"
    )
    args = parser.parse_args(argv)
    from .local_run import LocalRunError, PipelineFailed

    try:
        params = parse_parameters(args.parameter)
        if args.embedded_aws and not args.local:
            raise UsageError("--embedded-aws only works with --local")
        if args.local:
            context = embedded_aws(args.region) if args.embedded_aws else _nothing()
            with context:
                result = run_local(
                    args.region,
                    args.role_arn,
                    args.bucket,
                    args.input_data,
                    params,
                    args.workdir,
                    args.cache_dir,
                )
                _report_local(result)
            return 0
        session = _boto_session(args.region)
        role = execution_role(session, args.role_arn)
        if not role:
            raise UsageError(
                f"no execution role: pass --role-arn, set ${ROLE_ENV}, or publish it in SSM "
                f"parameter {settings.EXECUTION_ROLE_PARAMETER}"
            )
        network = require_network(session, args.no_vpc)
        bucket = args.bucket or artifact_bucket(session, args.region)
        params.update(stage_input(session, bucket, args.input_data))
        return run_cloud(args.region, role, bucket, params, args.wait, network)
    except PipelineFailed as exc:
        print(f"pipeline failed: {exc}", file=sys.stderr)
        return 1
    except (UsageError, LocalRunError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


@contextmanager
def _nothing() -> Iterator[None]:
    yield
