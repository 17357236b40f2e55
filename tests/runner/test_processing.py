"""Processing steps, property files, conditions on them, and what a failing job leaves behind."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from local_run import LocalRunError, PipelineFailed, StepFailed
from runner_support import BUCKET, Runner, definition, get, keys, put, s3, script, step

PREPARE = script(
    """
    import argparse, csv, json, os
    from pathlib import Path

    parser = argparse.ArgumentParser()
    parser.add_argument("--input-dir")
    parser.add_argument("--output-dir")
    args = parser.parse_args()
    rows = list(csv.reader(open(Path(args.input_dir) / "data.csv")))
    out = Path(args.output_dir)
    with open(out / "table" / "doubled.csv", "w", newline="") as f:
        csv.writer(f).writerows([[int(v) * 2 for v in row] for row in rows])
    score = sum(int(v) for row in rows for v in row) / 10
    report = {"metrics": {"score": {"value": score}}, "greeting": os.environ["GREETING"],
              "root": os.environ["OPT_ML"]}
    (out / "report" / "report.json").write_text(json.dumps(report))
    """
)


def stage(data: str = "1,2\n3,4\n", program: str = PREPARE) -> None:
    put(f"s3://{BUCKET}/input/data.csv", data)
    put(f"s3://{BUCKET}/code/prepare.py", program)


def test_processing_runs_the_script_with_its_inputs_and_uploads_outputs(runner: Runner) -> None:
    stage()
    run = runner(definition("processing"))
    result = run.run()
    assert result.executed == ["Prepare", "CheckScore"]
    assert get(f"s3://{BUCKET}/prepared/table/doubled.csv").decode().split() == ["2,4", "6,8"]
    report = json.loads(get(f"s3://{BUCKET}/prepared/report/report.json"))
    assert report["greeting"] == "hello"
    assert report["root"] == str(result.workdir / "Prepare" / "opt" / "ml")
    assert result.reports["Prepare.Report"] == report
    outputs = result.properties["Prepare"]["ProcessingOutputConfig"]["Outputs"]
    assert outputs["table"]["S3Output"]["S3Uri"] == f"s3://{BUCKET}/prepared/table"
    assert result.properties["CheckScore"] == {"Outcome": True}


def test_a_condition_on_a_property_file_reaches_the_fail_step(runner: Runner) -> None:
    stage()
    run = runner(definition("processing"), parameters={"ScoreThreshold": "1.0"})
    run.run()
    document = definition("processing")
    with pytest.raises(
        PipelineFailed, match=r"step ScoreTooLow failed the pipeline: score 1.0 is below 1.5"
    ):
        runner(document, parameters={"ScoreThreshold": "1.5"}).run()


def test_cached_processing_is_reused_until_its_outputs_go(runner: Runner, tmp_path: Path) -> None:
    stage()
    cache = tmp_path / "cache"
    first = runner(definition("processing"), cache_dir=cache).run()
    assert first.cached == []
    again = runner(definition("processing"), cache_dir=cache).run()
    assert again.cached == ["Prepare"]
    assert again.reports["Prepare.Report"] == first.reports["Prepare.Report"]
    assert not (again.workdir / "Prepare" / "opt").exists()  # the job did not run
    # A different input is a different key.
    other = runner(
        definition("processing"),
        cache_dir=cache,
        parameters={"InputDataUrl": f"s3://{BUCKET}/input/"},
    ).run()
    assert other.cached == []
    # Outputs deleted: the entry is stale and the job runs again.
    for key in keys(f"s3://{BUCKET}/prepared/"):
        s3().delete_object(Bucket=BUCKET, Key=key)
    assert runner(definition("processing"), cache_dir=cache).run().cached == []


def test_a_failing_job_names_its_exit_code_and_log_and_keeps_earlier_outputs(
    runner: Runner,
) -> None:
    stage()
    document = definition("processing")
    second = json.loads(json.dumps(step(document, "Prepare")))
    second["Name"] = "Crash"
    second.pop("PropertyFiles")
    second.pop("CacheConfig")
    app = second["Arguments"]["AppSpecification"]
    app["ContainerEntrypoint"] = ["python3", "/opt/ml/processing/input/code/crash.py"]
    second["Arguments"]["ProcessingInputs"][1]["S3Input"]["S3Uri"] = f"s3://{BUCKET}/code/crash.py"
    for output in second["Arguments"]["ProcessingOutputConfig"]["Outputs"]:
        output["S3Output"]["S3Uri"] += "-crash"
    second["DependsOn"] = ["Prepare"]
    document["Steps"] = [step(document, "Prepare"), second]
    put(f"s3://{BUCKET}/code/crash.py", "import sys\nprint('boom')\nsys.exit(3)\n")
    run = runner(document)
    with pytest.raises(
        StepFailed, match=r"step Crash exited with code 3; log .*Crash/job.log"
    ) as info:
        run.run()
    assert info.value.exit_code == 3
    assert "boom" in str(info.value)
    assert run.result.executed == ["Prepare", "Crash"]
    # The completed step's outputs stay; the failed step uploaded nothing.
    assert keys(f"s3://{BUCKET}/prepared/table/") == ["prepared/table/doubled.csv"]
    assert keys(f"s3://{BUCKET}/prepared/table-crash") == []


def test_missing_input_data_names_the_url(runner: Runner) -> None:
    put(f"s3://{BUCKET}/code/prepare.py", PREPARE)
    with pytest.raises(LocalRunError, match=r"step Prepare: input raw: nothing at s3://"):
        runner(definition("processing")).run()


def _edit(document: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """Set the field at a dotted path (numbers index lists) of the Prepare step's arguments."""
    target: Any = step(document, "Prepare")["Arguments"]
    parts = path.split(".")
    for part in parts[:-1]:
        target = target[int(part)] if part.isdigit() else target[part]
    target[parts[-1]] = value
    return document


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (
            "ProcessingInputs.0.S3Input.S3DataType",
            "ManifestFile",
            r"Arguments.ProcessingInputs\[0\].S3Input.S3DataType='ManifestFile' is not supported",
        ),
        (
            "ProcessingOutputConfig.Outputs.0.S3Output.S3UploadMode",
            "Continuous",
            r"S3UploadMode='Continuous' is not supported locally",
        ),
        (
            "ProcessingInputs.0.DatasetDefinition",
            {"AthenaDatasetDefinition": {}},
            r"field Arguments.ProcessingInputs\[0\].DatasetDefinition is not something",
        ),
        (
            "AppSpecification.ContainerEntrypoint",
            ["/usr/bin/spark-submit", "job.py"],
            r"ContainerEntrypoint runs /usr/bin/spark-submit: the local run runs Python",
        ),
        ("AppSpecification.ContainerEntrypoint", [], r"ContainerEntrypoint is missing"),
        (
            "ProcessingResources.ClusterConfig.InstanceCount",
            3,
            r"step Prepare: ProcessingResources.ClusterConfig.InstanceCount is 3; .*multi_host",
        ),
    ],
)
def test_processing_refuses_what_it_cannot_execute(
    runner: Runner, path: str, value: Any, message: str
) -> None:
    stage()
    run = runner(_edit(definition("processing"), path, value))
    with pytest.raises(LocalRunError, match=message):
        run.run()
    assert keys(f"s3://{BUCKET}/prepared/") == []


def test_several_processing_hosts_share_a_sharded_input(runner: Runner) -> None:
    for index in range(4):
        put(f"s3://{BUCKET}/parts/part-{index}.csv", f"{index},{index}\n")
    put(f"s3://{BUCKET}/code/count.py", COUNT)
    document = _edit(definition("processing"), "ProcessingInputs.0.S3Input.S3Uri", "s3://x/")
    document = _edit(document, "ProcessingResources.ClusterConfig.InstanceCount", 2)
    prepare = step(document, "Prepare")
    prepare.pop("PropertyFiles")
    raw = prepare["Arguments"]["ProcessingInputs"][0]["S3Input"]
    raw.update(S3Uri=f"s3://{BUCKET}/parts/", S3DataDistributionType="ShardedByS3Key")
    prepare["Arguments"]["ProcessingInputs"][1]["S3Input"]["S3Uri"] = f"s3://{BUCKET}/code/count.py"
    app = prepare["Arguments"]["AppSpecification"]
    app["ContainerEntrypoint"] = ["python3", "/opt/ml/processing/input/code/count.py"]
    document["Steps"] = [prepare]
    runner(document, multi_host=True).run()
    seen = {
        key.rsplit("/", 1)[-1]: json.loads(get(f"s3://{BUCKET}/{key}"))
        for key in keys(f"s3://{BUCKET}/prepared/report/")
    }
    assert seen == {
        "algo-1.json": {"hosts": ["algo-1", "algo-2"], "files": ["part-0.csv", "part-2.csv"]},
        "algo-2.json": {"hosts": ["algo-1", "algo-2"], "files": ["part-1.csv", "part-3.csv"]},
    }


COUNT = script(
    """
    import json, os, sys
    from pathlib import Path

    root = Path(os.environ["OPT_ML"])
    config = json.loads((root / "config" / "resourceconfig.json").read_text())
    files = sorted(p.name for p in (root / "processing" / "input" / "data").iterdir())
    out = root / "processing" / "output" / "report" / (config["current_host"] + ".json")
    out.write_text(json.dumps({"hosts": config["hosts"], "files": files}))
    """
)
