"""moto's CloudFormation with custom resources answered by our Lambda handlers, in-process.

moto would need Docker to run a Lambda, and its custom resources finish asynchronously and only
understand SUCCESS. While `in_process_custom_resources()` is active, a `Custom::` resource is
created the way CloudFormation creates it: the function named by its ServiceToken must exist in
the stack's account, the handler registered for that ARN gets exactly the event CloudFormation
sends (properties as strings, a pre-signed ResponseURL), the resource waits for the handler's
answer, SUCCESS feeds `Fn::GetAtt`, and FAILED (or no answer) fails the stack with the handler's
reason, so a stack never hangs. Where moto 5.2.5's CloudFormation lacks a resource type the
templates use (bucket policies, model package groups, OIDC providers) it is made with the
service's own API; any other type moto does not know fails the stack by name instead of being
skipped.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any
from unittest import mock

from mlops_suite.local.lambda_runtime import LocalContext, cfn_response_endpoint

Handler = Callable[[dict[str, Any], Any], Any]


class StackFailed(RuntimeError):
    """A stack did not reach CREATE_COMPLETE; the message names the resource and the reason."""


class UnsupportedResource(StackFailed):
    """The template uses a resource type that moto's CloudFormation cannot create."""


@dataclass
class CustomResources:
    """In-process handlers by Lambda ARN, and every request they got with its answer."""

    handlers: dict[str, Handler] = field(default_factory=dict)
    requests: list[dict[str, Any]] = field(default_factory=list)
    answers: dict[str, dict[str, Any]] = field(default_factory=dict)  # by RequestId
    timeout_s: float = 120.0  # CloudFormation waits an hour; a demo should not

    def register(self, function_arn: str, handler: Handler) -> None:
        """Answer custom resources whose ServiceToken is `function_arn` with `handler`."""
        self.handlers[function_arn] = handler


def _as_cfn_strings(value: Any) -> Any:
    """CloudFormation hands custom resource properties to a Lambda as strings."""
    if isinstance(value, dict):
        return {k: _as_cfn_strings(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_cfn_strings(v) for v in value]
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return str(value)
    return value


class _GapResource:
    """Base of the resource types moto's CloudFormation lacks; made with the service's API."""

    resource_type = ""
    name_property: str | None = None

    def __init__(self, physical_id: str, properties: dict[str, Any]) -> None:
        self.physical_id = physical_id
        self.properties = properties

    @classmethod
    def cloudformation_type(cls) -> str:
        return cls.resource_type

    @classmethod
    def cloudformation_name_type(cls) -> str | None:
        return cls.name_property

    @property
    def physical_resource_id(self) -> str:
        return self.physical_id

    def is_created(self) -> bool:
        return True

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return False

    def get_cfn_attribute(self, attr: str) -> Any:
        raise StackFailed(f"{self.resource_type} has no attribute {attr} here")


class _BucketPolicy(_GapResource):
    """AWS::S3::BucketPolicy, applied with S3's PutBucketPolicy."""

    resource_type = "AWS::S3::BucketPolicy"

    @classmethod
    def create_from_cloudformation_json(
        cls, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str,
        **kwargs: Any,
    ) -> Any:  # fmt: skip
        from moto.s3.models import s3_backends

        props = cloudformation_json["Properties"]
        backend = s3_backends[account_id]["aws"]
        backend.put_bucket_policy(props["Bucket"], json.dumps(props["PolicyDocument"]).encode())
        return cls(props["Bucket"], props)

    def delete(self, account_id: str, region_name: str) -> None:
        from moto.s3.models import s3_backends

        backend = s3_backends[account_id]["aws"]
        if self.physical_id in backend.buckets:
            backend.delete_bucket_policy(self.physical_id)


class _ModelPackageGroup(_GapResource):
    """AWS::SageMaker::ModelPackageGroup, made with SageMaker's CreateModelPackageGroup.

    moto implements no model package group policies: the resolved policy is kept in `policies`.
    """

    resource_type = "AWS::SageMaker::ModelPackageGroup"
    name_property = "ModelPackageGroupName"
    policies: dict[str, Any] = {}  # noqa: RUF012 - by group name (GROUP_POLICIES)

    @classmethod
    def create_from_cloudformation_json(
        cls, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str,
        **kwargs: Any,
    ) -> Any:  # fmt: skip
        from moto.sagemaker.models import sagemaker_backends

        props = cloudformation_json["Properties"]
        arn = sagemaker_backends[account_id][region_name].create_model_package_group(
            model_package_group_name=props["ModelPackageGroupName"],
            model_package_group_description=props.get("ModelPackageGroupDescription", ""),
            tags=props.get("Tags"),
        )
        cls.policies[props["ModelPackageGroupName"]] = props.get("ModelPackageGroupPolicy")
        return cls(arn, props)

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr == "ModelPackageGroupArn"

    def get_cfn_attribute(self, attr: str) -> Any:
        return (
            self.physical_id if attr == "ModelPackageGroupArn" else super().get_cfn_attribute(attr)
        )

    def delete(self, account_id: str, region_name: str) -> None:
        from moto.sagemaker.models import sagemaker_backends

        groups = sagemaker_backends[account_id][region_name].model_package_groups
        groups.pop(self.properties["ModelPackageGroupName"], None)


GROUP_POLICIES = _ModelPackageGroup.policies


class _OidcProvider(_GapResource):
    """AWS::IAM::OIDCProvider, made with IAM's CreateOpenIDConnectProvider."""

    resource_type = "AWS::IAM::OIDCProvider"

    @classmethod
    def create_from_cloudformation_json(
        cls, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str,
        **kwargs: Any,
    ) -> Any:  # fmt: skip
        from moto.iam.models import iam_backends
        from moto.utilities.utils import get_partition

        props = cloudformation_json["Properties"]
        iam = iam_backends[account_id][get_partition(region_name)]
        provider = iam.create_open_id_connect_provider(
            props["Url"], props.get("ThumbprintList", []), props.get("ClientIdList", []),
            props.get("Tags", []),
        )  # fmt: skip
        return cls(provider.arn, props)

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr == "Arn"

    def get_cfn_attribute(self, attr: str) -> Any:
        return self.physical_id if attr == "Arn" else super().get_cfn_attribute(attr)

    def delete(self, account_id: str, region_name: str) -> None:
        from moto.iam.models import iam_backends
        from moto.utilities.utils import get_partition

        iam_backends[account_id][get_partition(region_name)].delete_open_id_connect_provider(
            self.physical_id
        )


GAP_RESOURCES: dict[str, type[_GapResource]] = {
    cls.resource_type: cls for cls in (_BucketPolicy, _ModelPackageGroup, _OidcProvider)
}


def _wrap_create(
    stack: ExitStack,
    model: Any,
    *,
    before: Callable[[dict[str, Any]], None] | None = None,
    after: Callable[[Any, dict[str, Any], str], Any] | None = None,
) -> None:
    """Patch `model.create_from_cloudformation_json` where moto differs from CloudFormation."""
    original = model.create_from_cloudformation_json.__func__

    def create(
        cls: Any, /, resource_name: str, cloudformation_json: Any, account_id: str,
        region_name: str, **kwargs: Any,
    ) -> Any:  # fmt: skip
        props = cloudformation_json.get("Properties", {})
        if before:
            before(props)
        made = original(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
        return after(made, props, account_id) if after else made

    stack.enter_context(
        mock.patch.object(model, "create_from_cloudformation_json", classmethod(create))
    )


def _custom_create(registry: CustomResources, response_url: str, catcher: Any) -> Any:
    """CustomModel.create_from_cloudformation_json that calls the handler and awaits its answer."""
    from moto.awslambda.utils import get_backend as lambda_backend
    from moto.cloudformation.custom_model import CustomModel
    from moto.cloudformation.models import cloudformation_backends

    def create(
        cls: Any, /, resource_name: str, cloudformation_json: Any, account_id: str,
        region_name: str, **kwargs: Any,
    ) -> Any:  # fmt: skip
        logical_id, stack_id = kwargs["LogicalId"], kwargs["StackId"]
        properties = _as_cfn_strings(cloudformation_json["Properties"])
        token = properties["ServiceToken"]
        # The function must exist in the stack's account, as CloudFormation requires.
        function_arn = lambda_backend(account_id, region_name).get_function(token).function_arn
        handler = registry.handlers.get(":".join(function_arn.split(":")[:7]))
        if handler is None:
            raise StackFailed(f"{logical_id}: no in-process handler for Lambda {function_arn}")
        request_id = str(uuid.uuid4())
        custom = CustomModel(region_name, request_id, logical_id, resource_name)  # type: ignore[abstract]
        cloudformation_backends[account_id][region_name].get_stack(stack_id).add_custom_resource(
            custom
        )
        event = {
            "RequestType": "Create",
            "ServiceToken": token,
            "ResponseURL": f"{response_url}&request={request_id}",
            "StackId": stack_id,
            "RequestId": request_id,
            "LogicalResourceId": logical_id,
            "ResourceType": kwargs["ResourceType"],
            "ResourceProperties": properties,
        }
        registry.requests.append(event)
        count = len(catcher.responses)
        handler(event, LocalContext(registry.timeout_s, function_arn.rsplit(":", 1)[-1]))
        answers = [r for r in catcher.wait(count + 1, 5.0)[count:] if r["RequestId"] == request_id]
        if not answers:
            raise StackFailed(f"{logical_id}: the handler sent no response")
        answer = answers[-1]
        registry.answers[request_id] = answer
        if answer.get("Status") != "SUCCESS":
            raise StackFailed(f"{logical_id}: {answer.get('Reason') or 'FAILED, no reason'}")
        custom.resource_name = answer.get("PhysicalResourceId") or resource_name
        custom.set_data(answer.get("Data") or {})
        return custom

    return classmethod(create)


@contextmanager
def in_process_custom_resources(registry: CustomResources) -> Iterator[CustomResources]:
    """Patch moto (in this process: run its server here) for the block; see the module doc."""
    from moto.cloudformation import parsing
    from moto.cloudformation.custom_model import CustomModel
    from moto.iam.models import Role as IamRole
    from moto.ssm.models import Parameter as SsmParameter

    with ExitStack() as stack:
        catcher = stack.enter_context(cfn_response_endpoint())
        stack.enter_context(
            mock.patch.object(
                CustomModel,
                "create_from_cloudformation_json",
                _custom_create(registry, catcher.url, catcher),
            )
        )
        models = {**parsing.get_model_map(), **GAP_RESOURCES}
        name_types = {
            **parsing.get_name_type_map(),
            **{t: c.name_property for t, c in GAP_RESOURCES.items()},
        }
        stack.enter_context(mock.patch.object(parsing, "get_model_map", return_value=models))
        stack.enter_context(
            mock.patch.object(parsing, "get_name_type_map", return_value=name_types)
        )
        original_clean = parsing.clean_json

        def clean_json(resource_json: Any, resources_map: Any) -> Any:
            # CloudFormation drops AWS::NoValue from lists; moto 5.2.5 leaves a null there.
            cleaned = original_clean(resource_json, resources_map)
            if isinstance(resource_json, list) and isinstance(cleaned, list):
                return [item for item in cleaned if item is not None]
            return cleaned

        stack.enter_context(mock.patch.object(parsing, "clean_json", clean_json))

        def ssm_tags_as_list(props: dict[str, Any]) -> None:
            # CloudFormation writes an SSM parameter's Tags as a map; moto expects a list.
            if isinstance(props.get("Tags"), dict):
                props["Tags"] = [{"Key": k, "Value": v} for k, v in props["Tags"].items()]

        _wrap_create(stack, SsmParameter, before=ssm_tags_as_list)

        def attach_managed_policies(role: Any, props: dict[str, Any], account_id: str) -> Any:
            # moto drops ManagedPolicyArns; CloudFormation attaches them (and fails on a policy
            # that does not exist, as attach_role_policy does here).
            from moto.iam.models import iam_backends

            backend = iam_backends[account_id][role.arn.split(":")[1]]
            for arn in props.get("ManagedPolicyArns", []):
                backend.attach_role_policy(arn, role.name)
            return role

        _wrap_create(stack, IamRole, after=attach_managed_policies)
        yield registry


def unsupported_types(template: Mapping[str, Any]) -> list[str]:
    """Resource types of `template` that moto's CloudFormation (with the gap types) cannot make."""
    from moto.cloudformation import parsing

    known = {**parsing.get_model_map(), **GAP_RESOURCES}
    return sorted(
        {
            spec["Type"]
            for spec in template.get("Resources", {}).values()
            if not spec["Type"].startswith("Custom::") and spec["Type"] not in known
        }
    )


def create_stack(
    cloudformation: Any,
    name: str,
    template_body: str,
    template: Mapping[str, Any],
    parameters: Mapping[str, str],
    tags: Mapping[str, str],
    timeout_s: float = 180.0,
) -> dict[str, Any]:
    """Create the stack and wait; StackFailed naming the resource unless CREATE_COMPLETE."""
    missing = unsupported_types(template)
    if missing:
        raise UnsupportedResource(f"moto's CloudFormation cannot create {', '.join(missing)}")
    try:
        stack_id = cloudformation.create_stack(
            StackName=name,
            TemplateBody=template_body,
            Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
            Tags=[{"Key": k, "Value": v} for k, v in tags.items()],
        )["StackId"]
    except Exception as exc:  # moto raises the handler's StackFailed as a server error
        raise StackFailed(f"stack {name}: {exc}") from exc
    deadline = time.monotonic() + timeout_s
    while True:
        stack: dict[str, Any] = cloudformation.describe_stacks(StackName=stack_id)["Stacks"][0]
        if not stack["StackStatus"].endswith("IN_PROGRESS"):
            break
        if time.monotonic() > deadline:
            raise StackFailed(f"stack {name} hangs in {stack['StackStatus']}")
        time.sleep(0.05)
    if stack["StackStatus"] != "CREATE_COMPLETE":
        raise StackFailed(
            f"stack {name} is {stack['StackStatus']}: {stack.get('StackStatusReason')}"
        )
    return stack
