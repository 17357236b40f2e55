"""Fast render tests of the llm-training kind: file set, answers, options, rejected answers."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from mlops_suite import rendering

ROOT = rendering.SUITE_ROOT
ANSWER_FILES = sorted((ROOT / "tests" / "answers").glob("llm-training*.yml"))

# Every file an llm-training repo has, with the package folder written as PKG.
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
    "benchmarks/finetune.py",
    "data/README.md",
    "data/numbers.jsonl",
    "data/support.jsonl",
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
    "src/PKG/synthetic.py",
    "src/PKG/tiny_model.py",
    "src/PKG/steps/__init__.py",
    "src/PKG/steps/evaluate.py",
    "src/PKG/steps/prepare.py",
    "src/PKG/steps/prompt_template.json",
    "src/PKG/steps/train.py",
    "tests/conftest.py",
    "tests/test_evaluate.py",
    "tests/test_local_run.py",
    "tests/test_pipeline_definition.py",
    "tests/test_prepare.py",
    "tests/test_train.py",
}
RUNNER_SOURCE = ROOT / "repo-templates" / "_shared" / "python" / "local_run"
COMMON_FILES |= {
    f"src/PKG/local_run/{path.relative_to(RUNNER_SOURCE).as_posix()}"
    for path in RUNNER_SOURCE.rglob("*.py")
}
ENDPOINT_FILES = {"src/PKG/endpoint.py", "tests/test_endpoint.py"}


def load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return rendering.snapshot(tmp_path_factory.mktemp("suite"))


@pytest.fixture(scope="module")
def renders(snapshot: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every llm-training answer set rendered once: {answer-file stem: repo path}."""
    out = {}
    for answers in ANSWER_FILES:
        dst = tmp_path_factory.mktemp(answers.stem)
        rendering.render(dst, load(answers), template=str(snapshot))
        out[answers.stem] = dst
    return out


def package(answers: dict[str, Any]) -> str:
    return str(answers["project_name"]).replace("-", "_")


def files(repo: Path) -> set[str]:
    return {p.relative_to(repo).as_posix() for p in repo.rglob("*") if p.is_file()}


def test_answer_sets_cover_the_options() -> None:
    sets = [load(a) for a in ANSWER_FILES]
    assert len(sets) >= 3
    for option in ("use_llm_judge", "merge_weights", "deploy_dev_endpoint", "base_model_uri"):
        assert any(s.get(option) for s in sets), option
        assert any(not s.get(option) for s in sets), option


@pytest.mark.parametrize("stem", [a.stem for a in ANSWER_FILES])
def test_file_set(renders: dict[str, Path], stem: str) -> None:
    answers = rendering.load_answers_file(renders[stem])
    expected = COMMON_FILES | (ENDPOINT_FILES if answers["deploy_dev_endpoint"] else set())
    assert files(renders[stem]) == {f.replace("PKG", package(answers)) for f in expected}


@pytest.mark.parametrize("stem", [a.stem for a in ANSWER_FILES])
def test_nothing_left_unrendered_and_python_parses(renders: dict[str, Path], stem: str) -> None:
    for rel in files(renders[stem]):
        text = (renders[stem] / rel).read_text(encoding="utf-8")
        assert "{%" not in text, rel
        assert not re.search(r"(?<!\$)\{#", text), rel  # bash ${#array[@]} is no comment
        braces = re.findall(r".?\{\{", text)
        if rel.startswith(".github/workflows/"):
            assert all(b == "${{" for b in braces), (rel, braces)
        else:
            assert not braces, (rel, braces)
        if rel.endswith(".py"):
            ast.parse(text, filename=rel)


@pytest.mark.parametrize("stem", [a.stem for a in ANSWER_FILES])
def test_settings_follow_the_answers(renders: dict[str, Path], stem: str) -> None:
    answers = rendering.load_answers_file(renders[stem])
    text = (renders[stem] / "src" / package(answers) / "settings.py").read_text(encoding="utf-8")
    namespace: dict[str, Any] = {}
    exec(compile(text, "settings.py", "exec"), namespace)  # noqa: S102 - our own rendered file
    assert namespace["BASE_MODEL_S3_URI"] == answers["base_model_uri"]
    assert namespace["LORA_RANK"] == answers["lora_rank"]
    assert namespace["LORA_ALPHA"] == answers["lora_alpha"]
    assert namespace["LEARNING_RATE"] == answers["learning_rate"]
    assert namespace["MIN_ROUGE_L"] == answers["min_rouge_l"]
    assert namespace["USE_LLM_JUDGE"] is answers["use_llm_judge"]
    assert namespace["JUDGE_MODEL_ID"] == (
        answers["judge_model_id"] if answers["use_llm_judge"] else ""
    )
    assert namespace["PIPELINE_NAME"] == f"{answers['sagemaker_project_name']}-llm-training"


def test_lora_alpha_defaults_to_twice_the_rank(renders: dict[str, Path]) -> None:
    recorded = rendering.load_answers_file(renders["llm-training-multi-account"])
    assert recorded["lora_rank"] == 8
    assert recorded["lora_alpha"] == 16


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"lora_rank": 0}, r"LoRA rank 0 is out of range: use a whole number from 1 to 256"),
        ({"lora_rank": 512}, r"LoRA rank 512 is out of range"),
        ({"learning_rate": 0.5}, r"Learning rate 0\.5 is out of range: use a number from"),
        ({"base_model_uri": "meta-llama/Llama-3.2-1B"}, r"is not an S3 URI: use s3://bucket/"),
        ({"base_model_uri": "https://huggingface.co/x"}, r"is not an S3 URI"),
        ({"min_rouge_l": 1.5}, r"ROUGE-L threshold 1\.5 is out of range"),
        ({"training_instance_type": "ml.m5.large"}, r"not a SageMaker GPU training instance"),
        ({"use_llm_judge": True, "judge_model_id": "claude"}, r"does not look like a Bedrock"),
    ],
)
def test_bad_answers_are_rejected_with_the_fix(
    snapshot: Path, tmp_path: Path, change: dict[str, Any], message: str
) -> None:
    dst = tmp_path / "bad"
    data = {**load(ANSWER_FILES[0]), **change}
    with pytest.raises(rendering.RenderError, match=message):
        rendering.render(dst, data, template=str(snapshot))
    assert not dst.exists()
