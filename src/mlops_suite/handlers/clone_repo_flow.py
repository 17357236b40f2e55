"""The clone-repo flow: validate the properties as Copier answers, render, publish, answer.

Create renders the kind from the bundled template tree, points its answers file at the suite's
canonical URL and pinned release, and publishes it (see ``mlops_suite.github.publish``). Update
re-validates the answers and re-applies variables, environments and protection (never a second
repo, never a rename). Delete never deletes code: it succeeds at once, or archives the repo when
``archive_on_delete`` is true and the repo is ours; a repo that is already gone is a success.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from mlops_suite import kinds, names, rendering
from mlops_suite.github.client import GitHubClient, RetryPolicy
from mlops_suite.github.publish import (
    EnvironmentSpec,
    PublishError,
    RepoSpec,
    apply_settings,
    configure_oidc_subject,
    is_owned,
    publish,
    required_permissions,
)
from mlops_suite.handlers import cfn, templates
from mlops_suite.handlers.config import Settings, load_credentials, load_settings
from mlops_suite.handlers.resource import (
    ARCHIVE_ON_DELETE,
    FULL_NAME_PATTERN,
    RepoRequest,
    parse_bool,
    repo_request,
)

logger = logging.getLogger(__name__)

OWNERSHIP_TOPIC: str = names.load()["github"]["ownership_topic"]
# The one other custom resource this Lambda serves (mlops_suite.handlers.deploy_roles); every
# other type is a repository.
DEPLOY_ROLES = "Custom::ProjectDeployRoles"
COMMIT_AUTHOR = "mlops-suite[bot] <mlops-suite@users.noreply.github.com>"


class DeadlineExceeded(RuntimeError):
    """The deadline timer has answered CloudFormation; stop and roll back."""


@dataclass
class Outcome:
    """A successful request: physical id, Data and a short Reason."""

    physical_id: str
    data: dict[str, str]
    reason: str


@cache
def _questions(template: Path) -> dict[str, dict[str, Any]]:
    return rendering.questionnaire(template)


def partition(region: str) -> str:
    """The AWS partition of `region`."""
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def repo_spec(
    req: RepoRequest, answers: Mapping[str, Any], settings: Settings, template: Path
) -> RepoSpec:
    """Everything the repo must carry besides code: topics, variables, environments.

    What differs by kind (its environments, its own repository variables) comes from the kind's
    profile in the template tree (`repo-templates/<kind>/kind.yml`).
    """
    profile = kinds.load(req.repo_kind, template)
    project_id = str(answers["sagemaker_project_id"])
    project_name = str(answers.get("sagemaker_project_name") or answers["project_name"])
    region = str(answers["aws_region"])
    dev_account = str(answers["dev_account_id"])
    part = partition(region)
    accounts = {
        "dev": dev_account,
        "preprod": str(answers.get("preprod_account_id") or dev_account),
        "prod": str(answers.get("prod_account_id") or dev_account),
    }
    reviewers = {
        "dev": (),
        "preprod": (str(answers["owner"]),),
        "prod": (settings.prod_reviewer_team,),
    }
    envs = tuple(
        EnvironmentSpec(
            name=env,
            reviewer_teams=reviewers.get(env, (settings.prod_reviewer_team,)),
            prevent_self_review=True,
            variables={
                "AWS_ACCOUNT_ID": accounts[env],
                "AWS_ROLE_ARN": f"arn:{part}:iam::{accounts[env]}:role/"
                + names.pattern("github_actions_role", project_id=project_id, environment=env),
            },
        )
        for env in profile.environments
    )
    variables = {
        "AWS_REGION": region,
        "SAGEMAKER_PROJECT_NAME": project_name,
        "SAGEMAKER_PROJECT_ID": project_id,
        "MODEL_PACKAGE_GROUP_NAME": names.pattern(
            "model_package_group", project_name=project_name, project_id=project_id
        ),
        "ARTIFACT_BUCKET": names.pattern(
            "artifact_bucket", project_id=project_id, account_id=dev_account, region=region
        ),
        "REPO_KIND": req.repo_kind,
        **profile.repo_variables(answers),
    }
    # The owner team works in the repository; the prod reviewers only need to see it, but
    # GitHub drops an environment reviewer without access.
    access = {str(answers["owner"]): "maintain"}
    access.setdefault(settings.prod_reviewer_team, "pull")
    return RepoSpec(
        org=req.github_org,
        name=req.repo_name,
        description=str(answers.get("description") or f"SageMaker project {project_name}")[:350],
        ownership_topics=(OWNERSHIP_TOPIC, project_id),
        variables=variables,
        environments=envs,
        team_access=tuple(access.items()),
        oidc_subject_format=settings.oidc_subject_format,
    )


def _data(
    full_name: str, html_url: str, clone_url: str, branch: str, subject_prefix: str
) -> dict[str, str]:
    return {
        "FullName": full_name,
        "Name": full_name.split("/", 1)[1],
        "RepoUrl": html_url,
        "CloneUrl": clone_url,
        "DefaultBranch": branch,
        "OidcSubjectPrefix": subject_prefix,
    }


class Flow:
    """One request's work, with a checkpoint that stops it once the deadline timer has fired."""

    def __init__(self, responder: cfn.Responder, deadline: float | None) -> None:
        self.responder = responder
        self.deadline = deadline
        self.settings: Settings | None = None

    def checkpoint(self, step: str) -> None:
        """Record the step for the timeout reason; abort when the deadline has passed."""
        self.responder.stage = step
        if self.responder.deadline_passed.is_set():
            raise DeadlineExceeded(f"stopped before '{step}': the deadline passed")

    def _settings(self) -> Settings:
        if self.settings is None:
            self.checkpoint("read configuration")
            self.settings = load_settings()
        return self.settings

    def _client(self) -> tuple[GitHubClient, str]:
        settings = self._settings()
        self.checkpoint("authenticate to GitHub")
        retry = RetryPolicy(deadline=self.deadline)
        access = load_credentials(settings).access_for(
            settings.github_org, base_url=settings.github_api_url, retry=retry
        )
        missing = access.missing(required_permissions(settings.oidc_subject_format))
        if missing:
            raise PublishError(
                f"the GitHub App's installation on {settings.github_org} lacks the permissions "
                f"{', '.join(missing)}: grant them in the App's settings and have an organisation "
                "owner accept them (docs/lambda.md lists what the App needs)"
            )
        return GitHubClient(access.token, base_url=settings.github_api_url, retry=retry), (
            access.token
        )

    def _request(self, properties: Mapping[str, Any]) -> tuple[RepoRequest, Path]:
        settings = self._settings()
        template = templates.template_dir()
        self.checkpoint("validate properties")
        return repo_request(
            properties, _questions(template), github_org=settings.github_org
        ), template

    def _render(self, req: RepoRequest, template: Path, dst: Path) -> dict[str, Any]:
        settings = self._settings()
        self.checkpoint(f"render {req.repo_kind}")
        return rendering.render(
            dst,
            req.answers,
            template=template,
            vcs_ref=None,
            src_url=settings.suite_git_url,
            commit=settings.suite_release,
        )

    def create(self, event: cfn.CfnEvent) -> Outcome:
        req, template = self._request(event.properties)
        work = Path(tempfile.mkdtemp(prefix="clone-repo-"))
        try:
            answers = self._render(req, template, work / "repo")
            spec = repo_spec(req, answers, self._settings(), template)
            client, token = self._client()
            with client:
                result = publish(
                    client,
                    spec,
                    work / "repo",
                    token,
                    message=f"Initial {req.repo_kind} project from mlops-suite "
                    f"{self._settings().suite_release}",
                    author=COMMIT_AUTHOR,
                    checkpoint=self.checkpoint,
                )
        finally:
            shutil.rmtree(work, ignore_errors=True)
        verb = "created" if result.created else "resumed and completed"
        return Outcome(
            result.full_name,
            _data(
                result.full_name,
                result.html_url,
                result.clone_url,
                result.default_branch,
                result.oidc_subject_prefix,
            ),
            f"{verb} {result.full_name}",
        )

    def update(self, event: cfn.CfnEvent) -> Outcome:
        physical = event.physical_resource_id or ""
        req, template = self._request(event.properties)
        if req.full_name.lower() != physical.lower():
            raise PublishError(
                f"this update would move the repository from {physical} to {req.full_name}: "
                "renaming is not supported; keep repo_name and project_name, or create a new "
                "project"
            )
        work = Path(tempfile.mkdtemp(prefix="clone-repo-"))
        try:  # render only to run Copier's validators and derive the answers
            answers = self._render(req, template, work / "repo")
        finally:
            shutil.rmtree(work, ignore_errors=True)
        spec = repo_spec(req, answers, self._settings(), template)
        client, _ = self._client()
        with client:
            self.checkpoint("look up repository")
            repo = client.get_repo(spec.org, spec.name)
            if repo is None:
                raise PublishError(
                    f"repository {spec.full_name} no longer exists: restore it, or delete and "
                    "re-create the project"
                )
            if not is_owned(repo, spec.ownership_topics):
                raise PublishError(
                    f"repository {spec.full_name} was not created for this project: refusing to "
                    "change its settings"
                )
            apply_settings(client, spec, self.checkpoint)
            prefix = configure_oidc_subject(client, spec, repo, self.checkpoint)
        return Outcome(
            physical,
            _data(
                physical,
                str(repo["html_url"]),
                str(repo["clone_url"]),
                spec.default_branch,
                prefix,
            ),
            f"updated the settings of {physical}",
        )

    def deploy_roles(self, event: cfn.CfnEvent) -> Outcome:
        """``Custom::ProjectDeployRoles``: the project's roles in preprod and prod."""
        import boto3

        from mlops_suite.handlers import deploy_roles

        region = str(event.properties.get("region") or "") or None
        self.checkpoint(f"{event.request_type.lower()} deploy roles")
        physical, data, reason = deploy_roles.handle_request(
            event.request_type,
            event.properties,
            event.physical_resource_id,
            boto3.client("sts", region_name=region),
            lambda **creds: boto3.Session(region_name=region, **creds),
        )
        return Outcome(physical, data, reason)

    def delete(self, event: cfn.CfnEvent) -> Outcome:
        physical = event.physical_resource_id or ""
        if not FULL_NAME_PATTERN.match(physical):
            return Outcome(physical, {}, "nothing to delete: no repository was created")
        try:
            archive = parse_bool(
                ARCHIVE_ON_DELETE, event.properties.get(ARCHIVE_ON_DELETE, "false")
            )
        except ValueError:
            archive = False
        if not archive:
            return Outcome(physical, {}, f"left {physical} in place (code is never deleted)")
        owner, name = physical.split("/", 1)
        client, _ = self._client()
        with client:
            self.checkpoint("look up repository")
            repo = client.get_repo(owner, name)
            if repo is None:
                return Outcome(physical, {}, f"{physical} is already gone")
            project_id = event.properties.get("sagemaker_project_id", "")
            if not is_owned(repo, (OWNERSHIP_TOPIC, str(project_id))):
                logger.warning(
                    "not archiving a repository this project did not create",
                    extra={"repo": physical},
                )
                return Outcome(
                    physical, {}, f"left {physical} in place: not created by this project"
                )
            if not repo.get("archived"):
                self.checkpoint("archive repository")
                client.archive_repo(owner, name)
        return Outcome(physical, {}, f"archived {physical}")


def handle(
    raw_event: Mapping[str, Any],
    context: Any,
    *,
    sender: Callable[..., None] = cfn.put_response,
) -> dict[str, Any] | None:
    """Run one request and answer CloudFormation exactly once; return the response sent."""
    responder = cfn.Responder(raw_event, sender=sender, deadline=cfn.deadline_of(context))
    failed_id = cfn.failed_physical_id(raw_event)
    try:
        event = cfn.CfnEvent.parse(raw_event)
    except cfn.EventError as exc:
        logger.error("rejected event", extra={"error": str(exc)})
        responder.respond("FAILED", str(exc), failed_id)
        return responder.sent
    margin = cfn.response_margin_s()
    deadline = None
    if context is not None:
        deadline = time.monotonic() + context.get_remaining_time_in_millis() / 1000.0 - margin
    responder.start_timer(context, failed_id, margin)
    flow = Flow(responder, deadline)
    logger.info(
        "request",
        extra={
            "request_type": event.request_type,
            "logical_id": event.logical_resource_id,
            "physical_id": event.physical_resource_id,
        },
    )
    try:
        if event.resource_type == DEPLOY_ROLES:
            outcome = flow.deploy_roles(event)
        else:
            step = {"Create": flow.create, "Update": flow.update, "Delete": flow.delete}
            outcome = step[event.request_type](event)
        if responder.deadline_passed.is_set() and event.request_type == "Create":
            raise DeadlineExceeded("finished after the deadline answer")
        responder.respond("SUCCESS", outcome.reason, outcome.physical_id, outcome.data)
    except Exception as exc:
        logger.exception("request failed", extra={"request_type": event.request_type})
        responder.respond("FAILED", cfn.short_reason(exc), failed_id)
    finally:
        responder.cancel_timer()
    return responder.sent
