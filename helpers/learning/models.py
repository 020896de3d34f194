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
from torch import nn
from transformers.utils import logging as hf_logging

from helpers.infrastructure import assets

__all__ = ["PRETRAINED_LAYERS", "HEAD_PREFIXES", "load_tokenizer", "build_model", "check_loading_info", "count_parameters", "describe_spec",
           "TrimmedEmbedding", "trim_vocabulary", "restore_vocabulary"]

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


def build_model(spec: str, num_labels: int, seed: int = 0, new_head: bool = True) -> PreTrainedModel:
    """A sequence classifier for ``spec`` (see module docstring) with ``num_labels`` outputs.

    Initialised from ``seed`` with a private random state: the global torch RNG is left as it was.
    ``new_head``: the classification head may be new (absent from the checkpoint, or of another label
    count); any other weight the checkpoint lacks or holds in another shape raises ``ValueError``, and
    with ``new_head=False`` so does a head that is not loaded as it is.
    """
    if num_labels < 2:
        raise ValueError(f"num_labels must be >= 2, got {num_labels}")
    match = _LAYER_SPEC.match(spec)
    if match and not 1 <= int(match.group(1)) <= PRETRAINED_LAYERS:
        raise ValueError(f"model spec {spec!r}: the pretrained model has layers 1..{PRETRAINED_LAYERS}")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        if match:
            return _pretrained(assets.minilm_dir(), num_labels, new_head, num_hidden_layers=int(match.group(1)))
        if spec == "scratch":
            base = BertConfig.from_pretrained(str(assets.minilm_dir()))
            config = BertConfig(vocab_size=base.vocab_size, num_labels=num_labels, **SCRATCH_CONFIG)
            return BertForSequenceClassification(config)
        return _pretrained(spec, num_labels, new_head)


HEAD_PREFIXES = ("classifier.", "score.")  # the classification head's weights in Hugging Face sequence classifiers


def _pretrained(source: str | Path, num_labels: int, new_head: bool = True, **overrides) -> PreTrainedModel:
    config = AutoConfig.from_pretrained(str(source), num_labels=num_labels, **overrides)
    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()  # silence the load report; what matters is checked below
    try:
        model, info = AutoModelForSequenceClassification.from_pretrained(
            str(source), config=config, ignore_mismatched_sizes=True, output_loading_info=True)
    finally:
        hf_logging.set_verbosity(verbosity)
    check_loading_info(source, info, new_head)
    return model


def check_loading_info(source: str | Path, info: dict, new_head: bool = True) -> None:
    """Raise ``ValueError`` if a checkpoint lacked or mismatched weights other than a new classification head.

    ``info`` is ``from_pretrained(..., output_loading_info=True)``'s report. Unused checkpoint weights (the
    layers a first-k-layer student leaves out) are fine.
    """
    allowed = HEAD_PREFIXES if new_head else ()
    mismatched = [entry[0] if isinstance(entry, (tuple, list)) else str(entry) for entry in info.get("mismatched_keys", [])]
    bad_mismatch = [key for key in mismatched if not key.startswith(allowed)]
    bad_missing = [key for key in info.get("missing_keys", []) if not str(key).startswith(allowed)]
    problems = []
    if bad_mismatch:
        problems.append(f"{len(bad_mismatch)} weight(s) of another shape (e.g. {sorted(bad_mismatch)[0]})")
    if bad_missing:
        problems.append(f"{len(bad_missing)} weight(s) missing (e.g. {sorted(bad_missing)[0]})")
    if info.get("error_msgs"):
        problems.append(str(info["error_msgs"][0]).splitlines()[0])
    if problems:
        raise ValueError(f"checkpoint {source} does not fit this model: {'; '.join(problems)}"
                         + ("" if new_head else " (new_head=False: the classification head must load as stored)"))


def count_parameters(model: torch.nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


# ----------------------------------------------------------------------------- vocabulary trimming


class TrimmedEmbedding(nn.Module):
    """A word-embedding table cut down to the rows ``kept_ids``, still called with the original token ids.

    Training only ever changes the rows of tokens that occur in the data; the other rows of a
    30,522-row table would only cost gradient memory, gradient-norm and optimiser work on every step.
    The forward pass is ``F.embedding(lookup[ids], weight, padding_idx)``: the same vectors, the same
    gradients for the kept rows. An id outside ``kept_ids`` raises ``ValueError``.
    ``unused_scale`` accumulates the decoupled weight decay the dropped rows would have received
    (see :func:`restore_vocabulary`).
    """

    def __init__(self, full: nn.Embedding, kept_ids: torch.Tensor) -> None:
        super().__init__()
        kept = torch.unique(torch.as_tensor(kept_ids, dtype=torch.long))  # sorted
        if len(kept) == 0:
            raise ValueError("kept_ids must not be empty")
        if int(kept[0]) < 0 or int(kept[-1]) >= full.num_embeddings:
            raise ValueError(f"kept_ids must be token ids in [0, {full.num_embeddings}), "
                             f"got ids from {int(kept[0])} to {int(kept[-1])}")
        lookup = torch.full((full.num_embeddings,), -1, dtype=torch.long)
        lookup[kept] = torch.arange(len(kept))
        self.register_buffer("kept_ids", kept, persistent=False)
        self.register_buffer("lookup", lookup, persistent=False)
        self.weight = nn.Parameter(full.weight.detach()[kept].clone())
        pad = full.padding_idx
        self.padding_idx = int(lookup[pad]) if pad is not None and int(lookup[pad]) >= 0 else None
        self.full = [full]  # a list: not registered as a submodule, so its table is neither trained nor saved
        self.unused_scale = 1.0

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        rows = self.lookup[input_ids]
        if bool((rows < 0).any()):
            missing = sorted(set(input_ids[rows < 0].tolist()))[:5]
            raise ValueError(f"token ids {missing} are not in the trimmed vocabulary ({len(self.kept_ids)} ids)")
        return nn.functional.embedding(rows, self.weight, self.padding_idx)

    def record_weight_decay(self, learning_rate: float, weight_decay: float) -> None:
        """Note one AdamW step's decoupled decay ``p <- p * (1 - lr * wd)`` for the dropped rows."""
        self.unused_scale *= 1.0 - learning_rate * weight_decay


def trim_vocabulary(model: PreTrainedModel, token_ids: torch.Tensor) -> TrimmedEmbedding:
    """Swap ``model``'s input embeddings for a :class:`TrimmedEmbedding` keeping ``token_ids``; returns it.

    Pass every id the model will see (all splits, special tokens included). Undo with
    :func:`restore_vocabulary`, which gives back an ordinary model of the original vocabulary size.
    """
    trimmed = TrimmedEmbedding(model.get_input_embeddings(), token_ids)
    model.set_input_embeddings(trimmed)
    return trimmed


@torch.no_grad()
def restore_vocabulary(model: PreTrainedModel) -> PreTrainedModel:
    """Put the full embedding table back: kept rows as trained, dropped rows times their accumulated decay.

    With AdamW, a row whose gradient was always zero only ever decays (its moments stay zero), so the
    restored model equals the one trained with the full table (up to floating-point rounding).
    """
    trimmed = model.get_input_embeddings()
    if not isinstance(trimmed, TrimmedEmbedding):
        raise ValueError("the model's vocabulary is not trimmed (no TrimmedEmbedding found)")
    full = trimmed.full[0]
    full.weight.mul_(trimmed.unused_scale)
    full.weight[trimmed.kept_ids] = trimmed.weight.to(full.weight.dtype)
    model.set_input_embeddings(full)
    return model
