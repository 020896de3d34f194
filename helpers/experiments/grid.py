"""Grids: a preset's runs, expanded once for both tiers.

* :func:`main_grid` — the fine-tuned tier: the teacher ladder (:func:`teacher_ladder`), then per student and seed
  ERM, LS at each α and KD at each (α, τ) in each KD setting;
* :func:`feature_grid` — the frozen-feature tier, the same structure on heads;
* :func:`expand_settings` — the one expansion of ERM, LS and the standard / self / reverse KD settings that both
  grids are made of (see ``helpers.experiments.presets`` for what each setting means);
* :func:`preset_comparison` and :func:`describe_run` — the presets and a run's grid in words.
"""

from __future__ import annotations

from typing import Callable, Sequence, TypeVar

import pandas as pd

from helpers.experiments.presets import PRESETS, Preset, get_preset
from helpers.learning.data import task_name
from helpers.learning.features import HeadConfig
from helpers.learning.finetune import TrainConfig
from helpers.learning.results import teacher_label

__all__ = [
    "teacher_config",
    "teacher_configs",
    "teacher_ladder",
    "rung_label",
    "expand_settings",
    "main_grid",
    "feature_teacher",
    "feature_teachers",
    "feature_grid",
    "preset_comparison",
    "describe_run",
]

Config = TypeVar("Config", TrainConfig, HeadConfig)


def teacher_config(task: str, preset: Preset, epochs: float | None = None, seed: int = 0) -> TrainConfig:
    """The preset's teacher run of ``seed``: its teacher-size model trained with ERM for ``epochs`` of a schedule of
    ``preset.teacher_epochs`` (default: the whole run; fewer: a checkpoint of that run)."""
    config = preset.base_config(task, student=preset.teacher, method="erm", epochs=preset.teacher_epochs, seed=seed,
                                learning_rate=preset.teacher_learning_rate or preset.learning_rate)
    if epochs is None or epochs == preset.teacher_epochs:
        return config
    return config.replace(epochs=epochs, schedule_epochs=preset.teacher_epochs)


def teacher_configs(task: str, preset: Preset) -> list[TrainConfig]:
    """The teacher runs of the ladder, per seed of ``preset.teacher_seeds``: the checkpoints (ascending epochs), then
    the finished run."""
    return [teacher_config(task, preset, e, seed) for seed in preset.teacher_seeds
            for e in (*preset.teacher_checkpoints, None)]


def teacher_ladder(task: str, preset: Preset) -> list[tuple[TrainConfig, float]]:
    """The standard-KD teachers as ``(teacher run, logit scale)`` rungs, per seed of ``preset.teacher_seeds``: the
    checkpoints, the finished run, then the finished run with its logits × each of ``preset.teacher_scales`` — in the
    order of their training, not necessarily of their confidence (every verdict uses the measured entropies)."""
    rungs = []
    for seed in preset.teacher_seeds:
        runs = [teacher_config(task, preset, e, seed) for e in (*preset.teacher_checkpoints, None)]
        rungs += [(c, 1.0) for c in runs] + [(runs[-1], float(scale)) for scale in preset.teacher_scales]
    return rungs


def rung_label(teacher: TrainConfig, scale: float = 1.0) -> str:
    """A rung in the kit's one teacher spelling, e.g. ``'L6 (2 of 6 epochs)'``, ``'L6 (6 epochs, logits ×2)'``; a run of
    another teacher seed than 0: ``'L6 (2 of 6 epochs, seed 1)'``."""
    return teacher_label(teacher.student, objective=teacher.objective, epochs=teacher.epochs,
                         schedule_epochs=teacher.schedule_epochs, logit_scale=scale, seed=teacher.seed)


def _kd_variants(base: Config, teacher, alphas: Sequence[float], temperatures: Sequence[float],
                scale: float = 1.0) -> list[Config]:
    changes = {"teacher_logit_scale": scale} if scale != 1.0 else {}
    return [base.replace(method="kd", alpha=a, temperature=t, teacher=teacher, **changes)
            for a in alphas for t in temperatures]


def expand_settings(base: Callable[[object, int], Config], students: Sequence, seeds: Sequence[int], *,
                    settings: Sequence[str], ls_alphas: Sequence[float], kd_alphas: Sequence[float],
                    standard_teachers: Sequence[tuple[Config, float, Sequence[float]]],
                    other_temperatures: Sequence[float], big_student: object = None,
                    big_ls_alphas: Sequence[float] = (), teacher_seeds: Sequence[int] = (0,)) -> list[Config]:
    """The runs of ERM, LS and KD in the given ``settings``, for either tier (duplicates kept; the grids drop them).

    ``base(student, seed)`` is the ERM run of one student and seed (a ``TrainConfig`` or a ``HeadConfig``). Per student
    and seed: that ERM run, LS at each of ``ls_alphas``, then KD at each of ``kd_alphas``: ``standard`` — from each
    ``(teacher, logit scale, temperatures)`` of ``standard_teachers``; ``self`` — from ``base(student, t)`` for each
    teacher seed ``t`` at each of ``other_temperatures``. ``reverse`` — per seed, ERM of ``big_student`` (and LS at each
    of ``big_ls_alphas``), and its KD from each ``base(student, t)`` at each of ``other_temperatures``. Each teacher
    seed is one independent teacher run with its own KD students (crossed with the same student seeds).
    """
    grid: list[Config] = []
    for student in students:
        for seed in seeds:
            own = base(student, seed)
            grid += [own, *(own.replace(method="ls", alpha=a) for a in ls_alphas)]
            if "standard" in settings:
                for teacher, scale, temperatures in standard_teachers:
                    grid += _kd_variants(own, teacher, kd_alphas, temperatures, scale)
            if "self" in settings:
                for teacher_seed in teacher_seeds:
                    grid += _kd_variants(own, base(student, teacher_seed), kd_alphas, other_temperatures)
    if "reverse" in settings:
        for seed in seeds:
            big = base(big_student, seed)
            grid += [big, *(big.replace(method="ls", alpha=a) for a in big_ls_alphas)]
            for student in students:
                for teacher_seed in teacher_seeds:
                    grid += _kd_variants(big, base(student, teacher_seed), kd_alphas, other_temperatures)
    return grid


def _with_teachers(runs: list[Config]) -> list[Config]:
    """``runs`` once each, then every KD teacher not among them: without a teacher seed's students (a share of a
    class) the grid still holds the models its self and reverse KD learn from, so their results and predictions are
    complete."""
    teachers = [run.teacher for run in runs if run.method == "kd" and isinstance(run.teacher, (TrainConfig, HeadConfig))]
    return list(dict.fromkeys([*runs, *teachers]))


def main_grid(task: str, preset: Preset) -> list[TrainConfig]:
    """Fine-tuning grid: the teacher runs, then per student and seed ERM, LS at each α and KD at each (α, τ).

    ERM always runs (every LS/KD run is compared with the ERM run of the same student and seed).
    KD runs follow ``preset.settings`` (:func:`expand_settings`): ``standard`` — from every rung of
    :func:`teacher_ladder` (every teacher seed's) at each of ``kd_temperatures``, and from the rungs of
    ``temperature_rungs`` (default: the first and last rung) at each of ``extreme_temperatures``; ``self`` — from the
    same-size ERM model of each teacher seed; ``reverse`` — per seed, ERM (and LS) of the bigger ``reverse_student``
    (default: the teacher's size) with the student budget, and its KD from each small ERM model of each teacher seed.
    Self and reverse KD use ``other_settings_temperatures`` (default: every temperature).
    Every KD teacher is in the grid (:func:`_with_teachers`).
    """
    ladder = teacher_ladder(task, preset)
    all_temperatures = tuple(dict.fromkeys((*preset.kd_temperatures, *preset.extreme_temperatures)))
    per_seed = len(ladder) // len(preset.teacher_seeds)
    chosen = preset.temperature_rungs

    def every_temperature(number: int, teacher: TrainConfig, scale: float) -> bool:
        if chosen is None:
            return number % per_seed in (0, per_seed - 1)
        return scale == 1.0 and float(teacher.epochs) in {float(e) for e in chosen}

    rungs = [(teacher, scale, all_temperatures if every_temperature(number, teacher, scale) else preset.kd_temperatures)
             for number, (teacher, scale) in enumerate(ladder)]
    ls_alphas = preset.ls_alphas if "ls" in preset.methods else ()

    def base(student: str, seed: int) -> TrainConfig:
        return preset.base_config(task, student=student, seed=seed, epochs=preset.student_epochs)

    runs = expand_settings(base, preset.students, preset.seeds, settings=preset.settings if "kd" in preset.methods else (),
                           ls_alphas=ls_alphas, kd_alphas=preset.kd_alphas, standard_teachers=rungs,
                           other_temperatures=preset.other_settings_temperatures or all_temperatures,
                           big_student=preset.reverse_student or preset.teacher, big_ls_alphas=ls_alphas,
                           teacher_seeds=preset.teacher_seeds)
    return _with_teachers([*teacher_configs(task, preset), *runs])


def feature_teacher(preset: Preset) -> HeadConfig:
    """The feature tier's teacher head (top layer, trained to convergence; the run of the first teacher seed)."""
    return preset.features.teacher(preset.features.teacher_seeds[0])


def feature_teachers(preset: Preset) -> list[HeadConfig]:
    """Every run of the feature tier's teacher head, one per seed of ``preset.features.teacher_seeds``: the rows to
    mark ``role='teacher'`` (a teacher head is not an ERM student of the top layer)."""
    return [preset.features.teacher(seed) for seed in preset.features.teacher_seeds]


def feature_grid(preset: Preset) -> list[HeadConfig]:
    """Feature-tier grid, the structure of :func:`main_grid` (:func:`expand_settings`): the teacher, then per student
    layer and seed ERM, LS at each α and KD at each (α, τ) in each of the tier's settings (reverse: the teacher's
    layer as the student, without LS)."""
    tier = preset.features
    teachers = [tier.teacher(seed) for seed in tier.teacher_seeds]
    runs = expand_settings(tier.student, tier.student_layers, tier.seeds, settings=tier.settings,
                           ls_alphas=tier.ls_alphas, kd_alphas=tier.kd_alphas,
                           standard_teachers=[(teacher, 1.0, tier.kd_temperatures) for teacher in teachers],
                           other_temperatures=tier.kd_temperatures, big_student=tier.teacher_layer,
                           teacher_seeds=tier.teacher_seeds)
    return _with_teachers([*teachers, *runs])


def preset_comparison(names: tuple[str, ...] = tuple(PRESETS)) -> pd.DataFrame:
    """The presets side by side: the budgets that matter (rows) per preset (columns), and their notes."""
    rows = {}
    for name in names:
        p, f = get_preset(name), get_preset(name).features
        rows[name] = {
            "fine-tuned tasks": ", ".join(p.tasks),
            "teacher ladder": "; ".join(rung_label(c, scale) for c, scale in teacher_ladder("trec", p)
                                        if c.seed == p.teacher_seeds[0]),
            "teacher runs per rung (seeds)": f"{len(p.teacher_seeds)} ({', '.join(map(str, p.teacher_seeds))})",
            "students (epochs)": f"{', '.join(p.students)} ({p.student_epochs:g})",
            "training examples": "all" if p.train_subset is None else p.train_subset,
            "fine-tuning seeds": len(p.seeds),
            "KD settings (fine-tuning)": ", ".join(p.settings),
            "KD temperatures": ", ".join(f"{t:g}" for t in p.kd_temperatures)
                               + (f" (and {', '.join(f'{t:g}' for t in p.extreme_temperatures)} from {_temperature_rungs(p)})"
                                  if p.extreme_temperatures else ""),
            "fine-tuning runs per task": len(main_grid("trec", p)),
            "feature tasks": ", ".join(f.tasks),
            "feature training examples": "all" if f.train_subset is None else f"≤ {f.train_subset}",
            "feature students (layers)": ", ".join(f"L{k}" for k in f.student_layers),
            "feature seeds": len(f.seeds),
            "feature teacher runs": len(f.teacher_seeds),
            "feature runs per task": len(feature_grid(p)),
            "α grid × τ grid (sweeps)": f"{len(f.sweep_alphas)} × {len(f.sweep_temperatures)}",
            "notes": p.notes,
        }
    return pd.DataFrame(rows)


def _temperature_rungs(preset: Preset) -> str:
    """Which rungs get the extreme temperatures, in words: ``'the first and the last rung'``, ``'the rungs after 3, 6
    epochs'``."""
    if preset.temperature_rungs is None:
        return "the first and the last rung"
    return f"the rungs after {', '.join(f'{e:g}' for e in preset.temperature_rungs)} epochs"


def describe_run(task: str, preset: Preset, grid: list[TrainConfig]) -> str:
    """What a command-line run actually trains: task and sizes, models, epochs, seeds, methods and runs."""
    teachers = [c for c in grid if c in teacher_configs(task, preset)]
    trainings = len(preset.teacher_seeds)
    students = ", ".join(preset.students)
    subset = "all training examples" if preset.train_subset is None else f"at most {preset.train_subset:,} training examples"
    lines = [f"task {task_name(task)!r} ({subset}; max_length {preset.max_length}), preset {preset.name!r}:",
             "* teacher ladder (standard KD): " + "; ".join(rung_label(c, scale) for c, scale in teacher_ladder(task, preset)
                                                           if c.seed == preset.teacher_seeds[0])
             + f" — {len(teachers)} teacher run{'s' if len(teachers) != 1 else ''} from "
               f"{'one training' if trainings == 1 else f'{trainings} independent trainings (teacher seeds ' + ', '.join(map(str, preset.teacher_seeds)) + ')'} "
               f"of {preset.teacher_epochs:g} epochs",
             f"* students: {students}, {preset.student_epochs:g} epochs, seeds {', '.join(map(str, preset.seeds))}",
             f"* methods: ERM (baseline)"
             + (f", LS α ∈ {{{', '.join(f'{a:g}' for a in preset.ls_alphas)}}}" if "ls" in preset.methods else "")
             + (f", KD α ∈ {{{', '.join(f'{a:g}' for a in preset.kd_alphas)}}} τ ∈ "
                f"{{{', '.join(f'{t:g}' for t in preset.kd_temperatures)}}}"
                + (f" (τ = {', '.join(f'{t:g}' for t in preset.extreme_temperatures)} from {_temperature_rungs(preset)})"
                   if preset.extreme_temperatures else "") + f" ({', '.join(preset.settings)})"
                if "kd" in preset.methods else ""),
             f"* {len(grid)} runs (finished runs are loaded from the cache)"]
    return "\n".join(lines)


