"""Execute a SageMaker pipeline definition on this machine, without Docker.

The runner reads the definition JSON that the SageMaker SDK produced (the same document the
cloud run upserts) and executes its steps with the arguments, hyperparameters, channels and
input/output wiring written there: each job gets a temporary folder laid out like its container
(`<workdir>/<step>/opt/ml/...`), container paths in arguments are re-rooted into it, and data
moves through S3 exactly as the definition says, against whatever endpoint boto3 points at
(moto in tests). Registration goes to that endpoint's model registry. Anything the runner
does not know how to execute raises `LocalRunError` naming the step and the field: a local run
never silently skips part of the definition.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import tarfile
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CONTAINER_ROOT = "/opt/ml"
_TOKEN = re.compile(r"\.?([A-Za-z0-9_]+)|\['([^']*)'\]|\[(\d+)\]")
_COMPARISONS = {
    "GreaterThanOrEqualTo": lambda a, b: a >= b,
    "GreaterThan": lambda a, b: a > b,
    "LessThanOrEqualTo": lambda a, b: a <= b,
    "LessThan": lambda a, b: a < b,
    "Equals": lambda a, b: a == b,
}


class LocalRunError(RuntimeError):
    """The definition could not be executed locally; the message names the step and the cause."""


class PipelineFailed(LocalRunError):
    """The pipeline reached a FailStep; the message is the step's ErrorMessage."""


@dataclass
class LocalRunResult:
    """What a local run produced."""

    execution_id: str
    workdir: Path
    executed: list[str] = field(default_factory=list)
    cached: list[str] = field(default_factory=list)
    properties: dict[str, dict[str, Any]] = field(default_factory=dict)
    reports: dict[str, Any] = field(default_factory=dict)
    model_package_arn: str | None = None
    failure: str | None = None


def parse_s3_url(url: str) -> tuple[str, str]:
    """Split s3://bucket/key into (bucket, key)."""
    if not isinstance(url, str) or not url.startswith("s3://"):
        raise LocalRunError(f"{url!r} is not an S3 URL: use s3://bucket/key")
    bucket, _, key = url[len("s3://") :].partition("/")
    return bucket, key


def step_references(value: Any) -> set[str]:
    """Return the names of the steps whose properties `value` reads."""
    found: set[str] = set()
    if isinstance(value, dict):
        get = value.get("Get")
        if isinstance(get, str) and get.startswith("Steps."):
            found.add(get.split(".")[1])
        for key, item in value.items():
            if key not in ("IfSteps", "ElseSteps"):
                found |= step_references(item)
    elif isinstance(value, list):
        for item in value:
            found |= step_references(item)
    return found


class LocalPipelineRun:
    """One local execution of a pipeline definition."""

    def __init__(
        self,
        definition: dict[str, Any],
        workdir: Path,
        boto_session: Any,
        parameters: dict[str, Any] | None = None,
        pipeline_name: str = "local-pipeline",
        python: str = sys.executable,
        cache_dir: Path | None = None,
    ) -> None:
        self.definition = definition
        self.cache_dir = cache_dir
        self.cache_keys: dict[str, str] = {}
        self.workdir = workdir
        self.s3 = boto_session.client("s3")
        self.sagemaker = boto_session.client("sagemaker")
        self.python = python
        self.pipeline_name = pipeline_name
        self.result = LocalRunResult(execution_id=uuid.uuid4().hex[:12], workdir=workdir)
        self.parameters = self._parameters(parameters or {})
        self.property_files: dict[str, dict[str, Path]] = {}

    # -- values -------------------------------------------------------------------------------

    def _parameters(self, overrides: dict[str, Any]) -> dict[str, Any]:
        declared = {p["Name"]: p for p in self.definition.get("Parameters", [])}
        unknown = sorted(set(overrides) - set(declared))
        if unknown:
            raise LocalRunError(
                f"unknown pipeline parameter(s) {unknown}: use one of {sorted(declared)}"
            )
        values = {}
        for name, spec in declared.items():
            value = overrides.get(name, spec.get("DefaultValue"))
            if value is None:
                raise LocalRunError(f"pipeline parameter {name} has no default: pass a value")
            cast: Callable[[Any], Any] = _CASTS.get(spec.get("Type", "String"), str)
            values[name] = cast(value)
        return values

    def get(self, path: str) -> Any:
        """Return the value of a `Get` reference: a parameter, execution variable or property."""
        head, _, rest = path.partition(".")
        if head == "Parameters":
            if rest not in self.parameters:
                raise LocalRunError(f"the definition reads unknown parameter {rest!r}")
            return self.parameters[rest]
        if head == "Execution":
            execution = {
                "PipelineExecutionId": self.result.execution_id,
                "PipelineName": self.pipeline_name,
                "PipelineExecutionArn": f"local:{self.pipeline_name}/{self.result.execution_id}",
            }
            if rest not in execution:
                raise LocalRunError(f"the local run has no execution variable {rest!r}")
            return execution[rest]
        if head == "Steps":
            step, _, prop = rest.partition(".")
            if step not in self.result.properties:
                raise LocalRunError(f"{path} is read before step {step!r} ran")
            value: Any = self.result.properties[step]
            for match in _TOKEN.finditer(prop):
                name, key, index = match.groups()
                try:
                    if index is not None:
                        value = (
                            list(value.values())[int(index)]
                            if isinstance(value, dict)
                            else value[int(index)]
                        )
                    else:
                        value = value[name if name is not None else key]
                except (KeyError, IndexError, TypeError) as exc:
                    raise LocalRunError(f"the local run does not provide {path}") from exc
            return value
        raise LocalRunError(f"the local run cannot resolve {path!r}")

    def resolve(self, value: Any) -> Any:
        """Return `value` with every Get, Std:Join and Std:JsonGet replaced by what it denotes."""
        if isinstance(value, dict):
            if set(value) == {"Get"}:
                return self.get(value["Get"])
            if set(value) == {"Std:Join"}:
                join = value["Std:Join"]
                return str(join["On"]).join(str(self.resolve(v)) for v in join["Values"])
            if set(value) == {"Std:JsonGet"}:
                return self._json_get(value["Std:JsonGet"])
            unknown = [k for k in value if k.startswith("Std:")]
            if unknown:
                raise LocalRunError(f"the local run does not implement function {unknown[0]}")
            return {k: self.resolve(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        return value

    def _json_get(self, spec: dict[str, Any]) -> Any:
        ref = spec["PropertyFile"]["Get"]  # Steps.<step>.PropertyFiles.<name>
        _, step, _, name = ref.split(".")
        path = self.property_files.get(step, {}).get(name)
        if path is None or not path.exists():
            raise LocalRunError(f"property file {name} of step {step} was not produced ({path})")
        value: Any = json.loads(path.read_text(encoding="utf-8"))
        for match in _TOKEN.finditer(spec["Path"]):
            key, quoted, index = match.groups()
            value = value[int(index)] if index is not None else value[key or quoted]
        return value

    # -- S3 and container layout --------------------------------------------------------------

    def reroot(self, root: Path, value: Any) -> Any:
        """Map a container path (/opt/ml/...) to its place under the step folder `root`."""
        if isinstance(value, str) and (
            value == CONTAINER_ROOT or value.startswith(CONTAINER_ROOT + "/")
        ):
            return str(root) + value
        return value

    def download(self, url: str, dest: Path) -> None:
        """Copy every object under the S3 prefix `url` into `dest`, as SageMaker's S3Prefix does."""
        bucket, prefix = parse_s3_url(url)
        dest.mkdir(parents=True, exist_ok=True)
        count = 0
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for obj in page.get("Contents", []):
                rel = obj["Key"][len(prefix) :].lstrip("/") or Path(obj["Key"]).name
                target = dest / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                self.s3.download_file(bucket, obj["Key"], str(target))
                count += 1
        if not count:
            raise LocalRunError(f"nothing at {url}: upload the data there or pass another URL")

    def upload(self, src: Path, url: str) -> None:
        """Copy every file under `src` to the S3 prefix `url`."""
        bucket, prefix = parse_s3_url(url)
        for path in sorted(p for p in src.rglob("*") if p.is_file()):
            key = f"{prefix.rstrip('/')}/{path.relative_to(src).as_posix()}".lstrip("/")
            self.s3.upload_file(str(path), bucket, key)

    def _exec(self, step: str, argv: list[str], cwd: Path, env: dict[str, str]) -> None:
        log = self.workdir / step / "job.log"
        with log.open("w", encoding="utf-8") as out:
            code = subprocess.run(
                argv,
                cwd=cwd,
                env={**os.environ, **env},
                stdout=out,
                stderr=subprocess.STDOUT,
                check=False,
            ).returncode
        if code != 0:
            tail = "\n".join(log.read_text(encoding="utf-8").splitlines()[-20:])
            raise LocalRunError(f"step {step} exited with {code}; log {log}:\n{tail}")

    def _command(self, step: str, root: Path, argv: list[str]) -> list[str]:
        if not argv or Path(argv[0]).name not in ("python", "python3"):
            raise LocalRunError(
                f"step {step} runs {argv[:1]}: the local run only runs Python scripts"
            )
        return [self.python, *(self.reroot(root, a) for a in argv[1:])]

    # -- steps ---------------------------------------------------------------------------------

    def run_processing(self, step: dict[str, Any]) -> dict[str, Any]:
        """Run a processing job's script with its inputs downloaded and its outputs uploaded."""
        name, args = step["Name"], self.resolve(step["Arguments"])
        root = self.workdir / name
        for item in args.get("ProcessingInputs", []):
            if "S3Input" not in item:
                raise LocalRunError(f"step {name}: input {item.get('InputName')} is not an S3Input")
            s3_input = item["S3Input"]
            self.download(s3_input["S3Uri"], Path(self.reroot(root, s3_input["LocalPath"])))
        outputs = args.get("ProcessingOutputConfig", {}).get("Outputs", [])
        for item in outputs:
            Path(self.reroot(root, item["S3Output"]["LocalPath"])).mkdir(
                parents=True, exist_ok=True
            )
        app = args["AppSpecification"]
        argv = self._command(
            name, root, [*app.get("ContainerEntrypoint", []), *app.get("ContainerArguments", [])]
        )
        self._exec(name, argv, root, {k: str(v) for k, v in args.get("Environment", {}).items()})
        props: dict[str, Any] = {"ProcessingOutputConfig": {"Outputs": {}}}
        local_outputs = {}
        for item in outputs:
            local = Path(self.reroot(root, item["S3Output"]["LocalPath"]))
            self.upload(local, item["S3Output"]["S3Uri"])
            local_outputs[item["OutputName"]] = local
            props["ProcessingOutputConfig"]["Outputs"][item["OutputName"]] = item
        self.property_files[name] = {
            pf["PropertyFileName"]: local_outputs[pf["OutputName"]] / pf["FilePath"]
            for pf in step.get("PropertyFiles", [])
        }
        for file_name, path in self.property_files[name].items():
            if path.exists():
                self.result.reports[f"{name}.{file_name}"] = json.loads(path.read_text("utf-8"))
        return props

    def run_training(self, step: dict[str, Any]) -> dict[str, Any]:
        """Run a script-mode training job: channels, hyperparameters and SM_* as SageMaker does."""
        name, args = step["Name"], self.resolve(step["Arguments"])
        root = self.workdir / name
        ml = root / CONTAINER_ROOT.lstrip("/")
        job = f"{name}-{self.result.execution_id}"
        raw_hps: dict[str, str] = args.get("HyperParameters", {})
        hps = {k: _decode(v) for k, v in raw_hps.items()}
        if "sagemaker_submit_directory" not in hps or "sagemaker_program" not in hps:
            raise LocalRunError(f"step {name} is not script mode: no sagemaker_program to run")
        code = ml / "code"
        code.mkdir(parents=True, exist_ok=True)
        bundle = root / "sourcedir.tar.gz"
        bucket, key = parse_s3_url(hps["sagemaker_submit_directory"])
        self.s3.download_file(bucket, key, str(bundle))
        with tarfile.open(bundle) as tar:
            tar.extractall(code, filter="data")
        channels = []
        env = {
            "SM_MODEL_DIR": str(ml / "model"),
            "SM_OUTPUT_DATA_DIR": str(ml / "output" / "data"),
            "SM_HPS": json.dumps({k: v for k, v in hps.items() if not k.startswith("sagemaker_")}),
            "SM_CURRENT_HOST": "algo-1",
            "SM_HOSTS": json.dumps(["algo-1"]),
            "SM_NUM_GPUS": "0",
            "SM_NUM_CPUS": str(os.cpu_count() or 1),
        }
        for channel in args.get("InputDataConfig", []):
            source = channel["DataSource"].get("S3DataSource")
            if source is None:
                raise LocalRunError(f"step {name}: channel {channel['ChannelName']} is not on S3")
            local = ml / "input" / "data" / channel["ChannelName"]
            self.download(source["S3Uri"], local)
            env[f"SM_CHANNEL_{channel['ChannelName'].upper()}"] = str(local)
            channels.append(channel["ChannelName"])
        env["SM_CHANNELS"] = json.dumps(channels)
        config = ml / "input" / "config"
        config.mkdir(parents=True, exist_ok=True)
        (config / "hyperparameters.json").write_text(json.dumps(raw_hps), encoding="utf-8")
        checkpoint = args.get("CheckpointConfig")
        if checkpoint:
            local_ckpt = Path(
                self.reroot(root, checkpoint.get("LocalPath", f"{CONTAINER_ROOT}/checkpoints"))
            )
            local_ckpt.mkdir(parents=True, exist_ok=True)
            bucket, prefix = parse_s3_url(checkpoint["S3Uri"])
            if self.s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("KeyCount", 0):
                self.download(checkpoint["S3Uri"], local_ckpt)
        (ml / "model").mkdir(parents=True, exist_ok=True)
        (ml / "output" / "data").mkdir(parents=True, exist_ok=True)
        argv = [self.python, str(hps["sagemaker_program"])]
        for key, value in hps.items():
            if not key.startswith("sagemaker_"):
                argv += [f"--{key}", str(self.reroot(root, value))]
        self._exec(name, argv, code, env)
        if checkpoint:
            self.upload(local_ckpt, checkpoint["S3Uri"])
        archive = root / "model.tar.gz"
        with tarfile.open(archive, "w:gz") as tar:
            for path in sorted((ml / "model").iterdir()):
                tar.add(path, arcname=path.name)
        model_url = (
            f"{args['OutputDataConfig']['S3OutputPath'].rstrip('/')}/{job}/output/model.tar.gz"
        )
        bucket, key = parse_s3_url(model_url)
        self.s3.upload_file(str(archive), bucket, key)
        return {"TrainingJobName": job, "ModelArtifacts": {"S3ModelArtifacts": model_url}}

    def run_register(self, step: dict[str, Any]) -> dict[str, Any]:
        """Create the model package in the registry the endpoint points at, and check it stuck."""
        args = self.resolve(step["Arguments"])
        metrics = args.get("ModelMetrics")
        if metrics:  # the SDK writes empty sections; the API rejects nothing, but keep it tidy
            args["ModelMetrics"] = {k: v for k, v in metrics.items() if v}
        group = args.get("ModelPackageGroupName")
        if group:
            self._ensure_group(group)
        arn = self.sagemaker.create_model_package(**args)["ModelPackageArn"]
        stored = self.sagemaker.describe_model_package(ModelPackageName=arn)
        for key in (
            "ModelPackageGroupName",
            "ModelApprovalStatus",
            "ModelMetrics",
            "InferenceSpecification",
        ):
            if key in args and stored.get(key) != args[key]:
                raise LocalRunError(
                    f"the model registry at {self.sagemaker.meta.endpoint_url} did not keep {key} "
                    f"of {arn}: sent {args[key]!r}, got {stored.get(key)!r}"
                )
        self.result.model_package_arn = arn
        return {"ModelPackageArn": arn, "ModelApprovalStatus": stored.get("ModelApprovalStatus")}

    def _ensure_group(self, group: str) -> None:
        from botocore.exceptions import ClientError

        try:
            self.sagemaker.describe_model_package_group(ModelPackageGroupName=group)
        except ClientError as exc:
            if exc.response["Error"]["Code"] not in ("ValidationException", "ResourceNotFound"):
                raise
            self.sagemaker.create_model_package_group(ModelPackageGroupName=group)

    def run_condition(self, step: dict[str, Any]) -> dict[str, Any]:
        """Evaluate the conditions and run the IfSteps or the ElseSteps."""
        args = step["Arguments"]
        outcome = all(self._condition(c) for c in args.get("Conditions", []))
        self.run_steps(args.get("IfSteps" if outcome else "ElseSteps", []))
        return {"Outcome": outcome}

    def _condition(self, condition: dict[str, Any]) -> bool:
        kind = condition["Type"]
        if kind in _COMPARISONS:
            left, right = (
                self.resolve(condition["LeftValue"]),
                self.resolve(condition["RightValue"]),
            )
            return bool(_COMPARISONS[kind](left, right))
        if kind == "Not":
            return not self._condition(condition["Expression"])
        if kind == "Or":
            return any(self._condition(c) for c in condition["Conditions"])
        if kind == "In":
            return self.resolve(condition["QueryValue"]) in self.resolve(condition["Values"])
        raise LocalRunError(f"the local run does not implement condition type {kind}")

    def run_fail(self, step: dict[str, Any]) -> dict[str, Any]:
        """Stop the run with the step's error message."""
        message = str(self.resolve(step["Arguments"].get("ErrorMessage", "")))
        self.result.failure = message
        raise PipelineFailed(f"step {step['Name']} failed the pipeline: {message}")

    # -- scheduling ----------------------------------------------------------------------------

    def run_steps(self, steps: Iterable[dict[str, Any]]) -> None:
        """Run `steps` in an order that honours their data references and DependsOn."""
        pending = list(steps)
        runners = {
            "Processing": self.run_processing,
            "Training": self.run_training,
            "RegisterModel": self.run_register,
            "Condition": self.run_condition,
            "Fail": self.run_fail,
        }
        while pending:
            ready = next(
                (
                    s
                    for s in pending
                    if (step_references(s["Arguments"]) | set(s.get("DependsOn", [])))
                    <= set(self.result.properties)
                ),
                None,
            )
            if ready is None:
                names = [s["Name"] for s in pending]
                raise LocalRunError(f"steps {names} wait on steps that never run: check DependsOn")
            pending.remove(ready)
            runner = runners.get(ready["Type"])
            if runner is None:
                raise LocalRunError(
                    f"step {ready['Name']} has type {ready['Type']}, which the local run does not "
                    f"execute: run it in SageMaker (run-pipeline without --local)"
                )
            name = ready["Name"]
            (self.workdir / name).mkdir(parents=True, exist_ok=True)
            self.result.executed.append(name)  # start order: a condition, then its branch
            key = self._cache_key(ready)
            hit = self._cache_load(name, key) if key else None
            if hit is not None:
                self.result.cached.append(name)
                self.result.properties[name] = hit
                continue
            self.result.properties[name] = runner(ready)
            if key:
                self._cache_store(name, key)

    # -- step cache ------------------------------------------------------------------------------

    def _cache_key(self, step: dict[str, Any]) -> str | None:
        """Key a cacheable job as SageMaker's step cache does, or return None when it is not one.

        The key covers the step's definition (the staged code's S3 keys carry content hashes),
        the values of the parameters it reads, and the keys of the steps it reads from.
        """
        config = step.get("CacheConfig", {})
        if self.cache_dir is None or not config.get("Enabled"):
            return None
        if step["Type"] not in ("Processing", "Training"):
            return None
        upstream = {name: self.cache_keys.get(name) for name in step_references(step["Arguments"])}
        if None in upstream.values():
            return None  # an input came from a step that is never cached
        text = json.dumps(step, sort_keys=True)
        material = {
            "step": step,
            "parameters": {p: self.parameters[p] for p in re.findall(r'"Parameters\.(\w+)"', text)},
            "upstream": upstream,
        }
        key = hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()
        self.cache_keys[step["Name"]] = key
        return key

    def _cache_file(self, key: str) -> Path:
        assert self.cache_dir is not None
        return self.cache_dir / f"{key}.json"

    def _cache_load(self, name: str, key: str) -> dict[str, Any] | None:
        """Return the properties of an earlier identical run whose outputs still exist, or None."""
        path = self._cache_file(key)
        if not path.exists():
            return None
        entry = json.loads(path.read_text(encoding="utf-8"))
        step = next(s for s in _all_steps(self.definition["Steps"]) if s["Name"] == name)
        max_age = _duration_seconds(step["CacheConfig"].get("ExpireAfter"))
        if max_age is not None and time.time() - entry["stored_at"] > max_age:
            return None
        for url in entry["outputs"]:
            bucket, prefix = parse_s3_url(url)
            if not self.s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("KeyCount", 0):
                return None  # the outputs are gone (another endpoint, or deleted): run again
        files = {}
        for file_name, content in entry["property_files"].items():
            target = self.workdir / name / "cached" / f"{file_name}.json"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(json.dumps(content), encoding="utf-8")
            files[file_name] = target
            self.result.reports[f"{name}.{file_name}"] = content
        self.property_files[name] = files
        properties: dict[str, Any] = entry["properties"]
        return properties

    def _cache_store(self, name: str, key: str) -> None:
        properties = self.result.properties[name]
        outputs = [
            o["S3Output"]["S3Uri"]
            for o in properties.get("ProcessingOutputConfig", {}).get("Outputs", {}).values()
        ]
        if "ModelArtifacts" in properties:
            outputs.append(properties["ModelArtifacts"]["S3ModelArtifacts"])
        entry = {
            "step": name,
            "stored_at": time.time(),
            "properties": properties,
            "outputs": outputs,
            "property_files": {
                file_name: json.loads(path.read_text(encoding="utf-8"))
                for file_name, path in self.property_files.get(name, {}).items()
            },
        }
        assert self.cache_dir is not None
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        self._cache_file(key).write_text(json.dumps(entry), encoding="utf-8")

    def run(self) -> LocalRunResult:
        """Run the whole definition; raises PipelineFailed when a FailStep is reached."""
        self.run_steps(self.definition["Steps"])
        return self.result


def _all_steps(steps: list[dict[str, Any]]) -> Iterable[dict[str, Any]]:
    for step in steps:
        yield step
        yield from _all_steps(step["Arguments"].get("IfSteps", []))
        yield from _all_steps(step["Arguments"].get("ElseSteps", []))


_DURATION = re.compile(r"P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?")


def _duration_seconds(text: str | None) -> float | None:
    """Return an ISO 8601 duration such as P30D or PT12H in seconds (None: no expiry)."""
    if not text:
        return None
    match = _DURATION.fullmatch(text)
    if match is None or text in ("P", "PT"):
        raise LocalRunError(f"CacheConfig ExpireAfter {text!r}: use weeks, days, hours, minutes")
    weeks, days, hours, minutes, seconds = (int(g or 0) for g in match.groups())
    return float((((weeks * 7 + days) * 24 + hours) * 60 + minutes) * 60 + seconds)


def _decode(value: str) -> Any:
    """Decode a hyperparameter as the SageMaker training toolkit does (JSON, else the string)."""
    try:
        return json.loads(value)
    except (TypeError, ValueError):
        return value


def _bool(value: Any) -> bool:
    return value if isinstance(value, bool) else str(value).lower() == "true"


_CASTS: dict[str, Callable[[Any], Any]] = {"Integer": int, "Float": float, "Boolean": _bool}
