"""`deploy-smoke`: after a deploy, run the environment's pipeline once on the sample records.

preprod: uploads data/batch-input.csv to the environment's bucket, starts the pipeline, waits,
and requires status Succeeded and a quality report without failed checks (the pipeline's own
gate, read back here so the workflow log shows it). prod: the pipeline exists and serves the
package just deployed; its runs are the schedule's. Exit 1 with the reason otherwise, which
makes the workflow roll back.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import settings

TERMINAL = ("Succeeded", "Failed", "Stopped")


class SmokeError(AssertionError):
    """The deployed pipeline failed its smoke test; the message says how."""


def wait_for(
    describe: Callable[[], dict[str, Any]],
    timeout_s: float,
    poll_s: float = 30.0,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    """Poll `describe` until the execution ends; SmokeError when it does not end in time."""
    waited = 0.0
    while True:
        described = describe()
        if described["PipelineExecutionStatus"] in TERMINAL:
            return described
        if waited >= timeout_s:
            raise SmokeError(
                f"execution still {described['PipelineExecutionStatus']} after {waited:.0f} s"
            )
        sleep(poll_s)
        waited += poll_s


def check_quality(report: dict[str, Any]) -> None:
    """SmokeError unless the run's quality report has no failed check."""
    if report.get("failed_checks") != 0:
        raise SmokeError(f"quality checks failed: {report.get('failed')} ({report.get('checks')})")


def quality_url(bucket: str, pipeline_name: str, execution_arn: str) -> str:
    """Where the run's postprocess step wrote quality.json (pipeline.py's output layout)."""
    execution_id = execution_arn.rsplit("/", 1)[-1]
    return f"s3://{bucket}/{pipeline_name}/{execution_id}/quality/quality.json"


def run_once(session: Any, environment: str, sample: Path, timeout_s: float) -> dict[str, Any]:
    """Run the deployed pipeline on `sample`; return its quality report."""
    from .core.platform import artifact_bucket

    name = settings.pipeline_name(environment)
    bucket = artifact_bucket(session, settings.REGION)
    key = f"{name}/smoke/{sample.name}"
    session.client("s3").upload_file(str(sample), bucket, key)
    sagemaker = session.client("sagemaker")
    arn = sagemaker.start_pipeline_execution(
        PipelineName=name,
        PipelineExecutionDisplayName="deploy-smoke",
        PipelineParameters=[{"Name": "InputDataUrl", "Value": f"s3://{bucket}/{key}"}],
    )["PipelineExecutionArn"]
    print(f"started {arn}")
    ended = wait_for(
        lambda: sagemaker.describe_pipeline_execution(PipelineExecutionArn=arn), timeout_s
    )
    if ended["PipelineExecutionStatus"] != "Succeeded":
        reason = ended.get("FailureReason", "see the execution's steps in SageMaker Studio")
        raise SmokeError(f"execution {arn} {ended['PipelineExecutionStatus']}: {reason}")
    url = quality_url(bucket, name, arn)
    qbucket, _, qkey = url.removeprefix("s3://").partition("/")
    body = session.client("s3").get_object(Bucket=qbucket, Key=qkey)["Body"].read()
    report: dict[str, Any] = json.loads(body)
    check_quality(report)
    return report


def check_deployed(session: Any, environment: str) -> None:
    """SmokeError unless the environment's pipeline exists."""
    name = settings.pipeline_name(environment)
    try:
        session.client("sagemaker").describe_pipeline(PipelineName=name)
    except Exception as exc:
        raise SmokeError(f"pipeline {name} is not deployed: {exc}") from exc


def main(argv: list[str] | None = None) -> int:
    """Run the smoke test; exit 1 with the reason when it fails."""
    parser = argparse.ArgumentParser(prog="deploy-smoke", description=__doc__.splitlines()[0])
    parser.add_argument("--environment", choices=sorted(settings.ACCOUNTS), required=True)
    parser.add_argument("--sample", type=Path, default=Path(settings.SAMPLE_INPUT or ""))
    parser.add_argument("--timeout-minutes", type=float, default=settings.WAIT_MINUTES)
    args = parser.parse_args(argv)
    from .core.platform import boto_session

    session = boto_session(settings.REGION)
    try:
        check_deployed(session, args.environment)
        if args.environment == "preprod":
            report = run_once(session, args.environment, args.sample, args.timeout_minutes * 60)
            print(f"smoke test passed: {report['records']} records, all quality checks passed")
        else:
            print(f"smoke test passed: {settings.pipeline_name(args.environment)} is deployed")
    except SmokeError as failed:
        print(f"::error::smoke test failed: {failed}", file=sys.stderr)
        return 1
    return 0
