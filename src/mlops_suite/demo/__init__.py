"""`nox -s demo`: the platform's whole flow, offline, across three accounts.

An embedded AWS (moto's server on loopback) holds the dev, preprod and prod accounts, reached by
assumed roles; a local GitHub double (real HTTP, real git) holds the repositories. Stages:

1. platform: the bootstrap stack in each account, then the platform's published values;
2. project: the "model building, training and deployment" project template as a CloudFormation
   stack in dev, whose repository resources the real clone-repo handler answers (training and
   deploy repositories on the double), and the project's deploy roles in preprod and prod;
3. training: the training repository cloned, installed, its pipeline run locally; a model
   package lands in the dev registry;
4. approval: an approver approves it; the project's EventBridge rule matches the event and the
   real trigger Lambda sends `repository_dispatch` to the deploy repository;
5. preprod, 6. prod: the deploy repository's deploy workflow through the workflow harness, prod
   after the review a reviewer of the prod environment gives.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any, cast

from mlops_suite import cfn_yaml, kinds, names, rendering
from mlops_suite.demo import deploy, platform, report, seams
from mlops_suite.demo.accounts import ACCOUNT_IDS, Accounts, Credentials
from mlops_suite.local.aws import embedded_aws, patched_environ
from mlops_suite.local.lambda_runtime import LocalContext

DEPLOYMENTS = {"realtime": "realtime-inference", "batch": "batch-inference"}
PROJECT_TEMPLATE = (
    rendering.SUITE_ROOT / "project-templates" / "model-building-training-deployment.yaml"
)
REGION = "eu-west-1"
ORG = "acme-ml"
OWNER = "ml-team"
PROJECT = {"SageMakerProjectName": "churn", "SageMakerProjectId": "p-demo00000001"}
PROJECT_NAME = "churn-model"
STAGES = {
    "platform": "bootstrap stack in each account, the platform's SSM values and Lambdas",
    "project": "project stack in dev; clone-repo creates the repositories; deploy roles",
    "training": "clone the training repository, install it, run its pipeline locally",
    "approval": "approve the package; EventBridge rule -> trigger Lambda -> repository_dispatch",
    "preprod": "deploy workflow: check the event, deploy to preprod, smoke test",
    "prod": "a prod reviewer approves; deploy workflow: deploy to prod, smoke test",
}


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


def in_lambda(creds: Callable[[], Credentials], handler: Callable[..., Any]) -> Callable[..., Any]:
    """Run `handler` as Lambda would: with its role's credentials in the environment."""

    def invoke(event: dict[str, Any], context: Any) -> Any:
        with patched_environ(**creds().env()):
            return handler(event, context)

    return invoke


def package_report(sagemaker: Any, group: str) -> list[dict[str, Any]]:
    """The packages of `group` with status and the model artifact."""
    summaries = sagemaker.list_model_packages(ModelPackageGroupName=group)[
        "ModelPackageSummaryList"
    ]
    found = []
    for summary in summaries:
        described = sagemaker.describe_model_package(ModelPackageName=summary["ModelPackageArn"])
        container = described["InferenceSpecification"]["Containers"][0]
        found.append(
            {
                "arn": described["ModelPackageArn"],
                "status": described["ModelApprovalStatus"],
                "version": described.get("ModelPackageVersion", 1),
                "model_data_url": container.get("ModelDataUrl", ""),
            }
        )
    return found


@contextmanager
def local_model_server(bin_dir: Path, model: Path) -> Iterator[str]:
    """`serve-local` of the deploy repository on a free port; yields its URL."""
    proc = subprocess.Popen(
        [str(bin_dir / "serve-local"), "--model", str(model), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if "serving" not in line:
            raise RuntimeError(f"serve-local did not start: {line}{proc.stdout.read()[-2000:]}")
        yield line.strip().rsplit(" ", 1)[-1]
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def holdings(
    accounts: Accounts, creds: Credentials, env: str, kind: str, prefix: str
) -> dict[str, Any]:
    """What the account holds of the project's deployment, read back with boto3."""
    sagemaker = accounts.client(creds, "sagemaker")
    out: dict[str, Any] = {"account": accounts.ids[env]}
    if kind == "realtime-inference":
        endpoints = [
            e for e in sagemaker.list_endpoints()["Endpoints"]
            if e["EndpointName"].startswith(prefix)
        ]  # fmt: skip
        out["endpoints"] = {}
        for endpoint in endpoints:
            described = sagemaker.describe_endpoint(EndpointName=endpoint["EndpointName"])
            config = sagemaker.describe_endpoint_config(
                EndpointConfigName=described["EndpointConfigName"]
            )
            model = sagemaker.describe_model(ModelName=config["ProductionVariants"][0]["ModelName"])
            out["endpoints"][endpoint["EndpointName"]] = {
                "status": described["EndpointStatus"],
                "model_package": model["PrimaryContainer"].get("ModelPackageName", ""),
            }
        out["summary"] = (
            ", ".join(f"endpoint {n} {e['status']}" for n, e in out["endpoints"].items())
            or "no endpoint"
        )
    else:
        pipelines = [
            p["PipelineName"] for p in sagemaker.list_pipelines()["PipelineSummaries"]
            if p["PipelineName"].startswith(prefix)
        ]  # fmt: skip
        out["pipelines"] = {}
        for name in pipelines:
            executions = sagemaker.list_pipeline_executions(PipelineName=name)[
                "PipelineExecutionSummaries"
            ]
            out["pipelines"][name] = {
                "executions": [e["PipelineExecutionStatus"] for e in executions]
            }
        out["summary"] = (
            ", ".join(
                f"pipeline {n} ({len(p['executions'])} runs)" for n, p in out["pipelines"].items()
            )
            or "no pipeline"
        )
    return out


def run(
    work: Path,
    deployment: str = "realtime",
    progress: report.Progress | None = None,
    inspect: Callable[[Accounts, Any], None] | None = None,
) -> dict[str, Any]:
    """Run every stage in `work`; return what each account holds afterwards.

    `inspect(accounts, github_double)` is called after the last stage, before the embedded AWS
    and the GitHub double stop (tests read them back there).
    """
    from mlops_suite.handlers import clone_repo, model_approval, templates
    from mlops_suite.local import cloudformation
    from mlops_suite.local.github_double import GitHubDouble

    kind = DEPLOYMENTS[deployment]
    progress = progress or report.Progress()
    project_id = PROJECT["SageMakerProjectId"]
    group = names.pattern(
        "model_package_group", project_name=PROJECT["SageMakerProjectName"], project_id=project_id
    )
    result: dict[str, Any] = {"deployment": kind, "work": str(work), "times": progress.times}
    registry = cloudformation.CustomResources()
    with ExitStack() as stack:
        aws = stack.enter_context(embedded_aws(REGION))
        # moto's backends are process-wide: start from empty accounts on every run.
        reset = urllib.request.Request(f"{aws.endpoint_url}/moto-api/reset", method="POST")  # noqa: S310
        urllib.request.urlopen(reset, timeout=30).close()  # noqa: S310 - loopback moto
        cloudformation.GROUP_POLICIES.clear()
        accounts = Accounts(aws, dict(ACCOUNT_IDS))
        gh = stack.enter_context(GitHubDouble(orgs=(ORG,), teams=(OWNER, platform.REVIEWERS)))
        stack.enter_context(cloudformation.in_process_custom_resources(registry))
        stack.enter_context(seams.conditional_denies_unjudged())
        stack.enter_context(seams.registry_shared_by_policy(cloudformation.GROUP_POLICIES))

        with progress.stage("platform", STAGES["platform"]):
            plat = platform.seed(accounts, gh, ORG)
            result["platform"] = platform.HOW
            progress.note(f"accounts: {accounts.ids}")
            progress.note(platform.HOW)
            templates.bundle(work / "lambda-template-tree")
            stack.enter_context(
                patched_environ(
                    MLOPS_SUITE_TEMPLATE_DIR=str(work / "lambda-template-tree"),
                    MLOPS_SUITE_GITHUB_API_URL=gh.url,
                )
            )
            registry.register(
                plat.lambda_arns[platform.CLONE_REPO],
                in_lambda(plat.lambda_credentials, clone_repo.handler),
            )

        with progress.stage("project", STAGES["project"]):
            dev = accounts.platform("dev")  # the launch role SageMaker creates projects with
            text = PROJECT_TEMPLATE.read_text(encoding="utf-8")
            parameters = {
                **PROJECT,
                "ProjectName": PROJECT_NAME,
                "Owner": OWNER,
                "DeploymentKind": kind,
                "PreprodAccountId": accounts.ids["preprod"],
                "ProdAccountId": accounts.ids["prod"],
            }
            project_stack = cloudformation.create_stack(
                accounts.client(dev, "cloudformation"),
                f"sagemaker-{PROJECT['SageMakerProjectName']}-{project_id}",
                text,
                cfn_yaml.load(text),
                parameters,
                {
                    names.tag_key("project_name"): PROJECT["SageMakerProjectName"],
                    names.tag_key("project_id"): project_id,
                },
            )
            outputs = {o["OutputKey"]: o["OutputValue"] for o in project_stack["Outputs"]}
            training_repo = outputs["ModelBuildRepositoryFullName"]
            deploy_repo = outputs["ModelDeployRepositoryFullName"]
            result["stack"] = {"id": project_stack["StackId"], "outputs": outputs}
            result["repositories"] = {
                "model-training": outputs["ModelBuildRepositoryUrl"],
                kind: outputs["ModelDeployRepositoryUrl"],
            }
            result["custom_resource_requests"] = [
                {
                    "logical_id": e["LogicalResourceId"],
                    "type": e["ResourceType"],
                    "repo_kind": e["ResourceProperties"].get("repo_kind"),
                    "status": registry.answers[e["RequestId"]]["Status"],
                }
                for e in registry.requests
            ]
            for logical, full_name in (("training", training_repo), ("deploy", deploy_repo)):
                hosted = gh.repos[full_name]
                progress.note(f"{logical} repository: {hosted.full_name}")
                # What the Lambda set: the repository's variables, then each environment's.
                for name, value in sorted(hosted.variables.items()):
                    progress.note(f"  variable {name} = {value}")
                for env, variables in sorted(hosted.environment_variables.items()):
                    for name, value in sorted(variables.items()):
                        progress.note(f"  {env}: variable {name} = {value}")
            # The stack's Custom::ProjectDeployRoles made the deploy roles in preprod and prod.
            roles = {
                env: outputs[f"{env.capitalize()}DeployRoleArn"] for env in ("preprod", "prod")
            }
            result["deploy_roles"] = roles
            for name, arn in roles.items():
                progress.note(f"{name} deploy role: {arn}")

        with progress.stage("training", STAGES["training"]):
            repo = deploy.clone(gh.clone_url(training_repo), gh.token, work / "training")
            bin_dir = make_venv(repo, work / "training-venv")
            data_scientist = accounts.assume(
                "dev",
                names.pattern("github_actions_role", project_id=project_id, environment="dev"),
                "data-scientist",
            )
            command = [str(bin_dir / "run-pipeline"), "--local", "--region", REGION]
            command += ["--workdir", str(work / "jobs")]
            # What the demo does with a training repository is the kind's profile (kind.yml).
            profile = kinds.load("model-training", work / "lambda-template-tree")
            if not {"local-pipeline", "approve"} <= set(profile.demo) or not profile.pipeline:
                raise RuntimeError(f"the model-training profile's demo steps are {profile.demo}")
            if profile.pipeline.sample_input:
                command += ["--input-data", str(repo / profile.pipeline.sample_input)]
            progress.note("$ " + " ".join(command))
            env = {k: v for k, v in deploy.tool_env().items()}
            proc = subprocess.run(
                command,
                cwd=repo,
                env={**_clean_environ(), **env, **accounts.process_env(data_scientist)},
                capture_output=True,
                text=True,
                check=False,
            )
            (work / "training.log").write_text(proc.stdout + proc.stderr, encoding="utf-8")
            if proc.returncode != 0:
                tail = (proc.stdout[-1500:] + proc.stderr[-1500:]).strip()
                raise RuntimeError(f"run-pipeline --local exited {proc.returncode}:\n{tail}")
            dev_sm = accounts.client(data_scientist, "sagemaker")
            packages = package_report(dev_sm, group)
            if not packages:
                raise RuntimeError(f"no model package registered in group {group}")
            package = packages[-1]
            progress.note(f"model package {package['arn']}: {package['status']}")

        with progress.stage("approval", STAGES["approval"]):
            approver = accounts.assume(
                "dev", names.pattern("approver_role", environment="dev"), "approver"
            )
            accounts.client(approver, "sagemaker").update_model_package(
                ModelPackageArn=package["arn"],
                ModelApprovalStatus="Approved",
                ApprovalDescription="demo: evaluation metrics reviewed",
            )
            package = next(p for p in package_report(dev_sm, group) if p["arn"] == package["arn"])
            event = _state_change_event(accounts.ids["dev"], package, group)
            rule_name = names.pattern("model_approval_rule", project_id=project_id)
            events = accounts.client(dev, "events")
            rule = events.describe_rule(Name=rule_name)
            # moto implements no TestEventPattern; its rule matcher is the one PutEvents uses.
            from moto.events.models import EventPattern

            if not EventPattern.load(rule["EventPattern"]).matches_event(cast(Any, event)):
                raise RuntimeError(f"rule {rule_name} does not match the approval event")
            (target,) = events.list_targets_by_rule(Rule=rule_name)["Targets"]
            if target["Arn"] != plat.lambda_arns[platform.TRIGGER]:
                raise RuntimeError(f"rule {rule_name} targets {target['Arn']}, not the trigger")
            in_lambda(plat.lambda_credentials, model_approval.handler)(
                event, LocalContext(function_name=platform.TRIGGER)
            )
            dispatches = gh.repos[deploy_repo].dispatches
            if not dispatches:
                raise RuntimeError(f"the trigger sent no repository_dispatch to {deploy_repo}")
            dispatch = dispatches[-1]
            result["package"] = package
            result["dispatch"] = {**dispatch, "repository": deploy_repo}
            result["training_repo_dispatches"] = list(gh.repos[training_repo].dispatches)
            progress.note(f"repository_dispatch {dispatch['event_type']} -> {deploy_repo}")

        run = deploy.DeployRun(
            gh=gh,
            aws=aws,
            full_name=deploy_repo,
            work=work,
            event=deploy.dispatch_event(dispatch, deploy_repo, gh.org_id(ORG)),
            env={**deploy.tool_env(), **deploy.terraform_env(work)},
        )
        configured = deploy.configure_for_moto(
            deploy.clone(gh.clone_url(deploy_repo), gh.token, work / "deploy-settings"),
            kind,
            gh.token,
        )
        result["moto_settings"] = configured
        if configured:
            progress.note(f"deploy repository configured for moto: {configured}")
        jobs: dict[str, Any] = {}
        with progress.stage("preprod", STAGES["preprod"]):
            jobs["check"], checkout = run.job("check", {})
            if kind == "realtime-inference":
                model = work / "model.tar.gz"
                bucket, _, key = package["model_data_url"].removeprefix("s3://").partition("/")
                accounts.client(data_scientist, "s3").download_file(bucket, key, str(model))
                url = stack.enter_context(local_model_server(checkout / ".venv" / "bin", model))
                result["served"] = stack.enter_context(
                    seams.endpoints_served_by(url, package["arn"])
                )
                progress.note(f"local model server {url} answers the endpoints of {package['arn']}")
            else:
                module = deploy.module_name(checkout)
                result["pipeline_runs"] = stack.enter_context(
                    seams.pipelines_run_locally(
                        checkout / ".venv" / "bin" / "python",
                        module,
                        work / "pipeline-runs",
                        {**_clean_environ(), **deploy.tool_env(), **aws.env},
                    )
                )
                progress.note(f"pipeline executions run with {module}'s local runner")
            jobs["preprod"], _ = run.job("preprod", {"check": jobs["check"]})
            _note_steps(progress, jobs["preprod"])

        with progress.stage("prod", STAGES["prod"]):
            team = deploy.prod_review(
                gh,
                deploy_repo,
                lambda t: progress.note(f"a member of {t} approves the prod deployment"),
            )
            result["prod_reviewers"] = team
            jobs["prod"], _ = run.job("prod", {"check": jobs["check"], "preprod": jobs["preprod"]})
            _note_steps(progress, jobs["prod"])

        result["jobs"] = {
            name: [(s.name, s.outcome) for s in job.steps] for name, job in jobs.items()
        }
        prefix = f"{PROJECT['SageMakerProjectName']}-"  # the project's resource names
        result["accounts"] = {
            env: holdings(accounts, accounts.platform(env), env, kind, prefix)
            for env in names.environments()
        }
        result["registry"] = package_report(dev_sm, group)
        if inspect is not None:
            inspect(accounts, gh)
    return result


def _note_steps(progress: report.Progress, job: Any) -> None:
    for step in job.steps:
        progress.note(f"[{step.outcome:>7}] {step.name} ({step.seconds:.1f} s)")


def _session(endpoint: str, region: str, creds: dict[str, str]) -> Any:
    import boto3

    class Session:
        def client(self, service: str) -> Any:
            return boto3.client(service, endpoint_url=endpoint, region_name=region, **creds)

    return Session()


def _clean_environ() -> dict[str, str]:
    import os

    drop = ("VIRTUAL_ENV", "PYTHONPATH", "AWS_")
    return {k: v for k, v in os.environ.items() if not k.startswith(drop)}


def _state_change_event(account: str, package: dict[str, Any], group: str) -> dict[str, Any]:
    """EventBridge's "SageMaker Model Package State Change" event for `package`."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "SageMaker Model Package State Change",
        "source": "aws.sagemaker",
        "account": account,
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "region": REGION,
        "resources": [package["arn"]],
        "detail": {
            "ModelPackageGroupName": group,
            "ModelPackageVersion": package["version"],
            "ModelPackageArn": package["arn"],
            "ModelApprovalStatus": package["status"],
            "ModelPackageStatus": "Completed",
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mlops_suite.demo", description=__doc__)
    parser.add_argument(
        "--deployment",
        choices=sorted(DEPLOYMENTS),
        default="realtime",
        help="the deploy repository's kind: a real-time endpoint or batch inference",
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the work folder (clones, venvs, logs, result)"
    )
    parser.add_argument("--workdir", type=Path, help="work here (default: a temporary folder)")
    args = parser.parse_args(argv)
    work = args.workdir or Path(tempfile.mkdtemp(prefix="mlops-suite-demo-"))
    work.mkdir(parents=True, exist_ok=True)
    progress = report.Progress()
    try:
        result = run(work, args.deployment, progress)
    except report.StageFailed as failed:
        print(f"\ndemo FAILED in stage {failed.stage}: {failed.reason}", file=sys.stderr)
        print(f"(everything is kept under {work})", file=sys.stderr)
        return 1
    print("\n" + report.summary(result, progress.times))
    if args.keep:
        (work / "result.json").write_text(json.dumps(result, indent=2, default=str), "utf-8")
        print(f"kept everything under {work} (result.json: what each account holds)")
    else:
        shutil.rmtree(work, ignore_errors=True)
    return 0
