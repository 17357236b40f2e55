"""Fast render tests of the two deployment kinds: what the answers change, what they refuse."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import hcl2
import pytest
import yaml

from mlops_suite import rendering

ROOT = rendering.SUITE_ROOT
BASE = {
    "project_name": "churn-model",
    "owner": "ml-team",
    "github_org": "my-org",
    "dev_account_id": "111111111111",
    "preprod_account_id": "222222222222",
    "prod_account_id": "333333333333",
    "sagemaker_project_id": "p-abcdef012345",
}


@pytest.fixture(scope="module")
def suite(tmp_path_factory: pytest.TempPathFactory) -> str:
    return str(rendering.snapshot(tmp_path_factory.mktemp("suite")))


def render(suite: str, dst: Path, **answers: Any) -> Path:
    rendering.render(dst, {**BASE, **answers}, template=suite)
    return dst


def unquote(value: Any) -> str:
    """python-hcl2 keeps the quotes of string values."""
    return str(value).strip('"')


def tfvars(repo: Path, env: str) -> dict[str, Any]:
    with (repo / "deploy" / "environments" / f"{env}.tfvars").open(encoding="utf-8") as f:
        data: dict[str, Any] = hcl2.load(f)
    return data


def test_realtime_answers_reach_each_environment(suite: str, tmp_path: Path) -> None:
    repo = render(suite, tmp_path / "rt", repo_kind="realtime-inference",
                  preprod_serverless=True, prod_min_instances=3, prod_max_instances=6,
                  traffic_shifting="linear")  # fmt: skip
    preprod, prod = tfvars(repo, "preprod"), tfvars(repo, "prod")
    assert unquote(preprod["account_id"]) == "222222222222"
    assert unquote(prod["account_id"]) == "333333333333"
    assert "serverless" in preprod["endpoint"]
    assert "serverless" not in prod["endpoint"]
    assert (prod["endpoint"]["min_instances"], prod["endpoint"]["max_instances"]) == (3, 6)
    assert unquote(prod["endpoint"]["traffic_shifting"]) == "linear"
    backend = (repo / "deploy" / "environments" / "prod.backend.hcl").read_text(encoding="utf-8")
    # The bootstrap stack's names in the prod account (platform/bootstrap/bootstrap.yaml).
    assert 'bucket         = "mlops-suite-prod-tfstate-333333333333-eu-west-1"' in backend
    assert 'dynamodb_table = "mlops-suite-prod-tflock"' in backend
    deploy = yaml.safe_load((repo / ".github" / "workflows" / "deploy.yml").read_text())
    assert deploy[True]["repository_dispatch"]["types"] == ["model-approved"]  # YAML 1.1: on
    assert deploy["jobs"]["prod"]["needs"] == ["check", "preprod"]
    assert deploy["jobs"]["prod"]["environment"] == "prod"
    assert deploy["jobs"]["check"]["permissions"] == {"contents": "read"}
    for path in repo.rglob("*"):
        if path.is_file() and ".git" not in path.parts:
            text = path.read_text(encoding="utf-8", errors="ignore")
            assert not re.search(r"\{\{ *[a-z_]+ *\}\}|\{%", text), path


def test_monitoring_off_is_recorded_in_tfvars(suite: str, tmp_path: Path) -> None:
    repo = render(suite, tmp_path / "rt", repo_kind="realtime-inference",
                  enable_model_monitor=False)  # fmt: skip
    assert tfvars(repo, "prod")["monitoring"]["enabled"] is False


def test_batch_answers_reach_the_schedule(suite: str, tmp_path: Path) -> None:
    repo = render(suite, tmp_path / "b", repo_kind="batch-inference",
                  schedule_expression="rate(6 hours)", instance_type="ml.c5.xlarge")  # fmt: skip
    assert unquote(tfvars(repo, "preprod")["schedule"]["expression"]) == "rate(6 hours)"
    settings = (repo / "src" / "churn_model" / "settings.py").read_text(encoding="utf-8")
    assert 'TRANSFORM_INSTANCE_TYPE = "ml.c5.xlarge"' in settings
    assert (repo / "src" / "churn_model" / "local_run" / "steps" / "transform.py").is_file()
    recorded = yaml.safe_load((repo / ".copier-answers.yml").read_text(encoding="utf-8"))
    assert recorded["repo_kind"] == "batch-inference"


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        ({"repo_kind": "realtime-inference", "latency_budget_ms": 5}, "Latency budget 5 ms"),
        ({"repo_kind": "realtime-inference", "prod_min_instances": 4, "prod_max_instances": 2},
         "Prod maximum of 2 instances"),
        ({"repo_kind": "realtime-inference", "instance_type": "m5.large"},
         'instance type "m5.large"'),
        ({"repo_kind": "batch-inference", "schedule_expression": "nightly"}, 'schedule "nightly"'),
        ({"repo_kind": "batch-inference", "training_repo_name": "a b"}, "training repository name"),
    ],
)  # fmt: skip
def test_bad_answers_are_refused_naming_the_value(
    suite: str, tmp_path: Path, answers: dict[str, Any], message: str
) -> None:
    with pytest.raises(rendering.RenderError, match=re.escape(message)):
        render(suite, tmp_path / "bad", **answers)
