"""Kind profiles: the loader refuses a malformed profile by name, and code reads what it says."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from mlops_suite import kinds, names, rendering
from mlops_suite.handlers.clone_repo_flow import repo_spec
from mlops_suite.handlers.config import Settings
from mlops_suite.handlers.resource import RepoRequest

MINIMAL: dict[str, Any] = {
    "pipeline": {"name_suffix": "scoring", "description": "scoring"},
    "shared": ["answers-file", "workflow-ci"],
    "environments": ["dev"],
    "files": ["README.md", {"path": "extra.md", "when": "extra"}],
}


def tree(tmp_path: Path, profile: dict[str, Any], kind: str = "toy") -> Path:
    """A template tree with the suite's shared pieces and one kind whose profile is `profile`."""
    shared = kinds.PIECES.parent
    shutil.copytree(rendering.SUITE_ROOT / shared, tmp_path / shared)
    (tmp_path / "repo-templates" / kind).mkdir()
    text = yaml.safe_dump(profile)
    (tmp_path / "repo-templates" / kind / kinds.PROFILE).write_text(text, encoding="utf-8")
    return tmp_path


def test_every_offered_kind_has_a_profile() -> None:
    loaded = kinds.all_kinds()
    assert [k.name for k in loaded] == rendering.kinds()
    for kind in loaded:
        assert kind.environments, kind.name
        assert set(kind.demo) <= set(kinds.DEMO_STEPS)


def test_a_minimal_profile_loads_with_defaults(tmp_path: Path) -> None:
    kind = kinds.load("toy", tree(tmp_path, MINIMAL))
    assert kind.pipeline == kinds.Pipeline("scoring", "scoring")
    assert kind.environments == ("dev",)
    assert kind.user_variables == tuple(names.load()["github"]["user_variables"])
    assert kind.workflows() == {"ci.yml": ()}
    base = {"project_name": "a-b"}
    always = {".copier-answers.yml", ".github/workflows/ci.yml", "README.md"}
    assert kind.expected_files(base) == always
    assert "extra.md" in kind.expected_files({**base, "extra": True})


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"colour": "blue"}, r"unknown key\(s\) \['colour'\]"),
        ({"shared": ["nope"]}, "shared piece 'nope' is not in"),
        ({"environments": ["qa"]}, r"environments \['qa'\] are not platform environments"),
        ({"pipeline": {"name_suffix": "x"}}, r"\['description'\] missing"),
        ({"pipeline": {**MINIMAL["pipeline"], "gpu": 1}}, r"pipeline keys \['gpu'\] unknown"),
        ({"demo": ["dance"]}, r"demo steps \['dance'\] are unknown"),
        ({"files": [{"file": "x"}]}, "is neither a path nor"),
        ({"repository_variables": {"AWS_REGION": "x"}}, r"\['AWS_REGION'\] are set for every"),
        ({"bad_answers": [{"answer": "x"}]}, "needs exactly answer, value, message"),
        ({"rendered_tests": ["own_data.py"]}, "entry 'own_data.py' is no suite test file"),
        ({"rendered_tests": "tests/x.py"}, "rendered_tests is 'tests/x.py'; use a list"),
    ],
)
def test_a_bad_profile_is_refused_by_name(
    tmp_path: Path, change: dict[str, Any], message: str
) -> None:
    with pytest.raises(kinds.KindError, match=message):
        kinds.load("toy", tree(tmp_path, {**MINIMAL, **change}))


def test_a_kind_without_a_profile_names_the_file_to_add(tmp_path: Path) -> None:
    with pytest.raises(kinds.KindError, match=r"add repo-templates/ghost/kind\.yml"):
        kinds.load("ghost", tmp_path)


def test_the_lambda_reads_environments_and_variables_from_the_profile(tmp_path: Path) -> None:
    profile = {**MINIMAL, "repository_variables": {"SCORING_PREFIX": "{project_name}-scores"}}
    template = tree(tmp_path, profile)
    answers = {
        "repo_kind": "toy",
        "project_name": "churn",
        "github_org": "my-org",
        "owner": "ml-team",
        "aws_region": "eu-west-1",
        "dev_account_id": "111111111111",
        "sagemaker_project_id": "p-abcdef012345",
    }
    settings = Settings("my-org", "https://api.github.com", "arn", "approvers", "u", "v1", "r")
    spec = repo_spec(RepoRequest(answers, "churn"), answers, settings, template)
    assert [e.name for e in spec.environments] == ["dev"]
    assert spec.variables["SCORING_PREFIX"] == "churn-scores"
    assert set(names.load()["github"]["repo_variables"]) <= set(spec.variables)
    bad = {**profile, "repository_variables": {"X": "{no_such_answer}"}}
    with pytest.raises(kinds.KindError, match="reads answer 'no_such_answer'"):
        repo_spec(RepoRequest(answers, "churn"), answers, settings, tree(tmp_path / "b", bad))


def load_noxfile() -> Any:
    spec = importlib.util.spec_from_file_location("noxfile", rendering.SUITE_ROOT / "noxfile.py")
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("kind", rendering.kinds())
def test_the_render_session_runs_the_full_checks_of_an_existing_answer_set(kind: str) -> None:
    profile = kinds.load(kind)
    stems = [p.stem for p in kinds.answer_sets(kind)]
    expected = profile.full_check or stems[0]
    assert expected in stems, (
        f"{profile.root / kinds.PROFILE}: full_check {expected!r} is none of {stems}"
    )
    assert load_noxfile().full_check_set(kind) == expected


@pytest.mark.parametrize("kind", rendering.kinds())
def test_the_render_session_knows_which_kinds_run_a_pipeline(kind: str) -> None:
    assert load_noxfile().runs_pipeline(kind) == (kinds.load(kind).pipeline is not None)


@pytest.mark.parametrize("kind", rendering.kinds())
def test_the_render_session_runs_the_kinds_rendered_tests(kind: str) -> None:
    expected = list(kinds.load(kind).rendered_tests)
    assert load_noxfile().rendered_tests(kind) == expected
    for test in expected:
        assert (rendering.SUITE_ROOT / test).is_file(), f"{kind}: rendered_tests {test} is missing"
