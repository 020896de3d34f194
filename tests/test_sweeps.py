"""α/τ sweeps and teachers of controlled confidence on the feature tier (toy features)."""

import numpy as np
import pytest

from helpers.learning.frozen_features import toy_feature_set

from helpers.learning.features import HeadConfig, run_head
from helpers.maths.metrics import entropy
from helpers.maths.statistics import mean_ci
from helpers.experiments.sweeps import (
    alpha_temperature_configs,
    inheritance_frame,
    inheritance_points,
    kd_teacher_table,
    run_sweep,
    sweep_summary,
    sweep_table,
    teacher_confidence_teachers,
)

DATA = toy_feature_set(num_classes=3, per_class=40, dim=8, seed=2)
STUDENT = HeadConfig(layer=1, hidden=8, epochs=3, batch_size=32, learning_rate=5e-3)
TEACHER = HeadConfig(layer=6, hidden=8, epochs=20, batch_size=32, learning_rate=5e-3)


def test_alpha_temperature_configs_cover_the_grid():
    configs = alpha_temperature_configs(STUDENT, TEACHER, [0.0, 0.5], [1.0, 4.0, 8.0], seeds=[0, 1])
    assert len(configs) == 2 * (2 + 2 * 3)
    kd = [c for c in configs if c.method == "kd"]
    assert {(c.alpha, c.temperature) for c in kd} == {(a, t) for a in (0.0, 0.5) for t in (1.0, 4.0, 8.0)}
    assert all(c.teacher == TEACHER and c.epochs == STUDENT.epochs for c in kd)
    with pytest.raises(ValueError, match="ERM"):
        alpha_temperature_configs(STUDENT.replace(method="ls", alpha=0.1), TEACHER, [0.1], [1.0], [0])
    with pytest.raises(ValueError, match="alphas"):
        alpha_temperature_configs(STUDENT, TEACHER, [], [1.0], [0])


def test_sweep_summary_averages_seeds_and_alpha_zero_equals_erm():
    frame = run_sweep(alpha_temperature_configs(STUDENT, TEACHER, [0.0, 0.6], [2.0], seeds=[0, 1]), DATA, progress=False)
    summary = sweep_summary(frame)
    assert len(summary) == 4 and (summary["n"] == 2).all()
    erm = np.mean([run_head(STUDENT.replace(seed=s), DATA).metrics["entropy"] for s in (0, 1)])
    ls0 = summary[(summary["method"] == "ls") & (summary["alpha"] == 0.0)]["entropy"].item()
    assert ls0 == pytest.approx(erm, abs=1e-6)  # LS at α = 0 is ERM
    ls6 = summary[(summary["method"] == "ls") & (summary["alpha"] == 0.6)]["entropy"].item()
    assert ls6 > ls0


def test_teachers_of_controlled_confidence():
    teachers = teacher_confidence_teachers(TEACHER, ls_alphas=[0.2], epochs=[1, 5], scales=[0.5])
    assert [t.knob for t in teachers] == ["reference", "ls α", "epochs", "epochs", "logit scale"]
    assert teachers[1].head.method == "ls" and teachers[1].head.alpha == 0.2
    assert teachers[3].head.epochs == 5 and teachers[4].scale == 0.5 and teachers[4].head == TEACHER
    with pytest.raises(ValueError, match="ERM"):
        teacher_confidence_teachers(TEACHER.replace(method="ls", alpha=0.1))


def test_inheritance_frame_records_the_scaled_teachers_entropy():
    teachers = teacher_confidence_teachers(TEACHER, scales=[0.25])
    frame = inheritance_frame(DATA, STUDENT, teachers, alpha=0.9, temperature=1.0, seeds=[0, 1], progress=False)
    assert len(frame) == 2 * 2 + 2 and set(frame["knob"]) == {"reference", "logit scale", "none"}
    reference = entropy(run_head(TEACHER, DATA).logits["test"]).mean().item()
    scaled = entropy(run_head(TEACHER, DATA).logits["test"] * 0.25).mean().item()
    kd = frame[frame["method"] == "kd"]
    assert kd[kd["knob"] == "reference"]["teacher_entropy"].iloc[0] == pytest.approx(reference, abs=1e-6)
    assert kd[kd["knob"] == "logit scale"]["teacher_entropy"].iloc[0] == pytest.approx(scaled, abs=1e-6)
    points = inheritance_points(frame)
    assert len(points) == 2 and (points["n"] == 2).all()
    # the flatter teacher's students are less confident: inheritance on the toy task
    flat, sharp = points.set_index("knob").loc["logit scale"], points.set_index("knob").loc["reference"]
    assert flat["student_entropy"] > sharp["student_entropy"]
    # a rescaled teacher shares the training run of the teacher it rescales: not an independent teacher
    assert flat["training_run"] == sharp["training_run"] == TEACHER.label()
    # the paired interval: each KD student against the ERM student of its seed
    erm = frame[frame["method"] == "erm"].set_index("seed")["entropy"]
    students = kd[kd["knob"] == "logit scale"].set_index("seed")["entropy"]
    paired = mean_ci(students - erm.loc[students.index])
    assert flat["difference"] == pytest.approx(paired.mean) and flat["student_entropy_paired_ci"] == pytest.approx(paired.half)
    with pytest.raises(ValueError, match="no KD rows"):
        inheritance_points(frame[frame["method"] != "kd"])


def test_sweep_table_has_one_column_per_curve():
    frame = run_sweep(alpha_temperature_configs(STUDENT, TEACHER, [0.0, 0.5], [1.0, 4.0], seeds=[0]), DATA, progress=False)
    table = sweep_table(sweep_summary(frame), "entropy")
    assert list(table.columns) == ["LS", "KD τ=1", "KD τ=4"] and list(table.index) == [0.0, 0.5]
    assert table.loc[0.0, "LS"] == pytest.approx(table.loc[0.0, "KD τ=4"])  # α = 0: both are ERM
    with pytest.raises(ValueError, match="no column"):
        sweep_table(sweep_summary(frame), "loss")


def test_kd_teacher_table_predicts_the_direction_from_the_teachers_confidence():
    flat = STUDENT.replace(method="kd", alpha=0.9, temperature=1.0, teacher=TEACHER, teacher_logit_scale=0.02)
    records = [run_head(c, DATA) for c in (TEACHER, STUDENT, flat)]
    table = kd_teacher_table(records)
    assert len(table) == 1
    row = table.iloc[0]
    # the prediction's inputs are validation entropies (the split the verdicts do not use), logit scale applied
    expected = entropy(run_head(TEACHER, DATA).logits["validation"] * 0.02).mean().item()
    assert row["teacher_val_entropy"] == pytest.approx(expected)
    assert row["erm_val_entropy"] == pytest.approx(entropy(records[1].logits["validation"]).mean().item())
    assert row["teacher_minus_erm"] > 0 and row["kd_minus_erm"] > 0 and row["agrees"]
    with pytest.raises(ValueError, match="no KD run"):
        kd_teacher_table(records[:2])


# ------------------------------------------------------------------ fine-tuned inheritance, teachers, agreement

from helpers.maths.regression import fit_line  # noqa: E402
from helpers.experiments.sweeps import finetune_inheritance_frame, kd_agreement_summary, teacher_frame  # noqa: E402

EARLY = TEACHER.replace(epochs=1)


def _grid_records(seeds=(0, 1, 2), teachers=(TEACHER, EARLY), scales=()):
    """A main_grid-shaped list of records (feature-tier heads stand in for fine-tuned runs: same interface)."""
    configs = list(teachers)
    for seed in seeds:
        base = STUDENT.replace(seed=seed)
        configs.append(base)
        configs.append(base.replace(method="ls", alpha=0.1))
        for teacher in teachers:
            for tau in (1.0, 4.0):
                configs.append(base.replace(method="kd", alpha=0.5, temperature=tau, teacher=teacher))
        configs += [base.replace(method="kd", alpha=0.5, temperature=4.0, teacher=TEACHER, teacher_logit_scale=s)
                    for s in scales]
    return [run_head(c, DATA) for c in configs]


def test_finetune_inheritance_frame_gives_one_point_per_teacher_even_with_two_teachers():
    records = _grid_records()
    frame = finetune_inheritance_frame(records, temperature=4.0)
    kd, erm = frame[frame["method"] == "kd"], frame[frame["method"] == "erm"]
    assert len(kd) == 2 * 3 and len(erm) == 3 and set(erm["knob"]) == {"none"}
    assert set(kd["temperature"]) == {4.0} and set(kd["label"]) == {"L6 (20 epochs)", "L6 (1 epoch)"}
    early = entropy(run_head(EARLY, DATA).logits["test"]).mean().item()
    assert kd[kd["label"] == "L6 (1 epoch)"]["teacher_entropy"].iloc[0] == pytest.approx(early, abs=1e-6)
    points = inheritance_points(frame)
    # seeds that share a teacher run are averaged (not fitted as independent points): two teachers, two points
    assert len(points) == 2 and (points["n"] == 3).all()
    one = kd[kd["label"] == "L6 (1 epoch)"]["entropy"].mean()
    assert points.set_index("teacher").loc["L6 (1 epoch)", "student_entropy"] == pytest.approx(one)
    from helpers.reporting.inheritance import inheritance_fit

    assert inheritance_fit(points, erm["entropy"].mean()).fit is None  # two teachers: no slope, no r


def test_finetune_inheritance_frame_averages_seeds_with_three_or_more_teachers():
    records = _grid_records(seeds=(0, 1), scales=(0.5,))
    frame = finetune_inheritance_frame(records, temperature=4.0)
    points = inheritance_points(frame)
    assert len(points) == 3 and (points["n"] == 2).all()
    scaled = points[points["knob"] == "logit scale"].iloc[0]
    expected = entropy(run_head(TEACHER, DATA).logits["test"] * 0.5).mean().item()
    assert scaled["teacher_entropy"] == pytest.approx(expected, abs=1e-6) and scaled["label"] == "L6 (20 epochs, logits ×0.5)"
    assert len(inheritance_points(finetune_inheritance_frame(records, temperature=4.0, per_seed=True))) == 6


def test_finetune_inheritance_frame_refuses_what_it_cannot_build():
    records = _grid_records(seeds=(0,))
    with pytest.raises(ValueError, match="no standard-KD run at τ=8"):
        finetune_inheritance_frame(records, temperature=8.0)
    with pytest.raises(ValueError, match="no standard-KD run"):
        finetune_inheritance_frame([r for r in records if r.config not in (TEACHER, EARLY)], temperature=4.0)
    other = [run_head(c.replace(layer=2), DATA) for c in (STUDENT, STUDENT.replace(method="kd", alpha=0.5, temperature=4.0,
                                                                                   teacher=TEACHER))]
    with pytest.raises(ValueError, match="several student"):
        finetune_inheritance_frame(records + other, temperature=4.0)
    assert set(finetune_inheritance_frame(records + other, 4.0, student="L2")["student"]) == {"L2"}


def test_teacher_frame_lists_each_teacher_as_its_students_see_it():
    records = _grid_records(seeds=(0,), scales=(2.0,))
    table = teacher_frame(records)
    assert list(table["teacher"]) == ["L6 (20 epochs)", "L6 (1 epoch)", "L6 (20 epochs, logits ×2)"]
    sharp = entropy(run_head(TEACHER, DATA).logits["test"] * 2.0).mean().item()
    assert table["teacher_entropy"].iloc[2] == pytest.approx(sharp, abs=1e-6) and set(table["tier"]) == {"features"}


def test_kd_agreement_summary_counts_seeds_instead_of_averaging_booleans():
    table = kd_teacher_table(_grid_records())
    summary = kd_agreement_summary(table)
    assert len(summary) == 4 and "agrees" not in summary.columns and "tier" in summary.columns
    for _, row in summary.iterrows():
        part = table[(table["teacher"] == row["teacher"]) & (table["temperature"] == row["temperature"])]
        assert row["moved towards teacher"] == f"{int(part['agrees'].sum())} of 3 seeds"
    with pytest.raises(ValueError, match="kd_teacher_table"):
        kd_agreement_summary(table.drop(columns="agrees"))


def test_sweep_summary_has_the_seed_range():
    frame = run_sweep(alpha_temperature_configs(STUDENT, TEACHER, [0.0, 0.6], [2.0], seeds=[0, 1]), DATA, progress=False)
    summary = sweep_summary(frame)
    ls = frame[(frame["method"] == "ls") & (frame["alpha"] == 0.6)]["accuracy"]
    row = summary[(summary["method"] == "ls") & (summary["alpha"] == 0.6)].iloc[0]
    assert (row["accuracy_min"], row["accuracy_max"]) == pytest.approx((ls.min(), ls.max()))


def test_a_teacher_erm_run_never_enters_the_erm_baseline_of_kd_expectations():
    """The L6 teacher head (its own 20-epoch recipe) is an ERM run of model 'L6', like the reverse-KD L6 students; it
    must not be pooled into their baseline. Seed-0 students that also teach (self KD) stay in it: they are students."""
    import torch
    from helpers.experiments.sweeps import kd_expectations
    from helpers.learning.features import HeadConfig, HeadRecord
    from helpers.maths.metrics import entropy

    def record(config, confidence):  # validation logits whose entropy falls as confidence rises
        logits = torch.tensor([[confidence, 0.0, 0.0]] * 4)
        metrics = dict.fromkeys(("accuracy", "entropy", "max_prob", "nll", "ece"), 0.0)
        return HeadRecord(config=config, task="toy", metrics=metrics, validation_metrics=metrics,
                          logits={"validation": logits, "test": logits, "train": logits},
                          labels={s: torch.zeros(4, dtype=torch.long) for s in ("validation", "test", "train")})

    teacher = HeadConfig(layer=6, epochs=20)
    small = HeadConfig(layer=1, epochs=5, seed=0)
    students = [HeadConfig(layer=6, epochs=5, seed=s) for s in (0, 1)]
    kd = students[0].replace(method="kd", alpha=0.5, temperature=4.0, teacher=small)
    records = [record(teacher, 9.0), record(small, 1.0), *(record(c, 2.0) for c in students), record(kd, 1.0)]
    expected = float(entropy(records[2].logits["validation"]).mean())
    row = kd_expectations(records).set_index("teacher").iloc[0]
    assert row["n"] == 2  # the two L6 students, not the teacher head
    assert row["teacher_val_accuracy"] == 0.0  # the teacher's validation accuracy: the paper's-setting criterion
    assert row["erm_entropy"] == pytest.approx(expected)
