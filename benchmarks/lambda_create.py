"""Print the clone-repo Lambda's Create wall time against the GitHub double, cold and warm,
a render / create / push / settings breakdown, and the artifact's size when it has been built.

Cold: a fresh Python process imports the entry point and serves one Create (module imports,
questionnaire load, render, App token, publish, response). Warm: further Creates in one process.
AWS is moto's server on loopback; GitHub is the double (real HTTP, real git).

Usage: python benchmarks/lambda_create.py [--runs N]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from mlops_suite import names, rendering
from mlops_suite.handlers import templates
from mlops_suite.local.aws import embedded_aws
from mlops_suite.local.github_double import GitHubDouble

ROOT = rendering.SUITE_ROOT
EVENT = ROOT / "tests" / "events" / "clone-repo-create.json"
ARTIFACT = ROOT / "build" / "lambda" / "mlops-suite-lambda.zip"
BUNDLED = ROOT / "build" / "lambda" / "pkg" / "mlops_suite" / "_suite"
COLD = """
import json, sys, time
t0 = time.perf_counter()
from mlops_suite.handlers import clone_repo
class Context:
    def get_remaining_time_in_millis(self): return 300_000
sent = clone_repo.handler(json.loads(sys.argv[1]), Context())
print(json.dumps({"seconds": time.perf_counter() - t0, "status": sent and sent["Status"]}))
"""


class _Sink(BaseHTTPRequestHandler):
    def do_PUT(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


def event(response_url: str, repo_name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(EVENT.read_text(encoding="utf-8"))
    data["ResponseURL"] = response_url
    data["ResourceProperties"]["repo_name"] = repo_name
    return data


def configure(aws: Any, gh: GitHubDouble) -> None:
    secret = {"app_id": gh.app_id, "private_key": gh.app_private_key_pem}
    arn = aws.client("secretsmanager").create_secret(
        Name="mlops-suite/github-app", SecretString=json.dumps(secret)
    )["ARN"]
    params = {
        "github_org": "my-org",
        "github_app_secret_arn": arn,
        "github_prod_reviewer_team": "platform-approvers",
        "suite_git_url": "https://github.com/example/mlops-suite.git",
        "suite_release": "v1.0.0",
    }
    for key, value in params.items():
        aws.client("ssm").put_parameter(Name=names.ssm_parameter(key), Value=value, Type="String")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5, help="warm Creates to time")
    args = parser.parse_args()

    sink = ThreadingHTTPServer(("127.0.0.1", 0), _Sink)
    threading.Thread(target=sink.serve_forever, args=(0.05,), daemon=True).start()
    response_url = f"http://127.0.0.1:{sink.server_address[1]}/response"
    with (
        tempfile.TemporaryDirectory() as tmp,
        embedded_aws("eu-west-1") as aws,
        GitHubDouble(orgs=("my-org",), teams=("ml-team", "platform-approvers")) as gh,
    ):
        tree = BUNDLED if (BUNDLED / "copier.yml").is_file() else Path(tmp) / "_suite"
        if tree != BUNDLED:
            templates.bundle(tree)
        configure(aws, gh)
        os.environ.update(
            MLOPS_SUITE_GITHUB_API_URL=gh.url,
            MLOPS_SUITE_TEMPLATE_DIR=str(tree),
        )
        print(f"template tree: {tree}")

        cold_out = subprocess.run(
            [sys.executable, "-c", COLD, json.dumps(event(response_url, "bench-cold"))],
            capture_output=True, text=True, env=os.environ.copy(), check=True,
        )  # fmt: skip
        cold = json.loads(cold_out.stdout.strip().splitlines()[-1])
        if cold["status"] != "SUCCESS":
            raise SystemExit(f"cold Create failed: {cold_out.stderr[-2000:]}")

        from mlops_suite.handlers import clone_repo

        class Context:
            def get_remaining_time_in_millis(self) -> int:
                return 300_000

        first = time.perf_counter()
        clone_repo.handler(event(response_url, "bench-warmup"), Context())
        first_in_process = time.perf_counter() - first
        warm: list[float] = []
        for i in range(args.runs):
            t0 = time.perf_counter()
            sent = clone_repo.handler(event(response_url, f"bench-warm-{i}"), Context())
            warm.append(time.perf_counter() - t0)
            if sent is None or sent["Status"] != "SUCCESS":
                raise SystemExit(f"warm Create failed: {sent}")

        breakdown = _breakdown(tree, gh, Path(tmp))

    print(f"Create, cold (fresh process, imports included): {cold['seconds'] * 1000:8.0f} ms")
    print(f"Create, first in a warm interpreter:            {first_in_process * 1000:8.0f} ms")
    print(
        f"Create, warm (n={len(warm)}): median {statistics.median(warm) * 1000:.0f} ms, "
        f"min {min(warm) * 1000:.0f} ms, max {max(warm) * 1000:.0f} ms"
    )
    print("breakdown of one warm Create:")
    for step, seconds in breakdown.items():
        print(f"  {step:<28} {seconds * 1000:8.0f} ms")
    if ARTIFACT.is_file():
        print(f"artifact {ARTIFACT.relative_to(ROOT)}: {ARTIFACT.stat().st_size / 2**20:.1f} MiB")
    else:
        print("artifact: not built (run `nox -s lambda_package`)")
    return 0


def _breakdown(tree: Path, gh: GitHubDouble, tmp: Path) -> dict[str, float]:
    """Time the Create's parts directly: render, App token, create repo, push, settings."""
    from mlops_suite.github.client import Credentials, GitHubClient
    from mlops_suite.github.publish import publish
    from mlops_suite.handlers.clone_repo_flow import repo_spec
    from mlops_suite.handlers.config import load_settings
    from mlops_suite.handlers.resource import repo_request

    props = event("http://unused", "bench-breakdown")["ResourceProperties"]
    settings = load_settings()
    req = repo_request(props, rendering.questionnaire(tree), github_org=settings.github_org)
    t0 = time.perf_counter()
    answers = rendering.render(
        tmp / "breakdown", req.answers, template=tree, vcs_ref=None,
        src_url=settings.suite_git_url, commit=settings.suite_release,
    )  # fmt: skip
    rendered = time.perf_counter() - t0
    t0 = time.perf_counter()
    creds = Credentials(app_id=gh.app_id, private_key=gh.app_private_key_pem)
    token = creds.token_for("my-org", base_url=gh.url)
    authenticated = time.perf_counter() - t0
    with GitHubClient(token, base_url=gh.url) as client:
        result = publish(
            client, repo_spec(req, answers, settings), tmp / "breakdown", token,
            message="benchmark", author="bench <bench@localhost>",
        )  # fmt: skip
    return {
        "render (Copier)": rendered,
        "App installation token": authenticated,
        "create repo + topics": result.timings["create"],
        "push first commit (git)": result.timings["push"],
        "settings (env, vars, prot.)": result.timings["settings"],
    }


if __name__ == "__main__":
    raise SystemExit(main())
