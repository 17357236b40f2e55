"""Helpers for the local runner's tests: definitions, staged code, image folders, S3 I/O."""

from __future__ import annotations

import copy
import io
import json
import string
import sys
import tarfile
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
from local_run import LocalPipelineRun

HERE = Path(__file__).resolve().parent

REGION = "us-east-1"
BUCKET = "runner-test-artifacts"
ROLE = "arn:aws:iam::123456789012:role/runner-test"
BYOC_IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/byoc-train:1.0"

Runner = Callable[..., LocalPipelineRun]
"""The `runner` fixture: build a LocalPipelineRun of a definition in a fresh work folder."""


def definition(name: str) -> dict[str, Any]:
    """Load definitions/<name>.json with the test bucket and role filled in."""
    text = (HERE / "definitions" / f"{name}.json").read_text(encoding="utf-8")
    filled = string.Template(text).substitute(bucket=BUCKET, role=ROLE)
    document: dict[str, Any] = json.loads(filled)
    return copy.deepcopy(document)


def step(document: dict[str, Any], name: str) -> dict[str, Any]:
    """The top-level step `name` of `document`."""
    found: dict[str, Any] = next(s for s in document["Steps"] if s["Name"] == name)
    return found


def s3() -> Any:
    return boto3.client("s3", region_name=REGION)


def put(url: str, body: str | bytes) -> None:
    bucket, _, key = url.removeprefix("s3://").partition("/")
    s3().put_object(Bucket=bucket, Key=key, Body=body.encode() if isinstance(body, str) else body)


def get(url: str) -> bytes:
    bucket, _, key = url.removeprefix("s3://").partition("/")
    body: bytes = s3().get_object(Bucket=bucket, Key=key)["Body"].read()
    return body


def keys(prefix_url: str) -> list[str]:
    bucket, _, prefix = prefix_url.removeprefix("s3://").partition("/")
    listed = s3().list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])
    return sorted(o["Key"] for o in listed)


def script(text: str) -> str:
    """Dedent a script written inline in a test."""
    return textwrap.dedent(text).lstrip()


def tar_gz(files: dict[str, str | bytes]) -> bytes:
    """A .tar.gz holding `files` (name -> content), as the SDK stages source_dir."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, content in files.items():
            data = content.encode() if isinstance(content, str) else content
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def image_folder(root: Path, programs: dict[str, str]) -> Path:
    """A folder standing for an image: its programs (train, serve, ...), executable."""
    root.mkdir(parents=True, exist_ok=True)
    for name, text in programs.items():
        path = root / name
        path.write_text(f"#!{sys.executable}\n" + script(text), encoding="utf-8")
        path.chmod(0o755)
    return root
