"""The verdicts and their sentences, on constructed data that breaks each rule (helpers.reporting.verdicts, .findings,
.inheritance, .experiment_texts; helpers.maths.hypotheses)."""

import math

import numpy as np
import pandas as pd
import pytest

from helpers.reporting.experiment_texts import band_text, sweep_text, teacher_quality_text, tightness_text, virtual_teacher_text
from helpers.reporting.findings import (
    claim_a_markdown,
    expectation_markdown,
    findings_markdown,
    inheritance_check,
    inheritance_check_markdown,
    negligible_text,
    shipped_summary,
    statistics_primer,
    transfer_markdown,
    verdict_markdown,
)
from helpers.reporting.inheritance import MIN_TEACHERS_FOR_FIT, inheritance_fit, inheritance_text, knob_text
from helpers.reporting.verdicts import claim_a_text, main_table, verdict_table
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


def test_kd_from_an_early_checkpoint_is_judged_by_the_kit_but_is_outside_the_papers_setting():
    verdicts = verdict_table(_two_teachers(), EXPECT)
    by = _by_teacher(verdicts)
    flat, sharp = by[("kd", FLAT)], by[("kd", SHARP)]
    assert flat.direction == "up" and flat.expected == "up" and flat.kit == "as predicted"
    # the 1-of-6-epochs checkpoint is not a converged teacher: the paper's statement does not apply to it
    assert flat.paper_setting is False and flat.paper_expected is None and flat.paper == "outside"
    assert sharp.paper_setting is True and sharp.direction == "down" and sharp.kit == "as predicted"
    assert sharp.paper == "as predicted"
    assert flat.claim_a.startswith("same direction") and sharp.claim_a.startswith("opposite directions")
    text = verdict_markdown(verdicts)
    assert f"KD α=0.5 τ=4 ← {FLAT}: raised the entropy" in text
    assert "prediction *up* (teacher 0.900 > ERM 0.320 nats on validation): as predicted" in text
    assert "paper (standard KD): outside the paper's setting (not judged against it)" in text
    assert "opposite of the paper's statement" not in text  # no line judges the paper outside its setting
    assert f"KD α=0.5 τ=4 ← {SHARP}: lowered the entropy" in text and "paper (standard KD lowers it): as the paper says" in text
    summary = claim_a_markdown(verdicts)
    assert "1 KD comparison is **outside the paper's setting**" in summary and "opposite of the paper" not in summary


def test_the_papers_setting_needs_a_finished_unscaled_teacher_near_the_best_accuracy():
    from helpers.maths.hypotheses import PAPER_SETTING_MARGIN, in_paper_setting

    assert in_paper_setting(True) and not in_paper_setting(False) and not in_paper_setting(True, rescaled=True)
    assert in_paper_setting(True, False, 0.93, 0.93) and not in_paper_setting(True, False, 0.93 - 2 * PAPER_SETTING_MARGIN, 0.93)
    assert in_paper_setting(True, False, float("nan"), 0.93)  # accuracy unknown: the finished-run criterion decides
    rescaled = _two_teachers().replace({"teacher": {SHARP: "L6 (6 epochs, logits ×2)"}})
    expect = EXPECT.replace({"teacher": {SHARP: "L6 (6 epochs, logits ×2)"}})
    assert _by_teacher(verdict_table(rescaled, expect))[("kd", "L6 (6 epochs, logits ×2)")].paper == "outside"
    # a finished run far less accurate than the best teacher of its model is not converged
    weak = EXPECT.assign(teacher_val_accuracy=[0.70, 0.93])
    assert _by_teacher(verdict_table(_two_teachers(), weak))[("kd", SHARP)].paper == "outside"
    strong = EXPECT.assign(teacher_val_accuracy=[0.93, 0.70])
    assert _by_teacher(verdict_table(_two_teachers(), strong))[("kd", SHARP)].paper == "as predicted"


def test_the_prediction_needs_the_teacher_outside_the_erm_interval_widened_by_the_band():
    # shipped TREC's 3-of-6 rung: teacher 0.200, ERM 0.217 ± 0.034 — inside the widened interval: no prediction
    assert kd_expectation(0.200, 0.217, erm_half=0.034) is None and kd_expectation(0.200, 0.217) == "down"
    assert kd_expectation(0.100, 0.217, erm_half=0.034) == "down" and kd_expectation(0.3, 0.217, erm_half=0.034) == "up"
    assert kd_expectation(0.1, 0.3, erm_half=float("nan")) is None  # one ERM seed: the mean's uncertainty is unknown
    near = EXPECT.assign(erm_ci=[0.3, 0.3])  # a wide ERM interval swallows the sharp teacher's gap, not the flat one's
    by = _by_teacher(verdict_table(_two_teachers(), near))
    assert by[("kd", SHARP)].expected is None and by[("kd", SHARP)].kit == "not testable"
    assert by[("kd", FLAT)].expected == "up"
    assert "within the ERM interval widened by the band" in verdict_markdown(verdict_table(_two_teachers(), near))


def _transfer(accuracy=(-0.006, 0.004), nll=(0.15, 0.02), ece=(0.05, 0.01)):
    """_two_teachers with KD from the sharp teacher moving accuracy, NLL and ECE by (mean, per-seed spread)."""
    runs = _two_teachers()
    sharp = runs["teacher"] == SHARP
    for metric, (shift, spread) in (("accuracy", accuracy), ("nll", nll), ("ece", ece)):
        runs.loc[sharp, metric] = runs.loc[sharp, metric] + shift + spread * (runs.loc[sharp, "seed"] - 1)
    return runs


def test_kds_effect_on_accuracy_nll_and_ece_stands_beside_every_entropy_verdict_and_is_judged():
    verdicts = verdict_table(_transfer(), EXPECT)
    sharp = _by_teacher(verdicts)[("kd", SHARP)]
    assert sharp.accuracy_direction == "unclear" and sharp.accuracy_judgement == "not confirmed"
    assert sharp.nll_direction == "up" and sharp.nll_expected == "down" and sharp.nll_judgement == "opposite"
    assert sharp.ece_direction == "up" and sharp.ece_judgement == "opposite"
    assert sharp.nll_difference == pytest.approx(0.15) and sharp.nll_low < sharp.nll_difference < sharp.nll_high
    flat = _by_teacher(verdicts)[("kd", FLAT)]
    assert flat.nll_expected is None and flat.nll_judgement == "not testable"  # outside the paper's setting
    text = verdict_markdown(verdicts)
    assert "Beside it: accuracy -0.006 [" in text and "NLL +0.150 [" in text and "ECE +0.050 [" in text
    transfer = transfer_markdown(verdicts, label="live")
    assert "**live** — KD from teachers in the paper's setting (1 comparison)" in transfer
    assert "* NLL (predicted *down*) — the opposite of the prediction: 1." in transfer
    assert "* accuracy (predicted *up*) — not confirmed (the interval includes 0): 1." in transfer
    assert "NLL" in findings_markdown({"live": verdicts})
    outside = transfer_markdown(verdict_table(_two_teachers()[lambda f: f["teacher"] != SHARP], EXPECT))
    assert "no KD comparison has a teacher in the paper's setting" in outside


def _with_teacher_runs(offsets=(-0.1, -0.02, 0.05)):
    """KD from three runs of the sharp teacher (seeds 0, 1, 2 spelled in the label), each run with its own shift."""
    base = _two_teachers()
    erm_ls = base[base["method"] != "kd"]
    runs = []
    for run, offset in enumerate(offsets):
        kd = base[base["teacher"] == SHARP].copy()
        kd["teacher"] = SHARP if run == 0 else f"{SHARP[:-1]}, seed {run})"
        kd["entropy"] = 0.30 + offset + 0.002 * kd["seed"]
        runs.append(kd)
    return pd.concat([erm_ls, *runs], ignore_index=True)


def test_several_teacher_runs_make_one_row_read_with_the_run_as_a_random_effect():
    frame = _with_teacher_runs()
    assert "L6 (6 epochs, seed 2)" in set(frame["teacher"])
    expect = pd.concat([EXPECT[EXPECT["teacher"] == SHARP].assign(teacher=label, teacher_entropy=h)
                        for label, h in ((SHARP, 0.05), ("L6 (6 epochs, seed 1)", 0.06), ("L6 (6 epochs, seed 2)", 0.04))])
    verdicts = verdict_table(frame, expect)
    kd = verdicts[verdicts["method"] == "kd"]
    assert list(kd["teacher"]) == [SHARP] and kd.iloc[0]["runs"] == 3 and kd.iloc[0]["reading"] == "teacher runs"
    assert kd.iloc[0]["n"] == 9 and kd.iloc[0]["teacher_val_entropy"] == pytest.approx(0.05)
    assert kd.iloc[0]["direction"] == "unclear"  # the runs disagree: three runs cannot settle the sign
    text = verdict_markdown(verdicts)
    assert "n = 9 students of 3 teacher runs" in text and "[3 teacher runs: a random effect]" in text
    assert "KD teachers have 3 independent runs each; where there are several" in claim_a_markdown(verdicts)
    one = verdict_markdown(verdict_table(_two_teachers(), EXPECT))
    assert "[one teacher run: conditional on it]" in one
    assert "every KD verdict holds conditional on that run" in claim_a_markdown(verdict_table(_two_teachers(), EXPECT))


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


def test_inheritance_check_counts_every_outcome():
    check = inheritance_check(verdict_table(_two_teachers(), EXPECT))
    assert list(check["matches"]) == [True, True]
    text = inheritance_check_markdown(check)
    assert "of 2 KD comparisons with a prediction, KD moved the student's entropy **towards its teacher's** in 2" in text
    assert "as claim (b) says" in text
    away = inheritance_check_markdown(inheritance_check(verdict_table(_two_teachers(0.1, -0.1), EXPECT)))
    assert "towards its teacher's** in 0 and away from it in 2" in away and "contradict claim (b)" in away
    flat = inheritance_check_markdown(inheritance_check(verdict_table(_two_teachers(0.0, 0.0), EXPECT)))
    assert "**not confirmed**" in flat and "not confirmed (the interval includes 0): 2" in flat
    # a comparison with no practical change counts: claim (b) is then not "as claim (b) says"
    still = _two_teachers(kd_from_sharp=0.0, seeds=(0.0, 0.001, -0.001))
    mixed = inheritance_check_markdown(inheritance_check(verdict_table(still, EXPECT)))
    assert "no practical change (the prediction is not confirmed): 1" in mixed
    assert "as claim (b) says" not in mixed and "holds only in part" in mixed
    none = inheritance_check_markdown(inheritance_check(verdict_table(_two_teachers(), EXPECT.iloc[:0])))
    assert "cannot be judged" in none and "not testable: 2" in none


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
    assert "at a teacher test entropy of 0.200 (95% Fieller interval [0.200, 0.200]), inside the observed range [0.050, 1.000]" in text
    assert "over 4 teachers" in text and "That is claim (b)" in text
    outside = inheritance_fit(_points(x + 0.5, 0.5 * (x + 0.5) + 0.1), erm_entropy=0.2)
    assert not outside.crossover_inside
    assert "**outside** the observed range" in inheritance_text(outside, "ctx")
    falling = inheritance_fit(_points(x, 0.5 - 0.3 * x + np.array([0.0, 0.01, -0.01, 0.0])), erm_entropy=0.3)
    assert "contradict claim (b)" in inheritance_text(falling, "ctx") and math.isnan(falling.crossover)


def _sweep(ls_top=0.3, kd1_top=0.002, kd4_top=-0.1, seeds=(0.0, 0.005, -0.005)):
    """Per-seed sweep rows: LS and KD (τ = 1, 4) at α = 0 (ERM), 0.5, 0.9; entropy = ERM + shift + seed noise."""
    rows = []
    for seed, noise in enumerate(seeds):
        common = dict(tier="features", task="trec", role="student", student="L2", seed=seed, accuracy=0.9,
                      max_prob=0.9, nll=0.3, ece=0.03, train_seconds=1.0)
        for alpha, scale in ((0.0, 0.0), (0.5, 0.5), (0.9, 1.0)):
            rows.append({**common, "teacher": "", "method": "ls", "alpha": alpha, "temperature": "",
                         "entropy": 0.3 + noise + scale * ls_top})
            for tau, top in ((1.0, kd1_top), (4.0, kd4_top)):
                rows.append({**common, "teacher": "L6 (20 epochs)", "method": "kd", "alpha": alpha, "temperature": tau,
                             "entropy": 0.3 + noise + scale * top + (noise / 2 if alpha else 0.0)})
    return pd.DataFrame(rows)


def _summary(n=2):
    rows = [dict(method="ls", alpha=a, temperature="", entropy=0.3, entropy_ci=np.nan, n=n) for a in (0.0, 0.9)]
    return pd.DataFrame(rows)


def test_sweep_text_uses_paired_intervals_the_band_and_holm():
    text = sweep_text(_sweep())
    assert "LS: entropy 0.600 at α = 0.9 (rising at every step of α on average), raised against ERM" in text
    assert "as the explanation expects" in text.split("LS:")[1].split("\n")[0]
    assert "KD τ = 1: entropy 0.302 at α = 0.9" in text
    assert "within the negligible band" in text.split("KD τ = 1:")[1].split("\n")[0]
    assert "KD τ = 4: entropy 0.200 at α = 0.9" in text and "Holm's correction" in text
    against = sweep_text(_sweep(kd4_top=0.3))
    assert "**not what the explanation expects** (it should fall)" in against.split("KD τ = 4:")[1]
    # two seeds that disagree: an unclear interval is never "as expected"
    noisy = sweep_text(_sweep(kd1_top=0.03, seeds=(0.0, 0.05)))
    kd1 = noisy.split("KD τ = 1:")[1].split("\n")[0]
    assert "did not clearly change" in kd1 and "not decided" in kd1 and "as the explanation expects" not in kd1
    assert "**one seed**" in sweep_text(_sweep(seeds=(0.0,)))
    with pytest.raises(ValueError, match="α = 0"):
        sweep_text(_sweep()[lambda f: f["alpha"] > 0])
    assert "min–max over 2 seeds" in band_text(_summary()) and "95% t-intervals over 5" in band_text(_summary(n=5))
    assert "no bands" in band_text(_summary(n=1))


def test_knob_text_spans():
    points = pd.DataFrame({"knob": ["ls α", "ls α"], "teacher_entropy": [0.1, 0.5], "student_entropy": [0.2, 0.4],
                           "teacher_accuracy": [0.9, 0.91], "student_accuracy": [0.8, 0.82]})
    text = knob_text(points)
    assert "teacher entropy 0.100–0.500 nats → student entropy 0.200–0.400" in text and "span 1.0 points" in text


def test_representation_texts_judge_muller_only_with_an_interval_the_band_and_holm():
    one_head = tightness_text({"ERM": 0.6, "LS (α = 0.1)": 0.3})
    assert "LS's ratio is the smallest" in one_head and "does not test Müller et al.'s (2019) finding" in one_head
    assert "found" not in one_head and "unlike" not in tightness_text({"ERM": 0.2, "LS (α = 0.1)": 0.3})
    rows = pd.DataFrame({"teacher": ["L6 (LS α=0.1, 20 epochs)"] * 2, "temperature": [1.0, 4.0], "n": [5, 5],
                         "difference": [0.02, 0.015], "low": [0.012, 0.011], "high": [0.028, 0.019], "p": [0.001, 0.0005]})
    assert "contradict Müller et al." in teacher_quality_text(rows)
    worse = rows.assign(difference=-0.02, low=-0.03, high=-0.012)
    assert "finding holds here" in teacher_quality_text(worse)
    # the shipped case: +0.008 [+0.000, +0.017] is inside the accuracy band, and does not survive Holm: not "raised"
    small = rows.assign(difference=[0.008, 0.003], low=[0.0002, -0.004], high=[0.017, 0.010], p=[0.048, 0.3])
    text = teacher_quality_text(small)
    assert "contradict" not in text and "not confirmed here" in text and "raised, by less than the negligible band" in text
    assert "conditional on those runs" in text
    verdicts = verdict_table(pd.concat([_two_teachers()[lambda f: f["method"].isin(["erm", "ls"])],
                                        _two_teachers(kd_from_flat=-0.2)[lambda f: f["teacher"] == FLAT]
                                        .assign(teacher="virtual (a=0.99)", temperature=20.0)]))
    assert "the opposite way from LS" in virtual_teacher_text(verdicts)


def test_shipped_summary_reads_a_fake_shipped_folder(tmp_path):
    import json

    from helpers.learning.results import write_results
    from helpers.learning.shipped import load_shipped

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
    text = inheritance_text(partial, "ctx")
    assert partial.crossover < 0.236 and "**partial inheritance**" in text and "lies **below 1**" in text
    assert "whole interval lies **below** the ERM students' own entropy" in text
    full = inheritance_fit(_points(x, 1.0 * x), erm_entropy=0.236)
    assert "partial inheritance" not in inheritance_text(full, "ctx")


def test_below_the_students_entropy_and_slope_below_one_are_claimed_only_when_the_intervals_say_so():
    # the classroom ladder's shape: four teachers, the 1-epoch point deciding the slope; the ERM mean uncertain
    x = np.array([0.083, 0.42, 0.21, 1.035])
    y = np.array([0.203, 0.56, 0.30, 0.881])
    result = inheritance_fit(_points(x, y).assign(training_run="L6 seed 0"), erm_entropy=0.369, erm_se=0.03)
    crossing = result.crossover_interval
    text = inheritance_text(result, "ctx")
    assert crossing.bounded and crossing.low < 0.369 < crossing.high
    assert "not decided: the interval contains 0.369" in text and "lies **below** the ERM" not in text
    assert "partial inheritance" not in text
    assert result.fit.slope_low < 1 < result.fit.slope_high and "Whether the slope is below 1 is not decided" in text
    assert "Leaving one teacher out, the slope ranges over" in text and "without T3" in text
    assert "**one training run**" in text and "conditional on that teacher run" in text


def test_a_crossover_whose_slope_interval_contains_zero_is_not_located():
    x = np.array([0.1, 0.2, 0.3, 0.4])
    result = inheritance_fit(_points(x, np.array([0.3, 0.1, 0.35, 0.2])), erm_entropy=0.25)
    assert not result.crossover_interval.bounded
    assert "no crossover is claimed (its interval would be unbounded)" in inheritance_text(result, "ctx")


def test_runs_of_one_teacher_setting_count_as_one_teacher():
    points = _points([0.1, 0.11, 0.5, 0.52], [0.2, 0.21, 0.4, 0.41]).assign(label=["A", "A", "B", "B"])
    result = inheritance_fit(points, erm_entropy=0.3)
    assert result.fit is None and "only 2 distinct teachers" in result.reason


def test_several_teacher_runs_are_the_unit_of_the_slope_and_the_crossover():
    x = np.array([1.0, 0.4, 0.25, 0.08])
    rows = []
    for run, (slope, shift) in enumerate(((0.7, 0.1), (0.8, 0.06), (0.6, 0.13))):
        for rung, value in enumerate(x + 0.01 * run):
            rows.append({"teacher": f"R{rung} seed {run}", "label": f"R{rung}", "training_run": f"L6 seed {run}",
                         "teacher_entropy": value, "student_entropy": slope * value + shift})
    result = inheritance_fit(pd.DataFrame(rows), erm_entropy=0.24, erm_se=0.01)
    crossings = [(0.24 - shift) / slope for slope, shift in ((0.7, 0.1), (0.8, 0.06), (0.6, 0.13))]
    assert result.run_slopes.n == 3 and result.run_slopes.mean == pytest.approx(0.7)
    assert result.crossover_interval.point == pytest.approx(np.mean(crossings))
    assert result.crossover_interval.high - result.crossover_interval.low == pytest.approx(2 * mean_ci(crossings).half)
    text = inheritance_text(result, "ctx")
    assert "over 12 teacher runs of 4 teachers" in text and "within each of the 3 independent teacher runs" in text
    assert "95% CI over runs [" in text and "one training run" not in text


def test_a_correlation_whose_interval_contains_zero_is_not_called_tight():
    x = np.array([0.357, 0.146, 0.207, 0.048])  # the shipped Rotten Tomatoes ladder
    result = inheritance_fit(_points(x, np.array([0.446, 0.27, 0.188, 0.062])), erm_entropy=0.143)
    assert result.fit.r > 0.8 and result.fit.r_low < 0
    assert "no established relation" in inheritance_text(result, "ctx") and "a tight" not in inheritance_text(result, "ctx")
