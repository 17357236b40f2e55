"""Render repository kinds with Copier: from the suite's git history, or from a bundled tree."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

SUITE_ROOT = Path(__file__).resolve().parents[2]
ANSWERS_FILE = ".copier-answers.yml"


class RenderError(ValueError):
    """An answer or a template could not be rendered; the message names the value and the fix."""


def questionnaire(template: Path = SUITE_ROOT) -> dict[str, dict[str, Any]]:
    """Return the questions of copier.yml with its includes resolved, keyed by answer name."""
    from copier._template import Template  # copier's own loader, so !include works as in copier

    tpl = Template(url=str(template))
    return {name: dict(spec) for name, spec in tpl.questions_data.items()}


def kinds(template: Path = SUITE_ROOT) -> list[str]:
    """Return the repository kinds offered by the `repo_kind` question, in questionnaire order."""
    choices = questionnaire(template)["repo_kind"]["choices"]
    values = choices.values() if isinstance(choices, Mapping) else choices
    return [str(v) for v in values]


def suite_files(src: Path = SUITE_ROOT) -> list[str]:
    """Return the paths git would commit from `src` (tracked plus untracked, ignored left out)."""
    out = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=src,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return sorted({p for p in out.split("\0") if p and (src / p).is_file()})


def snapshot(dst: Path, src: Path = SUITE_ROOT, *, tag: str | None = None) -> Path:
    """Copy the suite's working tree into a fresh git repo at `dst` and commit it.

    Renders then come from a commit, exactly as users get them, but include uncommitted work.
    """
    dst.mkdir(parents=True, exist_ok=True)
    for rel in suite_files(src):
        target = dst / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src / rel, target)
    git = ["git", "-c", "user.name=mlops-suite", "-c", "user.email=mlops-suite@localhost"]
    subprocess.run([*git, "init", "-q", "-b", "main"], cwd=dst, check=True)
    subprocess.run([*git, "add", "-A"], cwd=dst, check=True)
    subprocess.run([*git, "commit", "-q", "-m", "snapshot"], cwd=dst, check=True)
    if tag:
        subprocess.run([*git, "tag", tag], cwd=dst, check=True)
    return dst


def load_answers_file(path: Path) -> dict[str, Any]:
    """Return the answers recorded in a rendered repo's .copier-answers.yml."""
    data = yaml.safe_load((path / ANSWERS_FILE).read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise RenderError(f"{path / ANSWERS_FILE} holds no answers: render the repo with copier")
    return data


def render(
    dst: Path,
    data: Mapping[str, Any],
    *,
    template: Path | str = SUITE_ROOT,
    vcs_ref: str | None = "HEAD",
    src_url: str | None = None,
    commit: str | None = None,
    quiet: bool = True,
) -> dict[str, Any]:
    """Render the kind named by ``data["repo_kind"]`` into `dst` and return the recorded answers.

    `src_url` and `commit` rewrite the answers file's template source, for renders from a bundled
    tree (no git in the Lambda runtime) that must still update from the canonical suite URL.
    """
    from copier import run_copy

    try:
        run_copy(
            str(template),
            str(dst),
            data=dict(data),
            vcs_ref=vcs_ref,
            defaults=True,
            overwrite=True,
            quiet=quiet,
            unsafe=False,
        )
    except ValueError as exc:  # copier raises ValueError subclasses for invalid answers
        shutil.rmtree(dst, ignore_errors=True)
        raise RenderError(str(exc)) from exc
    answers_path = dst / ANSWERS_FILE
    answers = load_answers_file(dst)
    if src_url or commit:
        if src_url:
            answers["_src_path"] = src_url
        if commit:
            answers["_commit"] = commit
        header = answers_path.read_text(encoding="utf-8").splitlines()[0]
        body = yaml.safe_dump(answers, sort_keys=True, default_flow_style=False)
        answers_path.write_text(f"{header}\n{body}", encoding="utf-8")
    return answers
