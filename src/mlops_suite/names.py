"""The one list of shared names (SSM parameters, tag keys, patterns), loaded from names.json."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any


@cache
def load() -> dict[str, Any]:
    """Return the parsed names.json that ships inside the package."""
    text = resources.files("mlops_suite").joinpath("names.json").read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def ssm_parameter(key: str) -> str:
    """Return the SSM parameter name for `key`, e.g. ``clone_repo_lambda_arn``."""
    params: dict[str, str] = load()["ssm_parameters"]
    if key not in params:
        raise KeyError(f"unknown SSM parameter key {key!r}: use one of {sorted(params)}")
    return params[key]


def tag_key(key: str) -> str:
    """Return the tag key for `key`, e.g. ``project_name``."""
    tags: dict[str, str] = load()["tag_keys"]
    return tags[key]


def pattern(key: str, **values: str) -> str:
    """Format the name pattern `key` with `values`, e.g. ``artifact_bucket``."""
    patterns: dict[str, str] = load()["patterns"]
    return patterns[key].format(**values)


def environments() -> list[str]:
    """Return the deployment environments in promotion order."""
    envs: list[str] = load()["environments"]
    return envs
