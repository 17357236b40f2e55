"""The deploy repository's deploy workflow, job by job, through the workflow harness.

Each job gets a fresh clone of the repository from the GitHub double (as each GitHub job gets a
fresh checkout), the repository's variables and its environment's, and the event the trigger's
`repository_dispatch` produced. `uses:` steps run through the harness's declared equivalents
(configure-aws-credentials assumes the environment's role in the embedded AWS); `run:` steps run
as written: `deploy-release`, `deploy-terraform` (real Terraform against moto, with the AWS
provider from a local mirror) and `deploy-smoke`.
"""

from __future__ import annotations

import base64
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlops_suite.local.workflow_actions import standard_actions
from mlops_suite.local.workflow_harness import Context, JobResult, needs_entry, run_job

PROVIDER_MIRROR = Path(os.environ.get("TF_PLUGIN_MIRROR", "/opt/tf-plugins"))


class DeployUnavailable(RuntimeError):
    """This machine cannot run the deploy workflow's Terraform; the message says what is missing."""


# What the realtime kind's Terraform uses that moto 5.2.5 cannot serve (the apply waits forever
# on it): application autoscaling targets of endpoint variants, composite alarms, monitoring
# schedules. The demo's project configures its deploy repository the way the kind allows without
# them (serverless endpoints, monitoring off), in a commit on main, and the summary says so.
MOTO_SETTINGS = {
    "realtime-inference": (
        "serverless endpoints and model monitoring off (moto serves no endpoint autoscaling, "
        "composite alarms or monitoring schedules)"
    ),
}
SERVERLESS = (
    "endpoint = {\n  serverless = {\n    memory_size_in_mb = 2048\n    max_concurrency   = 5\n"
    "  }\n}"
)


def configure_for_moto(repo: Path, kind: str, token: str) -> str | None:
    """Commit the settings moto needs to the deploy repository's main; return what changed."""
    if kind not in MOTO_SETTINGS:
        return None
    for env in ("preprod", "prod"):
        path = repo / "deploy" / "environments" / f"{env}.tfvars"
        text = re.sub(r"(?ms)^endpoint = \{.*?^\}", SERVERLESS, path.read_text(encoding="utf-8"))
        text = re.sub(r"(?m)^(\s*enabled\s*=\s*)true", r"\1false", text)
        path.write_text(text, encoding="utf-8")
    basic = base64.b64encode(f"x-access-token:{token}".encode()).decode()
    git = ["git", "-c", "user.name=demo", "-c", "user.email=demo@localhost",
           "-c", f"http.extraHeader=Authorization: Basic {basic}"]  # fmt: skip
    subprocess.run([*git, "commit", "-qam", f"deploy: {MOTO_SETTINGS[kind]}"], cwd=repo, check=True)
    subprocess.run([*git, "push", "-q", "origin", "HEAD:main"], cwd=repo, check=True)
    return MOTO_SETTINGS[kind]


def terraform_env(work: Path) -> dict[str, str]:
    """Terraform for the deploy jobs: the AWS provider from the local mirror where there is one
    (else Terraform's registry), the state backend on moto's S3."""
    if shutil.which("terraform") is None:
        raise DeployUnavailable("terraform is not on PATH (install Terraform 1.11)")
    env = {
        "TF_IN_AUTOMATION": "1",
        # moto serves S3 on one loopback host: the state backend must use path-style URLs.
        "TF_CLI_ARGS_init": "-backend-config=use_path_style=true",
    }
    if (PROVIDER_MIRROR / "registry.terraform.io" / "hashicorp" / "aws").is_dir():
        rc = work / "terraformrc"
        rc.write_text(
            "provider_installation {\n"
            f'  filesystem_mirror {{\n    path = "{PROVIDER_MIRROR}"\n'
            '    include = ["registry.terraform.io/*/*"]\n  }\n'
            '  direct {\n    exclude = ["registry.terraform.io/*/*"]\n  }\n}\n',
            encoding="utf-8",
        )
        env["TF_CLI_CONFIG_FILE"] = str(rc)
    return env


def clone(url: str, token: str, dst: Path) -> Path:
    """Clone over HTTP with the token in a header, never in the URL."""
    basic = base64.b64encode(f"x-access-token:{token}".encode()).decode()
    header = f"http.extraHeader=Authorization: Basic {basic}"
    subprocess.run(["git", "-c", header, "clone", "-q", url, str(dst)], check=True)
    return dst


@dataclass
class DeployRun:
    """The deploy workflow's jobs for one dispatch."""

    gh: Any
    aws: Any  # EmbeddedAWS: configure-aws-credentials assumes roles through it
    full_name: str
    work: Path
    event: dict[str, Any]
    env: dict[str, str]
    timeout_s: float = 300.0

    def workflow(self, workspace: Path) -> Path:
        return workspace / ".github" / "workflows" / "deploy.yml"

    def variables(self, environment: str | None) -> dict[str, str]:
        """What `vars` holds in a job: the repository's variables and its environment's."""
        hosted = self.gh.repos[self.full_name]
        values = dict(hosted.variables)
        if environment:
            values.update(hosted.environment_variables.get(environment, {}))
        return values

    def job(self, job_id: str, needs: dict[str, JobResult]) -> tuple[JobResult, Path]:
        """Run `job_id` in a fresh checkout; JobFailed names the step that failed."""
        workspace = clone(
            self.gh.clone_url(self.full_name), self.gh.token, self.work / f"deploy-{job_id}"
        )
        spec = _job_spec(self.workflow(workspace), job_id)
        context = Context(
            event_name="repository_dispatch",
            event=self.event,
            vars=self.variables(spec.get("environment")),
            repository=self.full_name,
            server_url=self.gh.url,
            api_url=self.gh.url,
            token=self.gh.token,
            env=self.env,
            needs={name: needs_entry(result) for name, result in needs.items()},
        )
        result = run_job(
            self.workflow(workspace),
            job_id,
            workspace=workspace,
            context=context,
            actions=standard_actions(aws=self.aws),
            timeout=self.timeout_s,
        )
        return result, workspace


def _job_spec(workflow: Path, job_id: str) -> dict[str, Any]:
    from mlops_suite.local.workflow_harness import load_workflow

    job: dict[str, Any] = load_workflow(workflow)["jobs"][job_id]
    return job


def dispatch_event(dispatch: dict[str, Any], full_name: str, owner_id: int) -> dict[str, Any]:
    """The `github.event` of a repository_dispatch run, as GitHub builds it."""
    owner = full_name.split("/")[0]
    return {
        "action": dispatch["event_type"],
        "client_payload": dispatch["client_payload"],
        "repository": {
            "full_name": full_name,
            "fork": False,
            "owner": {"login": owner, "id": owner_id},
        },
    }


def tool_env() -> dict[str, str]:
    """PATH with this interpreter's scripts (uv) first, as a runner's tool setup gives."""
    return {"PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]])}


def prod_review(gh: Any, full_name: str, approve: Callable[[str], None]) -> str:
    """The review GitHub asks for before the prod job: name the team; refuse without one."""
    settings = gh.repos[full_name].environments.get("prod", {})
    teams = [
        gh.team_by_id(r["id"]).slug
        for r in settings.get("reviewers", [])
        if r.get("type") == "Team"
    ]
    if not teams or not settings.get("prevent_self_review"):
        raise RuntimeError(
            f"environment prod of {full_name} has no required reviewer team with self-review "
            f"prevented ({settings}): the deploy would not wait for an approver"
        )
    approve(str(teams[0]))
    return str(teams[0])


def module_name(repo: Path) -> str:
    """The repository's Python package: the one package under src/."""
    (package,) = [p.name for p in (repo / "src").iterdir() if (p / "__init__.py").is_file()]
    return package
