"""A local GitHub double: real HTTP on loopback, real git smart HTTP, and fault injection.

It implements exactly the REST endpoints `mlops_suite.github` calls, with GitHub's status codes
and error bodies, and serves git over smart HTTP (dulwich's WSGI app) for the repositories it
holds, so pushes and clones are real git. A call to any other endpoint answers 404 like GitHub and
is recorded in `unrouted`, so tests can fail loudly on calls the double does not implement.

    with GitHubDouble(orgs=("my-org",)) as gh:
        client = GitHubClient(gh.token, base_url=gh.url)
        ...
        gh.repos["my-org/churn-model"].files()
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import logging
import re
import secrets
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from socketserver import ThreadingMixIn
from types import TracebackType
from typing import Any, ClassVar, cast
from wsgiref.simple_server import ServerHandler, WSGIRequestHandler, WSGIServer

from mlops_suite.local.github_double_pulls import PullsAndIssues

logger = logging.getLogger(__name__)

DOCS = "https://docs.github.com/rest"
StartResponse = Callable[..., Any]
Environ = dict[str, Any]


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
class DoubleRepo:
    """A repository held by the double, backed by a bare git repo on disk."""

    owner: str
    name: str
    id: int
    git_dir: Path
    description: str = ""
    private: bool = True
    archived: bool = False
    topics: list[str] = field(default_factory=list)
    variables: dict[str, str] = field(default_factory=dict)
    environments: dict[str, dict[str, Any]] = field(default_factory=dict)
    environment_variables: dict[str, dict[str, str]] = field(default_factory=dict)
    protection: dict[str, dict[str, Any]] = field(default_factory=dict)
    dispatches: list[dict[str, Any]] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)

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


class _Respond(Exception):
    def __init__(
        self, status: int, body: Any = None, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = headers or {}


def _error(status: int, message: str, **extra: Any) -> _Respond:
    return _Respond(
        status, {"message": message, "documentation_url": DOCS, "status": str(status), **extra}
    )


_REASONS = {
    200: "OK",
    201: "Created",
    204: "No Content",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    422: "Unprocessable Entity",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True
    double: GitHubDouble


class _RequestHandler(WSGIRequestHandler):
    """wsgiref's handler plus the faults that must act before a response exists."""

    server: _ThreadingServer

    def handle(self) -> None:
        self.raw_requestline = self.rfile.readline(65537)
        if len(self.raw_requestline) > 65536 or not self.parse_request():
            return
        path = self.path.split("?", 1)[0]
        fault = self.server.double._take_fault(self.command, path)
        if fault is not None:
            if fault.delay:
                time.sleep(fault.delay)
            if fault.drop:
                self.server.double._record(self.command, path, 0, "none")
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
        handler = ServerHandler(
            self.rfile,
            cast(Any, self.wfile),
            self.get_stderr(),
            self.get_environ(),
            multithread=True,
        )
        handler.request_handler = self  # type: ignore[attr-defined]
        environ_fault = fault if fault is not None and fault.status else None
        app = self.server.get_app()
        assert app is not None
        handler.run(lambda env, sr: app({**env, "double.fault": environ_fault}, sr))

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("github double: " + format, *args)


@functools.cache
def _app_key() -> Any:
    """The double's GitHub App key pair, made once per process (RSA generation is slow)."""
    from cryptography.hazmat.primitives.asymmetric import rsa

    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


class _ReposBackend:
    """dulwich server backend that serves the double's repositories by ``/owner/name.git``."""

    def __init__(self, double: GitHubDouble) -> None:
        self._double = double

    def open_repository(self, path: str | bytes) -> Any:
        from dulwich.errors import NotGitRepository
        from dulwich.repo import Repo

        if isinstance(path, bytes):
            path = path.decode("utf-8")
        match = re.fullmatch(r"/([^/]+)/([^/]+?)\.git/?", path)
        repo = self._double.repos.get(f"{match.group(1)}/{match.group(2)}") if match else None
        if repo is None:
            raise NotGitRepository(path)
        return Repo(str(repo.git_dir))


class GitHubDouble(PullsAndIssues):
    """GitHub on loopback for tests and the offline demo; see the module docstring."""

    def __init__(
        self,
        orgs: Iterable[str] = ("my-org",),
        teams: Iterable[str] = ("ml-team", "platform-approvers"),
        *,
        host: str = "127.0.0.1",
    ) -> None:
        from cryptography.hazmat.primitives import serialization

        self.host = host
        self.orgs: set[str] = set(orgs)
        self.teams: dict[tuple[str, str], int] = {}
        for org in self.orgs:
            for slug in teams:
                self.add_team(org, slug)
        self.token = "ghp_" + secrets.token_hex(18)
        self.app_id = "424242"
        self.installation_id = 4242
        key = _app_key()
        self._app_public_key = key.public_key()
        self.app_private_key_pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        ).decode("ascii")
        self.installation_tokens: list[str] = []
        self.repos: dict[str, DoubleRepo] = {}
        self.calls: list[Call] = []
        self.unrouted: list[str] = []
        self.faults: list[Fault] = []
        self._lock = threading.RLock()
        self._next_id = 1000
        self._root: Path | None = None
        self._server: _ThreadingServer | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    # --- lifecycle --------------------------------------------------------------------------

    def start(self) -> GitHubDouble:
        """Start serving on a free loopback port."""
        from dulwich.web import make_wsgi_chain

        self._root = Path(tempfile.mkdtemp(prefix="github-double-"))
        self._git_app = make_wsgi_chain(cast(Any, _ReposBackend(self)))
        server = _ThreadingServer((self.host, 0), _RequestHandler)
        server.double = self
        server.set_app(self._app)
        self._server = server
        self.port = server.server_address[1]
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and remove the repositories."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._root is not None:
            shutil.rmtree(self._root, ignore_errors=True)
            self._root = None

    def __enter__(self) -> GitHubDouble:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """Base URL of the REST API."""
        return f"http://{self.host}:{self.port}"

    def clone_url(self, full_name: str) -> str:
        """Git smart-HTTP URL of a repository."""
        return f"{self.url}/git/{full_name}.git"

    # --- set-up and fault injection ---------------------------------------------------------

    def add_team(self, org: str, slug: str) -> int:
        """Add team `slug` to `org`; return its id."""
        self.orgs.add(org)
        self._next_team = getattr(self, "_next_team", 100) + 1
        self.teams[(org, slug)] = self._next_team
        return self._next_team

    def add_repo(self, org: str, name: str, *, topics: Iterable[str] = ()) -> DoubleRepo:
        """Create a repository as if someone had made it on GitHub."""
        with self._lock:
            return self._create_repo(org, name, "", list(topics))

    def fail(
        self,
        method: str | None = None,
        path: str | None = None,
        *,
        status: int = 502,
        nth: int = 1,
        times: int = 1,
        message: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Fault:
        """Answer the `nth` matching call (and `times - 1` more) with `status`."""
        return self._add(Fault(method, path, nth, times, status, message, headers or {}))

    def rate_limit(
        self,
        method: str | None = None,
        path: str | None = None,
        *,
        reset_in: float = 1.0,
        secondary: bool = False,
        nth: int = 1,
        times: int = 1,
    ) -> Fault:
        """Answer like GitHub's primary (x-ratelimit-reset) or secondary (retry-after) limit."""
        if secondary:
            headers = {"retry-after": str(max(int(reset_in), 0))}
            message = "You have exceeded a secondary rate limit. Please wait a few minutes."
        else:
            headers = {
                "x-ratelimit-limit": "5000",
                "x-ratelimit-remaining": "0",
                "x-ratelimit-used": "5000",
                "x-ratelimit-resource": "core",
                "x-ratelimit-reset": str(int(time.time() + reset_in)),
            }
            message = f"API rate limit exceeded for installation ID {self.installation_id}."
        return self._add(Fault(method, path, nth, times, 403, message, headers))

    def delay(
        self,
        method: str | None = None,
        path: str | None = None,
        *,
        seconds: float,
        nth: int = 1,
        times: int = 1,
    ) -> Fault:
        """Hold matching calls for `seconds` before answering."""
        return self._add(Fault(method, path, nth, times, delay=seconds))

    def drop(
        self, method: str | None = None, path: str | None = None, *, nth: int = 1, times: int = 1
    ) -> Fault:
        """Close the connection of matching calls without any response."""
        return self._add(Fault(method, path, nth, times, drop=True))

    def _add(self, fault: Fault) -> Fault:
        with self._lock:
            self.faults.append(fault)
        return fault

    def _take_fault(self, method: str, path: str) -> Fault | None:
        """Count the call against every matching fault; fire the first one that is due."""
        chosen: Fault | None = None
        with self._lock:
            for fault in self.faults:
                if not fault.matches(method, path):
                    continue
                fault.seen += 1
                if chosen is None and fault.nth <= fault.seen < fault.nth + fault.times:
                    fault.fired += 1
                    chosen = fault
        return chosen

    def _record(self, method: str, path: str, status: int, auth: str) -> None:
        with self._lock:
            self.calls.append(Call(method, path, status, auth))

    def calls_to(self, method: str, path_regex: str) -> list[Call]:
        """Calls matching `method` and the full-match regex `path_regex`."""
        return [c for c in self.calls if c.method == method and re.fullmatch(path_regex, c.path)]

    # --- WSGI -------------------------------------------------------------------------------

    def _app(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        method = environ["REQUEST_METHOD"]
        path = environ.get("PATH_INFO", "")
        auth = "none"
        try:
            fault: Fault | None = environ.get("double.fault")
            if fault is not None and fault.status:
                raise _error(fault.status, fault.message or _REASONS.get(fault.status, "Error"))
            if path.startswith("/git/"):
                return self._git(environ, start_response)
            auth = self._authenticate(environ)
            status, body = self._route(method, path, auth, environ)
            resp = _Respond(status, body)
        except _Respond as r:
            resp = r
        if fault := environ.get("double.fault"):
            resp.headers.update(fault.headers)
        self._record(method, path, resp.status, auth)
        payload = b"" if resp.body is None else json.dumps(resp.body).encode()
        headers = [("Content-Type", "application/json; charset=utf-8")] if payload else []
        headers += [("Content-Length", str(len(payload)))]
        headers += [(k, v) for k, v in resp.headers.items()]
        start_response(f"{resp.status} {_REASONS.get(resp.status, 'Error')}", headers)
        return [payload]

    def _git(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        path = environ["PATH_INFO"][len("/git") :]
        match = re.match(r"^/([^/]+)/([^/]+?)\.git(/.*)$", path)
        token = self._basic_password(environ.get("HTTP_AUTHORIZATION", ""))
        if token is None or not self._valid_token(token):
            self._record(environ["REQUEST_METHOD"], environ["PATH_INFO"], 401, "bad")
            start_response(
                "401 Unauthorized",
                [("WWW-Authenticate", 'Basic realm="GitHub"'), ("Content-Length", "0")],
            )
            return [b""]
        repo = self.repos.get(f"{match.group(1)}/{match.group(2)}") if match else None
        if repo is None:
            self._record(environ["REQUEST_METHOD"], environ["PATH_INFO"], 404, "token")
            body = b"Repository not found.\n"
            start_response("404 Not Found", [("Content-Length", str(len(body)))])
            return [body]
        is_push = "git-receive-pack" in path or "service=git-receive-pack" in environ.get(
            "QUERY_STRING", ""
        )
        if repo.archived and is_push:
            self._record(environ["REQUEST_METHOD"], environ["PATH_INFO"], 403, "token")
            body = b"This repository was archived so it is read-only.\n"
            start_response("403 Forbidden", [("Content-Length", str(len(body)))])
            return [body]
        self._record(environ["REQUEST_METHOD"], environ["PATH_INFO"], 200, "token")
        result: Iterable[bytes] = self._git_app({**environ, "PATH_INFO": path}, start_response)
        return result

    @staticmethod
    def _basic_password(header: str) -> str | None:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            decoded = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return decoded.partition(":")[2] or None

    def _valid_token(self, token: str) -> bool:
        return secrets.compare_digest(token, self.token) or token in self.installation_tokens

    def _authenticate(self, environ: Environ) -> str:
        header = environ.get("HTTP_AUTHORIZATION", "")
        scheme, _, value = header.partition(" ")
        if not header:
            return "none"
        if scheme.lower() not in ("bearer", "token") or not value:
            raise _error(401, "Bad credentials")
        if self._valid_token(value):
            return "token"
        if value.count(".") == 2 and self._valid_jwt(value):
            return "app"
        raise _error(401, "Bad credentials")

    def _valid_jwt(self, jwt: str) -> bool:
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        head, payload, sig = jwt.split(".")

        def unb64(s: str) -> bytes:
            return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))

        try:
            self._app_public_key.verify(
                unb64(sig), f"{head}.{payload}".encode(), padding.PKCS1v15(), hashes.SHA256()
            )
            claims = json.loads(unb64(payload))
        except (InvalidSignature, ValueError, binascii.Error):
            return False
        now = time.time()
        return bool(
            claims.get("iss") == self.app_id
            and claims.get("iat", now + 1) <= now
            and now < claims.get("exp", 0) <= claims.get("iat", 0) + 600
        )

    # --- REST -------------------------------------------------------------------------------

    _ROUTES: ClassVar[list[tuple[str, str, str]]] = [
        ("GET", r"/orgs/(?P<org>[^/]+)/installation", "get_installation"),
        ("POST", r"/app/installations/(?P<id>\d+)/access_tokens", "create_installation_token"),
        ("GET", r"/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)", "get_repo"),
        ("PATCH", r"/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)", "update_repo"),
        ("DELETE", r"/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)", "delete_repo"),
        ("POST", r"/orgs/(?P<org>[^/]+)/repos", "create_repo"),
        ("PUT", r"/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)/topics", "set_topics"),
        ("GET", r"/orgs/(?P<org>[^/]+)/teams/(?P<slug>[^/]+)", "get_team"),
        (
            "PUT",
            r"/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)/branches/(?P<branch>[^/]+)/protection",
            "protect_branch",
        ),
        (
            "PUT",
            r"/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)/environments/(?P<env>[^/]+)",
            "put_environment",
        ),
        ("POST", r"/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)/actions/variables", "create_variable"),
        (
            "PATCH",
            r"/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)/actions/variables/(?P<name>[^/]+)",
            "update_variable",
        ),
        (
            "POST",
            r"/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)/environments/(?P<env>[^/]+)/variables",
            "create_variable",
        ),
        (
            "PATCH",
            r"/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)/environments/(?P<env>[^/]+)/variables/"
            r"(?P<name>[^/]+)",
            "update_variable",
        ),
        ("POST", r"/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)/dispatches", "dispatch"),
        *PullsAndIssues.ROUTES,
    ]

    def _route(self, method: str, path: str, auth: str, environ: Environ) -> tuple[int, Any]:
        for route_method, pattern, name in self._ROUTES:
            match = re.fullmatch(pattern, path)
            if match and route_method == method:
                app_only = name in ("get_installation", "create_installation_token")
                if auth == "none":
                    raise _error(401, "Requires authentication")
                if app_only and auth != "app":
                    raise _error(401, "A JSON web token could not be decoded")
                if not app_only and auth == "app":
                    raise _error(403, "Resource not accessible by integration")
                body = self._json_body(environ)
                with self._lock:
                    result: tuple[int, Any] = getattr(self, f"_r_{name}")(body, **match.groupdict())
                    return result
        self.unrouted.append(f"{method} {path}")
        raise _error(404, "Not Found")

    @staticmethod
    def _json_body(environ: Environ) -> dict[str, Any]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length) if length else b""
        if not raw:
            return {}
        try:
            body = json.loads(raw)
        except ValueError:
            raise _error(400, "Problems parsing JSON") from None
        if not isinstance(body, dict):
            raise _error(400, "Body should be a JSON object")
        return body

    def _repo(self, owner: str, repo: str, *, write: bool = False) -> DoubleRepo:
        found = self.repos.get(f"{owner}/{repo}")
        if found is None:
            raise _error(404, "Not Found")
        if write and found.archived:
            raise _error(403, "Repository was archived so is read-only.")
        return found

    def _repo_json(self, r: DoubleRepo) -> dict[str, Any]:
        return {
            "id": r.id,
            "name": r.name,
            "full_name": r.full_name,
            "owner": {"login": r.owner, "type": "Organization"},
            "private": r.private,
            "visibility": "private" if r.private else "public",
            "description": r.description,
            "archived": r.archived,
            "topics": list(r.topics),
            "default_branch": "main",
            "html_url": f"{self.url}/{r.full_name}",
            "clone_url": self.clone_url(r.full_name),
            "url": f"{self.url}/repos/{r.full_name}",
        }

    def _create_repo(self, org: str, name: str, description: str, topics: list[str]) -> DoubleRepo:
        from dulwich.repo import Repo

        assert self._root is not None, "start the double first"
        git_dir = self._root / org / f"{name}.git"
        git_dir.mkdir(parents=True)
        with Repo.init_bare(str(git_dir)) as bare:
            bare.refs.set_symbolic_ref(cast(Any, b"HEAD"), cast(Any, b"refs/heads/main"))
        self._next_id += 1
        repo = DoubleRepo(org, name, self._next_id, git_dir, description, topics=topics)
        self.repos[repo.full_name] = repo
        return repo

    def _r_get_installation(self, body: dict[str, Any], org: str) -> tuple[int, Any]:
        if org not in self.orgs:
            raise _error(404, "Not Found")
        return 200, {"id": self.installation_id, "account": {"login": org}, "app_id": self.app_id}

    def _r_create_installation_token(self, body: dict[str, Any], id: str) -> tuple[int, Any]:
        if int(id) != self.installation_id:
            raise _error(404, "Not Found")
        token = "ghs_" + secrets.token_hex(18)
        self.installation_tokens.append(token)
        expires = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600))
        return 201, {"token": token, "expires_at": expires, "permissions": {}}

    def _r_get_repo(self, body: dict[str, Any], owner: str, repo: str) -> tuple[int, Any]:
        return 200, self._repo_json(self._repo(owner, repo))

    def _r_update_repo(self, body: dict[str, Any], owner: str, repo: str) -> tuple[int, Any]:
        r = self._repo(owner, repo)
        if r.archived and body.get("archived") is not False:
            raise _error(403, "Repository was archived so is read-only.")
        if "archived" in body:
            r.archived = bool(body["archived"])
        if "description" in body:
            r.description = str(body["description"])
        return 200, self._repo_json(r)

    def _r_delete_repo(self, body: dict[str, Any], owner: str, repo: str) -> tuple[int, Any]:
        r = self._repo(owner, repo)
        shutil.rmtree(r.git_dir, ignore_errors=True)
        del self.repos[r.full_name]
        return 204, None

    def _r_create_repo(self, body: dict[str, Any], org: str) -> tuple[int, Any]:
        if org not in self.orgs:
            raise _error(404, "Not Found")
        name = body.get("name")
        if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9._-]{1,100}", name):
            raise _error(
                422,
                "Repository creation failed.",
                errors=[{"resource": "Repository", "code": "missing_field", "field": "name"}],
            )
        if f"{org}/{name}" in self.repos:
            raise _error(
                422,
                "Repository creation failed.",
                errors=[
                    {
                        "resource": "Repository",
                        "code": "custom",
                        "field": "name",
                        "message": "name already exists on this account",
                    }
                ],
            )
        r = self._create_repo(org, name, str(body.get("description") or ""), [])
        r.private = bool(body.get("private", body.get("visibility", "public") != "public"))
        r.settings = {k: v for k, v in body.items() if k not in ("name", "description")}
        return 201, self._repo_json(r)

    def _r_set_topics(self, body: dict[str, Any], owner: str, repo: str) -> tuple[int, Any]:
        r = self._repo(owner, repo, write=True)
        names = body.get("names")
        if not isinstance(names, list) or not all(
            isinstance(n, str) and re.fullmatch(r"[a-z0-9][a-z0-9-]{0,49}", n) for n in names
        ):
            raise _error(422, "Invalid request.", errors=[{"code": "invalid", "field": "names"}])
        r.topics = list(names)
        return 200, {"names": r.topics}

    def _r_get_team(self, body: dict[str, Any], org: str, slug: str) -> tuple[int, Any]:
        if (org, slug) not in self.teams:
            raise _error(404, "Not Found")
        return 200, {"id": self.teams[(org, slug)], "slug": slug, "name": slug}

    def _r_protect_branch(
        self, body: dict[str, Any], owner: str, repo: str, branch: str
    ) -> tuple[int, Any]:
        r = self._repo(owner, repo, write=True)
        required = (
            "required_status_checks",
            "enforce_admins",
            "required_pull_request_reviews",
            "restrictions",
        )
        missing = [k for k in required if k not in body]
        if missing:
            raise _error(422, f"Invalid request.\n\n{', '.join(missing)} wasn't supplied.")
        if branch not in r.branches():
            raise _error(404, "Branch not found")
        r.protection[branch] = body
        return 200, {"url": f"{self.url}/repos/{r.full_name}/branches/{branch}/protection"}

    def _r_put_environment(
        self, body: dict[str, Any], owner: str, repo: str, env: str
    ) -> tuple[int, Any]:
        r = self._repo(owner, repo, write=True)
        reviewers = body.get("reviewers") or []
        if len(reviewers) > 6:
            raise _error(422, "Invalid request.\n\nA maximum of 6 reviewers is allowed.")
        team_ids = set(self.teams.values())
        for reviewer in reviewers:
            if reviewer.get("type") != "Team" or reviewer.get("id") not in team_ids:
                raise _error(422, f"Invalid reviewer: {reviewer}")
        if body.get("prevent_self_review") and not reviewers:
            raise _error(422, "prevent_self_review requires reviewers")
        r.environments[env] = body
        r.environment_variables.setdefault(env, {})
        return 200, {"name": env, "protection_rules": reviewers}

    def _r_create_variable(
        self, body: dict[str, Any], owner: str, repo: str, env: str | None = None
    ) -> tuple[int, Any]:
        r = self._repo(owner, repo, write=True)
        store = self._variables(r, env)
        name, value = body.get("name"), body.get("value")
        if not isinstance(name, str) or not isinstance(value, str):
            raise _error(422, "Invalid request.\n\nname and value are required.")
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name) or name.upper().startswith("GITHUB_"):
            raise _error(422, f"Invalid variable name: {name}")
        if name.upper() in store:
            raise _error(409, "Already exists - Variable already exists")
        store[name.upper()] = value
        return 201, {}

    def _r_update_variable(
        self, body: dict[str, Any], owner: str, repo: str, name: str, env: str | None = None
    ) -> tuple[int, Any]:
        r = self._repo(owner, repo, write=True)
        store = self._variables(r, env)
        if name.upper() not in store:
            raise _error(404, "Not Found")
        store[name.upper()] = str(body.get("value", store[name.upper()]))
        return 204, None

    def _variables(self, r: DoubleRepo, env: str | None) -> dict[str, str]:
        if env is None:
            return r.variables
        if env not in r.environments:
            raise _error(404, "Not Found")
        return r.environment_variables[env]

    def _r_dispatch(self, body: dict[str, Any], owner: str, repo: str) -> tuple[int, Any]:
        r = self._repo(owner, repo, write=True)
        event_type = body.get("event_type")
        payload = body.get("client_payload", {})
        if not isinstance(event_type, str) or not 1 <= len(event_type) <= 100:
            raise _error(422, "Invalid request.\n\nevent_type wasn't supplied.")
        if not isinstance(payload, dict) or len(payload) > 10:
            raise _error(
                422,
                "Invalid request.\n\nNo more than 10 properties are allowed; "
                f"{len(payload)} were supplied.",
            )
        r.dispatches.append({"event_type": event_type, "client_payload": payload})
        return 204, None
