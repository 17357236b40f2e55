"""The model-approval trigger: EventBridge events in, repository_dispatch out."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from lambda_support import REGION, assert_no_secret, load_event

from mlops_suite import names
from mlops_suite.github.client import RetryPolicy, Unavailable
from mlops_suite.handlers import model_approval
from mlops_suite.local.github_double import GitHubDouble

GROUP = "churn-model-p-abcdef012345"
DEPLOY = "my-org/churn-model-deploy"


@pytest.fixture
def project(platform: GitHubDouble) -> GitHubDouble:
    """A project whose group exists (tagged like SageMaker does) and whose deploy repo is known."""
    sm = boto3.client("sagemaker", REGION)
    sm.create_model_package_group(
        ModelPackageGroupName=GROUP,
        Tags=[{"Key": names.tag_key("project_id"), "Value": "p-abcdef012345"}],
    )
    ssm = boto3.client("ssm", REGION)
    ssm.put_parameter(
        Name=names.pattern("project_deploy_repo_parameter", project_id="p-abcdef012345"),
        Value=DEPLOY,
        Type="String",
    )
    ssm.put_parameter(
        Name=names.ssm_parameter("dev_account_id"), Value="111111111111", Type="String"
    )
    platform.add_repo("my-org", "churn-model-deploy", topics=["mlops-suite", "p-abcdef012345"])
    return platform


def test_approved_package_dispatches_to_the_deploy_repo(
    project: GitHubDouble, logs: pytest.LogCaptureFixture
) -> None:
    result = model_approval.handler(load_event("model-package-approved"), None)

    assert result["status"] == "dispatched"
    assert project.repos[DEPLOY].dispatches == [
        {
            "event_type": "model-approved",
            "client_payload": {
                "model_package_arn": "arn:aws:sagemaker:eu-west-1:111111111111:model-package/"
                f"{GROUP}/3",
                "model_package_group_name": GROUP,
                "model_package_version": 3,
                "sagemaker_project_id": "p-abcdef012345",
                "region": "eu-west-1",
                "account": "111111111111",
            },
        }
    ]
    assert_no_secret(project, logs.text, json.dumps(result))


@pytest.mark.parametrize(
    ("event", "why"),
    [
        ("model-package-rejected", "is Rejected, not Approved"),
        ("model-package-approved-unknown-group", "not a project's group"),
        ("not-sagemaker", "not a model package state change"),
        ("model-package-approved-other-account", "not the dev account 111111111111"),
        ("model-package-approved-bad-version", "ModelPackageVersion '3.5' is not a positive"),
        ("model-package-approved-bad-region", "is not an AWS region"),
    ],
)
def test_other_events_are_ignored(project: GitHubDouble, event: str, why: str) -> None:
    result = model_approval.handler(load_event(event), None)
    assert result["status"] == "ignored"
    assert why in result["reason"]
    assert not project.repos[DEPLOY].dispatches


@pytest.mark.parametrize(
    "event",
    [None, [], "text", {}, {"source": "aws.sagemaker", "detail-type": model_approval.DETAIL_TYPE}],
)
def test_garbage_never_raises(project: GitHubDouble, event: Any) -> None:
    assert model_approval.handler(event, None)["status"] == "ignored"


def test_an_untagged_look_alike_group_is_ignored(project: GitHubDouble) -> None:
    boto3.client("sagemaker", REGION).create_model_package_group(
        ModelPackageGroupName="evil-p-abcdef012345"
    )
    result = model_approval.handler(load_event("model-package-approved-lookalike-group"), None)
    assert result["status"] == "ignored"
    assert "has no sagemaker:project-id tag" in result["reason"]
    assert not project.repos[DEPLOY].dispatches


def test_a_deploy_repo_without_the_ownership_topic_gets_nothing(project: GitHubDouble) -> None:
    project.repos[DEPLOY].topics = ["mlops-suite"]  # named by the parameter, not the project's
    result = model_approval.handler(load_event("model-package-approved"), None)
    assert result["status"] == "ignored"
    assert "lacks the topics mlops-suite, p-abcdef012345" in result["reason"]
    assert not project.repos[DEPLOY].dispatches


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("ModelPackageVersion", "three"),
        ("ModelPackageVersion", [3]),
        ("ModelPackageVersion", True),
        ("ModelPackageVersion", 4),
        ("ModelPackageArn", "arn:aws:sagemaker:eu-west-1:111111111111:model-package/x/y"),
        ("ModelPackageGroupName", {"a": 1}),
    ],
)
def test_malformed_details_are_dropped_not_raised(
    project: GitHubDouble, field: str, value: Any
) -> None:
    event = load_event("model-package-approved")
    event["detail"][field] = value
    assert model_approval.handler(event, None)["status"] == "ignored"
    assert not project.repos[DEPLOY].dispatches


@pytest.mark.parametrize("region", [None, 7, "", "EU-WEST-1", "eu-west-1\n", "../../etc"])
def test_malformed_regions_are_dropped_not_raised(project: GitHubDouble, region: Any) -> None:
    event = load_event("model-package-approved")
    event["region"] = region
    assert model_approval.handler(event, None)["status"] == "ignored"


def test_group_of_a_project_without_deploy_repo_is_ignored(project: GitHubDouble) -> None:
    event = load_event("model-package-approved")
    other = "churn-model-p-000000000000"
    boto3.client("sagemaker", REGION).create_model_package_group(
        ModelPackageGroupName=other,
        Tags=[{"Key": names.tag_key("project_id"), "Value": "p-000000000000"}],
    )
    event["detail"]["ModelPackageGroupName"] = other
    event["detail"]["ModelPackageArn"] = event["detail"]["ModelPackageArn"].replace(
        "churn-model-p-abcdef012345", other
    )
    result = model_approval.handler(event, None)
    assert result["status"] == "ignored"
    assert "/mlops-suite/projects/p-000000000000/deploy-repo is missing" in result["reason"]


def test_group_tagged_for_another_project_is_ignored(project: GitHubDouble) -> None:
    sm = boto3.client("sagemaker", REGION)
    spoof = "spoof-p-abcdef012345"
    sm.create_model_package_group(
        ModelPackageGroupName=spoof,
        Tags=[{"Key": names.tag_key("project_id"), "Value": "p-999999999999"}],
    )
    event = load_event("model-package-approved")
    event["detail"]["ModelPackageGroupName"] = spoof
    event["detail"]["ModelPackageArn"] = event["detail"]["ModelPackageArn"].replace(
        "churn-model-p-abcdef012345", spoof
    )
    result = model_approval.handler(event, None)
    assert result["status"] == "ignored"
    assert "tagged for project p-999999999999" in result["reason"]


def test_missing_deploy_repo_on_github_is_logged_not_raised(project: GitHubDouble) -> None:
    del project.repos[DEPLOY]
    result = model_approval.handler(load_event("model-package-approved"), None)
    assert result["status"] == "failed"
    assert "HTTP 404" in result["reason"]


def test_transient_github_failure_raises_for_lambdas_bounded_retry(
    project: GitHubDouble, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(RetryPolicy, "backoff", lambda self, attempt: 0.01)
    project.fail("POST", r".*/dispatches", status=503, times=99)
    with pytest.raises(Unavailable, match="dispatch model-approved"):
        model_approval.handler(load_event("model-package-approved"), None)
    assert len(project.calls_to("POST", r".*/dispatches")) == 5  # first try + 4 retries


def test_dispatch_retries_through_a_blip(project: GitHubDouble) -> None:
    project.fail("POST", r".*/dispatches", status=502)
    assert model_approval.handler(load_event("model-package-approved"), None)["status"] == (
        "dispatched"
    )
    assert len(project.repos[DEPLOY].dispatches) == 1
