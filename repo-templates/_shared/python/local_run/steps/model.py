"""The model-creation step that ModelStep (Model.create) and CreateModelStep emit."""

from __future__ import annotations

from typing import Any

from .. import fields
from ..context import RunContext
from ..errors import LocalRunError
from ..fields import ANY
from ..registry import step_runner

CONTAINER = {
    "Image": ANY,
    "ModelDataUrl": ANY,
    "Environment": ANY,
    "Mode": ("SingleModel",),
    "ContainerHostname": ANY,
    "ImageConfig": {"RepositoryAccessMode": ("Platform",)},
}
SCHEMA: fields.Schema = {
    "ExecutionRoleArn": ANY,
    "PrimaryContainer": CONTAINER,
    "ModelName": ANY,
    "VpcConfig": ANY,
    "EnableNetworkIsolation": ANY,
    "Tags": ANY,
}


@step_runner("Model")
def run_create_model(context: RunContext, step: dict[str, Any]) -> dict[str, Any]:
    """Create the model (image, artifact, environment) where the endpoint points."""
    name = step["Name"]
    args = context.resolve(step["Arguments"])
    fields.check(name, args, SCHEMA)
    fields.require(name, args, "PrimaryContainer")
    if "Image" not in args["PrimaryContainer"]:
        raise LocalRunError(f"step {name}: Arguments.PrimaryContainer.Image is missing")
    # The service names the model of a pipeline step; locally it is the step's job name.
    model_name = str(args.pop("ModelName", None) or context.job_name(name))
    try:
        created = context.sagemaker.create_model(ModelName=model_name, **args)
    except Exception as exc:  # botocore's ParamValidationError or ClientError
        raise LocalRunError(f"step {name}: CreateModel refused: {exc}") from exc
    return {"ModelName": model_name, "ModelArn": created["ModelArn"]}
