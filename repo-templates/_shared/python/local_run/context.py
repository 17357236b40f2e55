"""What every step runner gets: the run's clients, values, folders and results."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import LocalRunError
from .jobs import detected_gpus
from .storage import Storage
from .values import Resolver, read_json


@dataclass
class LocalRunResult:
    """What a local run produced."""

    execution_id: str
    workdir: Path
    executed: list[str] = field(default_factory=list)
    cached: list[str] = field(default_factory=list)
    properties: dict[str, dict[str, Any]] = field(default_factory=dict)
    reports: dict[str, Any] = field(default_factory=dict)
    model_package_arn: str | None = None
    failure: str | None = None


@dataclass
class RunOptions:
    """How this machine stands in for SageMaker's instances.

    `images` maps an image URI (or its repository, the URI without the tag) to a local folder
    holding that image's programs (`train`, `serve`, ...), for image-only jobs. `multi_host`
    lets a job of several instances run as that many local processes. `num_gpus` overrides
    the GPUs detected on this machine.
    """

    python: str = sys.executable
    images: dict[str, Path] = field(default_factory=dict)
    multi_host: bool = False
    num_gpus: int | None = None

    def gpus(self) -> int:
        """The GPU count a job sees (SM_NUM_GPUS)."""
        return detected_gpus() if self.num_gpus is None else self.num_gpus

    def image_dir(self, uri: str) -> Path | None:
        """The local folder that stands for image `uri`, or None."""
        repository = uri.rsplit("@", 1)[0]
        if ":" in repository.rsplit("/", 1)[-1]:
            repository = repository.rsplit(":", 1)[0]
        found = self.images.get(uri) or self.images.get(repository)
        return Path(found) if found is not None else None


class RunContext:
    """One run's shared state, handed to each step runner."""

    def __init__(
        self,
        definition: dict[str, Any],
        workdir: Path,
        boto_session: Any,
        parameters: dict[str, Any],
        pipeline_name: str,
        options: RunOptions,
        result: LocalRunResult,
        run_steps: Callable[[Iterable[dict[str, Any]]], None],
    ) -> None:
        self.definition = definition
        self.workdir = workdir
        self.s3 = boto_session.client("s3")
        self.sagemaker = boto_session.client("sagemaker")
        self.storage = Storage(self.s3)
        self.parameters = parameters
        self.pipeline_name = pipeline_name
        self.options = options
        self.result = result
        self.run_steps = run_steps
        self.property_files: dict[str, dict[str, Path]] = {}
        execution = {
            "PipelineExecutionId": result.execution_id,
            "PipelineName": pipeline_name,
            "PipelineExecutionArn": f"local:{pipeline_name}/{result.execution_id}",
            "PipelineExperimentName": pipeline_name,
            "TrialName": result.execution_id,
        }
        self.resolve = Resolver(
            parameters, execution, result.properties, self._property_file, self._s3_json
        )

    def job_dir(self, step: str) -> Path:
        """The folder that stands for the step's container filesystem."""
        path = self.workdir / step
        path.mkdir(parents=True, exist_ok=True)
        return path

    def job_name(self, step: str) -> str:
        """The job name SageMaker would give the step in this execution."""
        return f"{step}-{self.result.execution_id}"

    def _property_file(self, step: str, name: str) -> Any:
        path = self.property_files.get(step, {}).get(name)
        if path is None or not path.exists():
            raise LocalRunError(f"property file {name} of step {step} was not produced ({path})")
        return read_json(path.read_text(encoding="utf-8"), str(path))

    def _s3_json(self, url: str) -> Any:
        return read_json(self.storage.read(url).decode("utf-8"), url)
