"""Sweeps on the feature tier: α and τ grids (notebook 08) and teachers of controlled confidence (07).

* ``alpha_temperature_configs`` — for one student: LS at every α and KD at every (α, τ), each
  for every seed (α = 0 is ERM for both: the curves start at the ERM point).
* ``teacher_confidence_teachers`` — teachers whose confidence is set by a knob: LS at several
  α, several training lengths (epochs), and the converged teacher's logits multiplied by a
  scale (``teacher_logit_scale``). ``inheritance_frame`` distils one student from each of them
  and records the teacher's and the student's test entropy: the dose-response of claim (b).

Every head is trained by ``helpers.learning.features.run_heads`` (many at once, then kept in an in-memory
cache), so re-running a cell is instant and the explorer (``helpers.teaching.explorer``) can look results up
instead of training.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Sequence

import pandas as pd

from helpers.maths.hypotheses import kd_expectation, kd_setting
from helpers.maths.statistics import check_columns, mean_ci, seed_summary
from helpers.learning.frozen_features import FeatureSet
from helpers.learning.features import HeadConfig, run_head, run_heads
from helpers.learning.results import parse_teacher_label
from helpers.maths.metrics import entropy

__all__ = [
    "alpha_temperature_configs",
    "run_sweep",
    "sweep_summary",
    "sweep_table",
    "ConfidenceTeacher",
    "teacher_confidence_teachers",
    "inheritance_frame",
    "inheritance_points",
    "kd_teacher_table",
    "kd_expectations",
    "kd_agreement_summary",
    "teacher_frame",
    "finetune_inheritance_frame",
]


def _check_grid(values: Sequence[float], name: str) -> tuple[float, ...]:
    values = tuple(float(v) for v in values)
    if not values:
        raise ValueError(f"{name} must not be empty")
    return values


def alpha_temperature_configs(student: HeadConfig, teacher: HeadConfig, alphas: Sequence[float],
                              temperatures: Sequence[float], seeds: Sequence[int]) -> list[HeadConfig]:
    """LS at every α and KD (from ``teacher``) at every (α, τ), for every seed of ``student``.

    ``student`` must be an ERM config (its budget is kept; method, α, τ and seed are set here).
    """
    if student.method != "erm":
        raise ValueError(f"student must be an ERM config to sweep from, got method={student.method!r}")
    alphas, temperatures = _check_grid(alphas, "alphas"), _check_grid(temperatures, "temperatures")
    if not seeds:
        raise ValueError("seeds must not be empty")
    configs = []
    for seed in seeds:
        base = student.replace(seed=int(seed))
        configs += [base.replace(method="ls", alpha=a) for a in alphas]
        configs += [base.replace(method="kd", alpha=a, temperature=t, teacher=teacher) for a in alphas for t in temperatures]
    return configs


def run_sweep(configs: Sequence[HeadConfig], data: FeatureSet, progress: bool = True) -> pd.DataFrame:
    """Train every config (cached) and return one ``results.csv``-schema row per run."""
    rows = [record.row() for record in run_heads(configs, data, progress=progress, desc="sweep")]
    return pd.DataFrame(rows)


def sweep_summary(frame: pd.DataFrame) -> pd.DataFrame:
    """Mean over seeds per (method, α, τ) of every metric, with the t-interval half-width ``<metric>_ci``
    and the smallest and largest seed's value (``<metric>_min``, ``<metric>_max``: the band to draw when
    there are too few seeds for a useful t-interval)."""
    summary = seed_summary(frame, by=["method", "alpha", "temperature"])
    keys = frame[["method", "alpha", "temperature"]].astype(str).agg("|".join, axis=1)
    summary_keys = summary[["method", "alpha", "temperature"]].astype(str).agg("|".join, axis=1)
    for metric in [m for m in ("accuracy", "entropy", "max_prob", "nll", "ece") if m in frame.columns]:
        low, high = frame.groupby(keys)[metric].min(), frame.groupby(keys)[metric].max()
        summary[f"{metric}_min"] = summary_keys.map(low).to_numpy(float)
        summary[f"{metric}_max"] = summary_keys.map(high).to_numpy(float)
    return summary


def sweep_table(summary: pd.DataFrame, metric: str = "entropy") -> pd.DataFrame:
    """``metric`` per α (rows) for LS and for KD at each τ (columns ``'LS'``, ``'KD τ=1'``, ...)."""
    if metric not in summary.columns:
        raise ValueError(f"summary has no column {metric!r}")
    columns = {}
    ls = summary[summary["method"] == "ls"]
    if not ls.empty:
        columns["LS"] = ls.set_index("alpha")[metric]
    kd = summary[summary["method"] == "kd"]
    for tau in sorted({float(t) for t in kd["temperature"]}):
        part = kd[pd.to_numeric(kd["temperature"]) == tau]
        columns[f"KD τ={tau:g}"] = part.set_index("alpha")[metric]
    table = pd.DataFrame(columns)
    table.index.name = "α"
    return table.sort_index()


@dataclass(frozen=True)
class ConfidenceTeacher:
    """A teacher of controlled confidence: its head, the logit scale applied, and the knob that set it."""

    knob: str  # "ls α", "epochs" or "logit scale"
    value: float
    head: HeadConfig
    scale: float = 1.0

    def label(self) -> str:
        return f"{self.knob} = {self.value:g}"


def teacher_confidence_teachers(teacher: HeadConfig, ls_alphas: Sequence[float] = (), epochs: Sequence[int] = (),
                                scales: Sequence[float] = ()) -> list[ConfidenceTeacher]:
    """The converged ``teacher`` plus variants: trained with LS at each α, for each number of epochs,
    and with its logits multiplied by each scale (all else equal)."""
    if teacher.method != "erm":
        raise ValueError(f"teacher must be an ERM config, got method={teacher.method!r}")
    teachers = [ConfidenceTeacher("reference", 1.0, teacher)]
    teachers += [ConfidenceTeacher("ls α", float(a), teacher.replace(method="ls", alpha=float(a))) for a in ls_alphas]
    teachers += [ConfidenceTeacher("epochs", float(e), teacher.replace(epochs=int(e))) for e in epochs]
    teachers += [ConfidenceTeacher("logit scale", float(s), teacher, float(s)) for s in scales]
    return teachers


def inheritance_frame(data: FeatureSet, student: HeadConfig, teachers: Sequence[ConfidenceTeacher],
                      alpha: float, temperature: float, seeds: Sequence[int], progress: bool = True) -> pd.DataFrame:
    """Distil ``student`` (KD at ``alpha``, ``temperature``) from each teacher, for each seed.

    One row per student run: the ``results.csv`` columns plus ``knob``, ``knob_value``,
    ``teacher_entropy`` and ``teacher_train_entropy`` (the scaled teacher's mean test / training
    entropy, nats), ``teacher_accuracy`` and ``training_run`` (the teacher's training run: a rescaled
    teacher shares the run of the teacher it rescales). ERM students of the same seeds are included
    (``knob='none'``, teacher entropies NaN) as the crossover reference.
    """
    if student.method != "erm":
        raise ValueError(f"student must be an ERM config, got method={student.method!r}")
    if not teachers:
        raise ValueError("teachers must not be empty")
    rows = []
    jobs = [(t, student.replace(seed=int(seed), method="kd", alpha=alpha, temperature=temperature, teacher=t.head,
                                teacher_logit_scale=t.scale)) for t in teachers for seed in seeds]
    erm = [student.replace(seed=int(seed)) for seed in seeds]
    run_heads([config for _, config in jobs] + erm, data, progress=progress, desc="inheritance")  # all at once
    for teacher, config in jobs:
        record = run_head(teacher.head, data)
        scaled_test = record.logits["test"] * teacher.scale
        scaled_train = record.logits["train"] * teacher.scale
        row = run_head(config, data).row()
        row.update(knob=teacher.knob, knob_value=teacher.value, training_run=teacher.head.label(),
                   teacher_entropy=entropy(scaled_test).mean().item(),
                   teacher_train_entropy=entropy(scaled_train).mean().item(),
                   teacher_val_entropy=entropy(record.logits["validation"] * teacher.scale).mean().item(),
                   teacher_accuracy=float((scaled_test.argmax(-1) == record.labels["test"]).float().mean()))
        rows.append(row)
    for config in erm:
        row = run_head(config, data).row()
        row.update(knob="none", knob_value=float("nan"), training_run="", teacher_entropy=float("nan"),
                   teacher_train_entropy=float("nan"), teacher_val_entropy=float("nan"), teacher_accuracy=float("nan"))
        rows.append(row)
    return pd.DataFrame(rows)


def inheritance_points(frame: pd.DataFrame) -> pd.DataFrame:
    """One point per teacher run: its entropies and the KD students' mean entropy with the t-interval over seeds.

    Where the frame holds the ERM students of the same seeds (``method='erm'``), each point also carries the **paired**
    interval of its students against them: ``difference`` (KD − ERM, mean over seeds), ``difference_low`` /
    ``difference_high`` and ``student_entropy_paired_ci`` (the paired half-width: the error bar that says whether the
    point differs from ERM). A frame with a ``point`` column (``finetune_inheritance_frame`` with per-seed points)
    gives one point per value of it instead; its ``label`` (the teacher setting, for legends) and ``training_run``
    columns are kept.
    """
    kd = frame[frame["method"] == "kd"]
    if kd.empty:
        raise ValueError("frame has no KD rows")
    erm = frame[frame["method"] == "erm"]
    erm_by_seed = erm.groupby("seed")["entropy"].mean() if not erm.empty else pd.Series(dtype=float)
    rows = []
    keys = ["knob", "knob_value", "teacher"] + (["point"] if "point" in kd.columns else [])
    for key, group in kd.groupby(keys, sort=False):
        knob, value, teacher = key[:3]
        ci = mean_ci(group["entropy"])
        extra = {"point": key[3]} if "point" in kd.columns else {}
        for column in ("label", "training_run"):
            if column in kd.columns:
                extra[column] = group[column].iloc[0]
        paired = group[group["seed"].isin(erm_by_seed.index)]
        if len(paired):
            diff = mean_ci(paired["entropy"].to_numpy(float) - erm_by_seed.loc[paired["seed"]].to_numpy(float))
            extra.update(difference=diff.mean, difference_low=diff.low, difference_high=diff.high,
                         student_entropy_paired_ci=diff.half)
        rows.append({**extra, "knob": knob, "knob_value": value, "teacher": teacher,
                     "teacher_entropy": float(group["teacher_entropy"].iloc[0]),
                     "teacher_train_entropy": float(group["teacher_train_entropy"].iloc[0]),
                     **({"teacher_val_entropy": float(group["teacher_val_entropy"].iloc[0])}
                        if "teacher_val_entropy" in group.columns else {}),
                     "teacher_accuracy": float(group["teacher_accuracy"].iloc[0]),
                     "student_entropy": ci.mean, "student_entropy_ci": ci.half,
                     "student_entropy_sd": ci.sd,
                     "student_accuracy": float(group["accuracy"].mean()), "n": ci.n})
    return pd.DataFrame(rows)


def _erm_twin(config):
    """The ERM run of the same student, seed and budget as a KD/LS config (works for both tiers' configs)."""
    return config.replace(method="erm", alpha=0.0, temperature=1.0, teacher=None, teacher_logit_scale=1.0)


def kd_teacher_table(records: Sequence) -> pd.DataFrame:
    """For every KD run among ``records``: its teacher's and its ERM twin's confidence, and what KD did.

    ``records`` (``RunRecord`` or ``HeadRecord``) must include each KD run's teacher run and the ERM run
    of the same student and seed. Columns: ``tier, task, student, teacher, temperature, seed``,
    ``teacher_val_entropy`` (the rescaled teacher on the **validation** split — the split the kit's prediction
    is read from, ``helpers.maths.hypotheses``), ``erm_val_entropy``, ``teacher_minus_erm`` (their difference),
    ``kd_minus_erm`` (**test** entropy of the KD student minus its ERM twin's) and ``agrees`` (whether the two
    differences have the same sign: KD moved the student's confidence towards the teacher's).
    """
    def run_id(record, config):
        return record.row()["task"], config

    by_id = {run_id(r, r.config): r for r in records}
    rows = []
    for record in records:
        config = record.config
        if config.method != "kd":
            continue
        teacher_id, erm_id = run_id(record, config.teacher), run_id(record, _erm_twin(config))
        if teacher_id not in by_id or erm_id not in by_id:
            continue
        teacher, erm = by_id[teacher_id], by_id[erm_id]
        teacher_h = entropy(teacher.logits["validation"] * config.teacher_logit_scale).mean().item()
        erm_h = entropy(erm.logits["validation"]).mean().item()
        row = record.row()
        kd_minus_erm = record.metrics["entropy"] - erm.metrics["entropy"]
        rows.append({"tier": row["tier"], "task": row["task"], "student": row["student"], "teacher": row["teacher"],
                     "scale": config.teacher_logit_scale, "alpha": config.alpha, "temperature": config.temperature,
                     "seed": config.seed, "teacher_val_entropy": teacher_h, "erm_val_entropy": erm_h,
                     "teacher_minus_erm": teacher_h - erm_h, "kd_minus_erm": kd_minus_erm,
                     "agrees": (teacher_h - erm_h) * kd_minus_erm > 0})
    if not rows:
        raise ValueError("no KD run has both its teacher and its ERM twin among records")
    return pd.DataFrame(rows)


def kd_agreement_summary(table: pd.DataFrame) -> pd.DataFrame:
    """:func:`kd_teacher_table` per KD configuration (over seeds): mean entropies and, instead of a mean of
    booleans, ``moved towards teacher`` as a count, e.g. ``'2 of 3 seeds'`` — the seeds in which KD moved the
    student's test entropy in the direction of its teacher's (validation) entropy relative to ERM's."""
    check_columns(table, ["tier", "task", "student", "teacher", "alpha", "temperature", "seed", "teacher_val_entropy",
                          "erm_val_entropy", "kd_minus_erm", "agrees"], "table (a kd_teacher_table)")
    rows = []
    for key, group in table.groupby(["tier", "task", "student", "teacher", "alpha", "temperature"], sort=False):
        agree, n = int(group["agrees"].sum()), len(group)
        rows.append({**dict(zip(["tier", "task", "student", "teacher", "alpha", "temperature"], key)),
                     "teacher validation entropy": float(group["teacher_val_entropy"].mean()),
                     "ERM validation entropy": float(group["erm_val_entropy"].mean()),
                     "KD − ERM test entropy": float(group["kd_minus_erm"].mean()),
                     "moved towards teacher": f"{agree} of {n} seed{'' if n == 1 else 's'}"})
    return pd.DataFrame(rows)


def _teacher_of(record, by_config):
    teacher = getattr(record.config, "teacher", None)
    return by_config.get((record.row()["task"], teacher)) if teacher is not None else None


def _kd_runs_with_teachers(records: Sequence):
    """``(record, its results row, its teacher's record)`` for every KD run among ``records`` whose teacher is among
    them too."""
    by_config = {(r.row()["task"], r.config): r for r in records}
    for record in records:
        teacher = _teacher_of(record, by_config)
        if teacher is not None:
            yield record, record.row(), teacher


def teacher_frame(records: Sequence) -> pd.DataFrame:
    """Every KD teacher among ``records`` (as its KD students see it, logit scale applied), one row each:
    ``tier, task, teacher`` (the ``results.csv`` spelling), ``teacher_entropy`` / ``teacher_train_entropy``
    (mean test / training-split entropy, nats) and ``teacher_accuracy`` (test). Teachers that are not among
    ``records`` (a virtual teacher) are left out."""
    rows = {}
    for record, row, teacher in _kd_runs_with_teachers(records):
        key = (row["tier"], row["task"], row["teacher"])
        if key in rows:
            continue
        scale = record.config.teacher_logit_scale
        test = teacher.logits["test"] * scale
        rows[key] = {"tier": row["tier"], "task": row["task"], "teacher": row["teacher"],
                     "teacher_entropy": entropy(test).mean().item(),
                     "teacher_val_entropy": entropy(teacher.logits["validation"] * scale).mean().item(),
                     "teacher_train_entropy": entropy(teacher.logits["train"] * scale).mean().item(),
                     "teacher_accuracy": float((test.argmax(-1) == teacher.labels["test"]).float().mean())}
    return pd.DataFrame(list(rows.values()), columns=["tier", "task", "teacher", "teacher_entropy", "teacher_val_entropy",
                                                      "teacher_train_entropy", "teacher_accuracy"])


def student_recipe(config):
    """What makes runs ERM baselines of one another: ``config`` with its objective (method, α, τ, teacher, logit
    scale) and seed set to ERM's defaults. An ERM baseline of a KD run has the KD run's recipe: the same tier, task,
    model and training budget. A teacher run (e.g. a 20-epoch head, or the 6-epoch L6 model) has a recipe of its own,
    so it never enters a student's baseline."""
    return dataclasses.replace(config, method="erm", alpha=0.0, temperature=1.0, teacher=None,
                               teacher_logit_scale=1.0, seed=0)


EXPECTATION_COLUMNS = ["tier", "task", "student", "teacher", "teacher_entropy", "teacher_val_accuracy", "erm_entropy",
                       "erm_ci", "n", "expected"]


def kd_expectations(records: Sequence) -> pd.DataFrame:
    """The inputs of the kit's KD prediction (``helpers.maths.hypotheses``), one row per (tier, task, student, teacher run)
    of the KD runs among ``records``: ``teacher_entropy`` — the teacher's mean **validation** entropy as the student
    sees it (logit scale applied) — and ``erm_entropy`` / ``erm_ci`` / ``n`` — the ERM students' mean validation
    entropy over seeds (95% half-width; only ERM runs of the KD student's own recipe, :func:`student_recipe`:
    never a teacher run) — plus ``expected`` (``'up'``, ``'down'`` or None: the teacher outside the ERM interval
    widened by the negligible band, :func:`helpers.maths.hypotheses.kd_expectation`).

    ``teacher_val_accuracy`` (the teacher's validation accuracy) and the teacher's spelling (``teacher``: a finished run
    or a checkpoint, rescaled or not, :func:`helpers.learning.results.parse_teacher_label`) decide whether it is in the
    paper's setting (:func:`helpers.maths.hypotheses.in_paper_setting`). Records must include the teachers and the
    ERM students."""
    erm: dict[tuple, list[float]] = {}
    for record in records:
        if record.config.method == "erm":
            erm.setdefault((record.row()["task"], student_recipe(record.config)), []).append(
                float(entropy(record.logits["validation"]).mean()))
    rows = {}
    for record, row, teacher in _kd_runs_with_teachers(records):
        key = (row["tier"], row["task"], row["student"], row["teacher"])
        baseline = erm.get((row["task"], student_recipe(record.config)))
        if key in rows or not baseline:
            continue
        ci = mean_ci(baseline)
        scale = record.config.teacher_logit_scale
        teacher_h = float(entropy(teacher.logits["validation"] * scale).mean())
        rows[key] = dict(zip(("tier", "task", "student", "teacher"), key), teacher_entropy=teacher_h,
                         teacher_val_accuracy=float(teacher.validation_metrics["accuracy"]),
                         erm_entropy=ci.mean, erm_ci=ci.half, n=ci.n,
                         expected=kd_expectation(teacher_h, ci.mean, erm_half=ci.half))
    return pd.DataFrame(list(rows.values()), columns=EXPECTATION_COLUMNS)


def finetune_inheritance_frame(records: Sequence, temperature: float, alpha: float | None = None, task: str | None = None,
                               student: str | None = None, per_seed: bool | None = None) -> pd.DataFrame:
    """The fine-tuned tier's inheritance frame (the shape of :func:`inheritance_frame`) from a grid's records.

    Takes the standard-KD students (bigger teacher) at ``temperature`` (and ``alpha``, if given) whose teacher run is
    among ``records``, plus the ERM students of the same task, student model and seeds (``knob='none'``). Each teacher
    run is one *dose*: its mean test entropy as the student sees it (logit scale applied). ``knob`` is ``'logit scale'``
    for a rescaled teacher, else ``'epochs'``; ``label`` is the teacher *setting*'s spelling (for legends: every run of
    a rung shares it, ``helpers.learning.results.parse_teacher_label``) and ``training_run`` the teacher's training
    run (the checkpoints and rescalings of one run share it).

    ``point`` says what :func:`inheritance_points` makes one point of: the teacher (mean over seeds), or, with
    ``per_seed`` (default: when there are fewer than three teachers, since a line fit needs three points), each
    (teacher, seed) student — then ``fit_line`` has one point per student and only as many distinct ``x`` as teachers.
    Raises ValueError when the records hold several tasks or students and none is chosen, or no KD run qualifies.
    """
    chosen = []
    for record, row, teacher in _kd_runs_with_teachers(records):
        config = record.config
        if float(config.temperature) != float(temperature) or (alpha is not None and float(config.alpha) != float(alpha)):
            continue
        if kd_setting(row["student"], teacher.row()["student"]) != "standard":
            continue
        if (task is not None and row["task"] != task) or (student is not None and row["student"] != student):
            continue
        chosen.append((record, teacher, row))
    if not chosen:
        raise ValueError(f"no standard-KD run at τ={temperature:g} has its teacher among records")
    for column, value in (("task", task), ("student", student), ("alpha", alpha)):
        values = {row[column] for _, _, row in chosen}
        if len(values) > 1:
            raise ValueError(f"records hold several {column} values {sorted(map(str, values))}: choose one with {column}=...")
    teachers = list(dict.fromkeys(row["teacher"] for _, _, row in chosen))
    if per_seed is None:
        per_seed = False  # one point per teacher: seeds that share a teacher run are not independent evidence
    rows = []
    for record, teacher, row in chosen:
        scale = record.config.teacher_logit_scale
        test = teacher.logits["test"] * scale
        spelling = parse_teacher_label(row["teacher"])
        rows.append({**row, "knob": "logit scale" if scale != 1 else "epochs",
                     "knob_value": float(scale) if scale != 1 else float(teacher.config.epochs),
                     "label": spelling.setting, "training_run": f"{spelling.model} seed {teacher.config.seed}",
                     "point": f"{row['teacher']}, seed {row['seed']}" if per_seed else row["teacher"],
                     "teacher_entropy": entropy(test).mean().item(),
                     "teacher_val_entropy": entropy(teacher.logits["validation"] * scale).mean().item(),
                     "teacher_train_entropy": entropy(teacher.logits["train"] * scale).mean().item(),
                     "teacher_accuracy": float((test.argmax(-1) == teacher.labels["test"]).float().mean())})
    task_name, student_name = chosen[0][2]["task"], chosen[0][2]["student"]
    seeds = {row["seed"] for _, _, row in chosen}
    for record in records:
        row = record.row()
        if (record.config.method == "erm" and row["task"] == task_name and row["student"] == student_name
                and row["seed"] in seeds and row["role"] == "student"):
            rows.append({**row, "knob": "none", "knob_value": float("nan"), "label": "ERM", "point": "ERM",
                         "training_run": "",
                         "teacher_entropy": float("nan"), "teacher_train_entropy": float("nan"),
                         "teacher_accuracy": float("nan")})
    frame = pd.DataFrame(rows)
    return frame.drop_duplicates(subset=[c for c in frame.columns if c not in ("train_seconds",)])
