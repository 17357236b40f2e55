"""Platform CI workflow: least privilege, pinned actions, PR plans, gated applies on main."""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml

Iac = Any  # the `iac` fixture of tests/iac/conftest.py
PINNED = re.compile(r"^[\w.-]+/[\w.-]+(/[\w./-]+)?@[0-9a-f]{40}$")


@pytest.fixture(scope="module")
def workflow(iac: Iac) -> dict[str, Any]:
    path = iac.root / ".github" / "workflows" / "platform.yml"
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return data


def test_least_privilege(workflow: dict[str, Any]) -> None:
    """No workflow-wide permissions; each job asks for its own; only AWS jobs get id-token."""
    assert workflow["permissions"] == {}
    for name, job in workflow["jobs"].items():
        perms = job["permissions"]
        assert perms.get("contents") == "read", name
        assert set(perms) <= {"contents", "id-token"}, f"{name} asks for {perms}"
        uses_aws = any("configure-aws-credentials" in s.get("uses", "") for s in job["steps"])
        assert (perms.get("id-token") == "write") == uses_aws, name


def test_actions_pinned_and_checkout_without_credentials(
    iac: Iac, workflow: dict[str, Any]
) -> None:
    """Every action is pinned by a full commit SHA with a version comment."""
    text = (iac.root / ".github" / "workflows" / "platform.yml").read_text(encoding="utf-8")
    uses = re.findall(r"uses:\s*(\S+)(.*)", text)
    assert uses
    for ref, comment in uses:
        assert PINNED.match(ref), f"{ref} is not pinned by a 40-character SHA"
        assert re.search(r"#\s*v\d+", comment), f"{ref} has no version comment"
    for name, job in workflow["jobs"].items():
        for step in job["steps"]:
            if step.get("uses", "").startswith("actions/checkout@"):
                assert step["with"]["persist-credentials"] is False, name


def test_plans_on_pull_requests_with_the_plan_environments(workflow: dict[str, Any]) -> None:
    """Pull requests plan every environment through its <env>-plan environment, without locking."""
    plan = workflow["jobs"]["plan"]
    assert plan["if"] == "github.event_name == 'pull_request'"
    assert plan["environment"] == "${{ matrix.environment }}-plan"
    assert plan["strategy"]["matrix"]["environment"] == ["dev", "preprod", "prod"]
    run = " ".join(s.get("run", "") for s in plan["steps"])
    assert "terraform plan" in run
    assert "-lock=false" in run
    assert "terraform apply" not in run


def test_applies_on_main_in_order_behind_environments(workflow: dict[str, Any]) -> None:
    """dev, then preprod, then prod; each in its GitHub environment; only on pushes to main."""
    jobs = workflow["jobs"]
    assert "refs/heads/main" in jobs["apply-dev"]["if"]
    assert "push" in jobs["apply-dev"]["if"]
    assert jobs["apply-preprod"]["needs"] == "apply-dev"
    assert jobs["apply-prod"]["needs"] == "apply-preprod"
    for env in ("dev", "preprod", "prod"):
        job = jobs[f"apply-{env}"]
        assert job["environment"] == env
        runs = [s.get("run", "") for s in job["steps"]]
        assert any(f"platform/{env}.tfstate" in r for r in runs), env
        assert any("terraform apply" in r for r in runs), env
    assert workflow["concurrency"]["cancel-in-progress"] is False


def test_checks_run_the_iac_sessions(workflow: dict[str, Any]) -> None:
    """checkov and the Terraform tests run on every pull request, through nox."""
    on = workflow.get("on") or workflow.get(True)
    assert "pull_request" in on
    run = " ".join(s.get("run", "") for s in workflow["jobs"]["checks"]["steps"])
    for session in ("terraform_test", "platform_checkov", "terraform_validate", "iac_policy"):
        assert session in run, session
