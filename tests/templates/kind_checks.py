"""The render checks every kind is held to, as functions of (profile, rendered repo, answers).

test_kinds.py applies them to every kind in copier.yml and every answer set; test_extra_kind.py
applies the same functions to a kind defined only in the tests.
"""

from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path
from typing import Any

import yaml

from mlops_suite import kinds, names

PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+(\.\d+)*$")


def files(repo: Path) -> set[str]:
    return {p.relative_to(repo).as_posix() for p in repo.rglob("*") if p.is_file()}


def package(answers: dict[str, Any]) -> str:
    """The Python package name, derived (module_name is computed, so not recorded)."""
    return str(answers["project_name"]).replace("-", "_")


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def check_file_set(kind: kinds.Kind, repo: Path, answers: dict[str, Any]) -> None:
    expected = kind.expected_files(answers)
    found = files(repo)
    assert found == expected, (
        f"{kind.name}: unexpected {sorted(found - expected)}, missing {sorted(expected - found)}"
        f" (the expected set is {kind.root / kinds.PROFILE} `files` plus its shared pieces)"
    )


def check_nothing_left_unrendered(repo: Path) -> None:
    for rel in files(repo):
        try:
            text = (repo / rel).read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        assert "{%" not in text, rel
        assert not re.search(r"(?<!\$)\{#", text), rel  # bash ${#array[@]} is no comment
        # GitHub expressions are the only double braces, and only in workflows.
        braces = re.findall(r".?\{\{", text)
        if rel.startswith(".github/workflows/"):
            assert all(b == "${{" for b in braces), (rel, braces)
        else:
            assert not braces, (rel, braces)


def check_shared_files_are_verbatim(
    kind: kinds.Kind, repo: Path, answers: dict[str, Any], template: Path
) -> None:
    """A shared file that is no template renders to exactly its source."""
    shared = template / "repo-templates" / "_shared"
    verbatim = [f for f in kind.shared if f.verbatim]
    for item in verbatim:
        rendered = repo / item.target.replace("PKG", package(answers))
        source = shared / item.source
        assert rendered.read_bytes() == source.read_bytes(), (
            f"{rendered} differs from {source}: its stub in {kind.root} must only include it"
        )


def settings_values(path: Path) -> dict[str, Any]:
    """Return the module-level constants of a rendered settings.py (expressions as source)."""
    values: dict[str, Any] = {}
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value:
            target, value = node.target, node.value
        else:
            continue
        try:
            values[target.id] = ast.literal_eval(value)
        except ValueError:
            values[target.id] = ast.unparse(value)
    return values


def check_python_parses_and_settings(kind: kinds.Kind, repo: Path, answers: dict[str, Any]) -> None:
    for rel in sorted(f for f in files(repo) if f.endswith(".py")):
        ast.parse((repo / rel).read_text(encoding="utf-8"), filename=rel)
    # Account ids are never baked into pipeline code: they come from the credentials in use. A
    # deploy kind (no dev environment of its own) names its target accounts in its settings.
    # An answer that itself names the account (an ECR image URI) is the user's, not baked in.
    deploys, account = "dev" not in kind.environments, answers["dev_account_id"]
    given = [v for k, v in answers.items() if k != "dev_account_id" and account in str(v)]
    for rel in sorted(f for f in files(repo) if f.startswith("src/")):
        if deploys and rel.endswith("/settings.py"):
            continue
        text = (repo / rel).read_text(encoding="utf-8")
        for value in given:
            text = text.replace(str(value), "")
        assert account not in text, rel
    settings = repo / "src" / package(answers) / "settings.py"
    values = settings_values(settings) if kind.settings_answers or kind.pipeline else {}
    for constant, answer in kind.settings_answers.items():
        assert values[constant] == answers[answer], (constant, answer)
    if kind.pipeline is None:
        return
    # Shared names come from names.json, never retyped.
    table = names.load()
    assert values["ARTIFACT_BUCKET_PATTERN"] == table["patterns"]["artifact_bucket"]
    ssm = table["ssm_parameters"]
    assert values["EXECUTION_ROLE_PARAMETER"] == ssm["sagemaker_execution_role_arn"]
    assert values["NETWORK_PARAMETERS"] == {
        "subnets": ssm["private_subnet_ids"],
        "security_group": ssm["security_group_id"],
        "kms_key": ssm["kms_key_arn"],
    }
    tags = table["tag_keys"]
    assert values["TAGS"] == (  # as source: the values are the constants above
        f"{{'{tags['project_name']}': SAGEMAKER_PROJECT_NAME,"
        f" '{tags['project_id']}': SAGEMAKER_PROJECT_ID}}"
    )
    pipeline = kind.pipeline
    assert values["PIPELINE_NAME"] == f"f'{{SAGEMAKER_PROJECT_NAME}}-{pipeline.name_suffix}'"
    assert values["INPUT_PARAMETER"] == pipeline.input_parameter
    assert values["SAMPLE_INPUT"] == pipeline.sample_input
    assert values["WAIT_MINUTES"] == pipeline.wait_minutes
    if pipeline.sample_input:
        assert (repo / pipeline.sample_input).is_file(), pipeline.sample_input


def check_pyproject(kind: kinds.Kind, repo: Path, answers: dict[str, Any]) -> None:
    project = tomllib.loads((repo / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["requires-python"] == f">={answers['python_version']}"
    noxfile = (repo / "noxfile.py").read_text(encoding="utf-8")
    assert f'PYTHON = "{answers["python_version"]}"' in noxfile
    if kind.pipeline:
        assert any(d.startswith("sagemaker>=2") and "<3" in d for d in project["dependencies"])
        module = package(answers)
        assert (
            project["scripts"].items()
            >= {
                "get-pipeline-definition": f"{module}.core.cli:get_pipeline_definition",
                "run-pipeline": f"{module}.core.cli:run_pipeline",
            }.items()
        )


def check_pre_commit(repo: Path) -> None:
    # Local hooks only: a commit never downloads anything.
    hooks = load_yaml(repo / ".pre-commit-config.yaml")
    assert [r["repo"] for r in hooks["repos"]] == ["local"]
    assert all(h["language"] == "system" for r in hooks["repos"] for h in r["hooks"])


def check_workflows(kind: kinds.Kind, repo: Path, answers: dict[str, Any]) -> None:
    """Actions pinned by SHA, least permissions per job, expressions only through env."""
    for name, allowed in kind.workflows().items():
        text = (repo / ".github" / "workflows" / name).read_text(encoding="utf-8")
        workflow = yaml.safe_load(text)
        assert workflow["permissions"] == {}, name
        for job in workflow["jobs"].values():
            writes = {k for k, v in job["permissions"].items() if v != "read"}
            assert writes <= set(allowed), (name, writes)
            for step in job["steps"]:
                if "uses" in step:
                    line = next(ln for ln in text.splitlines() if step["uses"] in ln)
                    assert PINNED.match(line.split("uses: ", 1)[1].strip()), line
                if step.get("uses", "").startswith("actions/checkout@"):
                    assert step["with"]["persist-credentials"] is False
                if "setup-python" in step.get("uses", ""):
                    assert step["with"]["python-version"] == answers["python_version"], name
                # Expressions reach shell commands only through env, never inline.
                assert "${{" not in step.get("run", ""), (name, step)
    if "train.yml" in kind.workflows():
        check_train_workflow(kind, repo, answers)


def check_train_workflow(kind: kinds.Kind, repo: Path, answers: dict[str, Any]) -> None:
    """The train job: dev environment, OIDC only, the kind's timeout and input variable."""
    assert kind.pipeline, f"{kind.name} renders train.yml but declares no pipeline"
    train = load_yaml(repo / ".github" / "workflows" / "train.yml")
    (job,) = train["jobs"].values()
    assert job["environment"] == "dev"
    assert job["timeout-minutes"] == kind.pipeline.timeout_minutes
    assert job["permissions"] == {"contents": "read", "id-token": "write"}
    creds = next(s for s in job["steps"] if "configure-aws-credentials" in s.get("uses", ""))
    assert creds["with"]["role-to-assume"] == "${{ vars.AWS_ROLE_ARN }}"
    assert creds["with"]["aws-region"] == answers["aws_region"]
    assert "aws-access-key-id" not in creds["with"]
    assert set(train[True]) == {"push", "workflow_dispatch"}  # YAML 1.1 reads `on` as True
    run = job["steps"][-1]
    if kind.pipeline.input_variable:
        variable, sample = kind.pipeline.input_variable, kind.pipeline.sample_input
        assert run["env"]["INPUT_DATA"] == f"${{{{ vars.{variable} || '{sample}' }}}}"
    else:
        assert "INPUT_DATA" not in run.get("env", {})
