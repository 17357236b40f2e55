"""The CloudFormation path for real: a moto stack whose Custom:: resource is served by our Lambda.

moto 5.2.5 runs custom resources by calling ``LambdaFunction.invoke`` (in a thread) with an event
whose ResponseURL points at moto's own ``/cloudformation_<region>/cfnresponse`` endpoint. moto
would need Docker to run the function, so the test patches that one seam to call our handler
in-process; the handler then PUTs its response over real HTTP to moto's server on loopback.
moto acts on SUCCESS only (it never fails a stack); the patch of ``process_cfn_response`` adds
what CloudFormation does with FAILED: the resource and the stack become CREATE_FAILED with our
Reason. Everything else is moto's own behaviour.
"""

from __future__ import annotations

import io
import json
import time
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from lambda_support import FakeContext, configure_platform, load_event

from mlops_suite.handlers import clone_repo
from mlops_suite.local.aws import EmbeddedAWS, embedded_aws
from mlops_suite.local.github_double import GitHubDouble

# moto's cfnresponse endpoint looks stacks up in its default region (the response request
# carries no credentials to say otherwise), so this stack lives there.
REGION = "us-east-1"
FUNCTION = "mlops-suite-clone-repo"


@pytest.fixture
def moto_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[EmbeddedAWS]:
    from moto import settings
    from moto.awslambda.models import LambdaFunction
    from moto.cloudformation.models import cloudformation_backends
    from moto.cloudformation.responses import CloudFormationResponse

    for key in ("AWS_PROFILE",):
        monkeypatch.delenv(key, raising=False)
    with embedded_aws(REGION) as aws:
        # moto's backends are process-wide: start from and leave a clean slate.
        reset = f"{aws.endpoint_url}/moto-api/reset"
        urllib.request.urlopen(urllib.request.Request(reset, method="POST")).read()  # noqa: S310
        host, port = aws.endpoint_url.rsplit(":", 1)
        # The ResponseURL moto hands to the function: its own server, on loopback.
        monkeypatch.setattr(settings, "moto_server_host", lambda: host)
        monkeypatch.setenv("MOTO_PORT", port)

        def invoke(self: Any, body: str, request_headers: Any, response_headers: Any) -> bytes:
            assert self.function_name == FUNCTION, f"unexpected function {self.function_name}"
            result = clone_repo.handler(json.loads(body), FakeContext(120))
            return json.dumps(result).encode()

        monkeypatch.setattr(LambdaFunction, "invoke", invoke)
        original = CloudFormationResponse.process_cfn_response

        def process(self: CloudFormationResponse) -> Any:
            if self._get_param("Status") == "FAILED":
                stack = cloudformation_backends[self.current_account][self.region].get_stack(
                    self._get_param("StackId")
                )
                reason = self._get_param("Reason")
                stack.status = "CREATE_FAILED"
                stack.status_reason = reason
                stack._add_stack_event("CREATE_FAILED", resource_status_reason=reason)
            return original(self)

        monkeypatch.setattr(CloudFormationResponse, "process_cfn_response", process)
        yield aws
        urllib.request.urlopen(urllib.request.Request(reset, method="POST")).read()  # noqa: S310


@pytest.fixture
def cfn_platform(
    moto_server: EmbeddedAWS,
    double: GitHubDouble,
    template_tree: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> tuple[EmbeddedAWS, str]:
    configure_platform(double, client=moto_server.client)
    monkeypatch.setenv("MLOPS_SUITE_GITHUB_API_URL", double.url)
    monkeypatch.setenv("MLOPS_SUITE_TEMPLATE_DIR", str(template_tree))
    iam = moto_server.client("iam")
    role = iam.create_role(
        RoleName="clone-repo",
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
    )["Role"]["Arn"]
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as zf:
        zf.writestr("placeholder.py", "# moto stores the code; the patched invoke runs ours\n")
    arn = moto_server.client("lambda").create_function(
        FunctionName=FUNCTION,
        Runtime="python3.12",
        Role=role,
        Handler="mlops_suite.handlers.clone_repo.handler",
        Code={"ZipFile": code.getvalue()},
    )["FunctionArn"]
    return moto_server, arn


def template(service_token: str, properties: dict[str, Any]) -> str:
    """A project stack: the Custom:: resource and its outputs, as project templates use it."""
    return yaml.safe_dump(
        {
            "AWSTemplateFormatVersion": "2010-09-09",
            "Resources": {
                "TrainingRepo": {
                    "Type": "Custom::GitHubRepository",
                    "Properties": {**properties, "ServiceToken": service_token},
                }
            },
            "Outputs": {
                "RepoFullName": {"Value": {"Fn::GetAtt": ["TrainingRepo", "FullName"]}},
                "RepoUrl": {"Value": {"Fn::GetAtt": ["TrainingRepo", "RepoUrl"]}},
            },
        }
    )


def wait_for_stack(cfn: Any, name: str, timeout: float = 20) -> dict[str, Any]:
    end = time.monotonic() + timeout
    while True:
        stack: dict[str, Any] = cfn.describe_stacks(StackName=name)["Stacks"][0]
        if not stack["StackStatus"].endswith("IN_PROGRESS") or time.monotonic() > end:
            return stack
        time.sleep(0.1)


def properties(**changes: Any) -> dict[str, Any]:
    props: dict[str, Any] = load_event("clone-repo-create")["ResourceProperties"]
    props.pop("ServiceToken")
    props.update(changes)
    return props


def test_stack_reaches_create_complete_with_our_outputs(
    cfn_platform: tuple[EmbeddedAWS, str], double: GitHubDouble
) -> None:
    aws, arn = cfn_platform
    cfn = aws.client("cloudformation")
    cfn.create_stack(StackName="churn-project", TemplateBody=template(arn, properties()))

    stack = wait_for_stack(cfn, "churn-project")

    assert stack["StackStatus"] == "CREATE_COMPLETE"
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    assert outputs == {
        "RepoFullName": "my-org/churn-model",
        "RepoUrl": f"{double.url}/my-org/churn-model",
    }
    assert double.repos["my-org/churn-model"].branches() == ["main"]


def test_stack_fails_with_our_reason_on_bad_properties(
    cfn_platform: tuple[EmbeddedAWS, str], double: GitHubDouble
) -> None:
    aws, arn = cfn_platform
    cfn = aws.client("cloudformation")
    bad = properties(sagemaker_project_id="project-1")
    cfn.create_stack(StackName="bad-project", TemplateBody=template(arn, bad))

    stack = wait_for_stack(cfn, "bad-project")

    assert stack["StackStatus"] == "CREATE_FAILED"
    events = cfn.describe_stack_events(StackName="bad-project")["StackEvents"]
    reasons = [e.get("ResourceStatusReason", "") for e in events]
    assert any('Invalid SageMaker project id "project-1"' in r for r in reasons), reasons
    assert not double.repos
