"""Where the embedded AWS (moto 5.2.5) differs from AWS in a way the flow meets, and the fix.

- Transport: moto's server speaks plain HTTP on loopback where AWS speaks TLS, and its bucket
  policy check ignores conditions, so the platform's TLS-only Deny (`aws:SecureTransport` false)
  would refuse every request. `loopback_is_tls()` drops exactly that statement from the check.
- Serving: moto records endpoints but serves canned answers. While `endpoints_served_by()` is active, an
InvokeEndpoint on an endpoint that exists and is InService in the caller's account, whose model
runs the package the local server loaded, is forwarded to that server (`serve-local`, SageMaker's
inference contract); any other endpoint answers an error, as SageMaker would for a missing one.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from types import SimpleNamespace
from typing import Any
from unittest import mock


def _without_tls_deny(policy: bytes) -> bytes:
    doc = json.loads(policy)
    doc["Statement"] = [
        st for st in doc.get("Statement", [])
        if st.get("Condition") != {"Bool": {"aws:SecureTransport": "false"}}
    ]  # fmt: skip
    return json.dumps(doc).encode()


@contextmanager
def loopback_is_tls() -> Iterator[None]:
    """Judge bucket policies as if moto's loopback HTTP were the TLS AWS requires."""
    from moto.s3.models import FakeBucket

    original = FakeBucket.get_permission

    def get_permission(bucket: Any, action: str, resource: str) -> Any:
        if bucket.policy is None:
            return original(bucket, action, resource)
        view = SimpleNamespace(policy=_without_tls_deny(bucket.policy))
        return original(view, action, resource)

    with mock.patch.object(FakeBucket, "get_permission", get_permission):
        yield


def _served_package(account: str, region: str, endpoint: str) -> str:
    """The model package the endpoint's (first) variant runs; ValueError when it is not served."""
    from moto.sagemaker.models import sagemaker_backends

    backend = sagemaker_backends[account][region]
    described = backend.endpoints.get(endpoint)
    if described is None or described.endpoint_status != "InService":
        raise ValueError(f"Could not find endpoint {endpoint} in account {account}")
    config = backend.endpoint_configs[described.endpoint_config_name]
    model = backend._models[config.production_variants[0]["ModelName"]]
    container = model.primary_container or (model.containers or [{}])[0]
    return str(container.get("ModelPackageName", ""))


@contextmanager
def endpoints_served_by(url: str, package_arn: str) -> Iterator[list[dict[str, str]]]:
    """Forward InvokeEndpoint to the local server at `url` for endpoints running `package_arn`."""
    from moto.sagemakerruntime.responses import SageMakerRuntimeResponse

    calls: list[dict[str, str]] = []

    def invoke_endpoint(response: Any) -> Any:
        endpoint = response._get_params().get("EndpointName")
        try:
            served = _served_package(response.current_account, response.region, endpoint)
        except ValueError as exc:
            return 400, {"Content-Type": "application/json"}, f'{{"message": "{exc}"}}'
        if served.lower() != package_arn.lower():
            message = f"endpoint {endpoint} runs {served}, the local server {package_arn}"
            return 400, {"Content-Type": "application/json"}, f'{{"message": "{message}"}}'
        body = response.body if isinstance(response.body, bytes) else response.body.encode()
        content_type = response.headers.get("Content-Type", "text/csv")
        request = urllib.request.Request(  # noqa: S310 - the demo's own loopback server
            f"{url}/invocations",
            data=body,
            headers={"Content-Type": content_type, "Accept": response.headers.get("Accept", "")},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
            out = answer.read()
            calls.append({"account": response.current_account, "endpoint": endpoint})
            return 200, {"Content-Type": answer.headers.get("Content-Type", "")}, out

    with mock.patch.object(SageMakerRuntimeResponse, "invoke_endpoint", invoke_endpoint):
        yield calls
