"""Suite releases: the record, cutting one, and a clone that carries the real release tags."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from pathlib import Path

import pytest
import yaml

from mlops_suite import release, rendering, updating

GIT = ["git", "-c", "user.name=t", "-c", "user.email=t@localhost"]


def git(cwd: Path, *args: str) -> str:
    return subprocess.run([*GIT, *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


@pytest.fixture
def suite(tmp_path: Path) -> Path:
    return rendering.snapshot(tmp_path / "suite")


def test_recorded_releases_are_consistent_with_the_platform() -> None:
    recorded = release.releases()
    assert recorded, "releases.json records no release"
    environments = json.loads(
        (rendering.SUITE_ROOT / "platform" / "environments" / "environments.json").read_text()
    )
    # The platform renders projects at a release that exists.
    assert environments["suite_release"] in {r.tag for r in recorded}
    changelog = (rendering.SUITE_ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    for r in recorded:
        assert f"## {r.version} (" in changelog, f"CHANGELOG.md has no section for {r.tag}"
        assert set(r.kinds) <= set(rendering.kinds()) | {"model-training"}


def test_cut_writes_changelog_tags_and_records(suite: Path) -> None:
    cut = release.cut("9.0.0", root=suite, today=dt.date(2027, 1, 2))
    assert cut.tag == "v9.0.0"
    assert git(suite, "rev-parse", "v9.0.0^{commit}").strip() == cut.commit
    changelog = git(suite, "show", f"{cut.commit}:CHANGELOG.md")
    assert "## Unreleased\n\n## 9.0.0 (2027-01-02)" in changelog
    recorded = release.releases(suite)
    assert recorded[-1] == cut
    assert cut.kinds == tuple(rendering.kinds(suite))
    assert git(suite, "status", "--porcelain") == ""


def test_cut_refuses_a_dirty_tree_naming_the_files(suite: Path) -> None:
    (suite / "README.md").write_text("changed\n", encoding="utf-8")
    with pytest.raises(release.ReleaseError, match=r"not clean: commit or stash \['README.md'\]"):
        release.cut("9.0.0", root=suite)
    assert git(suite, "tag", "--list") == ""


@pytest.mark.parametrize(
    ("version", "message"),
    [("nine", "not PEP 440"), ("0.0.1", "not newer than"), ("0.1.0", "not newer than")],
)
def test_cut_refuses_bad_versions(suite: Path, version: str, message: str) -> None:
    with pytest.raises(release.ReleaseError, match=message):
        release.cut(version, root=suite)


def test_cut_refuses_an_entry_without_kinds_or_action(suite: Path) -> None:
    changelog = suite / "CHANGELOG.md"
    text = changelog.read_text(encoding="utf-8")
    changelog.write_text(text.replace("## Unreleased\n", "## Unreleased\n\n- fixed a thing\n"))
    git(suite, "commit", "-qam", "bad entry")
    with pytest.raises(release.ReleaseError, match="must read"):
        release.cut("9.0.0", root=suite)
    assert git(suite, "tag", "--list") == ""


def test_suite_with_releases_tags_the_recorded_commits(tmp_path: Path) -> None:
    clone = release.suite_with_releases(tmp_path / "suite")
    for r in release.releases():
        assert git(clone, "rev-parse", f"{r.tag}^{{commit}}").strip() == r.commit
    # HEAD is the work tree under test.
    assert git(clone, "status", "--porcelain") == ""
    head_copier = (clone / "copier.yml").read_text(encoding="utf-8")
    assert head_copier == (rendering.SUITE_ROOT / "copier.yml").read_text(encoding="utf-8")


def test_update_from_the_newest_release_keeps_team_edits(tmp_path: Path) -> None:
    clone = release.suite_with_releases(tmp_path / "suite")
    previous = release.latest()
    answers = rendering.SUITE_ROOT / "tests" / "answers" / f"{previous.kinds[0]}-minimal.yml"

    data = yaml.safe_load(answers.read_text(encoding="utf-8"))
    updating.check_update(data, clone, previous.tag, tmp_path / "repo")
    assert rendering.load_answers_file(tmp_path / "repo")["_commit"] != previous.tag


def test_update_problems_name_a_lost_edit_and_conflict_markers(tmp_path: Path) -> None:
    clone = release.suite_with_releases(tmp_path / "suite")
    previous = release.latest()

    answers = rendering.SUITE_ROOT / "tests" / "answers" / f"{previous.kinds[0]}-minimal.yml"
    repo = tmp_path / "repo"
    updating.render_at_release(repo, yaml.safe_load(answers.read_text()), clone, previous.tag)
    updating.apply_user_edits(repo)
    (repo / "README.md").write_text("<<<<<<< before updating\nmine\n=======\n", encoding="utf-8")
    found = updating.problems(repo, clone)
    assert "conflict markers in README.md" in found
    assert "the team's README section was lost" in found
    assert any("_commit" in item for item in found)
