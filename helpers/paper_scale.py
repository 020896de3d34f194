"""Paper-scale runs: a BERT-size teacher and student on GLUE, trained by the Hugging Face Trainer.

One run trains one student with ERM, LS or KD and appends its row to ``OUT/results.csv``
(the kit's schema, ``helpers.experiments.RESULT_COLUMNS``), so the notebooks' tables and plots
(``helpers.plotting.metric_bars``) read it as they read the CPU path's results::

    python -m helpers.paper_scale --task sst2 --teacher bert-base-uncased \\
        --student distilbert-base-uncased --method kd --alpha 0.5 --temperature 1 --out build/paper
    accelerate launch --num_processes 4 -m helpers.paper_scale ...   # or: torchrun --nproc_per_node 4 -m ...

Steps of a run
--------------
1. Load the task: GLUE ``sst2``, ``mrpc``, ``qnli`` or ``mnli`` (``datasets.load_dataset("nyu-mll/glue", name)``;
   GLUE's validation split, MNLI's ``validation_matched``, is the test split, and a stratified slice of
   the training split, at most 2000 rows, is the validation split), or a local CSV file with columns
   ``text,label`` or ``text,text_pair,label`` (split like ``helpers.data.load_task``).
2. KD only: the teacher is fine-tuned on the task with ERM first (seed 0, ``--teacher-epochs``, the
   student's ``--lr``, batch size and length), saved under ``OUT/teachers/`` and reused by later runs
   with the same settings (its own row is appended once, when it is trained), unless
   ``--teacher-checkpoint`` names a folder already fine-tuned on the task (same label order).
3. The student (``--student``, pretrained, not fine-tuned) is trained with
   ``helpers.trainer.DistillationTrainer``: the teacher runs live in the loss, or, with
   ``--precompute-teacher-logits``, once per split beforehand.
4. The main process appends the row and saves the validation and test logits under ``OUT/runs/``
   (``OUT/trainer/`` is the Trainer's working folder: empty, as no checkpoints are saved).

``--batch-size`` is the global batch size (all processes and accumulation steps together), so a
run on N processes follows the same optimisation as on one. Models are local folders or, when
``KDLS_ALLOW_HUB=1`` is set before ``import helpers``, Hugging Face hub names; offline, a hub name
that is not in the local cache is refused at once.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import hashlib
import io
import json
import math
import os
import re
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import datasets
import numpy as np
import pandas as pd
import torch
from safetensors.torch import save_file
from transformers import AutoConfig, BertConfig, BertModel, DataCollatorWithPadding, PrinterCallback, TrainingArguments

from helpers.assets import sha256_of
from helpers.cache import atomic_write_bytes
from helpers.data import SPLIT_SEED, frame_to_task, load_task, take_subset, task_name
from helpers.experiments import RESULT_COLUMNS
from helpers.losses import validate_objective
from helpers.metrics import summarize
from helpers.models import build_model, load_tokenizer
from helpers.trainer import METHODS, TEACHER_LOGITS_COLUMN, DistillationTrainer, compute_metrics, forward_argument_names

__all__ = [
    "GLUE_DATASET",
    "GLUE_TASKS",
    "DEFAULT_ALPHA",
    "PaperScaleConfig",
    "TinySetup",
    "hub_offline",
    "check_model_source",
    "model_label",
    "glue_to_task",
    "load_paper_task",
    "tokenize_task_pairs",
    "append_results",
    "run",
    "make_tiny_offline_setup",
    "main",
]

#: GLUE task -> (first text column, second text column or None, test split).
GLUE_TASKS: dict[str, tuple[str, str | None, str]] = {
    "sst2": ("sentence", None, "validation"),
    "mrpc": ("sentence1", "sentence2", "validation"),
    "qnli": ("question", "sentence", "validation"),
    "mnli": ("premise", "hypothesis", "validation_matched"),
}
#: GLUE on the Hugging Face hub (formerly ``"glue"``; the old name has been seen to fail since the move).
GLUE_DATASET = "nyu-mll/glue"
DEFAULT_ALPHA = {"erm": 0.0, "ls": 0.1, "kd": 0.5}
VALIDATION_FRACTION = 0.1
MAX_VALIDATION_ROWS = 2000
TEACHER_SEED = 0
WARMUP_FRACTION = 0.1
WEIGHT_DECAY = 0.01
EVAL_BATCH_SIZE = 64


# ---- configuration -------------------------------------------------------------------


@dataclass(frozen=True)
class PaperScaleConfig:
    """Everything that determines one paper-scale run (the command line's options).

    ``alpha`` (None: 0 for ERM, 0.1 for LS, 0.5 for KD) weights the soft part; ``temperature``
    is KD's. ``batch_size`` is global; ``lr`` is AdamW's peak learning rate (linear warm-up over
    the first 10% of steps, then linear decay, weight decay 0.01, gradient clipping at 1.0).
    """

    task: str
    student: str
    out: Path
    method: str = "erm"
    alpha: float | None = None
    temperature: float = 1.0
    teacher: str | None = None
    teacher_checkpoint: str | None = None
    epochs: float = 3.0
    teacher_epochs: float = 3.0
    batch_size: int = 32
    lr: float = 2e-5
    max_length: int = 128
    seed: int = 0
    bf16: bool = False
    train_subset: int | None = None
    grad_accum: int = 1
    precompute_teacher_logits: bool = False
    quiet: bool = False

    def __post_init__(self) -> None:
        if self.alpha is None:
            object.__setattr__(self, "alpha", DEFAULT_ALPHA.get(self.method, 0.0))
        validate_objective(self.method, self.alpha, self.temperature)
        if self.method == "kd" and (self.teacher is None) == (self.teacher_checkpoint is None):
            raise ValueError("method='kd' needs exactly one of --teacher (fine-tuned here first) or --teacher-checkpoint")
        for name in ("epochs", "teacher_epochs", "lr"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be a finite number > 0, got {name}={value!r}")
        for name in ("batch_size", "max_length", "grad_accum"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {name}={value!r}")
        if self.train_subset is not None and (not isinstance(self.train_subset, int) or self.train_subset < 1):
            raise ValueError(f"train_subset must be a positive integer or None, got train_subset={self.train_subset!r}")
        if self.precompute_teacher_logits and self.method != "kd":
            raise ValueError("--precompute-teacher-logits is only used with method='kd'")
        per_device_batch_size(self.batch_size, self.grad_accum, world_size())

    @property
    def uses_teacher(self) -> bool:
        return self.method == "kd"


def world_size() -> int:
    """Number of processes of this run (``WORLD_SIZE``, set by ``torchrun`` and ``accelerate launch``)."""
    return int(os.environ.get("WORLD_SIZE", "1"))


def per_device_batch_size(batch_size: int, grad_accum: int, processes: int) -> int:
    """The per-process micro-batch size giving the global ``batch_size``; ValueError unless it divides."""
    share = processes * grad_accum
    if batch_size % share:
        raise ValueError(
            f"batch_size={batch_size} (global) must be divisible by processes x grad_accum = {processes} x {grad_accum}"
        )
    return batch_size // share


# ---- models --------------------------------------------------------------------------


def hub_offline() -> bool:
    """Whether the Hugging Face hub is off (``HF_HUB_OFFLINE``, which ``import helpers`` sets unless ``KDLS_ALLOW_HUB=1``)."""
    return os.environ.get("HF_HUB_OFFLINE", "0").strip().lower() in ("1", "true", "yes", "on")


def check_model_source(source: str, argument: str) -> None:
    """Raise ``ValueError`` now, not after minutes of work, unless ``source`` can be loaded.

    A local folder must hold a ``config.json``; a hub name needs the hub (``KDLS_ALLOW_HUB=1``)
    or a copy in the local Hugging Face cache.
    """
    text = str(source)
    path = Path(text).expanduser()
    if path.exists():
        if not (path / "config.json").is_file():
            raise ValueError(f"{argument}={text!r} is not a model folder (no config.json in it)")
        return
    if text.startswith((".", "/", "~")) or text.count("/") > 1 or "\\" in text:
        raise ValueError(f"{argument}={text!r}: no such folder")
    if hub_offline():
        from huggingface_hub import try_to_load_from_cache

        if isinstance(try_to_load_from_cache(text, "config.json"), str):
            return
        raise ValueError(
            f"{argument}={text!r} is not a local folder and the Hugging Face hub is offline "
            "(HF_HUB_OFFLINE=1, set by `import helpers`): set KDLS_ALLOW_HUB=1 in the environment to download "
            "it, or pass the path of a local model folder"
        )


def model_label(source: str) -> str:
    """How a model appears in ``results.csv``: a folder's name, or the hub name as given."""
    path = Path(str(source)).expanduser()
    return path.name if path.exists() else str(source)


def _num_labels_of(checkpoint: str) -> int:
    return int(AutoConfig.from_pretrained(str(checkpoint)).num_labels)


# ---- data ----------------------------------------------------------------------------


def _with_index(dataset: datasets.Dataset) -> datasets.Dataset:
    if "idx" in dataset.column_names:
        dataset = dataset.remove_columns("idx")
    return dataset.add_column("idx", list(range(len(dataset))))


def glue_to_task(raw: datasets.DatasetDict, name: str) -> datasets.DatasetDict:
    """A GLUE ``DatasetDict`` as the kit's splits, columns ``text`` [, ``text_pair``], ``label``, ``idx``.

    GLUE's test labels are hidden, so its validation split (MNLI: ``validation_matched``) is the
    test split, and a stratified slice of the training split (10%, at most 2000 rows, seed
    ``SPLIT_SEED``) is the validation split.
    """
    if name not in GLUE_TASKS:
        raise ValueError(f"unknown GLUE task {name!r}; choose one of {sorted(GLUE_TASKS)}")
    first, second, test_split = GLUE_TASKS[name]
    for split in ("train", test_split):
        if split not in raw:
            raise ValueError(f"GLUE {name}: split {split!r} missing (found {sorted(raw)})")
    renames = {first: "text"} | ({second: "text_pair"} if second else {})
    keep = ["text", "text_pair", "label"] if second else ["text", "label"]

    def tidy(split: datasets.Dataset) -> datasets.Dataset:
        missing = set(renames) - set(split.column_names)
        if missing:
            raise ValueError(f"GLUE {name}: column(s) {sorted(missing)} missing (found {split.column_names})")
        return split.rename_columns(renames).select_columns(keep)

    train = tidy(raw["train"])
    size = min(MAX_VALIDATION_ROWS, max(1, int(VALIDATION_FRACTION * len(train))))
    parts = train.train_test_split(test_size=size, stratify_by_column="label", seed=SPLIT_SEED)
    return datasets.DatasetDict(
        train=_with_index(parts["train"]), validation=_with_index(parts["test"]), test=_with_index(tidy(raw[test_split]))
    )


def _load_pair_csv(path: Path, frame: pd.DataFrame) -> datasets.DatasetDict:
    """``text,text_pair,label`` rows, split exactly as ``frame_to_task`` splits ``text,label`` rows."""
    for column in ("text", "text_pair"):
        values = frame[column]
        empty = values.isna() | (values.astype(str).str.strip() == "")
        if empty.any():
            raise ValueError(f"{path}: {int(empty.sum())} row(s) have an empty {column} (first at row {int(empty.idxmax())})")
    # frame_to_task validates the labels and makes the stratified split; it is given the row
    # numbers as texts, so that both text columns can follow the split it chose.
    rows = frame_to_task(frame.assign(text=[str(i) for i in range(len(frame))])[["text", "label"]], source=str(path))

    def attach(split: datasets.Dataset) -> datasets.Dataset:
        picked = frame.iloc[[int(i) for i in split["text"]]]
        columns = {
            "text": picked["text"].astype(str).str.strip().tolist(),
            "text_pair": picked["text_pair"].astype(str).str.strip().tolist(),
            "label": split["label"],
            "idx": split["idx"],
        }
        features = datasets.Features(
            {"text": datasets.Value("string"), "text_pair": datasets.Value("string"),
             "label": split.features["label"], "idx": split.features["idx"]}
        )
        return datasets.Dataset.from_dict(columns, features=features)

    return datasets.DatasetDict({name: attach(split) for name, split in rows.items()})


def load_paper_task(task: str) -> datasets.DatasetDict:
    """``sst2``/``mrpc``/``qnli``/``mnli`` (GLUE from ``GLUE_DATASET``: the hub or the datasets cache) or a CSV path.

    A CSV has columns ``text,label`` or ``text,text_pair,label``. Returns splits train/validation/test
    with columns ``text`` [, ``text_pair``], ``label`` (``ClassLabel``) and ``idx``.
    """
    name = str(task)
    if name in GLUE_TASKS:
        try:
            raw = datasets.load_dataset(GLUE_DATASET, name)
        except (ConnectionError, OSError, FileNotFoundError, datasets.exceptions.DatasetNotFoundError) as error:
            raise ValueError(
                f"task={name!r}: GLUE {name} is not in the local datasets cache and the hub is unreachable or "
                f"offline ({type(error).__name__}). Set KDLS_ALLOW_HUB=1 (and be online) to download it, or pass "
                "a local CSV file with text,label or text,text_pair,label columns"
            ) from None
        return glue_to_task(raw, name)
    path = Path(name).expanduser()
    if path.suffix.lower() == ".csv" and path.is_file():
        try:
            frame = pd.read_csv(path)
        except pd.errors.EmptyDataError:
            raise ValueError(f"CSV file {path} is empty") from None
        if "text_pair" in frame.columns:
            return _load_pair_csv(path, frame)
        return load_task(path)
    raise ValueError(
        f"unknown task {name!r}: use one of {sorted(GLUE_TASKS)} or the path of an existing .csv file "
        "with text,label or text,text_pair,label columns"
    )


def tokenize_task_pairs(
    task: datasets.DatasetDict, tokenizer, max_length: int, token_type_ids: bool | None = None
) -> datasets.DatasetDict:
    """Tokenize ``text`` (and ``text_pair`` if present) without padding, truncating pairs longest-first.

    Keeps ``label``; drops the texts and ``idx``. ``token_type_ids=True`` adds segment ids even for a
    tokenizer that does not return them by default (a DistilBERT student with a live BERT teacher).
    """
    columns = task["train"].column_names
    pair = "text_pair" in columns

    def encode(batch: dict) -> dict:
        second = batch["text_pair"] if pair else None
        return tokenizer(batch["text"], second, truncation=True, max_length=max_length, return_token_type_ids=token_type_ids)

    drop = [c for c in columns if c != "label"]
    return task.map(encode, batched=True, remove_columns=drop, keep_in_memory=True, desc="tokenizing")


# ---- results -------------------------------------------------------------------------


def append_results(rows: list[dict[str, Any]], out: Path) -> Path:
    """Append ``rows`` to ``out/results.csv`` (created if missing), rewriting it atomically.

    ValueError if an existing file does not have the kit's columns (``RESULT_COLUMNS``).
    """
    path = Path(out) / "results.csv"
    new = pd.DataFrame(rows, columns=RESULT_COLUMNS)
    if path.exists():
        old = pd.read_csv(path, keep_default_na=False)
        if list(old.columns) != RESULT_COLUMNS:
            raise ValueError(f"{path} has columns {list(old.columns)}, not the kit's results.csv schema {RESULT_COLUMNS}")
        new = pd.concat([old, new], ignore_index=True)
    buffer = io.StringIO()
    new.to_csv(buffer, index=False)
    atomic_write_bytes(path, buffer.getvalue().encode())
    return path


def _row(config: PaperScaleConfig, student: str, teacher: str, method: str, alpha: float, metrics: dict, seconds: float, seed: int) -> dict:
    return {
        "task": task_name(config.task),
        "student": student,
        "teacher": teacher,
        "method": method,
        "alpha": alpha,
        "temperature": config.temperature if method == "kd" else "",
        "seed": seed,
        **{name: metrics[name] for name in ("accuracy", "entropy", "max_prob", "nll", "ece")},
        "train_seconds": round(seconds, 2),
    }


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-") or "model"


def _save_predictions(folder: Path, record: dict, predictions: dict[str, tuple[torch.Tensor, torch.Tensor]]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    tensors = {}
    for split, (logits, labels) in predictions.items():
        tensors[f"logits/{split}"] = logits.contiguous()
        tensors[f"labels/{split}"] = labels.contiguous()
    handle, tmp = tempfile.mkstemp(dir=folder, prefix=".predictions.", suffix=".safetensors")
    os.close(handle)
    try:
        save_file(tensors, tmp)
        os.replace(tmp, folder / "predictions.safetensors")
    finally:
        Path(tmp).unlink(missing_ok=True)
    atomic_write_bytes(folder / "metrics.json", json.dumps(record, indent=1, sort_keys=True, default=str).encode())


# ---- training ------------------------------------------------------------------------


def _training_arguments(config: PaperScaleConfig, output_dir: Path, epochs: float, seed: int) -> TrainingArguments:
    return TrainingArguments(
        output_dir=str(output_dir),
        per_device_train_batch_size=per_device_batch_size(config.batch_size, config.grad_accum, world_size()),
        per_device_eval_batch_size=EVAL_BATCH_SIZE,
        gradient_accumulation_steps=config.grad_accum,
        num_train_epochs=epochs,
        learning_rate=config.lr,
        weight_decay=WEIGHT_DECAY,
        warmup_steps=WARMUP_FRACTION,
        max_grad_norm=1.0,
        bf16=config.bf16,
        seed=seed,
        remove_unused_columns=False,  # the datasets hold exactly the columns the models and the loss need
        ddp_find_unused_parameters=False,
        save_strategy="no",
        eval_strategy="no",
        report_to="none",
        logging_steps=50,
        log_level="warning",
        disable_tqdm=config.quiet,
        use_cpu=not torch.accelerator.is_available(),  # CPU-only machines: gloo DDP under torchrun
        dataloader_pin_memory=torch.cuda.is_available(),
    )


def _make_trainer(config: PaperScaleConfig, **kwargs: Any) -> DistillationTrainer:
    """A ``DistillationTrainer`` that, with ``--quiet``, neither draws progress bars nor prints logs."""
    trainer = DistillationTrainer(**kwargs)
    if config.quiet:
        trainer.remove_callback(PrinterCallback)
    return trainer


def _predict(trainer: DistillationTrainer, dataset: datasets.Dataset) -> tuple[torch.Tensor, torch.Tensor]:
    """Gathered eval-mode logits and labels of ``dataset`` (row order kept across processes)."""
    output = trainer.predict(dataset)
    logits = output.predictions[0] if isinstance(output.predictions, tuple) else output.predictions
    return torch.as_tensor(np.asarray(logits, dtype=np.float32)), torch.as_tensor(np.asarray(output.label_ids)).long()


def _teacher_folder(config: PaperScaleConfig, task_id: str) -> Path:
    settings = {
        "task": task_id, "teacher": str(config.teacher), "epochs": config.teacher_epochs, "lr": config.lr,
        "batch_size": config.batch_size, "max_length": config.max_length, "train_subset": config.train_subset,
        "bf16": config.bf16, "seed": TEACHER_SEED, "version": 1,
    }
    digest = hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:12]
    return Path(config.out) / "teachers" / f"{_slug(task_name(config.task))}-{_slug(model_label(config.teacher))}-{digest}"


def _task_id(task: str) -> str:
    path = Path(str(task)).expanduser()
    return f"csv:{sha256_of(path)}" if path.is_file() else str(task)


def _say(trainer_or_none, quiet: bool, message: str) -> None:
    if quiet:
        return
    if trainer_or_none is None or trainer_or_none.is_world_process_zero():
        print(message, file=sys.stderr, flush=True)


def _fine_tune_teacher(config: PaperScaleConfig, task: datasets.DatasetDict, num_labels: int, rows: list[dict]):
    """The ERM-fine-tuned teacher: loaded from ``OUT/teachers/`` or trained now (its row added to ``rows``)."""
    folder = _teacher_folder(config, _task_id(config.task))
    if (folder / "config.json").is_file():
        _say(None, config.quiet or int(os.environ.get("RANK", "0")) != 0, f"teacher: reusing {folder}")
        return build_model(str(folder), num_labels=num_labels, seed=TEACHER_SEED), str(folder)
    tokenizer = load_tokenizer(config.teacher)
    model = build_model(str(config.teacher), num_labels=num_labels, seed=TEACHER_SEED)
    data = tokenize_task_pairs(task, tokenizer, config.max_length)
    args = _training_arguments(config, Path(config.out) / "trainer", config.teacher_epochs, TEACHER_SEED)
    trainer = _make_trainer(config, model=model, args=args, train_dataset=data["train"],
                            data_collator=DataCollatorWithPadding(tokenizer), compute_metrics=compute_metrics, method="erm")
    _say(trainer, config.quiet, f"teacher: fine-tuning {config.teacher} with ERM for {config.teacher_epochs:g} epoch(s)")
    seconds = trainer.train().metrics["train_runtime"]
    logits, labels = _predict(trainer, data["test"])
    metrics = summarize(logits, labels)
    if trainer.is_world_process_zero():
        folder.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}."))
        try:
            trainer.accelerator.unwrap_model(trainer.model).save_pretrained(staging)
            tokenizer.save_pretrained(staging)
            atomic_write_bytes(staging / "teacher_run.json", json.dumps({"metrics": metrics, "train_seconds": seconds}).encode())
            if not folder.exists():  # another run may have saved the same teacher meanwhile
                os.replace(staging, folder)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        rows.append(_row(config, model_label(config.teacher), "", "erm", 0.0, metrics, seconds, TEACHER_SEED))
        append_results(rows[-1:], config.out)  # now: the teacher is saved even if the student's run fails later
    trainer.accelerator.wait_for_everyone()
    teacher = trainer.accelerator.unwrap_model(trainer.model)
    del trainer
    gc.collect()
    return teacher, str(folder)


def _with_teacher_logits(teacher, teacher_source: str, task, student_data, config: PaperScaleConfig):
    """Add the teacher's eval-mode logits as a ``teacher_logits`` column to every student split."""
    tokenizer = load_tokenizer(teacher_source)
    data = tokenize_task_pairs(task, tokenizer, config.max_length)
    args = _training_arguments(config, Path(config.out) / "trainer", 1.0, TEACHER_SEED)
    trainer = _make_trainer(config, model=teacher, args=args, data_collator=DataCollatorWithPadding(tokenizer), method="erm")
    out = {}
    for split, dataset in student_data.items():
        logits, _ = _predict(trainer, data[split])
        out[split] = dataset.add_column(TEACHER_LOGITS_COLUMN, logits.tolist())
    del trainer
    gc.collect()
    return datasets.DatasetDict(out)


def run(config: PaperScaleConfig) -> list[dict[str, Any]]:
    """One paper-scale run (see the module docstring); returns the rows appended to ``results.csv``."""
    check_model_source(config.student, "student")
    if config.uses_teacher:
        if config.teacher_checkpoint is not None:
            check_model_source(config.teacher_checkpoint, "teacher_checkpoint")
        else:
            check_model_source(config.teacher, "teacher")
    elif (config.teacher or config.teacher_checkpoint) and not config.quiet and int(os.environ.get("RANK", "0")) == 0:
        print(f"note: method={config.method!r} uses no teacher; --teacher/--teacher-checkpoint ignored", file=sys.stderr)

    task = load_paper_task(config.task)
    task["train"] = take_subset(task["train"], config.train_subset)
    label_names = task["train"].features["label"].names
    num_labels = len(label_names)
    rows: list[dict[str, Any]] = []

    teacher, teacher_source, teacher_name = None, None, ""
    if config.uses_teacher:
        if config.teacher_checkpoint is not None:
            found = _num_labels_of(config.teacher_checkpoint)
            if found != num_labels:
                raise ValueError(
                    f"teacher_checkpoint={config.teacher_checkpoint!r} has {found} labels but the task has {num_labels}"
                )
            teacher_source, teacher_name = str(config.teacher_checkpoint), model_label(config.teacher_checkpoint)
            teacher = build_model(teacher_source, num_labels=num_labels, seed=TEACHER_SEED)
        else:
            teacher, teacher_source = _fine_tune_teacher(config, task, num_labels, rows)
            teacher_name = model_label(config.teacher)

    tokenizer = load_tokenizer(config.student)
    live_teacher = config.uses_teacher and not config.precompute_teacher_logits
    segment_ids = None
    if live_teacher:
        if load_tokenizer(teacher_source).get_vocab() != tokenizer.get_vocab():
            raise ValueError(
                f"the student {config.student!r} and the teacher {teacher_name!r} have different vocabularies, so a live "
                "teacher cannot read the student's batches: use --precompute-teacher-logits"
            )
        segment_ids = True if "token_type_ids" in forward_argument_names(teacher) else None
    student_data = tokenize_task_pairs(task, tokenizer, config.max_length, token_type_ids=segment_ids)
    if config.uses_teacher and config.precompute_teacher_logits:
        student_data = _with_teacher_logits(teacher, teacher_source, task, student_data, config)
        teacher = None

    student = build_model(str(config.student), num_labels=num_labels, seed=config.seed)
    args = _training_arguments(config, Path(config.out) / "trainer", config.epochs, config.seed)
    trainer = _make_trainer(
        config, model=student, args=args, train_dataset=student_data["train"], data_collator=DataCollatorWithPadding(tokenizer),
        compute_metrics=compute_metrics, method=config.method, alpha=config.alpha, temperature=config.temperature,
        teacher_model=teacher if live_teacher else None,
    )
    _say(trainer, config.quiet, f"student: training {config.student} with {config.method} (alpha={config.alpha:g})")
    seconds = trainer.train().metrics["train_runtime"]
    predictions = {split: _predict(trainer, student_data[split]) for split in ("validation", "test")}
    metrics = {split: summarize(*predictions[split]) for split in predictions}
    row = _row(config, model_label(config.student), teacher_name, config.method, config.alpha, metrics["test"], seconds, config.seed)
    rows.append(row)
    if trainer.is_world_process_zero():
        run_id = _slug(f"{row['task']}-{row['student']}-{config.method}-a{config.alpha:g}"
                       + (f"-t{config.temperature:g}-{teacher_name}" if config.uses_teacher else "") + f"-s{config.seed}")
        record = {"config": dataclasses.asdict(config), "metrics": metrics, "train_seconds": seconds,
                  "label_names": label_names, "processes": trainer.args.world_size}
        _save_predictions(Path(config.out) / "runs" / run_id, record, predictions)
        append_results([row], config.out)
    trainer.accelerator.wait_for_everyone()
    return rows


# ---- a tiny offline setting (notebook 10 and the tests) -------------------------------


@dataclass(frozen=True)
class TinySetup:
    """Local folders and files for an offline paper-scale run in seconds."""

    teacher: Path  # a randomly initialised 2-layer BERT encoder (hidden 64, no head) with the MiniLM tokenizer
    student: Path  # a randomly initialised 1-layer BERT encoder (hidden 32, no head) with the same tokenizer
    csv: Path  # TREC questions: text,label
    pair_csv: Path  # TREC question pairs: text,text_pair,label ("same" / "different" coarse class)


def _tiny_bert(folder: Path, tokenizer, hidden: int, layers: int, dropout: float, seed: int) -> Path:
    config = BertConfig(
        vocab_size=tokenizer.vocab_size, hidden_size=hidden, num_hidden_layers=layers, num_attention_heads=2,
        intermediate_size=2 * hidden, max_position_embeddings=128,
        hidden_dropout_prob=dropout, attention_probs_dropout_prob=dropout,
    )
    torch.manual_seed(seed)
    BertModel(config).save_pretrained(folder)  # an encoder without a head, like a pretrained checkpoint
    tokenizer.save_pretrained(folder)
    return folder


def make_tiny_offline_setup(folder: Path, rows_per_class: int = 16, dropout: float = 0.1, seed: int = 0) -> TinySetup:
    """Write two tiny random BERTs and two small TREC-based CSV files into ``folder`` (seconds, offline).

    ``csv`` holds ``rows_per_class`` questions of each of TREC's 6 coarse classes; ``pair_csv`` pairs
    each question with another one, labelled ``same`` or ``different`` by coarse class (about half each).
    ``dropout=0`` makes runs on 1 and on N processes comparable step for step.
    """
    if not isinstance(rows_per_class, int) or rows_per_class < 10:
        raise ValueError(f"rows_per_class must be an integer >= 10 (every split needs each class), got rows_per_class={rows_per_class!r}")
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be in [0, 1), got dropout={dropout!r}")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tokenizer = load_tokenizer()
    teacher = _tiny_bert(folder / "tiny-teacher", tokenizer, hidden=64, layers=2, dropout=dropout, seed=seed)
    student = _tiny_bert(folder / "tiny-student", tokenizer, hidden=32, layers=1, dropout=dropout, seed=seed + 1)

    train = load_task("trec")["train"]
    names = train.features["label"].names
    frame = pd.DataFrame({"text": train["text"], "label": [names[i] for i in train["label"]]})
    picked = frame.groupby("label", sort=True).head(rows_per_class).reset_index(drop=True)
    csv = folder / "tiny_trec.csv"
    picked.to_csv(csv, index=False)

    rng = np.random.default_rng(seed)
    partner = rng.permutation(len(picked))
    same_class = rng.random(len(picked)) < 0.5
    by_label = {label: group.index.to_numpy() for label, group in picked.groupby("label")}
    for i, label in enumerate(picked["label"]):
        if same_class[i]:
            options = by_label[label][by_label[label] != i]
            partner[i] = rng.choice(options)
    pairs = pd.DataFrame({
        "text": picked["text"],
        "text_pair": picked["text"].to_numpy()[partner],
        "label": np.where(picked["label"].to_numpy() == picked["label"].to_numpy()[partner], "same", "different"),
    })
    pair_csv = folder / "tiny_trec_pairs.csv"
    pairs.to_csv(pair_csv, index=False)
    return TinySetup(teacher=teacher, student=student, csv=csv, pair_csv=pair_csv)


# ---- command line --------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m helpers.paper_scale", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--task", required=True, help=f"one of {', '.join(GLUE_TASKS)} or a CSV path (text,label or text,text_pair,label)")
    parser.add_argument("--student", required=True, help="student model: local folder or hub name (pretrained, not fine-tuned)")
    parser.add_argument("--method", default="erm", choices=METHODS, help="training objective of the student")
    parser.add_argument("--alpha", type=float, default=None, help="weight of the soft part (default: erm 0, ls 0.1, kd 0.5)")
    parser.add_argument("--temperature", type=float, default=1.0, help="KD softmax temperature")
    parser.add_argument("--teacher", default=None, help="KD: teacher model, fine-tuned here with ERM first (cached in OUT/teachers)")
    parser.add_argument("--teacher-checkpoint", default=None,
                        help="KD: folder of a teacher already fine-tuned on this task, same label order (e.g. one in OUT/teachers)")
    parser.add_argument("--teacher-epochs", type=float, default=3.0, help="epochs of the teacher's fine-tuning")
    parser.add_argument("--precompute-teacher-logits", action="store_true",
                        help="KD: run the teacher once per split beforehand instead of inside every training step")
    parser.add_argument("--out", required=True, type=Path, help="output folder: results.csv, runs/, teachers/")
    parser.add_argument("--epochs", type=float, default=3.0)
    parser.add_argument("--batch-size", type=int, default=32, help="global batch size (all processes and accumulation steps)")
    parser.add_argument("--grad-accum", type=int, default=1, help="gradient accumulation steps")
    parser.add_argument("--lr", type=float, default=2e-5, help="peak learning rate (AdamW, linear warm-up 10%% then decay)")
    parser.add_argument("--max-length", type=int, default=128, help="tokens per example (pairs truncated longest-first)")
    parser.add_argument("--seed", type=int, default=0, help="student seed (the teacher always uses seed 0)")
    parser.add_argument("--bf16", action="store_true", help="bf16 mixed precision (GPUs from Ampere on, CPUs with AMX)")
    parser.add_argument("--train-subset", type=int, default=None, help="train on a fixed random subset of this many examples")
    parser.add_argument("--quiet", action="store_true", help="no progress bars or messages")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    options = {k: v for k, v in vars(args).items()}
    try:
        config = PaperScaleConfig(**options)
        rows = run(config)
    except ValueError as error:
        parser.error(str(error))
    if int(os.environ.get("RANK", "0")) == 0 and not config.quiet:
        frame = pd.DataFrame(rows, columns=RESULT_COLUMNS)
        with pd.option_context("display.width", 200, "display.max_columns", 20, "display.float_format", "{:.4f}".format):
            print(frame.to_string(index=False))
        print(f"appended {len(rows)} row(s) to {Path(config.out) / 'results.csv'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
