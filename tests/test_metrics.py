"""Tests of helpers.maths.metrics: entropy, confidence, NLL, reliability bins, ECE, summarize."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from strategies import FLOATS, logits_and_targets

from helpers.maths.metrics import (
    accuracy,
    entropy,
    expected_calibration_error,
    max_probability,
    negative_log_likelihood,
    reliability_bins,
    summarize,
)

SETTINGS = settings(max_examples=60, deadline=None)


pytestmark = pytest.mark.usefixtures("single_torch_thread")


def _np_softmax(logits) -> np.ndarray:
    z = np.asarray(logits, dtype=np.float64)
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def _np_ece(logits, targets, n_bins: int, conf=None) -> float:
    """Independent ECE: bins (b/n, (b+1)/n], the first also holding 0, via searchsorted.

    The prediction is the argmax of the logits (as the kit defines it). ``conf`` may be given (the kit's float32
    confidences) so that a confidence lying on a bin edge falls in the same bin in both computations.
    """
    logits = np.asarray(logits)
    conf = _np_softmax(logits).max(axis=1) if conf is None else np.asarray(conf, dtype=float)
    correct = (logits.argmax(axis=1) == np.asarray(targets)).astype(float)
    upper_edges = np.linspace(0.0, 1.0, n_bins + 1)[1:]
    index = np.minimum(np.searchsorted(upper_edges, conf, side="left"), n_bins - 1)
    ece = 0.0
    for b in range(n_bins):
        member = index == b
        if member.any():
            ece += member.mean() * abs(correct[member].mean() - conf[member].mean())
    return ece


# ---------------------------------------------------------------- entropy and confidence


@SETTINGS
@given(logits_and_targets(dtype=np.float32))
def test_entropy_is_between_zero_and_log_k(data):
    logits, _ = data
    h = entropy(logits)
    assert h.shape == (logits.shape[0],)
    assert bool((h >= 0).all())
    assert bool((h <= math.log(logits.shape[1]) + 1e-5).all())
    # matches -sum p log p computed independently
    p = _np_softmax(logits)
    with np.errstate(divide="ignore", invalid="ignore"):
        expected = -np.where(p > 0, p * np.log(p), 0.0).sum(axis=1)
    np.testing.assert_allclose(h.numpy(), expected, atol=1e-5)


@pytest.mark.parametrize("k", [2, 3, 10, 100])
@pytest.mark.parametrize("value", [0.0, -7.5, 1e4])
def test_entropy_of_equal_logits_is_log_k(k, value):
    h = entropy(torch.full((3, k), value))
    np.testing.assert_allclose(h.numpy(), math.log(k), rtol=1e-6)


def test_entropy_of_one_hot_like_logits_is_zero():
    logits = torch.tensor([[50.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1e4]])
    assert float(entropy(logits).max()) < 1e-6
    # and a worked example: p = (1/2, 1/4, 1/4) -> H = 1.5 log 2
    h = entropy(torch.tensor([[math.log(2.0), 0.0, 0.0]]))
    assert float(h[0]) == pytest.approx(1.5 * math.log(2.0), abs=1e-6)


@SETTINGS
@given(logits_and_targets(dtype=np.float32))
def test_max_probability_is_between_one_over_k_and_one(data):
    logits, _ = data
    m = max_probability(logits)
    k = logits.shape[1]
    assert m.shape == (logits.shape[0],)
    assert bool((m >= 1.0 / k - 1e-6).all()) and bool((m <= 1.0 + 1e-6).all())
    np.testing.assert_allclose(m.numpy(), _np_softmax(logits).max(axis=1), atol=1e-6)


def test_max_probability_examples():
    m = max_probability(torch.tensor([[0.0, 0.0, 0.0, 0.0], [math.log(3.0), 0.0, -1e4, -1e4]]))
    np.testing.assert_allclose(m.numpy(), [0.25, 0.75], atol=1e-6)


# ---------------------------------------------------------------- NLL and accuracy


@SETTINGS
@given(logits_and_targets(dtype=np.float32))
def test_nll_equals_cross_entropy(data):
    logits, targets = data
    nll = negative_log_likelihood(logits, targets)
    assert isinstance(nll, float)
    assert nll == pytest.approx(F.cross_entropy(logits.double(), targets).item(), rel=1e-5, abs=1e-5)
    p = _np_softmax(logits)
    by_hand = -np.mean(np.log(p[np.arange(len(targets)), targets.numpy()]))
    assert nll == pytest.approx(by_hand, rel=1e-4, abs=1e-4)


def test_accuracy_by_hand():
    logits = torch.tensor([[2.0, 0.0], [0.0, 1.0], [3.0, -1.0], [0.0, 5.0]])
    assert accuracy(logits, torch.tensor([0, 1, 1, 0])) == pytest.approx(0.5)
    assert accuracy(logits, torch.tensor([0, 1, 0, 1])) == pytest.approx(1.0)


def test_metrics_accept_numpy_inputs():
    logits = np.array([[2.0, 0.0], [0.0, 1.0]])
    targets = np.array([0, 0])
    assert accuracy(logits, targets) == pytest.approx(0.5)
    assert negative_log_likelihood(logits, targets) == pytest.approx(
        F.cross_entropy(torch.tensor(logits), torch.tensor(targets)).item(), abs=1e-6
    )


# ---------------------------------------------------------------- reliability bins and ECE


@SETTINGS
@given(logits_and_targets(max_batch=64, dtype=np.float32), st.integers(1, 20))
def test_ece_is_the_count_weighted_gap_of_its_bins_and_bins_count_everything(data, n_bins):
    logits, targets = data
    ece = expected_calibration_error(logits, targets, n_bins)
    assert isinstance(ece, float)
    bins = reliability_bins(logits, targets, n_bins)
    # ECE = sum over bins of (bin count / N) * |accuracy - confidence|, from the bins themselves (not a range check)
    nonempty = bins["count"] > 0
    weights = bins["count"][nonempty].double() / logits.shape[0]
    gaps = (bins["accuracy"][nonempty] - bins["confidence"][nonempty]).abs().double()
    assert ece == pytest.approx(float((weights * gaps).sum()), abs=1e-6)
    conf32 = torch.softmax(logits.float(), dim=-1).max(dim=-1).values.double().numpy()
    assert ece == pytest.approx(_np_ece(logits.numpy(), targets.numpy(), n_bins, conf=conf32), abs=1e-5)
    assert bins["count"].shape == (n_bins,)
    assert bins["edges"].shape == (n_bins + 1,)
    assert float(bins["count"].sum()) == logits.shape[0]
    nonempty = bins["count"] > 0
    assert bool(torch.isnan(bins["accuracy"][~nonempty]).all())
    assert bool(torch.isnan(bins["confidence"][~nonempty]).all())
    acc, conf = bins["accuracy"][nonempty], bins["confidence"][nonempty]
    assert bool(((acc >= 0) & (acc <= 1)).all())
    # the mean confidence of a bin lies inside the bin
    lo, hi = bins["edges"][:-1][nonempty], bins["edges"][1:][nonempty]
    assert bool((conf >= lo - 1e-6).all()) and bool((conf <= hi + 1e-6).all())


@pytest.mark.parametrize("logits", [[0.0, 1e-10, 1e-10], [-1e-9, 0.0, -1e-9], [0.0, 0.0, 0.0]])
def test_near_ties_predict_the_argmax_of_the_logits_in_accuracy_and_ece_alike(logits):
    # float32 rounds these softmax probabilities to a tie; the prediction is still the logits' argmax (first of ties)
    logits = torch.tensor([logits])
    predicted = int(np.asarray(logits[0]).argmax())
    for target in range(3):
        correct = float(target == predicted)
        targets = torch.tensor([target])
        assert accuracy(logits, targets) == correct
        bins = reliability_bins(logits, targets, 1)
        assert float(bins["accuracy"][0]) == correct
        assert expected_calibration_error(logits, targets, 1) == pytest.approx(abs(correct - 1 / 3), abs=1e-6)


def test_ece_is_zero_when_perfectly_calibrated():
    # 4 examples at confidence 3/4 with 3 correct, 10 at confidence 9/10 with 9 correct.
    logits = torch.tensor([[math.log(3.0), 0.0]] * 4 + [[0.0, math.log(9.0)]] * 10)
    targets = torch.tensor([0, 0, 0, 1] + [1] * 9 + [0])
    for n_bins in (15, 10, 4):
        assert expected_calibration_error(logits, targets, n_bins) == pytest.approx(0.0, abs=1e-6)
    # and wrong labels break it: 1 of 4 correct at confidence 3/4 gives a gap of 1/2 on 4/14 of the data
    bad_targets = torch.tensor([0, 1, 1, 1] + [1] * 9 + [0])
    assert expected_calibration_error(logits, bad_targets, 15) == pytest.approx(0.5 * 4 / 14, abs=1e-6)


def test_ece_single_bin_is_abs_accuracy_minus_confidence():
    # confidences 2/3 (predicts 0, target 1: wrong) and 4/5 (predicts 1, target 1: right)
    logits = torch.tensor([[math.log(2.0), 0.0], [0.0, math.log(4.0)]])
    targets = torch.tensor([1, 1])
    expected = abs(0.5 - (2 / 3 + 4 / 5) / 2)
    assert expected_calibration_error(logits, targets, n_bins=1) == pytest.approx(expected, abs=1e-6)
    # both confidences fall in (1/2, 1]: the same single non-empty bin with n_bins=2
    assert expected_calibration_error(logits, targets, n_bins=2) == pytest.approx(expected, abs=1e-6)
    bins = reliability_bins(logits, targets, n_bins=2)
    assert bins["count"].tolist() == [0.0, 2.0]
    assert float(bins["accuracy"][1]) == pytest.approx(0.5)
    assert float(bins["confidence"][1]) == pytest.approx((2 / 3 + 4 / 5) / 2, abs=1e-6)


def test_bin_edges_are_right_closed():
    # confidence exactly 1/2 (two equal logits) lies in bin (0, 1/2] of 2 bins, i.e. bin 0.
    bins = reliability_bins(torch.zeros(3, 2), torch.tensor([0, 1, 0]), n_bins=2)
    assert bins["count"].tolist() == [3.0, 0.0]


@pytest.mark.parametrize("n_bins", [15, 10])
@pytest.mark.parametrize("seed", range(5))
def test_ece_matches_numpy_reimplementation(n_bins, seed):
    rng = np.random.default_rng(seed)
    k = int(rng.integers(2, 11))
    logits = (rng.normal(size=(500, k)) * rng.uniform(0.5, 4.0)).astype(np.float32)
    # targets agree with the arg-max 70% of the time
    targets = np.where(rng.uniform(size=500) < 0.7, logits.argmax(axis=1), rng.integers(0, k, size=500))
    ece = expected_calibration_error(torch.from_numpy(logits), torch.from_numpy(targets), n_bins)
    assert ece == pytest.approx(_np_ece(logits, targets, n_bins), abs=1e-5)
    assert ece > 0.0


# ---------------------------------------------------------------- summarize


def test_summarize_returns_float_headline_metrics():
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(50, 4, generator=g)
    targets = torch.randint(0, 4, (50,), generator=g)
    summary = summarize(logits, targets, n_bins=10)
    assert set(summary) == {"accuracy", "entropy", "max_prob", "nll", "ece"}
    assert all(isinstance(v, float) for v in summary.values())
    assert summary["accuracy"] == pytest.approx((logits.argmax(1) == targets).float().mean().item())
    assert summary["entropy"] == pytest.approx(entropy(logits).mean().item())
    assert summary["max_prob"] == pytest.approx(_np_softmax(logits).max(axis=1).mean(), abs=1e-6)
    assert summary["nll"] == pytest.approx(F.cross_entropy(logits, targets).item(), abs=1e-6)
    assert summary["ece"] == pytest.approx(_np_ece(logits.numpy(), targets.numpy(), 10), abs=1e-5)


# ---------------------------------------------------------------- stability


def test_huge_logits_give_finite_entropy_and_nll():
    logits = torch.tensor([[1e4, -1e4, 0.0], [-1e4, 1e4, 1e4 - 1.0], [3e4, 2e4, 1e4]])
    targets = torch.tensor([0, 2, 0])
    h = entropy(logits)
    assert bool(torch.isfinite(h).all())
    assert float(h[0]) == pytest.approx(0.0, abs=1e-12)
    assert float(h[2]) == pytest.approx(0.0, abs=1e-12)
    assert 0.0 < float(h[1]) < math.log(2.0)
    nll = negative_log_likelihood(logits, targets)
    assert math.isfinite(nll)
    # -log p for row 1, target 2: log(1 + e) ~ 1.3133; rows 0 and 2 are correct with p = 1.
    assert nll == pytest.approx(math.log1p(math.e) / 3, abs=1e-5)
    assert math.isfinite(expected_calibration_error(logits, targets))
    # clear winners: confidence 1, so ECE is 0 when all are right and 1 when all are wrong
    winners = torch.tensor([[1e4, -1e4, 0.0], [0.0, 2e4, 1e4], [-1e4, 0.0, 1e4]])
    assert expected_calibration_error(winners, torch.tensor([0, 1, 2])) == pytest.approx(0.0, abs=1e-6)
    assert expected_calibration_error(winners, torch.tensor([1, 2, 0])) == pytest.approx(1.0, abs=1e-6)
    assert bool(torch.isfinite(max_probability(logits)).all())


# ---------------------------------------------------------------- validation


def test_wrong_target_count_raises():
    logits = torch.zeros(3, 4)
    for fn in (negative_log_likelihood, accuracy, expected_calibration_error, reliability_bins, summarize):
        with pytest.raises(ValueError, match=r"targets.*\(3,\).*\(2,\)"):
            fn(logits, torch.tensor([0, 1]))


@pytest.mark.parametrize("bad", [4, -1])
def test_target_out_of_range_raises(bad):
    logits = torch.zeros(3, 4)
    for fn in (negative_log_likelihood, accuracy, expected_calibration_error, reliability_bins, summarize):
        with pytest.raises(ValueError, match=rf"targets.*{bad}"):
            fn(logits, torch.tensor([0, bad, 1]))


@pytest.mark.parametrize("n_bins", [0, -3, 2.5])
def test_bad_n_bins_raises(n_bins):
    logits, targets = torch.zeros(3, 4), torch.tensor([0, 1, 2])
    for fn in (expected_calibration_error, reliability_bins, summarize):
        with pytest.raises(ValueError, match=rf"n_bins.*{n_bins}"):
            fn(logits, targets, n_bins)


@pytest.mark.parametrize("dtype", [torch.int16, torch.int32, torch.uint8])
def test_metrics_accept_integer_targets_of_any_width(dtype):
    logits = torch.tensor([[2.0, 0.0, -1.0], [0.0, 1.0, 0.5], [0.1, 0.2, 3.0]])
    targets = torch.tensor([0, 2, 2])
    assert summarize(logits, targets.to(dtype)) == summarize(logits, targets)


def test_a_confidence_just_above_a_bin_edge_is_binned_above_it():
    # [0, 0, 0] has float32 confidence 0.33333334 > 1/3: bin (1/3, 2/3] with n_bins = 3, beside the 0.42 example
    logits = torch.tensor([[-1.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
    targets = torch.tensor([0, 0])
    bins = reliability_bins(logits, targets, 3)
    assert bins["count"].tolist() == [0.0, 2.0, 0.0]
    confidence = (1 / 3 + 1 / (math.exp(-1.0) + 2.0)) / 2
    assert expected_calibration_error(logits, targets, 3) == pytest.approx(abs(0.5 - confidence), abs=1e-6)
