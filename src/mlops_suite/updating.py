"""Cross a real suite release: render at a release, edit as a user would, update to HEAD."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mlops_suite import rendering

GIT = ["git", "-c", "user.name=mlops-suite", "-c", "user.email=mlops-suite@localhost"]
# What a user adds to files they own; each must survive the update unchanged.
README_NOTE = "\n## Team notes\n\nOur own notes, kept across template updates.\n"
USER_FILE = Path("notes") / "experiments.md"
USER_FILE_TEXT = "# Experiments\n\n- baseline run, kept across template updates\n"
CONFLICT = re.compile(r"^(<{7}|>{7})( |$)", re.MULTILINE)


class UpdateProblem(AssertionError):
    """The update left the repository in a state a user would have to repair."""


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run([*GIT, *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


def render_at_release(dst: Path, data: Mapping[str, Any], suite: Path, tag: str) -> None:
    """Render `data` at the suite's `tag` into a fresh git repo with one commit."""
    rendering.render(dst, data, template=str(suite), vcs_ref=tag)
    _git(dst, "init", "-q", "-b", "main")
    _git(dst, "add", "-A")
    _git(dst, "commit", "-q", "-m", f"rendered at {tag}")


def apply_user_edits(repo: Path) -> None:
    """Edit the repository as its team would: a README section and a file of their own."""
    readme = repo / "README.md"
    readme.write_text(readme.read_text(encoding="utf-8") + README_NOTE, encoding="utf-8")
    (repo / USER_FILE).parent.mkdir(parents=True, exist_ok=True)
    (repo / USER_FILE).write_text(USER_FILE_TEXT, encoding="utf-8")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "team edits")


def update_to(repo: Path, vcs_ref: str = "HEAD") -> None:
    """Run `copier update` as the update workflow does, conflicts inline."""
    from copier import run_update

    run_update(
        str(repo), vcs_ref=vcs_ref, defaults=True, overwrite=True, quiet=True, conflict="inline"
    )


def problems(repo: Path, suite: Path) -> list[str]:
    """Return what is wrong with `repo` after an update, or [] when it is clean."""
    found = []
    status = _git(repo, "status", "--porcelain", "--untracked-files=all").splitlines()
    for line in status:
        path = line[3:]
        if path.endswith((".rej", ".orig")):
            found.append(f"leftover {path} from a hunk that did not apply")
        target = repo / path
        if target.is_file() and CONFLICT.search(
            target.read_text(encoding="utf-8", errors="ignore")
        ):
            found.append(f"conflict markers in {path}")
    if README_NOTE.strip() not in (repo / "README.md").read_text(encoding="utf-8"):
        found.append("the team's README section was lost")
    if (
        not (repo / USER_FILE).is_file()
        or (repo / USER_FILE).read_text(encoding="utf-8") != USER_FILE_TEXT
    ):
        found.append(f"the team's own file {USER_FILE} was changed or lost")
    head = _git(suite, "describe", "--tags", "--always", "HEAD").strip()
    commit = str(rendering.load_answers_file(repo).get("_commit"))
    if commit != head:
        found.append(f"answers file records _commit {commit!r}, not the suite's HEAD {head!r}")
    return found


def check_update(answers: Mapping[str, Any], suite: Path, tag: str, dst: Path) -> None:
    """Render at `tag`, edit, update to HEAD; raise UpdateProblem naming what went wrong."""
    render_at_release(dst, answers, suite, tag)
    apply_user_edits(dst)
    update_to(dst)
    found = problems(dst, suite)
    if found:
        raise UpdateProblem(f"update of {dst.name} from {tag} to HEAD: " + "; ".join(found))
