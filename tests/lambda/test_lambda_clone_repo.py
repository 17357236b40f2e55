"""The clone-repo custom resource against the GitHub double, with canned events."""

from __future__ import annotations

import json
import sys
import time
from typing import Any

import pytest
import yaml
from lambda_support import (
    PROD_TEAM,
    SUITE_RELEASE,
    SUITE_URL,
    Catcher,
    FakeContext,
    assert_no_secret,
    configure_platform,
    load_event,
)

from mlops_suite.handlers import clone_repo
from mlops_suite.local.github_double import GitHubDouble

FULL_NAME = "my-org/churn-model"


def invoke(
    catcher: Catcher, name: str, *, seconds: float = 120.0, **changes: Any
) -> dict[str, Any]:
    """Run the Lambda entry point on a canned event and return the response CloudFormation got."""
    event = load_event(name)
    event["ResponseURL"] = catcher.url
    props = changes.pop("properties", None)
    if props is not None:
        event["ResourceProperties"] = props
    event.update(changes)
    before = len(catcher.responses)
    clone_repo.handler(event, FakeContext(seconds))
    responses = catcher.wait(before + 1)
    assert len(responses) == before + 1, "exactly one response per request"
    return responses[-1]


def create_props(**changes: Any) -> dict[str, Any]:
    props: dict[str, Any] = load_event("clone-repo-create")["ResourceProperties"]
    props.update(changes)
    return {k: v for k, v in props.items() if v is not None}


def test_create_publishes_the_rendered_repo(
    platform: GitHubDouble, catcher: Catcher, logs: pytest.LogCaptureFixture
) -> None:
    resp = invoke(catcher, "clone-repo-create")

    assert resp["Status"] == "SUCCESS", resp["Reason"]
    assert resp["PhysicalResourceId"] == FULL_NAME
    repo = platform.repos[FULL_NAME]
    assert resp["Data"] == {
        "FullName": FULL_NAME,
        "Name": "churn-model",
        "RepoUrl": f"{platform.url}/{FULL_NAME}",
        "CloneUrl": platform.clone_url(FULL_NAME),
        "DefaultBranch": "main",
        "OidcSubjectPrefix": f"repo:my-org@{platform.org_id('my-org')}/churn-model@{repo.id}",
    }
    assert resp["LogicalResourceId"] == "TrainingRepo"
    repo = platform.repos[FULL_NAME]
    assert repo.private
    assert repo.topics == ["mlops-suite", "p-abcdef012345"]
    assert repo.commit_count() == 1
    files = repo.files()
    answers = yaml.safe_load(files[".copier-answers.yml"])
    assert answers["_src_path"] == SUITE_URL
    assert answers["_commit"] == SUITE_RELEASE
    assert answers["project_name"] == "churn-model"
    assert answers["github_org"] == "my-org"  # defaulted from the platform's SSM parameter
    assert answers["model_auc_threshold"] == 0.8  # CloudFormation's string, cast by Copier
    assert "README.md" in files
    assert repo.variables == {
        "AWS_REGION": "eu-west-1",
        "SAGEMAKER_PROJECT_NAME": "churn-model",
        "SAGEMAKER_PROJECT_ID": "p-abcdef012345",
        "MODEL_PACKAGE_GROUP_NAME": "churn-model-p-abcdef012345",
        "ARTIFACT_BUCKET": "sagemaker-p-abcdef012345-111111111111-eu-west-1",
        "REPO_KIND": "model-training",
    }
    assert repo.environment_variables["prod"] == {
        "AWS_ACCOUNT_ID": "333333333333",
        "AWS_ROLE_ARN": "arn:aws:iam::333333333333:role/mlops-suite-p-abcdef012345-github-prod",
    }
    assert repo.environment_variables["preprod"]["AWS_ACCOUNT_ID"] == "222222222222"
    prod, preprod, dev = (repo.environments[e] for e in ("prod", "preprod", "dev"))
    assert prod["reviewers"] == [{"type": "Team", "id": platform.teams[("my-org", PROD_TEAM)]}]
    assert prod["prevent_self_review"] is True
    assert preprod["reviewers"] == [{"type": "Team", "id": platform.teams[("my-org", "ml-team")]}]
    assert "reviewers" not in dev
    for env in (prod, preprod, dev):
        assert env["deployment_branch_policy"]["protected_branches"] is True
    protection = repo.protection["main"]
    assert protection["allow_force_pushes"] is False
    assert protection["enforce_admins"] is True
    assert protection["required_pull_request_reviews"]["required_approving_review_count"] >= 1
    # The token: never in a log line, the response, a pushed file or a URL the double saw.
    pushed = "\n".join(v.decode("utf-8", "replace") for v in files.values())
    assert_no_secret(platform, logs.text, json.dumps(resp), pushed)
    assert_no_secret(platform, *(f"{c.method} {c.path}" for c in platform.calls))
    # The App's JWT only buys the installation token; everything else, git included, uses that
    # token in an Authorization header (the double records "token" only for a valid header).
    app_calls = {"/orgs/my-org/installation", "/app/installations/4242/access_tokens"}
    assert {c.auth for c in platform.calls if c.path in app_calls} == {"app"}
    assert {c.auth for c in platform.calls if c.path not in app_calls} == {"token"}
    assert any(c.path.endswith("/git-receive-pack") for c in platform.calls)
    assert catcher.headers[-1].get("Content-Type", "") == ""


def test_retried_create_resumes_a_repo_it_made(platform: GitHubDouble, catcher: Catcher) -> None:
    platform.add_repo("my-org", "churn-model", topics=["mlops-suite", "p-abcdef012345"])

    resp = invoke(catcher, "clone-repo-create")

    assert resp["Status"] == "SUCCESS", resp["Reason"]
    assert "resumed" in resp["Reason"]
    repo = platform.repos[FULL_NAME]
    assert repo.branches() == ["main"]
    assert "prod" in repo.environments
    assert not platform.calls_to("POST", r"/orgs/my-org/repos")


def test_create_refuses_a_repo_that_exists_and_is_not_ours(
    platform: GitHubDouble, catcher: Catcher
) -> None:
    platform.add_repo("my-org", "churn-model", topics=["something-else"])

    resp = invoke(catcher, "clone-repo-create")

    assert resp["Status"] == "FAILED"
    assert (
        "my-org/churn-model already exists and was not created for this project" in resp["Reason"]
    )
    assert resp["PhysicalResourceId"] != FULL_NAME  # so the rollback Delete cannot touch it
    repo = platform.repos[FULL_NAME]
    assert repo.branches() == []
    assert repo.topics == ["something-else"]
    assert not repo.variables


def test_create_when_the_name_is_taken_between_lookup_and_create(
    platform: GitHubDouble, catcher: Catcher
) -> None:
    # GitHub answers 422 "name already exists on this account"; nothing of ours is left.
    platform.fail("POST", r"/orgs/my-org/repos", status=422, message="Repository creation failed.")
    resp = invoke(catcher, "clone-repo-create")
    assert resp["Status"] == "FAILED"
    assert "create my-org/churn-model failed (HTTP 422)" in resp["Reason"]
    assert FULL_NAME not in platform.repos


def test_server_errors_are_retried(platform: GitHubDouble, catcher: Catcher) -> None:
    platform.fail("POST", r"/orgs/my-org/repos", status=502, times=2)
    platform.fail("PUT", r".*/environments/prod", status=503)
    platform.drop("PUT", r".*/topics")

    resp = invoke(catcher, "clone-repo-create")

    assert resp["Status"] == "SUCCESS", resp["Reason"]
    assert [c.status for c in platform.calls_to("POST", r"/orgs/my-org/repos")] == [502, 502, 201]
    assert [c.status for c in platform.calls_to("PUT", r".*/topics")] == [0, 200]
    assert platform.repos[FULL_NAME].environments["prod"]["prevent_self_review"] is True


@pytest.mark.parametrize("secondary", [False, True], ids=["primary", "secondary"])
def test_rate_limits_wait_for_the_reset(
    platform: GitHubDouble, catcher: Catcher, secondary: bool
) -> None:
    platform.rate_limit("PUT", r".*/environments/.*", reset_in=1, secondary=secondary)

    resp = invoke(catcher, "clone-repo-create")

    assert resp["Status"] == "SUCCESS", resp["Reason"]
    statuses = [c.status for c in platform.calls_to("PUT", r".*/environments/dev")]
    assert statuses == [403, 200]


def test_permanent_403_fails_and_rolls_back(platform: GitHubDouble, catcher: Catcher) -> None:
    platform.fail(
        "PUT", r".*/branches/main/protection", status=403, times=99,
        message="Resource not accessible by integration",
    )  # fmt: skip

    resp = invoke(catcher, "clone-repo-create")

    assert resp["Status"] == "FAILED"
    assert "protect branch main failed (HTTP 403)" in resp["Reason"]
    assert "Resource not accessible by integration" in resp["Reason"]
    assert "half-made repository my-org/churn-model was deleted again" in resp["Reason"]
    assert FULL_NAME not in platform.repos
    assert len(platform.calls_to("PUT", r".*/protection")) == 1  # a 403 is not retried
    assert resp["PhysicalResourceId"].startswith("failed-TrainingRepo-")


def test_timeout_near_the_deadline_answers_first_and_rolls_back(
    platform: GitHubDouble, catcher: Catcher, logs: pytest.LogCaptureFixture
) -> None:
    # Margin 2 s (fixture), 6 s left: the timer answers at ~4 s (render and push take about
    # 2-3 s on a loaded machine), while the environment call hangs for 5 s; the flow then stops
    # at its next step and deletes what it made.
    platform.delay("PUT", r".*/environments/dev", seconds=5)
    event = load_event("clone-repo-create")
    event["ResponseURL"] = catcher.url
    context = FakeContext(6.0)

    clone_repo.handler(event, context)

    assert len(catcher.responses) == 1
    resp = catcher.responses[0]
    assert resp["Status"] == "FAILED"
    assert "timed out during Create while at step 'environment dev'" in resp["Reason"]
    assert catcher.arrival[0] < context.deadline - 1.0
    assert FULL_NAME not in platform.repos
    assert "response already sent" in logs.text


def test_bad_properties_fail_with_copiers_message(platform: GitHubDouble, catcher: Catcher) -> None:
    resp = invoke(catcher, "clone-repo-create-bad-properties")

    assert resp["Status"] == "FAILED"
    assert 'Invalid project name "Churn_Model!"' in resp["Reason"]
    assert "e.g. churn-model" in resp["Reason"]
    assert not platform.repos
    assert not platform.calls_to("POST", r"/orgs/.*/repos")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"color": "blue"}, "unknown properties ['color']"),
        ({"module_name": "x"}, "module_name is derived from other answers"),
        ({"github_org": "other-org"}, 'github_org "other-org" is not the organisation'),
        ({"repo_name": "bad name"}, 'repo_name "bad name" is not a valid'),
        ({"archive_on_delete": "maybe"}, 'archive_on_delete is "maybe"'),
        ({"dev_account_id": "12345"}, 'Invalid dev account id "12345"'),
        ({"owner": None}, 'Question "owner" is required'),
    ],
)
def test_invalid_properties_name_the_value_and_the_fix(
    platform: GitHubDouble, catcher: Catcher, changes: dict[str, Any], message: str
) -> None:
    resp = invoke(catcher, "clone-repo-create", properties=create_props(**changes))
    assert resp["Status"] == "FAILED"
    assert message in resp["Reason"]
    assert not platform.repos


def test_repo_kind_alias_and_explicit_repo_name(platform: GitHubDouble, catcher: Catcher) -> None:
    props = create_props(repo_kind=None, RepoKind="model-training", repo_name="churn-training")
    resp = invoke(catcher, "clone-repo-create", properties=props)
    assert resp["Status"] == "SUCCESS", resp["Reason"]
    assert resp["PhysicalResourceId"] == "my-org/churn-training"


def test_personal_access_token_fallback(
    aws: None,
    double: GitHubDouble,
    template_tree: Any,
    catcher: Catcher,
    monkeypatch: pytest.MonkeyPatch,
    logs: pytest.LogCaptureFixture,
) -> None:
    configure_platform(double, app=False)
    monkeypatch.setenv("MLOPS_SUITE_GITHUB_API_URL", double.url)
    monkeypatch.setenv("MLOPS_SUITE_TEMPLATE_DIR", str(template_tree))

    resp = invoke(catcher, "clone-repo-create")

    assert resp["Status"] == "SUCCESS", resp["Reason"]
    assert {c.auth for c in double.calls} == {"token"}
    assert_no_secret(double, logs.text, json.dumps(resp))


def test_missing_configuration_is_named(
    aws: None,
    double: GitHubDouble,
    template_tree: Any,
    catcher: Catcher,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    configure_platform(double, skip=("suite_release",))
    monkeypatch.setenv("MLOPS_SUITE_TEMPLATE_DIR", str(template_tree))
    resp = invoke(catcher, "clone-repo-create")
    assert resp["Status"] == "FAILED"
    assert "SSM parameters ['/mlops-suite/suite/release'] are missing" in resp["Reason"]


def test_update_reapplies_settings_without_a_second_repo(
    platform: GitHubDouble, catcher: Catcher
) -> None:
    assert invoke(catcher, "clone-repo-create")["Status"] == "SUCCESS"
    platform.repos[FULL_NAME].variables["AWS_REGION"] = "tampered"

    resp = invoke(catcher, "clone-repo-update")

    assert resp["Status"] == "SUCCESS", resp["Reason"]
    assert resp["PhysicalResourceId"] == FULL_NAME
    repo = platform.repos[FULL_NAME]
    assert repo.variables["AWS_REGION"] == "eu-central-1"
    assert repo.environment_variables["prod"]["AWS_ACCOUNT_ID"] == "444444444444"
    assert repo.commit_count() == 1  # the code is the team's now: no re-render, no push
    assert len(platform.calls_to("POST", r"/orgs/my-org/repos")) == 1


def test_update_refuses_a_rename(platform: GitHubDouble, catcher: Catcher) -> None:
    props = create_props(repo_name="churn-renamed")
    resp = invoke(catcher, "clone-repo-update", properties=props)
    assert resp["Status"] == "FAILED"
    assert "renaming is not supported" in resp["Reason"]
    assert resp["PhysicalResourceId"] == FULL_NAME  # kept, so CloudFormation does not replace it


def test_update_with_bad_properties_keeps_the_physical_id(
    platform: GitHubDouble, catcher: Catcher
) -> None:
    resp = invoke(catcher, "clone-repo-update", properties=create_props(owner="Not A Team"))
    assert resp["Status"] == "FAILED"
    assert 'Invalid owner "Not A Team"' in resp["Reason"]
    assert resp["PhysicalResourceId"] == FULL_NAME


def test_delete_of_a_missing_repo_succeeds(platform: GitHubDouble, catcher: Catcher) -> None:
    resp = invoke(catcher, "clone-repo-delete")
    assert resp["Status"] == "SUCCESS"
    assert resp["Reason"] == "my-org/churn-model is already gone"
    assert resp["PhysicalResourceId"] == FULL_NAME


def test_delete_archives_only_when_asked_and_never_deletes(
    platform: GitHubDouble, catcher: Catcher
) -> None:
    assert invoke(catcher, "clone-repo-create")["Status"] == "SUCCESS"
    keep = create_props()
    resp = invoke(catcher, "clone-repo-delete", properties=keep)
    assert resp["Status"] == "SUCCESS"
    assert "left my-org/churn-model in place" in resp["Reason"]
    assert not platform.repos[FULL_NAME].archived

    resp = invoke(catcher, "clone-repo-delete")  # archive_on_delete: "true"
    assert resp["Status"] == "SUCCESS"
    assert resp["Reason"] == "archived my-org/churn-model"
    assert platform.repos[FULL_NAME].archived
    assert platform.repos[FULL_NAME].files()  # code still there
    assert invoke(catcher, "clone-repo-delete")["Status"] == "SUCCESS"  # idempotent
    assert not platform.calls_to("DELETE", r"/repos/.*")


def test_delete_leaves_a_repo_that_is_not_ours(platform: GitHubDouble, catcher: Catcher) -> None:
    platform.add_repo("my-org", "churn-model")
    resp = invoke(catcher, "clone-repo-delete")
    assert resp["Status"] == "SUCCESS"
    assert "not created by this project" in resp["Reason"]
    assert not platform.repos[FULL_NAME].archived


def test_delete_after_a_failed_create_touches_nothing(
    platform: GitHubDouble, catcher: Catcher
) -> None:
    resp = invoke(
        catcher, "clone-repo-delete", PhysicalResourceId="failed-TrainingRepo-e2f1b3c4",
        properties=create_props(project_name="Churn_Model!"),
    )  # fmt: skip
    assert resp["Status"] == "SUCCESS"
    assert not platform.calls


def test_delete_when_github_is_down_still_succeeds_by_default(aws: None, catcher: Catcher) -> None:
    # No SSM parameters, no GitHub: the default Delete needs neither.
    resp = invoke(catcher, "clone-repo-delete", properties=create_props())
    assert resp["Status"] == "SUCCESS"


def test_failure_at_import_still_answers(catcher: Catcher, monkeypatch: pytest.MonkeyPatch) -> None:
    import mlops_suite.handlers

    monkeypatch.delattr(mlops_suite.handlers, "clone_repo_flow", raising=False)
    monkeypatch.setitem(sys.modules, "mlops_suite.handlers.clone_repo_flow", None)
    resp = invoke(catcher, "clone-repo-create")
    assert resp["Status"] == "FAILED"
    assert resp["Reason"].startswith("the Lambda failed to initialise (ModuleNotFoundError")
    assert resp["PhysicalResourceId"].startswith("failed-TrainingRepo-")


def test_unexpected_exception_still_answers(
    platform: GitHubDouble, catcher: Catcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mlops_suite.handlers import clone_repo_flow

    def boom(*args: Any, **kwargs: Any) -> None:
        raise KeyError("sagemaker_project_id")

    monkeypatch.setattr(clone_repo_flow, "repo_spec", boom)
    resp = invoke(catcher, "clone-repo-create")
    assert resp["Status"] == "FAILED"
    assert "sagemaker_project_id" in resp["Reason"]
    assert not platform.repos


def test_malformed_events_are_answered_when_possible(catcher: Catcher) -> None:
    event = load_event("clone-repo-create")
    event["ResponseURL"] = catcher.url
    del event["StackId"]
    clone_repo.handler(event, FakeContext())
    assert catcher.wait(1)[0]["Status"] == "FAILED"
    assert "missing ['StackId']" in catcher.responses[0]["Reason"]
    # Without a ResponseURL nobody can be answered; the handler must still not raise.
    clone_repo.handler({"RequestType": "Create"}, FakeContext())
    time.sleep(0.1)
    assert len(catcher.responses) == 1
