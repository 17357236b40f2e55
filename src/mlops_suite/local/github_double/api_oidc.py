"""A repository's OIDC subject customization (which claims make up the `sub` GitHub mints)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mlops_suite.local.github_double.model import validation
from mlops_suite.local.github_double.oidc import CLAIM_KEYS
from mlops_suite.local.github_double.routes import REPO_PATH, route

if TYPE_CHECKING:
    from mlops_suite.local.github_double.server import GitHubDouble

SUB = rf"{REPO_PATH}/actions/oidc/customization/sub"


@route("GET", SUB, "actions:read")
def get_oidc_sub(gh: GitHubDouble, body: dict[str, Any], owner: str, repo: str) -> tuple[int, Any]:
    return 200, dict(gh.repo(owner, repo).oidc_sub)


@route("PUT", SUB, "actions:write")
def set_oidc_sub(gh: GitHubDouble, body: dict[str, Any], owner: str, repo: str) -> tuple[int, Any]:
    r = gh.repo(owner, repo, write=True)
    use_default = body.get("use_default")
    if not isinstance(use_default, bool):
        raise validation(
            "Invalid request.",
            {"resource": "OidcCustomSub", "code": "missing_field", "field": "use_default"},
        )
    keys = body.get("include_claim_keys")
    if use_default:
        r.oidc_sub = {"use_default": True}
        return 201, {}
    if not isinstance(keys, list) or not keys or any(k not in CLAIM_KEYS for k in keys):
        raise validation(
            "Invalid request.", f"include_claim_keys {keys!r} are not valid claim keys"
        )
    r.oidc_sub = {"use_default": False, "include_claim_keys": list(keys)}
    return 201, {}
