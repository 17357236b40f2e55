"""Which request fields each step runner understands; anything else is refused by name.

A schema maps a field to ANY (accepted as it is: it only matters in the cloud, such as the
VPC or the KMS key, or the runner reads it), to a tuple of the values the runner can execute,
or to a nested schema for an object or for each item of a list.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .errors import LocalRunError

ANY = None
Schema = Mapping[str, Any]


def check(step: str, value: Any, schema: Schema, path: str = "Arguments") -> None:
    """Raise LocalRunError naming the first field of `value` that `schema` does not accept."""
    if isinstance(value, list):
        for index, item in enumerate(value):
            check(step, item, schema, f"{path}[{index}]")
        return
    if not isinstance(value, dict):
        raise LocalRunError(f"step {step}: {path} is {value!r}, not an object")
    for name, item in value.items():
        where = f"{path}.{name}"
        if name not in schema:
            raise LocalRunError(
                f"step {step}: field {where} is not something the local run can execute "
                "(run the pipeline in SageMaker, or drop the field)"
            )
        rule = schema[name]
        if rule is ANY:
            continue
        if isinstance(rule, tuple):
            if item not in rule:
                raise LocalRunError(
                    f"step {step}: {where}={item!r} is not supported locally: use one of "
                    f"{list(rule)}"
                )
            continue
        check(step, item, rule, where)


def require(step: str, value: dict[str, Any], name: str, path: str = "Arguments") -> Any:
    """Return value[name], or raise naming the missing field."""
    if name not in value:
        raise LocalRunError(f"step {step}: {path}.{name} is missing")
    return value[name]
