"""A local GitHub double: real HTTP on loopback, real git smart HTTP, and fault injection.

It implements the REST endpoints `mlops_suite.github` calls, one module per endpoint family
(``api_*``, registered in ``routes``), with GitHub's status codes, bodies and headers, and serves
git over smart HTTP (dulwich) for the repositories it holds, so pushes and clones are real git.
It enforces what GitHub enforces: an App installation token may only do what the installation's
permissions allow (403 "Resource not accessible by integration"), a push that touches
``.github/workflows/`` needs Workflows: write, environment reviewers without access to the
repository are dropped, owner and repository names are case-insensitive and ids are immutable
(a recreated repository gets a new id). Every JSON body it serves is validated against GitHub's
response models when they are installed (``conformance``). A call to any other endpoint answers
404 like GitHub and is recorded in `unrouted`.

    with GitHubDouble(orgs=("my-org",)) as gh:
        client = GitHubClient(gh.token, base_url=gh.url)
        ...
        gh.repos["my-org/churn-model"].files()
        gh.mint_oidc_claims("my-org/churn-model", environment="prod")["sub"]
"""

from __future__ import annotations

from mlops_suite.local.github_double.model import Call, DoubleRepo, DoubleTeam, Fault, Served
from mlops_suite.local.github_double.oidc import mint_oidc_claims, subject_prefix
from mlops_suite.local.github_double.server import APP_PERMISSIONS, GitHubDouble

__all__ = [
    "APP_PERMISSIONS",
    "Call",
    "DoubleRepo",
    "DoubleTeam",
    "Fault",
    "GitHubDouble",
    "Served",
    "mint_oidc_claims",
    "subject_prefix",
]
