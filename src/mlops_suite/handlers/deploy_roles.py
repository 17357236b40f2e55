"""Per-project deploy roles in the preprod and prod accounts: ``Custom::ProjectDeployRoles``.

Design (docs/architecture.md, "Per-project roles in preprod and prod"): the platform's Terraform
creates one narrow provisioning role in each target account (``mlops-suite-project-provisioner``),
trusted by the dev account's clone-repo Lambda role. A project stack in dev declares this custom
resource; the handler assumes the provisioning role in each target account and creates, updates
or deletes the project's role ``mlops-suite-{project_id}-github-{environment}`` there:

- trusted only from the deploy repository's GitHub environment of that name (OIDC subject
  ``{oidc_subject_prefix}:environment:{environment}``, the prefix carrying GitHub's immutable
  owner and repository ids; ``repo:{org}/{repo}`` only where no prefix is given),
- capped by the platform boundary ``mlops-suite-platform-boundary``,
- allowed what deploying the project's endpoint or batch pipeline needs: SageMaker resources
  named ``{project_name}-*`` in that account, the platform's SSM values and key through S3, the
  project's state key in the platform's state bucket and lock table, and in the dev account only
  reading the packages of the project's group, their artifacts and the key that encrypts them.

Delete is idempotent; a role this handler did not create (no managed-by tag) is never touched.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mlops_suite import names

logger = logging.getLogger(__name__)

RESOURCE_TYPE = "Custom::ProjectDeployRoles"
PROVISIONER_ROLE = "mlops-suite-project-provisioner"
POLICY_NAME = "deploy"
MANAGED_BY = "mlops-suite:deploy-roles"
TARGET_ENVIRONMENTS = ("preprod", "prod")


class ProvisionError(ValueError):
    """The roles cannot be provisioned; the message names the value and the fix."""


@dataclass(frozen=True)
class RoleSpec:
    """One project's deploy role in one target account."""

    project_name: str  # the SageMaker project name: resource names start with it
    project_id: str
    github_org: str
    repo: str
    environment: str
    account_id: str
    dev_account_id: str
    region: str
    dev_kms_key_arn: str
    partition: str = "aws"
    # GitHub's immutable subject prefix (owner and repository ids) from the clone-repo resource's
    # OidcSubjectPrefix; empty only for GitHub Enterprise Server's name-only form.
    oidc_subject_prefix: str = ""

    @property
    def subject(self) -> str:
        """The OIDC subject of the deploy repository's GitHub environment of this role."""
        prefix = self.oidc_subject_prefix or f"repo:{self.github_org}/{self.repo}"
        return f"{prefix}:environment:{self.environment}"

    @property
    def role_name(self) -> str:
        """The role's name (names.json pattern github_actions_role)."""
        return names.pattern(
            "github_actions_role", project_id=self.project_id, environment=self.environment
        )

    @property
    def group(self) -> str:
        """The project's model package group in the dev registry."""
        return names.pattern(
            "model_package_group", project_name=self.project_name, project_id=self.project_id
        )

    def arn(self, service: str, resource: str, account: str | None = None, region: str = "") -> str:
        """An ARN in this spec's partition (target account unless `account` says otherwise)."""
        return f"arn:{self.partition}:{service}:{region}:{account or self.account_id}:{resource}"


def trust_policy(spec: RoleSpec) -> dict[str, Any]:
    """Only the deploy repository's GitHub environment of this role's name may assume it."""
    provider = spec.arn("iam", "oidc-provider/token.actions.githubusercontent.com")
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": f"DeployRepositoryEnvironment{spec.environment.capitalize()}",
                "Effect": "Allow",
                "Principal": {"Federated": provider},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {
                        "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
                        "token.actions.githubusercontent.com:sub": spec.subject,
                    }
                },
            }
        ],
    }


def permissions_policy(spec: RoleSpec) -> dict[str, Any]:
    """What the deploy workflow needs in the target account, and in dev only reading packages."""
    region, env = spec.region, spec.environment
    sm = f"{spec.project_name}-*"
    state_bucket = f"mlops-suite-{env}-tfstate-{spec.account_id}-{region}"
    project_bucket = names.pattern(
        "artifact_bucket", project_id=spec.project_id, account_id=spec.account_id, region=region
    )
    dev_bucket = names.pattern(
        "artifact_bucket", project_id=spec.project_id, account_id=spec.dev_account_id, region=region
    )
    ssm = [
        spec.arn("ssm", f"parameter{names.load()['ssm_parameters'][key]}", region=region)
        for key in (
            "sagemaker_execution_role_arn",
            "private_subnet_ids",
            "security_group_id",
            "kms_key_arn",
        )
    ]
    sagemaker_resources = [
        spec.arn("sagemaker", f"{kind}/{sm}", region=region)
        for kind in (
            "model",
            "endpoint",
            "endpoint-config",
            "pipeline",
            "data-quality-job-definition",
            "monitoring-schedule",
        )
    ]
    # The deploy kinds name a pipeline "<project>-<...>-<environment>", its schedule after it and
    # the role Scheduler starts it with "<pipeline>-scheduler".
    schedule = names.pattern("pipeline_schedule", pipeline_name=sm)
    scheduler_role = spec.arn(
        "iam", f"role/{names.pattern('pipeline_scheduler_role', pipeline_name=sm)}"
    )
    scheduler_boundary = spec.arn(
        "iam", f"policy/{names.pattern('scheduler_permissions_boundary')}"
    )
    statements: list[dict[str, Any]] = [
        {"Sid": "WhoAmI", "Effect": "Allow", "Action": "sts:GetCallerIdentity", "Resource": "*"},
        {
            "Sid": "ReadPlatformSettings",
            "Effect": "Allow",
            "Action": ["ssm:GetParameter", "ssm:GetParameters"],
            "Resource": ssm,
        },
        {
            "Sid": "TerraformStateOfThisProject",
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
            "Resource": f"arn:{spec.partition}:s3:::{state_bucket}/projects/{spec.project_id}/*",
        },
        {
            "Sid": "TerraformStateBucketAndLock",
            "Effect": "Allow",
            "Action": [
                "s3:ListBucket",
                "dynamodb:GetItem",
                "dynamodb:PutItem",
                "dynamodb:DeleteItem",
                "dynamodb:DescribeTable",
            ],
            "Resource": [
                f"arn:{spec.partition}:s3:::{state_bucket}",
                spec.arn("dynamodb", f"table/mlops-suite-{env}-tflock", region=region),
            ],
        },
        {
            "Sid": "ProjectSageMakerResources",
            "Effect": "Allow",
            "Action": [
                "sagemaker:Create*",
                "sagemaker:Update*",
                "sagemaker:Delete*",
                "sagemaker:Describe*",
                "sagemaker:AddTags",
                "sagemaker:ListTags",
                "sagemaker:StartPipelineExecution",
                "sagemaker:InvokeEndpoint",
                "sagemaker:StartMonitoringSchedule",
                "sagemaker:StopMonitoringSchedule",
            ],
            "Resource": sagemaker_resources,
        },
        {
            "Sid": "FollowPipelineExecutions",
            "Effect": "Allow",
            "Action": [
                "sagemaker:DescribePipelineExecution",
                "sagemaker:ListPipelineExecutionSteps",
            ],
            "Resource": spec.arn("sagemaker", f"pipeline/{sm}/execution/*", region=region),
        },
        {
            "Sid": "ProjectBucketInThisAccount",
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:PutObject", "s3:ListBucket"],
            "Resource": [
                f"arn:{spec.partition}:s3:::{project_bucket}",
                f"arn:{spec.partition}:s3:::{project_bucket}/*",
            ],
        },
        {
            "Sid": "PassTheExecutionRoleToSageMakerOnly",
            "Effect": "Allow",
            "Action": "iam:PassRole",
            "Resource": spec.arn("iam", "role/mlops-suite-*"),
            "Condition": {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
        },
        {
            "Sid": "ProjectPipelineSchedules",
            "Effect": "Allow",
            "Action": [
                "scheduler:CreateSchedule",
                "scheduler:UpdateSchedule",
                "scheduler:DeleteSchedule",
                "scheduler:GetSchedule",
            ],
            "Resource": spec.arn("scheduler", f"schedule/default/{schedule}", region=region),
        },
        {
            # The deploy workflow makes the role Scheduler starts the pipeline with; only with
            # the scheduler boundary, so the inline policy it writes there can grant nothing but
            # starting a pipeline.
            "Sid": "ProjectSchedulerRolesOnlyWithTheBoundary",
            "Effect": "Allow",
            "Action": ["iam:CreateRole", "iam:PutRolePermissionsBoundary"],
            "Resource": scheduler_role,
            "Condition": {"StringEquals": {"iam:PermissionsBoundary": scheduler_boundary}},
        },
        {
            "Sid": "ManageProjectSchedulerRoles",
            "Effect": "Allow",
            "Action": [
                "iam:GetRole",
                "iam:DeleteRole",
                "iam:UpdateAssumeRolePolicy",
                "iam:PutRolePolicy",
                "iam:GetRolePolicy",
                "iam:DeleteRolePolicy",
                "iam:ListRolePolicies",
                "iam:ListAttachedRolePolicies",
                "iam:ListInstanceProfilesForRole",
                "iam:ListRoleTags",
            ],
            "Resource": scheduler_role,
        },
        {
            "Sid": "ProjectSchedulerRolesCarryOnlyProjectTags",
            "Effect": "Allow",
            "Action": ["iam:TagRole", "iam:UntagRole"],
            "Resource": scheduler_role,
            "Condition": {
                "ForAllValues:StringEquals": {
                    "aws:TagKeys": [names.tag_key("project_name"), names.tag_key("project_id")]
                }
            },
        },
        {
            "Sid": "PassTheSchedulerRoleToSchedulerOnly",
            "Effect": "Allow",
            "Action": "iam:PassRole",
            "Resource": scheduler_role,
            "Condition": {"StringEquals": {"iam:PassedToService": "scheduler.amazonaws.com"}},
        },
        {
            "Sid": "ReadApprovedPackagesOfTheProjectGroupInDev",
            "Effect": "Allow",
            "Action": [
                "sagemaker:DescribeModelPackage",
                "sagemaker:ListModelPackages",
                "sagemaker:DescribeModelPackageGroup",
            ],
            "Resource": [
                spec.arn(
                    "sagemaker", f"model-package-group/{spec.group}", spec.dev_account_id, region
                ),
                spec.arn("sagemaker", f"model-package/{spec.group}/*", spec.dev_account_id, region),
            ],
        },
        {
            "Sid": "ReadModelArtifactsInDev",
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": f"arn:{spec.partition}:s3:::{dev_bucket}/*",
        },
        {
            "Sid": "DecryptDevArtifactsThroughS3Only",
            "Effect": "Allow",
            "Action": "kms:Decrypt",
            "Resource": spec.dev_kms_key_arn,
            "Condition": {"StringEquals": {"kms:ViaService": f"s3.{region}.amazonaws.com"}},
        },
    ]
    return {"Version": "2012-10-17", "Statement": statements}


def _tags(spec: RoleSpec) -> list[dict[str, str]]:
    return [
        {"Key": names.tag_key("project_name"), "Value": spec.project_name},
        {"Key": names.tag_key("project_id"), "Value": spec.project_id},
        {"Key": names.tag_key("managed_by"), "Value": MANAGED_BY},
    ]


def _owned(iam: Any, role_name: str) -> bool | None:
    """True if we manage the role, False if someone else does, None if it does not exist."""
    try:
        tags = iam.list_role_tags(RoleName=role_name)["Tags"]
    except iam.exceptions.NoSuchEntityException:
        return None
    return {t["Key"]: t["Value"] for t in tags}.get(names.tag_key("managed_by")) == MANAGED_BY


def apply(iam: Any, spec: RoleSpec) -> str:
    """Create or update the role in the account `iam` speaks to; return its ARN."""
    boundary = spec.arn("iam", f"policy/{names.pattern('platform_permissions_boundary')}")
    trust = json.dumps(trust_policy(spec))
    owned = _owned(iam, spec.role_name)
    if owned is False:
        raise ProvisionError(
            f"role {spec.role_name} exists in account {spec.account_id} but is not managed by "
            "mlops-suite: remove it or rename the project"
        )
    if owned is None:
        iam.create_role(
            RoleName=spec.role_name,
            AssumeRolePolicyDocument=trust,
            Description=f"GitHub Actions (environment {spec.environment}) of {spec.repo}",
            PermissionsBoundary=boundary,
            MaxSessionDuration=7200,
            Tags=_tags(spec),
        )
    else:
        iam.update_assume_role_policy(RoleName=spec.role_name, PolicyDocument=trust)
        iam.put_role_permissions_boundary(RoleName=spec.role_name, PermissionsBoundary=boundary)
    iam.put_role_policy(
        RoleName=spec.role_name,
        PolicyName=POLICY_NAME,
        PolicyDocument=json.dumps(permissions_policy(spec)),
    )
    return str(iam.get_role(RoleName=spec.role_name)["Role"]["Arn"])


def remove(iam: Any, spec: RoleSpec) -> bool:
    """Delete the role if we manage it; return whether it was there. Idempotent."""
    if not _owned(iam, spec.role_name):
        return False
    for policy in iam.list_role_policies(RoleName=spec.role_name)["PolicyNames"]:
        iam.delete_role_policy(RoleName=spec.role_name, PolicyName=policy)
    iam.delete_role(RoleName=spec.role_name)
    return True


def target_iam(sts: Any, spec: RoleSpec, session_factory: Any) -> Any:
    """An IAM client in the spec's target account through its provisioning role."""
    role = spec.arn("iam", f"role/{PROVISIONER_ROLE}")
    try:
        creds = sts.assume_role(
            RoleArn=role, RoleSessionName=f"deploy-roles-{spec.project_id}-{spec.environment}"
        )["Credentials"]
    except Exception as exc:
        raise ProvisionError(
            f"cannot assume {role}: every target account needs it, trusted by the dev account's "
            f"repo-creating Lambda (docs/platform-guide.md, roles a project gets) ({exc})"
        ) from exc
    return session_factory(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    ).client("iam")


def specs(properties: Mapping[str, Any]) -> list[RoleSpec]:
    """One spec per target environment from the custom resource's properties."""
    required = ("project_name", "project_id", "github_org", "repo", "dev_account_id",
                "preprod_account_id", "prod_account_id", "region", "dev_kms_key_arn")  # fmt: skip
    missing = [k for k in required if not properties.get(k)]
    if missing:
        raise ProvisionError(f"Custom::ProjectDeployRoles lacks {', '.join(missing)}")
    common = {k: str(properties[k]) for k in required if not k.endswith("_account_id")}
    return [
        RoleSpec(
            **common,
            environment=env,
            account_id=str(properties[f"{env}_account_id"]),
            dev_account_id=str(properties["dev_account_id"]),
            partition=str(properties.get("partition", "aws")),
            oidc_subject_prefix=str(properties.get("oidc_subject_prefix", "")),
        )
        for env in TARGET_ENVIRONMENTS
    ]


def handle(
    request_type: str, properties: Mapping[str, Any], sts: Any, session_factory: Any
) -> dict[str, str]:
    """Create/Update: apply the roles in every target account; Delete: remove them."""
    out: dict[str, str] = {}
    for spec in specs(properties):
        iam = target_iam(sts, spec, session_factory)
        if request_type == "Delete":
            remove(iam, spec)
        else:
            out[f"{spec.environment.capitalize()}RoleArn"] = apply(iam, spec)
    return out


def physical_id(properties: Mapping[str, Any]) -> str:
    """The resource's physical id: one set of roles per project and pair of target accounts.

    A new account in an Update therefore changes the id, and CloudFormation's clean-up Delete
    (with the old properties) removes the roles from the accounts left behind.
    """
    accounts = "-".join(str(properties.get(f"{env}_account_id", "")) for env in TARGET_ENVIRONMENTS)
    return f"{properties.get('project_id', '')}-deploy-roles-{accounts}"


def handle_request(
    request_type: str,
    properties: Mapping[str, Any],
    physical: str | None,
    sts: Any,
    session_factory: Any,
) -> tuple[str, dict[str, str], str]:
    """One CloudFormation request: (physical id, Data, reason).

    The Delete of a Create that failed before any role existed (CloudFormation's rollback, with
    the ``failed-`` physical id) succeeds even when no provisioning role can be assumed, so the
    rollback never hangs; any other Delete that cannot reach an account fails loudly.
    """
    if request_type == "Delete":
        try:
            handle("Delete", properties, sts, session_factory)
        except ProvisionError as exc:
            if not (physical or "").startswith("failed-"):
                raise
            return physical or "", {}, f"nothing to remove: the create had failed ({exc})"
        return physical or physical_id(properties), {}, "removed the project's deploy roles"
    data = handle(request_type, properties, sts, session_factory)
    new = physical_id(properties)
    return new, data, f"deploy roles in place: {', '.join(sorted(data.values()))}"[:250]
