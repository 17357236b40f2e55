"""The LLM pipeline: prepare data → LoRA fine-tuning → evaluate → register if good enough.

Built with the SageMaker Python SDK v2 (`PipelineSession` + `step_args`). `get_pipeline` is the
one definition; the cloud run (`run-pipeline`) upserts it and the local run (`run-pipeline
--local`) executes the definition JSON it produces, so the two cannot drift.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sagemaker import image_uris
from sagemaker.huggingface.estimator import HuggingFace
from sagemaker.inputs import TrainingInput
from sagemaker.model import Model
from sagemaker.model_metrics import MetricsSource, ModelMetrics
from sagemaker.processing import ProcessingInput, ProcessingOutput, ScriptProcessor
from sagemaker.workflow.condition_step import ConditionStep
from sagemaker.workflow.conditions import (
    ConditionGreaterThanOrEqualTo,
    ConditionLessThanOrEqualTo,
)
from sagemaker.workflow.execution_variables import ExecutionVariables
from sagemaker.workflow.fail_step import FailStep
from sagemaker.workflow.functions import Join, JsonGet
from sagemaker.workflow.model_step import ModelStep
from sagemaker.workflow.parameters import ParameterFloat, ParameterInteger, ParameterString
from sagemaker.workflow.pipeline import Pipeline
from sagemaker.workflow.pipeline_context import PipelineSession
from sagemaker.workflow.properties import PropertyFile
from sagemaker.workflow.steps import CacheConfig, ProcessingStep, TrainingStep

from . import settings
from .core.platform import JobNetwork
from .core.session import get_session

STEPS_DIR = Path(__file__).resolve().parent / "steps"
PROCESSING = "/opt/ml/processing"
CHECKPOINTS = "/opt/ml/checkpoints"
EVALUATION_REPORT = "evaluation.json"
# Registration is always PendingManualApproval: an approver, not the pipeline, approves.
APPROVAL_STATUS = "PendingManualApproval"
# Ranges the run-pipeline command holds parameter overrides to (the training step checks again).
PARAMETER_RANGES: dict[str, tuple[float, float]] = {
    "LoraRank": (1, 256),
    "LoraAlpha": (1, 1024),
    "LearningRate": (1e-6, 1e-2),
    "Epochs": (1, 100),
    "BatchSize": (1, 512),
    "TrainingInstanceCount": (1, 64),
    "MinRougeL": (0.0, 1.0),
}
# torchrun (one process per GPU and host) in SageMaker. The local runner starts no launcher: it
# runs each host's script once, on the CPU, which is what train.py does without WORLD_SIZE; so
# the local run's definition leaves this one setting off (prepare_local), and nothing else.
DISTRIBUTION: dict[str, Any] = {"torch_distributed": {"enabled": True}}
_launcher = {"on": True}
# Log lines of the training step that SageMaker turns into training job metrics.
METRIC_DEFINITIONS = [
    {"Name": name, "Regex": rf"{name}=([0-9.eE+-]+|nan)"}
    for name in ("train_loss", "validation_loss", "tokens_per_second")
]


def default_input_data_url(bucket: str) -> str:
    """Return where the pipeline reads its JSON Lines data unless told otherwise (a prefix)."""
    return f"s3://{bucket}/{settings.PIPELINE_NAME}/input/"


def default_base_model_url(bucket: str) -> str:
    """Return the base model's S3 prefix: the answer's, else the project bucket's base-model/."""
    return settings.BASE_MODEL_S3_URI or f"s3://{bucket}/{settings.BASE_MODEL_PREFIX}"


def check_parameters(values: dict[str, Any]) -> None:
    """Raise ValueError naming the parameter, its range and the fix for an out-of-range value."""
    for name, (low, high) in PARAMETER_RANGES.items():
        if name not in values:
            continue
        try:
            number = float(values[name])
        except (TypeError, ValueError):
            raise ValueError(
                f"{name}={values[name]!r} is not a number: use {low} to {high}"
            ) from None
        if not low <= number <= high:
            raise ValueError(
                f"{name}={values[name]} is out of range: use a value from {low} to {high}"
            )
    for name in ("InputDataUrl", "BaseModelUrl"):
        if name in values and not str(values[name]).startswith("s3://"):
            raise ValueError(f"{name}={values[name]!r} is not an S3 URI: use s3://bucket/prefix/")


def training_image(region: str) -> str:
    """Return the HuggingFace PyTorch training image that every job of the pipeline runs in."""
    return str(
        image_uris.retrieve(
            "huggingface",
            region,
            version=settings.TRANSFORMERS_VERSION,
            base_framework_version=f"pytorch{settings.PYTORCH_VERSION}",
            py_version=settings.PY_VERSION,
            instance_type="ml.g5.2xlarge",  # the image is GPU-only; it runs on CPU instances too
            image_scope="training",
        )
    )


def inference_image(region: str) -> str:
    """Return the large-model inference (DJL LMI) image the registered model is served with."""
    return str(image_uris.retrieve("djl-lmi", region, version=settings.LMI_VERSION))


def get_pipeline(
    region: str,
    role: str,
    default_bucket: str,
    pipeline_name: str = settings.PIPELINE_NAME,
    model_package_group_name: str = settings.MODEL_PACKAGE_GROUP_NAME,
    session: PipelineSession | None = None,
    network: JobNetwork | None = None,
) -> Pipeline:
    """Return the LLM pipeline; `role` is the SageMaker execution role its jobs run as.

    `network` puts every job in the platform's VPC with KMS-encrypted storage; the cloud run
    always passes it (see cli.platform_network).
    """
    session = session or get_session(region, default_bucket)
    in_processing = network.processing() if network else {}
    in_training = network.training() if network else {}
    cache = CacheConfig(enable_caching=True, expire_after="P30D")
    image = training_image(region)
    launcher, _launcher["on"] = _launcher["on"], True  # prepare_local's switch lasts one build

    processing_instance_type = ParameterString("ProcessingInstanceType", "ml.m5.xlarge")
    evaluation_instance_type = ParameterString("EvaluationInstanceType", "ml.g5.xlarge")
    training_instance_type = ParameterString(
        "TrainingInstanceType", settings.TRAINING_INSTANCE_TYPE
    )
    training_instance_count = ParameterInteger("TrainingInstanceCount", 1)
    input_data_url = ParameterString("InputDataUrl", default_input_data_url(default_bucket))
    base_model_url = ParameterString("BaseModelUrl", default_base_model_url(default_bucket))
    epochs = ParameterInteger("Epochs", settings.EPOCHS)
    learning_rate = ParameterFloat("LearningRate", settings.LEARNING_RATE)
    lora_rank = ParameterInteger("LoraRank", settings.LORA_RANK)
    lora_alpha = ParameterInteger("LoraAlpha", settings.LORA_ALPHA)
    batch_size = ParameterInteger("BatchSize", 8)
    min_rouge_l = ParameterFloat("MinRougeL", settings.MIN_ROUGE_L)
    max_perplexity = ParameterFloat("MaxPerplexity", settings.MAX_PERPLEXITY)
    parameters: list[Any] = [
        processing_instance_type,
        evaluation_instance_type,
        training_instance_type,
        training_instance_count,
        input_data_url,
        base_model_url,
        epochs,
        learning_rate,
        lora_rank,
        lora_alpha,
        batch_size,
        min_rouge_l,
        max_perplexity,
    ]

    # Prepare: check, deduplicate, split and format the JSON Lines with the repository's template.
    preparer = ScriptProcessor(
        image_uri=image,
        command=["python3"],
        role=role,
        instance_type=processing_instance_type,
        instance_count=1,
        base_job_name=f"{pipeline_name}-prepare",
        sagemaker_session=session,
        **in_processing,
    )
    step_prepare = ProcessingStep(
        name="PrepareData",
        step_args=preparer.run(
            code=str(STEPS_DIR / "prepare.py"),
            inputs=[
                ProcessingInput(
                    input_name="raw", source=input_data_url, destination=f"{PROCESSING}/input/data"
                ),
                ProcessingInput(
                    input_name="template",
                    source=str(STEPS_DIR / "prompt_template.json"),
                    destination=f"{PROCESSING}/input/template",
                ),
            ],
            outputs=[
                ProcessingOutput(output_name=name, source=f"{PROCESSING}/output/{name}")
                for name in ("train", "validation", "test")
            ],
            arguments=[
                "--input-dir",
                f"{PROCESSING}/input/data",
                "--template",
                f"{PROCESSING}/input/template",
                "--output-dir",
                f"{PROCESSING}/output",
            ],
        ),
        cache_config=cache,
    )
    split_url = step_prepare.properties.ProcessingOutputConfig.Outputs

    # Fine-tune: LoRA through PEFT, one process per GPU and host (torchrun), on spot capacity
    # with checkpoints in S3 so an interrupted job resumes from its newest checkpoint.
    estimator = HuggingFace(
        entry_point="train.py",
        source_dir=str(STEPS_DIR),
        transformers_version=settings.TRANSFORMERS_VERSION,
        pytorch_version=settings.PYTORCH_VERSION,
        py_version=settings.PY_VERSION,
        # The pinned image, named explicitly: the SDK cannot check an instance type that is a
        # pipeline parameter against torch_distributed's GPU list, and skips that with an image.
        image_uri=image,
        role=role,
        instance_type=training_instance_type,
        instance_count=training_instance_count,
        distribution=DISTRIBUTION if launcher else None,
        hyperparameters={
            "epochs": epochs,
            "learning_rate": learning_rate,
            "lora_r": lora_rank,
            "lora_alpha": lora_alpha,
            "batch_size": batch_size,
            "merge_weights": str(settings.MERGE_WEIGHTS).lower(),
            "checkpoint_dir": CHECKPOINTS,
        },
        environment={"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"},
        metric_definitions=METRIC_DEFINITIONS,
        use_spot_instances=True,
        max_run=8 * 3600,
        max_wait=16 * 3600,
        # Per execution: a new run must not resume from an earlier run's checkpoints.
        checkpoint_s3_uri=Join(
            on="/",
            values=[
                "s3:/",
                default_bucket,
                pipeline_name,
                ExecutionVariables.PIPELINE_EXECUTION_ID,
                "checkpoints",
            ],
        ),
        checkpoint_local_path=CHECKPOINTS,
        output_path=f"s3://{default_bucket}/{pipeline_name}/models",
        base_job_name=f"{pipeline_name}-finetune",
        disable_profiler=True,
        debugger_hook_config=False,
        sagemaker_session=session,
        **in_training,
    )
    step_train = TrainingStep(
        name="FineTune",
        step_args=estimator.fit(
            inputs={
                "train": TrainingInput(split_url["train"].S3Output.S3Uri),
                "validation": TrainingInput(split_url["validation"].S3Output.S3Uri),
                "model": TrainingInput(base_model_url),
            }
        ),
        cache_config=cache,
    )
    model_data = step_train.properties.ModelArtifacts.S3ModelArtifacts

    # Evaluate: perplexity, exact match and ROUGE-L on the test split; the report is a PropertyFile.
    evaluation_report = PropertyFile(
        name="EvaluationReport", output_name="evaluation", path=EVALUATION_REPORT
    )
    judge_arguments: list[Any] = []
    if settings.USE_LLM_JUDGE:
        llm_judge = ParameterString("LlmJudge", "true")
        parameters.append(llm_judge)
        judge_arguments = [
            "--judge",
            llm_judge,
            "--judge-model-id",
            settings.JUDGE_MODEL_ID,
            "--judge-region",
            region,
        ]
    evaluator = ScriptProcessor(
        image_uri=image,
        command=["python3"],
        role=role,
        instance_type=evaluation_instance_type,
        instance_count=1,
        base_job_name=f"{pipeline_name}-evaluate",
        env={"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"},
        sagemaker_session=session,
        **in_processing,
    )
    step_evaluate = ProcessingStep(
        name="Evaluate",
        step_args=evaluator.run(
            code=str(STEPS_DIR / "evaluate.py"),
            inputs=[
                ProcessingInput(
                    input_name="base-model",
                    source=base_model_url,
                    destination=f"{PROCESSING}/base-model",
                ),
                ProcessingInput(
                    input_name="model", source=model_data, destination=f"{PROCESSING}/model"
                ),
                ProcessingInput(
                    input_name="test",
                    source=split_url["test"].S3Output.S3Uri,
                    destination=f"{PROCESSING}/test",
                ),
            ],
            outputs=[ProcessingOutput(output_name="evaluation", source=f"{PROCESSING}/evaluation")],
            arguments=[
                "--base-model-dir",
                f"{PROCESSING}/base-model",
                "--model-dir",
                f"{PROCESSING}/model",
                "--test-dir",
                f"{PROCESSING}/test",
                "--output-dir",
                f"{PROCESSING}/evaluation",
                *judge_arguments,
            ],
        ),
        property_files=[evaluation_report],
        cache_config=cache,
    )

    def metric(name: str) -> JsonGet:
        return JsonGet(
            step_name=step_evaluate.name,
            property_file=evaluation_report,
            json_path=f"llm_metrics.{name}.value",
        )

    rouge, ppl = metric("rouge_l"), metric("perplexity")

    # Register: the adapter (and merged weights when asked) with the report as its metrics,
    # served by the large-model inference container, awaiting an approver.
    report_url = Join(
        on="/",
        values=[
            step_evaluate.properties.ProcessingOutputConfig.Outputs["evaluation"].S3Output.S3Uri,
            EVALUATION_REPORT,
        ],
    )
    serving_env: dict[str, Any] = (
        {"HF_MODEL_ID": "/opt/ml/model/merged"}
        if settings.MERGE_WEIGHTS
        else {
            "HF_MODEL_ID": base_model_url,
            "OPTION_ENABLE_LORA": "true",
            "OPTION_ADAPTERS_PATH": "/opt/ml/model/adapter",
        }
    )
    model = Model(
        image_uri=inference_image(region),
        model_data=model_data,
        role=role,
        env=serving_env,
        sagemaker_session=session,
    )
    step_register = ModelStep(
        name="RegisterAdapter",
        step_args=model.register(
            content_types=["application/json"],
            response_types=["application/json"],
            inference_instances=["ml.g5.xlarge", "ml.g5.2xlarge", "ml.g5.12xlarge"],
            transform_instances=["ml.g5.xlarge"],
            model_package_group_name=model_package_group_name,
            approval_status=APPROVAL_STATUS,
            model_metrics=ModelMetrics(
                model_statistics=MetricsSource(s3_uri=report_url, content_type="application/json")
            ),
            description=f"{settings.PROJECT_NAME}: LoRA adapter"
            + (" and merged weights" if settings.MERGE_WEIGHTS else ""),
        ),
    )
    step_fail = FailStep(
        name="MetricsBelowThreshold",
        error_message=Join(
            on=" ",
            values=[
                "Test ROUGE-L",
                rouge,
                "must be at least MinRougeL",
                min_rouge_l,
                "and perplexity",
                ppl,
                "at most MaxPerplexity",
                max_perplexity,
            ],
        ),
    )
    step_check = ConditionStep(
        name="CheckMetrics",
        # JsonGet is a documented condition operand; the SDK's type hints omit it.
        conditions=[
            ConditionGreaterThanOrEqualTo(left=rouge, right=min_rouge_l),  # type: ignore[arg-type]
            ConditionLessThanOrEqualTo(left=ppl, right=max_perplexity),  # type: ignore[arg-type]
        ],
        if_steps=[step_register],
        else_steps=[step_fail],
    )

    return Pipeline(
        name=pipeline_name,
        parameters=parameters,
        steps=[step_prepare, step_train, step_evaluate, step_check],
        sagemaker_session=session,
    )


def prepare_local(session: Any, bucket: str) -> dict[str, Any]:
    """Stage what a local run needs and return its parameter overrides (yours still win).

    The local run fine-tunes a tiny model built in code (tiny_model.py) instead of the answer's
    base model: it is written to the bucket's local-base-model/ prefix. The sample data goes to
    the default input prefix when nothing is there yet. Bedrock is not called locally.
    """
    import tempfile

    from . import tiny_model

    _launcher["on"] = False  # for the definition the core builds next only (see DISTRIBUTION)

    root = Path(__file__).resolve().parents[2]
    s3 = session.client("s3")
    prefix = "local-base-model/"
    with tempfile.TemporaryDirectory() as folder:
        staged = tiny_model.stage_base_model(
            tiny_model.corpus(root / "data", STEPS_DIR / "prompt_template.json"), Path(folder)
        )
        for path in sorted(p for p in staged.rglob("*") if p.is_file()):
            s3.upload_file(str(path), bucket, prefix + path.relative_to(staged).as_posix())
    input_prefix = default_input_data_url(bucket).removeprefix(f"s3://{bucket}/")
    if not s3.list_objects_v2(Bucket=bucket, Prefix=input_prefix).get("KeyCount", 0):
        sample = root / "data" / settings.SAMPLE_DATA
        s3.upload_file(str(sample), bucket, input_prefix + sample.name)
    overrides = {**settings.LOCAL_PARAMETERS, "BaseModelUrl": f"s3://{bucket}/{prefix}"}
    if settings.USE_LLM_JUDGE:
        overrides["LlmJudge"] = "false"
    return overrides


def report_local(result: Any) -> None:
    """Print what a local run produced: the adapter's metrics beside the base model's."""
    for name, report in result.reports.items():
        adapted = report.get("llm_metrics", {})
        base = report.get("base_model_metrics", {})
        if not adapted:
            print(f"{name}: {json.dumps(report)}")
            continue
        print(f"{name}: metric  fine-tuned  base model")
        for metric, value in adapted.items():
            before = base.get(metric, {}).get("value")
            shown = "" if before is None else f"{before:.4f}"
            print(f"  {metric:<12} {value['value']:>10.4f}  {shown:>10}")
    for name, props in result.properties.items():
        if "ModelPackageArn" in props:
            print(f"{name}: {props['ModelPackageArn']} ({props['ModelApprovalStatus']})")
