"""`nox -s demo` does what the README says: read back from each account and from GitHub.

The end-to-end runs are marked `demo` (about 1.5 minutes each): `nox -s demo_e2e` runs them,
`nox -s tests` leaves them out.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from mlops_suite import demo, names
from mlops_suite.demo import platform
from mlops_suite.demo.report import StageFailed

PROJECT_ID = demo.PROJECT["SageMakerProjectId"]
GROUP = names.pattern(
    "model_package_group", project_name=demo.PROJECT["SageMakerProjectName"], project_id=PROJECT_ID
)


def terraform_available() -> None:
    if shutil.which("terraform") is None:
        if os.environ.get("MLOPS_SUITE_REQUIRE") == "1":  # CI: a skip would hide the deploy half
            pytest.fail("the demo's deploy stages need terraform on PATH")
        pytest.skip(
            "SKIPPED LOUDLY: the demo's deploy stages run real Terraform and this machine has no "
            "terraform on PATH"
        )


def held(accounts: Any, gh: Any) -> dict[str, Any]:
    """What each account and the GitHub double hold, read with boto3 and the double's state."""
    out: dict[str, Any] = {}
    for env in names.environments():
        creds = accounts.platform(env)
        sm, iam = accounts.client(creds, "sagemaker"), accounts.client(creds, "iam")
        roles = {r["RoleName"] for r in iam.list_roles()["Roles"]}
        endpoints = {}
        for e in sm.list_endpoints()["Endpoints"]:
            described = sm.describe_endpoint(EndpointName=e["EndpointName"])
            config = sm.describe_endpoint_config(EndpointConfigName=described["EndpointConfigName"])
            model = sm.describe_model(ModelName=config["ProductionVariants"][0]["ModelName"])
            endpoints[e["EndpointName"]] = (
                described["EndpointStatus"],
                model["PrimaryContainer"]["ModelPackageName"],
            )
        pipelines = {}
        for p in sm.list_pipelines()["PipelineSummaries"]:
            name = p["PipelineName"]
            definition = sm.describe_pipeline(PipelineName=name)["PipelineDefinition"]
            runs = sm.list_pipeline_executions(PipelineName=name)["PipelineExecutionSummaries"]
            # The model the deployed definition serves: staged into an S3 object by the build.
            models = re.findall(r'"ModelDataUrl": "s3://([^/"]+)/([^"]+)"', definition)
            s3 = accounts.client(creds, "s3")
            staged = [bool(s3.head_object(Bucket=b, Key=k)) for b, k in models]
            pipelines[name] = (staged, [r["PipelineExecutionStatus"] for r in runs])
        state_bucket = f"mlops-suite-{env}-tfstate-{accounts.ids[env]}-{accounts.region}"
        state = (
            accounts.client(creds, "s3").list_objects_v2(Bucket=state_bucket).get("Contents", [])
        )
        out[env] = {"roles": roles, "endpoints": endpoints, "pipelines": pipelines,
                    "state": [o["Key"] for o in state]}  # fmt: skip
    dev = accounts.platform("dev")
    sm = accounts.client(dev, "sagemaker")
    out["packages"] = [
        sm.describe_model_package(ModelPackageName=p["ModelPackageArn"])
        for p in sm.list_model_packages(ModelPackageGroupName=GROUP)["ModelPackageSummaryList"]
    ]
    stacks = accounts.client(dev, "cloudformation").describe_stacks()["Stacks"]
    out["stacks"] = {s["StackName"]: s["StackStatus"] for s in stacks}
    out["deploy_repo_parameter"] = accounts.client(dev, "ssm").get_parameter(
        Name=names.pattern("project_deploy_repo_parameter", project_id=PROJECT_ID)
    )["Parameter"]["Value"]
    out["repos"] = {
        name: {"dispatches": list(r.dispatches), "environments": sorted(r.environments)}
        for name, r in gh.repos.items()
    }
    return out


@pytest.fixture(scope="module", params=sorted(demo.DEPLOYMENTS))
def finished(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    terraform_available()
    seen: dict[str, Any] = {}
    result = demo.run(
        tmp_path_factory.mktemp(request.param),
        request.param,
        inspect=lambda accounts, gh: seen.update(held(accounts, gh)),
    )
    return request.param, result, seen


@pytest.mark.demo
def test_project_stack_creates_both_repositories(finished: Any) -> None:
    deployment, result, seen = finished
    # CloudFormation sent one Create per custom resource; the real handler answered each.
    requests = result["custom_resource_requests"]
    assert sorted((r["logical_id"], r["repo_kind"], r["status"]) for r in requests) == [
        ("ModelBuildRepository", "model-training", "SUCCESS"),
        ("ModelDeployRepository", demo.DEPLOYMENTS[deployment], "SUCCESS"),
        ("ProjectDeployRoles", None, "SUCCESS"),
    ]
    assert {r["type"] for r in requests} == {
        "Custom::GitHubRepository",
        "Custom::ProjectDeployRoles",
    }
    training, deploy_repo = (
        f"{demo.ORG}/{demo.PROJECT_NAME}-build",
        f"{demo.ORG}/{demo.PROJECT_NAME}-deploy",
    )
    assert set(seen["repos"]) == {training, deploy_repo}
    assert seen["repos"][deploy_repo]["environments"] == ["preprod", "prod"]
    assert seen["repos"][training]["environments"] == ["dev", "preprod", "prod"]
    assert seen["deploy_repo_parameter"] == deploy_repo  # written by the stack, from the handler
    assert all(status == "CREATE_COMPLETE" for status in seen["stacks"].values()), seen["stacks"]
    assert len(seen["stacks"]) == 2  # the dev bootstrap stack and the project stack


@pytest.mark.demo
def test_approval_dispatches_to_the_deploy_repository_only(finished: Any) -> None:
    _, _, seen = finished
    (package,) = seen["packages"]
    assert package["ModelApprovalStatus"] == "Approved"
    training = seen["repos"][f"{demo.ORG}/{demo.PROJECT_NAME}-build"]
    (dispatch,) = seen["repos"][f"{demo.ORG}/{demo.PROJECT_NAME}-deploy"]["dispatches"]
    assert training["dispatches"] == []
    assert dispatch["event_type"] == names.load()["github"]["model_approved_event_type"]
    assert dispatch["client_payload"]["model_package_arn"] == package["ModelPackageArn"]


@pytest.mark.demo
def test_each_target_account_holds_the_approved_deployment(finished: Any) -> None:
    deployment, _, seen = finished
    arn = seen["packages"][0]["ModelPackageArn"]
    assert seen["dev"]["endpoints"] == {}
    assert seen["dev"]["pipelines"] == {}
    for env in ("preprod", "prod"):
        holds = seen[env]
        assert (
            names.pattern("github_actions_role", project_id=PROJECT_ID, environment=env)
            in holds["roles"]
        )
        assert any(key.startswith(f"projects/{PROJECT_ID}/") for key in holds["state"]), holds[
            "state"
        ]
        if deployment == "realtime":
            assert holds["endpoints"] == {
                f"{demo.PROJECT['SageMakerProjectName']}-{PROJECT_ID}-{env}": ("InService", arn)
            }
            assert holds["pipelines"] == {}
        else:
            assert holds["endpoints"] == {}
            ((name, (staged, runs)),) = holds["pipelines"].items()
            assert name.endswith(f"-{env}")
            assert staged == [True]  # one model, fixed at deploy time, readable in the account
            # preprod runs once after the deploy (the smoke test); prod's runs are the schedule's.
            assert runs == (["Succeeded"] if env == "preprod" else [])


@pytest.mark.demo
def test_smoke_tests_reached_the_local_model_server(finished: Any) -> None:
    deployment, result, _ = finished
    if deployment != "realtime":
        assert {r["account"] for r in result["pipeline_runs"]} == {demo.ACCOUNT_IDS["preprod"]}
        return
    served = {call["account"] for call in result["served"]}
    assert served == {demo.ACCOUNT_IDS["preprod"], demo.ACCOUNT_IDS["prod"]}


def test_a_failing_stage_exits_non_zero_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("no bootstrap today")

    monkeypatch.setattr(platform, "seed", broken)
    assert demo.main(["--workdir", str(tmp_path / "w")]) == 1
    err = capsys.readouterr().err
    assert "stage platform" in err
    assert "no bootstrap today" in err
    with pytest.raises(StageFailed) as failed:
        demo.run(tmp_path / "again")
    assert failed.value.stage == "platform"


def test_summary_lists_every_stage_time() -> None:
    result = {
        "platform": "p", "repositories": {"model-training": "u"},
        "package": {"arn": "a", "status": "Approved"},
        "dispatch": {"event_type": "model-approved", "repository": "o/r"},
        "accounts": {"dev": {"account": "1", "summary": "none"}},
    }  # fmt: skip
    text = demo.report.summary(result, {s: 1.0 for s in demo.STAGES})
    rows = dict(line.split(" | ", 1) for line in text.splitlines() if " | " in line)
    assert {k.strip() for k in rows} >= {f"time: {s}" for s in demo.STAGES} | {"time: total"}
    assert json.loads(json.dumps(rows))  # plain strings only
