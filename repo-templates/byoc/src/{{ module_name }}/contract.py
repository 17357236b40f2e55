"""SageMaker's container contract: where a job finds its inputs and leaves its outputs.

SageMaker mounts everything under /opt/ml. `OPT_ML` moves that root (tests and the pipeline
core's local runner point it at a temporary tree); the `SM_*` variables that SageMaker's
training toolkit defines, when set, override single paths as in the framework containers.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT_ENV = "OPT_ML"
DEFAULT_ROOT = "/opt/ml"


class ContractError(Exception):
    """The job's configuration breaks the contract; the message says what to fix."""


def ml_root(environ: Mapping[str, str] | None = None) -> Path:
    """Return the /opt/ml root (or its override)."""
    env = os.environ if environ is None else environ
    return Path(env.get(ROOT_ENV) or DEFAULT_ROOT)


def model_dir(environ: Mapping[str, str] | None = None) -> Path:
    """Return where a training job writes its model and an endpoint finds it."""
    env = os.environ if environ is None else environ
    return Path(env.get("SM_MODEL_DIR") or ml_root(env) / "model")


def _read_json(path: Path, what: str) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ContractError(
            f"{what} {path} is missing: SageMaker writes it for a training job; "
            f"locally, create it or point {ROOT_ENV} at a tree that has it"
        ) from None
    except json.JSONDecodeError as exc:
        raise ContractError(
            f"{what} {path} is not valid JSON ({exc.msg} at line {exc.lineno})"
        ) from None


@dataclass(frozen=True)
class TrainingEnv:
    """What a training job was given: hyperparameters, channels, hosts, and where to write."""

    root: Path
    hyperparameters: dict[str, str]
    channels: dict[str, Path]
    input_data_config: dict[str, Any]
    current_host: str
    hosts: list[str]
    model_dir: Path
    output_dir: Path
    output_data_dir: Path

    @property
    def failure_file(self) -> Path:
        """SageMaker shows this file's text as the job's FailureReason."""
        return self.output_dir / "failure"

    @classmethod
    def load(cls, environ: Mapping[str, str] | None = None) -> TrainingEnv:
        """Read the job's configuration files (and `SM_*` overrides) under the root."""
        env = os.environ if environ is None else environ
        root = ml_root(env)
        config = root / "input" / "config"
        hps = _read_json(config / "hyperparameters.json", "Hyperparameters file")
        data_config = _read_json(config / "inputdataconfig.json", "Input data config")
        resources = _read_json(config / "resourceconfig.json", "Resource config")
        if not isinstance(hps, dict) or not isinstance(data_config, dict):
            raise ContractError(
                f"{config}: hyperparameters.json and inputdataconfig.json must be JSON objects"
            )
        channels = {
            name: Path(env.get(f"SM_CHANNEL_{name.upper()}") or root / "input" / "data" / name)
            for name in data_config
        }
        output = root / "output"
        return cls(
            root=root,
            hyperparameters={str(k): str(v) for k, v in hps.items()},
            channels=channels,
            input_data_config=data_config,
            current_host=str(resources.get("current_host", "algo-1")),
            hosts=[str(h) for h in resources.get("hosts", ["algo-1"])],
            model_dir=model_dir(env),
            output_dir=output,
            output_data_dir=Path(env.get("SM_OUTPUT_DATA_DIR") or output / "data"),
        )

    def channel(self, name: str) -> Path:
        """Return the folder of channel `name`, or fail naming the channel and the fix."""
        if name not in self.channels:
            configured = ", ".join(sorted(self.channels)) or "none"
            raise ContractError(
                f'Channel "{name}" is missing: the job was given channels [{configured}]; '
                f'add a "{name}" channel to the training job\'s InputDataConfig'
            )
        path = self.channels[name]
        if not path.is_dir() or not any(path.iterdir()):
            raise ContractError(
                f'Channel "{name}" has no data at {path}: point its S3 prefix at the CSV files'
            )
        return path

    def sm_environ(self) -> dict[str, str]:
        """The `SM_*` variables SageMaker's training toolkit would set for this job."""
        out = {
            "SM_MODEL_DIR": str(self.model_dir),
            "SM_OUTPUT_DIR": str(self.output_dir),
            "SM_OUTPUT_DATA_DIR": str(self.output_data_dir),
            "SM_CHANNELS": json.dumps(sorted(self.channels)),
            "SM_HPS": json.dumps(self.hyperparameters, sort_keys=True),
            "SM_CURRENT_HOST": self.current_host,
            "SM_HOSTS": json.dumps(self.hosts),
            "SM_NUM_CPUS": str(os.cpu_count() or 1),
        }
        out.update({f"SM_CHANNEL_{n.upper()}": str(p) for n, p in self.channels.items()})
        return out
