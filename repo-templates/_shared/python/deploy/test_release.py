"""The release gate: every refusal happens before any AWS call or apply, naming the value."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from {{ module_name }} import release, settings

PROJECT = release.Project.from_settings()
GROUP_ARN = (
    f"arn:{release.partition(settings.REGION)}:sagemaker:{settings.REGION}:"
    f"{settings.DEV_ACCOUNT_ID}:"
    f"model-package-group/{settings.MODEL_PACKAGE_GROUP}"
)


def package_arn(version: int, group: str = settings.MODEL_PACKAGE_GROUP) -> str:
    return (
        f"arn:{release.partition(settings.REGION)}:sagemaker:{settings.REGION}:"
        f"{settings.DEV_ACCOUNT_ID}:"
        f"model-package/{group}/{version}"
    )


def repository(**overrides: Any) -> dict[str, Any]:
    repo = {
        "full_name": f"{settings.GITHUB_ORG}/deploy",
        "fork": False,
        "owner": {"login": settings.GITHUB_ORG},
    }
    return {**repo, **overrides}


def dispatch(**payload_overrides: Any) -> dict[str, Any]:
    """A repository_dispatch event as the model-approval trigger causes it."""
    payload = {
        "model_package_arn": package_arn(3),
        "model_package_group_name": settings.MODEL_PACKAGE_GROUP,
        "model_package_version": 3,
        "sagemaker_project_id": settings.PROJECT_ID,
        "region": settings.REGION,
        "account": settings.DEV_ACCOUNT_ID,
    }
    payload.update(payload_overrides)
    return {"action": "model-approved", "client_payload": payload, "repository": repository()}


def test_dispatch_from_the_trigger_asks_for_its_package() -> None:
    assert release.requested_package("repository_dispatch", dispatch(), PROJECT) == package_arn(3)


@pytest.mark.parametrize("field", release.PAYLOAD_FIELDS)
def test_missing_payload_field_is_named(field: str) -> None:
    event = dispatch()
    del event["client_payload"][field]
    with pytest.raises(release.ReleaseError, match=f"lacks {field}"):
        release.requested_package("repository_dispatch", event, PROJECT)


def test_package_of_another_group_is_refused_by_name() -> None:
    other = package_arn(1, group="other-model-p-zzzzzzzzzzzz")
    with pytest.raises(release.ReleaseError, match="belongs to group other-model-p-zzzzzzzzzzzz"):
        release.requested_package("repository_dispatch", dispatch(model_package_arn=other), PROJECT)
    event = dispatch(model_package_group_name="other-model-p-zzzzzzzzzzzz")
    with pytest.raises(release.ReleaseError, match="other-model-p-zzzzzzzzzzzz"):
        release.requested_package("repository_dispatch", event, PROJECT)


def test_version_must_match_the_arn() -> None:
    with pytest.raises(release.ReleaseError, match="version 3"):
        release.requested_package("repository_dispatch", dispatch(model_package_version=4), PROJECT)


def test_fork_is_refused_before_anything_else() -> None:
    event = {**dispatch(), "repository": repository(fork=True, full_name="someone/deploy")}
    with pytest.raises(release.ReleaseError, match="fork someone/deploy"):
        release.requested_package("repository_dispatch", event, PROJECT)
    event = {**dispatch(), "repository": repository(owner={"login": "someone"})}
    with pytest.raises(release.ReleaseError, match="'someone'"):
        release.requested_package("workflow_dispatch", event, PROJECT)


def test_manual_run_takes_an_arn_or_latest() -> None:
    manual = {"inputs": {"model_package": package_arn(5)}, "repository": repository()}
    assert release.requested_package("workflow_dispatch", manual, PROJECT) == package_arn(5)
    manual["inputs"] = {"model_package": ""}
    assert release.requested_package("workflow_dispatch", manual, PROJECT) == release.LATEST
    manual["inputs"] = {"model_package": "not-an-arn"}
    with pytest.raises(release.ReleaseError, match="'not-an-arn' is not a versioned"):
        release.requested_package("workflow_dispatch", manual, PROJECT)


def test_other_events_do_not_deploy() -> None:
    with pytest.raises(release.ReleaseError, match="'push' does not deploy"):
        release.requested_package("push", {"repository": repository()}, PROJECT)
    event = {**dispatch(), "action": "suite-release"}
    with pytest.raises(release.ReleaseError, match="'suite-release' does not deploy"):
        release.requested_package("repository_dispatch", event, PROJECT)


@pytest.fixture
def registry(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The dev registry with package 1 Approved, 2 Rejected, 3 PendingManualApproval."""
    monkeypatch.setenv("MOTO_ACCOUNT_ID", settings.DEV_ACCOUNT_ID)
    with mock_aws():
        client = boto3.client("sagemaker", region_name=settings.REGION)
        client.create_model_package_group(ModelPackageGroupName=settings.MODEL_PACKAGE_GROUP)
        client.create_model_package_group(ModelPackageGroupName="other-model-p-zzzzzzzzzzzz")
        for status in ("Approved", "Rejected", "PendingManualApproval"):
            client.create_model_package(
                ModelPackageGroupName=settings.MODEL_PACKAGE_GROUP, ModelApprovalStatus=status
            )
        client.create_model_package(
            ModelPackageGroupName="other-model-p-zzzzzzzzzzzz", ModelApprovalStatus="Approved"
        )
        yield client


def test_approved_package_resolves(registry: Any) -> None:
    package = release.resolve(registry, package_arn(1), PROJECT)
    assert (package.arn, package.version, package.status) == (package_arn(1), 1, "Approved")


def test_latest_resolves_to_the_newest_approved(registry: Any) -> None:
    registry.update_model_package(ModelPackageArn=package_arn(3), ModelApprovalStatus="Approved")
    assert release.resolve(registry, release.LATEST, PROJECT).version == 3


@pytest.mark.parametrize(("version", "status"), [(2, "Rejected"), (3, "PendingManualApproval")])
def test_unapproved_package_is_refused(registry: Any, version: int, status: str) -> None:
    with pytest.raises(release.ReleaseError, match=f"/{version} is {status}, not Approved"):
        release.resolve(registry, package_arn(version), PROJECT)


def test_unknown_package_is_refused(registry: Any) -> None:
    with pytest.raises(release.ReleaseError, match=f"unknown model package {package_arn(99)}"):
        release.resolve(registry, package_arn(99), PROJECT)


def test_cli_refuses_a_bad_event_and_writes_outputs_for_a_good_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    outputs = tmp_path / "github_output"
    monkeypatch.setenv("GITHUB_OUTPUT", str(outputs))
    event = tmp_path / "event.json"
    event.write_text(json.dumps(dispatch()), encoding="utf-8")
    args = ["check-event", "--event-name", "repository_dispatch", "--event-path", str(event)]
    assert release.main(args) == 0
    assert outputs.read_text(encoding="utf-8") == f"requested={package_arn(3)}\n"
    bad = dispatch()
    del bad["client_payload"]["account"]
    event.write_text(json.dumps(bad), encoding="utf-8")
    assert release.main(args) == 1
    assert "lacks account" in capsys.readouterr().err
