"""CloudFormation custom-resource plumbing: the event model and a response that always arrives.

Standard library only, so it still works when the heavy handler module fails to import. The
guarantees (after crhelper): exactly one response per request; it is sent on success, on any
exception, on a failure at import, and by a timer shortly before the Lambda's deadline.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

logger = logging.getLogger(__name__)

RequestType = Literal["Create", "Update", "Delete"]
MAX_REASON = 600
DEFAULT_MARGIN_S = 10.0


class LambdaContext(Protocol):
    """The part of the Lambda context object we use."""

    def get_remaining_time_in_millis(self) -> int: ...


class EventError(ValueError):
    """The event is not a CloudFormation custom-resource request."""


@dataclass(frozen=True)
class CfnEvent:
    """A CloudFormation custom-resource request, typed."""

    request_type: RequestType
    response_url: str
    stack_id: str
    request_id: str
    logical_resource_id: str
    resource_type: str
    properties: dict[str, Any]
    old_properties: dict[str, Any] | None = None
    physical_resource_id: str | None = None

    @classmethod
    def parse(cls, raw: Mapping[str, Any]) -> CfnEvent:
        """Parse a raw event; raise EventError naming what is missing."""
        if not isinstance(raw, Mapping):
            raise EventError(f"expected a JSON object, got {type(raw).__name__}")
        required = ("RequestType", "ResponseURL", "StackId", "RequestId", "LogicalResourceId")
        missing = [k for k in required if not isinstance(raw.get(k), str) or not raw.get(k)]
        if missing:
            raise EventError(f"not a CloudFormation custom-resource event: missing {missing}")
        if raw["RequestType"] not in ("Create", "Update", "Delete"):
            raise EventError(
                f"unknown RequestType {raw['RequestType']!r}: expected Create, Update or Delete"
            )
        props = raw.get("ResourceProperties") or {}
        old = raw.get("OldResourceProperties")
        if not isinstance(props, Mapping) or (old is not None and not isinstance(old, Mapping)):
            raise EventError("ResourceProperties must be a JSON object")
        return cls(
            request_type=raw["RequestType"],
            response_url=raw["ResponseURL"],
            stack_id=raw["StackId"],
            request_id=raw["RequestId"],
            logical_resource_id=raw["LogicalResourceId"],
            resource_type=str(raw.get("ResourceType", "")),
            properties=dict(props),
            old_properties=dict(old) if old is not None else None,
            physical_resource_id=raw.get("PhysicalResourceId") or None,
        )


def short_reason(exc: BaseException) -> str:
    """One useful line for CloudFormation's Reason: the message and any notes, bounded."""
    text = str(exc) or type(exc).__name__
    notes = getattr(exc, "__notes__", None) or []
    text = "; ".join([text.strip(), *(str(n) for n in notes)])
    text = " ".join(text.split())
    return text if len(text) <= MAX_REASON else text[: MAX_REASON - 3] + "..."


def deadline_of(context: LambdaContext | None) -> float | None:
    """The Lambda's deadline as a ``time.monotonic()`` value (None without a context)."""
    if context is None:
        return None
    return time.monotonic() + context.get_remaining_time_in_millis() / 1000.0


def put_response(
    url: str,
    body: Mapping[str, Any],
    *,
    attempts: int = 3,
    timeout: float = 10.0,
    deadline: float | None = None,
) -> None:
    """PUT `body` to the pre-signed ResponseURL, retrying transient failures.

    No try and no pause runs past `deadline` (``time.monotonic()``): a ResponseURL that accepts
    the connection and never answers cannot keep the function alive past its timeout.
    """
    data = json.dumps(body).encode("utf-8")
    if not url.startswith(("https://", "http://")):
        raise ValueError(f"ResponseURL must be http(s), got {url[:40]!r}")

    def time_left() -> float:
        # A quarter second in hand: the runtime stops the function at the deadline itself.
        if deadline is None:
            return timeout
        return min(timeout, deadline - 0.25 - time.monotonic())

    def pause(attempt: int) -> None:
        wait = 0.5 * 2 ** (attempt - 1)
        if time_left() <= wait + 0.1:
            raise TimeoutError("no time left before the Lambda's deadline to retry the response")
        time.sleep(wait)

    for attempt in range(1, attempts + 1):
        per_try = time_left()
        if per_try <= 0.05:
            raise TimeoutError("no time left before the Lambda's deadline to send the response")
        # The pre-signed S3 URL is signed without a content type, so send an empty one.
        request = urllib.request.Request(  # noqa: S310 - scheme checked above
            url,
            data=data,
            method="PUT",
            headers={"Content-Type": "", "Content-Length": str(len(data))},
        )
        try:
            with urllib.request.urlopen(request, timeout=per_try) as resp:  # noqa: S310
                resp.read()
            return
        except urllib.error.HTTPError as exc:
            detail = exc.read()[:300].decode("utf-8", "replace")
            logger.warning(
                "CloudFormation's response URL refused the response",
                extra={"attempt": attempt, "status": exc.code, "body": detail},
            )
            if attempt == attempts or exc.code < 500:
                raise
            pause(attempt)
            continue
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            logger.warning(
                "could not send the CloudFormation response",
                extra={"attempt": attempt, "error": str(exc)},
            )
            if attempt == attempts:
                raise
            pause(attempt)


@dataclass
class Responder:
    """Sends the one response of a request; a deadline timer answers FAILED if work overruns."""

    raw_event: Mapping[str, Any]
    sender: Callable[..., None] = field(default=put_response)  # (url, body, *, deadline)
    deadline: float | None = None  # time.monotonic() by which sending must have ended
    sent: dict[str, Any] | None = None
    stage: str = "starting"
    deadline_passed: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _timer: threading.Timer | None = None

    def respond(
        self,
        status: Literal["SUCCESS", "FAILED"],
        reason: str,
        physical_id: str,
        data: Mapping[str, Any] | None = None,
    ) -> bool:
        """Send the response unless one was sent already; return whether this call sent it."""
        with self._lock:
            if self.sent is not None:
                logger.warning(
                    "response already sent, dropping a later one",
                    extra={"status": status, "reason": reason},
                )
                return False
            body = {
                "Status": status,
                "Reason": reason[:MAX_REASON],
                "PhysicalResourceId": physical_id,
                "StackId": self.raw_event.get("StackId", ""),
                "RequestId": self.raw_event.get("RequestId", ""),
                "LogicalResourceId": self.raw_event.get("LogicalResourceId", ""),
                "NoEcho": False,
                "Data": dict(data or {}),
            }
            self.sent = body
        logger.info(
            "answering CloudFormation",
            extra={"status": status, "reason": body["Reason"], "physical_id": physical_id},
        )
        url = self.raw_event.get("ResponseURL")
        if not isinstance(url, str):
            logger.error("event has no ResponseURL; nobody to answer")
            return True
        try:
            self.sender(url, body, deadline=self.deadline)
        except Exception:
            logger.exception("the CloudFormation response could not be delivered")
        return True

    def start_timer(self, context: LambdaContext | None, physical_id: str, margin_s: float) -> None:
        """Answer FAILED `margin_s` seconds before the Lambda's deadline."""
        if context is None:
            return
        delay = context.get_remaining_time_in_millis() / 1000.0 - margin_s
        self._timer = threading.Timer(max(delay, 0.0), self._on_timeout, args=(physical_id,))
        self._timer.daemon = True
        self._timer.start()

    def cancel_timer(self) -> None:
        """Stop the deadline timer."""
        if self._timer is not None:
            self._timer.cancel()

    def _on_timeout(self, physical_id: str) -> None:
        self.deadline_passed.set()
        request = self.raw_event.get("RequestType", "request")
        self.respond(
            "FAILED",
            f"timed out during {request} while at step '{self.stage}': the Lambda reached its "
            "deadline; anything it created is rolled back. Retry, or raise the Lambda timeout",
            physical_id,
        )


def response_margin_s(environ: Mapping[str, str] = os.environ) -> float:
    """Seconds before the deadline at which the timer answers (MLOPS_SUITE_RESPONSE_MARGIN_S)."""
    raw = environ.get("MLOPS_SUITE_RESPONSE_MARGIN_S", "")
    try:
        return float(raw) if raw else DEFAULT_MARGIN_S
    except ValueError:
        logger.warning("ignoring MLOPS_SUITE_RESPONSE_MARGIN_S=%r: not a number", raw)
        return DEFAULT_MARGIN_S


def failed_physical_id(raw_event: Mapping[str, Any]) -> str:
    """Physical id to report when a request fails: keep an existing one, never name a repo.

    A failed Create must not report a repository name, or the rollback's Delete (and its
    optional archive) could act on a repository that belongs to someone else.
    """
    existing = raw_event.get("PhysicalResourceId")
    if isinstance(existing, str) and existing:
        return existing
    logical = raw_event.get("LogicalResourceId") or "resource"
    request = str(raw_event.get("RequestId") or "unknown")[:8]
    return f"failed-{logical}-{request}"


def answer_init_failure(
    raw_event: Mapping[str, Any],
    exc: BaseException,
    sender: Callable[..., None] = put_response,
    context: LambdaContext | None = None,
) -> None:
    """Answer FAILED when the handler module could not even be imported."""
    logger.error("handler failed to initialise", exc_info=exc)
    Responder(raw_event, sender=sender, deadline=deadline_of(context)).respond(
        "FAILED",
        f"the Lambda failed to initialise ({type(exc).__name__}: {short_reason(exc)}); "
        "check the function's package and logs",
        failed_physical_id(raw_event),
    )
