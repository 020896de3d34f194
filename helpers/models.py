"""The model family: a pretrained MiniLM-L6 teacher and smaller students sharing its vocabulary.

Model specs (strings, used in configs and result tables):
* ``"L6"`` — all-MiniLM-L6-v2 (6 layers, hidden 384) with a fresh classification head;
* ``"L<k>"`` (k = 1..6) — its first k layers (DistilBERT-style initialisation from the teacher);
* ``"scratch"`` — a small randomly initialised BERT (2 layers, hidden 256) with the same vocabulary;
* anything else — a local folder or (when ``KDLS_ALLOW_HUB=1``) a hub name, loaded with
  ``AutoModelForSequenceClassification``.
The classification head's initialisation is seeded, so the same seed gives the same model.
"""

from __future__ import annotations

import re
from pathlib import Path

import torch
from transformers import (
    AutoConfig,
    AutoModelForSequenceClassification,
    AutoTokenizer,
    BertConfig,
    BertForSequenceClassification,
    PreTrainedModel,
    PreTrainedTokenizerBase,
)
from transformers.utils import logging as hf_logging

from helpers import assets

__all__ = ["PRETRAINED_LAYERS", "load_tokenizer", "build_model", "count_parameters", "describe_spec"]

PRETRAINED_LAYERS = 6
SCRATCH_CONFIG = dict(hidden_size=256, num_hidden_layers=2, num_attention_heads=4, intermediate_size=1024)
_LAYER_SPEC = re.compile(r"^L(\d+)$")
hf_logging.disable_progress_bar()


def load_tokenizer(source: str | Path | None = None) -> PreTrainedTokenizerBase:
    """The tokenizer of ``source`` (default: the verified MiniLM asset; bert-base-uncased vocabulary)."""
    return AutoTokenizer.from_pretrained(str(source or assets.minilm_dir()))


def describe_spec(spec: str) -> str:
    """A human description of a model spec, e.g. ``'L2' -> 'first 2 of 6 pretrained MiniLM layers'``."""
    match = _LAYER_SPEC.match(spec)
    if match:
        k = int(match.group(1))
        return "pretrained MiniLM-L6 (teacher size)" if k == PRETRAINED_LAYERS else f"first {k} of 6 pretrained MiniLM layers"
    if spec == "scratch":
        return "randomly initialised BERT, 2 layers, hidden 256"
    return f"model from {spec}"


def build_model(spec: str, num_labels: int, seed: int = 0) -> PreTrainedModel:
    """A sequence classifier for ``spec`` (see module docstring) with ``num_labels`` outputs."""
    if num_labels < 2:
        raise ValueError(f"num_labels must be >= 2, got {num_labels}")
    torch.manual_seed(seed)
    match = _LAYER_SPEC.match(spec)
    if match:
        layers = int(match.group(1))
        if not 1 <= layers <= PRETRAINED_LAYERS:
            raise ValueError(f"model spec {spec!r}: the pretrained model has layers 1..{PRETRAINED_LAYERS}")
        return _pretrained(assets.minilm_dir(), num_labels, num_hidden_layers=layers)
    if spec == "scratch":
        base = BertConfig.from_pretrained(str(assets.minilm_dir()))
        config = BertConfig(vocab_size=base.vocab_size, num_labels=num_labels, **SCRATCH_CONFIG)
        return BertForSequenceClassification(config)
    return _pretrained(spec, num_labels)


def _pretrained(source: str | Path, num_labels: int, **overrides) -> PreTrainedModel:
    config = AutoConfig.from_pretrained(str(source), num_labels=num_labels, **overrides)
    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()  # silence "newly initialized head" / "unused weights" notices
    try:
        return AutoModelForSequenceClassification.from_pretrained(str(source), config=config, ignore_mismatched_sizes=True)
    finally:
        hf_logging.set_verbosity(verbosity)


def count_parameters(model: torch.nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
