"""Presets and the two experiment grids (fine-tuning and feature tier)."""

import dataclasses

import pandas as pd
import pytest

from helpers.experiments import cli
from helpers.experiments.cli import main
from helpers.experiments.grid import feature_grid, main_grid, teacher_config, teacher_configs, teacher_ladder
from helpers.experiments.presets import PRESETS, SETTINGS, FeatureTier, Preset, get_preset
from helpers.learning.frozen_features import toy_feature_set
from helpers.learning.features import train_head
from helpers.learning.results import RESULT_COLUMNS, results_frame


def test_presets_state_what_they_trade_away():
    assert set(PRESETS) == {"smoke", "classroom", "full"}
    for preset in PRESETS.values():
        assert preset.notes and preset.features.seeds and len(preset.features.seeds) >= 2
    assert get_preset("full").features.seeds != get_preset("classroom").features.seeds


def test_the_smoke_grid_has_a_ladder_and_pairs_every_run_with_erm():
    preset = get_preset("smoke")
    grid = main_grid("trec", preset)
    teachers = teacher_configs("trec", preset)
    ladder = teacher_ladder("trec", preset)
    assert grid[:4] == teachers and teachers[-1] == teacher_config("trec", preset)
    assert [c.epochs for c in teachers] == [0.5, 1.0, 1.5, 2.0]
    assert [c.schedule_epochs for c in teachers] == [2.0, 2.0, 2.0, None]
    per_seed = [c for c in grid[4:] if c.seed == 0]
    assert [c.method for c in per_seed] == ["erm", "ls"] + ["kd"] * (len(ladder) + 2)
    assert [(c.teacher, c.temperature) for c in per_seed if c.method == "kd"] == [
        (teachers[0], 4.0), (teachers[0], 1.0), (teachers[1], 4.0), (teachers[2], 4.0), (teachers[3], 4.0),
        (teachers[3], 1.0)]
    assert {c.seed for c in grid[4:]} == set(preset.seeds)


def test_the_classroom_grid_has_five_seeds_and_a_ladder_of_four():
    preset = get_preset("classroom")
    grid = main_grid("trec", preset)
    assert len(preset.seeds) >= 5 and len(teacher_ladder("trec", preset)) >= 4
    for seed in preset.seeds:
        runs = [c for c in grid if c.seed == seed and c.student in preset.students]
        temperatures = {c.temperature for c in runs if c.method == "kd"}
        assert {"erm", "ls", "kd"} <= {c.method for c in runs} and temperatures == {1.0, 4.0}


def test_all_three_kd_settings_in_the_fine_tuning_grid():
    preset = dataclasses.replace(get_preset("smoke"), seeds=(0, 1), settings=SETTINGS, kd_temperatures=(1.0, 4.0),
                                 extreme_temperatures=(), teacher_checkpoints=(), teacher_scales=(), teacher_epochs=2)
    grid = main_grid("trec", preset)
    teacher = grid[0]
    kd = [c for c in grid if c.method == "kd"]
    standard = [c for c in kd if c.teacher == teacher]
    self_kd = [c for c in kd if c.teacher.student == c.student]
    reverse = [c for c in kd if c.student == preset.teacher]
    assert len(standard) == len(self_kd) == len(reverse) == 2 * 2  # seeds x temperatures
    assert all(c.teacher.seed == 0 and c.teacher.method == "erm" and c.teacher.epochs == preset.student_epochs for c in self_kd)
    assert all(c.teacher.student == "L1" and c.epochs == preset.student_epochs for c in reverse)
    reverse_baselines = [c for c in grid if c.student == preset.teacher and c.method in ("erm", "ls") and c != teacher]
    assert {(c.seed, c.method) for c in reverse_baselines} == {(0, "erm"), (1, "erm"), (0, "ls"), (1, "ls")}
    assert len(grid) == len(set(grid))
    bigger = main_grid("trec", preset.replace(reverse_student="L2"))
    assert {c.student for c in bigger if c.method == "kd" and c.teacher.student == "L1" and c.student != "L1"} == {"L2"}


@pytest.mark.parametrize("changes", [dict(teacher_checkpoints=(3,)), dict(teacher_checkpoints=(1, 0.5)),
                                     dict(teacher_scales=(1.0,)), dict(teacher_scales=(-2.0,))])
def test_bad_ladders_are_refused(changes):
    with pytest.raises(ValueError):
        get_preset("smoke").replace(**changes)


def test_feature_grid_mirrors_the_structure():
    tier = FeatureTier(student_layers=(1, 2), seeds=(0, 1, 2), kd_temperatures=(1.0, 4.0))
    preset = dataclasses.replace(get_preset("smoke"), features=tier)
    grid = feature_grid(preset)
    assert grid[0] == tier.teacher() and grid[0].epochs == tier.teacher_epochs
    kd = [c for c in grid if c.method == "kd"]
    assert len([c for c in kd if c.teacher == grid[0]]) == 2 * 3 * 2
    assert len([c for c in kd if c.teacher.layer == c.layer]) == 2 * 3 * 2
    assert len([c for c in kd if c.layer == tier.teacher_layer]) == 2 * 3 * 2
    assert all(c.epochs == tier.student_epochs for c in grid[1:])


def test_settings_are_validated():
    with pytest.raises(ValueError, match="settings"):
        FeatureTier(settings=("sideways",))
    with pytest.raises(ValueError, match="settings"):
        Preset(name="x", settings=("standard", "upside-down"))


def test_results_frame_marks_tier_and_role():
    data = toy_feature_set(per_class=10, dim=4)
    tier = FeatureTier(hidden=4, teacher_epochs=2, student_epochs=1)
    teacher, student = tier.teacher(), tier.student(1)
    records = [train_head(teacher, data), train_head(student, data)]
    frame = results_frame(records, teachers=(teacher,))
    assert list(frame.columns) == RESULT_COLUMNS
    assert list(frame["role"]) == ["teacher", "student"] and (frame["tier"] == "features").all()
    assert list(frame["student"]) == ["L6", "L1"]


@pytest.mark.parametrize("arguments, message", [
    (["--preset", ""], "unknown preset"),
    (["--alpha", "0.5,x"], "--alpha"),
    (["--alpha", "1.5"], "alpha"),
    (["--temperature", "0"], "temperature"),
    (["--seeds", "-1"], "seed"),
    (["--students", "L7"], "L7"),
    (["--methods", "kl"], "methods"),
])
def test_cli_rejects_bad_grids_before_training(arguments, message, capsys, monkeypatch):
    monkeypatch.setattr(cli, "run_grid", lambda *a, **k: pytest.fail("trained despite a bad argument"))
    with pytest.raises(SystemExit) as exited:
        main(["--preset", "smoke", *arguments] if arguments[0] != "--preset" else arguments)
    assert exited.value.code == 2 and message in capsys.readouterr().err


def test_cli_overrides_the_presets_grid_and_says_what_it_trains(tmp_path, capsys, monkeypatch):
    seen = {}

    def fake_run_grid(configs, progress=True):
        seen["grid"] = configs
        raise ValueError("stop here")

    monkeypatch.setattr(cli, "run_grid", fake_run_grid)
    with pytest.raises(SystemExit):
        main(["--preset", "smoke", "--methods", "kd", "--alpha", "0.3", "--temperature", "2,8", "--seeds", "5",
              "--students", "L1,L2", "--out", str(tmp_path)])
    grid = seen["grid"]
    students = [c for c in grid if c.seed == 5]
    assert {c.method for c in students} == {"erm", "kd"}
    assert {c.alpha for c in students if c.method == "kd"} == {0.3}
    assert {c.temperature for c in students if c.method == "kd"} == {2.0, 8.0}
    assert {c.student for c in students} == {"L1", "L2"}
    err = capsys.readouterr().err
    assert "task 'trec'" in err and "seeds 5" in err and "KD α ∈ {0.3} τ ∈ {2, 8}" in err


def test_cli_refuses_an_out_path_that_is_a_file(tmp_path, capsys):
    target = tmp_path / "results.csv"
    target.write_text("x")
    with pytest.raises(SystemExit):
        main(["--preset", "smoke", "--out", str(target)])
    assert "is a file" in capsys.readouterr().err


def test_a_config_validates_its_objective_once_and_carries_it(monkeypatch):
    from helpers.learning.features import HeadConfig
    from helpers.learning.finetune import TrainConfig
    from helpers.maths import losses

    calls = []
    checked = losses.validate_objective
    monkeypatch.setattr(losses, "validate_objective", lambda *args: calls.append(args) or checked(*args))
    teacher = TrainConfig(task="trec", student="L2")
    config = TrainConfig(task="trec", student="L1", method="kd", alpha=0.5, temperature=4, teacher=teacher)
    head = HeadConfig(method="ls", alpha=0.1)
    assert len(calls) == 3  # one per config built
    for each in (config, head):
        assert each.objective is each.objective and each.objective.alpha == each.alpha
    config.label(), config.teacher_label(), head.label()
    assert len(calls) == 3  # labels and the loss reuse the config's objective
    assert config.objective.temperature == 4.0 and isinstance(config.temperature, float)


def test_a_presets_bad_alpha_stops_its_grid():
    preset = get_preset("smoke").replace(ls_alphas=(1.5,))
    with pytest.raises(ValueError, match="alpha must be in"):
        main_grid("trec", preset)
    with pytest.raises(ValueError, match="temperature"):
        feature_grid(preset.replace(features=dataclasses.replace(preset.features, kd_temperatures=(0.0,))))
