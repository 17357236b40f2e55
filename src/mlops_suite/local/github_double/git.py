"""Git smart HTTP for the double's repositories (dulwich), with GitHub's workflow-file rule.

GitHub refuses a GitHub App's push that creates, changes or deletes a file under
``.github/workflows/`` unless the installation has the Workflows permission (write); the
receive-pack handler below refuses such a ref update with GitHub's message.
"""

from __future__ import annotations

import re
import threading
from typing import TYPE_CHECKING, Any, cast

from dulwich.server import ReceivePackHandler

if TYPE_CHECKING:
    from mlops_suite.local.github_double.server import GitHubDouble

WORKFLOWS = b".github/workflows/"
ZERO = b"0" * 40

# The permissions of the token of the push being served (a WSGI request runs in one thread).
current = threading.local()


class ReposBackend:
    """dulwich server backend that serves the double's repositories by ``/owner/name.git``."""

    def __init__(self, double: GitHubDouble) -> None:
        self._double = double

    def open_repository(self, path: str | bytes) -> Any:
        from dulwich.errors import NotGitRepository
        from dulwich.repo import Repo

        if isinstance(path, bytes):
            path = path.decode("utf-8")
        match = re.fullmatch(r"/([^/]+)/([^/]+?)\.git/?", path)
        repo = self._double.repos.get(f"{match.group(1)}/{match.group(2)}") if match else None
        if repo is None:
            raise NotGitRepository(path)
        return Repo(str(repo.git_dir))


def _workflow_files(repo: Any, sha: bytes) -> dict[bytes, bytes]:
    """{path: blob id} of the files under .github/workflows/ in commit `sha`."""
    from dulwich.object_store import iter_tree_contents

    if sha == ZERO:
        return {}
    tree = repo[sha].tree
    return {
        e.path: e.sha
        for e in iter_tree_contents(repo.object_store, tree)
        if e.path.startswith(WORKFLOWS)
    }


class WorkflowCheckingReceivePack(ReceivePackHandler):
    """receive-pack that refuses workflow-file changes from a token without workflows:write."""

    def _on_update(self, ref: Any, oldsha: Any, sha: Any) -> bytes | None:
        permissions: dict[str, str] | None = getattr(current, "permissions", None)
        if permissions is not None:  # an App installation token, not a personal token
            before = _workflow_files(self.repo, cast(bytes, oldsha))
            after = _workflow_files(self.repo, cast(bytes, sha))
            changed = sorted(p for p in set(before) | set(after) if before.get(p) != after.get(p))
            if changed:
                granted = permissions.get("workflows") == "write"
                current.double.note_permission("workflows", "write", granted=granted)
                if not granted:
                    return (
                        b"refusing to allow a GitHub App to create or update workflow `"
                        + changed[0]
                        + b"` without `workflows` permission"
                    )
        result: bytes | None = super()._on_update(ref, oldsha, sha)
        return result
