"""Lambda configuration, read when a request arrives (never at import).

Environment: ``MLOPS_SUITE_GITHUB_API_URL`` (default https://api.github.com),
``MLOPS_SUITE_GITHUB_OIDC_SUBJECT_FORMAT`` (``immutable``, the default, or ``name`` for GitHub
Enterprise Server: the form of the OIDC subject the clone-repo Lambda configures and reports),
``MLOPS_SUITE_TEMPLATE_DIR`` (tests), ``MLOPS_SUITE_RESPONSE_MARGIN_S``. Everything else comes from
the SSM parameters named in names.json, and the GitHub credentials from Secrets Manager.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mlops_suite import names
from mlops_suite.github.client import DEFAULT_API_URL, Credentials

logger = logging.getLogger(__name__)

ENV_API_URL = "MLOPS_SUITE_GITHUB_API_URL"
ENV_SUBJECT_FORMAT = "MLOPS_SUITE_GITHUB_OIDC_SUBJECT_FORMAT"
SSM_KEYS = (
    "github_org",
    "github_app_secret_arn",
    "github_prod_reviewer_team",
    "suite_git_url",
    "suite_release",
)
SUBJECT_FORMATS = ("immutable", "name")


class ConfigError(RuntimeError):
    """The platform's configuration is missing or malformed; the message names the setting."""


@dataclass(frozen=True)
class Settings:
    """What the Lambdas need to know about the platform."""

    github_org: str
    github_api_url: str
    secret_arn: str
    prod_reviewer_team: str
    suite_git_url: str
    suite_release: str
    region: str
    oidc_subject_format: str = "immutable"


def aws_client(service: str, region: str | None) -> Any:
    """A boto3 client from a fresh session, so credentials are read per request, not cached."""
    import boto3

    return boto3.session.Session(region_name=region).client(service)


def _region(environ: Mapping[str, str]) -> str:
    region = environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION")
    if not region:
        raise ConfigError(
            "AWS_REGION is not set: the Lambda runtime sets it; set it for local runs"
        )
    return region


def load_settings(environ: Mapping[str, str] = os.environ, ssm: Any = None) -> Settings:
    """Read the SSM parameters (one GetParameters call) and the environment."""
    region = _region(environ)
    if ssm is None:
        ssm = aws_client("ssm", region)
    wanted = {names.ssm_parameter(k): k for k in SSM_KEYS}
    resp = ssm.get_parameters(Names=sorted(wanted), WithDecryption=True)
    values = {wanted[p["Name"]]: p["Value"] for p in resp.get("Parameters", [])}
    missing = sorted(p for p, k in wanted.items() if not values.get(k))
    if missing:
        raise ConfigError(
            f"SSM parameters {missing} are missing in {region}: the platform's Terraform "
            "(platform/modules/ssm) writes them; apply it before creating projects"
        )
    subject_format = environ.get(ENV_SUBJECT_FORMAT) or "immutable"
    if subject_format not in SUBJECT_FORMATS:
        raise ConfigError(
            f"{ENV_SUBJECT_FORMAT} is {subject_format!r}: use 'immutable' (github.com) or "
            "'name' (GitHub Enterprise Server)"
        )
    return Settings(
        oidc_subject_format=subject_format,
        github_org=values["github_org"],
        github_api_url=environ.get(ENV_API_URL) or DEFAULT_API_URL,
        secret_arn=values["github_app_secret_arn"],
        prod_reviewer_team=values["github_prod_reviewer_team"],
        suite_git_url=values["suite_git_url"],
        suite_release=values["suite_release"],
        region=region,
    )


def load_credentials(settings: Settings, secrets: Any = None) -> Credentials:
    """Read the GitHub App (or PAT) secret from Secrets Manager."""
    if secrets is None:
        secrets = aws_client("secretsmanager", settings.region)
    try:
        value = secrets.get_secret_value(SecretId=settings.secret_arn)["SecretString"]
    except secrets.exceptions.ResourceNotFoundException:
        raise ConfigError(
            f"the GitHub secret {settings.secret_arn} does not exist: store the GitHub App's "
            "credentials there (see docs/lambda.md)"
        ) from None
    try:
        return Credentials.from_secret(value)
    except ValueError as exc:
        raise ConfigError(f"secret {settings.secret_arn}: {exc}") from None
