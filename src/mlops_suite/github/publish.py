"""Publish a rendered project: private repo, first commit over git (dulwich), settings.

Every step is idempotent so a retried Create resumes: the repo is found by name and recognised as
ours by its ownership topics, the push is skipped when the branch already exists, and variables,
environments and protection are PUT/PATCHed to the same values. A repo this invocation created is
deleted again when a later step fails, so nothing half-made is left behind silently.

The ownership topics are set right after the create call; when that call's answer was lost (a
timeout after GitHub made the repository) the repository has no topics yet. It is still
recognised: the create call writes the ownership marker into the description atomically, and an
empty repository that carries the marker and no topics is adopted and finished.

Reviewer and owner teams get access to the repository before the environments are configured
(GitHub silently drops a reviewer without access), and each environment is read back: a required
reviewer GitHub dropped fails the request, naming the team.
"""

from __future__ import annotations

import logging
import os
import stat
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from dulwich.client import Urllib3HttpGitClient
from dulwich.repo import MemoryRepo

from mlops_suite.github.client import AlreadyExists, GitHubClient, GitHubError

logger = logging.getLogger(__name__)

Checkpoint = Callable[[str], None]
"""Called with the name of each step before it starts; raises to abort (e.g. near the deadline)."""


class PublishError(RuntimeError):
    """Publishing failed; the message says which step and what was cleaned up."""


class RepoConflict(PublishError):
    """The repository name is taken by a repository this project did not create."""


# The GitHub App installation permissions publishing and the model-approval dispatch need;
# docs/lambda.md lists the same, and a test holds both to what the GitHub double required.
REQUIRED_PERMISSIONS: dict[str, str] = {
    "actions": "read",
    "administration": "write",
    "contents": "write",
    "environments": "write",
    "members": "read",
    "metadata": "read",
    "variables": "write",
    "workflows": "write",
}

SUBJECT_FORMATS = ("immutable", "name")


def required_permissions(subject_format: str = "immutable") -> dict[str, str]:
    """What the App needs; the name-only subject format also writes the OIDC customization."""
    needed = dict(REQUIRED_PERMISSIONS)
    if subject_format == "name":
        needed["actions"] = "write"
    return needed


NAME_ONLY_CLAIM_KEYS = ["repo", "context"]  # GitHub's customization for repo:<org>/<repo>:...


@dataclass(frozen=True)
class EnvironmentSpec:
    """A deployment environment: reviewers, self-review rule and its own Actions variables."""

    name: str
    reviewer_teams: tuple[str, ...] = ()
    prevent_self_review: bool = True
    variables: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RepoSpec:
    """What the published repository must look like."""

    org: str
    name: str
    description: str
    ownership_topics: tuple[str, ...]
    variables: dict[str, str] = field(default_factory=dict)
    environments: tuple[EnvironmentSpec, ...] = ()
    default_branch: str = "main"
    required_approvals: int = 1
    team_access: tuple[tuple[str, str], ...] = ()  # (team slug, permission) before environments
    oidc_subject_format: str = "immutable"  # or "name" (GitHub Enterprise Server)

    @property
    def marker(self) -> str:
        """Ownership marker the create call writes into the description (atomic with creation)."""
        return "[" + " ".join(self.ownership_topics) + "]"

    @property
    def created_description(self) -> str:
        """The description with the marker, within GitHub's 350 characters."""
        return f"{self.description[: 349 - len(self.marker)]} {self.marker}".strip()

    @property
    def full_name(self) -> str:
        """``org/name``."""
        return f"{self.org}/{self.name}"


@dataclass
class PublishResult:
    """The published repository and what this call did."""

    full_name: str
    html_url: str
    clone_url: str
    default_branch: str
    created: bool
    pushed: bool
    oidc_subject_prefix: str = ""
    timings: dict[str, float] = field(default_factory=dict)


def _tree_entries(root: Path) -> Iterator[tuple[str, Path, int]]:
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if rel == ".git" or rel.startswith(".git/"):
            continue
        if path.is_symlink():
            yield rel, path, 0o120000
        elif path.is_file():
            executable = path.stat().st_mode & stat.S_IXUSR
            yield rel, path, 0o100755 if executable else 0o100644


def commit_directory(
    root: Path, *, message: str, author: str, branch: str = "main"
) -> tuple[MemoryRepo, bytes]:
    """Commit every file under `root` into an in-memory git repo; return (repo, commit id)."""
    from dulwich.index import commit_tree
    from dulwich.objects import Blob, Commit

    repo = MemoryRepo()
    blobs: list[tuple[bytes, bytes, int]] = []
    for rel, path, mode in _tree_entries(root):
        data = os.readlink(path).encode() if mode == 0o120000 else path.read_bytes()
        blob = Blob.from_string(data)
        repo.object_store.add_object(blob)
        blobs.append((rel.encode("utf-8"), blob.id, mode))
    if not blobs:
        raise PublishError(f"nothing to publish: {root} holds no files")
    commit = Commit()
    commit.tree = commit_tree(repo.object_store, cast(Any, blobs))
    commit.author = commit.committer = author.encode("utf-8")
    commit.author_time = commit.commit_time = int(time.time())
    commit.author_timezone = commit.commit_timezone = 0
    commit.encoding = b"UTF-8"
    commit.message = message.encode("utf-8")
    repo.object_store.add_object(commit)
    repo.refs[cast(Any, f"refs/heads/{branch}".encode())] = commit.id
    return repo, commit.id


def _git_client(clone_url: str, token: str, timeout: float) -> Urllib3HttpGitClient:
    # dulwich turns username/password into an ``Authorization: Basic`` header that it only sends
    # to the clone URL's own origin; the token never becomes part of a URL.
    return Urllib3HttpGitClient(
        clone_url, username="x-access-token", password=token, timeout=timeout, quiet=True
    )


def remote_branches(clone_url: str, token: str, *, timeout: float = 30.0) -> set[str]:
    """Return the branch names the remote repository has (empty for a new repo)."""
    client = _git_client(clone_url, token, timeout)
    result = client.get_refs(b"")
    refs = getattr(result, "refs", result)  # dulwich >= 0.23 wraps the dict
    prefix = b"refs/heads/"
    return {r[len(prefix) :].decode() for r in refs if r.startswith(prefix)}


def push_directory(
    root: Path,
    clone_url: str,
    token: str,
    *,
    message: str,
    author: str,
    branch: str = "main",
    timeout: float = 60.0,
) -> bytes:
    """Commit `root` and push it as the first commit of `branch`; return the commit id."""
    repo, commit_id = commit_directory(root, message=message, author=author, branch=branch)
    ref = f"refs/heads/{branch}".encode()
    client = _git_client(clone_url, token, timeout)

    def update_refs(refs: dict[Any, Any]) -> dict[Any, Any]:
        return {**refs, ref: commit_id}

    result = client.send_pack(
        b"", update_refs, generate_pack_data=repo.object_store.generate_pack_data
    )
    status = (result.ref_status or {}).get(ref)
    if status is not None:
        raise PublishError(f"git push of {branch} was rejected: {status}")
    return commit_id


def is_owned(repo: dict[str, object], topics: tuple[str, ...]) -> bool:
    """True when `repo` carries every ownership topic (it was made for this project)."""
    have = repo.get("topics") or []
    return isinstance(have, list) and all(t in have for t in topics)


def _reviewer_ids(env: dict[str, Any]) -> set[int]:
    """Team ids among an environment's required reviewers, as GitHub reports them."""
    ids: set[int] = set()
    for rule in env.get("protection_rules") or []:
        if rule.get("type") != "required_reviewers":
            continue
        for reviewer in rule.get("reviewers") or []:
            if reviewer.get("type") == "Team" and isinstance(reviewer.get("reviewer"), dict):
                ids.add(int(reviewer["reviewer"]["id"]))
    return ids


def apply_settings(client: GitHubClient, spec: RepoSpec, checkpoint: Checkpoint) -> None:
    """Grant team access, set protection, environments (read back) and variables; repeatable."""
    for slug, permission in spec.team_access:
        checkpoint(f"team access {slug}")
        client.grant_team(spec.org, slug, spec.org, spec.name, permission=permission)
    checkpoint("protect branch")
    client.protect_branch(
        spec.org, spec.name, spec.default_branch, approvals=spec.required_approvals
    )
    team_ids: dict[str, int] = {}
    for env in spec.environments:
        checkpoint(f"environment {env.name}")
        for slug in env.reviewer_teams:
            if slug not in team_ids:
                team_ids[slug] = client.team_id(spec.org, slug)
        client.put_environment(
            spec.org,
            spec.name,
            env.name,
            reviewer_team_ids=[team_ids[s] for s in env.reviewer_teams],
            prevent_self_review=env.prevent_self_review,
        )
        stored = _reviewer_ids(client.get_environment(spec.org, spec.name, env.name))
        dropped = [s for s in env.reviewer_teams if team_ids[s] not in stored]
        if dropped:
            raise PublishError(
                f"environment {env.name} of {spec.full_name} lacks its required reviewer team "
                f"{', '.join(dropped)}: GitHub drops reviewers without access to the repository; "
                "give the team access (the GitHub App needs Members: read and Administration: "
                "write) or configure a team of this organisation"
            )
        for var, value in env.variables.items():
            client.set_variable(spec.org, spec.name, var, value, environment=env.name)
    checkpoint("repository variables")
    for var, value in spec.variables.items():
        client.set_variable(spec.org, spec.name, var, value)


def configure_oidc_subject(
    client: GitHubClient, spec: RepoSpec, repo: dict[str, Any], checkpoint: Checkpoint
) -> str:
    """Make GitHub mint `sub` in the platform's format; return the prefix every role trusts.

    ``immutable``: GitHub's default for repositories created since 2026-07-15,
    ``repo:<org>@<owner id>/<repo>@<repo id>``; ``name``: ``repo:<org>/<repo>``, the form of GitHub
    Enterprise Server, set explicitly with the ``repo`` and ``context`` claim keys so it holds
    on either.
    """
    if spec.oidc_subject_format not in SUBJECT_FORMATS:
        raise PublishError(
            f"OIDC subject format {spec.oidc_subject_format!r} is not one of "
            f"{', '.join(SUBJECT_FORMATS)}: fix the platform setting"
        )
    checkpoint("OIDC subject")
    current = client.get_oidc_subject(spec.org, spec.name)
    if spec.oidc_subject_format == "immutable":
        if current.get("use_default") is not True:
            client.set_oidc_subject(spec.org, spec.name, use_default=True)
        owner = repo["owner"]
        return f"repo:{owner['login']}@{int(owner['id'])}/{repo['name']}@{int(repo['id'])}"
    if current.get("use_default") is not False or (
        current.get("include_claim_keys") != NAME_ONLY_CLAIM_KEYS
    ):
        client.set_oidc_subject(
            spec.org, spec.name, use_default=False, claim_keys=NAME_ONLY_CLAIM_KEYS
        )
    return f"repo:{repo['owner']['login']}/{repo['name']}"


def _half_made_by_us(repo: dict[str, Any], spec: RepoSpec, token: str) -> bool:
    """An empty, untopiced repository whose description carries our marker: our lost create."""
    if repo.get("topics") or spec.marker not in str(repo.get("description") or ""):
        return False
    return not remote_branches(str(repo["clone_url"]), token)


def publish(
    client: GitHubClient,
    spec: RepoSpec,
    tree: Path,
    token: str,
    *,
    message: str,
    author: str,
    checkpoint: Checkpoint = lambda step: None,
) -> PublishResult:
    """Create (or resume) the repo, push `tree` as its first commit, apply the settings."""
    timings: dict[str, float] = {}
    started = time.perf_counter()
    checkpoint("look up repository")
    repo = client.get_repo(spec.org, spec.name)
    created = False
    if repo is None:
        checkpoint("create repository")
        try:
            repo = client.create_org_repo(spec.org, spec.name, spec.created_description)
            created = True
        except AlreadyExists:
            # Our own create may have succeeded with its answer lost (a retried POST then
            # finds the name taken), or someone took the name meanwhile: look again.
            repo = client.get_repo(spec.org, spec.name)
            if repo is None:
                raise
    if not created:
        if _half_made_by_us(repo, spec, token):
            logger.warning("adopting a half-made repository", extra={"repo": spec.full_name})
            created = True  # ours, and empty: finish it, or delete it again on failure
        elif not is_owned(repo, spec.ownership_topics):
            raise RepoConflict(
                f"repository {spec.full_name} already exists and was not created for this project "
                f"(it lacks the topics {', '.join(spec.ownership_topics)}): choose another "
                "repo_name, or delete or rename the existing repository"
            )
        else:
            logger.info("resuming: repository exists and is ours", extra={"repo": spec.full_name})
    try:
        if created:
            client.set_topics(spec.org, spec.name, list(spec.ownership_topics))
        timings["create"] = time.perf_counter() - started
        clone_url = str(repo["clone_url"])
        checkpoint("push first commit")
        t0 = time.perf_counter()
        pushed = False
        if spec.default_branch not in remote_branches(clone_url, token):
            push_directory(
                tree,
                clone_url,
                token,
                message=message,
                author=author,
                branch=spec.default_branch,
            )
            pushed = True
        timings["push"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        apply_settings(client, spec, checkpoint)
        prefix = configure_oidc_subject(client, spec, repo, checkpoint)
        timings["settings"] = time.perf_counter() - t0
        checkpoint("finish")  # a caller that gave up meanwhile gets the rollback below
    except BaseException as exc:
        if created:
            _roll_back(client, spec, exc)
        raise
    return PublishResult(
        full_name=str(repo.get("full_name", spec.full_name)),
        html_url=str(repo["html_url"]),
        clone_url=clone_url,
        default_branch=spec.default_branch,
        created=created,
        pushed=pushed,
        oidc_subject_prefix=prefix,
        timings=timings,
    )


def _roll_back(client: GitHubClient, spec: RepoSpec, exc: BaseException) -> None:
    """Delete the repo this call created; say in the error what happened to it."""
    try:
        client.delete_repo(spec.org, spec.name)
    except GitHubError as cleanup:
        note = (
            f"could not delete the half-made repository {spec.full_name} ({cleanup}): "
            "delete it by hand before retrying"
        )
        logger.error("rollback failed", extra={"repo": spec.full_name, "error": str(cleanup)})
    else:
        note = f"the half-made repository {spec.full_name} was deleted again"
        logger.warning("rolled back", extra={"repo": spec.full_name})
    exc.add_note(note)
