"""The resumable store behind the shipped results: every finished fine-tuned run is written into the shipped folder
as it completes, so a long regeneration interrupted on one machine continues on another from the committed folder.

Layout, under ``<shipped folder>/runs/``:

* ``teachers/<key>.record.safetensors`` -- a teacher run's own run-cache record, byte for byte (all splits' logits:
  its KD students train on them). Before a grid runs, :func:`seed_teachers` copies each into the local run cache, so
  the runner loads it instead of training it again; the cache checks the record (checksum, stored config) as usual.
* ``students/<key>.record.safetensors`` -- what the shipped files need of a run that teaches no one: its
  ``results.csv`` row and its validation and test log-probabilities (float16), in the same checksummed record format.
  :func:`load_student` serves it only when the key it was stored under is the key of the run asked for.

A key is the run cache's key (the whole config, task file, asset pins, code fingerprint): a store written by other
code or data is simply not found, never mixed in. Nothing here trains; :mod:`helpers.pipeline.shipped` decides what
to run.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from helpers.learning import cache

__all__ = ["StoredRun", "teacher_path", "student_path", "seed_teachers", "save_teacher", "save_student",
           "load_student", "stored_keys"]

_SPLITS = ("validation", "test")


@dataclass
class StoredRun:
    """A finished student run as the shipped files need it: config, row, log-probabilities of validation and test.

    It quacks like the tiers' run records where the reporting code reads them (``config``, ``row(role)``,
    ``logits``, ``labels``); its ``logits`` are log-probabilities, which give the same softmax, entropy and NLL."""

    config: Any
    stored_row: dict[str, Any]
    logits: dict[str, torch.Tensor] = field(repr=False)
    labels: dict[str, torch.Tensor] = field(repr=False)

    def row(self, role: str = "student") -> dict[str, Any]:
        if role != "student":
            raise ValueError("a stored student run has no teacher row: teachers are stored as whole records")
        return dict(self.stored_row)


def teacher_path(folder: Path, key: str) -> Path:
    return Path(folder) / "runs" / "teachers" / f"{key}{cache.RECORD_SUFFIX}"


def student_path(folder: Path, key: str) -> Path:
    return Path(folder) / "runs" / "students" / f"{key}{cache.RECORD_SUFFIX}"


def seed_teachers(folder: Path, configs) -> int:
    """Copy each of ``configs``' stored teacher records into the local run cache where it is missing; returns how
    many were copied."""
    copied = 0
    for config in configs:
        key = config.key()
        source, target = teacher_path(folder, key), cache.run_path(key)
        if source.is_file() and not target.is_file():
            shutil.copyfile(source, target)
            copied += 1
    return copied


def save_teacher(folder: Path, config) -> None:
    """Copy a finished teacher's run-cache record into the store (atomically)."""
    key = config.key()
    source = cache.run_path(key)
    if not source.is_file():
        raise FileNotFoundError(f"no cached record for teacher run {key}: run it first")
    cache.atomic_write_bytes(teacher_path(folder, key), source.read_bytes())


def save_student(folder: Path, record) -> None:
    """Store what the shipped files need of a finished student ``record`` (a tier's run record)."""
    key = record.config.key()
    tensors = {f"logprobs_{split}": torch.log_softmax(record.logits[split].float(), dim=-1).to(torch.float16)
               for split in _SPLITS}
    tensors["labels_test"] = record.labels["test"].to(torch.int16)
    tensors["labels_validation"] = record.labels["validation"].to(torch.int16)
    cache.save_record(student_path(folder, key), {"key": key, "row": record.row()}, tensors)


def load_student(folder: Path, config) -> StoredRun | None:
    """The stored student run of ``config``, or None (none stored, or a record that is damaged or holds another
    key: reported on one line by the cache and ignored)."""
    key = config.key()
    loaded = cache.load_record(student_path(folder, key), consequence="the run will be trained again")
    if loaded is None:
        return None
    meta, tensors = loaded
    if meta.get("key") != key:
        print(f"stored run {student_path(folder, key)} holds another run's key: it will be trained again")
        return None
    logits = {split: tensors[f"logprobs_{split}"].float() for split in _SPLITS}
    labels = {split: tensors[f"labels_{split}"].long() for split in _SPLITS}
    return StoredRun(config=config, stored_row=meta["row"], logits=logits, labels=labels)


def stored_keys(folder: Path) -> dict[str, set[str]]:
    """The keys in the store: ``{'teachers': {...}, 'students': {...}}``."""
    return {kind: {p.name[: -len(cache.RECORD_SUFFIX)] for p in (Path(folder) / "runs" / kind).glob(f"*{cache.RECORD_SUFFIX}")}
            for kind in ("teachers", "students")}
