"""Repository settings: branch protection, environments and Actions variables."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from mlops_suite.local.github_double import bodies
from mlops_suite.local.github_double.model import DoubleRepo, error, validation
from mlops_suite.local.github_double.routes import REPO_PATH, route

if TYPE_CHECKING:
    from mlops_suite.local.github_double.server import GitHubDouble

ENV = rf"{REPO_PATH}/environments/(?P<env>[^/]+)"
VARIABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@route("PUT", rf"{REPO_PATH}/branches/(?P<branch>[^/]+)/protection", "administration:write")
def protect_branch(
    gh: GitHubDouble, body: dict[str, Any], owner: str, repo: str, branch: str
) -> tuple[int, Any]:
    r = gh.repo(owner, repo, write=True)
    required = (
        "required_status_checks",
        "enforce_admins",
        "required_pull_request_reviews",
        "restrictions",
    )
    missing = [k for k in required if k not in body]
    if missing:
        raise validation("Invalid request.", *(f"{k} wasn't supplied." for k in missing))
    if branch not in r.branches():
        raise error(404, "Branch not found")
    r.protection[branch] = body
    return 200, {"url": f"{gh.url}/repos/{r.full_name}/branches/{branch}/protection"}


@route("PUT", ENV, "administration:write")
def put_environment(
    gh: GitHubDouble, body: dict[str, Any], owner: str, repo: str, env: str
) -> tuple[int, Any]:
    r = gh.repo(owner, repo, write=True)
    reviewers = body.get("reviewers") or []
    if len(reviewers) > 6:
        raise validation("Invalid request.", "A maximum of 6 reviewers is allowed.")
    kept = []
    for reviewer in reviewers:
        if reviewer.get("type") != "Team" or not isinstance(reviewer.get("id"), int):
            raise validation("Invalid request.", f"Invalid reviewer: {reviewer}")
        team = gh.team_by_id(reviewer["id"])
        # GitHub drops, without an error, a reviewer that cannot access the repository.
        if r.full_name.lower() in team.repos:
            kept.append({"type": "Team", "id": team.id})
    settings = {**body, "reviewers": kept}
    if not kept:
        settings.pop("reviewers")
        settings.pop("prevent_self_review", None)
    r.environments[env] = settings
    r.environment_ids.setdefault(env, gh.next_id())
    r.environment_variables.setdefault(env, {})
    return 200, bodies.environment(gh, r, env)


@route("GET", ENV, "actions:read")
def get_environment(
    gh: GitHubDouble, body: dict[str, Any], owner: str, repo: str, env: str
) -> tuple[int, Any]:
    r = gh.repo(owner, repo)
    if env not in r.environments:
        raise error(404, "Not Found")
    return 200, bodies.environment(gh, r, env)


def _variables(r: DoubleRepo, env: str | None) -> dict[str, str]:
    if env is None:
        return r.variables
    if env not in r.environments:
        raise error(404, "Not Found")
    return r.environment_variables[env]


def _create(gh: GitHubDouble, body: dict[str, Any], r: DoubleRepo, env: str | None) -> None:
    store = _variables(r, env)
    name, value = body.get("name"), body.get("value")
    if not isinstance(name, str) or not isinstance(value, str):
        raise validation("Invalid request.", "name and value are required.")
    if not VARIABLE.fullmatch(name) or name.upper().startswith("GITHUB_"):
        raise validation("Invalid request.", f"Invalid variable name: {name}")
    if name.upper() in store:
        raise error(409, "Already exists - Variable already exists")
    store[name.upper()] = value


def _update(body: dict[str, Any], r: DoubleRepo, name: str, env: str | None) -> None:
    store = _variables(r, env)
    if name.upper() not in store:
        raise error(404, "Not Found")
    store[name.upper()] = str(body.get("value", store[name.upper()]))


@route("POST", rf"{REPO_PATH}/actions/variables", "variables:write")
def create_variable(
    gh: GitHubDouble, body: dict[str, Any], owner: str, repo: str
) -> tuple[int, Any]:
    _create(gh, body, gh.repo(owner, repo, write=True), None)
    return 201, {}


@route("PATCH", rf"{REPO_PATH}/actions/variables/(?P<name>[^/]+)", "variables:write")
def update_variable(
    gh: GitHubDouble, body: dict[str, Any], owner: str, repo: str, name: str
) -> tuple[int, Any]:
    _update(body, gh.repo(owner, repo, write=True), name, None)
    return 204, None


@route("POST", rf"{ENV}/variables", "environments:write")
def create_environment_variable(
    gh: GitHubDouble, body: dict[str, Any], owner: str, repo: str, env: str
) -> tuple[int, Any]:
    _create(gh, body, gh.repo(owner, repo, write=True), env)
    return 201, {}


@route("PATCH", rf"{ENV}/variables/(?P<name>[^/]+)", "environments:write")
def update_environment_variable(
    gh: GitHubDouble, body: dict[str, Any], owner: str, repo: str, env: str, name: str
) -> tuple[int, Any]:
    _update(body, gh.repo(owner, repo, write=True), name, env)
    return 204, None
