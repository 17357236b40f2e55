"""A project template deployed with the real repo-creating Lambda, against the local GitHub double.

The handler (mlops_suite.handlers.clone_repo) runs in-process behind moto's Lambda seam with
credentials of the dev account, reads the platform's SSM parameters and GitHub App secret from
moto, renders the kind with Copier, pushes over real git to the double and answers CloudFormation
over HTTP. Only kinds the questionnaire offers can be rendered; other kinds are shown as pending.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from botocore.exceptions import ClientError
from project_templates_harness import (  # type: ignore[import-not-found]  # our conftest.py
    ACCOUNT_ID,
    RecordingTrigger,
    seed_platform,
)

from mlops_suite import names
from mlops_suite.handlers import clone_repo
from mlops_suite.local.github_double import GitHubDouble
from mlops_suite.local.lambda_runtime import LocalContext

REGION = "ap-southeast-2"  # a region no other test here seeds
PROMOTION_REGION = "ca-central-1"  # nor this one
DEPLOYMENT_REGION = "sa-east-1"  # nor this one
PREPROD, PROD = "222222222222", "333333333333"
PROD_TEAM = "platform-approvers"
RELEASE = "v9.9.9"


@pytest.fixture
def real_platform(
    request: pytest.FixtureRequest,
    moto_cfn: Any,
    double: GitHubDouble,
    template_tree: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Any:
    """The dev account with the real handler behind the clone-repo Lambda (in REGION, or the
    region a test passes indirectly: each test seeds a region of its own)."""
    region = getattr(request, "param", REGION)
    calls: list[dict[str, Any]] = []

    def handler(event: dict[str, Any], context: object) -> None:
        calls.append(event)
        clone_repo.handler(event, LocalContext())

    platform = seed_platform(moto_cfn, region, "my-org", handler, RecordingTrigger())
    platform.calls = calls
    secret = moto_cfn.client("secretsmanager", region).create_secret(
        Name="mlops-suite/github-app",
        SecretString=json.dumps(
            {"app_id": double.app_id, "private_key": double.app_private_key_pem}
        ),
    )["ARN"]
    ssm = moto_cfn.client("ssm", region)
    for key, value in (
        ("github_app_secret_arn", secret),
        ("github_prod_reviewer_team", PROD_TEAM),
        ("suite_git_url", names.load()["suite_git_url_default"]),
        ("suite_release", RELEASE),
    ):
        ssm.put_parameter(Name=names.ssm_parameter(key), Value=value, Type="String")
    # The Lambda's own credentials: a key of the dev account, so moto serves its calls there.
    iam = moto_cfn.client("iam", region)
    user = f"clone-repo-lambda-{region}"  # IAM is global: one user per seeded region
    iam.create_user(UserName=user)
    key = iam.create_access_key(UserName=user)["AccessKey"]
    for name, value in {
        "AWS_ENDPOINT_URL": moto_cfn.endpoint,
        "AWS_ACCESS_KEY_ID": key["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"],
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "MLOPS_SUITE_GITHUB_API_URL": double.url,
        "MLOPS_SUITE_TEMPLATE_DIR": str(template_tree),
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    return platform


def test_model_building_training_with_the_real_handler(
    moto_cfn: Any, real_platform: Any, double: GitHubDouble, template_by_name: dict[str, Any]
) -> None:
    params = {
        "SageMakerProjectName": "Churn-Prj",
        "SageMakerProjectId": "p-eeeeeeeeee01",
        "ProjectName": "churn-model",
        "Owner": "ml-team",
        "ModelAucThreshold": "0.85",
    }
    tpl = template_by_name["model-building-training"]
    stack_id = moto_cfn.create_stack(tpl, "real-handler", params, region=REGION)
    stack = moto_cfn.wait(stack_id, region=REGION)
    events = moto_cfn.client("cloudformation", REGION).describe_stack_events(StackName=stack_id)
    reasons = [e.get("ResourceStatusReason") for e in events["StackEvents"]]
    assert stack["StackStatus"] == "CREATE_COMPLETE", reasons

    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
    assert outputs["ModelBuildRepositoryFullName"] == "my-org/churn-model"
    assert outputs["ModelBuildRepositoryUrl"] == f"{double.url}/my-org/churn-model"
    repo = double.repos["my-org/churn-model"]
    assert repo.branches() == ["main"]
    answers = yaml.safe_load(repo.files()[".copier-answers.yml"])
    bucket = names.pattern(
        "artifact_bucket", project_id="p-eeeeeeeeee01", account_id=ACCOUNT_ID, region=REGION
    )
    assert answers["_commit"] == RELEASE
    assert answers["sagemaker_project_id"] == "p-eeeeeeeeee01"
    assert answers["aws_region"] == REGION
    assert answers["dev_account_id"] == ACCOUNT_ID
    assert answers["model_auc_threshold"] == 0.85
    assert answers["owner"] == "ml-team"
    assert outputs["ArtifactBucketName"] == bucket
    assert [c["RequestType"] for c in real_platform.calls] == ["Create"]
    # The dev role trusts the subject prefix the handler read from GitHub: immutable owner and
    # repository ids (moto resolves a missing custom-resource attribute silently; this does not).
    iam = moto_cfn.client("iam", REGION)
    role = iam.get_role(RoleName=outputs["GitHubDevRoleArn"].rsplit("/", 1)[-1])["Role"]
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    subjects = trust["Condition"]["StringEquals"]["token.actions.githubusercontent.com:sub"]
    subjects = subjects if isinstance(subjects, list) else [subjects]
    assert len(subjects) == 1, subjects
    assert re.fullmatch(r"repo:my-org@[0-9]+/churn-model@[0-9]+:environment:dev", subjects[0]), (
        f"the clone-repo handler must answer with OidcSubjectPrefix; the role trusts {subjects}"
    )


@pytest.mark.parametrize("real_platform", [PROMOTION_REGION], indirect=True)
def test_pipeline_promotion_with_the_real_handler(
    moto_cfn: Any, real_platform: Any, double: GitHubDouble, template_by_name: dict[str, Any]
) -> None:
    """The pipeline-promotion repository: rendered for three accounts, its environments gated,
    its variables set, and the artifact bucket its promote workflow builds into created."""
    preprod, prod = PREPROD, PROD
    params = {
        "SageMakerProjectName": "Fraud-Prj",
        "SageMakerProjectId": "p-eeeeeeeeee02",
        "ProjectName": "fraud-pipeline",
        "Owner": "ml-team",
        "PreprodAccountId": preprod,
        "ProdAccountId": prod,
    }
    tpl = template_by_name["pipeline-promotion"]
    stack_id = moto_cfn.create_stack(tpl, "real-handler-promotion", params, region=PROMOTION_REGION)
    stack = moto_cfn.wait(stack_id, region=PROMOTION_REGION)
    events = moto_cfn.client("cloudformation", PROMOTION_REGION).describe_stack_events(
        StackName=stack_id
    )
    reasons = [e.get("ResourceStatusReason") for e in events["StackEvents"]]
    assert stack["StackStatus"] == "CREATE_COMPLETE", reasons

    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
    assert outputs["PipelineRepositoryFullName"] == "my-org/fraud-pipeline"
    repo = double.repos["my-org/fraud-pipeline"]
    files = {path: body.decode("utf-8") for path, body in repo.files().items()}
    answers = yaml.safe_load(files[".copier-answers.yml"])
    assert answers["repo_kind"] == "pipeline-promotion"
    assert (answers["preprod_account_id"], answers["prod_account_id"]) == (preprod, prod)
    assert answers["dev_account_id"] == ACCOUNT_ID
    assert ".github/workflows/promote.yml" in files
    # The accounts reach the environments the promotion deploys to, and nothing under src/.
    assert f'account_id = "{preprod}"' in files["environments.toml"]
    assert f'account_id = "{prod}"' in files["environments.toml"]
    assert not [p for p, text in files.items() if p.startswith("src/") and ACCOUNT_ID in text]

    # The promote workflow's variables and gates: the dev bucket the artifacts live in, one role
    # per environment in its own account, reviewers on preprod and prod (no self-review).
    bucket = names.pattern(
        "artifact_bucket",
        project_id="p-eeeeeeeeee02",
        account_id=ACCOUNT_ID,
        region=PROMOTION_REGION,
    )
    assert repo.variables["ARTIFACT_BUCKET"] == bucket == outputs["ArtifactBucketName"]
    assert moto_cfn.client("s3", PROMOTION_REGION).head_bucket(Bucket=bucket)
    assert sorted(repo.environments) == ["dev", "preprod", "prod"]
    for env, account in (("dev", ACCOUNT_ID), ("preprod", preprod), ("prod", prod)):
        role = names.pattern("github_actions_role", project_id="p-eeeeeeeeee02", environment=env)
        assert repo.environment_variables[env]["AWS_ROLE_ARN"] == (
            f"arn:aws:iam::{account}:role/{role}"
        )
    for env in ("preprod", "prod"):
        assert repo.environments[env]["reviewers"], env
        assert repo.environments[env]["prevent_self_review"] is True
    assert "reviewers" not in repo.environments["dev"]
    # The dev role trusts exactly this repository's dev environment.
    iam = moto_cfn.client("iam", PROMOTION_REGION)
    role = iam.get_role(RoleName=outputs["GitHubDevRoleArn"].rsplit("/", 1)[-1])["Role"]
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    subject = trust["Condition"]["StringEquals"]["token.actions.githubusercontent.com:sub"]
    subjects = subject if isinstance(subject, list) else [subject]
    assert len(subjects) == 1
    assert re.fullmatch(r"repo:my-org@[0-9]+/fraud-pipeline@[0-9]+:environment:dev", subjects[0])
    # The roles its promote workflow assumes in preprod and prod exist there, for the same
    # repository (the same immutable ids), and are the ones its environments name.
    prefix = subjects[0].removesuffix(":environment:dev")
    arns = assert_deploy_roles(moto_cfn, PROMOTION_REGION, "p-eeeeeeeeee02", prefix)
    assert arns == {
        "preprod": outputs["PreprodDeployRoleArn"],
        "prod": outputs["ProdDeployRoleArn"],
    }
    for env in ("preprod", "prod"):
        assert repo.environment_variables[env]["AWS_ROLE_ARN"] == arns[env]


def assert_deploy_roles(moto_cfn: Any, region: str, project_id: str, prefix: str) -> dict[str, str]:
    """Each target account holds the project's deploy role, trusting only `prefix`'s environment
    of that name and capped by the platform boundary; the dev account holds neither."""
    arns = {}
    boundary = names.pattern("platform_permissions_boundary")
    for env, account in (("preprod", PREPROD), ("prod", PROD)):
        name = names.pattern("github_actions_role", project_id=project_id, environment=env)
        role = moto_cfn.client("iam", region, account).get_role(RoleName=name)["Role"]
        (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
        assert trust["Principal"] == {
            "Federated": f"arn:aws:iam::{account}:oidc-provider/token.actions.githubusercontent.com"
        }
        assert trust["Condition"] == {
            "StringEquals": {
                "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
                "token.actions.githubusercontent.com:sub": f"{prefix}:environment:{env}",
            }
        }
        assert role["PermissionsBoundary"]["PermissionsBoundaryArn"] == (
            f"arn:aws:iam::{account}:policy/{boundary}"
        )
        with pytest.raises(ClientError, match="NoSuchEntity"):
            moto_cfn.client("iam", region).get_role(RoleName=name)
        arns[env] = role["Arn"]
    return arns


@pytest.mark.parametrize("real_platform", [DEPLOYMENT_REGION], indirect=True)
def test_deployment_project_makes_and_removes_the_deploy_roles(
    moto_cfn: Any, real_platform: Any, double: GitHubDouble, template_by_name: dict[str, Any]
) -> None:
    """Creating a deployment project puts its deploy repository's roles in the preprod and prod
    accounts; deleting the project removes them from both."""
    project_id = "p-eeeeeeeeee03"
    params = {
        "SageMakerProjectName": "Score-Prj",
        "SageMakerProjectId": project_id,
        "ProjectName": "score-model",
        "Owner": "ml-team",
        "DeploymentKind": "batch-inference",
        "PreprodAccountId": PREPROD,
        "ProdAccountId": PROD,
    }
    tpl = template_by_name["model-building-training-deployment"]
    cfn = moto_cfn.client("cloudformation", DEPLOYMENT_REGION)
    stack_id = moto_cfn.create_stack(tpl, "real-handler-deploy", params, region=DEPLOYMENT_REGION)
    stack = moto_cfn.wait(stack_id, region=DEPLOYMENT_REGION, timeout=180)
    reasons = [
        e.get("ResourceStatusReason")
        for e in cfn.describe_stack_events(StackName=stack_id)["StackEvents"]
    ]
    assert stack["StackStatus"] == "CREATE_COMPLETE", reasons
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
    repo = double.repos["my-org/score-model-deploy"]
    prefix = repo_subject_prefix(moto_cfn, outputs["GitHubDevRoleArn"], "score-model-deploy")
    arns = assert_deploy_roles(moto_cfn, DEPLOYMENT_REGION, project_id, prefix)
    assert arns == {
        "preprod": outputs["PreprodDeployRoleArn"],
        "prod": outputs["ProdDeployRoleArn"],
    }
    for env in ("preprod", "prod"):
        assert repo.environment_variables[env]["AWS_ROLE_ARN"] == arns[env]

    cfn.delete_stack(StackName=stack_id)
    assert moto_cfn.wait(stack_id, region=DEPLOYMENT_REGION)["StackStatus"] == "DELETE_COMPLETE"
    deletes = [
        c["ResourceType"]
        for c in real_platform.calls
        if c["RequestType"] == "Delete" and c["StackId"] == stack_id
    ]
    assert "Custom::ProjectDeployRoles" in deletes
    for env, account in (("preprod", PREPROD), ("prod", PROD)):
        name = names.pattern("github_actions_role", project_id=project_id, environment=env)
        with pytest.raises(ClientError, match="NoSuchEntity"):
            moto_cfn.client("iam", DEPLOYMENT_REGION, account).get_role(RoleName=name)


def repo_subject_prefix(moto_cfn: Any, dev_role_arn: str, repo: str) -> str:
    """The immutable subject prefix of `repo` as the dev role trusts it."""
    role = moto_cfn.client("iam").get_role(RoleName=dev_role_arn.rsplit("/", 1)[-1])["Role"]
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    subjects = trust["Condition"]["StringEquals"]["token.actions.githubusercontent.com:sub"]
    (subject,) = [
        s for s in subjects if re.fullmatch(rf"repo:my-org@[0-9]+/{repo}@[0-9]+:environment:dev", s)
    ]
    return str(subject).removesuffix(":environment:dev")
