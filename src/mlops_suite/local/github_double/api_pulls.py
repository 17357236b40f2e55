"""Pull requests and issues, as the generated workflows call them (update bot, drift report).

Bodies carry the fields the workflows read (number, state, title, body, head/base refs, labels,
html_url). List endpoints return every open item, newest first, as GitHub's default
`state=open` does; callers filter further.
"""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING, Any

from mlops_suite.local.github_double.model import error
from mlops_suite.local.github_double.routes import REPO_PATH, route

if TYPE_CHECKING:
    from mlops_suite.local.github_double.server import GitHubDouble


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _items(gh: GitHubDouble, kind: str, full_name: str) -> list[dict[str, Any]]:
    store: dict[str, list[dict[str, Any]]] = gh.__dict__.setdefault(f"_{kind}", {})
    return store.setdefault(full_name, [])


def _next_number(gh: GitHubDouble, full_name: str) -> int:
    # Pull requests and issues share one number sequence per repository, as on GitHub.
    return len(_items(gh, "pulls", full_name)) + len(_items(gh, "issues", full_name)) + 1


def _find(gh: GitHubDouble, kind: str, full_name: str, number: str) -> dict[str, Any]:
    for item in _items(gh, kind, full_name):
        if item["number"] == int(number):
            return item
    raise error(404, "Not Found")


@route("GET", rf"{REPO_PATH}/pulls", "pull_requests:read")
def list_pulls(gh: GitHubDouble, body: dict[str, Any], owner: str, repo: str) -> tuple[int, Any]:
    r = gh.repo(owner, repo)
    return 200, [p for p in reversed(_items(gh, "pulls", r.full_name)) if p["state"] == "open"]


@route("POST", rf"{REPO_PATH}/pulls", "pull_requests:write")
def create_pull(gh: GitHubDouble, body: dict[str, Any], owner: str, repo: str) -> tuple[int, Any]:
    r = gh.repo(owner, repo, write=True)
    head, base, title = body.get("head"), body.get("base"), body.get("title")
    if not all(isinstance(v, str) and v for v in (head, base, title)):
        raise error(422, "Invalid request.\n\nhead, base and title are required.")
    assert isinstance(head, str)
    head_ref = head.split(":", 1)[-1]
    branches = r.branches()
    errors = [
        {"resource": "PullRequest", "field": field, "code": "invalid"}
        for field, ref in (("head", head_ref), ("base", base))
        if ref not in branches
    ]
    if errors:
        raise error(422, "Validation Failed", errors=errors)
    for pull in _items(gh, "pulls", r.full_name):
        if pull["state"] == "open" and pull["head"]["ref"] == head_ref:
            message = f"A pull request already exists for {r.owner}:{head_ref}."
            raise error(
                422,
                "Validation Failed",
                errors=[{"resource": "PullRequest", "code": "custom", "message": message}],
            )
    number = _next_number(gh, r.full_name)
    pull = {
        "id": 50_000 + number,
        "number": number,
        "state": "open",
        "title": title,
        "body": body.get("body") or "",
        "draft": bool(body.get("draft", False)),
        "head": {"ref": head_ref, "label": f"{r.owner}:{head_ref}"},
        "base": {"ref": base, "label": f"{r.owner}:{base}"},
        "user": {"login": "github-actions[bot]"},
        "created_at": _now(),
        "updated_at": _now(),
        "html_url": f"{gh.url}/{r.full_name}/pull/{number}",
        "url": f"{gh.url}/repos/{r.full_name}/pulls/{number}",
    }
    _items(gh, "pulls", r.full_name).append(pull)
    return 201, pull


@route("PATCH", rf"{REPO_PATH}/pulls/(?P<number>\d+)", "pull_requests:write")
def update_pull(
    gh: GitHubDouble, body: dict[str, Any], owner: str, repo: str, number: str
) -> tuple[int, Any]:
    r = gh.repo(owner, repo, write=True)
    pull = _find(gh, "pulls", r.full_name, number)
    pull.update({k: body[k] for k in ("title", "body", "state") if k in body})
    pull["updated_at"] = _now()
    return 200, pull


@route("GET", rf"{REPO_PATH}/issues", "issues:read")
def list_issues(gh: GitHubDouble, body: dict[str, Any], owner: str, repo: str) -> tuple[int, Any]:
    r = gh.repo(owner, repo)
    found = [i for i in reversed(_items(gh, "issues", r.full_name)) if i["state"] == "open"]
    return 200, [{k: v for k, v in i.items() if k != "comments_list"} for i in found]


@route("POST", rf"{REPO_PATH}/issues", "issues:write")
def create_issue(gh: GitHubDouble, body: dict[str, Any], owner: str, repo: str) -> tuple[int, Any]:
    r = gh.repo(owner, repo, write=True)
    title = body.get("title")
    if not isinstance(title, str) or not title:
        raise error(422, "Invalid request.\n\ntitle wasn't supplied.")
    labels = body.get("labels") or []
    if not isinstance(labels, list) or not all(
        isinstance(n, str) and re.fullmatch(r"[^,]{1,50}", n) for n in labels
    ):
        raise error(422, "Validation Failed", errors=[{"field": "labels", "code": "invalid"}])
    number = _next_number(gh, r.full_name)
    issue = {
        "id": 60_000 + number,
        "number": number,
        "state": "open",
        "title": title,
        "body": body.get("body") or "",
        "labels": [{"name": n} for n in labels],
        "comments": 0,
        "comments_list": [],
        "created_at": _now(),
        "updated_at": _now(),
        "html_url": f"{gh.url}/{r.full_name}/issues/{number}",
        "url": f"{gh.url}/repos/{r.full_name}/issues/{number}",
    }
    _items(gh, "issues", r.full_name).append(issue)
    return 201, {k: v for k, v in issue.items() if k != "comments_list"}


@route("PATCH", rf"{REPO_PATH}/issues/(?P<number>\d+)", "issues:write")
def update_issue(
    gh: GitHubDouble, body: dict[str, Any], owner: str, repo: str, number: str
) -> tuple[int, Any]:
    r = gh.repo(owner, repo, write=True)
    issue = _find(gh, "issues", r.full_name, number)
    issue.update({k: body[k] for k in ("title", "body", "state") if k in body})
    issue["updated_at"] = _now()
    return 200, {k: v for k, v in issue.items() if k != "comments_list"}


@route("POST", rf"{REPO_PATH}/issues/(?P<number>\d+)/comments", "issues:write")
def create_comment(
    gh: GitHubDouble, body: dict[str, Any], owner: str, repo: str, number: str
) -> tuple[int, Any]:
    r = gh.repo(owner, repo, write=True)
    issue = _find(gh, "issues", r.full_name, number)
    text = body.get("body")
    if not isinstance(text, str) or not text:
        raise error(422, "Invalid request.\n\nbody wasn't supplied.")
    issue["comments_list"].append(text)
    issue["comments"] = len(issue["comments_list"])
    return 201, {"id": 70_000 + issue["comments"], "body": text, "created_at": _now()}
