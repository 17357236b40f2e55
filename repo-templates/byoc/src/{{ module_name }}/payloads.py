"""Request and response bodies of /invocations: CSV, JSON and JSON Lines, in and out."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import numpy as np
from numpy.typing import NDArray

CSV = "text/csv"
JSON = "application/json"
JSONLINES = "application/jsonlines"
SUPPORTED = (CSV, JSON, JSONLINES)


class PayloadError(Exception):
    """A request the server cannot answer; `status` is the HTTP code, the message says why."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def media_type(header: str | None) -> str:
    """The bare media type of a Content-Type or single Accept value, lower case."""
    return (header or "").split(";", 1)[0].strip().lower()


def response_type(accept: str | None, content_type: str) -> str:
    """Pick the response type: the first supported Accept entry, else the request's own type."""
    wanted = [media_type(part) for part in (accept or "").split(",") if part.strip()]
    if not wanted or all(w in ("*/*", "") for w in wanted):
        return content_type
    for w in wanted:
        if w in SUPPORTED:
            return w
        if w == "*/*":
            return content_type
    raise PayloadError(
        406, f"Accept {accept!r} is not supported: use one of {', '.join(SUPPORTED)}"
    )


def _rows_from_json(value: Any) -> list[Any]:
    if isinstance(value, dict):
        if "instances" in value:
            value = value["instances"]
        elif "features" in value:
            value = [value["features"]]
        else:
            raise PayloadError(
                400, 'JSON object has neither "instances" nor "features": send '
                '{"instances": [[1.0, 2.0, ...], ...]}'
            )  # fmt: skip
    if not isinstance(value, list) or not value:
        raise PayloadError(400, "JSON payload has no rows: send a non-empty list of rows")
    # One flat row of numbers is a single instance.
    return [value] if not isinstance(value[0], list) else value


def parse(body: bytes, content_type: str, n_features: int) -> NDArray[np.float64]:
    """Parse a request body into a 2-D float array with `n_features` columns."""
    if content_type not in SUPPORTED:
        raise PayloadError(
            415, f"Content-Type {content_type or '(none)'!r} is not supported: "
            f"use one of {', '.join(SUPPORTED)}"
        )  # fmt: skip
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise PayloadError(400, "Payload is not UTF-8 text") from None
    if not text.strip():
        raise PayloadError(400, "Payload is empty: send at least one row of features")
    rows: list[Any]
    try:
        if content_type == CSV:
            rows = [r for r in csv.reader(io.StringIO(text)) if r]
        elif content_type == JSON:
            rows = _rows_from_json(json.loads(text))
        else:
            rows = [row for line in text.splitlines() if line.strip()
                    for row in _rows_from_json(json.loads(line))]  # fmt: skip
    except json.JSONDecodeError as exc:
        raise PayloadError(
            400, f"Payload is not valid JSON: {exc.msg} at line {exc.lineno}"
        ) from None
    out = np.empty((len(rows), n_features), dtype=np.float64)
    for i, row in enumerate(rows, start=1):
        if not isinstance(row, list) or len(row) != n_features:
            size = len(row) if isinstance(row, list) else "no list of"
            raise PayloadError(
                400, f"Row {i} has {size} values; the model expects {n_features} features "
                "per row (no label column, no header)"
            )  # fmt: skip
        for j, cell in enumerate(row, start=1):
            if isinstance(cell, bool):
                raise PayloadError(400, f"Row {i}, column {j}: {cell!r} is not a number")
            try:
                out[i - 1, j - 1] = float(cell)
            except (TypeError, ValueError):
                raise PayloadError(400, f"Row {i}, column {j}: {cell!r} is not a number") from None
    if not np.isfinite(out).all():
        i, j = (int(v) + 1 for v in np.argwhere(~np.isfinite(out))[0])
        raise PayloadError(400, f"Row {i}, column {j}: NaN and infinity cannot be scored")
    return out


def render(scores: NDArray[np.float64], accept: str) -> bytes:
    """Write scores (probability of the positive class) in the response type."""
    records = [{"score": round(float(s), 6), "label": int(s >= 0.5)} for s in scores]
    if accept == CSV:
        return "".join(f"{r['score']}\n" for r in records).encode()
    if accept == JSONLINES:
        return "".join(json.dumps(r) + "\n" for r in records).encode()
    return json.dumps({"predictions": records}).encode()
