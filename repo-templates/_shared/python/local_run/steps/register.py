"""RegisterModel: a model package in the registry the endpoint points at, checked to stick."""

from __future__ import annotations

from typing import Any

from ..context import RunContext
from ..errors import LocalRunError
from ..registry import step_runner

CHECKED = ("ModelPackageGroupName", "ModelApprovalStatus", "ModelMetrics", "InferenceSpecification")


@step_runner("RegisterModel")
def run_register(context: RunContext, step: dict[str, Any]) -> dict[str, Any]:
    """Create the model package and read it back: a registry that drops a field fails the run."""
    args = context.resolve(step["Arguments"])
    metrics = args.get("ModelMetrics")
    if metrics:  # the SDK writes empty sections; the API rejects nothing, but keep it tidy
        args["ModelMetrics"] = {k: v for k, v in metrics.items() if v}
    group = args.get("ModelPackageGroupName")
    if group:
        _ensure_group(context, group)
    sagemaker = context.sagemaker
    try:
        arn = sagemaker.create_model_package(**args)["ModelPackageArn"]
    except Exception as exc:  # botocore's ParamValidationError or ClientError
        raise LocalRunError(f"step {step['Name']}: CreateModelPackage refused: {exc}") from exc
    stored = sagemaker.describe_model_package(ModelPackageName=arn)
    for key in CHECKED:
        if key in args and stored.get(key) != args[key]:
            raise LocalRunError(
                f"the model registry at {sagemaker.meta.endpoint_url} did not keep {key} "
                f"of {arn}: sent {args[key]!r}, got {stored.get(key)!r}"
            )
    context.result.model_package_arn = arn
    return {"ModelPackageArn": arn, "ModelApprovalStatus": stored.get("ModelApprovalStatus")}


def _ensure_group(context: RunContext, group: str) -> None:
    from botocore.exceptions import ClientError

    try:
        context.sagemaker.describe_model_package_group(ModelPackageGroupName=group)
    except ClientError as exc:
        if exc.response["Error"]["Code"] not in ("ValidationException", "ResourceNotFound"):
            raise
        context.sagemaker.create_model_package_group(ModelPackageGroupName=group)
