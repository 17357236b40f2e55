"""Evaluation step: held-out perplexity, exact match and ROUGE-L of the fine-tuned adapter.

Loads the base model and the adapter that training produced, scores the test split, and writes
evaluation.json. The pipeline reads the metrics from it through a PropertyFile (the condition
before registration) and attaches it to the model package as its model metrics. The same metrics
of the base model without the adapter are reported beside them, so the gain is visible.

Optionally, an LLM on Amazon Bedrock judges each answer against the reference (1 to 5); the
pipeline turns this on only when the repository was generated with the judge answer.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import re
import tarfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

REPORT_FILE = "evaluation.json"
IGNORE = -100
LOG = logging.getLogger("evaluate")
JUDGE_PROMPT = """You grade answers to instructions. Compare the candidate answer with the
reference answer and reply with one digit from 1 (wrong or unrelated) to 5 (correct and complete),
and nothing else.

Instruction and context:
{prompt}

Reference answer:
{reference}

Candidate answer:
{prediction}
"""


# -- metrics ----------------------------------------------------------------------------------


def normalize(text: str) -> str:
    """Lowercase, drop surrounding punctuation and collapse whitespace, for exact match."""
    return " ".join(text.lower().strip().strip(".!?,;:\"'").split())


def exact_match(predictions: list[str], references: list[str]) -> float:
    """Return the share of predictions equal to their reference after normalization."""
    if len(predictions) != len(references) or not references:
        raise ValueError("exact match needs as many predictions as references, at least one")
    hits = sum(normalize(p) == normalize(r) for p, r in zip(predictions, references, strict=True))
    return hits / len(references)


def rouge_l(predictions: list[str], references: list[str]) -> float:
    """Return the mean ROUGE-L F-measure (longest common subsequence) with `rouge-score`."""
    from rouge_score import rouge_scorer

    if len(predictions) != len(references) or not references:
        raise ValueError("ROUGE-L needs as many predictions as references, at least one")
    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)
    scores = [
        scorer.score(r, p)["rougeL"].fmeasure for p, r in zip(predictions, references, strict=True)
    ]
    return float(sum(scores) / len(scores))


def perplexity(
    model: Any,
    tokenizer: Any,
    rows: list[dict[str, str]],
    max_length: int = 256,
    batch_size: int = 16,
) -> float:
    """Return exp(mean loss over response tokens) of `model` on the prepared `rows`."""
    import torch

    device = next(model.parameters()).device
    total, count = 0.0, 0
    model.eval()
    with torch.no_grad():
        for start in range(0, len(rows), batch_size):
            ids, labels = [], []
            for row in rows[start : start + batch_size]:
                prompt = tokenizer(row["prompt"], add_special_tokens=False)["input_ids"]
                answer = [
                    *tokenizer(row["response"], add_special_tokens=False)["input_ids"],
                    tokenizer.eos_token_id,
                ]
                ids.append((prompt + answer)[:max_length])
                labels.append(([IGNORE] * len(prompt) + answer)[:max_length])
            width = max(len(i) for i in ids)
            pad = tokenizer.pad_token_id
            input_ids = torch.tensor([i + [pad] * (width - len(i)) for i in ids], device=device)
            label_ids = torch.tensor(
                [x + [IGNORE] * (width - len(x)) for x in labels], device=device
            )
            mask = torch.tensor([[1] * len(i) + [0] * (width - len(i)) for i in ids], device=device)
            tokens = int((label_ids[:, 1:] != IGNORE).sum())
            loss = model(input_ids=input_ids, attention_mask=mask, labels=label_ids).loss
            total += float(loss) * tokens
            count += tokens
    if not count:
        raise ValueError("no response tokens to score: the test split is empty")
    return math.exp(total / count)


def generate(
    model: Any, tokenizer: Any, prompts: list[str], max_new_tokens: int = 32, batch_size: int = 16
) -> list[str]:
    """Return the greedy continuation of each prompt, up to EOS or `max_new_tokens`."""
    import torch

    device = next(model.parameters()).device
    tokenizer.padding_side = "left"  # generation continues from the right end of each row
    out: list[str] = []
    model.eval()
    with torch.no_grad():
        for start in range(0, len(prompts), batch_size):
            chunk = prompts[start : start + batch_size]
            encoded = tokenizer(chunk, return_tensors="pt", padding=True, add_special_tokens=False)
            batch = {k: encoded[k].to(device) for k in ("input_ids", "attention_mask")}
            produced = model.generate(
                **batch,
                max_new_tokens=max_new_tokens,
                do_sample=False,
                pad_token_id=tokenizer.pad_token_id,
                eos_token_id=tokenizer.eos_token_id,
            )
            new = produced[:, batch["input_ids"].shape[1] :]
            out += [t.strip() for t in tokenizer.batch_decode(new, skip_special_tokens=True)]
    return out


def score(
    model: Any, tokenizer: Any, rows: list[dict[str, str]], max_new_tokens: int = 32
) -> dict[str, Any]:
    """Return perplexity, exact match and ROUGE-L of `model` on `rows`, and its predictions."""
    started = time.perf_counter()
    references = [r["response"] for r in rows]
    predictions = generate(model, tokenizer, [r["prompt"] for r in rows], max_new_tokens)
    return {
        "perplexity": perplexity(model, tokenizer, rows),
        "exact_match": exact_match(predictions, references),
        "rouge_l": rouge_l(predictions, references),
        "predictions": predictions,
        "seconds": time.perf_counter() - started,
    }


def build_report(
    adapted: dict[str, Any],
    baseline: dict[str, Any] | None,
    rows: list[dict[str, str]],
    judge: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Return the evaluation report: metrics in the model registry's {"value": ...} layout."""

    def metrics(result: dict[str, Any]) -> dict[str, Any]:
        names = ("perplexity", "exact_match", "rouge_l")
        return {
            n: {"value": round(float(result[n]), 6), "standard_deviation": "NaN"} for n in names
        }

    report: dict[str, Any] = {"llm_metrics": metrics(adapted), "test_rows": len(rows)}
    if baseline is not None:
        report["base_model_metrics"] = metrics(baseline)
    if judge is not None:
        report["llm_metrics"]["judge_score"] = {
            "value": round(judge["mean_score"], 6),
            "standard_deviation": "NaN",
        }
        report["judge"] = judge
    report["examples"] = [
        {"prompt": r["prompt"], "reference": r["response"], "prediction": p}
        for r, p in list(zip(rows, adapted["predictions"], strict=True))[:5]
    ]
    report["evaluation_seconds"] = round(adapted["seconds"], 3)
    return report


# -- the LLM judge (Amazon Bedrock) ------------------------------------------------------------


def judge_request(model_id: str, prompt: str, reference: str, prediction: str) -> dict[str, Any]:
    """Return the Bedrock Converse request that asks `model_id` to grade one answer."""
    text = JUDGE_PROMPT.format(prompt=prompt.strip(), reference=reference, prediction=prediction)
    return {
        "modelId": model_id,
        "messages": [{"role": "user", "content": [{"text": text}]}],
        "inferenceConfig": {"maxTokens": 5, "temperature": 0.0},
    }


def parse_grade(response: dict[str, Any]) -> int | None:
    """Return the 1-5 grade in a Converse response, or None when the reply holds none."""
    try:
        parts = response["output"]["message"]["content"]
    except (KeyError, TypeError):
        return None
    text = " ".join(str(p.get("text", "")) for p in parts if isinstance(p, dict))
    match = re.search(r"\b([1-5])\b", text)
    return int(match.group(1)) if match else None


def judge(
    client: Any, model_id: str, rows: list[dict[str, str]], predictions: list[str]
) -> dict[str, Any]:
    """Grade every prediction with the judge model; replies without a grade are counted apart."""
    grades: list[int] = []
    unparsed = 0
    for row, prediction in zip(rows, predictions, strict=True):
        reply = client.converse(
            **judge_request(model_id, row["prompt"], row["response"], prediction)
        )
        grade = parse_grade(reply)
        if grade is None:
            unparsed += 1
        else:
            grades.append(grade)
    if not grades:
        raise RuntimeError(
            f"the judge model {model_id} gave no grade for any of {len(rows)} answers: "
            "check that the model follows JUDGE_PROMPT, or turn the judge off"
        )
    return {
        "model_id": model_id,
        "mean_score": sum(grades) / len(grades),
        "graded": len(grades),
        "unparsed": unparsed,
    }


# -- I/O --------------------------------------------------------------------------------------


def unpack(directory: Path) -> Path:
    """Extract the model.tar.gz in `directory` (if any) and return the folder with its files."""
    archive = directory / "model.tar.gz"
    if archive.exists():
        target = directory / "unpacked"
        with tarfile.open(archive) as tar:
            tar.extractall(target, filter="data")
        return target
    return directory


def find_model_folder(directory: Path) -> Path:
    """Return the shallowest folder under `directory` that holds a config.json."""
    folder = unpack(directory)
    configs = sorted(folder.rglob("config.json"), key=lambda p: len(p.parts))
    if not configs:
        raise FileNotFoundError(f"no config.json under {directory}: is it a saved base model?")
    return configs[0].parent


def load_adapted(base_dir: Path, model_dir: Path) -> tuple[Any, Any]:
    """Load the base model with the trained adapter on top, and the tokenizer saved with it."""
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    adapter = unpack(model_dir) / "adapter"
    if not (adapter / "adapter_config.json").exists():
        raise FileNotFoundError(f"no adapter/adapter_config.json in {model_dir}: was it trained?")
    base = AutoModelForCausalLM.from_pretrained(find_model_folder(base_dir), local_files_only=True)
    tokenizer = AutoTokenizer.from_pretrained(adapter, local_files_only=True)
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    return PeftModel.from_pretrained(base, adapter, is_trainable=False), tokenizer


@contextmanager
def without_adapter(model: Any) -> Iterator[None]:
    """Run the block with the adapter switched off: the base model's own behaviour."""
    with model.disable_adapter():
        yield


def read_rows(directory: Path) -> list[dict[str, str]]:
    """Read the prepared test split."""
    files = sorted(directory.rglob("*.jsonl"))
    if not files:
        raise FileNotFoundError(f"no .jsonl file under {directory}")
    return [
        json.loads(line)
        for f in files
        for line in f.read_text("utf-8").splitlines()
        if line.strip()
    ]


def _bool(text: str) -> bool:
    return text.strip().lower() in ("true", "1", "yes")


def main(argv: list[str] | None = None) -> None:
    """Evaluate the adapter on the test split and write the report."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--base-model-dir", type=Path, required=True)
    parser.add_argument("--model-dir", type=Path, required=True)
    parser.add_argument("--test-dir", type=Path, required=True)
    parser.add_argument("--output-dir", type=Path, required=True)
    parser.add_argument("--max-new-tokens", type=int, default=32)
    parser.add_argument("--compare-base", type=_bool, default=True)
    parser.add_argument("--judge", type=_bool, default=False)
    parser.add_argument("--judge-model-id", default="")
    parser.add_argument("--judge-region", default=os.environ.get("AWS_REGION", ""))
    args = parser.parse_args(argv)

    rows = read_rows(args.test_dir)
    model, tokenizer = load_adapted(args.base_model_dir, args.model_dir)
    adapted = score(model, tokenizer, rows, args.max_new_tokens)
    baseline = None
    if args.compare_base:
        with without_adapter(model) if args.compare_base else nullcontext():
            baseline = score(model, tokenizer, rows, args.max_new_tokens)
    graded = None
    if args.judge:
        if not args.judge_model_id:
            raise SystemExit("--judge true needs --judge-model-id, e.g. a Bedrock model id")
        import boto3

        client = boto3.client("bedrock-runtime", region_name=args.judge_region or None)
        graded = judge(client, args.judge_model_id, rows, adapted["predictions"])
    report = build_report(adapted, baseline, rows, graded)
    args.output_dir.mkdir(parents=True, exist_ok=True)
    (args.output_dir / REPORT_FILE).write_text(json.dumps(report, indent=2), encoding="utf-8")
    LOG.info("metrics %s", json.dumps(report["llm_metrics"]))


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    main()
