"""Bring your own data: a rendered model-training repo, another CSV and label, its tests green.

The rendered repository names its data once (settings.py: SAMPLE_INPUT, LABEL_COLUMN,
DROP_COLUMNS). This test swaps in a synthetic CSV with another label column and an id column
through that block alone, then runs the rendered repository's own test suite in its own venv.
It needs the rendered repository's dependencies, so it runs in `nox -s "render(model-training)"`
(kind.yml rendered_tests), in the venv that session built for the rendered repos; the `tests`
session deselects it (marker rendered_repo).
"""

from __future__ import annotations

import os
import random
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from mlops_suite import rendering

ROOT = rendering.SUITE_ROOT
ANSWERS = ROOT / "tests" / "answers" / "model-training-minimal.yml"
PYTHON = "MLOPS_SUITE_RENDERED_PYTHON"

pytestmark = pytest.mark.rendered_repo


@pytest.fixture
def rendered_python() -> str:
    """The rendered repos' tests venv (its python), from the render session."""
    python = os.environ.get(PYTHON, "")
    if not Path(python).is_file():
        pytest.fail(
            f"{PYTHON}={python!r} is no interpreter: run this through "
            '`nox -s "render(model-training)"`, which sets it to the rendered repos\' venv'
        )
    return python


def write_synthetic_csv(path: Path, rows: int = 400, seed: int = 3) -> None:
    """A separable 0/1 problem: label `churned`, an id column, three numeric features."""
    rng = random.Random(seed)  # noqa: S311 - synthetic data, not secrets
    lines = ["customer_id,tenure_months,monthly_spend,support_calls,churned"]
    for i in range(rows):
        churned = int(i % 3 == 0)
        tenure = rng.gauss(8 if churned else 30, 4)
        spend = rng.gauss(80 if churned else 50, 10)
        calls = max(0, round(rng.gauss(5 if churned else 1, 1)))
        lines.append(f"c{i:05d},{tenure:.2f},{spend:.2f},{calls},{churned}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def set_constant(settings: Path, name: str, value: str) -> None:
    """Replace the value of one `NAME = ...` (or `NAME: type = ...`) line in settings.py."""
    text = settings.read_text(encoding="utf-8")
    pattern = re.compile(rf"^({name}(?::[^=]+)? = ).*$", re.MULTILINE)
    new, count = pattern.subn(lambda m: m.group(1) + value, text)
    assert count == 1, f"{name} is not set exactly once in {settings}"
    settings.write_text(new, encoding="utf-8")


def test_rendered_repo_passes_its_tests_with_another_csv_and_label(
    tmp_path: Path, rendered_python: str
) -> None:
    uv = shutil.which("uv") or str(Path(sys.executable).with_name("uv"))
    assert Path(uv).exists() or shutil.which(uv), "uv is needed: it is a dev dependency"
    snapshot = rendering.snapshot(tmp_path / "suite")
    answers = yaml.safe_load(ANSWERS.read_text(encoding="utf-8"))
    repo = tmp_path / "repo"
    rendering.render(repo, answers, template=str(snapshot))
    package = str(answers["project_name"]).replace("-", "_")
    settings = repo / "src" / package / "settings.py"

    # The one place: the data block of settings.py (and the file it names).
    (repo / "data" / "breast_cancer.csv").unlink()
    write_synthetic_csv(repo / "data" / "churn.csv")
    set_constant(settings, "SAMPLE_INPUT", '"data/churn.csv"')
    set_constant(settings, "LABEL_COLUMN", '"churned"')
    set_constant(settings, "DROP_COLUMNS", '("customer_id",)')

    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "PYTHONPATH"))}
    run = {"cwd": repo, "env": env, "check": True}
    python = rendered_python
    subprocess.run(  # type: ignore[call-overload]
        [uv, "pip", "install", "-q", "-p", python, "-e", ".[dev]"], **run
    )
    result = subprocess.run(
        [python, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert " passed" in result.stdout
