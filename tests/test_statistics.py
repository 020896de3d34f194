"""Seed statistics: t quantiles against printed tables, intervals, paired differences, directions, Holm, line fits."""

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers.maths.statistics import (
    check_columns,
    difference_summary,
    direction,
    format_ci,
    holm,
    mean_ci,
    paired_differences,
    paired_t_pvalue,
    seed_summary,
    t_cdf,
    t_quantile,
)
from helpers.maths.regression import fit_line

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


@pytest.mark.parametrize("low, high, negligible, mean, expected", [
    (-0.3, -0.1, 0.0, None, "down"), (0.1, 0.2, 0.0, None, "up"), (-0.1, 0.2, 0.0, None, "unclear"),
    (0.001, 0.004, 0.01, None, "negligible"), (0.001, 0.02, 0.01, None, "up"),
    (float("nan"), float("nan"), 0.0, None, "unclear"),
    # the interval straddles the band's edge: excludes 0, but the mean change is inside the band -> real, negligible
    (0.003, 0.011, 0.01, 0.007, "up-small"), (-0.012, -0.002, 0.01, -0.007, "down-small"),
    # excludes 0 and the mean is outside the band
    (0.008, 0.05, 0.01, 0.029, "up"),
    # crosses 0 and leaves the band: unclear, not "no change"
    (-0.005, 0.02, 0.01, 0.0075, "unclear"),
])
def test_direction_reads_the_interval_and_the_point_estimate_against_the_band(low, high, negligible, mean, expected):
    assert direction(low, high, negligible, mean) == expected


def test_paired_t_pvalue_matches_scipy_and_holm_steps_down():
    from scipy import stats as scipy_stats

    values = [0.05, 0.02, 0.04, 0.01, 0.03]
    assert paired_t_pvalue(values) == pytest.approx(scipy_stats.ttest_1samp(values, 0.0).pvalue)
    assert math.isnan(paired_t_pvalue([0.1])) and paired_t_pvalue([0.1, 0.1]) == 0.0
    adjusted, rejected = holm([0.01, 0.04, 0.03, 0.005, float("nan")])
    # sorted: 0.005*4=0.02, 0.01*3=0.03, 0.03*2=0.06, max(0.06, 0.04*1)=0.06
    np.testing.assert_allclose(adjusted[:4], [0.03, 0.06, 0.06, 0.02])
    assert list(rejected) == [True, False, False, True, False]
    # a single p-value is not corrected; every NaN stays out of the family
    assert list(holm([0.04])[1]) == [True] and list(holm([float("nan")])[1]) == [False]


def test_difference_summary_needs_its_columns():
    with pytest.raises(ValueError, match="lacks column"):
        difference_summary(pd.DataFrame({"difference": [1.0]}))


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


# ------------------------------------------------------------------------- teacher runs as a random effect


def _runs_frame(offsets, seeds=5, spread=0.002, shared_seeds=False):
    """KD − ERM differences of students of several teacher runs: each run shifted by its offset, tiny seed noise."""
    rng = np.random.default_rng(0)
    rows = []
    for run, offset in enumerate(offsets):
        for seed in range(seeds):
            rows.append({"tier": "finetune", "task": "trec", "student": "L1", "teacher": "L6 (6 epochs)", "method": "kd",
                         "alpha": 0.5, "temperature": 4.0, "teacher_run": f"L6 (6 epochs, seed {run})",
                         "seed": seed if shared_seeds else 100 * run + seed, "value": 0.3,
                         "baseline_value": 0.3, "difference": offset + spread * rng.standard_normal()})
    return pd.DataFrame(rows)


def test_a_balanced_design_without_shared_seeds_gives_the_t_interval_over_run_means():
    from helpers.maths.statistics import random_effects_ci

    frame = _runs_frame([0.05, 0.12, 0.02])
    ci = random_effects_ci(frame)
    by_run = mean_ci(frame.groupby("teacher_run")["difference"].mean())
    assert ci.runs == 3 and ci.n == 15 and not ci.crossed
    assert (ci.mean, ci.low, ci.high) == pytest.approx((by_run.mean, by_run.low, by_run.high), abs=5e-4)


def test_students_of_few_teacher_runs_get_a_wider_interval_than_their_seeds_alone_give():
    # three teacher runs that disagree, each with five students that agree: the seeds alone make the mean look
    # certain; with the run as a random effect, three runs leave it undecided
    frame = _runs_frame([0.06, -0.01, 0.005], shared_seeds=True)
    seeds_only = difference_summary(frame.drop(columns=["teacher_run"]), negligible=0.01).iloc[0]
    runs = difference_summary(frame, negligible=0.01).iloc[0]
    assert seeds_only["reading"] == "seeds" and seeds_only["runs"] == 1 and seeds_only["direction"] == "up"
    assert runs["reading"] == "teacher runs" and runs["runs"] == 3 and runs["n"] == 15
    assert runs["ci"] > 2 * seeds_only["ci"] and runs["low"] < 0 < runs["high"] and runs["direction"] == "unclear"
    assert runs["p"] > seeds_only["p"]


def test_one_teacher_run_is_read_over_seeds_and_two_runs_are_needed_for_a_random_effect():
    from helpers.maths.statistics import random_effects_ci

    one = difference_summary(_runs_frame([0.05])).iloc[0]
    assert one["reading"] == "seeds" and one["runs"] == 1
    with pytest.raises(ValueError, match="at least 2 teacher runs"):
        random_effects_ci(_runs_frame([0.05]))


def test_identical_differences_per_run_fall_back_to_the_run_means():
    from helpers.maths.statistics import random_effects_ci

    ci = random_effects_ci(_runs_frame([0.1, 0.2, 0.3], spread=0.0))
    by_run = mean_ci([0.1, 0.2, 0.3])
    assert ci.mean == pytest.approx(0.2) and ci.half == pytest.approx(by_run.half, rel=1e-3)


# ------------------------------------------------------------------------- line bands, Fieller, leave-one-out


def test_the_band_is_narrowest_at_the_mean_of_x():
    x = np.array([0.1, 0.3, 0.5, 0.9, 1.2])
    fit = fit_line(x, 0.6 * x + 0.1 + np.array([0.01, -0.02, 0.015, -0.005, 0.0]))
    low, high = fit.band([x.mean(), x.max()])
    half_at_mean = (high[0] - low[0]) / 2
    assert half_at_mean == pytest.approx(t_quantile(0.975, 3) * fit.residual_sd / math.sqrt(5))
    assert high[1] - low[1] > high[0] - low[0]


def test_fieller_interval_holds_the_crossing_and_meets_the_bound_at_its_ends():
    x = np.array([0.08, 0.25, 0.4, 1.0])
    fit = fit_line(x, 0.73 * x + 0.1 + np.array([0.0, 0.02, -0.02, 0.0]))
    y0, y0_se = 0.3, 0.01
    crossing = fit.crossing_interval(y0, y0_se)
    assert crossing.bounded and crossing.low < crossing.point < crossing.high
    assert crossing.point == pytest.approx(fit.crossing(y0))
    t2 = t_quantile(0.975, fit.n - 2) ** 2
    s2 = fit.residual_sd ** 2

    def excess(v):  # (y0 − a − b·x)² − t² · Var(y0 − a − b·x): zero at Fieller's ends
        var = y0_se ** 2 + s2 * (1 / fit.n + (v - fit.x_mean) ** 2 / fit.sxx)
        return (y0 - fit.intercept - fit.slope * v) ** 2 - t2 * var

    assert excess(crossing.low) == pytest.approx(0, abs=1e-12) and excess(crossing.high) == pytest.approx(0, abs=1e-12)
    assert excess(crossing.point) < 0
    wider = fit.crossing_interval(y0, 0.05)
    assert wider.low < crossing.low and wider.high > crossing.high  # the ERM mean's uncertainty widens it


def test_a_crossing_is_unbounded_when_the_slopes_interval_contains_zero():
    x = np.array([0.1, 0.2, 0.3, 0.4])
    fit = fit_line(x, np.array([0.3, 0.1, 0.35, 0.2]))
    assert fit.slope_low < 0 < fit.slope_high
    crossing = fit.crossing_interval(0.25)
    assert not crossing.bounded and crossing.low == -math.inf and crossing.high == math.inf


def test_leave_one_out_slopes_expose_a_leverage_point():
    from helpers.maths.regression import leave_one_out_slopes

    x = np.array([0.08, 0.2, 0.4, 1.0])
    y = np.array([0.1, 0.2, 0.4, 0.7])  # slope 1 through the first three, the last point bends it
    slopes = leave_one_out_slopes(x, y, ["a", "b", "c", "d"])
    assert list(slopes) == ["a", "b", "c", "d"]
    assert slopes["d"] == pytest.approx(fit_line(x[:3], y[:3]).slope) and slopes["d"] > fit_line(x, y).slope + 0.2
    two = leave_one_out_slopes([0.1, 0.1, 0.5], [0.2, 0.3, 0.4], ["a", "a", "b"])
    assert math.isnan(two["a"]) and math.isnan(two["b"])  # one distinct x left either way: no slope


def test_the_one_column_check_names_the_frame_and_what_it_lacks():
    frame = pd.DataFrame({"a": [1.0]})
    check_columns(frame, ["a"], "points")
    check_columns(frame.iloc[:0], ["a"], "points")  # an empty frame passes unless rows are required
    with pytest.raises(ValueError, match=r"points lacks column\(s\) \['b'\]; it has \['a'\]"):
        check_columns(frame, ["a", "b"], "points")
    with pytest.raises(ValueError, match="points is empty"):
        check_columns(frame.iloc[:0], ["a"], "points", non_empty=True)
    with pytest.raises(ValueError, match="points must be a pandas DataFrame, got dict"):
        check_columns({"a": [1.0]}, ["a"], "points")


def test_no_other_module_writes_its_own_column_check():
    """helpers.maths.statistics.check_columns is the kit's one column check (the lowest layer: every layer may use it)."""
    import re
    from pathlib import Path

    package = Path(__file__).resolve().parents[1] / "helpers"
    copies = [str(path.relative_to(package)) for path in sorted(package.rglob("*.py"))
              if path.name != "statistics.py" and re.search(r"for \w+ in \w+ if \w+ not in \w+\.columns", path.read_text())]
    assert not copies, f"a column check written again (use helpers.maths.statistics.check_columns): {copies}"
