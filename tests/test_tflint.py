"""The tflint wrapper, against a stand-in docker client that records every call."""

from __future__ import annotations

import json
import stat
import sys
from pathlib import Path

import pytest

from mlops_suite import tflint

ROOT = Path(__file__).resolve().parents[1]

FAKE_DOCKER = """#!{python}
import json, os, sys
state = os.environ["FAKE_DOCKER_STATE"]
with open(os.path.join(state, "calls.jsonl"), "a") as log:
    log.write(json.dumps(sys.argv[1:]) + "\\n")
def setting(name):
    return os.path.exists(os.path.join(state, name))
args = sys.argv[1:]
if args[0] == "version":
    if setting("no-engine"):
        print("Cannot connect to the Docker daemon at unix:///var/run/docker.sock", file=sys.stderr)
        sys.exit(1)
    print(json.dumps({{"Client": {{"Version": "28.2.2"}}, "Server": {{"Version": "28.2.2"}}}}))
elif args[:2] == ["image", "inspect"]:
    if setting("no-image"):
        print("Error: No such image: " + args[2], file=sys.stderr)
        sys.exit(1)
    print(json.dumps([{{"Id": "sha256:0123", "RepoTags": [args[2]]}}]))
elif args[:2] == ["image", "pull"]:
    sys.exit(1)
elif args[:2] == ["container", "run"]:
    if "--init" not in args and setting("findings"):
        print("main.tf:3:1: Warning - aws_instance_invalid_type (aws_instance_invalid_type)")
        sys.exit(2)
"""


@pytest.fixture
def docker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, Path]:
    state = tmp_path / "state"
    state.mkdir()
    binary = tmp_path / "docker"
    binary.write_text(FAKE_DOCKER.format(python=sys.executable), encoding="utf-8")
    binary.chmod(binary.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("FAKE_DOCKER_STATE", str(state))
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    return str(binary), state


def calls(state: Path) -> list[list[str]]:
    lines = (state / "calls.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


def test_runs_init_then_lint_with_the_exact_image_mounts_and_arguments(
    docker: tuple[str, Path], tmp_path: Path
) -> None:
    binary, state = docker
    plugins = tmp_path / "plugins"
    outcome = tflint.lint([ROOT / "platform"], plugins, binary)
    assert outcome.ok, outcome
    runs = [c for c in calls(state) if c[:2] == ["container", "run"]]
    common = [
        "container", "run", "--env", "TFLINT_PLUGIN_DIR=/plugins", "--rm",
        "--volume", f"{ROOT / 'platform'}:/data:ro", "--volume", f"{plugins}:/plugins:rw",
        "--workdir", "/data", tflint.IMAGE,
    ]  # fmt: skip
    assert runs == [
        [*common, "--init", "--config=/data/.tflint.hcl"],
        [*common, "--recursive", "--format=compact", "--config=/data/.tflint.hcl"],
    ]


def test_findings_fail_the_run(docker: tuple[str, Path], tmp_path: Path) -> None:
    binary, state = docker
    (state / "findings").touch()
    code = tflint.main([str(ROOT / "platform"), "--docker", binary, "--plugin-dir", str(tmp_path)])
    assert code == 1


def test_no_engine_is_a_loud_skip_naming_the_reason(
    docker: tuple[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    binary, state = docker
    (state / "no-engine").touch()
    code = tflint.main([str(ROOT / "platform"), "--docker", binary, "--plugin-dir", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 0
    assert "SKIPPED tflint: the Docker engine did not answer" in out
    assert not [c for c in calls(state) if c[:2] == ["container", "run"]]


def test_a_skip_fails_where_nothing_may_be_skipped(
    docker: tuple[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    binary, state = docker
    (state / "no-engine").touch()
    monkeypatch.setenv("MLOPS_SUITE_REQUIRE", "1")
    code = tflint.main([str(ROOT / "platform"), "--docker", binary, "--plugin-dir", str(tmp_path)])
    assert code == 1


def test_a_missing_image_that_cannot_be_pulled_is_named(
    docker: tuple[str, Path], tmp_path: Path
) -> None:
    binary, state = docker
    (state / "no-image").touch()
    outcome = tflint.lint([ROOT / "platform"], tmp_path, binary)
    assert outcome.skipped == (
        f"image {tflint.IMAGE} is not present and could not be pulled (docker pull {tflint.IMAGE})"
    )


def test_a_missing_client_is_named(tmp_path: Path) -> None:
    outcome = tflint.lint([ROOT / "platform"], tmp_path, str(tmp_path / "no-docker"))
    assert outcome.skipped
    assert "no docker client" in outcome.skipped


def test_a_target_without_config_is_refused(docker: tuple[str, Path], tmp_path: Path) -> None:
    binary, _ = docker
    with pytest.raises(FileNotFoundError, match=r"has no \.tflint\.hcl"):
        tflint.lint([tmp_path], tmp_path / "plugins", binary)


def test_the_platform_pins_the_aws_ruleset() -> None:
    config = (ROOT / "platform" / ".tflint.hcl").read_text(encoding="utf-8")
    assert 'source  = "github.com/terraform-linters/tflint-ruleset-aws"' in config
    assert not tflint.IMAGE.endswith(":latest")
