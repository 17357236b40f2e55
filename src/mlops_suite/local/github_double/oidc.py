"""The claims of a GitHub Actions OIDC token, minted as GitHub mints them for a job.

The `sub` claim comes in two default shapes: the name-only form
``repo:<owner>/<repo>:<context>`` (GitHub Enterprise Server, and github.com repositories created
before 2026-07-15) and the immutable form ``repo:<owner>@<owner id>/<repo>@<repo id>:<context>``
(github.com repositories created since). A repository's OIDC customization
(``include_claim_keys``) replaces the default with ``key:value`` pairs joined by ``:``, where
``repo`` stands for ``repo:<owner>/<repo>`` and ``context`` for the job's context.

    claims = mint_oidc_claims(gh.repos["my-org/churn-model"], environment="prod")
    claims["sub"]  # 'repo:my-org@1001/churn-model@1004:environment:prod'
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from mlops_suite.local.github_double.model import DoubleRepo

ISSUER = "https://token.actions.githubusercontent.com"
SubjectFormat = Literal["immutable", "name"]

# Claim keys a subject customization may include (GitHub's documented list, plus the two
# placeholders `repo` and `context`).
CLAIM_KEYS = (
    "repo",
    "context",
    "actor",
    "actor_id",
    "environment",
    "event_name",
    "head_ref",
    "base_ref",
    "job_workflow_ref",
    "ref",
    "ref_type",
    "repository",
    "repository_id",
    "repository_owner",
    "repository_owner_id",
    "repository_visibility",
    "workflow",
    "workflow_ref",
)


def context(environment: str | None, ref: str, event_name: str) -> str:
    """The job's context part of `sub`: environment, pull request, or ref."""
    if environment:
        return f"environment:{environment}"
    if event_name in ("pull_request", "pull_request_target"):
        return "pull_request"
    return f"ref:{ref}"


def subject_prefix(
    owner: str, owner_id: int, repo: str, repo_id: int, sub_format: SubjectFormat
) -> str:
    """``repo:<owner>@<owner id>/<repo>@<repo id>`` or ``repo:<owner>/<repo>``."""
    if sub_format == "immutable":
        return f"repo:{owner}@{owner_id}/{repo}@{repo_id}"
    return f"repo:{owner}/{repo}"


def mint_oidc_claims(
    repo: DoubleRepo,
    *,
    environment: str | None = None,
    ref: str = "refs/heads/main",
    event_name: str = "push",
    sub_format: SubjectFormat | None = None,
    immutable_default: bool = True,
    audience: str = "sts.amazonaws.com",
    actor: str = "octocat",
    workflow: str = "ci.yml",
) -> dict[str, Any]:
    """The claims GitHub would put in the OIDC token of a job of `repo`.

    `sub_format` forces one of the two default subject forms; without it the repository's own
    OIDC customization decides (its default form is immutable when `immutable_default`).
    """
    ctx = context(environment, ref, event_name)
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "aud": audience,
        "repository": repo.full_name,
        "repository_id": str(repo.id),
        "repository_owner": repo.owner,
        "repository_owner_id": str(repo.owner_id),
        "repository_visibility": "private" if repo.private else "public",
        "ref": ref,
        "ref_type": "tag" if ref.startswith("refs/tags/") else "branch",
        "event_name": event_name,
        "actor": actor,
        "actor_id": "583231",
        "workflow": workflow,
        "workflow_ref": f"{repo.full_name}/.github/workflows/{workflow}@{ref}",
        "job_workflow_ref": f"{repo.full_name}/.github/workflows/{workflow}@{ref}",
        "head_ref": "",
        "base_ref": "",
    }
    if environment:
        claims["environment"] = environment
    custom = repo.oidc_sub
    if sub_format is None and not custom.get("use_default", True):
        parts = []
        for key in custom.get("include_claim_keys", []):
            if key == "repo":
                parts.append(f"repo:{repo.full_name}")
            elif key == "context":
                parts.append(ctx)
            else:
                parts.append(f"{key}:{claims.get(key, '')}")
        claims["sub"] = ":".join(parts)
        return claims
    form: SubjectFormat = sub_format or ("immutable" if immutable_default else "name")
    prefix = subject_prefix(repo.owner, repo.owner_id, repo.name, repo.id, form)
    claims["sub"] = f"{prefix}:{ctx}"
    return claims
