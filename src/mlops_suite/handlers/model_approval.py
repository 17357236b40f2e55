"""Model-approval trigger: ``mlops_suite.handlers.model_approval.handler``.

Input is EventBridge's "SageMaker Model Package State Change" event. Only an ``Approved`` package
of a group tagged for a project, from the platform's dev account, sends ``repository_dispatch``
(event type ``model-approved``) to that project's deploy repository, and only when that repository
carries the project's ownership topics. Which project: the group is named
``{project_name}-{project_id}`` (names.json pattern ``model_package_group``) and must carry the
``sagemaker:project-id`` tag with that id (the project's stack creates it so; a look-alike group
without the tag is not a project's). Which repository: the project's SSM parameter
``/mlops-suite/projects/{project_id}/deploy-repo`` (written by the project's CloudFormation
stack) holds ``org/repo``. The dev account is SSM ``/mlops-suite/accounts/dev``, or, where the
platform has not written it, the account the function runs in.

Every other event is logged and ignored, malformed fields included (version, ARN, region,
account). Nothing a bad or unknown event contains raises; only a transient GitHub failure (5xx,
timeout, rate limit) raises, so Lambda's bounded async retries (then the on-failure destination)
deliver the approval later.
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
REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d{1,2}$")
ACCOUNT = re.compile(r"^\d{12}$")
GROUP = re.compile(r"^[A-Za-z0-9](-*[A-Za-z0-9]){0,62}$")
PACKAGE_ARN = re.compile(
    r"^arn:aws(-cn|-us-gov)?:sagemaker:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):"
    r"model-package/(?P<group>[^/]+)/(?P<version>[1-9]\d*)$"
)


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


def _version(value: Any, arn_version: str) -> int:
    """The package version: a positive integer, as a JSON number or digits, matching the ARN."""
    if isinstance(value, bool) or not isinstance(value, int | str | None):
        raise Ignored(f"ModelPackageVersion {value!r} is not an integer")
    if value is None:
        return int(arn_version)
    text = str(value)
    if not text.isdigit() or int(text) < 1:
        raise Ignored(f"ModelPackageVersion {value!r} is not a positive integer")
    if int(text) != int(arn_version):
        raise Ignored(f"ModelPackageVersion {value!r} does not match the ARN's {arn_version}")
    return int(text)


def parse(event: Mapping[str, Any]) -> Approval:
    """Parse the EventBridge event; raise Ignored for anything else or anything malformed."""
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
    if not GROUP.fullmatch(group):
        raise Ignored(f"ModelPackageGroupName {group[:80]!r} is not a model package group name")
    region, account = event.get("region"), event.get("account")
    if not isinstance(region, str) or not REGION.fullmatch(region):
        raise Ignored(f"region {str(region)[:40]!r} is not an AWS region")
    if not isinstance(account, str) or not ACCOUNT.fullmatch(account):
        raise Ignored(f"account {str(account)[:40]!r} is not a 12-digit account id")
    match = PACKAGE_ARN.fullmatch(arn)
    if not match:
        raise Ignored(f"ModelPackageArn {arn[:120]!r} is not a model package version ARN")
    # SageMaker writes the group into the ARN in lower case.
    if (match["region"], match["account"], match["group"]) != (region, account, group.lower()):
        raise Ignored(f"{arn} is not a package of group {group} in {account} {region}")
    return Approval(
        group=group,
        version=_version(detail.get("ModelPackageVersion"), match["version"]),
        arn=arn,
        status=str(detail.get("ModelApprovalStatus", "")),
        region=region,
        account=account,
    )


def dev_account(ssm: Any, context: Any) -> str:
    """The platform's dev account: SSM ``dev_account_id``, else the function's own account."""
    try:
        value = str(
            ssm.get_parameter(Name=names.ssm_parameter("dev_account_id"))["Parameter"]["Value"]
        ).strip()
    except ssm.exceptions.ParameterNotFound:
        value = ""
    if value:
        return value
    arn = str(getattr(context, "invoked_function_arn", "") or "")
    if arn.count(":") >= 5:
        return arn.split(":")[4]
    from mlops_suite.handlers.config import aws_client

    return str(aws_client("sts", None).get_caller_identity()["Account"])


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
    if tagged is None:
        raise Ignored(
            f"group {group} has no {names.tag_key('project_id')} tag: not a project's group"
        )
    if tagged != project_id:
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
    from mlops_suite.github.client import RateLimited, Unavailable

    try:
        approval = parse(event)
        if approval.status != "Approved":
            raise Ignored(f"{approval.arn} is {approval.status or 'without status'}, not Approved")
        return _dispatch(approval, context)
    except Ignored as why:
        logger.info("ignored event", extra={"reason": str(why)})
        return {"status": "ignored", "reason": str(why)}
    except (RateLimited, Unavailable):
        raise  # transient: Lambda's bounded async retry delivers the approval later
    except Exception as exc:  # never let a surprise become a retry storm
        logger.exception("approval not dispatched")
        return {"status": "failed", "reason": f"{type(exc).__name__}: {exc}"[:300]}


def _dispatch(approval: Approval, context: Any) -> dict[str, Any]:
    from mlops_suite.github.client import GitHubClient, GitHubError, RateLimited, Unavailable
    from mlops_suite.handlers.config import (
        ConfigError,
        aws_client,
        load_credentials,
        load_settings,
    )

    ssm = aws_client("ssm", approval.region)
    expected = dev_account(ssm, context)
    if approval.account != expected:
        raise Ignored(f"event from account {approval.account}, not the dev account {expected}")
    project_id = project_id_of(approval.group, aws_client("sagemaker", approval.region))
    full_name = deploy_repo_of(project_id, ssm)
    ownership = (names.load()["github"]["ownership_topic"], project_id)
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
            found = client.get_repo(owner, repo)
            if found is None:
                raise GitHubError(f"find {full_name}", 404, "the deploy repository does not exist")
            topics = found.get("topics") or []
            if not all(t in topics for t in ownership):
                raise Ignored(
                    f"{full_name} lacks the topics {', '.join(ownership)}: it is not a "
                    f"repository of project {project_id}"
                )
            client.dispatch(
                owner, repo, names.load()["github"]["model_approved_event_type"], payload
            )
    except (RateLimited, Unavailable):
        raise
    except (ConfigError, GitHubError, ValueError) as exc:
        # Permanent (bad credentials, missing repo, bad config): retrying cannot help.
        logger.error("approval not dispatched", extra={"repo": full_name, "error": str(exc)})
        return {"status": "failed", "reason": str(exc)}
    logger.info("dispatched", extra={"repo": full_name, "model_package_arn": approval.arn})
    return {"status": "dispatched", "repo": full_name, "model_package_arn": approval.arn}
