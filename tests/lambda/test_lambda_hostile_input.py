"""The clone-repo Lambda under hostile or unlucky input: a ResponseURL that never answers, a
create whose answer was lost, typed answers that are not what they claim to be."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from lambda_support import Catcher, FakeContext, load_event
from test_lambda_clone_repo import FULL_NAME, create_props, invoke

from mlops_suite import rendering
from mlops_suite.handlers import clone_repo
from mlops_suite.handlers.resource import PropertyError, repo_request
from mlops_suite.local.github_double import GitHubDouble

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def silent_url() -> Iterator[str]:
    """A ResponseURL whose server accepts connections and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}/response"
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    server.close()


def test_the_response_sender_stops_at_the_deadline(platform: GitHubDouble, silent_url: str) -> None:
    # Three tries of ten seconds each used to hold a 4 s function for 30 s.
    event = load_event("clone-repo-delete")
    event["ResponseURL"] = silent_url
    context = FakeContext(4.0)

    started = time.monotonic()
    clone_repo.handler(event, context)

    assert time.monotonic() - started < 4.5


def test_a_create_whose_answer_was_lost_is_finished(
    platform: GitHubDouble, catcher: Catcher
) -> None:
    # GitHub makes the repository, the answer never arrives; the retried POST finds the name
    # taken. The repository carries no topic yet, but its description carries the marker.
    platform.drop("POST", r"/orgs/my-org/repos", after=True)

    resp = invoke(catcher, "clone-repo-create")

    assert resp["Status"] == "SUCCESS", resp["Reason"]
    # the work (201), the lost answer (0), the retry (422 name already exists)
    assert [c.status for c in platform.calls_to("POST", r"/orgs/my-org/repos")] == [201, 0, 422]
    repo = platform.repos[FULL_NAME]
    assert repo.topics == ["mlops-suite", "p-abcdef012345"]
    assert repo.commit_count() == 1


def test_create_resumes_the_empty_repo_an_earlier_timeout_left(
    platform: GitHubDouble, catcher: Catcher
) -> None:
    left = platform.add_repo(
        "my-org", "churn-model", description="Churn model [mlops-suite p-abcdef012345]"
    )

    resp = invoke(catcher, "clone-repo-create")

    assert resp["Status"] == "SUCCESS", resp["Reason"]
    assert platform.repos[FULL_NAME].id == left.id
    assert left.topics == ["mlops-suite", "p-abcdef012345"]
    assert left.branches() == ["main"]


@pytest.mark.parametrize(
    "description",
    ["", "Churn model", "[mlops-suite p-000000000000]"],
    ids=["none", "plain", "other"],
)
def test_an_empty_repo_without_our_marker_is_still_refused(
    platform: GitHubDouble, catcher: Catcher, description: str
) -> None:
    platform.add_repo("my-org", "churn-model", description=description)

    resp = invoke(catcher, "clone-repo-create")

    assert resp["Status"] == "FAILED"
    assert "was not created for this project" in resp["Reason"]
    assert platform.repos[FULL_NAME].topics == []


@pytest.fixture(scope="module")
def questions() -> dict[str, dict[str, Any]]:
    return rendering.questionnaire(ROOT)


@pytest.mark.parametrize("value", ["maybe", "1.5", " true ", "True", "yes", "1", ""])
def test_booleans_are_exactly_true_or_false(
    questions: dict[str, dict[str, Any]], value: str
) -> None:
    with pytest.raises(PropertyError, match=f'use_spot_training is "{value}": use "true"'):
        repo_request(create_props(use_spot_training=value), questions, github_org="my-org")


@pytest.mark.parametrize("value", ["high", "0.8 ", " 0.8", "nan", "inf", "1e", "0,8", "true"])
def test_floats_are_plain_numbers(questions: dict[str, dict[str, Any]], value: str) -> None:
    with pytest.raises(PropertyError, match=f'model_auc_threshold is "{value}": use a decimal'):
        repo_request(create_props(model_auc_threshold=value), questions, github_org="my-org")


@pytest.mark.parametrize(
    ("spot", "threshold", "expected"),
    [("true", "0.8", (True, 0.8)), ("false", "1", (False, 1.0)), ("false", ".75", (False, 0.75))],
)
def test_typed_answers_are_parsed_by_the_questions_type(
    questions: dict[str, dict[str, Any]], spot: str, threshold: str, expected: tuple[bool, float]
) -> None:
    req = repo_request(
        create_props(use_spot_training=spot, model_auc_threshold=threshold),
        questions,
        github_org="my-org",
    )
    assert (req.answers["use_spot_training"], req.answers["model_auc_threshold"]) == expected


def test_a_create_with_a_bad_boolean_fails_naming_it(
    platform: GitHubDouble, catcher: Catcher
) -> None:
    resp = invoke(catcher, "clone-repo-create", properties=create_props(use_spot_training="maybe"))

    assert resp["Status"] == "FAILED"
    assert 'use_spot_training is "maybe": use "true" or "false"' in resp["Reason"]
    assert not platform.repos
