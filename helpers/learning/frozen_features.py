"""Frozen MiniLM sentence features: the inputs of the frozen-feature tier's heads (:mod:`helpers.learning.features`).

``encode_features(task)`` runs the pretrained MiniLM-L6 encoder **once** over every split and stores, for every layer
``0..6`` (0 = the embedding layer), the **mean-pooled** hidden state of each example (mask-aware mean over its tokens;
384 numbers). Computed under bf16 autocast where the CPU supports it, cached on disk under
``helpers.learning.cache.computed_dir()``, keyed by the settings, the task file, the asset pins and the code of
``cache.FEATURE_MODULES`` (this module among them). The first ``k`` layers of the pretrained encoder are exactly the
frozen encoder of the kit's ``"L<k>"`` student, so layer ``k`` features stand for an ``L<k>`` model.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from filelock import FileLock

from helpers.infrastructure import assets, flops
from helpers.infrastructure.precision import autocast, resolve_precision
from helpers.infrastructure.progress import progress as progress_bar
from helpers.learning import cache
from helpers.learning.data import SPLITS, load_task, padding_collator, subset_and_tokenize, task_fingerprint, task_name
from helpers.learning.models import PRETRAINED_LAYERS, build_model, load_tokenizer

__all__ = ["FeatureSet", "encode_features", "features_dir", "toy_feature_set"]

# --------------------------------------------------------------------------------------------
# Frozen features
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FeatureSet:
    """Mean-pooled hidden states of every encoder layer, per split.

    ``features[split]`` has shape ``(N, 7, 384)`` (layers 0..6, float32); ``labels[split]`` and
    ``indices[split]`` (the ``idx`` column of ``helpers.learning.data``) have shape ``(N,)``.
    """

    task: str
    key: str
    features: dict[str, torch.Tensor] = field(repr=False)
    labels: dict[str, torch.Tensor] = field(repr=False)
    indices: dict[str, torch.Tensor] = field(repr=False)
    label_names: tuple[str, ...] = ()

    @property
    def num_classes(self) -> int:
        return len(self.label_names)

    @property
    def num_layers(self) -> int:
        """Number of stored layers (the embedding layer included)."""
        return int(self.features["train"].shape[1])

    def layer(self, split: str, layer: int) -> torch.Tensor:
        """Features ``(N, 384)`` of one split at one layer (0 = embeddings, 6 = top)."""
        if split not in self.features:
            raise ValueError(f"split must be one of {tuple(self.features)}, got split={split!r}")
        if not isinstance(layer, (int, np.integer)) or not 0 <= layer < self.num_layers:
            raise ValueError(f"layer must be an integer in [0, {self.num_layers - 1}], got layer={layer!r}")
        return self.features[split][:, int(layer)]

    def sizes(self) -> dict[str, int]:
        """Examples per split."""
        return {split: int(values.shape[0]) for split, values in self.features.items()}


def features_dir() -> Path:
    """Folder of cached feature files (``<cache_dir>/features``)."""
    path = cache.computed_dir() / "features"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _feature_key(task: str, max_length: int, train_subset: int | None, eval_subset: int | None, precision: str) -> str:
    """The feature set's cache key: its settings (precision resolved), the task file's contents, the asset
    pins, ``CACHE_VERSION`` and the code that computes features and heads (``cache.FEATURE_MODULES``)."""
    payload = {
        "task": str(task),
        "task_file": task_fingerprint(task),
        "max_length": max_length,
        "train_subset": train_subset,
        "eval_subset": eval_subset,
        "precision": resolve_precision(precision),
        "assets": assets.asset_fingerprint(),
        "version": cache.CACHE_VERSION,
        "code": cache.code_fingerprint(*cache.FEATURE_MODULES),
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:20]


def _stored_feature_key(meta: dict) -> str:
    """The key re-derived from a feature record's stored settings ('' when they are missing or unreadable)."""
    try:
        settings = meta["settings"]
        return _feature_key(settings["task"], settings["max_length"], settings["train_subset"],
                            settings["eval_subset"], settings["precision"])
    except Exception:  # noqa: BLE001 - a record without readable settings is not served
        return ""


def _load_features(path: Path, key: str) -> tuple[dict, dict[str, torch.Tensor]] | None:
    """The feature record at ``path`` (meta, tensors) if its own settings have ``key``; else None (reported)."""
    stored = cache.load_record(path, consequence="the features will be encoded again")
    if stored is None:
        return None
    if _stored_feature_key(stored[0]) != key:
        print(f"cached record {path} holds other features (its stored settings do not give the key {key}): "
              f"they will be encoded again", file=sys.stderr)
        return None
    return stored


@torch.no_grad()
def _pooled_hidden_states(encoder, dataset, tokenizer, batch_size: int, precision: str, desc: str, progress: bool) -> torch.Tensor:
    """``(N, layers+1, hidden)`` mask-aware mean of every layer's hidden states, in row order."""
    columns = [c for c in ("input_ids", "attention_mask", "token_type_ids") if c in dataset.column_names]
    lengths = dataset["length"]
    order = sorted(range(len(dataset)), key=lambda i: lengths[i])
    collate = padding_collator(tokenizer)
    chunks = []
    for start in progress_bar(range(0, len(order), batch_size), desc=desc, disable=not progress):
        rows = dataset.select(order[start : start + batch_size]).select_columns(columns)
        batch = collate([rows[i] for i in range(len(rows))])
        with autocast(precision):
            hidden = encoder(**batch, output_hidden_states=True).hidden_states
        mask = batch["attention_mask"].unsqueeze(-1).float()
        stacked = torch.stack([h.float() for h in hidden], dim=1)  # (B, layers+1, T, H)
        pooled = (stacked * mask.unsqueeze(1)).sum(dim=2) / mask.sum(dim=1).unsqueeze(1).clamp_min(1.0)
        chunks.append(pooled)
    pooled = torch.cat(chunks)
    result = torch.empty_like(pooled)
    result[torch.tensor(order)] = pooled
    return result


def encode_features(
    task: str,
    max_length: int = 64,
    train_subset: int | None = None,
    eval_subset: int | None = None,
    batch_size: int = 128,
    precision: str = "auto",
    progress: bool = True,
    refresh: bool = False,
) -> FeatureSet:
    """Frozen MiniLM features of ``task`` (see the module docstring), from the disk cache if there.

    ``train_subset`` / ``eval_subset`` cap the splits exactly as ``TrainConfig`` does (same rows).
    Stored as float16 (``(N, 7, 384)`` per split), returned as float32, with the class names (a cached record
    is served without loading the task's texts).
    """
    if not isinstance(max_length, int) or max_length < 2:
        raise ValueError(f"max_length must be an integer >= 2, got max_length={max_length!r}")
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got batch_size={batch_size!r}")
    key = _feature_key(task, max_length, train_subset, eval_subset, precision)  # validates the task name first
    path = features_dir() / f"{key}.safetensors"
    with FileLock(path.parent / f".{path.name}.lock"):  # an identical encoding in another process: wait, then load
        found = None if refresh else _load_features(path, key)
        if found is not None and found[0].get("label_names"):
            return _feature_set(task, key, found[1], tuple(found[0]["label_names"]))
        data = load_task(task)
        names = tuple(data["train"].features["label"].names)
        if found is not None:  # a record written before the class names were stored in it
            return _feature_set(task, key, found[1], names)
        settings = {"task": str(task), "max_length": max_length, "train_subset": train_subset,
                    "eval_subset": eval_subset, "precision": precision}
        stored = _encode(task, data, settings, batch_size, progress)
        cache.save_record(path, {"task": task_name(task), "max_length": max_length, "settings": settings,
                                 "label_names": list(names)}, stored)
    return _feature_set(task, key, stored, names)


def _encode(task: str, data, settings: dict, batch_size: int, progress: bool) -> dict[str, torch.Tensor]:
    """Encode every split of ``data`` (subset per ``settings``): the tensors of a feature record."""
    max_length, train_subset, eval_subset = settings["max_length"], settings["train_subset"], settings["eval_subset"]
    precision = settings["precision"]
    tokenizer = load_tokenizer()
    tokenized = subset_and_tokenize(data, tokenizer, max_length, train_subset, eval_subset)
    encoder = build_model(f"L{PRETRAINED_LAYERS}", num_labels=2, seed=0).base_model.eval()
    tensors: dict[str, torch.Tensor] = {}
    started = time.perf_counter()
    for split in SPLITS:
        pooled = _pooled_hidden_states(encoder, tokenized[split], tokenizer, batch_size, precision,
                                       f"features {task_name(task)}/{split}", progress)
        tensors[f"features/{split}"] = pooled.half().contiguous()
        tensors[f"labels/{split}"] = torch.tensor(tokenized[split]["label"])
        tensors[f"indices/{split}"] = torch.tensor(tokenized[split]["idx"])
    tokens = sum(sum(tokenized[split]["length"]) for split in SPLITS)
    flops.record("features", flops.forward_flops(flops.non_embedding_parameters(encoder), tokens),
                 time.perf_counter() - started)
    return tensors


def _feature_set(task: str, key: str, tensors: dict[str, torch.Tensor], names: tuple[str, ...]) -> FeatureSet:
    return FeatureSet(
        task=task_name(task),
        key=key,
        features={s: tensors[f"features/{s}"].float() for s in SPLITS},
        labels={s: tensors[f"labels/{s}"].long() for s in SPLITS},
        indices={s: tensors[f"indices/{s}"].long() for s in SPLITS},
        label_names=names,
    )


def toy_feature_set(num_classes: int = 3, per_class: int = 40, dim: int = 16, layers: int = 7, seed: int = 0) -> FeatureSet:
    """A synthetic ``FeatureSet`` (Gaussian classes; deeper layers separate them better) for tests and exercises.

    Splits hold ``per_class``, ``per_class // 2`` and ``per_class // 2`` examples per class.
    """
    for name, value, low in (("num_classes", num_classes, 2), ("per_class", per_class, 2), ("dim", dim, 2), ("layers", layers, 1)):
        if not isinstance(value, (int, np.integer)) or value < low:
            raise ValueError(f"{name} must be an integer >= {low}, got {name}={value!r}")
    generator = torch.Generator().manual_seed(seed)
    centres = torch.randn(num_classes, dim, generator=generator)
    separation = torch.linspace(0.3, 2.0, layers)
    features, labels, indices = {}, {}, {}
    for split, count in (("train", per_class), ("validation", max(per_class // 2, 1)), ("test", max(per_class // 2, 1))):
        y = torch.arange(num_classes).repeat_interleave(count)
        noise = torch.randn(len(y), layers, dim, generator=generator)
        features[split] = centres[y][:, None, :] * separation[None, :, None] + noise
        labels[split], indices[split] = y, torch.arange(len(y))
    names = tuple(f"class{k}" for k in range(num_classes))
    return FeatureSet(task="toy", key=f"toy-{num_classes}-{per_class}-{dim}-{layers}-{seed}", features=features,
                      labels=labels, indices=indices, label_names=names)
