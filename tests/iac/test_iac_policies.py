"""IAM policy rules for the platform's Terraform, the bootstrap stack and the project templates."""

from __future__ import annotations

import re
from typing import Any

import pytest

Iac = Any  # the `iac` fixture of tests/iac/conftest.py

# Actions that AWS does not let a policy scope to a resource ARN, or that only write telemetry;
# they may appear with Resource "*". Everything else on "*" must be a read (Describe/Get/List/...).
UNSCOPABLE = {
    "ecr:GetAuthorizationToken",
    "cloudwatch:PutMetricData",
    "ec2:CreateNetworkInterface",
    "ec2:DeleteNetworkInterface",
    "ec2:AssignPrivateIpAddresses",
    "ec2:UnassignPrivateIpAddresses",
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
    "kms:CreateKey",
    "sts:GetCallerIdentity",
    "cloudformation:ValidateTemplate",
    "cloudformation:GetTemplateSummary",
    "iam:CreateServiceLinkedRole",
    # Private DNS of interface endpoints: the hosted zone is AWS's, its ARN is not known up front.
    "route53:AssociateVPCWithHostedZone",
    # Service Catalog end-user and admin calls without resource-level support; who may use a
    # product is decided by the portfolio's principal associations and launch constraint.
    "servicecatalog:SearchProducts",
    "servicecatalog:DescribeProduct",
    "servicecatalog:DescribeProductView",
    "servicecatalog:DescribeProvisioningParameters",
    "servicecatalog:ListLaunchPaths",
    "servicecatalog:ProvisionProduct",
    "servicecatalog:DescribeProvisionedProduct",
    "servicecatalog:DescribeRecord",
    "servicecatalog:SearchProvisionedProducts",
    "servicecatalog:TerminateProvisionedProduct",
    "servicecatalog:UpdateProvisionedProduct",
    "servicecatalog:CreatePortfolio",
    "servicecatalog:CreateProduct",
    "servicecatalog:CreateConstraint",
    "servicecatalog:DescribeConstraint",
    "servicecatalog:DeleteConstraint",
    "servicecatalog:UpdateConstraint",
    "servicecatalog:SearchProductsAsAdmin",
    "servicecatalog:ListPortfolios",
}
READ_VERBS = ("Describe", "Get", "List", "Search")
# Reads on "*" that would expose data, not configuration.
DATA_READS = {
    "s3:GetObject",
    "secretsmanager:GetSecretValue",
    "ssm:GetParameter",
    "ssm:GetParameters",
}
OIDC_HOST = "token.actions.githubusercontent.com"
# GitHub's immutable subject (owner and repository ids), the name-only one (GitHub Enterprise
# Server, chosen by the bootstrap's OidcSubjectFormat), or the prefix the repo-creating Lambda
# read from GitHub (`${<Repository>.OidcSubjectPrefix}`), always with one environment.
_NAME = r"[A-Za-z0-9${}_.-]+"
SUB_PATTERN = re.compile(
    rf"^(repo:{_NAME}(@\$\{{\w+\}})?/{_NAME}(@\$\{{\w+\}})?|\$\{{\w+\.OidcSubjectPrefix\}})"
    rf":environment:{_NAME}$"
)


def _text(value: Any) -> str:
    """Render a CloudFormation value (plain or Fn::Sub) as text for pattern checks."""
    if isinstance(value, dict) and "Fn::Sub" in value:
        sub = value["Fn::Sub"]
        return str(sub[0] if isinstance(sub, list) else sub)
    return str(value)


def _alternatives(value: Any) -> list[Any]:
    """A CloudFormation value's possible values: both branches of Fn::If, AWS::NoValue dropped."""
    if isinstance(value, dict) and "Fn::If" in value:
        _, then, otherwise = value["Fn::If"]
        return [*_alternatives(then), *_alternatives(otherwise)]
    if value == {"Ref": "AWS::NoValue"}:
        return []
    return [value]


def _all_statements(iac: Iac) -> list[tuple[str, dict[str, Any], str]]:
    """(where, statement, kind) for every statement of every layer."""
    found = [(where, st, "tf") for where, st in iac.tf_statements()]
    for doc in iac.cfn_policies():
        found += [(doc.where, st, doc.kind) for st in doc.statements]
    return found


def test_policies_are_found(iac: Iac) -> None:
    """The readers see the policies (guards every other test here against passing on nothing)."""
    tf_sids = {st.get("Sid") for _, st in iac.tf_statements()}
    assert len(tf_sids) >= 40, sorted(map(str, tf_sids))
    for sid in (
        "DenyInsecureTransport",
        "ReadOwnProjectModelPackages",
        "OwnLogGroup",
        "PlatformKey",
    ):
        assert sid in tf_sids, f"{sid} not found in the Terraform locals"
    cfn = {doc.where for doc in iac.cfn_policies()}
    for where in (
        "bootstrap/PlanRole",
        "bootstrap/ApplyRole/terraform-apply",
        "bootstrap/PlatformBoundary",
    ):
        assert where in cfn, f"{where} not found in bootstrap.yaml"


def test_every_terraform_policy_is_a_readable_local(iac: Iac) -> None:
    """Policies are jsonencode(local.x): no inline JSON, heredocs or policy documents to hide in."""
    refs = iac.tf_policy_references()
    assert len(refs) >= 12
    for where, expr in refs:
        assert re.fullmatch(r"\$\{jsonencode\(local\.\w+(\[each\.key\])?\)\}", expr), (
            f"{where} = {expr}: build the policy as a locals object, pass jsonencode(local.<name>)"
        )
    for mod in iac.modules.values():
        for lname, value in mod.locals.items():
            if isinstance(value, str) and "Effect" in value:
                # The only statements not visible as literals are built from validated variables.
                assert re.match(r"^\$\{\[\s*for \w+ in var\.\w+", value), (
                    f"{mod.path.name}/local.{lname} hides statements in an expression; "
                    "write statements as list literals in their own local"
                )


def test_no_administrator_access_anywhere(iac: Iac) -> None:
    """No AWS-managed admin policy is attached or referenced by the platform or the templates."""
    files = [
        *iac.platform.rglob("*.tf"),
        *iac.platform.rglob("*.yaml"),
        *iac.project_templates_dir.glob("*.yaml"),
    ]
    assert files
    for path in files:
        text = path.read_text(encoding="utf-8")
        for banned in ("AdministratorAccess", "PowerUserAccess", "IAMFullAccess"):
            assert banned not in text, f"{path} mentions {banned}"


def test_no_wildcard_action_on_wildcard_resource(iac: Iac) -> None:
    """No Allow of "*" (or iam:*), and nothing but reads or unscopable calls on Resource "*"."""
    for where, st, _ in _all_statements(iac):
        if st.get("Effect") != "Allow":
            continue
        actions = [str(a) for a in iac.as_list(st.get("Action", []))]
        assert "NotAction" not in st, f"{where}: NotAction"
        assert "NotResource" not in st, f"{where}: NotResource"
        assert "*" not in actions, f"{where} {st.get('Sid')}: Action '*'"
        assert "iam:*" not in actions, f"{where} {st.get('Sid')}: Action 'iam:*'"
        resources = [_text(r) for r in iac.as_list(st.get("Resource", []))]
        if "*" not in resources or "Principal" in st:
            # Resource policies (key policies, bucket policies) scope by principal and condition.
            # Boundaries are held to the same rule as the roles under them: a wide ceiling is
            # one inline policy away from a wide role.
            continue
        for action in actions:
            verb = action.split(":", 1)[-1]
            if action in UNSCOPABLE:
                continue
            assert verb.startswith(READ_VERBS), (
                f"{where} {st.get('Sid')}: {action} on Resource '*' - scope it to ARNs"
            )
            assert not action.endswith(":*"), f"{where} {st.get('Sid')}: {action} on '*'"
            assert action not in DATA_READS, f"{where} {st.get('Sid')}: {action} reads data on '*'"


def test_key_policy_wildcards_need_the_account_root_or_a_condition(iac: Iac) -> None:
    """Resource policies never allow everyone; service-wide actions only to the account root."""
    for where, st, _ in _all_statements(iac):
        if st.get("Effect") != "Allow" or "Principal" not in st:
            continue
        principal = st["Principal"]
        assert principal not in ("*", {"AWS": "*"}), f"{where}: Allow to everyone"
        actions = [str(a) for a in iac.as_list(st.get("Action", []))]
        if any(a.endswith(":*") for a in actions):
            aws = [_text(p) for p in iac.as_list(principal.get("AWS", []))]
            assert aws, f"{where} {st.get('Sid')}: service-wide actions to a service"
            assert all(p.endswith((":root}", ":root")) for p in aws), (
                f"{where} {st.get('Sid')}: service-wide actions only for the account root"
            )


def test_every_oidc_trust_names_repo_and_environment(iac: Iac) -> None:
    """GitHub OIDC trusts pin the audience and a subject of one repo and one environment."""
    trusts: dict[str, int] = {}
    for where, st, _ in _all_statements(iac):
        actions = [str(a) for a in iac.as_list(st.get("Action", []))]
        federated = (
            st.get("Principal", {}).get("Federated")
            if isinstance(st.get("Principal"), dict)
            else None
        )
        if "sts:AssumeRoleWithWebIdentity" not in actions and not (
            federated and OIDC_HOST in _text(federated)
        ):
            continue
        file = where.split("/", 1)[0]
        trusts[file] = trusts.get(file, 0) + 1
        cond = st.get("Condition", {})
        equals = cond.get("StringEquals", {})
        assert equals.get(f"{OIDC_HOST}:aud") == "sts.amazonaws.com", (
            f"{where}: aud must be sts.amazonaws.com"
        )
        subs = [
            _text(s)
            for value in iac.as_list(equals.get(f"{OIDC_HOST}:sub", []))
            for s in _alternatives(value)
        ]
        assert subs, f"{where}: the sub condition must be StringEquals (no wildcards)"
        for sub in subs:
            assert "*" not in sub, f"{where}: sub {sub!r} has a wildcard"
            assert SUB_PATTERN.match(sub), (
                f"{where}: sub {sub!r} must be repo:<org>@<owner id>/<repo>@<repo id>:environment:"
                "<env>, its name-only form, or ${<Repository>.OidcSubjectPrefix}:environment:<env>"
            )
        assert "StringLike" not in cond or f"{OIDC_HOST}:sub" not in cond["StringLike"], (
            f"{where}: StringLike on sub allows wildcards"
        )
    assert trusts.get("bootstrap", 0) >= 2, "the bootstrap's plan and apply roles must be found"
    for name in iac.project_templates:
        assert trusts.get(name) == 1, f"{name}: its GitHub Actions dev role's trust must be found"


def _project_github_roles(iac: Iac) -> list[tuple[str, dict[str, Any]]]:
    return [
        (f"{name}/{logical}", res["Properties"])
        for name, tpl in iac.project_templates.items()
        for logical, res in tpl["Resources"].items()
        if res["Type"] == "AWS::IAM::Role"
    ]


def test_project_github_roles_are_named_bounded_and_dev_only(iac: Iac) -> None:
    """Each project template creates its dev role: names.json name, project boundary, env dev,
    and permissions only from the platform's project policy (no inline policy)."""
    roles = _project_github_roles(iac)
    assert len(roles) == len(iac.project_templates) == 4
    patterns = iac.names["patterns"]
    name = patterns["github_actions_role"].format(
        project_id="${SageMakerProjectId}", environment="dev"
    )
    arn = "arn:${AWS::Partition}:iam::${AWS::AccountId}:policy/"
    boundary = arn + patterns["project_permissions_boundary"]
    policy = arn + patterns["project_github_policy"].format(environment="dev")
    for where, props in roles:
        assert _text(props["RoleName"]) == name, where
        assert _text(props["PermissionsBoundary"]) == boundary, where
        assert "Policies" not in props, f"{where}: inline policies are the launch role's to write"
        assert [_text(a) for a in props["ManagedPolicyArns"]] == [policy], where
        (trust,) = props["AssumeRolePolicyDocument"]["Statement"]
        assert _text(trust["Principal"]["Federated"]).endswith(f":oidc-provider/{OIDC_HOST}")
        subs = [
            _text(s)
            for value in iac.as_list(trust["Condition"]["StringEquals"][f"{OIDC_HOST}:sub"])
            for s in _alternatives(value)
        ]
        assert subs, where
        assert all(
            re.fullmatch(r"\$\{\w+\.OidcSubjectPrefix\}:environment:dev", s) for s in subs
        ), (
            where,
            subs,
        )


def _grants(statements: list[dict[str, Any]], action: str) -> list[dict[str, Any]]:
    """Allow statements whose actions cover `action` (IAM wildcards in the statement)."""
    from fnmatch import fnmatchcase

    return [
        st
        for st in statements
        if st.get("Effect") == "Allow"
        and any(fnmatchcase(action, str(a)) for a in _as_list(st.get("Action", [])))
    ]


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_launch_role_touches_only_bounded_project_github_roles(iac: Iac) -> None:
    """In IAM the launch role creates, changes and deletes only the projects' GitHub roles, only
    with the project boundary, attaches only the platform's project policy, writes no inline
    policy, sets only the project tags, and passes nothing."""
    mod = iac.modules["service_catalog"]
    statements = mod.locals["launch_policy"]["Statement"]
    iam = [
        st for st in statements if any(str(a).startswith("iam:") for a in _as_list(st["Action"]))
    ]
    assert iam, "the launch role must be able to create the projects' GitHub roles"
    assert "names.patterns.github_actions_role" in mod.locals["project_github_role_arn"]
    assert '"p-????????????"' in mod.locals["project_github_role_arn"]
    assert "names.patterns.project_permissions_boundary" in mod.locals["project_boundary_arn"]
    for st in iam:
        actions = set(map(str, _as_list(st["Action"])))
        assert st["Resource"] == ["${local.project_github_role_arn}"], st["Sid"]
        assert not actions & {"iam:PassRole", "iam:PutRolePolicy", "iam:*"}, st["Sid"]
        assert not any(a.startswith("iam:DeleteRolePermissionsBoundary") for a in actions)
        if actions & {"iam:CreateRole", "iam:PutRolePermissionsBoundary"}:
            assert st["Condition"] == {
                "StringEquals": {"iam:PermissionsBoundary": "${local.project_boundary_arn}"}
            }, st["Sid"]
        if actions & {"iam:AttachRolePolicy"}:
            assert st["Condition"] == {
                "ArnEquals": {"iam:PolicyARN": ["${local.project_github_policy_arn}"]}
            }, st["Sid"]
        if actions & {"iam:TagRole"}:
            assert st["Condition"] == {
                "ForAllValues:StringEquals": {
                    "aws:TagKeys": [
                        "${local.names.tag_keys.project_name}",
                        "${local.project_tag}",
                    ]
                }
            }, st["Sid"]
    trust = mod.locals["launch_trust"]["Statement"]
    assert [st["Principal"] for st in trust] == [{"Service": "servicecatalog.amazonaws.com"}], (
        "only Service Catalog may assume the launch role: nobody can hand it to CloudFormation"
    )


def test_personas_reach_the_launch_role_only_through_service_catalog(iac: Iac) -> None:
    """No persona creates or updates a stack, or passes the launch role to CloudFormation."""
    statements = iac.modules["sagemaker_roles"].locals["project_creator_statements"]
    for st in statements:
        actions = set(map(str, _as_list(st["Action"])))
        assert not actions & {"cloudformation:CreateStack", "cloudformation:UpdateStack"}, st
        if "iam:PassRole" in actions:
            assert st["Condition"] == {
                "StringEquals": {"iam:PassedToService": "servicecatalog.amazonaws.com"}
            }, st["Sid"]


def _bootstrap_policy(iac: Iac, logical: str) -> list[dict[str, Any]]:
    doc = iac.bootstrap["Resources"][logical]["Properties"]["PolicyDocument"]
    return list(_as_list(doc["Statement"]))


def test_boundaries_admit_the_launch_role_and_the_project_github_roles(iac: Iac) -> None:
    """The boundaries let through what the roles under them need (a boundary that blocked them
    would fail every project stack, or every training run, at run time)."""
    platform = _bootstrap_policy(iac, "PlatformBoundary")
    project = _bootstrap_policy(iac, "ProjectBoundary")
    launch = iac.modules["service_catalog"].locals["launch_policy"]["Statement"]
    project_role = "role/mlops-suite-p-????????????-github-*"
    for st in launch:
        for action in map(str, _as_list(st["Action"])):
            grants = _grants(platform, action)
            assert grants, f"the platform boundary blocks the launch role's {action}"
            if action.startswith("iam:"):
                assert any(_text(g["Resource"]).endswith(project_role) for g in grants), action
    for st in iac.modules["service_catalog"].locals["project_github_policy"]["Statement"]:
        for action in map(str, _as_list(st["Action"])):
            assert _grants(project, action), f"the project boundary blocks the project's {action}"


def test_project_boundary_is_as_narrow_as_the_project_policy(iac: Iac) -> None:
    """Every action the project boundary allows is one the platform's project policy grants."""
    granted = {
        str(a)
        for st in iac.modules["service_catalog"].locals["project_github_policy"]["Statement"]
        for a in _as_list(st["Action"])
    }
    allowed = {
        str(a)
        for st in _bootstrap_policy(iac, "ProjectBoundary")
        if st["Effect"] == "Allow"
        for a in _as_list(st["Action"])
    }
    assert allowed == granted


BOUNDARIES = ["PlatformBoundary", "ProjectBoundary", "SchedulerBoundary"]
SCHEDULER_ROLES = "role/*-scheduler"


@pytest.mark.parametrize("boundary", BOUNDARIES)
def test_boundaries_grant_no_escalation_or_data_wildcards(iac: Iac, boundary: str) -> None:
    """No service-wide action, no secret read but the GitHub App key, no inline-policy writes
    but on the scheduler roles, which can only be made with the scheduler boundary."""
    banned = {"iam:PutRolePolicy", "iam:CreatePolicyVersion", "iam:CreateAccessKey"}
    for st in _bootstrap_policy(iac, boundary):
        if st["Effect"] != "Allow":
            continue
        for action in map(str, _as_list(st["Action"])):
            assert not action.endswith(":*"), f"{boundary} {st['Sid']}: {action}"
            if action == "iam:PutRolePolicy" and _text(st["Resource"]).endswith(SCHEDULER_ROLES):
                continue
            assert action not in banned, f"{boundary} {st['Sid']}: {action}"
            if action == "secretsmanager:GetSecretValue":
                assert _text(st["Resource"]).endswith(":secret:mlops-suite/github-app-*")


@pytest.mark.parametrize("boundary", ["PlatformBoundary", "ProjectBoundary"])
def test_only_the_approver_makes_a_package_approved(iac: Iac, boundary: str) -> None:
    """Both boundaries deny creating or updating a package as Approved (the condition key
    sagemaker:ModelApprovalStatus exists for both calls), except for the approver's role."""
    (deny,) = [
        st for st in _bootstrap_policy(iac, boundary) if st["Sid"] == "OnlyTheApproverApproves"
    ]
    assert deny["Effect"] == "Deny"
    assert set(deny["Action"]) == {"sagemaker:CreateModelPackage", "sagemaker:UpdateModelPackage"}
    assert deny["Condition"]["StringEquals"] == {"sagemaker:ModelApprovalStatus": "Approved"}
    exempt = deny["Condition"].get("ArnNotEquals", {}).get("aws:PrincipalArn")
    if boundary == "ProjectBoundary":
        assert exempt is None, "no project role may approve"
    else:
        approver = iac.names["patterns"]["approver_role"].format(environment="${Environment}")
        assert _text(exempt) == "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/" + approver
    roles = iac.modules["sagemaker_roles"].locals
    pending = roles["register_pending_statement"]
    assert pending["Condition"]["StringEquals"] == {
        "sagemaker:ModelApprovalStatus": "PendingManualApproval"
    }
    creators = [
        st
        for name in ("execution_only_statements", "pipeline_statements")
        for st in roles[name]
        if isinstance(st, dict) and "sagemaker:CreateModelPackage" in _as_list(st["Action"])
    ]
    assert creators == [], "CreateModelPackage only through register_pending_statement"


@pytest.mark.parametrize("role", ["PlanRole", "ApplyRole"])
def test_bootstrap_roles_trust_their_own_environment(iac: Iac, role: str) -> None:
    """The plan role trusts <env>-plan, the apply role <env>: a PR cannot assume the apply role."""
    stmt = iac.bootstrap["Resources"][role]["Properties"]["AssumeRolePolicyDocument"]["Statement"][
        0
    ]
    immutable, name_only = _alternatives(stmt["Condition"]["StringEquals"][f"{OIDC_HOST}:sub"])
    assert stmt["Condition"]["StringEquals"][f"{OIDC_HOST}:sub"]["Fn::If"][0] == "ImmutableSubject"
    suffix = "${Environment}-plan" if role == "PlanRole" else "${Environment}"
    assert _text(immutable) == (
        "repo:${GitHubOrg}@${PlatformRepoOwnerId}/${PlatformRepo}@${PlatformRepoId}:environment:"
        + suffix
    )
    assert _text(name_only) == "repo:${GitHubOrg}/${PlatformRepo}:environment:" + suffix


def test_plan_role_cannot_write(iac: Iac) -> None:
    """The pull-request role reads: no Put/Create/Delete/Update/Attach/Pass anywhere."""
    doc = iac.bootstrap["Resources"]["PlanRole"]["Properties"]["Policies"][0]["PolicyDocument"]
    for st in doc["Statement"]:
        for action in iac.as_list(st["Action"]):
            verb = str(action).split(":", 1)[1]
            # kms:Decrypt reads the encrypted state; it writes nothing.
            assert verb.startswith(READ_VERBS) or action == "kms:Decrypt", (
                f"plan role may not {action}"
            )


def test_apply_role_creates_roles_only_with_the_boundary(iac: Iac) -> None:
    """Role creation by the apply role requires the platform permissions boundary."""
    doc = iac.bootstrap["Resources"]["ApplyRole"]["Properties"]["Policies"][0]["PolicyDocument"]
    for st in doc["Statement"]:
        actions = set(map(str, iac.as_list(st.get("Action", []))))
        if st["Effect"] == "Allow" and actions & {
            "iam:CreateRole",
            "iam:PutRolePolicy",
            "iam:AttachRolePolicy",
        }:
            assert st["Condition"]["StringEquals"]["iam:PermissionsBoundary"] == {
                "Ref": "PlatformBoundary"
            }
    boundary = iac.names["patterns"]["platform_permissions_boundary"]
    assert (
        iac.bootstrap["Resources"]["PlatformBoundary"]["Properties"]["ManagedPolicyName"]
        == boundary
    )


def test_every_terraform_role_carries_the_boundary(iac: Iac) -> None:
    """Every aws_iam_role sets permissions_boundary, and the environment passes the bootstrap's."""
    roles = [(m.path.name, r) for m in iac.modules.values() for r in m.of_type("aws_iam_role")]
    assert len(roles) >= 5
    for module, role in roles:
        assert role.body.get("permissions_boundary") == "${var.permissions_boundary_arn}", (
            f"{module}/aws_iam_role.{role.name} has no permissions_boundary"
        )
    env = iac.modules["environment"]
    assert "names.patterns.platform_permissions_boundary" in env.text


def test_scheduler_roles_are_made_only_with_the_scheduler_boundary(iac: Iac) -> None:
    """What the platform boundary lets a deploy role do to "<pipeline>-scheduler" roles (write
    their inline policy, pass them) is capped by a boundary that only starts pipelines, and
    creating one, or changing its boundary, needs that boundary."""
    platform = _bootstrap_policy(iac, "PlatformBoundary")
    on_scheduler_roles = [st for st in platform if _text(st["Resource"]).endswith(SCHEDULER_ROLES)]
    assert on_scheduler_roles
    for st in on_scheduler_roles:
        actions = set(map(str, _as_list(st["Action"])))
        if actions & {"iam:CreateRole", "iam:PutRolePermissionsBoundary"}:
            assert st["Condition"] == {
                "StringEquals": {"iam:PermissionsBoundary": {"Ref": "SchedulerBoundary"}}
            }, st["Sid"]
        if "iam:PassRole" in actions:
            assert st["Condition"] == {
                "StringEquals": {"iam:PassedToService": "scheduler.amazonaws.com"}
            }, st["Sid"]
        assert not actions & {"iam:AttachRolePolicy", "iam:DeleteRolePermissionsBoundary"}
    scheduler = _bootstrap_policy(iac, "SchedulerBoundary")
    assert [(a, _text(st["Resource"])) for st in scheduler for a in _as_list(st["Action"])] == [
        (
            "sagemaker:StartPipelineExecution",
            "arn:${AWS::Partition}:sagemaker:${AWS::Region}:${AWS::AccountId}:pipeline/*",
        )
    ]
