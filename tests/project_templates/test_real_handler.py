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
    preprod, prod = "222222222222", "333333333333"
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
