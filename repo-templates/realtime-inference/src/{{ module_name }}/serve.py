"""`serve-local`: serve a model artifact over SageMaker's inference contract on this machine.

Loads the model.tar.gz (or the folder holding `xgboost-model`) that model-training's local run
writes, and answers like the SageMaker XGBoost container: `GET /ping` is 200 once the model is
loaded; `POST /invocations` takes `text/csv` (rows of features, no header, no label) or
`application/json` (`{"instances": [[...], ...]}`) and returns one probability per row, as CSV
lines or `{"predictions": [{"score": p}, ...]}` following the Accept header.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import logging
import os
import tarfile
import tempfile
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
import xgboost as xgb

from . import settings

LOG = logging.getLogger("serve")
CSV, JSON = "text/csv", "application/json"
MAX_BODY = 6 * 2**20  # SageMaker's real-time payload limit


class RequestError(ValueError):
    """The request cannot be answered; the message names the problem and the fix."""

    def __init__(self, message: str, status: HTTPStatus = HTTPStatus.BAD_REQUEST) -> None:
        super().__init__(message)
        self.status = status


def _inside(root: Path, name: str) -> bool:
    target = (root / name).resolve()
    return target == root.resolve() or root.resolve() in target.parents


def load_model(path: Path) -> xgb.Booster:
    """Load a booster from model.tar.gz, a folder holding `xgboost-model`, or the file itself."""
    if path.is_dir():
        path = path / "model.tar.gz" if (path / "model.tar.gz").is_file() else path
    if path.is_file() and tarfile.is_tarfile(path):
        folder = Path(tempfile.mkdtemp(prefix="model-"))
        with tarfile.open(path) as tar:
            for member in tar.getmembers():
                if not (member.isfile() or member.isdir()) or not _inside(folder, member.name):
                    raise ValueError(f"refusing to extract {member.name!r} from {path}")
            tar.extractall(folder)  # noqa: S202 - members checked above
        path = folder
    if path.is_dir():
        path = path / settings.MODEL_FILE
    if not path.is_file():
        raise FileNotFoundError(
            f"no model at {path}: pass model-training's model.tar.gz (its local run prints where)"
        )
    booster = xgb.Booster()
    booster.load_model(str(path))
    return booster


def parse(body: bytes, content_type: str, n_features: int) -> np.ndarray:
    """Return the feature rows of a request body; RequestError naming what is wrong."""
    kind = content_type.split(";")[0].strip().lower()
    try:
        if kind == CSV:
            rows = [r for r in csv.reader(io.StringIO(body.decode("utf-8"))) if r]
            data = np.asarray(rows, dtype=float)
        elif kind == JSON:
            doc = json.loads(body)
            instances = doc.get("instances") if isinstance(doc, dict) else None
            if not isinstance(instances, list):
                raise RequestError('JSON body needs "instances": a list of feature lists')
            values = [i.get("features") if isinstance(i, dict) else i for i in instances]
            data = np.asarray(values, dtype=float)
        else:
            raise RequestError(
                f"unsupported content type {content_type!r}: send {CSV} or {JSON}",
                HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
            )
    except (ValueError, UnicodeDecodeError) as exc:
        if isinstance(exc, RequestError):
            raise
        raise RequestError(f"cannot read the {kind} body as numbers: {exc}") from None
    if data.ndim == 1 and data.size:
        data = data.reshape(1, -1)
    if data.ndim != 2 or data.shape[0] == 0:
        raise RequestError("the body holds no rows: send at least one row of features")
    if data.shape[1] != n_features:
        raise RequestError(
            f"rows have {data.shape[1]} values, the model takes {n_features} features "
            "(no header, no label column)"
        )
    return data


def render(scores: np.ndarray, accept: str) -> tuple[bytes, str]:
    """Encode predictions for the Accept header (CSV lines unless JSON is asked for)."""
    if JSON in accept.lower():
        body = {"predictions": [{"score": round(float(s), 6)} for s in scores]}
        return json.dumps(body).encode(), JSON
    return "".join(f"{float(s):.6f}\n" for s in scores).encode(), CSV


class Handler(BaseHTTPRequestHandler):
    """SageMaker's container contract: /ping and /invocations."""

    booster: xgb.Booster
    server_version = "serve-local"

    def log_message(self, format: str, *args: Any) -> None:
        LOG.debug(format, *args)

    def _send(self, status: HTTPStatus, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        """Health check."""
        if self.path != "/ping":
            self._send(HTTPStatus.NOT_FOUND, b"use GET /ping or POST /invocations\n", CSV)
            return
        self._send(HTTPStatus.OK, b"", JSON)

    def do_POST(self) -> None:
        """Predict for every row of the body."""
        if self.path != "/invocations":
            self._send(HTTPStatus.NOT_FOUND, b"use GET /ping or POST /invocations\n", CSV)
            return
        try:
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                raise RequestError(
                    f"body of {length} bytes exceeds the 6 MiB limit: send fewer rows",
                    HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                )
            data = parse(
                self.rfile.read(length),
                self.headers.get("Content-Type", CSV),
                self.booster.num_features(),
            )
            scores = self.booster.inplace_predict(data)
            body, content_type = render(np.asarray(scores), self.headers.get("Accept", CSV))
        except RequestError as bad:
            self._send(bad.status, f"{bad}\n".encode(), "text/plain")
            return
        self._send(HTTPStatus.OK, body, content_type)


def make_server(model: Path, host: str, port: int) -> ThreadingHTTPServer:
    """A server bound to (host, port) answering with the model at `model`."""
    handler = type("ModelHandler", (Handler,), {"booster": load_model(model)})
    return ThreadingHTTPServer((host, port), handler)


def main(argv: list[str] | None = None) -> None:
    """Parse arguments and serve until interrupted."""
    parser = argparse.ArgumentParser(prog="serve-local", description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, required=True, help="model.tar.gz or its folder")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument(
        "--port", type=int, default=int(os.environ.get("SAGEMAKER_BIND_TO_PORT", "8080"))
    )
    args = parser.parse_args(argv)
    server = make_server(args.model, args.host, args.port)
    host, port = server.server_address[:2]
    print(f"serving {args.model} on http://{host!s}:{port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    main()
