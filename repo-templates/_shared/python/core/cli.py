"""Console entry points: `get-pipeline-definition` and `run-pipeline` (cloud or `--local`).

The same for every kind: the kind's pipeline, constants and report come from the package this
core is rendered into (see the contract in `core/__init__.py`).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import settings
from . import session as sdk_session
from .embedded import embedded_aws, nothing
from .platform import (
    ROLE_ENV,
    JobNetwork,
    UsageError,
    account_id,
    artifact_bucket,
    boto_session,
    ensure_bucket,
    execution_role,
    platform_network,
    require_network,
)

if TYPE_CHECKING:
    from ..local_run import LocalRunResult

sdk_session.quiet_logging()

__all__ = [
    "UsageError",
    "get_pipeline_definition",
    "parse_parameters",
    "run_cloud",
    "run_local",
    "run_pipeline",
    "stage_input",
    "summary",
]


def parse_parameters(pairs: list[str]) -> dict[str, str]:
    """Turn ["Name=value", ...] into a dict."""
    out = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise UsageError(f"--parameter {pair!r} is not Name=value, e.g. InstanceCount=2")
        out[name] = value
    return out


def stage_input(session: Any, bucket: str, input_data: str | None) -> dict[str, str]:
    """Return the input parameter's override for `input_data`, uploading a local file first."""
    if not input_data:
        return {}
    parameter = settings.INPUT_PARAMETER
    if parameter is None:
        raise UsageError(
            f"--input-data {input_data!r}: the {settings.PIPELINE_NAME} pipeline reads no input"
            " data; drop the option"
        )
    if input_data.startswith("s3://"):
        return {parameter: input_data}
    path = Path(input_data)
    if not path.is_file():
        raise UsageError(f"--input-data {input_data!r} is neither a file nor an s3:// URL")
    key = f"{settings.PIPELINE_NAME}/input/{path.name}"
    session.client("s3").upload_file(str(path), bucket, key)
    return {parameter: f"s3://{bucket}/{key}"}


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--region", default=os.environ.get("AWS_REGION", settings.REGION))
    parser.add_argument("--role-arn", help=f"execution role (default: ${ROLE_ENV} or SSM)")
    parser.add_argument("--bucket", help="artifact bucket (default: the project's, by account)")
    parser.add_argument(
        "--no-vpc", action="store_true", help="allow jobs outside the platform's VPC and KMS key"
    )


def definition_json(region: str, role: str, bucket: str, network: JobNetwork | None) -> str:
    """Return the kind's pipeline definition JSON (the SDK stages code in `bucket`)."""
    from ..pipeline import get_pipeline

    text: str = get_pipeline(region, role, bucket, network=network).definition()
    return text


def get_pipeline_definition(argv: list[str] | None = None) -> int:
    """Print (or write) the pipeline definition JSON; code is staged in the artifact bucket."""
    parser = argparse.ArgumentParser(
        prog="get-pipeline-definition", description=get_pipeline_definition.__doc__
    )
    _add_common(parser)
    parser.add_argument("-o", "--output", type=Path, help="write to this file instead of stdout")
    args = parser.parse_args(argv)
    session = boto_session(args.region)
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
    document = json.loads(definition_json(args.region, role, bucket, network))
    text = json.dumps(document, indent=2, sort_keys=True)
    if args.output:
        args.output.write_text(text + "\n", encoding="utf-8")
    else:
        print(text)
    return 0


def run_local(
    region: str,
    role: str | None = None,
    bucket: str | None = None,
    input_data: str | None = None,
    parameters: dict[str, str] | None = None,
    workdir: Path | None = None,
    cache_dir: Path | None = None,
    images: dict[str, Path] | None = None,
) -> LocalRunResult:
    """Build the definition and execute it here; return the LocalRunResult.

    With `cache_dir`, cached steps (CacheConfig) whose definition, parameters and inputs match
    an earlier run, and whose outputs still exist, are reused as SageMaker would.
    """
    from ..local_run import LocalPipelineRun

    session = boto_session(region)
    bucket = bucket or artifact_bucket(session, region)
    ensure_bucket(session, bucket, region)
    # Locally the role is only written into the definition; no job assumes it.
    role = execution_role(session, role) or f"arn:aws:iam::{account_id(session)}:role/local-run"
    values = {**stage_input(session, bucket, input_data), **(parameters or {})}
    # Same definition as the cloud run, network included where the platform publishes one; the
    # local runner does not need it (the jobs run on this machine).
    network = platform_network(session)
    definition = json.loads(definition_json(region, role, bucket, network))
    workdir = workdir or Path(tempfile.mkdtemp(prefix=f"{settings.PIPELINE_NAME}-local-"))
    runner = LocalPipelineRun(
        definition,
        workdir,
        session,
        parameters=values,
        pipeline_name=settings.PIPELINE_NAME,
        cache_dir=cache_dir,
        images=images,
    )
    result: LocalRunResult = runner.run()
    return result


def report_local(result: LocalRunResult) -> None:
    """Print where the local run worked and what ran, then the kind's own report."""
    from ..pipeline import report_local as report_kind

    print(f"local execution {result.execution_id} in {result.workdir}")
    print("steps: " + " -> ".join(result.executed))
    if result.cached:
        print("reused from the step cache: " + ", ".join(result.cached))
    report_kind(result)


def run_cloud(
    region: str,
    role: str,
    bucket: str,
    parameters: dict[str, str],
    wait: bool,
    network: JobNetwork | None = None,
) -> int:
    """Upsert the pipeline and start it; 0 when it started (or, with `wait`, succeeded)."""
    from ..pipeline import get_pipeline

    pipeline = get_pipeline(region, role, bucket, network=network)
    tags: list[dict[str, Any]] = [{"Key": k, "Value": v} for k, v in settings.TAGS.items()]
    pipeline.upsert(role_arn=role, description=settings.PIPELINE_DESCRIPTION, tags=tags)
    execution = pipeline.start(parameters=parameters or None)
    arn = execution.arn
    print(f"started {arn}")
    status = "Executing"
    if wait:
        from botocore.exceptions import WaiterError

        delay = 30
        with contextlib.suppress(WaiterError):  # the status below says why
            execution.wait(delay=delay, max_attempts=max(1, settings.WAIT_MINUTES * 60 // delay))
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
    parser.add_argument("--input-data", help="a local file or s3:// URL (default: the parameter's)")
    parser.add_argument(
        "--parameter", action="append", default=[], metavar="NAME=VALUE", help="repeatable"
    )
    parser.add_argument("--wait", action="store_true", help="wait for the cloud run to finish")
    parser.add_argument("--workdir", type=Path, help="with --local: where the jobs' folders go")
    parser.add_argument(
        "--cache-dir", type=Path, help="with --local: reuse unchanged cached steps from here"
    )
    parser.add_argument(
        "--image", action="append", default=[], metavar="URI=DIR",
        help="with --local: the folder holding an image-only job's programs (train, serve)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    from ..local_run import LocalRunError, PipelineFailed

    try:
        params = parse_parameters(args.parameter)
        images = {}
        for pair in args.image:
            uri, sep, folder = pair.partition("=")
            if not (sep and uri and folder):
                raise UsageError(f"--image {pair!r} is not URI=DIR, e.g. <image uri>=../byoc/bin")
            images[uri] = Path(folder)
        if args.embedded_aws and not args.local:
            raise UsageError("--embedded-aws only works with --local")
        if args.local:
            with embedded_aws(args.region) if args.embedded_aws else nothing():
                result = run_local(
                    args.region,
                    args.role_arn,
                    args.bucket,
                    args.input_data,
                    params,
                    args.workdir,
                    args.cache_dir,
                    images,
                )
                report_local(result)
            return 0
        session = boto_session(args.region)
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
