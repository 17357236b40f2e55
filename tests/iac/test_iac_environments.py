"""The environment roots: thin, identical but for their values, fed by one environments.json."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

Iac = Any  # the `iac` fixture of tests/iac/conftest.py

REQUIRED_FILES = {"main.tf", "variables.tf", "outputs.tf", "versions.tf", "README.md", "tests"}
REGION = re.compile(
    r"^(us|eu|ap|ca|sa|me|af|il|mx)(-gov|-iso[a-z]*)?-"
    r"(north|south|east|west|central|northeast|northwest|southeast|southwest)-[1-9]$"
)


@pytest.fixture(scope="module")
def config(iac: Iac) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        (iac.platform / "environments" / "environments.json").read_text(encoding="utf-8")
    )
    return data


def test_environments_json_is_valid(iac: Iac, config: dict[str, Any]) -> None:
    """Accounts per names.json environment, 12 digits, distinct; a real region; an org."""
    envs = iac.names["environments"]
    assert list(config["accounts"]) == envs
    ids = list(config["accounts"].values())
    assert all(isinstance(i, str) and re.fullmatch(r"[0-9]{12}", i) for i in ids), ids
    assert len(set(ids)) == len(ids)
    assert REGION.match(config["region"])
    assert re.fullmatch(r"[A-Za-z0-9]([A-Za-z0-9-]{0,37}[A-Za-z0-9])?", config["github_org"])
    assert sorted(config["environments"]) == sorted(envs)


def test_roots_differ_only_in_values(iac: Iac) -> None:
    """The three roots share their .tf files byte for byte; terraform.tfvars names the folder."""
    roots = iac.platform / "environments"
    envs = iac.names["environments"]
    reference = {p.name: p.read_text(encoding="utf-8") for p in (roots / envs[0]).glob("*.tf")}
    assert {"main.tf", "variables.tf", "outputs.tf"} <= set(reference)
    for env in envs:
        files = {p.name: p.read_text(encoding="utf-8") for p in (roots / env).glob("*.tf")}
        assert files == reference, f"environments/{env} drifted from environments/{envs[0]}"
        tfvars = (roots / env / "terraform.tfvars").read_text(encoding="utf-8")
        assert re.fullmatch(rf'environment\s*=\s*"{env}"\s*', tfvars), tfvars
    extra = {p.name for p in roots.iterdir() if p.is_dir()} - set(envs)
    assert not extra, f"unexpected environment folders: {extra}"


def test_roots_pin_the_provider_and_guard_the_account(iac: Iac) -> None:
    """Roots pin aws ~> 5.100.0 and refuse credentials of any other account."""
    text = (iac.platform / "environments" / "dev" / "main.tf").read_text(encoding="utf-8")
    assert re.search(r'version\s*=\s*"~> 5\.100\.0"', text)
    assert "allowed_account_ids = [local.config.accounts[var.environment]]" in text
    assert 'backend "s3" {}' in text


def test_modules_declare_version_floors(iac: Iac) -> None:
    """Every module has the files STYLE.md asks for and a provider floor 5.100.0 satisfies."""
    for path in sorted((iac.platform / "modules").iterdir()):
        names = {p.name for p in path.iterdir()}
        missing = REQUIRED_FILES - names
        assert not missing, f"{path.name}: missing {sorted(missing)}"
        assert list((path / "tests").glob("*.tftest.hcl")), f"{path.name}: no terraform tests"
        versions = (path / "versions.tf").read_text(encoding="utf-8")
        if "required_providers" not in versions:
            # A provider-free module (config) may hold no resources that would need one.
            assert "resource " not in (path / "main.tf").read_text(encoding="utf-8"), path.name
            continue
        floor = re.search(r'version\s*=\s*">=\s*5\.(\d+)', versions)
        assert floor, f"{path.name}: no aws version floor"
        assert int(floor.group(1)) <= 100, f"{path.name}: aws floor must allow 5.100"


def test_every_variable_is_typed_and_described(iac: Iac) -> None:
    """STYLE.md: variables have type and description; outputs have descriptions; no `any`."""
    for path in sorted((iac.platform / "modules").iterdir()):
        text = (path / "variables.tf").read_text(encoding="utf-8")
        blocks = re.split(r'\nvariable "', "\n" + text)[1:]
        assert blocks, path.name
        for block in blocks:
            name = block.split('"', 1)[0]
            assert re.search(r"\n  type\s*=", block), f"{path.name}: variable {name} has no type"
            assert re.search(r"\n  description\s*=", block), (
                f"{path.name}: variable {name} has no description"
            )
            assert not re.search(r"\btype\s*=\s*any\b", block), (
                f"{path.name}: variable {name} is any"
            )
        outputs = (path / "outputs.tf").read_text(encoding="utf-8")
        for block in re.split(r'\noutput "', "\n" + outputs)[1:]:
            assert "description" in block, (
                f"{path.name}: output {block.split(chr(34), 1)[0]} undescribed"
            )


def test_module_readmes_list_every_input_and_output(iac: Iac) -> None:
    """Module README tables match variables and outputs (platform/scripts/module_docs.py)."""
    import importlib.util

    script = iac.platform / "scripts" / "module_docs.py"
    spec = importlib.util.spec_from_file_location("module_docs", script)
    assert spec
    assert spec.loader
    docs = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(docs)
    for path in sorted((iac.platform / "modules").iterdir()):
        readme = (path / "README.md").read_text(encoding="utf-8")
        assert readme == docs.render(path), f"{path.name}/README.md is stale: run python {script}"


def test_security_controls_doc_names_real_tests(iac: Iac) -> None:
    """Every test and terraform-test run that docs/security-controls.md cites exists."""
    doc = (iac.root / "docs" / "security-controls.md").read_text(encoding="utf-8")
    tftests = {p.name: p.read_text(encoding="utf-8") for p in iac.platform.rglob("*.tftest.hcl")}
    pytests = {p.name: p.read_text(encoding="utf-8") for p in (iac.root / "tests").rglob("*.py")}
    cited = 0
    for row in (ln for ln in doc.splitlines() if ln.startswith("| ") and "---" not in ln):
        for name, func in re.findall(r"`?(test_\w+\.py)::(\w+)", row):
            assert f"def {func}(" in pytests[name], f"{name}::{func} cited but missing"
            cited += 1
        for segment in re.findall(r"`(\w+\.tftest\.hcl)`( runs? [^;|]*)?", row):
            file, runs = segment
            assert file in tftests, f"{file} cited but missing"
            for run in re.findall(r"`(\w+)`", runs or ""):
                assert f'run "{run}"' in tftests[file], f'{file} has no run "{run}"'
                cited += 1
    assert cited >= 30, cited
