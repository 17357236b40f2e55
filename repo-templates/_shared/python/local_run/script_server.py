"""Serve a script-mode model over SageMaker's inference contract (GET /ping, POST /invocations).

Run as a program by the local runner: it imports the model's entry script and calls its
`model_fn(model_dir)` once, then per request `input_fn(body, content_type)`,
`predict_fn(data, model)` and `output_fn(prediction, accept)`, as SageMaker's inference
toolkit does. Where the script leaves out input_fn, predict_fn or output_fn, JSON and CSV
are decoded and encoded here and `model.predict` (or the model itself) is called. Standard
library only: it runs in whatever interpreter runs the step.
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import io
import json
import sys
import traceback
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any


def load_entry(code_dir: Path, program: str) -> ModuleType:
    """Import the entry script `program` from `code_dir`, with that folder importable."""
    path = code_dir / program
    if not path.is_file():
        raise SystemExit(f"SAGEMAKER_PROGRAM {program} is not in {code_dir}")
    sys.path.insert(0, str(code_dir))
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if not hasattr(module, "model_fn"):
        raise SystemExit(f"{program} has no model_fn(model_dir): define it to load the model")
    return module


def default_input_fn(body: bytes, content_type: str) -> Any:
    """Decode JSON or CSV; anything else is handed on as bytes."""
    kind = content_type.split(";")[0].strip()
    if kind == "application/json":
        return json.loads(body)
    if kind == "text/csv":
        rows = csv.reader(io.StringIO(body.decode("utf-8")))
        return [[float(v) for v in row] for row in rows if row]
    return body


def _plain(value: Any) -> Any:
    return value.tolist() if hasattr(value, "tolist") else value


def default_output_fn(prediction: Any, accept: str) -> bytes:
    """Encode as JSON, or as CSV one row per line."""
    kind = accept.split(";")[0].strip()
    value = _plain(prediction)
    if kind == "text/csv":
        rows = value if isinstance(value, list) else [value]
        lines = [
            ",".join(str(v) for v in row) if isinstance(row, list) else str(row) for row in rows
        ]
        return "\n".join(lines).encode("utf-8")
    return json.dumps(value).encode("utf-8")


def default_predict_fn(data: Any, model: Any) -> Any:
    """Call model.predict, or the model itself."""
    return model.predict(data) if hasattr(model, "predict") else model(data)


def make_handler(module: ModuleType, model: Any) -> type[BaseHTTPRequestHandler]:
    """The request handler for one loaded model."""
    input_fn = getattr(module, "input_fn", default_input_fn)
    predict_fn = getattr(module, "predict_fn", default_predict_fn)
    output_fn = getattr(module, "output_fn", default_output_fn)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self._send(200 if self.path == "/ping" else 404, b"", "text/plain")

        def do_POST(self) -> None:
            if self.path != "/invocations":
                self._send(404, b"", "text/plain")
                return
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            content_type = self.headers.get("Content-Type", "application/json")
            accept = self.headers.get("Accept", "application/json")
            try:
                result = output_fn(predict_fn(input_fn(body, content_type), model), accept)
            except Exception:
                self._send(500, traceback.format_exc().encode("utf-8"), "text/plain")
                return
            payload = result.encode("utf-8") if isinstance(result, str) else bytes(result)
            self._send(200, payload, accept)

        def _send(self, code: int, body: bytes, content_type: str) -> None:
            self.send_response(code)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            print(format % args, file=sys.stderr, flush=True)

    return Handler


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model-dir", type=Path, required=True)
    parser.add_argument("--code-dir", type=Path, required=True)
    parser.add_argument("--program", required=True)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    module = load_entry(args.code_dir, args.program)
    model = module.model_fn(str(args.model_dir))
    server = HTTPServer(("127.0.0.1", args.port), make_handler(module, model))
    print(f"serving {args.program} on 127.0.0.1:{args.port}", file=sys.stderr, flush=True)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
