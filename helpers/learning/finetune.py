"""One training loop for ERM, label smoothing (LS) and knowledge distillation (KD).

* ``TrainConfig`` is everything that determines a run; its ``key()`` (a hash of the whole
  config, the asset pins and the code's ``CACHE_VERSION``) names the run in the cache.
* ``train(config)`` trains and evaluates; ``run(config)`` does the same through the results
  cache (``helpers.learning.cache``), so re-running skips finished runs.
* KD's teacher is itself a ``TrainConfig``: its run's logits on the training split (computed
  once, in eval mode, under ``no_grad``, after its training) are cached with its record and
  looked up by example index, so the teacher never runs inside the student's loop.
* The loss is the config's one :class:`helpers.maths.losses.Objective` (``config.objective``, built and validated
  with the config; checked in full on the first batch only).
* Optimiser: AdamW with linear warm-up then linear decay. Precision: ``helpers.infrastructure.precision`` (bf16
  autocast on CPUs with native bf16, fp32 otherwise; ``KDLS_PRECISION=fp32`` forces fp32).
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import math
import random
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from helpers.infrastructure.progress import progress as progress_bar
from transformers import get_linear_schedule_with_warmup

from helpers.infrastructure import assets
from helpers.learning import cache
from helpers.infrastructure import flops
from helpers.learning.data import SPLITS, load_task, subset_and_tokenize, task_fingerprint, task_name, used_token_ids
from helpers.maths.losses import METHODS, RunObjective
from helpers.maths.metrics import summarize
from helpers.learning.models import PRETRAINED_LAYERS, build_model, load_tokenizer, restore_vocabulary, trim_vocabulary
from helpers.infrastructure.precision import PRECISIONS, autocast, resolve_precision
from helpers.learning.results import make_row, run_label, teacher_label

__all__ = [
    "cached_run",
    "METHODS",
    "TrainConfig",
    "RunRecord",
    "seed_everything",
    "prepare_data",
    "predict_logits",
    "train",
    "run",
    "run_with_checkpoints",
    "store",
    "teacher_logits",
]

@dataclass(frozen=True)
class TrainConfig(RunObjective):
    """Everything that determines one run.

    ``alpha`` weights the soft part (LS's uniform target, KD's teacher); ``temperature`` is
    KD's softmax temperature (ignored otherwise). ``teacher`` (KD only) is the teacher's own
    config; ``teacher_logit_scale`` multiplies the teacher's logits before they are used
    (a way to make a teacher more or less confident). ``train_subset`` / ``eval_subset`` cap
    the number of examples (None: all). ``schedule_epochs`` (None: ``epochs``) is the length of the
    learning-rate schedule: a config with ``epochs < schedule_epochs`` is the **checkpoint** after ``epochs``
    epochs of a run scheduled for ``schedule_epochs`` (the same steps as that run up to there), so one longer
    run yields a ladder of teachers (:func:`train` with ``checkpoints``).
    """

    task: str = "trec"
    student: str = "L2"
    epochs: float = 3.0
    schedule_epochs: float | None = None
    batch_size: int = 32
    learning_rate: float = 1e-4
    weight_decay: float = 0.01
    warmup_fraction: float = 0.1
    max_length: int = 64
    train_subset: int | None = None
    eval_subset: int | None = None
    precision: str = "auto"

    def __post_init__(self) -> None:
        self.validate_objective("config (teacher=TrainConfig(...))")
        if self.teacher is not None and str(self.teacher.task) != str(self.task):
            raise ValueError(f"teacher task {self.teacher.task!r} differs from student task {self.task!r}")
        if self.teacher is not None and self.teacher.train_subset is not None and self.teacher.train_subset != self.train_subset:
            raise ValueError("a teacher trained on a subset must use the student's train_subset")
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, got {self.precision!r}")
        _check_student(self.student)
        _check_number("epochs", self.epochs, positive=True)
        object.__setattr__(self, "epochs", float(self.epochs))  # 2 and 2.0 are one run (and one cache key)
        if self.schedule_epochs is not None:
            _check_number("schedule_epochs", self.schedule_epochs, positive=True)
            if self.schedule_epochs < self.epochs:
                raise ValueError(f"schedule_epochs ({self.schedule_epochs:g}) must be >= epochs ({self.epochs:g}): a "
                                 f"checkpoint lies inside its run")
            object.__setattr__(self, "schedule_epochs", float(self.schedule_epochs))
            if self.schedule_epochs == self.epochs:  # one spelling (and one cache key) for a whole run
                object.__setattr__(self, "schedule_epochs", None)
        _check_number("learning_rate", self.learning_rate, positive=True)
        _check_number("weight_decay", self.weight_decay, positive=False)
        _check_number("warmup_fraction", self.warmup_fraction, positive=False, at_most=1.0)
        _check_number("teacher_logit_scale", self.teacher_logit_scale, positive=True)
        for name in ("batch_size", "max_length"):
            _check_integer(name, getattr(self, name), minimum=1)
        _check_integer("seed", self.seed, minimum=0)
        for name in ("train_subset", "eval_subset"):
            if getattr(self, name) is not None:
                _check_integer(name, getattr(self, name), minimum=1)

    def replace(self, **changes: Any) -> "TrainConfig":
        """A copy with some fields changed (``dataclasses.replace``)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self, resolve: bool = False) -> dict[str, Any]:
        """Plain-dict form (teacher nested); ``resolve=True`` turns ``precision="auto"`` into this machine's."""
        data = dataclasses.asdict(self)
        if resolve:
            data["precision"] = resolve_precision(self.precision)
        if self.teacher is not None:
            data["teacher"] = self.teacher.to_dict(resolve)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "TrainConfig":
        data = dict(data)
        if data.get("teacher") is not None:
            data["teacher"] = cls.from_dict(data["teacher"])
        return cls(**data)

    def key(self) -> str:
        """The run's cache key: a hash of the whole config (precision resolved), the task file's contents, the
        asset pins, ``CACHE_VERSION`` and the code of the modules that compute a run (``cache.FINETUNE_MODULES``)."""
        payload = {"config": self.to_dict(resolve=True), "task_file": self._task_files(), "assets": assets.asset_fingerprint(),
                   "version": cache.CACHE_VERSION, "code": cache.code_fingerprint(*cache.FINETUNE_MODULES)}
        return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:20]

    def _task_files(self) -> str:
        """The task's content fingerprint (a CSV's sha256), so an edited CSV is a different run."""
        return task_fingerprint(self.task)

    def teacher_label(self) -> str:
        """The teacher as written in ``results.csv``: ``'L6 (4 epochs)'``, ``'L6 (1 epoch, logits ×2)'``, a teacher run
        of another seed than 0 ``'L6 (4 epochs, seed 1)'``; '' without one."""
        if self.teacher is None:
            return ""
        return teacher_label(self.teacher.student, objective=self.teacher.objective, epochs=self.teacher.epochs,
                             schedule_epochs=self.teacher.schedule_epochs,
                             logit_scale=self.teacher_logit_scale, seed=self.teacher.seed)

    def label(self) -> str:
        """Readable label, e.g. ``'L2 KD α=0.5 τ=1 ← L6 (4 epochs)'`` (see ``helpers.learning.results.run_label``)."""
        return run_label(self.student, self.objective, self.teacher_label())


def _check_student(student: str) -> None:
    """``L1``..``L6``, ``scratch``, or anything else (a local folder or a hub name, checked when loaded)."""
    if not isinstance(student, str) or not student:
        raise ValueError(f"student must be a non-empty model name, got {student!r}")
    if student[0] == "L" and student[1:].isdigit() and not 1 <= int(student[1:]) <= PRETRAINED_LAYERS:
        raise ValueError(f"student {student!r}: the pretrained model has layers 1..{PRETRAINED_LAYERS} (L1 .. L{PRETRAINED_LAYERS})")


def _check_number(name: str, value: Any, positive: bool, at_most: float | None = None) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {name}={value!r}")
    if (value <= 0 if positive else value < 0) or (at_most is not None and value > at_most):
        bound = "> 0" if positive else ">= 0"
        raise ValueError(f"{name} must be {bound}{f' and <= {at_most:g}' if at_most is not None else ''}, got {name}={value!r}")


def _check_integer(name: str, value: Any, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {name}={value!r}")


@dataclass
class RunRecord:
    """The result of one run: its config, test metrics, timings and logits per split."""

    config: TrainConfig
    metrics: dict[str, float]
    validation_metrics: dict[str, float]
    timings: dict[str, float]
    logits: dict[str, torch.Tensor] = field(repr=False)
    labels: dict[str, torch.Tensor] = field(repr=False)
    indices: dict[str, torch.Tensor] = field(repr=False)
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def test_logits(self) -> torch.Tensor:
        return self.logits["test"]

    def row(self, role: str = "student") -> dict[str, Any]:
        """One row of ``results.csv`` (``helpers.learning.results``), tier ``finetune``. A teacher's row names the model in the
        teacher spelling its KD students use (``'L6 (2 of 6 epochs)'``), so the rungs of a ladder stay apart."""
        c = self.config
        student = c.student if role != "teacher" else teacher_label(
            c.student, objective=c.objective, epochs=c.epochs, schedule_epochs=c.schedule_epochs, seed=c.seed)
        return make_row(tier="finetune", task=task_name(c.task), role=role, student=student, teacher=c.teacher_label(),
                        objective=c.objective, seed=c.seed, metrics=self.metrics, train_seconds=self.timings["train_seconds"])


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def prepare_data(config: TrainConfig):
    """Load, subset and tokenize the config's task; returns ``(tokenized DatasetDict, tokenizer, label names)``.

    Memoised per process on (task fingerprint, subsets, max length): the many students of one grid share one
    tokenization (a CSV task is re-read when its bytes change). Treat the returned data as read-only.
    """
    return _prepared_data(str(config.task), task_fingerprint(config.task), config.train_subset, config.eval_subset,
                          config.max_length)


@functools.lru_cache(maxsize=4)
def _prepared_data(task_name: str, fingerprint: str, train_subset: int | None, eval_subset: int | None,
                   max_length: int):
    task = load_task(task_name)
    tokenizer = load_tokenizer()
    tokenized = subset_and_tokenize(task, tokenizer, max_length, train_subset, eval_subset)
    return tokenized, tokenizer, task["train"].features["label"].names


def _length_grouped_batches(lengths: list[int], batch_size: int, generator: torch.Generator) -> list[list[int]]:
    """Shuffled batches of similar lengths: shuffle, sort within mega-batches of 50, shuffle batches."""
    order = torch.randperm(len(lengths), generator=generator).tolist()
    mega = batch_size * 50
    batches = []
    for start in range(0, len(order), mega):
        chunk = sorted(order[start : start + mega], key=lambda i: lengths[i], reverse=True)
        batches += [chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size)]
    permutation = torch.randperm(len(batches), generator=generator).tolist()
    return [batches[i] for i in permutation]


def padded_columns(split, pad_token_id: int) -> dict[str, torch.Tensor]:
    """A tokenized split as tensors: each token column right-padded to the longest row, plus ``length``,
    ``label`` and ``idx`` (when present). Built once per run so that a batch is a slice, not a collation of rows.
    """
    present = [n for n in ("length", "label", "idx", "input_ids", "attention_mask", "token_type_ids")
               if n in split.column_names]
    rows = split.select_columns(present)[:]  # one bulk Arrow-to-Python conversion (iterating a column is slow)
    lengths = torch.tensor(rows["length"], dtype=torch.long)
    columns = {"length": lengths}
    columns.update({name: torch.tensor(rows[name]) for name in ("label", "idx") if name in rows})
    width = int(lengths.max()) if len(lengths) else 0
    for name in ("input_ids", "attention_mask", "token_type_ids"):
        if name in rows:
            fill = pad_token_id if name == "input_ids" else 0
            padded = torch.full((len(split), width), fill, dtype=torch.long)
            for row, values in enumerate(rows[name]):
                padded[row, : len(values)] = torch.tensor(values)
            columns[name] = padded
    return columns


def padded_batch(columns: dict[str, torch.Tensor], rows: list[int]) -> dict[str, torch.Tensor]:
    """The batch of ``rows``, token columns cut to the batch's longest row (dynamic padding)."""
    index = torch.tensor(rows)
    width = int(columns["length"][index].max())
    return {name: values[index, :width] if values.dim() == 2 else values[index] for name, values in columns.items()}


def _model_inputs(batch: dict) -> dict:
    return {k: v for k, v in batch.items() if k in ("input_ids", "attention_mask", "token_type_ids")}


def predict_logits(model: torch.nn.Module, dataset, tokenizer, batch_size: int = 128, precision: str = "auto") -> torch.Tensor:
    """Eval-mode logits (float32, shape ``(N, K)``) for a tokenized split, in the split's row order.

    Rows are batched by length for speed and put back in order afterwards.
    """
    return _predict_columns(model, padded_columns(dataset, tokenizer.pad_token_id), batch_size, precision)


@torch.no_grad()
def _predict_columns(model: torch.nn.Module, columns: dict[str, torch.Tensor], batch_size: int = 128,
                     precision: str = "auto") -> torch.Tensor:
    """:func:`predict_logits` on a split already in tensors (:func:`padded_columns`)."""
    was_training = model.training
    model.eval()
    order = torch.argsort(columns["length"], stable=True).tolist()
    outputs = torch.empty(0)
    chunks = []
    for start in range(0, len(order), batch_size):
        batch = padded_batch(columns, order[start : start + batch_size])
        with autocast(precision):
            chunks.append(model(**_model_inputs(batch)).logits.float())
    if chunks:
        outputs = torch.cat(chunks)
    logits = torch.empty_like(outputs)
    logits[torch.tensor(order)] = outputs
    model.train(was_training)
    return logits


def teacher_logits(teacher: TrainConfig, scale: float = 1.0, progress: bool = True) -> torch.Tensor:
    """The teacher's eval-mode logits on its task's full training split, indexed by ``idx``.

    Computed once per (teacher config, data set): they are part of the teacher's cached run.
    """
    record = run(teacher, progress=progress)
    indices, values = record.indices["train"], record.logits["train"]
    logits = torch.full((int(indices.max()) + 1, values.shape[1]), float("nan"))
    logits[indices] = values
    return logits * scale


def train(config: TrainConfig, progress: bool = True, return_model: bool = False,
          trim_unused_embeddings: bool = True, checkpoints: tuple[float, ...] = ()):
    """Train and evaluate one config (no cache). Returns a ``RunRecord`` (and the model if asked).

    ``checkpoints`` (epochs < ``config.epochs``): also evaluate the model after that many epochs and return
    ``(record, checkpoint_records)``, each checkpoint's record under the config
    ``config.replace(epochs=e, schedule_epochs=config.epochs)`` — the record that training that config alone
    would give (same steps: evaluation draws no random numbers), at no extra training cost.

    The loss is ``config.objective`` (KD: against the cached teacher logits), checked in full on the
    first batch only (a per-step check would be repeated work).
    ``trim_unused_embeddings`` trains only the embedding rows of tokens in the task's data
    (:func:`helpers.learning.models.trim_vocabulary`) and restores the full table before evaluation: the
    same model up to rounding, with about a third less work per step on TREC.
    """
    soft_targets = teacher_logits(config.teacher, config.teacher_logit_scale, progress) if config.method == "kd" else None
    started = time.perf_counter()
    seed_everything(config.seed)
    data, tokenizer, names = prepare_data(config)
    model = build_model(config.student, num_labels=len(names), seed=config.seed)
    vocabulary = trim_vocabulary(model, used_token_ids(data, tokenizer)) if trim_unused_embeddings else None
    train_split = data["train"]
    columns = padded_columns(train_split, tokenizer.pad_token_id)
    if soft_targets is not None:
        covered = columns["idx"]
        if len(soft_targets) <= int(covered.max()) or torch.isnan(soft_targets[covered]).any():
            raise ValueError("the teacher's cached logits do not cover the student's training split")

    generator = torch.Generator().manual_seed(config.seed)
    steps_per_epoch = math.ceil(len(train_split) / config.batch_size)
    total_steps = max(1, math.ceil(steps_per_epoch * config.epochs))
    schedule_steps = max(1, math.ceil(steps_per_epoch * (config.schedule_epochs or config.epochs)))
    checkpoints = tuple(sorted({float(e) for e in checkpoints}))
    if checkpoints and (config.schedule_epochs is not None or not all(0 < e < config.epochs for e in checkpoints)):
        raise ValueError(f"checkpoints must lie strictly inside a whole run's epochs (0, {config.epochs:g}), got {checkpoints}")
    checkpoint_steps = {max(1, math.ceil(steps_per_epoch * e)): e for e in checkpoints}
    checkpoint_records = []
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay, fused=True)
    scheduler = get_linear_schedule_with_warmup(optimizer, int(config.warmup_fraction * schedule_steps), schedule_steps)
    lengths = columns["length"].tolist()
    setup_seconds = time.perf_counter() - started

    objective = config.objective
    model.train()
    step, losses, tokens = 0, [], 0
    train_started = time.perf_counter()
    bar = progress_bar(total=total_steps, desc=config.label(), disable=not progress)
    while step < total_steps:
        for batch_rows in _length_grouped_batches(lengths, config.batch_size, generator):
            if step >= total_steps:
                break
            batch = padded_batch(columns, batch_rows)
            tokens += int(batch["length"].sum())
            targets = batch["label"]
            teacher = None if soft_targets is None else soft_targets[batch["idx"]]
            with autocast(config.precision):
                logits = model(**_model_inputs(batch)).logits.float()
            if step == 0:
                objective.check_batch(logits, targets, teacher)
            loss = objective.loss(logits, targets, teacher)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            if vocabulary is not None:
                vocabulary.record_weight_decay(optimizer.param_groups[0]["lr"], config.weight_decay)
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            losses.append(loss.item())
            step += 1
            bar.update(1)
            bar.set_postfix(loss=f"{np.mean(losses[-20:]):.3f}")
            if step in checkpoint_steps:  # the trimmed model predicts every split's tokens: no restore needed
                epochs = checkpoint_steps[step]
                checkpoint_records.append(_evaluate(
                    config.replace(epochs=epochs, schedule_epochs=config.epochs), model, data, tokenizer, names,
                    step=step, tokens=tokens, losses=losses, setup_seconds=setup_seconds,
                    train_seconds=time.perf_counter() - train_started, count_training=False))
    bar.close()
    train_seconds = time.perf_counter() - train_started
    if vocabulary is not None:
        restore_vocabulary(model)
    record = _evaluate(config, model, data, tokenizer, names, step=step, tokens=tokens, losses=losses,
                       setup_seconds=setup_seconds, train_seconds=train_seconds, checkpoints_seconds=sum(
                           r.timings["eval_seconds"] for r in checkpoint_records))
    result = (record, checkpoint_records) if checkpoints else record
    return (result, model) if return_model else result


def _evaluate(config: TrainConfig, model, data, tokenizer, names, *, step: int, tokens: int, losses: list[float],
              setup_seconds: float, train_seconds: float, checkpoints_seconds: float = 0.0,
              count_training: bool = True) -> RunRecord:
    """Eval-mode logits and the run's record; its FLOPs (training up to here + this evaluation) are tallied, the
    training part only once per run (a checkpoint's training is its run's). ERM runs — the only ones that serve as
    teachers — are evaluated on every split (a KD student is fitted to its teacher's training-split logits); LS and
    KD runs on validation and test only."""
    eval_started = time.perf_counter()
    logits, labels, indices = {}, {}, {}
    splits = SPLITS if config.method == "erm" else tuple(s for s in SPLITS if s != "train")
    eval_tokens = 0
    for split in splits:
        columns = padded_columns(data[split], tokenizer.pad_token_id)
        logits[split] = _predict_columns(model, columns, precision=config.precision)
        labels[split], indices[split] = columns["label"], columns["idx"]
        eval_tokens += int(columns["length"].sum())
    eval_seconds = time.perf_counter() - eval_started
    parameters = flops.non_embedding_parameters(model)
    trained = flops.training_flops(parameters, tokens) if count_training else 0
    flops.record("finetune", trained + flops.forward_flops(parameters, eval_tokens),
                 (train_seconds - checkpoints_seconds if count_training else 0.0) + eval_seconds)
    return RunRecord(
        config=config,
        metrics=summarize(logits["test"], labels["test"]),
        validation_metrics=summarize(logits["validation"], labels["validation"]),
        timings={
            "setup_seconds": setup_seconds,
            "train_seconds": train_seconds,
            "eval_seconds": eval_seconds,
            "examples_per_second": step * config.batch_size / max(train_seconds, 1e-9),
        },
        logits=logits,
        labels=labels,
        indices=indices,
        info={"label_names": names, "steps": step, "train_tokens": tokens, "final_loss": float(np.mean(losses[-20:])),
              "precision": resolve_precision(config.precision)},
    )


def run(config: TrainConfig, progress: bool = True, refresh: bool = False) -> RunRecord:
    """``train(config)`` through the results cache: a finished run is loaded, not retrained.

    A record is served only if the config stored in it has the key it was looked up for. Training and
    storing happen under the run's lock (``cache.run_lock``): an identical run in another process waits,
    then loads this one's record.
    """
    key = config.key()
    with cache.run_lock(key):  # an identical run in progress elsewhere: wait for it, then load its record
        cached = None if refresh else _load_cached(key)
        if cached is not None:
            return cached
        record = train(config, progress=progress)
        store(record)
    return record


def cached_run(config: TrainConfig) -> RunRecord | None:
    """The cached record of ``config`` without training: None when there is none, or when the record under its key
    holds another run (its own stored config decides, as in :func:`run`)."""
    return _load_cached(config.key())


def _load_cached(key: str) -> RunRecord | None:
    """The cached run stored under ``key`` if its own stored config has that key; else None (reported)."""
    cached = cache.load_run(key)
    if cached is None:
        return None
    try:
        record = _record_from_cache(cached)
        stored_key = record.config.key()
    except Exception as error:  # noqa: BLE001 - a record this code cannot read is not served
        stored_key = f"unreadable ({type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''})"
    if stored_key != key:
        print(f"cached record {cache.run_path(key)} holds another run (its config's key is {stored_key}, "
              f"not {key}): it will be retrained", file=sys.stderr)
        return None
    return record


def run_with_checkpoints(config: TrainConfig, checkpoints: tuple[float, ...], progress: bool = True) -> list[RunRecord]:
    """The records of ``config`` and of its checkpoints after ``checkpoints`` epochs (see :func:`train`), through
    the cache: when any of them is missing, ``config`` is trained once and every record is stored.
    Returns the checkpoints' records (ascending epochs), then ``config``'s."""
    rungs = [config.replace(epochs=e, schedule_epochs=config.epochs) for e in sorted(set(checkpoints))] + [config]
    with cache.run_lock(config.key()):
        cached = [_load_cached(rung.key()) for rung in rungs]
        if all(record is not None for record in cached):
            return cached
        record, checkpoint_records = train(config, progress=progress, checkpoints=tuple(checkpoints))
        for each in [*checkpoint_records, record]:
            store(each)
    return [*checkpoint_records, record]


def store(record: RunRecord) -> None:
    """Save a finished run in the results cache under its config's key (atomically)."""
    cache.save_run(record.config.key(), _record_to_cache(record))


def _record_to_cache(record: RunRecord) -> tuple[dict, dict[str, torch.Tensor]]:
    meta = {
        "config": record.config.to_dict(),
        "metrics": record.metrics,
        "validation_metrics": record.validation_metrics,
        "timings": record.timings,
        "info": record.info,
    }
    tensors = {f"{kind}/{split}": getattr(record, kind)[split] for kind in ("logits", "labels", "indices") for split in record.logits}
    return meta, tensors


def _record_from_cache(cached: tuple[dict, dict[str, torch.Tensor]]) -> RunRecord:
    meta, tensors = cached
    parts: dict[str, dict[str, torch.Tensor]] = {"logits": {}, "labels": {}, "indices": {}}
    for name, tensor in tensors.items():
        kind, split = name.split("/")
        parts[kind][split] = tensor
    # metrics are derived from the stored logits, so they always follow helpers.maths.metrics
    return RunRecord(
        config=TrainConfig.from_dict(meta["config"]),
        metrics=summarize(parts["logits"]["test"], parts["labels"]["test"]),
        validation_metrics=summarize(parts["logits"]["validation"], parts["labels"]["validation"]),
        timings=meta["timings"],
        info=meta["info"],
        **parts,
    )
