"""Jobs on this machine: container folders, the host's GPUs, several hosts as processes."""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import LocalRunError, StepFailed

CONTAINER_ROOT = "/opt/ml"
# The host has no /opt/ml to write to: programs that follow SageMaker's container contract read
# their root from here (`os.environ.get("OPT_ML", "/opt/ml")`); it is each job's own folder.
OPT_ML_ENV = "OPT_ML"
PYTHONS = ("python", "python3")


def reroot(root: Path, value: Any) -> Any:
    """Map a container path (/opt/ml/...) to its place under the job folder `root`."""
    if isinstance(value, str) and (
        value == CONTAINER_ROOT or value.startswith(CONTAINER_ROOT + "/")
    ):
        return str(root) + value
    return value


@functools.cache
def detected_gpus() -> int:
    """Count this machine's GPUs: torch's view if torch is installed, else `nvidia-smi -L`."""
    try:
        import torch  # type: ignore[import-not-found,unused-ignore]

        return int(torch.cuda.device_count())
    except ImportError:
        pass
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return 0
    try:
        listed = subprocess.run([smi, "-L"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return 0
    if listed.returncode != 0:
        return 0
    return sum(1 for line in listed.stdout.splitlines() if line.startswith("GPU "))


@dataclass
class Host:
    """One instance of a job: its name (algo-N) and the folder that stands for its `/`."""

    name: str
    index: int
    root: Path

    @property
    def ml(self) -> Path:
        """The host's /opt/ml."""
        return self.root / CONTAINER_ROOT.lstrip("/")


def hosts(step: str, field_name: str, count: Any, job_dir: Path, allow: bool) -> list[Host]:
    """Return the hosts of a job of `count` instances, or refuse several unless allowed."""
    if not isinstance(count, int) or count < 1:
        raise LocalRunError(f"step {step}: {field_name} is {count!r}: use a whole number >= 1")
    if count > 1 and not allow:
        raise LocalRunError(
            f"step {step}: {field_name} is {count}; the local run runs one host unless told to "
            f"run {count} local processes (LocalPipelineRun multi_host=True)"
        )
    if count == 1:
        return [Host("algo-1", 0, job_dir)]
    return [Host(f"algo-{i + 1}", i, job_dir / f"algo-{i + 1}") for i in range(count)]


@dataclass
class Process:
    """One program to run for one host."""

    host: Host
    argv: list[str]
    cwd: Path
    env: dict[str, str]
    log: Path
    failure_file: Path | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def run_all(step: str, processes: list[Process], timeout: float | None = None) -> None:
    """Run the processes side by side (hosts of one job talk to one another) and wait for all.

    A non-zero exit raises StepFailed naming the host, the exit code, its log and the failure
    reason the program wrote; running past `timeout` (StoppingCondition) stops every host.
    """
    started: list[tuple[Process, subprocess.Popen[bytes], Any]] = []
    for proc in processes:
        proc.log.parent.mkdir(parents=True, exist_ok=True)
        out = proc.log.open("w", encoding="utf-8")
        try:
            child = subprocess.Popen(
                proc.argv,
                cwd=proc.cwd,
                env={**os.environ, **proc.env},
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        except OSError as exc:
            out.close()
            for _, other, handle in started:
                other.kill()
                handle.close()
            raise LocalRunError(f"step {step}: cannot start {proc.argv[0]}: {exc}") from exc
        started.append((proc, child, out))
    deadline = None if timeout is None else time.monotonic() + timeout
    failures = []
    for proc, child, out in started:
        try:
            left = None if deadline is None else max(deadline - time.monotonic(), 0.1)
            code = child.wait(timeout=left)
        except subprocess.TimeoutExpired:
            for _, other, _ in started:
                other.kill()
            for _, other, handle in started:
                other.wait()
                handle.close()
            raise StepFailed(
                f"step {step} ran past StoppingCondition.MaxRuntimeInSeconds ({timeout:g} s); "
                f"log {proc.log}",
                -9,
                str(proc.log),
            ) from None
        finally:
            out.close()
        if code != 0:
            failures.append((proc, code))
    if failures:
        proc, code = failures[0]
        raise StepFailed(_failure_message(step, proc, code, len(processes)), code, str(proc.log))


def _failure_message(step: str, proc: Process, code: int, count: int) -> str:
    host = f" on host {proc.host.name}" if count > 1 else ""
    message = f"step {step} exited with code {code}{host}; log {proc.log}"
    if proc.failure_file is not None and proc.failure_file.is_file():
        reason = proc.failure_file.read_text(encoding="utf-8", errors="replace").strip()
        if reason:
            message += f"\nfailure reason ({proc.failure_file}): {reason[:1024]}"
    lines = proc.log.read_text(encoding="utf-8", errors="replace").splitlines()[-20:]
    return message + ("\n" + "\n".join(lines) if lines else "")


def command(
    step: str, field_name: str, argv: list[str], python: str, image_dir: Path | None, root: Path
) -> list[str]:
    """Return the host command for a container command: Python scripts, or the image's programs.

    `python`/`python3` become this run's interpreter; any other program is looked up in the
    local folder that stands for the image (LocalPipelineRun's `images`).
    """
    if not argv:
        raise LocalRunError(f"step {step}: {field_name} is empty: give the program to run")
    head, rest = argv[0], [str(reroot(root, a)) for a in argv[1:]]
    if Path(head).name in PYTHONS:
        return [python, *rest]
    if image_dir is not None:
        program = image_dir / Path(head).name
        if program.is_file():
            return [*program_argv(program, python), *rest]
        raise LocalRunError(
            f"step {step}: {field_name} runs {head}, which is not in the image folder "
            f"{image_dir}: add it there"
        )
    raise LocalRunError(
        f"step {step}: {field_name} runs {head}: the local run runs Python scripts, or the "
        "programs of an image mapped to a local folder (images={uri: folder})"
    )


def program_argv(program: Path, python: str) -> list[str]:
    """Run an image's program: executables as they are, Python scripts with this interpreter."""
    if os.access(program, os.X_OK):
        return [str(program)]
    first = program.read_text(encoding="utf-8", errors="replace").split("\n", 1)[0]
    if first.startswith("#!") and "python" in first:
        return [python, str(program)]
    raise LocalRunError(f"{program} is neither executable nor a Python script: chmod +x it")
