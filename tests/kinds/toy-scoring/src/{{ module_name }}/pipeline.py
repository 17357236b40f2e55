"""The toy scoring pipeline: one processing step over the input CSV."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sagemaker.processing import ProcessingInput, ProcessingOutput
from sagemaker.sklearn.processing import SKLearnProcessor
from sagemaker.workflow.parameters import ParameterString
from sagemaker.workflow.pipeline import Pipeline
from sagemaker.workflow.properties import PropertyFile
from sagemaker.workflow.steps import ProcessingStep

from . import settings
from .core.platform import JobNetwork
from .core.session import get_session

STEPS_DIR = Path(__file__).resolve().parent / "steps"
PROCESSING = "/opt/ml/processing"


def get_pipeline(
    region: str, role: str, default_bucket: str, network: JobNetwork | None = None
) -> Pipeline:
    """Return the pipeline; `network` puts its job in the platform's VPC with KMS."""
    session = get_session(region, default_bucket)
    sample = Path(str(settings.SAMPLE_INPUT)).name
    input_url = ParameterString(
        "InputDataUrl", f"s3://{default_bucket}/{settings.PIPELINE_NAME}/input/{sample}"
    )
    processor = SKLearnProcessor(
        framework_version="1.2-1",
        role=role,
        instance_type="ml.m5.large",
        instance_count=1,
        sagemaker_session=session,
        **(network.processing() if network else {}),
    )
    report = PropertyFile(name="Score", output_name="score", path="score.json")
    step = ProcessingStep(
        name="Score",
        step_args=processor.run(
            code=str(STEPS_DIR / "score.py"),
            inputs=[ProcessingInput(source=input_url, destination=f"{PROCESSING}/input")],
            outputs=[ProcessingOutput(output_name="score", source=f"{PROCESSING}/score")],
            arguments=["--input-dir", f"{PROCESSING}/input", "--output-dir", f"{PROCESSING}/score"],
        ),
        property_files=[report],
    )
    return Pipeline(
        name=settings.PIPELINE_NAME,
        parameters=[input_url],
        steps=[step],
        sagemaker_session=session,
    )


def report_local(result: Any) -> None:
    """Print the score report."""
    for name, report in result.reports.items():
        print(f"{name}: total {report['total']}")
