"""Which model package a deploy run may ship, decided before any plan or apply.

Two questions, asked in order by the deploy workflow:
1. `check-event` (no AWS): is the run allowed and what does it ask for? A repository_dispatch
   `model-approved` must carry every field the model-approval trigger sends, for this project's
   group, region and dev account; a manual run asks for a package ARN or "latest". Runs in forks
   or repositories outside the project's organisation are refused.
2. `resolve` (the environment's role, reading the dev registry across accounts): does the
   package exist, is it Approved, and is it in this project's group?
Every refusal names the value and what to do instead.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import settings

EVENT_TYPE = "model-approved"
LATEST = "latest"
# The payload of the model-approval trigger (mlops_suite.handlers.model_approval).
PAYLOAD_FIELDS = (
    "model_package_arn",
    "model_package_group_name",
    "model_package_version",
    "sagemaker_project_id",
    "region",
    "account",
)
ARN = re.compile(
    r"^arn:(aws|aws-cn|aws-us-gov):sagemaker:([a-z0-9-]+):([0-9]{12}):"
    r"model-package/([A-Za-z0-9][A-Za-z0-9-]*)/([0-9]+)$"
)


class ReleaseError(ValueError):
    """The run must not deploy; the message names the value and the fix."""


@dataclass(frozen=True)
class Project:
    """What a package must match to be deployed by this repository."""

    group: str
    project_id: str
    region: str
    dev_account_id: str
    github_org: str

    @classmethod
    def from_settings(cls) -> Project:
        """The project this repository was generated for."""
        return cls(
            group=settings.MODEL_PACKAGE_GROUP,
            project_id=settings.PROJECT_ID,
            region=settings.REGION,
            dev_account_id=settings.DEV_ACCOUNT_ID,
            github_org=settings.GITHUB_ORG,
        )


@dataclass(frozen=True)
class Package:
    """An approved model package of the project's group."""

    arn: str
    group: str
    version: int
    status: str


def partition(region: str) -> str:
    """The AWS partition of `region`, for ARNs (aws, aws-us-gov or aws-cn)."""
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def check_arn(arn: str, project: Project) -> int:
    """Return the version of `arn`; ReleaseError unless it is a package of the project's group."""
    match = ARN.match(arn)
    if not match:
        raise ReleaseError(
            f"{arn!r} is not a versioned model package ARN: use "
            f"arn:{partition(project.region)}:sagemaker:{project.region}:{project.dev_account_id}"
            ":model-package/"
            f"{project.group}/<version>, or {LATEST!r}"
        )
    _, region, account, group, version = match.groups()
    if group.lower() != project.group.lower():  # SageMaker writes ARNs in lower case
        raise ReleaseError(
            f"model package {arn} belongs to group {group}, not this project's group "
            f"{project.group}: deploy a package of {project.group}"
        )
    if account != project.dev_account_id:
        raise ReleaseError(
            f"model package {arn} is in account {account}, not the dev account "
            f"{project.dev_account_id} whose registry this project reads"
        )
    if region != project.region:
        raise ReleaseError(
            f"model package {arn} is in region {region}, not the project's region {project.region}"
        )
    return int(version)


def requested_package(event_name: str, event: Mapping[str, Any], project: Project) -> str:
    """The package ARN (or LATEST) that a GitHub event asks to deploy."""
    repo = event.get("repository") or {}
    full_name = repo.get("full_name", "<unknown repository>")
    if repo.get("fork"):
        raise ReleaseError(
            f"refusing to deploy from fork {full_name}: deploys run only in the project's own "
            "repository, whose environments hold the deploy roles"
        )
    owner = (repo.get("owner") or {}).get("login")
    if owner != project.github_org:
        raise ReleaseError(
            f"refusing to deploy from {full_name}: owner {owner!r} is not the project's "
            f"organisation {project.github_org!r}"
        )
    if event_name == "repository_dispatch":
        return _from_dispatch(event, project)
    if event_name == "workflow_dispatch":
        inputs = event.get("inputs") or {}
        value = str(inputs.get("model_package") or "").strip() or LATEST
        if value != LATEST:
            check_arn(value, project)
        return value
    raise ReleaseError(
        f"event {event_name!r} does not deploy: use repository_dispatch {EVENT_TYPE!r} or a manual "
        "workflow_dispatch"
    )


def _from_dispatch(event: Mapping[str, Any], project: Project) -> str:
    if event.get("action") != EVENT_TYPE:
        raise ReleaseError(
            f"repository_dispatch of type {event.get('action')!r} does not deploy: "
            f"only {EVENT_TYPE!r} does"
        )
    payload = event.get("client_payload")
    if not isinstance(payload, Mapping):
        raise ReleaseError(f"{EVENT_TYPE} dispatch has no client_payload: send {PAYLOAD_FIELDS}")
    missing = [f for f in PAYLOAD_FIELDS if payload.get(f) in (None, "")]
    if missing:
        raise ReleaseError(
            f"{EVENT_TYPE} payload lacks {', '.join(missing)}: the model-approval trigger sends "
            f"all of {', '.join(PAYLOAD_FIELDS)}"
        )
    expected = {
        "model_package_group_name": project.group,
        "sagemaker_project_id": project.project_id,
        "region": project.region,
        "account": project.dev_account_id,
    }
    for field, want in expected.items():
        if str(payload[field]) != want:
            raise ReleaseError(
                f"{EVENT_TYPE} payload has {field} {payload[field]!r}, not this project's {want!r}:"
                " the approval is for another project"
            )
    arn = str(payload["model_package_arn"])
    version = check_arn(arn, project)
    if str(payload["model_package_version"]) != str(version):
        raise ReleaseError(
            f"{EVENT_TYPE} payload has model_package_version {payload['model_package_version']!r} "
            f"but its ARN {arn} is version {version}"
        )
    return arn


def resolve(sagemaker: Any, requested: str, project: Project) -> Package:
    """Look the package up in the dev registry; ReleaseError unless it is Approved and ours."""
    if requested == LATEST:
        found = sagemaker.list_model_packages(
            ModelPackageGroupName=_group_arn(project),
            ModelApprovalStatus="Approved",
            SortBy="CreationTime",
            SortOrder="Descending",
            MaxResults=1,
        )["ModelPackageSummaryList"]
        if not found:
            raise ReleaseError(
                f"no Approved model package in group {project.group}: approve one in the model "
                "registry, or name a package ARN"
            )
        requested = found[0]["ModelPackageArn"]
    version = check_arn(requested, project)
    try:
        described = sagemaker.describe_model_package(ModelPackageName=requested)
    except sagemaker.exceptions.ClientError as exc:
        raise ReleaseError(
            f"unknown model package {requested}: {exc.response['Error'].get('Message', exc)}; "
            f"check the ARN against the registry of account {project.dev_account_id}"
        ) from None
    group = described.get("ModelPackageGroupName")
    if group != project.group:
        raise ReleaseError(
            f"model package {requested} belongs to group {group}, not {project.group}"
        )
    status = described.get("ModelApprovalStatus", "")
    if status != "Approved":
        raise ReleaseError(
            f"model package {requested} is {status or 'without approval status'}, not Approved: "
            "an approver must approve it in the model registry first"
        )
    return Package(arn=requested, group=group, version=version, status=status)


def _group_arn(project: Project) -> str:
    # Another account's group is listed by ARN; a name would mean this account's registry.
    partition = {"cn-": "aws-cn", "us-gov-": "aws-us-gov"}
    part = next((p for prefix, p in partition.items() if project.region.startswith(prefix)), "aws")
    return (
        f"arn:{part}:sagemaker:{project.region}:{project.dev_account_id}:"
        f"model-package-group/{project.group}"
    )


def write_outputs(values: Mapping[str, object]) -> None:
    """Print `values` and append them to $GITHUB_OUTPUT when running in GitHub Actions."""
    lines = [f"{key}={value}" for key, value in values.items()]
    print("\n".join(lines))
    if target := os.environ.get("GITHUB_OUTPUT"):
        with Path(target).open("a", encoding="utf-8") as out:
            out.write("\n".join(lines) + "\n")


def main(argv: list[str] | None = None) -> int:
    """`deploy-release check-event|resolve`: exit 1 with the reason when the run must not deploy."""
    parser = argparse.ArgumentParser(prog="deploy-release", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("check-event", help="check the triggering GitHub event (no AWS)")
    check.add_argument("--event-name", default=os.environ.get("GITHUB_EVENT_NAME", ""))
    check.add_argument("--event-path", type=Path, default=os.environ.get("GITHUB_EVENT_PATH"))
    look = sub.add_parser("resolve", help="look the package up in the dev registry")
    look.add_argument("--requested", required=True, help=f"a package ARN or {LATEST!r}")
    args = parser.parse_args(argv)
    project = Project.from_settings()
    try:
        if args.command == "check-event":
            if args.event_path is None or not Path(args.event_path).is_file():
                raise ReleaseError(f"no GitHub event file at {args.event_path}: set --event-path")
            event = json.loads(Path(args.event_path).read_text(encoding="utf-8"))
            write_outputs({"requested": requested_package(args.event_name, event, project)})
        else:
            import boto3

            client = boto3.client("sagemaker", region_name=project.region)
            package = resolve(client, args.requested, project)
            write_outputs(
                {"model_package_arn": package.arn, "model_package_version": package.version}
            )
    except ReleaseError as refusal:
        print(f"::error::{refusal}", file=sys.stderr)
        return 1
    return 0
