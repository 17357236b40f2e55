"""The embedded AWS of local runs and tests: moto in-process, with throwaway credentials."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from .platform import UsageError

FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


@contextmanager
def embedded_aws(region: str) -> Iterator[None]:
    """Run the block against moto's in-process AWS, with throwaway credentials."""
    try:
        from moto import mock_aws
    except ImportError as exc:
        raise UsageError("--embedded-aws needs moto: pip install -e '.[dev]'") from exc
    keys = [*FAKE_CREDENTIALS, "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN"]
    saved = {k: os.environ.get(k) for k in keys}
    os.environ.update(FAKE_CREDENTIALS, AWS_DEFAULT_REGION=region)
    os.environ.pop("AWS_ENDPOINT_URL", None)
    os.environ.pop("AWS_SESSION_TOKEN", None)
    try:
        with mock_aws():
            yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@contextmanager
def nothing() -> Iterator[None]:
    """The credentials in use, as they are."""
    yield
