"""The README's nox install block works as written, also on an externally managed Python."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MARKER = "<!-- install-nox -->"


def install_block() -> str:
    """Return the bash block that follows the install marker in README.md."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert MARKER in text, f"README.md lost its {MARKER} marker (.ci/run reads it too)"
    match = re.search(r"```bash\n(.*?)```", text.split(MARKER, 1)[1], flags=re.DOTALL)
    assert match, f"no ```bash block after {MARKER} in README.md"
    return match.group(1)


def externally_managed_python() -> Path | None:
    """Return a system Python that carries PEP 668's EXTERNALLY-MANAGED marker, if any."""
    for candidate in sorted(Path("/usr/bin").glob("python3.[0-9]*")):
        if not re.fullmatch(r"python3\.\d+", candidate.name):
            continue
        marker = Path(f"/usr/lib/{candidate.name}/EXTERNALLY-MANAGED")
        if marker.is_file():
            return candidate
    return None


def test_ci_runs_the_readme_install_block() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert MARKER in ci, ".ci/run must run README.md's install block, not its own command"


def test_readme_install_then_nox_list_on_an_externally_managed_python(tmp_path: Path) -> None:
    python = externally_managed_python()
    if python is None:
        pytest.skip("SKIPPED: no Python with an EXTERNALLY-MANAGED marker under /usr/bin here")
    # The marker is real: a plain pip install into that Python is refused.
    refused = subprocess.run(
        [str(python), "-m", "pip", "install", "--dry-run", "nox"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert refused.returncode != 0
    assert "externally-managed-environment" in refused.stdout + refused.stderr
    shims = tmp_path / "bin"
    shims.mkdir()
    (shims / "python3").symlink_to(python)
    home = tmp_path / "home"
    home.mkdir()
    env = {
        "HOME": str(home),
        "PATH": f"{shims}:/usr/bin:/bin",
        "LANG": "C.UTF-8",
    }
    for key in ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_CONFIG_FILE", "UV_INDEX_URL"):
        if key in os.environ:
            env[key] = os.environ[key]
    script = f"set -euo pipefail\n{install_block()}\nnox -l\n"
    result = subprocess.run(
        ["bash", "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "render(model-training)" in result.stdout
    assert (home / ".venvs" / "nox" / "bin" / "nox").exists()
