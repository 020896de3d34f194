"""The verdicts and their sentences, on constructed data that breaks each rule (helpers.reporting.verdicts, helpers.maths.hypotheses)."""

import math

import numpy as np
import pandas as pd
import pytest

from helpers.reporting.verdicts import (
    MIN_TEACHERS_FOR_FIT,
    band_text,
    claim_a_markdown,
    claim_a_text,
    expectation_markdown,
    findings_markdown,
    inheritance_check,
    inheritance_check_markdown,
    inheritance_fit,
    inheritance_text,
    knob_text,
    main_table,
    negligible_text,
    shipped_summary,
    statistics_primer,
    sweep_text,
    teacher_quality_text,
    tightness_text,
    verdict_markdown,
    verdict_table,
    virtual_teacher_text,
)
from helpers.maths.hypotheses import judge, kd_expectation, kd_setting, kit_expectation, model_size, paper_expectation
from helpers.maths.statistics import format_ci, mean_ci

SHARP, FLAT = "L6 (6 epochs)", "L6 (1 of 6 epochs)"


def _two_teachers(kd_from_sharp=-0.1, kd_from_flat=+0.1, ls=0.3, seeds=(0.0, 0.01, -0.01)):
    """Fine-tuned tier: ERM 0.30, LS +ls; KD (τ=4) from a sharp teacher and a flat one, per seed."""
    rows = []
    for seed, noise in enumerate(seeds):
        common = dict(tier="finetune", task="trec", role="student", student="L1", seed=seed, accuracy=0.9, max_prob=0.9,
                      nll=0.3, ece=0.03, train_seconds=1.0)
        base = 0.30 + noise
        rows += [{**common, "teacher": "", "method": "erm", "alpha": 0.0, "temperature": "", "entropy": base},
                 {**common, "teacher": "", "method": "ls", "alpha": 0.1, "temperature": "", "entropy": base + ls + noise},
                 {**common, "teacher": SHARP, "method": "kd", "alpha": 0.5, "temperature": 4.0,
                  "entropy": base + kd_from_sharp + noise / 2},
                 {**common, "teacher": FLAT, "method": "kd", "alpha": 0.5, "temperature": 4.0,
                  "entropy": base + kd_from_flat + noise / 2}]
    return pd.DataFrame(rows)


# validation entropies: the sharp teacher below the ERM student's, the flat one above
EXPECT = pd.DataFrame({"tier": ["finetune"] * 2, "task": ["trec"] * 2, "student": ["L1"] * 2, "teacher": [SHARP, FLAT],
                       "teacher_entropy": [0.05, 0.9], "erm_entropy": [0.32, 0.32], "erm_ci": [0.02, 0.02], "n": [3, 3]})


def _by_teacher(verdicts):
    return {(r.method, r.teacher): r for r in verdicts.itertuples()}


# ------------------------------------------------------------------------- the hypotheses


@pytest.mark.parametrize("student, teacher, expected", [
    ("L2", "L6", "standard"), ("L2-head", "L6-head[40 ep]", "standard"), ("L2", "L2", "self"),
    ("L6-head", "L2-head", "reverse"), ("L2-head", "virtual(a=0.99)", "other"), ("scratch", "L6", "other"),
    ("L1", "L6 (2 of 6 epochs)", "standard"),
])
def test_kd_setting(student, teacher, expected):
    assert kd_setting(student, teacher) == expected
    assert model_size("L6-head[ls α=0.1]") == 6 and model_size("scratch") is None


def test_the_kits_prediction_follows_the_teacher_and_the_papers_follows_the_setting():
    assert kd_expectation(0.05, 0.3) == "down" and kd_expectation(0.9, 0.3) == "up"
    assert kd_expectation(0.305, 0.3) is None and kd_expectation(float("nan"), 0.3) is None
    assert kit_expectation("ls") == "up" and kit_expectation("kd") is None and kit_expectation("erm") is None
    assert [paper_expectation("kd", s) for s in ("standard", "self", "reverse", "other")] == ["down", "down", "up", None]
    assert paper_expectation("ls") == "up"


@pytest.mark.parametrize("observed, expected, verdict", [
    ("up", "up", "as predicted"), ("down", "up", "opposite"), ("up-small", "up", "small"),
    ("down-small", "up", "opposite-small"), ("negligible", "down", "no change"), ("unclear", "down", "not confirmed"),
    ("up?", "up", "not testable"), ("down", None, "not testable"),
])
def test_judge(observed, expected, verdict):
    assert judge(observed, expected) == verdict


# ------------------------------------------------------------------------- verdicts


def test_kd_from_a_less_confident_teacher_raising_entropy_is_as_predicted_not_the_opposite_of_the_paper():
    verdicts = verdict_table(_two_teachers(), EXPECT)
    by = _by_teacher(verdicts)
    flat, sharp = by[("kd", FLAT)], by[("kd", SHARP)]
    assert flat.direction == "up" and flat.expected == "up" and flat.kit == "as predicted"
    assert flat.paper_expected == "down" and flat.paper == "opposite"  # beside it, the paper's standard-KD statement
    assert sharp.direction == "down" and sharp.kit == "as predicted" and sharp.paper == "as predicted"
    assert flat.claim_a.startswith("same direction") and sharp.claim_a.startswith("opposite directions")
    text = verdict_markdown(verdicts)
    assert f"KD α=0.5 τ=4 ← {FLAT}: raised the entropy" in text
    assert "prediction *up* (teacher 0.900 > ERM 0.320 nats on validation): as predicted" in text
    assert "paper (standard KD lowers it): **the opposite of the paper's statement**" in text
    assert f"KD α=0.5 τ=4 ← {SHARP}: lowered the entropy" in text and "paper (standard KD lowers it): as the paper says" in text


def test_reverse_kd_raising_entropy_agrees_with_the_paper():
    runs = _two_teachers()
    runs.loc[runs["teacher"] == FLAT, "teacher"] = "L0 (tiny)"  # a smaller teacher: reverse KD
    runs = runs.replace({"student": {"L1": "L2"}})
    runs.loc[runs["teacher"] == "L0 (tiny)", "teacher"] = "L1"
    verdicts = verdict_table(runs)
    reverse = _by_teacher(verdicts)[("kd", "L1")]
    assert reverse.setting == "reverse" and reverse.paper_expected == "up" and reverse.paper == "as predicted"
    assert reverse.kit == "not testable"  # no validation entropies given: no teacher-aware prediction, never "contradicts"


def test_a_missing_ls_partner_makes_claim_a_not_testable_never_contradicted():
    no_ls = _two_teachers()[lambda f: f["method"] != "ls"]
    verdicts = verdict_table(no_ls, EXPECT)
    assert set(verdicts["claim_a"]) == {"not testable: no LS comparison with an interval for this student"}
    text = claim_a_markdown(verdicts)
    assert "Claim (a) is **not testable** here" in text and "contradict" not in text


def test_one_seed_is_not_testable():
    one = _two_teachers()[lambda f: f["seed"] == 0]
    verdicts = verdict_table(one, EXPECT)
    assert set(verdicts["direction"]) <= {"up?", "down?"} and set(verdicts["kit"]) == {"not testable"}
    assert "With one seed these are signs" in claim_a_markdown(verdicts)


def test_an_interval_that_excludes_zero_inside_the_band_is_small_not_the_opposite():
    # LS changes entropy by +0.007 [+0.003, +0.011]: the interval excludes 0 and straddles the band's edge, the
    # point estimate lies inside the ±0.01 band — real, but too small to matter
    runs = _two_teachers(ls=0.007, seeds=(0.0, 0.0015, -0.0015))
    ls = _by_teacher(verdict_table(runs, EXPECT))[("ls", "")]
    assert 0 < ls.low < 0.01 < ls.high and ls.difference < 0.01 and ls.direction == "up-small" and ls.kit == "small"
    inside = _by_teacher(verdict_table(_two_teachers(ls=0.007, seeds=(0.0, 0.0004, -0.0004)), EXPECT))[("ls", "")]
    assert inside.high < 0.01 and inside.direction == "negligible" and inside.kit == "no change"
    assert "raised, by less than the negligible band," in verdict_markdown(verdict_table(runs, EXPECT))


def test_claim_a_is_counted_by_the_teachers_side_and_the_family_is_read_with_holm():
    verdicts = verdict_table(_two_teachers(), EXPECT)
    text = claim_a_markdown(verdicts)
    assert "opposite in 1 of 2 KD comparisons with an LS partner, the same direction in 1" in text
    assert "with a teacher more confident than the ERM student: opposite in 1 of 1" in text
    assert "with a teacher less confident than the ERM student: opposite in 0 of 1, the same direction in 1" in text
    assert "as predicted: 2" in text and "Holm's correction" in text and "per-seed KD differences went the predicted way" in text
    assert (verdicts["holm_p"] >= verdicts["p"]).all()
    # a noisy comparison that passes alone but not as one of a family: Holm marks it with a dagger
    noisy = _two_teachers(kd_from_flat=0.02, seeds=(0.0, 0.012, -0.01))
    flat = _by_teacher(verdict_table(noisy, EXPECT))[("kd", FLAT)]
    assert flat.p < 0.05 or flat.direction == "unclear"


def test_inheritance_check_counts_moves_towards_the_teacher():
    check = inheritance_check(verdict_table(_two_teachers(), EXPECT))
    assert list(check["matches"]) == [True, True]
    text = inheritance_check_markdown(check)
    assert "towards its teacher's** in 2 of 2" in text and "as claim (b) says" in text
    away = inheritance_check_markdown(inheritance_check(verdict_table(_two_teachers(0.1, -0.1), EXPECT)))
    assert "in 0 of 2" in away and "contradict claim (b)" in away
    flat = inheritance_check_markdown(inheritance_check(verdict_table(_two_teachers(0.0, 0.0), EXPECT)))
    assert "none of the 2 KD comparisons" in flat and "cannot be judged" in flat


def test_expectation_markdown_and_findings():
    text = expectation_markdown(EXPECT)
    assert f"{SHARP} 0.050 (more confident: predicts *lowered*)" in text and "predicts *raised*" in text
    findings = findings_markdown({"fine-tuned tier (classroom, live)": verdict_table(_two_teachers(), EXPECT)})
    assert findings.startswith("**fine-tuned tier (classroom, live)**") and "claim (b)" in findings
    with pytest.raises(ValueError):
        findings_markdown({})
    assert "KD α=0.5 τ=4" in claim_a_text(verdict_table(_two_teachers(), EXPECT))


def test_negligible_text_and_the_primer_compute_their_numbers():
    assert "±0.01 nats" in negligible_text() and "Holm" in negligible_text()
    primer = statistics_primer()
    assert "n = 3: t = 4.303" in primer and "n = 5: t = 2.776" in primer


def test_main_table_formats_mean_and_half_width():
    table = main_table(_two_teachers())
    row = table[table["method"] == "erm"].iloc[0]
    expected = mean_ci(0.3 + np.array([0.0, 0.01, -0.01]))
    assert row["entropy"] == format_ci(expected.mean, expected.half) and row["n"] == 3


# ------------------------------------------------------------------------- inheritance fits


def _points(x, y):
    return pd.DataFrame({"teacher": [f"T{i}" for i in range(len(x))], "teacher_entropy": x, "student_entropy": y})


def test_two_clusters_get_no_slope_r_or_crossover():
    # 6 students of two teachers: any line through two clusters has |r| = 1 — so fit teacher means, and refuse
    result = inheritance_fit(_points([0.17, 1.23], [0.25, 0.9]), erm_entropy=0.24)
    assert result.fit is None and "only 2 distinct teachers" in result.reason
    text = inheritance_text(result, "fine-tuned tier, trec, L1 students, KD α=0.5 τ=4")
    assert "no line is fitted" in text and "r = " not in text and "slope " not in text and "95% CI" not in text
    with pytest.raises(ValueError, match="one row per teacher"):
        inheritance_fit(pd.DataFrame({"point": ["a", "a", "b"], "teacher_entropy": [0.1, 0.1, 0.5],
                                      "student_entropy": [0.2, 0.21, 0.4]}), 0.3)
    assert MIN_TEACHERS_FOR_FIT == 4


def test_a_crossover_is_stated_only_inside_the_observed_range():
    x = np.array([0.05, 0.2, 0.5, 1.0])
    inside = inheritance_fit(_points(x, 0.5 * x + 0.1), erm_entropy=0.2)
    assert inside.crossover == pytest.approx(0.2) and inside.crossover_inside
    text = inheritance_text(inside, "ctx")
    assert "at a teacher test entropy of 0.200, inside the observed range [0.050, 1.000]" in text
    assert "over 4 teachers" in text and "That is claim (b)" in text
    outside = inheritance_fit(_points(x + 0.5, 0.5 * (x + 0.5) + 0.1), erm_entropy=0.2)
    assert not outside.crossover_inside
    assert "**outside** the observed teachers' range" in inheritance_text(outside, "ctx")
    falling = inheritance_fit(_points(x, 0.5 - 0.3 * x + np.array([0.0, 0.01, -0.01, 0.0])), erm_entropy=0.3)
    assert "contradict claim (b)" in inheritance_text(falling, "ctx") and math.isnan(falling.crossover)


def _summary(ls_top=0.6, kd1_top=0.305, kd4_top=0.2, n=2):
    rows = []
    for alpha, ls, kd1, kd4 in ((0.0, 0.3, 0.3, 0.3), (0.5, 0.45, 0.302, 0.25), (0.9, ls_top, kd1_top, kd4_top)):
        for method, tau, value in (("ls", "", ls), ("kd", 1.0, kd1), ("kd", 4.0, kd4)):
            rows.append(dict(method=method, alpha=alpha, temperature=tau, entropy=value, entropy_ci=np.nan, n=n,
                             entropy_min=value - 0.01, entropy_max=value + 0.01))
    return pd.DataFrame(rows)


def test_sweep_text_follows_the_data():
    text = sweep_text(_summary())
    assert "LS: entropy 0.600 at α = 0.9, above ERM's, rising at every step of α — as the explanation expects" in text
    assert "KD τ = 1: entropy 0.305 at α = 0.9, close to ERM's — as the explanation expects" in text
    assert "KD τ = 4: entropy 0.200 at α = 0.9, below ERM's — as the explanation expects" in text
    against = sweep_text(_summary(kd4_top=0.6))
    assert "KD τ = 4: entropy 0.600 at α = 0.9, above ERM's — **not what the explanation expects**" in against
    assert "min–max over 2 seeds" in band_text(_summary()) and "95% t-intervals over 5" in band_text(_summary(n=5))
    assert "no bands" in band_text(_summary(n=1)) and "**one seed**" in sweep_text(_summary(n=1))


def test_knob_text_spans():
    points = pd.DataFrame({"knob": ["ls α", "ls α"], "teacher_entropy": [0.1, 0.5], "student_entropy": [0.2, 0.4],
                           "teacher_accuracy": [0.9, 0.91], "student_accuracy": [0.8, 0.82]})
    text = knob_text(points)
    assert "teacher entropy 0.100–0.500 nats → student entropy 0.200–0.400" in text and "span 1.0 points" in text


def test_representation_texts_agree_or_contradict_the_papers():
    assert "as Müller et al. (2019) found" in tightness_text({"ERM": 0.6, "LS (α = 0.1)": 0.3})
    assert "unlike Müller et al." in tightness_text({"ERM": 0.2, "LS (α = 0.1)": 0.3})
    rows = pd.DataFrame({"teacher": ["L6 (LS α=0.1, 20 epochs)"] * 2, "temperature": [1.0, 4.0], "n": [3, 3],
                         "difference": [0.02, 0.01], "low": [0.01, 0.005], "high": [0.03, 0.015], "direction": ["up", "up"]})
    assert "contradict Müller et al." in teacher_quality_text(rows)
    worse = rows.assign(difference=-0.02, low=-0.03, high=-0.01, direction="down")
    assert "finding holds here" in teacher_quality_text(worse)
    verdicts = verdict_table(pd.concat([_two_teachers()[lambda f: f["method"].isin(["erm", "ls"])],
                                        _two_teachers(kd_from_flat=-0.2)[lambda f: f["teacher"] == FLAT]
                                        .assign(teacher="virtual (a=0.99)", temperature=20.0)]))
    assert "the opposite way from LS" in virtual_teacher_text(verdicts)


def test_shipped_summary_reads_a_fake_shipped_folder(tmp_path):
    import json

    from helpers.learning.results import write_results
    from helpers.pipeline.shipped import load_shipped

    frame = _two_teachers().assign(run_id=lambda f: range(len(f)))
    write_results(frame, tmp_path / "results.csv")
    np.savez(tmp_path / "predictions.npz", **{f"p{i}": np.full((2, 6), 1 / 6, np.float16) for i in frame["run_id"]},
             labels_trec=np.array([0, 1], np.int16))
    (tmp_path / "provenance.json").write_text(json.dumps({"date": "2025-01-01T00:00:00", "cpu": "a CPU", "precision": "fp32",
                                                          "wall_seconds": 600, "commit": "abcdef0123", "command": "make it"}))
    shipped = load_shipped(folder=tmp_path)
    table, verdicts, text = shipped_summary(shipped)
    assert text.startswith("**Shipped results** (shipped `full` results: 12 runs") and "10 min" in text
    assert "shipped full, fine-tuned tier" in text and len(verdicts) == 3 and "run_id" not in table.columns
    with pytest.raises(ValueError, match="no 'features' students"):
        shipped_summary(shipped, tier="features")


def test_a_fit_on_another_teacher_entropy_uses_that_column():
    points = _points([0.05, 0.2, 0.5, 1.0], [0.12, 0.2, 0.35, 0.6]).assign(teacher_train_entropy=[0.01, 0.05, 0.2, 0.5])
    result = inheritance_fit(points, erm_entropy=0.2, x="teacher_train_entropy")
    assert result.x_range == (0.01, 0.5) and result.fit.n == 4


def test_a_crossover_below_the_erm_entropy_with_a_slope_below_one_is_called_partial_inheritance():
    x = np.array([0.08, 0.25, 0.4, 1.0])
    partial = inheritance_fit(_points(x, 0.73 * x + 0.1 + np.array([0.0, 0.004, -0.004, 0.0])), erm_entropy=0.236)
    assert partial.crossover < 0.236 and "inherits only part of its teacher's confidence" in inheritance_text(partial, "ctx")
    full = inheritance_fit(_points(x, 1.0 * x), erm_entropy=0.236)
    assert "inherits only part" not in inheritance_text(full, "ctx")
