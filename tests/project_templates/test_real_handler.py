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
PROD_TEAM = "platform-approvers"
RELEASE = "v9.9.9"


@pytest.fixture
def real_platform(
    moto_cfn: Any, double: GitHubDouble, template_tree: Path, monkeypatch: pytest.MonkeyPatch
) -> Any:
    """The dev account with the real handler behind the clone-repo Lambda."""
    calls: list[dict[str, Any]] = []

    def handler(event: dict[str, Any], context: object) -> None:
        calls.append(event)
        clone_repo.handler(event, LocalContext())

    platform = seed_platform(moto_cfn, REGION, "my-org", handler, RecordingTrigger())
    platform.calls = calls
    secret = moto_cfn.client("secretsmanager", REGION).create_secret(
        Name="mlops-suite/github-app",
        SecretString=json.dumps(
            {"app_id": double.app_id, "private_key": double.app_private_key_pem}
        ),
    )["ARN"]
    ssm = moto_cfn.client("ssm", REGION)
    for key, value in (
        ("github_app_secret_arn", secret),
        ("github_prod_reviewer_team", PROD_TEAM),
        ("suite_git_url", names.load()["suite_git_url_default"]),
        ("suite_release", RELEASE),
    ):
        ssm.put_parameter(Name=names.ssm_parameter(key), Value=value, Type="String")
    # The Lambda's own credentials: a key of the dev account, so moto serves its calls there.
    iam = moto_cfn.client("iam", REGION)
    iam.create_user(UserName="clone-repo-lambda")
    key = iam.create_access_key(UserName="clone-repo-lambda")["AccessKey"]
    for name, value in {
        "AWS_ENDPOINT_URL": moto_cfn.endpoint,
        "AWS_ACCESS_KEY_ID": key["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"],
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
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
