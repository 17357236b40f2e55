"""The double's bodies and headers are GitHub's: held to GitHub's response models, and the client
handles each shape GitHub answers with (string errors, 429, secondary limits, HTML 5xx, quota)."""

from __future__ import annotations

import copy
import time
from typing import Any

import httpx
import pytest

from mlops_suite.github.client import GitHubClient, GitHubError, RateLimited, RetryPolicy
from mlops_suite.local.github_double import GitHubDouble, bodies, conformance


def fast_retry(**kwargs: Any) -> RetryPolicy:
    return RetryPolicy(base_delay=0.01, max_delay=0.05, **kwargs)


def served_repo(double: GitHubDouble) -> dict[str, Any]:
    client = GitHubClient(double.token, base_url=double.url)
    repo: dict[str, Any] = client.create_org_repo("my-org", "r", "d")
    return repo


def test_every_served_body_names_a_model_and_validates(double: GitHubDouble) -> None:
    served_repo(double)
    assert double.conformance
    assert double.served
    for item in double.served:
        assert conformance.problem(item.route, item.status, item.body) is None


@pytest.mark.parametrize(
    ("path", "field"),
    [
        (("node_id",), "node_id"),
        (("owner", "id"), "owner.id"),
        (("created_at",), "created_at"),
        (("clone_url",), "clone_url"),
    ],
)
def test_a_body_that_loses_a_documented_field_fails(
    double: GitHubDouble, path: tuple[str, ...], field: str
) -> None:
    body = copy.deepcopy(served_repo(double))
    target = body
    for key in path[:-1]:
        target = target[key]
    del target[path[-1]]

    problem = conformance.problem("create_repo", 201, body)

    assert problem is not None
    assert field in problem
    assert "FullRepository" in problem


def test_wrong_types_fail_strictly(double: GitHubDouble) -> None:
    installation = bodies.installation(double, "my-org")
    assert conformance.problem("get_installation", 200, installation) is None
    installation["app_id"] = str(installation["app_id"])  # as the double once served it
    assert "app_id" in str(conformance.problem("get_installation", 200, installation))


def test_the_double_refuses_to_serve_a_nonconforming_body(
    double: GitHubDouble, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = bodies.repository

    def thin(gh: GitHubDouble, r: Any) -> dict[str, Any]:
        body = real(gh, r)
        del body["owner"]["id"]  # what the double used to serve
        return body

    monkeypatch.setattr(bodies, "repository", thin)
    resp = httpx.post(
        f"{double.url}/orgs/my-org/repos",
        json={"name": "r"},
        headers={"Authorization": f"Bearer {double.token}"},
    )

    assert resp.status_code == 500
    assert "owner.id" in resp.json()["message"]
    assert double.nonconforming == [double.nonconforming[0]]
    assert "owner.id" in double.nonconforming[0]
    double.nonconforming.clear()  # seen; the fixture checks the rest


def test_every_route_with_a_body_declares_its_model() -> None:
    from mlops_suite.local.github_double import routes

    no_body = {"delete_repo", "update_variable", "update_environment_variable", "dispatch"}
    no_body.add("add_team_repo")  # 204 No Content, as on GitHub
    names = {r.name for r in routes.served_by()}
    assert names - no_body == set(conformance.SUCCESS_MODELS)


def test_string_and_object_errors_both_reach_the_message(double: GitHubDouble) -> None:
    client = GitHubClient(double.token, base_url=double.url, retry=fast_retry())
    double.add_repo("my-org", "r")
    with pytest.raises(GitHubError) as caught:
        client.set_topics("my-org", "r", ["Not A Topic"])
    assert "Not A Topic is not a valid topic" in str(caught.value)
    double.fail(
        "POST",
        r"/orgs/my-org/repos",
        status=422,
        message="Repository creation failed.",
        errors=[{"resource": "Repository", "code": "invalid", "field": "visibility"}],
    )
    with pytest.raises(GitHubError, match=r"visibility: invalid"):
        client.create_org_repo("my-org", "x", "d")


def test_a_429_with_retry_after_is_waited_out(double: GitHubDouble) -> None:
    double.add_repo("my-org", "r")
    double.rate_limit("GET", r"/repos/my-org/r", status=429, secondary=True, reset_in=1)
    client = GitHubClient(double.token, base_url=double.url, retry=fast_retry())

    assert client.get_repo("my-org", "r") is not None
    assert client.retry.sleeps == [1.0]


def test_a_secondary_limit_without_headers_waits_a_minute_or_fails_in_time(
    double: GitHubDouble,
) -> None:
    double.add_repo("my-org", "r")
    double.fail(
        "GET",
        r"/repos/my-org/r",
        status=403,
        message="You have exceeded a secondary rate limit. Please wait a few minutes.",
    )
    retry = fast_retry(deadline=time.monotonic() + 5)
    client = GitHubClient(double.token, base_url=double.url, retry=retry)
    with pytest.raises(RateLimited, match="secondary rate limit"):
        client.get_repo("my-org", "r")  # 60 s does not fit in the 5 s left
    assert retry.sleeps == []


def test_html_5xx_pages_are_retried_and_never_dumped(double: GitHubDouble) -> None:
    double.add_repo("my-org", "r")
    double.fail("GET", r"/repos/my-org/r", status=502, html=True, times=99)
    client = GitHubClient(double.token, base_url=double.url, retry=fast_retry(max_retries=2))

    with pytest.raises(GitHubError) as caught:
        client.get_repo("my-org", "r")

    assert "an HTML error page" in str(caught.value)
    assert "<html" not in str(caught.value)
    assert len(double.calls_to("GET", r"/repos/my-org/r")) == 3


def test_rate_limit_headers_on_success_are_honoured(double: GitHubDouble) -> None:
    double.add_repo("my-org", "r")
    resp = httpx.get(
        f"{double.url}/repos/my-org/r", headers={"Authorization": f"Bearer {double.token}"}
    )
    assert int(resp.headers["x-ratelimit-remaining"]) < 5000
    assert resp.headers["x-ratelimit-resource"] == "core"
    # The last request of the quota succeeds; the next call waits for the reset first.
    double.rate_remaining = 1
    client = GitHubClient(double.token, base_url=double.url, retry=fast_retry())
    client.get_repo("my-org", "r")
    assert client.rate_limit_reset is not None
    client.rate_limit_reset = time.time() + 1
    double.rate_remaining = 5000
    client.get_repo("my-org", "r")
    assert len(client.retry.sleeps) == 1
    assert 0.5 < client.retry.sleeps[0] <= 2.0


def test_a_used_up_quota_that_outlasts_the_deadline_fails_at_once(double: GitHubDouble) -> None:
    double.add_repo("my-org", "r")
    client = GitHubClient(
        double.token, base_url=double.url, retry=fast_retry(deadline=time.monotonic() + 2)
    )
    client.rate_limit_reset = time.time() + 30
    with pytest.raises(RateLimited, match="no API quota left"):
        client.get_repo("my-org", "r")
