"""The GitHub double's pull-request and issue endpoints, as the workflows call them.

Bodies carry the fields GitHub's "pull-request" and "issue" models require that the workflows
read (number, state, title, body, head/base refs, labels, html_url). List endpoints return every
open item, newest first, as GitHub's default `state=open` does; callers filter further.
"""

from __future__ import annotations

import re
import time
from typing import Any, ClassVar

REPO = r"/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)"

ROUTES: list[tuple[str, str, str]] = [
    ("GET", rf"{REPO}/pulls", "list_pulls"),
    ("POST", rf"{REPO}/pulls", "create_pull"),
    ("PATCH", rf"{REPO}/pulls/(?P<number>\d+)", "update_pull"),
    ("GET", rf"{REPO}/issues", "list_issues"),
    ("POST", rf"{REPO}/issues", "create_issue"),
    ("PATCH", rf"{REPO}/issues/(?P<number>\d+)", "update_issue"),
    ("POST", rf"{REPO}/issues/(?P<number>\d+)/comments", "create_comment"),
]


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


class PullsAndIssues:
    """Mixed into GitHubDouble: `pulls` and `issues` per repository full name."""

    ROUTES: ClassVar[list[tuple[str, str, str]]] = ROUTES

    @property
    def url(self) -> str:
        raise NotImplementedError  # GitHubDouble's

    def _repo(self, owner: str, repo: str, *, write: bool = False) -> Any:
        raise NotImplementedError  # GitHubDouble's

    def _items(self, kind: str, full_name: str) -> list[dict[str, Any]]:
        store: dict[str, list[dict[str, Any]]] = self.__dict__.setdefault(f"_{kind}", {})
        return store.setdefault(full_name, [])

    def _next_number(self, full_name: str) -> int:
        # Pull requests and issues share one number sequence per repository, as on GitHub.
        return len(self._items("pulls", full_name)) + len(self._items("issues", full_name)) + 1

    @property
    def pulls(self) -> dict[str, list[dict[str, Any]]]:
        """Pull requests by repository full name."""
        return self.__dict__.setdefault("_pulls", {})  # type: ignore[no-any-return]

    @property
    def issues(self) -> dict[str, list[dict[str, Any]]]:
        """Issues by repository full name (comments under `comments_list`)."""
        return self.__dict__.setdefault("_issues", {})  # type: ignore[no-any-return]

    def _find(self, kind: str, full_name: str, number: str) -> dict[str, Any]:
        from mlops_suite.local.github_double import _error

        for item in self._items(kind, full_name):
            if item["number"] == int(number):
                return item
        raise _error(404, "Not Found")

    def _r_list_pulls(self, body: dict[str, Any], owner: str, repo: str) -> tuple[int, Any]:
        r = self._repo(owner, repo)
        return 200, [p for p in reversed(self._items("pulls", r.full_name)) if p["state"] == "open"]

    def _r_create_pull(self, body: dict[str, Any], owner: str, repo: str) -> tuple[int, Any]:
        from mlops_suite.local.github_double import _error

        r = self._repo(owner, repo, write=True)
        head, base, title = body.get("head"), body.get("base"), body.get("title")
        if not all(isinstance(v, str) and v for v in (head, base, title)):
            raise _error(422, "Invalid request.\n\nhead, base and title are required.")
        assert isinstance(head, str)
        head_ref = head.split(":", 1)[-1]
        branches = r.branches()
        errors = [
            {"resource": "PullRequest", "field": field, "code": "invalid"}
            for field, ref in (("head", head_ref), ("base", base))
            if ref not in branches
        ]
        if errors:
            raise _error(422, "Validation Failed", errors=errors)
        for pull in self._items("pulls", r.full_name):
            if pull["state"] == "open" and pull["head"]["ref"] == head_ref:
                message = f"A pull request already exists for {r.owner}:{head_ref}."
                raise _error(
                    422,
                    "Validation Failed",
                    errors=[{"resource": "PullRequest", "code": "custom", "message": message}],
                )
        number = self._next_number(r.full_name)
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
            "html_url": f"{self.url}/{r.full_name}/pull/{number}",
            "url": f"{self.url}/repos/{r.full_name}/pulls/{number}",
        }
        self._items("pulls", r.full_name).append(pull)
        return 201, pull

    def _r_update_pull(
        self, body: dict[str, Any], owner: str, repo: str, number: str
    ) -> tuple[int, Any]:
        r = self._repo(owner, repo, write=True)
        pull = self._find("pulls", r.full_name, number)
        pull.update({k: body[k] for k in ("title", "body", "state") if k in body})
        pull["updated_at"] = _now()
        return 200, pull

    def _r_list_issues(self, body: dict[str, Any], owner: str, repo: str) -> tuple[int, Any]:
        r = self._repo(owner, repo)
        found = [i for i in reversed(self._items("issues", r.full_name)) if i["state"] == "open"]
        return 200, [{k: v for k, v in i.items() if k != "comments_list"} for i in found]

    def _r_create_issue(self, body: dict[str, Any], owner: str, repo: str) -> tuple[int, Any]:
        from mlops_suite.local.github_double import _error

        r = self._repo(owner, repo, write=True)
        title = body.get("title")
        if not isinstance(title, str) or not title:
            raise _error(422, "Invalid request.\n\ntitle wasn't supplied.")
        labels = body.get("labels") or []
        if not isinstance(labels, list) or not all(
            isinstance(n, str) and re.fullmatch(r"[^,]{1,50}", n) for n in labels
        ):
            raise _error(422, "Validation Failed", errors=[{"field": "labels", "code": "invalid"}])
        number = self._next_number(r.full_name)
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
            "html_url": f"{self.url}/{r.full_name}/issues/{number}",
            "url": f"{self.url}/repos/{r.full_name}/issues/{number}",
        }
        self._items("issues", r.full_name).append(issue)
        return 201, {k: v for k, v in issue.items() if k != "comments_list"}

    def _r_update_issue(
        self, body: dict[str, Any], owner: str, repo: str, number: str
    ) -> tuple[int, Any]:
        r = self._repo(owner, repo, write=True)
        issue = self._find("issues", r.full_name, number)
        issue.update({k: body[k] for k in ("title", "body", "state") if k in body})
        issue["updated_at"] = _now()
        return 200, {k: v for k, v in issue.items() if k != "comments_list"}

    def _r_create_comment(
        self, body: dict[str, Any], owner: str, repo: str, number: str
    ) -> tuple[int, Any]:
        from mlops_suite.local.github_double import _error

        r = self._repo(owner, repo, write=True)
        issue = self._find("issues", r.full_name, number)
        text = body.get("body")
        if not isinstance(text, str) or not text:
            raise _error(422, "Invalid request.\n\nbody wasn't supplied.")
        issue["comments_list"].append(text)
        issue["comments"] = len(issue["comments_list"])
        return 201, {"id": 70_000 + issue["comments"], "body": text, "created_at": _now()}
