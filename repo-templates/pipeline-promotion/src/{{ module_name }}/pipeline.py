"""The whole ML pipeline: split → train → evaluate → (AUC gate) → create the model → transform.

Built with the SageMaker Python SDK v2 (`PipelineSession` + `step_args`). Everything that
differs between environments is a pipeline parameter: where the training data and the records
to score are, where the outputs go, the instance types and the quality bounds. `artifact.py`
builds this definition once, with placeholders for the account's role, network, KMS key and
bucket, and turns those into parameters too, so one definition runs unchanged in every account.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sagemaker import image_uris
from sagemaker.inputs import TrainingInput
from sagemaker.model import Model
from sagemaker.processing import ProcessingInput, ProcessingOutput, ScriptProcessor
from sagemaker.sklearn.processing import SKLearnProcessor
from sagemaker.transformer import Transformer
from sagemaker.workflow.condition_step import ConditionStep
from sagemaker.workflow.conditions import ConditionGreaterThanOrEqualTo
from sagemaker.workflow.execution_variables import ExecutionVariables
from sagemaker.workflow.fail_step import FailStep
from sagemaker.workflow.functions import Join, JsonGet
from sagemaker.workflow.model_step import ModelStep
from sagemaker.workflow.parameters import ParameterFloat, ParameterString
from sagemaker.workflow.pipeline import Pipeline
from sagemaker.workflow.pipeline_context import PipelineSession
from sagemaker.workflow.properties import PropertyFile
from sagemaker.workflow.steps import ProcessingStep, TrainingStep, TransformStep
from sagemaker.xgboost.estimator import XGBoost

from . import settings
from .core.platform import JobNetwork
from .core.session import get_session

STEPS_DIR = Path(__file__).resolve().parent / "steps"
REPO_ROOT = Path(__file__).resolve().parents[2]
PROCESSING = "/opt/ml/processing"
EVALUATION_REPORT = "evaluation.json"
HYPERPARAMETERS: dict[str, Any] = {"max_depth": 3, "eta": 0.3, "num_round": 50}


def default_urls(bucket: str, pipeline_name: str = settings.PIPELINE_NAME) -> dict[str, str]:
    """Where a run reads and writes unless its parameters say otherwise."""
    base = f"s3://{bucket}/{pipeline_name}"
    return {
        "TrainingDataUrl": f"{base}/input/training/",
        "BatchInputUrl": f"{base}/input/batch/",
        "OutputUrl": f"{base}/runs",
    }


def get_pipeline(
    region: str,
    role: str,
    default_bucket: str,
    pipeline_name: str = settings.PIPELINE_NAME,
    session: PipelineSession | None = None,
    network: JobNetwork | None = None,
) -> Pipeline:
    """Return the pipeline; `role` is the SageMaker execution role its jobs run as."""
    session = session or get_session(region, default_bucket)
    in_processing = network.processing() if network else {}
    in_training = network.training() if network else {}
    urls = default_urls(default_bucket, pipeline_name)

    training_data_url = ParameterString("TrainingDataUrl", urls["TrainingDataUrl"])
    batch_input_url = ParameterString("BatchInputUrl", urls["BatchInputUrl"])
    output_url = ParameterString("OutputUrl", urls["OutputUrl"])
    processing_instance_type = ParameterString(
        "ProcessingInstanceType", settings.PROCESSING_INSTANCE_TYPE
    )
    training_instance_type = ParameterString(
        "TrainingInstanceType", settings.TRAINING_INSTANCE_TYPE
    )
    transform_instance_type = ParameterString(
        "TransformInstanceType", settings.TRANSFORM_INSTANCE_TYPE
    )
    min_auc = ParameterFloat("MinAuc", settings.MIN_AUC)
    min_positive_rate = ParameterFloat("MinPositiveRate", settings.MIN_POSITIVE_RATE)
    max_positive_rate = ParameterFloat("MaxPositiveRate", settings.MAX_POSITIVE_RATE)
    run_output = Join(on="/", values=[output_url, ExecutionVariables.PIPELINE_EXECUTION_ID])

    def sklearn(job: str) -> SKLearnProcessor:
        return SKLearnProcessor(
            framework_version=settings.SKLEARN_FRAMEWORK_VERSION,
            role=role,
            instance_type=processing_instance_type,
            instance_count=1,
            base_job_name=f"{pipeline_name}-{job}",
            sagemaker_session=session,
            **in_processing,
        )

    # Split: the labelled data into a training and a test set.
    step_split = ProcessingStep(
        name="Split",
        step_args=sklearn("split").run(
            code=str(STEPS_DIR / "split.py"),
            inputs=[
                ProcessingInput(
                    input_name="data",
                    source=training_data_url,
                    destination=f"{PROCESSING}/input/data",
                )
            ],
            outputs=[
                ProcessingOutput(output_name=name, source=f"{PROCESSING}/output/{name}")
                for name in ("train", "test")
            ],
            arguments=[
                "--input-dir",
                f"{PROCESSING}/input/data",
                "--output-dir",
                f"{PROCESSING}/output",
                "--label",
                settings.LABEL,
            ],
        ),
    )
    split = step_split.properties.ProcessingOutputConfig.Outputs

    # Train: XGBoost in script mode (steps/train.py); the model carries its serving code.
    estimator = XGBoost(
        entry_point="train.py",
        source_dir=str(STEPS_DIR),
        framework_version=settings.XGBOOST_FRAMEWORK_VERSION,
        role=role,
        instance_type=training_instance_type,
        instance_count=1,
        output_path=Join(on="/", values=[run_output, "model"]),
        base_job_name=f"{pipeline_name}-train",
        hyperparameters={**HYPERPARAMETERS, "label": settings.LABEL},
        disable_profiler=True,
        debugger_hook_config=False,
        sagemaker_session=session,
        **in_training,
    )
    step_train = TrainingStep(
        name="Train",
        step_args=estimator.fit(
            inputs={"train": TrainingInput(split["train"].S3Output.S3Uri, content_type="text/csv")}
        ),
    )
    model_data = step_train.properties.ModelArtifacts.S3ModelArtifacts
    xgboost_image = image_uris.retrieve(
        "xgboost", region, version=settings.XGBOOST_FRAMEWORK_VERSION
    )

    # Evaluate: AUC of the model on the test set, read by the gate below.
    evaluation = PropertyFile(name="Evaluation", output_name="evaluation", path=EVALUATION_REPORT)
    evaluator = ScriptProcessor(
        image_uri=xgboost_image,
        command=["python3"],
        role=role,
        instance_type=processing_instance_type,
        instance_count=1,
        base_job_name=f"{pipeline_name}-evaluate",
        sagemaker_session=session,
        **in_processing,
    )
    step_evaluate = ProcessingStep(
        name="Evaluate",
        step_args=evaluator.run(
            code=str(STEPS_DIR / "evaluate.py"),
            inputs=[
                ProcessingInput(
                    input_name="model", source=model_data, destination=f"{PROCESSING}/model"
                ),
                ProcessingInput(
                    input_name="test",
                    source=split["test"].S3Output.S3Uri,
                    destination=f"{PROCESSING}/test",
                ),
            ],
            outputs=[
                ProcessingOutput(
                    output_name="evaluation",
                    source=f"{PROCESSING}/evaluation",
                    destination=Join(on="/", values=[run_output, "evaluation"]),
                )
            ],
            arguments=[
                "--model-dir",
                f"{PROCESSING}/model",
                "--test-dir",
                f"{PROCESSING}/test",
                "--output-dir",
                f"{PROCESSING}/evaluation",
                "--label",
                settings.LABEL,
            ],
        ),
        property_files=[evaluation],
    )

    # Score: validate the records and split ids from features (steps/preprocess.py).
    step_records = ProcessingStep(
        name="PrepareRecords",
        step_args=sklearn("records").run(
            code=str(STEPS_DIR / "preprocess.py"),
            inputs=[
                ProcessingInput(
                    input_name="records",
                    source=batch_input_url,
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
    records = step_records.properties.ProcessingOutputConfig.Outputs

    # The trained model, served by the XGBoost container with the model's code/inference.py
    # (train.py packs it), so no repack job is needed.
    vpc: dict[str, Any] | None = (
        {"Subnets": network.subnets, "SecurityGroupIds": network.security_group_ids}
        if network
        else None
    )
    model = Model(
        image_uri=xgboost_image,
        model_data=model_data,
        role=role,
        env={
            "SAGEMAKER_PROGRAM": "inference.py",
            "SAGEMAKER_SUBMIT_DIRECTORY": "/opt/ml/model/code",
        },
        sagemaker_session=session,
        vpc_config=vpc,
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
        output_path=Join(on="/", values=[run_output, "transform"]),
        output_kms_key=network.kms_key_arn if network else None,
        volume_kms_key=network.kms_key_arn if network else None,
        base_transform_job_name=f"{pipeline_name}-transform",
        sagemaker_session=session,
    )
    step_transform = TransformStep(
        name="Transform",
        step_args=transformer.transform(
            data=records["features"].S3Output.S3Uri, content_type="text/csv", split_type="Line"
        ),
    )
    step_postprocess = ProcessingStep(
        name="Postprocess",
        step_args=sklearn("postprocess").run(
            code=str(STEPS_DIR / "postprocess.py"),
            inputs=[
                ProcessingInput(
                    input_name="ids",
                    source=records["ids"].S3Output.S3Uri,
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
                    output_name=name,
                    source=f"{PROCESSING}/output/{name}",
                    destination=Join(on="/", values=[run_output, name]),
                )
                for name in ("predictions", "quality")
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
    )

    auc = JsonGet(step_name=step_evaluate.name, property_file=evaluation, json_path="auc")
    step_gate = ConditionStep(
        name="CheckAuc",
        conditions=[ConditionGreaterThanOrEqualTo(left=auc, right=min_auc)],  # type: ignore[arg-type]
        if_steps=[step_model, step_transform, step_postprocess],
        else_steps=[
            FailStep(
                name="AucBelowThreshold",
                error_message=Join(
                    on=" ",
                    values=[
                        "The model's test AUC is below MinAuc; see evaluation.json under",
                        run_output,
                    ],
                ),
            )
        ],
    )

    return Pipeline(
        name=pipeline_name,
        parameters=[
            training_data_url,
            batch_input_url,
            output_url,
            processing_instance_type,
            training_instance_type,
            transform_instance_type,
            min_auc,
            min_positive_rate,
            max_positive_rate,
        ],
        steps=[step_split, step_train, step_evaluate, step_records, step_gate],
        sagemaker_session=session,
    )


def prepare_local(session: Any, bucket: str) -> dict[str, str]:
    """Stage the shipped records to score in the (embedded) bucket for a local run."""
    sample = REPO_ROOT / settings.BATCH_SAMPLE
    if not sample.is_file():
        sample = Path(settings.BATCH_SAMPLE)
    key = f"{settings.PIPELINE_NAME}/input/batch/{sample.name}"
    session.client("s3").upload_file(str(sample), bucket, key)
    return {"BatchInputUrl": f"s3://{bucket}/{key}"}


def check_parameters(values: dict[str, str]) -> None:
    """Refuse a MinAuc override outside 0.5-1.0 before anything runs."""
    if "MinAuc" in values:
        value = float(values["MinAuc"])
        if not 0.5 <= value <= 1.0:
            raise ValueError(f"MinAuc={values['MinAuc']} is out of range: use 0.5-1.0, e.g. 0.9")


def report_local(result: Any) -> None:
    """Print what a local run produced: the evaluation and the batch's quality report."""
    for name, report in result.reports.items():
        print(f"{name}: {json.dumps(report)}")
