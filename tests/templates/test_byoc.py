"""Fast render tests of the byoc kind: file set, answers, settings, rejected answers."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from mlops_suite import kinds, names, rendering

ROOT = rendering.SUITE_ROOT
ANSWER_FILES = sorted((ROOT / "tests" / "answers").glob("byoc*.yml"))
TEMPLATE = ROOT / "repo-templates" / "byoc"


def load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def expected_files(package: str) -> set[str]:
    """The template's own files, as rendered: suffix dropped, package folder named."""
    out = set()
    for path in TEMPLATE.rglob("*"):
        rel = path.relative_to(TEMPLATE).as_posix()
        if not path.is_file() or rel == "kind.yml" or "__pycache__" in rel:
            continue
        rel = rel.removesuffix(".jinja").replace("{{ module_name }}", package)
        out.add(rel.replace("{{_copier_conf.answers_file}}", ".copier-answers.yml"))
    return out


@pytest.fixture(scope="module")
def renders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    snapshot = rendering.snapshot(tmp_path_factory.mktemp("suite"))
    out = {}
    for answers in ANSWER_FILES:
        dst = tmp_path_factory.mktemp(answers.stem)
        rendering.render(dst, load(answers), template=str(snapshot))
        out[answers.stem] = dst
    return out


def test_three_answer_sets_and_no_pipeline() -> None:
    assert len(ANSWER_FILES) >= 3
    assert kinds.load("byoc").pipeline is None


@pytest.mark.parametrize("stem", [a.stem for a in ANSWER_FILES])
def test_file_set_and_nothing_left_unrendered(renders: dict[str, Path], stem: str) -> None:
    repo = renders[stem]
    package = str(load(ROOT / "tests" / "answers" / f"{stem}.yml")["project_name"])
    found = {p.relative_to(repo).as_posix() for p in repo.rglob("*") if p.is_file()}
    assert found == expected_files(package.replace("-", "_"))
    for rel in found:
        text = (repo / rel).read_text(encoding="utf-8")
        assert "{%" not in text, rel
        assert "{#" not in text, rel
        if not rel.startswith(".github/workflows/"):
            assert "{{" not in text, rel


@pytest.mark.parametrize("stem", [a.stem for a in ANSWER_FILES])
def test_settings_and_images_follow_answers(renders: dict[str, Path], stem: str) -> None:
    repo, answers = renders[stem], rendering.load_answers_file(renders[stem])
    package = str(answers["project_name"]).replace("-", "_")
    tree = ast.parse((repo / "src" / package / "settings.py").read_text(encoding="utf-8"))
    values = {
        n.targets[0].id: ast.literal_eval(n.value)
        for n in tree.body
        if isinstance(n, ast.Assign) and isinstance(n.targets[0], ast.Name)
        and isinstance(n.value, (ast.Constant, ast.List, ast.Tuple))
    }  # fmt: skip
    assert values["DEV_ACCOUNT_ID"] == answers["dev_account_id"]
    assert values["ECR_REPOSITORY"] == names.pattern("ecr_repository", project_id="{project_id}",
                                                     image="{image}")  # fmt: skip
    assert values["IMAGE_URI_PARAMETER"] == names.load()["patterns"]["image_uri_parameter"]
    wanted = [s.strip() for s in str(answers["byoc_blocking_severities"]).split(",")]
    assert values["BLOCKING_SEVERITIES"] == wanted
    for image in values["IMAGES"]:
        text = (repo / "docker" / image / "Dockerfile").read_text(encoding="utf-8")
        bases = re.findall(r"^FROM (\S+)", text, flags=re.MULTILINE)
        assert bases
        assert all(b.startswith(f"python:{answers['python_version']}-") for b in bases)


def test_bad_severities_are_rejected_with_the_fix(tmp_path: Path) -> None:
    snapshot = rendering.snapshot(tmp_path / "suite")
    answers = {**load(ANSWER_FILES[0]), "byoc_blocking_severities": "CRITICAL,SEVERE"}
    with pytest.raises(rendering.RenderError, match=r"e\.g\. CRITICAL,HIGH") as err:
        rendering.render(tmp_path / "bad", answers, template=str(snapshot))
    assert '"CRITICAL,SEVERE"' in str(err.value)


def test_training_image_with_spot_training_is_rejected(tmp_path: Path) -> None:
    snapshot = rendering.snapshot(tmp_path / "suite")
    answers = {
        **load(ROOT / "tests" / "answers" / "model-training-byoc.yml"),
        "use_spot_training": True,
    }
    with pytest.raises(rendering.RenderError, match="answer use_spot_training=false"):
        rendering.render(tmp_path / "bad", answers, template=str(snapshot))
