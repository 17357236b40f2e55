"""The `sagemaker_*` hyperparameters: each is honoured or refused by name, never dropped."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from .errors import LocalRunError

# Turned on, these ask for a launcher (MPI, parameter servers, torchrun, SMDDP) that the local
# run does not start; turned off they say nothing and are accepted.
DISTRIBUTION_FLAGS = (
    "sagemaker_mpi_enabled",
    "sagemaker_parameter_server_enabled",
    "sagemaker_distributed_dataparallel_enabled",
    "sagemaker_torch_distributed_enabled",
    "sagemaker_pytorch_xla_multi_worker_enabled",
    "sagemaker_multi_worker_mirrored_strategy_enabled",
)
# Settings of those launchers: meaningless while every flag is off.
DISTRIBUTION_SETTINGS = (
    "sagemaker_mpi_num_of_processes_per_host",
    "sagemaker_mpi_custom_mpi_options",
    "sagemaker_distributed_dataparallel_custom_mpi_options",
    "sagemaker_instance_type",
)
HONOURED = (
    "sagemaker_program",
    "sagemaker_submit_directory",
    "sagemaker_region",
    "sagemaker_container_log_level",
    "sagemaker_job_name",
    *DISTRIBUTION_FLAGS,
    *DISTRIBUTION_SETTINGS,
)


def decode(value: Any) -> Any:
    """Decode a hyperparameter as the SageMaker training toolkit does (JSON, else the string)."""
    try:
        return json.loads(value)
    except (TypeError, ValueError):
        return value


@dataclass(frozen=True)
class Hyperparameters:
    """A training job's hyperparameters, split into the user's and SageMaker's own."""

    raw: dict[str, str]
    user: dict[str, Any]
    program: str | None
    submit_directory: str | None
    region: str | None
    log_level: int | None
    job_name: str | None

    @property
    def script_mode(self) -> bool:
        """Whether a framework container would run the user's program (script mode)."""
        return self.program is not None


def parse(step: str, raw: dict[str, Any]) -> Hyperparameters:
    """Split and check `raw` (HyperParameters as written in the definition)."""
    values = {k: decode(v) for k, v in raw.items()}
    own = {k: v for k, v in values.items() if k.startswith("sagemaker_")}
    unknown = sorted(set(own) - set(HONOURED))
    if unknown:
        raise LocalRunError(
            f"step {step}: HyperParameters.{unknown[0]} is not something the local run "
            f"implements (it honours {sorted(HONOURED)}): run the step in SageMaker"
        )
    enabled = [f for f in DISTRIBUTION_FLAGS if str(own.get(f, False)).lower() == "true"]
    if enabled:
        raise LocalRunError(
            f"step {step}: HyperParameters.{enabled[0]} is on; the local run does not start that "
            "distribution launcher: turn it off for local runs (several hosts still run as "
            "processes with SM_HOSTS set), or run the step in SageMaker"
        )
    level = own.get("sagemaker_container_log_level")
    if level is not None and not isinstance(level, int):
        raise LocalRunError(
            f"step {step}: HyperParameters.sagemaker_container_log_level is {level!r}: use a "
            "logging level number such as 20"
        )
    program = own.get("sagemaker_program")
    submit = own.get("sagemaker_submit_directory")
    if program is not None and submit is None:
        raise LocalRunError(
            f"step {step}: HyperParameters.sagemaker_program {program!r} comes without "
            "sagemaker_submit_directory: the local run needs the staged code (set source_dir)"
        )
    if submit is not None and program is None:
        raise LocalRunError(
            f"step {step}: HyperParameters.sagemaker_submit_directory comes without "
            "sagemaker_program: name the entry point"
        )
    return Hyperparameters(
        raw={k: str(v) for k, v in raw.items()},
        user={k: v for k, v in values.items() if not k.startswith("sagemaker_")},
        program=None if program is None else str(program),
        submit_directory=None if submit is None else str(submit),
        region=own.get("sagemaker_region"),
        log_level=level,
        job_name=own.get("sagemaker_job_name"),
    )
