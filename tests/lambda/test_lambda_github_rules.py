"""The clone-repo Lambda against the rules GitHub enforces, as the double enforces them.

GitHub drops environment reviewers without repository access, refuses an App's push of workflow
files without Workflows: write, answers 403 for a missing installation permission, and mints
OIDC subjects from immutable ids; each test here failed on a double that did none of that.
"""

from __future__ import annotations

import re
from pathlib import Path

import boto3
import httpx
import pytest
from lambda_support import PROD_TEAM, REGION, Catcher, load_event
from test_lambda_clone_repo import FULL_NAME, invoke

from mlops_suite import names
from mlops_suite.github.client import Credentials, GitHubClient
from mlops_suite.github.publish import REQUIRED_PERMISSIONS, PublishError, RepoSpec, publish
from mlops_suite.handlers import model_approval
from mlops_suite.local.github_double import APP_PERMISSIONS, GitHubDouble, routes

DOCS = Path(__file__).resolve().parents[2] / "docs" / "lambda.md"


def documented_permissions() -> dict[str, str]:
    """The App permissions docs/lambda.md lists, from its permissions table."""
    text = DOCS.read_text(encoding="utf-8")
    section = text.split("### GitHub App permissions", 1)[1].split("\n#", 1)[0]
    rows = re.findall(r"^\| `(\w+)` \| (read|write) \|", section, flags=re.MULTILINE)
    return dict(rows)


# --- reviewers need repository access ---------------------------------------------------------


def test_reviewer_and_owner_teams_get_access_before_environments(
    platform: GitHubDouble, catcher: Catcher
) -> None:
    resp = invoke(catcher, "clone-repo-create")

    assert resp["Status"] == "SUCCESS", resp["Reason"]
    assert platform.team("my-org", PROD_TEAM).repos == {FULL_NAME: "pull"}
    assert platform.team("my-org", "ml-team").repos == {FULL_NAME: "maintain"}
    prod = platform.repos[FULL_NAME].environments["prod"]
    assert prod["reviewers"] == [{"type": "Team", "id": platform.teams[("my-org", PROD_TEAM)]}]
    grants = [i for i, c in enumerate(platform.calls) if "/teams/" in c.path and c.method == "PUT"]
    envs = [i for i, c in enumerate(platform.calls) if "/environments/" in c.path]
    assert max(grants) < min(envs)


def test_a_reviewer_github_dropped_fails_create_and_rolls_back(
    platform: GitHubDouble, catcher: Catcher
) -> None:
    # GitHub accepts the grant and ignores it (as for a team it will not give access):
    # the environment then comes back without its required reviewer.
    platform.fail("PUT", rf"/orgs/my-org/teams/{PROD_TEAM}/repos/.*", status=204, times=9)

    resp = invoke(catcher, "clone-repo-create")

    assert resp["Status"] == "FAILED"
    assert f"environment prod of {FULL_NAME} lacks its required reviewer team" in resp["Reason"]
    assert PROD_TEAM in resp["Reason"]
    assert "was deleted again" in resp["Reason"]
    assert FULL_NAME not in platform.repos


def test_the_double_drops_reviewers_without_access(double: GitHubDouble) -> None:
    client = GitHubClient(double.token, base_url=double.url)
    double.add_repo("my-org", "r")
    other = double.add_team("other-org", "outsiders")
    client.put_environment(
        "my-org", "r", "prod", reviewer_team_ids=[other], prevent_self_review=True
    )
    rules = client.get_environment("my-org", "r", "prod")["protection_rules"]
    assert [r["type"] for r in rules] == ["branch_policy"]  # no required_reviewers rule


# --- App permissions --------------------------------------------------------------------------


@pytest.mark.parametrize("missing", ["workflows", "administration"])
def test_create_without_a_permission_names_it_and_leaves_nothing(
    platform: GitHubDouble, catcher: Catcher, missing: str
) -> None:
    del platform.installation_permissions[missing]

    resp = invoke(catcher, "clone-repo-create")

    assert resp["Status"] == "FAILED"
    assert f"lacks the permissions {missing}: write" in resp["Reason"]
    assert not platform.repos
    assert not platform.calls_to("POST", r"/orgs/my-org/repos")


def _app_token(gh: GitHubDouble) -> str:
    access = Credentials(app_id=gh.app_id, private_key=gh.app_private_key_pem).access_for(
        "my-org", base_url=gh.url
    )
    return access.token


def test_a_push_of_workflows_needs_the_workflows_permission(
    double: GitHubDouble, tmp_path: Path
) -> None:
    # Even past the Lambda's own check, GitHub refuses the push; publish rolls back.
    del double.installation_permissions["workflows"]
    token = _app_token(double)
    tree = tmp_path / "tree"
    (tree / ".github" / "workflows").mkdir(parents=True)
    (tree / ".github" / "workflows" / "ci.yml").write_text("on: push\n", encoding="utf-8")
    (tree / "README.md").write_text("# r\n", encoding="utf-8")
    spec = RepoSpec("my-org", "r", "d", ("mlops-suite", "p-abcdef012345"))

    with (
        GitHubClient(token, base_url=double.url) as client,
        pytest.raises(PublishError, match="without `workflows` permission") as caught,
    ):
        publish(client, spec, tree, token, message="m", author="a <a@example.com>")

    assert "without `workflows` permission" in str(caught.value)
    assert ".github/workflows/ci.yml" in str(caught.value)
    assert "was deleted again" in " ".join(getattr(caught.value, "__notes__", []))
    assert "my-org/r" not in double.repos


@pytest.mark.parametrize("route", [r for r in routes.served_by() if r.needs], ids=lambda r: r.name)
def test_each_endpoint_requires_its_permission(double: GitHubDouble, route: routes.Route) -> None:
    name, level = route.needs[-1]
    double.installation_permissions.pop(name)
    token = _app_token(double)
    path = re.sub(
        r"\(\?P<(\w+)>[^)]*\)",
        lambda m: "my-org" if m.group(1) in ("owner", "org") else "x",
        route.pattern.pattern,
    )

    resp = httpx.request(
        route.method, double.url + path, headers={"Authorization": f"Bearer {token}"}
    )

    assert resp.status_code == 403
    assert resp.json()["message"] == "Resource not accessible by integration"
    assert resp.headers["x-accepted-github-permissions"] == f"{name}={level}"


def test_documented_permissions_are_exactly_what_the_lambdas_needed(
    platform: GitHubDouble, catcher: Catcher
) -> None:
    # A full Create, Update, Delete (archiving) and a dispatch, all with an App installation.
    assert invoke(catcher, "clone-repo-create")["Status"] == "SUCCESS"
    update = invoke(catcher, "clone-repo-update", PhysicalResourceId=FULL_NAME)
    assert update["Status"] == "SUCCESS", update["Reason"]
    props = {**load_event("clone-repo-delete")["ResourceProperties"], "archive_on_delete": "true"}
    delete = invoke(
        catcher, "clone-repo-delete", PhysicalResourceId=FULL_NAME, ResourceProperties=props
    )
    assert delete["Status"] == "SUCCESS", delete["Reason"]
    platform.repos[FULL_NAME].archived = False  # dispatch to a live repository
    group = "churn-model-p-abcdef012345"
    sagemaker = boto3.client("sagemaker", REGION)
    arn = sagemaker.create_model_package_group(ModelPackageGroupName=group)["ModelPackageGroupArn"]
    sagemaker.add_tags(
        ResourceArn=arn, Tags=[{"Key": names.tag_key("project_id"), "Value": "p-abcdef012345"}]
    )
    ssm = boto3.client("ssm", REGION)
    ssm.put_parameter(
        Name=names.pattern("project_deploy_repo_parameter", project_id="p-abcdef012345"),
        Value=FULL_NAME,
        Type="String",
    )
    ssm.put_parameter(
        Name=names.ssm_parameter("dev_account_id"), Value="111111111111", Type="String"
    )
    result = model_approval.handler(load_event("model-package-approved"), None)
    assert result["status"] == "dispatched", result

    used = {}
    for perm, level in platform.permissions_used:
        if level == "write" or perm not in used:
            used[perm] = level
    assert not platform.permissions_denied
    assert used == documented_permissions() == REQUIRED_PERMISSIONS == APP_PERMISSIONS


# --- OIDC subjects ----------------------------------------------------------------------------


def test_the_reported_subject_prefix_is_what_github_mints(
    platform: GitHubDouble, catcher: Catcher
) -> None:
    resp = invoke(catcher, "clone-repo-create")
    prefix = resp["Data"]["OidcSubjectPrefix"]
    repo = platform.repos[FULL_NAME]

    assert prefix == f"repo:my-org@{repo.owner_id}/churn-model@{repo.id}"
    claims = platform.mint_oidc_claims(FULL_NAME, environment="prod")
    assert claims["sub"] == f"{prefix}:environment:prod"
    assert claims["repository_id"] == str(repo.id)
    assert claims["repository_owner_id"] == str(platform.org_id("my-org"))


def test_the_name_only_setting_sets_githubs_subject_customization(
    platform: GitHubDouble, catcher: Catcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLOPS_SUITE_GITHUB_OIDC_SUBJECT_FORMAT", "name")
    resp = invoke(catcher, "clone-repo-create")
    assert resp["Status"] == "FAILED"
    assert "lacks the permissions actions: write" in resp["Reason"]

    platform.installation_permissions["actions"] = "write"
    resp = invoke(catcher, "clone-repo-create")

    assert resp["Status"] == "SUCCESS", resp["Reason"]
    assert ("actions", "write") in platform.permissions_used
    assert resp["Data"]["OidcSubjectPrefix"] == "repo:my-org/churn-model"
    assert platform.repos[FULL_NAME].oidc_sub == {
        "use_default": False,
        "include_claim_keys": ["repo", "context"],
    }
    sub = platform.mint_oidc_claims(FULL_NAME, environment="dev")["sub"]
    assert sub == "repo:my-org/churn-model:environment:dev"


def test_a_recreated_repository_has_a_new_id_and_names_are_case_insensitive(
    double: GitHubDouble,
) -> None:
    first = double.add_repo("my-org", "r")
    client = GitHubClient(double.token, base_url=double.url)
    assert client.get_repo("MY-ORG", "R")["id"] == first.id  # type: ignore[index]
    client.delete_repo("my-org", "r")
    again = client.create_org_repo("My-Org", "r", "d")

    assert again["id"] != first.id
    assert again["owner"]["id"] == first.owner_id == double.org_id("my-org")
    assert again["owner"]["login"] == "my-org"
    old = double.mint_oidc_claims("my-org/r", sub_format="immutable")["sub"]
    assert f"@{again['id']}:" in old
    assert f"@{first.id}:" not in old


def test_a_renamed_repository_keeps_its_id_and_mints_its_new_name(double: GitHubDouble) -> None:
    repo = double.add_repo("my-org", "old-name")
    client = GitHubClient(double.token, base_url=double.url)
    renamed = client.call("PATCH", "repos/my-org/old-name", "rename", {"name": "new-name"})

    assert renamed["id"] == repo.id
    assert client.get_repo("my-org", "old-name") is None
    claims = double.mint_oidc_claims("my-org/new-name", environment="dev")
    assert claims["sub"] == f"repo:my-org@{repo.owner_id}/new-name@{repo.id}:environment:dev"
    pr = double.mint_oidc_claims("my-org/new-name", event_name="pull_request", sub_format="name")
    assert pr["sub"] == "repo:my-org/new-name:pull_request"
