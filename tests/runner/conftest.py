"""Fixtures for the local runner's tests: an in-process AWS (moto) and a run factory."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

HERE = Path(__file__).resolve().parent
# The runner is tested as its shared source (what every kind renders), not through a render.
sys.path[:0] = [str(HERE), str(HERE.parents[1] / "repo-templates" / "_shared" / "python")]

from local_run import LocalPipelineRun  # noqa: E402
from runner_support import BUCKET, REGION, Runner  # noqa: E402


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """An in-process AWS with the test bucket, and no way to reach a real one."""
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    with mock_aws():
        boto3.client("s3", region_name=REGION).create_bucket(Bucket=BUCKET)
        yield


@pytest.fixture
def runner(aws: None, tmp_path: Path) -> Runner:
    """Build a LocalPipelineRun of a definition in a fresh work folder."""
    count = iter(range(1000))

    def build(definition: dict[str, Any], **options: Any) -> LocalPipelineRun:
        workdir = tmp_path / f"run-{next(count)}"
        workdir.mkdir()
        session = boto3.Session(region_name=REGION)
        return LocalPipelineRun(definition, workdir, session, **options)

    return build


@pytest.fixture(autouse=True)
def _clean_env() -> Iterator[None]:
    """Steps must not leak variables into this process."""
    before = {k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"}
    yield
    assert {k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"} == before
