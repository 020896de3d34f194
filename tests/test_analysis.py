"""Seed statistics: t quantiles against printed tables, intervals, paired differences, verdicts, line fits."""

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers.analysis import (
    claim_a_text,
    difference_summary,
    direction,
    fit_line,
    format_ci,
    inheritance_text,
    kd_setting,
    main_table,
    mean_ci,
    model_size,
    paired_differences,
    seed_summary,
    t_cdf,
    t_quantile,
    verdict_table,
)

# two-sided critical values from a printed t table
T_TABLE = [(0.975, 1, 12.706), (0.975, 2, 4.303), (0.975, 4, 2.776), (0.975, 9, 2.262), (0.975, 10, 2.228),
           (0.975, 30, 2.042), (0.95, 5, 2.015), (0.995, 3, 5.841), (0.9, 20, 1.325)]


@pytest.mark.parametrize("q, df, expected", T_TABLE)
def test_t_quantile_matches_the_printed_table(q, df, expected):
    assert t_quantile(q, df) == pytest.approx(expected, abs=1e-3)


@given(st.floats(-50, 50))
def test_t_cdf_with_one_degree_of_freedom_is_the_cauchy_cdf(x):
    # SciPy's t CDF for df=1 is accurate to about 2.4e-9 near x = 0 (measured on a dense grid);
    # the intervals only need a few digits, so the bound is 1e-8
    assert t_cdf(x, 1) == pytest.approx(0.5 + math.atan(x) / math.pi, abs=1e-8)


@given(st.floats(-50, 50))
def test_t_cdf_with_two_degrees_of_freedom_has_its_closed_form(x):
    assert t_cdf(x, 2) == pytest.approx(0.5 + x / (2 * math.sqrt(2 + x * x)), abs=1e-10)


@settings(max_examples=60)
@given(st.floats(0.001, 0.999), st.integers(1, 200))
def test_t_quantile_inverts_the_cdf_and_is_symmetric(q, df):
    x = t_quantile(q, df)
    assert t_cdf(x, df) == pytest.approx(q, abs=1e-8)
    assert t_quantile(1 - q, df) == pytest.approx(-x, abs=1e-6 * max(1, abs(x)))


@pytest.mark.parametrize("q, df", [(0.0, 3), (1.0, 3), (0.5, 0), (0.5, -1), (0.5, float("nan"))])
def test_t_quantile_rejects_bad_arguments(q, df):
    with pytest.raises(ValueError):
        t_quantile(q, df)


def test_mean_ci_of_one_to_five():
    ci = mean_ci([1, 2, 3, 4, 5])
    sd = math.sqrt(2.5)
    assert ci.mean == 3 and ci.n == 5 and ci.sd == pytest.approx(sd)
    assert ci.half == pytest.approx(2.776445 * sd / math.sqrt(5), rel=1e-5)
    assert (ci.low, ci.high) == pytest.approx((3 - ci.half, 3 + ci.half))
    assert str(ci) == "3.000 ± 1.963"


def test_mean_ci_with_one_value_has_no_interval_and_empty_input_raises():
    ci = mean_ci([0.5, float("nan")])
    assert ci.mean == 0.5 and ci.n == 1 and math.isnan(ci.half)
    assert format_ci(ci.mean, ci.half) == "0.500"
    with pytest.raises(ValueError, match="empty"):
        mean_ci([])


@settings(max_examples=30)
@given(st.lists(st.floats(-10, 10), min_size=2, max_size=12))
def test_the_interval_contains_the_mean_and_widens_with_the_level(values):
    narrow, wide = mean_ci(values, 0.8), mean_ci(values, 0.99)
    assert narrow.low <= narrow.mean <= narrow.high
    assert wide.half >= narrow.half - 1e-12


def _runs():
    """Two tasks' worth of runs: per seed ERM, LS (entropy up ~0.3) and KD (down ~0.1)."""
    rows = []
    for seed, noise in enumerate([0.0, 0.01, -0.01, 0.005]):
        base = 0.30 + noise
        common = dict(tier="finetune", task="trec", student="L2", seed=seed, accuracy=0.9, max_prob=0.9, nll=0.3, ece=0.03, train_seconds=1.0)
        rows.append({**common, "teacher": "", "method": "erm", "alpha": 0.0, "temperature": "", "entropy": base})
        rows.append({**common, "teacher": "", "method": "ls", "alpha": 0.1, "temperature": "", "entropy": base + 0.3 + noise})
        rows.append({**common, "teacher": "L6", "method": "kd", "alpha": 0.5, "temperature": 4.0, "entropy": base - 0.1 - noise})
        rows.append({**common, "teacher": "L2", "method": "kd", "alpha": 0.5, "temperature": 1.0,
                     "entropy": base + [0.02, -0.02, 0.01, -0.015][seed]})
    return pd.DataFrame(rows)


def test_seed_summary_groups_over_seeds():
    summary = seed_summary(_runs())
    assert len(summary) == 4 and (summary["n"] == 4).all()
    ls = summary[summary["method"] == "ls"].iloc[0]
    expected = mean_ci(0.6 + 2 * np.array([0.0, 0.01, -0.01, 0.005]))
    assert ls["entropy"] == pytest.approx(expected.mean) and ls["entropy_ci"] == pytest.approx(expected.half)
    with pytest.raises(ValueError, match="lacks column"):
        seed_summary(_runs().drop(columns="seed"), by=["seed"])


def test_paired_differences_pair_each_run_with_its_seeds_erm():
    diffs = paired_differences(_runs())
    kd = diffs[(diffs["method"] == "kd") & (diffs["teacher"] == "L6")].sort_values("seed")
    noise = np.array([0.0, 0.01, -0.01, 0.005])
    np.testing.assert_allclose(kd["difference"], -0.1 - noise, atol=1e-12)
    assert len(diffs) == 12  # 3 non-ERM runs x 4 seeds


def test_paired_differences_drop_unpaired_runs_and_reject_duplicate_baselines():
    runs = _runs()
    without_seed3_erm = runs[~((runs["method"] == "erm") & (runs["seed"] == 3))]
    assert len(paired_differences(without_seed3_erm)) == 9
    with pytest.raises(ValueError, match="several 'erm' runs"):
        paired_differences(pd.concat([runs, runs[runs["method"] == "erm"]]))


@pytest.mark.parametrize("low, high, negligible, expected", [
    (-0.3, -0.1, 0.0, "down"), (0.1, 0.2, 0.0, "up"), (-0.1, 0.2, 0.0, "unclear"),
    (0.001, 0.004, 0.01, "negligible"), (0.001, 0.02, 0.01, "up"), (float("nan"), float("nan"), 0.0, "unclear"),
])
def test_direction(low, high, negligible, expected):
    assert direction(low, high, negligible) == expected


def test_difference_summary_and_verdicts_on_constructed_runs():
    verdicts = verdict_table(_runs())
    by = {(r.method, r.teacher): r for r in verdicts.itertuples()}
    assert by[("ls", "")].direction == "up"
    assert by[("kd", "L6")].direction == "down" and by[("kd", "L6")].setting == "standard"
    assert by[("kd", "L2")].direction == "unclear" and by[("kd", "L2")].setting == "self"
    assert "lowered entropy" in by[("kd", "L6")].statement and "n=4" in by[("kd", "L6")].statement
    text = claim_a_text(verdicts)
    assert "standard KD from L6" in text and "claim (a) holds: opposite directions" in text
    assert "self KD from L2" in text and "not supported" in text


def test_claim_a_fails_when_kd_raises_entropy_like_ls():
    runs = _runs()
    runs = runs[~((runs["method"] == "kd") & (runs["teacher"] == "L2"))].copy()
    kd = runs["method"] == "kd"
    runs.loc[kd, "entropy"] = runs.loc[kd, "entropy"] + 0.3
    assert "claim (a) fails here" in claim_a_text(verdict_table(runs))


def test_one_seed_reports_the_sign_flagged_as_untested():
    one = _runs()[lambda f: f["seed"] == 0]
    verdicts = verdict_table(one)
    assert set(verdicts["direction"]) <= {"up?", "down?", "unclear"}
    assert verdicts.set_index("teacher").loc["L6", "direction"] == "down?"
    assert "one seed" in claim_a_text(verdicts)


def test_difference_summary_needs_its_columns():
    with pytest.raises(ValueError, match="lacks column"):
        difference_summary(pd.DataFrame({"difference": [1.0]}))


@pytest.mark.parametrize("student, teacher, expected", [
    ("L2", "L6", "standard"), ("L2-head", "L6-head[40 ep]", "standard"), ("L2", "L2", "self"),
    ("L6-head", "L2-head", "reverse"), ("L2-head", "virtual(a=0.99)", "other"), ("scratch", "L6", "other"),
])
def test_kd_setting(student, teacher, expected):
    assert kd_setting(student, teacher) == expected
    assert model_size("L6-head[ls α=0.1]") == 6 and model_size("scratch") is None


def test_fit_line_recovers_an_exact_line():
    x = np.array([0.1, 0.3, 0.5, 0.9])
    fit = fit_line(x, 2 * x + 1)
    assert (fit.slope, fit.intercept, fit.r) == pytest.approx((2.0, 1.0, 1.0))
    assert fit.crossing(2.0) == pytest.approx(0.5)


def test_fit_line_agrees_with_numpy_on_noisy_data():
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, 12)
    y = 0.7 * x + 0.1 + rng.normal(0, 0.1, 12)
    fit = fit_line(x, y)
    slope, intercept = np.polyfit(x, y, 1)
    assert (fit.slope, fit.intercept) == pytest.approx((slope, intercept))
    assert fit.r == pytest.approx(np.corrcoef(x, y)[0, 1])
    assert fit.r_low < fit.r < fit.r_high and fit.slope_low < fit.slope < fit.slope_high
    # slope interval: t(0.975, 10) * residual standard error / sqrt(Sxx)
    residual = y - (slope * x + intercept)
    se = math.sqrt((residual @ residual) / 10 / ((x - x.mean()) @ (x - x.mean())))
    assert fit.slope_high - fit.slope == pytest.approx(2.228139 * se, rel=1e-5)


@pytest.mark.parametrize("x, y", [([1, 2], [1, 2]), ([1, 1, 1], [1, 2, 3]), ([1, 2, 3], [1, 2]), ([1, 2, float("nan")], [1, 2, 3])])
def test_fit_line_rejects_bad_input(x, y):
    with pytest.raises(ValueError):
        fit_line(x, y)


def test_inheritance_text_states_the_crossover():
    x = np.array([0.1, 0.3, 0.6, 1.0])
    text = inheritance_text(fit_line(x, 0.5 * x + 0.1), erm_entropy=0.2)
    assert "slope 0.50" in text and "r = 1.00" in text and "teacher entropy of 0.200" in text and "+0.050 nats" in text
    flat = inheritance_text(fit_line(x, np.array([0.3, 0.31, 0.29, 0.3])), erm_entropy=0.3)
    assert "no crossover is claimed" in flat


def test_main_table_formats_mean_and_half_width():
    table = main_table(_runs())
    row = table[table["method"] == "erm"].iloc[0]
    expected = mean_ci(0.3 + np.array([0.0, 0.01, -0.01, 0.005]))
    assert row["entropy"] == format_ci(expected.mean, expected.half) and row["n"] == 4


def test_paired_differences_against_a_selected_baseline():
    runs = _runs()
    diffs = paired_differences(runs, baseline={"method": "kd", "teacher": "L6"})
    ls = diffs[diffs["method"] == "ls"].sort_values("seed")
    noise = np.array([0.0, 0.01, -0.01, 0.005])
    np.testing.assert_allclose(ls["difference"], (0.6 + 2 * noise) - 0.2, atol=1e-12)  # KD(L6) entropy is 0.2 for every seed
    assert set(diffs["method"]) == {"erm", "ls", "kd"} and len(diffs) == 12
    with pytest.raises(ValueError, match="no baseline runs"):
        paired_differences(runs, baseline={"method": "kd", "teacher": "L12"})


def test_tiers_never_mix_in_pairs_or_groups():
    finetune = _runs()
    features = _runs().assign(tier="features", entropy=lambda f: f["entropy"] + 1.0)
    both = pd.concat([finetune, features], ignore_index=True)
    differences = paired_differences(both)
    # each run is paired with the ERM run of its own tier: the +1.0 offset cancels
    alone = paired_differences(finetune)["difference"].to_numpy()
    assert np.allclose(differences[differences["tier"] == "finetune"]["difference"], alone)
    assert np.allclose(differences[differences["tier"] == "features"]["difference"], alone)
    assert set(seed_summary(both)["tier"]) == {"finetune", "features"}
    assert (seed_summary(both)["n"] == 4).all()


def test_fit_line_correlation_interval_is_scipys_fisher_interval():
    x = np.arange(8.0)
    y = 0.5 * x + np.array([0.3, -0.2, 0.1, 0.4, -0.5, 0.2, -0.1, 0.0])
    fit = fit_line(x, y)
    from scipy import stats as scipy_stats

    z, se = np.arctanh(fit.r), 1 / np.sqrt(len(x) - 3)
    q = scipy_stats.norm.ppf(0.975)
    assert np.isclose(fit.r_low, np.tanh(z - q * se)) and np.isclose(fit.r_high, np.tanh(z + q * se))


# ------------------------------------------------------------------------- rendered text (notebooks' sentences)

from helpers.analysis import (  # noqa: E402
    band_text,
    claim_a_markdown,
    findings_markdown,
    inheritance_check,
    inheritance_check_markdown,
    knob_text,
    negligible_text,
    shipped_summary,
    sweep_text,
    teacher_confidence_markdown,
    teacher_confidence_table,
    teacher_quality_text,
    tightness_text,
    verdict_markdown,
    virtual_teacher_text,
)


def _two_teachers(kd_from_sharp=-0.1, kd_from_flat=+0.1):
    """Fine-tuned tier, 3 seeds: ERM 0.30, LS +0.3; KD from a sharp teacher (entropy 0.05) and a flat one (0.9)."""
    rows = []
    for seed, noise in enumerate([0.0, 0.01, -0.01]):
        common = dict(tier="finetune", task="trec", role="student", student="L1", seed=seed, accuracy=0.9, max_prob=0.9,
                      nll=0.3, ece=0.03, train_seconds=1.0)
        base = 0.30 + noise
        rows += [{**common, "teacher": "", "method": "erm", "alpha": 0.0, "temperature": "", "entropy": base},
                 {**common, "teacher": "", "method": "ls", "alpha": 0.1, "temperature": "", "entropy": base + 0.3 + noise},
                 {**common, "teacher": "L6 (4 epochs)", "method": "kd", "alpha": 0.5, "temperature": 4.0,
                  "entropy": base + kd_from_sharp + noise / 2},
                 {**common, "teacher": "L6 (1 epoch)", "method": "kd", "alpha": 0.5, "temperature": 4.0,
                  "entropy": base + kd_from_flat + noise / 2}]
    return pd.DataFrame(rows)


TEACHERS = pd.DataFrame({"tier": ["finetune", "finetune"], "task": ["trec", "trec"],
                         "teacher": ["L6 (4 epochs)", "L6 (1 epoch)"], "teacher_entropy": [0.05, 0.9]})


def test_negligible_text_names_the_band():
    assert "±0.01 nats" in negligible_text() and "did not change" in negligible_text()


def test_verdict_markdown_sets_each_comparison_against_the_paper():
    text = verdict_markdown(verdict_table(_two_teachers()))
    assert "fine-tuned tier, trec, student L1" in text
    assert "LS α=0.1: raised the entropy" in text and "as the paper says" in text
    assert "KD α=0.5 τ=4 ← L6 (4 epochs): lowered the entropy" in text
    assert "KD α=0.5 τ=4 ← L6 (1 epoch): raised the entropy" in text and "the opposite of the paper's claim" in text
    assert "n = 3" in text


def test_claim_a_markdown_counts_and_says_when_the_data_contradict_the_paper():
    agrees = claim_a_markdown(verdict_table(_two_teachers(kd_from_flat=-0.2)))
    assert "LS raised the student's entropy in 1 of 1" in agrees and "KD lowered it in 2 of 2" in agrees
    assert "claim (a) holds" in agrees and "contradict" not in agrees
    part = claim_a_markdown(verdict_table(_two_teachers()))
    assert "KD lowered it in 1 of 2 comparisons, raised it in 1" in part and "claim (a) holds only in part" in part
    against = claim_a_markdown(verdict_table(_two_teachers(kd_from_sharp=0.2, kd_from_flat=0.1)))
    assert "the data contradict claim (a)" in against and "KD lowered it in 0 of 2" in against
    ls_down = _two_teachers()
    ls_down.loc[ls_down["method"] == "ls", "entropy"] -= 0.6
    assert "the data contradict the paper" in claim_a_markdown(verdict_table(ls_down))
    one = claim_a_markdown(verdict_table(_two_teachers()[lambda f: f["seed"] == 0]))
    assert "n = 1 seed per comparison" in one and "not tested" in one


def test_teacher_confidence_table_places_each_teacher_against_the_erm_student():
    table = teacher_confidence_table(TEACHERS, _two_teachers())
    assert list(table["side"]) == ["more confident", "less confident"]
    assert table["erm_entropy"].iloc[0] == pytest.approx(0.30)
    text = teacher_confidence_markdown(table)
    assert "L6 (4 epochs): 0.050 nats (**more confident**)" in text and "opposite directions" in text


def test_inheritance_check_counts_moves_towards_the_teacher():
    verdicts = verdict_table(_two_teachers())
    check = inheritance_check(verdicts, teacher_confidence_table(TEACHERS, _two_teachers()))
    assert list(check["matches"]) == [True, True]
    assert "towards its teacher's** in 2 of 2" in inheritance_check_markdown(check) and "as claim (b) says" in \
        inheritance_check_markdown(check)
    away = verdict_table(_two_teachers(kd_from_sharp=0.1, kd_from_flat=-0.1))
    text = inheritance_check_markdown(inheritance_check(away, teacher_confidence_table(TEACHERS, _two_teachers())))
    assert "in 0 of 2" in text and "contradict claim (b)" in text


def test_findings_markdown_renders_every_source():
    verdicts = verdict_table(_two_teachers())
    check = inheritance_check(verdicts, teacher_confidence_table(TEACHERS, _two_teachers()))
    text = findings_markdown({"fine-tuned tier": verdicts}, {"fine-tuned tier": check})
    assert text.startswith("**fine-tuned tier**") and "claim (b)" in text
    with pytest.raises(ValueError):
        findings_markdown({})


def test_inheritance_text_says_when_the_data_contradict_claim_b():
    x = np.array([0.1, 0.3, 0.6, 1.0])
    falling = inheritance_text(fit_line(x, 0.5 - 0.3 * x + np.array([0.0, 0.01, -0.01, 0.0])), erm_entropy=0.3)
    assert "contradict claim (b)" in falling
    rising = inheritance_text(fit_line(x, 0.5 * x + 0.1), erm_entropy=0.2, points="students (one per teacher and seed)")
    assert "That is claim (b)" in rising and "over 4 students (one per teacher and seed)" in rising


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
                                        _two_teachers(kd_from_flat=-0.2)[lambda f: f["teacher"] == "L6 (1 epoch)"]
                                        .assign(teacher="virtual (a=0.99)", temperature=20.0)]))
    assert "the opposite way from LS" in virtual_teacher_text(verdicts)


def test_shipped_summary_reads_a_fake_shipped_folder(tmp_path):
    import json

    from helpers.results import write_results
    from helpers.shipped import load_shipped

    frame = _two_teachers().assign(run_id=lambda f: range(len(f)))
    write_results(frame, tmp_path / "results.csv")
    np.savez(tmp_path / "predictions.npz", **{f"p{i}": np.full((2, 6), 1 / 6, np.float16) for i in frame["run_id"]},
             labels_trec=np.array([0, 1], np.int16))
    (tmp_path / "provenance.json").write_text(json.dumps({"date": "2025-01-01T00:00:00", "cpu": "a CPU", "precision": "fp32",
                                                          "wall_seconds": 600, "commit": "abcdef0123", "command": "make it"}))
    shipped = load_shipped(folder=tmp_path)
    table, verdicts, text = shipped_summary(shipped)
    assert text.startswith("**Shipped results** (shipped `full` results: 12 runs") and "10 min" in text
    assert "shipped `full`, fine-tuned tier" in text and len(verdicts) == 3 and "run_id" not in table.columns
    with pytest.raises(ValueError, match="no 'features' students"):
        shipped_summary(shipped, tier="features")


def test_inheritance_check_markdown_without_a_clear_direction_says_it_cannot_judge():
    flat = verdict_table(_two_teachers(kd_from_sharp=0.0, kd_from_flat=0.0))
    text = inheritance_check_markdown(inheritance_check(flat, teacher_confidence_table(TEACHERS, _two_teachers())))
    assert "none of the 2 KD comparisons" in text and "cannot be judged" in text
