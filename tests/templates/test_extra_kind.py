"""A kind defined only in the tests renders and runs through the suite's machinery.

tests/kinds/toy-scoring holds a profile, a get_pipeline, one step script, its settings and its
pyproject; every shared piece comes from its profile (the stubs are generated from
_shared/pieces.yml here, as a new kind's author would write them). It renders from a snapshot
of the suite with the kind added to the questionnaire, passes the same render checks as the
real kinds, and its `run-pipeline --local --embedded-aws` runs the pipeline core and local
runner in the rendered repository's own environment.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import kind_checks as checks
import pytest

from mlops_suite import kinds, rendering

KIND = "toy-scoring"
SOURCE = rendering.SUITE_ROOT / "tests" / "kinds" / KIND
ANSWERS: dict[str, Any] = {
    "repo_kind": KIND,
    "project_name": "toy-scores",
    "owner": "ml-team",
    "github_org": "my-org",
    "dev_account_id": "111111111111",
    "sagemaker_project_id": "p-abcdef012345",
}


def add_kind(suite: Path) -> None:
    """Add the toy kind to a suite snapshot: its files, stubs for its pieces, a choice."""
    root = suite / "repo-templates" / KIND
    shutil.copytree(SOURCE, root)
    for item in kinds.load(KIND, suite).shared:
        path, text = item.stub()
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text, encoding="utf-8")
    common = suite / "copier" / "questions" / "common.yml"
    text = common.read_text(encoding="utf-8")
    marker = "  choices:\n"
    assert marker in text, "copier/questions/common.yml: repo_kind has no choices block"
    common.write_text(
        text.replace(marker, f"{marker}    Toy scoring (tests only): {KIND}\n", 1), encoding="utf-8"
    )
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@localhost"]
    subprocess.run([*git, "add", "-A"], cwd=suite, check=True)
    subprocess.run([*git, "commit", "-q", "-m", f"add {KIND}"], cwd=suite, check=True)


@pytest.fixture(scope="module")
def suite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    snapshot = rendering.snapshot(tmp_path_factory.mktemp("suite"))
    add_kind(snapshot)
    return snapshot


@pytest.fixture(scope="module")
def repo(suite: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    dst = tmp_path_factory.mktemp("toy")
    rendering.render(dst, ANSWERS, template=str(suite))
    return dst


def test_the_kind_is_offered_once_added(suite: Path) -> None:
    assert KIND in rendering.kinds(suite)
    assert kinds.load(KIND, suite).pipeline is not None


def test_the_render_passes_every_kind_check(suite: Path, repo: Path) -> None:
    kind = kinds.load(KIND, suite)
    answers = rendering.load_answers_file(repo)
    checks.check_file_set(kind, repo, answers)
    checks.check_nothing_left_unrendered(repo)
    checks.check_shared_files_are_verbatim(kind, repo, answers, suite)
    checks.check_python_parses_and_settings(kind, repo, answers)
    checks.check_pyproject(kind, repo, answers)
    checks.check_pre_commit(repo)
    checks.check_workflows(kind, repo, answers)


def test_the_rendered_repo_runs_its_pipeline_locally(repo: Path, tmp_path: Path) -> None:
    """Install the rendered repo in its own venv; run-pipeline --local runs the one step."""
    uv = shutil.which("uv") or shutil.which("uv", path=str(Path(sys.executable).parent))
    assert uv, "uv is a test dependency of the suite (pyproject [test])"
    venv = tmp_path / "venv"
    subprocess.run([uv, "venv", "-q", "--python", sys.executable, str(venv)], check=True)
    python = str(venv / "bin" / "python")
    install = [uv, "pip", "install", "-q", "--python", python, "-e", f"{repo}[dev]"]
    subprocess.run(install, check=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "VIRTUAL_ENV"))}
    command = [str(venv / "bin" / "run-pipeline"), "--local", "--embedded-aws"]
    command += ["--input-data", "data/numbers.csv", "--workdir", str(tmp_path / "jobs")]
    done = subprocess.run(command, cwd=repo, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "steps: Score" in done.stdout
    assert "Score.Score: total 10.0" in done.stdout, done.stdout
    written = tmp_path / "jobs" / "Score" / "opt/ml/processing/score/score.json"
    assert json.loads(written.read_text(encoding="utf-8")) == {"total": 10.0}
    # Bad input is named by the core, exactly as in every other kind.
    command[-4:-2] = ["--input-data", "missing.csv"]
    done = subprocess.run(command, cwd=repo, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 2
    assert "--input-data 'missing.csv' is neither a file nor an s3:// URL" in done.stderr
