"""The Dockerfiles hold to the images' rules, and what they start works without Docker.

hadolint (nox -s hadolint) lints them; these tests check what it does not: digests, the user,
the lock files, and that each image's program runs on the host with the image's environment.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
IMAGES = {"processing": "preprocess", "training": "train", "inference": "serve"}


def instructions(image: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of docker/<image>/Dockerfile, continuation lines joined."""
    text = (ROOT / "docker" / image / "Dockerfile").read_text(encoding="utf-8")
    lines = [ln for ln in text.replace("\\\n", " ").splitlines() if ln.strip()]
    out = []
    for line in lines:
        if line.lstrip().startswith("#"):
            continue
        word, _, rest = line.strip().partition(" ")
        out.append((word.upper(), rest.strip()))
    return out


def locked(image: str) -> dict[str, str]:
    """Package -> pinned version in requirements/<image>.txt; every pin carries hashes."""
    text = (ROOT / "requirements" / f"{image}.txt").read_text(encoding="utf-8")
    pins: dict[str, str] = {}
    for block in re.split(r"\n(?=\S)", text):
        head = block.split(";", 1)[0].split("\\", 1)[0].strip()
        if not head or head.startswith("#"):
            continue
        name, _, version = head.partition("==")
        assert version, f"{image}: {head} is not pinned with =="
        assert "--hash=sha256:" in block, f"{image}: {head} has no hashes"
        pins[name.lower()] = version.strip()
    return pins


@pytest.mark.parametrize("image", IMAGES)
def test_base_images_are_pinned_by_digest_and_the_user_is_not_root(image: str) -> None:
    steps = instructions(image)
    bases = [args.split()[0] for word, args in steps if word == "FROM"]
    assert bases, image
    for base in bases:
        assert re.fullmatch(r"[\w./-]+:[\w.-]+@sha256:[0-9a-f]{64}", base), base
    users = [args for word, args in steps if word == "USER"]
    assert users, f"{image} runs as root"
    assert users[-1].split(":")[0] not in ("0", "root")
    assert not [
        a for w, a in steps if w in ("ENV", "ARG") and re.search(r"(?i)secret|token|pass", a)
    ]


@pytest.mark.parametrize("image", IMAGES)
def test_installs_are_hash_checked_from_the_lock_the_package_needs(image: str) -> None:
    runs = " ".join(args for word, args in instructions(image) if word == "RUN")
    assert "--require-hashes" in runs
    assert "--no-deps" in runs
    assert f"requirements/{image}.txt" in " ".join(a for w, a in instructions(image) if w == "COPY")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = list(project["dependencies"]) + list(project["optional-dependencies"].get(image, []))
    names = {re.split(r"[<>=!~\[ ]", w, maxsplit=1)[0].lower() for w in wanted}
    assert names <= set(locked(image)), f"{image} lock lacks {sorted(names - set(locked(image)))}"


@pytest.mark.parametrize(("image", "program"), IMAGES.items())
def test_the_image_command_is_its_program(image: str, program: str) -> None:
    (cmd,) = [json.loads(args) for word, args in instructions(image) if word == "CMD"]
    assert cmd == [program]
    assert (ROOT / "docker" / "bin" / program).is_file()


def image_env(tmp_path: Path) -> dict[str, str]:
    """PATH and PYTHONPATH as the image sets them; this environment's `python` is the image's."""
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    return {**os.environ, "PATH": path, "PYTHONPATH": str(ROOT / "src")}


def test_the_training_program_runs_as_in_the_image(opt_ml: Path, tmp_path: Path) -> None:
    done = subprocess.run(
        ["sh", str(ROOT / "docker" / "bin" / "train"), "train"],
        env={**image_env(tmp_path), "OPT_ML": str(opt_ml)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert (opt_ml / "model" / "xgboost-model").is_file()


def test_the_processing_program_runs_as_in_the_image(tmp_path: Path) -> None:
    data = tmp_path / "in"
    data.mkdir()
    rows = ["y,a,b"] + [f"{i % 2},{i},{i * 3}" for i in range(30)]
    (data / "d.csv").write_text("\n".join(rows) + "\n")
    argv = ["--input-dir", str(data), "--output-dir", str(tmp_path / "out"), "--label-column", "y"]
    done = subprocess.run(
        ["sh", str(ROOT / "docker" / "bin" / "preprocess"), *argv],
        env=image_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip() == "train=22 validation=4 test=4"


def healthcheck_command() -> list[str]:
    """The inference image's HEALTHCHECK command (exec form)."""
    (args,) = [a for w, a in instructions("inference") if w == "HEALTHCHECK"]
    command: list[str] = json.loads(args.split(" CMD ", 1)[1])
    return command
