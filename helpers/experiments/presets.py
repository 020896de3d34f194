"""Presets: the budgets of an experiment, chosen with ``--preset`` or ``$KDLS_PRESET``.

Two tiers of experiments share one preset:

* **fine-tuning** (``helpers.learning.finetune``): the MiniLM-L6 teacher and its first-k-layer students
  really fine-tuned (its grid: ``helpers.experiments.grid.main_grid``);
* **frozen features** (``helpers.learning.features``): small heads on frozen MiniLM layer features,
  about a second per run, for many seeds, sweeps and the inheritance curve (``FeatureTier``,
  ``helpers.experiments.grid.feature_grid``).

Presets trade time for fidelity; each preset's ``notes`` says what it trades away:

* ``smoke`` — tiny subsets, 1-2 layer models, one epoch: checks that everything runs (seconds).
* ``classroom`` (default) — TREC fine-tuning on a 1,000-question subset (a ladder of four teachers from one L6 run,
  L1 students, five seeds) plus the feature tier on both tasks with 5 seeds: sized from model FLOPs (about 33 TFLOP
  of model FLOPs for the whole ``make reproduce``; its summary gives the measured times).
* ``full`` — both tasks fine-tuned (2,000 training examples each), three independent teacher runs of every rung and
  of the self and reverse teachers, ten student seeds, KD at τ = 1 and 4 from the converged rung and the rung nearest
  the crossover, the three KD settings fine-tuned; the feature tier with 10 seeds, three teacher runs and finer grids
  (shipped in ``helpers/learning/shipped_results/``).

KD settings (:data:`SETTINGS`): ``standard`` (L6 teacher → small student), ``self`` (small → small; the teacher is
the ERM model of the student's size) and ``reverse`` (small → L6; the teacher is the small ERM model). Each teacher has
one run per seed of ``teacher_seeds`` (default seed 0 only), each with its own KD students: the ladder's L6 run of that
seed, the small ERM model of that seed. ERM of the same student (same seed) is always the baseline.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field

from helpers.infrastructure.settings import current_settings
from helpers.learning.features import HeadConfig
from helpers.learning.finetune import TrainConfig
from helpers.maths.losses import METHODS

__all__ = ["SETTINGS", "FeatureTier", "Preset", "PRESETS", "get_preset", "preset_identity"]

SETTINGS = ("standard", "self", "reverse")


def check_teacher_seeds(seeds: tuple[int, ...]) -> None:
    """``ValueError`` unless ``seeds`` are distinct integers >= 0, at least one (each is one independent teacher run)."""
    if not seeds or len(set(seeds)) != len(seeds) or not all(
            isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in seeds):
        raise ValueError(f"teacher_seeds must be distinct integers >= 0, at least one, got {seeds!r}")


def check_settings(settings: tuple[str, ...]) -> None:
    """``ValueError`` unless every KD setting is one of :data:`SETTINGS`."""
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
    teacher_seeds: tuple[int, ...] = (0,)
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
        check_settings(self.settings)
        check_teacher_seeds(self.teacher_seeds)

    def teacher(self, seed: int = 0) -> HeadConfig:
        """The teacher head: ERM on the top layer, trained to convergence (one run per seed of ``teacher_seeds``)."""
        return HeadConfig(layer=self.teacher_layer, hidden=self.hidden, epochs=self.teacher_epochs, seed=seed,
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
    each of ``teacher_scales`` (a sharper or flatter teacher at no training cost). The rungs are listed in the order
    of their training, which need not be the order of their confidence: every verdict uses their measured entropies.
    ``teacher_seeds`` gives each rung, and the self and reverse teachers, one independent run per seed (each with its
    own KD students; ERM and LS students are shared), so that the teacher run can be read as a random effect.
    ``methods`` (ERM always runs: it is every comparison's baseline), ``ls_alphas``, ``kd_alphas``
    (``alpha`` weights the soft part) and ``kd_temperatures`` (KD from every rung) span the grid;
    ``extreme_temperatures`` add KD from the rungs after ``temperature_rungs`` epochs (default: the first and the last
    rung) only; ``settings`` are the KD settings
    (self and reverse KD use ``other_settings_temperatures``, default every temperature of both lists). ``reverse_student`` is the bigger student of
    reverse KD (default: the teacher's size). ``tasks`` are fine-tuned in the notebooks (the CLI fine-tunes
    the ``--task`` it is given).

    α and τ are validated once, by the :class:`helpers.maths.losses.Objective` of each config the grid expands them into
    (``helpers.experiments.grid``): a bad value stops the grid before anything trains.
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
    temperature_rungs: tuple[float, ...] | None = None
    teacher_seeds: tuple[int, ...] = (0,)
    reverse_student: str | None = None
    other_settings_temperatures: tuple[float, ...] | None = None
    teacher_learning_rate: float | None = None
    features: FeatureTier = field(default_factory=FeatureTier)
    notes: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        check_settings(self.settings)
        unknown = [m for m in self.methods if m not in METHODS]
        if unknown or not self.methods:
            raise ValueError(f"methods must be among {METHODS}, got {list(self.methods)}")
        if not self.seeds or not self.students:
            raise ValueError("a preset needs at least one seed and one student")
        if not all(0 < e < self.teacher_epochs for e in self.teacher_checkpoints) or \
                list(self.teacher_checkpoints) != sorted(set(self.teacher_checkpoints)):
            raise ValueError(f"teacher_checkpoints must be increasing epochs inside (0, teacher_epochs="
                             f"{self.teacher_epochs:g}), got {self.teacher_checkpoints!r}")
        if any(not (isinstance(s, (int, float)) and s > 0) or s == 1 for s in self.teacher_scales):
            raise ValueError(f"teacher_scales must be positive numbers other than 1, got {self.teacher_scales!r}")
        check_teacher_seeds(self.teacher_seeds)
        rungs = (*self.teacher_checkpoints, self.teacher_epochs)
        if self.temperature_rungs is not None and (not self.temperature_rungs or
                                                   any(e not in rungs for e in self.temperature_rungs)):
            raise ValueError(f"temperature_rungs must name rungs by their epochs, among {list(rungs)}, got "
                             f"{self.temperature_rungs!r}")
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
               "from the first and the last rung; one teacher run per rung; feature tier: both tasks (Rotten Tomatoes capped at 3,000 "
               "training and 600 validation/test texts), 5 seeds, all three KD settings, coarse sweeps"),
    ),
    "full": Preset(
        name="full", teacher="L6", students=("L1",), teacher_epochs=6, teacher_checkpoints=(1, 2, 3),
        student_epochs=4, train_subset=2000, max_length=64, batch_size=16, learning_rate=1e-3,
        teacher_learning_rate=2e-4, seeds=tuple(range(10)), teacher_seeds=(0, 1, 2), kd_temperatures=(4.0,),
        extreme_temperatures=(1.0,), temperature_rungs=(3, 6),
        tasks=("trec", "rotten_tomatoes"), settings=("standard", "self", "reverse"), reverse_student="L2",
        other_settings_temperatures=(1.0, 4.0),
        features=FeatureTier(
            student_layers=(2,), seeds=tuple(range(10)), teacher_seeds=(0, 1, 2),
            sweep_alphas=(0.0, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9, 1.0),
            sweep_temperatures=(1.0, 2.0, 3.0, 4.0, 6.0, 8.0), sweep_seeds=(0, 1, 2),
            inheritance_ls_alphas=(0.05, 0.1, 0.2, 0.3, 0.5), inheritance_epochs=(1, 2, 3, 5, 10),
            inheritance_scales=(0.25, 0.5, 0.75, 1.5, 2.0), inheritance_seeds=(0, 1, 2, 3, 4),
        ),
        notes=("both tasks fine-tuned on 2,000 training examples each (about 41% of TREC's 4,906, 19% of Rotten "
               "Tomatoes' 10,328), the classroom teacher ladder from three independent L6 runs (teacher seeds 0, 1, 2; "
               "the self and reverse teachers likewise three runs each), 10 student seeds, the paper's three KD "
               "settings fine-tuned: standard (the L6 ladder → L1, KD α=0.5 at τ = 4 from every rung and at τ = 1 "
               "from the finished run and the 3-of-6-epochs rung, the rung nearest the crossover in the earlier "
               "shipped TREC run), self (L1 → L1) and reverse (L1 → L2) at τ = 1 and 4, ERM and LS baselines for each "
               "student; KD comparisons read with the teacher run as a random effect; feature tier: 10 seeds, three "
               "teacher runs and fine grids. Its results ship in the kit (measured wall time in their provenance)"),
    ),
}


def get_preset(name: str | None = None) -> Preset:
    """The preset called ``name``, else ``$KDLS_PRESET``, else ``classroom``."""
    if name is None:
        name = current_settings().preset
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}")
    return PRESETS[name]


def preset_identity(preset: Preset) -> dict[str, str]:
    """What makes runs of two presets one experiment: the preset's name and a fingerprint of every budget except
    the seeds (the shares of a class differ only in their seeds) and the notes."""
    unseeded = preset.replace(seeds=(0,), features=dataclasses.replace(preset.features, seeds=(0,)))
    budgets = {k: v for k, v in dataclasses.asdict(unseeded).items() if k != "notes"}
    digest = hashlib.sha256(json.dumps(budgets, sort_keys=True, default=str).encode()).hexdigest()[:16]
    return {"name": preset.name, "fingerprint": digest}
