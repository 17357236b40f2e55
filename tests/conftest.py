"""Shared fixtures: a committed snapshot of the suite to render from."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from mlops_suite import rendering
from mlops_suite.handlers import templates
from mlops_suite.local.github_double import GitHubDouble

PROD_REVIEWERS = "platform-approvers"  # the platform's prod reviewer team in the tests


@pytest.fixture(scope="session")
def suite_snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The suite's working tree committed into a temporary git repo, tagged v0.0.0-test."""
    return rendering.snapshot(tmp_path_factory.mktemp("suite"), tag="v0.0.0-test")


@pytest.fixture(scope="session")
def template_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The template tree exactly as the Lambda artifact bundles it (no git)."""
    dst = tmp_path_factory.mktemp("bundle") / "_suite"
    templates.bundle(dst)
    return dst


@pytest.fixture
def double() -> Iterator[GitHubDouble]:
    """The local GitHub double with org my-org and teams ml-team and the prod reviewers."""
    with GitHubDouble(orgs=("my-org",), teams=("ml-team", PROD_REVIEWERS)) as gh:
        yield gh
        assert not gh.unrouted, f"calls the double does not implement: {gh.unrouted}"
