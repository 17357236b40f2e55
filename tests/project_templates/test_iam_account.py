"""One dev account deployed into moto and judged as a whole: IAM analyzers and OIDC trust.

Deployed into moto's default account (where Terraform's STS calls land): the bootstrap stack
(CloudFormation), the platform's IAM from `terraform apply` of the real environment module
(targeted at its IAM resources and what they need: the KMS key, the VPC, the GitHub App secret,
the Lambdas' queues; Service Catalog, Studio and the functions themselves are not applied, moto
cannot serve them), and one stack of each project template. Then:

- cloudsplaining (privilege escalation, data exfiltration, resource exposure, credentials exposure)
  and parliament over `get-account-authorization-details`: no finding outside
  `iam_analysis_exclusions.yml`, whose every entry says why and is still needed; a seeded escalation
  path makes the check fail.
- every trust policy the bootstrap and the project templates wrote, evaluated against the claims
  GitHub puts in a job's OIDC token: the right repository and environment get in; another
  repository of the org, a recreated repository (same name, new id), a pull request and another
  environment do not.

Run by `nox -s iam_analysis` (installs cloudsplaining and parliament, provides terraform); without
terraform and the analyzers installed the module is skipped with the reason, never passed.
"""

from __future__ import annotations

import fnmatch
import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from project_templates_harness import (  # type: ignore[import-not-found]  # our conftest.py
    REGION,
    RecordingRepoHandler,
    RecordingTrigger,
    _questionnaire,
    load_template,
    seed_platform,
    stable_id,
)

from mlops_suite import names, rendering

ROOT = rendering.SUITE_ROOT
BOOTSTRAP = ROOT / "platform" / "bootstrap" / "bootstrap.yaml"
ENVIRONMENT_MODULE = ROOT / "platform" / "modules" / "environment"
EXCLUSIONS = Path(__file__).with_name("iam_analysis_exclusions.yml")
ACCOUNT = "123456789012"  # moto's default account: Terraform's requests carry no account header
ORG, PLATFORM_REPO = "my-org", "mlops-platform"
OIDC_HOST = "token.actions.githubusercontent.com"
CATEGORIES = ("PrivilegeEscalation", "DataExfiltration", "ResourceExposure", "CredentialsExposure")
PROJECTS = {  # template -> (project id, extra parameters)
    "model-building-training": ("p-iamacct00001", {}),
    "llm-training-evaluation": ("p-iamacct00002", {}),
    "model-building-training-deployment": (
        "p-iamacct00003",
        {
            "IncludeByoc": "true",
            "PreprodAccountId": "222222222222",
            "ProdAccountId": "333333333333",
        },
    ),
    "pipeline-promotion": (
        "p-iamacct00004",
        {"PreprodAccountId": "222222222222", "ProdAccountId": "333333333333"},
    ),
}
# Terraform resources the analysis applies: the platform's IAM (and what it references).
TF_TARGETS = (
    "module.platform.module.sagemaker_roles",
    "module.platform.module.networking.aws_iam_role_policy.flow_logs",
    "module.platform.module.clone_repo_lambda[0].aws_iam_role_policy.this",
    "module.platform.module.model_approval_lambda[0].aws_iam_role_policy.this",
    "module.platform.module.service_catalog[0].aws_iam_role_policy.launch",
    "module.platform.module.service_catalog[0].aws_iam_policy.project_github",
)
REQUIRED = bool(os.environ.get("MLOPS_IAM_ANALYSIS"))  # set by the nox session: no skipping


def _need(condition: bool, reason: str) -> None:
    if condition:
        return
    if REQUIRED:
        pytest.fail(f"iam_analysis cannot run: {reason}")
    pytest.skip(f"SKIPPED (run `nox -s iam_analysis`): {reason}")


# --- deploying the account --------------------------------------------------------------------


def _terraform_root(endpoint: str, workdir: Path) -> str:
    services = ["s3", "kms", "iam", "sts", "ssm", "lambda", "sqs", "logs", "ec2", "secretsmanager"]
    endpoints = "\n".join(f'    {svc} = "{endpoint}"' for svc in services)
    source = Path(os.path.relpath(ENVIRONMENT_MODULE, workdir)).as_posix()
    return f"""
provider "aws" {{
  region                      = "{REGION}"
  access_key                  = "testing"
  secret_key                  = "testing"
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
  s3_use_path_style           = true
  endpoints {{
{endpoints}
  }}
}}

module "platform" {{
  source        = "{source}"
  environment   = "dev"
  region        = "{REGION}"
  account_ids   = {{ dev = "{ACCOUNT}", preprod = "222222222222", prod = "333333333333" }}
  github_org    = "{ORG}"
  github_prod_reviewer_team = "ml-approvers"
  suite_release = "v0.1.0"
  vpc_cidr      = "10.80.0.0/16"
}}
"""


def apply_platform_iam(endpoint: str, workdir: Path) -> None:
    """`terraform apply` of the environment module's IAM resources against moto."""
    terraform = shutil.which("terraform")
    _need(terraform is not None, "terraform is not on PATH")
    # Offline, init finds the AWS provider only through the CLI config nox writes for the mirror.
    _need("TF_CLI_CONFIG_FILE" in os.environ, "no TF_CLI_CONFIG_FILE (the provider mirror config)")
    assert terraform
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "main.tf").write_text(_terraform_root(endpoint, workdir), encoding="utf-8")
    env = {**os.environ, "TF_IN_AUTOMATION": "1", "CHECKPOINT_DISABLE": "1"}
    targets = [f"-target={t}" for t in TF_TARGETS]
    for cmd in (
        [terraform, "init", "-input=false", "-no-color"],
        [terraform, "apply", "-auto-approve", "-input=false", "-no-color", *targets],
    ):
        proc = subprocess.run(cmd, cwd=workdir, env=env, capture_output=True, text=True)
        _need(
            proc.returncode == 0 or "apply" in cmd,
            f"terraform init failed (provider mirror?): {proc.stderr[-800:]}",
        )
        assert proc.returncode == 0, (
            f"{' '.join(cmd[:2])} failed:\n{proc.stdout[-4000:]}{proc.stderr[-4000:]}"
        )


@dataclass
class Account:
    """The deployed account: its authorization details and the GitHub ids its trusts name."""

    details: dict[str, Any]
    owner_id: int
    platform_repo_id: int
    project_repos: dict[str, list[str]]  # template -> full names of the repos it created


def export_details(moto: Any) -> dict[str, Any]:
    """`aws iam get-account-authorization-details`, all pages, as JSON-ready data."""
    iam = moto.client("iam", REGION, ACCOUNT)
    merged: dict[str, list[Any]] = {}
    for page in iam.get_paginator("get_account_authorization_details").paginate():
        for key, value in page.items():
            if isinstance(value, list):
                merged.setdefault(key, []).extend(value)
    data: dict[str, Any] = json.loads(json.dumps(merged, default=str))
    for policy in data.get("Policies", []):
        # moto 5.2.5 leaves out PolicyName and PolicyId, which AWS's export carries.
        policy.setdefault("PolicyName", policy["Arn"].rsplit("/", 1)[-1])
        policy.setdefault("PolicyId", "ANPA" + policy["Arn"].rsplit("/", 1)[-1].upper()[:17])
    return data


def deploy_bootstrap(moto: Any, account: str, subject_format: str) -> None:
    """The bootstrap stack for dev in `account`, trusting the platform repository."""
    # moto's CloudFormation has no AWS::IAM::OIDCProvider: make it with IAM, pass it as existing.
    provider = moto.client("iam", REGION, account).create_open_id_connect_provider(
        Url=f"https://{OIDC_HOST}", ClientIDList=["sts.amazonaws.com"], ThumbprintList=["0" * 40]
    )["OpenIDConnectProviderArn"]
    ids = {
        "PlatformRepoOwnerId": str(stable_id(ORG)),
        "PlatformRepoId": str(stable_id(f"{ORG}/{PLATFORM_REPO}")),
    }
    cfn = moto.client("cloudformation", REGION, account)
    stack = cfn.create_stack(
        StackName="mlops-suite-bootstrap-dev",
        TemplateBody=BOOTSTRAP.read_text(encoding="utf-8"),
        Parameters=[
            {"ParameterKey": k, "ParameterValue": v}
            for k, v in {
                "Environment": "dev",
                "GitHubOrg": ORG,
                "PlatformRepo": PLATFORM_REPO,
                "OidcSubjectFormat": subject_format,
                **(ids if subject_format == "immutable" else {}),
                "ExistingOidcProviderArn": provider,
            }.items()
        ],
        Capabilities=["CAPABILITY_NAMED_IAM"],
    )["StackId"]
    status = moto.wait(stack, account=account)
    assert status["StackStatus"] == "CREATE_COMPLETE", status.get("StackStatusReason")


@pytest.fixture(scope="module")
def account(moto_cfn: Any, tmp_path_factory: pytest.TempPathFactory) -> Account:
    owner_id, repo_id = stable_id(ORG), stable_id(f"{ORG}/{PLATFORM_REPO}")
    deploy_bootstrap(moto_cfn, ACCOUNT, "immutable")
    apply_platform_iam(moto_cfn.endpoint, tmp_path_factory.mktemp("tf") / "iam")
    handler = RecordingRepoHandler(_questionnaire)
    seed_platform(moto_cfn, REGION, ORG, handler, RecordingTrigger(), account=ACCOUNT)
    repos: dict[str, list[str]] = {}
    for template, (project_id, extra) in PROJECTS.items():
        tpl = load_template(ROOT / "project-templates" / f"{template}.yaml")
        given = {
            "SageMakerProjectName": "Iam-Prj",
            "SageMakerProjectId": project_id,
            "ProjectName": f"iam-{project_id[-2:]}",
            "Owner": "ml-team",
            **{k: v for k, v in extra.items() if k in tpl.parameters},
        }
        before = len(handler.data)
        stack_id = moto_cfn.create_stack(tpl, template, given, account=ACCOUNT)
        done = moto_cfn.wait(stack_id, account=ACCOUNT)
        assert done["StackStatus"] == "CREATE_COMPLETE", (template, done.get("StackStatusReason"))
        repos[template] = [d["FullName"] for d in list(handler.data.values())[before:]]
    details = export_details(moto_cfn)
    if os.environ.get("MLOPS_IAM_EXPORT"):  # the nox session keeps the export it judged
        out = Path(os.environ["MLOPS_IAM_EXPORT"])
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(details, indent=1, sort_keys=True), encoding="utf-8")
    return Account(details, owner_id, repo_id, repos)


# --- the analyzers ------------------------------------------------------------------------------


def load_exclusions() -> dict[str, list[dict[str, str]]]:
    """The exclusion file; every entry names what it excludes and says why."""
    data: dict[str, list[dict[str, str]]] = yaml.safe_load(EXCLUSIONS.read_text(encoding="utf-8"))
    for tool, entries in data.items():
        assert tool in {"cloudsplaining", "parliament"}, tool
        for entry in entries:
            assert len(str(entry.get("why", "")).split()) >= 8, f"{tool} {entry}: say why"
    return data


def cloudsplaining_findings(details: dict[str, Any]) -> list[dict[str, str]]:
    """One row per (policy, category, finding) that cloudsplaining reports."""
    from cloudsplaining.scan.authorization_details import AuthorizationDetails
    from cloudsplaining.shared.exclusions import Exclusions

    # Conditions do not hide a statement: the gate and the tag scopes are judged by the tests.
    results = AuthorizationDetails(
        details, exclusions=Exclusions({}), flag_conditional_statements=True
    ).results
    rows = []
    for kind in ("inline_policies", "customer_managed_policies"):
        for policy in results.get(kind, {}).values():
            for category in CATEGORIES:
                for finding in policy.get(category, {}).get("findings", []):
                    label = finding["type"] if isinstance(finding, dict) else str(finding)
                    rows.append(
                        {"policy": policy["PolicyName"], "category": category, "finding": label}
                    )
    return rows


def _policy_documents(details: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    docs = []
    for role in details.get("RoleDetailList", []):
        docs.append((f"{role['RoleName']}/trust", role["AssumeRolePolicyDocument"]))
        for inline in role.get("RolePolicyList", []):
            docs.append((f"{role['RoleName']}/{inline['PolicyName']}", inline["PolicyDocument"]))
    for policy in details.get("Policies", []):
        (default,) = [v for v in policy["PolicyVersionList"] if v["IsDefaultVersion"]]
        document = default["Document"]
        docs.append(
            (policy["PolicyName"], json.loads(document) if isinstance(document, str) else document)
        )
    return docs


def parliament_findings(details: dict[str, Any]) -> list[dict[str, str]]:
    """One row per (policy, issue) parliament reports on the account's policies."""
    from parliament import analyze_policy_string

    rows = []
    for where, doc in _policy_documents(details):
        policy = analyze_policy_string(
            json.dumps(doc), ignore_private_auditors=True, include_community_auditors=False
        )
        for finding in policy.findings:
            rows.append({"policy": where, "issue": finding.issue, "detail": str(finding.detail)})
    return rows


def _matches(entry: dict[str, str], row: dict[str, str]) -> bool:
    return all(fnmatch.fnmatchcase(row.get(k, ""), str(v)) for k, v in entry.items() if k != "why")


def unexcluded(rows: list[dict[str, str]], entries: list[dict[str, str]]) -> list[dict[str, str]]:
    return [r for r in rows if not any(_matches(e, r) for e in entries)]


def analyzer_problems(details: dict[str, Any]) -> list[str]:
    """Findings no exclusion covers, and exclusions no finding needs any more."""
    exclusions = load_exclusions()
    problems = []
    for tool, rows in (
        ("cloudsplaining", cloudsplaining_findings(details)),
        ("parliament", parliament_findings(details)),
    ):
        entries = exclusions.get(tool, [])
        problems += [f"{tool}: {r}" for r in unexcluded(rows, entries)]
        problems += [
            f"{tool}: stale exclusion {e}" for e in entries if not any(_matches(e, r) for r in rows)
        ]
    return problems


@pytest.fixture(scope="module")
def analyzers() -> None:
    for module in ("cloudsplaining", "parliament"):
        try:
            __import__(module)
        except ImportError as exc:
            _need(False, f"{module} cannot be imported: {exc}")


def test_the_account_holds_every_layer(account: Account) -> None:
    """The export sees the bootstrap, the Terraform and the project stacks (guards the rest)."""
    roles = {r["RoleName"] for r in account.details["RoleDetailList"]}
    policies = {p["PolicyName"] for p in account.details["Policies"]}
    for role in (
        "mlops-suite-platform-dev",
        "mlops-suite-platform-dev-plan",
        "mlops-suite-dev-sagemaker-execution",
        "mlops-suite-dev-studio-data-scientist",
        "mlops-suite-dev-studio-model-approver",
        "mlops-suite-dev-project-launch",
        "mlops-suite-clone-repo",
        *(
            names.pattern("github_actions_role", project_id=p, environment="dev")
            for p, _ in PROJECTS.values()
        ),
    ):
        assert any(r.startswith(role) for r in roles), f"{role} not deployed: {sorted(roles)}"
    for policy in ("platform_permissions_boundary", "project_permissions_boundary"):
        assert names.pattern(policy) in policies
    assert names.pattern("project_github_policy", environment="dev") in policies


def test_analyzers_find_nothing_unexcluded(account: Account, analyzers: None) -> None:
    problems = analyzer_problems(account.details)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    ("seeded", "policy"),
    [
        (["iam:PassRole", "lambda:CreateFunction", "lambda:InvokeFunction"], "pass-to-lambda"),
        (["iam:PutRolePolicy"], "put-role-policy"),
        (["secretsmanager:GetSecretValue"], "read-every-secret"),
    ],
)
def test_a_seeded_escalation_fails_the_check(
    account: Account, analyzers: None, moto_cfn: Any, seeded: list[str], policy: str
) -> None:
    """A role given a known escalation or exfiltration path in the same account is reported."""
    iam = moto_cfn.client("iam", REGION, ACCOUNT)
    name = f"mlops-suite-dev-seeded-{policy}"
    iam.create_role(
        RoleName=name,
        AssumeRolePolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "lambda.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
        ),
    )
    try:
        iam.put_role_policy(
            RoleName=name,
            PolicyName=policy,
            PolicyDocument=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Action": seeded, "Resource": "*"}],
                }
            ),
        )
        problems = analyzer_problems(export_details(moto_cfn))
    finally:
        iam.delete_role_policy(RoleName=name, PolicyName=policy)
        iam.delete_role(RoleName=name)
    assert any(p.startswith("cloudsplaining") and f"'policy': '{policy}'" in p for p in problems), (
        problems
    )


# --- OIDC trust, evaluated ------------------------------------------------------------------------


def github_claims(
    org: str,
    owner_id: int,
    repo: str,
    repo_id: int,
    *,
    environment: str | None = None,
    pull_request: bool = False,
    immutable: bool = True,
) -> dict[str, str]:
    """The claims of a GitHub Actions job's OIDC token that AWS sees as condition keys."""
    prefix = f"repo:{org}@{owner_id}/{repo}@{repo_id}" if immutable else f"repo:{org}/{repo}"
    if pull_request:
        sub = f"{prefix}:pull_request"
    elif environment:
        sub = f"{prefix}:environment:{environment}"
    else:
        sub = f"{prefix}:ref:refs/heads/main"
    return {f"{OIDC_HOST}:sub": sub, f"{OIDC_HOST}:aud": "sts.amazonaws.com"}


def _condition_holds(operator: str, block: dict[str, Any], context: dict[str, str]) -> bool:
    """IAM's StringEquals and StringLike (values OR-ed, keys AND-ed); anything else is refused."""
    for key, wanted in block.items():
        values = wanted if isinstance(wanted, list) else [wanted]
        have = context.get(key)
        if have is None:
            return False
        if operator == "StringEquals":
            if have not in values:
                return False
        elif operator == "StringLike":
            if not any(fnmatch.fnmatchcase(have, str(v)) for v in values):
                return False
        else:
            raise AssertionError(f"the evaluator does not know condition operator {operator}")
    return True


def may_assume(trust: dict[str, Any], provider: str, context: dict[str, str]) -> bool:
    """Whether a web-identity token from `provider` with `context` may assume the role."""
    allowed = False
    for st in trust["Statement"]:
        actions = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
        if "sts:AssumeRoleWithWebIdentity" not in actions:
            continue
        if st.get("Principal", {}).get("Federated") != provider:
            continue
        if all(_condition_holds(op, b, context) for op, b in st.get("Condition", {}).items()):
            if st["Effect"] == "Deny":
                return False
            allowed = True
    return allowed


def _trust_of(account: Account, role: str) -> dict[str, Any]:
    (found,) = [r for r in account.details["RoleDetailList"] if r["RoleName"] == role]
    doc: dict[str, Any] = found["AssumeRolePolicyDocument"]
    return doc


PROVIDER = f"arn:aws:iam::{ACCOUNT}:oidc-provider/{OIDC_HOST}"


@pytest.mark.parametrize(
    ("role", "environment"),
    [("mlops-suite-platform-dev", "dev"), ("mlops-suite-platform-dev-plan", "dev-plan")],
)
def test_bootstrap_roles_let_in_only_the_platform_repo_and_environment(
    account: Account, role: str, environment: str
) -> None:
    trust = _trust_of(account, role)
    org_id, repo_id = account.owner_id, account.platform_repo_id

    def ok(**kw: Any) -> bool:
        args = {"org": ORG, "owner_id": org_id, "repo": PLATFORM_REPO, "repo_id": repo_id, **kw}
        return may_assume(trust, PROVIDER, github_claims(**args))

    assert ok(environment=environment), "the platform repository's own job is refused"
    assert not ok(repo="other-repo", repo_id=repo_id + 1, environment=environment)
    assert not ok(repo_id=repo_id + 7, environment=environment), "recreated repository let in"
    assert not ok(owner_id=org_id + 3, environment=environment), "recreated org let in"
    assert not ok(pull_request=True)
    assert not ok(environment="prod")
    assert not ok(environment="dev-plan" if environment == "dev" else "dev")
    assert not ok(environment=environment, immutable=False), "name-only form let in"
    assert not may_assume(
        trust,
        PROVIDER.replace(ACCOUNT, "999999999999"),
        github_claims(ORG, org_id, PLATFORM_REPO, repo_id, environment=environment),
    )


@pytest.mark.parametrize("template", list(PROJECTS))
def test_project_roles_let_in_only_their_repositories_in_dev(
    account: Account, template: str
) -> None:
    project_id, _ = PROJECTS[template]
    trust = _trust_of(
        account, names.pattern("github_actions_role", project_id=project_id, environment="dev")
    )
    repos = account.project_repos[template]
    assert repos, f"{template} created no repository"
    org_id = stable_id(ORG)
    for full_name in repos:
        org, repo = full_name.split("/", 1)
        repo_id = stable_id(full_name)

        def ok(org: str = org, repo: str = repo, repo_id: int = repo_id, **kw: Any) -> bool:
            claims = github_claims(org, org_id, repo, repo_id, **kw)
            return may_assume(trust, PROVIDER, claims)

        assert ok(environment="dev"), f"{full_name}'s own dev job is refused"
        assert not ok(repo=f"{repo}-fork", repo_id=repo_id + 1, environment="dev")
        assert not ok(repo_id=repo_id + 11, environment="dev"), "recreated repository let in"
        assert not ok(pull_request=True)
        assert not ok(environment="prod")
        assert not ok(environment="preprod")
        assert not ok(), "a job without an environment let in"
        assert not ok(environment="dev", immutable=False), "name-only form let in"
    # Another project's repository of the same org never gets this project's role.
    others = [r for t, rs in account.project_repos.items() if t != template for r in rs]
    for other in others:
        org, repo = other.split("/", 1)
        claims = github_claims(org, org_id, repo, stable_id(other), environment="dev")
        assert not may_assume(trust, PROVIDER, claims), f"{other} let into {template}"


def test_the_evaluator_refuses_operators_it_does_not_know() -> None:
    trust = {
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": PROVIDER},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {"ForAnyValue:StringLike": {f"{OIDC_HOST}:sub": "*"}},
            }
        ]
    }
    with pytest.raises(AssertionError, match="does not know"):
        may_assume(trust, PROVIDER, github_claims(ORG, 1, "x", 2, environment="dev"))


def test_the_evaluator_lets_in_a_wildcard_it_should() -> None:
    """StringLike with a repo wildcard admits every repository: the shape the trusts avoid."""
    trust = {
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": PROVIDER},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {"StringLike": {f"{OIDC_HOST}:sub": f"repo:{ORG}/*"}},
            }
        ]
    }
    claims = github_claims(ORG, 1, "anything", 2, environment="prod", immutable=False)
    assert may_assume(trust, PROVIDER, claims)


NAME_ONLY_ACCOUNT = "210987654321"  # a GitHub Enterprise Server platform: name-only subjects


@pytest.fixture(scope="module")
def name_only_details(moto_cfn: Any) -> dict[str, Any]:
    deploy_bootstrap(moto_cfn, NAME_ONLY_ACCOUNT, "name-only")
    iam = moto_cfn.client("iam", REGION, NAME_ONLY_ACCOUNT)
    return {
        role: iam.get_role(RoleName=role)["Role"]["AssumeRolePolicyDocument"]
        for role in ("mlops-suite-platform-dev", "mlops-suite-platform-dev-plan")
    }


@pytest.mark.parametrize(
    ("role", "environment"),
    [("mlops-suite-platform-dev", "dev"), ("mlops-suite-platform-dev-plan", "dev-plan")],
)
def test_name_only_bootstrap_trusts_the_repository_by_name(
    name_only_details: dict[str, Any], role: str, environment: str
) -> None:
    """OidcSubjectFormat name-only (GitHub Enterprise Server): the name-only subject of the
    platform repository's environment gets in, nothing else does."""
    trust = name_only_details[role]
    provider = f"arn:aws:iam::{NAME_ONLY_ACCOUNT}:oidc-provider/{OIDC_HOST}"

    def ok(repo: str = PLATFORM_REPO, **kw: Any) -> bool:
        claims = github_claims(ORG, 1, repo, 2, immutable=False, **kw)
        return may_assume(trust, provider, claims)

    assert ok(environment=environment)
    assert not ok(repo="other-repo", environment=environment)
    assert not ok(pull_request=True)
    assert not ok(environment="prod")
    assert not ok()
