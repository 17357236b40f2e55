"""Pipeline values: parameters, execution variables, step properties and the Std: functions."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from .errors import LocalRunError

_TOKEN = re.compile(r"\.?([A-Za-z0-9_]+)|\['([^']*)'\]|\[(\d+)\]")


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if str(value).lower() not in ("true", "false"):
        raise ValueError(f"{value!r} is not true or false")
    return str(value).lower() == "true"


CASTS: dict[str, Callable[[Any], Any]] = {
    "String": str,
    "Integer": int,
    "Float": float,
    "Boolean": _bool,
}


def parameter_values(definition: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """Return every declared parameter's value: the override, else the default, cast to its type."""
    declared = {p["Name"]: p for p in definition.get("Parameters", [])}
    unknown = sorted(set(overrides) - set(declared))
    if unknown:
        raise LocalRunError(
            f"unknown pipeline parameter(s) {unknown}: use one of {sorted(declared)}"
        )
    values = {}
    for name, spec in declared.items():
        value = overrides.get(name, spec.get("DefaultValue"))
        if value is None:
            raise LocalRunError(f"pipeline parameter {name} has no default: pass a value")
        kind = spec.get("Type", "String")
        if kind not in CASTS:
            raise LocalRunError(f"pipeline parameter {name} has type {kind}: use {sorted(CASTS)}")
        try:
            values[name] = CASTS[kind](value)
        except ValueError as exc:
            raise LocalRunError(f"pipeline parameter {name}={value!r} is not a {kind}") from exc
    return values


def step_references(value: Any) -> set[str]:
    """Return the names of the steps whose properties or property files `value` reads."""
    found: set[str] = set()
    if isinstance(value, dict):
        get = value.get("Get")
        if isinstance(get, str) and get.startswith("Steps."):
            found.add(get.split(".")[1])
        for key, item in value.items():
            if key not in ("IfSteps", "ElseSteps"):
                found |= step_references(item)
    elif isinstance(value, list):
        for item in value:
            found |= step_references(item)
    return found


def walk_path(value: Any, path: str, where: str) -> Any:
    """Follow a property path such as `A.B['c'][0]` into `value`."""
    for match in _TOKEN.finditer(path):
        name, key, index = match.groups()
        try:
            if index is not None:
                value = (
                    list(value.values())[int(index)]
                    if isinstance(value, dict)
                    else value[int(index)]
                )
            else:
                value = value[name if name is not None else key]
        except (KeyError, IndexError, TypeError) as exc:
            raise LocalRunError(f"the local run does not provide {where}") from exc
    return value


class Resolver:
    """Replace Get, Std:Join and Std:JsonGet in step arguments by the values they denote."""

    def __init__(
        self,
        parameters: dict[str, Any],
        execution: dict[str, str],
        properties: dict[str, dict[str, Any]],
        read_property_file: Callable[[str, str], Any],
        read_s3_json: Callable[[str], Any],
    ) -> None:
        self.parameters = parameters
        self.execution = execution
        self.properties = properties
        self.read_property_file = read_property_file
        self.read_s3_json = read_s3_json

    def get(self, path: str) -> Any:
        """Return the value of a `Get` reference: a parameter, execution variable or property."""
        head, _, rest = path.partition(".")
        if head == "Parameters":
            if rest not in self.parameters:
                raise LocalRunError(f"the definition reads unknown parameter {rest!r}")
            return self.parameters[rest]
        if head == "Execution":
            if rest == "CurrentDateTime":
                return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            if rest not in self.execution:
                raise LocalRunError(f"the local run has no execution variable {rest!r}")
            return self.execution[rest]
        if head == "Steps":
            step, _, prop = rest.partition(".")
            if step not in self.properties:
                raise LocalRunError(f"{path} is read before step {step!r} ran")
            return walk_path(self.properties[step], prop, path)
        raise LocalRunError(f"the local run cannot resolve {path!r}")

    def __call__(self, value: Any) -> Any:
        if isinstance(value, dict):
            if set(value) == {"Get"}:
                return self.get(value["Get"])
            if set(value) == {"Std:Join"}:
                join = value["Std:Join"]
                return str(join["On"]).join(str(self(v)) for v in join["Values"])
            if set(value) == {"Std:JsonGet"}:
                return self.json_get(value["Std:JsonGet"])
            unknown = [k for k in value if k.startswith("Std:")]
            if unknown:
                raise LocalRunError(f"the local run does not implement function {unknown[0]}")
            return {k: self(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self(v) for v in value]
        return value

    def json_get(self, spec: dict[str, Any]) -> Any:
        """Read a JSON path from a step's property file or from an S3 object."""
        if "PropertyFile" in spec:
            ref = spec["PropertyFile"]["Get"]  # Steps.<step>.PropertyFiles.<name>
            _, step, _, name = ref.split(".")
            document = self.read_property_file(step, name)
            where = f"property file {name} of step {step}"
        elif "S3Uri" in spec:
            url = str(self(spec["S3Uri"]))
            document = self.read_s3_json(url)
            where = url
        else:
            raise LocalRunError(f"Std:JsonGet needs PropertyFile or S3Uri, got {sorted(spec)}")
        return walk_path(document, spec["Path"], f"{spec['Path']} in {where}")


def read_json(text: str, where: str) -> Any:
    """Parse JSON from `where`, naming it when it is not JSON."""
    try:
        return json.loads(text)
    except ValueError as exc:
        raise LocalRunError(f"{where} is not JSON: {exc}") from exc
