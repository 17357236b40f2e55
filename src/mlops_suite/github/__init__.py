"""GitHub layer: a retrying REST client on githubkit, App authentication, and publishing."""

from __future__ import annotations

from mlops_suite.github.client import (
    AlreadyExists,
    Credentials,
    Forbidden,
    GitHubClient,
    GitHubError,
    NotFound,
    RateLimited,
    RetryPolicy,
    Unavailable,
)

__all__ = [
    "AlreadyExists",
    "Credentials",
    "Forbidden",
    "GitHubClient",
    "GitHubError",
    "NotFound",
    "RateLimited",
    "RetryPolicy",
    "Unavailable",
]
