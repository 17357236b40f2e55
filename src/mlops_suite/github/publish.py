"""Publish a rendered project: private repo, first commit over git (dulwich), settings.

Every step is idempotent so a retried Create resumes: the repo is found by name and recognised as
ours by its ownership topics, the push is skipped when the branch already exists, and variables,
environments and protection are PUT/PATCHed to the same values. A repo this invocation created is
deleted again when a later step fails, so nothing half-made is left behind silently.
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

from mlops_suite.github.client import GitHubClient, GitHubError

logger = logging.getLogger(__name__)

Checkpoint = Callable[[str], None]
"""Called with the name of each step before it starts; raises to abort (e.g. near the deadline)."""


class PublishError(RuntimeError):
    """Publishing failed; the message says which step and what was cleaned up."""


class RepoConflict(PublishError):
    """The repository name is taken by a repository this project did not create."""


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


def apply_settings(client: GitHubClient, spec: RepoSpec, checkpoint: Checkpoint) -> None:
    """Set variables, environments and branch protection; safe to repeat."""
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
        for var, value in env.variables.items():
            client.set_variable(spec.org, spec.name, var, value, environment=env.name)
    checkpoint("repository variables")
    for var, value in spec.variables.items():
        client.set_variable(spec.org, spec.name, var, value)


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
    if repo is not None:
        if not is_owned(repo, spec.ownership_topics):
            raise RepoConflict(
                f"repository {spec.full_name} already exists and was not created for this project "
                f"(it lacks the topics {', '.join(spec.ownership_topics)}): choose another "
                "repo_name, or delete or rename the existing repository"
            )
        logger.info("resuming: repository exists and is ours", extra={"repo": spec.full_name})
    else:
        checkpoint("create repository")
        repo = client.create_org_repo(spec.org, spec.name, spec.description)
        created = True
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
