"""SageMaker Python SDK v3 canary: build every pipeline kind's definition with v2 and with v3.

Each kind's first answer set is rendered from a snapshot of the suite and installed twice, in
its own venv per SDK (`sagemaker>=2.257,<3` as shipped, and `sagemaker>=3` as an override);
`sdk_canary_build.py` builds the definition in each against moto. The canary prints a
structural diff (steps, their types, their job arguments, the parameters), or, where v3 cannot
build the pipeline, what blocks it. Under v3 a kind's `pipeline_v3` module is used when it has
one: the SDK-specific construction lives in that one module (docs/sdk-v3.md).

Exit status: 0 when every v2 build succeeds (v3's result is information), 1 otherwise.
Usage: python -m mlops_suite.sdk_canary [KIND ...]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from mlops_suite import kinds, rendering

SDKS = {"v2": "sagemaker>=2.257,<3", "v3": "sagemaker>=3"}
BUILD = Path(__file__).with_name("sdk_canary_build.py")


def steps(definition: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every step, those nested in conditions included, in definition order."""
    for step in definition.get("Steps", []):
        yield step
        for branch in ("IfSteps", "ElseSteps"):
            yield from steps({"Steps": step.get("Arguments", {}).get(branch, [])})


def flatten(value: Any, prefix: str = "") -> dict[str, str]:
    """Return {dotted path: JSON of the leaf} for a nested structure."""
    if isinstance(value, dict):
        out: dict[str, str] = {}
        for key in sorted(value):
            if key not in ("IfSteps", "ElseSteps"):
                out.update(flatten(value[key], f"{prefix}.{key}" if prefix else str(key)))
        return out
    if isinstance(value, list) and value and any(isinstance(v, dict | list) for v in value):
        out = {}
        for i, item in enumerate(value):
            out.update(flatten(item, f"{prefix}[{i}]"))
        return out
    return {prefix: json.dumps(value, sort_keys=True)}


def structural_diff(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Return human-readable lines: what the v3 definition does differently from v2's."""
    lines = []
    params = {
        label: {p["Name"]: (p["Type"], p.get("DefaultValue")) for p in d.get("Parameters", [])}
        for label, d in (("v2", old), ("v3", new))
    }
    for name in sorted(set(params["v2"]) | set(params["v3"])):
        before, after = params["v2"].get(name), params["v3"].get(name)
        if before != after:
            lines.append(f"parameter {name}: {before} -> {after}")
    a_steps = {s["Name"]: s for s in steps(old)}
    b_steps = {s["Name"]: s for s in steps(new)}
    if list(a_steps) != list(b_steps):
        lines.append(f"steps: {list(a_steps)} -> {list(b_steps)}")
    for name in [n for n in a_steps if n in b_steps]:
        a, b = a_steps[name], b_steps[name]
        if a["Type"] != b["Type"]:
            lines.append(f"step {name}: type {a['Type']} -> {b['Type']}")
        fa, fb = flatten(a.get("Arguments", {})), flatten(b.get("Arguments", {}))
        for key in sorted(set(fa) | set(fb)):
            if fa.get(key) != fb.get(key):
                lines.append(
                    f"step {name}: {key}: {fa.get(key, '(absent)')} -> {fb.get(key, '(absent)')}"
                )
        for extra in ("DependsOn", "CacheConfig", "PropertyFiles"):
            if a.get(extra) != b.get(extra):
                lines.append(f"step {name}: {extra}: {a.get(extra)} -> {b.get(extra)}")
    return lines


def build(repo: Path, package: str, sdk: str, work: Path) -> dict[str, Any]:
    """Install `repo` with `sdk` into its own venv and build its definition there."""
    uv = shutil.which("uv") or shutil.which("uv", path=str(Path(sys.executable).parent))
    if not uv:
        raise SystemExit("sdk_canary needs uv: pip install uv")
    venv = work / f"venv-{sdk}"
    subprocess.run([uv, "venv", "-q", "--python", sys.executable, str(venv)], check=True)
    override = work / f"override-{sdk}.txt"
    override.write_text(SDKS[sdk] + "\n", encoding="utf-8")
    python = str(venv / "bin" / "python")
    subprocess.run(
        [uv, "pip", "install", "-q", "--python", python, "--override", str(override),
         "-e", f"{repo}[dev]"],
        check=True,
    )  # fmt: skip
    target = package
    if sdk == "v3" and (repo / "src" / package / "pipeline_v3.py").is_file():
        target = f"{package}.v3"  # sdk_canary_build resolves <package>.pipeline_v3
    out = work / f"definition-{sdk}.json"
    subprocess.run([python, str(BUILD), target, str(out)], check=True, cwd=repo)
    result: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return result


def canary(kind: kinds.Kind, suite: Path, work: Path) -> bool:
    """Print the kind's v2/v3 comparison; return False when its v2 build fails."""
    answers = yaml.safe_load(kinds.answer_sets(kind.name)[0].read_text(encoding="utf-8"))
    repo = work / "repo"
    rendering.render(repo, answers, template=str(suite))
    package = str(answers["project_name"]).replace("-", "_")
    results = {sdk: build(repo, package, sdk, work) for sdk in SDKS}
    print(f"\n## {kind.name}: sagemaker {results['v2']['sdk']} vs {results['v3']['sdk']}")
    if "error" in results["v2"]:
        print(f"v2 build FAILED: {results['v2']['error']}")
        return False
    if "error" in results["v3"]:
        print(f"v3 BLOCKED: {results['v3']['error']}")
        return True
    lines = structural_diff(results["v2"]["definition"], results["v3"]["definition"])
    print("\n".join(lines) if lines else "no structural difference")
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mlops_suite.sdk_canary", description=__doc__)
    parser.add_argument("kinds", nargs="*", help="default: every kind that runs a pipeline")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="sdk-canary-"))
    suite = rendering.snapshot(work / "suite")
    chosen = [
        k for k in kinds.all_kinds(suite) if k.pipeline and (k.name in args.kinds or not args.kinds)
    ]
    ok = True
    for kind in chosen:
        ok &= canary(kind, suite, work / kind.name)
    shutil.rmtree(work, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
