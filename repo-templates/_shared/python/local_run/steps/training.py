"""Training jobs: script mode (a framework container runs the repo's script) and image-only.

Image-only jobs follow SageMaker's container contract: the image's `train` program runs with
the config files, channels and model folder in place (under $OPT_ML), and its failure reason
is read from /opt/ml/output/failure. Several instances run as several local processes when
the run allows it, each host seeing its ShardedByS3Key share of a channel.
"""

from __future__ import annotations

import shutil
import tarfile
from pathlib import Path
from typing import Any

from .. import fields, hyperparameters
from ..container import Layout, base_env, hp_arguments, resource_config, toolkit_env, write_config
from ..context import RunContext
from ..errors import LocalRunError
from ..fields import ANY
from ..jobs import Host, Process, command, hosts, program_argv, reroot, run_all
from ..registry import step_runner
from ..storage import parse_s3_url

S3_SOURCE = {
    "S3DataType": ("S3Prefix",),
    "S3Uri": ANY,
    "S3DataDistributionType": ("FullyReplicated", "ShardedByS3Key"),
}
SCHEMA: fields.Schema = {
    "AlgorithmSpecification": {
        "TrainingImage": ANY,
        "TrainingInputMode": ("File",),
        "EnableSageMakerMetricsTimeSeries": ANY,
        "MetricDefinitions": ANY,
        "ContainerEntrypoint": ANY,
        "ContainerArguments": ANY,
    },
    "OutputDataConfig": {"S3OutputPath": ANY, "KmsKeyId": ANY, "CompressionType": ("GZIP",)},
    "ResourceConfig": {
        "InstanceCount": ANY,
        "InstanceType": ANY,
        "VolumeSizeInGB": ANY,
        "VolumeKmsKeyId": ANY,
        "KeepAlivePeriodInSeconds": ANY,
    },
    "StoppingCondition": {
        "MaxRuntimeInSeconds": ANY,
        "MaxWaitTimeInSeconds": ANY,
        "MaxPendingTimeInSeconds": ANY,
    },
    "InputDataConfig": {
        "ChannelName": ANY,
        "DataSource": {"S3DataSource": S3_SOURCE},
        "ContentType": ANY,
        "CompressionType": ("None",),
        "RecordWrapperType": ("None",),
        "InputMode": ("File",),
    },
    "CheckpointConfig": {"S3Uri": ANY, "LocalPath": ANY},
    "HyperParameters": ANY,
    "Environment": ANY,
    # Where and how the job would run in the cloud; a local process has nothing to do there.
    "RoleArn": ANY,
    "VpcConfig": ANY,
    "EnableNetworkIsolation": ANY,
    "EnableInterContainerTrafficEncryption": ANY,
    "EnableManagedSpotTraining": ANY,
    "RetryStrategy": ANY,
    "ExperimentConfig": ANY,
    "Tags": ANY,
    # Debugger tensors and profiler system metrics are collected in the cloud; the rule jobs
    # that would judge them (DebugRuleConfigurations, ProfilerRuleConfigurations) are refused.
    "DebugHookConfig": ANY,
    "ProfilerConfig": ANY,
}


def _outputs(properties: dict[str, Any]) -> list[str]:
    return [properties["ModelArtifacts"]["S3ModelArtifacts"]]


@step_runner("Training", outputs=_outputs)
def run_training(context: RunContext, step: dict[str, Any]) -> dict[str, Any]:
    """Run a training job's program once per host, then store its model as SageMaker does."""
    name = step["Name"]
    args = context.resolve(step["Arguments"])
    fields.check(name, args, SCHEMA)
    algorithm = fields.require(name, args, "AlgorithmSpecification")
    output_path = fields.require(name, args, "OutputDataConfig")["S3OutputPath"]
    resources = fields.require(name, args, "ResourceConfig")
    hps = hyperparameters.parse(name, args.get("HyperParameters", {}))
    job = context.job_name(name)
    job_hosts = hosts(
        name,
        "ResourceConfig.InstanceCount",
        resources.get("InstanceCount", 1),
        context.job_dir(name),
        context.options.multi_host,
    )
    instance_type = str(resources.get("InstanceType", "local"))
    code = _fetch_code(context, name, hps) if hps.script_mode else None
    image_dir = None if hps.script_mode else _image_dir(context, name, algorithm)
    checkpoint = args.get("CheckpointConfig")
    processes = []
    for host in job_hosts:
        layout = Layout(host)
        channels = _channels(context, name, args.get("InputDataConfig", []), host, job_hosts)
        resources_json = resource_config(host, job_hosts, instance_type)
        write_config(layout, hps.raw, channels, resources_json)
        env = {
            **{k: str(v) for k, v in args.get("Environment", {}).items()},
            **base_env(layout, job),
            "SM_NUM_GPUS": str(context.options.gpus()),
        }
        if hps.region:
            env.update(AWS_REGION=hps.region, AWS_DEFAULT_REGION=hps.region)
        if checkpoint:
            _restore_checkpoints(context, host, checkpoint)
        if code is not None:
            shutil.copytree(code, layout.code, dirs_exist_ok=True)
            argv = _script_mode(context, hps, layout, resources_json, list(channels), env, job)
            cwd = layout.code
        else:
            assert image_dir is not None
            argv = _image_argv(name, algorithm, image_dir, context.options.python, host)
            cwd = host.root
        processes.append(
            Process(host, argv, cwd, env, host.root / "job.log", failure_file=layout.failure)
        )
    timeout = args.get("StoppingCondition", {}).get("MaxRuntimeInSeconds")
    run_all(name, processes, timeout=float(timeout) if timeout else None)
    if checkpoint:
        for host in job_hosts:
            _save_checkpoints(context, host, checkpoint)
    return _store_outputs(context, name, job, output_path, job_hosts)


def _script_mode(
    context: RunContext,
    hps: hyperparameters.Hyperparameters,
    layout: Layout,
    resources: dict[str, Any],
    channels: list[str],
    env: dict[str, str],
    job: str,
) -> list[str]:
    """Add the training toolkit's SM_* variables to `env`; return the script's command."""
    assert hps.program is not None
    user_hps = {k: reroot(layout.host.root, v) for k, v in hps.user.items()}
    extra: dict[str, Any] = {"job_name": hps.job_name or job, "module_name": hps.program}
    if hps.log_level is not None:
        env["SM_LOG_LEVEL"] = str(hps.log_level)
        extra["log_level"] = hps.log_level
    env.update(toolkit_env(layout, resources, channels, user_hps, context.options.gpus(), extra))
    env["SM_MODULE_NAME"] = env["SM_USER_ENTRY_POINT"] = hps.program
    program = layout.code / hps.program
    launcher = [context.options.python] if program.suffix == ".py" else ["/bin/sh"]
    return [*launcher, str(program), *hp_arguments(user_hps)]


def _fetch_code(context: RunContext, name: str, hps: hyperparameters.Hyperparameters) -> Path:
    """Download and unpack sagemaker_submit_directory once for all hosts."""
    assert hps.submit_directory is not None
    if not hps.submit_directory.startswith("s3://"):
        raise LocalRunError(
            f"step {name}: HyperParameters.sagemaker_submit_directory is "
            f"{hps.submit_directory!r}: the local run reads staged code from s3:// only"
        )
    root = context.job_dir(name)
    bundle = root / "sourcedir.tar.gz"
    context.storage.download_file(hps.submit_directory, bundle)
    code = root / "sourcedir"
    with tarfile.open(bundle) as tar:
        tar.extractall(code, filter="data")
    assert hps.program is not None
    if not (code / hps.program).is_file():
        raise LocalRunError(
            f"step {name}: HyperParameters.sagemaker_program {hps.program!r} is not in "
            f"{hps.submit_directory}"
        )
    if Path(hps.program).suffix not in (".py", ".sh"):
        raise LocalRunError(
            f"step {name}: HyperParameters.sagemaker_program {hps.program!r} is neither a .py "
            "nor a .sh script"
        )
    return code


def _image_dir(context: RunContext, name: str, algorithm: dict[str, Any]) -> Path:
    image = fields.require(name, algorithm, "TrainingImage", "Arguments.AlgorithmSpecification")
    found = context.options.image_dir(str(image))
    if found is None:
        raise LocalRunError(
            f"step {name}: AlgorithmSpecification.TrainingImage {image} is image-only (no "
            "sagemaker_program): map it to the folder holding its `train` program "
            "(LocalPipelineRun images={uri: folder})"
        )
    return found


def _image_argv(
    name: str, algorithm: dict[str, Any], image_dir: Path, python: str, host: Host
) -> list[str]:
    """The container's command: its ContainerEntrypoint and arguments, else `train`."""
    entry = algorithm.get("ContainerEntrypoint")
    arguments = [str(a) for a in algorithm.get("ContainerArguments", [])]
    if entry:
        field_name = "AlgorithmSpecification.ContainerEntrypoint"
        return command(name, field_name, [*entry, *arguments], python, image_dir, host.root)
    program = image_dir / "train"
    if not program.is_file():
        raise LocalRunError(
            f"step {name}: AlgorithmSpecification.TrainingImage maps to {image_dir}, which has "
            "no `train` program: add it there"
        )
    return [*program_argv(program, python), *(str(reroot(host.root, a)) for a in arguments)]


def _channels(
    context: RunContext,
    name: str,
    config: list[dict[str, Any]],
    host: Host,
    job_hosts: list[Host],
) -> dict[str, dict[str, Any]]:
    """Download each channel for `host` (its shard, when sharded); return inputdataconfig."""
    described = {}
    for channel in config:
        channel_name = fields.require(name, channel, "ChannelName", "Arguments.InputDataConfig[]")
        source = channel["DataSource"]["S3DataSource"]
        distribution = source.get("S3DataDistributionType", "FullyReplicated")
        shard = (host.index, len(job_hosts)) if distribution == "ShardedByS3Key" else (0, 1)
        target = Layout(host).data / channel_name
        try:
            context.storage.download(source["S3Uri"], target, shard)
        except LocalRunError as exc:
            raise LocalRunError(f"step {name}: channel {channel_name}: {exc}") from exc
        described[channel_name] = {
            "TrainingInputMode": channel.get("InputMode", "File"),
            "S3DistributionType": distribution,
            "RecordWrapperType": channel.get("RecordWrapperType", "None"),
            **({"ContentType": channel["ContentType"]} if "ContentType" in channel else {}),
        }
    return described


def _checkpoint_dir(host: Host, checkpoint: dict[str, Any]) -> Path:
    return Path(reroot(host.root, checkpoint.get("LocalPath", "/opt/ml/checkpoints")))


def _restore_checkpoints(context: RunContext, host: Host, checkpoint: dict[str, Any]) -> None:
    local = _checkpoint_dir(host, checkpoint)
    local.mkdir(parents=True, exist_ok=True)
    if context.storage.exists(checkpoint["S3Uri"]):
        context.storage.download(checkpoint["S3Uri"], local)


def _save_checkpoints(context: RunContext, host: Host, checkpoint: dict[str, Any]) -> None:
    context.storage.upload(_checkpoint_dir(host, checkpoint), checkpoint["S3Uri"])


def _store_outputs(
    context: RunContext, name: str, job: str, output_path: str, job_hosts: list[Host]
) -> dict[str, Any]:
    """Pack /opt/ml/model (and /opt/ml/output/data) as model.tar.gz (and output.tar.gz).

    With several hosts every host's model folder goes in, algo-1's last so that it wins where
    two hosts wrote the same file (distributed scripts save on the first host).
    """
    parse_s3_url(output_path)
    prefix = f"{output_path.rstrip('/')}/{job}/output"
    root = context.job_dir(name)
    urls = {}
    for kind, folder in (("model", "model"), ("output", "output/data")):
        archive = root / f"{kind}.tar.gz"
        with tarfile.open(archive, "w:gz") as tar:
            for host in reversed(job_hosts):
                base = host.ml / folder
                for path in sorted(base.rglob("*")) if base.is_dir() else []:
                    if path.is_file():
                        tar.add(path, arcname=path.relative_to(base).as_posix())
        if kind == "model" or any(
            p.is_file() for h in job_hosts for p in (h.ml / folder).rglob("*")
        ):
            urls[kind] = f"{prefix}/{kind}.tar.gz"
            context.storage.upload_file(archive, urls[kind])
    properties: dict[str, Any] = {
        "TrainingJobName": job,
        "TrainingJobStatus": "Completed",
        "ModelArtifacts": {"S3ModelArtifacts": urls["model"]},
        "OutputDataConfig": {"S3OutputPath": output_path},
    }
    return properties
