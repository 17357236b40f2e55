"""Model-approval trigger: ``mlops_suite.handlers.model_approval.handler``.

Input is EventBridge's "SageMaker Model Package State Change" event. Only an ``Approved`` package
of a group that belongs to a known project sends ``repository_dispatch`` (event type
``model-approved``) to that project's deploy repository. Which repository: the group is named
``{project_name}-{project_id}`` (names.json pattern ``model_package_group``); when the group carries
a ``sagemaker:project-id`` tag it must agree; the project's SSM parameter
``/mlops-suite/projects/{project_id}/deploy-repo`` (written by the project's CloudFormation stack)
holds ``org/repo``. Every other event is logged and ignored. Nothing a bad or unknown event
contains raises; only a transient GitHub failure (5xx, timeout, rate limit) raises, so Lambda's
bounded async retries (then the on-failure destination) deliver the approval later.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mlops_suite import names

logger = logging.getLogger(__name__)
logger.setLevel(logging.INFO)

DETAIL_TYPE = "SageMaker Model Package State Change"
PROJECT_ID = re.compile(r"-(p-[a-z0-9]{12})$")
FULL_NAME = re.compile(r"^[A-Za-z0-9-]{1,39}/[A-Za-z0-9._-]{1,100}$")


@dataclass(frozen=True)
class Approval:
    """The fields of an approval event the dispatch needs."""

    group: str
    version: int
    arn: str
    status: str
    region: str
    account: str


class Ignored(Exception):
    """The event is not one we act on; the message says why."""


def parse(event: Mapping[str, Any]) -> Approval:
    """Parse the EventBridge event; raise Ignored for anything else."""
    if not isinstance(event, Mapping):
        raise Ignored(f"not an EventBridge event ({type(event).__name__})")
    if event.get("source") != "aws.sagemaker" or event.get("detail-type") != DETAIL_TYPE:
        raise Ignored(f"not a model package state change: {event.get('detail-type')!r}")
    detail = event.get("detail")
    if not isinstance(detail, Mapping):
        raise Ignored("event has no detail")
    group, arn = detail.get("ModelPackageGroupName"), detail.get("ModelPackageArn")
    if not isinstance(group, str) or not isinstance(arn, str) or not group or not arn:
        raise Ignored("event lacks ModelPackageGroupName or ModelPackageArn")
    try:
        version = int(detail.get("ModelPackageVersion") or arn.rsplit("/", 1)[-1])
    except ValueError:
        raise Ignored(f"no model package version in {arn}") from None
    return Approval(
        group=group,
        version=version,
        arn=arn,
        status=str(detail.get("ModelApprovalStatus", "")),
        region=str(event.get("region", "")),
        account=str(event.get("account", "")),
    )


def project_id_of(group: str, sagemaker: Any) -> str:
    """The SageMaker project id a model package group belongs to; Ignored if none."""
    match = PROJECT_ID.search(group)
    if not match:
        raise Ignored(f"group {group} is not named <project>-<project id>: not a project's group")
    project_id = match.group(1)
    try:
        group_arn = sagemaker.describe_model_package_group(ModelPackageGroupName=group)[
            "ModelPackageGroupArn"
        ]
        tags = sagemaker.list_tags(ResourceArn=group_arn).get("Tags", [])
    except sagemaker.exceptions.ClientError as exc:
        raise Ignored(f"cannot read group {group}: {exc}") from None
    tagged = {t["Key"]: t["Value"] for t in tags}.get(names.tag_key("project_id"))
    if tagged is not None and tagged != project_id:
        raise Ignored(f"group {group} is tagged for project {tagged}, not {project_id}")
    return project_id


def deploy_repo_of(project_id: str, ssm: Any) -> str:
    """``org/repo`` of the project's deploy repository, from its SSM parameter."""
    param = names.pattern("project_deploy_repo_parameter", project_id=project_id)
    try:
        value = str(ssm.get_parameter(Name=param)["Parameter"]["Value"]).strip()
    except ssm.exceptions.ParameterNotFound:
        raise Ignored(
            f"project {project_id} has no deploy repository ({param} is missing)"
        ) from None
    if not FULL_NAME.match(value):
        raise Ignored(f"{param} holds {value!r}, not owner/repo")
    return value


def handler(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    """Dispatch an approval to the deploy repo; ignore everything else without raising."""
    try:
        approval = parse(event)
        if approval.status != "Approved":
            raise Ignored(f"{approval.arn} is {approval.status or 'without status'}, not Approved")
        return _dispatch(approval)
    except Ignored as why:
        logger.info("ignored event", extra={"reason": str(why)})
        return {"status": "ignored", "reason": str(why)}


def _dispatch(approval: Approval) -> dict[str, Any]:
    from mlops_suite.github.client import GitHubClient, GitHubError, RateLimited, Unavailable
    from mlops_suite.handlers.config import (
        ConfigError,
        aws_client,
        load_credentials,
        load_settings,
    )

    region = approval.region or None
    project_id = project_id_of(approval.group, aws_client("sagemaker", region))
    full_name = deploy_repo_of(project_id, aws_client("ssm", region))
    try:
        settings = load_settings()
        token = load_credentials(settings).token_for(
            settings.github_org, base_url=settings.github_api_url
        )
        owner, repo = full_name.split("/", 1)
        payload = {
            "model_package_arn": approval.arn,
            "model_package_group_name": approval.group,
            "model_package_version": approval.version,
            "sagemaker_project_id": project_id,
            "region": approval.region,
            "account": approval.account,
        }
        with GitHubClient(token, base_url=settings.github_api_url) as client:
            client.dispatch(
                owner, repo, names.load()["github"]["model_approved_event_type"], payload
            )
    except (RateLimited, Unavailable):
        raise  # transient: Lambda's bounded async retry delivers the approval later
    except (ConfigError, GitHubError, ValueError) as exc:
        # Permanent (bad credentials, missing repo, bad config): retrying cannot help.
        logger.error("approval not dispatched", extra={"repo": full_name, "error": str(exc)})
        return {"status": "failed", "reason": str(exc)}
    logger.info("dispatched", extra={"repo": full_name, "model_package_arn": approval.arn})
    return {"status": "dispatched", "repo": full_name, "model_package_arn": approval.arn}
