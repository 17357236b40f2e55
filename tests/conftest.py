"""Shared fixtures: a committed snapshot of the suite to render from."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from mlops_suite import rendering

@pytest.fixture(scope="session")
def suite_snapshot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The suite's working tree committed into a temporary git repo, tagged v0.0.0-test."""
    yield rendering.snapshot(tmp_path_factory.mktemp("suite"), tag="v0.0.0-test")

