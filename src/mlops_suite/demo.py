"""`nox -s demo`: the suite's flow, offline, against an embedded AWS (moto).

Renders a repository kind, installs it in its own virtual environment, runs its SageMaker pipeline
locally (the same step scripts and wiring as the pipeline definition), and shows what landed in the
model registry.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

from mlops_suite import rendering
from mlops_suite.local.aws import EmbeddedAWS, embedded_aws

DEFAULT_ANSWERS = rendering.SUITE_ROOT / "tests" / "answers" / "model-training-minimal.yml"


def banner(text: str) -> None:
    print(f"\n=== {text} ===", flush=True)


def make_venv(repo: Path, venv: Path) -> Path:
    """Create a virtual environment for `repo` and install it; return its bin folder."""
    uv = shutil.which("uv") or shutil.which("uv", path=str(Path(sys.executable).parent))
    if uv:
        subprocess.run([uv, "venv", "-q", str(venv)], check=True)
        subprocess.run(
            [uv, "pip", "install", "-q", "--python", str(venv / "bin" / "python"), "-e", str(repo)],
            check=True,
        )
    else:
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "-e", str(repo)], check=True)
    return venv / "bin"


def registry_report(aws: EmbeddedAWS, group: str) -> list[dict[str, Any]]:
    """Return the model packages of `group` with status and evaluation metrics."""
    sagemaker, s3 = aws.client("sagemaker"), aws.client("s3")
    packages = sagemaker.list_model_packages(ModelPackageGroupName=group)["ModelPackageSummaryList"]
    report = []
    for summary in packages:
        described = sagemaker.describe_model_package(ModelPackageName=summary["ModelPackageArn"])
        stats = described.get("ModelMetrics", {}).get("ModelQuality", {}).get("Statistics", {})
        metrics: Any = None
        if uri := stats.get("S3Uri"):
            bucket, _, key = uri.removeprefix("s3://").partition("/")
            metrics = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
        report.append(
            {
                "arn": described["ModelPackageArn"],
                "status": described["ModelApprovalStatus"],
                "metrics": metrics,
            }
        )
    return report


def run(answers_file: Path, work: Path) -> dict[str, Any]:
    """Run the demo in `work`; return what it produced."""
    data = yaml.safe_load(answers_file.read_text(encoding="utf-8"))
    region = str(data.get("aws_region", "eu-west-1"))
    with embedded_aws(region) as aws:
        banner(f"1. render {data['repo_kind']} from a snapshot of the suite")
        suite = rendering.snapshot(work / "suite", tag="v0.0.0-demo")
        repo = work / str(data["project_name"])
        answers = rendering.render(repo, data, template=str(suite), vcs_ref="v0.0.0-demo")
        print(f"rendered {repo} (suite {answers['_commit']})")

        banner("2. install the rendered repository in its own virtual environment")
        bin_dir = make_venv(repo, work / "venv")
        print(f"installed into {bin_dir.parent}")

        banner("3. run the pipeline locally against the embedded AWS")
        env = {**_clean_env(), **aws.env}
        sample = sorted((repo / "data").glob("*.csv"))[0]
        command = [str(bin_dir / "run-pipeline"), "--local", "--region", region]
        command += ["--input-data", str(sample), "--workdir", str(work / "jobs")]
        print("$ " + " ".join(command[0:1] + command[1:]))
        subprocess.run(
            command,
            cwd=repo,
            env=env,
            check=True,
        )

        banner("4. model registry")
        group = f"{answers['sagemaker_project_name']}-{answers['sagemaker_project_id']}"
        packages = registry_report(aws, group)
        if not packages:
            raise SystemExit(f"demo failed: no model package registered in group {group}")
        for package in packages:
            print(f"model package: {package['arn']}")
            print(f"status:        {package['status']}")
            print(f"metrics:       {json.dumps(package['metrics'])}")
    return {"repo": str(repo), "packages": packages}


def _clean_env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mlops_suite.demo", description=__doc__)
    parser.add_argument("--answers", type=Path, default=DEFAULT_ANSWERS, help="Copier answers YAML")
    parser.add_argument(
        "--workdir", type=Path, help="keep everything here (default: a temp folder)"
    )
    args = parser.parse_args(argv)
    work = args.workdir or Path(tempfile.mkdtemp(prefix="mlops-suite-demo-"))
    work.mkdir(parents=True, exist_ok=True)
    result = run(args.answers, work)
    banner("done")
    print(f"repository: {result['repo']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
