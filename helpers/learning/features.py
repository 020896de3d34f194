"""The fast tier: frozen MiniLM sentence features and small heads trained on them in about a second.

Fine-tuning a transformer on a 2-core CPU takes minutes per run, too slow for many seeds,
sweeps and live sliders. This tier fine-tunes nothing:

* ``encode_features(task)`` runs the pretrained MiniLM-L6 encoder **once** over every split
  and stores, for every layer ``0..6`` (0 = the embedding layer), the **mean-pooled** hidden
  state of each example (mask-aware mean over its tokens; 384 numbers). Computed under bf16
  autocast where the CPU supports it, cached on disk under ``helpers.learning.cache.computed_dir()``.
  The first ``k`` layers of the pretrained encoder are exactly the frozen encoder of the kit's
  ``"L<k>"`` student, so layer ``k`` features stand for an ``L<k>`` model.
* ``HeadConfig`` describes a small head on one layer's features: a linear classifier
  (``hidden=0``) or a one-hidden-layer MLP (``hidden>0``; its hidden activations are the
  "penultimate layer" used in notebook 09). ``train_head`` trains it with AdamW on tensors,
  with the kit's losses (``helpers.maths.losses``: ``alpha`` weights the soft part, ``tau**2``
  multiplies KD's KL term) and evaluates it with ``helpers.maths.metrics.summarize``.
* A KD head's teacher is another ``HeadConfig`` (trained first, through the in-memory cache of
  ``run_head``) or a ``VirtualTeacher`` (Yuan et al.'s hand-made teacher, probability ``a`` on
  the true class). ``teacher_logit_scale`` multiplies the teacher's logits (a sharper or
  flatter teacher).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import sys
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from filelock import FileLock
from helpers.infrastructure.progress import progress as progress_bar

from helpers.infrastructure import assets
from helpers.learning import cache
from helpers.infrastructure import flops
from helpers.learning.data import SPLITS, load_task, padding_collator, subset_and_tokenize, task_fingerprint, task_name
from helpers.maths.losses import RunObjective
from helpers.maths.metrics import summarize
from helpers.learning.models import PRETRAINED_LAYERS, build_model, load_tokenizer
from helpers.infrastructure.precision import autocast, resolve_precision
from helpers.learning.results import make_row, run_label, teacher_label

__all__ = [
    "FeatureSet",
    "encode_features",
    "features_dir",
    "toy_feature_set",
    "VirtualTeacher",
    "virtual_teacher_logits",
    "HeadConfig",
    "HeadRecord",
    "build_head",
    "penultimate",
    "head_inputs",
    "train_head",
    "run_head",
    "clear_head_cache",
    "head_teacher_logits",
]

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


def _load_features(path: Path, key: str) -> dict[str, torch.Tensor] | None:
    """The stored feature tensors at ``path`` if the record's own settings have ``key``; else None (reported)."""
    stored = cache.load_record(path, consequence="the features will be encoded again")
    if stored is None:
        return None
    if _stored_feature_key(stored[0]) != key:
        print(f"cached record {path} holds other features (its stored settings do not give the key {key}): "
              f"they will be encoded again", file=sys.stderr)
        return None
    return stored[1]


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
    Stored as float16 (``(N, 7, 384)`` per split), returned as float32.
    """
    if not isinstance(max_length, int) or max_length < 2:
        raise ValueError(f"max_length must be an integer >= 2, got max_length={max_length!r}")
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got batch_size={batch_size!r}")
    data = load_task(task)  # validates the task name first
    key = _feature_key(task, max_length, train_subset, eval_subset, precision)
    path = features_dir() / f"{key}.safetensors"
    names = tuple(data["train"].features["label"].names)
    with FileLock(path.parent / f".{path.name}.lock"):  # an identical encoding in another process: wait, then load
        stored = None if refresh else _load_features(path, key)
        if stored is None:
            settings = {"task": str(task), "max_length": max_length, "train_subset": train_subset,
                        "eval_subset": eval_subset, "precision": precision}
            stored = _encode(task, data, settings, batch_size, progress)
            cache.save_record(path, {"task": task_name(task), "max_length": max_length, "settings": settings}, stored)
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


# --------------------------------------------------------------------------------------------
# Heads
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VirtualTeacher:
    """Yuan et al.'s (2020) hand-made teacher (Tf-KD): probability ``a`` on the true class.

    The other ``K-1`` classes share ``1-a`` equally. Its logits are the log of that distribution,
    so KD at temperature ``tau`` sees ``softmax(log p / tau)``: a high ``tau`` flattens it.
    """

    a: float = 0.99

    def __post_init__(self) -> None:
        if not (isinstance(self.a, (int, float)) and 0.0 < float(self.a) < 1.0):
            raise ValueError(f"a must be a probability in (0, 1), got a={self.a!r}")

    def label(self) -> str:
        return f"virtual (a={self.a:g})"


def virtual_teacher_logits(labels: torch.Tensor, num_classes: int, a: float = 0.99) -> torch.Tensor:
    """Logits ``log p`` of the virtual teacher: ``p = a`` on ``labels``, ``(1-a)/(K-1)`` elsewhere."""
    VirtualTeacher(a)  # validates a
    if not isinstance(num_classes, (int, np.integer)) or num_classes < 2:
        raise ValueError(f"num_classes must be an integer >= 2, got num_classes={num_classes!r}")
    labels = torch.as_tensor(labels).long()
    if labels.numel() and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"labels must lie in [0, {num_classes}), got values in [{int(labels.min())}, {int(labels.max())}]")
    probs = torch.full((labels.shape[0], int(num_classes)), (1.0 - a) / (num_classes - 1))
    probs[torch.arange(labels.shape[0]), labels] = a
    return probs.log()


@dataclass(frozen=True)
class HeadConfig(RunObjective):
    """A small head on the frozen features of one encoder layer, and how it is trained.

    ``layer``: which layer's pooled features it reads (0..6; 6 stands for the L6 teacher,
    1 or 2 for small students). ``hidden``: 0 = linear head, else the width of one GELU
    hidden layer (the penultimate layer). ``method``/``alpha``/``temperature`` as in
    ``TrainConfig`` (``alpha`` weights the soft part). ``teacher``: a ``HeadConfig`` or a
    ``VirtualTeacher`` (KD only). ``epochs`` passes over the training split in minibatches of
    ``batch_size`` (None: full batch, one step per epoch), AdamW with a constant ``learning_rate``.
    ``train_subset`` caps the training split (first rows of the feature set's order).
    """

    layer: int = 2
    hidden: int = 128
    epochs: int = 20
    batch_size: int | None = 128
    learning_rate: float = 2e-3
    weight_decay: float = 0.01
    train_subset: int | None = None

    @classmethod
    def teacher_types(cls) -> tuple[type, ...]:
        return (cls, VirtualTeacher)

    def __post_init__(self) -> None:
        if not isinstance(self.layer, (int, np.integer)) or not 0 <= self.layer <= PRETRAINED_LAYERS:
            raise ValueError(f"layer must be an integer in [0, {PRETRAINED_LAYERS}], got layer={self.layer!r}")
        if not isinstance(self.hidden, (int, np.integer)) or self.hidden < 0:
            raise ValueError(f"hidden must be an integer >= 0, got hidden={self.hidden!r}")
        self.validate_objective("(a HeadConfig or a VirtualTeacher)")
        if not isinstance(self.seed, (int, np.integer)) or isinstance(self.seed, bool) or self.seed < 0:
            raise ValueError(f"seed must be an integer >= 0, got seed={self.seed!r}")
        if not isinstance(self.epochs, (int, np.integer)) or self.epochs < 1:
            raise ValueError(f"epochs must be a positive integer, got epochs={self.epochs!r}")
        if self.batch_size is not None and (not isinstance(self.batch_size, (int, np.integer)) or self.batch_size < 1):
            raise ValueError(f"batch_size must be a positive integer or None, got batch_size={self.batch_size!r}")
        if not (math.isfinite(self.learning_rate) and self.learning_rate > 0):
            raise ValueError(f"learning_rate must be finite and > 0, got learning_rate={self.learning_rate!r}")
        if not (math.isfinite(self.weight_decay) and self.weight_decay >= 0):
            raise ValueError(f"weight_decay must be finite and >= 0, got weight_decay={self.weight_decay!r}")
        if not math.isfinite(self.teacher_logit_scale) or self.teacher_logit_scale <= 0:
            raise ValueError(f"teacher_logit_scale must be finite and > 0, got {self.teacher_logit_scale!r}")
        if self.train_subset is not None and (not isinstance(self.train_subset, (int, np.integer)) or self.train_subset < 1):
            raise ValueError(f"train_subset must be a positive integer or None, got train_subset={self.train_subset!r}")

    def replace(self, **changes: Any) -> "HeadConfig":
        """A copy with some fields changed."""
        return dataclasses.replace(self, **changes)

    @property
    def name(self) -> str:
        """The model's name in result tables: ``'L2'`` is a head on layer-2 features (the tier column says so)."""
        return f"L{self.layer}"

    def label(self) -> str:
        """Readable label, e.g. ``'L2 KD α=0.5 τ=1 ← L6 (20 epochs)'`` (see ``helpers.learning.results.run_label``)."""
        return run_label(self.name, self.objective, self.teacher_label())

    def teacher_label(self) -> str:
        """The teacher as written in ``results.csv`` (``helpers.learning.results.teacher_label``), '' without one.

        e.g. ``'L6 (20 epochs)'``, ``'L6 (LS α=0.3, 20 epochs)'``, ``'L6 (2 epochs, logits ×4)'``, ``'virtual (a=0.99)'``.
        """
        if self.teacher is None:
            return ""
        if isinstance(self.teacher, VirtualTeacher):
            return teacher_label(self.teacher.label(), logit_scale=self.teacher_logit_scale)
        return teacher_label(self.teacher.name, objective=self.teacher.objective, epochs=self.teacher.epochs,
                             logit_scale=self.teacher_logit_scale)


@dataclass
class HeadRecord:
    """A trained head's results: test and validation metrics, logits per split, seconds."""

    config: HeadConfig
    task: str
    metrics: dict[str, float]
    validation_metrics: dict[str, float]
    logits: dict[str, torch.Tensor] = field(repr=False)
    labels: dict[str, torch.Tensor] = field(repr=False)
    seconds: float = 0.0

    def row(self, role: str = "student") -> dict[str, Any]:
        """One row of ``results.csv`` (``helpers.learning.results``), tier ``features``."""
        c = self.config
        return make_row(tier="features", task=self.task, role=role, student=c.name, teacher=c.teacher_label(),
                        objective=c.objective, seed=c.seed, metrics=self.metrics, train_seconds=self.seconds)


def build_head(config: HeadConfig, in_features: int, num_classes: int) -> torch.nn.Sequential:
    """The head's module, initialised from ``config.seed``: Linear, or Linear-GELU-Linear."""
    generator_state = torch.random.get_rng_state()
    torch.manual_seed(config.seed)
    try:
        if config.hidden == 0:
            return torch.nn.Sequential(torch.nn.Linear(in_features, num_classes))
        return torch.nn.Sequential(
            torch.nn.Linear(in_features, config.hidden), torch.nn.GELU(), torch.nn.Linear(config.hidden, num_classes)
        )
    finally:
        torch.random.set_rng_state(generator_state)


@torch.no_grad()
def penultimate(head: torch.nn.Sequential, inputs: torch.Tensor) -> torch.Tensor:
    """Activations entering the head's last linear layer (the inputs themselves for a linear head)."""
    head.eval()
    return head[:-1](inputs) if len(head) > 1 else inputs.clone()


def head_inputs(config: HeadConfig, data: FeatureSet) -> dict[str, torch.Tensor]:
    """The head's inputs per split: layer ``config.layer`` features standardised with the mean and
    std of the (subset) training split; ``'train'`` holds only the first ``train_subset`` rows."""
    train = data.layer("train", config.layer)[: config.train_subset]
    mean, std = train.mean(dim=0), train.std(dim=0).clamp_min(1e-6)
    inputs = {split: (data.layer(split, config.layer) - mean) / std for split in SPLITS}
    inputs["train"] = (train - mean) / std
    return inputs


def head_teacher_logits(config: HeadConfig, data: FeatureSet) -> torch.Tensor:
    """The KD teacher's logits on the (subset) training split, times ``teacher_logit_scale``."""
    if config.teacher is None:
        raise ValueError(f"config has no teacher (method={config.method!r})")
    labels = data.labels["train"][: config.train_subset]
    if isinstance(config.teacher, VirtualTeacher):
        logits = virtual_teacher_logits(labels, data.num_classes, config.teacher.a)
    else:
        teacher = config.teacher
        if teacher.train_subset is not None and teacher.train_subset != config.train_subset:
            raise ValueError("a teacher trained on a subset must use the student's train_subset")
        logits = run_head(teacher, data).logits["train"][: labels.shape[0]]
    return logits * config.teacher_logit_scale


def _fit(head, optimizer, config: HeadConfig, x: torch.Tensor, y: torch.Tensor, soft: torch.Tensor | None,
         batch: int, generator: torch.Generator) -> None:
    """The training loop: ``config.epochs`` shuffled passes in minibatches under ``config.objective``."""
    n = x.shape[0]
    objective = config.objective
    objective.check_batch(head(x[:batch]).detach(), y[:batch], None if soft is None else soft[:batch])
    for _ in range(config.epochs):
        order = torch.randperm(n, generator=generator)
        for start in range(0, n, batch):
            rows = order[start : start + batch]
            logits = head(x[rows])
            loss = objective.loss(logits, y[rows], None if soft is None else soft[rows])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()


def train_head(config: HeadConfig, data: FeatureSet, return_model: bool = False):
    """Train and evaluate one head (no cache). Returns a ``HeadRecord`` (and the module if asked).

    Inputs are ``head_inputs`` (the layer's features standardised with the training split's statistics).
    Loss: ``config.objective`` (KD: against the teacher's logits, computed first).
    """
    if not isinstance(data, FeatureSet):
        raise ValueError(f"data must be a FeatureSet, got {type(data).__name__}")
    soft = head_teacher_logits(config, data) if config.method == "kd" else None
    started = time.perf_counter()
    inputs = head_inputs(config, data)
    train_y = data.labels["train"][: config.train_subset]
    head = build_head(config, inputs["train"].shape[1], data.num_classes)
    optimizer = torch.optim.AdamW(head.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay)
    generator = torch.Generator().manual_seed(config.seed)
    n = inputs["train"].shape[0]
    batch = n if config.batch_size is None else min(int(config.batch_size), n)
    head.train()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny matmuls: one thread is faster and immune to a busy CPU
    try:
        _fit(head, optimizer, config, inputs["train"], train_y, soft, batch, generator)
    finally:
        torch.set_num_threads(threads)
    head.eval()
    with torch.no_grad():
        logits = {split: head(inputs[split]) for split in SPLITS}
    parameters = sum(p.numel() for p in head.parameters())
    flops.record("heads", flops.training_flops(parameters, n * config.epochs)
                 + flops.forward_flops(parameters, sum(inputs[split].shape[0] for split in SPLITS)),
                 time.perf_counter() - started)
    labels = {split: data.labels[split] for split in SPLITS}
    labels["train"] = train_y
    record = HeadRecord(
        config=config,
        task=data.task,
        metrics=summarize(logits["test"], labels["test"]),
        validation_metrics=summarize(logits["validation"], labels["validation"]),
        logits=logits,
        labels=labels,
        seconds=time.perf_counter() - started,
    )
    return (record, head) if return_model else record


HEAD_CACHE_SIZE = 512  # heads (with their logits) kept in memory; the least recently used go first
_HEAD_CACHE: OrderedDict[tuple[str, HeadConfig], HeadRecord] = OrderedDict()


def run_head(config: HeadConfig, data: FeatureSet) -> HeadRecord:
    """``train_head`` through an in-memory cache keyed by (feature set, config): teachers train once.

    The cache keeps the ``HEAD_CACHE_SIZE`` most recently used heads (each holds its logits on every split).
    The feature set's key covers the code (``cache.FEATURE_MODULES``), the task file and the settings.
    """
    key = (data.key, config)
    if key in _HEAD_CACHE:
        _HEAD_CACHE.move_to_end(key)
        return _HEAD_CACHE[key]
    record = train_head(config, data)
    _HEAD_CACHE[key] = record
    while len(_HEAD_CACHE) > HEAD_CACHE_SIZE:
        _HEAD_CACHE.popitem(last=False)
    return record


def clear_head_cache() -> int:
    """Forget the in-memory head results; returns how many were dropped."""
    count = len(_HEAD_CACHE)
    _HEAD_CACHE.clear()
    return count
