"""Batch transform: the model's server over every S3 object of the input, as SageMaker runs it.

Each object is split into records (SplitType Line) or sent whole (None); records go one per
request (BatchStrategy SingleRecord) or packed up to MaxPayloadInMB (MultiRecord); answers
are joined one per line (AssembleWith Line) or back to back (None) into `<key>.out` under
S3OutputPath. ContentType and Accept are the requests' headers.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .. import fields
from ..context import RunContext
from ..errors import LocalRunError
from ..fields import ANY
from ..jobs import hosts
from ..registry import step_runner
from ..serving import ModelServer, describe_model
from ..storage import parse_s3_url

SCHEMA: fields.Schema = {
    "ModelName": ANY,
    "TransformInput": {
        "DataSource": {"S3DataSource": {"S3DataType": ("S3Prefix",), "S3Uri": ANY}},
        "ContentType": ANY,
        "CompressionType": ("None",),
        "SplitType": ("None", "Line"),
    },
    "TransformOutput": {
        "S3OutputPath": ANY,
        "Accept": ANY,
        "AssembleWith": ("None", "Line"),
        "KmsKeyId": ANY,
    },
    "TransformResources": {"InstanceCount": ANY, "InstanceType": ANY, "VolumeKmsKeyId": ANY},
    "BatchStrategy": ("SingleRecord", "MultiRecord"),
    "MaxPayloadInMB": ANY,
    "MaxConcurrentTransforms": ANY,
    "ModelClientConfig": {"InvocationsTimeoutInSeconds": ANY, "InvocationsMaxRetries": ANY},
    "DataProcessing": {"InputFilter": ("$",), "OutputFilter": ("$",), "JoinSource": ("None",)},
    "Environment": ANY,
    "ExperimentConfig": ANY,
    "DataCaptureConfig": ANY,
    "Tags": ANY,
}


def _outputs(properties: dict[str, Any]) -> list[str]:
    return [properties["TransformOutput"]["S3OutputPath"]]


@step_runner("Transform", outputs=_outputs)
def run_transform(context: RunContext, step: dict[str, Any]) -> dict[str, Any]:
    """Serve the model locally and write one output object per input object."""
    name = step["Name"]
    args = context.resolve(step["Arguments"])
    fields.check(name, args, SCHEMA)
    model = describe_model(context, name, str(fields.require(name, args, "ModelName")))
    source = fields.require(name, args, "TransformInput")
    output = fields.require(name, args, "TransformOutput")
    input_url = source["DataSource"]["S3DataSource"]["S3Uri"]
    output_url = fields.require(name, output, "S3OutputPath", "Arguments.TransformOutput")
    parse_s3_url(output_url)
    job_hosts = hosts(
        name,
        "TransformResources.InstanceCount",
        args.get("TransformResources", {}).get("InstanceCount", 1),
        context.job_dir(name),
        context.options.multi_host,
    )
    split = source.get("SplitType", "None")
    assemble = output.get("AssembleWith", "None")
    multi = args.get("BatchStrategy", "SingleRecord") == "MultiRecord"
    limit = int(float(args.get("MaxPayloadInMB", 6)) * 1024 * 1024)
    timeout = float(args.get("ModelClientConfig", {}).get("InvocationsTimeoutInSeconds", 600))
    _, in_prefix = parse_s3_url(input_url)
    keys = context.storage.keys(input_url)
    if not keys:
        raise LocalRunError(
            f"step {name}: TransformInput has nothing at {input_url}: upload the data there"
        )
    bucket = parse_s3_url(input_url)[0]
    for host in job_hosts:  # instances share the objects out, as SageMaker does
        with ModelServer(context, name, model, host.root) as server:
            for key in keys[host.index :: len(job_hosts)]:
                body = context.storage.read(f"s3://{bucket}/{key}")
                answers = [
                    server.invoke(payload, source.get("ContentType"), output.get("Accept"), timeout)
                    for payload in _payloads(body, split, multi, limit)
                ]
                relative = key[len(in_prefix) :].lstrip("/") or key.rsplit("/", 1)[-1]
                target = f"{output_url.rstrip('/')}/{relative}.out"
                context.storage.write(target, _assemble(answers, assemble))
    return {
        "TransformJobName": context.job_name(name),
        "TransformJobStatus": "Completed",
        "ModelName": model.name,
        "TransformOutput": output,
    }


def _records(body: bytes, split: str) -> list[bytes]:
    if split == "None":
        return [body]
    return [line for line in body.splitlines() if line.strip()]


def _payloads(body: bytes, split: str, multi: bool, limit: int) -> Iterator[bytes]:
    """Requests for one object: a record each, or records packed up to `limit` bytes."""
    records = _records(body, split)
    if not multi or split == "None":
        yield from records
        return
    batch: list[bytes] = []
    size = 0
    for record in records:
        if batch and size + len(record) + 1 > limit:
            yield b"\n".join(batch)
            batch, size = [], 0
        batch.append(record)
        size += len(record) + 1
    if batch:
        yield b"\n".join(batch)


def _assemble(answers: list[bytes], assemble: str) -> bytes:
    if assemble == "Line":
        return b"".join(a if a.endswith(b"\n") else a + b"\n" for a in answers)
    return b"".join(answers)
