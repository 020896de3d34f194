"""Seed statistics: t quantiles against printed tables, intervals, paired differences, directions, Holm, line fits."""

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers.maths.statistics import (
    difference_summary,
    direction,
    fit_line,
    format_ci,
    holm,
    mean_ci,
    paired_differences,
    paired_t_pvalue,
    seed_summary,
    t_cdf,
    t_quantile,
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
