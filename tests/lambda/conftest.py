"""Fixtures for the Lambda tests: the GitHub double, moto, a CloudFormation response catcher."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from mlops_suite.local.github_double import GitHubDouble
from mlops_suite.local.lambda_runtime import cfn_response_endpoint

# The tests import their helpers as `lambda_support` (tests/ is not a package).
sys.path.insert(0, str(Path(__file__).resolve().parent))
from lambda_support import REGION, Catcher, configure_platform


@pytest.fixture
def double(double: GitHubDouble) -> Iterator[GitHubDouble]:
    """The shared GitHub double, and every body it served held to GitHub's response models."""
    assert double.conformance, "GitHub's response models are missing: install the test extra"
    yield double
    assert not double.nonconforming, double.nonconforming


@pytest.fixture
def catcher() -> Iterator[Catcher]:
    with cfn_response_endpoint() as caught:
        yield caught


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    from moto import mock_aws

    for key in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    with mock_aws():
        yield


@pytest.fixture
def platform(
    aws: None,
    double: GitHubDouble,
    template_tree: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> GitHubDouble:
    """moto with the platform configured, the double as GitHub, the bundled template tree."""
    configure_platform(double)
    monkeypatch.setenv("MLOPS_SUITE_GITHUB_API_URL", double.url)
    monkeypatch.setenv("MLOPS_SUITE_TEMPLATE_DIR", str(template_tree))
    monkeypatch.setenv("MLOPS_SUITE_RESPONSE_MARGIN_S", "2")
    return double


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Every log record at DEBUG (botocore at INFO: its DEBUG dumps raw AWS responses)."""
    caplog.set_level(logging.DEBUG)
    logging.getLogger("botocore").setLevel(logging.INFO)
    return caplog
