"""App endpoints (authenticated with the App's JWT): find the installation, mint its token."""

from __future__ import annotations

import secrets
import time
from typing import TYPE_CHECKING, Any

from mlops_suite.local.github_double import bodies
from mlops_suite.local.github_double.model import error, timestamp
from mlops_suite.local.github_double.routes import route

if TYPE_CHECKING:
    from mlops_suite.local.github_double.server import GitHubDouble


@route("GET", r"/orgs/(?P<org>[^/]+)/installation", app_only=True)
def get_installation(gh: GitHubDouble, body: dict[str, Any], org: str) -> tuple[int, Any]:
    if org not in gh.org_logins:
        raise error(404, "Not Found")
    return 200, bodies.installation(gh, gh.org_logins[org])


@route("POST", r"/app/installations/(?P<id>\d+)/access_tokens", app_only=True)
def create_installation_token(gh: GitHubDouble, body: dict[str, Any], id: str) -> tuple[int, Any]:
    if int(id) != gh.installation_id:
        raise error(404, "Not Found")
    token = "ghs_" + secrets.token_hex(18)
    permissions = dict(gh.installation_permissions)
    gh.installation_tokens.append(token)
    gh.token_permissions[token] = permissions
    return 201, {
        "token": token,
        "expires_at": timestamp(time.time() + 3600),
        "permissions": permissions,
        "repository_selection": "all",
    }
