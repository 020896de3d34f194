"""The hand-in: one small file per share of a pooled class, ``handin.json`` in the share's ``--out`` folder.

Format (JSON, ``"format": "kdls-handin"``, ``"version": 1``)::

    identity   what makes runs comparable: "code" (helpers.learning.cache.code_fingerprint of the modules that compute
               a run of either tier), "assets" (the asset pins' fingerprint), "cache_version", "precision" (the
               precision the runs used, e.g. "fp32") and "preset" ({"name", "fingerprint"}: every budget but the seeds)
    shares     the shares it holds, e.g. ["3/30"] ([] for a run of the whole grid); "seeds": its preset's seeds (the
               fine-tuned tier's: those of its shares)
    runs       one entry per run: "key" (the run cache's key: config, task data, pins, code), "tier", "config" (the
               whole config), "row" (its results.csv row) and "validation_entropy" (mean entropy on the validation
               split: the ERM baseline of the kit's predictions)
    expectations  helpers.experiments.sweeps.kd_expectations of the share's runs (its teachers' validation entropy and
               accuracy; the pool recomputes the ERM baseline over the class's seeds)
    inheritance   helpers.experiments.sweeps.finetune_inheritance_frame of the share's fine-tuned runs, per task,
               student, α and τ ("inheritance_alpha", "inheritance_temperature")
    commands   the command lines that made it
    checksum   sha256 of everything above, serialised canonically (sorted keys, no spaces)

The checksum finds a damaged or hand-edited file; it is not a signature (anyone with the kit can write a valid one).
A share's command writes it after its runs (:func:`write_handin`); a second command into the same folder with the same
identity adds its runs (a run already there is replaced); ``helpers.experiments.pool`` reads hand-ins back
(:func:`read_handin`) and merges a class.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd
from filelock import FileLock

from helpers.experiments.grid import feature_teachers, teacher_configs
from helpers.experiments.presets import Preset, preset_identity
from helpers.experiments.shares import Share
from helpers.experiments.sweeps import finetune_inheritance_frame, kd_expectations
from helpers.infrastructure.assets import asset_fingerprint
from helpers.infrastructure.precision import resolve_precision
from helpers.learning import cache
from helpers.learning.finetune import TrainConfig
from helpers.learning.results import RESULT_COLUMNS, TIERS
from helpers.maths.metrics import entropy

__all__ = ["HANDIN_NAME", "HANDIN_FORMAT", "HANDIN_VERSION", "HandInError", "HandIn", "run_key", "handin_document",
           "write_handin", "hand_in", "read_handin", "handin_path"]

HANDIN_NAME = "handin.json"
HANDIN_FORMAT = "kdls-handin"
HANDIN_VERSION = 1
_IDENTITY_KEYS = ("code", "assets", "cache_version", "precision", "preset")


class HandInError(ValueError):
    """A hand-in that cannot be used; the message says why in a few words."""


@dataclass
class HandIn:
    """A hand-in read back and checked: its identity, shares, seeds, runs, expectations and inheritance rows."""

    path: Path
    identity: dict[str, Any]
    shares: list[str]
    seeds: list[int]
    runs: list[dict[str, Any]]
    expectations: pd.DataFrame = field(repr=False)
    inheritance: pd.DataFrame = field(repr=False)
    commands: list[str] = field(default_factory=list)

    @property
    def group(self) -> str:
        """A short name of the identity: hand-ins with equal identities pool into one table."""
        return _digest(self.identity)[:12]


def _plain(value: Any) -> Any:
    """``value`` as plain JSON data (NumPy scalars and tuples converted)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return value


def _canonical(document: dict) -> bytes:
    return json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def _digest(document: Any) -> str:
    return hashlib.sha256(_canonical({"": document})).hexdigest()


def _checksum(document: dict) -> str:
    return hashlib.sha256(_canonical({k: v for k, v in document.items() if k != "checksum"})).hexdigest()


def run_key(record) -> str:
    """A run's identity: the run cache's key for the fine-tuned tier; for a head, a hash of its task and config (the
    hand-in's identity carries the code, pins, precision and feature budgets)."""
    if isinstance(record.config, TrainConfig):
        return record.config.key()
    return _digest({"task": record.task, "config": _plain(dataclasses.asdict(record.config))})[:20]


def _config(record) -> dict:
    if isinstance(record.config, TrainConfig):
        return _plain(record.config.to_dict(resolve=True))
    return _plain(dataclasses.asdict(record.config))


def _precision(record) -> str:
    return getattr(record, "info", {}).get("precision") or resolve_precision("auto")


def _inheritance(records: Sequence) -> pd.DataFrame:
    """:func:`helpers.experiments.sweeps.finetune_inheritance_frame` of every (task, student, α, τ) of the fine-tuned
    KD runs among ``records`` that has one, with ``inheritance_alpha`` and ``inheritance_temperature``."""
    cases = dict.fromkeys((r.row()["task"], r.config.student, r.config.alpha, r.config.temperature) for r in records
                          if isinstance(r.config, TrainConfig) and r.config.method == "kd")
    frames = []
    for task, student, alpha, temperature in cases:
        try:
            frame = finetune_inheritance_frame(records, temperature=temperature, alpha=alpha, task=task, student=student)
        except ValueError:  # no standard KD there (self or reverse KD only)
            continue
        frames.append(frame.assign(inheritance_alpha=alpha, inheritance_temperature=temperature))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _records_json(frame: pd.DataFrame) -> list[dict]:
    return _plain([{k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()}
                   for row in frame.to_dict(orient="records")])


def handin_document(records: Sequence, *, teachers: Sequence, preset: Preset, share: "str | Share | None" = None,
                    command: str | None = None) -> dict:
    """The hand-in of ``records`` (``RunRecord`` and/or ``HeadRecord``); a record whose config is among ``teachers``
    is a teacher row (as in :func:`helpers.learning.results.results_frame`)."""
    teachers = list(teachers)
    runs, precisions = [], set()
    for record in records:
        row = record.row(role="teacher" if record.config in teachers else "student")
        precisions.add(_precision(record))
        runs.append({"key": run_key(record), "tier": row["tier"], "config": _config(record), "row": _plain(row),
                     "validation_entropy": float(entropy(record.logits["validation"]).mean())})
    identity = {"code": cache.code_fingerprint(*cache.FINETUNE_MODULES, *cache.FEATURE_MODULES),
                "assets": asset_fingerprint(), "cache_version": cache.CACHE_VERSION,
                "precision": "+".join(sorted(precisions)) or resolve_precision("auto"), "preset": preset_identity(preset)}
    seeds = sorted(int(seed) for seed in preset.seeds)
    document = {"format": HANDIN_FORMAT, "version": HANDIN_VERSION, "identity": identity,
                "shares": [str(Share.parse(share))] if share else [], "seeds": seeds, "runs": runs,
                "expectations": _records_json(kd_expectations(records)) if records else [],
                "inheritance": _records_json(_inheritance(records)),
                "commands": [command] if command else []}
    return {**document, "checksum": _checksum(document)}


def _merged(old: dict, new: dict) -> dict:
    """``new`` with the runs of ``old`` that it does not hold again, and ``old``'s expectations, inheritance rows,
    shares, seeds and commands."""
    keys = {run["key"] for run in new["runs"]}
    document = {k: v for k, v in new.items() if k != "checksum"}
    document["runs"] = [run for run in old["runs"] if run["key"] not in keys] + new["runs"]
    for part in ("expectations", "inheritance"):  # rows of the same runs are dropped by the pool
        document[part] = old[part] + new[part]
    document["shares"] = sorted(set(old["shares"]) | set(new["shares"]), key=lambda s: [int(p) for p in s.split("/")])
    document["seeds"] = sorted(set(old["seeds"]) | set(new["seeds"]))
    document["commands"] = list(dict.fromkeys(old["commands"] + new["commands"]))
    return {**document, "checksum": _checksum(document)}


def write_handin(records: Sequence, out: Path, *, teachers: Sequence, preset: Preset,
                 share: "str | Share | None" = None, command: str | None = None) -> Path:
    """Write (atomically) ``out/handin.json`` for ``records`` (see :func:`handin_document`); returns its path.

    A valid hand-in already there with the same identity keeps its other runs; any other file there is replaced
    (one line on stderr says so)."""
    path = handin_path(out)
    document = handin_document(records, teachers=teachers, preset=preset, share=share, command=command)
    path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(path.parent / f".{path.name}.lock"):  # commands into one folder at once: each adds its runs
        if path.exists():
            try:
                old = read_handin(path)
            except HandInError as error:
                print(f"{path} {error}: replaced by this run's hand-in", file=sys.stderr)
            else:
                if old.identity == document["identity"]:
                    document = _merged(json.loads(path.read_text(encoding="utf-8")), document)
                else:
                    print(f"{path} held runs of another code, pins, preset or precision: replaced by this run's "
                          f"hand-in", file=sys.stderr)
        cache.atomic_write_bytes(path, (json.dumps(document, ensure_ascii=False, indent=1) + "\n").encode())
    return path


def hand_in(records: Sequence, preset: Preset, share: "str | Share | None", out: Path | None = None) -> Path | None:
    """Notebook 06's hand-in: ``records`` of both tiers (teachers: the preset's ladder on each fine-tuned task and the
    feature tier's teacher) into ``out`` (default: ``share_K_of_N`` in the current folder); None without a share."""
    if share is None or share == "":
        return None
    share = Share.parse(share)
    teachers = [*(c for task in preset.tasks for c in teacher_configs(task, preset)), *feature_teachers(preset)]
    folder = Path(out) if out is not None else Path(f"share_{share.index}_of_{share.count}")
    return write_handin(records, folder, teachers=teachers, preset=preset, share=share,
                        command=f"notebook 06, preset {preset.name}, SHARE = {str(share)!r}")


def handin_path(submission: Path) -> Path:
    """The hand-in file a submission names: the file itself, or ``<folder>/handin.json``."""
    submission = Path(submission).expanduser()
    is_file = submission.is_file() or (not submission.exists() and bool(submission.suffix))
    return submission if is_file else submission / HANDIN_NAME


def read_handin(submission: Path) -> HandIn:
    """A hand-in (a file, or a share's ``--out`` folder) read back and checked; :class:`HandInError` says why not."""
    path = handin_path(submission)
    if not Path(submission).expanduser().exists():
        raise HandInError("does not exist")
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise HandInError(f"has no {HANDIN_NAME} (is it a share's --out folder?)") from None
    except OSError as error:
        raise HandInError(f"cannot be read ({error.strerror or error})") from None
    if not raw.strip():
        raise HandInError("is empty")
    try:
        document = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise HandInError(f"is damaged (not JSON: {str(error).splitlines()[0]})") from None
    if not isinstance(document, dict) or document.get("format") != HANDIN_FORMAT:
        raise HandInError("is not a hand-in of this kit")
    if document.get("version") != HANDIN_VERSION:
        raise HandInError(f"is a hand-in of format version {document.get('version')!r}; this kit reads version "
                          f"{HANDIN_VERSION}")
    if document.get("checksum") != _checksum(document):
        raise HandInError("was edited or damaged (its checksum does not match its contents)")
    try:
        return _parse(path, document)
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise HandInError(f"is damaged ({type(error).__name__}: {error})") from None


def _parse(path: Path, document: dict) -> HandIn:
    identity = document["identity"]
    missing = [k for k in _IDENTITY_KEYS if k not in identity]
    if missing:
        raise ValueError(f"its identity lacks {missing}")
    for run in document["runs"]:
        lacking = [c for c in RESULT_COLUMNS if c not in run["row"]]
        if lacking or run["row"]["tier"] not in TIERS or not isinstance(run["key"], str):
            raise ValueError(f"run {run.get('key')!r} lacks {lacking or 'a known tier and key'}")
        if not isinstance(run["validation_entropy"], (int, float)) or math.isinf(run["validation_entropy"]):
            raise ValueError(f"run {run['key']!r} has no validation entropy")
    parts = {part: pd.DataFrame(document[part]) for part in ("expectations", "inheritance")}
    return HandIn(path=path, identity=identity, shares=list(document["shares"]), seeds=list(document["seeds"]),
                  runs=list(document["runs"]), commands=list(document.get("commands", [])), **parts)
