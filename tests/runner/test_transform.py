"""The model-creation step and batch transform: split, batch, assemble, content types, servers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from local_run import LocalRunError, StepFailed
from runner_support import (
    BUCKET,
    REGION,
    Runner,
    definition,
    get,
    image_folder,
    keys,
    put,
    step,
    tar_gz,
)

INFERENCE = """
import json

def model_fn(model_dir):
    with open(f"{model_dir}/weights.json") as f:
        return json.load(f)

def input_fn(body, content_type):
    if content_type != "text/csv":
        raise ValueError(f"unsupported content type {content_type}")
    return [[float(v) for v in line.split(",")] for line in body.decode().splitlines()]

def predict_fn(rows, model):
    return [sum(row) * model["scale"] for row in rows]

def output_fn(prediction, accept):
    if accept == "text/csv":
        return "\\n".join(str(p) for p in prediction)
    return json.dumps({"rows": len(prediction), "scores": prediction})
"""
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/byoc-serve:1.0"
SERVE = """
import json, os
from http.server import BaseHTTPRequestHandler, HTTPServer

root = os.environ.get("OPT_ML", "/opt/ml")
scale = json.load(open(os.path.join(root, "model", "weights.json")))["scale"]

class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200 if self.path == "/ping" else 404)
        self.end_headers()

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        reply = json.dumps({"served": float(body.decode()) * scale,
                            "accept": self.headers["Accept"]}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

port = int(os.environ.get("SAGEMAKER_BIND_TO_PORT", "8080"))
HTTPServer(("127.0.0.1", port), Handler).serve_forever()
"""


def stage(inference: str = INFERENCE, batch: dict[str, str] | None = None) -> None:
    put(f"s3://{BUCKET}/model/model.tar.gz", tar_gz({"weights.json": '{"scale": 10}'}))
    put(f"s3://{BUCKET}/code/inference.tar.gz", tar_gz({"inference.py": inference}))
    for name, body in (batch or {"a.csv": "1,2\n3,4\n", "sub/b.csv": "5,5\n"}).items():
        put(f"s3://{BUCKET}/batch/{name}", body)


def transform_args(document: dict[str, Any]) -> dict[str, Any]:
    args: dict[str, Any] = step(document, "Score")["Arguments"]
    return args


def outputs() -> dict[str, str]:
    return {
        key.removeprefix("scored/"): get(f"s3://{BUCKET}/{key}").decode()
        for key in keys(f"s3://{BUCKET}/scored/")
    }


def test_model_step_creates_the_model_and_transform_scores_line_by_line(runner: Runner) -> None:
    stage()
    result = runner(definition("transform")).run()
    assert result.executed == ["Build-CreateModel", "Score"]
    model_name = result.properties["Build-CreateModel"]["ModelName"]
    model = boto3.client("sagemaker", region_name=REGION).describe_model(ModelName=model_name)
    container = model["PrimaryContainer"]
    assert container["ModelDataUrl"] == f"s3://{BUCKET}/model/model.tar.gz"
    assert container["Environment"]["SAGEMAKER_PROGRAM"] == "inference.py"
    # SplitType Line + SingleRecord: a request per line; AssembleWith Line: an answer per line.
    assert outputs() == {
        "a.csv.out": '{"rows": 1, "scores": [30.0]}\n{"rows": 1, "scores": [70.0]}\n',
        "sub/b.csv.out": '{"rows": 1, "scores": [100.0]}\n',
    }
    assert result.properties["Score"]["ModelName"] == model_name


def test_multi_record_batches_lines_into_one_request(runner: Runner) -> None:
    stage()
    document = definition("transform")
    transform_args(document)["BatchStrategy"] = "MultiRecord"
    runner(document).run()
    assert outputs()["a.csv.out"] == '{"rows": 2, "scores": [30.0, 70.0]}\n'


def test_split_none_sends_each_object_whole_and_assemble_none_concatenates(
    runner: Runner,
) -> None:
    stage()
    document = definition("transform")
    args = transform_args(document)
    args["TransformInput"]["SplitType"] = "None"
    args["TransformOutput"].update(AssembleWith="None", Accept="text/csv")
    runner(document).run()
    assert outputs() == {"a.csv.out": "30.0\n70.0", "sub/b.csv.out": "100.0"}


def test_the_content_type_reaches_the_model(runner: Runner) -> None:
    stage()
    document = definition("transform")
    transform_args(document)["TransformInput"]["ContentType"] = "application/json"
    with pytest.raises(LocalRunError, match=r"step Score: model .* answered 500") as info:
        runner(document).run()
    assert "unsupported content type application/json" in str(info.value)
    assert "serve.log" in str(info.value)


def test_default_handlers_decode_csv_and_call_predict(runner: Runner) -> None:
    only_model_fn = """
class Doubler:
    def predict(self, rows):
        return [[2 * v for v in row] for row in rows]

def model_fn(model_dir):
    return Doubler()
"""
    stage(only_model_fn)
    document = definition("transform")
    transform_args(document)["TransformOutput"]["Accept"] = "text/csv"
    runner(document).run()
    assert outputs()["a.csv.out"] == "2.0,4.0\n6.0,8.0\n"


def test_an_image_only_model_runs_its_serve_program(runner: Runner, tmp_path: Path) -> None:
    stage(batch={"n.txt": "1\n2\n"})
    document = definition("transform")
    container = step(document, "Build-CreateModel")["Arguments"]["PrimaryContainer"]
    container.update(Image=IMAGE, Environment={})
    images = {IMAGE.rsplit(":", 1)[0]: image_folder(tmp_path / "serve", {"serve": SERVE})}
    runner(document, images=images).run()
    lines = [json.loads(line) for line in outputs()["n.txt.out"].splitlines()]
    assert lines == [
        {"served": 10.0, "accept": "application/json"},
        {"served": 20.0, "accept": "application/json"},
    ]


def test_a_serve_program_that_dies_names_its_exit_code_and_log(
    runner: Runner, tmp_path: Path
) -> None:
    stage()
    document = definition("transform")
    container = step(document, "Build-CreateModel")["Arguments"]["PrimaryContainer"]
    container.update(Image=IMAGE, Environment={})
    images = {IMAGE: image_folder(tmp_path / "serve", {"serve": "import sys\nsys.exit(4)\n"})}
    with pytest.raises(StepFailed, match=r"exited with code 4 before answering /ping; log .*"):
        runner(document, images=images).run()
    assert keys(f"s3://{BUCKET}/scored/") == []


def test_an_unmapped_image_only_model_is_refused(runner: Runner) -> None:
    stage()
    document = definition("transform")
    container = step(document, "Build-CreateModel")["Arguments"]["PrimaryContainer"]
    container.update(Image=IMAGE, Environment={})
    with pytest.raises(LocalRunError, match=r"step Score: model .* no SAGEMAKER_PROGRAM: map"):
        runner(document).run()


@pytest.mark.parametrize(
    ("section", "field", "value", "message"),
    [
        ("TransformInput", "SplitType", "RecordIO", r"TransformInput.SplitType='RecordIO'"),
        ("TransformInput", "CompressionType", "Gzip", r"TransformInput.CompressionType='Gzip'"),
        ("TransformOutput", "AssembleWith", "Json", r"TransformOutput.AssembleWith='Json'"),
        ("DataProcessing", "JoinSource", "Input", r"DataProcessing.JoinSource='Input'"),
    ],
)
def test_transform_refuses_what_it_cannot_execute(
    runner: Runner, section: str, field: str, value: str, message: str
) -> None:
    stage()
    document = definition("transform")
    transform_args(document).setdefault(section, {})[field] = value
    with pytest.raises(LocalRunError, match=f"step Score: Arguments.{message}"):
        runner(document).run()
    assert keys(f"s3://{BUCKET}/scored/") == []


def test_transform_names_a_model_that_does_not_exist(runner: Runner) -> None:
    stage()
    document = definition("transform")
    document["Steps"] = [step(document, "Score")]
    transform_args(document)["ModelName"] = "made-elsewhere"
    with pytest.raises(LocalRunError, match=r"step Score: ModelName 'made-elsewhere' does not"):
        runner(document).run()


def test_model_step_refuses_several_containers(runner: Runner) -> None:
    document = definition("transform")
    arguments = step(document, "Build-CreateModel")["Arguments"]
    arguments["Containers"] = [arguments.pop("PrimaryContainer")]
    with pytest.raises(LocalRunError, match=r"step Build-CreateModel: field Arguments.Containers"):
        runner(document).run()


def test_cached_transform_is_reused_while_its_output_exists(runner: Runner, tmp_path: Path) -> None:
    stage()
    cache = tmp_path / "cache"
    document = definition("transform")
    # The model's name differs per execution, so the transform's key only holds when the
    # model step is cached too; read the model by a fixed name instead.
    model = step(document, "Build-CreateModel")["Arguments"]
    model["ModelName"] = "fixed-model"
    document["Steps"] = [step(document, "Build-CreateModel")]
    runner(document).run()
    scoring = definition("transform")
    scoring["Steps"] = [step(scoring, "Score")]
    transform_args(scoring)["ModelName"] = "fixed-model"
    assert runner(scoring, cache_dir=cache).run().cached == []
    assert runner(scoring, cache_dir=cache).run().cached == ["Score"]
