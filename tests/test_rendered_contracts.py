"""Every rendered repository honours the shared contracts: variables, workflows, names."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from mlops_suite import kinds, names, rendering

ANSWER_SETS = sorted((rendering.SUITE_ROOT / "tests" / "answers").glob("*.yml"))


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, dict[str, Any]]]:
    suite = rendering.snapshot(tmp_path_factory.mktemp("suite"))
    out = {}
    for path in ANSWER_SETS:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        dst = tmp_path_factory.mktemp(path.stem)
        out[path.stem] = (dst, rendering.render(dst, data, template=str(suite)))
    return out


def workflow_texts(repo: Path) -> dict[str, str]:
    folder = repo / ".github" / "workflows"
    return {p.name: p.read_text(encoding="utf-8") for p in folder.glob("*.yml")}


@pytest.mark.parametrize("answers", [p.stem for p in ANSWER_SETS])
def test_workflows_read_only_variables_someone_sets(rendered: dict[str, Any], answers: str) -> None:
    github = names.load()["github"]
    repo, recorded = rendered[answers]
    kind = kinds.load(recorded["repo_kind"])
    known = {*github["repo_variables"], *github["environment_variables"], *kind.user_variables}
    used = set()
    for name, text in workflow_texts(repo).items():
        found = set(re.findall(r"vars\.([A-Za-z_][A-Za-z0-9_]*)", text))
        assert found <= known, f"{name} reads variables nobody sets: {sorted(found - known)}"
        used |= found
        assert "secrets." not in text.replace("secrets.GITHUB_TOKEN", ""), f"{name} reads a secret"
    assert "AWS_ROLE_ARN" in used, "no workflow assumes the role the platform names"


@pytest.mark.parametrize("answers", [p.stem for p in ANSWER_SETS])
def test_every_repo_can_update_and_check_itself(rendered: dict[str, Any], answers: str) -> None:
    repo, recorded = rendered[answers]
    workflows = workflow_texts(repo)
    assert {"ci.yml", "template-update.yml"} <= set(workflows)
    update = yaml.safe_load(workflows["template-update.yml"])
    assert update["permissions"] == {}
    job = update["jobs"]["update"]
    assert job["permissions"] == {"contents": "write", "pull-requests": "write"}
    run = next(s["run"] for s in job["steps"] if s.get("id") == "update")
    assert "copier update" in run
    assert "--defaults" in run
    assert (repo / ".copier-answers.yml").is_file()
    assert recorded["repo_kind"] in rendering.kinds()


@pytest.mark.parametrize("answers", [p.stem for p in ANSWER_SETS])
def test_every_action_is_pinned_by_sha(rendered: dict[str, Any], answers: str) -> None:
    repo, _ = rendered[answers]
    for name, text in workflow_texts(repo).items():
        for ref in re.findall(r"uses:\s*([^\s#]+)", text):
            assert re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", ref), f"{name}: {ref} not pinned"
