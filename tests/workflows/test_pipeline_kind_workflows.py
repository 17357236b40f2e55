"""The pipeline kinds' ci and train workflows, run through the harness (train against moto).

The train workflow is one shared piece; its test runs for every kind that renders it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from mlops_suite import kinds, names, rendering
from mlops_suite.local.aws import DEFAULT_ACCOUNT
from mlops_suite.local.github_double import GitHubDouble
from mlops_suite.local.workflow_actions import standard_actions
from mlops_suite.local.workflow_harness import JobFailed, run_job

from .conftest import ANSWERS, HostedRepo, fresh_aws, host_render

PROJECT_ID = "p-abcdef012345"  # the minimal answer sets' project
TRAIN_KINDS = [
    k for k in rendering.kinds() if any(f.piece == "workflow-train" for f in kinds.load(k).shared)
]


@pytest.fixture
def moto_execution_steps(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto 5.2 marks every pipeline execution Succeeded without running it and lacks
    ListPipelineExecutionSteps; answer it with the execution's own definition, every step
    Succeeded, so the workflow's summary step has what SageMaker would return."""
    from moto.core.responses import ActionResult
    from moto.sagemaker.responses import SageMakerResponse

    def list_pipeline_execution_steps(self: SageMakerResponse) -> ActionResult:
        arn = self._get_param("PipelineExecutionArn")
        backend = self.sagemaker_backend
        described = backend.describe_pipeline_definition_for_execution(arn)
        steps = json.loads(described["PipelineDefinition"])["Steps"]
        summaries = [
            {"StepName": s["Name"], "StepStatus": "Succeeded", "Metadata": {}}
            for s in reversed(steps)  # the API lists the newest first
        ]
        return ActionResult({"PipelineExecutionSteps": summaries})

    monkeypatch.setattr(
        SageMakerResponse,
        "list_pipeline_execution_steps",
        list_pipeline_execution_steps,
        raising=False,
    )


@pytest.fixture
def hosted(github: GitHubDouble, tmp_path: Path) -> HostedRepo:
    return host_render(github, tmp_path, "model-training-minimal")


@pytest.mark.parametrize("kind", TRAIN_KINDS)
def test_ci_runs_the_repos_own_lint(github: GitHubDouble, tmp_path: Path, kind: str) -> None:
    # The whole `nox` (tests included) is what render(<kind>) runs; here the workflow's own
    # steps run with NOXSESSION=lint to keep the cost to one session.
    hosted = host_render(github, tmp_path, f"{kind}-minimal")
    ctx = hosted.context(event_name="pull_request", event={"pull_request": {"number": 7}})
    ctx.env["NOXSESSION"] = "lint"
    wf = hosted.workspace / ".github" / "workflows" / "ci.yml"
    result = run_job(
        wf, "checks", workspace=hosted.workspace, context=ctx, actions=standard_actions()
    )
    nox = result.step("nox").output
    assert "Session lint was successful" in nox, nox[-3000:]


def seed_platform(aws: object, region: str) -> dict[str, str]:
    """What the platform and the project template leave in the dev account for this project."""
    iam, ssm, s3 = (aws.client(s) for s in ("iam", "ssm", "s3"))  # type: ignore[attr-defined]
    trust = json.dumps({"Version": "2012-10-17", "Statement": []})
    github_role = names.pattern("github_actions_role", project_id=PROJECT_ID, environment="dev")
    role = iam.create_role(RoleName=github_role, AssumeRolePolicyDocument=trust)["Role"]["Arn"]
    execution = iam.create_role(RoleName="sagemaker-execution", AssumeRolePolicyDocument=trust)
    network = {
        "sagemaker_execution_role_arn": execution["Role"]["Arn"],
        "private_subnet_ids": "subnet-0aaa,subnet-0bbb",
        "security_group_id": "sg-0ccc",
        "kms_key_arn": f"arn:aws:kms:{region}:{DEFAULT_ACCOUNT}:key/1234abcd-0000-0000-0000-0000",
    }
    for key, value in network.items():
        ssm.put_parameter(Name=names.ssm_parameter(key), Value=value, Type="String")
    bucket = names.pattern(
        "artifact_bucket", project_id=PROJECT_ID, account_id=DEFAULT_ACCOUNT, region=region
    )
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region})
    return {"role": role, "bucket": bucket, **network}


def test_every_kind_with_a_train_workflow_is_run_here() -> None:
    assert {"model-training", "llm-training"} <= set(TRAIN_KINDS), TRAIN_KINDS


@pytest.mark.usefixtures("moto_execution_steps")
@pytest.mark.parametrize("kind", TRAIN_KINDS)
def test_train_upserts_starts_and_waits_against_moto(
    github: GitHubDouble, tmp_path: Path, kind: str
) -> None:
    answers_name = f"{kind}-minimal"
    answers = yaml.safe_load((ANSWERS / f"{answers_name}.yml").read_text(encoding="utf-8"))
    assert answers["sagemaker_project_id"] == PROJECT_ID, answers_name
    pipeline_spec = kinds.load(kind).pipeline
    assert pipeline_spec is not None
    project = answers.get("sagemaker_project_name") or answers["project_name"]
    pipeline_name = f"{project}-{pipeline_spec.name_suffix}"
    hosted = host_render(github, tmp_path, answers_name)
    wf = hosted.workspace / ".github" / "workflows" / "train.yml"
    with fresh_aws() as aws:
        platform = seed_platform(aws, aws.region)
        ctx = hosted.context(event_name="push", vars={"AWS_ROLE_ARN": platform["role"]})
        actions = standard_actions(aws=aws)
        result = run_job(wf, "pipeline", workspace=hosted.workspace, context=ctx, actions=actions)
        assert "### Pipeline execution: Succeeded" in result.summary
        sagemaker = aws.client("sagemaker")
        pipeline = sagemaker.describe_pipeline(PipelineName=pipeline_name)
        definition = json.loads(pipeline["PipelineDefinition"])
        jobs = [
            s["Arguments"] for s in definition["Steps"] if s["Type"] in ("Processing", "Training")
        ]
        assert jobs, definition["Steps"]
        for step in definition["Steps"]:
            assert f"| {step['Name']} | Succeeded |" in result.summary
        for args in jobs:
            vpc = args.get("VpcConfig") or args["NetworkConfig"]["VpcConfig"]
            assert vpc["Subnets"] == ["subnet-0aaa", "subnet-0bbb"]
        assert pipeline["RoleArn"] == platform["sagemaker_execution_role_arn"]
        (_execution,) = sagemaker.list_pipeline_executions(PipelineName=pipeline_name)[
            "PipelineExecutionSummaries"
        ]
        staged = aws.client("s3").list_objects_v2(Bucket=platform["bucket"])["Contents"]
        sample = Path(str(pipeline_spec.sample_input)).name
        assert f"{pipeline_name}/input/{sample}" in {o["Key"] for o in staged}


def test_train_without_the_platform_fails_naming_the_fix(hosted: HostedRepo) -> None:
    wf = hosted.workspace / ".github" / "workflows" / "train.yml"
    with fresh_aws() as aws:
        ctx = hosted.context(
            event_name="workflow_dispatch",
            vars={"AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/x"},
        )
        with pytest.raises(
            JobFailed, match=r"step 'Upsert, start and wait' failed[\s\S]*execution role"
        ):
            run_job(
                wf,
                "pipeline",
                workspace=hosted.workspace,
                context=ctx,
                actions=standard_actions(aws=aws),
            )
