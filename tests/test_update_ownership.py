"""What `copier update` may touch: the team's data set is theirs once the repository exists."""

from __future__ import annotations

import subprocess
from pathlib import Path

import yaml

from copier import run_update
from mlops_suite import rendering

ANSWERS = sorted((rendering.SUITE_ROOT / "tests" / "answers").glob("model-training*.yml"))[0]
GIT = ["git", "-c", "user.name=t", "-c", "user.email=t@localhost"]


def git(cwd: Path, *args: str) -> None:
    subprocess.run([*GIT, *args], cwd=cwd, check=True, capture_output=True)


def test_update_keeps_the_teams_data_and_brings_template_changes(tmp_path: Path) -> None:
    suite = rendering.snapshot(tmp_path / "suite", tag="v1.0.0")
    repo = tmp_path / "repo"
    data = yaml.safe_load(ANSWERS.read_text(encoding="utf-8"))
    rendering.render(repo, data, template=str(suite), vcs_ref="v1.0.0")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "rendered")
    own = sorted((repo / "data").glob("*.csv"))[0]
    own.write_text("a,b,label\n1,2,0\n", encoding="utf-8")
    git(repo, "commit", "-qam", "our own data")

    kind = suite / "repo-templates" / data["repo_kind"]
    sample = kind / "data" / own.name
    sample.write_text(sample.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    readme = kind / "README.md.jinja"
    readme.write_text("Release note.\n\n" + readme.read_text(encoding="utf-8"), encoding="utf-8")
    git(suite, "commit", "-qam", "v1.1.0")
    git(suite, "tag", "v1.1.0")

    run_update(str(repo), defaults=True, overwrite=True, quiet=True, unsafe=False)

    assert own.read_text(encoding="utf-8") == "a,b,label\n1,2,0\n"
    assert (repo / "README.md").read_text(encoding="utf-8").startswith("Release note.")
