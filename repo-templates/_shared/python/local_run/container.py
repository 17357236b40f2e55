"""SageMaker's training container contract, laid out in a host folder.

/opt/ml/input/config/{hyperparameters,inputdataconfig,resourceconfig}.json, channels under
/opt/ml/input/data/<channel>, the model in /opt/ml/model, output data in /opt/ml/output/data,
a failure reason in /opt/ml/output/failure; and, for script mode, the SM_* variables the
SageMaker training toolkit derives from them.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .jobs import OPT_ML_ENV, Host

GROUP = "homogeneousCluster"


@dataclass(frozen=True)
class Layout:
    """The container paths of one host, under its folder."""

    host: Host

    @property
    def ml(self) -> Path:
        return self.host.ml

    @property
    def config(self) -> Path:
        return self.ml / "input" / "config"

    @property
    def data(self) -> Path:
        return self.ml / "input" / "data"

    @property
    def model(self) -> Path:
        return self.ml / "model"

    @property
    def output(self) -> Path:
        return self.ml / "output"

    @property
    def output_data(self) -> Path:
        return self.output / "data"

    @property
    def failure(self) -> Path:
        return self.output / "failure"

    @property
    def code(self) -> Path:
        return self.ml / "code"

    def create(self) -> None:
        """Make the folders a container finds in place."""
        for path in (self.config, self.data, self.model, self.output_data, self.code):
            path.mkdir(parents=True, exist_ok=True)


def resource_config(host: Host, hosts: list[Host], instance_type: str) -> dict[str, Any]:
    """resourceconfig.json as SageMaker writes it for a homogeneous cluster."""
    names = [h.name for h in hosts]
    return {
        "current_host": host.name,
        "current_instance_type": instance_type,
        "current_group_name": GROUP,
        "hosts": names,
        "instance_groups": [
            {"instance_group_name": GROUP, "instance_type": instance_type, "hosts": names}
        ],
        "network_interface_name": "eth0",
    }


def write_config(
    layout: Layout,
    hyperparameters: dict[str, str],
    channels: dict[str, dict[str, Any]],
    resources: dict[str, Any],
) -> None:
    """Write the three config files of the contract."""
    layout.create()
    files = {
        "hyperparameters.json": hyperparameters,
        "inputdataconfig.json": channels,
        "resourceconfig.json": resources,
    }
    for name, content in files.items():
        (layout.config / name).write_text(json.dumps(content, indent=2), encoding="utf-8")


def toolkit_env(
    layout: Layout,
    resources: dict[str, Any],
    channels: list[str],
    user_hps: dict[str, Any],
    gpus: int,
    extra: dict[str, Any],
) -> dict[str, str]:
    """The SM_* variables the SageMaker training toolkit sets before it runs a script."""
    env = {
        "SM_MODEL_DIR": str(layout.model),
        "SM_INPUT_DIR": str(layout.ml / "input"),
        "SM_INPUT_CONFIG_DIR": str(layout.config),
        "SM_OUTPUT_DIR": str(layout.output),
        "SM_OUTPUT_DATA_DIR": str(layout.output_data),
        "SM_OUTPUT_INTERMEDIATE_DIR": str(layout.output / "intermediate"),
        "SM_HPS": json.dumps(user_hps),
        "SM_CHANNELS": json.dumps(channels),
        "SM_CURRENT_HOST": resources["current_host"],
        "SM_CURRENT_INSTANCE_TYPE": resources["current_instance_type"],
        "SM_HOSTS": json.dumps(resources["hosts"]),
        "SM_NETWORK_INTERFACE_NAME": resources["network_interface_name"],
        "SM_RESOURCE_CONFIG": json.dumps(resources),
        "SM_NUM_GPUS": str(gpus),
        "SM_NUM_CPUS": str(os.cpu_count() or 1),
        "SM_USER_ARGS": json.dumps(hp_arguments(user_hps)),
    }
    for name in channels:
        env[f"SM_CHANNEL_{name.upper()}"] = str(layout.data / name)
    for key, value in user_hps.items():
        env[f"SM_HP_{key.upper()}"] = _text(value)
    training_env = {
        "channel_input_dirs": {n: str(layout.data / n) for n in channels},
        "current_host": resources["current_host"],
        "hosts": resources["hosts"],
        "hyperparameters": user_hps,
        "model_dir": str(layout.model),
        "num_gpus": gpus,
        "output_data_dir": str(layout.output_data),
        "resource_config": resources,
        **extra,
    }
    env["SM_TRAINING_ENV"] = json.dumps(training_env)
    return env


def base_env(layout: Layout, job_name: str) -> dict[str, str]:
    """What every training container gets: its /opt/ml root and the job name."""
    return {OPT_ML_ENV: str(layout.ml), "TRAINING_JOB_NAME": job_name}


def hp_arguments(user_hps: dict[str, Any]) -> list[str]:
    """Hyperparameters as the toolkit passes them to a script: --name value."""
    argv = []
    for key, value in user_hps.items():
        argv += [f"--{key}", _text(value)]
    return argv


def _text(value: Any) -> str:
    return json.dumps(value) if isinstance(value, dict | list) else str(value)
