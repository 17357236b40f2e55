"""A model served on this machine as SageMaker serves it: /ping, then POST /invocations.

Script-mode models (SAGEMAKER_PROGRAM in the model's environment) are served by
script_server.py with the model's own handler functions; image-only models run the `serve`
program of the image's local folder, told its port by SAGEMAKER_BIND_TO_PORT and its root
by $OPT_ML.
"""

from __future__ import annotations

import os
import socket
import subprocess
import tarfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from .context import RunContext
from .errors import LocalRunError, StepFailed
from .jobs import OPT_ML_ENV, program_argv

SCRIPT_SERVER = Path(__file__).resolve().parent / "script_server.py"
START_TIMEOUT = 120.0


def free_port() -> int:
    """A TCP port nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class ModelSpec:
    """What CreateModel stored: the image, the artifact and the environment."""

    name: str
    image: str
    model_data: str | None
    environment: dict[str, str]


def describe_model(context: RunContext, step: str, model_name: str) -> ModelSpec:
    """Read the model from the endpoint's SageMaker (the model step, or one made earlier)."""
    from botocore.exceptions import ClientError

    try:
        model = context.sagemaker.describe_model(ModelName=model_name)
    except ClientError as exc:
        raise LocalRunError(f"step {step}: ModelName {model_name!r} does not exist: {exc}") from exc
    if "PrimaryContainer" not in model:
        raise LocalRunError(
            f"step {step}: model {model_name} has no PrimaryContainer (inference pipelines of "
            "several containers are not run locally)"
        )
    container = model["PrimaryContainer"]
    return ModelSpec(
        model_name,
        container["Image"],
        container.get("ModelDataUrl"),
        dict(container.get("Environment", {})),
    )


class ModelServer:
    """Start the model's server in `root`, wait until it answers /ping, stop it on exit."""

    def __init__(self, context: RunContext, step: str, spec: ModelSpec, root: Path) -> None:
        self.context, self.step, self.spec, self.root = context, step, spec, root
        self.ml = root / "opt" / "ml"
        self.log = root / "serve.log"
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self._out: Any = None

    def __enter__(self) -> ModelServer:
        model_dir = self.ml / "model"
        model_dir.mkdir(parents=True, exist_ok=True)
        if self.spec.model_data:
            archive = self.root / "model.tar.gz"
            self.context.storage.download_file(self.spec.model_data, archive)
            with tarfile.open(archive) as tar:
                tar.extractall(model_dir, filter="data")
        argv = self._argv(model_dir)
        env = {
            **os.environ,
            **self.spec.environment,
            OPT_ML_ENV: str(self.ml),
            "SAGEMAKER_BIND_TO_PORT": str(self.port),
        }
        self._out = self.log.open("w", encoding="utf-8")
        self.process = subprocess.Popen(
            argv, cwd=self.root, env=env, stdout=self._out, stderr=subprocess.STDOUT
        )
        try:
            self._wait_ready()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _argv(self, model_dir: Path) -> list[str]:
        program = self.spec.environment.get("SAGEMAKER_PROGRAM")
        python = self.context.options.python
        if program:
            code = self._code(model_dir)
            return [
                python, str(SCRIPT_SERVER), "--model-dir", str(model_dir), "--code-dir",
                str(code), "--program", program, "--port", str(self.port),
            ]  # fmt: skip
        image_dir = self.context.options.image_dir(self.spec.image)
        if image_dir is None:
            raise LocalRunError(
                f"step {self.step}: model {self.spec.name} runs image {self.spec.image} with no "
                "SAGEMAKER_PROGRAM: map the image to the folder holding its `serve` program "
                "(LocalPipelineRun images={uri: folder})"
            )
        serve = image_dir / "serve"
        if not serve.is_file():
            raise LocalRunError(
                f"step {self.step}: image {self.spec.image} maps to {image_dir}, which has no "
                "`serve` program: add it there"
            )
        return [*program_argv(serve, python), "serve"]

    def _code(self, model_dir: Path) -> Path:
        """Where the entry script is: SAGEMAKER_SUBMIT_DIRECTORY, or the model's code/ folder."""
        submit = self.spec.environment.get("SAGEMAKER_SUBMIT_DIRECTORY", "/opt/ml/model/code")
        if submit.startswith("s3://"):
            code = self.root / "code"
            bundle = self.root / "sourcedir.tar.gz"
            self.context.storage.download_file(submit, bundle)
            with tarfile.open(bundle) as tar:
                tar.extractall(code, filter="data")
            return code
        if submit.startswith("/opt/ml/"):
            return self.root / submit.lstrip("/")
        raise LocalRunError(
            f"step {self.step}: model {self.spec.name} has SAGEMAKER_SUBMIT_DIRECTORY "
            f"{submit!r}: use an s3:// archive or a folder under /opt/ml/model"
        )

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            assert self.process is not None
            code = self.process.poll()
            if code is not None:
                self._out.close()
                tail = self.log.read_text(encoding="utf-8", errors="replace").splitlines()[-20:]
                raise StepFailed(
                    f"step {self.step}: the model server of {self.spec.name} exited with code "
                    f"{code} before answering /ping; log {self.log}\n" + "\n".join(tail),
                    code,
                    str(self.log),
                )
            try:
                with urllib.request.urlopen(self._url("/ping"), timeout=2) as reply:  # noqa: S310
                    if reply.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.1)
        raise LocalRunError(
            f"step {self.step}: the model server of {self.spec.name} did not answer /ping in "
            f"{START_TIMEOUT:g} s; log {self.log}"
        )

    def _url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def invoke(
        self, body: bytes, content_type: str | None, accept: str | None, timeout: float
    ) -> bytes:
        """POST one request to /invocations; a non-200 answer names the status and the log."""
        headers = {}
        if content_type:
            headers["Content-Type"] = content_type
        if accept:
            headers["Accept"] = accept
        request = urllib.request.Request(  # noqa: S310 (a local http URL)
            self._url("/invocations"), data=body, headers=headers, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as reply:  # noqa: S310
                data: bytes = reply.read()
                return data
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode("utf-8", errors="replace")[-2000:]
            raise LocalRunError(
                f"step {self.step}: model {self.spec.name} answered {exc.code} to /invocations; "
                f"log {self.log}\n{detail}"
            ) from exc

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self._out is not None and not self._out.closed:
            self._out.close()
