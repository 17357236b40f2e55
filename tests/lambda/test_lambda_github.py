"""The GitHub layer and the double on their own: statuses, error bodies, retries, auth, real git."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from mlops_suite.github.client import (
    AlreadyExists,
    Credentials,
    Forbidden,
    GitHubClient,
    NotFound,
    RateLimited,
    RetryPolicy,
    Unavailable,
    app_jwt,
    rate_limit_wait,
)
from mlops_suite.github.publish import commit_directory, push_directory, remote_branches
from mlops_suite.local.github_double import GitHubDouble


def fast_retry(**kwargs: float) -> RetryPolicy:
    return RetryPolicy(base_delay=0.01, max_delay=0.05, **kwargs)  # type: ignore[arg-type]


def raw(double: GitHubDouble, method: str, path: str, token: str | None = None, **kw: object):  # type: ignore[no-untyped-def]
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.request(method, f"{double.url}{path}", headers=headers, timeout=5, **kw)  # type: ignore[arg-type]


def test_double_answers_with_githubs_statuses_and_bodies(double: GitHubDouble) -> None:
    body = {"name": "churn"}
    assert raw(double, "POST", "/orgs/my-org/repos", json=body).status_code == 401
    bad = raw(double, "POST", "/orgs/my-org/repos", "ghp_wrong", json=body)
    assert bad.status_code == 401
    assert bad.json()["message"] == "Bad credentials"
    assert raw(double, "POST", "/orgs/my-org/repos", double.token, json=body).status_code == 201
    taken = raw(double, "POST", "/orgs/my-org/repos", double.token, json=body)
    assert taken.status_code == 422
    assert taken.json()["errors"][0]["message"] == "name already exists on this account"
    assert raw(double, "GET", "/repos/my-org/nope", double.token).status_code == 404
    assert raw(double, "POST", "/orgs/other/repos", double.token, json=body).status_code == 404
    var = {"name": "X", "value": "1"}
    path = "/repos/my-org/churn/actions/variables"
    assert raw(double, "POST", path, double.token, json=var).status_code == 201
    assert raw(double, "POST", path, double.token, json=var).status_code == 409
    limited = double.rate_limit(path=r"/repos/my-org/churn", reset_in=30)
    resp = raw(double, "GET", "/repos/my-org/churn", double.token)
    assert resp.status_code == 403
    assert resp.headers["x-ratelimit-remaining"] == "0"
    assert int(resp.headers["x-ratelimit-reset"]) >= int(time.time()) + 29
    assert limited.fired == 1
    assert raw(double, "GET", "/repos/my-org/churn", double.token).status_code == 200
    assert raw(double, "GET", "/repos/my-org/churn/hooks", double.token).status_code == 404
    assert double.unrouted == ["GET /repos/my-org/churn/hooks"]
    double.unrouted.clear()


def test_faults_fire_on_the_nth_matching_call(double: GitHubDouble) -> None:
    fault = double.fail("GET", r"/orgs/my-org/teams/.*", status=500, nth=2, times=2)
    statuses = [raw(double, "GET", "/orgs/my-org/teams/ml-team", double.token).status_code
                for _ in range(5)]  # fmt: skip
    assert statuses == [200, 500, 500, 200, 200]
    assert fault.seen == 5
    assert fault.fired == 2


def test_client_errors_say_what_failed(double: GitHubDouble) -> None:
    with GitHubClient(double.token, base_url=double.url, retry=fast_retry()) as gh:
        with pytest.raises(NotFound, match=r"team 'nobody' does not exist in my-org"):
            gh.team_id("my-org", "nobody")
        gh.create_org_repo("my-org", "churn", "d")
        with pytest.raises(AlreadyExists, match="name already exists on this account"):
            gh.create_org_repo("my-org", "churn", "d")
        double.fail(
            "PUT", r".*/topics", status=403, message="Resource not accessible by integration"
        )
        with pytest.raises(Forbidden, match=r"set topics failed \(HTTP 403\): Resource not"):
            gh.set_topics("my-org", "churn", ["a"])
    with (
        GitHubClient("ghp_wrong", base_url=double.url, retry=fast_retry()) as gh,
        pytest.raises(Forbidden, match="Bad credentials"),
    ):
        gh.get_repo("my-org", "churn")


def test_client_retries_5xx_drops_and_timeouts_then_gives_up(double: GitHubDouble) -> None:
    retry = fast_retry()
    with GitHubClient(double.token, base_url=double.url, retry=retry, timeout=0.5) as gh:
        double.fail("GET", r"/repos/my-org/a", status=502)
        double.drop("GET", r"/repos/my-org/a", nth=2)
        double.delay("GET", r"/repos/my-org/a", seconds=1.0, nth=3)
        assert gh.get_repo("my-org", "a") is None  # 502, drop, timeout, then the real 404
        assert len(retry.sleeps) == 3
        double.fail("GET", r"/repos/my-org/b", status=503, times=99)
        with pytest.raises(Unavailable, match=r"get my-org/b failed \(HTTP 503\)"):
            gh.get_repo("my-org", "b")
    assert len(double.calls_to("GET", r"/repos/my-org/b")) == retry.max_retries + 1


def test_rate_limit_waits_for_reset_but_never_past_the_deadline(double: GitHubDouble) -> None:
    retry = fast_retry(deadline=time.monotonic() + 5)
    with GitHubClient(double.token, base_url=double.url, retry=retry) as gh:
        double.rate_limit("GET", r"/repos/my-org/a", reset_in=1)
        assert gh.get_repo("my-org", "a") is None
        assert 0 < retry.sleeps[-1] <= 1.6
        double.rate_limit("GET", r"/repos/my-org/a", reset_in=30)  # resets after the deadline
        started = time.monotonic()
        with pytest.raises(RateLimited, match="the limit resets in"):
            gh.get_repo("my-org", "a")
        assert time.monotonic() - started < 1  # it did not sleep into the deadline


def test_rate_limit_wait_reads_githubs_headers() -> None:
    def resp(status: int, headers: dict[str, str], message: str = "x") -> httpx.Response:
        return httpx.Response(status, headers=headers, json={"message": message})

    assert rate_limit_wait(resp(403, {"retry-after": "7"})) == 7
    reset = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "1000"}
    assert rate_limit_wait(resp(403, reset), now=990) == 10.5
    assert rate_limit_wait(resp(429, {}, "secondary rate limit")) == 60
    assert rate_limit_wait(resp(403, {"x-ratelimit-remaining": "12"})) is None
    assert rate_limit_wait(resp(500, {"retry-after": "1"})) is None


def test_app_authentication(double: GitHubDouble) -> None:
    creds = Credentials.from_secret(
        json.dumps({"app_id": double.app_id, "private_key": double.app_private_key_pem})
    )
    assert double.app_private_key_pem not in repr(creds)
    token = creds.token_for("my-org", base_url=double.url)
    assert token in double.installation_tokens
    with GitHubClient(token, base_url=double.url) as gh:
        assert gh.get_repo("my-org", "x") is None
    # A JWT from another key, or an expired one, is refused.
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    other = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()  # fmt: skip
    for jwt in (app_jwt(double.app_id, other), app_jwt(double.app_id, double.app_private_key_pem,
                                                        now=time.time() - 3600)):  # fmt: skip
        assert raw(double, "GET", "/orgs/my-org/installation", jwt).status_code == 401
    # An installation token cannot call the app endpoints; the JWT cannot call repo endpoints.
    assert raw(double, "GET", "/orgs/my-org/installation", token).status_code == 401
    jwt = app_jwt(double.app_id, double.app_private_key_pem)
    assert raw(double, "GET", "/repos/my-org/x", jwt).status_code == 403


@pytest.mark.parametrize(
    ("secret", "message"),
    [
        ("not json", "not a JSON object"),
        ('{"app_id": "1"}', "neither 'app_id' and 'private_key' nor 'token'"),
    ],
)
def test_bad_secrets_say_what_to_store(secret: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Credentials.from_secret(secret)


def test_bad_private_key_is_named() -> None:
    with pytest.raises(ValueError, match="not a PEM RSA key"):
        app_jwt("1", "-----BEGIN RSA PRIVATE KEY-----\nnope\n-----END RSA PRIVATE KEY-----\n")


def test_push_and_clone_are_real_git(double: GitHubDouble, tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    (tree / "scripts").mkdir(parents=True)
    (tree / "README.md").write_text("# hello\n")
    (tree / "scripts" / "run.sh").write_text("#!/bin/sh\necho hi\n")
    (tree / "scripts" / "run.sh").chmod(0o755)
    double.add_repo("my-org", "churn")
    url = double.clone_url("my-org/churn")
    assert remote_branches(url, double.token) == set()
    push_directory(tree, url, double.token, message="Initial", author="Bot <bot@example.com>")
    assert remote_branches(url, double.token) == {"main"}
    assert double.repos["my-org/churn"].files() == {
        "README.md": b"# hello\n",
        "scripts/run.sh": b"#!/bin/sh\necho hi\n",
    }
    with pytest.raises(Exception, match=r"(?i)unauthori|credentials"):
        remote_branches(url, "ghp_wrong")
    git = shutil.which("git")
    if git is None:
        pytest.skip("SKIPPED: no git binary to clone with; dulwich's push above still ran")
    basic = base64.b64encode(f"x-access-token:{double.token}".encode()).decode()
    clone = tmp_path / "clone"
    subprocess.run(
        [git, "-c", f"http.extraHeader=Authorization: Basic {basic}", "clone", "-q", url,
         str(clone)], check=True, capture_output=True,
    )  # fmt: skip
    assert (clone / "README.md").read_text() == "# hello\n"
    assert (clone / "scripts" / "run.sh").stat().st_mode & 0o100
    log = subprocess.run([git, "-C", str(clone), "log", "--format=%an|%s"], check=True,
                         capture_output=True, text=True).stdout  # fmt: skip
    assert log.strip() == "Bot|Initial"


def test_empty_tree_is_refused(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="nothing to publish"):
        commit_directory(tmp_path, message="m", author="a <a@b>")


def test_archived_repo_refuses_writes(double: GitHubDouble) -> None:
    double.add_repo("my-org", "old").archived = True
    with (
        GitHubClient(double.token, base_url=double.url, retry=fast_retry()) as gh,
        pytest.raises(Forbidden, match="archived"),
    ):
        gh.set_variable("my-org", "old", "X", "1")
