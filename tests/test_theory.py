"""Tests of helpers.maths.theory: closed forms against independent numerical references."""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from matplotlib.figure import Figure

from helpers.maths import theory, toy_training
from helpers.maths.losses import distillation_loss
from helpers.reporting.plotting import plot_entropy_vs_teacher_confidence, plot_gradient_descent_demo

SETTINGS = settings(max_examples=50, deadline=None)
FLOATS = st.floats(min_value=-15.0, max_value=15.0, allow_nan=False, allow_infinity=False, width=32)
ALPHAS = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)


def _np_entropy(p) -> float:
    """-sum p log p in float64 numpy, 0 log 0 = 0 (independent of helpers.maths.metrics)."""
    p = np.asarray(p, dtype=np.float64)
    nz = p[p > 0]
    return float(-(nz * np.log(nz)).sum())


def _np_softmax(z) -> np.ndarray:
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _minimise_logits(loss, k: int, steps: int = 400) -> torch.Tensor:
    """Independent reference: plain gradient descent with momentum on free float64 logits from 0."""
    z = torch.zeros(1, k, dtype=torch.float64, requires_grad=True)
    optimiser = torch.optim.SGD([z], lr=2.0, momentum=0.9)
    for _ in range(steps):
        optimiser.zero_grad()
        loss(z).backward()
        optimiser.step()
    return z.detach()[0]


# ----------------------------------------------------------------------------- softmax and temperature


def test_softmax_with_temperature_matches_numpy():
    z = [2.0, 1.0, 0.1, -1.0]
    for tau in (0.3, 1.0, 4.0):
        np.testing.assert_allclose(theory.softmax_with_temperature(z, tau).numpy(), _np_softmax(np.array(z) / tau), rtol=1e-5)


def test_temperature_limits():
    z = [2.0, 1.0, 0.1, -1.0]
    table = theory.temperature_table(z, [1e-3, 1.0, 1e4])
    assert table["entropy"].iloc[0] < 1e-6 and table["max_prob"].iloc[0] == pytest.approx(1.0, abs=1e-6)
    assert table["entropy"].iloc[1] == pytest.approx(_np_entropy(_np_softmax(z)), abs=1e-5)
    assert table["entropy"].iloc[2] == pytest.approx(math.log(4), abs=1e-5)
    assert table["max_prob"].iloc[2] == pytest.approx(0.25, abs=1e-4)
    assert table["entropy / log K"].iloc[2] == pytest.approx(1.0, abs=1e-5)
    assert table["entropy"].is_monotonic_increasing


def test_distribution_entropy_matches_numpy_and_handles_zeros():
    p = [0.5, 0.25, 0.25, 0.0]
    assert theory.distribution_entropy(p).item() == pytest.approx(1.5 * math.log(2), abs=1e-6)
    assert theory.distribution_entropy([1.0, 0.0]).item() == pytest.approx(0.0, abs=1e-6)
    with pytest.raises(ValueError, match="probs"):
        theory.distribution_entropy([0.5, 0.6])


# ----------------------------------------------------------------------------- label smoothing


def test_smoothed_target_by_hand():
    np.testing.assert_allclose(theory.smoothed_target(1, 4, 0.2).numpy(), [0.05, 0.85, 0.05, 0.05], atol=1e-7)


def test_ls_optimum_by_hand_two_classes():
    opt = theory.ls_optimum(2, 0.2)
    assert opt.max_prob == pytest.approx(0.9)
    assert opt.logit_gap == pytest.approx(math.log(9.0), abs=1e-6)
    assert opt.entropy_floor == pytest.approx(-(0.9 * math.log(0.9) + 0.1 * math.log(0.1)), abs=1e-6)
    assert opt.max_entropy == pytest.approx(math.log(2))


def test_ls_optimum_edge_alphas():
    ce = theory.ls_optimum(5, 0.0)
    assert ce.max_prob == 1.0 and math.isinf(ce.logit_gap) and ce.entropy_floor == 0.0
    uniform = theory.ls_optimum(5, 1.0)
    assert uniform.max_prob == pytest.approx(0.2) and uniform.logit_gap == pytest.approx(0.0)
    assert uniform.entropy_floor == pytest.approx(math.log(5), abs=1e-6)
    with pytest.raises(ValueError, match="alpha=0"):
        theory.ls_optimal_logits(5, 0.0)


@pytest.mark.parametrize("k, alpha", [(2, 0.1), (6, 0.1), (6, 0.4), (12, 0.03)])
def test_ls_optimum_against_numerical_minimiser(k, alpha):
    target = torch.tensor([0])
    z = _minimise_logits(lambda z: F.cross_entropy(z, target, label_smoothing=alpha), k)
    p = _np_softmax(z.numpy())
    opt = theory.ls_optimum(k, alpha)
    assert p[0] == pytest.approx(opt.max_prob, abs=1e-4)
    assert (z[0] - z[1:].max()).item() == pytest.approx(opt.logit_gap, abs=1e-3)
    assert _np_entropy(p) == pytest.approx(opt.entropy_floor, abs=1e-4)
    np.testing.assert_allclose(p, theory.smoothed_target(0, k, alpha).numpy(), atol=1e-4)


def test_ls_entropy_floors_vectorised():
    alphas = [0.0, 0.1, 0.5, 1.0]
    floors = theory.ls_entropy_floors(6, alphas)
    expected = [_np_entropy(theory.smoothed_target(0, 6, a).numpy()) for a in alphas]
    np.testing.assert_allclose(floors, expected, atol=1e-5)
    assert floors[-1] == pytest.approx(math.log(6), abs=1e-5)


def test_numerical_optimum_helper_matches_closed_form():
    p = theory.numerical_optimum(lambda z: F.cross_entropy(z, torch.tensor([2]), label_smoothing=0.3), 5)
    np.testing.assert_allclose(p.numpy(), theory.smoothed_target(2, 5, 0.3).numpy(), atol=1e-6)


@SETTINGS
@given(st.integers(1, 8), st.integers(2, 9), ALPHAS, st.data())
def test_ls_decomposition_identity(batch, k, alpha, data):
    logits = torch.from_numpy(data.draw(arrays(np.float64, (batch, k), elements=FLOATS))).float()
    targets = torch.from_numpy(data.draw(arrays(np.int64, (batch,), elements=st.integers(0, k - 1))))
    parts = theory.ls_loss_decomposition(logits, targets, alpha)
    # independent reference in numpy: CE, KL(u || p), log K
    log_p = np.log(_np_softmax(logits.double().numpy()))
    ce = -log_p[np.arange(batch), targets.numpy()].mean()
    kl = (np.full(k, 1.0 / k) * (np.log(1.0 / k) - log_p)).sum(axis=1).mean()
    assert parts["ce_term"] == pytest.approx((1 - alpha) * ce, abs=1e-4, rel=1e-4)
    assert parts["kl_term"] == pytest.approx(alpha * kl, abs=1e-4, rel=1e-4)
    assert parts["constant"] == pytest.approx(alpha * math.log(k))
    assert parts["total"] == pytest.approx(parts["sum"], abs=1e-4, rel=1e-4)


# ----------------------------------------------------------------------------- distillation


@pytest.mark.parametrize("alpha", [0.3, 0.7])
def test_kd_optimum_at_tau_one_against_numerical_minimiser(alpha):
    teacher = torch.tensor([[1.5, 0.5, -0.5, 0.2]], dtype=torch.float64)
    target = torch.tensor([1])  # a teacher that disagrees with the label, to make it non-trivial
    z = _minimise_logits(lambda z: distillation_loss(z, teacher, target, alpha, 1.0), 4)
    expected = alpha * _np_softmax(teacher[0].numpy())
    expected[1] += 1 - alpha
    np.testing.assert_allclose(_np_softmax(z.numpy()), expected, atol=1e-4)
    np.testing.assert_allclose(theory.kd_optimum(teacher[0], 1, alpha).numpy(), expected, atol=1e-6)


@pytest.mark.parametrize("tau", [2.0, 4.0, 20.0])
def test_kd_optimum_at_other_temperatures_against_numerical_minimiser(tau):
    teacher = torch.tensor([[3.0, 1.0, 0.0, -1.0]], dtype=torch.float64)
    target = torch.tensor([0])
    z = _minimise_logits(lambda z: distillation_loss(z, teacher, target, 0.5, tau), 4, steps=1500)
    p = theory.kd_optimum(teacher[0], 0, 0.5, tau)
    np.testing.assert_allclose(p.numpy(), _np_softmax(z.numpy()), atol=2e-4)
    # stationarity, by hand: (1-a)(p - y) + a*tau*(p^tau - p_t^tau) = 0
    s = np.log(p.double().numpy())
    y = np.eye(4)[0]
    grad = 0.5 * (_np_softmax(s) - y) + 0.5 * tau * (_np_softmax(s / tau) - _np_softmax(teacher[0].numpy() / tau))
    assert np.abs(grad).max() < 1e-4
    # the mixture reading (1-a) y + a p_t^tau is NOT the minimiser away from tau = 1
    assert (p - theory.kd_mixed_target(teacher[0], 0, 0.5, tau)).abs().max() > 0.05


@SETTINGS
@given(arrays(np.float64, st.tuples(st.integers(1, 4), st.integers(2, 8)), elements=st.floats(-8, 8)),
       st.floats(0.01, 0.99), st.floats(1.05, 20.0))
def test_kd_optimum_is_a_stationary_point_of_the_kd_loss(teachers, alpha, tau):
    t = torch.from_numpy(teachers)
    p = theory.kd_optimum(t, 0, alpha, tau).double()
    assert torch.allclose(p.sum(-1), torch.ones(len(t), dtype=torch.float64), atol=1e-5)
    s = p.clamp_min(1e-300).log().requires_grad_(True)
    loss = distillation_loss(s, t, torch.zeros(len(t), dtype=torch.long), alpha, tau) * len(t)
    (grad,) = torch.autograd.grad(loss, s)
    assert grad.abs().max() < 1e-5


@SETTINGS
@given(arrays(np.float64, st.tuples(st.integers(1, 3), st.integers(2, 7)), elements=st.floats(-8, 8)),
       arrays(np.float64, st.tuples(st.just(1), st.integers(2, 7)), elements=st.floats(-8, 8)),
       st.floats(0.0, 1.0), st.floats(0.2, 20.0), st.data())
def test_kd_newton_derivatives_equal_autograd_on_the_kit_loss(students, _unused, alpha, tau, data):
    """The hand-written gradient and Hessian of the Newton solver are those of helpers.maths.losses.distillation_loss."""
    s = torch.from_numpy(students)
    t = torch.from_numpy(data.draw(arrays(np.float64, s.shape, elements=st.floats(-8, 8))))
    target = data.draw(st.integers(0, s.shape[1] - 1))
    grad, hessian = theory.kd_loss_derivatives(s, t, target, alpha, tau)
    targets = torch.full((len(s),), target, dtype=torch.long)
    for row in range(len(s)):
        def row_loss(z, row=row):
            return distillation_loss(z[None], t[row:row + 1], targets[row:row + 1], alpha, tau)

        assert row_loss(s[row]).dtype == torch.float64  # the kit's loss keeps float64
        auto_grad = torch.autograd.functional.jacobian(row_loss, s[row])
        auto_hessian = torch.autograd.functional.hessian(row_loss, s[row])
        torch.testing.assert_close(grad[row], auto_grad, rtol=1e-9, atol=1e-12)
        torch.testing.assert_close(hessian[row], auto_hessian, rtol=1e-9, atol=1e-12)


@pytest.mark.slow
def test_theory_and_calibration_never_import_plotting():
    import subprocess
    import sys

    code = ("import sys, helpers.maths.theory, helpers.maths.calibration; "
            "bad = [m for m in ('helpers.reporting.plotting', 'matplotlib', 'seaborn') if m in sys.modules]; "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_kd_optimum_edge_alphas_and_batches():
    t = torch.tensor([[2.0, 0.0, -1.0], [0.5, 1.0, 0.0]])
    np.testing.assert_allclose(theory.kd_optimum(t, 1, 0.0, 3.0).numpy(), [[0, 1, 0], [0, 1, 0]], atol=1e-7)
    np.testing.assert_allclose(theory.kd_optimum(t, 1, 1.0, 3.0).numpy(), _np_softmax(t.numpy()), atol=1e-6)
    batched = theory.kd_optimum(t, 1, 0.4, 3.0)
    for row in range(2):
        np.testing.assert_allclose(batched[row].numpy(), theory.kd_optimum(t[row], 1, 0.4, 3.0).numpy(), atol=1e-4)
    # a warm start from a nearby problem changes the speed, not the answer
    warm = theory.kd_optimum(t, 1, 0.4, 3.0, start=theory.kd_optimum(t, 1, 0.45, 3.3))
    np.testing.assert_allclose(warm.numpy(), batched.numpy(), atol=3e-4)


def test_kd_soft_targets_and_batched_mixed_target():
    t = torch.tensor([[2.0, 0.0, -2.0], [0.0, 0.0, 0.0]])
    mixed = theory.kd_mixed_target(t, 2, 0.25, 2.0)
    expected = 0.25 * _np_softmax(t.numpy() / 2.0)
    expected[:, 2] += 0.75
    np.testing.assert_allclose(mixed.numpy(), expected, atol=1e-6)


def test_soft_gradient_matches_analytic_form():
    g = torch.Generator().manual_seed(0)
    s, t = torch.randn(3, 5, generator=g), torch.randn(3, 5, generator=g) * 2
    for tau in (1.0, 3.0):
        analytic = (_np_softmax(s.numpy() / tau) - _np_softmax(t.numpy() / tau)) / tau / 3
        np.testing.assert_allclose(theory.soft_gradient(s, t, tau, tau_squared=False).numpy(), analytic, atol=1e-6)
        np.testing.assert_allclose(theory.soft_gradient(s, t, tau).numpy(), analytic * tau**2, atol=1e-5)


def test_tau_squared_scaling_and_logit_matching_limit():
    g = torch.Generator().manual_seed(1)
    s, t = torch.randn(4, 6, generator=g), torch.randn(4, 6, generator=g) * 3
    table = theory.tau_squared_table(s, t, [1.0, 12.5, 25.0, 50.0, 100.0])  # the losses cap tau at 100
    raw = table["grad_norm"].to_numpy()
    # without tau^2 the soft gradient shrinks like 1/tau^2 at large tau: doubling tau quarters it
    assert raw[3] / raw[2] == pytest.approx(0.25, rel=0.02)
    assert raw[4] / raw[3] == pytest.approx(0.25, rel=0.01)
    # with tau^2 it tends to logit matching (Hinton et al., 2015)
    diffs = table["rel_diff_to_logit_matching"].to_numpy()
    assert np.all(np.diff(diffs) < 0) and diffs[-1] < 0.02
    assert diffs[-1] / diffs[-2] == pytest.approx(0.5, rel=0.05)  # the distance shrinks like 1/tau
    centred = (s - s.mean(1, keepdim=True)) - (t - t.mean(1, keepdim=True))
    np.testing.assert_allclose(theory.logit_matching_gradient(s, t).numpy(), centred.numpy() / (6 * 4), atol=1e-7)


# ----------------------------------------------------------------------------- gradient-descent demo


def test_gradient_descent_demo_ce_grows_and_ls_settles():
    demo = toy_training.gradient_descent_demo(num_classes=5, alpha=0.2, steps=1500, learning_rate=1.0)
    expected_gap = math.log((1 - 0.2 + 0.2 / 5) / (0.2 / 5))
    assert demo.predicted_gap == pytest.approx(expected_gap, abs=1e-6)
    assert demo.ls_gap[-1] == pytest.approx(expected_gap, abs=1e-3)
    assert demo.ls_max_prob[-1] == pytest.approx(1 - 0.2 + 0.2 / 5, abs=1e-4)
    # CE: the gap never stops growing (strictly increasing, still growing at the end) and passes LS's
    assert np.all(np.diff(demo.ce_gap) > 0)
    later = demo.steps >= 100
    assert demo.ce_gap[later][-1] - demo.ce_gap[later][0] > 1.0
    assert demo.ce_gap[-1] > demo.ls_gap[-1] + 2.0
    assert demo.frame().shape[0] == len(demo.steps)
    assert {0, 1, 10, 100, 1000, 1500} <= set(demo.steps.tolist())  # the table in notebook 02 shows these
    fig = plot_gradient_descent_demo(demo)
    assert isinstance(fig, Figure)
    ce_line, ls_line = fig.axes[0].lines[:2]
    np.testing.assert_allclose(ls_line.get_ydata(), demo.ls_gap[demo.steps >= 1])
    plt.close(fig)


def test_gradient_descent_demo_rejects_bad_input():
    with pytest.raises(ValueError, match="alpha"):
        toy_training.gradient_descent_demo(alpha=0.0)
    with pytest.raises(ValueError, match="steps"):
        toy_training.gradient_descent_demo(steps=0)


# ----------------------------------------------------------------------------- LS versus KD


@SETTINGS
@given(st.integers(1, 8), st.integers(2, 9), ALPHAS, st.data())
def test_uniform_teacher_identity(batch, k, alpha, data):
    logits = torch.from_numpy(data.draw(arrays(np.float64, (batch, k), elements=FLOATS))).float()
    targets = torch.from_numpy(data.draw(arrays(np.int64, (batch,), elements=st.integers(0, k - 1))))
    result = theory.uniform_teacher_identity(logits, targets, alpha)
    assert result["ls"] - result["kd"] == pytest.approx(alpha * math.log(k), abs=1e-4)
    assert result["ls_minus_kd"] == pytest.approx(result["alpha_log_k"], abs=1e-4)
    assert result["max_grad_diff"] < 1e-5


def test_teacher_logits_with_confidence():
    base = [4.0, 2.0, 1.0, 0.0, -1.0, -2.0]
    for c in (0.3, 0.9, 0.99):
        t = theory.teacher_logits_with_confidence(base, c)
        assert _np_softmax(t.numpy()).max() == pytest.approx(c, abs=1e-5)
        assert np.all(np.diff(t.numpy()) < 0)  # the ranking (dark knowledge) is kept
    assert torch.equal(theory.teacher_logits_with_confidence(base, 1 / 6), torch.zeros(6))
    with pytest.raises(ValueError, match="confidence"):
        theory.teacher_logits_with_confidence(base, 1.0)
    with pytest.raises(ValueError, match="unique maximum"):
        theory.teacher_logits_with_confidence([1.0, 1.0, 0.0], 0.5)


def test_compare_targets_entropy_argument():
    base = [4.0, 2.0, 1.0, 0.0, -1.0, -2.0]
    confident = theory.compare_targets(theory.teacher_logits_with_confidence(base, 0.95), 0, 0.5, 1.0)
    kd_expected = 0.5 * _np_softmax(theory.teacher_logits_with_confidence(base, 0.95).numpy())
    kd_expected[0] += 0.5
    np.testing.assert_allclose(confident.kd_target.numpy(), kd_expected, atol=1e-6)
    np.testing.assert_allclose(confident.kd_mixed.numpy(), kd_expected, atol=1e-6)  # equal at tau = 1
    assert confident.kd_entropy == pytest.approx(_np_entropy(kd_expected), abs=1e-5)
    assert confident.ls_entropy == pytest.approx(_np_entropy(theory.smoothed_target(0, 6, 0.5).numpy()), abs=1e-5)
    assert confident.kd_entropy < confident.ls_entropy - 0.5
    # a uniform teacher at tau = 1 makes the KD optimum the LS target (Yuan et al.)
    uniform = theory.compare_targets(torch.zeros(6), 0, 0.5, 1.0)
    np.testing.assert_allclose(uniform.kd_target.numpy(), uniform.ls_target.numpy(), atol=1e-6)
    # a very hot teacher: the mixture reading tends to LS, but the exact optimum keeps the teacher's confidence
    hot = theory.compare_targets(theory.teacher_logits_with_confidence(base, 0.95), 0, 0.5, 50.0)
    assert hot.kd_mixed_entropy == pytest.approx(hot.ls_entropy, abs=0.02)
    assert hot.kd_entropy < hot.ls_entropy - 0.5
    assert hot.kd_max_prob > 0.95


def test_entropy_vs_teacher_confidence_table_and_plot():
    base = [4.0, 2.0, 1.0, 0.0, -1.0, -2.0]
    frame = theory.entropy_vs_teacher_confidence(base, 0.5, 1.0, [1 / 6, 0.5, 0.9])
    assert list(frame.columns) == ["teacher_confidence", "teacher_entropy", "kd_entropy", "kd_mixed_entropy", "ls_entropy"]
    assert frame["kd_entropy"].iloc[0] == pytest.approx(frame["ls_entropy"].iloc[0], abs=1e-5)
    assert frame["kd_entropy"].is_monotonic_decreasing
    assert frame["teacher_entropy"].iloc[0] == pytest.approx(math.log(6), abs=1e-5)
    fig = plot_entropy_vs_teacher_confidence(frame, 0.5, 1.0, num_classes=6)
    assert isinstance(fig, Figure)
    np.testing.assert_allclose(fig.axes[0].lines[0].get_ydata(), frame["kd_entropy"])
    plt.close(fig)


# ----------------------------------------------------------------------------- finite training


@pytest.fixture(scope="module")
def finite_demo():
    return toy_training.finite_training_demo(steps=100)


def test_finite_training_kd_below_or_above_erm_depends_on_the_teacher(finite_demo):
    h = finite_demo.at_step(30)
    assert h["kd_confident"] < h["erm"] - 0.05  # a confident teacher: KD below ERM at a small budget
    assert h["kd_unconfident"] > h["erm"] + 0.05  # an unconfident one: above
    assert h["ls"] > h["erm"]
    # every trajectory was recorded at the default steps
    assert sorted(set(finite_demo.trajectory["step"])) == [1, 3, 10, 30, 100]
    # the teachers are what their names say, on unseen data
    teachers = finite_demo.teachers.set_index("method")
    assert teachers.loc["kd_confident", "test_entropy"] < h["erm"] < teachers.loc["kd_unconfident", "test_entropy"]


def test_finite_training_at_convergence_erm_is_one_hot_and_lowest(finite_demo):
    c = finite_demo.converged.set_index("method")
    assert c.loc["erm", "train_entropy"] < 1e-4  # separable training set: ERM's optimum is one-hot
    assert c["test_entropy"].idxmin() == "erm"
    assert c.loc["kd_confident", "test_entropy"] > c.loc["erm", "test_entropy"]
    # LS at its finite optimum keeps its training predictions uncertain
    assert c.loc["ls", "train_entropy"] > 0.5


def test_finite_training_summary_is_rendered_from_the_numbers(finite_demo):
    text = toy_training.finite_training_summary(finite_demo, 30)
    h = finite_demo.at_step(30)
    assert f"{h['erm']:.3f}" in text and f"{h['kd_confident']:.3f}" in text
    assert "confident teacher is **below**" in text and "unconfident teacher **above**" in text
    assert "the lowest of the four" in text
    swapped = toy_training.FiniteTrainingDemo(finite_demo.alpha, finite_demo.temperature, finite_demo.learning_rate,
                                        finite_demo.trajectory.replace({"kd_confident": "kd_unconfident",
                                                                        "kd_unconfident": "kd_confident"}),
                                        finite_demo.converged, finite_demo.teachers)
    assert "confident teacher is **above**" in toy_training.finite_training_summary(swapped, 30)
    with pytest.raises(ValueError, match="not recorded"):
        finite_demo.at_step(31)


def test_finite_training_demo_rejects_bad_input():
    with pytest.raises(ValueError, match="steps"):
        toy_training.finite_training_demo(steps=0)
    with pytest.raises(ValueError, match="alpha"):
        toy_training.finite_training_demo(alpha=2.0)


# ----------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: theory.smoothed_target(0, 4, 1.5), "alpha"),
        (lambda: theory.smoothed_target(4, 4, 0.1), "target"),
        (lambda: theory.ls_optimum(1, 0.1), "num_classes"),
        (lambda: theory.softmax_with_temperature([1.0, 2.0], 0.0), "temperature"),
        (lambda: theory.softmax_with_temperature([1.0], 1.0), "logits"),
        (lambda: theory.softmax_with_temperature([1.0, float("nan")], 1.0), "non-finite"),
        (lambda: theory.kd_mixed_target([1.0, 0.0], 0, -0.1), "alpha"),
        (lambda: theory.soft_gradient(torch.zeros(2, 3), torch.zeros(2, 4), 1.0), "shape"),
        (lambda: theory.temperature_table([[1.0, 2.0]], [1.0]), "one example"),
    ],
)
def test_bad_input_raises_value_error(call, match):
    with pytest.raises(ValueError, match=match):
        call()
