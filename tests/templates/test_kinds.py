"""Fast render tests of every kind and answer set, held to the kind's profile (kind.yml)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import kind_checks as checks
import pytest

from mlops_suite import kinds, rendering

KINDS = rendering.kinds()
CASES = [(kind, path.stem) for kind in KINDS for path in kinds.answer_sets(kind)]
IDS = [stem for _, stem in CASES]


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return rendering.snapshot(tmp_path_factory.mktemp("suite"))


@pytest.fixture(scope="module")
def renders(snapshot: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every answer set of every kind rendered once: {answer-file stem: repo path}."""
    out = {}
    for kind, stem in CASES:
        path = next(p for p in kinds.answer_sets(kind) if p.stem == stem)
        dst = tmp_path_factory.mktemp(stem)
        rendering.render(dst, checks.load_yaml(path), template=str(snapshot))
        out[stem] = dst
    return out


def case(renders: dict[str, Path], kind: str, stem: str) -> tuple[kinds.Kind, Path, dict[str, Any]]:
    repo = renders[stem]
    return kinds.load(kind), repo, rendering.load_answers_file(repo)


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_has_a_valid_profile_and_three_answer_sets(kind: str) -> None:
    profile = kinds.load(kind)
    assert profile.files, f"{profile.root / kinds.PROFILE} lists no files"
    assert len(kinds.answer_sets(kind)) >= 3, f"add tests/answers/{kind}-<name>.yml"
    for when in {f.when for f in profile.files if f.when}:
        values = {bool(checks.load_yaml(p).get(when)) for p in kinds.answer_sets(kind)}
        assert values == {True, False}, f"no answer set of {kind} turns {when} both on and off"


@pytest.mark.parametrize(("kind", "stem"), CASES, ids=IDS)
def test_file_set(renders: dict[str, Path], kind: str, stem: str) -> None:
    checks.check_file_set(*case(renders, kind, stem))


@pytest.mark.parametrize(("kind", "stem"), CASES, ids=IDS)
def test_nothing_left_unrendered(renders: dict[str, Path], kind: str, stem: str) -> None:
    checks.check_nothing_left_unrendered(renders[stem])


@pytest.mark.parametrize(("kind", "stem"), CASES, ids=IDS)
def test_shared_files_equal_their_source(
    renders: dict[str, Path], snapshot: Path, kind: str, stem: str
) -> None:
    checks.check_shared_files_are_verbatim(*case(renders, kind, stem), snapshot)


@pytest.mark.parametrize(("kind", "stem"), CASES, ids=IDS)
def test_answers_are_recorded(renders: dict[str, Path], kind: str, stem: str) -> None:
    given = checks.load_yaml(next(p for p in kinds.answer_sets(kind) if p.stem == stem))
    recorded = rendering.load_answers_file(renders[stem])
    for key, value in given.items():
        assert recorded[key] == value, key
    assert {"_src_path", "_commit", *kinds.load(kind).settings_answers.values()} <= set(recorded)


@pytest.mark.parametrize(("kind", "stem"), CASES, ids=IDS)
def test_generated_python_parses_and_settings_follow_answers(
    renders: dict[str, Path], kind: str, stem: str
) -> None:
    checks.check_python_parses_and_settings(*case(renders, kind, stem))


@pytest.mark.parametrize(("kind", "stem"), CASES, ids=IDS)
def test_pyproject_and_pre_commit(renders: dict[str, Path], kind: str, stem: str) -> None:
    checks.check_pyproject(*case(renders, kind, stem))
    checks.check_pre_commit(renders[stem])


@pytest.mark.parametrize(("kind", "stem"), CASES, ids=IDS)
def test_workflows_pin_actions_and_grant_least_permissions(
    renders: dict[str, Path], kind: str, stem: str
) -> None:
    checks.check_workflows(*case(renders, kind, stem))


@pytest.mark.parametrize("kind", KINDS)
def test_bad_answers_are_rejected_with_the_fix(snapshot: Path, tmp_path: Path, kind: str) -> None:
    """Each kind's own questions, with a bad value from its profile, name the fix."""
    profile = kinds.load(kind)
    base = checks.load_yaml(kinds.answer_sets(kind)[0])
    for i, bad in enumerate(profile.bad_answers):
        dst = tmp_path / f"bad{i}"
        with pytest.raises(rendering.RenderError, match=bad.message):
            rendering.render(dst, {**base, bad.answer: bad.value}, template=str(snapshot))
        assert not dst.exists()


@pytest.mark.parametrize("kind", KINDS)
def test_shared_pieces_are_included_not_copied(kind: str) -> None:
    """A kind carries, for each shared file, a stub that only includes it (after `set`s)."""
    profile = kinds.load(kind)
    for item in profile.shared:
        path, include = item.stub()
        stub = profile.root / path
        assert stub.is_file(), f"{kind} includes {item.piece} but has no {stub}"
        lines = stub.read_text(encoding="utf-8").strip().splitlines()
        assert lines[-1] == include, f"{stub} must end with {include}"
        body = "\n".join(lines[:-1])
        assert not body or body.startswith("{%- set "), f"{stub}: only {{% set %}}s before it"
