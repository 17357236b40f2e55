"""Per-project deploy roles across three accounts (moto): provisioned through each target account's
provisioning role, trusted only from the deploy repository's environment, removed on Delete; and
the cross-account read of the dev registry allowed on both sides for exactly the project's group.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from mlops_suite import cfn_yaml, rendering
from mlops_suite.handlers import deploy_roles

# moto links assumed-role credentials to the role's account; the caller is its default account.
DEV, PREPROD, PROD = "123456789012", "222222222222", "333333333333"
REGION = "eu-west-1"
PROPS = {
    "project_name": "churn-model",
    "project_id": "p-abcdef012345",
    "github_org": "my-org",
    "repo": "churn-model-deploy",
    "dev_account_id": DEV,
    "preprod_account_id": PREPROD,
    "prod_account_id": PROD,
    "region": REGION,
    "dev_kms_key_arn": f"arn:aws:kms:{REGION}:{DEV}:key/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b",
}
ROLE = {"preprod": "mlops-suite-p-abcdef012345-github-preprod",
        "prod": "mlops-suite-p-abcdef012345-github-prod"}  # fmt: skip


def iam_in(account: str) -> Any:
    """IAM of `account`, through an assumed role as the handler gets it."""
    creds = boto3.client("sts", region_name=REGION).assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/admin", RoleSessionName="test"
    )["Credentials"]
    return boto3.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    ).client("iam", region_name=REGION)


@pytest.fixture
def accounts(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """dev (the caller), preprod and prod, each target with the platform's provisioning role."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("MOTO_ACCOUNT_ID", raising=False)
    with mock_aws():
        for account in (PREPROD, PROD):
            iam_in(account).create_role(
                RoleName=deploy_roles.PROVISIONER_ROLE,
                AssumeRolePolicyDocument=json.dumps(
                    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action":
                     "sts:AssumeRole", "Principal": {"AWS": f"arn:aws:iam::{DEV}:root"}}]}
                ),
            )  # fmt: skip
        yield boto3.client("sts", region_name=REGION)


def session_factory(**creds: str) -> Any:
    return boto3.Session(region_name=REGION, **creds)


def test_create_puts_one_role_in_each_target_account_only(accounts: Any) -> None:
    out = deploy_roles.handle("Create", PROPS, accounts, session_factory)
    assert out == {
        "PreprodRoleArn": f"arn:aws:iam::{PREPROD}:role/{ROLE['preprod']}",
        "ProdRoleArn": f"arn:aws:iam::{PROD}:role/{ROLE['prod']}",
    }
    for env, account in (("preprod", PREPROD), ("prod", PROD)):
        iam = iam_in(account)
        role = iam.get_role(RoleName=ROLE[env])["Role"]
        (statement,) = role["AssumeRolePolicyDocument"]["Statement"]
        assert statement["Principal"] == {
            "Federated": f"arn:aws:iam::{account}:oidc-provider/token.actions.githubusercontent.com"
        }
        assert statement["Condition"]["StringEquals"] == {
            "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
            "token.actions.githubusercontent.com:sub": (
                f"repo:my-org/churn-model-deploy:environment:{env}"
            ),
        }
        assert role["PermissionsBoundary"]["PermissionsBoundaryArn"] == (
            f"arn:aws:iam::{account}:policy/mlops-suite-platform-boundary"
        )
        other = "prod" if env == "preprod" else "preprod"
        with pytest.raises(iam.exceptions.NoSuchEntityException):
            iam.get_role(RoleName=ROLE[other])
    dev_roles = [r["RoleName"] for r in boto3.client("iam").list_roles()["Roles"]]
    assert not any(name.startswith("mlops-suite-p-abcdef012345") for name in dev_roles)


def test_update_follows_the_repository_and_delete_is_idempotent(accounts: Any) -> None:
    deploy_roles.handle("Create", PROPS, accounts, session_factory)
    deploy_roles.handle("Update", {**PROPS, "repo": "renamed"}, accounts, session_factory)
    trust = iam_in(PROD).get_role(RoleName=ROLE["prod"])["Role"]["AssumeRolePolicyDocument"]
    sub = trust["Statement"][0]["Condition"]["StringEquals"][
        "token.actions.githubusercontent.com:sub"
    ]
    assert sub == "repo:my-org/renamed:environment:prod"
    for _ in range(2):
        assert deploy_roles.handle("Delete", PROPS, accounts, session_factory) == {}
    for env, account in (("preprod", PREPROD), ("prod", PROD)):
        iam = iam_in(account)
        with pytest.raises(iam.exceptions.NoSuchEntityException):
            iam.get_role(RoleName=ROLE[env])


def test_a_role_someone_else_made_is_left_alone(accounts: Any) -> None:
    iam_in(PROD).create_role(RoleName=ROLE["prod"], AssumeRolePolicyDocument="{}")
    with pytest.raises(
        deploy_roles.ProvisionError, match=f"{ROLE['prod']} exists in account {PROD}"
    ):
        deploy_roles.handle("Create", PROPS, accounts, session_factory)
    deploy_roles.handle("Delete", PROPS, accounts, session_factory)
    assert iam_in(PROD).get_role(RoleName=ROLE["prod"])  # not ours: not deleted


def test_missing_property_is_named() -> None:
    with pytest.raises(deploy_roles.ProvisionError, match="lacks prod_account_id"):
        deploy_roles.specs({k: v for k, v in PROPS.items() if k != "prod_account_id"})


# --- the cross-account read, both sides -----------------------------------------------------------


def allows(
    statements: list[dict[str, Any]], action: str, resource: str, principal: str = ""
) -> bool:
    """Whether an Allow statement matches (IAM wildcards; conditions are not evaluated)."""
    for st in statements:
        if st["Effect"] != "Allow":
            continue
        actions = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
        resources = st["Resource"] if isinstance(st["Resource"], list) else [st["Resource"]]
        if principal:
            named = st.get("Principal", {}).get("AWS", [])
            if principal not in (named if isinstance(named, list) else [named]):
                continue
        if any(fnmatchcase(action, a) for a in actions) and any(
            fnmatchcase(resource, r) for r in resources
        ):
            return True
    return False


def substitute(node: Any, values: dict[str, str]) -> Any:
    """Resolve the !Sub and !Ref of a parsed template fragment with `values`."""
    if isinstance(node, dict):
        if set(node) == {"Fn::Sub"}:
            return re.sub(r"\$\{([^}]+)\}", lambda m: values[m.group(1)], node["Fn::Sub"])
        if set(node) == {"Ref"}:
            return values[node["Ref"]]
        if set(node) == {"Fn::GetAtt"}:
            return values[".".join(node["Fn::GetAtt"])]
        return {k: substitute(v, values) for k, v in node.items()}
    if isinstance(node, list):
        return [substitute(v, values) for v in node]
    return node


def dev_resource_policies() -> dict[str, list[dict[str, Any]]]:
    """The dev side: the project template's model package group and artifact bucket policies."""
    path = (
        Path(rendering.SUITE_ROOT) / "project-templates" / "model-building-training-deployment.yaml"
    )
    resources = cfn_yaml.load(path.read_text(encoding="utf-8"))["Resources"]
    bucket = f"sagemaker-{PROPS['project_id']}-{DEV}-{REGION}"
    values = {
        "AWS::Partition": "aws", "AWS::Region": REGION, "AWS::AccountId": DEV,
        "PreprodAccountId": PREPROD, "ProdAccountId": PROD,
        "SageMakerProjectName": PROPS["project_name"], "SageMakerProjectId": PROPS["project_id"],
        "ArtifactBucket.Arn": f"arn:aws:s3:::{bucket}",
    }  # fmt: skip
    group = resources["ModelPackageGroup"]["Properties"]["ModelPackageGroupPolicy"]["Fn::If"][1]
    bucket_policy = resources["ArtifactBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    bucket_statements = [s["Fn::If"][1] if "Fn::If" in s else s for s in bucket_policy]
    return {
        "group": substitute(group, values)["Statement"],
        "bucket": substitute(bucket_statements, values),
    }


@pytest.mark.parametrize(("env", "account"), [("preprod", PREPROD), ("prod", PROD)])
def test_target_accounts_read_the_project_group_and_its_artifacts_nothing_else(
    env: str, account: str
) -> None:
    (spec,) = [s for s in deploy_roles.specs(PROPS) if s.environment == env]
    identity = deploy_roles.permissions_policy(spec)["Statement"]
    dev = dev_resource_policies()
    root = f"arn:aws:iam::{account}:root"
    group = "churn-model-p-abcdef012345"
    package = f"arn:aws:sagemaker:{REGION}:{DEV}:model-package/{group}/3"
    other_package = f"arn:aws:sagemaker:{REGION}:{DEV}:model-package/other-p-zzzzzzzzzzzz/1"
    artifact = f"arn:aws:s3:::sagemaker-p-abcdef012345-{DEV}-{REGION}/models/3/model.tar.gz"

    def both(action: str, resource: str, side: str) -> bool:
        return allows(identity, action, resource) and allows(dev[side], action, resource, root)

    assert both("sagemaker:DescribeModelPackage", package, "group")
    assert both(
        "sagemaker:ListModelPackages",
        f"arn:aws:sagemaker:{REGION}:{DEV}:model-package-group/{group}",
        "group",
    )
    assert both("s3:GetObject", artifact, "bucket")
    # Reading is all: no approval change, no other group, no writes to the dev bucket.
    assert not both("sagemaker:UpdateModelPackage", package, "group")
    assert not allows(identity, "sagemaker:DescribeModelPackage", other_package)
    assert not both("s3:PutObject", artifact, "bucket")
    # The dev key decrypts artifacts for the target account only through S3 (the key policy of
    # platform/modules/kms grants consumer accounts the same, kms:ViaService s3).
    (decrypt,) = [s for s in identity if s["Sid"] == "DecryptDevArtifactsThroughS3Only"]
    assert decrypt["Resource"] == PROPS["dev_kms_key_arn"]
    assert decrypt["Condition"] == {
        "StringEquals": {"kms:ViaService": f"s3.{REGION}.amazonaws.com"}
    }
    # Everything else the role may do is in its own account.
    for st in identity:
        for resource in st["Resource"] if isinstance(st["Resource"], list) else [st["Resource"]]:
            anywhere = resource == "*" and st["Action"] == "sts:GetCallerIdentity"
            named = f":{account}:" in resource or f":{DEV}:" in resource
            assert anywhere or named or resource.startswith("arn:aws:s3:::"), resource


def test_the_immutable_subject_prefix_is_trusted_exactly(accounts: Any) -> None:
    prefix = "repo:my-org@1001/churn-model-deploy@2002"
    deploy_roles.handle(
        "Create", {**PROPS, "oidc_subject_prefix": prefix}, accounts, session_factory
    )
    for env, account in (("preprod", PREPROD), ("prod", PROD)):
        trust = iam_in(account).get_role(RoleName=ROLE[env])["Role"]["AssumeRolePolicyDocument"]
        assert (
            trust["Statement"][0]["Condition"]["StringEquals"][
                "token.actions.githubusercontent.com:sub"
            ]
            == f"{prefix}:environment:{env}"
        )


class _Unreachable:
    """An STS that cannot assume any provisioning role."""

    def assume_role(self, **_: Any) -> Any:
        raise RuntimeError("AccessDenied")


def test_a_rollback_delete_succeeds_where_no_account_is_reachable() -> None:
    physical, data, _ = deploy_roles.handle_request(
        "Delete", PROPS, "failed-ProjectDeployRoles-1234abcd", _Unreachable(), session_factory
    )
    assert (physical, data) == ("failed-ProjectDeployRoles-1234abcd", {})
    # The Delete of roles that were made must reach the accounts, or fail loudly.
    made = deploy_roles.physical_id(PROPS)
    with pytest.raises(deploy_roles.ProvisionError, match="cannot assume"):
        deploy_roles.handle_request("Delete", PROPS, made, _Unreachable(), session_factory)


def test_a_new_account_changes_the_physical_id() -> None:
    """So CloudFormation's clean-up Delete removes the roles from the account left behind."""
    moved = deploy_roles.physical_id({**PROPS, "prod_account_id": "444444444444"})
    assert moved != deploy_roles.physical_id(PROPS)
    assert deploy_roles.physical_id({**PROPS, "repo": "other"}) == deploy_roles.physical_id(PROPS)


# --- EventBridge Scheduler: the project's schedules and the role they start its pipelines with ----


def permits(
    statements: list[dict[str, Any]], action: str, resource: str, context: dict[str, Any]
) -> bool:
    """Whether an Allow statement matches, with its StringEquals conditions evaluated against
    `context` (a key the request lacks fails StringEquals, as in IAM)."""
    for st in statements:
        if st["Effect"] != "Allow":
            continue
        actions = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
        resources = st["Resource"] if isinstance(st["Resource"], list) else [st["Resource"]]
        if not any(fnmatchcase(action, a) for a in actions):
            continue
        if not any(fnmatchcase(resource, r) for r in resources):
            continue
        ok = True
        for operator, pairs in st.get("Condition", {}).items():
            for key, want in pairs.items():
                wanted = want if isinstance(want, list) else [want]
                got = context.get(key)
                if operator == "StringEquals":
                    ok &= got in wanted
                elif operator == "ForAllValues:StringEquals":
                    ok &= all(v in wanted for v in (got or []))
                else:
                    raise AssertionError(f"permits() cannot evaluate {operator}")
        if ok:
            return True
    return False


@pytest.mark.parametrize(
    ("region", "partition"),
    [(REGION, "aws"), ("us-gov-west-1", "aws-us-gov"), ("cn-north-1", "aws-cn")],
)
def test_the_deploy_role_schedules_only_the_project_pipelines(region: str, partition: str) -> None:
    props = {**PROPS, "region": region, "partition": partition}
    (spec,) = [s for s in deploy_roles.specs(props) if s.environment == "preprod"]
    identity = deploy_roles.permissions_policy(spec)["Statement"]
    pipeline = "churn-model-batch-inference-preprod"
    schedule = f"arn:{partition}:scheduler:{region}:{PREPROD}:schedule/default/{pipeline}"
    role = f"arn:{partition}:iam::{PREPROD}:role/{pipeline}-scheduler"
    scheduler_boundary = f"arn:{partition}:iam::{PREPROD}:policy/mlops-suite-scheduler-boundary"
    to_scheduler = {"iam:PassedToService": "scheduler.amazonaws.com"}
    for action in ("CreateSchedule", "UpdateSchedule", "DeleteSchedule", "GetSchedule"):
        assert permits(identity, f"scheduler:{action}", schedule, {})
    assert permits(
        identity, "iam:CreateRole", role, {"iam:PermissionsBoundary": scheduler_boundary}
    )
    assert permits(identity, "iam:PutRolePolicy", role, {})
    assert permits(identity, "iam:PassRole", role, to_scheduler)
    # Another project's schedule, another group or account, another partition: no.
    for other in (
        schedule.replace("churn-model", "other-model"),
        schedule.replace("/default/", "/other-group/"),
        schedule.replace(PREPROD, PROD),
        schedule.replace(f"arn:{partition}:", "arn:aws-other:"),
    ):
        assert not permits(identity, "scheduler:CreateSchedule", other, {}), other
    # A scheduler role without the scheduler boundary (the platform boundary is wider), or
    # passed to another service; another project's role; a role not meant for Scheduler.
    platform_boundary = scheduler_boundary.replace("scheduler-boundary", "platform-boundary")
    assert not permits(
        identity, "iam:CreateRole", role, {"iam:PermissionsBoundary": platform_boundary}
    )
    assert not permits(identity, "iam:CreateRole", role, {})
    assert not permits(
        identity, "iam:PutRolePermissionsBoundary", role,
        {"iam:PermissionsBoundary": platform_boundary},
    )  # fmt: skip
    assert not permits(
        identity, "iam:PassRole", role, {"iam:PassedToService": "sagemaker.amazonaws.com"}
    )
    other_role = role.replace("churn-model", "other-model")
    assert not permits(identity, "iam:PutRolePolicy", other_role, {})
    assert not permits(identity, "iam:PassRole", other_role, to_scheduler)
    for name in (f"{pipeline}-worker", ROLE["preprod"], deploy_roles.PROVISIONER_ROLE):
        arn = f"arn:{partition}:iam::{PREPROD}:role/{name}"
        assert not permits(identity, "iam:PutRolePolicy", arn, {}), name
        assert not permits(identity, "iam:PassRole", arn, to_scheduler), name
    assert not permits(identity, "iam:AttachRolePolicy", role, {})
    assert not permits(identity, "iam:DeleteRolePermissionsBoundary", role, {})
    # Every ARN the policy names is in the request's partition.
    for st in identity:
        for res in st["Resource"] if isinstance(st["Resource"], list) else [st["Resource"]]:
            assert (
                res == "*" or res == PROPS["dev_kms_key_arn"] or res.startswith(f"arn:{partition}:")
            ), res
