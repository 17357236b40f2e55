"""Run a GitHub Actions job here: its `run:` steps with bash, each `uses:` step by a local stand-in.

    result = run_job(
        repo / ".github/workflows/train.yml", "pipeline", workspace=repo,
        context=Context(vars={"AWS_ROLE_ARN": role}), actions=standard_actions(aws=aws),
    )

(`standard_actions` and `stub` live in `mlops_suite.local.workflow_actions`.)

Steps run in order in `workspace` (a clone of the repository under test) with GitHub's
environment files (`$GITHUB_OUTPUT`, `$GITHUB_ENV`, `$GITHUB_PATH`, `$GITHUB_STEP_SUMMARY`),
`${{ }}` expressions filled from the given context, and `if:` conditions honoured. A `uses:` step
runs only through an equivalent declared for its action; any other fails the job by name, so a
test can never pass over a step it did not execute. A failing step stops the job (only
`always()`/`failure()` steps still run) and `JobFailed` names it.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from mlops_suite.local.workflow_expr import ExpressionError, condition, interpolate, to_text

PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")
SHELLS = {"bash": ["bash", "--noprofile", "--norc", "-eo", "pipefail"]}
INHERIT_NOT = (
    "AWS_",
    "VIRTUAL_ENV",
    "UV_PROJECT_ENVIRONMENT",
    "UV_PYTHON",
    "CONDA_PREFIX",
    "PYTHONHOME",
    "PYTHONPATH",
    "NOX_",
)


class WorkflowError(RuntimeError):
    """The workflow cannot run here as written; the message names the job, step and field."""


class JobFailed(AssertionError):
    """A step failed; `result` holds every step run so far, `step` the one that failed."""

    def __init__(self, message: str, result: JobResult, step: StepResult) -> None:
        super().__init__(message)
        self.result = result
        self.step = step


@dataclass
class Context:
    """What GitHub would provide to expressions and as default environment variables."""

    event_name: str = "workflow_dispatch"
    event: dict[str, Any] = field(default_factory=dict)
    inputs: dict[str, Any] = field(default_factory=dict)
    vars: dict[str, str] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)
    repository: str = "my-org/repo"
    ref: str = "refs/heads/main"
    server_url: str = "https://github.com"
    api_url: str = "https://api.github.com"
    token: str = "ghs_harness"  # noqa: S105 (a placeholder; tests pass the double's token)
    env: dict[str, str] = field(default_factory=dict)  # extra process environment (PATH, ...)
    needs: dict[str, Any] = field(default_factory=dict)
    matrix: dict[str, Any] = field(default_factory=dict)


@dataclass
class StepCall:
    """What an action equivalent receives: the step, its filled `with:`, env and the job."""

    name: str
    uses: str
    inputs: dict[str, Any]
    env: dict[str, str]
    workspace: Path
    job: dict[str, Any]
    runner_temp: Path


@dataclass
class ActionResult:
    """What an action equivalent gives back: outputs, environment and PATH additions."""

    outputs: dict[str, str] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    path: list[str] = field(default_factory=list)


Action = Callable[[StepCall], ActionResult]


@dataclass
class StepResult:
    """One step: `outcome` is success, failure or skipped; `output` its stdout and stderr."""

    name: str
    id: str | None
    outcome: str
    output: str = ""
    returncode: int | None = None
    outputs: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0


@dataclass
class JobResult:
    """A job run: its steps, its outputs, the summary it wrote and the env it ended with."""

    job: str
    steps: list[StepResult]
    outputs: dict[str, Any]
    summary: str
    env: dict[str, str]
    runner_temp: Path
    skipped: bool = False  # the job's own `if:` was false

    def step(self, name_or_id: str) -> StepResult:
        """The step with this name or id."""
        for step in self.steps:
            if name_or_id in (step.name, step.id):
                return step
        raise KeyError(f"no step {name_or_id!r} in job {self.job}: {[s.name for s in self.steps]}")

    @property
    def ran(self) -> list[str]:
        """Names of the steps that ran (not skipped), in order."""
        return [s.name for s in self.steps if s.outcome != "skipped"]


def load_workflow(path: Path) -> dict[str, Any]:
    """Load a workflow file; YAML 1.1's `on: true` is put back under `on`."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or "jobs" not in data:
        raise WorkflowError(f"{path} is not a workflow: it has no jobs")
    if True in data:
        data["on"] = data.pop(True)
    return data


def read_env_file(path: Path) -> dict[str, str]:
    """Parse a `$GITHUB_OUTPUT`/`$GITHUB_ENV` file: `name=value` and `name<<DELIM` blocks."""
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    lines = path.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if not line.strip():
            continue
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            block = []
            while i < len(lines) and lines[i] != delimiter:
                block.append(lines[i])
                i += 1
            if i >= len(lines):
                raise WorkflowError(f"{path}: no closing {delimiter!r} for {name!r}")
            i += 1
            values[name] = "\n".join(block)
        elif "=" in line:
            name, value = line.split("=", 1)
            values[name] = value
        else:
            raise WorkflowError(f"{path}: line {line!r} is neither name=value nor name<<DELIM")
    return values


def _step_name(step: Mapping[str, Any], index: int) -> str:
    if step.get("name"):
        return str(step["name"])
    if step.get("uses"):
        return f"Run {step['uses'].split('@')[0]}"
    first = str(step.get("run", "")).strip().splitlines()
    return f"Run {first[0]}" if first else f"step {index + 1}"


def _action_name(uses: str) -> str:
    return uses.split("@", 1)[0]


def run_job(
    workflow: Path | Mapping[str, Any],
    job_id: str,
    *,
    workspace: Path,
    context: Context | None = None,
    actions: Mapping[str, Action] | None = None,
    require_pins: bool = True,
    timeout: float = 900.0,
    check: bool = True,
) -> JobResult:
    """Run job `job_id` of `workflow` in `workspace`; raise JobFailed naming a failed step."""
    ctx = context or Context()
    data = load_workflow(workflow) if isinstance(workflow, Path) else dict(workflow)
    jobs = data.get("jobs") or {}
    if job_id not in jobs:
        raise WorkflowError(f"no job {job_id!r} in the workflow: it has {sorted(jobs)}")
    job = jobs[job_id]
    for unsupported in ("container", "services", "uses"):
        if unsupported in job:
            raise WorkflowError(f"job {job_id}: `{unsupported}` cannot run in the harness")
    declared = dict(actions or {})
    runner_temp = Path(tempfile.mkdtemp(prefix=f"runner-{job_id}-"))
    files = {
        name: runner_temp / f"{name.lower()}"
        for name in ("GITHUB_ENV", "GITHUB_PATH", "GITHUB_STEP_SUMMARY")
    }
    for path in files.values():
        path.touch()
    event_path = runner_temp / "event.json"
    event_path.write_text(json.dumps(ctx.event), encoding="utf-8")
    github = {
        "event_name": ctx.event_name,
        "event": ctx.event,
        "repository": ctx.repository,
        "repository_owner": ctx.repository.split("/")[0],
        "ref": ctx.ref,
        "ref_name": ctx.ref.rsplit("/", 1)[-1],
        "sha": _head(workspace),
        "server_url": ctx.server_url,
        "api_url": ctx.api_url,
        "run_id": "1",
        "run_number": "1",
        "run_attempt": "1",
        "workflow": data.get("name", ""),
        "job": job_id,
        "actor": "harness",
        "token": ctx.token,
        "workspace": str(workspace),
    }
    base_env = {
        # A runner starts without cloud credentials (only an action step hands them out) and
        # outside any virtual environment, whatever the test runs in.
        **{k: v for k, v in os.environ.items() if not k.startswith(INHERIT_NOT)},
        **ctx.env,
        "CI": "true",
        "GITHUB_ACTIONS": "true",
        "GITHUB_WORKSPACE": str(workspace),
        "GITHUB_REPOSITORY": ctx.repository,
        "GITHUB_REPOSITORY_OWNER": github["repository_owner"],
        "GITHUB_EVENT_NAME": ctx.event_name,
        "GITHUB_EVENT_PATH": str(event_path),
        "GITHUB_REF": ctx.ref,
        "GITHUB_REF_NAME": github["ref_name"],
        "GITHUB_SHA": github["sha"],
        "GITHUB_SERVER_URL": ctx.server_url,
        "GITHUB_API_URL": ctx.api_url,
        "GITHUB_RUN_ID": "1",
        "GITHUB_JOB": job_id,
        "RUNNER_TEMP": str(runner_temp),
        "RUNNER_OS": "Linux",
        **{name: str(path) for name, path in files.items()},
    }
    secrets = {"GITHUB_TOKEN": ctx.token, **ctx.secrets}
    contexts: dict[str, Any] = {
        "github": github,
        "inputs": ctx.inputs,
        "vars": ctx.vars,
        "secrets": secrets,
        "needs": ctx.needs,
        "matrix": ctx.matrix,
        "strategy": {"fail-fast": True, "job-index": 0, "job-total": 1},
        "runner": {"os": "Linux", "arch": "X64", "temp": str(runner_temp), "name": "harness"},
        "job": {"status": "success"},
        "steps": {},
        "env": {},
    }

    def fill(value: Any, where: str) -> Any:
        try:
            return interpolate(value, contexts)
        except ExpressionError as exc:
            raise WorkflowError(f"job {job_id}, {where}: {exc}") from exc

    result = JobResult(job_id, [], {}, "", {}, runner_temp)
    job_status = {"success": True, "failure": False, "always": True, "cancelled": False}
    for need in [job.get("needs")] if isinstance(job.get("needs"), str) else job.get("needs", []):
        if need not in ctx.needs:
            raise WorkflowError(f"job {job_id} needs {need!r}: pass its result in Context.needs")
        if ctx.needs[need].get("result", "success") != "success":
            job_status = {**job_status, "success": False, "failure": True}
    try:
        if not condition(job.get("if"), contexts, job_status):
            result.skipped = True
            return result
    except ExpressionError as exc:
        raise WorkflowError(f"job {job_id} if: {exc}") from exc
    declared_env: dict[str, str] = {}
    for scope, values in (("workflow env", data.get("env")), ("job env", job.get("env"))):
        for key, value in (values or {}).items():
            contexts["env"] = dict(declared_env)
            declared_env[key] = to_text(fill(value, f"{scope} {key}"))
    defaults = {
        **(data.get("defaults") or {}).get("run", {}),
        **(job.get("defaults") or {}).get("run", {}),
    }
    job_timeout = float(job.get("timeout-minutes", timeout / 60)) * 60
    deadline = time.monotonic() + min(timeout, job_timeout)
    results = result.steps
    added_env: dict[str, str] = {}
    added_path: list[str] = []
    failed: StepResult | None = None
    for index, step in enumerate(job.get("steps") or []):
        name = _step_name(step, index)
        status = {
            "success": failed is None,
            "failure": failed is not None,
            "always": True,
            "cancelled": False,
        }
        contexts["job"] = {"status": "failure" if failed else "success"}
        contexts["env"] = {**declared_env, **added_env}
        try:
            run_it = condition(step.get("if"), contexts, status)
        except ExpressionError as exc:
            raise WorkflowError(f"job {job_id}, step {name!r} if: {exc}") from exc
        if not run_it:
            results.append(StepResult(name, step.get("id"), "skipped"))
            _record(contexts, step, results[-1])
            continue
        step_env = {
            key: to_text(fill(value, f"step {name!r} env {key}"))
            for key, value in (step.get("env") or {}).items()
        }
        env = {**base_env, **declared_env, **added_env, **step_env}
        if added_path:
            env["PATH"] = os.pathsep.join([*reversed(added_path), env.get("PATH", "")])
        contexts["env"] = {**declared_env, **added_env, **step_env}
        output_file = runner_temp / f"output-{index}"
        output_file.touch()
        env["GITHUB_OUTPUT"] = str(output_file)
        started = time.monotonic()
        if "uses" in step:
            uses = str(step["uses"])
            if require_pins and not uses.startswith("./") and not PINNED.match(uses):
                raise WorkflowError(f"job {job_id}, step {name!r}: {uses} is not pinned by SHA")
            action = declared.get(_action_name(uses))
            if action is None:
                raise WorkflowError(
                    f"job {job_id}, step {name!r}: no local equivalent declared for {uses}; "
                    "pass one in actions= (a stub the test names, if it only needs to pass)"
                )
            inputs = {
                k: fill(v, f"step {name!r} with {k}") for k, v in (step.get("with") or {}).items()
            }
            call = StepCall(name, uses, inputs, env, workspace, job, runner_temp)
            try:
                done = action(call)
                outcome, code, output = "success", 0, ""
            except Exception as exc:  # an equivalent refusing its inputs fails the step
                done, outcome, code, output = (
                    ActionResult(),
                    "failure",
                    1,
                    f"{type(exc).__name__}: {exc}",
                )
            added_env.update(done.env)
            added_path.extend(done.path)
            outputs = dict(done.outputs)
        else:
            shell = step.get("shell") or defaults.get("shell") or "bash"
            if shell not in SHELLS:
                raise WorkflowError(
                    f"job {job_id}, step {name!r}: shell {shell!r} is not supported"
                )
            script = runner_temp / f"step-{index}.sh"
            script.write_text(str(fill(step["run"], f"step {name!r} run")), encoding="utf-8")
            cwd = workspace / str(
                fill(
                    step.get("working-directory") or defaults.get("working-directory") or ".",
                    f"step {name!r} working-directory",
                )
            )
            step_timeout = float(step.get("timeout-minutes", 1e9)) * 60
            remaining = min(deadline - time.monotonic(), step_timeout)
            try:
                proc = subprocess.run(
                    [*SHELLS[shell], str(script)],
                    cwd=cwd,
                    env=env,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    text=True,
                    timeout=max(remaining, 1),
                    check=False,
                )
                code, output = proc.returncode, proc.stdout
            except subprocess.TimeoutExpired as exc:
                raw = exc.output or b""
                text = raw.decode(errors="replace") if isinstance(raw, bytes) else raw
                code, output = 124, f"{text}\n[harness] timed out after {remaining:.0f}s"
            outcome = "success" if code == 0 else "failure"
            outputs = read_env_file(output_file)
            if code == 0:
                added_env.update(read_env_file(files["GITHUB_ENV"]))
                files["GITHUB_ENV"].write_text("", encoding="utf-8")
                added_path.extend(
                    ln.strip()
                    for ln in files["GITHUB_PATH"].read_text("utf-8").splitlines()
                    if ln.strip()
                )
                files["GITHUB_PATH"].write_text("", encoding="utf-8")
        step_result = StepResult(
            name, step.get("id"), outcome, output, code, outputs, time.monotonic() - started
        )
        results.append(step_result)
        continue_on_error = (
            str(fill(step.get("continue-on-error", False), f"step {name!r}")).lower() == "true"
        )
        _record(contexts, step, step_result, continue_on_error)
        if outcome == "failure" and not continue_on_error and failed is None:
            failed = step_result
    result.summary = files["GITHUB_STEP_SUMMARY"].read_text(encoding="utf-8")
    result.env = {**declared_env, **added_env}
    contexts["env"] = result.env
    result.outputs = {k: fill(v, f"outputs {k}") for k, v in (job.get("outputs") or {}).items()}
    if failed is not None and check:
        tail = "\n".join(failed.output.splitlines()[-60:])
        raise JobFailed(
            f"job {job_id}: step {failed.name!r} failed (exit {failed.returncode}):\n{tail}",
            result,
            failed,
        )
    return result


def needs_entry(result: JobResult) -> dict[str, Any]:
    """The `needs.<job>` value a later job sees for `result`."""
    return {"result": "skipped" if result.skipped else "success", "outputs": result.outputs}


def _record(
    contexts: dict[str, Any], step: Mapping[str, Any], result: StepResult, soft: bool = False
) -> None:
    if step.get("id"):
        conclusion = "success" if soft and result.outcome == "failure" else result.outcome
        contexts["steps"][step["id"]] = {
            "outputs": result.outputs,
            "outcome": result.outcome,
            "conclusion": conclusion,
        }


def _head(workspace: Path) -> str:
    proc = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=workspace, capture_output=True, text=True, check=False
    )
    return proc.stdout.strip() if proc.returncode == 0 else "0" * 40
