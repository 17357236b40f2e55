"""`nox -s demo`: the suite's whole flow, offline, in one process.

An embedded AWS (moto's server on loopback) and a local GitHub double (real HTTP, real git) stand
in for the cloud. The demo plays each part in turn:

1. platform team: the SSM parameters and GitHub App secret the platform's Terraform writes;
2. project stack: CloudFormation's `Custom::` request to the clone-repo Lambda, which renders the
   repository with Copier and pushes it to GitHub;
3. data scientist: clones the repository, installs it, runs its SageMaker pipeline locally (the
   same step scripts and wiring as the pipeline definition) and registers the model;
4. approver: approves the model package; the model-approval Lambda sends `repository_dispatch`.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import yaml

from mlops_suite import names, rendering
from mlops_suite.local.aws import DEFAULT_ACCOUNT, EmbeddedAWS, embedded_aws, patched_environ
from mlops_suite.local.lambda_runtime import LocalContext, cfn_response_endpoint

DEFAULT_ANSWERS = rendering.SUITE_ROOT / "tests" / "answers" / "model-training-minimal.yml"
REVIEWERS = "platform-approvers"
RELEASE = "v0.0.0-demo"


def banner(text: str) -> None:
    print(f"\n=== {text} ===", flush=True)


def make_venv(repo: Path, venv: Path) -> Path:
    """Create a virtual environment for `repo` and install it; return its bin folder."""
    uv = shutil.which("uv") or shutil.which("uv", path=str(Path(sys.executable).parent))
    python = str(venv / "bin" / "python")
    if uv:
        subprocess.run([uv, "venv", "-q", str(venv)], check=True)
        subprocess.run(
            [uv, "pip", "install", "-q", "--python", python, "-e", str(repo)], check=True
        )
    else:
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([python, "-m", "pip", "install", "-q", "-e", str(repo)], check=True)
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
                "version": described.get("ModelPackageVersion", 1),
                "metrics": metrics,
            }
        )
    return report


def seed_platform(aws: EmbeddedAWS, gh: Any, org: str) -> None:
    """Write what the platform's Terraform publishes: SSM parameters and the GitHub App secret."""
    secret = aws.client("secretsmanager").create_secret(
        Name="mlops-suite/github-app",
        SecretString=json.dumps({"app_id": gh.app_id, "private_key": gh.app_private_key_pem}),
    )["ARN"]
    ssm = aws.client("ssm")
    for key, value in {
        "github_org": org,
        "github_app_secret_arn": secret,
        "github_prod_reviewer_team": REVIEWERS,
        "suite_git_url": names.load()["suite_git_url_default"],
        "suite_release": RELEASE,
    }.items():
        ssm.put_parameter(Name=names.ssm_parameter(key), Value=value, Type="String")
        print(f"ssm {names.ssm_parameter(key)} = {value if 'secret' not in key else '(arn)'}")


def create_repo(data: dict[str, Any], response_url: str) -> None:
    """Send the project stack's Create request to the clone-repo handler, as CloudFormation does."""
    from mlops_suite.handlers import clone_repo

    region = data["aws_region"]
    stack = f"arn:aws:cloudformation:{region}:{DEFAULT_ACCOUNT}:stack/demo-project/{uuid.uuid4()}"
    function = f"arn:aws:lambda:{region}:{DEFAULT_ACCOUNT}:function:mlops-suite-clone-repo"
    event = {
        "RequestType": "Create",
        "ServiceToken": function,
        "ResponseURL": response_url,
        "StackId": stack,
        "RequestId": str(uuid.uuid4()),
        "LogicalResourceId": "ModelBuildRepository",
        "ResourceType": "Custom::GitHubRepository",
        "ResourceProperties": {"ServiceToken": function, **{k: str(v) for k, v in data.items()}},
    }
    clone_repo.handler(event, LocalContext(function_name="mlops-suite-clone-repo"))


def git_clone(url: str, token: str, dst: Path) -> None:
    """Clone over HTTP with the token in a header, never in the URL."""
    basic = base64.b64encode(f"x-access-token:{token}".encode()).decode()
    subprocess.run(
        [
            "git",
            "-c",
            f"http.extraHeader=Authorization: Basic {basic}",
            "clone",
            "-q",
            url,
            str(dst),
        ],
        check=True,
    )


def approve_and_dispatch(aws: EmbeddedAWS, package: dict[str, Any], group: str) -> None:
    """Approve the package and hand EventBridge's state-change event to the trigger Lambda."""
    from mlops_suite.handlers import model_approval

    aws.client("sagemaker").update_model_package(
        ModelPackageArn=package["arn"],
        ModelApprovalStatus="Approved",
        ApprovalDescription="demo: metrics reviewed",
    )
    event = {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "SageMaker Model Package State Change",
        "source": "aws.sagemaker",
        "account": DEFAULT_ACCOUNT,
        "region": aws.region,
        "resources": [package["arn"]],
        "detail": {
            "ModelPackageGroupName": group,
            "ModelPackageVersion": package["version"],
            "ModelPackageArn": package["arn"],
            "ModelApprovalStatus": "Approved",
            "ModelPackageStatus": "Completed",
        },
    }
    model_approval.handler(event, LocalContext(function_name="mlops-suite-model-approval"))


def run(answers_file: Path, work: Path) -> dict[str, Any]:
    """Run the demo in `work`; return what it produced."""
    from mlops_suite.handlers import templates
    from mlops_suite.local.github_double import GitHubDouble

    data: dict[str, Any] = yaml.safe_load(answers_file.read_text(encoding="utf-8"))
    data.setdefault("aws_region", "eu-west-1")
    data["dev_account_id"] = DEFAULT_ACCOUNT  # the embedded AWS's account
    region, org = data["aws_region"], data["github_org"]
    with (
        ExitStack() as stack,
        embedded_aws(region) as aws,
        GitHubDouble(orgs=(org,), teams=(data["owner"], REVIEWERS)) as gh,
        cfn_response_endpoint() as catcher,
    ):
        banner("1. platform team: SSM parameters and GitHub App secret")
        seed_platform(aws, gh, org)
        templates.bundle(work / "lambda-template-tree")
        stack.enter_context(
            patched_environ(
                MLOPS_SUITE_TEMPLATE_DIR=str(work / "lambda-template-tree"),
                MLOPS_SUITE_GITHUB_API_URL=gh.url,
            )
        )

        banner(f"2. project stack: Custom::GitHubRepository ({data['repo_kind']}) -> clone-repo")
        create_repo(data, catcher.url)
        answer = catcher.wait()[-1]
        print(f"CloudFormation answer: {answer['Status']} {answer.get('Reason', '')}".rstrip())
        if answer["Status"] != "SUCCESS":
            raise SystemExit(f"demo failed: the clone-repo handler answered {answer}")
        full_name = answer["Data"]["FullName"]
        hosted = gh.repos[full_name]
        print(f"repository:    {answer['Data']['RepoUrl']} (private, branch {hosted.branches()})")
        print(f"variables:     {sorted(hosted.variables)}")
        print(f"environments:  {sorted(hosted.environments)}")

        banner("3. data scientist: clone, install, run the pipeline locally")
        repo = work / full_name.split("/")[1]
        git_clone(gh.clone_url(full_name), gh.token, repo)
        print(f"cloned into {repo}")
        bin_dir = make_venv(repo, work / "venv")
        sample = sorted((repo / "data").glob("*.csv"))[0]
        command = [str(bin_dir / "run-pipeline"), "--local", "--region", region]
        command += ["--input-data", str(sample), "--workdir", str(work / "jobs")]
        print("$ " + " ".join(command))
        env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
        subprocess.run(command, cwd=repo, env={**env, **aws.env}, check=True)

        group = names.pattern(
            "model_package_group",
            project_name=data.get("sagemaker_project_name", data["project_name"]),
            project_id=data["sagemaker_project_id"],
        )
        packages = registry_report(aws, group)
        if not packages:
            raise SystemExit(f"demo failed: no model package registered in group {group}")
        for package in packages:
            print(f"model package: {package['arn']}")
            print(f"status:        {package['status']}")
            print(f"metrics:       {json.dumps(package['metrics'])}")

        banner("4. approver: approve; EventBridge -> model-approval -> repository_dispatch")
        # A deployment template's stack names its deploy repository here; this project has only
        # the training repository, so the demo points the trigger at it.
        parameter = names.pattern(
            "project_deploy_repo_parameter", project_id=data["sagemaker_project_id"]
        )
        aws.client("ssm").put_parameter(Name=parameter, Value=full_name, Type="String")
        # The project's stack creates the group tagged for the project (the trigger acts only
        # on such groups); the local pipeline run made it untagged, so tag it as the stack would.
        sagemaker = aws.client("sagemaker")
        group_arn = sagemaker.describe_model_package_group(ModelPackageGroupName=group)[
            "ModelPackageGroupArn"
        ]
        sagemaker.add_tags(
            ResourceArn=group_arn,
            Tags=[{"Key": names.tag_key("project_id"), "Value": data["sagemaker_project_id"]}],
        )
        approve_and_dispatch(aws, packages[-1], group)
        dispatches = hosted.dispatches
        if not dispatches:
            raise SystemExit("demo failed: the approval sent no repository_dispatch")
        for dispatch in dispatches:
            print(f"repository_dispatch to {full_name}: {json.dumps(dispatch)}")
    return {"repo": str(repo), "packages": packages, "dispatches": dispatches}


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
    print(f"cloned repository: {result['repo']}")
    print(f"everything is under {work}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
