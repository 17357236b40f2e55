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
    CREDENTIAL_ERRORS,
    PLACEHOLDER_ACCOUNT,
    PLACEHOLDER_ROLE,
    ROLE_ENV,
    JobNetwork,
    UsageError,
    account_id,
    artifact_bucket,
    boto_session,
    credentials_hint,
    ensure_bucket,
    execution_role,
    placeholder_network,
    platform_network,
    require_network,
    require_role,
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


def check_parameters(values: dict[str, str]) -> None:
    """Hold parameter overrides to the kind's ranges, where its pipeline module declares some."""
    from .. import pipeline as kind

    check = getattr(kind, "check_parameters", None)
    if check is None:
        return
    try:
        check(values)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


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


def offline_definition(region: str, role: str | None, bucket: str | None, no_vpc: bool) -> str:
    """Build the definition without an account: placeholders, and code staged in an embedded S3.

    No credentials, SSM or upload: the SDK's staging of the step code goes to an in-process
    moto S3 that is gone when this returns. Prints, on stderr, which values are placeholders.
    """
    bucket = bucket or settings.ARTIFACT_BUCKET_PATTERN.format(
        project_id=settings.SAGEMAKER_PROJECT_ID, account_id=PLACEHOLDER_ACCOUNT, region=region
    )
    role = role or os.environ.get(ROLE_ENV) or PLACEHOLDER_ROLE
    network = None if no_vpc else placeholder_network(region)
    with embedded_aws(region, purpose="get-pipeline-definition without --upload"):
        ensure_bucket(boto_session(region), bucket, region)
        text = definition_json(region, role, bucket, network)
    shown = [f"role {role}"] if role == PLACEHOLDER_ROLE else []
    shown.append(f"bucket {bucket} (code staged nowhere)")
    if network:
        shown.append(f"network {network.subnets[0]}, {network.security_group_ids[0]}")
        shown.append(f"KMS key {network.kms_key_arn}")
    print(
        "note: offline definition; placeholders: " + "; ".join(shown) + "."
        " Pass --upload to use this account's role, network and bucket and stage the code.",
        file=sys.stderr,
    )
    return text


def get_pipeline_definition(argv: list[str] | None = None) -> int:
    """Print (or write) the pipeline definition JSON.

    Offline by default (placeholders for the account's values); with --upload, built from the
    account of the credentials in use, with the step code staged in its artifact bucket.
    """
    parser = argparse.ArgumentParser(
        prog="get-pipeline-definition",
        description=get_pipeline_definition.__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_common(parser)
    parser.add_argument("-o", "--output", type=Path, help="write to this file instead of stdout")
    parser.add_argument(
        "--upload",
        action="store_true",
        help="use the account's role, network and bucket (SSM) and stage the code there",
    )
    args = parser.parse_args(argv)
    try:
        if args.upload:
            session = boto_session(args.region)
            role = require_role(session, args.role_arn)
            network = require_network(session, args.no_vpc)
            bucket = args.bucket or artifact_bucket(session, args.region)
            text = definition_json(args.region, role, bucket, network)
        else:
            text = offline_definition(args.region, args.role_arn, args.bucket, args.no_vpc)
    except CREDENTIAL_ERRORS as exc:
        print(f"error: {credentials_hint(exc)}", file=sys.stderr)
        return 2
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    text = json.dumps(json.loads(text), indent=2, sort_keys=True)
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
    multi_host: bool = False,
    images: dict[str, Path] | None = None,
) -> LocalRunResult:
    """Build the definition and execute it here; return the LocalRunResult.

    With `cache_dir`, cached steps (CacheConfig) whose definition, parameters and inputs match
    an earlier run, and whose outputs still exist, are reused as SageMaker would. A job of
    several instances is refused by name unless `multi_host`: then each instance is a local
    process.
    """
    from ..local_run import LocalPipelineRun, LocalRunError

    session = boto_session(region)
    bucket = bucket or artifact_bucket(session, region)
    ensure_bucket(session, bucket, region)
    # Locally the role is only written into the definition; no job assumes it.
    role = execution_role(session, role) or (
        f"arn:{settings.partition(region)}:iam::{account_id(session)}:role/local-run"
    )
    values = {**stage_input(session, bucket, input_data), **(parameters or {})}
    from .. import pipeline as kind

    prepare = getattr(kind, "prepare_local", None)
    if prepare is not None:  # the kind stages what its local run needs (a tiny model, a sample)
        values = {**prepare(session, bucket), **values}
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
        multi_host=multi_host,
        images=images,
    )
    try:
        result: LocalRunResult = runner.run()
    except LocalRunError as exc:
        exc.partial = runner.result  # type: ignore[attr-defined]  # what ran, for the report
        raise
    return result


EMBEDDED_NOTE = (
    "note: the embedded AWS (its S3 and model registry, with the entry above) is gone when"
    " this process ends; the workdir keeps every file. To keep the registry entry, run --local"
    " without --embedded-aws against an account, or against a `moto_server` that outlives the"
    " run (AWS_ENDPOINT_URL=http://localhost:5000)."
)


def report_local(result: LocalRunResult, embedded: bool = False) -> None:
    """Print where the local run worked and what ran, then the kind's own report."""
    from ..pipeline import report_local as report_kind

    print(f"local execution {result.execution_id}")
    print(f"workdir: {result.workdir}")
    print("steps: " + " -> ".join(result.executed))
    if result.cached:
        print("reused from the step cache: " + ", ".join(result.cached))
    report_kind(result)
    if embedded:
        print(EMBEDDED_NOTE)


def report_failure(exc: Exception) -> None:
    """After a failed local run: what ran and where its files are, the failing step's log."""
    from ..local_run import StepFailed

    partial = getattr(exc, "partial", None)
    if partial is not None:
        print("the local run stopped; what it left:", file=sys.stderr)
        with contextlib.redirect_stdout(sys.stderr):
            report_local(partial)
    if isinstance(exc, StepFailed):
        print(f"log of the failing step: {exc.log}", file=sys.stderr)


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
        "--multi-host",
        action="store_true",
        help="with --local: run a job of several instances as that many local processes",
    )
    parser.add_argument(
        "--image", action="append", default=[], metavar="URI=DIR",
        help="with --local: the folder holding an image-only job's programs (train, serve)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    from ..local_run import LocalRunError, PipelineFailed

    try:
        params = parse_parameters(args.parameter)
        check_parameters(params)
        for option in ("embedded_aws", "multi_host"):
            if getattr(args, option) and not args.local:
                raise UsageError(f"--{option.replace('_', '-')} only works with --local")
        if args.embedded_aws and args.cache_dir:
            raise UsageError(
                "--cache-dir cannot work with --embedded-aws: the cached steps' outputs live in"
                " the embedded S3, which is gone when the process ends, so nothing would ever"
                " be reused; drop --cache-dir, or run --local against an S3 that persists"
                " (real credentials, or AWS_ENDPOINT_URL of a `moto_server`)"
            )
        images = {}
        for pair in args.image:
            uri, sep, folder = pair.partition("=")
            if not (sep and uri and folder):
                raise UsageError(f"--image {pair!r} is not URI=DIR, e.g. <image uri>=../byoc/bin")
            images[uri] = Path(folder)
        if images and not args.local:
            raise UsageError("--image only works with --local")
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
                    args.multi_host,
                    images,
                )
                report_local(result, embedded=args.embedded_aws)
            return 0
        session = boto_session(args.region)
        role = require_role(session, args.role_arn)
        network = require_network(session, args.no_vpc)
        bucket = args.bucket or artifact_bucket(session, args.region)
        params.update(stage_input(session, bucket, args.input_data))
        return run_cloud(args.region, role, bucket, params, args.wait, network)
    except PipelineFailed as exc:
        report_failure(exc)
        print(f"pipeline failed: {exc}", file=sys.stderr)
        return 1
    except CREDENTIAL_ERRORS as exc:
        print(f"error: {credentials_hint(exc)}", file=sys.stderr)
        return 2
    except LocalRunError as exc:
        report_failure(exc)
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
