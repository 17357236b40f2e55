"""Rendered repositories on the GitHub double, cloned back as a runner's workspace."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from mlops_suite import rendering
from mlops_suite.local.aws import EmbeddedAWS, embedded_aws
from mlops_suite.local.github_double import GitHubDouble
from mlops_suite.local.workflow_harness import Context

ANSWERS = rendering.SUITE_ROOT / "tests" / "answers"
SUITE_URL = "https://github.com/my-org/mlops-suite.git"  # the canonical URL answers files record
GIT = ["git", "-c", "user.name=t", "-c", "user.email=t@localhost"]


def git(cwd: Path, *args: str, env: dict[str, str] | None = None) -> str:
    proc = subprocess.run(
        [*GIT, *args], cwd=cwd, capture_output=True, text=True, env=env, check=False
    )
    assert proc.returncode == 0, f"git {' '.join(args)} failed in {cwd}:\n{proc.stderr}"
    return proc.stdout


def tool_path() -> str:
    """PATH with this interpreter's scripts (uv, nox, copier) first, as a runner's setup gives."""
    return os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])


def token_env(double: GitHubDouble) -> dict[str, str]:
    """Git configuration that authenticates to the double as actions/checkout would."""
    header = base64.b64encode(f"x-access-token:{double.token}".encode()).decode()
    return {
        **os.environ,
        "GIT_CONFIG_COUNT": "1",
        "GIT_CONFIG_KEY_0": "http.extraheader",
        "GIT_CONFIG_VALUE_0": f"AUTHORIZATION: basic {header}",
    }


@dataclass
class HostedRepo:
    """A rendered repository pushed to the double and cloned back as the workspace."""

    double: GitHubDouble
    full_name: str
    workspace: Path
    suite: Path

    def context(self, **kwargs: object) -> Context:
        """A Context for this repository on the double, with the suite URL rewritten locally."""
        env = {
            "PATH": tool_path(),
            # The answers file names the canonical suite URL; git fetches it from the local
            # suite instead, exactly as a runner would fetch it from GitHub.
            "GIT_CONFIG_COUNT": "1",
            "GIT_CONFIG_KEY_0": f"url.{self.suite.as_uri()}.insteadOf",
            "GIT_CONFIG_VALUE_0": SUITE_URL,
        }
        defaults: dict[str, object] = {
            "repository": self.full_name,
            "server_url": self.double.url,
            "api_url": self.double.url,
            "token": self.double.token,
            "env": env,
        }
        return Context(**{**defaults, **kwargs})  # type: ignore[arg-type]

    def push_main(self) -> None:
        """Push the workspace's main branch to the double."""
        git(
            self.workspace,
            "push",
            "-q",
            "origin",
            "HEAD:refs/heads/main",
            env=token_env(self.double),
        )


def host_render(
    double: GitHubDouble, tmp_path: Path, answers: str, *, suite_tag: str = "v1.0.0"
) -> HostedRepo:
    """Snapshot the suite (tagged), render `answers` at that tag, push it to the double, clone."""
    suite = rendering.snapshot(tmp_path / "suite", tag=suite_tag)
    data = yaml.safe_load((ANSWERS / f"{answers}.yml").read_text(encoding="utf-8"))
    rendered = tmp_path / "rendered"
    rendering.render(rendered, data, template=str(suite), vcs_ref=suite_tag, src_url=SUITE_URL)
    git(rendered, "init", "-q", "-b", "main")
    git(rendered, "add", "-A")
    git(rendered, "commit", "-q", "-m", "Rendered by mlops-suite")
    repo = double.add_repo(data["github_org"], data["project_name"])
    url = double.clone_url(repo.full_name)
    git(rendered, "push", "-q", url, "HEAD:refs/heads/main", env=token_env(double))
    workspace = tmp_path / "workspace"
    git(tmp_path, "clone", "-q", url, str(workspace), env=token_env(double))
    return HostedRepo(double, repo.full_name, workspace, suite)


@pytest.fixture
def github() -> Iterator[GitHubDouble]:
    """The GitHub double, failing the test on any call it does not implement."""
    with GitHubDouble(orgs=("my-org",)) as gh:
        yield gh
        assert not gh.unrouted, f"calls the double does not implement: {gh.unrouted}"


@contextmanager
def fresh_aws() -> Iterator[EmbeddedAWS]:
    """The embedded AWS with moto's in-process state reset (its backends outlive a server)."""
    with embedded_aws(patch_environ=False) as aws:
        reset = f"{aws.endpoint_url}/moto-api/reset"  # loopback http URL of moto
        request = urllib.request.Request(reset, method="POST")  # noqa: S310
        with urllib.request.urlopen(request, timeout=10):  # noqa: S310
            pass
        yield aws
