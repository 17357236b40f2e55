"""Hold the double's bodies to GitHub's published API description, endpoint by endpoint.

The response models are githubkit's, generated from GitHub's OpenAPI description for API version
2022-11-28 (the version our client sends); they are a test-only dependency (the `test` extra).
Bodies are validated strictly, so an id served as a string or a missing required field fails.
"""

from __future__ import annotations

import functools
import json
from typing import Any

SCHEMAS = "githubkit_schemas.v2022_11_28.models"
INSTALL_HINT = (
    "install the test extra (pip install -e '.[test]'), which pins githubkit and its schemas"
)

# route name -> the model of its success body (GitHub's component name, as githubkit names it)
SUCCESS_MODELS: dict[str, str] = {
    "get_installation": "Installation",
    "create_installation_token": "InstallationToken",
    "get_repo": "FullRepository",
    "update_repo": "FullRepository",
    "create_repo": "FullRepository",
    "set_topics": "Topic",
    "get_team": "TeamFull",
    "protect_branch": "ProtectedBranch",
    "put_environment": "Environment",
    "get_environment": "Environment",
    "create_variable": "EmptyObject",
    "create_environment_variable": "EmptyObject",
    "get_oidc_sub": "OidcCustomSubRepo",
    "set_oidc_sub": "EmptyObject",
}


@functools.cache
def _models() -> Any:
    import importlib

    return importlib.import_module(SCHEMAS)


def available() -> bool:
    """True when GitHub's response models can be imported."""
    try:
        _models()
    except ImportError:
        return False
    return True


def require() -> None:
    """Fail naming the fix when the response models are missing."""
    try:
        _models()
    except ImportError as exc:
        raise RuntimeError(
            f"GitHub's response models are not installed ({exc}): {INSTALL_HINT}"
        ) from None


@functools.cache
def warm() -> None:
    """Build every model's validator once, so no served call pays for it (it takes a second)."""
    errors = ("BasicError", "ValidationError", "ValidationErrorSimple")
    for name in {*SUCCESS_MODELS.values(), *errors}:
        model = getattr(_models(), name)
        model.model_rebuild()
        model.__pydantic_validator__  # noqa: B018 - touching it completes the build


def models_for(route: str | None, status: int) -> list[str]:
    """The model names a body of `route` with `status` may match."""
    if status < 300:
        if route is None or route not in SUCCESS_MODELS:
            raise KeyError(f"no response model is declared for route {route!r}: add it")
        return [SUCCESS_MODELS[route]]
    if status == 422:
        return ["ValidationError", "ValidationErrorSimple"]
    return ["BasicError"]


def problem(route: str | None, status: int, body: Any) -> str | None:
    """None when `body` validates against a model of its endpoint, else what is wrong."""
    from pydantic import ValidationError

    raw = json.dumps(body)
    failures = []
    for name in models_for(route, status):
        model = getattr(_models(), name)
        try:
            model.model_validate_json(raw, strict=True)
        except ValidationError as exc:
            details = "; ".join(
                f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:5]
            )
            failures.append(f"{name} ({details})")
        else:
            return None
    return f"{route or 'unrouted'} {status}: " + " / ".join(failures)
