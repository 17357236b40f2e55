"""Shared fixtures: a committed snapshot of the suite to render from."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlops_suite import rendering


@pytest.fixture(scope="session")
def suite_snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The suite's working tree committed into a temporary git repo, tagged v0.0.0-test."""
    return rendering.snapshot(tmp_path_factory.mktemp("suite"), tag="v0.0.0-test")
