"""The fast tier: frozen MiniLM sentence features and small heads trained on them in about a second.

Fine-tuning a transformer on a 2-core CPU takes minutes per run, too slow for many seeds,
sweeps and live sliders. This tier fine-tunes nothing:

* ``encode_features(task)`` (:mod:`helpers.learning.frozen_features`) runs the pretrained MiniLM-L6 encoder
  **once** over every split and stores every layer's mean-pooled features; layer ``k`` stands for an ``L<k>`` model.
* ``HeadConfig`` describes a small head on one layer's features: a linear classifier
  (``hidden=0``) or a one-hidden-layer MLP (``hidden>0``; its hidden activations are the
  "penultimate layer" used in notebook 09). ``train_head`` trains it with AdamW on tensors,
  with the kit's losses (``helpers.maths.losses``: ``alpha`` weights the soft part, ``tau**2``
  multiplies KD's KL term) and evaluates it with ``helpers.maths.metrics.summarize``.
  ``train_heads`` / ``run_heads`` (cached) train many heads at once: heads of one shape and budget
  are slices of one stacked model (one batched matrix product per layer and step), each with its own
  initialisation, shuffling, loss and optimiser state, so each ends as it would alone.
* A KD head's teacher is another ``HeadConfig`` (trained first, through the in-memory cache of
  ``run_heads``) or a ``VirtualTeacher`` (Yuan et al.'s hand-made teacher, probability ``a`` on
  the true class). ``teacher_logit_scale`` multiplies the teacher's logits (a sharper or
  flatter teacher).
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from helpers.infrastructure.progress import progress as progress_bar

from helpers.infrastructure import flops
from helpers.learning.data import SPLITS
from helpers.maths.losses import Objective, RunObjective
from helpers.maths.metrics import summarize
from helpers.learning.models import PRETRAINED_LAYERS
from helpers.learning.frozen_features import FeatureSet
from helpers.learning.results import make_row, run_label, teacher_label

__all__ = [
    "VirtualTeacher",
    "virtual_teacher_logits",
    "HeadConfig",
    "HeadRecord",
    "build_head",
    "penultimate",
    "head_inputs",
    "train_head",
    "train_heads",
    "run_head",
    "run_heads",
    "clear_head_cache",
    "head_teacher_logits",
]

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
                             logit_scale=self.teacher_logit_scale, seed=self.teacher.seed)


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
    # the CPU generator only (heads are built on the CPU): torch.manual_seed would also queue a seeding of every
    # accelerator's generator, with a stack trace each (milliseconds per head)
    torch.random.default_generator.manual_seed(config.seed)
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


# Heads train in stacks: every head of one shape, budget and optimiser setting is a slice of one set of stacked
# parameters (weight ``(S, out, in)``, bias ``(S, out)``), so a sweep's tiny matrix products become one batched
# product per layer and step. Each head keeps its own initialisation (``build_head``), its own shuffling (a generator
# seeded with its seed), its own loss (``Objective.loss``) and its own AdamW state (AdamW works element by element),
# so a stacked head ends where the same head trained alone ends, to floating-point rounding.

MAX_STACK = 32  # heads in one stack at most (bounds the memory of evaluating a stack on a whole split)


def _stack_key(config: HeadConfig) -> tuple:
    """What heads must share to train in one stack: inputs, shapes, steps and optimiser settings."""
    return (config.layer, config.hidden, config.epochs, config.batch_size, config.learning_rate,
            config.weight_decay, config.train_subset)


def _stacked_parameters(configs: list[HeadConfig], in_features: int, num_classes: int) -> list[torch.Tensor]:
    """Weight ``(S, out, in)`` and bias ``(S, out)`` of each linear layer; slice ``i`` is ``build_head(configs[i])``."""
    heads = [build_head(config, in_features, num_classes) for config in configs]
    layers = zip(*([m for m in head if isinstance(m, torch.nn.Linear)] for head in heads))
    parameters = []
    for linears in layers:
        parameters += [torch.stack([linear.weight.detach() for linear in linears]).requires_grad_(),
                       torch.stack([linear.bias.detach() for linear in linears]).requires_grad_()]
    return parameters


def _stacked_logits(parameters: list[torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """Logits ``(S, B, K)`` of a stack on ``x``: ``(S, B, in)`` (each head its own rows) or ``(B, in)`` (shared)."""
    out = x
    for position in range(0, len(parameters), 2):
        weight, bias = parameters[position], parameters[position + 1]
        if position:
            out = torch.nn.functional.gelu(out)
        if out.dim() == 2:  # shared rows: one wide product for every head
            stacks, width = weight.shape[0], weight.shape[1]
            out = (out @ weight.reshape(stacks * width, -1).T).reshape(out.shape[0], stacks, width).transpose(0, 1)
            out = out + bias.unsqueeze(1)
        else:
            out = torch.baddbmm(bias.unsqueeze(1), out, weight.mT)
    return out


def _objective_groups(configs: list[HeadConfig]) -> list[tuple[Objective, slice]]:
    """The stack's runs of consecutive heads with one objective: ``(objective, slice of positions)`` (``train_heads``
    orders a stack by objective, so each objective is one run)."""
    runs: list[tuple[Objective, slice]] = []
    start = 0
    for position in range(1, len(configs) + 1):
        if position == len(configs) or configs[position].objective != configs[start].objective:
            runs.append((configs[start].objective, slice(start, position)))
            start = position
    return runs


def _stack_loss(runs, logits: torch.Tensor, y: torch.Tensor, soft: dict, rows: torch.Tensor) -> torch.Tensor:
    """The sum over heads of each head's own mean loss on its rows (``logits`` ``(S, B, K)``, ``rows`` ``(S, B)``).

    One ``Objective.loss`` call per run of heads with one objective: a mean over its ``S_g * B`` rows times ``S_g``
    is the sum of its heads' means, so each head's gradient is the one it would get alone.
    """
    total = logits.new_zeros(())
    for objective, heads in runs:
        part = logits[heads]
        teacher = None
        if objective.needs_teacher:
            stacked = soft[heads.start]
            teacher = stacked[torch.arange(stacked.shape[0]).unsqueeze(1), rows[heads]].flatten(0, 1)
        total = total + objective.loss(part.flatten(0, 1), y[heads].flatten(), teacher) * part.shape[0]
    return total


def _fit_stack(parameters: list[torch.Tensor], configs: list[HeadConfig], x: torch.Tensor, y: torch.Tensor,
               soft: list[torch.Tensor | None], batch: int) -> None:
    """The training loop of a stack: ``epochs`` passes, each head over its own shuffled minibatches, AdamW."""
    first = configs[0]
    n = x.shape[0]
    runs = _objective_groups(configs)
    with torch.no_grad():
        start_logits = _stacked_logits(parameters, x[:batch])
    for position, config in enumerate(configs):
        teacher = soft[position]
        config.objective.check_batch(start_logits[position], y[:batch], None if teacher is None else teacher[:batch])
    stacked_soft = {heads.start: torch.stack(soft[heads]) for objective, heads in runs if objective.needs_teacher}
    optimizer = torch.optim.AdamW(parameters, lr=first.learning_rate, weight_decay=first.weight_decay)
    generators = [torch.Generator().manual_seed(config.seed) for config in configs]
    for _ in range(first.epochs):
        orders = torch.stack([torch.randperm(n, generator=generator) for generator in generators])
        for start in range(0, n, batch):
            rows = orders[:, start : start + batch]
            loss = _stack_loss(runs, _stacked_logits(parameters, x[rows]), y[rows], stacked_soft, rows)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()


@dataclass
class _Stack:
    """One stack, ready to train: its configs (one ``_stack_key``), inputs, targets, KD soft targets and parameters."""

    configs: list[HeadConfig]
    inputs: dict[str, torch.Tensor]
    labels: dict[str, torch.Tensor]  # per split ('train': the subset the heads train on)
    soft: list[torch.Tensor | None]
    parameters: list[torch.Tensor]
    batch: int


def _prepare_stack(configs: list[HeadConfig], data: FeatureSet, inputs: dict[str, torch.Tensor]) -> _Stack:
    """Everything a stack needs before training (KD teachers trained already). Runs in the calling thread:
    ``build_head`` seeds the global generator."""
    first = configs[0]
    n = inputs["train"].shape[0]
    labels = {**data.labels, "train": data.labels["train"][: first.train_subset]}
    return _Stack(configs=configs, inputs=inputs, labels={split: labels[split] for split in SPLITS},
                  soft=[head_teacher_logits(config, data) if config.method == "kd" else None for config in configs],
                  parameters=_stacked_parameters(configs, inputs["train"].shape[1], data.num_classes),
                  batch=n if first.batch_size is None else min(int(first.batch_size), n))


def _train_stack(stack: _Stack) -> list[tuple[dict[str, torch.Tensor], dict[str, float], dict[str, float]]]:
    """Train a stack; per head, its logits per split and its test and validation metrics. One intra-op thread
    (stacks run side by side; tiny tensors' operations are quickest on one thread)."""
    torch.set_num_threads(1)
    _fit_stack(stack.parameters, stack.configs, stack.inputs["train"], stack.labels["train"], stack.soft, stack.batch)
    with torch.no_grad():
        logits = {split: _stacked_logits(stack.parameters, stack.inputs[split]) for split in SPLITS}
    heads = []
    for position in range(len(stack.configs)):
        own = {split: values[position].clone() for split, values in logits.items()}
        heads.append((own, summarize(own["test"], stack.labels["test"]),
                      summarize(own["validation"], stack.labels["validation"])))
    return heads


def _stack_flops(stack: _Stack) -> float:
    """Model FLOPs of a stack: every head's training steps and its forward passes over every split."""
    per_head = sum(p[0].numel() for p in stack.parameters)
    n, evaluated = stack.inputs["train"].shape[0], sum(values.shape[0] for values in stack.inputs.values())
    epochs = stack.configs[0].epochs
    return len(stack.configs) * (flops.training_flops(per_head, n * epochs) + flops.forward_flops(per_head, evaluated))


def _chunks(positions: list[int], parts: int) -> list[list[int]]:
    """``positions`` in ``parts`` consecutive runs of near-equal length."""
    size, extra = divmod(len(positions), parts)
    bounds = [0]
    for part in range(parts):
        bounds.append(bounds[-1] + size + (part < extra))
    return [positions[a:b] for a, b in zip(bounds, bounds[1:]) if b > a]


def _unstacked_head(parameters: list[torch.Tensor], position: int, config: HeadConfig, data: FeatureSet) -> torch.nn.Sequential:
    """Head ``position`` of a stack as its own module (``build_head``'s layout), in eval mode."""
    head = build_head(config, parameters[0].shape[2], data.num_classes)
    linears = [m for m in head if isinstance(m, torch.nn.Linear)]
    with torch.no_grad():
        for number, linear in enumerate(linears):
            linear.weight.copy_(parameters[2 * number][position])
            linear.bias.copy_(parameters[2 * number + 1][position])
    return head.eval()


def train_heads(configs: list[HeadConfig], data: FeatureSet, return_models: bool = False, progress=None) -> list:
    """Train and evaluate several heads at once (no cache for them; KD teachers come from ``run_heads``).

    Heads that share layer, width, epochs, batch size, learning rate, weight decay and ``train_subset`` train together
    in stacks (see above) of at most ``MAX_STACK``; the stacks run side by side, one per thread of torch's
    ``get_num_threads()``, each on one intra-op thread (no barrier to wait at when a busy CPU deschedules a thread).
    Each ``HeadRecord`` equals training that head alone, to floating-point rounding; its ``seconds`` is its share of
    the wall time of the stacks. Returns the records in the order of ``configs`` (pairs ``(record, module)`` if
    ``return_models``). ``progress``: called with the number of heads in each finished stack.
    """
    if not isinstance(data, FeatureSet):
        raise ValueError(f"data must be a FeatureSet, got {type(data).__name__}")
    configs = list(configs)
    for config in configs:
        if not isinstance(config, HeadConfig):
            raise ValueError(f"configs must be HeadConfigs, got {type(config).__name__}")
    teachers = [c.teacher for c in configs if isinstance(c.teacher, HeadConfig)]
    if teachers:
        run_heads(teachers, data, progress=False)
    threads = torch.get_num_threads()
    groups: dict[tuple, list[int]] = {}
    for position, config in enumerate(configs):
        groups.setdefault(_stack_key(config), []).append(position)
    inputs: dict[tuple, dict[str, torch.Tensor]] = {}
    stacks: list[tuple[list[int], _Stack]] = []
    for positions in groups.values():
        positions = sorted(positions, key=lambda p: dataclasses.astuple(configs[p].objective))  # one run per objective
        first = configs[positions[0]]
        shared = inputs.setdefault((first.layer, first.train_subset), head_inputs(first, data))
        parts = min(len(positions), threads * -(-len(positions) // (threads * MAX_STACK)))  # a multiple of threads
        stacks += [(chunk, _prepare_stack([configs[p] for p in chunk], data, shared)) for chunk in _chunks(positions, parts)]
    started = time.perf_counter()
    trained: list = [None] * len(stacks)
    try:
        with ThreadPoolExecutor(max_workers=max(1, min(threads, len(stacks)))) as pool:
            futures = {pool.submit(_train_stack, stack): number for number, (_, stack) in enumerate(stacks)}
            for future in as_completed(futures):
                trained[futures[future]] = future.result()
                if progress is not None:
                    progress(len(stacks[futures[future]][0]))
    finally:
        torch.set_num_threads(threads)
    seconds = time.perf_counter() - started
    flops.record("heads", sum(_stack_flops(stack) for _, stack in stacks), seconds)
    results: list = [None] * len(configs)
    for (positions, stack), heads in zip(stacks, trained):
        for index, (position, config, (logits, metrics, validation)) in enumerate(zip(positions, stack.configs, heads)):
            record = HeadRecord(config=config, task=data.task, metrics=metrics, validation_metrics=validation,
                                logits=logits, labels=stack.labels, seconds=seconds / len(configs))
            model = _unstacked_head(stack.parameters, index, config, data) if return_models else None
            results[position] = (record, model) if return_models else record
    return results


def train_head(config: HeadConfig, data: FeatureSet, return_model: bool = False):
    """Train and evaluate one head (no cache). Returns a ``HeadRecord`` (and the module if asked).

    Inputs are ``head_inputs`` (the layer's features standardised with the training split's statistics).
    Loss: ``config.objective`` (KD: against the teacher's logits, computed first). ``train_heads`` with one config.
    """
    return train_heads([config], data, return_models=return_model)[0]


HEAD_CACHE_SIZE = 512  # heads (with their logits) kept in memory; the least recently used go first
_HEAD_CACHE: OrderedDict[tuple[str, HeadConfig], HeadRecord] = OrderedDict()


def _cached(config: HeadConfig, data: FeatureSet) -> HeadRecord | None:
    """The cached record of ``config`` on ``data`` (now the most recently used), or None."""
    key = (data.key, config)
    if key not in _HEAD_CACHE:
        return None
    _HEAD_CACHE.move_to_end(key)
    return _HEAD_CACHE[key]


def run_heads(configs, data: FeatureSet, progress: bool = True, desc: str | None = None) -> list[HeadRecord]:
    """``train_heads`` through an in-memory cache keyed by (feature set, config), one record per head: the heads
    not cached yet train together (their KD teachers first), the others are looked up. Records in ``configs``' order.

    The cache keeps the ``HEAD_CACHE_SIZE`` most recently used heads (each holds its logits on every split).
    The feature set's key covers the code (``cache.FEATURE_MODULES``), the task file and the settings.
    """
    configs = list(configs)
    found = {config: record for config in configs if (record := _cached(config, data)) is not None}
    missing = [config for config in dict.fromkeys(configs) if config not in found]
    teachers = [c.teacher for c in missing if isinstance(c.teacher, HeadConfig) and _cached(c.teacher, data) is None]
    if teachers:
        run_heads(teachers, data, progress=False)
        found.update({c: record for c in missing if (record := _cached(c, data)) is not None})
        missing = [config for config in missing if config not in found]
    if missing:
        with progress_bar(total=len(missing), desc=desc or f"heads on {data.task}", disable=not progress) as bar:
            records = train_heads(missing, data, progress=bar.update)
        for config, record in zip(missing, records):
            found[config] = record
            _HEAD_CACHE[(data.key, config)] = record
        while len(_HEAD_CACHE) > HEAD_CACHE_SIZE:
            _HEAD_CACHE.popitem(last=False)
    return [found[config] for config in configs]


def run_head(config: HeadConfig, data: FeatureSet) -> HeadRecord:
    """``run_heads`` for one head: trained once per (feature set, config), then served from the in-memory cache."""
    return run_heads([config], data, progress=False)[0]


def clear_head_cache() -> int:
    """Forget the in-memory head results; returns how many were dropped."""
    count = len(_HEAD_CACHE)
    _HEAD_CACHE.clear()
    return count
