"""Harness for the SageMaker project templates: loading, Copier checks, moto CloudFormation.

Test modules in this folder reach everything through fixtures (pytest runs in importlib mode).
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import re
import socket
import string
import sys
import threading
import time
import urllib.request
import warnings
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from unittest import mock

import pytest

from mlops_suite import cfn_yaml, names, rendering
from mlops_suite.handlers import deploy_roles, resource
from mlops_suite.local.lambda_runtime import LocalContext

# Test modules import the harness under this name (pytest's importlib mode makes conftest.py
# importable only through sys.modules).
sys.modules.setdefault("project_templates_harness", sys.modules[__name__])

TEMPLATES_DIR = rendering.SUITE_ROOT / "project-templates"
TEMPLATE_PATHS = sorted(TEMPLATES_DIR.glob("*.yaml"))
# The repository kinds: copier.yml's repo_kind choices, the one list. A kind a project template
# declares that copier.yml does not offer yet is pending: reported by name (a skip that says
# so), never passed silently; tests/project_templates/test_contracts.py lists them.
KINDS = tuple(rendering.kinds())
# Custom resource properties that are not Copier answers: the handler's own (its property model).
NON_ANSWER_PROPERTIES = frozenset(resource.HANDLER_PROPERTIES)
# The dev account the stacks run in: not moto's default account, so that nothing here meets the
# state of other tests in the same process (moto's backends are process-wide).
ACCOUNT_ID = "111122223333"
REGION = "eu-west-1"
BAD_ORG_REGION = "us-east-1"  # seeded with an org name Copier rejects, to drive a FAILED create


class MotoGapWarning(UserWarning):
    """moto 5.2.5 lacks something a template uses; the harness names it and what it does instead."""


class PendingKindWarning(UserWarning):
    """A repository kind is declared by a template but not offered by the questionnaire yet."""


# --- templates -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProjectTemplate:
    """One project template: its file, raw text and parsed body."""

    path: Path
    text: str
    body: dict[str, Any]

    @property
    def name(self) -> str:
        return self.path.stem

    @property
    def parameters(self) -> dict[str, dict[str, Any]]:
        params: dict[str, dict[str, Any]] = self.body.get("Parameters", {})
        return params

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        res: dict[str, dict[str, Any]] = self.body["Resources"]
        return res

    @property
    def repositories(self) -> dict[str, dict[str, Any]]:
        """Repository custom resources (one per repository), by logical id, with their
        properties."""
        return {
            logical: spec.get("Properties", {})
            for logical, spec in self.resources.items()
            if spec["Type"] == "Custom::GitHubRepository"
        }

    def repo_kinds(self, logical_id: str) -> list[str]:
        """Kinds a repository resource can be: its literal repo_kind or its parameter's values."""
        kind = self.repositories[logical_id]["repo_kind"]
        if isinstance(kind, str):
            return [kind]
        param = self.parameters[kind["Ref"]]
        return [str(v) for v in param["AllowedValues"]]

    def parameter_of(self, value: Any) -> str | None:
        """Name of the template parameter `value` refers to (a plain Ref), else None."""
        if isinstance(value, dict) and set(value) == {"Ref"} and value["Ref"] in self.parameters:
            return str(value["Ref"])
        return None

    def with_body(self, body: dict[str, Any]) -> ProjectTemplate:
        """A copy with another body (for tests that prove a check can fail)."""
        return ProjectTemplate(self.path, self.text, body)


def load_template(path: Path) -> ProjectTemplate:
    text = path.read_text(encoding="utf-8")
    body = cfn_yaml.load(text)
    return ProjectTemplate(path, text, body)


def template_kinds() -> set[str]:
    """Every kind some project template can create (its literal repo_kind or AllowedValues)."""
    found: set[str] = set()
    for path in TEMPLATE_PATHS:
        tpl = load_template(path)
        for logical in tpl.repositories:
            found.update(tpl.repo_kinds(logical))
    return found


@pytest.fixture(scope="session")
def templates() -> list[ProjectTemplate]:
    """The four project templates, parsed."""
    found = [load_template(p) for p in TEMPLATE_PATHS]
    assert len(found) == 4, f"expected four project templates in {TEMPLATES_DIR}, found {found}"
    return found


@pytest.fixture(scope="session")
def template_by_name(templates: list[ProjectTemplate]) -> dict[str, ProjectTemplate]:
    return {t.name: t for t in templates}


# --- Copier: the questionnaire and its validators -------------------------------------------------


class Questionnaire:
    """copier.yml loaded by Copier itself, with its validators callable on single values."""

    def __init__(self) -> None:
        from copier._main import Worker
        from copier._user_data import Question

        with warnings.catch_warnings():  # Copier warns that the working tree is dirty
            warnings.simplefilter("ignore")
            self.questions = rendering.questionnaire()
            self.kinds = rendering.kinds()
        # One real Copier run (defaults only) gives the Jinja environment and render context that
        # Copier validates answers in; Question objects built from it judge single values.
        self._worker = Worker(
            src_path=str(rendering.SUITE_ROOT), data=SAMPLE_ANSWERS, defaults=True, quiet=True
        )
        self._ask()
        self._question_cls = Question
        self._verdicts: dict[tuple[str, str], bool] = {}

    def _ask(self) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self._worker._ask()

    def question(self, name: str) -> Any:
        return self._question_cls(
            answers=self._worker.answers,
            context=self._worker._render_context(),
            jinja_env=self._worker.jinja_env,
            settings=self._worker.settings,
            var_name=name,
            **self.questions[name],
        )

    def accepts(self, name: str, value: str) -> bool:
        """Whether Copier accepts `value` (a string, as CloudFormation passes it) for `name`."""
        key = (name, value)
        if key not in self._verdicts:
            question = self.question(name)
            try:
                question.validate_answer(question.parse_answer(value))
                self._verdicts[key] = True
            except ValueError:
                self._verdicts[key] = False
        return self._verdicts[key]

    def answers(self, data: dict[str, Any]) -> dict[str, Any]:
        """Run Copier's questionnaire on `data` with defaults; return every answer or raise."""
        from copier._main import Worker

        worker = Worker(src_path=str(rendering.SUITE_ROOT), data=data, defaults=True, quiet=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            worker._ask()
        return dict(worker.answers.combined)

    def applies_to(self, name: str, kind: str) -> bool:
        """Whether question `name` is asked for `kind` (its `when` names no other kind)."""
        return self.spec_applies(self.questions[name], kind)

    @staticmethod
    def spec_applies(spec: dict[str, Any], kind: str) -> bool:
        """Whether a question with this spec is asked for `kind`."""
        when = spec.get("when", True)
        if isinstance(when, bool):
            return when
        kinds_named = re.findall(r"repo_kind\s*==\s*['\"]([a-z-]+)['\"]", str(when))
        return not kinds_named or kind in kinds_named

    def required(self, kind: str) -> list[str]:
        """Questions of `kind` that have no default, so every template must pass them."""
        return [
            name
            for name, spec in self.questions.items()
            if "default" not in spec
            and spec.get("when", True) is not False
            and self.applies_to(name, kind)
        ]


SAMPLE_ANSWERS: dict[str, Any] = {
    "repo_kind": "model-training",
    "project_name": "churn-model",
    "owner": "ml-team",
    "github_org": "my-org",
    "dev_account_id": ACCOUNT_ID,
    "sagemaker_project_id": "p-abcdef012345",
}


@cache
def _questionnaire() -> Questionnaire:
    return Questionnaire()


@pytest.fixture(scope="session")
def questionnaire() -> Questionnaire:
    return _questionnaire()


def sample_values(seed: int = 5) -> list[str]:
    """Strings that probe identifier rules: edge cases plus seeded random ones."""
    fixed = [
        "",
        "a",
        "ab",
        "abc",
        "churn-model",
        "Churn-model",
        "churn--model",
        "-churn",
        "churn-",
        "1churn",
        "churn_model",
        "churn model",
        "churn.model",
        "a" * 31,
        "a" * 32,
        "a" * 33,
        "a" * 99,
        "a" * 100,
        "a" * 101,
        "p-abcdef012345",
        "p-ABCDEF012345",
        "p-abcdef01234",
        "p-abcdef0123456",
        "P-abcdef012345",
        "p_abcdef012345",
        "123456789012",
        "12345678901",
        "1234567890123",
        "12345678901a",
        "ml-team",
        "ml_team",
        "_ml",
        "ML-team",
        "x",
        "X",
        "a-",
        "a--b",
        "3.11",
        "3.12",
        "3.13",
        "0.5",
        "0.49",
        "1",
        "1.0",
        "1.01",
        "0.9",
        "-1",
        "nan",
        "inf",
        "abc1",
        "a-1",
        "9",
        "z9-z",
        "my-project-a-b",
        "é",
        "churn-modél",
        "realtime-inference",
        "batch-inference",
        "streaming-inference",
        "true",
        "false",
    ]
    rng = random.Random(seed)  # noqa: S311 - reproducible samples, not secrets
    alphabet = string.ascii_letters + string.digits + "-_."
    generated = [
        "".join(rng.choice(alphabet) for _ in range(rng.choice([1, 2, 3, 5, 12, 14, 31, 33, 40])))
        for _ in range(200)
    ]
    generated += [
        "p-" + "".join(rng.choice(string.ascii_lowercase + string.digits + "A-") for _ in range(12))
        for _ in range(40)
    ]
    generated += [
        "".join(rng.choice(string.digits + "a") for _ in range(rng.choice([11, 12, 13])))
        for _ in range(40)
    ]
    return fixed + generated


# --- CloudFormation's parameter validation (moto does not enforce it) ---------------------------


def cfn_parameter_error(name: str, spec: dict[str, Any], value: Any) -> str | None:
    """The error CloudFormation gives for `value` of parameter `name`, or None when it accepts it.

    Mirrors CloudFormation's CreateStack checks: AllowedValues, AllowedPattern (whole value,
    Java-style full match), MinLength/MaxLength for strings, MinValue/MaxValue for numbers.
    """
    kind = spec.get("Type", "String")
    if kind.startswith("AWS::SSM::Parameter::"):
        return None  # the value is a parameter name; CloudFormation checks it exists instead
    text = str(value)
    reason = spec.get("ConstraintDescription")
    if "AllowedValues" in spec and text not in [str(v) for v in spec["AllowedValues"]]:
        return f"Parameter '{name}' must be one of AllowedValues"
    if kind == "Number":
        try:
            number = float(text)
        except ValueError:
            return f"Parameter '{name}' must be a number"
        if number != number or number in (float("inf"), float("-inf")):
            return f"Parameter '{name}' must be a number"
        if "MinValue" in spec and number < float(spec["MinValue"]):
            return reason_or(name, reason, f"must be a number not less than {spec['MinValue']}")
        if "MaxValue" in spec and number > float(spec["MaxValue"]):
            return reason_or(name, reason, f"must be a number not greater than {spec['MaxValue']}")
        return None
    if "MinLength" in spec and len(text) < int(spec["MinLength"]):
        return reason_or(name, reason, f"must contain at least {spec['MinLength']} characters")
    if "MaxLength" in spec and len(text) > int(spec["MaxLength"]):
        return reason_or(name, reason, f"must contain at most {spec['MaxLength']} characters")
    if "AllowedPattern" in spec and not re.fullmatch(spec["AllowedPattern"], text):
        return reason_or(name, reason, f"must match pattern {spec['AllowedPattern']}")
    return None


def reason_or(name: str, constraint: str | None, default: str) -> str:
    if constraint:
        return f"Parameter {name} failed to satisfy constraint: {constraint}"
    return f"Parameter '{name}' {default}"


# --- stand-in for the repo-creating handler -----------------------------------------------------


def send_cfn_response(
    event: dict[str, Any],
    status: str,
    reason: str,
    physical_id: str,
    data: dict[str, Any] | None = None,
) -> None:
    """PUT the custom resource response to the ResponseURL, as every real handler must."""
    body = json.dumps(
        {
            "Status": status,
            "Reason": reason,
            "PhysicalResourceId": physical_id,
            "StackId": event["StackId"],
            "RequestId": event["RequestId"],
            "LogicalResourceId": event["LogicalResourceId"],
            "NoEcho": False,
            "Data": data or {},
        }
    ).encode()
    url = event["ResponseURL"]
    if not url.startswith("http://127.0.0.1:"):
        raise ValueError(f"refusing to send a response to {url}: the harness serves loopback only")
    request = urllib.request.Request(url, data=body, method="PUT")  # noqa: S310 - loopback only
    request.add_header("Content-Type", "")
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        response.read()


def stable_id(name: str) -> int:
    """A GitHub-like numeric id that is the same for the same name in every run."""
    import zlib

    return 100_000 + zlib.crc32(name.encode())


@dataclass
class RecordingRepoHandler:
    """Stands in for the repo-creating Lambda until mlops_suite.handlers.clone_repo lands.

    Like the real handler it judges the properties as Copier answers with Copier's own
    questionnaire and answers CloudFormation itself; instead of creating a repository it records
    the request and returns the URL and full name the repository would have.
    """

    questionnaire: Callable[[], Questionnaire]
    events: list[dict[str, Any]] = field(default_factory=list)  # repository requests
    deploy_role_events: list[dict[str, Any]] = field(default_factory=list)
    pending: list[tuple[str, str]] = field(default_factory=list)  # (repo_name, kind)
    data: dict[str, dict[str, str]] = field(default_factory=dict)  # Data sent, by RequestId

    def __call__(self, event: dict[str, Any], context: object) -> None:
        is_roles = event.get("ResourceType") == deploy_roles.RESOURCE_TYPE
        (self.deploy_role_events if is_roles else self.events).append(event)
        props = {k: v for k, v in event["ResourceProperties"].items() if k != "ServiceToken"}
        physical = event.get("PhysicalResourceId") or f"{event['LogicalResourceId']}-unnamed"
        if event["RequestType"] == "Delete":
            send_cfn_response(event, "SUCCESS", "recorded delete", physical)
            return
        if is_roles:
            self.deploy_roles(event, props)
            return
        try:
            full_name = self.validate(props)
        except ValueError as exc:
            send_cfn_response(event, "FAILED", str(exc)[:400], physical)
            return
        org, name = full_name.split("/", 1)
        data = {  # the attributes the real handler returns
            # GitHub's immutable form: ids the double would assign (stable per name here).
            "OidcSubjectPrefix": f"repo:{org}@{stable_id(org)}/{name}@{stable_id(full_name)}",
            "FullName": full_name,
            "Name": full_name.split("/", 1)[1],
            "RepoUrl": f"https://github.com/{full_name}",
            "CloneUrl": f"https://github.com/{full_name}.git",
            "DefaultBranch": "main",
        }
        self.data[event["RequestId"]] = data
        send_cfn_response(event, "SUCCESS", "recorded", full_name, data)

    def deploy_roles(self, event: dict[str, Any], props: dict[str, Any]) -> None:
        """Judge the properties as the real handler does; answer with the roles' ARNs."""
        try:
            specs = deploy_roles.specs(props)
        except ValueError as exc:
            send_cfn_response(event, "FAILED", str(exc)[:400], "failed-deploy-roles")
            return
        data = {
            f"{s.environment.capitalize()}RoleArn": s.arn("iam", f"role/{s.role_name}")
            for s in specs
        }
        send_cfn_response(event, "SUCCESS", "recorded", deploy_roles.physical_id(props), data)

    def validate(self, props: dict[str, Any]) -> str:
        """Map the properties with the real handler's property model; Copier judges them."""
        q = self.questionnaire()
        req = resource.repo_request(props, q.questions)  # PropertyError is a ValueError
        data = dict(req.answers)
        kind = req.repo_kind
        if kind not in q.kinds:
            if kind not in template_kinds():
                raise ValueError(
                    f"repo_kind {kind!r} is unknown: use one of {list(q.kinds)}, or a kind a"
                    " project template declares"
                )
            # Pending kind: judge the common answers; the kind itself cannot be rendered yet.
            self.pending.append((req.repo_name, kind))
            data.pop("repo_kind")
        answers = q.answers(data)  # raises ValueError with Copier's message
        return f"{answers['github_org']}/{req.repo_name}"


@dataclass
class RecordingTrigger:
    """Stands in for the model-approval trigger Lambda; records what EventBridge would send."""

    events: list[dict[str, Any]] = field(default_factory=list)

    def __call__(self, event: dict[str, Any], context: object) -> None:
        self.events.append(event)


# --- moto: CloudFormation that runs our handlers in-process -------------------------------------


class _GapResource:
    """Base of the resource types moto's CloudFormation lacks; the harness provides them."""

    resource_type = ""
    name_property: str | None = None

    def __init__(self, physical_id: str, properties: dict[str, Any]) -> None:
        self.physical_id = physical_id
        self.properties = properties

    @classmethod
    def cloudformation_type(cls) -> str:
        return cls.resource_type

    @classmethod
    def cloudformation_name_type(cls) -> str | None:
        return cls.name_property

    @property
    def physical_resource_id(self) -> str:
        return self.physical_id

    def is_created(self) -> bool:
        return True

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return False

    def get_cfn_attribute(self, attr: str) -> Any:
        raise AssertionError(f"{self.resource_type} has no attribute {attr} in this harness")


class _BucketPolicyResource(_GapResource):
    """AWS::S3::BucketPolicy: moto's CloudFormation skips it; applied with S3's PutBucketPolicy."""

    resource_type = "AWS::S3::BucketPolicy"

    @classmethod
    def create_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: Any,
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> Any:
        from moto.s3.models import s3_backends

        props = cloudformation_json["Properties"]
        backend = s3_backends[account_id]["aws"]
        backend.put_bucket_policy(props["Bucket"], json.dumps(props["PolicyDocument"]).encode())
        return cls(props["Bucket"], props)

    def delete(self, account_id: str, region_name: str) -> None:
        from moto.s3.models import s3_backends

        backend = s3_backends[account_id]["aws"]
        if self.physical_id in backend.buckets:  # CloudFormation may delete the bucket first
            backend.delete_bucket_policy(self.physical_id)


class _ModelPackageGroupResource(_GapResource):
    """AWS::SageMaker::ModelPackageGroup: moto's CloudFormation lacks it; made with SageMaker's API.

    moto implements no model package group policies, so the resolved policy is kept here for the
    tests to check (they say so).
    """

    resource_type = "AWS::SageMaker::ModelPackageGroup"
    name_property = "ModelPackageGroupName"
    created: dict[str, dict[str, Any]] = {}  # noqa: RUF012 - registry by group name

    @classmethod
    def create_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: Any,
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> Any:
        from moto.sagemaker.models import sagemaker_backends

        props = cloudformation_json["Properties"]
        backend = sagemaker_backends[account_id][region_name]
        arn = backend.create_model_package_group(
            model_package_group_name=props["ModelPackageGroupName"],
            model_package_group_description=props.get("ModelPackageGroupDescription", ""),
            tags=props.get("Tags"),
        )
        cls.created[props["ModelPackageGroupName"]] = props
        return cls(arn, props)

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr in {"ModelPackageGroupArn", "ModelPackageGroupStatus", "CreationTime"}

    def get_cfn_attribute(self, attr: str) -> Any:
        if attr == "ModelPackageGroupArn":
            return self.physical_id
        return super().get_cfn_attribute(attr)

    def delete(self, account_id: str, region_name: str) -> None:
        from moto.sagemaker.models import sagemaker_backends

        backend = sagemaker_backends[account_id][region_name]
        backend.model_package_groups.pop(self.properties["ModelPackageGroupName"], None)


GAP_RESOURCES: dict[str, type[_GapResource]] = {
    cls.resource_type: cls for cls in (_BucketPolicyResource, _ModelPackageGroupResource)
}

# Properties moto 5.2.5's CloudFormation applies itself (read from its source), per type.
MOTO_NATIVE_PROPERTIES: dict[str, set[str]] = {
    "AWS::IAM::Role": {
        "ManagedPolicyArns",  # attached (and detached on delete) by the harness
        "RoleName",
        "AssumeRolePolicyDocument",
        "Path",
        "PermissionsBoundary",
        "Description",
        "Tags",
        "MaxSessionDuration",
        "Policies",
    },
    "AWS::S3::Bucket": {"BucketName", "BucketEncryption", "Tags"},
    "AWS::ECR::Repository": {
        "RepositoryName",
        "EncryptionConfiguration",
        "ImageScanningConfiguration",
        "ImageTagMutability",
        "Tags",
    },
    "AWS::SSM::Parameter": {"Name", "Description", "Type", "Value", "Tags"},  # Tags: see below
    "AWS::Events::Rule": {
        "Name",
        "Description",
        "State",
        "EventPattern",
        "Targets",
        "EventBusName",
        "ScheduleExpression",
        "RoleArn",
        "Tags",
    },
}


def _cfn_lifecycle_rules(rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """CloudFormation lifecycle rules in the shape S3's API parser hands moto's backend."""
    out = []
    for rule in rules:
        api: dict[str, Any] = {"ID": rule["Id"], "Status": rule["Status"], "Filter": {"Prefix": ""}}
        if "ExpirationInDays" in rule:
            api["Expiration"] = {"Days": str(rule["ExpirationInDays"])}
        if "NoncurrentVersionExpiration" in rule:
            days = rule["NoncurrentVersionExpiration"]["NoncurrentDays"]
            api["NoncurrentVersionExpiration"] = {"NoncurrentDays": str(days)}
        out.append(api)
    return out


# Bucket properties moto's CloudFormation ignores, applied by the harness with S3's own API.
def _apply_bucket_extras(backend: Any, bucket: str, props: dict[str, Any]) -> None:
    from moto.s3.cloud_formation import cfn_to_api_encryption

    sse_rules = props.get("BucketEncryption", {}).get("ServerSideEncryptionConfiguration", [])
    if sse_rules and "BucketKeyEnabled" in sse_rules[0]:  # moto drops it
        encryption = cfn_to_api_encryption(props["BucketEncryption"])
        encryption["Rule"]["BucketKeyEnabled"] = str(sse_rules[0]["BucketKeyEnabled"]).lower()
        backend.put_bucket_encryption(bucket, encryption)
    if "PublicAccessBlockConfiguration" in props:
        cfg = {k: str(v).lower() for k, v in props["PublicAccessBlockConfiguration"].items()}
        backend.put_public_access_block(bucket, cfg)
    if "VersioningConfiguration" in props:
        backend.put_bucket_versioning(bucket, props["VersioningConfiguration"]["Status"])
    if "OwnershipControls" in props:
        rule = props["OwnershipControls"]["Rules"][0]["ObjectOwnership"]
        backend.put_bucket_ownership_controls(bucket, rule)
    if "LoggingConfiguration" in props:
        log = props["LoggingConfiguration"]
        backend.put_bucket_logging(
            bucket,
            {
                "TargetBucket": log["DestinationBucketName"],
                "TargetPrefix": log.get("LogFilePrefix", ""),
            },
        )
    if "LifecycleConfiguration" in props:
        rules = _cfn_lifecycle_rules(props["LifecycleConfiguration"]["Rules"])
        backend.put_bucket_lifecycle(bucket, rules)


HARNESS_ECR_PROPERTIES = {"LifecyclePolicy", "RepositoryPolicyText"}
HARNESS_BUCKET_PROPERTIES = {
    "PublicAccessBlockConfiguration",
    "VersioningConfiguration",
    "OwnershipControls",
    "LoggingConfiguration",
    "LifecycleConfiguration",
}


class CustomResourceFailed(Exception):
    """A custom resource answered FAILED (or not at all): CloudFormation rolls the stack back."""

    def __init__(self, custom: Any, reason: str) -> None:
        super().__init__(reason)
        self.custom = custom
        self.reason = reason


@dataclass
class _Request:
    event: dict[str, Any]
    function_arn: str
    done: threading.Event = field(default_factory=threading.Event)
    error: str = ""


def _wrap_cfn_create(
    patch: Callable[[Any], Any],
    model: Any,
    *,
    before: Callable[[dict[str, Any]], None] | None = None,
    after: Callable[[Any, dict[str, Any], str], Any] | None = None,
) -> None:
    """Patch `model.create_from_cloudformation_json`, where moto differs from CloudFormation.

    `before` fixes the resource's Properties in place; `after` gets the created object, the
    Properties and the account id, and returns the object to keep.
    """
    original = model.create_from_cloudformation_json.__func__

    def create(
        cls: Any,
        resource_name: str,
        cloudformation_json: Any,
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> Any:
        props = cloudformation_json.get("Properties", {})
        if before:
            before(props)
        made = original(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
        return after(made, props, account_id) if after else made

    patch(mock.patch.object(model, "create_from_cloudformation_json", classmethod(create)))


class MotoCloudFormation:
    """moto in server mode on loopback, whose CloudFormation runs our Lambda handlers in-process.

    moto would need Docker to run a Lambda, so its invoke is patched at the seam that moto's
    custom-resource support uses (LambdaFunction.invoke, called from moto's own thread). The
    handler answers the way a real one does: a PUT to the ResponseURL. moto's custom resources
    finish asynchronously and it only understands SUCCESS; the harness adds what CloudFormation
    does: a resource waits for its answer before dependents are created, and FAILED (or no answer)
    rolls the stack back with the handler's reason, so a stack never hangs.
    """

    timeout_s = 60.0  # CloudFormation waits an hour; a test should not

    def __init__(self) -> None:
        self.handlers: dict[str, Callable[[dict[str, Any], object], None]] = {}  # by Lambda ARN
        self.responses: dict[str, dict[str, Any]] = {}
        self.requests: dict[str, _Request] = {}
        self._guard = threading.Lock()
        self._stack = ExitStack()
        self.port = _free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"

    # lifecycle

    def start(self) -> None:
        from moto.awslambda.models import LambdaFunction
        from moto.cloudformation import parsing
        from moto.cloudformation.custom_model import CustomModel
        from moto.cloudformation.models import Stack
        from moto.cloudformation.responses import CloudFormationResponse
        from moto.s3.models import FakeBucket
        from moto.server import ThreadedMotoServer

        harness = self
        patch = self._stack.enter_context
        patch(mock.patch("moto.settings.moto_server_host", return_value="http://127.0.0.1"))
        patch(mock.patch("moto.settings.moto_server_port", return_value=str(self.port)))
        patch(mock.patch.object(LambdaFunction, "invoke", self._invoke_patch()))
        patch(
            mock.patch.object(
                CloudFormationResponse, "process_cfn_response", self._response_patch()
            )
        )
        _wrap_cfn_create(patch, CustomModel, after=lambda custom, *_: harness._await_create(custom))
        original_create = Stack.create_resources

        def create_resources(stack: Any) -> None:
            try:
                original_create(stack)
            except CustomResourceFailed as failed:
                harness._roll_back(stack, failed)

        patch(mock.patch.object(Stack, "create_resources", create_resources))
        original_outputs = Stack.outputs.fget

        def outputs(stack: Any) -> Any:
            # A rolled-back stack has no outputs; moto would re-create deleted resources lazily
            # to evaluate them.
            return None if stack.status.startswith("ROLLBACK") else original_outputs(stack)

        patch(mock.patch.object(Stack, "outputs", property(outputs)))
        original_load = parsing.ResourceMap.load_parameters

        def load_parameters(resource_map: Any) -> None:
            harness.validate_parameters(resource_map._template, resource_map.input_parameters)
            original_load(resource_map)

        patch(mock.patch.object(parsing.ResourceMap, "load_parameters", load_parameters))
        original_clean = parsing.clean_json

        def clean_json(resource_json: Any, resources_map: Any) -> Any:
            # CloudFormation drops AWS::NoValue from lists; moto 5.2.5 leaves a null there.
            cleaned = original_clean(resource_json, resources_map)
            if isinstance(resource_json, list) and isinstance(cleaned, list):
                return [item for item in cleaned if item is not None]
            return cleaned

        patch(mock.patch.object(parsing, "clean_json", clean_json))
        patch(mock.patch.object(CustomModel, "delete", self._custom_delete_patch(), create=True))
        original_model_map = parsing.get_model_map()
        original_names = parsing.get_name_type_map()
        patch(
            mock.patch.object(
                parsing, "get_model_map", return_value={**original_model_map, **GAP_RESOURCES}
            )
        )
        patch(
            mock.patch.object(
                parsing,
                "get_name_type_map",
                return_value={
                    **original_names,
                    **{t: c.name_property for t, c in GAP_RESOURCES.items()},
                },
            )
        )

        def bucket_extras(bucket: Any, props: dict[str, Any], account_id: str) -> Any:
            from moto.s3.models import s3_backends

            _apply_bucket_extras(s3_backends[account_id]["aws"], bucket.name, props)
            return bucket

        _wrap_cfn_create(patch, FakeBucket, after=bucket_extras)
        original_log_check = FakeBucket._log_permissions_enabled_policy

        def log_check(target_bucket: Any, target_prefix: str | None) -> bool:
            # moto 5.2.5 crashes on `Principal: "*"` (it calls .get on the string); judge the
            # statements it can read, with moto's own rule.
            policy = json.loads(target_bucket.policy.decode()) if target_bucket.policy else None
            if policy:
                policy["Statement"] = [
                    st for st in policy["Statement"] if isinstance(st.get("Principal"), dict)
                ]
            view = SimpleNamespace(
                policy=json.dumps(policy).encode() if policy else None,
                partition=target_bucket.partition,
                name=target_bucket.name,
            )
            return bool(original_log_check(view, target_prefix))

        patch(
            mock.patch.object(
                FakeBucket, "_log_permissions_enabled_policy", staticmethod(log_check)
            )
        )
        from moto.ssm.models import Parameter as SsmParameter

        def ssm_tags_as_list(props: dict[str, Any]) -> None:
            # CloudFormation writes an SSM parameter's Tags as a map; moto 5.2.5 expects the API's
            # list of Key/Value pairs and crashes on the map.
            if isinstance(props.get("Tags"), dict):
                props["Tags"] = [{"Key": k, "Value": v} for k, v in props["Tags"].items()]

        _wrap_cfn_create(patch, SsmParameter, before=ssm_tags_as_list)
        from moto.iam.models import Role as IamRole

        def role_policies_as_json(props: dict[str, Any]) -> None:
            # moto 5.2.5 stores an inline policy given as a map with str(), so GetRolePolicy
            # returns Python's repr instead of JSON; CloudFormation stores the JSON document.
            for policy in props.get("Policies", []):
                if isinstance(policy.get("PolicyDocument"), dict):
                    policy["PolicyDocument"] = json.dumps(policy["PolicyDocument"])

        def attach_managed_policies(role: Any, props: dict[str, Any], account_id: str) -> Any:
            # moto 5.2.5's CloudFormation drops ManagedPolicyArns; CloudFormation attaches them
            # (and fails on a policy that does not exist, as attach_role_policy does here).
            from moto.iam.models import iam_backends

            backend = iam_backends[account_id][role.arn.split(":")[1]]
            for arn in props.get("ManagedPolicyArns", []):
                backend.attach_role_policy(arn, role.name)
            return role

        _wrap_cfn_create(
            patch, IamRole, before=role_policies_as_json, after=attach_managed_policies
        )
        delete_role = IamRole.delete_from_cloudformation_json.__func__

        def detach_then_delete(
            cls: Any,
            resource_name: str,
            cloudformation_json: Any,
            account_id: str,
            region_name: str,
        ) -> None:
            # CloudFormation detaches the ManagedPolicyArns it attached before deleting the role.
            from moto.iam.models import iam_backends
            from moto.utilities.utils import get_partition

            backend = iam_backends[account_id][get_partition(region_name)]
            role = next((r for r in backend.roles.values() if r.name == resource_name), None)
            for arn in list(role.managed_policies) if role else []:
                backend.detach_role_policy(arn, resource_name)
            delete_role(cls, resource_name, cloudformation_json, account_id, region_name)

        patch(
            mock.patch.object(
                IamRole, "delete_from_cloudformation_json", classmethod(detach_then_delete)
            )
        )
        from moto.ecr.models import Repository as EcrRepository

        def repository_extras(repo: Any, props: dict[str, Any], account_id: str) -> Any:
            # moto 5.2.5's CloudFormation ignores a repository's lifecycle and repository
            # policies; apply them with ECR's own API, which validates them as ECR does.
            from moto.ecr.models import ecr_backends

            backend = ecr_backends[account_id][repo.region_name]
            if "LifecyclePolicy" in props:
                text = props["LifecyclePolicy"]["LifecyclePolicyText"]
                backend.put_lifecycle_policy(account_id, repo.name, text)
            if "RepositoryPolicyText" in props:
                backend.set_repository_policy(
                    account_id, repo.name, json.dumps(props["RepositoryPolicyText"])
                )
            return repo

        def repository_api_shapes(props: dict[str, Any]) -> None:
            # moto 5.2.5 hands CloudFormation's PascalCase configurations to its API-shaped
            # backend, which then drops scan-on-push and the KMS key; pass the API's shape.
            if "ImageScanningConfiguration" in props:
                scan = props["ImageScanningConfiguration"]
                props["ImageScanningConfiguration"] = {"scanOnPush": scan.get("ScanOnPush", False)}
            if "EncryptionConfiguration" in props:
                enc = props["EncryptionConfiguration"]
                api = {"encryptionType": enc.get("EncryptionType", "AES256")}
                if "KmsKey" in enc:
                    api["kmsKey"] = enc["KmsKey"]
                props["EncryptionConfiguration"] = api

        _wrap_cfn_create(
            patch, EcrRepository, before=repository_api_shapes, after=repository_extras
        )
        server = ThreadedMotoServer(
            ip_address="127.0.0.1", port=self.port, verbose=bool(os.environ.get("PT_MOTO_VERBOSE"))
        )
        server.start()
        self._stack.callback(server.stop)

    def stop(self) -> None:
        self._stack.close()

    def client(self, service: str, region: str = REGION, account: str = ACCOUNT_ID) -> Any:
        """A boto3 client for moto, acting in `account` (ACCOUNT_ID unless told)."""
        import boto3

        client = boto3.client(
            service,
            region_name=region,
            endpoint_url=self.endpoint,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

        def in_account(request: Any, **_: Any) -> None:
            request.headers["x-moto-account-id"] = account

        client.meta.events.register("before-send", in_account)
        return client

    # CloudFormation's parameter checks

    @staticmethod
    def validate_parameters(template: dict[str, Any], given: dict[str, Any]) -> None:
        from moto.cloudformation.exceptions import ValidationError

        specs = template.get("Parameters", {})
        unknown = sorted(set(given) - set(specs))
        if unknown:
            raise ValidationError(message=f"Parameters: {unknown} do not exist in the template")
        for name, spec in specs.items():
            if name not in given and "Default" not in spec:
                raise ValidationError(message=f"Parameters: [{name}] must have values")
            value = given.get(name, spec.get("Default"))
            error = cfn_parameter_error(name, spec, value)
            if error:
                raise ValidationError(message=error)

    # custom resources: invoke in-process, wait for the answer

    def _invoke_patch(self) -> Callable[..., str]:
        harness = self

        def invoke(fn: Any, body: str, request_headers: Any, response_headers: Any) -> str:
            event = json.loads(body) if body else {}
            if "ResponseURL" not in event:
                harness._call(fn.function_arn, event)
                return json.dumps({"StatusCode": 202})
            # CloudFormation hands properties to the Lambda as strings; moto keeps Number types.
            event["ResourceProperties"] = _as_cfn_strings(event["ResourceProperties"])
            request = _Request(event, fn.function_arn)
            with harness._guard:
                harness.requests[event["RequestId"]] = request
            try:
                harness._call(fn.function_arn, event)
            except Exception as exc:  # the Lambda runtime logs it; CloudFormation gets no answer
                request.error = f"handler raised {type(exc).__name__}: {exc}"
            finally:
                request.done.set()
            return json.dumps({"StatusCode": 202})

        return invoke

    def _call(self, function_arn: str, event: dict[str, Any]) -> None:
        handler = self.handlers.get(":".join(function_arn.split(":")[:7]))  # without a version
        if handler is None:
            raise AssertionError(f"no in-process handler registered for Lambda {function_arn}")
        handler(event, LocalContext(60.0))

    def _await_create(self, custom: Any) -> Any:
        """Block like CloudFormation until the handler answered; SUCCESS feeds Fn::GetAtt."""
        deadline = time.monotonic() + self.timeout_s
        while (request := self.requests.get(custom.request_id)) is None:
            if time.monotonic() > deadline:
                raise CustomResourceFailed(custom, "the Lambda was never invoked")
            time.sleep(0.01)
        if not request.done.wait(timeout=max(0.0, deadline - time.monotonic())):
            raise CustomResourceFailed(custom, f"no answer within {self.timeout_s:.0f} s")
        response = self.responses.pop(custom.request_id, None)
        if response is None:
            reason = request.error or "the handler sent no response (CloudFormation would wait 1 h)"
            raise CustomResourceFailed(custom, reason)
        if response.get("Status") != "SUCCESS":
            raise CustomResourceFailed(custom, str(response.get("Reason") or "no reason given"))
        custom.resource_name = response.get("PhysicalResourceId") or custom.resource_name
        custom.set_data(response.get("Data") or {})
        return custom

    def _roll_back(self, stack: Any, failed: CustomResourceFailed) -> None:
        """What CloudFormation does when a resource fails to create: delete what was made."""
        from moto.cloudformation.models import Event

        custom = failed.custom
        resource_type = stack.template_dict["Resources"][custom.logical_id]["Type"]
        stack.events.append(
            Event(
                stack.stack_id,
                stack.name,
                custom.logical_id,
                custom.physical_resource_id,
                resource_type,
                "CREATE_FAILED",
                failed.reason,
                None,
            )
        )
        stack.status = "ROLLBACK_IN_PROGRESS"
        stack._add_stack_event(
            "ROLLBACK_IN_PROGRESS",
            resource_status_reason=(
                f"The following resource(s) failed to create: [{custom.logical_id}]."
            ),
        )
        stack.resource_map.delete()
        custom.delete(stack.account_id, stack.region_name)  # CloudFormation deletes it too
        stack.status = "ROLLBACK_COMPLETE"
        stack._add_stack_event("ROLLBACK_COMPLETE")

    def _custom_delete_patch(self) -> Callable[..., None]:
        harness = self

        def delete(custom: Any, account_id: str, region_name: str) -> None:
            create = harness.requests.pop(custom.request_id, None)
            if create is None:
                return  # already deleted, or never sent a Create
            event = {
                **create.event,
                "RequestType": "Delete",
                "RequestId": f"{custom.request_id}-delete",
                "PhysicalResourceId": custom.physical_resource_id,
            }
            harness.requests[event["RequestId"]] = _Request(event, create.function_arn)
            harness._call(create.function_arn, event)
            harness.requests.pop(event["RequestId"], None)
            response = harness.responses.pop(event["RequestId"], None)
            if response is None or response.get("Status") != "SUCCESS":
                raise AssertionError(f"delete of {custom.logical_id} failed: {response}")

        return delete

    def _response_patch(self) -> Callable[..., tuple[int, dict[str, int], str]]:
        harness = self

        def process_cfn_response(handler: Any) -> tuple[int, dict[str, int], str]:
            body = json.loads(handler.body)
            if body.get("RequestId") not in harness.requests:
                return 400, {"status": 400}, json.dumps({"error": "unknown RequestId"})
            harness.responses[body["RequestId"]] = body
            return 200, {"status": 200}, json.dumps({})

        return process_cfn_response

    # stacks

    def create_stack(
        self,
        template: ProjectTemplate,
        stack_name: str,
        parameters: dict[str, str],
        region: str = REGION,
        account: str = ACCOUNT_ID,
    ) -> str:
        cfn = self.client("cloudformation", region, account)
        response = cfn.create_stack(
            StackName=stack_name,
            TemplateBody=template.text,
            Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
            Tags=[
                {"Key": names.tag_key("project_name"), "Value": parameters["SageMakerProjectName"]},
                {"Key": names.tag_key("project_id"), "Value": parameters["SageMakerProjectId"]},
            ],
        )
        stack_id: str = response["StackId"]
        return stack_id

    def wait(
        self, stack_id: str, region: str = REGION, timeout: float = 90, account: str = ACCOUNT_ID
    ) -> dict[str, Any]:
        """Poll until the stack leaves *_IN_PROGRESS; fail loudly if it hangs."""
        cfn = self.client("cloudformation", region, account)
        deadline = time.monotonic() + timeout
        while True:
            stack: dict[str, Any] = cfn.describe_stacks(StackName=stack_id)["Stacks"][0]
            if not stack["StackStatus"].endswith("IN_PROGRESS"):
                return stack
            if time.monotonic() > deadline:
                raise AssertionError(f"stack {stack_id} hangs in {stack['StackStatus']}")
            time.sleep(0.05)


def _as_cfn_strings(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _as_cfn_strings(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_cfn_strings(v) for v in value]
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return str(value)
    return value


def _account_region(stack_id: str) -> tuple[str, str]:
    parts = stack_id.split(":")
    return parts[4], parts[3]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Platform:
    """What the platform would have deployed in the dev account, seeded into moto."""

    moto: MotoCloudFormation
    clone_repo: Any  # RecordingRepoHandler, or whatever handler the test wires in
    trigger: RecordingTrigger
    clone_repo_arn: str
    trigger_arn: str
    kms_key_arn: str
    github_org: str
    execution_role_arn: str = ""


def seed_platform(
    moto: MotoCloudFormation,
    region: str,
    github_org: str,
    clone_repo: Any,
    trigger: RecordingTrigger,
    account: str = ACCOUNT_ID,
) -> Platform:
    import io
    import zipfile

    iam = moto.client("iam", region, account)
    try:
        role = iam.create_role(
            RoleName="mlops-suite-lambda",
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
        )["Role"]["Arn"]
    except iam.exceptions.EntityAlreadyExistsException:
        role = iam.get_role(RoleName="mlops-suite-lambda")["Role"]["Arn"]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("handler.py", "def handler(event, context):\n    return None\n")
    lam = moto.client("lambda", region, account)
    arns = {}
    for fn, handler in (
        ("mlops-suite-clone-repo", clone_repo),
        ("mlops-suite-model-approval-trigger", trigger),
    ):
        arns[fn] = lam.create_function(
            FunctionName=fn,
            Runtime="python3.12",
            Role=role,
            Handler="handler.handler",
            Code={"ZipFile": buf.getvalue()},
        )["FunctionArn"]
        moto.handlers[arns[fn]] = handler
    execution_role = "mlops-suite-dev-sagemaker-execution"
    try:
        execution_role_arn = iam.create_role(
            RoleName=execution_role,
            AssumeRolePolicyDocument=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "sagemaker.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                        }
                    ],
                }
            ),
        )["Role"]["Arn"]
    except iam.exceptions.EntityAlreadyExistsException:
        execution_role_arn = iam.get_role(RoleName=execution_role)["Role"]["Arn"]
    # The bootstrap's project boundary and the platform's project policy, which the templates'
    # GitHub roles carry by name (their contents are checked in tests/iac and by iam_analysis).
    for policy in (
        names.pattern("project_permissions_boundary"),
        names.pattern("project_github_policy", environment="dev"),
    ):
        with contextlib.suppress(iam.exceptions.EntityAlreadyExistsException):
            iam.create_policy(
                PolicyName=policy,
                PolicyDocument=json.dumps(
                    {
                        "Version": "2012-10-17",
                        "Statement": [
                            {"Effect": "Allow", "Action": "sts:GetCallerIdentity", "Resource": "*"}
                        ],
                    }
                ),
            )
    key = moto.client("kms", region, account).create_key(Description="mlops-suite platform key")
    key_arn = key["KeyMetadata"]["Arn"]
    ssm = moto.client("ssm", region, account)
    for key_name, value in (
        ("clone_repo_lambda_arn", arns["mlops-suite-clone-repo"]),
        ("model_approval_lambda_arn", arns["mlops-suite-model-approval-trigger"]),
        ("github_org", github_org),
        ("kms_key_arn", key_arn),
        ("sagemaker_execution_role_arn", execution_role_arn),
    ):
        ssm.put_parameter(Name=names.ssm_parameter(key_name), Value=value, Type="String")
    return Platform(
        moto,
        clone_repo,
        trigger,
        arns["mlops-suite-clone-repo"],
        arns["mlops-suite-model-approval-trigger"],
        key_arn,
        github_org,
        execution_role_arn,
    )


@pytest.fixture(scope="module")
def moto_cfn() -> Iterator[MotoCloudFormation]:
    """moto server on loopback with CloudFormation wired to in-process handlers.

    Module-scoped: its patches of moto end with the module, so other tests see plain moto.
    """
    moto = MotoCloudFormation()
    moto.start()
    try:
        yield moto
    finally:
        moto.stop()


@pytest.fixture(scope="module")
def platform(moto_cfn: MotoCloudFormation) -> Platform:
    """The dev account's platform in REGION: Lambdas (in-process stand-ins), SSM names, KMS key."""
    return seed_platform(
        moto_cfn, REGION, "my-org", RecordingRepoHandler(_questionnaire), RecordingTrigger()
    )


@pytest.fixture(scope="module")
def bad_org_platform(moto_cfn: MotoCloudFormation, platform: Platform) -> Platform:
    """The platform in BAD_ORG_REGION, whose SSM names an org that Copier's validator rejects."""
    return seed_platform(
        moto_cfn, BAD_ORG_REGION, "-not-an-org-", platform.clone_repo, platform.trigger
    )


@pytest.fixture(scope="session")
def gap_registry() -> dict[str, dict[str, Any]]:
    """Model package groups the harness created for moto, with the properties CFN resolved."""
    return _ModelPackageGroupResource.created


@pytest.fixture(scope="session")
def moto_native_properties() -> dict[str, set[str]]:
    return {
        **MOTO_NATIVE_PROPERTIES,
        "AWS::S3::Bucket": MOTO_NATIVE_PROPERTIES["AWS::S3::Bucket"] | HARNESS_BUCKET_PROPERTIES,
        "AWS::ECR::Repository": MOTO_NATIVE_PROPERTIES["AWS::ECR::Repository"]
        | HARNESS_ECR_PROPERTIES,
    }


@pytest.fixture(scope="session")
def gap_resources() -> dict[str, type[_GapResource]]:
    return GAP_RESOURCES
