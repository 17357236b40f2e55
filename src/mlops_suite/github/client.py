"""A small GitHub REST layer on httpx: one timeout per call, bounded retries, clear errors.

Authentication is a GitHub App installation token (JWT signed with the app's private key, then
exchanged for a one-hour installation token), or a personal access token as the fallback. Every
token travels in an ``Authorization`` header only, never in a URL.

Retries follow GitHub's documented rules: 5xx, timeouts and dropped connections back off
exponentially with jitter; a rate limit (403/429 with ``retry-after`` or
``x-ratelimit-remaining: 0``) waits until the time the headers name. No wait ever runs past the
caller's deadline, so a Lambda always has time left to answer.
"""

from __future__ import annotations

import base64
import json
import logging
import random
import time
from collections.abc import Generator, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import httpx

logger = logging.getLogger(__name__)

DEFAULT_API_URL = "https://api.github.com"
API_VERSION = "2022-11-28"


class GitHubError(RuntimeError):
    """A GitHub call failed; the message names the call, the status and GitHub's own message."""

    def __init__(self, action: str, status: int | None, message: str) -> None:
        self.action = action
        self.status = status
        self.github_message = message
        where = f"HTTP {status}" if status is not None else "no response"
        super().__init__(f"GitHub {action} failed ({where}): {message}")


class NotFound(GitHubError):
    """404: the resource does not exist, or the token may not see it."""


class AlreadyExists(GitHubError):
    """409 or 422 'already exists'."""


class Forbidden(GitHubError):
    """401 or 403 that is not a rate limit: the token lacks a permission."""


class RateLimited(GitHubError):
    """403/429 rate limit that did not clear within the retry budget."""


class Unavailable(GitHubError):
    """5xx, timeout or dropped connection that outlasted the retries."""


@dataclass
class RetryPolicy:
    """How often and how long to retry; never waits past `deadline` (``time.monotonic()``)."""

    max_retries: int = 4
    base_delay: float = 0.5
    max_delay: float = 8.0
    max_rate_limit_wait: float = 60.0
    deadline: float | None = None
    sleeps: list[float] = field(default_factory=list)

    def fits(self, wait: float) -> bool:
        """True when waiting `wait` seconds still ends before the deadline."""
        return self.deadline is None or time.monotonic() + wait < self.deadline

    def backoff(self, attempt: int) -> float:
        """Exponential backoff with jitter for retry number `attempt` (0-based)."""
        wait: float = min(self.max_delay, self.base_delay * 2.0**attempt)
        return wait * (0.5 + random.random() / 2)  # noqa: S311 - jitter, not crypto


def rate_limit_wait(resp: httpx.Response, *, now: float | None = None) -> float | None:
    """Seconds GitHub asks us to wait, or None when `resp` is not a rate-limit answer."""
    if resp.status_code not in (403, 429):
        return None
    if "retry-after" in resp.headers:
        try:
            return max(float(str(resp.headers["retry-after"])), 0.0)
        except ValueError:
            return 60.0
    if resp.headers.get("x-ratelimit-remaining") == "0":
        try:
            reset = float(resp.headers["x-ratelimit-reset"])
        except (KeyError, ValueError):
            return 60.0
        return max(reset - (now if now is not None else time.time()), 0.0) + 0.5
    if "rate limit" in _github_message(resp).lower():
        return 60.0  # GitHub: without headers, wait at least a minute
    return None


class _BearerAuth(httpx.Auth):
    def __init__(self, token: str) -> None:
        self._token = token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self._token}"
        yield request

    def __repr__(self) -> str:
        return "_BearerAuth(token=***)"


def _github_message(resp: httpx.Response) -> str:
    """GitHub's message and any `errors` (objects or plain strings), or a short note for HTML."""
    try:
        body = resp.json()
    except ValueError:
        if "html" in resp.headers.get("content-type", "") or resp.text.lstrip().startswith("<"):
            return f"{resp.reason_phrase} (an HTML error page, not the API)"
        return resp.text[:200] or resp.reason_phrase
    if not isinstance(body, dict):
        return resp.reason_phrase
    message = str(body.get("message", resp.reason_phrase))
    details = []
    errors = body.get("errors")
    for e in errors if isinstance(errors, list) else []:
        if isinstance(e, str) and e:
            details.append(e)
        elif isinstance(e, dict) and (e.get("message") or e.get("code")):
            where = e.get("field")
            text = str(e.get("message") or e.get("code"))
            details.append(f"{where}: {text}" if where and not e.get("message") else text)
    needs = resp.headers.get("x-accepted-github-permissions")
    if resp.status_code == 403 and needs:
        details.append(f"the token needs {needs.replace('=', ': ')}")
    return f"{message} ({'; '.join(details)})" if details else message


def _error_for(action: str, resp: httpx.Response) -> GitHubError:
    status = resp.status_code
    message = _github_message(resp)
    if status == 404:
        return NotFound(action, status, message)
    if status == 409 or (status == 422 and "already exists" in message):
        return AlreadyExists(action, status, message)
    if status in (401, 403):
        return Forbidden(action, status, message)
    if status >= 500:
        return Unavailable(action, status, message)
    return GitHubError(action, status, message)


class GitHubClient:
    """The GitHub calls the suite makes, each with a timeout, retries and a clear error."""

    def __init__(
        self,
        token: str,
        *,
        base_url: str = DEFAULT_API_URL,
        timeout: float = 10.0,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/") + "/"
        self.retry = retry or RetryPolicy()
        self.rate_limit_reset: float | None = None  # set when a success said none are left
        self._http = httpx.Client(
            base_url=self.base_url,
            auth=_BearerAuth(token),
            timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
            headers={
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": API_VERSION,
                "User-Agent": "mlops-suite",
            },
        )

    def __enter__(self) -> GitHubClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def __repr__(self) -> str:
        return f"GitHubClient(base_url={self.base_url!r})"

    def call(
        self, method: str, path: str, action: str, body: Mapping[str, Any] | None = None
    ) -> Any:
        """Send one REST call with retries; return parsed JSON (None for 204) or raise."""
        attempt = 0
        self._wait_for_quota(action)
        while True:
            wait: float | None
            try:
                resp = self._http.request(
                    method, path.lstrip("/"), json=dict(body) if body is not None else None
                )
            except httpx.TimeoutException:
                failure: GitHubError = Unavailable(action, None, "timed out")
                wait = self.retry.backoff(attempt)
            except httpx.TransportError as exc:
                failure = Unavailable(action, None, f"connection failed ({type(exc).__name__})")
                wait = self.retry.backoff(attempt)
            else:
                if resp.is_success:
                    self._note_quota(resp)
                    return resp.json() if resp.content else None
                limited = rate_limit_wait(resp)
                if limited is not None:
                    failure = RateLimited(
                        action,
                        resp.status_code,
                        f"{_github_message(resp)}; the limit resets in {int(limited)}s",
                    )
                    wait = limited if limited <= self.retry.max_rate_limit_wait else None
                else:
                    failure = _error_for(action, resp)
                    wait = self.retry.backoff(attempt) if resp.status_code >= 500 else None
            if wait is None or attempt >= self.retry.max_retries or not self.retry.fits(wait):
                raise failure
            logger.warning(
                "GitHub call failed, retrying",
                extra={
                    "action": action,
                    "error": str(failure),
                    "retry": attempt + 1,
                    "wait_s": round(wait, 2),
                },
            )
            self.retry.sleeps.append(wait)
            time.sleep(wait)
            attempt += 1

    def _note_quota(self, resp: httpx.Response) -> None:
        """Remember when the quota resets if this success used the last request of it."""
        if resp.headers.get("x-ratelimit-remaining") != "0":
            self.rate_limit_reset = None
            return
        try:
            self.rate_limit_reset = float(resp.headers["x-ratelimit-reset"])
        except (KeyError, ValueError):
            self.rate_limit_reset = time.time() + 60.0

    def _wait_for_quota(self, action: str) -> None:
        """Before a call with no quota left, wait for the reset (within the deadline) or fail."""
        if self.rate_limit_reset is None:
            return
        wait = max(self.rate_limit_reset - time.time(), 0.0) + 0.5
        if wait > self.retry.max_rate_limit_wait or not self.retry.fits(wait):
            raise RateLimited(action, None, f"no API quota left; the limit resets in {int(wait)}s")
        logger.warning("GitHub quota used up, waiting", extra={"action": action, "wait_s": wait})
        self.retry.sleeps.append(wait)
        time.sleep(wait)
        self.rate_limit_reset = None

    # --- repositories -----------------------------------------------------------------------

    def get_repo(self, owner: str, name: str) -> dict[str, Any] | None:
        """Return the repository, or None when it does not exist."""
        try:
            repo: dict[str, Any] = self.call("GET", f"repos/{owner}/{name}", f"get {owner}/{name}")
        except NotFound:
            return None
        return repo

    def create_org_repo(self, org: str, name: str, description: str) -> dict[str, Any]:
        """Create an empty private repository in `org`."""
        body = {
            "name": name,
            "description": description,
            "private": True,
            "visibility": "private",
            "auto_init": False,
            "has_wiki": False,
            "has_projects": False,
            "delete_branch_on_merge": True,
            "allow_merge_commit": False,
        }
        repo: dict[str, Any] = self.call("POST", f"orgs/{org}/repos", f"create {org}/{name}", body)
        return repo

    def set_topics(self, owner: str, name: str, topics: list[str]) -> None:
        """Replace the repository's topics."""
        self.call("PUT", f"repos/{owner}/{name}/topics", "set topics", {"names": topics})

    def archive_repo(self, owner: str, name: str) -> None:
        """Archive the repository (read-only; the code stays)."""
        self.call("PATCH", f"repos/{owner}/{name}", f"archive {owner}/{name}", {"archived": True})

    def delete_repo(self, owner: str, name: str) -> None:
        """Delete the repository; only used to roll back one this invocation just created."""
        self.call("DELETE", f"repos/{owner}/{name}", f"delete {owner}/{name}")

    # --- settings ---------------------------------------------------------------------------

    def team_id(self, org: str, slug: str) -> int:
        """Return the id of team `slug` in `org`."""
        try:
            team = self.call("GET", f"orgs/{org}/teams/{slug}", f"get team {org}/{slug}")
        except NotFound as exc:
            raise NotFound(
                exc.action,
                exc.status,
                f"team {slug!r} does not exist in {org}: create it or "
                "configure an existing team slug",
            ) from None
        return int(team["id"])

    def set_variable(
        self, owner: str, name: str, var: str, value: str, *, environment: str | None = None
    ) -> None:
        """Create or update an Actions variable, at repository or environment level."""
        if environment:
            base = f"repos/{owner}/{name}/environments/{environment}/variables"
        else:
            base = f"repos/{owner}/{name}/actions/variables"
        action = f"set variable {var}" + (f" in environment {environment}" if environment else "")
        try:
            self.call("POST", base, action, {"name": var, "value": value})
        except AlreadyExists:
            self.call("PATCH", f"{base}/{var}", action, {"name": var, "value": value})

    def put_environment(
        self,
        owner: str,
        name: str,
        environment: str,
        *,
        reviewer_team_ids: list[int],
        prevent_self_review: bool,
    ) -> None:
        """Create or update a deployment environment, deployable from protected branches only."""
        body: dict[str, Any] = {
            "wait_timer": 0,
            "deployment_branch_policy": {
                "protected_branches": True,
                "custom_branch_policies": False,
            },
        }
        if reviewer_team_ids:
            body["reviewers"] = [{"type": "Team", "id": i} for i in reviewer_team_ids]
            body["prevent_self_review"] = prevent_self_review
        self.call(
            "PUT",
            f"repos/{owner}/{name}/environments/{environment}",
            f"configure environment {environment}",
            body,
        )

    def protect_branch(self, owner: str, name: str, branch: str, *, approvals: int = 1) -> None:
        """Require reviewed pull requests on `branch`; no force pushes, no deletion."""
        body = {
            "required_status_checks": None,
            "enforce_admins": True,
            "required_pull_request_reviews": {
                "dismiss_stale_reviews": True,
                "require_code_owner_reviews": True,
                "required_approving_review_count": approvals,
                "require_last_push_approval": True,
            },
            "restrictions": None,
            "required_linear_history": True,
            "allow_force_pushes": False,
            "allow_deletions": False,
            "required_conversation_resolution": True,
        }
        self.call(
            "PUT",
            f"repos/{owner}/{name}/branches/{branch}/protection",
            f"protect branch {branch}",
            body,
        )

    def grant_team(self, org: str, slug: str, owner: str, name: str, *, permission: str) -> None:
        """Give team `slug` `permission` (pull, push, maintain, ...) on the repository."""
        try:
            self.call(
                "PUT",
                f"orgs/{org}/teams/{slug}/repos/{owner}/{name}",
                f"give team {slug} {permission} access",
                {"permission": permission},
            )
        except NotFound as exc:
            raise NotFound(
                exc.action,
                exc.status,
                f"team {slug!r} does not exist in {org}: create it or "
                "configure an existing team slug",
            ) from None

    def get_environment(self, owner: str, name: str, environment: str) -> dict[str, Any]:
        """The environment as GitHub stored it (protection rules included)."""
        env: dict[str, Any] = self.call(
            "GET",
            f"repos/{owner}/{name}/environments/{environment}",
            f"read environment {environment}",
        )
        return env

    def get_oidc_subject(self, owner: str, name: str) -> dict[str, Any]:
        """The repository's OIDC subject customization (``use_default``, ``include_claim_keys``)."""
        sub: dict[str, Any] = self.call(
            "GET",
            f"repos/{owner}/{name}/actions/oidc/customization/sub",
            "read the OIDC subject customization",
        )
        return sub

    def set_oidc_subject(
        self, owner: str, name: str, *, use_default: bool, claim_keys: list[str] | None = None
    ) -> None:
        """Set the repository's OIDC subject customization."""
        body: dict[str, Any] = {"use_default": use_default}
        if not use_default:
            body["include_claim_keys"] = list(claim_keys or [])
        self.call(
            "PUT",
            f"repos/{owner}/{name}/actions/oidc/customization/sub",
            "set the OIDC subject customization",
            body,
        )

    def dispatch(self, owner: str, name: str, event_type: str, payload: Mapping[str, Any]) -> None:
        """Send a ``repository_dispatch`` event."""
        self.call(
            "POST",
            f"repos/{owner}/{name}/dispatches",
            f"dispatch {event_type} to {owner}/{name}",
            {"event_type": event_type, "client_payload": dict(payload)},
        )


# --- GitHub App authentication ----------------------------------------------------------------


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def app_jwt(app_id: str, private_key_pem: str, *, now: float | None = None) -> str:
    """Return a ten-minute RS256 JWT that authenticates as the GitHub App `app_id`."""
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    try:
        key = serialization.load_pem_private_key(private_key_pem.encode("utf-8"), password=None)
    except (ValueError, TypeError) as exc:
        raise ValueError(
            "the GitHub App private key is not a PEM RSA key: store the .pem file GitHub "
            "generated for the app in the secret's 'private_key' field"
        ) from exc
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("the GitHub App private key must be an RSA key")
    issued = int(now if now is not None else time.time()) - 60  # GitHub allows for clock drift
    header = _b64url(json.dumps({"alg": "RS256", "typ": "JWT"}).encode())
    payload = _b64url(json.dumps({"iat": issued, "exp": issued + 600, "iss": str(app_id)}).encode())
    signing_input = f"{header}.{payload}".encode("ascii")
    signature = key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
    return f"{header}.{payload}.{_b64url(signature)}"


@dataclass(frozen=True, repr=False)
class Access:
    """A token, and for an App installation token the permissions GitHub granted it."""

    token: str
    permissions: dict[str, str] | None = None  # None: a personal token, not known

    def __repr__(self) -> str:
        return f"Access(permissions={self.permissions!r})"

    def missing(self, required: Mapping[str, str]) -> list[str]:
        """The `name: level` entries of `required` this token lacks (none for a PAT)."""
        if self.permissions is None:
            return []
        levels = ("read", "write", "admin")
        return [
            f"{name}: {level}"
            for name, level in sorted(required.items())
            if self.permissions.get(name) not in levels[levels.index(level) :]
        ]


def installation_token(
    app_id: str,
    private_key_pem: str,
    org: str,
    *,
    installation_id: int | None = None,
    base_url: str = DEFAULT_API_URL,
    retry: RetryPolicy | None = None,
    timeout: float = 10.0,
) -> Access:
    """Exchange the app's JWT for an installation token of the app's installation on `org`."""
    jwt = app_jwt(app_id, private_key_pem)
    with GitHubClient(jwt, base_url=base_url, retry=retry, timeout=timeout) as app:
        if installation_id is None:
            inst = app.call("GET", f"orgs/{org}/installation", f"find app installation on {org}")
            installation_id = int(inst["id"])
        token = app.call(
            "POST",
            f"app/installations/{installation_id}/access_tokens",
            "create installation token",
        )
    return Access(str(token["token"]), dict(token.get("permissions") or {}))


@dataclass(frozen=True, repr=False)
class Credentials:
    """GitHub credentials from the Secrets Manager secret: an App (preferred) or a PAT."""

    app_id: str | None = None
    private_key: str | None = None
    installation_id: int | None = None
    token: str | None = None

    def __repr__(self) -> str:
        kind = "app" if self.app_id else "token"
        return f"Credentials(kind={kind!r}, app_id={self.app_id!r})"

    @classmethod
    def from_secret(cls, secret: str) -> Credentials:
        """Parse the secret's JSON: ``{app_id, private_key[, installation_id]}`` or ``{token}``."""
        try:
            data = json.loads(secret)
        except ValueError:
            data = None
        if not isinstance(data, dict):
            raise ValueError(
                "the GitHub secret is not a JSON object: store "
                '{"app_id": "...", "private_key": "-----BEGIN ..."} or {"token": "..."}'
            )
        if data.get("app_id") and data.get("private_key"):
            inst = data.get("installation_id")
            return cls(
                app_id=str(data["app_id"]),
                private_key=str(data["private_key"]),
                installation_id=int(inst) if inst else None,
            )
        if data.get("token"):
            return cls(token=str(data["token"]))
        raise ValueError(
            "the GitHub secret has neither 'app_id' and 'private_key' nor 'token': store the "
            "GitHub App's id and private key (preferred) or a fine-grained token"
        )

    def token_for(
        self,
        org: str,
        *,
        base_url: str = DEFAULT_API_URL,
        retry: RetryPolicy | None = None,
        timeout: float = 10.0,
    ) -> str:
        """Return a token for `org`: a fresh installation token for an App, else the PAT."""
        return self.access_for(org, base_url=base_url, retry=retry, timeout=timeout).token

    def access_for(
        self,
        org: str,
        *,
        base_url: str = DEFAULT_API_URL,
        retry: RetryPolicy | None = None,
        timeout: float = 10.0,
    ) -> Access:
        """Like `token_for`, with the permissions GitHub granted an App installation token."""
        if self.app_id and self.private_key:
            return installation_token(
                self.app_id,
                self.private_key,
                org,
                installation_id=self.installation_id,
                base_url=base_url,
                retry=retry,
                timeout=timeout,
            )
        if not self.token:
            raise ValueError("no GitHub credentials configured")
        return Access(self.token)
