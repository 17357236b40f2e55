"""Processing jobs: the container's command with its inputs downloaded and outputs uploaded."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .. import fields
from ..context import RunContext
from ..errors import LocalRunError
from ..fields import ANY
from ..jobs import OPT_ML_ENV, Process, command, hosts, reroot, run_all
from ..registry import step_runner

SCHEMA: fields.Schema = {
    "ProcessingResources": {
        "ClusterConfig": {
            "InstanceCount": ANY,
            "InstanceType": ANY,
            "VolumeSizeInGB": ANY,
            "VolumeKmsKeyId": ANY,
        }
    },
    "AppSpecification": {"ImageUri": ANY, "ContainerEntrypoint": ANY, "ContainerArguments": ANY},
    "ProcessingInputs": {
        "InputName": ANY,
        "AppManaged": (False,),
        "S3Input": {
            "S3Uri": ANY,
            "LocalPath": ANY,
            "S3DataType": ("S3Prefix",),
            "S3InputMode": ("File",),
            "S3DataDistributionType": ("FullyReplicated", "ShardedByS3Key"),
            "S3CompressionType": ("None",),
        },
    },
    "ProcessingOutputConfig": {
        "Outputs": {
            "OutputName": ANY,
            "AppManaged": (False,),
            "S3Output": {"S3Uri": ANY, "LocalPath": ANY, "S3UploadMode": ("EndOfJob",)},
        },
        "KmsKeyId": ANY,
    },
    "Environment": ANY,
    "StoppingCondition": {"MaxRuntimeInSeconds": ANY},
    "RoleArn": ANY,
    "NetworkConfig": ANY,
    "ExperimentConfig": ANY,
    "Tags": ANY,
}


def _outputs(properties: dict[str, Any]) -> list[str]:
    return [
        o["S3Output"]["S3Uri"] for o in properties["ProcessingOutputConfig"]["Outputs"].values()
    ]


@step_runner("Processing", outputs=_outputs)
def run_processing(context: RunContext, step: dict[str, Any]) -> dict[str, Any]:
    """Run a processing job's command once per host, then upload its outputs."""
    name = step["Name"]
    args = context.resolve(step["Arguments"])
    fields.check(name, args, SCHEMA)
    cluster = args.get("ProcessingResources", {}).get("ClusterConfig", {})
    job_hosts = hosts(
        name,
        "ProcessingResources.ClusterConfig.InstanceCount",
        cluster.get("InstanceCount", 1),
        context.job_dir(name),
        context.options.multi_host,
    )
    app = fields.require(name, args, "AppSpecification")
    if not app.get("ContainerEntrypoint"):
        raise LocalRunError(
            f"step {name}: AppSpecification.ContainerEntrypoint is missing: the local run cannot "
            "know the image's default command; give the processor a command"
        )
    image_dir = context.options.image_dir(str(app.get("ImageUri", "")))
    inputs = args.get("ProcessingInputs", [])
    outputs = args.get("ProcessingOutputConfig", {}).get("Outputs", [])
    names = [h.name for h in job_hosts]
    processes = []
    for host in job_hosts:
        for item in inputs:
            s3_input = fields.require(name, item, "S3Input", "Arguments.ProcessingInputs[]")
            sharded = s3_input.get("S3DataDistributionType") == "ShardedByS3Key"
            shard = (host.index, len(job_hosts)) if sharded else (0, 1)
            target = Path(reroot(host.root, s3_input["LocalPath"]))
            try:
                context.storage.download(s3_input["S3Uri"], target, shard)
            except LocalRunError as exc:
                raise LocalRunError(f"step {name}: input {item.get('InputName')}: {exc}") from exc
        for item in outputs:
            Path(reroot(host.root, item["S3Output"]["LocalPath"])).mkdir(
                parents=True, exist_ok=True
            )
        config = host.ml / "config"
        config.mkdir(parents=True, exist_ok=True)
        resources = {"current_host": host.name, "hosts": names}
        (config / "resourceconfig.json").write_text(json.dumps(resources), encoding="utf-8")
        argv = command(
            name,
            "AppSpecification.ContainerEntrypoint",
            [*app["ContainerEntrypoint"], *app.get("ContainerArguments", [])],
            context.options.python,
            image_dir,
            host.root,
        )
        env = {k: str(v) for k, v in args.get("Environment", {}).items()}
        env[OPT_ML_ENV] = str(host.ml)
        processes.append(Process(host, argv, host.root, env, host.root / "job.log"))
    timeout = args.get("StoppingCondition", {}).get("MaxRuntimeInSeconds")
    run_all(name, processes, timeout=float(timeout) if timeout else None)
    return _finish(context, step, outputs, job_hosts)


def _finish(
    context: RunContext, step: dict[str, Any], outputs: list[dict[str, Any]], job_hosts: list[Any]
) -> dict[str, Any]:
    """Upload every host's outputs and pick up the property files from algo-1's."""
    name = step["Name"]
    props: dict[str, Any] = {
        "ProcessingJobName": context.job_name(name),
        "ProcessingJobStatus": "Completed",
        "ProcessingOutputConfig": {"Outputs": {}},
    }
    first_outputs = {}
    for item in outputs:
        for host in job_hosts:
            local = Path(reroot(host.root, item["S3Output"]["LocalPath"]))
            context.storage.upload(local, item["S3Output"]["S3Uri"])
        first_outputs[item["OutputName"]] = Path(
            reroot(job_hosts[0].root, item["S3Output"]["LocalPath"])
        )
        props["ProcessingOutputConfig"]["Outputs"][item["OutputName"]] = item
    files = {}
    for pf in step.get("PropertyFiles", []):
        if pf["OutputName"] not in first_outputs:
            raise LocalRunError(
                f"step {name}: property file {pf['PropertyFileName']} reads output "
                f"{pf['OutputName']!r}, which the step does not have: use one of "
                f"{sorted(first_outputs)}"
            )
        files[pf["PropertyFileName"]] = first_outputs[pf["OutputName"]] / pf["FilePath"]
    context.property_files[name] = files
    for file_name, path in files.items():
        if path.exists():
            context.result.reports[f"{name}.{file_name}"] = json.loads(path.read_text("utf-8"))
    return props
