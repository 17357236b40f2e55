"""Repository kinds as data: each kind's profile, `repo-templates/<kind>/kind.yml`.

The list of kinds is `copier.yml`'s `repo_kind` choices (`rendering.kinds`); what a kind needs
beyond its template files is its profile: its pipeline (or none), the shared pieces it renders
(`repo-templates/_shared/pieces.yml`), the environments and variables its repository gets, the
demo's steps and the files a render must produce. The Lambda, the render, contract and update
tests and the demo read it here instead of listing kinds, variables or files.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from mlops_suite import names, rendering

PROFILE = "kind.yml"
PIECES = Path("repo-templates") / "_shared" / "pieces.yml"
DEMO_STEPS = ("local-pipeline", "approve")
PROFILE_KEYS = frozenset(
    {
        "description",
        "pipeline",
        "shared",
        "environments",
        "repository_variables",
        "user_variables",
        "demo",
        "files",
        "settings_answers",
        "bad_answers",
        "full_check",
        "rendered_tests",
    }
)


class KindError(ValueError):
    """A kind or its profile is missing or malformed; the message names the file and the fix."""


@dataclass(frozen=True)
class Pipeline:
    """The SageMaker pipeline a kind runs, as the pipeline core and its train workflow see it."""

    name_suffix: str
    description: str
    input_parameter: str | None = None
    input_variable: str | None = None
    sample_input: str | None = None
    wait_minutes: int = 120
    timeout_minutes: int = 240


@dataclass(frozen=True)
class SharedFile:
    """One file a shared piece renders: its source under `_shared/` and its path in the repo."""

    piece: str
    source: str
    target: str
    writes: tuple[str, ...] = ()

    def stub(self) -> tuple[str, str]:
        """Return (path in the kind's tree, text): the one-line include a kind carries for it."""
        path = self.target.replace("PKG", "{{ module_name }}")
        if path == rendering.ANSWERS_FILE:
            path = "{{_copier_conf.answers_file}}"
        return f"{path}.jinja", f"{{% include 'repo-templates/_shared/{self.source}' %}}"

    @property
    def verbatim(self) -> bool:
        """True when the source is no template: the rendered copy must equal it byte for byte."""
        return not self.source.endswith(".jinja")


@dataclass(frozen=True)
class KindFile:
    """One of the kind's own files; with `when`, only where that answer is true."""

    path: str
    when: str | None = None


@dataclass(frozen=True)
class BadAnswer:
    """An answer the kind's questions must reject, and the message (a regex) that names the fix."""

    answer: str
    value: Any
    message: str


@dataclass(frozen=True)
class Kind:
    """One kind's profile."""

    name: str
    root: Path
    description: str
    pipeline: Pipeline | None
    shared: tuple[SharedFile, ...]
    environments: tuple[str, ...]
    repository_variables: Mapping[str, str]
    user_variables: tuple[str, ...]
    demo: tuple[str, ...]
    files: tuple[KindFile, ...]
    settings_answers: Mapping[str, str]
    bad_answers: tuple[BadAnswer, ...] = ()
    # The answer set whose render runs every check, the end-to-end local run included.
    full_check: str | None = None
    # Suite test files (marked rendered_repo) that the render session runs against the rendered
    # full-check repository's venv: checks that change a rendered repo, then run its own tests.
    rendered_tests: tuple[str, ...] = ()

    def expected_files(self, answers: Mapping[str, Any]) -> set[str]:
        """Return every path a render with `answers` must produce (and nothing else)."""
        package = str(answers.get("module_name") or answers["project_name"]).replace("-", "_")
        own = {f.path for f in self.files if f.when is None or answers.get(f.when)}
        paths = own | {f.target for f in self.shared}
        return {p.replace("PKG", package) for p in paths}

    def workflows(self) -> dict[str, tuple[str, ...]]:
        """Return {workflow file name: the permissions its jobs may write}."""
        prefix = ".github/workflows/"
        return {
            f.target.removeprefix(prefix): f.writes
            for f in self.shared
            if f.target.startswith(prefix)
        }

    def repo_variables(self, answers: Mapping[str, Any]) -> dict[str, str]:
        """Return the kind's own repository variables, formatted from `answers`."""
        out = {}
        for name, pattern in self.repository_variables.items():
            try:
                out[name] = pattern.format(**answers)
            except KeyError as exc:
                raise KindError(
                    f"{self.root / PROFILE}: repository variable {name} reads answer {exc}, which"
                    f" {self.name} does not have: use one of {sorted(answers)}"
                ) from exc
        return out


def _mapping(path: Path, key: str, value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise KindError(f"{path}: `{key}` must be a mapping, not {value!r}")
    return value


def _strings(path: Path, key: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise KindError(f"{path}: `{key}` must be a list of strings, not {value!r}")
    return tuple(value)


def _pipeline(path: Path, data: Any) -> Pipeline | None:
    if data is None:
        return None
    data = _mapping(path, "pipeline", data)
    known = set(Pipeline.__dataclass_fields__)
    unknown = sorted(set(data) - known)
    missing = sorted(k for k in ("name_suffix", "description") if k not in data)
    if unknown or missing:
        raise KindError(
            f"{path}: pipeline keys {unknown} unknown, {missing} missing: use {sorted(known)}"
        )
    return Pipeline(**data)


def pieces(template: Path = rendering.SUITE_ROOT) -> dict[str, tuple[SharedFile, ...]]:
    """Return the shared pieces of `_shared/pieces.yml`: {piece: its files}."""
    path = template / PIECES
    data = _mapping(path, "pieces", yaml.safe_load(path.read_text(encoding="utf-8")))
    out = {}
    for piece, entries in data.items():
        if not isinstance(entries, list) or not entries:
            raise KindError(f"{path}: piece {piece!r} must list its files")
        files = []
        for e in entries:
            source, target = str(e["source"]), str(e["target"])
            writes = _strings(path, f"{piece}.writes", e.get("writes", []))
            if not source.endswith("/"):
                files.append(SharedFile(piece, source, target, writes))
                continue
            folder = template / PIECES.parent / source
            if not folder.is_dir() or not target.endswith("/"):
                raise KindError(
                    f"{path}: piece {piece!r}: folder {folder} must exist, {target!r} end in /"
                )
            for item in sorted(folder.rglob("*")):
                rel = item.relative_to(folder).as_posix()
                if item.is_file() and "__pycache__" not in rel:
                    files.append(SharedFile(piece, source + rel, target + rel, writes))
        out[piece] = tuple(files)
    return out


def load(kind: str, template: Path = rendering.SUITE_ROOT) -> Kind:
    """Return the profile of `kind` from the template tree at `template`."""
    root = template / "repo-templates" / kind
    path = root / PROFILE
    if not path.is_file():
        raise KindError(
            f"kind {kind!r} has no profile {path}: add repo-templates/{kind}/{PROFILE}"
            " (see repo-templates/model-training/kind.yml)"
        )
    data = _mapping(path, "the profile", yaml.safe_load(path.read_text(encoding="utf-8")) or {})
    unknown = sorted(set(data) - PROFILE_KEYS)
    if unknown:
        raise KindError(f"{path}: unknown key(s) {unknown}: use {sorted(PROFILE_KEYS)}")
    pipeline = _pipeline(path, data.get("pipeline"))

    available = pieces(template)
    shared: list[SharedFile] = []
    for piece in _strings(path, "shared", data.get("shared", [])):
        if piece not in available:
            raise KindError(
                f"{path}: shared piece {piece!r} is not in {template / PIECES}:"
                f" use one of {sorted(available)}"
            )
        shared.extend(available[piece])

    environments = _strings(path, "environments", data.get("environments", []))
    stray = sorted(set(environments) - set(names.environments()))
    if stray:
        raise KindError(
            f"{path}: environments {stray} are not platform environments {names.environments()}"
        )
    environments = tuple(e for e in names.environments() if e in environments)

    user_variables = list(names.load()["github"]["user_variables"]) if pipeline else []
    if pipeline and pipeline.input_variable:
        user_variables.append(pipeline.input_variable)
    user_variables += _strings(path, "user_variables", data.get("user_variables", []))

    demo = _strings(path, "demo", data.get("demo", []))
    if bad := sorted(set(demo) - set(DEMO_STEPS)):
        raise KindError(f"{path}: demo steps {bad} are unknown: use {list(DEMO_STEPS)}")

    files = []
    for entry in data.get("files", []):
        if isinstance(entry, str):
            files.append(KindFile(entry))
        elif isinstance(entry, dict) and set(entry) <= {"path", "when"} and "path" in entry:
            files.append(KindFile(str(entry["path"]), entry.get("when")))
        else:
            raise KindError(f"{path}: file entry {entry!r} is neither a path nor {{path, when}}")

    repository_variables = {
        str(k): str(v)
        for k, v in _mapping(
            path, "repository_variables", data.get("repository_variables", {})
        ).items()
    }
    if clash := sorted(set(repository_variables) & set(names.load()["github"]["repo_variables"])):
        raise KindError(
            f"{path}: repository variables {clash} are set for every kind already"
            " (names.json github.repo_variables): rename them or drop them from the profile"
        )

    bad_answers = []
    for entry in data.get("bad_answers", []):
        if not isinstance(entry, dict) or set(entry) != {"answer", "value", "message"}:
            raise KindError(f"{path}: bad answer {entry!r} needs exactly answer, value, message")
        bad_answers.append(BadAnswer(str(entry["answer"]), entry["value"], str(entry["message"])))

    return Kind(
        name=kind,
        root=root,
        description=str(data.get("description", kind)),
        pipeline=pipeline,
        shared=tuple(shared),
        environments=environments,
        repository_variables=repository_variables,
        user_variables=tuple(dict.fromkeys(user_variables)),
        demo=demo,
        files=tuple(files),
        settings_answers={
            str(k): str(v)
            for k, v in _mapping(path, "settings_answers", data.get("settings_answers", {})).items()
        },
        bad_answers=tuple(bad_answers),
        full_check=str(data["full_check"]) if data.get("full_check") else None,
        rendered_tests=_rendered_tests(path, data.get("rendered_tests", [])),
    )


def _rendered_tests(path: Path, value: Any) -> tuple[str, ...]:
    """Check `rendered_tests`: suite test files, relative to the suite's root.

    Only their form: a packaged template (the Lambda's, a render snapshot) has no tests/.
    """
    if not isinstance(value, list):
        raise KindError(f"{path}: rendered_tests is {value!r}; use a list of tests/... files")
    for entry in value:
        if not re.fullmatch(r"tests/[\w/.-]+\.py", str(entry)):
            raise KindError(
                f"{path}: rendered_tests entry {entry!r} is no suite test file; "
                "name one under tests/, e.g. tests/templates/test_<kind>_own_data.py"
            )
    return tuple(str(e) for e in value)


def all_kinds(template: Path = rendering.SUITE_ROOT) -> list[Kind]:
    """Return every kind's profile, in questionnaire order."""
    return [load(kind, template) for kind in rendering.kinds(template)]


def answer_sets(kind: str, root: Path = rendering.SUITE_ROOT) -> list[Path]:
    """Return the suite's answer files for `kind`: tests/answers/<kind>-*.yml, sorted."""
    return sorted((root / "tests" / "answers").glob(f"{kind}-*.yml"))
