"""The clone-repo custom resource's contract: the event model (`CfnEvent`, from ``cfn``), its
properties and how they become Copier answers. Standard library only, cheap to import.

CloudFormation templates (``project-templates/``) pass the resource properties below; this module
is the one place that maps them, so the templates' contract tests can import it.

* ``ServiceToken``: the clone-repo Lambda's ARN (CloudFormation's own property).
* every askable question of ``copier.yml`` under its answer name (``repo_kind``, ``project_name``,
  ``owner``, ``dev_account_id``, ``sagemaker_project_id``, ...), as strings (CloudFormation sends
  strings). Typed answers are parsed strictly by the question's type before Copier sees them:
  ``bool`` is exactly ``"true"`` or ``"false"``, ``int`` digits with an optional sign, ``float``
  a plain decimal number; anything else (``"maybe"``, ``"1.5"`` for a bool, ``" true "``) is
  rejected naming the property and the value. Copier then runs its validators.
* ``repo_name`` (optional): repository name; defaults to ``project_name``.
* ``archive_on_delete`` (optional, ``"true"``/``"false"``, default false): archive the repository
  when the stack is deleted. The code is never deleted.

``RepoKind`` is accepted as an alias of ``repo_kind``. Derived answers (``when: false``) cannot be
set. ``github_org`` defaults to the platform's organisation and may not name another one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from mlops_suite.handlers.cfn import CfnEvent, EventError

__all__ = [
    "CfnEvent",
    "EventError",
    "PropertyError",
    "RepoRequest",
    "property_names",
    "repo_request",
]

SERVICE_TOKEN = "ServiceToken"  # noqa: S105 - a property name, not a secret
REPO_NAME = "repo_name"
ARCHIVE_ON_DELETE = "archive_on_delete"
HANDLER_PROPERTIES = (SERVICE_TOKEN, REPO_NAME, ARCHIVE_ON_DELETE)
ALIASES = {"RepoKind": "repo_kind"}
REPO_NAME_PATTERN = re.compile(r"^(?!\.{1,2}$)[A-Za-z0-9._-]{1,100}$")
FULL_NAME_PATTERN = re.compile(r"^[A-Za-z0-9-]{1,39}/[A-Za-z0-9._-]{1,100}$")


class PropertyError(ValueError):
    """A resource property is unknown, derived, or malformed; the message says how to fix it."""


@dataclass(frozen=True)
class RepoRequest:
    """What one custom resource asks for: Copier answers plus the handler's own options."""

    answers: dict[str, Any]
    repo_name: str
    archive_on_delete: bool = False

    @property
    def repo_kind(self) -> str:
        """The repository kind (``repo_kind`` answer)."""
        return str(self.answers.get("repo_kind", ""))

    @property
    def github_org(self) -> str:
        """The organisation that will own the repository."""
        return str(self.answers["github_org"])

    @property
    def full_name(self) -> str:
        """``org/repo_name``."""
        return f"{self.github_org}/{self.repo_name}"


def is_derived(spec: Mapping[str, Any]) -> bool:
    """True for computed answers (``when: false``), which a caller may not set."""
    when = spec.get("when", True)
    return when is False or (isinstance(when, str) and when.strip().lower() == "false")


def askable(questions: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Answer names a caller may pass: every question that is not derived."""
    return [name for name, spec in questions.items() if not is_derived(spec)]


def property_names(questions: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Every property the custom resource accepts (answers plus handler properties)."""
    return [*askable(questions), *HANDLER_PROPERTIES]


INT = re.compile(r"^[-+]?[0-9]+$")
FLOAT = re.compile(r"^[-+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]+)?$")


def parse_bool(name: str, value: Any) -> bool:
    """Parse CloudFormation's string booleans: exactly "true" or "false"."""
    if isinstance(value, bool):
        return value
    if value in ("true", "false"):
        return bool(value == "true")
    raise PropertyError(f'{name} is "{value}": use "true" or "false"')


def parse_typed(name: str, value: Any, kind: str) -> Any:
    """Parse one answer by its Copier question type; reject, naming the value, what is not."""
    if kind == "bool":
        return parse_bool(name, value)
    if kind == "int":
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and INT.match(value):
            return int(value)
        raise PropertyError(f'{name} is "{value}": use a whole number, e.g. "3"')
    if kind == "float":
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str) and FLOAT.match(value):
            return float(value)
        raise PropertyError(f'{name} is "{value}": use a decimal number, e.g. "0.8"')
    return value


def repo_request(
    properties: Mapping[str, Any],
    questions: Mapping[str, Mapping[str, Any]],
    *,
    github_org: str | None = None,
) -> RepoRequest:
    """Map resource properties to Copier answers; Copier's validators judge the values later."""
    allowed = set(askable(questions))
    answers: dict[str, Any] = {}
    unknown: list[str] = []
    for key, value in properties.items():
        if key in (SERVICE_TOKEN, REPO_NAME, ARCHIVE_ON_DELETE):
            continue
        name = ALIASES.get(key, key)
        if name in questions and name not in allowed:
            raise PropertyError(
                f"property {key} is derived from other answers and cannot be set: remove it"
            )
        if name not in allowed:
            unknown.append(key)
            continue
        if isinstance(value, Mapping | list):
            raise PropertyError(f"property {key} must be a string, got a {type(value).__name__}")
        answers[name] = parse_typed(key, value, str(questions[name].get("type") or "str"))
    if unknown:
        raise PropertyError(
            f"unknown properties {sorted(unknown)}: use Copier answer names "
            f"({', '.join(sorted(allowed))}) or {', '.join(HANDLER_PROPERTIES)}"
        )
    if github_org:
        given = answers.setdefault("github_org", github_org)
        if str(given).lower() != github_org.lower():
            raise PropertyError(
                f'github_org "{given}" is not the organisation this platform publishes to: '
                f'leave it out or set it to "{github_org}"'
            )
    explicit = properties.get(REPO_NAME)
    # Without repo_name the name is project_name, which Copier's validator judges (more strictly).
    repo_name = str(explicit or answers.get("project_name") or "")
    if explicit is not None and not REPO_NAME_PATTERN.match(repo_name):
        raise PropertyError(
            f'repo_name "{repo_name}" is not a valid GitHub repository name: use up to 100 '
            "letters, digits, '.', '-' or '_', e.g. churn-model"
        )
    archive = parse_bool(ARCHIVE_ON_DELETE, properties.get(ARCHIVE_ON_DELETE, "false"))
    return RepoRequest(answers=answers, repo_name=repo_name, archive_on_delete=archive)


def cfn_properties(
    answers: Mapping[str, Any], *, extra: Iterable[tuple[str, str]] = ()
) -> dict[str, str]:
    """The inverse mapping for templates and tests: answers as CloudFormation string properties."""
    out = {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in answers.items()}
    out.update(extra)
    return out
