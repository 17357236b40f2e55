"""An embedded AWS for demos and tests: moto's server on loopback, reachable from subprocesses."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import boto3

DEFAULT_ACCOUNT = "123456789012"  # moto's default account
DEFAULT_REGION = "eu-west-1"


@dataclass
class EmbeddedAWS:
    """A running moto server; `env` holds what a boto3 process needs to reach it."""

    endpoint_url: str
    region: str
    env: dict[str, str] = field(default_factory=dict)

    def client(self, service: str, **kwargs: Any) -> Any:
        """Return a boto3 client for `service` bound to this server."""
        return boto3.client(
            service,
            endpoint_url=self.endpoint_url,
            region_name=self.region,
            aws_access_key_id=self.env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=self.env["AWS_SECRET_ACCESS_KEY"],
            **kwargs,
        )


@contextmanager
def embedded_aws(
    region: str = DEFAULT_REGION, *, patch_environ: bool = True
) -> Iterator[EmbeddedAWS]:
    """Start moto's server on a free loopback port; optionally point this process's boto3 at it."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request drowns output
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    env = {
        "AWS_ENDPOINT_URL": f"http://{host}:{port}",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": region,
        "AWS_REGION": region,
    }
    try:
        with patched_environ(**(env if patch_environ else {})):
            yield EmbeddedAWS(endpoint_url=env["AWS_ENDPOINT_URL"], region=region, env=env)
    finally:
        server.stop()


@contextmanager
def patched_environ(**values: str) -> Iterator[None]:
    """Set environment variables for the block, restoring the previous values after it."""
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
