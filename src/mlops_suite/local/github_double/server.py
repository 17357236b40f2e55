"""The GitHub double's server: loopback HTTP, authentication, App permissions, faults, git."""

from __future__ import annotations

import functools
import json
import logging
import os
import re
import secrets
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from socketserver import ThreadingMixIn
from types import TracebackType
from typing import Any, cast
from wsgiref.simple_server import ServerHandler, WSGIRequestHandler, WSGIServer

from mlops_suite.local.github_double import git, oidc, routes
from mlops_suite.local.github_double.auth import Authentication
from mlops_suite.local.github_double.faults import REASONS, FaultInjection
from mlops_suite.local.github_double.model import (
    DOCS,
    NOT_ACCESSIBLE,
    Call,
    DoubleRepo,
    DoubleTeam,
    Fault,
    Keyed,
    Respond,
    Served,
    error,
    grants,
    timestamp,
)

logger = logging.getLogger(__name__)

StartResponse = Callable[..., Any]
Environ = dict[str, Any]
CONFORMANCE_ENV = "MLOPS_SUITE_GITHUB_DOUBLE_CONFORMANCE"

# What the platform's GitHub App is granted (docs/lambda.md lists the same; a test holds both
# to what a full Create, Update, Delete and dispatch required).
APP_PERMISSIONS: dict[str, str] = {
    "actions": "read",
    "administration": "write",
    "contents": "write",
    "environments": "write",
    "members": "read",
    "metadata": "read",
    "variables": "write",
    "workflows": "write",
}


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True
    double: GitHubDouble


class _RequestHandler(WSGIRequestHandler):
    """wsgiref's handler plus the faults that must act before (or instead of) a response."""

    server: _ThreadingServer

    def handle(self) -> None:
        self.raw_requestline = self.rfile.readline(65537)
        if len(self.raw_requestline) > 65536 or not self.parse_request():
            return
        path = self.path.split("?", 1)[0]
        double = self.server.double
        fault = double._take_fault(self.command, path)
        app = self.server.get_app()
        assert app is not None
        if fault is not None:
            if fault.delay:
                time.sleep(fault.delay)
            if fault.drop:
                if fault.after:  # GitHub did the work; the answer is lost on the way
                    environ = {**self.get_environ(), "wsgi.input": self.rfile}
                    discard = cast(Any, lambda *a, **k: None)
                    for _ in app({**environ, "double.fault": None}, discard):
                        pass
                double._record(self.command, path, 0, "none")
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
        handler.run(lambda env, sr: app({**env, "double.fault": environ_fault}, sr))

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("github double: " + format, *args)


@functools.cache
def _app_key() -> Any:
    """The double's GitHub App key pair, made once per process (RSA generation is slow)."""
    from cryptography.hazmat.primitives.asymmetric import rsa

    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _conformance_default() -> bool:
    setting = os.environ.get(CONFORMANCE_ENV, "").strip().lower()
    if setting in ("0", "false", "off"):
        return False
    from mlops_suite.local.github_double import conformance

    if setting in ("1", "true", "on"):
        conformance.require()
        return True
    return conformance.available()


class GitHubDouble(FaultInjection, Authentication):
    """GitHub on loopback for tests and the offline demo; see the package docstring."""

    def __init__(
        self,
        orgs: Iterable[str] = ("my-org",),
        teams: Iterable[str] = ("ml-team", "platform-approvers"),
        *,
        host: str = "127.0.0.1",
        installation_permissions: Mapping[str, str] | None = None,
        immutable_subjects: bool = True,
        conformance: bool | None = None,
    ) -> None:
        from cryptography.hazmat.primitives import serialization

        self.host = host
        self._lock = threading.RLock()
        self.created_at = timestamp()
        self.org_logins: Keyed = Keyed()
        self._org_ids: Keyed = Keyed()
        self.teams: dict[tuple[str, str], int] = {}
        self._teams: dict[int, DoubleTeam] = {}
        self._next_id = 1000
        for org in orgs:
            self.add_org(org)
            for slug in teams:
                self.add_team(org, slug)
        self.token = "ghp_" + secrets.token_hex(18)
        self.app_id = "424242"
        self.installation_id = 4242
        self.installation_permissions: dict[str, str] = dict(
            APP_PERMISSIONS if installation_permissions is None else installation_permissions
        )
        self.immutable_subjects = immutable_subjects
        self.conformance = _conformance_default() if conformance is None else conformance
        if self.conformance:
            from mlops_suite.local.github_double import conformance as models

            models.require()
            models.warm()
        key = _app_key()
        self._app_public_key = key.public_key()
        self.app_private_key_pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        ).decode("ascii")
        self.installation_tokens: list[str] = []
        self.token_permissions: dict[str, dict[str, str]] = {}
        self.permissions_used: set[tuple[str, str]] = set()
        self.permissions_denied: set[tuple[str, str]] = set()
        self.repos: Keyed = Keyed()
        self.calls: list[Call] = []
        self.served: list[Served] = []
        self.nonconforming: list[str] = []
        self.unrouted: list[str] = []
        self.faults: list[Fault] = []
        self.rate_remaining = 5000
        self._root: Path | None = None
        self._server: _ThreadingServer | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    # --- lifecycle --------------------------------------------------------------------------

    def start(self) -> GitHubDouble:
        """Start serving on a free loopback port."""
        from dulwich.web import make_wsgi_chain

        self._root = Path(tempfile.mkdtemp(prefix="github-double-"))
        self._git_app = make_wsgi_chain(
            cast(Any, git.ReposBackend(self)),
            handlers={b"git-receive-pack": git.WorkflowCheckingReceivePack},
        )
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

    # --- state ------------------------------------------------------------------------------

    @property
    def orgs(self) -> set[str]:
        """The organisations' logins."""
        return set(self.org_logins.values())

    def next_id(self) -> int:
        """A fresh id; ids are never reused, so a recreated repository gets a new one."""
        with self._lock:
            self._next_id += 1
            return self._next_id

    def add_org(self, org: str) -> int:
        """Add organisation `org` (if new); return its immutable id."""
        if org not in self._org_ids:
            self.org_logins[org] = org
            self._org_ids[org] = self.next_id()
        return int(self._org_ids[org])

    def org_id(self, org: str) -> int:
        """The organisation's immutable id."""
        return int(self._org_ids[org])

    def add_team(self, org: str, slug: str) -> int:
        """Add team `slug` to `org`; return its id."""
        login = self.org_logins.get(org) or org
        self.add_org(login)
        team = DoubleTeam(login, slug.lower(), self.next_id())
        self._teams[team.id] = team
        self.teams[(org, slug)] = team.id
        return team.id

    def team(self, org: str, slug: str) -> DoubleTeam:
        """Team `slug` of `org` (names are case-insensitive), or GitHub's 404."""
        for team in self._teams.values():
            if team.org.lower() == org.lower() and team.slug == slug.lower():
                return team
        raise error(404, "Not Found")

    def team_by_id(self, team_id: int) -> DoubleTeam:
        """The team with id `team_id`, or GitHub's 422 for an unknown reviewer."""
        if team_id not in self._teams:
            raise error(422, f"Invalid reviewer: no team with id {team_id}")
        return self._teams[team_id]

    def team_list(self) -> list[DoubleTeam]:
        """Every team of every organisation."""
        return list(self._teams.values())

    def repo(self, owner: str, name: str, *, write: bool = False) -> DoubleRepo:
        """Repository `owner/name` (case-insensitive), or GitHub's 404 / archived 403."""
        found: DoubleRepo | None = self.repos.get(f"{owner}/{name}")
        if found is None:
            raise error(404, "Not Found")
        if write and found.archived:
            raise error(403, "Repository was archived so is read-only.")
        return found

    def add_repo(
        self, org: str, name: str, *, topics: Iterable[str] = (), description: str = ""
    ) -> DoubleRepo:
        """Create a repository as if someone had made it on GitHub."""
        with self._lock:
            return self.create_repo(org, name, description, list(topics))

    def create_repo(self, org: str, name: str, description: str, topics: list[str]) -> DoubleRepo:
        """Make an empty bare repository with a new id."""
        from dulwich.repo import Repo

        assert self._root is not None, "start the double first"
        login = self.org_logins.get(org) or org
        repo_id = self.next_id()
        git_dir = self._root / login / f"{name}-{repo_id}.git"
        git_dir.mkdir(parents=True)
        with Repo.init_bare(str(git_dir)) as bare:
            bare.refs.set_symbolic_ref(cast(Any, b"HEAD"), cast(Any, b"refs/heads/main"))
        repo = DoubleRepo(
            login, name, repo_id, git_dir, description, topics=topics, owner_id=self.add_org(login)
        )
        self.repos[repo.full_name] = repo
        return repo

    def mint_oidc_claims(self, full_name: str, **options: Any) -> dict[str, Any]:
        """The OIDC claims GitHub would mint for a job of `full_name` (see `oidc`)."""
        options.setdefault("immutable_default", self.immutable_subjects)
        return oidc.mint_oidc_claims(self.repos[full_name], **options)

    def note_permission(self, name: str, level: str, *, granted: bool) -> None:
        """Record that an installation token needed `name: level` (and whether it had it)."""
        with self._lock:
            (self.permissions_used if granted else self.permissions_denied).add((name, level))

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
        route_name: str | None = None
        fault: Fault | None = environ.get("double.fault")
        try:
            if fault is not None and fault.status:
                raise self._fault_response(fault)
            if path.startswith("/git/"):
                return self._git(environ, start_response)
            auth, permissions = self._authenticate(environ)
            found = routes.find(method, path)
            if found is None:
                self.unrouted.append(f"{method} {path}")
                raise error(404, "Not Found")
            route, params = found
            route_name = route.name
            resp = self._serve(route, params, auth, permissions, environ)
        except Respond as r:
            resp = r
        if fault is not None:
            resp.headers.update(fault.headers)
        self._record(method, path, resp.status, auth)
        return self._answer(resp, route_name, start_response)

    def _answer(
        self, resp: Respond, route_name: str | None, start_response: StartResponse
    ) -> Iterable[bytes]:
        headers = dict(resp.headers)
        if isinstance(resp.body, str):  # an HTML error page
            payload = resp.body.encode()
            headers["Content-Type"] = "text/html; charset=utf-8"
        elif resp.body is None:
            payload = b""
        else:
            self._check_conformance(route_name, resp)
            payload = json.dumps(resp.body).encode()
            headers["Content-Type"] = "application/json; charset=utf-8"
        with self._lock:
            self.rate_remaining = max(self.rate_remaining - 1, 0)
            remaining = self.rate_remaining
        headers.setdefault("x-ratelimit-limit", "5000")
        headers.setdefault("x-ratelimit-remaining", str(remaining))
        headers.setdefault("x-ratelimit-used", str(5000 - remaining))
        headers.setdefault("x-ratelimit-resource", "core")
        headers.setdefault("x-ratelimit-reset", str(int(time.time()) + 3600))
        headers["Content-Length"] = str(len(payload))
        start_response(f"{resp.status} {REASONS.get(resp.status, 'Error')}", list(headers.items()))
        return [payload]

    def _check_conformance(self, route_name: str | None, resp: Respond) -> None:
        """Hold the body to GitHub's response model; answer 500 naming what does not conform."""
        with self._lock:
            self.served.append(Served(route_name, resp.status, resp.body))
        if not self.conformance:
            return
        from mlops_suite.local.github_double import conformance

        problem = conformance.problem(route_name, resp.status, resp.body)
        if problem is None:
            return
        with self._lock:
            self.nonconforming.append(problem)
        logger.error("github double: nonconforming body: %s", problem)
        resp.status, resp.body = (
            500,
            {
                "message": f"the GitHub double served a body GitHub's API description rejects: "
                f"{problem}",
                "documentation_url": "https://docs.github.com/rest",
            },
        )

    def _serve(
        self,
        route: routes.Route,
        params: dict[str, str],
        auth: str,
        permissions: dict[str, str] | None,
        environ: Environ,
    ) -> Respond:
        if auth == "none":
            raise error(401, "Requires authentication")
        if route.app_only and auth != "app":
            raise error(401, "A JSON web token could not be decoded")
        if not route.app_only and auth == "app":
            raise error(403, NOT_ACCESSIBLE)
        if permissions is not None:
            for name, level in route.needs:
                granted = grants(permissions.get(name), level)
                self.note_permission(name, level, granted=granted)
                if not granted:
                    raise Respond(
                        403,
                        {"message": NOT_ACCESSIBLE, "documentation_url": DOCS, "status": "403"},
                        {"x-accepted-github-permissions": f"{name}={level}"},
                    )
        body = self._json_body(environ)
        with self._lock:
            status, payload = route.handler(self, body, **params)
        return Respond(status, payload)

    def _git(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        path = environ["PATH_INFO"][len("/git") :]
        match = re.match(r"^/([^/]+)/([^/]+?)\.git(/.*)$", path)
        token = self._basic_password(environ.get("HTTP_AUTHORIZATION", ""))
        method, full_path = environ["REQUEST_METHOD"], environ["PATH_INFO"]

        def refuse(status: str, body: bytes, code: int, auth: str) -> list[bytes]:
            self._record(method, full_path, code, auth)
            extra = [("WWW-Authenticate", 'Basic realm="GitHub"')] if code == 401 else []
            start_response(status, [*extra, ("Content-Length", str(len(body)))])
            return [body]

        if token is None or not self._valid_token(token):
            return refuse("401 Unauthorized", b"", 401, "bad")
        repo = self.repos.get(f"{match.group(1)}/{match.group(2)}") if match else None
        if repo is None:
            return refuse("404 Not Found", b"Repository not found.\n", 404, "token")
        is_push = "git-receive-pack" in path or "service=git-receive-pack" in environ.get(
            "QUERY_STRING", ""
        )
        if repo.archived and is_push:
            body = b"This repository was archived so it is read-only.\n"
            return refuse("403 Forbidden", body, 403, "token")
        permissions = self.token_permissions.get(token)
        if permissions is not None:
            need = "write" if is_push else "read"
            granted = grants(permissions.get("contents"), need)
            self.note_permission("contents", need, granted=granted)
            if not granted:
                denied = f"Permission to {repo.full_name}.git denied to mlops-suite[bot].\n"
                return refuse("403 Forbidden", denied.encode(), 403, "token")
        git.current.permissions = permissions
        git.current.double = self
        self._record(method, full_path, 200, "token")
        result: Iterable[bytes] = self._git_app({**environ, "PATH_INFO": path}, start_response)
        return result

    @staticmethod
    def _json_body(environ: Environ) -> dict[str, Any]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length) if length else b""
        if not raw:
            return {}
        try:
            body = json.loads(raw)
        except ValueError:
            raise error(400, "Problems parsing JSON") from None
        if not isinstance(body, dict):
            raise error(400, "Body should be a JSON object")
        return body


routes.load()
