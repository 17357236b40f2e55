"""Every ARN is built with the partition: aws, aws-us-gov and aws-cn alike."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mlops_suite.handlers.clone_repo_flow import partition

ROOT = Path(__file__).resolve().parents[2]
LITERAL = re.compile(r"arn:aws:")
# Lines that show an ARN to a person (validation messages, parameter constraints), not build one.
EXAMPLES = ("error_message", "ConstraintDescription", "e.g.")


def _sources() -> list[Path]:
    found = [
        *(ROOT / "platform").rglob("*.tf"),
        *(ROOT / "platform").rglob("*.yaml"),
        *(ROOT / "project-templates").glob("*.yaml"),
        *(ROOT / "src" / "mlops_suite").rglob("*.py"),
        *(ROOT / "repo-templates").rglob("*.py"),
        *(ROOT / "repo-templates").rglob("*.py.jinja"),
        *(ROOT / "repo-templates").rglob("*.tf*"),
        *(ROOT / "repo-templates").rglob("*.yml*"),
    ]
    # Tests pin one region's ARNs on purpose; .terraform holds downloaded providers.
    return [p for p in found if "tests" not in p.parts and ".terraform" not in p.parts]


def test_no_arn_is_built_for_the_aws_partition_only() -> None:
    sources = _sources()
    assert len(sources) > 40, "the scan must see the platform, templates and package"
    offenders = [
        f"{path.relative_to(ROOT)}:{n}: {line.strip()}"
        for path in sources
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if LITERAL.search(line) and not any(e in line for e in EXAMPLES)
    ]
    assert not offenders, "build these ARNs with the partition:\n" + "\n".join(offenders)


@pytest.mark.parametrize(
    ("region", "expected"),
    [
        ("eu-west-1", "aws"),
        ("us-east-1", "aws"),
        ("us-gov-west-1", "aws-us-gov"),
        ("us-gov-east-1", "aws-us-gov"),
        ("cn-north-1", "aws-cn"),
        ("cn-northwest-1", "aws-cn"),
    ],
)
def test_partition_of_region(region: str, expected: str) -> None:
    assert partition(region) == expected


def test_terraform_modules_take_the_partition_from_the_provider() -> None:
    """A module that writes `arn:` builds it from data.aws_partition, never from a literal."""
    for tf in (ROOT / "platform" / "modules").glob("*/main.tf"):
        text = tf.read_text(encoding="utf-8")
        if '"arn:' in text:
            assert 'data "aws_partition"' in text, f"{tf.relative_to(ROOT)} builds ARNs"


def test_project_templates_fail_fast_where_the_model_registry_is_missing() -> None:
    """cfn-lint reports AWS::SageMaker::ModelPackageGroup missing in these regions; the stack's
    rule refuses them at once, naming the type, instead of failing halfway through."""
    from mlops_suite import cfn_yaml

    missing = {"cn-north-1", "cn-northwest-1", "us-gov-east-1"}
    for path in sorted((ROOT / "project-templates").glob("*.yaml")):
        body = cfn_yaml.load(path.read_text(encoding="utf-8"))
        types = {r["Type"] for r in body["Resources"].values()}
        if "AWS::SageMaker::ModelPackageGroup" not in types:
            continue
        (assertion,) = body["Rules"]["ModelRegistryInThisRegion"]["Assertions"]
        refused = {
            eq["Fn::Equals"][1]
            for eq in assertion["Assert"]["Fn::Not"][0]["Fn::Or"]
            if eq["Fn::Equals"][0] == {"Ref": "AWS::Region"}
        }
        assert refused == missing, path.name
        assert "AWS::SageMaker::ModelPackageGroup" in assertion["AssertDescription"]
