"""Print, per repository kind, the median Copier render time, its ratio to a plain-Jinja floor,
and the wall time of the rendered repo's own checks (`nox` inside it).

Usage: python benchmarks/render.py [--runs N] [--skip-checks] [KIND ...]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import jinja2
import yaml

from mlops_suite import rendering

ROOT = rendering.SUITE_ROOT


def first_answer_set(kind: str) -> dict[str, Any]:
    path = sorted((ROOT / "tests" / "answers").glob(f"{kind}*.yml"))[0]
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return data


def plain_jinja(kind: str, answers: dict[str, Any], dst: Path) -> None:
    """The floor: the same files rendered by bare Jinja: no questionnaire, git or answers file."""
    env = jinja2.Environment(  # noqa: S701 - benchmark floor, output is never served
        loader=jinja2.FileSystemLoader(str(ROOT)),
        extensions=["jinja2_ansible_filters.AnsibleCoreFiltersExtension"],
        keep_trailing_newline=True,
    )
    context = {
        **answers,
        "_copier_answers": answers,
        "_copier_conf": {"answers_file": ".copier-answers.yml"},
    }
    src = ROOT / "repo-templates" / kind
    for path in src.rglob("*"):
        rel = path.relative_to(src)
        target_rel = env.from_string(str(rel)).render(context)
        if target_rel.endswith(".jinja"):
            target_rel = target_rel[: -len(".jinja")]
        if target_rel.endswith("/") or not target_rel.rsplit("/", 1)[-1]:
            continue  # a conditional name rendered empty: Copier skips the file too
        target = dst / target_rel
        if path.is_dir():
            target.mkdir(parents=True, exist_ok=True)
        elif path.suffix == ".jinja":
            target.parent.mkdir(parents=True, exist_ok=True)
            template = env.get_template(str(path.relative_to(ROOT)))
            target.write_text(template.render(context), encoding="utf-8")
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)


def full_context(recorded: dict[str, Any]) -> dict[str, Any]:
    """The answers Copier recorded plus the derived (`when: false`) values the templates see."""
    env = jinja2.Environment(  # noqa: S701 - renders answer defaults, never served
        extensions=["jinja2_ansible_filters.AnsibleCoreFiltersExtension"]
    )
    context = {k: v for k, v in recorded.items() if not k.startswith("_")}
    for name, spec in rendering.questionnaire().items():
        default = spec.get("default")
        if name not in context and isinstance(default, str):
            context[name] = env.from_string(default).render(context)
    return context


def timed(fn: Any, *args: Any) -> float:
    start = time.perf_counter()
    if fn is rendering.render:
        dst, answers, suite = args
        fn(dst, answers, template=suite)
    else:
        fn(*args)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("kinds", nargs="*", default=rendering.kinds())
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--skip-checks", action="store_true")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-render-"))
    suite = rendering.snapshot(work / "suite")
    print(f"{'kind':<22}{'copier median s':>16}{'jinja floor s':>15}{'ratio':>8}{'checks s':>10}")
    for kind in args.kinds:
        answers = first_answer_set(kind)
        copier_times, floor_times = [], []
        for i in range(args.runs):
            copier_times.append(timed(rendering.render, work / f"{kind}-c{i}", answers, str(suite)))
        context = full_context(rendering.load_answers_file(work / f"{kind}-c0"))
        for i in range(args.runs):
            floor_times.append(timed(plain_jinja, kind, context, work / f"{kind}-j{i}"))
        c, f = statistics.median(copier_times), statistics.median(floor_times)
        checks = "-"
        if not args.skip_checks:
            env = {**os.environ, "NOX_DEFAULT_VENV_BACKEND": "uv|virtualenv"}
            start = time.perf_counter()
            subprocess.run(
                ["nox", "--envdir", str(work / ".nox")],
                cwd=work / f"{kind}-c0",
                check=True,
                env=env,
            )
            checks = f"{time.perf_counter() - start:.1f}"
        print(f"{kind:<22}{c:>16.3f}{f:>15.4f}{c / f:>8.1f}{checks:>10}")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
