"""The suite's own CI and nightly drift workflows, run through the harness on a suite snapshot."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from mlops_suite import rendering
from mlops_suite.local.github_double import GitHubDouble
from mlops_suite.local.workflow_actions import standard_actions, stub
from mlops_suite.local.workflow_harness import (
    Context,
    JobFailed,
    load_workflow,
    run_job,
)

from .conftest import tool_path

WORKFLOWS = rendering.SUITE_ROOT / ".github" / "workflows"


@pytest.fixture(scope="module")
def suite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The suite's working tree as a fresh clone (committed snapshot), the runner's workspace."""
    return rendering.snapshot(tmp_path_factory.mktemp("suite-ci") / "suite")


def matrix_entry(name: str) -> dict[str, Any]:
    ci = load_workflow(WORKFLOWS / "ci.yml")
    entries = ci["jobs"]["checks"]["strategy"]["matrix"]["include"]
    return dict(next(e for e in entries if e["name"] == name))


def path_without(tool: str, tmp_path: Path) -> str:
    """PATH with every directory that holds `tool` replaced by a copy of links without it."""
    parts = []
    for i, folder in enumerate(tool_path().split(os.pathsep)):
        here = Path(folder)
        if (here / tool).exists():
            shadow = tmp_path / f"path-{i}"
            shadow.mkdir()
            for entry in here.iterdir():
                if entry.name != tool:
                    (shadow / entry.name).symlink_to(entry)
            here = shadow
        parts.append(str(here))
    return os.pathsep.join(parts)


def test_every_default_session_runs_in_exactly_one_ci_job() -> None:
    listed = subprocess.run(
        [sys.executable, "-m", "nox", "-l", "--json"],
        cwd=rendering.SUITE_ROOT, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    defaults = [s["session"] for s in json.loads(listed)]
    ci = load_workflow(WORKFLOWS / "ci.yml")
    jobs = [e["sessions"].split() for e in ci["jobs"]["checks"]["strategy"]["matrix"]["include"]]
    covered = [s for sessions in jobs for s in sessions]
    covered += [f"{s}({kind})" for kind in rendering.kinds() for s in ("render", "update")]
    assert sorted(covered) == sorted(defaults)


def test_kinds_job_reads_the_kinds_from_copier(suite: Path) -> None:
    ctx = Context(repository="my-org/mlops-suite", env={"PATH": tool_path()})
    result = run_job(
        WORKFLOWS / "ci.yml", "kinds", workspace=suite, context=ctx, actions=standard_actions()
    )
    assert json.loads(result.outputs["kinds"]) == rendering.kinds()


def test_a_forced_skip_fails_the_terraform_job(suite: Path, tmp_path: Path) -> None:
    path = path_without("terraform", tmp_path)
    # Without MLOPS_SUITE_REQUIRE the session passes with a loud SKIPPED, as on a laptop ...
    env = {**os.environ, "PATH": path, "MLOPS_SUITE_REQUIRE": "0"}
    nox = [sys.executable, "-m", "nox", "-s", "terraform_fmt"]
    loose = subprocess.run(nox, cwd=suite, env=env, capture_output=True, text=True, check=False)
    assert loose.returncode == 0, loose.stderr
    assert "SKIPPED: terraform_fmt: terraform is not on PATH" in loose.stdout + loose.stderr
    # ... and the CI job, whose install step is missing here, fails on that SKIPPED.
    ctx = Context(
        repository="my-org/mlops-suite", env={"PATH": path}, matrix=matrix_entry("terraform")
    )
    actions = {**standard_actions(), "hashicorp/setup-terraform": stub()}  # a runner without it
    with pytest.raises(JobFailed, match="step 'nox' failed") as caught:
        run_job(WORKFLOWS / "ci.yml", "checks", workspace=suite, context=ctx, actions=actions)
    output = caught.value.step.output
    assert "SKIPPED is a failure here (MLOPS_SUITE_REQUIRE=1): terraform_fmt" in output
    assert "**terraform**: failure in" in caught.value.result.summary


def test_terraform_job_steps_run_against_the_local_mirror(suite: Path) -> None:
    # The job's own steps (pinned terraform, nox with MLOPS_SUITE_REQUIRE=1, job clock) with the
    # cheapest of its sessions; the full list runs in `nox -t iac` and in the GitHub job.
    entry = {**matrix_entry("terraform"), "sessions": "terraform_fmt"}
    ctx = Context(repository="my-org/mlops-suite", env={"PATH": tool_path()}, matrix=entry)
    result = run_job(
        WORKFLOWS / "ci.yml", "checks", workspace=suite, context=ctx, actions=standard_actions()
    )
    assert "provider mirror" in result.step("nox").output
    assert "Session terraform_fmt was successful" in result.step("nox").output
    assert "**terraform**: success in" in result.summary


def test_lambda_job_uploads_the_artifact_with_its_sha256(suite: Path, tmp_path: Path) -> None:
    store = tmp_path / "artifacts"
    ctx = Context(
        repository="my-org/mlops-suite", env={"PATH": tool_path()}, matrix=matrix_entry("lambda")
    )
    result = run_job(
        WORKFLOWS / "ci.yml", "checks", workspace=suite, context=ctx,
        actions=standard_actions(artifacts=store), timeout=1200,
    )  # fmt: skip
    uploaded = store / "mlops-suite-lambda"
    digest = hashlib.sha256((uploaded / "mlops-suite-lambda.zip").read_bytes()).hexdigest()
    assert (uploaded / "mlops-suite-lambda.zip.sha256").read_text().split()[0] == digest
    assert f"SHA-256 `{digest}`" in result.summary


@pytest.fixture
def suite_repo(github: GitHubDouble) -> str:
    return github.add_repo("my-org", "mlops-suite").full_name


def drift_report(github: GitHubDouble, suite: Path, full_name: str, result: str) -> Any:
    ctx = Context(
        event_name="schedule",
        repository=full_name,
        server_url=github.url,
        api_url=github.url,
        token=github.token,
        env={"PATH": tool_path()},
        needs={"drift": {"result": result, "outputs": {}}},
    )
    return run_job(WORKFLOWS / "drift.yml", "report", workspace=suite, context=ctx)


def test_drift_failure_opens_one_issue_then_comments(
    github: GitHubDouble, suite: Path, suite_repo: str
) -> None:
    assert drift_report(github, suite, suite_repo, "success").skipped
    assert github.issues.get(suite_repo, []) == []
    first = drift_report(github, suite, suite_repo, "failure")
    (issue,) = github.issues[suite_repo]
    assert issue["labels"] == [{"name": "drift"}]
    assert f"{github.url}/{suite_repo}/actions/runs/1" in issue["body"]
    assert f"Opened drift issue #{issue['number']}" in first.summary
    drift_report(github, suite, suite_repo, "failure")
    (issue,) = github.issues[suite_repo]
    assert len(issue["comments_list"]) == 1
    assert "The nightly drift build failed on" in issue["comments_list"][0]
