"""A tiny causal language model built in code, for the local run, the tests and the benchmarks.

A real architecture from `transformers` (Llama) at a toy size, with random weights, and a
byte-level BPE tokenizer trained on the shipped data with `tokenizers`: nothing is downloaded
from a model hub. It is saved in the layout a staged base model has (config.json, weights,
tokenizer files), so the fine-tuning step reads it exactly as it reads a real one from S3.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

# Whatever else happens, never ask a hub for anything.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

PAD, EOS = "<pad>", "</s>"
OUTPUT_SCALE = 3.0
TINY_CONFIG: dict[str, Any] = {
    "hidden_size": 64,
    "intermediate_size": 128,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 4,
    "max_position_embeddings": 128,
    "rms_norm_eps": 1e-6,
    "tie_word_embeddings": False,
}


def corpus(data_dir: Path, template_path: Path) -> list[str]:
    """Return the texts the tokenizer learns from: every row of the shipped data, formatted."""
    template = json.loads(template_path.read_text(encoding="utf-8"))
    texts = [template["with_input"], template["without_input"]]
    for path in sorted(data_dir.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                texts += [row.get("instruction", ""), row.get("input", ""), row.get("output", "")]
    return [t for t in texts if t]


def train_tokenizer(texts: Iterable[str], vocab_size: int = 512) -> Any:
    """Train a byte-level BPE tokenizer (digits split one by one) and wrap it for transformers."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Digits(individual_digits=True),
            pre_tokenizers.ByteLevel(add_prefix_space=False),
        ]
    )
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=[PAD, EOS],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(texts, trainer=trainer)
    return PreTrainedTokenizerFast(tokenizer_object=tokenizer, pad_token=PAD, eos_token=EOS)


def build_model(tokenizer: Any, seed: int = 0, **overrides: Any) -> Any:
    """Return a Llama causal LM of TINY_CONFIG's size with random weights for `tokenizer`."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
        bos_token_id=tokenizer.eos_token_id,
        **{**TINY_CONFIG, **overrides},
    )
    model = LlamaForCausalLM(config)
    # A trained model's output layer gives confident logits; one drawn with the usual small init
    # cannot, and the LoRA adapters (which leave it frozen) could not fix that. Scale it up.
    with torch.no_grad():
        model.lm_head.weight.normal_(0.0, OUTPUT_SCALE / config.hidden_size**0.5)
    return model


def stage_base_model(texts: Iterable[str], target: Path, seed: int = 0) -> Path:
    """Build the tokenizer and the model and save both into `target`, as a staged base model."""
    tokenizer = train_tokenizer(texts)
    model = build_model(tokenizer, seed=seed)
    target.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(target)
    tokenizer.save_pretrained(target)
    return target
