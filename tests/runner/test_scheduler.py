"""The scheduler and the small steps: order, DependsOn, conditions, Fail, registry, values."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from local_run import RUNNERS, LocalRunError, PipelineFailed, RunContext, step_runner
from local_run.steps.register import run_register
from runner_support import BUCKET, REGION, Runner, put


def record(name: str, value: Any = None, depends: list[str] | None = None) -> dict[str, Any]:
    """A step of the test-only type Record, which returns its Value as a property."""
    found: dict[str, Any] = {"Name": name, "Type": "Record", "Arguments": {"Value": value}}
    if depends:
        found["DependsOn"] = depends
    return found


@pytest.fixture(autouse=True)
def record_type() -> Any:
    """Register a step type from outside the runner: no scheduler edit needed."""

    @step_runner("Record")
    def run_record(context: RunContext, step: dict[str, Any]) -> dict[str, Any]:
        return {"Value": context.resolve(step["Arguments"]["Value"])}

    yield
    del RUNNERS["Record"]


def pipeline(*steps: dict[str, Any], parameters: list[dict[str, Any]] | None = None) -> Any:
    return {"Version": "2020-12-01", "Parameters": parameters or [], "Steps": list(steps)}


def test_a_registered_step_type_runs_in_data_and_depends_on_order(runner: Runner) -> None:
    steps = (
        record("C", {"Get": "Steps.B.Value"}),
        record("B", "b", depends=["A"]),
        record("A", {"Get": "Execution.PipelineExecutionId"}),
    )
    result = runner(pipeline(*steps)).run()
    assert result.executed == ["A", "B", "C"]
    assert result.properties["A"]["Value"] == result.execution_id
    assert result.properties["C"] == {"Value": "b"}


def test_depends_on_an_unknown_step_is_named(runner: Runner) -> None:
    with pytest.raises(LocalRunError, match=r"step B: DependsOn names unknown steps \['Nope'\]"):
        runner(pipeline(record("B", 1, depends=["Nope"]))).run()


def test_steps_waiting_on_each_other_are_named(runner: Runner) -> None:
    steps = (record("A", 1, depends=["B"]), record("B", 2, depends=["A"]))
    with pytest.raises(LocalRunError, match=r"steps wait on steps that never run: \{'A': \['B'\]"):
        runner(pipeline(*steps)).run()


def test_unknown_step_types_are_refused_by_name(runner: Runner) -> None:
    odd = {"Name": "Shell", "Type": "EMR", "Arguments": {}}
    with pytest.raises(LocalRunError, match=r"step Shell has type EMR, which the local run does"):
        runner(pipeline(odd)).run()


def test_step_fields_beyond_the_step_model_are_refused(runner: Runner) -> None:
    retried = record("A", 1) | {"RetryPolicies": [{"ExceptionType": ["Step.THROTTLING"]}]}
    assert runner(pipeline(retried)).run().executed == ["A"]
    odd = record("B", 1) | {"Timeout": "PT1H"}
    with pytest.raises(LocalRunError, match=r"step B: field Timeout is not something"):
        runner(pipeline(odd)).run()


def test_duplicate_step_names_are_refused(runner: Runner) -> None:
    with pytest.raises(LocalRunError, match=r"step names \['A'\] are used more than once"):
        runner(pipeline(record("A"), record("A")))


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"Nope": "1"}, r"unknown pipeline parameter\(s\) \['Nope'\]: use one of \['Count'"),
        ({"Count": "many"}, r"pipeline parameter Count='many' is not a Integer"),
        ({"Flag": "maybe"}, r"pipeline parameter Flag='maybe' is not a Boolean"),
    ],
)
def test_parameters_are_checked(runner: Runner, overrides: dict[str, str], message: str) -> None:
    parameters = [
        {"Name": "Count", "Type": "Integer", "DefaultValue": 1},
        {"Name": "Flag", "Type": "Boolean", "DefaultValue": False},
    ]
    with pytest.raises(LocalRunError, match=message):
        runner(pipeline(record("A"), parameters=parameters), parameters=overrides)


def test_values_the_runner_cannot_compute_are_named(runner: Runner) -> None:
    with pytest.raises(LocalRunError, match=r"does not implement function Std:Other"):
        runner(pipeline(record("A", {"Std:Other": {}}))).run()
    with pytest.raises(LocalRunError, match=r"no execution variable 'Mystery'"):
        runner(pipeline(record("A", {"Get": "Execution.Mystery"}))).run()
    with pytest.raises(LocalRunError, match=r"does not provide Steps.A.Value.Deep"):
        runner(pipeline(record("A", 1), record("B", {"Get": "Steps.A.Value.Deep"}))).run()


def test_json_get_reads_an_s3_object(runner: Runner) -> None:
    put(f"s3://{BUCKET}/reports/r.json", '{"a": {"b": [5, 6]}}')
    value = {
        "Std:JsonGet": {
            "S3Uri": {"Std:Join": {"On": "/", "Values": [f"s3://{BUCKET}", "reports/r.json"]}},
            "Path": "a.b[1]",
        }
    }
    assert runner(pipeline(record("A", value))).run().properties["A"]["Value"] == 6


def condition_step(condition: dict[str, Any]) -> dict[str, Any]:
    return {
        "Name": "Check",
        "Type": "Condition",
        "Arguments": {
            "Conditions": [condition],
            "IfSteps": [record("Yes", True)],
            "ElseSteps": [record("No", False)],
        },
    }


def compare(kind: str, left: Any, right: Any) -> dict[str, Any]:
    return {"Type": kind, "LeftValue": left, "RightValue": right}


SCORE = {"Get": "Steps.Score.Value"}
CONDITIONS = [
    (compare("Equals", SCORE, 0.8), True),
    (compare("Equals", SCORE, 0.7), False),
    (compare("GreaterThan", SCORE, 0.7), True),
    (compare("GreaterThan", SCORE, 0.8), False),
    (compare("GreaterThanOrEqualTo", SCORE, 0.8), True),
    (compare("GreaterThanOrEqualTo", SCORE, 0.9), False),
    (compare("LessThan", SCORE, 0.9), True),
    (compare("LessThan", SCORE, 0.8), False),
    (compare("LessThanOrEqualTo", SCORE, {"Get": "Parameters.Limit"}), True),
    (compare("LessThanOrEqualTo", SCORE, 0.5), False),
    ({"Type": "Not", "Expression": compare("LessThan", SCORE, 0.5)}, True),
    ({"Type": "Not", "Expression": compare("Equals", SCORE, 0.8)}, False),
    (
        {"Type": "Or", "Conditions": [compare("Equals", SCORE, 1), compare("Equals", SCORE, 0.8)]},
        True,
    ),
    ({"Type": "Or", "Conditions": [compare("Equals", SCORE, 1)]}, False),
    ({"Type": "In", "QueryValue": {"Get": "Parameters.Stage"}, "Values": ["dev", "prod"]}, True),
    ({"Type": "In", "QueryValue": "test", "Values": ["dev", {"Get": "Parameters.Stage"}]}, False),
]


@pytest.mark.parametrize(("condition", "outcome"), CONDITIONS)
def test_every_condition_operator(runner: Runner, condition: dict[str, Any], outcome: bool) -> None:
    parameters: list[dict[str, Any]] = [
        {"Name": "Limit", "Type": "Float", "DefaultValue": 0.8},
        {"Name": "Stage", "Type": "String", "DefaultValue": "dev"},
    ]
    document = pipeline(record("Score", 0.8), condition_step(condition), parameters=parameters)
    result = runner(document).run()
    assert result.properties["Check"] == {"Outcome": outcome}
    assert result.executed == ["Score", "Check", "Yes" if outcome else "No"]


def test_conditions_name_what_they_cannot_evaluate(runner: Runner) -> None:
    unknown = condition_step({"Type": "Matches", "LeftValue": 1, "RightValue": 1})
    with pytest.raises(LocalRunError, match=r"step Check: condition type Matches is not one"):
        runner(pipeline(unknown)).run()
    mixed = condition_step(compare("GreaterThan", "high", 1))
    with pytest.raises(LocalRunError, match=r"step Check: condition GreaterThan compares 'high'"):
        runner(pipeline(mixed)).run()


def test_a_step_in_the_branch_not_taken_never_runs(runner: Runner) -> None:
    document = pipeline(
        record("Score", 0.1),
        condition_step(compare("GreaterThan", SCORE, 0.5)),
        record("After", 1, depends=["Yes"]),
    )
    with pytest.raises(LocalRunError, match=r"\{'After': \['Yes'\]\}"):
        runner(document).run()


def test_fail_step_stops_the_run_with_its_message(runner: Runner) -> None:
    fail = {
        "Name": "Stop",
        "Type": "Fail",
        "Arguments": {"ErrorMessage": {"Std:Join": {"On": " ", "Values": ["got", SCORE]}}},
    }
    run = runner(pipeline(record("Score", 0.1), fail, record("Later", 1, depends=["Stop"])))
    with pytest.raises(PipelineFailed, match=r"step Stop failed the pipeline: got 0.1"):
        run.run()
    assert run.result.failure == "got 0.1"
    assert "Later" not in run.result.executed


REGISTER = {
    "Name": "Register-RegisterModel",
    "Type": "RegisterModel",
    "Arguments": {
        "ModelPackageGroupName": "runner-test-models",
        "ModelApprovalStatus": "PendingManualApproval",
        "InferenceSpecification": {
            "Containers": [
                {"Image": "1.dkr.ecr.us-east-1.amazonaws.com/x:1", "ModelDataUrl": "s3://b/m"}
            ],
            "SupportedContentTypes": ["text/csv"],
            "SupportedResponseMIMETypes": ["text/csv"],
        },
        "ModelMetrics": {
            "ModelQuality": {
                "Statistics": {"ContentType": "application/json", "S3Uri": f"s3://{BUCKET}/r.json"}
            },
            "Bias": {},
        },
    },
}


def test_register_model_creates_the_group_and_a_pending_package(runner: Runner) -> None:
    result = runner(pipeline(REGISTER)).run()
    arn = result.model_package_arn
    assert arn is not None
    assert result.properties["Register-RegisterModel"]["ModelPackageArn"] == arn
    sm = boto3.client("sagemaker", region_name=REGION)
    package = sm.describe_model_package(ModelPackageName=arn)
    assert package["ModelPackageGroupName"] == "runner-test-models"
    assert package["ModelApprovalStatus"] == "PendingManualApproval"
    assert set(package["ModelMetrics"]) == {"ModelQuality"}  # the SDK's empty sections dropped


class ForgetfulRegistry:
    """A registry that accepts a package but drops its metrics, as an incomplete mock might."""

    meta = type("Meta", (), {"endpoint_url": "https://forgetful.example"})()

    def describe_model_package_group(self, **_: Any) -> dict[str, Any]:
        return {}

    def create_model_package(self, **_: Any) -> dict[str, Any]:
        return {"ModelPackageArn": "arn:aws:sagemaker:r:1:model-package/g/1"}

    def describe_model_package(self, **_: Any) -> dict[str, Any]:
        return {"ModelPackageGroupName": "runner-test-models"}


def test_registration_fails_loudly_when_the_registry_drops_a_field(runner: Runner) -> None:
    run = runner(pipeline())
    run.context.sagemaker = ForgetfulRegistry()
    with pytest.raises(LocalRunError, match=r"forgetful.example did not keep ModelApprovalStatus"):
        run_register(run.context, REGISTER)


def test_bad_cache_expiry_is_named(runner: Runner, tmp_path: Any) -> None:
    processing = {
        "Name": "P",
        "Type": "Processing",
        "Arguments": {},
        "CacheConfig": {"Enabled": True, "ExpireAfter": "30 days"},
    }
    (tmp_path / "cache").mkdir()
    run = runner(pipeline(processing), cache_dir=tmp_path / "cache")
    key = run.cache.key(processing)
    assert key is not None
    (tmp_path / "cache" / f"{key}.json").write_text('{"stored_at": 0}')
    with pytest.raises(LocalRunError, match=r"CacheConfig ExpireAfter '30 days'"):
        run.run()
