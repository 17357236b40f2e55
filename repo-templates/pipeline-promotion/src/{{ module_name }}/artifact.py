"""The promotion artifact: the pipeline definition built once in dev, addressed by its digest.

`build` runs the SDK offline (an embedded S3 takes the step code) with placeholders for what
differs between accounts: the execution role, the VPC subnets and security group, the KMS key and
the artifact bucket. `neutralize` turns each placeholder into a pipeline parameter without a
default, so the definition names no account and no environment; `promote deploy` gives those
parameters each environment's values and changes nothing else. The artifact (canonical JSON:
the definition and the sha256 of every code object it reads) is stored in the dev account's
project bucket at `<pipeline>/artifacts/<sha256>.json`; its code at the keys the definition
names.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import tarfile
from dataclasses import dataclass
from typing import Any

from . import settings

FORMAT = 1
PLACEHOLDER_ACCOUNT = "000000000000"
DIGEST = re.compile(r"^[0-9a-f]{64}$")
# Placeholder -> the parameter that carries the environment's value.
ROLE_PARAMETER = "ExecutionRoleArn"
BUCKET_PARAMETER = "ArtifactBucket"
SUBNET_PARAMETERS = ("PrivateSubnet1", "PrivateSubnet2")
SECURITY_GROUP_PARAMETER = "SecurityGroupId"
KMS_PARAMETER = "KmsKeyArn"
ENVIRONMENT_PARAMETERS = (
    ROLE_PARAMETER, BUCKET_PARAMETER, *SUBNET_PARAMETERS, SECURITY_GROUP_PARAMETER, KMS_PARAMETER
)  # fmt: skip
# Parameters whose defaults name the build's bucket: each environment gives its own.
LOCATION_PARAMETERS = ("TrainingDataUrl", "BatchInputUrl", "OutputUrl")


class ArtifactError(ValueError):
    """The artifact cannot be built or trusted; the message names the value and the fix."""


@dataclass(frozen=True)
class Placeholders:
    """The values the offline build uses where an account's own values go."""

    region: str

    @property
    def partition(self) -> str:
        return settings.partition(self.region)

    @property
    def role(self) -> str:
        return f"arn:{self.partition}:iam::{PLACEHOLDER_ACCOUNT}:role/PLACEHOLDER-execution-role"

    @property
    def bucket(self) -> str:
        return settings.ARTIFACT_BUCKET_PATTERN.format(
            project_id=settings.SAGEMAKER_PROJECT_ID, account_id=PLACEHOLDER_ACCOUNT,
            region=self.region,
        )  # fmt: skip

    @property
    def subnets(self) -> list[str]:
        return ["subnet-PLACEHOLDER1", "subnet-PLACEHOLDER2"]

    @property
    def security_group(self) -> str:
        return "sg-PLACEHOLDER"

    @property
    def kms_key(self) -> str:
        return f"arn:{self.partition}:kms:{self.region}:{PLACEHOLDER_ACCOUNT}:key/PLACEHOLDER"

    def exact(self) -> dict[str, str]:
        """Placeholder value -> parameter name, for values that are a placeholder as a whole."""
        return {
            self.role: ROLE_PARAMETER,
            self.bucket: BUCKET_PARAMETER,
            **dict(zip(self.subnets, SUBNET_PARAMETERS, strict=True)),
            self.security_group: SECURITY_GROUP_PARAMETER,
            self.kms_key: KMS_PARAMETER,
        }


def neutralize(definition: dict[str, Any], placeholders: Placeholders) -> dict[str, Any]:
    """Replace every placeholder by its parameter; refuse a placeholder left anywhere else."""
    exact = placeholders.exact()
    bucket = placeholders.bucket

    def walk(value: Any, path: str) -> Any:
        if isinstance(value, dict):
            return {k: walk(v, f"{path}.{k}") for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v, f"{path}[{i}]") for i, v in enumerate(value)]
        if not isinstance(value, str):
            return value
        if value in exact:
            return {"Get": f"Parameters.{exact[value]}"}
        if bucket in value:
            head, _, tail = value.partition(bucket)
            if bucket in tail or PLACEHOLDER_ACCOUNT in head + tail:
                raise ArtifactError(f"{path}: {value!r} holds more than one placeholder")
            parts = [p for p in (head, {"Get": f"Parameters.{BUCKET_PARAMETER}"}, tail) if p]
            return {"Std:Join": {"On": "", "Values": parts}}
        if PLACEHOLDER_ACCOUNT in value or "PLACEHOLDER" in value:
            raise ArtifactError(f"{path}: placeholder left in {value!r}; add it to Placeholders")
        return value

    parameters = []
    for parameter in definition["Parameters"]:
        if parameter["Name"] in ENVIRONMENT_PARAMETERS:
            raise ArtifactError(f"the pipeline declares {parameter['Name']}: the build adds it")
        if parameter["Name"] in LOCATION_PARAMETERS:
            parameter = {k: v for k, v in parameter.items() if k != "DefaultValue"}
        parameters.append(parameter)
    steps = walk(definition["Steps"], "Steps")
    extra = [{"Name": name, "Type": "String"} for name in ENVIRONMENT_PARAMETERS]
    return {**definition, "Parameters": parameters + extra, "Steps": steps}


def code_keys(definition: dict[str, Any]) -> list[str]:
    """The keys of the code objects the definition reads from the ArtifactBucket parameter."""
    keys: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            joined = value.get("Std:Join", {}).get("Values") if "Std:Join" in value else None
            if joined and {"Get": f"Parameters.{BUCKET_PARAMETER}"} in joined:
                index = joined.index({"Get": f"Parameters.{BUCKET_PARAMETER}"})
                tail = joined[index + 1] if index + 1 < len(joined) else ""
                if isinstance(tail, str) and "/code/" in tail:
                    keys.add(tail.strip('"').lstrip("/"))
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(definition["Steps"])
    return sorted(keys)


def sha256(data: bytes) -> str:
    """The hex sha256 of `data`."""
    return hashlib.sha256(data).hexdigest()


def code_digest(key: str, body: bytes) -> str:
    """The sha256 of a code object's content: of each member's name and bytes for a .tar.gz.

    The SDK writes a new gzip header and member times on every build; the content is the same,
    so the artifact's digest is too.
    """
    if not key.endswith(".tar.gz"):
        return sha256(body)
    digest = hashlib.sha256()
    with tarfile.open(fileobj=io.BytesIO(body)) as tar:
        for member in sorted(tar.getmembers(), key=lambda m: m.name):
            extracted = tar.extractfile(member) if member.isfile() else None
            digest.update(member.name.encode() + b"\0")
            digest.update(sha256(extracted.read()).encode() if extracted else b"-")
    return digest.hexdigest()


def encode(document: dict[str, Any]) -> bytes:
    """The canonical bytes of an artifact: sorted keys, no insignificant whitespace."""
    return (json.dumps(document, sort_keys=True, separators=(",", ":")) + "\n").encode("utf-8")


def key(digest: str) -> str:
    """Where the artifact with `digest` lives in the dev account's project bucket."""
    return f"{settings.PIPELINE_NAME}/artifacts/{digest}.json"


def build(region: str = settings.REGION) -> tuple[bytes, dict[str, bytes]]:
    """Build the artifact offline; return (its bytes, {code key: code bytes})."""
    from .core.embedded import embedded_aws
    from .core.platform import JobNetwork, boto_session, ensure_bucket
    from .pipeline import get_pipeline

    placeholders = Placeholders(region)
    network = JobNetwork(placeholders.subnets, [placeholders.security_group], placeholders.kms_key)
    with embedded_aws(region, purpose="building the promotion artifact"):
        session = boto_session(region)
        ensure_bucket(session, placeholders.bucket, region)
        pipeline = get_pipeline(region, placeholders.role, placeholders.bucket, network=network)
        definition = neutralize(json.loads(pipeline.definition()), placeholders)
        s3 = session.client("s3")
        code = {}
        for code_key in code_keys(definition):
            body = s3.get_object(Bucket=placeholders.bucket, Key=code_key)["Body"].read()
            code[code_key] = body
    document = {
        "format": FORMAT,
        "pipeline": settings.PIPELINE_NAME,
        "definition": definition,
        "code": {k: code_digest(k, v) for k, v in sorted(code.items())},
    }
    return encode(document), code


def publish(session: Any, bucket: str, data: bytes, code: dict[str, bytes]) -> str:
    """Store the code objects and the artifact in `bucket` (unchanged if there); its digest."""
    s3 = session.client("s3")
    for code_key, body in sorted(code.items()):
        s3.put_object(Bucket=bucket, Key=code_key, Body=body)
    digest = sha256(data)
    s3.put_object(Bucket=bucket, Key=key(digest), Body=data, ContentType="application/json")
    return digest


@dataclass(frozen=True)
class Artifact:
    """A fetched, verified artifact and its code."""

    digest: str
    definition: dict[str, Any]
    code: dict[str, bytes]


def fetch(session: Any, bucket: str, digest: str) -> Artifact:
    """Read artifact `digest` and its code from `bucket`; ArtifactError unless every byte checks."""
    if not DIGEST.match(digest):
        raise ArtifactError(f"digest {digest!r} is not a sha256 (64 lowercase hex characters)")
    s3 = session.client("s3")
    try:
        data = s3.get_object(Bucket=bucket, Key=key(digest))["Body"].read()
    except s3.exceptions.ClientError as exc:
        raise ArtifactError(
            f"no artifact {digest} at s3://{bucket}/{key(digest)} ({exc.response['Error']['Code']})"
            ": build it in dev first (promote build --publish)"
        ) from None
    actual = sha256(data)
    if actual != digest:
        raise ArtifactError(
            f"artifact s3://{bucket}/{key(digest)} has digest {actual}, not {digest}: it changed "
            "after it was built; rebuild it and promote the new digest"
        )
    document = json.loads(data)
    if document.get("format") != FORMAT or document.get("pipeline") != settings.PIPELINE_NAME:
        raise ArtifactError(
            f"artifact {digest} is format {document.get('format')} of pipeline "
            f"{document.get('pipeline')!r}, not format {FORMAT} of {settings.PIPELINE_NAME!r}"
        )
    code = {}
    for code_key, expected in document["code"].items():
        body = s3.get_object(Bucket=bucket, Key=code_key)["Body"].read()
        if code_digest(code_key, body) != expected:
            raise ArtifactError(
                f"code s3://{bucket}/{code_key} of artifact {digest} has digest "
                f"{code_digest(code_key, body)}, "
                f"not {expected}: rebuild the artifact"
            )
        code[code_key] = body
    return Artifact(digest, document["definition"], code)
