"""Training steps: script mode, image-only (the container contract), hosts, GPUs, refusals."""

from __future__ import annotations

import io
import json
import os
import sys
import tarfile
from pathlib import Path
from typing import Any

import pytest
from local_run import LocalRunError, StepFailed
from local_run.jobs import detected_gpus
from runner_support import (
    BUCKET,
    BYOC_IMAGE,
    Runner,
    definition,
    get,
    image_folder,
    keys,
    put,
    script,
    step,
    tar_gz,
)

TRAIN_SCRIPT = script(
    """
    import argparse, json, os
    from pathlib import Path

    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--learning_rate", type=float)
    parser.add_argument("--scratch")
    args = parser.parse_args()
    seen = {
        "args": vars(args),
        "cwd": os.getcwd(),
        "env": {k: v for k, v in os.environ.items()
                if k.startswith(("SM_", "TRAINING_JOB_NAME", "AWS_REGION", "OPT_ML"))},
        "train": sorted(os.listdir(os.environ["SM_CHANNEL_TRAIN"])),
        "validation": sorted(os.listdir(os.environ["SM_CHANNEL_VALIDATION"])),
    }
    host = os.environ["SM_CURRENT_HOST"]
    model = Path(os.environ["SM_MODEL_DIR"])
    (model / f"seen-{host}.json").write_text(json.dumps(seen))
    if host == "algo-1":
        (model / "model.txt").write_text("weights")
    Path(os.environ["SM_OUTPUT_DATA_DIR"], "metrics.txt").write_text("loss 0.1")
    """
)


def stage_training(parts: int = 2) -> None:
    put(f"s3://{BUCKET}/code/sourcedir.tar.gz", tar_gz({"train.py": TRAIN_SCRIPT}))
    for index in range(parts):
        put(f"s3://{BUCKET}/train/part-{index}.csv", f"{index}\n")
    put(f"s3://{BUCKET}/validation/all.csv", "v\n")


def model_files(url: str) -> dict[str, bytes]:
    with tarfile.open(fileobj=io.BytesIO(get(url))) as tar:
        return {
            m.name: tar.extractfile(m).read()  # type: ignore[union-attr]
            for m in tar.getmembers()
            if m.isfile()
        }


def test_script_mode_runs_the_entry_point_as_the_training_toolkit_does(runner: Runner) -> None:
    stage_training()
    result = runner(definition("training"), num_gpus=0).run()
    props = result.properties["Train"]
    url = props["ModelArtifacts"]["S3ModelArtifacts"]
    assert url == f"s3://{BUCKET}/models/{props['TrainingJobName']}/output/model.tar.gz"
    files = model_files(url)
    assert files["model.txt"] == b"weights"
    seen = json.loads(files["seen-algo-1.json"])
    job_root = result.workdir / "Train"
    # Hyperparameters arrive as --name value; container paths are re-rooted into the job folder.
    assert seen["args"] == {
        "epochs": 3,
        "learning_rate": 0.1,
        "scratch": f"{job_root}/opt/ml/output/data/scratch",
    }
    assert seen["cwd"] == str(job_root / "opt" / "ml" / "code")
    env = seen["env"]
    assert json.loads(env["SM_HPS"]) == seen["args"] | {"epochs": 3}
    assert json.loads(env["SM_HOSTS"]) == ["algo-1"]
    assert env["SM_CURRENT_HOST"] == "algo-1"
    assert env["SM_NUM_GPUS"] == "0"
    assert json.loads(env["SM_CHANNELS"]) == ["train", "validation"]
    assert env["SM_LOG_LEVEL"] == "20"  # sagemaker_container_log_level
    assert env["AWS_REGION"] == "us-east-1"  # sagemaker_region
    assert json.loads(env["SM_TRAINING_ENV"])["job_name"] == "train-2026-12-02"
    assert env["TRAINING_JOB_NAME"] == props["TrainingJobName"]
    assert env["OPT_ML"] == str(job_root / "opt" / "ml")
    assert seen["train"] == ["part-0.csv", "part-1.csv"]  # one host: every shard
    # /opt/ml/output/data is stored as output.tar.gz beside the model.
    output = url.replace("model.tar.gz", "output.tar.gz")
    assert model_files(output) == {"metrics.txt": b"loss 0.1"}


def test_several_hosts_run_as_processes_and_each_sees_its_shard(runner: Runner) -> None:
    stage_training(parts=5)
    result = runner(
        definition("training"), parameters={"TrainingInstanceCount": 2}, multi_host=True
    ).run()
    files = model_files(result.properties["Train"]["ModelArtifacts"]["S3ModelArtifacts"])
    first, second = (json.loads(files[f"seen-algo-{i}.json"]) for i in (1, 2))
    assert first["train"] == ["part-0.csv", "part-2.csv", "part-4.csv"]
    assert second["train"] == ["part-1.csv", "part-3.csv"]
    assert first["validation"] == second["validation"] == ["all.csv"]  # FullyReplicated
    for seen, host in ((first, "algo-1"), (second, "algo-2")):
        assert json.loads(seen["env"]["SM_HOSTS"]) == ["algo-1", "algo-2"]
        assert seen["env"]["SM_CURRENT_HOST"] == host
        resources = json.loads(seen["env"]["SM_RESOURCE_CONFIG"])
        assert resources["current_host"] == host
        assert resources["hosts"] == ["algo-1", "algo-2"]


def test_several_hosts_are_refused_unless_allowed(runner: Runner) -> None:
    stage_training()
    run = runner(definition("training"), parameters={"TrainingInstanceCount": 4})
    with pytest.raises(
        LocalRunError,
        match=r"step Train: ResourceConfig.InstanceCount is 4; .* run 4 local processes",
    ):
        run.run()
    assert keys(f"s3://{BUCKET}/models/") == []


def test_gpus_are_counted_on_this_machine(
    runner: Runner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without torch, SM_NUM_GPUS comes from `nvidia-smi -L`; with neither it is 0."""
    monkeypatch.setitem(sys.modules, "torch", None)  # importing torch now fails
    listing = 'print("GPU 0: NVIDIA H200 (UUID: a)")\nprint("GPU 1: NVIDIA H200 (UUID: b)")'
    fake = image_folder(tmp_path / "bin", {"nvidia-smi": listing})
    monkeypatch.setenv("PATH", f"{fake}{os.pathsep}{os.environ['PATH']}")
    detected_gpus.cache_clear()
    try:
        stage_training()
        result = runner(definition("training")).run()
    finally:
        detected_gpus.cache_clear()
    files = model_files(result.properties["Train"]["ModelArtifacts"]["S3ModelArtifacts"])
    assert json.loads(files["seen-algo-1.json"])["env"]["SM_NUM_GPUS"] == "2"
    monkeypatch.setenv("PATH", str(tmp_path / "nowhere"))
    assert detected_gpus() == 0
    detected_gpus.cache_clear()


BYOC_TRAIN = """
import json, os, sys
from pathlib import Path

root = Path(os.environ.get("OPT_ML", "/opt/ml"))
config = root / "input" / "config"
hps = json.loads((config / "hyperparameters.json").read_text())
channels = json.loads((config / "inputdataconfig.json").read_text())
resources = json.loads((config / "resourceconfig.json").read_text())
data = sorted(os.listdir(root / "input" / "data" / "train"))
if hps.get("mode") == "explode":
    (root / "output" / "failure").write_text("mode explode is not a training mode")
    sys.exit(7)
summary = {"argv": sys.argv[1:], "hps": hps, "channels": channels, "resources": resources,
           "data": data, "flavour": os.environ["BYOC_FLAVOUR"],
           "gpus": os.environ["SM_NUM_GPUS"]}
(root / "model" / (resources["current_host"] + ".json")).write_text(json.dumps(summary))
"""


def byoc(tmp_path: Path) -> dict[str, Path]:
    return {BYOC_IMAGE: image_folder(tmp_path / "byoc-image", {"train": BYOC_TRAIN})}


def test_image_only_training_follows_the_container_contract(runner: Runner, tmp_path: Path) -> None:
    stage_training(parts=3)
    result = runner(
        definition("image_training"),
        images=byoc(tmp_path),
        parameters={"TrainingInstanceCount": 2},
        multi_host=True,
        num_gpus=1,
    ).run()
    url = result.properties["TrainImage"]["ModelArtifacts"]["S3ModelArtifacts"]
    assert url.startswith(f"s3://{BUCKET}/byoc-models/")
    files = model_files(url)
    first = json.loads(files["algo-1.json"])
    second = json.loads(files["algo-2.json"])
    assert first["argv"] == []  # the contract runs `train`, no arguments
    assert first["hps"] == {"epochs": "2", "mode": "fast"}  # as strings, as SageMaker writes them
    assert first["channels"] == {
        "train": {
            "TrainingInputMode": "File",
            "S3DistributionType": "ShardedByS3Key",
            "RecordWrapperType": "None",
            "ContentType": "text/csv",
        }
    }
    assert first["resources"]["hosts"] == ["algo-1", "algo-2"]
    assert first["resources"]["current_instance_type"] == "ml.g5.xlarge"
    assert (first["data"], second["data"]) == (["part-0.csv", "part-2.csv"], ["part-1.csv"])
    assert first["flavour"] == "plain"  # the step's Environment
    assert first["gpus"] == "1"


def test_image_only_failure_names_exit_code_log_and_failure_reason(
    runner: Runner, tmp_path: Path
) -> None:
    stage_training()
    document = definition("image_training")
    step(document, "TrainImage")["Arguments"]["HyperParameters"]["mode"] = "explode"
    with pytest.raises(StepFailed) as info:
        runner(document, images=byoc(tmp_path)).run()
    message = str(info.value)
    assert "step TrainImage exited with code 7" in message
    assert "TrainImage/job.log" in message
    assert "mode explode is not a training mode" in message
    assert keys(f"s3://{BUCKET}/byoc-models/") == []


def test_image_only_training_needs_the_image_mapped(runner: Runner) -> None:
    stage_training()
    with pytest.raises(
        LocalRunError, match=r"step TrainImage: AlgorithmSpecification.TrainingImage .* images="
    ):
        runner(definition("image_training")).run()


def test_a_container_entrypoint_runs_from_the_image_folder(runner: Runner, tmp_path: Path) -> None:
    stage_training()
    document = definition("image_training")
    algorithm = step(document, "TrainImage")["Arguments"]["AlgorithmSpecification"]
    algorithm["ContainerEntrypoint"] = ["/usr/local/bin/train"]
    algorithm["ContainerArguments"] = ["--config", "/opt/ml/input/config"]
    result = runner(document, images=byoc(tmp_path)).run()
    url = result.properties["TrainImage"]["ModelArtifacts"]["S3ModelArtifacts"]
    argv = json.loads(model_files(url)["algo-1.json"])["argv"]
    assert argv == ["--config", f"{result.workdir}/TrainImage/opt/ml/input/config"]


def test_stopping_condition_stops_a_job_that_runs_too_long(runner: Runner, tmp_path: Path) -> None:
    stage_training()
    image = image_folder(tmp_path / "slow", {"train": "import time\ntime.sleep(30)\n"})
    document = definition("image_training")
    step(document, "TrainImage")["Arguments"]["StoppingCondition"]["MaxRuntimeInSeconds"] = 1
    with pytest.raises(StepFailed, match=r"ran past StoppingCondition.MaxRuntimeInSeconds \(1 s\)"):
        runner(document, images={BYOC_IMAGE: image}).run()


def _hyperparameters(document: dict[str, Any]) -> dict[str, str]:
    hps: dict[str, str] = step(document, "Train")["Arguments"]["HyperParameters"]
    return hps


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            {"sagemaker_estimator_class_name": '"XGBoost"'},
            r"HyperParameters.sagemaker_estimator_class_name is not something the local run",
        ),
        (
            {"sagemaker_mpi_enabled": "true"},
            r"HyperParameters.sagemaker_mpi_enabled is on; the local run does not start",
        ),
        (
            {"sagemaker_torch_distributed_enabled": "true"},
            r"HyperParameters.sagemaker_torch_distributed_enabled is on",
        ),
        (
            {"sagemaker_container_log_level": '"loud"'},
            r"sagemaker_container_log_level is 'loud': use a logging level number",
        ),
        (
            {"sagemaker_program": '"missing.py"'},
            r"HyperParameters.sagemaker_program 'missing.py' is not in s3://",
        ),
        (
            {"sagemaker_submit_directory": '"file:///tmp/code.tar.gz"'},
            r"sagemaker_submit_directory is 'file:///tmp/code.tar.gz'",
        ),
    ],
)
def test_sagemaker_hyperparameters_are_honoured_or_refused_by_name(
    runner: Runner, edit: dict[str, str], message: str
) -> None:
    stage_training()
    document = definition("training")
    _hyperparameters(document).update(edit)
    with pytest.raises(LocalRunError, match=message):
        runner(document).run()


def test_distribution_flags_that_are_off_are_accepted(runner: Runner) -> None:
    stage_training()
    document = definition("training")
    # What an estimator writes when its profiler is left on: collection only, no rule job.
    step(document, "Train")["Arguments"]["ProfilerConfig"] = {
        "S3OutputPath": f"s3://{BUCKET}/",
        "DisableProfiler": False,
    }
    _hyperparameters(document).update(
        sagemaker_mpi_enabled="false",
        sagemaker_distributed_dataparallel_enabled="false",
        sagemaker_instance_type='"ml.m5.large"',
    )
    assert runner(document).run().executed == ["Train"]


def test_a_program_without_its_code_is_refused(runner: Runner) -> None:
    stage_training()
    document = definition("training")
    del _hyperparameters(document)["sagemaker_submit_directory"]
    with pytest.raises(LocalRunError, match=r"comes without sagemaker_submit_directory"):
        runner(document).run()


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (
            ("AlgorithmSpecification", "TrainingInputMode"),
            "Pipe",
            r"Arguments.AlgorithmSpecification.TrainingInputMode='Pipe' is not supported locally",
        ),
        (
            ("AlgorithmSpecification", "AlgorithmName"),
            "arn:aws:sagemaker:us-east-1:123:algorithm/x",
            r"field Arguments.AlgorithmSpecification.AlgorithmName is not something",
        ),
        (
            ("ResourceConfig", "InstanceGroups"),
            [{"InstanceGroupName": "a"}],
            r"field Arguments.ResourceConfig.InstanceGroups",
        ),
        (
            ("ProfilerRuleConfigurations",),
            [{"RuleConfigurationName": "ProfilerReport", "RuleEvaluatorImage": "x"}],
            r"field Arguments.ProfilerRuleConfigurations is not something",
        ),
        (
            ("TensorBoardOutputConfig",),
            {"S3OutputPath": "s3://b/tb"},
            r"field Arguments.TensorBoardOutputConfig is not something",
        ),
    ],
)
def test_training_refuses_fields_it_cannot_execute(
    runner: Runner, path: tuple[str, ...], value: Any, message: str
) -> None:
    stage_training()
    document = definition("training")
    target = step(document, "Train")["Arguments"]
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    with pytest.raises(LocalRunError, match=f"step Train: {message}"):
        runner(document).run()


def test_a_channel_without_data_is_named(runner: Runner) -> None:
    stage_training()
    document = definition("training")
    channel = step(document, "Train")["Arguments"]["InputDataConfig"][1]
    channel["DataSource"]["S3DataSource"]["S3Uri"] = f"s3://{BUCKET}/empty/"
    with pytest.raises(LocalRunError, match=r"step Train: channel validation: nothing at s3://"):
        runner(document).run()
    channel["DataSource"] = {"FileSystemDataSource": {"FileSystemId": "fs-1"}}
    with pytest.raises(
        LocalRunError, match=r"InputDataConfig\[1\].DataSource.FileSystemDataSource"
    ):
        runner(document).run()
