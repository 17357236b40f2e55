"""Print the local model server's p50/p95 latency and requests per second for the sample payload,
and the wall time of the deploy workflow's steps that run on this machine.

Renders the realtime-inference kind (first answer set) from a snapshot of this suite, trains a
small XGBoost model in model-training's artifact format, starts `serve-local` on loopback as its
own process and sends the shipped sample payload (CSV and JSON) sequentially and from parallel
clients. The deploy workflow's local part is the event check (`deploy-release check-event`) and
the smoke test (`deploy-smoke --url`) against that server; plan and apply need AWS.

Usage: python benchmarks/inference_server.py [--requests N] [--clients N]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import yaml

from mlops_suite import rendering

ROOT = rendering.SUITE_ROOT
KIND = "realtime-inference"


def render(dst: Path) -> dict[str, Any]:
    answers_file = sorted((ROOT / "tests" / "answers").glob(f"{KIND}*.yml"))[0]
    answers: dict[str, Any] = yaml.safe_load(answers_file.read_text(encoding="utf-8"))
    suite = rendering.snapshot(dst.parent / "suite")
    return rendering.render(dst, answers, template=str(suite))


def train(repo: Path, out: Path) -> Path:
    """model.tar.gz with `xgboost-model`, as model-training's local run writes it."""
    import pandas as pd
    import xgboost as xgb

    data = pd.read_csv(repo / "data" / "breast_cancer.csv")
    matrix = xgb.DMatrix(data.drop(columns=["malignant"]), label=data["malignant"])
    params = {"objective": "binary:logistic", "max_depth": 4, "eta": 0.2, "seed": 42}
    booster = xgb.train(params, matrix, num_boost_round=200)
    booster.save_model(str(out / "xgboost-model.ubj"))
    (out / "xgboost-model.ubj").replace(out / "xgboost-model")
    with tarfile.open(out / "model.tar.gz", "w:gz") as tar:
        tar.add(out / "xgboost-model", arcname="xgboost-model")
    return out / "model.tar.gz"


def post(url: str, body: bytes, content_type: str) -> float:
    request = urllib.request.Request(  # noqa: S310 - loopback server started here
        f"{url}/invocations", data=body, headers={"Content-Type": content_type}
    )
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        response.read()
    return (time.perf_counter() - started) * 1000


def measure(url: str, body: bytes, content_type: str, requests: int, clients: int) -> str:
    for _ in range(10):
        post(url, body, content_type)  # warm-up
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        latencies = sorted(pool.map(lambda _: post(url, body, content_type), range(requests)))
    wall = time.perf_counter() - started
    p50 = statistics.median(latencies)
    p95 = latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))]
    return (
        f"{content_type:<17} clients {clients:>2}: p50 {p50:6.2f} ms  p95 {p95:6.2f} ms  "
        f"{requests / wall:7.1f} req/s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--clients", type=int, default=4)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-serve-"))
    repo = work / "repo"
    recorded = render(repo)
    module = str(recorded.get("module_name") or recorded["project_name"].replace("-", "_"))
    model = train(repo, work)
    env = {**os.environ, "PYTHONPATH": str(repo / "src")}
    server = subprocess.Popen(
        [sys.executable, "-m", f"{module}.serve", "--model", str(model), "--port", "0"],
        stdout=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    try:
        assert server.stdout is not None
        match = re.search(r"http://127\.0\.0\.1:(\d+)", server.stdout.readline())
        if not match:
            raise SystemExit("serve-local did not start")
        url = f"http://127.0.0.1:{match.group(1)}"
        rows = (repo / "data" / "sample-payload.csv").read_bytes()
        instances = [[float(v) for v in r.split(",")] for r in rows.decode().splitlines() if r]
        print(f"serve-local, {len(instances)} rows per request, {args.requests} requests:")
        for clients in (1, args.clients):
            print("  " + measure(url, rows, "text/csv", args.requests, clients))
            body = json.dumps({"instances": instances}).encode()
            print("  " + measure(url, body, "application/json", args.requests, clients))
        event = work / "event.json"
        event.write_text(json.dumps({
            "action": "model-approved",
            "repository": {"fork": False, "full_name": f"{recorded['github_org']}/x",
                           "owner": {"login": recorded["github_org"]}},
            "client_payload": {
                "model_package_arn": f"arn:aws:sagemaker:{recorded['aws_region']}:"
                f"{recorded['dev_account_id']}:model-package/"
                f"{recorded['sagemaker_project_name']}-{recorded['sagemaker_project_id']}/1",
                "model_package_group_name":
                    f"{recorded['sagemaker_project_name']}-{recorded['sagemaker_project_id']}",
                "model_package_version": 1,
                "sagemaker_project_id": recorded["sagemaker_project_id"],
                "region": recorded["aws_region"], "account": recorded["dev_account_id"],
            },
        }))  # fmt: skip
        started = time.perf_counter()
        for step in (
            ["-c", f"import sys; from {module}.release import main; sys.exit(main(sys.argv[1:]))",
             "check-event", "--event-name", "repository_dispatch", "--event-path", str(event)],
            ["-c", f"import sys; from {module}.smoke import main; sys.exit(main(sys.argv[1:]))",
             "--url", url, "--payload", str(repo / "data" / "sample-payload.csv")],
        ):  # fmt: skip
            subprocess.run([sys.executable, *step], check=True, env=env, cwd=repo,
                           capture_output=True)  # fmt: skip
        print(
            f"deploy workflow, local steps (check-event, smoke test): "
            f"{time.perf_counter() - started:.2f} s"
        )
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
