"""Helpers for the Lambda tests: canned events, a fake context, platform configuration."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3

from mlops_suite import names
from mlops_suite.local.github_double import GitHubDouble
from mlops_suite.local.lambda_runtime import LocalContext, ResponseCatcher

EVENTS = Path(__file__).resolve().parents[1] / "events"
REGION = "eu-west-1"
SUITE_URL = "https://github.com/example/mlops-suite.git"
SUITE_RELEASE = "v1.4.0"
PROD_TEAM = "platform-approvers"


def load_event(name: str) -> dict[str, Any]:
    """A canned event from tests/events."""
    data: dict[str, Any] = json.loads((EVENTS / f"{name}.json").read_text(encoding="utf-8"))
    return data


class FakeContext(LocalContext):
    """The Lambda context: remaining time counts down from `seconds`."""

    def __init__(self, seconds: float = 300.0) -> None:
        super().__init__(seconds, function_name="mlops-suite-clone-repo")


Catcher = ResponseCatcher


def configure_platform(
    double: GitHubDouble, *, app: bool = True, skip: tuple[str, ...] = (), client: Any = None
) -> str:
    """Write the platform's SSM parameters and GitHub secret; return the secret ARN."""
    secrets = client("secretsmanager") if client else boto3.client("secretsmanager", REGION)
    ssm = client("ssm") if client else boto3.client("ssm", REGION)
    value = (
        {"app_id": double.app_id, "private_key": double.app_private_key_pem}
        if app
        else {"token": double.token}
    )
    arn = secrets.create_secret(Name="mlops-suite/github-app", SecretString=json.dumps(value))[
        "ARN"
    ]
    params = {
        "github_org": "my-org",
        "github_app_secret_arn": arn,
        "github_prod_reviewer_team": PROD_TEAM,
        "suite_git_url": SUITE_URL,
        "suite_release": SUITE_RELEASE,
    }
    for key, val in params.items():
        if key not in skip:
            ssm.put_parameter(Name=names.ssm_parameter(key), Value=val, Type="String")
    return str(arn)


def secrets_of(double: GitHubDouble) -> list[str]:
    """Every credential the double knows: PAT, issued installation tokens, key material."""
    key_lines = [
        line for line in double.app_private_key_pem.splitlines() if line and "-----" not in line
    ]
    return [double.token, *double.installation_tokens, *key_lines]


def assert_no_secret(double: GitHubDouble, *texts: str) -> None:
    for secret in secrets_of(double):
        for text in texts:
            assert secret not in text, "a GitHub credential leaked"
