"""Fault injection for the GitHub double: errors, rate limits, delays and lost answers."""

from __future__ import annotations

import threading
import time
from typing import Any

from mlops_suite.local.github_double.model import Fault, Respond, error

HTML_5XX = (
    "<!DOCTYPE html>\n<html><head><title>Unicorn! &middot; GitHub</title></head>\n"
    "<body><p>No server is currently available to service your request.</p></body></html>\n"
)
REASONS = {
    200: "OK",
    201: "Created",
    204: "No Content",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    422: "Unprocessable Entity",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


class FaultInjection:
    """The double's fault API; `_take_fault` decides per call which fault fires."""

    faults: list[Fault]
    installation_id: int
    _lock: threading.RLock

    def fail(
        self,
        method: str | None = None,
        path: str | None = None,
        *,
        status: int = 502,
        nth: int = 1,
        times: int = 1,
        message: str | None = None,
        headers: dict[str, str] | None = None,
        html: bool = False,
        errors: list[Any] | None = None,
    ) -> Fault:
        """Answer the `nth` matching call (and `times - 1` more) with `status`."""
        fault = Fault(method, path, nth, times, status, message, headers or {}, html=html)
        fault.errors = errors
        return self._add(fault)

    def rate_limit(
        self,
        method: str | None = None,
        path: str | None = None,
        *,
        reset_in: float = 1.0,
        secondary: bool = False,
        status: int = 403,
        nth: int = 1,
        times: int = 1,
    ) -> Fault:
        """Answer like GitHub's primary (x-ratelimit-reset) or secondary (retry-after) limit."""
        if secondary:
            headers = {"retry-after": str(max(int(reset_in), 0))}
            message = "You have exceeded a secondary rate limit. Please wait a few minutes."
        else:
            headers = {
                "x-ratelimit-limit": "5000",
                "x-ratelimit-remaining": "0",
                "x-ratelimit-used": "5000",
                "x-ratelimit-resource": "core",
                "x-ratelimit-reset": str(int(time.time() + reset_in)),
            }
            message = f"API rate limit exceeded for installation ID {self.installation_id}."
        return self._add(Fault(method, path, nth, times, status, message, headers))

    def delay(
        self,
        method: str | None = None,
        path: str | None = None,
        *,
        seconds: float,
        nth: int = 1,
        times: int = 1,
    ) -> Fault:
        """Hold matching calls for `seconds` before answering."""
        return self._add(Fault(method, path, nth, times, delay=seconds))

    def drop(
        self,
        method: str | None = None,
        path: str | None = None,
        *,
        nth: int = 1,
        times: int = 1,
        after: bool = False,
    ) -> Fault:
        """Close the connection of matching calls without an answer (`after`: do the work first)."""
        return self._add(Fault(method, path, nth, times, drop=True, after=after))

    def _add(self, fault: Fault) -> Fault:
        with self._lock:
            self.faults.append(fault)
        return fault

    def _take_fault(self, method: str, path: str) -> Fault | None:
        """Count the call against every matching fault; fire the first one that is due."""
        chosen: Fault | None = None
        with self._lock:
            for fault in self.faults:
                if not fault.matches(method, path):
                    continue
                fault.seen += 1
                if chosen is None and fault.nth <= fault.seen < fault.nth + fault.times:
                    fault.fired += 1
                    chosen = fault
        return chosen

    def _fault_response(self, fault: Fault) -> Respond:
        status = int(fault.status or 502)
        if status == 204:  # claims success and does nothing, as a silently ignored call
            return Respond(204, None)
        if fault.html and status >= 500:
            return Respond(status, HTML_5XX)
        message = fault.message or REASONS.get(status, "Error")
        if fault.errors is not None:
            return error(status, message, errors=fault.errors)
        return error(status, message)
