"""Presets, experiment grids and the command line that writes ``results.csv``.

Two tiers of experiments share one preset:

* **fine-tuning** (``helpers.training``): the MiniLM-L6 teacher and its first-k-layer students
  really fine-tuned, every run cached by ``helpers.training.run`` (``main_grid``);
* **frozen features** (``helpers.features``): small heads on frozen MiniLM layer features,
  about a second per run, for many seeds, sweeps and the inheritance curve (``feature_grid``).

Presets trade time for fidelity (chosen with ``--preset`` or ``$KDLS_PRESET``); each preset's
``notes`` says what it trades away:

* ``smoke`` — tiny subsets, 1-2 layer models, one epoch: checks that everything runs (seconds).
* ``classroom`` (default) — TREC fine-tuning on a 2,000-question subset (L6 teacher, L2
  students, one seed) plus the feature tier on both tasks with 5 seeds: ``make reproduce``
  runs every notebook in about 6 minutes on a quiet 2-core CPU (the target is under 10).
* ``full`` — both tasks fine-tuned on all their training data, three seeds, the three KD
  settings; the feature tier with 10 seeds and finer grids (hours on a laptop).

KD settings: ``standard`` (L6 teacher → small student), ``self`` (small → small; the teacher is
the ERM model of the student's size, seed 0) and ``reverse`` (small → L6; the teacher is the small
ERM model, seed 0). ERM of the same student (same seed) is always the baseline.

Usage::

    python -m helpers.experiments --task trec --preset classroom --out build/reproduce
"""

from __future__ import annotations

import argparse
import io
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from tqdm.auto import tqdm

from helpers.analysis import claim_a_text, verdict_table
from helpers.cache import atomic_write_bytes
from helpers.features import FeatureSet, HeadConfig, HeadRecord, encode_features, run_head
from helpers.training import RunRecord, TrainConfig, run

__all__ = [
    "RESULT_COLUMNS",
    "verdict_text",
    "SETTINGS",
    "FeatureTier",
    "Preset",
    "PRESETS",
    "get_preset",
    "preset_comparison",
    "teacher_config",
    "main_grid",
    "run_grid",
    "results_frame",
    "write_results",
    "feature_data",
    "feature_teacher",
    "feature_grid",
    "run_feature_grid",
    "main",
]

RESULT_COLUMNS = [
    "task", "student", "teacher", "method", "alpha", "temperature", "seed",
    "accuracy", "entropy", "max_prob", "nll", "ece", "train_seconds",
]
SETTINGS = ("standard", "self", "reverse")


def _check_settings(settings: tuple[str, ...]) -> None:
    unknown = [s for s in settings if s not in SETTINGS]
    if unknown:
        raise ValueError(f"settings must be among {SETTINGS}, got {unknown}")


@dataclass(frozen=True)
class FeatureTier:
    """Budgets of the frozen-feature tier (``helpers.features``) for one preset.

    Heads read layer ``teacher_layer`` (the L6 teacher) or ``student_layers`` (small students)
    of the frozen encoder. The teacher is trained ``teacher_epochs`` (to convergence: confident);
    students get ``student_epochs`` (a fixed budget shared by ERM, LS and KD). Sweeps
    (notebook 08) and the teachers of controlled confidence (notebook 07) have their own grids.
    """

    tasks: tuple[str, ...] = ("trec", "rotten_tomatoes")
    max_length: int = 64
    train_subset: int | None = None
    eval_subset: int | None = None
    hidden: int = 128
    batch_size: int = 128
    learning_rate: float = 2e-3
    teacher_layer: int = 6
    teacher_epochs: int = 20
    student_layers: tuple[int, ...] = (2,)
    student_epochs: int = 3
    seeds: tuple[int, ...] = (0, 1, 2, 3, 4)
    settings: tuple[str, ...] = SETTINGS
    ls_alphas: tuple[float, ...] = (0.1,)
    kd_alphas: tuple[float, ...] = (0.5,)
    kd_temperatures: tuple[float, ...] = (1.0, 4.0)
    sweep_alphas: tuple[float, ...] = (0.0, 0.1, 0.3, 0.5, 0.7, 0.9)
    sweep_temperatures: tuple[float, ...] = (1.0, 2.0, 4.0, 8.0)
    sweep_seeds: tuple[int, ...] = (0, 1)
    inheritance_ls_alphas: tuple[float, ...] = (0.1, 0.2, 0.3, 0.5)
    inheritance_epochs: tuple[int, ...] = (1, 3, 10)
    inheritance_scales: tuple[float, ...] = (0.25, 0.5, 2.0)
    inheritance_alpha: float = 0.5
    inheritance_temperature: float = 2.0
    inheritance_seeds: tuple[int, ...] = (0, 1, 2)

    def __post_init__(self) -> None:
        _check_settings(self.settings)

    def teacher(self) -> HeadConfig:
        """The teacher head: ERM on the top layer, trained to convergence (seed 0)."""
        return HeadConfig(layer=self.teacher_layer, hidden=self.hidden, epochs=self.teacher_epochs,
                          batch_size=self.batch_size, learning_rate=self.learning_rate)

    def student(self, layer: int, seed: int = 0) -> HeadConfig:
        """An ERM student head on ``layer`` with the student budget."""
        return HeadConfig(layer=layer, hidden=self.hidden, epochs=self.student_epochs, seed=seed,
                          batch_size=self.batch_size, learning_rate=self.learning_rate)


@dataclass(frozen=True)
class Preset:
    """Budgets of one preset: fine-tuning (models, epochs, subsets, seeds, grid) and the feature tier.

    ``tasks`` are fine-tuned in the notebooks (the CLI fine-tunes the ``--task`` it is given);
    ``settings`` are the KD settings of the fine-tuning grid; ``teacher_scales`` add standard-KD
    students (first α; τ = ``scaled_temperature``, default the first τ) of the teacher with its
    logits multiplied by each scale (a sharper or flatter teacher at no extra teacher training;
    notebooks 06 and 07). ``teacher_learning_rate`` (default: ``learning_rate``) is the teacher's.
    """

    name: str
    teacher: str = "L6"
    students: tuple[str, ...] = ("L2",)
    teacher_epochs: float = 2.0
    student_epochs: float = 3.0
    train_subset: int | None = None
    eval_subset: int | None = None
    max_length: int = 64
    batch_size: int = 32
    learning_rate: float = 1e-4
    seeds: tuple[int, ...] = (0,)
    ls_alphas: tuple[float, ...] = (0.1,)
    kd_alphas: tuple[float, ...] = (0.5,)
    kd_temperatures: tuple[float, ...] = (1.0,)
    tasks: tuple[str, ...] = ("trec",)
    settings: tuple[str, ...] = ("standard",)
    teacher_scales: tuple[float, ...] = ()
    scaled_temperature: float | None = None
    teacher_learning_rate: float | None = None
    features: FeatureTier = field(default_factory=FeatureTier)
    notes: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        _check_settings(self.settings)

    def base_config(self, task: str, **changes) -> TrainConfig:
        """A ``TrainConfig`` with this preset's shared budgets."""
        values = dict(task=str(task), train_subset=self.train_subset, eval_subset=self.eval_subset,
                      max_length=self.max_length, batch_size=self.batch_size, learning_rate=self.learning_rate)
        values.update(changes)
        return TrainConfig(**values)


PRESETS: dict[str, Preset] = {
    "smoke": Preset(
        name="smoke", teacher="L2", students=("L1",), teacher_epochs=1, student_epochs=1,
        train_subset=256, eval_subset=128, max_length=32, learning_rate=5e-4,
        features=FeatureTier(
            max_length=32, train_subset=256, eval_subset=128, hidden=32, teacher_epochs=5, student_layers=(1,),
            student_epochs=2, seeds=(0, 1), kd_temperatures=(1.0,), sweep_alphas=(0.0, 0.5), sweep_temperatures=(1.0, 4.0),
            sweep_seeds=(0,), inheritance_ls_alphas=(0.3,), inheritance_epochs=(1,), inheritance_scales=(0.5,),
            inheritance_seeds=(0, 1),
        ),
        notes="checks the pipeline end to end on 256 training examples; the numbers mean nothing",
    ),
    "classroom": Preset(
        name="classroom", teacher="L6", students=("L2",), teacher_epochs=4, student_epochs=4,
        train_subset=2000, max_length=64, learning_rate=3e-4, teacher_learning_rate=1e-4,
        kd_temperatures=(1.0, 4.0), teacher_scales=(2.0,), scaled_temperature=4.0,
        features=FeatureTier(train_subset=5000, eval_subset=600),
        notes=("fine-tuning: TREC only, a 2,000-question training subset, a teacher trained 4 epochs (not fully "
               "converged), students 4 epochs, one seed (no interval), standard KD at τ = 1 and 4 plus one student of "
               "the teacher sharpened ×2 (τ = 4); feature tier: both tasks (Rotten Tomatoes capped at 5,000 training and "
               "600 validation/test texts), 5 seeds, all three KD settings, coarse sweeps. All notebooks in about 6 "
               "minutes on a quiet 2-core CPU"),
    ),
    "full": Preset(
        name="full", teacher="L6", students=("L2",), teacher_epochs=6, student_epochs=4,
        max_length=64, learning_rate=3e-4, teacher_learning_rate=1e-4, seeds=(0, 1, 2), ls_alphas=(0.1,),
        kd_alphas=(0.5,), kd_temperatures=(1.0, 4.0), tasks=("trec", "rotten_tomatoes"), settings=SETTINGS,
        teacher_scales=(0.5, 2.0),
        features=FeatureTier(
            student_layers=(1, 2), seeds=tuple(range(10)), sweep_alphas=(0.0, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9, 1.0),
            sweep_temperatures=(1.0, 2.0, 3.0, 4.0, 6.0, 8.0), sweep_seeds=(0, 1, 2),
            inheritance_ls_alphas=(0.05, 0.1, 0.2, 0.3, 0.5), inheritance_epochs=(1, 2, 3, 5, 10),
            inheritance_scales=(0.25, 0.5, 0.75, 1.5, 2.0), inheritance_seeds=(0, 1, 2, 3, 4),
        ),
        notes=("both tasks fine-tuned on all their training data, a teacher trained 6 epochs, three seeds, standard, "
               "self- and reverse KD at τ = 1 and 4, students of the teacher rescaled ×0.5 and ×2; feature tier with "
               "10 seeds, two student sizes and fine grids. Hours on a 2-core CPU"),
    ),
}


def get_preset(name: str | None = None) -> Preset:
    """The preset called ``name``, else ``$KDLS_PRESET``, else ``classroom``."""
    name = name or os.environ.get("KDLS_PRESET", "classroom")
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}")
    return PRESETS[name]


def preset_comparison(names: tuple[str, ...] = tuple(PRESETS)) -> pd.DataFrame:
    """The presets side by side: the budgets that matter (rows) per preset (columns), and their notes."""
    rows = {}
    for name in names:
        p, f = get_preset(name), get_preset(name).features
        rows[name] = {
            "fine-tuned tasks": ", ".join(p.tasks),
            "teacher (epochs)": f"{p.teacher} ({p.teacher_epochs:g})",
            "students (epochs)": f"{', '.join(p.students)} ({p.student_epochs:g})",
            "training examples": "all" if p.train_subset is None else p.train_subset,
            "fine-tuning seeds": len(p.seeds),
            "KD settings (fine-tuning)": ", ".join(p.settings),
            "KD temperatures": ", ".join(f"{t:g}" for t in p.kd_temperatures),
            "fine-tuning runs per task": len(main_grid("trec", p)),
            "feature tasks": ", ".join(f.tasks),
            "feature training examples": "all" if f.train_subset is None else f"≤ {f.train_subset}",
            "feature students (layers)": ", ".join(f"L{k}" for k in f.student_layers),
            "feature seeds": len(f.seeds),
            "feature runs per task": len(feature_grid(p)),
            "α grid × τ grid (sweeps)": f"{len(f.sweep_alphas)} × {len(f.sweep_temperatures)}",
            "notes": p.notes,
        }
    return pd.DataFrame(rows)


def teacher_config(task: str, preset: Preset) -> TrainConfig:
    """The preset's teacher: its teacher-size model trained with ERM (seed 0)."""
    return preset.base_config(task, student=preset.teacher, method="erm", epochs=preset.teacher_epochs,
                              learning_rate=preset.teacher_learning_rate or preset.learning_rate)


def _kd_variants(base: TrainConfig | HeadConfig, teacher, alphas, temperatures) -> list:
    return [base.replace(method="kd", alpha=a, temperature=t, teacher=teacher) for a in alphas for t in temperatures]


def main_grid(task: str, preset: Preset) -> list[TrainConfig]:
    """Fine-tuning grid: the teacher, then per student and seed ERM, LS at each α and KD at each (α, τ).

    KD runs follow ``preset.settings``: ``standard`` (from the teacher, plus one run per
    ``teacher_scales`` entry), ``self`` (from the same-size ERM model of seed 0); ``reverse`` adds,
    per seed, ERM of the teacher-size model with the student budget and its KD from each small
    ERM model of seed 0.
    """
    teacher = teacher_config(task, preset)
    grid = [teacher]
    for student in preset.students:
        for seed in preset.seeds:
            base = preset.base_config(task, student=student, seed=seed, epochs=preset.student_epochs)
            grid.append(base)
            grid += [base.replace(method="ls", alpha=a) for a in preset.ls_alphas]
            if "standard" in preset.settings:
                grid += _kd_variants(base, teacher, preset.kd_alphas, preset.kd_temperatures)
                tau = preset.scaled_temperature or preset.kd_temperatures[0]
                grid += [base.replace(method="kd", alpha=preset.kd_alphas[0], temperature=tau, teacher=teacher,
                                      teacher_logit_scale=scale) for scale in preset.teacher_scales]
            if "self" in preset.settings:
                grid += _kd_variants(base, base.replace(seed=0), preset.kd_alphas, preset.kd_temperatures)
    if "reverse" in preset.settings:
        for seed in preset.seeds:
            big = preset.base_config(task, student=preset.teacher, seed=seed, epochs=preset.student_epochs)
            grid.append(big)
            for student in preset.students:
                small = preset.base_config(task, student=student, seed=0, epochs=preset.student_epochs)
                grid += _kd_variants(big, small, preset.kd_alphas, preset.kd_temperatures)
    return list(dict.fromkeys(grid))


def run_grid(configs: list[TrainConfig], progress: bool = True) -> list[RunRecord]:
    """Run (or load from the cache) every config in order."""
    records = []
    for number, config in enumerate(configs, 1):
        if progress:
            print(f"[{number}/{len(configs)}] {config.label()}", file=sys.stderr, flush=True)
        records.append(run(config, progress=progress))
    return records


def results_frame(records: list, tier: str | None = None, teachers: tuple = ()) -> pd.DataFrame:
    """One row per run in the kit's ``results.csv`` schema (``RunRecord`` or ``HeadRecord``).

    A fine-tuned KD run whose teacher's logits were rescaled names its teacher ``'L6×2'``.
    With ``tier`` given, two columns follow the schema: ``tier`` (e.g. ``"fine-tuned"`` or
    ``"features"``) and ``role`` (``"teacher"`` for records whose config is in ``teachers``,
    else ``"student"``) — they tell a teacher apart from a run with the same name.
    """
    rows = []
    for record in records:
        row = record.row()
        if isinstance(record.config, TrainConfig) and record.config.teacher_logit_scale != 1.0:
            row["teacher"] = f"{row['teacher']}×{record.config.teacher_logit_scale:g}"  # a rescaled teacher
        rows.append(row)
    frame = pd.DataFrame(rows, columns=RESULT_COLUMNS)
    if tier is not None:
        teacher_ids = set(teachers)
        frame["tier"] = tier
        frame["role"] = ["teacher" if r.config in teacher_ids else "student" for r in records]
    return frame


def write_results(frame: pd.DataFrame, out: Path) -> Path:
    """Write ``out/results.csv`` atomically; returns its path."""
    path = Path(out) / "results.csv"
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False)
    atomic_write_bytes(path, buffer.getvalue().encode())
    return path


def feature_data(task: str, preset: Preset, progress: bool = True) -> FeatureSet:
    """The task's frozen features with the preset's feature budgets (cached on disk)."""
    tier = preset.features
    return encode_features(task, max_length=tier.max_length, train_subset=tier.train_subset,
                           eval_subset=tier.eval_subset, progress=progress)


def feature_teacher(preset: Preset) -> HeadConfig:
    """The feature tier's teacher head (top layer, trained to convergence)."""
    return preset.features.teacher()


def feature_grid(preset: Preset) -> list[HeadConfig]:
    """Feature-tier grid, same structure as ``main_grid``: the teacher, then per student layer and seed
    ERM, LS at each α and KD at each (α, τ) in each of the tier's settings (see the module docstring)."""
    tier = preset.features
    teacher = tier.teacher()
    grid = [teacher]
    for layer in tier.student_layers:
        for seed in tier.seeds:
            base = tier.student(layer, seed)
            grid.append(base)
            grid += [base.replace(method="ls", alpha=a) for a in tier.ls_alphas]
            if "standard" in tier.settings:
                grid += _kd_variants(base, teacher, tier.kd_alphas, tier.kd_temperatures)
            if "self" in tier.settings:
                grid += _kd_variants(base, tier.student(layer, 0), tier.kd_alphas, tier.kd_temperatures)
    if "reverse" in tier.settings:
        for seed in tier.seeds:
            big = tier.student(tier.teacher_layer, seed)
            grid.append(big)
            for layer in tier.student_layers:
                grid += _kd_variants(big, tier.student(layer, 0), tier.kd_alphas, tier.kd_temperatures)
    return list(dict.fromkeys(grid))


def run_feature_grid(configs: list[HeadConfig], data: FeatureSet, progress: bool = True) -> list[HeadRecord]:
    """Train (or take from the in-memory cache) every head in order, with a progress bar."""
    return [run_head(config, data) for config in tqdm(configs, desc=f"heads on {data.task}", disable=not progress, leave=False)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m helpers.experiments", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--task", default="trec", help="trec, rotten_tomatoes or a CSV path with text,label columns")
    parser.add_argument("--preset", default=None, help=f"one of {', '.join(PRESETS)} (default: $KDLS_PRESET or classroom)")
    parser.add_argument("--out", default="build/reproduce", type=Path, help="output folder for results.csv")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    args = parser.parse_args(argv)
    try:
        preset = get_preset(args.preset)
        grid = main_grid(args.task, preset)
        records = run_grid(grid, progress=not args.quiet)
    except ValueError as error:
        parser.error(str(error))
    frame = results_frame(records, tier="fine-tuned", teachers=(grid[0],))
    path = write_results(frame[RESULT_COLUMNS], args.out)
    with pd.option_context("display.width", 200, "display.max_columns", 20, "display.float_format", "{:.4f}".format):
        print(f"\nPreset {preset.name!r} on task {args.task!r} ({preset.notes}):\n")
        print(frame[RESULT_COLUMNS].drop(columns=["task"]).to_string(index=False))
    print(f"\nThe first row is the teacher ({grid[0].label()}, {grid[0].epochs:g} epochs).")
    print(verdict_text(frame))
    print(f"\nwrote {path}")
    return 0


def verdict_text(frame: pd.DataFrame) -> str:
    """Paired entropy differences (method − ERM) and the claim (a) verdict for the student rows of ``frame``.

    ``frame`` carries the ``role`` column of :func:`results_frame` (teachers are left out).
    """
    students = frame[frame["role"] == "student"]
    verdicts = verdict_table(students)
    if verdicts.empty:
        return "\nNo LS or KD runs with an ERM baseline: no verdict."
    lines = ["", "Entropy against ERM (same student and seed):", *[f"* {s}" for s in verdicts["statement"]],
             "", "Claim (a), LS raises entropy and KD lowers it:", *[f"* {s}" for s in claim_a_text(verdicts).splitlines()]]
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
