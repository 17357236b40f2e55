"""The training pipeline: preprocess → train → evaluate → register if the AUC is good enough.

Built with the SageMaker Python SDK v2 (`PipelineSession` + `step_args`). `get_pipeline` is the
one definition; the cloud run (`run-pipeline`) upserts it and the local run (`run-pipeline
--local`) executes the definition JSON it produces, so the two cannot drift.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sagemaker import image_uris
from sagemaker.estimator import Estimator, EstimatorBase
from sagemaker.inputs import TrainingInput
from sagemaker.model import Model
from sagemaker.model_metrics import MetricsSource, ModelMetrics
from sagemaker.processing import ProcessingInput, ProcessingOutput, ScriptProcessor
from sagemaker.sklearn.processing import SKLearnProcessor
from sagemaker.spark.processing import PySparkProcessor
from sagemaker.workflow.condition_step import ConditionStep
from sagemaker.workflow.conditions import ConditionGreaterThanOrEqualTo
from sagemaker.workflow.execution_variables import ExecutionVariables
from sagemaker.workflow.fail_step import FailStep
from sagemaker.workflow.functions import Join, JsonGet
from sagemaker.workflow.model_step import ModelStep
from sagemaker.workflow.parameters import ParameterFloat, ParameterInteger, ParameterString
from sagemaker.workflow.pipeline import Pipeline
from sagemaker.workflow.pipeline_context import PipelineSession
from sagemaker.workflow.properties import PropertyFile
from sagemaker.workflow.steps import CacheConfig, ProcessingStep, TrainingStep
from sagemaker.xgboost.estimator import XGBoost

from . import settings
from .core.platform import JobNetwork
from .core.session import get_session

STEPS_DIR = Path(__file__).resolve().parent / "steps"
PROCESSING = "/opt/ml/processing"
CHECKPOINTS = "/opt/ml/checkpoints"
EVALUATION_REPORT = "evaluation.json"
EVALUATION_HTML = "evaluation.html"
# Registration is always PendingManualApproval: an approver, not the pipeline, approves.
APPROVAL_STATUS = "PendingManualApproval"
# How the training channel reaches several instances: every instance reads all of it, or each
# reads its share of the objects (the TrainingDataDistribution parameter).
DISTRIBUTIONS = ("FullyReplicated", "ShardedByS3Key")
# Preprocessing engines (get_pipeline's `preprocessing`): scikit-learn on one instance, or
# Spark on a SageMaker Processing cluster of ProcessingInstanceCount instances.
ENGINES = ("sklearn", "spark")
SPARK_FRAMEWORK_VERSION = "3.5"
HYPERPARAMETERS: dict[str, Any] = {
    "max_depth": 4,
    "eta": 0.2,
    "min_child_weight": 1.0,
    "subsample": 0.9,
    "num_round": 200,
    "early_stopping_rounds": 20,
}


def default_input_data_url(bucket: str) -> str:
    """Return where the pipeline reads its raw data unless told otherwise."""
    sample = Path(settings.SAMPLE_INPUT or "input.csv").name  # settings.py: your data
    return f"s3://{bucket}/{settings.PIPELINE_NAME}/input/{sample}"


def get_pipeline(
    region: str,
    role: str,
    default_bucket: str,
    pipeline_name: str = settings.PIPELINE_NAME,
    model_package_group_name: str = settings.MODEL_PACKAGE_GROUP_NAME,
    session: PipelineSession | None = None,
    network: JobNetwork | None = None,
    preprocessing: str = settings.PREPROCESSING_ENGINE,
) -> Pipeline:
    """Return the training pipeline; `role` is the SageMaker execution role its jobs run as.

    `network` puts every job in the platform's VPC with KMS-encrypted storage; the cloud run
    always passes it (see core.platform.platform_network). `preprocessing` picks the engine of
    the Preprocess step ("sklearn" or "spark"): a step's container is fixed when the definition
    is built, so this is a build option; instance counts and the training data distribution
    are pipeline parameters.
    """
    if preprocessing not in ENGINES:
        raise ValueError(f"preprocessing {preprocessing!r} is unknown: use one of {list(ENGINES)}")
    session = session or get_session(region, default_bucket)
    in_processing = network.processing() if network else {}
    in_training = network.training() if network else {}
    cache = CacheConfig(enable_caching=True, expire_after="P30D")
    drop = ["--drop-columns", ",".join(settings.DROP_COLUMNS)] if settings.DROP_COLUMNS else []

    processing_instance_type = ParameterString("ProcessingInstanceType", "ml.m5.large")
    processing_instance_count = ParameterInteger("ProcessingInstanceCount", 1)
    training_instance_type = ParameterString("TrainingInstanceType", "ml.m5.large")
    training_instance_count = ParameterInteger("TrainingInstanceCount", 1)
    training_data_distribution = ParameterString(
        "TrainingDataDistribution", DISTRIBUTIONS[0], enum_values=list(DISTRIBUTIONS)
    )
    input_data_url = ParameterString("InputDataUrl", default_input_data_url(default_bucket))
    auc_threshold = ParameterFloat("ModelAucThreshold", settings.AUC_THRESHOLD)

    # Preprocess: validate and split the raw CSV (scikit-learn, or Spark on a cluster).
    preprocess_args: dict[str, Any] = {
        "inputs": [
            ProcessingInput(
                input_name="raw", source=input_data_url, destination=f"{PROCESSING}/input/data"
            )
        ],
        "outputs": [
            ProcessingOutput(output_name=name, source=f"{PROCESSING}/output/{name}")
            for name in ("train", "validation", "test")
        ],
        "arguments": [
            "--input-dir",
            f"{PROCESSING}/input/data",
            "--output-dir",
            f"{PROCESSING}/output",
            "--label",
            settings.LABEL_COLUMN,
            *drop,
        ],
    }
    if preprocessing == "spark":
        spark_processor = PySparkProcessor(
            framework_version=SPARK_FRAMEWORK_VERSION,
            role=role,
            instance_type=processing_instance_type,
            instance_count=processing_instance_count,
            base_job_name=f"{pipeline_name}-preprocess-spark",
            sagemaker_session=session,
            **in_processing,
        )
        preprocess_step_args = spark_processor.run(
            submit_app=str(STEPS_DIR / "preprocess_spark.py"), **preprocess_args
        )
    else:
        sklearn_processor = SKLearnProcessor(
            framework_version=settings.SKLEARN_FRAMEWORK_VERSION,
            role=role,
            instance_type=processing_instance_type,
            instance_count=processing_instance_count,
            base_job_name=f"{pipeline_name}-preprocess",
            sagemaker_session=session,
            **in_processing,
        )
        preprocess_step_args = sklearn_processor.run(
            code=str(STEPS_DIR / "preprocess.py"), **preprocess_args
        )
    step_preprocess = ProcessingStep(
        name="Preprocess", step_args=preprocess_step_args, cache_config=cache
    )
    split_url = step_preprocess.properties.ProcessingOutputConfig.Outputs

    # Train: XGBoost in script mode (steps/train.py), or the project's own training image.
    xgboost_image = image_uris.retrieve(
        "xgboost", region, version=settings.XGBOOST_FRAMEWORK_VERSION
    )
    hyperparameters = dict(HYPERPARAMETERS)
    spot: dict[str, Any] = {}
    if settings.USE_SPOT_TRAINING:
        hyperparameters["checkpoint_dir"] = CHECKPOINTS
        spot = {
            "use_spot_instances": True,
            "max_run": 3600,
            "max_wait": 7200,
            # Per execution: a new run must not resume from an earlier run's checkpoints.
            "checkpoint_s3_uri": Join(
                on="/",
                values=[
                    "s3:/",
                    default_bucket,
                    pipeline_name,
                    ExecutionVariables.PIPELINE_EXECUTION_ID,
                    "checkpoints",
                ],
            ),
            "checkpoint_local_path": CHECKPOINTS,
        }
    training: dict[str, Any] = {
        "role": role,
        "instance_type": training_instance_type,
        "instance_count": training_instance_count,
        "output_path": f"s3://{default_bucket}/{pipeline_name}/models",
        "base_job_name": f"{pipeline_name}-train",
        "disable_profiler": True,
        "debugger_hook_config": False,
        "sagemaker_session": session,
        **spot,
        **in_training,
    }
    if settings.TRAINING_IMAGE_URI:
        # The project's own training image (its byoc repository): SageMaker runs the image's
        # `train` on the same channels; it writes the xgboost-model that Evaluate reads.
        estimator: EstimatorBase = Estimator(
            image_uri=settings.TRAINING_IMAGE_URI,
            hyperparameters={**hyperparameters, "label": settings.LABEL_COLUMN},
            **training,
        )
    else:
        estimator = XGBoost(
            entry_point="train.py",
            source_dir=str(STEPS_DIR),
            framework_version=settings.XGBOOST_FRAMEWORK_VERSION,
            hyperparameters=hyperparameters,
            **training,
        )
    step_train = TrainingStep(
        name="Train",
        step_args=estimator.fit(
            inputs={
                # On several instances, the train channel may be sharded by object; every
                # instance scores the whole validation set.
                "train": TrainingInput(
                    s3_data=split_url["train"].S3Output.S3Uri,
                    content_type="text/csv",
                    distribution=training_data_distribution,
                ),
                "validation": TrainingInput(
                    s3_data=split_url["validation"].S3Output.S3Uri, content_type="text/csv"
                ),
            }
        ),
        cache_config=cache,
    )
    model_data = step_train.properties.ModelArtifacts.S3ModelArtifacts

    # Evaluate: score the test split with the XGBoost container; the report is a PropertyFile.
    evaluation_report = PropertyFile(
        name="EvaluationReport", output_name="evaluation", path=EVALUATION_REPORT
    )
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
                    source=split_url["test"].S3Output.S3Uri,
                    destination=f"{PROCESSING}/test",
                ),
                # The HTML report's renderer: `code=` ships evaluate.py alone.
                ProcessingInput(
                    input_name="report_module",
                    source=str(STEPS_DIR / "report.py"),
                    destination=f"{PROCESSING}/report_module",
                ),
            ],
            outputs=[ProcessingOutput(output_name="evaluation", source=f"{PROCESSING}/evaluation")],
            arguments=[
                "--model-dir",
                f"{PROCESSING}/model",
                "--test-dir",
                f"{PROCESSING}/test",
                "--output-dir",
                f"{PROCESSING}/evaluation",
                "--report-module",
                f"{PROCESSING}/report_module/report.py",
            ],
        ),
        property_files=[evaluation_report],
        cache_config=cache,
    )
    test_auc = JsonGet(
        step_name=step_evaluate.name,
        property_file=evaluation_report,
        json_path="binary_classification_metrics.auc.value",
    )

    # Register: a model package with the evaluation report as its metrics, awaiting approval.
    evaluation_url = step_evaluate.properties.ProcessingOutputConfig.Outputs["evaluation"]
    report_url = Join(on="/", values=[evaluation_url.S3Output.S3Uri, EVALUATION_REPORT])
    html_url = Join(on="/", values=[evaluation_url.S3Output.S3Uri, EVALUATION_HTML])
    # Served by the project's inference image when it has one (its byoc repository), else by the
    # XGBoost container; either reads the xgboost-model the Train step wrote.
    model = Model(
        image_uri=settings.INFERENCE_IMAGE_URI or xgboost_image,
        model_data=model_data,
        role=role,
        sagemaker_session=session,
    )
    step_register = ModelStep(
        name="Register",
        step_args=model.register(
            content_types=["text/csv"],
            response_types=["text/csv"],
            inference_instances=["ml.t2.medium", "ml.m5.large"],
            transform_instances=["ml.m5.large"],
            model_package_group_name=model_package_group_name,
            approval_status=APPROVAL_STATUS,
            model_metrics=ModelMetrics(
                model_statistics=MetricsSource(s3_uri=report_url, content_type="application/json")
            ),
            description=f"{settings.PROJECT_NAME}: XGBoost binary classifier",
            # The HTML evaluation report, for the approver (docs/approver-guide.md).
            customer_metadata_properties={"EvaluationReportHtml": html_url},
        ),
    )
    step_fail = FailStep(
        name="AucBelowThreshold",
        error_message=Join(
            on=" ",
            values=["Test AUC", test_auc, "is below the ModelAucThreshold", auc_threshold],
        ),
    )
    step_check = ConditionStep(
        name="CheckAuc",
        # JsonGet is a documented condition operand; the SDK's type hints omit it.
        conditions=[ConditionGreaterThanOrEqualTo(left=test_auc, right=auc_threshold)],  # type: ignore[arg-type]
        if_steps=[step_register],
        else_steps=[step_fail],
    )

    return Pipeline(
        name=pipeline_name,
        parameters=[
            processing_instance_type,
            processing_instance_count,
            training_instance_type,
            training_instance_count,
            training_data_distribution,
            input_data_url,
            auc_threshold,
        ],
        steps=[step_preprocess, step_train, step_evaluate, step_check],
        sagemaker_session=session,
    )


def report_local(result: Any) -> None:
    """Print what a local run produced and where: metrics, reports, model, registry entry.

    Also called with the partial result of a failed run: it prints what exists.
    """
    for name, report in result.reports.items():
        metrics = report.get("binary_classification_metrics", {})
        shown = ", ".join(f"{k} {v['value']:.4f}" for k, v in metrics.items())
        print(f"{name}: {shown or json.dumps(report)}")
    evaluation = Path(result.workdir) / "Evaluate" / PROCESSING.lstrip("/") / "evaluation"
    for label, path in (
        ("evaluation report (JSON)", evaluation / EVALUATION_REPORT),
        ("evaluation report (HTML)", evaluation / EVALUATION_HTML),
    ):
        if path.is_file():
            print(f"{label}: {path}")
    artifact = result.properties.get("Train", {}).get("ModelArtifacts", {})
    if artifact:
        local = Path(result.workdir) / "Train" / "model.tar.gz"
        copy = f" (local copy {local})" if local.is_file() else ""
        print(f"model artifact: {artifact['S3ModelArtifacts']}{copy}")
    for name, props in result.properties.items():
        if "ModelPackageArn" in props:
            print(f"registry entry ({name}): {props['ModelPackageArn']}")
            print(f"  status {props['ModelApprovalStatus']}; its metrics are the JSON report")
