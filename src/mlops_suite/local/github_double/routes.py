"""The double's route registry: each endpoint family registers its routes with `route`.

A route names the permissions GitHub requires of an App installation for it
("administration:write"), so the double can answer 403 as GitHub does when one is missing.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Handler = Callable[..., tuple[int, Any]]

OWNER = r"(?P<owner>[^/]+)"
REPO = r"(?P<repo>[^/]+)"
REPO_PATH = rf"/repos/{OWNER}/{REPO}"


@dataclass(frozen=True)
class Route:
    """One REST endpoint: method, path pattern, handler and what it requires."""

    method: str
    pattern: re.Pattern[str]
    name: str
    handler: Handler
    needs: tuple[tuple[str, str], ...]
    app_only: bool = False


ROUTES: list[Route] = []


def route(
    method: str, pattern: str, *needs: str, app_only: bool = False
) -> Callable[[Handler], Handler]:
    """Register `handler` for `method` `pattern`; `needs` are "permission:level" strings."""
    parsed = tuple((n.split(":")[0], n.split(":")[1]) for n in needs)

    def register(handler: Handler) -> Handler:
        ROUTES.append(
            Route(method, re.compile(pattern), handler.__name__, handler, parsed, app_only)
        )
        return handler

    return register


def find(method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    """The route serving `method` `path` and its path parameters, or None."""
    for r in ROUTES:
        match = r.pattern.fullmatch(path)
        if match and r.method == method:
            return r, match.groupdict()
    return None


def load() -> None:
    # Importing the families registers their routes.
    from mlops_suite.local.github_double import (  # noqa: F401
        api_apps,
        api_oidc,
        api_repos,
        api_settings,
        api_teams,
    )


def served_by() -> list[Route]:
    """Every route the double serves."""
    load()
    return list(ROUTES)
