"""Repository endpoints: get, create, update (archive), delete, topics, repository_dispatch."""

from __future__ import annotations

import re
import shutil
from typing import TYPE_CHECKING, Any

from mlops_suite.local.github_double import bodies
from mlops_suite.local.github_double.model import error, timestamp, validation
from mlops_suite.local.github_double.routes import REPO_PATH, route

if TYPE_CHECKING:
    from mlops_suite.local.github_double.server import GitHubDouble

NAME = re.compile(r"[A-Za-z0-9._-]{1,100}")
TOPIC = re.compile(r"[a-z0-9][a-z0-9-]{0,49}")


@route("GET", REPO_PATH, "metadata:read")
def get_repo(gh: GitHubDouble, body: dict[str, Any], owner: str, repo: str) -> tuple[int, Any]:
    return 200, bodies.repository(gh, gh.repo(owner, repo))


@route("PATCH", REPO_PATH, "administration:write")
def update_repo(gh: GitHubDouble, body: dict[str, Any], owner: str, repo: str) -> tuple[int, Any]:
    r = gh.repo(owner, repo)
    if r.archived and body.get("archived") is not False:
        raise error(403, "Repository was archived so is read-only.")
    if "archived" in body:
        r.archived = bool(body["archived"])
    if "description" in body:
        r.description = str(body["description"])
    new_name = body.get("name")
    if isinstance(new_name, str) and new_name != r.name:
        _rename(gh, r, new_name)
    r.updated_at = timestamp()
    return 200, bodies.repository(gh, r)


def _rename(gh: GitHubDouble, r: Any, new_name: str) -> None:
    """Rename keeping the id, as GitHub does (so an immutable OIDC subject changes name only)."""
    if not NAME.fullmatch(new_name) or f"{r.owner}/{new_name}" in gh.repos:
        raise validation(
            "Validation Failed",
            {"resource": "Repository", "code": "custom", "field": "name",
             "message": "name already exists on this account"},
        )  # fmt: skip
    old = r.full_name.lower()
    del gh.repos[r.full_name]
    r.name = new_name
    gh.repos[r.full_name] = r
    for team in gh.team_list():
        if old in team.repos:
            team.repos[r.full_name.lower()] = team.repos.pop(old)


@route("DELETE", REPO_PATH, "administration:write")
def delete_repo(gh: GitHubDouble, body: dict[str, Any], owner: str, repo: str) -> tuple[int, Any]:
    r = gh.repo(owner, repo)
    shutil.rmtree(r.git_dir, ignore_errors=True)
    del gh.repos[r.full_name]
    for team in gh.team_list():
        team.repos.pop(r.full_name.lower(), None)
    return 204, None


@route("POST", r"/orgs/(?P<org>[^/]+)/repos", "administration:write")
def create_repo(gh: GitHubDouble, body: dict[str, Any], org: str) -> tuple[int, Any]:
    if org not in gh.org_logins:
        raise error(404, "Not Found")
    login = gh.org_logins[org]
    name = body.get("name")
    if not isinstance(name, str) or not NAME.fullmatch(name):
        raise validation(
            "Repository creation failed.",
            {"resource": "Repository", "code": "missing_field", "field": "name"},
        )
    if f"{login}/{name}" in gh.repos:
        raise validation(
            "Repository creation failed.",
            {
                "resource": "Repository",
                "code": "custom",
                "field": "name",
                "message": "name already exists on this account",
            },
        )
    if body.get("visibility") not in (None, "private", "public", "internal"):
        raise validation("Repository creation failed.", "Visibility must be private or public.")
    r = gh.create_repo(login, name, str(body.get("description") or ""), [])
    r.private = bool(body.get("private", body.get("visibility", "public") != "public"))
    r.settings = {k: v for k, v in body.items() if k not in ("name", "description")}
    return 201, bodies.repository(gh, r)


@route("PUT", rf"{REPO_PATH}/topics", "administration:write")
def set_topics(gh: GitHubDouble, body: dict[str, Any], owner: str, repo: str) -> tuple[int, Any]:
    r = gh.repo(owner, repo, write=True)
    names = body.get("names")
    if not isinstance(names, list):
        raise validation("Invalid request.", {"code": "missing_field", "field": "names"})
    bad = [n for n in names if not isinstance(n, str) or not TOPIC.fullmatch(n)]
    if bad:
        # GitHub answers this one with plain-string errors.
        raise validation("Validation Failed", *(f"{n} is not a valid topic" for n in bad))
    r.topics = list(names)
    return 200, {"names": r.topics}


@route("POST", rf"{REPO_PATH}/dispatches", "contents:write")
def dispatch(gh: GitHubDouble, body: dict[str, Any], owner: str, repo: str) -> tuple[int, Any]:
    r = gh.repo(owner, repo, write=True)
    event_type = body.get("event_type")
    payload = body.get("client_payload", {})
    if not isinstance(event_type, str) or not 1 <= len(event_type) <= 100:
        raise validation("Invalid request.", "event_type wasn't supplied.")
    if not isinstance(payload, dict) or len(payload) > 10:
        raise validation(
            "Invalid request.",
            f"No more than 10 properties are allowed; {len(payload)} were supplied.",
        )
    r.dispatches.append({"event_type": event_type, "client_payload": payload})
    return 204, None
