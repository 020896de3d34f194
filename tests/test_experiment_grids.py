"""Presets and the two experiment grids (fine-tuning and feature tier)."""

import dataclasses

import pandas as pd
import pytest

from helpers.experiments import (
    PRESETS,
    RESULT_COLUMNS,
    SETTINGS,
    FeatureTier,
    Preset,
    feature_grid,
    get_preset,
    main_grid,
    results_frame,
    teacher_config,
)
from helpers.features import toy_feature_set, train_head


def test_presets_state_what_they_trade_away():
    assert set(PRESETS) == {"smoke", "classroom", "full"}
    for preset in PRESETS.values():
        assert preset.notes and preset.features.seeds and len(preset.features.seeds) >= 2
    assert get_preset("full").features.seeds != get_preset("classroom").features.seeds


def test_the_smoke_grid_keeps_its_shape():
    grid = main_grid("trec", get_preset("smoke"))
    assert [c.method for c in grid] == ["erm", "erm", "ls", "kd"]
    assert grid[0] == teacher_config("trec", get_preset("smoke")) and grid[3].teacher == grid[0]


def test_all_three_kd_settings_in_the_fine_tuning_grid():
    preset = dataclasses.replace(get_preset("smoke"), seeds=(0, 1), settings=SETTINGS, kd_temperatures=(1.0, 4.0), teacher_epochs=2)
    grid = main_grid("trec", preset)
    teacher = grid[0]
    kd = [c for c in grid if c.method == "kd"]
    standard = [c for c in kd if c.teacher == teacher]
    self_kd = [c for c in kd if c.teacher.student == c.student]
    reverse = [c for c in kd if c.student == preset.teacher]
    assert len(standard) == len(self_kd) == len(reverse) == 2 * 2  # seeds x temperatures
    assert all(c.teacher.seed == 0 and c.teacher.method == "erm" and c.teacher.epochs == preset.student_epochs for c in self_kd)
    assert all(c.teacher.student == "L1" and c.epochs == preset.student_epochs for c in reverse)
    reverse_baselines = [c for c in grid if c.student == preset.teacher and c.method == "erm" and c != teacher]
    assert {c.seed for c in reverse_baselines} == {0, 1}
    assert len(grid) == len(set(grid))


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
    plain = results_frame(records)
    assert list(plain.columns) == RESULT_COLUMNS
    marked = results_frame(records, tier="features", teachers=(teacher,))
    assert list(marked.columns) == RESULT_COLUMNS + ["tier", "role"]
    assert list(marked["role"]) == ["teacher", "student"] and (marked["tier"] == "features").all()
    pd.testing.assert_frame_equal(marked[RESULT_COLUMNS], plain)
