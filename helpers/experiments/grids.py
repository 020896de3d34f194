"""Presets, experiment grids and the command line that writes ``results.csv``.

Two tiers of experiments share one preset:

* **fine-tuning** (``helpers.learning.finetune``): the MiniLM-L6 teacher and its first-k-layer students
  really fine-tuned, every run cached by ``helpers.learning.finetune.run`` (``main_grid``);
* **frozen features** (``helpers.learning.features``): small heads on frozen MiniLM layer features,
  about a second per run, for many seeds, sweeps and the inheritance curve (``feature_grid``).

Presets trade time for fidelity (chosen with ``--preset`` or ``$KDLS_PRESET``); each preset's
``notes`` says what it trades away:

* ``smoke`` — tiny subsets, 1-2 layer models, one epoch: checks that everything runs (seconds).
* ``classroom`` (default) — TREC fine-tuning on a 1,000-question subset (a ladder of four teachers from one L6 run,
  L1 students, five seeds) plus the feature tier on both tasks with 5 seeds: sized from model FLOPs (about 33 TFLOP
  of model FLOPs for the whole ``make reproduce``; its summary gives the measured times).
* ``full`` — both tasks fine-tuned (1,000 training examples each), five seeds, the three KD settings fine-tuned; the
  feature tier with 10 seeds and finer grids (shipped in ``helpers/pipeline/shipped_results/``).

KD settings: ``standard`` (L6 teacher → small student), ``self`` (small → small; the teacher is
the ERM model of the student's size, seed 0) and ``reverse`` (small → L6; the teacher is the small
ERM model, seed 0). ERM of the same student (same seed) is always the baseline.

Usage::

    python -m helpers.experiments --task trec --preset classroom --out build/reproduce
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from helpers.infrastructure.settings import current_settings, setting
from helpers.infrastructure.progress import progress as progress_bar

from helpers.reporting.verdicts import claim_a_markdown, claim_a_text, verdict_table
from helpers.learning.data import task_name
from helpers.learning.features import FeatureSet, HeadConfig, HeadRecord, encode_features, run_head
from helpers.maths.losses import METHODS, Objective
from helpers.learning.results import RESULT_COLUMNS, results_frame, teacher_label, write_results
from helpers.experiments.sweeps import kd_expectations
from helpers.learning.finetune import RunRecord, TrainConfig, run, run_with_checkpoints

__all__ = [
    "verdict_text",
    "SETTINGS",
    "FeatureTier",
    "Preset",
    "PRESETS",
    "get_preset",
    "preset_comparison",
    "teacher_config",
    "teacher_configs",
    "teacher_ladder",
    "rung_label",
    "main_grid",
    "run_grid",
    "describe_run",
    "feature_data",
    "feature_teacher",
    "feature_grid",
    "run_feature_grid",
    "main",
]

SETTINGS = ("standard", "self", "reverse")


def _check_settings(settings: tuple[str, ...]) -> None:
    unknown = [s for s in settings if s not in SETTINGS]
    if unknown:
        raise ValueError(f"settings must be among {SETTINGS}, got {unknown}")


@dataclass(frozen=True)
class FeatureTier:
    """Budgets of the frozen-feature tier (``helpers.learning.features``) for one preset.

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

    Fine-tuning: the standard-KD teachers form a **ladder of confidences** (:func:`teacher_ladder`) from one
    teacher run of ``teacher_epochs``: its checkpoints after each of ``teacher_checkpoints`` epochs (same run,
    same schedule: no extra training), the finished run, then the finished run with its logits multiplied by
    each of ``teacher_scales`` (a sharper or flatter teacher at no training cost). The rungs are listed from
    the least to the most confident *by construction*; every verdict uses their measured entropies instead.
    ``methods`` (ERM always runs: it is every comparison's baseline), ``ls_alphas``, ``kd_alphas``
    (``alpha`` weights the soft part) and ``kd_temperatures`` (KD from every rung) span the grid;
    ``extreme_temperatures`` add KD from the first and the last rung only; ``settings`` are the KD settings
    (self and reverse KD use ``other_settings_temperatures``, default every temperature of both lists). ``reverse_student`` is the bigger student of
    reverse KD (default: the teacher's size). ``tasks`` are fine-tuned in the notebooks (the CLI fine-tunes
    the ``--task`` it is given).
    """

    name: str
    teacher: str = "L6"
    students: tuple[str, ...] = ("L2",)
    teacher_epochs: float = 2.0
    teacher_checkpoints: tuple[float, ...] = ()
    student_epochs: float = 3.0
    train_subset: int | None = None
    eval_subset: int | None = None
    max_length: int = 64
    batch_size: int = 32
    learning_rate: float = 1e-4
    seeds: tuple[int, ...] = (0,)
    methods: tuple[str, ...] = METHODS
    ls_alphas: tuple[float, ...] = (0.1,)
    kd_alphas: tuple[float, ...] = (0.5,)
    kd_temperatures: tuple[float, ...] = (1.0,)
    tasks: tuple[str, ...] = ("trec",)
    settings: tuple[str, ...] = ("standard",)
    teacher_scales: tuple[float, ...] = ()
    extreme_temperatures: tuple[float, ...] = ()
    reverse_student: str | None = None
    other_settings_temperatures: tuple[float, ...] | None = None
    teacher_learning_rate: float | None = None
    features: FeatureTier = field(default_factory=FeatureTier)
    notes: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        _check_settings(self.settings)
        unknown = [m for m in self.methods if m not in METHODS]
        if unknown or not self.methods:
            raise ValueError(f"methods must be among {METHODS}, got {list(self.methods)}")
        if not self.seeds or not self.students:
            raise ValueError("a preset needs at least one seed and one student")
        for alpha in self.ls_alphas:
            Objective("ls", alpha)
        for alpha in self.kd_alphas:
            for temperature in (*self.kd_temperatures, *self.extreme_temperatures):
                Objective("kd", alpha, temperature)
        if not all(0 < e < self.teacher_epochs for e in self.teacher_checkpoints) or \
                list(self.teacher_checkpoints) != sorted(set(self.teacher_checkpoints)):
            raise ValueError(f"teacher_checkpoints must be increasing epochs inside (0, teacher_epochs="
                             f"{self.teacher_epochs:g}), got {self.teacher_checkpoints!r}")
        if any(not (isinstance(s, (int, float)) and s > 0) or s == 1 for s in self.teacher_scales):
            raise ValueError(f"teacher_scales must be positive numbers other than 1, got {self.teacher_scales!r}")
        self.base_config("trec", student=self.students[0], seed=self.seeds[0])  # checks students, seeds and budgets

    def base_config(self, task: str, **changes) -> TrainConfig:
        """A ``TrainConfig`` with this preset's shared budgets."""
        values = dict(task=str(task), train_subset=self.train_subset, eval_subset=self.eval_subset,
                      max_length=self.max_length, batch_size=self.batch_size, learning_rate=self.learning_rate)
        values.update(changes)
        return TrainConfig(**values)

    def replace(self, **changes) -> "Preset":
        """A copy with some budgets changed (validated again)."""
        return dataclasses.replace(self, **changes)


PRESETS: dict[str, Preset] = {
    "smoke": Preset(
        name="smoke", teacher="L2", students=("L1",), teacher_epochs=2, teacher_checkpoints=(0.5, 1, 1.5),
        student_epochs=1, train_subset=256, eval_subset=128, max_length=32, learning_rate=5e-4,
        seeds=(0, 1), kd_temperatures=(4.0,), extreme_temperatures=(1.0,),
        features=FeatureTier(
            max_length=32, train_subset=256, eval_subset=128, hidden=32, teacher_epochs=5, student_layers=(1,),
            student_epochs=2, seeds=(0, 1), kd_temperatures=(1.0,), sweep_alphas=(0.0, 0.5), sweep_temperatures=(1.0, 4.0),
            sweep_seeds=(0,), inheritance_ls_alphas=(0.3,), inheritance_epochs=(1,), inheritance_scales=(0.5,),
            inheritance_seeds=(0, 1),
        ),
        notes="checks the pipeline end to end on 256 training examples; the numbers mean nothing",
    ),
    "classroom": Preset(
        name="classroom", teacher="L6", students=("L1",), teacher_epochs=6, teacher_checkpoints=(1, 2, 3),
        student_epochs=3, train_subset=1000, max_length=64, batch_size=16, learning_rate=1e-3,
        teacher_learning_rate=2e-4, seeds=(0, 1, 2, 3, 4), kd_temperatures=(4.0,), extreme_temperatures=(1.0,),
        features=FeatureTier(train_subset=3000, eval_subset=600),
        notes=("fine-tuning: TREC, a 1,000-question training subset; a ladder of four teachers from one L6 run of 6 epochs "
               "(its checkpoints after 1, 2 and 3 epochs, and the finished run); L1 "
               "students trained 3 epochs, 5 seeds: ERM, LS α=0.1, KD α=0.5 at τ = 4 from every teacher and at τ = 1 "
               "from the least and the most confident; feature tier: both tasks (Rotten Tomatoes capped at 3,000 "
               "training and 600 validation/test texts), 5 seeds, all three KD settings, coarse sweeps"),
    ),
    "full": Preset(
        name="full", teacher="L6", students=("L1",), teacher_epochs=6, teacher_checkpoints=(1, 2, 3),
        student_epochs=4, train_subset=1000, max_length=64, batch_size=16, learning_rate=1e-3,
        teacher_learning_rate=2e-4, seeds=(0, 1, 2, 3, 4), kd_temperatures=(4.0,), extreme_temperatures=(1.0,),
        tasks=("trec", "rotten_tomatoes"), settings=("standard", "self", "reverse"), reverse_student="L2",
        other_settings_temperatures=(4.0,),
        features=FeatureTier(
            student_layers=(2,), seeds=tuple(range(10)), sweep_alphas=(0.0, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9, 1.0),
            sweep_temperatures=(1.0, 2.0, 3.0, 4.0, 6.0, 8.0), sweep_seeds=(0, 1, 2),
            inheritance_ls_alphas=(0.05, 0.1, 0.2, 0.3, 0.5), inheritance_epochs=(1, 2, 3, 5, 10),
            inheritance_scales=(0.25, 0.5, 0.75, 1.5, 2.0), inheritance_seeds=(0, 1, 2, 3, 4),
        ),
        notes=("both tasks fine-tuned on 1,000 training examples each (20% of TREC's 4,906, 10% of Rotten Tomatoes' "
               "10,328: what one session's background compute on 2 cores could finish), the classroom teacher ladder, "
               "5 seeds, the paper's three KD settings fine-tuned: standard (the L6 ladder → L1, KD α=0.5 at τ = 4 from "
               "every rung and τ = 1 from the extremes), self (L1 → L1) and reverse (L1 → L2) at τ = 4, ERM and LS "
               "baselines for each student; feature tier: 10 seeds and fine grids. Its results ship in the kit "
               "(measured wall time in their provenance)"),
    ),
}


def get_preset(name: str | None = None) -> Preset:
    """The preset called ``name``, else ``$KDLS_PRESET``, else ``classroom``."""
    if name is None:
        name = current_settings().preset
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
            "teacher ladder": "; ".join(rung_label(c, scale) for c, scale in teacher_ladder("trec", p)),
            "students (epochs)": f"{', '.join(p.students)} ({p.student_epochs:g})",
            "training examples": "all" if p.train_subset is None else p.train_subset,
            "fine-tuning seeds": len(p.seeds),
            "KD settings (fine-tuning)": ", ".join(p.settings),
            "KD temperatures": ", ".join(f"{t:g}" for t in p.kd_temperatures)
                               + (f" (and {', '.join(f'{t:g}' for t in p.extreme_temperatures)} from the extreme rungs)"
                                  if p.extreme_temperatures else ""),
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


def teacher_config(task: str, preset: Preset, epochs: float | None = None) -> TrainConfig:
    """The preset's teacher run: its teacher-size model trained with ERM (seed 0) for ``epochs`` of a schedule of
    ``preset.teacher_epochs`` (default: the whole run; fewer: a checkpoint of that run)."""
    config = preset.base_config(task, student=preset.teacher, method="erm", epochs=preset.teacher_epochs,
                                learning_rate=preset.teacher_learning_rate or preset.learning_rate)
    if epochs is None or epochs == preset.teacher_epochs:
        return config
    return config.replace(epochs=epochs, schedule_epochs=preset.teacher_epochs)


def teacher_configs(task: str, preset: Preset) -> list[TrainConfig]:
    """The teacher runs of the ladder: the checkpoints (ascending epochs), then the finished run."""
    return [teacher_config(task, preset, e) for e in preset.teacher_checkpoints] + [teacher_config(task, preset)]


def teacher_ladder(task: str, preset: Preset) -> list[tuple[TrainConfig, float]]:
    """The standard-KD teachers as ``(teacher run, logit scale)`` rungs: the checkpoints, the finished run, then the
    finished run with its logits × each of ``preset.teacher_scales`` — least to most confident by construction
    (for scales above 1), though every verdict uses the measured entropies."""
    runs = teacher_configs(task, preset)
    return [(c, 1.0) for c in runs] + [(runs[-1], float(scale)) for scale in preset.teacher_scales]


def rung_label(teacher: TrainConfig, scale: float = 1.0) -> str:
    """A rung in the kit's one teacher spelling, e.g. ``'L6 (2 of 6 epochs)'``, ``'L6 (6 epochs, logits ×2)'``."""
    return teacher_label(teacher.student, objective=teacher.objective, epochs=teacher.epochs,
                         schedule_epochs=teacher.schedule_epochs, logit_scale=scale)


def _kd_variants(base: TrainConfig | HeadConfig, teacher, alphas, temperatures, scale: float = 1.0) -> list:
    changes = {"teacher_logit_scale": scale} if scale != 1.0 else {}
    return [base.replace(method="kd", alpha=a, temperature=t, teacher=teacher, **changes)
            for a in alphas for t in temperatures]


def main_grid(task: str, preset: Preset) -> list[TrainConfig]:
    """Fine-tuning grid: the teacher runs, then per student and seed ERM, LS at each α and KD at each (α, τ).

    ERM always runs (every LS/KD run is compared with the ERM run of the same student and seed).
    KD runs follow ``preset.settings``: ``standard`` — from every rung of :func:`teacher_ladder` at each of
    ``kd_temperatures``, and from the first and last rung at each of ``extreme_temperatures``; ``self`` — from the
    same-size ERM model of seed 0; ``reverse`` — per seed, ERM (and LS) of the bigger ``reverse_student`` (default:
    the teacher's size) with the student budget, and its KD from each small ERM model of seed 0.
    """
    ladder = teacher_ladder(task, preset)
    grid = list(teacher_configs(task, preset))
    kd = "kd" in preset.methods
    all_temperatures = tuple(dict.fromkeys((*preset.kd_temperatures, *preset.extreme_temperatures)))
    other_temperatures = preset.other_settings_temperatures or all_temperatures
    for student in preset.students:
        for seed in preset.seeds:
            base = preset.base_config(task, student=student, seed=seed, epochs=preset.student_epochs)
            grid.append(base)
            if "ls" in preset.methods:
                grid += [base.replace(method="ls", alpha=a) for a in preset.ls_alphas]
            if kd and "standard" in preset.settings:
                for number, (teacher, scale) in enumerate(ladder):
                    extreme = number in (0, len(ladder) - 1)
                    temperatures = all_temperatures if extreme else preset.kd_temperatures
                    grid += _kd_variants(base, teacher, preset.kd_alphas, temperatures, scale)
            if kd and "self" in preset.settings:
                grid += _kd_variants(base, base.replace(seed=0), preset.kd_alphas, other_temperatures)
    if kd and "reverse" in preset.settings:
        big_student = preset.reverse_student or preset.teacher
        for seed in preset.seeds:
            big = preset.base_config(task, student=big_student, seed=seed, epochs=preset.student_epochs)
            grid.append(big)
            if "ls" in preset.methods:
                grid += [big.replace(method="ls", alpha=a) for a in preset.ls_alphas]
            for student in preset.students:
                small = preset.base_config(task, student=student, seed=0, epochs=preset.student_epochs)
                grid += _kd_variants(big, small, preset.kd_alphas, other_temperatures)
    return list(dict.fromkeys(grid))


def run_grid(configs: list[TrainConfig], progress: bool = True) -> list[RunRecord]:
    """Run (or load from the cache) every config in order. Checkpoint configs (``schedule_epochs`` set) are made
    first, by one training of their whole run per run (:func:`helpers.learning.finetune.run_with_checkpoints`)."""
    whole_runs: dict[TrainConfig, list[float]] = {}
    for config in configs:
        if config.schedule_epochs is not None:
            whole_runs.setdefault(config.replace(epochs=config.schedule_epochs), []).append(config.epochs)
    for whole, checkpoints in whole_runs.items():
        if progress:
            print(f"[teacher ladder] {whole.label()} with checkpoints after "
                  f"{', '.join(f'{e:g}' for e in sorted(checkpoints))} epochs", file=sys.stderr, flush=True)
        run_with_checkpoints(whole, tuple(checkpoints), progress=progress)
    records = []
    for number, config in enumerate(configs, 1):
        if progress:
            print(f"[{number}/{len(configs)}] {config.label()}", file=sys.stderr, flush=True)
        records.append(run(config, progress=progress))
    return records


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
    return [run_head(config, data) for config in progress_bar(configs, desc=f"heads on {data.task}", disable=not progress)]


def describe_run(task: str, preset: Preset, grid: list[TrainConfig]) -> str:
    """What a command-line run actually trains: task and sizes, models, epochs, seeds, methods and runs."""
    teachers = [c for c in grid if c in teacher_configs(task, preset)]
    students = ", ".join(preset.students)
    subset = "all training examples" if preset.train_subset is None else f"at most {preset.train_subset:,} training examples"
    lines = [f"task {task_name(task)!r} ({subset}; max_length {preset.max_length}), preset {preset.name!r}:",
             "* teacher ladder (standard KD): " + "; ".join(rung_label(c, scale) for c, scale in teacher_ladder(task, preset))
             + f" — {len(teachers)} teacher run{'s' if len(teachers) != 1 else ''} from one training of "
               f"{preset.teacher_epochs:g} epochs",
             f"* students: {students}, {preset.student_epochs:g} epochs, seeds {', '.join(map(str, preset.seeds))}",
             f"* methods: ERM (baseline)"
             + (f", LS α ∈ {{{', '.join(f'{a:g}' for a in preset.ls_alphas)}}}" if "ls" in preset.methods else "")
             + (f", KD α ∈ {{{', '.join(f'{a:g}' for a in preset.kd_alphas)}}} τ ∈ "
                f"{{{', '.join(f'{t:g}' for t in preset.kd_temperatures)}}}"
                + (f" (τ = {', '.join(f'{t:g}' for t in preset.extreme_temperatures)} from the first and last rung)"
                   if preset.extreme_temperatures else "") + f" ({', '.join(preset.settings)})"
                if "kd" in preset.methods else ""),
             f"* {len(grid)} runs (finished runs are loaded from the cache)"]
    return "\n".join(lines)


def _numbers(kind: type, name: str):
    def parse(text: str) -> tuple:
        try:
            values = tuple(kind(part) for part in text.replace(",", " ").split())
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} must be a list of {kind.__name__}s like '0,1,2', got {text!r}") from None
        if not values:
            raise argparse.ArgumentTypeError(f"{name} is empty")
        return values
    return parse


def _words(text: str) -> tuple[str, ...]:
    return tuple(part for part in text.replace(",", " ").split())


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m helpers.experiments", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--task", default="trec", help="trec, rotten_tomatoes or a CSV path with text,label columns")
    parser.add_argument("--preset", default=None, help=f"one of {', '.join(PRESETS)} (default: $KDLS_PRESET or classroom)")
    parser.add_argument("--out", default="build/reproduce", type=Path,
                        help="output folder for results.csv (created; rows of other runs already there are kept)")
    parser.add_argument("--methods", type=_words, help="methods besides the ERM baseline, e.g. 'ls,kd' (default: the preset's)")
    parser.add_argument("--alpha", type=_numbers(float, "--alpha"),
                        help="α values (weight of the soft part) for every LS and KD run, e.g. '0.1,0.5'")
    parser.add_argument("--temperature", type=_numbers(float, "--temperature"), help="KD temperatures, e.g. '1,4'")
    parser.add_argument("--seeds", type=_numbers(int, "--seeds"), help="seeds in [0, 2**32), e.g. '0,1,2'")
    parser.add_argument("--students", type=_words,
                        help="student models: L1..L6, scratch or the folder of a saved model, e.g. 'L1,L2'")
    parser.add_argument("--precision", choices=("auto", "fp32", "bf16"), default=None,
                        help="training precision (default: $KDLS_PRECISION or auto: bf16 where the CPU has it natively)")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    return parser


def preset_from_arguments(args: argparse.Namespace) -> Preset:
    """The preset named by ``--preset`` with the grid options that were given overriding it (validated)."""
    if args.preset is not None and args.preset not in PRESETS:
        raise ValueError(f"unknown preset {args.preset!r}; choose one of {', '.join(PRESETS)}")
    preset = get_preset(args.preset)
    changes: dict = {}
    if args.methods is not None:
        changes["methods"] = tuple(dict.fromkeys(("erm", *args.methods)))
    if args.alpha is not None:
        changes["ls_alphas"] = changes["kd_alphas"] = args.alpha
    if args.temperature is not None:  # the given temperatures, from every teacher
        changes["kd_temperatures"], changes["extreme_temperatures"] = args.temperature, ()
    if args.seeds is not None:
        bad = [seed for seed in args.seeds if not 0 <= seed < MAX_SEED]
        if bad:
            raise ValueError(f"--seeds must be integers in [0, 2**32) (NumPy's and torch's seed range), got {bad[0]}")
        changes["seeds"] = args.seeds
    if args.students is not None:
        for student in args.students:
            _check_model_name(student, "--students")
        changes["students"] = args.students
    return preset.replace(**changes) if changes else preset


MAX_SEED = 2**32
_FILE_SUFFIXES = (".csv", ".tsv", ".txt", ".json", ".jsonl", ".parquet", ".xlsx", ".md", ".html", ".pdf", ".png")


def _check_model_name(name: str, option: str) -> None:
    """``L<k>``, ``scratch``, an existing model folder, or (with ``KDLS_ALLOW_HUB=1``) a hub name; else ``ValueError``."""
    import re

    if re.fullmatch(r"L\d+", name) or name == "scratch" or Path(name).expanduser().is_dir():
        return  # L0 and L7 are refused by TrainConfig with the range in the message
    if setting("allow_hub") and "/" in name:
        return
    hub = "" if setting("allow_hub") else " (hub names need KDLS_ALLOW_HUB=1)"
    raise ValueError(f"{option}: unknown model {name!r}: use L1..L6, scratch or the folder of a saved model{hub}")


def _folder_problem(path: Path) -> str | None:
    """Why ``path`` cannot be (or become) a folder: it or a folder above it is a file or a broken link; else None."""
    for folder in (path, *path.parents):
        if folder.is_symlink() and not folder.exists():
            try:
                folder.resolve(strict=True)
            except RuntimeError:
                return f"{folder} is a symbolic link loop"
            except OSError:
                pass
            return f"{folder} is a broken symbolic link"
        if folder.exists():
            if folder.is_dir():
                return None
            return "it is a file" if folder == path else f"{folder} is a file, not a folder"
    return None


def _check_environment(parser: argparse.ArgumentParser) -> None:
    """``KDLS_DATA_DIR`` and ``KDLS_COMPUTED_DIR``, when set, name folders (never empty: not the current folder)."""
    for variable in ("KDLS_DATA_DIR", "KDLS_COMPUTED_DIR"):
        if variable not in os.environ:
            continue
        value = os.environ[variable].strip()
        if not value:
            parser.error(f"{variable} is set but empty: unset it (the default folder) or name a folder")
        problem = _folder_problem(Path(value).expanduser())
        if problem:
            parser.error(f"{variable}={value} cannot be a folder: {problem}")


def _check_out(parser: argparse.ArgumentParser, out: Path) -> None:
    """``--out`` is a folder (created here) this process can write into; a file-like name is refused."""
    problem = _folder_problem(out)
    if problem:
        parser.error(f"--out {out} cannot be a folder: {problem}")
    if out.suffix.lower() in _FILE_SUFFIXES and not out.is_dir():
        parser.error(f"--out {out} looks like a file name: give the folder results.csv is written into")
    import tempfile

    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out):
            pass
    except OSError as error:
        parser.error(f"--out {out} is not writable: {error.strerror or error}")


def _filesystem_error(parser: argparse.ArgumentParser, error: OSError, fallback: Path) -> int:
    """One line naming the path and the reason (no traceback); exit status 2."""
    where = error.filename or fallback
    print(f"{parser.prog}: error: cannot write {where}: {error.strerror or error}", file=sys.stderr, flush=True)
    return 2


def main(argv: list[str] | None = None) -> int:
    """The command line: every check before anything trains, then the grid, then results.csv (merged).

    Exit status 0, or 2 with one line on stderr: a bad option or environment variable (before training),
    or a file-system fault (a cache record or results.csv that cannot be written).
    ``--precision`` holds for this call only (``$KDLS_PRECISION`` is restored afterwards).
    """
    parser = _parser()
    args = parser.parse_args(argv)
    out = Path(args.out).expanduser()
    _check_environment(parser)
    try:
        preset = preset_from_arguments(args)
        grid = main_grid(args.task, preset)
    except ValueError as error:
        parser.error(str(error))
    _check_out(parser, out)
    previous = os.environ.get("KDLS_PRECISION")
    if args.precision is not None:
        os.environ["KDLS_PRECISION"] = args.precision
    try:
        return _run_and_report(parser, args, preset, grid, out)
    finally:
        if previous is None:
            os.environ.pop("KDLS_PRECISION", None)
        else:
            os.environ["KDLS_PRECISION"] = previous


def _run_and_report(parser: argparse.ArgumentParser, args: argparse.Namespace, preset: Preset,
                    grid: list[TrainConfig], out: Path) -> int:
    print(describe_run(args.task, preset, grid), file=sys.stderr, flush=True)
    try:
        records = run_grid(grid, progress=not args.quiet)
    except ValueError as error:
        parser.error(str(error))
    except OSError as error:
        return _filesystem_error(parser, error, out)
    teachers = teacher_configs(args.task, preset)
    frame = results_frame(records, teachers=teachers)
    try:
        path = write_results(frame, out / "results.csv", merge=True)
    except OSError as error:
        return _filesystem_error(parser, error, out / "results.csv")
    except ValueError as error:
        print(f"{parser.prog}: error: {error}", file=sys.stderr, flush=True)
        return 2
    with pd.option_context("display.width", 200, "display.max_columns", 20, "display.float_format", "{:.4f}".format):
        print(f"\n{describe_run(args.task, preset, grid)}\n")
        print(frame[RESULT_COLUMNS].drop(columns=["tier", "task"]).to_string(index=False))
    print(verdict_text(frame, kd_expectations(records)))
    print(f"\nwrote {path}")
    return 0


def verdict_text(frame: pd.DataFrame, expectations: pd.DataFrame | None = None) -> str:
    """Paired entropy differences (method − ERM) of the student rows of ``frame``, each judged against the
    pre-declared predictions (``helpers.maths.hypotheses``; KD's from ``expectations``, ``helpers.experiments.sweeps.kd_expectations``),
    then the family's summary. ``frame`` is in the ``results.csv`` schema; teacher rows are left out."""
    students = frame[frame["role"] == "student"]
    verdicts = verdict_table(students, expectations)
    if verdicts.empty:
        return "\nNo LS or KD runs with an ERM baseline: no verdict."
    lines = ["", "Test entropy against ERM (same student and seed), with the predictions:",
             *[f"* {s}" for s in claim_a_text(verdicts).splitlines()],
             *[f"* {s}" for s in verdicts[verdicts["method"] == "ls"]["statement"]],
             "", claim_a_markdown(verdicts).replace("**", "")]
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
