"""`promote`: build the artifact once in dev, deploy it unchanged to an environment, run it there.

- `promote build [--publish]` (dev): the artifact (artifact.py); with --publish, stored in the
  dev project bucket. Prints the digest and adds it to the GitHub run summary and outputs.
- `promote deploy --environment E --digest D` (E's deploy role): checks everything first: E is
  configured in environments.toml, its schedule is one EventBridge Scheduler accepts, the
  credentials are E's account, the artifact's bytes and code match D, the platform's role,
  network and key exist in E. Then it copies the code into E's project bucket, creates or updates
  the pipeline `<pipeline>-<E>` with the definition whose parameters default to E's values, and
  creates or updates its EventBridge Scheduler schedule.
- `promote start --environment E [--wait]`: starts the deployed pipeline; with --wait, waits and
  requires Succeeded and a quality report without failed checks.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import artifact, schedule, settings
from .pipeline import default_urls

ENVIRONMENTS_FILE = Path("environments.toml")
TERMINAL = ("Succeeded", "Failed", "Stopped")
OPTIONAL = ("training_data_url", "batch_input_url", "output_url")
INSTANCE_TYPES = {
    "processing_instance_type": "ProcessingInstanceType",
    "training_instance_type": "TrainingInstanceType",
    "transform_instance_type": "TransformInstanceType",
}


class PromotionError(ValueError):
    """The promotion must stop before any change; the message names the value and the fix."""


@dataclass(frozen=True)
class Environment:
    """One environment of environments.toml."""

    name: str
    account_id: str
    schedule: str
    schedule_enabled: bool
    instance_types: Mapping[str, str]
    locations: Mapping[str, str]

    @property
    def pipeline_name(self) -> str:
        return f"{settings.PIPELINE_NAME}-{self.name}"


def load_environment(name: str, path: Path = ENVIRONMENTS_FILE) -> Environment:
    """The environment `name` of `path`; PromotionError unless it is fully configured."""
    try:
        tables = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PromotionError(f"no {path}: environments are configured there") from None
    if name not in tables:
        raise PromotionError(
            f"environment {name!r} is not configured in {path}: add a [{name}] table, or "
            f"promote to one of {sorted(tables)}"
        )
    table = tables[name]
    required = ("account_id", "schedule", *INSTANCE_TYPES)
    missing = [k for k in required if not table.get(k)]
    if missing:
        raise PromotionError(f"environment {name!r} in {path} lacks {', '.join(missing)}")
    account = str(table["account_id"])
    if not (len(account) == 12 and account.isdigit()):
        raise PromotionError(f"environment {name!r}: account_id {account!r} is not 12 digits")
    for option in OPTIONAL:
        if table.get(option) and not str(table[option]).startswith("s3://"):
            raise PromotionError(
                f"environment {name!r}: {option} {table[option]!r} is no s3:// URL"
            )
    return Environment(
        name=name,
        account_id=account,
        schedule=schedule.check(str(table["schedule"])),
        schedule_enabled=bool(table.get("schedule_enabled", True)),
        instance_types={k: str(table[k]) for k in INSTANCE_TYPES},
        locations={k: str(table[k]) for k in OPTIONAL if table.get(k)},
    )


def parameter_values(session: Any, env: Environment) -> dict[str, str]:
    """The environment's values of every environment parameter, from its account."""
    from .core.platform import artifact_bucket, execution_role, platform_network

    role = execution_role(session, None)
    if not role:
        raise PromotionError(
            f"no SageMaker execution role in the {env.name} account: the platform publishes it "
            f"at SSM {settings.EXECUTION_ROLE_PARAMETER}"
        )
    network = platform_network(session)
    if network is None or not network.subnets or not network.security_group_ids:
        raise PromotionError(
            f"no platform network in the {env.name} account (SSM "
            f"{sorted(settings.NETWORK_PARAMETERS.values())}): deploy the platform there first"
        )
    bucket = artifact_bucket(session, settings.REGION)
    subnets = (network.subnets * 2)[:2]  # the definition takes two; one is used twice
    urls = default_urls(bucket, env.pipeline_name)
    return {
        artifact.ROLE_PARAMETER: role,
        artifact.BUCKET_PARAMETER: bucket,
        **dict(zip(artifact.SUBNET_PARAMETERS, subnets, strict=True)),
        artifact.SECURITY_GROUP_PARAMETER: network.security_group_ids[0],
        artifact.KMS_PARAMETER: network.kms_key_arn,
        "TrainingDataUrl": env.locations.get("training_data_url", urls["TrainingDataUrl"]),
        "BatchInputUrl": env.locations.get("batch_input_url", urls["BatchInputUrl"]),
        "OutputUrl": env.locations.get("output_url", urls["OutputUrl"]),
        **{INSTANCE_TYPES[k]: v for k, v in env.instance_types.items()},
    }


def bind(definition: dict[str, Any], values: Mapping[str, str]) -> dict[str, Any]:
    """The definition with its parameters' defaults set to `values`; nothing else changes."""
    declared = {p["Name"]: p for p in definition["Parameters"]}
    unknown = sorted(set(values) - set(declared))
    if unknown:
        raise PromotionError(f"the artifact declares no parameter(s) {unknown}")
    parameters = []
    for parameter in definition["Parameters"]:
        name = parameter["Name"]
        if name in values:
            value: Any = values[name]
            if parameter["Type"] == "Float":
                value = float(value)
            elif parameter["Type"] == "Integer":
                value = int(value)
            parameter = {**parameter, "DefaultValue": value}
        elif "DefaultValue" not in parameter:
            raise PromotionError(f"parameter {name} has no value for this environment")
        parameters.append(parameter)
    return {**definition, "Parameters": parameters}


def without_parameter_values(definition: dict[str, Any]) -> dict[str, Any]:
    """The definition with every parameter's default dropped: what promotion keeps unchanged."""
    bare = [{k: v for k, v in p.items() if k != "DefaultValue"} for p in definition["Parameters"]]
    return {**definition, "Parameters": bare}


def check_account(session: Any, env: Environment) -> None:
    """PromotionError unless the credentials are the environment's account."""
    from .core.platform import account_id

    actual = account_id(session)
    if actual != env.account_id:
        raise PromotionError(
            f"credentials are for account {actual}, but environment {env.name!r} is account "
            f"{env.account_id} (environments.toml): assume the {env.name} deploy role"
        )


def scheduler_role_name(env: Environment) -> str:
    """The one role name the deploy role may create, "<pipeline>-scheduler"; never shortened."""
    name = f"{env.pipeline_name}-scheduler"
    if len(name) > 64:
        raise PromotionError(
            f"scheduler role name {name!r} is {len(name)} characters, over IAM's 64: shorten "
            "the SageMaker project name (the deploy role may create only this exact name)"
        )
    return name


def scheduler_role(session: Any, env: Environment, pipeline_arn: str) -> str:
    """The role EventBridge Scheduler starts the pipeline with: this pipeline only."""
    iam = session.client("iam")
    name = scheduler_role_name(env)
    trust = {
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Service": "scheduler.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceAccount": env.account_id}},
        }],
    }  # fmt: skip
    try:
        arn = str(iam.get_role(RoleName=name)["Role"]["Arn"])
    except iam.exceptions.NoSuchEntityException:
        partition = settings.partition(settings.REGION)
        arn = str(
            iam.create_role(
                RoleName=name,
                AssumeRolePolicyDocument=json.dumps(trust),
                Description=f"EventBridge Scheduler starts {env.pipeline_name}",
                PermissionsBoundary=(
                    f"arn:{partition}:iam::{env.account_id}:policy/mlops-suite-scheduler-boundary"
                ),
                Tags=[{"Key": k, "Value": v} for k, v in settings.TAGS.items()],
            )["Role"]["Arn"]
        )
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "sagemaker:StartPipelineExecution",
                "Resource": pipeline_arn,
            }
        ],
    }
    iam.put_role_policy(
        RoleName=name, PolicyName="start-pipeline", PolicyDocument=json.dumps(policy)
    )
    return arn


def pipeline_exists(sagemaker: Any, name: str) -> bool:
    """Whether pipeline `name` exists (SageMaker: ResourceNotFound; moto: a ValidationException)."""
    from botocore.exceptions import ClientError

    try:
        sagemaker.describe_pipeline(PipelineName=name)
    except ClientError as exc:
        error = exc.response["Error"]
        if error["Code"] == "ResourceNotFound" or "find pipeline" in error.get("Message", ""):
            return False
        raise
    return True


def upsert_pipeline(
    session: Any, env: Environment, definition: dict[str, Any], role: str, digest: str
) -> str:
    """Create or update the environment's pipeline with `definition`; return its ARN."""
    sagemaker = session.client("sagemaker")
    body = json.dumps(definition, sort_keys=True)
    description = f"{settings.PROJECT_NAME} promoted artifact {digest}"
    if not pipeline_exists(sagemaker, env.pipeline_name):
        return str(
            sagemaker.create_pipeline(
                PipelineName=env.pipeline_name,
                PipelineDefinition=body,
                PipelineDescription=description,
                RoleArn=role,
                Tags=[{"Key": k, "Value": v} for k, v in settings.TAGS.items()],
            )["PipelineArn"]
        )
    return str(
        sagemaker.update_pipeline(
            PipelineName=env.pipeline_name,
            PipelineDefinition=body,
            PipelineDescription=description,
            RoleArn=role,
        )["PipelineArn"]
    )


def upsert_schedule(session: Any, env: Environment, pipeline_arn: str, role: str) -> str:
    """Create or update the environment's EventBridge Scheduler schedule; return its ARN."""
    scheduler = session.client("scheduler")
    request = {
        "Name": env.pipeline_name,
        "ScheduleExpression": env.schedule,
        "ScheduleExpressionTimezone": "UTC",
        "State": "ENABLED" if env.schedule_enabled else "DISABLED",
        "FlexibleTimeWindow": {"Mode": "OFF"},
        "Description": f"Runs {env.pipeline_name}",
        "Target": {
            "Arn": pipeline_arn,
            "RoleArn": role,
            "RetryPolicy": {"MaximumRetryAttempts": 2},
        },
    }
    try:
        scheduler.get_schedule(Name=env.pipeline_name)
    except scheduler.exceptions.ResourceNotFoundException:
        return str(scheduler.create_schedule(**request)["ScheduleArn"])
    return str(scheduler.update_schedule(**request)["ScheduleArn"])


def deploy(session: Any, env: Environment, digest: str, source_bucket: str) -> dict[str, str]:
    """Deploy artifact `digest` from `source_bucket` to `env`; every check comes first."""
    check_account(session, env)
    found = artifact.fetch(session, source_bucket, digest)
    values = parameter_values(session, env)
    definition = bind(found.definition, values)
    # Nothing changed so far; from here on the environment does.
    s3 = session.client("s3")
    bucket = values[artifact.BUCKET_PARAMETER]
    for code_key, body in sorted(found.code.items()):
        s3.put_object(Bucket=bucket, Key=code_key, Body=body)
    pipeline_arn = upsert_pipeline(
        session, env, definition, values[artifact.ROLE_PARAMETER], digest
    )
    schedule_arn = upsert_schedule(
        session, env, pipeline_arn, scheduler_role(session, env, pipeline_arn)
    )
    return {"digest": digest, "pipeline_arn": pipeline_arn, "schedule_arn": schedule_arn}


def wait_for(
    describe: Callable[[], dict[str, Any]],
    timeout_s: float,
    poll_s: float = 30.0,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    """Poll `describe` until the execution ends; PromotionError when it does not end in time."""
    waited = 0.0
    while True:
        described = describe()
        if described["PipelineExecutionStatus"] in TERMINAL:
            return described
        if waited >= timeout_s:
            raise PromotionError(
                f"execution still {described['PipelineExecutionStatus']} after {waited:.0f} s"
            )
        sleep(poll_s)
        waited += poll_s


def quality(session: Any, env: Environment, execution_arn: str) -> dict[str, Any]:
    """The run's quality report (under the pipeline's OutputUrl); PromotionError if it failed."""
    sagemaker = session.client("sagemaker")
    definition = json.loads(
        sagemaker.describe_pipeline(PipelineName=env.pipeline_name)["PipelineDefinition"]
    )
    output = next(p["DefaultValue"] for p in definition["Parameters"] if p["Name"] == "OutputUrl")
    execution_id = execution_arn.rsplit("/", 1)[-1]
    bucket, _, prefix = str(output).removeprefix("s3://").partition("/")
    key = f"{prefix.rstrip('/')}/{execution_id}/quality/quality.json".lstrip("/")
    report: dict[str, Any] = json.loads(
        session.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    )
    if report.get("failed_checks") != 0:
        raise PromotionError(f"quality checks failed in {env.name}: {report.get('failed')}")
    return report


def start(session: Any, env: Environment, wait: bool, timeout_s: float) -> str:
    """Start the environment's pipeline; with `wait`, require success and a clean quality report."""
    sagemaker = session.client("sagemaker")
    arn = str(
        sagemaker.start_pipeline_execution(
            PipelineName=env.pipeline_name, PipelineExecutionDisplayName="promotion-check"
        )["PipelineExecutionArn"]
    )
    print(f"started {arn}")
    if wait:
        ended = wait_for(
            lambda: sagemaker.describe_pipeline_execution(PipelineExecutionArn=arn), timeout_s
        )
        if ended["PipelineExecutionStatus"] != "Succeeded":
            raise PromotionError(
                f"execution {arn} {ended['PipelineExecutionStatus']}: "
                f"{ended.get('FailureReason', 'see its steps in SageMaker Studio')}"
            )
        report = quality(session, env, arn)
        print(f"{env.name}: {report['records']} records scored, every quality check passed")
    return arn


def report(values: Mapping[str, str], title: str) -> None:
    """Print `values`; add them to $GITHUB_OUTPUT and the job summary when in GitHub Actions."""
    lines = [f"{k}={v}" for k, v in values.items()]
    print("\n".join(lines))
    if target := os.environ.get("GITHUB_OUTPUT"):
        with Path(target).open("a", encoding="utf-8") as out:
            out.write("\n".join(lines) + "\n")
    if target := os.environ.get("GITHUB_STEP_SUMMARY"):
        rows = "\n".join(f"| {k} | `{v}` |" for k, v in values.items())
        with Path(target).open("a", encoding="utf-8") as out:
            out.write(f"### {title}\n\n| | |\n| --- | --- |\n{rows}\n\n")


def main(argv: list[str] | None = None) -> int:
    """Parse the command; exit 1 with the reason when the promotion must stop."""
    parser = argparse.ArgumentParser(prog="promote", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    build = sub.add_parser("build", help="build the artifact (dev)")
    build.add_argument("--publish", action="store_true", help="store it in the dev bucket")
    build.add_argument("-o", "--output", type=Path, help="also write the artifact here")
    for name in ("deploy", "start"):
        cmd = sub.add_parser(name)
        cmd.add_argument("--environment", required=True)
        cmd.add_argument("--environments-file", type=Path, default=ENVIRONMENTS_FILE)
    sub.choices["deploy"].add_argument("--digest", required=True)
    sub.choices["deploy"].add_argument(
        "--source-bucket",
        default=os.environ.get("ARTIFACT_BUCKET"),
        help="the dev project bucket holding the artifact (default: $ARTIFACT_BUCKET)",
    )
    sub.choices["start"].add_argument("--wait", action="store_true")
    sub.choices["start"].add_argument(
        "--timeout-minutes", type=float, default=settings.WAIT_MINUTES
    )
    args = parser.parse_args(argv)
    from .core.platform import boto_session
    from .core.session import quiet_logging

    quiet_logging()

    try:
        if args.command == "build":
            data, code = artifact.build()
            if args.output:
                args.output.write_bytes(data)
            digest = artifact.sha256(data)
            where = "(not published)"
            if args.publish:  # into the project bucket of the credentials' (dev) account
                from .core.platform import artifact_bucket

                session = boto_session(settings.REGION)
                bucket = artifact_bucket(session, settings.REGION)
                artifact.publish(session, bucket, data, code)
                where = f"s3://{bucket}/{artifact.key(digest)}"
            report({"digest": digest, "artifact": where}, "Pipeline artifact")
            return 0
        env = load_environment(args.environment, args.environments_file)
        if args.command == "deploy" and not args.source_bucket:
            raise PromotionError(
                "no --source-bucket: name the dev project bucket that holds the artifact "
                "(the repository variable ARTIFACT_BUCKET)"
            )
        session = boto_session(settings.REGION)
        if args.command == "deploy":
            report(deploy(session, env, args.digest, args.source_bucket), f"Deployed to {env.name}")
        else:
            start(session, env, args.wait, args.timeout_minutes * 60)
    except (PromotionError, artifact.ArtifactError, schedule.ScheduleError) as refusal:
        print(f"::error::{refusal}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
