"""byoc's images workflow, run through the harness: its run steps against moto, Docker named.

The publish job's own steps (install, plan, check-scan, publish) run as written, against an
embedded AWS that holds what the project template creates (the three ECR repositories). The
steps that need a Docker engine or GitHub's signing service cannot run here; each has a declared
local equivalent that checks the inputs the workflow wires into it, and every one of them is
reported by name (a warning in the test summary), never passed over silently. The image "push"
puts a manifest into the embedded ECR, so the digest the later steps read is a registry digest.
"""

from __future__ import annotations

import json
import urllib.request
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mlops_suite import names
from mlops_suite.local.aws import DEFAULT_ACCOUNT, EmbeddedAWS
from mlops_suite.local.github_double import GitHubDouble
from mlops_suite.local.workflow_actions import standard_actions
from mlops_suite.local.workflow_harness import (
    Action,
    ActionResult,
    JobFailed,
    StepCall,
    WorkflowError,
    run_job,
)

from .conftest import HostedRepo, fresh_aws, git, host_render

ANSWERS = "byoc-minimal"
PROJECT_ID = "p-abcdef012345"  # tests/answers/byoc-minimal.yml
IMAGES = ("processing", "training", "inference")


class NotRunHere(UserWarning):
    """A workflow step the harness replaced because it needs Docker or GitHub's services."""


@pytest.fixture
def hosted(github: GitHubDouble, tmp_path: Path) -> HostedRepo:
    return host_render(github, tmp_path, ANSWERS)


def seed_project(aws: EmbeddedAWS) -> str:
    """The project template's share: the dev GitHub role and the three image repositories."""
    iam, ecr = aws.client("iam"), aws.client("ecr")
    trust = json.dumps({"Version": "2012-10-17", "Statement": []})
    role = names.pattern("github_actions_role", project_id=PROJECT_ID, environment="dev")
    arn = str(iam.create_role(RoleName=role, AssumeRolePolicyDocument=trust)["Role"]["Arn"])
    for image in IMAGES:
        ecr.create_repository(
            repositoryName=names.pattern("ecr_repository", project_id=PROJECT_ID, image=image),
            imageTagMutability="IMMUTABLE",
            imageScanningConfiguration={"scanOnPush": True},
        )
    return arn


def scan_finds(aws: EmbeddedAWS, counts: dict[str, int]) -> Callable[[str, str], None]:
    """What ECR's on-push scan reports for the next image pushed (moto's canned findings)."""

    def report(repository: str, digest: str) -> None:
        result = {
            "imageScanFindings": {"findings": [], "findingSeverityCounts": counts},
            "registryId": DEFAULT_ACCOUNT,
            "repositoryName": repository,
            "imageId": {"imageDigest": digest},
            "imageScanStatus": {"status": "COMPLETE", "description": "done"},
        }
        body = {"results": [result], "region": aws.region, "account_id": DEFAULT_ACCOUNT}
        request = urllib.request.Request(  # noqa: S310 (moto's loopback endpoint)
            f"{aws.endpoint_url}/moto-api/static/ecr/scan-finding-results",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10):  # noqa: S310
            pass

    return report


def not_run_here(why: str, check: Callable[[StepCall], dict[str, str]] | None = None) -> Action:
    """A named stand-in: checks the step's inputs (if asked), reports that it did not run."""

    def stand_in(call: StepCall) -> ActionResult:
        outputs = check(call) if check else {}
        warnings.warn(
            NotRunHere(f"step {call.name!r} ({call.uses}) not run here: {why}"), stacklevel=1
        )
        return ActionResult(outputs=outputs)

    return stand_in


def docker_actions(aws: EmbeddedAWS, report: Callable[[str, str], None]) -> dict[str, Action]:
    """Local equivalents of the Docker and attestation actions of the publish job."""
    ecr = aws.client("ecr")
    pushed: dict[str, str] = {}

    def push(call: StepCall) -> dict[str, str]:
        inputs = call.inputs
        if str(inputs.get("push")).lower() != "true":
            raise WorkflowError(f"{call.name}: a main build must push")
        # SageMaker refuses image indexes: BuildKit's own attestations must stay off.
        if (
            str(inputs.get("provenance")).lower() != "false"
            or str(inputs.get("sbom")).lower() != "false"
        ):
            raise WorkflowError(
                f"{call.name}: provenance and sbom must be false (one plain manifest)"
            )
        if not (call.workspace / str(inputs["file"])).is_file():
            raise WorkflowError(f"{call.name}: no Dockerfile {inputs['file']}")
        reference = str(inputs["tags"])
        host, _, path = reference.partition("/")
        repository, _, tag = path.partition(":")
        if host != f"{DEFAULT_ACCOUNT}.dkr.ecr.{aws.region}.amazonaws.com":
            raise WorkflowError(f"{call.name}: pushes to {host}, not the role's account registry")
        manifest = {
            "schemaVersion": 2,
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "config": {},
            "layers": [],
        }
        ecr.put_image(repositoryName=repository, imageManifest=json.dumps(manifest), imageTag=tag)
        ecr.start_image_scan(repositoryName=repository, imageId={"imageTag": tag})  # on push
        found = ecr.describe_images(repositoryName=repository, imageIds=[{"imageTag": tag}])
        digest = str(found["imageDetails"][0]["imageDigest"])
        report(repository, digest)
        pushed[f"{host}/{repository}"] = digest
        return {"digest": digest, "imageid": digest}

    def sbom(call: StepCall) -> dict[str, str]:
        image = str(call.inputs["image"])
        name, _, digest = image.partition("@")
        if pushed.get(name) != digest:
            raise WorkflowError(f"{call.name}: {image} is not the image the build pushed")
        (call.workspace / str(call.inputs["output-file"])).write_text("{}", encoding="utf-8")
        return {}

    def attest(call: StepCall) -> dict[str, str]:
        subject, digest = str(call.inputs["subject-name"]), str(call.inputs["subject-digest"])
        if pushed.get(subject) != digest:
            raise WorkflowError(f"{call.name}: attests {subject}@{digest}, not the pushed image")
        if "sbom-path" in call.inputs and not (call.workspace / call.inputs["sbom-path"]).is_file():
            raise WorkflowError(f"{call.name}: no SBOM at {call.inputs['sbom-path']}")
        if str(call.inputs.get("push-to-registry")).lower() != "true":
            raise WorkflowError(f"{call.name}: attestations belong beside the image in ECR")
        return {}

    docker = "needs a Docker engine"
    sigstore = "needs GitHub's Sigstore signing and attestation store"
    return {
        "aws-actions/amazon-ecr-login": not_run_here(f"{docker} (docker login)"),
        "docker/setup-buildx-action": not_run_here(docker),
        "docker/build-push-action": not_run_here(f"{docker}; a manifest is put into ECR", push),
        "anchore/sbom-action": not_run_here(f"{docker} (syft pulls the image)", sbom),
        "actions/attest-sbom": not_run_here(sigstore, attest),
        "actions/attest-build-provenance": not_run_here(sigstore, attest),
    }


def publish(hosted: HostedRepo, aws: EmbeddedAWS, image: str, counts: dict[str, int]) -> Any:
    role = seed_project(aws)
    ctx = hosted.context(event_name="push", vars={"AWS_ROLE_ARN": role}, matrix={"image": image})
    actions = {**standard_actions(aws=aws), **docker_actions(aws, scan_finds(aws, counts))}
    wf = hosted.workspace / ".github" / "workflows" / "images.yml"
    return run_job(wf, "publish", workspace=hosted.workspace, context=ctx, actions=actions)


def replaced_steps(record: pytest.WarningsRecorder) -> list[str]:
    """The names of the steps the stand-ins reported as not run here."""
    return sorted(
        str(w.message).split("'")[1] for w in record if issubclass(w.category, NotRunHere)
    )


def test_publish_pushes_checks_the_scan_and_publishes_the_digest_uri(hosted: HostedRepo) -> None:
    with fresh_aws() as aws:
        with pytest.warns(NotRunHere) as replaced:
            result = publish(hosted, aws, "training", {"LOW": 4, "INFORMATIONAL": 2})
        parameter = names.pattern("image_uri_parameter", project_id=PROJECT_ID, image="training")
        uri = aws.client("ssm").get_parameter(Name=parameter)["Parameter"]["Value"]
    repository = names.pattern("ecr_repository", project_id=PROJECT_ID, image="training")
    digest = result.step("build").outputs["digest"]
    assert uri == f"{DEFAULT_ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/{repository}@{digest}"
    assert uri in result.summary
    # One immutable tag per commit: the commit the workflow ran on.
    head = git(hosted.workspace, "rev-parse", "HEAD").strip()
    assert result.step("plan").outputs["tag"] == f"git-{head}"
    # Every step that could not run here is named, and only those.
    assert replaced_steps(replaced) == sorted(
        [
            "Log in to ECR (needs Docker)",
            "Set up Buildx",
            "Build and push (needs Docker)",
            "SBOM (needs the registry login)",
            "Attest SBOM",
            "Attest build provenance",
        ]
    )
    assert {"Install", "Check scan findings", "Publish the image URI"} <= set(result.ran)


def test_blocking_findings_stop_the_image_before_it_is_published(hosted: HostedRepo) -> None:
    blocked = r"step 'Check scan findings' failed[\s\S]*\{'CRITICAL': 1\} findings"
    with fresh_aws() as aws:
        with pytest.raises(JobFailed, match=blocked), pytest.warns(NotRunHere):
            publish(hosted, aws, "inference", {"CRITICAL": 1, "LOW": 3})
        parameter = names.pattern("image_uri_parameter", project_id=PROJECT_ID, image="inference")
        ssm = aws.client("ssm")
        with pytest.raises(ssm.exceptions.ParameterNotFound):
            ssm.get_parameter(Name=parameter)


def test_pull_requests_build_without_credentials(hosted: HostedRepo) -> None:
    ctx = hosted.context(
        event_name="pull_request",
        event={"pull_request": {"number": 3}},
        matrix={"image": "processing"},
    )
    wf = hosted.workspace / ".github" / "workflows" / "images.yml"
    docker = "needs a Docker engine"

    def build(call: StepCall) -> dict[str, str]:
        if str(call.inputs.get("push")).lower() != "false":
            raise WorkflowError(f"{call.name}: a pull request build must not push")
        if not (call.workspace / str(call.inputs["file"])).is_file():
            raise WorkflowError(f"{call.name}: no Dockerfile {call.inputs['file']}")
        return {}

    actions = {
        **standard_actions(),  # no AWS: a pull request gets no cloud credentials
        "docker/setup-buildx-action": not_run_here(docker),
        "docker/build-push-action": not_run_here(docker, build),
    }
    with pytest.warns(NotRunHere) as replaced:
        result = run_job(
            wf, "build-check", workspace=hosted.workspace, context=ctx, actions=actions
        )
    assert replaced_steps(replaced) == ["Build (needs Docker)", "Set up Buildx"]
    assert result.ran[-1] == "Build (needs Docker)"
    publish_job = run_job(wf, "publish", workspace=hosted.workspace, context=ctx, actions={})
    assert publish_job.skipped
