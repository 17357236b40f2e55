"""The workflow harness itself, on small hand-written workflows."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from mlops_suite.local.workflow_actions import standard_actions, stub
from mlops_suite.local.workflow_expr import ExpressionError, condition, evaluate, interpolate
from mlops_suite.local.workflow_harness import (
    Context,
    JobFailed,
    WorkflowError,
    run_job,
)

SHA = "0123456789abcdef0123456789abcdef01234567"


@pytest.fixture
def clone(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "hello.txt").write_text("hello\n", encoding="utf-8")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@localhost"]
    subprocess.run([*git, "init", "-q", "-b", "main"], cwd=repo, check=True)
    subprocess.run([*git, "add", "-A"], cwd=repo, check=True)
    subprocess.run([*git, "commit", "-q", "-m", "init"], cwd=repo, check=True)
    return repo


def workflow(steps: list[dict[str, Any]], **job: Any) -> dict[str, Any]:
    return yaml.safe_load(
        yaml.safe_dump({"name": "t", "on": {"push": {}}, "jobs": {"j": {"steps": steps, **job}}})
    )


def test_steps_share_outputs_env_path_and_summary(clone: Path) -> None:
    wf = workflow(
        [
            {"uses": f"actions/checkout@{SHA}", "with": {"persist-credentials": False}},
            {
                "id": "first",
                "run": 'echo "greeting=$(cat hello.txt)" >> "$GITHUB_OUTPUT"\n'
                'echo "FROM_ENV=set-by-first" >> "$GITHUB_ENV"\n'
                'printf "multi<<EOF\\nline 1\\nline 2\\nEOF\\n" >> "$GITHUB_OUTPUT"\n'
                'mkdir -p "$RUNNER_TEMP/bin" && printf "#!/bin/sh\\necho tool ran\\n" > '
                '"$RUNNER_TEMP/bin/mytool" && chmod +x "$RUNNER_TEMP/bin/mytool"\n'
                'echo "$RUNNER_TEMP/bin" >> "$GITHUB_PATH"',
            },
            {
                "name": "second",
                "id": "second",
                "env": {
                    "GREETING": "${{ steps.first.outputs.greeting }}",
                    "WHO": "${{ inputs.who || 'nobody' }}",
                    "COLOUR": "${{ vars.COLOUR }}",
                    "PAYLOAD": "${{ github.event.client_payload.ref }}",
                    "SECRET": "${{ secrets.API_KEY }}",
                },
                "run": 'test "$FROM_ENV" = set-by-first\nmytool\n'
                'echo "### $GREETING $WHO $COLOUR $PAYLOAD $SECRET" >> "$GITHUB_STEP_SUMMARY"\n'
                'echo "lines=${{ steps.first.outputs.multi }}"',
            },
        ],
        outputs={"greeting": "${{ steps.first.outputs.greeting }}"},
    )
    ctx = Context(
        event_name="repository_dispatch",
        event={"client_payload": {"ref": "v1.2.0"}},
        inputs={"who": "world"},
        vars={"COLOUR": "blue"},
        secrets={"API_KEY": "k"},
    )
    result = run_job(wf, "j", workspace=clone, context=ctx, actions=standard_actions())
    assert result.summary == "### hello world blue v1.2.0 k\n"
    assert "tool ran" in result.step("second").output
    assert "lines=line 1\nline 2" in result.step("second").output
    assert result.step("first").outputs["multi"] == "line 1\nline 2"
    assert result.outputs == {"greeting": "hello"}
    assert result.env["FROM_ENV"] == "set-by-first"


def test_failing_step_stops_the_job_and_is_named(clone: Path) -> None:
    wf = workflow(
        [
            {"name": "ok", "run": "echo fine"},
            {"name": "breaks", "run": "echo about to fail\nfalse\necho never"},
            {"name": "after", "run": "touch after"},
            {"name": "cleanup", "if": "always()", "run": "touch cleanup"},
            {"name": "on failure", "if": "${{ failure() }}", "run": "touch on-failure"},
        ]
    )
    with pytest.raises(JobFailed, match=r"step 'breaks' failed \(exit 1\)") as caught:
        run_job(wf, "j", workspace=clone)
    result = caught.value.result
    assert [(s.name, s.outcome) for s in result.steps] == [
        ("ok", "success"),
        ("breaks", "failure"),
        ("after", "skipped"),
        ("cleanup", "success"),
        ("on failure", "success"),
    ]
    assert "about to fail" in caught.value.step.output
    assert "never" not in caught.value.step.output
    assert not (clone / "after").exists()
    assert (clone / "cleanup").exists()


def test_pipefail_and_continue_on_error(clone: Path) -> None:
    wf = workflow(
        [
            {"id": "soft", "continue-on-error": True, "run": "false | true"},
            {"if": "steps.soft.outcome == 'failure'", "run": "touch soft-failed"},
        ]
    )
    result = run_job(wf, "j", workspace=clone)
    assert result.step("soft").outcome == "failure"
    assert (clone / "soft-failed").exists()


def test_if_conditions_skip_steps(clone: Path) -> None:
    wf = workflow(
        [
            {
                "name": "dispatch only",
                "if": "github.event_name == 'workflow_dispatch'",
                "run": "touch a",
            },
            {"name": "push only", "if": "${{ github.event_name == 'push' }}", "run": "touch b"},
        ]
    )
    result = run_job(wf, "j", workspace=clone, context=Context(event_name="push"))
    assert result.ran == ["push only"]
    assert (clone / "b").exists()
    assert not (clone / "a").exists()


def test_unknown_action_fails_by_name(clone: Path) -> None:
    wf = workflow([{"uses": f"someone/mystery-action@{SHA}"}])
    with pytest.raises(WorkflowError, match=r"no local equivalent declared for someone/mystery"):
        run_job(wf, "j", workspace=clone, actions=standard_actions())


def test_named_stub_stands_in(clone: Path) -> None:
    wf = workflow(
        [
            {"id": "m", "uses": f"someone/mystery-action@{SHA}"},
            {"env": {"V": "${{ steps.m.outputs.value }}"}, "run": 'test "$V" = 42'},
        ]
    )
    actions = {**standard_actions(), "someone/mystery-action": stub({"value": "42"})}
    run_job(wf, "j", workspace=clone, actions=actions)


def test_unpinned_action_is_refused(clone: Path) -> None:
    wf = workflow([{"uses": "actions/checkout@v5"}])
    with pytest.raises(WorkflowError, match="not pinned by SHA"):
        run_job(wf, "j", workspace=clone, actions=standard_actions())


def test_unknown_context_is_an_error(clone: Path) -> None:
    wf = workflow([{"env": {"X": "${{ nosuch.value }}"}, "run": "true"}])
    with pytest.raises(WorkflowError, match="unrecognized context 'nosuch'"):
        run_job(wf, "j", workspace=clone)


def test_aws_credentials_need_oidc_permission(clone: Path) -> None:
    wf = workflow(
        [
            {
                "uses": f"aws-actions/configure-aws-credentials@{SHA}",
                "with": {
                    "role-to-assume": "arn:aws:iam::123456789012:role/r",
                    "aws-region": "eu-west-1",
                },
            }
        ],
        permissions={"contents": "read"},
    )
    with pytest.raises(JobFailed, match="id-token: write"):
        run_job(wf, "j", workspace=clone, actions=standard_actions(aws=object()))


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("'a' == 'A'", True),
        ("1 == '1'", True),
        ("null || 'fallback'", "fallback"),
        ("'' && 'x'", ""),
        ("!contains(fromJSON('[\"a\",\"b\"]'), 'b')", False),
        ("startsWith('refs/tags/v1', 'refs/tags/')", True),
        ("format('{0}-{1}', 'a', 2)", "a-2"),
        ("github.event.missing.deep", None),
        ("(1 < 2) && (3 >= 3)", True),
        ("'it''s'", "it's"),
    ],
)
def test_expressions(expression: str, expected: Any) -> None:
    ctx = {"github": {"event": {}}}
    assert evaluate(expression, ctx) == expected


def test_condition_adds_success_unless_a_status_function_is_named() -> None:
    failed = {"success": False, "failure": True, "always": True, "cancelled": False}
    assert condition("true", {}, failed) is False
    assert condition("always() && true", {}, failed) is True
    assert interpolate("x-${{ 1 == 1 }}", {}) == "x-true"
    ctx = {"github": {"server_url": "https://h", "repository": "o/r"}}
    assert interpolate("${{ github.server_url }}/${{ github.repository }}", ctx) == "https://h/o/r"
    with pytest.raises(ExpressionError, match="unknown function nope"):
        evaluate("nope()", {})


def test_job_if_and_needs(clone: Path) -> None:
    wf = workflow(
        [{"env": {"V": "${{ needs.first.outputs.v }}"}, "run": 'test "$V" = go'}],
        needs="first",
        **{"if": "needs.first.outputs.v == 'go'"},
    )
    with pytest.raises(WorkflowError, match="needs 'first': pass its result"):
        run_job(wf, "j", workspace=clone)
    go = {"first": {"result": "success", "outputs": {"v": "go"}}}
    assert not run_job(wf, "j", workspace=clone, context=Context(needs=go)).skipped
    stop = {"first": {"result": "success", "outputs": {"v": "stop"}}}
    assert run_job(wf, "j", workspace=clone, context=Context(needs=stop)).skipped
    failed = {"first": {"result": "failure", "outputs": {"v": "go"}}}
    assert run_job(wf, "j", workspace=clone, context=Context(needs=failed)).skipped
