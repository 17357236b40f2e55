"""Each bad value in environments.json fails `terraform plan` with a message naming its key.

The plan runs the platform's config module (the one every root calls first) on the real
environments.json with one value broken; it needs the terraform binary, no provider.
"""

from __future__ import annotations

import copy
import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
ENVIRONMENTS = ROOT / "platform" / "environments" / "environments.json"
MODULE = ROOT / "platform" / "modules" / "config"
TERRAFORM = shutil.which("terraform")

pytestmark = pytest.mark.skipif(
    TERRAFORM is None, reason="SKIPPED: terraform is not on PATH (install Terraform 1.11+)"
)


def plan(tmp_path: Path, config: dict[str, Any]) -> subprocess.CompletedProcess[str]:
    (tmp_path / "environments.json").write_text(json.dumps(config), encoding="utf-8")
    (tmp_path / "main.tf").write_text(
        f'module "config" {{\n  source = "{MODULE}"\n'
        '  environments_json = file("${path.module}/environments.json")\n}\n',
        encoding="utf-8",
    )
    env = {**os.environ, "TF_IN_AUTOMATION": "1", "CHECKPOINT_DISABLE": "1"}
    env["TF_DATA_DIR"] = str(tmp_path / ".terraform")
    for args in (["init", "-backend=false", "-input=false"], ["plan", "-input=false"]):
        result = subprocess.run(
            [str(TERRAFORM), *args, "-no-color"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode:
            break
    return result


def base() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(ENVIRONMENTS.read_text(encoding="utf-8"))
    return data


def test_the_shipped_environments_json_plans(tmp_path: Path) -> None:
    result = plan(tmp_path, base())
    assert result.returncode == 0, result.stdout + result.stderr


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(config: dict[str, Any]) -> None:
        *parents, leaf = path.split(".")
        target = config
        for key in parents:
            target = target[key]
        target[leaf] = value

    return mutate


def _rename_environment(config: dict[str, Any]) -> None:
    config["environments"]["staging"] = config["environments"].pop("preprod")


CASES = {
    "unquoted account id": (
        _set("accounts.prod", 333333333333),
        r"accounts\.prod = 333333333333: an account id is 12 digits as a quoted string",
    ),
    "short account id": (
        _set("accounts.dev", "12345"),
        r'accounts\.dev = "12345": an account id is 12 digits',
    ),
    "unknown environment": (
        _rename_environment,
        r'unknown environment\(s\) "staging": use dev, preprod and prod only',
    ),
    "cidr that does not parse": (
        _set("environments.preprod.vpc_cidr", "10.81.0.0/33"),
        r'environments\.preprod\.vpc_cidr = "10\.81\.0\.0/33": use an IPv4 CIDR block',
    ),
    "overlapping cidrs": (
        _set("environments.prod.vpc_cidr", "10.80.64.0/18"),
        r"VPC CIDRs overlap: environments\.dev\.vpc_cidr 10\.80\.0\.0/16 and "
        r"environments\.prod\.vpc_cidr 10\.80\.64\.0/18",
    ),
    "unknown persona": (
        _set("environments.dev.user_profiles.mallory", "admin"),
        r'environments\.dev\.user_profiles\.mallory = "admin": a persona is one of',
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_bad_value_fails_the_plan_naming_the_key(tmp_path: Path, case: str) -> None:
    mutate, message = CASES[case]
    config = copy.deepcopy(base())
    mutate(config)
    result = plan(tmp_path, config)
    assert result.returncode != 0, f"{case}: plan passed"
    output = " ".join((result.stdout + result.stderr).split())
    assert re.search(message, output), output


def test_every_root_validates_environments_json_first() -> None:
    for root in sorted((ROOT / "platform" / "environments").iterdir()):
        if root.is_dir():
            text = (root / "main.tf").read_text(encoding="utf-8")
            assert 'source = "../../modules/config"' in text, f"{root.name} skips the config check"
            assert re.search(r"config\s*=\s*module\.config\.config", text), root.name
