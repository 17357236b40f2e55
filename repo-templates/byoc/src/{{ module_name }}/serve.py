"""The inference image's server: SageMaker's hosting contract on Starlette under uvicorn.

SageMaker runs `serve` for endpoints and for batch transform; both call GET /ping and
POST /invocations on port 8080 (or SAGEMAKER_BIND_TO_PORT); batch transform also reads
GET /execution-parameters. The model is read from /opt/ml/model when a worker starts.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass

import xgboost as xgb
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from . import model as models
from . import payloads
from .contract import model_dir

log = logging.getLogger(__name__)
MB = 1024 * 1024


@dataclass(frozen=True)
class ServerConfig:
    """The server's settings, from SageMaker's environment variables."""

    port: int = 8080
    workers: int = 1
    max_payload_mb: int = 6
    host: str = "0.0.0.0"  # noqa: S104 - inside the container SageMaker connects from outside

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> ServerConfig:
        """Read SAGEMAKER_BIND_TO_PORT, SAGEMAKER_MODEL_SERVER_WORKERS and the payload limit."""
        env = os.environ if environ is None else environ

        def number(name: str, default: int, low: int, high: int) -> int:
            raw = env.get(name, "").strip()
            if not raw:
                return default
            if not raw.isdigit() or not low <= int(raw) <= high:
                raise ValueError(f'{name}="{raw}" is invalid: use a whole number {low}-{high}')
            return int(raw)

        return cls(
            port=number("SAGEMAKER_BIND_TO_PORT", 8080, 1, 65535),
            workers=number("SAGEMAKER_MODEL_SERVER_WORKERS", os.cpu_count() or 1, 1, 256),
            max_payload_mb=number("SAGEMAKER_MAX_PAYLOAD_IN_MB", 6, 1, 100),
            host=env.get("SERVE_HOST", cls.host),
        )


def error(status: int, message: str) -> JSONResponse:
    """A JSON error body: {"error": message}."""
    return JSONResponse({"error": message}, status_code=status)


async def ping(request: Request) -> Response:
    """Healthy once the model is loaded; SageMaker routes traffic only then."""
    if request.app.state.model is None:
        return error(503, f"Model not loaded: {request.app.state.load_error}")
    return Response(status_code=200)


async def execution_parameters(request: Request) -> Response:
    """Batch transform asks this to size its requests."""
    config: ServerConfig = request.app.state.config
    return JSONResponse(
        {
            "MaxConcurrentTransforms": config.workers,
            "BatchStrategy": "MULTI_RECORD",
            "MaxPayloadInMB": config.max_payload_mb,
        }
    )


async def invocations(request: Request) -> Response:
    """Score CSV, JSON or JSON Lines rows; answer in the type Accept asks for."""
    booster = request.app.state.model
    if booster is None:
        return error(503, f"Model not loaded: {request.app.state.load_error}")
    body = await request.body()
    limit = request.app.state.config.max_payload_mb * MB
    if len(body) > limit:
        return error(
            413, f"Payload is {len(body)} bytes; the limit is {limit} bytes: send fewer rows"
        )
    try:
        content_type = payloads.media_type(request.headers.get("content-type"))
        accept = payloads.response_type(request.headers.get("accept"), content_type)
        x = payloads.parse(body, content_type, booster.num_features())
    except payloads.PayloadError as exc:
        return error(exc.status, str(exc))
    return Response(payloads.render(models.score(booster, x), accept), media_type=accept)


async def internal_error(request: Request, exc: Exception) -> Response:
    """Log the trace for the operator; tell the caller only that the server failed."""
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return error(500, "Internal error while handling the request; the server log has details")


def create_app(config: ServerConfig | None = None) -> Starlette:
    """The ASGI app; the model loads at startup, once per worker."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        app.state.config = config or ServerConfig.from_environ()
        app.state.model, app.state.load_error = None, "not loaded yet"
        folder = model_dir()
        try:
            booster = models.load(folder)
            # One scoring thread per worker: XGBoost's default pool oversubscribes the CPUs
            # once several workers score small requests at the same time.
            booster.set_param({"nthread": 1})
            app.state.model = booster
        except (OSError, ValueError, xgb.core.XGBoostError) as exc:
            app.state.load_error = f"{folder}: {type(exc).__name__}: {exc}"
            log.error("model not loaded from %s: %s", folder, exc)
        yield

    return Starlette(
        routes=[
            Route("/ping", ping, methods=["GET"]),
            Route("/invocations", invocations, methods=["POST"]),
            Route("/execution-parameters", execution_parameters, methods=["GET"]),
        ],
        exception_handlers={Exception: internal_error},
        lifespan=lifespan,
    )


def main(argv: list[str] | None = None) -> int:
    """`serve`: run uvicorn with SageMaker's port and worker count; returns the exit code."""
    import uvicorn

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s %(message)s")
    args = sys.argv[1:] if argv is None else argv
    if args not in ([], ["serve"]):
        print(f"usage: serve [serve]; got {' '.join(args)!r}", file=sys.stderr)
        return 2
    try:
        config = ServerConfig.from_environ()
    except ValueError as exc:
        print(f"serve: {exc}", file=sys.stderr)
        return 2
    uvicorn.run(
        f"{__package__}.serve:create_app",
        factory=True,
        host=config.host,
        port=config.port,
        workers=config.workers,
        log_level="info",
        access_log=False,
        timeout_graceful_shutdown=10,
    )
    return 0


def cli() -> None:
    """Console entry point."""
    raise SystemExit(main())


if __name__ == "__main__":
    cli()
