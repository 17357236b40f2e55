"""The platform's side in the three accounts, from the platform's own definitions.

Each account gets the bootstrap stack (platform/bootstrap/bootstrap.yaml, created through moto's
CloudFormation by the account's administrator, as the platform guide says: once per account). The
values the platform's Terraform publishes (platform/environments/<env>) are then written by the
bootstrap's apply role, with the names from names.json: SSM parameters, the platform KMS key,
the SageMaker execution role, network ids, the two Lambdas and the GitHub App secret in dev, the
provisioning role in preprod and prod, the approver's role. Terraform itself is not applied to
moto here (moto cannot serve Studio or Service Catalog; `nox -s terraform_moto` applies the
modules it can).
"""

from __future__ import annotations

import contextlib
import io
import json
import zipfile
from dataclasses import dataclass, field
from typing import Any

from mlops_suite import cfn_yaml, names, rendering
from mlops_suite.demo.accounts import Accounts, Credentials
from mlops_suite.handlers.deploy_roles import PROVISIONER_ROLE
from mlops_suite.local import cloudformation

BOOTSTRAP = rendering.SUITE_ROOT / "platform" / "bootstrap" / "bootstrap.yaml"
PLATFORM_REPO = "mlops-platform"
REVIEWERS = "platform-approvers"
RELEASE = "v0.0.0-demo"
LAMBDA_ROLE = "mlops-suite-lambda"
CLONE_REPO = "mlops-suite-clone-repo"
TRIGGER = "mlops-suite-model-approval-trigger"
HOW = (
    "bootstrap stack applied through CloudFormation in each account; the platform Terraform's "
    "outputs written from names.json (Terraform not applied)"
)


@dataclass
class Platform:
    """What the platform put in each account, for the later stages."""

    accounts: Accounts
    org: str
    lambda_arns: dict[str, str] = field(default_factory=dict)  # CLONE_REPO/TRIGGER -> ARN
    kms_key_arns: dict[str, str] = field(default_factory=dict)  # env -> ARN
    execution_roles: dict[str, str] = field(default_factory=dict)  # env -> ARN
    bootstrap_stacks: dict[str, str] = field(default_factory=dict)  # env -> stack id

    def lambda_credentials(self) -> Credentials:
        """What Lambda hands the platform's functions: their role's credentials in dev."""
        return self.accounts.assume("dev", LAMBDA_ROLE, "mlops-suite-lambda")


def _trust(service: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
            ],
        }
    )


def _role(iam: Any, name: str, trust: str) -> str:
    with contextlib.suppress(iam.exceptions.EntityAlreadyExistsException):
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust)
    return str(iam.get_role(RoleName=name)["Role"]["Arn"])


def bootstrap(accounts: Accounts, env: str, org: str) -> str:
    """Create the bootstrap stack in `env`'s account as its administrator; return the stack id."""
    text = BOOTSTRAP.read_text(encoding="utf-8")
    stack = cloudformation.create_stack(
        accounts.administrator(env, "cloudformation"),
        f"mlops-suite-bootstrap-{env}",
        text,
        cfn_yaml.load(text),
        {
            "Environment": env,
            "GitHubOrg": org,
            "PlatformRepo": PLATFORM_REPO,
            "OidcSubjectFormat": "name-only",
        },
        {names.tag_key("managed_by"): "bootstrap"},
    )
    return str(stack["StackId"])


def _network(ec2: Any, region: str) -> dict[str, str]:
    vpc = ec2.create_vpc(CidrBlock="10.80.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.80.{i}.0/24", AvailabilityZone=f"{region}{z}")[
            "Subnet"
        ]["SubnetId"]
        for i, z in enumerate("ab", start=1)
    ]
    group = ec2.create_security_group(
        GroupName="mlops-suite-sagemaker", Description="SageMaker jobs and endpoints", VpcId=vpc
    )["GroupId"]
    return {"vpc_id": vpc, "private_subnet_ids": ",".join(subnets), "security_group_id": group}


def _lambdas(accounts: Accounts, creds: Credentials) -> dict[str, str]:
    """The two platform functions in dev (code runs in-process; moto only holds them)."""
    iam, lam = accounts.client(creds, "iam"), accounts.client(creds, "lambda")
    role = _role(iam, LAMBDA_ROLE, _trust("lambda.amazonaws.com"))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("handler.py", "def handler(event, context):\n    return None\n")
    arns = {}
    for name, entry in (
        (CLONE_REPO, "mlops_suite.handlers.clone_repo.handler"),
        (TRIGGER, "mlops_suite.handlers.model_approval.handler"),
    ):
        arns[name] = lam.create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=role,
            Handler=entry,
            Code={"ZipFile": buf.getvalue()},
        )["FunctionArn"]
    return arns


def seed(accounts: Accounts, gh: Any, org: str) -> Platform:
    """Bootstrap every account, then publish what the platform's Terraform would."""
    platform = Platform(accounts, org)
    region = accounts.region
    for env in names.environments():
        platform.bootstrap_stacks[env] = bootstrap(accounts, env, org)
        creds = accounts.platform(env)
        iam, ssm = accounts.client(creds, "iam"), accounts.client(creds, "ssm")
        key = accounts.client(creds, "kms").create_key(Description=f"mlops-suite {env} data")
        platform.kms_key_arns[env] = key["KeyMetadata"]["Arn"]
        platform.execution_roles[env] = _role(
            iam, f"mlops-suite-{env}-sagemaker-execution", _trust("sagemaker.amazonaws.com")
        )
        values = {
            "kms_key_arn": platform.kms_key_arns[env],
            "sagemaker_execution_role_arn": platform.execution_roles[env],
            **{f"{e}_account_id": accounts.ids[e] for e in names.environments()},
            **_network(accounts.client(creds, "ec2"), region),
        }
        if env == "dev":
            platform.lambda_arns = _lambdas(accounts, creds)
            secret = accounts.client(creds, "secretsmanager").create_secret(
                Name="mlops-suite/github-app",
                SecretString=json.dumps(
                    {"app_id": gh.app_id, "private_key": gh.app_private_key_pem}
                ),
            )["ARN"]
            values |= {
                "clone_repo_lambda_arn": platform.lambda_arns[CLONE_REPO],
                "model_approval_lambda_arn": platform.lambda_arns[TRIGGER],
                "github_org": org,
                "github_app_secret_arn": secret,
                "github_prod_reviewer_team": REVIEWERS,
                "suite_git_url": names.load()["suite_git_url_default"],
                "suite_release": RELEASE,
            }
            # The policy the project templates' dev role carries (platform/modules/service_catalog).
            with contextlib.suppress(iam.exceptions.EntityAlreadyExistsException):
                iam.create_policy(
                    PolicyName=names.pattern("project_github_policy", environment="dev"),
                    PolicyDocument=json.dumps(
                        {
                            "Version": "2012-10-17",
                            "Statement": [
                                {
                                    "Effect": "Allow",
                                    "Action": "sagemaker:*",
                                    "Resource": "*",
                                }
                            ],
                        }
                    ),
                )
            _role(
                iam,
                names.pattern("approver_role", environment="dev"),
                _trust("sagemaker.amazonaws.com"),
            )
        else:
            # Trusted by the dev account's Lambda role (docs/architecture.md).
            _role(
                iam,
                PROVISIONER_ROLE,
                json.dumps(
                    {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Principal": {"AWS": accounts.role_arn("dev", LAMBDA_ROLE)},
                                "Action": "sts:AssumeRole",
                            }
                        ],
                    }
                ),
            )
        for key_name, value in values.items():
            ssm.put_parameter(
                Name=names.ssm_parameter(key_name),
                Value=value,
                Type="StringList" if key_name == "private_subnet_ids" else "String",
                Overwrite=True,
            )
    return platform
