"""One paper-scale run: the teacher (fine-tuned once and cached, or a given checkpoint), then the student.

Steps of :func:`run`
--------------------
1. Load the task (:func:`helpers.experiments.paper_scale.glue_data.load_paper_task`).
2. KD only: the teacher is fine-tuned on the task with ERM first (seed 0, ``teacher_epochs``, the
   student's ``lr``, batch size and length), saved under ``OUT/teachers/`` and reused by later runs
   with the same settings (its own row, ``role='teacher'``, is appended once, when it is trained),
   unless ``teacher_checkpoint`` names a folder already fine-tuned on the task (same label order).
   A teacher folder's name holds a hash of those settings and of the kit's ``CACHE_VERSION``.
3. The student (pretrained, not fine-tuned) is trained with ``helpers.learning.hf_trainer.DistillationTrainer``
   and the config's one ``Objective``: the teacher runs live in the loss, or, with
   ``precompute_teacher_logits``, once per split beforehand.
4. The main process appends the row (``helpers.learning.results``, ``tier='paper'``) to ``OUT/results.csv``
   and saves the validation and test logits under ``OUT/runs/`` (``OUT/trainer/`` is the Trainer's
   working folder: empty, as no checkpoints are saved).
"""

from __future__ import annotations

import dataclasses
import gc
import hashlib
import json
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import datasets
import numpy as np
import torch
from safetensors.torch import save_file
from transformers import DataCollatorWithPadding, PrinterCallback, TrainingArguments

from helpers.learning import cache
from helpers.learning.data import take_subset, task_name
from helpers.maths.losses import Objective
from helpers.maths.metrics import summarize
from helpers.learning.models import build_model, load_tokenizer
from helpers.experiments.paper_scale.config import TEACHER_SEED, PaperScaleConfig, per_device_batch_size, world_size
from helpers.experiments.paper_scale.glue_data import load_paper_task, task_id, tokenize_task_pairs
from helpers.experiments.paper_scale.sources import check_model_source, model_label, num_labels_of
from helpers.learning.results import append_results, make_row, teacher_label
from helpers.learning.hf_trainer import TEACHER_LOGITS_COLUMN, DistillationTrainer, compute_metrics, forward_argument_names

__all__ = ["TIER", "results_path", "teacher_folder", "run"]

TIER = "paper"
ERM = Objective()  # the teacher's fine-tuning
WARMUP_FRACTION = 0.1
WEIGHT_DECAY = 0.01
EVAL_BATCH_SIZE = 64


def results_path(config: PaperScaleConfig) -> Path:
    return Path(config.out) / "results.csv"


def _main_process() -> bool:
    return int(os.environ.get("RANK", "0")) == 0


def _say(trainer_or_none, quiet: bool, message: str) -> None:
    if quiet:
        return
    if trainer_or_none is None or trainer_or_none.is_world_process_zero():
        print(message, file=sys.stderr, flush=True)


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
    cache.atomic_write_bytes(folder / "metrics.json", json.dumps(record, indent=1, sort_keys=True, default=str).encode())


# ---- training ------------------------------------------------------------------------


def _training_arguments(config: PaperScaleConfig, epochs: float, seed: int) -> TrainingArguments:
    return TrainingArguments(
        output_dir=str(Path(config.out) / "trainer"),
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
    """A ``DistillationTrainer`` that, with ``quiet``, neither draws progress bars nor prints logs."""
    trainer = DistillationTrainer(**kwargs)
    if config.quiet:
        trainer.remove_callback(PrinterCallback)
    return trainer


def _predict(trainer: DistillationTrainer, dataset: datasets.Dataset) -> tuple[torch.Tensor, torch.Tensor]:
    """Gathered eval-mode logits and labels of ``dataset`` (row order kept across processes)."""
    output = trainer.predict(dataset)
    logits = output.predictions[0] if isinstance(output.predictions, tuple) else output.predictions
    return torch.as_tensor(np.asarray(logits, dtype=np.float32)), torch.as_tensor(np.asarray(output.label_ids)).long()


# ---- the teacher ---------------------------------------------------------------------

#: the modules whose code decides a paper-scale teacher (its folder's hash covers their fingerprint)
PAPER_TEACHER_MODULES = ("helpers.maths.losses", "helpers.learning.hf_trainer", "helpers.learning.models",
                         "helpers.experiments.paper_scale.glue_data", "helpers.experiments.paper_scale.run")


def teacher_folder(config: PaperScaleConfig) -> Path:
    """``OUT/teachers/<task>-<teacher>-<hash>``: the hash covers every setting of the teacher's fine-tuning and a
    fingerprint of the code that does it (:data:`PAPER_TEACHER_MODULES`), so an edited loss or Trainer retrains."""
    settings = {
        "task": task_id(config.task), "teacher": str(config.teacher), "epochs": config.teacher_epochs, "lr": config.lr,
        "batch_size": config.batch_size, "max_length": config.max_length, "train_subset": config.train_subset,
        "bf16": config.bf16, "seed": TEACHER_SEED, "version": cache.CACHE_VERSION,
        "code": cache.code_fingerprint(*PAPER_TEACHER_MODULES),
    }
    digest = hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:12]
    return Path(config.out) / "teachers" / f"{_slug(task_name(config.task))}-{_slug(model_label(config.teacher))}-{digest}"


def _fine_tune_teacher(config: PaperScaleConfig, task: datasets.DatasetDict, num_labels: int, rows: list[dict]):
    """The ERM-fine-tuned teacher: loaded from ``OUT/teachers/`` or trained now (its row added to ``rows``)."""
    folder = teacher_folder(config)
    if (folder / "config.json").is_file():
        _say(None, config.quiet or not _main_process(), f"teacher: reusing {folder}")
        return build_model(str(folder), num_labels=num_labels, seed=TEACHER_SEED), str(folder)
    tokenizer = load_tokenizer(config.teacher)
    model = build_model(str(config.teacher), num_labels=num_labels, seed=TEACHER_SEED)
    data = tokenize_task_pairs(task, tokenizer, config.max_length)
    args = _training_arguments(config, config.teacher_epochs, TEACHER_SEED)
    trainer = _make_trainer(config, model=model, args=args, train_dataset=data["train"],
                            data_collator=DataCollatorWithPadding(tokenizer), compute_metrics=compute_metrics, objective=ERM)
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
            record = {"metrics": metrics, "train_seconds": seconds, "version": cache.CACHE_VERSION}
            cache.atomic_write_bytes(staging / "teacher_run.json", json.dumps(record).encode())
            if not folder.exists():  # another run may have saved the same teacher meanwhile
                os.replace(staging, folder)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        rows.append(make_row(tier=TIER, task=task_name(config.task), role="teacher", student=model_label(config.teacher),
                             objective=ERM, seed=TEACHER_SEED, metrics=metrics, train_seconds=seconds))
        append_results(rows[-1:], results_path(config))  # now: the teacher is saved even if the student's run fails later
    trainer.accelerator.wait_for_everyone()
    teacher = trainer.accelerator.unwrap_model(trainer.model)
    del trainer
    gc.collect()
    return teacher, str(folder)


def _with_teacher_logits(teacher, teacher_source: str, task, student_data, config: PaperScaleConfig):
    """Add the teacher's eval-mode logits as a ``teacher_logits`` column to every student split."""
    tokenizer = load_tokenizer(teacher_source)
    data = tokenize_task_pairs(task, tokenizer, config.max_length)
    args = _training_arguments(config, 1.0, TEACHER_SEED)
    trainer = _make_trainer(config, model=teacher, args=args, data_collator=DataCollatorWithPadding(tokenizer), objective=ERM)
    out = {}
    for split, dataset in student_data.items():
        logits, _ = _predict(trainer, data[split])
        out[split] = dataset.add_column(TEACHER_LOGITS_COLUMN, logits.tolist())
    del trainer
    gc.collect()
    return datasets.DatasetDict(out)


# ---- the run -------------------------------------------------------------------------


def run(config: PaperScaleConfig) -> list[dict[str, Any]]:
    """One paper-scale run (see the module docstring); returns the rows appended to ``results.csv``."""
    check_model_source(config.student, "student")
    if config.uses_teacher:
        if config.teacher_checkpoint is not None:
            check_model_source(config.teacher_checkpoint, "teacher_checkpoint")
        else:
            check_model_source(config.teacher, "teacher")
    elif (config.teacher or config.teacher_checkpoint) and not config.quiet and _main_process():
        print(f"note: method={config.method!r} uses no teacher; --teacher/--teacher-checkpoint ignored", file=sys.stderr)

    task = load_paper_task(config.task)
    task["train"] = take_subset(task["train"], config.train_subset)
    label_names = task["train"].features["label"].names
    num_labels = len(label_names)
    rows: list[dict[str, Any]] = []

    teacher, teacher_source, teacher_name = None, None, ""
    if config.uses_teacher:
        if config.teacher_checkpoint is not None:
            found = num_labels_of(config.teacher_checkpoint)
            if found != num_labels:
                raise ValueError(
                    f"teacher_checkpoint={config.teacher_checkpoint!r} has {found} labels but the task has {num_labels}"
                )
            teacher_source = str(config.teacher_checkpoint)
            teacher_name = teacher_label(model_label(config.teacher_checkpoint))
            teacher = build_model(teacher_source, num_labels=num_labels, seed=TEACHER_SEED)
        else:
            teacher, teacher_source = _fine_tune_teacher(config, task, num_labels, rows)
            teacher_name = teacher_label(model_label(config.teacher), epochs=config.teacher_epochs)

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
    args = _training_arguments(config, config.epochs, config.seed)
    trainer = _make_trainer(
        config, model=student, args=args, train_dataset=student_data["train"], data_collator=DataCollatorWithPadding(tokenizer),
        compute_metrics=compute_metrics, objective=config.objective, teacher_model=teacher if live_teacher else None,
    )
    _say(trainer, config.quiet, f"student: training {config.student} with {config.objective.label()}")
    seconds = trainer.train().metrics["train_runtime"]
    predictions = {split: _predict(trainer, student_data[split]) for split in ("validation", "test")}
    metrics = {split: summarize(*predictions[split]) for split in predictions}
    row = make_row(tier=TIER, task=task_name(config.task), student=model_label(config.student), teacher=teacher_name,
                   objective=config.objective, seed=config.seed, metrics=metrics["test"], train_seconds=seconds)
    rows.append(row)
    if trainer.is_world_process_zero():
        run_id = _slug(f"{row['task']}-{row['student']}-{config.method}-a{config.alpha:g}"
                       + (f"-t{config.temperature:g}-{teacher_name}" if config.uses_teacher else "") + f"-s{config.seed}")
        record = {"config": dataclasses.asdict(config), "metrics": metrics, "train_seconds": seconds,
                  "label_names": label_names, "processes": trainer.args.world_size, "row": row}
        _save_predictions(Path(config.out) / "runs" / run_id, record, predictions)
        append_results([row], results_path(config))
    trainer.accelerator.wait_for_everyone()
    return rows
