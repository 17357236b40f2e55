"""The custom resource's property contract, held to the one questionnaire (copier.yml)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from lambda_support import load_event

from mlops_suite import rendering
from mlops_suite.handlers import resource

ANSWERS = sorted((Path(__file__).resolve().parents[1] / "answers").glob("*.yml"))


@pytest.fixture(scope="module")
def questions(template_tree: Path) -> dict[str, dict[str, Any]]:
    return rendering.questionnaire(template_tree)


def test_properties_are_the_askable_questions(questions: dict[str, dict[str, Any]]) -> None:
    names = resource.property_names(questions)
    assert "repo_kind" in names
    assert "project_name" in names
    assert {"ServiceToken", "repo_name", "archive_on_delete"} <= set(names)
    for name, spec in questions.items():
        assert (name in names) is not resource.is_derived(spec), name
    assert "module_name" not in names  # derived: when: false


def test_canned_events_use_only_contract_properties(questions: dict[str, dict[str, Any]]) -> None:
    allowed = set(resource.property_names(questions))
    for event in ("clone-repo-create", "clone-repo-update", "clone-repo-delete"):
        assert set(load_event(event)["ResourceProperties"]) <= allowed, event


@pytest.mark.parametrize("answers_file", ANSWERS, ids=[p.stem for p in ANSWERS])
def test_every_answer_set_maps_through_cloudformation_strings(
    questions: dict[str, dict[str, Any]], answers_file: Path
) -> None:
    answers = yaml.safe_load(answers_file.read_text(encoding="utf-8"))
    props = resource.cfn_properties(answers, extra=[("ServiceToken", "arn:aws:lambda:x")])
    assert all(isinstance(v, str) for v in props.values())
    req = resource.repo_request(props, questions, github_org=answers["github_org"])
    # Typed answers come back typed (parsed strictly by the question's type), the rest as strings.
    typed = {k for k, q in questions.items() if q.get("type") in ("bool", "int", "float")}
    assert req.answers == {k: v if k in typed else str(v) for k, v in answers.items()}
    assert set(req.answers) == set(answers)
    assert req.repo_name == answers["project_name"]
    assert req.full_name == f"{answers['github_org']}/{answers['project_name']}"
    assert req.archive_on_delete is False


def test_kinds_come_from_the_questionnaire(template_tree: Path) -> None:
    choices = rendering.kinds(template_tree)
    assert choices
    assert choices == rendering.kinds()
