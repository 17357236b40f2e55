"""Repository kinds as data: each kind's profile, `repo-templates/<kind>/kind.yml`.

The list of kinds is `copier.yml`'s `repo_kind` choices (rendering.kinds); what a kind needs
beyond its template files is its profile. The Lambda, the contract, render and update tests and
the demo read it here instead of listing kinds or their variables.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from mlops_suite import names, rendering

PROFILE = "kind.yml"


class KindError(ValueError):
    """A kind or its profile is missing or malformed; the message names the file and the fix."""


@dataclass(frozen=True)
class Pipeline:
    """The SageMaker pipeline a kind runs, as the pipeline core and its train workflow see it."""

    name_suffix: str
    description: str
    input_parameter: str | None
    input_variable: str | None
    sample_input: str | None
    wait_minutes: int
    timeout_minutes: int


@dataclass(frozen=True)
class Kind:
    """One kind's profile."""

    name: str
    root: Path
    pipeline: Pipeline | None
    user_variables: tuple[str, ...] = field(default=())
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


def _pipeline(path: Path, data: Any) -> Pipeline | None:
    if data is None:
        return None
    if not isinstance(data, dict):
        raise KindError(f"{path}: `pipeline` must be a mapping or null, not {data!r}")
    known = set(Pipeline.__dataclass_fields__)
    unknown = sorted(set(data) - known)
    missing = sorted(k for k in ("name_suffix", "description") if k not in data)
    if unknown or missing:
        raise KindError(
            f"{path}: pipeline keys {unknown} unknown, {missing} missing: use {sorted(known)}"
        )
    return Pipeline(
        name_suffix=str(data["name_suffix"]),
        description=str(data["description"]),
        input_parameter=data.get("input_parameter"),
        input_variable=data.get("input_variable"),
        sample_input=data.get("sample_input"),
        wait_minutes=int(data.get("wait_minutes", 120)),
        timeout_minutes=int(data.get("timeout_minutes", 240)),
    )


def load(kind: str, template: Path = rendering.SUITE_ROOT) -> Kind:
    """Return the profile of `kind` from the template tree at `template`."""
    root = template / "repo-templates" / kind
    path = root / PROFILE
    if not path.is_file():
        raise KindError(
            f"kind {kind!r} has no profile {path}: add repo-templates/{kind}/{PROFILE}"
            " (see repo-templates/model-training/kind.yml)"
        )
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):
        raise KindError(f"{path} must hold a mapping, not {type(data).__name__}")
    pipeline = _pipeline(path, data.get("pipeline"))
    user_variables = list(names.load()["github"]["user_variables"]) if pipeline else []
    if pipeline and pipeline.input_variable:
        user_variables.append(pipeline.input_variable)
    user_variables += [str(v) for v in data.get("user_variables", [])]
    return Kind(kind, root, pipeline, tuple(dict.fromkeys(user_variables)), data)


def all_kinds(template: Path = rendering.SUITE_ROOT) -> list[Kind]:
    """Return every kind's profile, in questionnaire order."""
    return [load(kind, template) for kind in rendering.kinds(template)]
