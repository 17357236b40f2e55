"""Declared local equivalents of the actions the workflows use, for `run_job(actions=...)`.

Each stands in for one action the way a runner would provide it here: checkout is the clone,
setup-python, setup-uv and setup-terraform are the tools on PATH, configure-aws-credentials
assumes the role in the embedded AWS, upload-artifact copies into a folder. `stub` is the explicit
stand-in a test names for anything else.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mlops_suite.local.workflow_harness import Action, ActionResult, StepCall, WorkflowError

# The base interpreter behind a `pythonX.Y` (a virtual environment's points at its own copy).
BASE_PYTHON = (
    "import os, sys; v = 'python%d.%d' % sys.version_info[:2];"
    " b = os.path.join(sys.base_prefix, 'bin', v);"
    " print(b if os.path.exists(b) else sys.executable)"
)


def checkout(call: StepCall) -> ActionResult:
    """actions/checkout: the workspace already is the clone; refuse inputs that would differ."""
    unsupported = sorted(set(call.inputs) - {"persist-credentials", "fetch-depth", "ref"})
    if unsupported:
        raise WorkflowError(f"{call.name}: checkout inputs {unsupported} have no local equivalent")
    if call.inputs.get("ref"):
        subprocess.run(
            ["git", "checkout", "-q", str(call.inputs["ref"])], cwd=call.workspace, check=True
        )
    if not (call.workspace / ".git").exists():
        raise WorkflowError(f"{call.name}: the workspace {call.workspace} is not a git clone")
    return ActionResult()


def setup_uv(call: StepCall) -> ActionResult:
    """astral-sh/setup-uv: the uv on PATH, alone on the PATH it adds (not its venv's python)."""
    uv = shutil.which("uv", path=call.env.get("PATH"))
    if uv is None:
        raise WorkflowError(f"{call.name}: no uv on PATH; install it (pip install uv)")
    version = subprocess.run([uv, "--version"], capture_output=True, text=True, check=True).stdout
    shims = call.runner_temp / "uv-shims"
    shims.mkdir(exist_ok=True)
    for tool in ("uv", "uvx"):
        found = Path(uv).with_name(tool)
        if found.exists() and not (shims / tool).exists():
            (shims / tool).symlink_to(found)
    return ActionResult(outputs={"uv-version": version.split()[-1]}, path=[str(shims)])


def setup_python(call: StepCall) -> ActionResult:
    """actions/setup-python: each `python<version>` on PATH; the last one listed is `python`."""
    versions = str(call.inputs.get("python-version", "")).split()
    if not versions or not all(re.fullmatch(r"3\.\d+", v) for v in versions):
        raise WorkflowError(f"{call.name}: python-version {versions!r} is not one or more 3.N")
    shims = call.runner_temp / "python-shims"
    shims.mkdir(exist_ok=True)
    probe = BASE_PYTHON
    pyenv = Path(call.env.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    for version in versions:
        # PATH first, then a pyenv install (its shims run only the versions pyenv selects).
        candidates = [shutil.which(f"python{version}", path=call.env.get("PATH"))]
        candidates += [str(p) for p in sorted(pyenv.glob(f"{version}.*/bin/python{version}"))]
        real = None
        for found in filter(None, candidates):
            real = subprocess.run([found, "-c", probe], capture_output=True, text=True)
            if real.returncode == 0:
                break
        if real is None or real.returncode != 0:
            raise WorkflowError(f"{call.name}: no Python {version} on this machine; install it")
        aliases = [f"python{version}"]
        if version == versions[-1]:
            aliases += ["python", "python3"]
        for alias in aliases:
            link = shims / alias
            link.unlink(missing_ok=True)
            link.symlink_to(real.stdout.strip())
    return ActionResult(outputs={"python-version": versions[-1]}, path=[str(shims)])


def setup_terraform(call: StepCall) -> ActionResult:
    """hashicorp/setup-terraform: the terraform on PATH, of the minor version asked for."""
    terraform = shutil.which("terraform", path=call.env.get("PATH"))
    if terraform is None:
        raise WorkflowError(f"{call.name}: no terraform on PATH")
    out = subprocess.run(
        [terraform, "version", "-json"], capture_output=True, text=True, check=True
    )
    have = json.loads(out.stdout)["terraform_version"]
    wanted = str(call.inputs.get("terraform_version", "")).strip()
    if wanted and have.split(".")[:2] != wanted.split(".")[:2]:
        raise WorkflowError(f"{call.name}: asks for terraform {wanted}, this machine has {have}")
    return ActionResult(path=[str(Path(terraform).parent)])


def aws_credentials(aws: Any) -> Action:
    """aws-actions/configure-aws-credentials by OIDC: assume the role in the embedded AWS."""

    def configure(call: StepCall) -> ActionResult:
        if "aws-access-key-id" in call.inputs:
            raise WorkflowError(f"{call.name}: static access keys; use role-to-assume (OIDC)")
        role, region = call.inputs.get("role-to-assume"), call.inputs.get("aws-region")
        if not role or not region:
            raise WorkflowError(f"{call.name}: role-to-assume {role!r} and aws-region {region!r}")
        permissions = call.job.get("permissions") or {}
        if permissions.get("id-token") != "write":
            raise WorkflowError(
                f"{call.name}: OIDC needs `permissions: id-token: write` on the job"
            )
        sts = aws.client("sts")
        duration = int(call.inputs.get("role-duration-seconds", 3600))
        creds = sts.assume_role(
            RoleArn=role,
            RoleSessionName=str(call.inputs.get("role-session-name", "GitHubActions")),
            DurationSeconds=duration,
        )["Credentials"]
        env = {
            "AWS_ACCESS_KEY_ID": creds["AccessKeyId"],
            "AWS_SECRET_ACCESS_KEY": creds["SecretAccessKey"],
            "AWS_SESSION_TOKEN": creds["SessionToken"],
            "AWS_REGION": str(region),
            "AWS_DEFAULT_REGION": str(region),
            "AWS_ENDPOINT_URL": aws.endpoint_url,
        }
        return ActionResult(outputs={"aws-account-id": role.split(":")[4]}, env=env)

    return configure


def upload_artifact(store: Path) -> Action:
    """actions/upload-artifact: copy `path` into `store/<name>`."""

    def upload(call: StepCall) -> ActionResult:
        name = str(call.inputs.get("name") or "artifact")
        paths = [p for p in str(call.inputs.get("path", "")).splitlines() if p.strip()]
        if not paths:
            raise WorkflowError(f"{call.name}: upload-artifact needs a path")
        target = store / name
        target.mkdir(parents=True, exist_ok=True)
        for rel in paths:
            source = call.workspace / rel.strip()
            if not source.exists():
                if call.inputs.get("if-no-files-found", "warn") == "error":
                    raise WorkflowError(f"{call.name}: {rel} does not exist")
                continue
            copy = shutil.copytree if source.is_dir() else shutil.copy2
            copy(source, target / source.name)
        return ActionResult(outputs={"artifact-id": name})

    return upload


def stub(outputs: Mapping[str, str] | None = None) -> Action:
    """An explicit stand-in that does nothing but give `outputs`: the test names what it skips."""
    return lambda call: ActionResult(outputs=dict(outputs or {}))


def standard_actions(*, aws: Any = None, artifacts: Path | None = None) -> dict[str, Action]:
    """The equivalents every workflow test may use; AWS and artifacts only where given."""
    declared: dict[str, Action] = {
        "actions/checkout": checkout,
        "astral-sh/setup-uv": setup_uv,
        "actions/setup-python": setup_python,
        "hashicorp/setup-terraform": setup_terraform,
    }
    if aws is not None:
        declared["aws-actions/configure-aws-credentials"] = aws_credentials(aws)
    if artifacts is not None:
        declared["actions/upload-artifact"] = upload_artifact(artifacts)
    return declared
