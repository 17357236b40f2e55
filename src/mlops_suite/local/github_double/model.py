"""What the GitHub double holds: repositories, teams, calls, faults, and its error bodies."""

from __future__ import annotations

import base64
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

DOCS = "https://docs.github.com/rest"
NOT_ACCESSIBLE = "Resource not accessible by integration"

# GitHub's access levels, weakest first: a token with `write` may do what `read` allows.
LEVELS = ("read", "write", "admin")


def grants(have: str | None, need: str) -> bool:
    """True when access level `have` covers `need`."""
    return have in LEVELS and LEVELS.index(have) >= LEVELS.index(need)


def node_id(kind: str, number: int) -> str:
    """A GraphQL node id in GitHub's legacy shape (base64 of ``0<len>:<Type><id>``)."""
    raw = f"0{len(kind) + len(str(number)) - 1}:{kind}{number}"
    return base64.b64encode(raw.encode()).decode().rstrip("=")


def timestamp(when: float | None = None) -> str:
    """ISO 8601 in UTC, as GitHub writes it."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() if when is None else when))


@dataclass
class Fault:
    """Fail matching calls: the `nth` match (1-based) and the `times - 1` after it."""

    method: str | None = None
    path: str | None = None  # regex, full match on the request path
    nth: int = 1
    times: int = 1
    status: int | None = None
    message: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    drop: bool = False
    html: bool = False  # answer an HTML page, as GitHub's front end does for some 5xx
    after: bool = False  # with drop: do the work, then lose the answer
    errors: list[Any] | None = None  # a 422's `errors`, strings or objects
    seen: int = 0
    fired: int = 0

    def matches(self, method: str, path: str) -> bool:
        """True when this fault applies to `method` `path`."""
        if self.method and self.method.upper() != method.upper():
            return False
        return not self.path or re.fullmatch(self.path, path) is not None


@dataclass
class Call:
    """One request the double received."""

    method: str
    path: str
    status: int
    auth: str  # "token", "app", "none" or "bad"


@dataclass
class Served:
    """One JSON body the double answered, and the route that answered it (None: no route)."""

    route: str | None
    status: int
    body: Any


@dataclass
class DoubleTeam:
    """A team of an organisation, and the repositories it may access."""

    org: str
    slug: str
    id: int
    repos: dict[str, str] = field(default_factory=dict)  # lower-case full name -> permission
    created_at: str = field(default_factory=timestamp)


@dataclass
class DoubleRepo:
    """A repository held by the double, backed by a bare git repo on disk."""

    owner: str
    name: str
    id: int
    git_dir: Path
    description: str = ""
    private: bool = True
    archived: bool = False
    owner_id: int = 0
    topics: list[str] = field(default_factory=list)
    variables: dict[str, str] = field(default_factory=dict)
    environments: dict[str, dict[str, Any]] = field(default_factory=dict)
    environment_ids: dict[str, int] = field(default_factory=dict)
    environment_variables: dict[str, dict[str, str]] = field(default_factory=dict)
    protection: dict[str, dict[str, Any]] = field(default_factory=dict)
    dispatches: list[dict[str, Any]] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)
    oidc_sub: dict[str, Any] = field(default_factory=lambda: {"use_default": True})
    created_at: str = field(default_factory=timestamp)
    updated_at: str = field(default_factory=timestamp)
    pushed_at: str | None = None

    @property
    def full_name(self) -> str:
        """``owner/name``."""
        return f"{self.owner}/{self.name}"

    def branches(self) -> list[str]:
        """Branch names in the bare repository."""
        from dulwich.repo import Repo

        with Repo(str(self.git_dir)) as repo:
            return sorted(r.decode() for r in repo.refs.keys(cast(Any, b"refs/heads/")))

    def files(self, branch: str = "main") -> dict[str, bytes]:
        """Return {path: content} of the tip of `branch`."""
        from dulwich.object_store import iter_tree_contents
        from dulwich.repo import Repo

        with Repo(str(self.git_dir)) as repo:
            commit = repo[repo.refs[cast(Any, f"refs/heads/{branch}".encode())]]
            out: dict[str, bytes] = {}
            for entry in iter_tree_contents(repo.object_store, commit.tree):  # type: ignore[attr-defined]
                out[entry.path.decode()] = repo[entry.sha].as_raw_string()
            return out

    def commit_count(self, branch: str = "main") -> int:
        """Number of commits reachable from `branch`."""
        from dulwich.repo import Repo

        with Repo(str(self.git_dir)) as repo:
            head = repo.refs[cast(Any, f"refs/heads/{branch}".encode())]
            return sum(1 for _ in repo.get_walker(include=[head]))


class Respond(Exception):
    """Raised by a route to answer at once with `status`, `body` and `headers`."""

    def __init__(
        self, status: int, body: Any = None, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = headers or {}


def error(status: int, message: str, **extra: Any) -> Respond:
    """GitHub's error body: basic-error, or validation-error when `errors` is given."""
    return Respond(
        status, {"message": message, "documentation_url": DOCS, "status": str(status), **extra}
    )


def validation(message: str, *errors: Any) -> Respond:
    """A 422 whose `errors` are objects ({resource, field, code}) or plain strings."""
    return error(422, message, errors=list(errors))


class Keyed(dict[str, Any]):
    """A dict with case-insensitive string keys, as GitHub treats owner and repository names."""

    def __getitem__(self, key: str) -> Any:
        return super().__getitem__(key.lower())

    def __setitem__(self, key: str, value: Any) -> None:
        super().__setitem__(key.lower(), value)

    def __delitem__(self, key: str) -> None:
        super().__delitem__(key.lower())

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and super().__contains__(key.lower())

    def get(self, key: str, default: Any = None) -> Any:
        return super().get(key.lower(), default)
