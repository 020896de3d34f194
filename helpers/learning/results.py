"""The kit's results: the ``results.csv`` schema, the one spelling of model labels, the row builder
and the atomic CSV writer. Every tier (fine-tuning, frozen-feature heads, the Trainer path) and
every command line writes its rows through this module.

Schema (one row per trained model)::

    tier, task, role, student, teacher, method, alpha, temperature, seed,
    accuracy, entropy, max_prob, nll, ece, train_seconds

* ``tier``: ``"finetune"`` (transformers fine-tuned on the CPU), ``"features"`` (small heads on
  frozen features, the fast many-seed companion) or ``"paper"`` (the Trainer path). Tables,
  plots and verdicts never mix tiers: :mod:`helpers.reporting.verdicts` groups by it.
* ``role``: ``"teacher"`` for a model trained to teach others, else ``"student"``.
* ``student``: the model trained (``"L2"``: the first two MiniLM layers; on the feature tier, a
  head on layer-2 features). ``teacher``: empty except for KD, spelled by :func:`teacher_label`.
* ``alpha`` weights the soft part (0 for ERM); ``temperature`` is KD's τ (empty otherwise).
* Metrics are on the test split, in nats where they have a unit (see ``helpers.maths.metrics``).
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any, Iterable, Mapping, NamedTuple, Sequence

import numpy as np
import pandas as pd
from filelock import FileLock

from helpers.infrastructure.settings import current_settings
from helpers.learning.cache import atomic_write_bytes
from helpers.maths.losses import Objective
from helpers.maths.statistics import check_columns

__all__ = [
    "record_results",
    "RECORD_ENV",
    "MAIN_RECORD",
    "INHERITANCE_RECORD",
    "FINETUNE_INHERITANCE_RECORD",
    "EXPECTATIONS_RECORD",
    "TIERS",
    "ROLES",
    "METRIC_COLUMNS",
    "RESULT_COLUMNS",
    "IDENTITY_COLUMNS",
    "teacher_label",
    "TeacherSpelling",
    "parse_teacher_label",
    "run_label",
    "make_row",
    "results_frame",
    "results_file",
    "results_lock",
    "run_identities",
    "write_results",
    "append_results",
    "read_results",
]

TIERS = ("finetune", "features", "paper")
ROLES = ("teacher", "student")
METRIC_COLUMNS = ("accuracy", "entropy", "max_prob", "nll", "ece")
RESULT_COLUMNS = ["tier", "task", "role", "student", "teacher", "method", "alpha", "temperature", "seed",
                  *METRIC_COLUMNS, "train_seconds"]
IDENTITY_COLUMNS = ("tier", "task", "role", "student", "teacher", "method", "alpha", "temperature", "seed")  # one run


def teacher_label(name: str, *, objective: Objective | None = None, epochs: float | None = None,
                  logit_scale: float = 1.0, schedule_epochs: float | None = None, seed: int | None = None) -> str:
    """The one spelling of a teacher: its model name, then how it differs from a plain ERM teacher.

    ``'L6'``, ``'L6 (logits ×2)'`` (its logits multiplied by 2: sharper), ``'L6 (LS α=0.3)'``,
    ``'L6 (1 epoch)'``, ``'L6 (LS α=0.3, 2 epochs, logits ×0.5)'``; a checkpoint after 2 epochs of a run
    scheduled for 6: ``'L6 (2 of 6 epochs)'``. A teacher run of another ``seed`` than 0 ends with it:
    ``'L6 (2 of 6 epochs, seed 1)'`` (seed 0, the kit's one teacher run per setting before teacher seeds, keeps
    the plain spelling). :func:`parse_teacher_label` reads a spelling back.
    """
    notes = []
    if objective is not None and objective.method != "erm":
        notes.append(objective.label())
    if epochs is not None and schedule_epochs is not None and schedule_epochs != epochs:
        notes.append(f"{epochs:g} of {schedule_epochs:g} epochs")
    elif epochs is not None:
        notes.append(f"{epochs:g} epoch{'' if epochs == 1 else 's'}")
    if logit_scale != 1.0:
        notes.append(f"logits ×{logit_scale:g}")
    if seed:
        notes.append(f"seed {int(seed)}")
    return f"{name} ({', '.join(notes)})" if notes else str(name)


_SEED_NOTE = re.compile(r"(, | \()seed (\d+)\)$")
_CHECKPOINT_NOTE = re.compile(r"[(,] ?[\d.]+ of [\d.]+ epochs[,)]")


class TeacherSpelling(NamedTuple):
    """A :func:`teacher_label` read back: the ``model`` (``'L6'``), the teacher ``setting`` (the spelling without the
    run's seed: every run of one setting shares it), the run's ``seed`` (0 when the spelling names none), whether it
    is an earlier ``checkpoint`` of a longer run (``'2 of 6 epochs'``) and whether its logits are ``rescaled``."""

    model: str
    setting: str
    seed: int
    checkpoint: bool
    rescaled: bool


def parse_teacher_label(label: str) -> TeacherSpelling:
    """Read a :func:`teacher_label` back: ``'L6 (2 of 6 epochs, seed 1)'`` → model ``'L6'``, setting
    ``'L6 (2 of 6 epochs)'``, seed 1, a checkpoint, not rescaled; ``'L6 (seed 2)'`` → setting ``'L6'``, seed 2."""
    label = str(label)
    setting, seed = label, 0
    match = _SEED_NOTE.search(label)
    if match is not None:
        head = label[: match.start()]
        setting, seed = (head + ")" if match.group(1) == ", " else head), int(match.group(2))
    return TeacherSpelling(model=setting.split(" (")[0], setting=setting, seed=seed,
                           checkpoint=bool(_CHECKPOINT_NOTE.search(setting)), rescaled="logits ×" in setting)


def run_label(student: str, objective: Objective, teacher: str = "") -> str:
    """A run's readable name for legends: ``'L2 ERM'``, ``'L2 LS α=0.1'``, ``'L2 KD α=0.5 τ=4 ← L6 (logits ×2)'``."""
    text = f"{student} {objective.label()}"
    return f"{text} ← {teacher}" if teacher else text


def make_row(*, tier: str, task: str, student: str, objective: Objective, seed: int,
             metrics: Mapping[str, float], train_seconds: float, teacher: str = "", role: str = "student") -> dict[str, Any]:
    """One ``results.csv`` row; checks the tier, role and that KD (and only KD) names a teacher."""
    if tier not in TIERS:
        raise ValueError(f"tier must be one of {TIERS}, got tier={tier!r}")
    if role not in ROLES:
        raise ValueError(f"role must be one of {ROLES}, got role={role!r}")
    if not isinstance(objective, Objective):
        raise ValueError(f"objective must be an Objective, got {type(objective).__name__}")
    if bool(teacher) != (objective.method == "kd"):
        raise ValueError(f"a {objective.method} run {'needs' if objective.method == 'kd' else 'has no'} teacher, got teacher={teacher!r}")
    missing = [name for name in METRIC_COLUMNS if name not in metrics]
    if missing:
        raise ValueError(f"metrics lack {missing}")
    return {
        "tier": tier, "task": str(task), "role": role, "student": str(student), "teacher": teacher,
        "method": objective.method, "alpha": objective.alpha,
        "temperature": objective.temperature if objective.method == "kd" else "",
        "seed": int(seed), **{name: float(metrics[name]) for name in METRIC_COLUMNS},
        "train_seconds": round(float(train_seconds), 3),
    }


def results_frame(records: Iterable, teachers: Iterable = ()) -> pd.DataFrame:
    """One row per record (anything with a ``row(role)`` method) in the schema's column order.

    A record whose ``config`` is among ``teachers`` gets ``role='teacher'``.
    """
    teacher_configs = list(teachers)
    rows = [record.row(role="teacher" if record.config in teacher_configs else "student") for record in records]
    return pd.DataFrame(rows, columns=RESULT_COLUMNS)


def _check_frame(frame: pd.DataFrame) -> None:
    """A results frame: every ``results.csv`` column, and only known tiers."""
    check_columns(frame, RESULT_COLUMNS, "results frame")
    bad = set(frame["tier"]) - set(TIERS)
    if bad:
        raise ValueError(f"unknown tier(s) {sorted(bad)}; expected {TIERS}")


def results_file(path: Path) -> Path:
    """The CSV file ``path`` names: ``path`` itself if it ends in ``.csv`` and is not a folder, else ``path/results.csv``.

    So ``build/run.v2`` is a folder (``build/run.v2/results.csv``), never a file called ``run.v2``.
    """
    path = Path(path)
    if path.is_dir() or path.suffix.lower() != ".csv":
        path = path / "results.csv"
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise ValueError(f"cannot write {path}: {parent} is a file, not a folder")
            break
    return path


def results_lock(path: Path) -> FileLock:
    """The inter-process lock of the CSV ``path``: a hidden ``.<name>.lock`` file beside it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return FileLock(path.parent / f".{path.name}.lock")


def _write(frame: pd.DataFrame, path: Path) -> None:
    ordered = frame[RESULT_COLUMNS + [c for c in frame.columns if c not in RESULT_COLUMNS]]
    buffer = io.StringIO()
    ordered.to_csv(buffer, index=False)
    atomic_write_bytes(path, buffer.getvalue().encode())


def _canonical(value: Any) -> str:
    """One spelling per identity value, the same before and after a CSV round trip ('' for empty)."""
    if value is None or (isinstance(value, str) and value == ""):
        return ""
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, float, np.integer, np.floating)):
        return "" if pd.isna(value) else repr(float(value))
    return str(value)


def run_identities(frame: pd.DataFrame) -> list[tuple[str, ...]]:
    """Each row's run identity (the :data:`IDENTITY_COLUMNS`), spelled so that equal runs compare equal."""
    return [tuple(_canonical(v) for v in row) for row in frame[list(IDENTITY_COLUMNS)].itertuples(index=False)]


def write_results(frame: pd.DataFrame, path: Path, merge: bool = False) -> Path:
    """Write ``frame`` (schema columns first, extra columns kept after them) to the CSV ``path`` atomically.

    ``path`` is resolved by :func:`results_file` (a folder means ``path/results.csv``). The write holds
    :func:`results_lock`. ``merge=True`` keeps the rows already in the file, except those of a run that
    ``frame`` holds again (same :data:`IDENTITY_COLUMNS`), which ``frame``'s rows replace: concurrent runs
    into one folder add up instead of overwriting each other.
    """
    _check_frame(frame)
    path = results_file(path)
    with results_lock(path):
        if merge and path.is_file():
            old = read_results(path)
            new_identities = set(run_identities(frame))
            kept = old[[identity not in new_identities for identity in run_identities(old)]]
            frame = pd.concat([kept, frame], ignore_index=True) if len(kept) else frame
        _write(frame, path)
    return path


def read_results(path: Path) -> pd.DataFrame:
    """Read a ``results.csv`` written by :func:`write_results` (empty ``teacher``/``temperature`` stay empty)."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path} is not a results file")
    frame = pd.read_csv(path, keep_default_na=False, na_values={c: [""] for c in RESULT_COLUMNS
                                                                if c not in ("teacher", "temperature")})
    _check_frame(frame)
    frame["temperature"] = [float(t) if t != "" else "" for t in frame["temperature"]]
    return frame


def append_results(rows: list[dict[str, Any]], path: Path) -> Path:
    """Append rows to the CSV ``path`` (created if missing) by rewriting it atomically, under :func:`results_lock`."""
    new = pd.DataFrame(rows, columns=RESULT_COLUMNS)
    _check_frame(new)
    path = results_file(path)
    with results_lock(path):
        frame = pd.concat([read_results(path), new], ignore_index=True) if path.is_file() else new
        _write(frame, path)
    return path


# ----------------------------------------------------------------------------- notebook records

RECORD_ENV = "KDLS_RECORD_DIR"
MAIN_RECORD = "main_comparison"  # notebook 06: both tiers, with columns tier and role
INHERITANCE_RECORD = "inheritance"  # notebook 07: feature-tier dose-response (helpers.experiments.sweeps.inheritance_frame)
FINETUNE_INHERITANCE_RECORD = "finetune_inheritance"  # notebook 07: fine-tuned tier (sweeps.finetune_inheritance_frame)
EXPECTATIONS_RECORD = "kd_expectations"  # notebook 06: the KD teachers' validation entropies (sweeps.kd_expectations)


def record_results(frame: pd.DataFrame, name: str, columns: Sequence[str] = RESULT_COLUMNS) -> Path | None:
    """Save a notebook's result frame as ``$KDLS_RECORD_DIR/<name>.csv``; a no-op when the variable is unset.

    The frame must hold ``columns`` (default: the ``results.csv`` columns; another table, such as the KD
    expectations, names its own); extra columns (``tier``, ``role``, ...) are kept.
    """
    check_columns(frame, columns, "frame")
    if not name or not all(c.isalnum() or c in "_-" for c in name):
        raise ValueError(f"name must be a non-empty word of letters, digits, '_' or '-', got name={name!r}")
    folder = current_settings().record_dir
    if not folder:
        return None
    path = Path(folder) / f"{name}.csv"
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False)
    atomic_write_bytes(path, buffer.getvalue().encode())
    return path
