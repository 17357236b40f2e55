"""Run a definition's steps in an order that honours their data references and DependsOn."""

from __future__ import annotations

import sys
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .cache import StepCache, all_steps
from .context import LocalRunResult, RunContext, RunOptions
from .errors import LocalRunError
from .registry import runner_for
from .values import parameter_values, step_references

# What a step may carry besides its type's Arguments. Retries answer the cloud's transient
# failures and a display name only labels the console: neither changes what runs here.
STEP_FIELDS = {
    "Name",
    "Type",
    "Arguments",
    "DependsOn",
    "CacheConfig",
    "PropertyFiles",
    "RetryPolicies",
    "DisplayName",
    "Description",
}


class LocalPipelineRun:
    """One local execution of a pipeline definition.

    `images`, `multi_host` and `num_gpus` say how this machine stands in for SageMaker's
    instances (see RunOptions); `cache_dir` turns on the step cache.
    """

    def __init__(
        self,
        definition: dict[str, Any],
        workdir: Path,
        boto_session: Any,
        parameters: dict[str, Any] | None = None,
        pipeline_name: str = "local-pipeline",
        python: str = sys.executable,
        cache_dir: Path | None = None,
        *,
        images: dict[str, Path] | None = None,
        multi_host: bool = False,
        num_gpus: int | None = None,
    ) -> None:
        self.definition = definition
        self.workdir = workdir
        self.result = LocalRunResult(execution_id=uuid.uuid4().hex[:12], workdir=workdir)
        options = RunOptions(
            python=python, images=dict(images or {}), multi_host=multi_host, num_gpus=num_gpus
        )
        self.context = RunContext(
            definition,
            workdir,
            boto_session,
            parameter_values(definition, parameters or {}),
            pipeline_name,
            options,
            self.result,
            self.run_steps,
        )
        self.cache = StepCache(cache_dir, self.context)
        names = [str(s.get("Name")) for s in all_steps(definition.get("Steps", []))]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise LocalRunError(f"step names {repeated} are used more than once: rename them")
        self.known = set(names)

    def run(self) -> LocalRunResult:
        """Run the whole definition; raises PipelineFailed when a FailStep is reached."""
        self.run_steps(self.definition.get("Steps", []))
        return self.result

    def run_steps(self, steps: Iterable[dict[str, Any]]) -> None:
        """Run `steps`, each once the steps it reads from or depends on have run."""
        pending = list(steps)
        for step in pending:
            unknown = sorted(set(step.get("DependsOn", [])) - self.known)
            if unknown:
                raise LocalRunError(f"step {step['Name']}: DependsOn names unknown steps {unknown}")
            extra = sorted(set(step) - STEP_FIELDS)
            if extra:
                raise LocalRunError(
                    f"step {step['Name']}: field {extra[0]} is not something the local run can "
                    "execute (run the pipeline in SageMaker, or drop the field)"
                )
        while pending:
            done = set(self.result.properties)
            ready = next((s for s in pending if self._needs(s) <= done), None)
            if ready is None:
                waiting = {s["Name"]: sorted(self._needs(s) - done) for s in pending}
                raise LocalRunError(
                    f"steps wait on steps that never run: {waiting}; check DependsOn and the "
                    "condition branches"
                )
            pending.remove(ready)
            self._run_one(ready)

    @staticmethod
    def _needs(step: dict[str, Any]) -> set[str]:
        return step_references(step.get("Arguments", {})) | set(step.get("DependsOn", []))

    def _run_one(self, step: dict[str, Any]) -> None:
        runner = runner_for(step)
        name = step["Name"]
        (self.workdir / name).mkdir(parents=True, exist_ok=True)
        self.result.executed.append(name)  # start order: a condition, then its branch
        key = self.cache.key(step)
        hit = self.cache.load(step, key) if key else None
        if hit is not None:
            self.result.cached.append(name)
            self.result.properties[name] = hit
            return
        properties = runner(self.context, step)
        self.result.properties[name] = properties
        if key:
            self.cache.store(step, key, properties)
