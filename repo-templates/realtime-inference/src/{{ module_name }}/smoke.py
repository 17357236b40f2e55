"""`deploy-smoke`: invoke an endpoint with the shipped sample payload; check answers and latency.

Against SageMaker (`--endpoint-name`, the deploy workflow after each apply) or any server that
speaks the inference contract (`--url`, e.g. `serve-local`). Both content types are sent; every
answer must hold one probability in [0, 1] per sample row, and the slowest warm request must fit
the latency budget. Exit status 1 with the reason otherwise, which makes the workflow roll back.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from . import settings

Invoke = Callable[[bytes, str, str], bytes]  # (body, content type, accept) -> response body


class SmokeError(AssertionError):
    """The endpoint failed its smoke test; the message says how."""


@dataclass(frozen=True)
class Report:
    """What a smoke test measured."""

    rows: int
    requests: int
    latencies_ms: tuple[float, ...]

    @property
    def slowest_ms(self) -> float:
        """The slowest warm request."""
        return max(self.latencies_ms)


def sample_rows(path: Path) -> list[list[float]]:
    """The sample payload's feature rows (CSV without header or label)."""
    rows = [[float(v) for v in line.split(",")] for line in path.read_text().splitlines() if line]
    if not rows:
        raise SmokeError(f"sample payload {path} is empty: ship at least one row of features")
    return rows


def scores_of(body: bytes, accept: str) -> list[float]:
    """Parse a response body in the server's output format."""
    text = body.decode("utf-8")
    if accept == "application/json":
        doc = json.loads(text)
        return [float(p["score"]) for p in doc["predictions"]]
    return [float(line.split(",")[0]) for line in text.replace(",", "\n").splitlines() if line]


def check(invoke: Invoke, rows: list[list[float]], budget_ms: float, repeats: int = 5) -> Report:
    """Send the rows as CSV and JSON `repeats` times each; SmokeError on a wrong or slow answer."""
    csv_body = "\n".join(",".join(repr(v) for v in r) for r in rows).encode()
    json_body = json.dumps({"instances": rows}).encode()
    requests = [(csv_body, "text/csv"), (json_body, "application/json")]
    try:
        invoke(csv_body, "text/csv", "text/csv")  # warm-up: a cold first call is not the budget
    except Exception as exc:
        raise SmokeError(f"the endpoint does not answer: {exc}") from exc
    latencies: list[float] = []
    for _ in range(repeats):
        for body, content_type in requests:
            started = time.perf_counter()
            try:
                answer = invoke(body, content_type, content_type)
            except Exception as exc:
                raise SmokeError(f"{content_type} request failed: {exc}") from exc
            latencies.append((time.perf_counter() - started) * 1000)
            try:
                scores = scores_of(answer, content_type)
            except (ValueError, KeyError, TypeError) as exc:
                raise SmokeError(
                    f"{content_type} answer {answer[:200]!r} is malformed: {exc}"
                ) from exc
            if len(scores) != len(rows):
                raise SmokeError(
                    f"{content_type} answer has {len(scores)} predictions for {len(rows)} rows"
                )
            outside = [s for s in scores if not 0.0 <= s <= 1.0]
            if outside:
                raise SmokeError(f"{content_type} predictions {outside} are not probabilities")
    report = Report(rows=len(rows), requests=len(latencies), latencies_ms=tuple(latencies))
    if report.slowest_ms > budget_ms:
        raise SmokeError(
            f"slowest request took {report.slowest_ms:.0f} ms, over the {budget_ms:.0f} ms budget"
        )
    return report


def http_invoker(url: str, timeout: float = 30.0) -> Invoke:
    """Invoke a server speaking the inference contract at `url` (http://host:port)."""

    def invoke(body: bytes, content_type: str, accept: str) -> bytes:
        request = urllib.request.Request(  # noqa: S310 - the URL is the operator's own server
            f"{url.rstrip('/')}/invocations",
            data=body,
            headers={"Content-Type": content_type, "Accept": accept},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return bytes(response.read())

    return invoke


def sagemaker_invoker(endpoint_name: str, region: str) -> Invoke:
    """Invoke a SageMaker endpoint with the caller's credentials."""
    import boto3

    runtime = boto3.client("sagemaker-runtime", region_name=region)

    def invoke(body: bytes, content_type: str, accept: str) -> bytes:
        answer = runtime.invoke_endpoint(
            EndpointName=endpoint_name, Body=body, ContentType=content_type, Accept=accept
        )
        return bytes(answer["Body"].read())

    return invoke


def main(argv: list[str] | None = None) -> int:
    """Run the smoke test; exit 1 with the reason when it fails."""
    parser = argparse.ArgumentParser(prog="deploy-smoke", description=__doc__.splitlines()[0])
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--environment", choices=sorted(settings.ACCOUNTS))
    target.add_argument("--endpoint-name")
    target.add_argument("--url", help="a local server, e.g. http://127.0.0.1:8080")
    parser.add_argument("--payload", type=Path, default=Path(settings.SAMPLE_PAYLOAD))
    parser.add_argument("--budget-ms", type=float, default=settings.LATENCY_BUDGET_MS)
    args = parser.parse_args(argv)
    if args.url:
        invoke = http_invoker(args.url)
    else:
        name = args.endpoint_name or settings.endpoint_name(args.environment)
        invoke = sagemaker_invoker(name, settings.REGION)
    try:
        report = check(invoke, sample_rows(args.payload), args.budget_ms)
    except SmokeError as failed:
        print(f"::error::smoke test failed: {failed}", file=sys.stderr)
        return 1
    print(
        f"smoke test passed: {report.requests} requests of {report.rows} rows, "
        f"slowest {report.slowest_ms:.1f} ms (budget {args.budget_ms:.0f} ms)"
    )
    return 0
