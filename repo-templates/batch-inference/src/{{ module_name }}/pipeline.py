"""The batch pipeline: preprocess → create the model → transform → postprocess → quality gate.

Built with the SageMaker Python SDK v2 (`PipelineSession` + `step_args`). The model is fixed when
the definition is built: `model_data_url` is the artifact of the approved package the deploy
workflow resolved (`build.py`), so every scheduled run of one deployment scores with the same
model; the next approval redeploys the pipeline with the next package.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sagemaker.processing import ProcessingInput, ProcessingOutput
from sagemaker.sklearn.processing import SKLearnProcessor
from sagemaker.transformer import Transformer
from sagemaker.workflow.condition_step import ConditionStep
from sagemaker.workflow.conditions import ConditionEquals
from sagemaker.workflow.execution_variables import ExecutionVariables
from sagemaker.workflow.fail_step import FailStep
from sagemaker.workflow.functions import Join, JsonGet
from sagemaker.workflow.model_step import ModelStep
from sagemaker.workflow.parameters import ParameterFloat, ParameterString
from sagemaker.workflow.pipeline import Pipeline
from sagemaker.workflow.pipeline_context import PipelineSession
from sagemaker.workflow.properties import PropertyFile
from sagemaker.workflow.steps import ProcessingStep, TransformStep
from sagemaker.xgboost.model import XGBoostModel

from . import settings
from .core.platform import JobNetwork
from .core.session import get_session

STEPS_DIR = Path(__file__).resolve().parent / "steps"
PROCESSING = "/opt/ml/processing"
QUALITY_REPORT = "quality.json"


def default_input_data_url(bucket: str, pipeline_name: str = settings.PIPELINE_NAME) -> str:
    """Where a run reads its records unless told otherwise."""
    return f"s3://{bucket}/{pipeline_name}/input/"


def default_model_data_url(bucket: str, pipeline_name: str = settings.PIPELINE_NAME) -> str:
    """Where a local run expects model-training's model.tar.gz when no package is given."""
    return f"s3://{bucket}/{pipeline_name}/model/model.tar.gz"


def get_pipeline(
    region: str,
    role: str,
    default_bucket: str,
    pipeline_name: str = settings.PIPELINE_NAME,
    model_data_url: str | None = None,
    session: PipelineSession | None = None,
    network: JobNetwork | None = None,
) -> Pipeline:
    """Return the batch pipeline; `role` is the SageMaker execution role its jobs run as."""
    session = session or get_session(region, default_bucket)
    in_processing = network.processing() if network else {}
    model_data = model_data_url or default_model_data_url(default_bucket, pipeline_name)
    output_base = Join(
        on="/",
        values=["s3:/", default_bucket, pipeline_name, ExecutionVariables.PIPELINE_EXECUTION_ID],
    )

    input_data_url = ParameterString(
        "InputDataUrl", default_input_data_url(default_bucket, pipeline_name)
    )
    processing_instance_type = ParameterString("ProcessingInstanceType", "ml.m5.large")
    transform_instance_type = ParameterString(
        "TransformInstanceType", settings.TRANSFORM_INSTANCE_TYPE
    )
    min_positive_rate = ParameterFloat("MinPositiveRate", settings.MIN_POSITIVE_RATE)
    max_positive_rate = ParameterFloat("MaxPositiveRate", settings.MAX_POSITIVE_RATE)

    processor = SKLearnProcessor(
        framework_version=settings.SKLEARN_FRAMEWORK_VERSION,
        role=role,
        instance_type=processing_instance_type,
        instance_count=1,
        base_job_name=f"{pipeline_name}-preprocess",
        sagemaker_session=session,
        **in_processing,
    )
    step_preprocess = ProcessingStep(
        name="Preprocess",
        step_args=processor.run(
            code=str(STEPS_DIR / "preprocess.py"),
            inputs=[
                ProcessingInput(
                    input_name="records",
                    source=input_data_url,
                    destination=f"{PROCESSING}/input/records",
                )
            ],
            outputs=[
                ProcessingOutput(output_name=name, source=f"{PROCESSING}/output/{name}")
                for name in ("features", "ids")
            ],
            arguments=[
                "--input-dir",
                f"{PROCESSING}/input/records",
                "--output-dir",
                f"{PROCESSING}/output",
            ],
        ),
    )
    prepared = step_preprocess.properties.ProcessingOutputConfig.Outputs

    # The approved model, served by the XGBoost container with steps/inference.py's handlers.
    model = XGBoostModel(
        model_data=model_data,
        role=role,
        entry_point="inference.py",
        source_dir=str(STEPS_DIR),
        framework_version=settings.XGBOOST_FRAMEWORK_VERSION,
        sagemaker_session=session,
        vpc_config=(
            {"Subnets": network.subnets, "SecurityGroupIds": network.security_group_ids}
            if network
            else None
        ),
        enable_network_isolation=network is not None,
    )
    step_model = ModelStep(
        name="CreateModel", step_args=model.create(instance_type=settings.TRANSFORM_INSTANCE_TYPE)
    )

    transformer = Transformer(
        model_name=step_model.properties.ModelName,
        instance_count=1,
        instance_type=transform_instance_type,
        strategy="MultiRecord",
        max_payload=6,
        assemble_with="Line",
        accept="text/csv",
        output_path=Join(on="/", values=[output_base, "transform"]),
        output_kms_key=network.kms_key_arn if network else None,
        volume_kms_key=network.kms_key_arn if network else None,
        base_transform_job_name=f"{pipeline_name}-transform",
        sagemaker_session=session,
    )
    step_transform = TransformStep(
        name="Transform",
        step_args=transformer.transform(
            data=prepared["features"].S3Output.S3Uri,
            content_type="text/csv",
            split_type="Line",
        ),
    )

    quality_report = PropertyFile(name="QualityReport", output_name="quality", path=QUALITY_REPORT)
    postprocessor = SKLearnProcessor(
        framework_version=settings.SKLEARN_FRAMEWORK_VERSION,
        role=role,
        instance_type=processing_instance_type,
        instance_count=1,
        base_job_name=f"{pipeline_name}-postprocess",
        sagemaker_session=session,
        **in_processing,
    )
    step_postprocess = ProcessingStep(
        name="Postprocess",
        step_args=postprocessor.run(
            code=str(STEPS_DIR / "postprocess.py"),
            inputs=[
                ProcessingInput(
                    input_name="ids",
                    source=prepared["ids"].S3Output.S3Uri,
                    destination=f"{PROCESSING}/input/ids",
                ),
                ProcessingInput(
                    input_name="transform",
                    source=step_transform.properties.TransformOutput.S3OutputPath,
                    destination=f"{PROCESSING}/input/transform",
                ),
            ],
            outputs=[
                ProcessingOutput(
                    output_name="predictions",
                    source=f"{PROCESSING}/output/predictions",
                    destination=Join(on="/", values=[output_base, "predictions"]),
                ),
                ProcessingOutput(
                    output_name="quality",
                    source=f"{PROCESSING}/output/quality",
                    destination=Join(on="/", values=[output_base, "quality"]),
                ),
            ],
            arguments=[
                "--ids-dir",
                f"{PROCESSING}/input/ids",
                "--transform-dir",
                f"{PROCESSING}/input/transform",
                "--output-dir",
                f"{PROCESSING}/output",
                "--min-positive-rate",
                min_positive_rate.to_string(),  # type: ignore[no-untyped-call]
                "--max-positive-rate",
                max_positive_rate.to_string(),  # type: ignore[no-untyped-call]
            ],
        ),
        property_files=[quality_report],
    )

    failed_checks = JsonGet(
        step_name=step_postprocess.name, property_file=quality_report, json_path="failed_checks"
    )
    step_check = ConditionStep(
        name="CheckQuality",
        conditions=[ConditionEquals(left=failed_checks, right=0)],  # type: ignore[arg-type]
        if_steps=[],
        else_steps=[
            FailStep(
                name="QualityCheckFailed",
                error_message=Join(
                    on=" ",
                    values=[
                        "The batch output failed its quality checks; see quality.json under",
                        output_base,
                    ],
                ),
            )
        ],
    )

    return Pipeline(
        name=pipeline_name,
        parameters=[
            input_data_url,
            processing_instance_type,
            transform_instance_type,
            min_positive_rate,
            max_positive_rate,
        ],
        steps=[step_preprocess, step_model, step_transform, step_postprocess, step_check],
        sagemaker_session=session,
    )


def report_local(result: Any) -> None:
    """Print what a local run produced: the quality report."""
    for name, report in result.reports.items():
        print(f"{name}: {json.dumps(report)}")
