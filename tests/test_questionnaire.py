"""The one questionnaire: every validator accepts good values and names the fix for bad ones."""

from __future__ import annotations

import importlib.util
import re
import tomllib
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml

from mlops_suite import kinds, rendering

ROOT = rendering.SUITE_ROOT
ANSWERS_DIR = ROOT / "tests" / "answers"


def load_answer_set(name: str) -> dict[str, Any]:
    data = yaml.safe_load((ANSWERS_DIR / f"{name}.yml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


# The common questions are judged with the first answer set of the first kind.
FIRST_KIND = rendering.kinds()[0]
BASE = load_answer_set(kinds.answer_sets(FIRST_KIND)[0].stem)


@pytest.fixture(scope="module")
def questions() -> dict[str, dict[str, Any]]:
    return rendering.questionnaire()


def render(snapshot: Path, dst: Path, **overrides: Any) -> dict[str, Any]:
    return rendering.render(dst, {**BASE, **overrides}, template=str(snapshot))


GOOD_AND_BAD = [
    (
        "project_name",
        ["churn-model", "abc", "x9-ltv", "a" * 32],
        ["Churn", "churn model", "ab", "9lives", "a--b", "a-", "a" * 33],
        "e.g. churn-model",
    ),
    ("owner", ["ml-team", "growth_ds", "a"], ["ML Team", "", "-x"], "GitHub team slug"),
    (
        "github_org",
        ["my-org", "Acme-Corp", "o", "a" * 39],
        ["", "my org", "-org", "org-", "a--b", "a" * 40],
        "e.g. my-org",
    ),
    (
        "aws_region",
        [
            "eu-west-1",
            "us-east-1",
            "ap-southeast-2",
            "us-gov-west-1",
            "us-gov-east-1",
            "cn-north-1",
            "cn-northwest-1",
        ],
        ["eu-west-9", "EU-WEST-1", "europe", "", "us-iso-east-1", "cn-north-9"],
        "region code",
    ),
    (
        "dev_account_id",
        ["123456789012"],
        ["12345678901", "1234567890123", "12345678901a", ""],
        "12-digit",
    ),
    ("preprod_account_id", ["222222222222"], ["2222"], "12-digit"),
    ("prod_account_id", ["333333333333"], ["33333333333x"], "12-digit"),
    (
        "sagemaker_project_name",
        ["My-Project1", "a"],
        ["-x", "x-", "a_b", "a" * 33, "a-" + "b" * 31],
        "1-32 letters",
    ),
    (
        "sagemaker_project_id",
        ["p-abcdef012345"],
        ["p-ABCDEF012345", "abcdef012345", "p-abc", ""],
        "e.g. p-abcdef012345",
    ),
    ("description", ["Short", ""], ["x" * 201], "at most 200 characters"),
    (
        "training_image_uri",
        [
            "",
            "111111111111.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-p-abcdef012345/training:git-1",
            "111111111111.dkr.ecr.cn-north-1.amazonaws.com.cn/team/train@sha256:" + "a" * 64,
        ],
        [
            "training:latest",
            "111111111111.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-p-abcdef012345/training",
            "docker.io/library/python:3.11",
            "1111.dkr.ecr.eu-west-1.amazonaws.com/x:1",
            "111111111111.dkr.ecr.eu-west-1.amazonaws.com/x@sha256:abc",
        ],
        "use an ECR image URI with a tag or digest",
    ),
    (
        "inference_image_uri",
        ["111111111111.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-p-abcdef012345/inference:git-1"],
        ["inference:latest", "111111111111.dkr.ecr.eu-west-1.amazonaws.com/x@sha256:abc"],
        "use an ECR image URI with a tag or digest",
    ),
]


@pytest.mark.parametrize(
    ("name", "good", "bad", "hint"), GOOD_AND_BAD, ids=[g[0] for g in GOOD_AND_BAD]
)
def test_validator(
    suite_snapshot: Path, tmp_path: Path, name: str, good: list[str], bad: list[str], hint: str
) -> None:
    for i, value in enumerate(good):
        answers = render(suite_snapshot, tmp_path / f"good{i}", **{name: value})
        assert answers[name] == value
    for i, value in enumerate(bad):
        dst = tmp_path / f"bad{i}"
        with pytest.raises(rendering.RenderError) as err:
            render(suite_snapshot, dst, **{name: value})
        message = str(err.value)
        assert f'"{value}"' in message or name == "description", message  # names the value
        assert hint in message, message  # and says how to fix it
        assert not dst.exists(), "a rejected render must leave nothing behind"


def test_every_asked_question_has_help_type_and_default_or_placeholder(
    questions: dict[str, dict[str, Any]],
) -> None:
    for name, spec in questions.items():
        assert spec.get("type"), f"{name} has no type"
        assert spec.get("help"), f"{name} has no help"
        assert "default" in spec or "placeholder" in spec, (
            f"{name} has neither default nor placeholder"
        )


def test_identifiers_have_validators(questions: dict[str, dict[str, Any]]) -> None:
    for name, spec in questions.items():
        if spec.get("when") is False or "choices" in spec:
            continue
        assert "validator" in spec or spec["type"] == "bool", f"{name} is asked but never validated"


def test_region_list_matches_botocore(questions: dict[str, dict[str, Any]]) -> None:
    listed = set(re.findall(r"'([a-z]{2}(?:-[a-z]+)+-\d)'", questions["aws_region"]["validator"]))
    # The partitions the suite builds ARNs for (DESIGN.md); the isolated and sovereign
    # partitions cannot reach GitHub, which every generated repository needs.
    session = boto3.session.Session()
    known = {
        region
        for partition in ("aws", "aws-us-gov", "aws-cn")
        for region in session.get_available_regions("sagemaker", partition_name=partition)
    }
    assert {"us-gov-west-1", "us-gov-east-1", "cn-north-1", "cn-northwest-1"} <= known
    assert listed, "no regions found in the aws_region validator"
    assert listed <= known, f"not SageMaker regions: {sorted(listed - known)}"
    missing = known - listed
    assert not missing, f"SageMaker regions the validator rejects: {sorted(missing)}"


def test_kinds_are_one_list(questions: dict[str, dict[str, Any]]) -> None:
    offered = rendering.kinds()
    spec = importlib.util.spec_from_file_location("noxfile", ROOT / "noxfile.py")
    assert spec
    assert spec.loader
    noxfile = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(noxfile)
    assert offered == noxfile.KINDS, "noxfile's kind parser disagrees with copier.yml"
    dirs = sorted(
        p.name
        for p in (ROOT / "repo-templates").iterdir()
        if p.is_dir() and not p.name.startswith("_")
    )
    assert sorted(offered) == dirs, (
        "every kind needs repo-templates/<kind> and every folder a choice"
    )
    for kind in offered:
        assert kinds.answer_sets(kind), f"no answer sets for {kind}"
        assert (ROOT / "copier" / "questions" / f"{kind}.yml").is_file()


def test_python_versions_come_from_pyproject(questions: dict[str, dict[str, Any]]) -> None:
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    classified = [
        c.rsplit(" :: ", 1)[1] for c in meta["classifiers"] if re.search(r"Python :: 3\.\d+$", c)
    ]
    assert questions["python_version"]["choices"] == classified


def test_kind_questions_only_show_for_their_kind() -> None:
    for kind in rendering.kinds():
        text = (ROOT / "copier" / "questions" / f"{kind}.yml").read_text(encoding="utf-8")
        names = re.findall(r"^([a-z_]+):", text, flags=re.MULTILINE)
        whens = re.findall(r"^\s+when:\s*(.+)$", text, flags=re.MULTILINE)
        assert len(names) == len(whens), f"every {kind} question needs a when"
        for when in whens:
            assert when.strip() == "false" or f"repo_kind == '{kind}'" in when, when


def test_copier_settings() -> None:
    text = (ROOT / "copier.yml").read_text(encoding="utf-8").split("\n---", 1)[0]
    settings = yaml.safe_load(text)
    assert settings["_subdirectory"] == "repo-templates/{{ repo_kind }}"
    assert {".git", "__pycache__", "copier.yml"} <= set(settings["_exclude"])
    assert settings["_min_copier_version"]
    assert settings["_answers_file"] == ".copier-answers.yml"
    assert "_tasks" not in settings, "tasks force --trust"


def test_derived_answers_and_recorded_answers(suite_snapshot: Path, tmp_path: Path) -> None:
    answers = render(
        suite_snapshot, tmp_path / "r", project_name="fraud-detector", aws_region="us-east-2"
    )
    assert answers["_commit"] == "v0.0.0-test"
    assert answers["_src_path"] == str(suite_snapshot)
    for name, value in BASE.items():
        if name != "project_name":
            assert answers[name] == value
    # computed values are never recorded, so `copier update` re-derives them
    assert "module_name" not in answers
    assert "artifact_bucket_name" not in answers
    assert answers["preprod_account_id"] == BASE["dev_account_id"]


def test_answers_rewritten_for_bundled_render(suite_snapshot: Path, tmp_path: Path) -> None:
    answers = rendering.render(
        tmp_path / "r",
        BASE,
        template=str(suite_snapshot),
        src_url="https://example.invalid/suite.git",
        commit="v9.9.9",
    )
    recorded = rendering.load_answers_file(tmp_path / "r")
    assert recorded["_src_path"] == answers["_src_path"] == "https://example.invalid/suite.git"
    assert recorded["_commit"] == "v9.9.9"
    assert recorded["project_name"] == BASE["project_name"]


@pytest.mark.parametrize("answers_file", sorted(p.stem for p in ANSWERS_DIR.glob("*.yml")))
def test_every_answer_set_renders_without_leftovers(
    suite_snapshot: Path, tmp_path: Path, answers_file: str
) -> None:
    data = load_answer_set(answers_file)
    rendering.render(tmp_path / "r", data, template=str(suite_snapshot))
    files = [p for p in (tmp_path / "r").rglob("*") if p.is_file()]
    assert files
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        assert "{%" not in text, f"unrendered Jinja in {path}"
        assert "{{" not in text.replace("${{", ""), f"unrendered Jinja in {path}"
        assert not path.name.endswith(".jinja"), path


def test_cli_render_reports_bad_answers(
    tmp_path: Path, suite_snapshot: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from mlops_suite import cli

    bad = tmp_path / "bad.yml"
    bad.write_text(f"repo_kind: {FIRST_KIND}\nproject_name: Bad Name\n", encoding="utf-8")
    code = cli.main(
        ["render", "--template", str(suite_snapshot), "--answers", str(bad), str(tmp_path / "out")]
    )
    assert code == 2
    assert 'Invalid project name "Bad Name"' in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_a_training_image_with_spot_training_is_rejected_with_the_fix(tmp_path: Path) -> None:
    """The byoc training image does not resume from checkpoints: the pair names the way out."""
    snapshot = rendering.snapshot(tmp_path / "suite")
    image = load_answer_set("model-training-with-byoc-image")["training_image_uri"]
    dst = tmp_path / "bad"
    with pytest.raises(rendering.RenderError) as err:
        render(snapshot, dst, training_image_uri=image, use_spot_training=True)
    message = str(err.value)
    assert f'Training image "{image}" with spot training' in message
    assert "answer use_spot_training=false, or leave training_image_uri empty" in message
    assert not dst.exists()
    render(snapshot, tmp_path / "good", training_image_uri=image, use_spot_training=False)
