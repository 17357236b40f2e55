"""The image workflow's steps that need no Docker engine: name, check the scan, publish.

`images plan` names an image's registry (the account of the credentials in use), ECR repository
and immutable tag, `images check-scan` fails on blocking scan findings, `images publish` writes
the pushed image's digest URI to the SSM parameter that model-training and the deployment
repositories read.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from collections.abc import Mapping
from typing import Any

from . import settings

DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")


def dns_suffix(region: str) -> str:
    """ECR's DNS suffix in the region's partition."""
    return "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"


def repository(image: str) -> str:
    """The image's ECR repository name."""
    if image not in settings.IMAGES:
        raise ValueError(f'Unknown image "{image}": use one of {", ".join(settings.IMAGES)}')
    return settings.ECR_REPOSITORY.format(project_id=settings.SAGEMAKER_PROJECT_ID, image=image)


def registry(account_id: str, region: str = settings.REGION) -> str:
    """The registry host of `account_id` in `region`."""
    if not re.fullmatch(r"[0-9]{12}", account_id):
        raise ValueError(f'"{account_id}" is not an AWS account id: expected 12 digits')
    return f"{account_id}.dkr.ecr.{region}.{dns_suffix(region)}"


def account_of(sts: Any) -> str:
    """The account of the credentials in use (the dev account, through the workflow's role)."""
    return str(sts.get_caller_identity()["Account"])


def plan(image: str, sha: str, account_id: str) -> dict[str, str]:
    """Registry, repository, tag and image reference for a build of commit `sha`."""
    if not re.fullmatch(r"[0-9a-f]{40}", sha):
        raise ValueError(f'"{sha}" is not a full commit SHA: pass the 40-hex-digit GITHUB_SHA')
    host, repo = registry(account_id), repository(image)
    return {
        "registry": host,
        "repository": repo,
        # Tags are immutable in the repository: one per commit, never reused or moved.
        "tag": f"git-{sha}",
        "image": f"{host}/{repo}:git-{sha}",
        "dockerfile": f"docker/{image}/Dockerfile",
    }


def blocking_findings(findings: Mapping[str, Any]) -> dict[str, int]:
    """Severity counts that block publishing, from DescribeImageScanFindings."""
    counts = findings.get("imageScanFindings", {}).get("findingSeverityCounts", {})
    return {s: int(counts[s]) for s in settings.BLOCKING_SEVERITIES if counts.get(s)}


def check_scan(ecr: Any, image: str, digest: str, max_wait_s: int = 900) -> dict[str, int]:
    """Wait for the on-push scan of `digest`; raise naming the counts when it finds blockers."""
    if not DIGEST.fullmatch(digest):
        raise ValueError(f'"{digest}" is not an image digest: pass sha256:<64 hex digits>')
    repo, deadline = repository(image), time.monotonic() + max_wait_s
    while True:
        try:
            result = ecr.describe_image_scan_findings(
                repositoryName=repo, imageId={"imageDigest": digest}
            )
        except ecr.exceptions.ScanNotFoundException:
            result = {"imageScanStatus": {"status": "PENDING"}}  # just pushed: not started yet
        status = result.get("imageScanStatus", {})
        if status.get("status") in ("COMPLETE", "ACTIVE"):
            break
        if status.get("status") not in ("IN_PROGRESS", "PENDING") or time.monotonic() > deadline:
            raise RuntimeError(
                f"Scan of {repo}@{digest} is {status.get('status')}: {status.get('description')}; "
                "check the repository's scanning configuration and rerun the workflow"
            )
        time.sleep(10)
    found = blocking_findings(result)
    if found:
        raise RuntimeError(
            f"{repo}@{digest} has {found} findings: update the base image digest or the locked "
            "dependency that carries them, then push again"
        )
    return found


def publish(ssm: Any, image: str, digest: str, account_id: str) -> tuple[str, str]:
    """Write the digest URI of `image` to its SSM parameter; return (parameter, uri)."""
    if not DIGEST.fullmatch(digest):
        raise ValueError(f'"{digest}" is not an image digest: pass sha256:<64 hex digits>')
    uri = f"{registry(account_id)}/{repository(image)}@{digest}"
    name = settings.IMAGE_URI_PARAMETER.format(
        project_id=settings.SAGEMAKER_PROJECT_ID, image=image
    )
    ssm.put_parameter(
        Name=name, Value=uri, Type="String", Overwrite=True,
        Description=f"{image} image of SageMaker project {settings.SAGEMAKER_PROJECT_ID}",
    )  # fmt: skip
    return name, uri


def write_outputs(values: Mapping[str, str], environ: Mapping[str, str] | None = None) -> None:
    """Append key=value lines to $GITHUB_OUTPUT when set; print them either way."""
    env = os.environ if environ is None else environ
    lines = "".join(f"{k}={v}\n" for k, v in values.items())
    if target := env.get("GITHUB_OUTPUT"):
        with open(target, "a", encoding="utf-8") as fh:
            fh.write(lines)
    print(lines, end="")


def main(argv: list[str] | None = None) -> int:
    """`images plan|check-scan|publish`."""
    parser = argparse.ArgumentParser(prog="images", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p_plan = sub.add_parser("plan", help="repository, tag and reference of a build")
    p_plan.add_argument("--image", required=True, choices=settings.IMAGES)
    p_plan.add_argument("--sha", required=True)
    for name in ("check-scan", "publish"):
        p = sub.add_parser(name)
        p.add_argument("--image", required=True, choices=settings.IMAGES)
        p.add_argument("--digest", required=True)
    args = parser.parse_args(argv)
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    def client(service: str) -> Any:
        return boto3.client(service, region_name=settings.REGION)

    try:
        if args.command == "plan":
            write_outputs(plan(args.image, args.sha, account_of(client("sts"))))
        elif args.command == "check-scan":
            check_scan(client("ecr"), args.image, args.digest)
            print(f"{args.image}: no {'/'.join(settings.BLOCKING_SEVERITIES)} findings")
        else:
            account = account_of(client("sts"))
            name, uri = publish(client("ssm"), args.image, args.digest, account)
            write_outputs({"parameter": name, "uri": uri})
    except (BotoCoreError, ClientError) as exc:
        print(f"images {args.command}: AWS refused or could not be reached: {exc}", file=sys.stderr)
        return 1
    except (ValueError, RuntimeError) as exc:
        print(f"images {args.command}: {exc}", file=sys.stderr)
        return 1
    return 0


def cli() -> None:
    """Console entry point."""
    raise SystemExit(main())


if __name__ == "__main__":
    cli()
