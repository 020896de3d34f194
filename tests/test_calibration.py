"""Tests of helpers.maths.calibration: temperature scaling recovers a known temperature."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from helpers.maths.calibration import T_MAX, T_MIN, fit_temperature, scale_logits, temperature_scaling_report


def _sample(n: int, k: int = 6, spread: float = 2.0, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Base logits z and labels drawn from softmax(z): z is perfectly calibrated by construction."""
    g = torch.Generator().manual_seed(seed)
    z = torch.randn(n, k, generator=g) * spread
    y = torch.multinomial(torch.softmax(z, dim=-1), 1, generator=g).squeeze(1)
    return z, y


def _nll(z: torch.Tensor, y: torch.Tensor, t: float) -> float:
    """Mean NLL of softmax(z / t) in float64 numpy (independent of the module)."""
    a = z.double().numpy() / t
    a = a - a.max(axis=1, keepdims=True)
    log_p = a - np.log(np.exp(a).sum(axis=1, keepdims=True))
    return float(-log_p[np.arange(len(y)), y.numpy()].mean())


@pytest.mark.parametrize("t_true", [0.5, 2.0, 4.0])
def test_recovers_known_temperature(t_true):
    z, y = _sample(20_000)
    # logits T_true * z, labels from softmax(z): dividing by T_true is the calibrated answer
    assert fit_temperature(t_true * z, y) == pytest.approx(t_true, rel=0.05)


def test_fitted_temperature_is_the_nll_minimum():
    z, y = _sample(3000, seed=1)
    t = fit_temperature(2.5 * z, y)
    best = _nll(2.5 * z, y, t)
    assert best <= _nll(2.5 * z, y, t * 1.02) and best <= _nll(2.5 * z, y, t / 1.02)


def test_separable_data_hits_the_lower_bound():
    y = torch.arange(6).repeat(10)
    z = torch.nn.functional.one_hot(y, 6).float() * 5.0  # every example confidently right
    assert fit_temperature(z, y) == pytest.approx(T_MIN)
    assert fit_temperature(z, y, t_min=0.5) == pytest.approx(0.5)


def test_scale_logits():
    z, _ = _sample(10)
    assert torch.equal(scale_logits(z, 1.0), z)
    torch.testing.assert_close(scale_logits(z, 2.0), z / 2.0)
    scaled = scale_logits(z, 3.0)
    assert torch.equal(scaled.argmax(-1), z.argmax(-1))  # accuracy never changes


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda z, y: scale_logits(z, 0.0), "temperature"),
        (lambda z, y: scale_logits(z, -1.0), "temperature"),
        (lambda z, y: scale_logits(z, float("nan")), "temperature"),
        (lambda z, y: scale_logits(torch.ones(3, 2, dtype=torch.long), 2.0), "floating-point"),
        (lambda z, y: fit_temperature(z[:, :1], y), "shape"),
        (lambda z, y: fit_temperature(z, y[:-1]), "targets"),
        (lambda z, y: fit_temperature(z, y + 10), "targets"),
        (lambda z, y: fit_temperature(z, y, t_min=2.0, t_max=1.0), "t_min"),
        (lambda z, y: fit_temperature(z, y, t_min=0.0), "temperature"),
        (lambda z, y: fit_temperature(z * float("nan"), y), "non-finite"),
    ],
)
def test_bad_input_raises_value_error(call, match):
    z, y = _sample(20)
    with pytest.raises(ValueError, match=match):
        call(z, y)


def test_report_before_and_after():
    z, y = _sample(4000, seed=2)
    val, test = (3.0 * z[:2000], y[:2000]), (3.0 * z[2000:], y[2000:])
    t, table = temperature_scaling_report(*val, *test)
    assert t == pytest.approx(3.0, rel=0.1)
    assert list(table["split"]) == ["validation", "validation", "test", "test"]
    assert list(table["scaling"]) == ["before", "after"] * 2
    after = table[table["scaling"] == "after"]
    assert (after["temperature"] == t).all()
    for split in ("validation", "test"):
        rows = table[table["split"] == split].set_index("scaling")
        assert rows.loc["after", "nll"] < rows.loc["before", "nll"]
        assert rows.loc["after", "ece"] < rows.loc["before", "ece"]
        assert rows.loc["after", "accuracy"] == rows.loc["before", "accuracy"]
        assert rows.loc["after", "entropy"] > rows.loc["before", "entropy"]  # T > 1 softens
    assert math.isclose(table.loc[3, "nll"], _nll(test[0], test[1], t), rel_tol=1e-5)
    assert T_MIN < t < T_MAX


def test_fit_agrees_with_a_fine_grid_search():
    z, y = _sample(2000, seed=4)
    grid = np.geomspace(0.2, 20.0, 4001)
    brute = grid[int(np.argmin([_nll(3.0 * z, y, t) for t in grid]))]
    assert fit_temperature(3.0 * z, y) == pytest.approx(brute, rel=2e-3)
