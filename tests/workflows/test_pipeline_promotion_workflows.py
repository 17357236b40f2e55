"""pipeline-promotion's promote workflow, run through the harness against moto: build in dev,
deploy the same digest to preprod (run once, output checked) and prod; a bad digest stops."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mlops_suite import names
from mlops_suite.local.aws import DEFAULT_ACCOUNT, EmbeddedAWS
from mlops_suite.local.github_double import GitHubDouble
from mlops_suite.local.workflow_actions import standard_actions
from mlops_suite.local.workflow_harness import JobFailed, needs_entry, run_job

from .conftest import HostedRepo, fresh_aws, host_render

PROJECT_ID = "p-abcdef012345"  # tests/answers/pipeline-promotion-minimal.yml
PIPELINE = "churn-model-promotion"


@pytest.fixture
def hosted(github: GitHubDouble, tmp_path: Path) -> HostedRepo:
    repo = host_render(github, tmp_path, "pipeline-promotion-minimal")
    # The team configures its environments' accounts; here both are the embedded AWS's account.
    toml = repo.workspace / "environments.toml"
    text = re.sub(
        r'account_id = "[0-9]{12}"', f'account_id = "{DEFAULT_ACCOUNT}"', toml.read_text()
    )
    toml.write_text(text, encoding="utf-8")
    return repo


@pytest.fixture
def runs_write_their_quality_report(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto records a pipeline execution and runs nothing (the rendered repo's promotion test runs
    the deployed definition); stand in for the run's last step: write the quality report where
    the definition's OutputUrl puts it, so the workflow's output check reads what a run writes."""
    from moto.s3.models import s3_backends
    from moto.sagemaker.models import SageMakerModelBackend

    original = SageMakerModelBackend.start_pipeline_execution

    def start(self: SageMakerModelBackend, pipeline_name: str, *args: Any) -> dict[str, str]:
        out = original(self, pipeline_name, *args)
        definition = json.loads(self.pipelines[pipeline_name].pipeline_definition)
        output = next(p for p in definition["Parameters"] if p["Name"] == "OutputUrl")
        bucket, _, prefix = output["DefaultValue"].removeprefix("s3://").partition("/")
        execution = out["PipelineExecutionArn"].rsplit("/", 1)[-1]
        report = {"records": 569, "failed_checks": 0, "failed": [], "checks": {}}
        s3_backends[self.account_id]["aws"].put_object(
            bucket, f"{prefix}/{execution}/quality/quality.json", json.dumps(report).encode()
        )
        return out

    monkeypatch.setattr(SageMakerModelBackend, "start_pipeline_execution", start)


def fresh_runner(hosted: HostedRepo) -> Path:
    """Each job runs on a new runner: no virtual environment left by the job before."""
    shutil.rmtree(hosted.workspace / ".venv", ignore_errors=True)
    return hosted.workspace


def seed(aws: EmbeddedAWS) -> dict[str, str]:
    """The platform's SSM values, the project bucket and the roles the workflow assumes."""
    iam, ssm, s3 = (aws.client(s) for s in ("iam", "ssm", "s3"))
    trust = json.dumps({"Version": "2012-10-17", "Statement": []})
    roles = {}
    for env in ("dev", "preprod", "prod"):
        name = names.pattern("github_actions_role", project_id=PROJECT_ID, environment=env)
        roles[env] = iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust)["Role"]["Arn"]
    execution = iam.create_role(RoleName="sagemaker-execution", AssumeRolePolicyDocument=trust)
    values = {
        "sagemaker_execution_role_arn": execution["Role"]["Arn"],
        "private_subnet_ids": "subnet-0aaa,subnet-0bbb",
        "security_group_id": "sg-0ccc",
        "kms_key_arn": f"arn:aws:kms:{aws.region}:{DEFAULT_ACCOUNT}:key/1234abcd-0000-0000-0000",
    }
    for key, value in values.items():
        ssm.put_parameter(Name=names.ssm_parameter(key), Value=value, Type="String")
    bucket = names.pattern(
        "artifact_bucket", project_id=PROJECT_ID, account_id=DEFAULT_ACCOUNT, region=aws.region
    )
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": aws.region})
    return {"bucket": bucket, **{f"role_{k}": v for k, v in roles.items()}}


@pytest.fixture
def aws() -> Iterator[EmbeddedAWS]:
    with fresh_aws() as embedded:
        yield embedded


@pytest.mark.usefixtures("runs_write_their_quality_report")
def test_build_once_then_preprod_and_prod_deploy_the_same_digest(
    hosted: HostedRepo, aws: EmbeddedAWS
) -> None:
    platform = seed(aws)
    wf = hosted.workspace / ".github" / "workflows" / "promote.yml"
    actions = standard_actions(aws=aws)
    base = {"ARTIFACT_BUCKET": platform["bucket"]}
    build = run_job(
        wf, "build", workspace=fresh_runner(hosted), actions=actions,
        context=hosted.context(event_name="push",
                               vars={**base, "AWS_ROLE_ARN": platform["role_dev"]}),
    )  # fmt: skip
    digest = build.outputs["digest"]
    assert re.fullmatch(r"[0-9a-f]{64}", digest), build.outputs
    assert digest in build.summary
    stored = (
        aws.client("s3")
        .get_object(Bucket=platform["bucket"], Key=f"{PIPELINE}/artifacts/{digest}.json")["Body"]
        .read()
    )
    assert json.loads(stored)["pipeline"] == PIPELINE

    needs: dict[str, Any] = {"build": needs_entry(build)}
    for env in ("preprod", "prod"):
        ctx = hosted.context(
            event_name="push", vars={**base, "AWS_ROLE_ARN": platform[f"role_{env}"]}, needs=needs
        )
        result = run_job(wf, env, workspace=fresh_runner(hosted), context=ctx, actions=actions)
        assert digest in result.summary
        if env == "preprod":
            checked = result.step("Run once in preprod and check the output").output
            assert "every quality check passed" in checked, checked
        needs[env] = needs_entry(result)
    preprod = aws.client("sagemaker").describe_pipeline(PipelineName=f"{PIPELINE}-preprod")
    prod = aws.client("sagemaker").describe_pipeline(PipelineName=f"{PIPELINE}-prod")
    bare = []
    for described in (preprod, prod):
        definition = json.loads(described["PipelineDefinition"])
        for parameter in definition["Parameters"]:
            parameter.pop("DefaultValue", None)
        bare.append(definition)
    assert bare[0] == bare[1]
    schedules = aws.client("scheduler").list_schedules()["Schedules"]
    assert sorted(s["Name"] for s in schedules) == [f"{PIPELINE}-preprod", f"{PIPELINE}-prod"]


def test_a_manual_run_with_an_unknown_digest_stops_before_any_change(
    hosted: HostedRepo, aws: EmbeddedAWS
) -> None:
    platform = seed(aws)
    wf = hosted.workspace / ".github" / "workflows" / "promote.yml"
    actions = standard_actions(aws=aws)
    digest = "0" * 64
    build = run_job(
        wf, "build", workspace=fresh_runner(hosted), actions=actions,
        context=hosted.context(inputs={"digest": digest},
                               vars={"AWS_ROLE_ARN": platform["role_dev"]}),
    )  # fmt: skip
    assert build.outputs["digest"] == digest
    ctx = hosted.context(
        vars={"ARTIFACT_BUCKET": platform["bucket"], "AWS_ROLE_ARN": platform["role_preprod"]},
        needs={"build": needs_entry(build)},
    )
    with pytest.raises(JobFailed, match=f"no artifact {digest}"):
        run_job(wf, "preprod", workspace=fresh_runner(hosted), context=ctx, actions=actions)
    assert aws.client("sagemaker").list_pipelines()["PipelineSummaries"] == []
