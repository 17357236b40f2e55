"""Generated repos stay updatable: `copier update` brings a release and keeps local edits."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from copier import run_update
from mlops_suite import kinds, rendering

# The first answer set of every kind: an update must work for each.
ANSWERS = {kind: kinds.answer_sets(kind)[0] for kind in rendering.kinds()}
GIT = ["git", "-c", "user.name=t", "-c", "user.email=t@localhost"]


def git(cwd: Path, *args: str) -> str:
    return subprocess.run([*GIT, *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


def release(suite: Path, tag: str) -> None:
    git(suite, "add", "-A")
    git(suite, "commit", "-q", "--allow-empty", "-m", tag)
    git(suite, "tag", tag)


def render_release(tmp_path: Path, kind: str) -> tuple[Path, Path]:
    """Snapshot the suite as v1.0.0 and render `kind`'s first answer set from it, committed."""
    suite = rendering.snapshot(tmp_path / "suite", tag="v1.0.0")
    repo = tmp_path / "repo"
    data = yaml.safe_load(ANSWERS[kind].read_text(encoding="utf-8"))
    rendering.render(repo, data, template=str(suite), vcs_ref="v1.0.0")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "rendered")
    return suite, repo


@pytest.fixture
def rendered(tmp_path: Path) -> tuple[Path, Path]:
    """The first kind, for what does not depend on the kind."""
    return render_release(tmp_path, rendering.kinds()[0])


@pytest.mark.parametrize("kind", sorted(ANSWERS))
def test_update_brings_release_and_keeps_local_edits(tmp_path: Path, kind: str) -> None:
    suite, repo = render_release(tmp_path, kind)
    readme = repo / "README.md"
    readme.write_text(
        readme.read_text(encoding="utf-8") + "\nLocal notes that must survive.\n", encoding="utf-8"
    )
    git(repo, "commit", "-q", "-am", "local edit")

    template_readme = suite / "repo-templates" / kind / "README.md.jinja"
    template_readme.write_text(
        "Suite release note for {{ project_name }}.\n\n"
        + template_readme.read_text(encoding="utf-8"),
        encoding="utf-8",
    )
    release(suite, "v1.1.0")

    run_update(str(repo), defaults=True, overwrite=True, quiet=True, unsafe=False)

    text = readme.read_text(encoding="utf-8")
    project = rendering.load_answers_file(repo)["project_name"]
    assert f"Suite release note for {project}." in text
    assert "Local notes that must survive." in text
    assert rendering.load_answers_file(repo)["_commit"] == "v1.1.0"


def test_update_can_change_an_answer(rendered: tuple[Path, Path]) -> None:
    suite, repo = rendered
    release(suite, "v1.0.1")
    run_update(
        str(repo), data={"aws_region": "us-west-2"}, defaults=True, overwrite=True, quiet=True
    )
    answers = rendering.load_answers_file(repo)
    assert answers["aws_region"] == "us-west-2"
    assert answers["_commit"] == "v1.0.1"


def test_update_rejects_a_bad_answer_and_leaves_repo_clean(rendered: tuple[Path, Path]) -> None:
    suite, repo = rendered
    release(suite, "v1.0.2")
    before = git(repo, "rev-parse", "HEAD")
    with pytest.raises(ValueError, match='Invalid dev account id "123"'):
        run_update(
            str(repo), data={"dev_account_id": "123"}, defaults=True, overwrite=True, quiet=True
        )
    assert git(repo, "status", "--porcelain") == ""
    assert git(repo, "rev-parse", "HEAD") == before
    assert rendering.load_answers_file(repo)["_commit"] == "v1.0.0"
