"""Print, per repository kind, the median Copier render time, its ratio to a plain-Jinja floor,
the wall time of the rendered repos' own checks, and the projected total of `nox`.

The checks run as `nox -s "render(<kind>)"` runs them: every answer set of the kind, sharing
venvs per Python version, the end-to-end local run only for the kind's full-check set. The
projection adds the other default sessions of the suite's nox, each timed once (or left out
with --skip-suite-sessions, which the total then says), and can scale the kinds' part to the
number of kinds the budget is set for (--budget-kinds).

Usage: python benchmarks/render.py [--runs N] [--skip-checks] [--skip-suite-sessions]
                                   [--budget-kinds N] [KIND ...]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import jinja2
import yaml

from mlops_suite import kinds, rendering

ROOT = rendering.SUITE_ROOT
BUDGET_S = 15 * 60  # the full nox on a clean clone, on a 2-core machine


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return data


def suite_noxfile() -> Any:
    spec = importlib.util.spec_from_file_location("suite_noxfile", ROOT / "noxfile.py")
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def default_sessions() -> list[str]:
    """The sessions a bare `nox` runs (marked * by `nox -l`)."""
    listed = subprocess.run(["nox", "-l"], cwd=ROOT, capture_output=True, text=True, check=True)
    return re.findall(r"^\* (\S+)", listed.stdout, flags=re.MULTILINE)


def check_kind(kind: str, suite: Path, work: Path) -> float:
    """Render every answer set of `kind` and run its checks as the render session does."""
    noxfile = suite_noxfile()
    full = noxfile.full_check_set(kind)
    env = {**os.environ, "NOX_DEFAULT_VENV_BACKEND": "uv|virtualenv"}
    start = time.perf_counter()
    for path in sorted(kinds.answer_sets(kind), key=lambda s: s.stem != full):
        dst = work / f"{kind}-check" / path.stem
        rendering.render(dst, load(path), template=str(suite))
        python = str(load(path).get("python_version", "3.11"))
        extra = noxfile.interpreter_env(python)
        if extra is None:
            print(f"  {path.stem}: no python{python} here, its checks are not counted")
            continue
        posargs = [] if path.stem == full else ["--", *noxfile.CHEAP_CHECKS]
        envdir = work / ".nox" / kind / f"py{python}"
        subprocess.run(
            ["nox", "--envdir", str(envdir), *posargs], cwd=dst, check=True, env={**env, **extra}
        )
    return time.perf_counter() - start


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
    parser.add_argument("--skip-suite-sessions", action="store_true")
    parser.add_argument(
        "--budget-kinds", type=int, help="scale the kinds' part to this many kinds (default: none)"
    )
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-render-"))
    suite = rendering.snapshot(work / "suite")
    head = f"{'kind':<22}{'sets':>5}{'render s':>10}{'floor s':>9}{'ratio':>7}"
    print(f"{head}{'checks s':>10}{'sum s':>9}")
    totals: dict[str, float] = {}
    for kind in args.kinds:
        sets = kinds.answer_sets(kind)
        copier_times, floor_times = [], []
        for i in range(args.runs):
            copier_times.append(
                timed(rendering.render, work / f"{kind}-c{i}", load(sets[0]), str(suite))
            )
        context = full_context(rendering.load_answers_file(work / f"{kind}-c0"))
        for i in range(args.runs):
            floor_times.append(timed(plain_jinja, kind, context, work / f"{kind}-j{i}"))
        c, f = statistics.median(copier_times), statistics.median(floor_times)
        render_s = c * len(sets)
        checks_s = None if args.skip_checks else check_kind(kind, suite, work)
        shown = "-" if checks_s is None else f"{checks_s:.1f}"
        total = render_s + (checks_s or 0.0)
        totals[kind] = total
        row = f"{kind:<22}{len(sets):>5}{render_s:>10.2f}{f:>9.4f}{c / f:>7.1f}"
        print(f"{row}{shown:>10}{total:>9.1f}", flush=True)

    kinds_s = sum(totals.values())
    if args.budget_kinds and totals:
        kinds_s = kinds_s / len(totals) * args.budget_kinds
        print(f"kinds' part scaled to {args.budget_kinds} kinds: {kinds_s:.0f} s")
    others = [s for s in default_sessions() if not s.startswith("render(")]
    offered = rendering.kinds()
    # Other per-kind sessions (`name(<kind>)`) grow with the kinds like render does.
    scale = (args.budget_kinds or len(offered)) / max(len(offered), 1)
    suite_s = 0.0
    if args.skip_suite_sessions:
        print(f"suite sessions not timed (--skip-suite-sessions): {', '.join(others)}")
    else:
        for name in others:
            start = time.perf_counter()
            done = subprocess.run(["nox", "-s", name], cwd=ROOT, capture_output=True, check=False)
            took = time.perf_counter() - start
            per_kind = any(name.endswith(f"({kind})") for kind in offered)
            suite_s += took * (scale if per_kind else 1.0)
            status = "ok" if done.returncode == 0 else f"FAILED ({done.returncode})"
            note = f" (x{scale:.1f}, per kind)" if per_kind and scale != 1 else ""
            print(f"  session {name:<28}{took:>8.1f} s  {status}{note}", flush=True)
    projected = kinds_s + suite_s
    missing = [
        label
        for label, skipped in (
            ("rendered checks", args.skip_checks),
            ("suite sessions", args.skip_suite_sessions),
        )
        if skipped
    ]
    left_out = f" ({' and '.join(missing)} left out)" if missing else ""
    verdict = "within" if projected <= BUDGET_S else "OVER"
    print(
        f"projected nox total: {projected:.0f} s{left_out}, {verdict} the {BUDGET_S // 60}-minute"
        " budget"
    )
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
