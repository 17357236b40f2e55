"""What a Lambda handler meets at run time, for running ours in-process: the context object and
CloudFormation's pre-signed response URL, as a loopback server that records each answer."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class LocalContext:
    """The Lambda context the handlers read: a deadline `seconds` from now, a name, a request id."""

    def __init__(self, seconds: float = 300.0, function_name: str = "mlops-suite-local") -> None:
        self.deadline = time.monotonic() + seconds
        self.function_name = function_name
        self.aws_request_id = str(uuid.uuid4())

    def get_remaining_time_in_millis(self) -> int:
        return max(int((self.deadline - time.monotonic()) * 1000), 0)


@dataclass
class ResponseCatcher:
    """Stands in for CloudFormation's response URL: every PUT body, its headers, when it came."""

    url: str
    responses: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    arrival: list[float] = field(default_factory=list)

    def wait(self, count: int = 1, timeout: float = 30.0) -> list[dict[str, Any]]:
        """Return the answers once `count` have arrived, or whatever came within `timeout` s."""
        end = time.monotonic() + timeout
        while len(self.responses) < count and time.monotonic() < end:
            time.sleep(0.02)
        return self.responses


@contextmanager
def cfn_response_endpoint() -> Iterator[ResponseCatcher]:
    """Serve a ResponseCatcher on a free loopback port for the block."""
    holder: list[ResponseCatcher] = []

    class Handler(BaseHTTPRequestHandler):
        def do_PUT(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            catcher = holder[0]
            catcher.arrival.append(time.monotonic())
            catcher.headers.append(dict(self.headers))
            catcher.responses.append(json.loads(body))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: callers read the recorded answers."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    holder.append(ResponseCatcher(url=f"http://127.0.0.1:{server.server_address[1]}/cfn?sig=x"))
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield holder[0]
    finally:
        server.shutdown()
        server.server_close()
