"""The step cache: reuse a job whose definition, parameters and inputs match an earlier run."""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .context import RunContext
from .errors import LocalRunError
from .registry import CACHEABLE
from .values import step_references

_DURATION = re.compile(r"P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?")


def duration_seconds(text: str | None) -> float | None:
    """Return an ISO 8601 duration such as P30D or PT12H in seconds (None: no expiry)."""
    if not text:
        return None
    match = _DURATION.fullmatch(text)
    if match is None or text in ("P", "PT"):
        raise LocalRunError(f"CacheConfig ExpireAfter {text!r}: use weeks, days, hours, minutes")
    weeks, days, hours, minutes, seconds = (int(g or 0) for g in match.groups())
    return float((((weeks * 7 + days) * 24 + hours) * 60 + minutes) * 60 + seconds)


def all_steps(steps: Iterable[dict[str, Any]]) -> Iterable[dict[str, Any]]:
    """Every step of the definition, condition branches included."""
    for step in steps:
        yield step
        yield from all_steps(step.get("Arguments", {}).get("IfSteps", []))
        yield from all_steps(step.get("Arguments", {}).get("ElseSteps", []))


class StepCache:
    """Cache entries are JSON files in `folder`, one per key."""

    def __init__(self, folder: Path | None, context: RunContext) -> None:
        self.folder = folder
        self.context = context
        self.keys: dict[str, str] = {}

    def key(self, step: dict[str, Any]) -> str | None:
        """Key a cacheable job as SageMaker's step cache does, or return None when it is not one.

        The key covers the step's definition (the staged code's S3 keys carry content hashes),
        the values of the parameters it reads, and the keys of the steps it reads from.
        """
        config = step.get("CacheConfig", {})
        if self.folder is None or not config.get("Enabled") or step["Type"] not in CACHEABLE:
            return None
        upstream = {name: self.keys.get(name) for name in step_references(step["Arguments"])}
        if None in upstream.values():
            return None  # an input came from a step that is never cached
        text = json.dumps(step, sort_keys=True)
        parameters = self.context.parameters
        material = {
            "step": step,
            "parameters": {p: parameters[p] for p in re.findall(r'"Parameters\.(\w+)"', text)},
            "upstream": upstream,
        }
        key = hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()
        self.keys[step["Name"]] = key
        return key

    def _file(self, key: str) -> Path:
        assert self.folder is not None
        return self.folder / f"{key}.json"

    def load(self, step: dict[str, Any], key: str) -> dict[str, Any] | None:
        """Return the properties of an earlier identical run whose outputs still exist, or None."""
        path = self._file(key)
        if not path.exists():
            return None
        entry = json.loads(path.read_text(encoding="utf-8"))
        max_age = duration_seconds(step["CacheConfig"].get("ExpireAfter"))
        if max_age is not None and time.time() - entry["stored_at"] > max_age:
            return None
        if not all(self.context.storage.exists(url) for url in entry["outputs"]):
            return None  # the outputs are gone (another endpoint, or deleted): run again
        name = step["Name"]
        files = {}
        for file_name, content in entry["property_files"].items():
            target = self.context.workdir / name / "cached" / f"{file_name}.json"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(json.dumps(content), encoding="utf-8")
            files[file_name] = target
            self.context.result.reports[f"{name}.{file_name}"] = content
        self.context.property_files[name] = files
        properties: dict[str, Any] = entry["properties"]
        return properties

    def store(self, step: dict[str, Any], key: str, properties: dict[str, Any]) -> None:
        """Remember the step's properties, outputs and property files under `key`."""
        name = step["Name"]
        entry = {
            "step": name,
            "stored_at": time.time(),
            "properties": properties,
            "outputs": CACHEABLE[step["Type"]](properties),
            "property_files": {
                file_name: json.loads(path.read_text(encoding="utf-8"))
                for file_name, path in self.context.property_files.get(name, {}).items()
            },
        }
        assert self.folder is not None
        self.folder.mkdir(parents=True, exist_ok=True)
        self._file(key).write_text(json.dumps(entry), encoding="utf-8")
