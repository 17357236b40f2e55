"""One list of names: what the project templates and the Lambdas read is what Terraform writes."""

from __future__ import annotations

import re
from typing import Any

Iac = Any  # the `iac` fixture of tests/iac/conftest.py

SSM_PARAM_TYPE = re.compile(r"^AWS::SSM::Parameter::Value<.+>$")


def _known(iac: Iac, literal: str) -> bool:
    """A literal SSM name is a names.json parameter or fits one of its /mlops-suite/ patterns."""
    known = set(iac.names["ssm_parameters"].values()) | {
        p for p in iac.names["patterns"].values() if p.startswith("/mlops-suite/")
    }
    # A trailing * (an IAM resource over every name of a pattern) stands for its last field.
    shaped = re.sub(r"\$\{[^}]+\}|\{\w+\}|\*$", "{x}", literal.rstrip("."))
    return any(re.sub(r"\{\w+\}", "{x}", k) == shaped for k in known)


def _ssm_keys_written(iac: Iac) -> dict[str, set[str]]:
    """names.json keys the environment module passes to the ssm module, split by dev-only or all."""
    body = iac.modules["environment"].modules["ssm"]
    text = str(body["values"]) + str(body.get("list_values", ""))
    dev_part = (
        text.split("local.is_dev ?", 1)[1].split(":", 1)[0] if "local.is_dev ?" in text else ""
    )
    keys = set(re.findall(r"(\w+)\s*=", text))
    lists = body.get("list_values") or {}
    if isinstance(lists, dict):  # parsed as a mapping: its keys, not `key =` text
        keys |= set(lists)
    dev_only = set(re.findall(r"(\w+)\s*=", dev_part))
    return {"all": keys, "dev_only": dev_only}


def test_ssm_module_reads_names_json(iac: Iac) -> None:
    """The ssm module takes parameter names from names.json, never from its own list."""
    ssm = iac.modules["ssm"]
    assert "jsondecode(file(" in ssm.locals["names"]
    assert "names.json" in ssm.locals["names"]
    for res in ssm.of_type("aws_ssm_parameter"):
        assert res.body["name"] == "${local.names.ssm_parameters[each.key]}", res.name
    assert "/mlops-suite/" not in ssm.text, "parameter names belong in names.json"


def test_terraform_writes_known_names(iac: Iac) -> None:
    """Every key Terraform writes exists in names.json."""
    params = iac.names["ssm_parameters"]
    written = _ssm_keys_written(iac)["all"]
    assert len(written) >= 15
    unknown = written - set(params)
    assert not unknown, f"Terraform writes SSM keys missing from names.json: {sorted(unknown)}"


def test_project_templates_read_names_terraform_writes(iac: Iac) -> None:
    """Each SSM-typed template parameter defaults to a names.json name Terraform writes."""
    params = iac.names["ssm_parameters"]
    by_name = {v: k for k, v in params.items()}
    written = _ssm_keys_written(iac)["all"]
    used = 0
    for tname, tpl in iac.project_templates.items():
        for pname, param in (tpl.get("Parameters") or {}).items():
            if not SSM_PARAM_TYPE.match(str(param.get("Type", ""))):
                continue
            used += 1
            default = param.get("Default")
            assert default in by_name, (
                f"{tname} {pname}: {default!r} is not in names.json ssm_parameters"
            )
            assert by_name[default] in written, f"{tname} {pname}: Terraform never writes {default}"
        text = (iac.project_templates_dir / tname).read_text(encoding="utf-8")
        for literal in re.findall(r"/mlops-suite/[A-Za-z0-9/_{}$.-]+\*?", text):
            assert _known(iac, literal), f"{tname} uses {literal}, which names.json does not define"
    if iac.project_templates:
        assert used >= 1, "the project templates read no SSM parameters at all"


def test_lambdas_read_names_terraform_writes(iac: Iac) -> None:
    """Every SSM key the Lambda code reads (ssm_parameter, SSM_KEYS) is written by Terraform."""
    handlers = iac.root / "src" / "mlops_suite" / "handlers"
    written = _ssm_keys_written(iac)["all"]
    keys: set[str] = set()
    for path in handlers.glob("*.py"):
        text = path.read_text(encoding="utf-8")
        keys |= set(re.findall(r"ssm_parameter\(\s*[\"'](\w+)[\"']", text))
        for block in re.findall(r"SSM_KEYS\s*=\s*\(([^)]*)\)", text):
            keys |= set(re.findall(r"[\"'](\w+)[\"']", block))
        for literal in re.findall(r"/mlops-suite/[A-Za-z0-9/_{}.-]+", text):
            assert _known(iac, literal), (
                f"{path.name} mentions {literal}, which names.json does not define"
            )
    assert keys, "the Lambda code reads no SSM parameters"
    missing = keys - written
    assert not missing, f"the Lambdas read {sorted(missing)}, which Terraform does not write"


def test_dev_only_names_are_the_dev_services(iac: Iac) -> None:
    """Lambdas, the GitHub secret and the templates are written in dev only."""
    dev_only = _ssm_keys_written(iac)["dev_only"]
    assert {
        "clone_repo_lambda_arn",
        "model_approval_lambda_arn",
        "github_app_secret_arn",
    } <= dev_only


def test_rendered_repos_read_in_every_account_names_terraform_writes_there(iac: Iac) -> None:
    """The pipeline core's SSM names (shared settings) are written in every environment: the
    pipeline-promotion and deploy kinds read them in preprod and prod, not only in dev."""
    settings = iac.root / "repo-templates" / "_shared" / "python" / "settings.py.jinja"
    read = set(re.findall(r"names\.ssm_parameters\.(\w+)", settings.read_text(encoding="utf-8")))
    assert {"sagemaker_execution_role_arn", "private_subnet_ids", "kms_key_arn"} <= read
    written = _ssm_keys_written(iac)
    assert read <= written["all"], f"Terraform never writes {sorted(read - written['all'])}"
    assert not read & written["dev_only"], (
        f"written in dev only: {sorted(read & written['dev_only'])}"
    )
