"""Fast render tests of the model-training kind: file set, answers, options, generated code."""

from __future__ import annotations

import ast
import json
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from mlops_suite import rendering

ROOT = rendering.SUITE_ROOT
ANSWER_FILES = sorted((ROOT / "tests" / "answers").glob("model-training*.yml"))
NAMES = json.loads((ROOT / "src" / "mlops_suite" / "names.json").read_text(encoding="utf-8"))
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+(\.\d+)*$")

# Every file a model-training repo has, with the package folder written as PKG.
COMMON_FILES = {
    ".copier-answers.yml",
    ".gitignore",
    ".pre-commit-config.yaml",
    ".github/CODEOWNERS",
    ".github/dependabot.yml",
    ".github/workflows/ci.yml",
    ".github/workflows/train.yml",
    ".github/workflows/template-update.yml",
    "README.md",
    "data/README.md",
    "data/breast_cancer.csv",
    "noxfile.py",
    "pyproject.toml",
    "src/PKG/__init__.py",
    "src/PKG/core/__init__.py",
    "src/PKG/core/cli.py",
    "src/PKG/core/embedded.py",
    "src/PKG/core/platform.py",
    "src/PKG/core/session.py",
    "src/PKG/pipeline.py",
    "src/PKG/settings.py",
    "src/PKG/steps/__init__.py",
    "src/PKG/steps/evaluate.py",
    "src/PKG/steps/preprocess.py",
    "src/PKG/steps/train.py",
    "tests/conftest.py",
    "tests/test_cli.py",
    "tests/test_local_run.py",
    "tests/test_pipeline_definition.py",
    "tests/test_preprocess.py",
    "tests/test_train_evaluate.py",
}
# The local runner package, rendered from its one source in repo-templates/_shared/python.
RUNNER_SOURCE = ROOT / "repo-templates" / "_shared" / "python" / "local_run"
COMMON_FILES |= {
    f"src/PKG/local_run/{path.relative_to(RUNNER_SOURCE).as_posix()}"
    for path in RUNNER_SOURCE.rglob("*.py")
}
SPOT_FILES = {"tests/test_spot_training.py"}
BYOC_FILES = {"tests/test_byoc_local_run.py"}  # with training_image_uri: the project's own image


def load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return rendering.snapshot(tmp_path_factory.mktemp("suite"))


@pytest.fixture(scope="module")
def renders(snapshot: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every model-training answer set rendered once: {answer-file stem: repo path}."""
    out = {}
    for answers in ANSWER_FILES:
        dst = tmp_path_factory.mktemp(answers.stem)
        rendering.render(dst, load(answers), template=str(snapshot))
        out[answers.stem] = dst
    return out


def package(answers: dict[str, Any]) -> str:
    """The Python package name, derived (module_name is computed, so not recorded)."""
    return str(answers["project_name"]).replace("-", "_")


def files(repo: Path) -> set[str]:
    return {p.relative_to(repo).as_posix() for p in repo.rglob("*") if p.is_file()}


def test_there_are_at_least_three_answer_sets() -> None:
    assert len(ANSWER_FILES) >= 3
    assert any(load(a).get("use_spot_training") for a in ANSWER_FILES)
    assert any(not load(a).get("use_spot_training") for a in ANSWER_FILES)


@pytest.mark.parametrize("stem", [a.stem for a in ANSWER_FILES])
def test_file_set(renders: dict[str, Path], stem: str) -> None:
    answers = rendering.load_answers_file(renders[stem])
    expected = COMMON_FILES | (SPOT_FILES if answers["use_spot_training"] else set())
    expected |= BYOC_FILES if answers.get("training_image_uri") else set()
    assert files(renders[stem]) == {f.replace("PKG", package(answers)) for f in expected}


@pytest.mark.parametrize("stem", [a.stem for a in ANSWER_FILES])
def test_nothing_left_unrendered(renders: dict[str, Path], stem: str) -> None:
    for rel in files(renders[stem]):
        text = (renders[stem] / rel).read_text(encoding="utf-8")
        assert "{%" not in text, rel
        assert "{#" not in text, rel
        # GitHub expressions are the only double braces, and only in workflows.
        braces = re.findall(r".?\{\{", text)
        if rel.startswith(".github/workflows/"):
            assert all(b == "${{" for b in braces), (rel, braces)
        else:
            assert not braces, (rel, braces)


@pytest.mark.parametrize("stem", [a.stem for a in ANSWER_FILES])
def test_answers_are_recorded(renders: dict[str, Path], stem: str) -> None:
    given = load(ROOT / "tests" / "answers" / f"{stem}.yml")
    recorded = rendering.load_answers_file(renders[stem])
    for key, value in given.items():
        assert recorded[key] == value, key
    assert {"_src_path", "_commit", "use_spot_training", "model_auc_threshold"} <= set(recorded)


@pytest.mark.parametrize("stem", [a.stem for a in ANSWER_FILES])
def test_generated_python_parses_and_settings_follow_answers(
    renders: dict[str, Path], stem: str
) -> None:
    repo = renders[stem]
    answers = rendering.load_answers_file(repo)
    for rel in sorted(f for f in files(repo) if f.endswith(".py")):
        ast.parse((repo / rel).read_text(encoding="utf-8"), filename=rel)
    settings_py = repo / "src" / package(answers) / "settings.py"
    values = {
        node.targets[0].id: ast.literal_eval(node.value)
        for node in ast.parse(settings_py.read_text(encoding="utf-8")).body
        if isinstance(node, ast.Assign)
        and isinstance(node.targets[0], ast.Name)
        and isinstance(node.value, ast.Constant)
    }
    assert values["AUC_THRESHOLD"] == answers["model_auc_threshold"]
    assert values["USE_SPOT_TRAINING"] is answers["use_spot_training"]
    assert values["REGION"] == answers["aws_region"]
    group = f"{answers['sagemaker_project_name']}-{answers['sagemaker_project_id']}"
    assert values["MODEL_PACKAGE_GROUP_NAME"] == group
    # Shared names come from names.json, never retyped.
    assert values["ARTIFACT_BUCKET_PATTERN"] == NAMES["patterns"]["artifact_bucket"]
    assert (
        values["EXECUTION_ROLE_PARAMETER"]
        == NAMES["ssm_parameters"]["sagemaker_execution_role_arn"]
    )
    text = settings_py.read_text(encoding="utf-8")
    for key in ("project_name", "project_id"):
        assert f'"{NAMES["tag_keys"][key]}"' in text
    for key in ("private_subnet_ids", "security_group_id", "kms_key_arn"):
        assert f'"{NAMES["ssm_parameters"][key]}"' in text
    # Account ids are never baked into code: they come from the credentials in use.
    for rel in sorted(f for f in files(repo) if f.startswith("src/")):
        body = (repo / rel).read_text(encoding="utf-8")
        assert answers["dev_account_id"] not in body, rel


@pytest.mark.parametrize("stem", [a.stem for a in ANSWER_FILES])
def test_pyproject_matches_python_version_and_container(
    renders: dict[str, Path], stem: str
) -> None:
    repo = renders[stem]
    answers = rendering.load_answers_file(repo)
    project = tomllib.loads((repo / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["requires-python"] == f">={answers['python_version']}"
    noxfile = (repo / "noxfile.py").read_text(encoding="utf-8")
    assert f'PYTHON = "{answers["python_version"]}"' in noxfile
    assert "sagemaker>=2.257,<3" in project["dependencies"]
    # xgboost-cpu X.Y.Z pairs with the SageMaker XGBoost container X.Y-Z.
    (pin,) = [d for d in project["dependencies"] if d.startswith("xgboost-cpu==")]
    settings_text = (repo / "src" / package(answers) / "settings.py").read_text("utf-8")
    container = re.search(r'XGBOOST_FRAMEWORK_VERSION = "(\d+)\.(\d+)-(\d+)"', settings_text)
    assert container is not None
    assert pin == "xgboost-cpu=={}.{}.{}".format(*container.groups())
    assert set(project["scripts"]) == {"get-pipeline-definition", "run-pipeline"}


@pytest.mark.parametrize("stem", [a.stem for a in ANSWER_FILES])
def test_readme_and_pre_commit(renders: dict[str, Path], stem: str) -> None:
    repo = renders[stem]
    readme = (repo / "README.md").read_text(encoding="utf-8")
    mermaid = readme.split("```mermaid\n", 1)[1].split("```", 1)[0]
    assert mermaid.startswith("flowchart LR")
    for step in ("Preprocess", "Train", "Evaluate", "CheckAuc", "Register", "AucBelowThreshold"):
        assert step in mermaid, step
    assert "CC BY 4.0" in (repo / "data" / "README.md").read_text(encoding="utf-8")
    # Local hooks only: a commit never downloads anything.
    hooks = load(repo / ".pre-commit-config.yaml")
    assert [r["repo"] for r in hooks["repos"]] == ["local"]
    assert all(h["language"] == "system" for r in hooks["repos"] for h in r["hooks"])


def test_spot_training_toggles_code_and_tests(renders: dict[str, Path]) -> None:
    for repo in renders.values():
        answers = rendering.load_answers_file(repo)
        train_py = (repo / "src" / package(answers) / "steps" / "train.py").read_text("utf-8")
        on = answers["use_spot_training"]
        assert ("class Checkpoint(" in train_py) is on
        assert ("--checkpoint_dir" in train_py) is on
        assert (repo / "tests" / "test_spot_training.py").exists() is on
        assert ("managed spot instances" in (repo / "README.md").read_text("utf-8")) is on


@pytest.mark.parametrize("stem", [a.stem for a in ANSWER_FILES])
def test_workflows_pin_actions_and_grant_least_permissions(
    renders: dict[str, Path], stem: str
) -> None:
    repo = renders[stem]
    answers = rendering.load_answers_file(repo)
    # Only the update workflow writes: it pushes a branch and opens the pull request.
    allowed_writes = {
        "ci.yml": set(),
        "train.yml": {"id-token"},
        "template-update.yml": {"contents", "pull-requests"},
    }
    for name, allowed in allowed_writes.items():
        text = (repo / ".github" / "workflows" / name).read_text(encoding="utf-8")
        workflow = yaml.safe_load(text)
        assert workflow["permissions"] == {}, name
        for job in workflow["jobs"].values():
            writes = {k for k, v in job["permissions"].items() if v != "read"}
            assert writes <= allowed, (name, writes)
            for step in job["steps"]:
                if "uses" in step:
                    line = next(ln for ln in text.splitlines() if step["uses"] in ln)
                    assert PINNED.match(line.split("uses: ", 1)[1].strip()), line
                if step.get("uses", "").startswith("actions/checkout@"):
                    assert step["with"]["persist-credentials"] is False
            for step in job["steps"]:
                # Expressions reach shell commands only through env, never inline.
                assert "${{" not in step.get("run", ""), (name, step)
        if name != "template-update.yml":  # copier needs no particular Python
            assert f'python-version: "{answers["python_version"]}"' in text
    train = yaml.safe_load((repo / ".github" / "workflows" / "train.yml").read_text("utf-8"))
    (job,) = train["jobs"].values()
    assert job["environment"] == "dev"
    assert job["permissions"] == {"contents": "read", "id-token": "write"}
    creds = next(s for s in job["steps"] if "configure-aws-credentials" in s.get("uses", ""))
    assert creds["with"]["role-to-assume"] == "${{ vars.AWS_ROLE_ARN }}"
    assert creds["with"]["aws-region"] == answers["aws_region"]
    assert "aws-access-key-id" not in creds["with"]
    assert set(train[True]) == {"push", "workflow_dispatch"}  # YAML 1.1 reads `on` as True


def test_bad_threshold_is_rejected_with_the_fix(snapshot: Path, tmp_path: Path) -> None:
    dst = tmp_path / "bad"
    data = {**load(ANSWER_FILES[0]), "model_auc_threshold": 0.4}
    with pytest.raises(rendering.RenderError, match=r"0\.4 is out of range.*between 0\.5 and 1\.0"):
        rendering.render(dst, data, template=str(snapshot))
    assert not dst.exists()


@pytest.mark.parametrize("stem", [a.stem for a in ANSWER_FILES])
def test_local_runner_is_rendered_as_its_source(renders: dict[str, Path], stem: str) -> None:
    answers = rendering.load_answers_file(renders[stem])
    rendered = renders[stem] / "src" / package(answers) / "local_run"
    for source in RUNNER_SOURCE.rglob("*.py"):
        copy = rendered / source.relative_to(RUNNER_SOURCE)
        assert copy.read_bytes() == source.read_bytes(), copy
