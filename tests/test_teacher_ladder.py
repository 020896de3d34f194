"""The teacher ladder: checkpoints of one run, their spelling, and the grids built on them."""

import pytest
import torch

from helpers.learning import cache
from helpers.experiments.grid import main_grid, rung_label, teacher_configs, teacher_ladder
from helpers.experiments.presets import PRESETS
from helpers.experiments.runner import run_grid
from helpers.learning.finetune import TrainConfig, run_with_checkpoints, train

TINY = dict(task="trec", student="L1", train_subset=96, eval_subset=48, max_length=24, batch_size=16, learning_rate=5e-4)


@pytest.fixture()
def isolated_runs(tmp_path, monkeypatch):
    monkeypatch.setattr(cache, "runs_dir", lambda: tmp_path)
    return tmp_path


@pytest.mark.slow
def test_a_checkpoint_taken_inside_a_run_equals_training_its_config_alone(isolated_runs):
    whole = TrainConfig(epochs=2, **TINY)
    record, (checkpoint,) = train(whole, progress=False, checkpoints=(1,))
    assert checkpoint.config == whole.replace(epochs=1, schedule_epochs=2)
    alone = train(checkpoint.config, progress=False)
    for split in ("train", "validation", "test"):
        assert torch.allclose(checkpoint.logits[split], alone.logits[split], atol=1e-5)
    assert checkpoint.info["steps"] == alone.info["steps"] == record.info["steps"] // 2
    # a checkpoint is not the whole run of the same length: the learning-rate schedule differs
    short_run = train(whole.replace(epochs=1), progress=False)
    assert not torch.allclose(short_run.logits["test"], checkpoint.logits["test"], atol=1e-4)


def test_run_with_checkpoints_trains_once_and_serves_every_rung_from_the_cache(isolated_runs, monkeypatch):
    whole = TrainConfig(epochs=2, **TINY)
    first = run_with_checkpoints(whole, (1,), progress=False)
    monkeypatch.setattr("helpers.learning.finetune.train", lambda *a, **k: pytest.fail("trained again"))
    second = run_with_checkpoints(whole, (1,), progress=False)
    assert [r.config for r in first] == [r.config for r in second] == [whole.replace(epochs=1, schedule_epochs=2), whole]
    assert all(torch.equal(a.test_logits, b.test_logits) for a, b in zip(first, second))


@pytest.mark.parametrize("changes, match", [
    (dict(epochs=2, schedule_epochs=1), "schedule_epochs"),
    (dict(epochs=1, schedule_epochs=float("nan")), "schedule_epochs"),
])
def test_a_checkpoint_must_lie_inside_its_run(changes, match):
    with pytest.raises(ValueError, match=match):
        TrainConfig(**{**TINY, **changes})


def test_a_whole_run_has_one_spelling():
    assert TrainConfig(epochs=2, schedule_epochs=2, **TINY) == TrainConfig(epochs=2, **TINY)
    assert TrainConfig(epochs=2, schedule_epochs=2, **TINY).key() == TrainConfig(epochs=2, **TINY).key()


def test_checkpoints_outside_the_run_are_refused():
    with pytest.raises(ValueError, match="checkpoints"):
        train(TrainConfig(epochs=1, **TINY), progress=False, checkpoints=(1,))


def test_logit_scales_add_rungs_without_training():
    preset = PRESETS["smoke"].replace(teacher_scales=(2.0,))
    ladder = teacher_ladder("trec", preset)
    assert ladder[-1] == (teacher_configs("trec", preset)[-1], 2.0) and rung_label(*ladder[-1]) == "L2 (2 epochs, logits ×2)"


def test_the_classroom_ladder_has_four_rungs_from_one_teacher_run_and_says_so():
    preset = PRESETS["classroom"]
    ladder = teacher_ladder("trec", preset)
    assert [rung_label(c, s) for c, s in ladder] == ["L6 (1 of 6 epochs)", "L6 (2 of 6 epochs)", "L6 (3 of 6 epochs)",
                                                    "L6 (6 epochs)"]
    runs = teacher_configs("trec", preset)
    assert {c.replace(epochs=c.schedule_epochs or c.epochs) for c in runs} == {runs[-1]}  # one training
    grid = main_grid("trec", preset)
    students = [c for c in grid if c not in runs]
    assert len(students) == 5 * 8  # ERM, LS, τ=4 from 4 rungs, τ=1 from the 2 extremes, for 5 seeds
    kd = [c for c in students if c.method == "kd"]
    tau1 = {(c.teacher, c.teacher_logit_scale) for c in kd if c.temperature == 1.0}
    assert tau1 == {ladder[0], ladder[-1]}
    assert {(c.teacher, c.teacher_logit_scale) for c in kd if c.temperature == 4.0} == set(ladder)


@pytest.mark.slow
def test_run_grid_makes_a_ladder_with_one_teacher_training(isolated_runs, monkeypatch):
    preset = PRESETS["smoke"].replace(seeds=(0,), methods=("erm",))
    calls = []
    import helpers.learning.finetune as training
    real = training.train

    def counting(config, *args, **kwargs):
        calls.append((config, kwargs.get("checkpoints", ())))
        return real(config, *args, **kwargs)

    monkeypatch.setattr(training, "train", counting)
    records = run_grid(main_grid("trec", preset), progress=False)
    teacher_trainings = [c for c, _ in calls if c.student == preset.teacher]
    assert teacher_trainings == [teacher_configs("trec", preset)[-1]]
    assert [r.config for r in records[:4]] == teacher_configs("trec", preset)


def test_integer_and_float_epochs_are_one_run():
    assert TrainConfig(epochs=2, **TINY).key() == TrainConfig(epochs=2.0, **TINY).key()
    assert TrainConfig(epochs=1, schedule_epochs=2, **TINY).key() == TrainConfig(epochs=1.0, schedule_epochs=2.0, **TINY).key()


def test_only_erm_runs_which_may_teach_are_evaluated_on_the_training_split(isolated_runs):
    teacher = TrainConfig(epochs=1, **TINY)
    erm = train(teacher, progress=False)
    ls = train(teacher.replace(method="ls", alpha=0.1), progress=False)
    assert set(erm.logits) == {"train", "validation", "test"} and set(ls.logits) == {"validation", "test"}
    assert ls.metrics and ls.validation_metrics


# ----------------------------------------------------------------------------- teacher seeds: independent teacher runs


def test_teacher_seeds_give_every_rung_and_the_self_and_reverse_teachers_independent_runs():
    from helpers.learning.results import parse_teacher_label

    preset = PRESETS["smoke"].replace(teacher_seeds=(0, 1), settings=("standard", "self", "reverse"), reverse_student="L2",
                                      teacher="L3")
    runs = teacher_configs("trec", preset)
    assert len(runs) == 2 * 4 and {c.seed for c in runs} == {0, 1}
    assert {c.replace(epochs=c.schedule_epochs or c.epochs) for c in runs} == {runs[3], runs[7]}  # two trainings
    labels = [rung_label(c, s) for c, s in teacher_ladder("trec", preset)]
    assert labels[:4] == ["L3 (0.5 of 2 epochs)", "L3 (1 of 2 epochs)", "L3 (1.5 of 2 epochs)", "L3 (2 epochs)"]
    assert labels[4:] == [f"{label[:-1]}, seed 1)" for label in labels[:4]]  # seed 0 keeps the plain spelling
    assert [parse_teacher_label(label).setting for label in labels[4:]] == labels[:4]
    grid = main_grid("trec", preset)
    kd = [c for c in grid if c.method == "kd"]
    for seed in preset.seeds:  # every run of every rung has its own KD students, crossed with the same student seeds
        standard = {c.teacher_label() for c in kd if c.seed == seed and c.student == "L1" and c.teacher.student == "L3"}
        assert standard == set(labels)
        own = {c.teacher.seed for c in kd if c.seed == seed and c.student == "L1" and c.teacher.student == "L1"}
        big = {c.teacher.seed for c in kd if c.seed == seed and c.student == "L2"}
        assert own == big == {0, 1}  # self and reverse: the small ERM model of each teacher seed
    self_labels = {c.teacher_label() for c in kd if c.teacher.student == "L1"}
    assert self_labels == {"L1 (1 epoch)", "L1 (1 epoch, seed 1)"}
    assert all(c.teacher in grid for c in kd)  # every teacher run is trained


def test_the_default_keeps_one_teacher_run_and_the_classroom_grid():
    preset = PRESETS["classroom"]
    assert preset.teacher_seeds == (0,) and preset.features.teacher_seeds == (0,)
    assert all(c.seed == 0 for c in teacher_configs("trec", preset))
    assert all("seed" not in c.teacher_label() for c in main_grid("trec", preset) if c.method == "kd")


@pytest.mark.parametrize("changes, match", [
    (dict(teacher_seeds=()), "teacher_seeds"), (dict(teacher_seeds=(0, 0)), "teacher_seeds"),
    (dict(teacher_seeds=(-1,)), "teacher_seeds"), (dict(temperature_rungs=(5,)), "temperature_rungs"),
    (dict(temperature_rungs=()), "temperature_rungs"),
])
def test_bad_teacher_seeds_and_temperature_rungs_are_refused(changes, match):
    with pytest.raises(ValueError, match=match):
        PRESETS["classroom"].replace(**changes)


def test_temperature_rungs_choose_which_rungs_get_the_extra_temperatures():
    preset = PRESETS["classroom"].replace(temperature_rungs=(3, 6))
    kd = [c for c in main_grid("trec", preset) if c.method == "kd"]
    assert {c.teacher_label() for c in kd if c.temperature == 1.0} == {"L6 (3 of 6 epochs)", "L6 (6 epochs)"}
    assert len({c.teacher_label() for c in kd if c.temperature == 4.0}) == 4


def test_the_full_preset_has_three_teacher_runs_ten_seeds_two_temperatures_and_two_thousand_examples():
    preset = PRESETS["full"]
    assert len(preset.teacher_seeds) >= 3 and len(preset.features.teacher_seeds) >= 3
    assert len(preset.seeds) >= 10 and preset.train_subset >= 2000 and preset.reverse_student == "L2"
    for task in preset.tasks:
        kd = [c for c in main_grid(task, preset) if c.method == "kd"]
        rungs = {(c.teacher_label(), c.temperature) for c in kd}
        for seed in preset.teacher_seeds:
            spelled = "" if seed == 0 else f", seed {seed}"
            for rung in (f"L6 (6 epochs{spelled})", f"L6 (3 of 6 epochs{spelled})"):  # converged, nearest the crossover
                assert {(rung, 1.0), (rung, 4.0)} <= rungs
            for small in (f"L1 (4 epochs{spelled})",):  # the self and reverse teachers, every run, both temperatures
                assert {(small, 1.0), (small, 4.0)} <= rungs
        l2 = {c.seed for c in main_grid(task, preset) if c.student == "L2" and c.method == "erm"}
        assert len(l2) >= 10


def test_every_feature_teacher_head_is_a_teacher_not_a_student():
    from helpers.experiments.grid import feature_grid, feature_teachers

    preset = PRESETS["smoke"].replace(features=PRESETS["smoke"].features.__class__(
        **{**PRESETS["smoke"].features.__dict__, "teacher_seeds": (0, 1)}))
    teachers = feature_teachers(preset)
    grid = feature_grid(preset)
    assert [t.seed for t in teachers] == [0, 1] and grid[:2] == teachers
    kd = [c for c in grid if c.method == "kd"]
    assert {c.teacher_label() for c in kd if c.teacher in teachers} == {"L6 (5 epochs)", "L6 (5 epochs, seed 1)"}
