"""Where the embedded AWS (moto 5.2.5) differs from AWS in a way the flow meets, and the fix.

- Bucket policies: moto's bucket policy check ignores conditions, so every conditional Deny of
  the platform's buckets (TLS only: moto's server speaks plain HTTP on loopback; the state
  bucket's KMS key) would refuse every request. `conditional_denies_unjudged()` leaves those
  statements out of moto's check; their conditions are held by the IaC tests, not here.
- Registry: moto serves a model package only to its own account and implements no model package
  group policies. `registry_shared_by_policy()` serves another account's package (or group
  listing) to a caller whose account the group's policy, as the project stack set it, allows.
- Pipelines: moto marks a started pipeline execution Succeeded without running anything.
  `pipelines_run_locally()` runs the execution's definition (the one Terraform deployed) with
  the repository's local runner, as the pipeline's role in that account, before answering.
- Serving: moto records endpoints but serves canned answers. While `endpoints_served_by()` is
  active, an InvokeEndpoint on an endpoint that exists and is InService in the caller's account,
  whose model runs the package the local server loaded, is forwarded to that server
  (`serve-local`, SageMaker's inference contract); any other endpoint answers an error, as
  SageMaker would for a missing one.
"""

from __future__ import annotations

import json
import re
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast
from unittest import mock


def _without_conditional_denies(policy: bytes) -> bytes:
    doc = json.loads(policy)
    doc["Statement"] = [
        st for st in doc.get("Statement", [])
        if not (st.get("Effect") == "Deny" and st.get("Condition"))
    ]  # fmt: skip
    return json.dumps(doc).encode()


@contextmanager
def conditional_denies_unjudged() -> Iterator[None]:
    """Judge bucket policies without the conditional Denies moto would apply unconditionally."""
    from moto.s3.models import FakeBucket

    original = FakeBucket.get_permission

    def get_permission(bucket: Any, action: str, resource: str) -> Any:
        if bucket.policy is None:
            return original(bucket, action, resource)
        view = SimpleNamespace(policy=_without_conditional_denies(bucket.policy))
        return original(cast(Any, view), action, resource)

    with mock.patch.object(FakeBucket, "get_permission", get_permission):
        yield


PACKAGE_ARN = re.compile(
    r"^arn:[a-z-]+:sagemaker:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):"
    r"model-package(-group)?/(?P<group>[^/]+)(/\d+)?$"
)


def _allows(policy: Any, caller: str, action: str) -> bool:
    for st in (policy or {}).get("Statement", []):
        principals = st.get("Principal", {}).get("AWS", [])
        principals = [principals] if isinstance(principals, str) else principals
        actions = st.get("Action", [])
        actions = [actions] if isinstance(actions, str) else actions
        roots = {p.rsplit(":", 2)[-2] for p in principals if p.endswith(":root")}
        if st.get("Effect") == "Allow" and caller in roots and action in actions:
            return True
    return False


@contextmanager
def registry_shared_by_policy(policies: dict[str, Any]) -> Iterator[None]:
    """Serve another account's packages where the group's policy in `policies` allows it."""
    from moto.sagemaker.exceptions import ValidationError
    from moto.sagemaker.models import SageMakerModelBackend, sagemaker_backends

    def owner(backend: Any, name: str | None, action: str) -> Any:
        match = PACKAGE_ARN.match(name or "")
        if not match or match["account"] == backend.account_id:
            return backend
        if not _allows(policies.get(match["group"]), backend.account_id, action):
            raise ValidationError(f"{name} is not shared with account {backend.account_id}")
        return sagemaker_backends[match["account"]][match["region"]]

    describe = SageMakerModelBackend.describe_model_package
    listing = SageMakerModelBackend.list_model_packages

    def describe_model_package(backend: Any, model_package_name: str) -> Any:
        source = owner(backend, model_package_name, "sagemaker:DescribeModelPackage")
        return describe(source, model_package_name)

    def list_model_packages(backend: Any, *args: Any, **kwargs: Any) -> Any:
        group = kwargs.get("model_package_group_name")
        return listing(owner(backend, group, "sagemaker:ListModelPackages"), *args, **kwargs)

    with (
        mock.patch.object(SageMakerModelBackend, "describe_model_package", describe_model_package),
        mock.patch.object(SageMakerModelBackend, "list_model_packages", list_model_packages),
    ):
        yield


def _served_package(account: str, region: str, endpoint: str) -> str:
    """The model package the endpoint's (first) variant runs; ValueError when it is not served."""
    from moto.sagemaker.models import sagemaker_backends

    backend = sagemaker_backends[account][region]
    described = backend.endpoints.get(endpoint)
    if described is None or described.endpoint_status != "InService":
        raise ValueError(f"Could not find endpoint {endpoint} in account {account}")
    config = backend.endpoint_configs[described.endpoint_config_name]
    model = backend._models[config.production_variants[0]["ModelName"]]
    container = model.primary_container or (model.containers or [{}])[0]
    return str(container.get("ModelPackageName", ""))


@contextmanager
def endpoints_served_by(url: str, package_arn: str) -> Iterator[list[dict[str, str]]]:
    """Forward InvokeEndpoint to the local server at `url` for endpoints running `package_arn`."""
    from moto.sagemakerruntime.responses import SageMakerRuntimeResponse

    calls: list[dict[str, str]] = []

    def invoke_endpoint(response: Any) -> Any:
        endpoint = urllib.parse.unquote(response.path.split("/")[2])  # /endpoints/<name>/...
        error = {"Content-Type": "application/json", "x-amzn-ErrorType": "ValidationError"}
        try:
            served = _served_package(response.current_account, response.region, endpoint)
        except ValueError as exc:
            return 400, error, json.dumps({"message": str(exc)})
        if served.lower() != package_arn.lower():
            message = f"endpoint {endpoint} runs {served}, the local server {package_arn}"
            return 400, error, json.dumps({"message": message})
        body = response.body if isinstance(response.body, bytes) else response.body.encode()
        content_type = response.headers.get("Content-Type", "text/csv")
        request = urllib.request.Request(  # noqa: S310 - the demo's own loopback server
            f"{url}/invocations",
            data=body,
            headers={"Content-Type": content_type, "Accept": response.headers.get("Accept", "")},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
            out = answer.read()
            calls.append({"account": response.current_account, "endpoint": endpoint})
            return 200, {"Content-Type": answer.headers.get("Content-Type", "")}, out

    with mock.patch.object(SageMakerRuntimeResponse, "invoke_endpoint", invoke_endpoint):
        yield calls


RUN_DEFINITION = """
import json, sys, types
from pathlib import Path
import boto3
import {module}.local_run.scheduler as scheduler
from {module}.local_run import LocalPipelineRun
definition, params, execution_id, workdir, name = sys.argv[1:6]
# The local run takes the execution id SageMaker gave (the outputs are laid out under it).
scheduler.uuid = types.SimpleNamespace(uuid4=lambda: types.SimpleNamespace(hex=execution_id))
run = LocalPipelineRun(json.loads(Path(definition).read_text()), Path(workdir), boto3.Session(),
                       parameters=json.loads(params), pipeline_name=name)
run.run()
"""


@contextmanager
def pipelines_run_locally(
    python: Path, module: str, workdir: Path, base_env: dict[str, str]
) -> Iterator[list[dict[str, str]]]:
    """Run each started pipeline execution with `module`'s local runner in `python`."""
    import subprocess

    import boto3
    from moto.sagemaker.models import SageMakerModelBackend

    runs: list[dict[str, str]] = []
    start = SageMakerModelBackend.start_pipeline_execution

    def start_pipeline_execution(
        backend: Any, pipeline_name: str, *args: Any, **kwargs: Any
    ) -> Any:
        started = start(backend, pipeline_name, *args, **kwargs)
        arn = started["PipelineExecutionArn"]
        pipeline = backend.pipelines[pipeline_name]
        execution = pipeline.pipeline_executions[arn]
        execution_id = arn.rsplit("/", 1)[-1]
        folder = workdir / f"{backend.account_id}-{execution_id}"
        folder.mkdir(parents=True)
        definition = folder / "definition.json"
        definition.write_text(str(pipeline.pipeline_definition), encoding="utf-8")
        params = {p["Name"]: p["Value"] for p in execution.pipeline_parameters or []}
        sts = boto3.client(
            "sts",
            endpoint_url=base_env["AWS_ENDPOINT_URL"],
            region_name=backend.region_name,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",  # noqa: S106 - moto's placeholder
        )
        # SageMaker runs a pipeline's jobs as the pipeline's role.
        creds = sts.assume_role(RoleArn=pipeline.role_arn, RoleSessionName="SageMaker")[
            "Credentials"
        ]
        env = {
            **base_env,
            "AWS_ACCESS_KEY_ID": creds["AccessKeyId"],
            "AWS_SECRET_ACCESS_KEY": creds["SecretAccessKey"],
            "AWS_SESSION_TOKEN": creds["SessionToken"],
            "AWS_REGION": backend.region_name,
            "AWS_DEFAULT_REGION": backend.region_name,
        }
        proc = subprocess.run(
            [str(python), "-c", RUN_DEFINITION.format(module=module), str(definition),
             json.dumps(params), execution_id, str(folder / "jobs"), pipeline_name],
            env=env, capture_output=True, text=True, check=False,
        )  # fmt: skip
        (folder / "run.log").write_text(proc.stdout + proc.stderr, encoding="utf-8")
        if proc.returncode != 0:
            execution.pipeline_execution_status = "Failed"
            execution.pipeline_execution_failure_reason = proc.stderr.strip()[-500:]
        runs.append({"account": backend.account_id, "execution": arn,
                     "status": execution.pipeline_execution_status})  # fmt: skip
        return started

    with mock.patch.object(
        SageMakerModelBackend, "start_pipeline_execution", start_pipeline_execution
    ):
        yield runs
