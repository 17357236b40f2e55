"""Fine-tuning step: LoRA adapters (PEFT) on a causal language model, with resumable checkpoints.

Runs in the SageMaker HuggingFace PyTorch training container. SageMaker passes hyperparameters as
`--name value` arguments and the channels as SM_CHANNEL_*: `train` and `validation` (prepared
JSON Lines of {"prompt", "response"}) and `model` (the base model: a folder saved with
`save_pretrained`, or a model.tar.gz of one). With `torch_distributed`, SageMaker starts one
process per GPU and host through torchrun; each process trains on its shard of the data and rank
0 writes checkpoints and the model. Checkpoints go to /opt/ml/checkpoints, which SageMaker syncs
with S3 on managed spot training, so an interrupted job resumes from the newest one.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import re
import shutil
import tarfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Base models come from the job's model channel; a hub is neither reachable nor wanted.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import torch

LOG = logging.getLogger("train")
IGNORE = -100  # label id the loss skips: prompt and padding tokens
CHECKPOINT_PREFIX = "checkpoint-"
STATE_FILE = "training_state.pt"
ADAPTER_DIR = "adapter"
MERGED_DIR = "merged"
# Ranges a fine-tuning run makes sense in; the pipeline checks the same (pipeline.py).
LORA_RANK_RANGE = (1, 256)
LEARNING_RATE_RANGE = (1e-6, 1e-2)


class HyperparameterError(ValueError):
    """A hyperparameter is out of range; the message names it and the range."""


@dataclass(frozen=True)
class TrainConfig:
    """The knobs of one fine-tuning run."""

    epochs: int = 3
    learning_rate: float = 2e-4
    lora_r: int = 8
    lora_alpha: int = 16
    lora_dropout: float = 0.05
    target_modules: str = "all-linear"
    batch_size: int = 8
    max_length: int = 256
    max_steps: int = -1
    warmup_steps: int = 0
    # Gradients are clipped to this norm (0 turns it off), as transformers' Trainer does: without
    # it one large step can undo an epoch of training, and a run's quality depends on its seed.
    max_grad_norm: float = 1.0
    checkpoint_every: int = 50
    seed: int = 42
    precision: str = "auto"

    def check(self) -> None:
        """Raise HyperparameterError for a value outside the range the run makes sense in."""
        low, high = LORA_RANK_RANGE
        if not low <= self.lora_r <= high:
            raise HyperparameterError(f"lora_r={self.lora_r}: use a LoRA rank from {low} to {high}")
        if self.lora_alpha <= 0:
            raise HyperparameterError(f"lora_alpha={self.lora_alpha}: use a positive number")
        low_lr, high_lr = LEARNING_RATE_RANGE
        if not low_lr <= self.learning_rate <= high_lr:
            raise HyperparameterError(
                f"learning_rate={self.learning_rate}: use a value from {low_lr} to {high_lr}"
            )
        if self.epochs < 1 or self.batch_size < 1 or self.max_length < 8:
            raise HyperparameterError(
                f"epochs={self.epochs}, batch_size={self.batch_size}, max_length="
                f"{self.max_length}: use epochs and batch_size of 1 or more and max_length of 8+"
            )
        if self.max_grad_norm < 0:
            raise HyperparameterError(
                f"max_grad_norm={self.max_grad_norm}: use 0 (no clipping) or a positive norm"
            )
        if self.precision not in ("auto", "fp32", "bf16", "fp16"):
            raise HyperparameterError(f"precision={self.precision!r}: use auto, fp32, bf16 or fp16")


@dataclass
class TrainResult:
    """What a run did: steps, tokens seen and time, so throughput can be reported."""

    steps: int = 0
    resumed_from: int = 0
    tokens: int = 0
    seconds: float = 0.0
    train_loss: float = float("nan")
    validation_loss: float = float("nan")
    losses: list[float] = field(default_factory=list)

    @property
    def tokens_per_second(self) -> float:
        """Training tokens (prompt and response, no padding) per second of this process."""
        return self.tokens / self.seconds if self.seconds else 0.0


# -- data -------------------------------------------------------------------------------------


def read_jsonl(directory: Path) -> list[dict[str, str]]:
    """Read every prepared JSON Lines file of one channel."""
    files = sorted(directory.rglob("*.jsonl"))
    if not files:
        raise FileNotFoundError(f"no .jsonl file in channel folder {directory}")
    rows = []
    for path in files:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if line.strip():
                row = json.loads(line)
                if not {"prompt", "response"} <= set(row):
                    raise ValueError(f"{path}:{number}: not a prepared row (prompt, response)")
                rows.append(row)
    return rows


def encode(row: dict[str, str], tokenizer: Any, max_length: int) -> dict[str, list[int]]:
    """Tokenize prompt + response + EOS; only the response and EOS count in the loss."""
    prompt = tokenizer(row["prompt"], add_special_tokens=False)["input_ids"]
    response = tokenizer(row["response"], add_special_tokens=False)["input_ids"]
    response = [*response, tokenizer.eos_token_id]
    ids = (prompt + response)[:max_length]
    labels = ([IGNORE] * len(prompt) + response)[:max_length]
    return {"input_ids": ids, "labels": labels}


def collate(batch: list[dict[str, list[int]]], pad_id: int) -> dict[str, torch.Tensor]:
    """Right-pad a batch of encoded rows into tensors with an attention mask."""
    width = max(len(item["input_ids"]) for item in batch)

    def pad(values: list[int], fill: int) -> list[int]:
        return values + [fill] * (width - len(values))

    return {
        "input_ids": torch.tensor([pad(b["input_ids"], pad_id) for b in batch]),
        "labels": torch.tensor([pad(b["labels"], IGNORE) for b in batch]),
        "attention_mask": torch.tensor([pad([1] * len(b["input_ids"]), 0) for b in batch]),
    }


# -- model ------------------------------------------------------------------------------------


def unpack_model(model_dir: Path) -> Path:
    """Return the folder holding config.json, extracting a model.tar.gz first when there is one."""
    if (model_dir / "config.json").exists():
        return model_dir
    archives = sorted(model_dir.rglob("*.tar.gz"))
    if archives:
        target = model_dir.parent / f"{model_dir.name}-unpacked"
        with tarfile.open(archives[0]) as tar:
            tar.extractall(target, filter="data")
        model_dir = target
    configs = sorted(model_dir.rglob("config.json"), key=lambda p: len(p.parts))
    if not configs:
        raise FileNotFoundError(
            f"no config.json under {model_dir}: stage the base model with save_pretrained "
            "(config, weights and tokenizer files) at the BaseModelUrl prefix"
        )
    return configs[0].parent


def load_base(model_dir: Path, dtype: torch.dtype = torch.float32) -> tuple[Any, Any]:
    """Load the base model and its tokenizer from a local folder, never from a hub."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder = unpack_model(model_dir)
    tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    model = AutoModelForCausalLM.from_pretrained(folder, local_files_only=True, dtype=dtype)
    return model, tokenizer


def lora_config(config: TrainConfig) -> Any:
    """Return the PEFT LoRA configuration for a causal LM."""
    from peft import LoraConfig, TaskType

    targets: str | list[str] = config.target_modules
    if targets != "all-linear":
        targets = [t.strip() for t in config.target_modules.split(",") if t.strip()]
    return LoraConfig(
        task_type=TaskType.CAUSAL_LM,
        r=config.lora_r,
        lora_alpha=config.lora_alpha,
        lora_dropout=config.lora_dropout,
        target_modules=targets,
    )


def with_adapter(model: Any, config: TrainConfig) -> Any:
    """Wrap `model` with fresh LoRA adapters; only the adapters train."""
    from peft import get_peft_model

    return get_peft_model(model, lora_config(config))


def autocast_dtype(precision: str, device: torch.device) -> torch.dtype | None:
    """Return the mixed-precision dtype for `precision` on `device` (None: full precision)."""
    if precision == "fp32" or (precision == "auto" and device.type != "cuda"):
        return None
    if precision == "fp16":
        return torch.float16
    if precision == "bf16" or torch.cuda.is_bf16_supported():
        return torch.bfloat16
    return torch.float16


# -- checkpoints ------------------------------------------------------------------------------


def latest_checkpoint(directory: Path) -> Path | None:
    """Return the checkpoint folder with the highest step in `directory`, or None."""
    if not directory.is_dir():
        return None
    found = [
        p
        for p in directory.iterdir()
        if p.is_dir()
        and re.fullmatch(rf"{CHECKPOINT_PREFIX}\d+", p.name)
        and (p / STATE_FILE).exists()
    ]
    return max(found, key=lambda p: int(p.name[len(CHECKPOINT_PREFIX) :]), default=None)


def save_checkpoint(
    directory: Path, step: int, model: Any, optimizer: Any, scheduler: Any, keep: int = 2
) -> Path:
    """Write adapter weights and optimizer state for `step`; keep the newest `keep` checkpoints."""
    target = directory / f"{CHECKPOINT_PREFIX}{step}"
    staging = directory / f".{CHECKPOINT_PREFIX}{step}.partial"
    shutil.rmtree(staging, ignore_errors=True)
    model.save_pretrained(staging)
    torch.save(
        {
            "step": step,
            "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict(),
            "rng": torch.get_rng_state(),
        },
        staging / STATE_FILE,
    )
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)  # a checkpoint is either complete or absent
    older = sorted(
        (p for p in directory.glob(f"{CHECKPOINT_PREFIX}*") if p != target and p.is_dir()),
        key=lambda p: int(p.name[len(CHECKPOINT_PREFIX) :]),
    )
    for stale in older[: max(len(older) - (keep - 1), 0)]:
        shutil.rmtree(stale, ignore_errors=True)
    return target


def load_checkpoint(checkpoint: Path, model: Any, optimizer: Any, scheduler: Any) -> int:
    """Restore adapter weights and optimizer state from `checkpoint`; return its step."""
    from peft import set_peft_model_state_dict
    from safetensors.torch import load_file

    set_peft_model_state_dict(model, load_file(str(checkpoint / "adapter_model.safetensors")))
    state = torch.load(checkpoint / STATE_FILE, weights_only=False)
    optimizer.load_state_dict(state["optimizer"])
    scheduler.load_state_dict(state["scheduler"])
    torch.set_rng_state(state["rng"])
    return int(state["step"])


# -- training ---------------------------------------------------------------------------------


def _distributed() -> tuple[int, int]:
    """Return (rank, world size), joining the process group torchrun set up if there is one."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1 and not torch.distributed.is_initialized():
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        torch.distributed.init_process_group(backend=backend)
    rank = torch.distributed.get_rank() if world > 1 else 0
    return rank, world


def _batches(
    encoded: list[dict[str, list[int]]],
    batch_size: int,
    epoch: int,
    seed: int,
    rank: int,
    world: int,
) -> list[list[dict[str, list[int]]]]:
    order = torch.randperm(len(encoded), generator=torch.Generator().manual_seed(seed + epoch))
    shard = [encoded[int(i)] for i in order[rank::world]]  # each process its own rows
    return [shard[i : i + batch_size] for i in range(0, len(shard), batch_size)]


def mean_loss(
    model: Any, encoded: list[dict[str, list[int]]], pad_id: int, batch_size: int
) -> float:
    """Return the token-weighted mean loss of `model` over `encoded` rows (no gradients)."""
    total, count = 0.0, 0
    device = next(model.parameters()).device
    model.eval()
    with torch.no_grad():
        for start in range(0, len(encoded), batch_size):
            batch = collate(encoded[start : start + batch_size], pad_id)
            batch = {k: v.to(device) for k, v in batch.items()}
            tokens = int((batch["labels"][:, 1:] != IGNORE).sum())
            total += float(model(**batch).loss) * tokens
            count += tokens
    model.train()
    return total / count if count else float("nan")


def train(
    model: Any,
    tokenizer: Any,
    train_rows: list[dict[str, str]],
    validation_rows: list[dict[str, str]],
    config: TrainConfig,
    checkpoint_dir: Path | None = None,
    on_step: Callable[[int], None] | None = None,
) -> TrainResult:
    """Fine-tune the adapters of `model` (a PEFT model) and return what happened.

    With `checkpoint_dir`, a checkpoint is written every `checkpoint_every` steps and at the end,
    and a run that finds one there resumes from the newest: same adapter weights, optimizer and
    schedule, and the same remaining batches. `on_step` is called after each step (tests use it
    to interrupt a run as a spot reclaim would).
    """
    config.check()
    rank, world = _distributed()
    device = (
        torch.device(f"cuda:{int(os.environ.get('LOCAL_RANK', '0'))}")
        if torch.cuda.is_available()
        else torch.device("cpu")
    )
    model.to(device)
    torch.manual_seed(config.seed)
    encoded = [encode(r, tokenizer, config.max_length) for r in train_rows]
    held_out = [encode(r, tokenizer, config.max_length) for r in validation_rows]
    per_epoch = math.ceil(math.ceil(len(encoded) / world) / config.batch_size)
    total = config.max_steps if config.max_steps > 0 else per_epoch * config.epochs
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=config.learning_rate, weight_decay=0.0)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer,
        lambda s: min(1.0, (s + 1) / max(config.warmup_steps, 1)) * max(0.0, 1 - s / max(total, 1)),
    )
    result = TrainResult()
    step = 0
    checkpoint = latest_checkpoint(checkpoint_dir) if checkpoint_dir else None
    if checkpoint is not None:
        step = result.resumed_from = load_checkpoint(checkpoint, model, optimizer, scheduler)
        LOG.info("resuming from %s (step %d of %d)", checkpoint.name, step, total)
    wrapped = model
    if world > 1:
        wrapped = torch.nn.parallel.DistributedDataParallel(
            model, device_ids=[device.index] if device.type == "cuda" else None
        )
    amp = autocast_dtype(config.precision, device)
    scaler = torch.amp.GradScaler(device.type, enabled=amp is torch.float16)
    model.train()
    started = time.perf_counter()
    done = step
    while step < total:
        epoch, skip = divmod(step, per_epoch)
        for batch_rows in _batches(encoded, config.batch_size, epoch, config.seed, rank, world)[
            skip:
        ]:
            if step >= total:
                break
            batch = {
                k: v.to(device) for k, v in collate(batch_rows, tokenizer.pad_token_id).items()
            }
            with torch.autocast(device.type, dtype=amp or torch.float32, enabled=amp is not None):
                loss = wrapped(**batch).loss
            optimizer.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            if config.max_grad_norm > 0:
                scaler.unscale_(optimizer)  # clip the true gradients, not the fp16-scaled ones
                torch.nn.utils.clip_grad_norm_(trainable, config.max_grad_norm)
            scaler.step(optimizer)
            scaler.update()
            scheduler.step()
            step += 1
            result.tokens += int(batch["attention_mask"].sum())
            result.losses.append(float(loss.detach()))
            if (
                checkpoint_dir
                and rank == 0
                and (step % config.checkpoint_every == 0 or step == total)
            ):
                save_checkpoint(checkpoint_dir, step, model, optimizer, scheduler)
            if on_step is not None:
                on_step(step)
    result.seconds = time.perf_counter() - started
    result.steps = step - done
    result.train_loss = (
        sum(result.losses[-10:]) / len(result.losses[-10:]) if result.losses else float("nan")
    )
    result.validation_loss = mean_loss(model, held_out, tokenizer.pad_token_id, config.batch_size)
    return result


def save_outputs(
    model: Any, tokenizer: Any, model_dir: Path, merge: bool, template: Path | None
) -> None:
    """Write the adapter (and the merged weights when asked), the tokenizer and the template."""
    model_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(model_dir / ADAPTER_DIR)
    tokenizer.save_pretrained(model_dir / ADAPTER_DIR)
    if merge:
        merged = model.merge_and_unload()
        merged.save_pretrained(model_dir / MERGED_DIR)
        tokenizer.save_pretrained(model_dir / MERGED_DIR)
    if template is not None and template.exists():
        shutil.copy(template, model_dir / template.name)


def _bool(text: str) -> bool:
    if text.lower() in ("true", "1", "yes"):
        return True
    if text.lower() in ("false", "0", "no"):
        return False
    raise argparse.ArgumentTypeError(f"{text!r} is not a boolean: use true or false")


def main(argv: list[str] | None = None) -> None:
    """Parse hyperparameters, fine-tune, and save the adapter where SageMaker collects it."""
    parser = argparse.ArgumentParser(description=__doc__)
    defaults = TrainConfig()
    parser.add_argument("--epochs", type=int, default=defaults.epochs)
    parser.add_argument("--learning_rate", type=float, default=defaults.learning_rate)
    parser.add_argument("--lora_r", type=int, default=defaults.lora_r)
    parser.add_argument("--lora_alpha", type=int, default=defaults.lora_alpha)
    parser.add_argument("--lora_dropout", type=float, default=defaults.lora_dropout)
    parser.add_argument("--target_modules", default=defaults.target_modules)
    parser.add_argument("--batch_size", type=int, default=defaults.batch_size)
    parser.add_argument("--max_length", type=int, default=defaults.max_length)
    parser.add_argument("--max_steps", type=int, default=defaults.max_steps)
    parser.add_argument("--warmup_steps", type=int, default=defaults.warmup_steps)
    parser.add_argument("--max_grad_norm", type=float, default=defaults.max_grad_norm)
    parser.add_argument("--checkpoint_every", type=int, default=defaults.checkpoint_every)
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--precision", default=defaults.precision)
    parser.add_argument("--merge_weights", type=_bool, default=False)
    parser.add_argument("--checkpoint_dir", type=Path, default=Path("/opt/ml/checkpoints"))
    env = os.environ.get
    parser.add_argument("--train", type=Path, default=Path(env("SM_CHANNEL_TRAIN", "")))
    parser.add_argument("--validation", type=Path, default=Path(env("SM_CHANNEL_VALIDATION", "")))
    parser.add_argument("--base-model", type=Path, default=Path(env("SM_CHANNEL_MODEL", "")))
    parser.add_argument("--model-dir", type=Path, default=Path(env("SM_MODEL_DIR", "")))
    parser.add_argument("--output-data-dir", type=Path, default=Path(env("SM_OUTPUT_DATA_DIR", "")))
    args = parser.parse_args(argv)

    config = TrainConfig(**{k: getattr(args, k) for k in TrainConfig.__dataclass_fields__})
    config.check()
    model, tokenizer = load_base(args.base_model)
    model = with_adapter(model, config)
    result = train(
        model,
        tokenizer,
        read_jsonl(args.train),
        read_jsonl(args.validation),
        config,
        checkpoint_dir=args.checkpoint_dir,
    )
    rank = torch.distributed.get_rank() if torch.distributed.is_initialized() else 0
    if rank == 0:
        save_outputs(
            model,
            tokenizer,
            args.model_dir,
            args.merge_weights,
            Path(__file__).with_name("prompt_template.json"),
        )
        metrics = {
            "steps": result.steps,
            "resumed_from": result.resumed_from,
            "train_loss": result.train_loss,
            "validation_loss": result.validation_loss,
            "tokens_per_second": result.tokens_per_second,
        }
        if str(args.output_data_dir):
            args.output_data_dir.mkdir(parents=True, exist_ok=True)
            (args.output_data_dir / "training_metrics.json").write_text(
                json.dumps(metrics), "utf-8"
            )
        # SageMaker's metric definitions read these lines from the log.
        LOG.info(
            "train_loss=%.4f validation_loss=%.4f tokens_per_second=%.1f",
            result.train_loss,
            result.validation_loss,
            result.tokens_per_second,
        )
    if torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    main()
