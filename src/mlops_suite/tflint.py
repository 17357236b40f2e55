"""tflint with the AWS ruleset, in its container, through python-on-whales.

Each target folder carries its own `.tflint.hcl` (the ruleset pinned there); the folder is mounted
read-only at /data, the plugin cache at /plugins. Where no Docker engine answers, or the image is
neither present nor pullable, the run says SKIPPED with the reason instead of passing silently.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

IMAGE = "ghcr.io/terraform-linters/tflint:v0.55.1"
CONFIG = ".tflint.hcl"
DATA, PLUGINS = "/data", "/plugins"
# tflint exits 2 when it found issues, 1 when it could not run.
FINDINGS = 2


@dataclass(frozen=True)
class Outcome:
    """What a run did: the skip reason, or the targets whose lint failed."""

    skipped: str | None
    failed: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.skipped is None and not self.failed


def unavailable(docker_binary: str, image: str = IMAGE) -> str | None:
    """Return why tflint's container cannot run here, or None when it can."""
    from python_on_whales import DockerClient
    from python_on_whales.exceptions import DockerException

    if shutil.which(docker_binary) is None:
        return f"no docker client {docker_binary!r} on PATH (install Docker to run tflint)"
    client = DockerClient(client_call=[docker_binary])
    try:
        version = client.version()
    except DockerException as exc:
        said = (exc.stderr or str(exc)).strip().splitlines() or ["no output"]
        return f"the Docker engine did not answer ({said[-1][:160]})"
    if version.server is None:
        return "the Docker engine did not answer (docker version shows no server)"
    if client.image.exists(image):
        return None
    try:
        client.image.pull(image, quiet=True)
    except DockerException:
        return f"image {image} is not present and could not be pulled (docker pull {image})"
    return None


def lint(
    targets: Sequence[Path], plugin_dir: Path, docker_binary: str = "docker", image: str = IMAGE
) -> Outcome:
    """Run `tflint --init` then `tflint --recursive` in each target; collect the failures."""
    from python_on_whales import DockerClient
    from python_on_whales.exceptions import DockerException

    reason = unavailable(docker_binary, image)
    if reason:
        return Outcome(skipped=reason)
    client = DockerClient(client_call=[docker_binary])
    plugin_dir.mkdir(parents=True, exist_ok=True)
    failed = []
    for target in targets:
        config = target / CONFIG
        if not config.is_file():
            raise FileNotFoundError(f"{target} has no {CONFIG}: add one that pins the AWS ruleset")
        mounts: list[tuple[str | Path, str | Path, str]] = [
            (target.resolve(), DATA, "ro"),
            (plugin_dir.resolve(), PLUGINS, "rw"),
        ]
        envs = {"TFLINT_PLUGIN_DIR": PLUGINS}
        if token := os.environ.get("GITHUB_TOKEN"):  # tflint --init reads the ruleset's release
            envs["GITHUB_TOKEN"] = token
        try:
            for command in (["--init"], ["--recursive", "--format=compact"]):
                client.run(
                    image,
                    [*command, f"--config={DATA}/{CONFIG}"],
                    envs=envs,
                    volumes=mounts,
                    workdir=DATA,
                    remove=True,
                )
        except DockerException as exc:
            kind = "findings" if exc.return_code == FINDINGS else f"exit {exc.return_code}"
            print(f"tflint {target}: {kind}\n{exc.stdout or ''}{exc.stderr or ''}", file=sys.stderr)
            failed.append(str(target))
    return Outcome(skipped=None, failed=tuple(failed))


def main(argv: list[str] | None = None) -> int:
    """Entry point of `python -m mlops_suite.tflint TARGET...`."""
    parser = argparse.ArgumentParser(prog="tflint", description=__doc__)
    parser.add_argument("targets", nargs="+", type=Path)
    parser.add_argument("--docker", default=os.environ.get("DOCKER_BINARY", "docker"))
    parser.add_argument("--plugin-dir", type=Path, default=Path(".tf") / "tflint-plugins")
    args = parser.parse_args(argv)
    outcome = lint(args.targets, args.plugin_dir, args.docker)
    if outcome.skipped:
        bar = "!" * 78
        print(f"\n{bar}\nSKIPPED tflint: {outcome.skipped}\n{bar}\n")
        return 1 if os.environ.get("MLOPS_SUITE_REQUIRE") == "1" else 0
    if outcome.failed:
        print(f"tflint failed in {', '.join(outcome.failed)}", file=sys.stderr)
        return 1
    print(f"tflint clean in {len(args.targets)} folder(s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
