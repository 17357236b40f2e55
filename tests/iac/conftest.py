"""Parsed platform IaC for the policy tests: Terraform (python-hcl2) and CloudFormation (YAML).

No Terraform binary is needed: the tests read the source. Every IAM policy in the Terraform is a
`locals` object passed through `jsonencode(local.<name>)`, so the policies can be read here as data;
`test_iac_policies.py` holds every policy attribute to that convention.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hcl2
import pytest

from mlops_suite import cfn_yaml

ROOT = Path(__file__).resolve().parents[2]
PLATFORM = ROOT / "platform"
MODULES = PLATFORM / "modules"
BOOTSTRAP = PLATFORM / "bootstrap" / "bootstrap.yaml"
PROJECT_TEMPLATES = ROOT / "project-templates"
NAMES = ROOT / "src" / "mlops_suite" / "names.json"

# Attributes that hold an IAM policy document, per resource type.
POLICY_ATTRIBUTES = {
    "aws_iam_role": ("assume_role_policy",),
    "aws_iam_role_policy": ("policy",),
    "aws_iam_policy": ("policy",),
    "aws_kms_key": ("policy",),
    "aws_s3_bucket_policy": ("policy",),
}


def load_cfn(path: Path) -> dict[str, Any]:
    """Parse a CloudFormation template, intrinsics included."""
    data: dict[str, Any] = cfn_yaml.load(path.read_text(encoding="utf-8"))
    return data


def unquote(value: Any) -> Any:
    """Strip the quotes python-hcl2 keeps around string literals, recursively."""
    if isinstance(value, str):
        if len(value) >= 2 and value[0] == value[-1] == '"':
            return value[1:-1]
        return value
    if isinstance(value, list):
        return [unquote(v) for v in value]
    if isinstance(value, dict):
        return {unquote(k): unquote(v) for k, v in value.items() if k != "__is_block__"}
    return value


@dataclass
class TfResource:
    """One resource block of a module."""

    module: str
    type: str
    name: str
    body: dict[str, Any]
    comments: list[str]


@dataclass
class TfModule:
    """A Terraform module or root, parsed."""

    path: Path
    locals: dict[str, Any] = field(default_factory=dict)
    resources: list[TfResource] = field(default_factory=list)
    modules: dict[str, dict[str, Any]] = field(default_factory=dict)
    text: str = ""

    def of_type(self, rtype: str) -> list[TfResource]:
        """Resources of one type."""
        return [r for r in self.resources if r.type == rtype]


def parse_module(path: Path) -> TfModule:
    """Parse every .tf file of one folder."""
    mod = TfModule(path=path)
    for tf in sorted(path.glob("*.tf")):
        text = tf.read_text(encoding="utf-8")
        mod.text += text
        with tf.open(encoding="utf-8") as fh:
            data = hcl2.load(fh)
        for block in data.get("locals", []):
            mod.locals.update(unquote(block))
        for block in data.get("resource", []):
            for rtype, named in block.items():
                for rname, body in named.items():
                    comments = [c["value"] for c in body.get("__comments__", [])]
                    clean = {k: v for k, v in body.items() if k != "__comments__"}
                    mod.resources.append(
                        TfResource(
                            path.name, unquote(rtype), unquote(rname), unquote(clean), comments
                        )
                    )
        for block in data.get("module", []):
            for mname, body in block.items():
                mod.modules[unquote(mname)] = body
    return mod


def walk(value: Any) -> Iterator[Any]:
    """Every node of a nested dict/list structure."""
    yield value
    if isinstance(value, dict):
        for v in value.values():
            yield from walk(v)
    elif isinstance(value, list):
        for v in value:
            yield from walk(v)


def as_list(value: Any) -> list[Any]:
    """IAM fields may be a single value or a list."""
    return value if isinstance(value, list) else [value]


@dataclass
class PolicyDoc:
    """An IAM policy document and where it lives."""

    where: str
    doc: dict[str, Any]
    kind: str  # "identity", "trust", "resource", "key", "boundary"

    @property
    def statements(self) -> list[dict[str, Any]]:
        """The document's statements."""
        return as_list(self.doc.get("Statement", []))


@dataclass
class Iac:
    """Everything the policy tests read (tests get it from the `iac` fixture)."""

    names: dict[str, Any]
    modules: dict[str, TfModule]
    bootstrap: dict[str, Any]
    project_templates: dict[str, dict[str, Any]]
    root: Path = ROOT
    platform: Path = PLATFORM
    project_templates_dir: Path = PROJECT_TEMPLATES

    as_list = staticmethod(as_list)
    load_cfn = staticmethod(load_cfn)
    parse_module = staticmethod(parse_module)

    def tf_statements(self) -> list[tuple[str, dict[str, Any]]]:
        """Every IAM statement literal in the Terraform locals, with where it is."""
        found: list[tuple[str, dict[str, Any]]] = []
        for mod in self.modules.values():
            for lname, value in mod.locals.items():
                for node in walk(value):
                    if isinstance(node, dict) and "Effect" in node:
                        found.append((f"{mod.path.name}/local.{lname}", node))
        return found

    def tf_policy_references(self) -> list[tuple[str, str]]:
        """(resource, expression) of every policy attribute in the Terraform."""
        refs: list[tuple[str, str]] = []
        for mod in self.modules.values():
            for res in mod.resources:
                for attr in POLICY_ATTRIBUTES.get(res.type, ()):
                    if attr in res.body:
                        refs.append(
                            (f"{mod.path.name}/{res.type}.{res.name}.{attr}", str(res.body[attr]))
                        )
        return refs

    def cfn_policies(self) -> list[PolicyDoc]:
        """Every policy document of the bootstrap stack and the project templates."""
        docs: list[PolicyDoc] = []
        templates = {"bootstrap": self.bootstrap, **self.project_templates}
        for tname, template in templates.items():
            for lname, res in (template.get("Resources") or {}).items():
                props = res.get("Properties") or {}
                rtype = res.get("Type", "")
                where = f"{tname}/{lname}"
                if "AssumeRolePolicyDocument" in props:
                    docs.append(PolicyDoc(where, props["AssumeRolePolicyDocument"], "trust"))
                for pol in props.get("Policies") or []:
                    docs.append(
                        PolicyDoc(f"{where}/{pol['PolicyName']}", pol["PolicyDocument"], "identity")
                    )
                if rtype == "AWS::IAM::ManagedPolicy":
                    name = str(props.get("ManagedPolicyName", ""))
                    kind = "boundary" if name.endswith("-boundary") else "identity"
                    docs.append(PolicyDoc(where, props["PolicyDocument"], kind))
                if rtype in ("AWS::IAM::Policy", "AWS::IAM::RolePolicy"):
                    docs.append(PolicyDoc(where, props["PolicyDocument"], "identity"))
                if rtype == "AWS::KMS::Key":
                    docs.append(PolicyDoc(where, props["KeyPolicy"], "key"))
                if rtype in ("AWS::S3::BucketPolicy", "AWS::SageMaker::ModelPackageGroup"):
                    doc = props.get("PolicyDocument") or props.get("ModelPackageGroupPolicy")
                    if isinstance(doc, dict):
                        docs.append(PolicyDoc(where, doc, "resource"))
        return docs


@pytest.fixture(scope="session")
def iac() -> Iac:
    """The platform's Terraform and CloudFormation, parsed once."""
    modules = {p.name: parse_module(p) for p in sorted(MODULES.iterdir()) if p.is_dir()}
    for env in sorted((PLATFORM / "environments").iterdir()):
        if env.is_dir():
            modules[f"environments/{env.name}"] = parse_module(env)
    templates = {p.name: load_cfn(p) for p in sorted(PROJECT_TEMPLATES.glob("*.yaml"))}
    return Iac(
        names=json.loads(NAMES.read_text(encoding="utf-8")),
        modules=modules,
        bootstrap=load_cfn(BOOTSTRAP),
        project_templates=templates,
    )
