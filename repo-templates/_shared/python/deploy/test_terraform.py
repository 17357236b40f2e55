"""deploy-terraform against a stand-in terraform that keeps state: plan, apply, roll back."""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path

import pytest

from {{ module_name }} import deploy, settings
from {{ module_name }}.release import partition

FAKE = """#!@PYTHON@
import json, sys
from pathlib import Path
args = sys.argv[1:]
assert args[0] == "-chdir=deploy", args
here = Path("deploy")
with (here / "calls.jsonl").open("a") as log:
    log.write(json.dumps(args[1:]) + "\\n")
state = here / "state.json"
cmd = args[1]
if cmd == "output":
    if not state.exists():  # as Terraform 1.11 does on an empty state: a warning, exit 0
        print("Warning: No outputs found")
        sys.exit(0)
    print(json.loads(state.read_text())["model_package_arn"], end="")
elif cmd == "plan":
    arn = next(a.split("=", 2)[2] for a in args if a.startswith("-var=model_package_arn="))
    if "bad" in arn:
        sys.exit("Error: plan failed")
    out = next(a.split("=", 1)[1] for a in args if a.startswith("-out="))
    (here / out).write_text(json.dumps({"model_package_arn": arn}))
elif cmd == "apply":
    state.write_text((here / args[-1]).read_text())
"""


def arn(version: int) -> str:
    return (
        f"arn:{partition(settings.REGION)}:sagemaker:{settings.REGION}:{settings.DEV_ACCOUNT_ID}:"
        f"model-package/{settings.MODEL_PACKAGE_GROUP}/{version}"
    )


@pytest.fixture
def built(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """What the kind builds before each plan (the batch kind: its pipeline definition)."""
    calls: list[tuple[str, str]] = []

    def prepare(environment: str, arn: str) -> list[str]:
        calls.append((environment, arn))
        return []

    monkeypatch.setattr(deploy, "prepare", prepare)
    return calls


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, built: list[tuple[str, str]]) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "terraform"
    fake.write_text(FAKE.replace("@PYTHON@", sys.executable), encoding="utf-8")
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    (tmp_path / "deploy").mkdir()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("GITHUB_OUTPUT", str(tmp_path / "github_output"))
    return tmp_path


def calls(repo: Path) -> list[list[str]]:
    lines = (repo / "deploy" / "calls.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines]


def deployed(repo: Path) -> str:
    return str(json.loads((repo / "deploy" / "state.json").read_text())["model_package_arn"])


def test_first_deploy_then_update_records_the_previous_package(
    repo: Path, built: list[tuple[str, str]]
) -> None:
    assert deploy.main(["plan", "--environment", "preprod", "--model-package-arn", arn(1)]) == 0
    assert calls(repo)[0] == [
        "init", "-input=false", "-reconfigure", "-backend-config=environments/preprod.backend.hcl"
    ]  # fmt: skip
    assert (repo / "github_output").read_text() == "previous=\n"
    assert deploy.main(["apply", "--environment", "preprod"]) == 0
    assert deployed(repo) == arn(1)

    assert deploy.main(["plan", "--environment", "preprod", "--model-package-arn", arn(2)]) == 0
    assert (repo / "github_output").read_text().splitlines()[-1] == f"previous={arn(1)}"
    plan = calls(repo)[-1]
    assert "-var-file=environments/preprod.tfvars" in plan
    assert "-out=preprod.tfplan" in plan
    assert deploy.main(["apply", "--environment", "preprod"]) == 0
    assert deployed(repo) == arn(2)

    assert deploy.main(["rollback", "--environment", "preprod", "--to", arn(1)]) == 0
    assert deployed(repo) == arn(1)
    # Every plan built its inputs for the package it planned, the rollback's included.
    assert built == [("preprod", arn(1)), ("preprod", arn(2)), ("preprod", arn(1))]


def test_rollback_without_a_previous_model_says_so(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert deploy.main(["rollback", "--environment", "prod"]) == 1
    assert "nothing to roll back to in prod" in capsys.readouterr().err


def test_apply_needs_a_saved_plan(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert deploy.main(["apply", "--environment", "prod"]) == 1
    assert "no saved plan deploy/prod.tfplan" in capsys.readouterr().err


def test_failed_terraform_step_is_named(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = arn(3).replace(settings.MODEL_PACKAGE_GROUP, "bad")
    assert deploy.main(["plan", "--environment", "prod", "--model-package-arn", bad]) == 1
    assert "belongs to group bad" in capsys.readouterr().err
    assert not (repo / "deploy" / "calls.jsonl").exists(), "a foreign package reached terraform"
