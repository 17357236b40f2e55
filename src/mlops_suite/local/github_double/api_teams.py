"""Team endpoints: look a team up, give it access to a repository."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mlops_suite.local.github_double import bodies
from mlops_suite.local.github_double.model import validation
from mlops_suite.local.github_double.routes import OWNER, REPO, route

if TYPE_CHECKING:
    from mlops_suite.local.github_double.server import GitHubDouble

TEAM = r"/orgs/(?P<org>[^/]+)/teams/(?P<slug>[^/]+)"
PERMISSIONS = ("pull", "triage", "push", "maintain", "admin")


@route("GET", TEAM, "members:read")
def get_team(gh: GitHubDouble, body: dict[str, Any], org: str, slug: str) -> tuple[int, Any]:
    return 200, bodies.team(gh, gh.team(org, slug))


@route("PUT", rf"{TEAM}/repos/{OWNER}/{REPO}", "members:read", "administration:write")
def add_team_repo(
    gh: GitHubDouble, body: dict[str, Any], org: str, slug: str, owner: str, repo: str
) -> tuple[int, Any]:
    team = gh.team(org, slug)
    r = gh.repo(owner, repo)
    if r.owner.lower() != team.org.lower():
        raise validation(
            "Validation Failed",
            {
                "resource": "TeamRepository",
                "code": "custom",
                "field": "repo",
                "message": "The repository is not owned by the team's organization.",
            },
        )
    permission = body.get("permission", "pull")
    if permission not in PERMISSIONS:
        raise validation("Validation Failed", f"{permission} is not a valid permission.")
    team.repos[r.full_name.lower()] = permission
    return 204, None
