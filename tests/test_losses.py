"""Tests of helpers.maths.losses: LS and KD against hand-written references, properties, validation."""

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

from helpers.maths.losses import (
    cross_entropy_loss,
    distillation_loss,
    label_smoothing_loss,
    soft_target_kl,
    Objective,
    validate_objective,
)

SETTINGS = settings(max_examples=50, deadline=None)
ALPHAS = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)
TEMPERATURES = st.floats(min_value=0.1, max_value=20.0, allow_nan=False)


pytestmark = pytest.mark.usefixtures("single_torch_thread")


# ---------------------------------------------------------------- hand-written references


def _log_softmax(z: torch.Tensor) -> torch.Tensor:
    """log softmax by explicit sums (float64), independent of F.log_softmax."""
    z = z.double()
    shifted = z - z.max(dim=1, keepdim=True).values
    return shifted - torch.log(torch.exp(shifted).sum(dim=1, keepdim=True))


def _ce_onehot(z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    log_p = _log_softmax(z)
    return -log_p[torch.arange(len(y)), y].sum() / len(y)


def _ce_uniform(z: torch.Tensor) -> torch.Tensor:
    log_p = _log_softmax(z)
    k = z.shape[1]
    return -(log_p.sum(dim=1) / k).sum() / z.shape[0]


def _kl_sum_batchmean(s: torch.Tensor, t: torch.Tensor, tau: float) -> torch.Tensor:
    log_ps, log_pt = _log_softmax(s / tau), _log_softmax(t / tau)
    per_example = (torch.exp(log_pt) * (log_pt - log_ps)).sum(dim=1)
    return per_example.sum() / s.shape[0]


def _close(a: torch.Tensor | float, b: torch.Tensor | float, rtol: float = 1e-4, atol: float = 1e-4) -> bool:
    a, b = (float(x.detach()) if isinstance(x, torch.Tensor) else float(x) for x in (a, b))
    return math.isclose(a, b, rel_tol=rtol, abs_tol=atol)


# ---------------------------------------------------------------- label smoothing


@SETTINGS
@given(logits_and_targets(), ALPHAS)
def test_label_smoothing_matches_torch_and_definition(data, alpha):
    logits, targets = data
    loss = label_smoothing_loss(logits, targets, alpha)
    torch_ref = F.cross_entropy(logits.double(), targets, label_smoothing=alpha)
    hand_ref = (1 - alpha) * _ce_onehot(logits, targets) + alpha * _ce_uniform(logits)
    assert loss.dim() == 0
    assert _close(loss, torch_ref)
    assert _close(loss, hand_ref)


def test_label_smoothing_example_by_hand():
    # K = 2, logits (0, 0): p = (1/2, 1/2), every CE is log 2.
    assert _close(label_smoothing_loss(torch.zeros(1, 2), torch.tensor([0]), 0.3), math.log(2), atol=1e-6)
    # K = 3, logits (log 2, 0, 0): p = (1/2, 1/4, 1/4); target 0.
    logits = torch.tensor([[math.log(2.0), 0.0, 0.0]])
    ce_y = math.log(2.0)
    ce_u = -(math.log(0.5) + 2 * math.log(0.25)) / 3
    expected = 0.9 * ce_y + 0.1 * ce_u
    assert _close(label_smoothing_loss(logits, torch.tensor([0]), 0.1), expected, atol=1e-6)


# ---------------------------------------------------------------- distillation


@SETTINGS
@given(logits_and_targets(n_logits=2), ALPHAS, TEMPERATURES)
def test_distillation_matches_definition(data, alpha, tau):
    student, teacher, targets = data
    loss = distillation_loss(student, teacher, targets, alpha, tau)
    expected = (1 - alpha) * _ce_onehot(student, targets) + alpha * tau**2 * _kl_sum_batchmean(student, teacher, tau)
    assert loss.dim() == 0
    assert _close(loss, expected, rtol=1e-4, atol=1e-3 * max(1.0, tau**2))


def test_distillation_example_by_hand():
    # K = 2, tau = 2: student (0, 0) -> p_s = (1/2, 1/2); teacher (2 log 3, 0) / 2 -> p_t = (3/4, 1/4).
    student = torch.zeros(1, 2)
    teacher = torch.tensor([[2 * math.log(3.0), 0.0]])
    kl = 0.75 * math.log(0.75 / 0.5) + 0.25 * math.log(0.25 / 0.5)
    expected = 0.5 * math.log(2.0) + 0.5 * 4.0 * kl
    assert _close(distillation_loss(student, teacher, torch.tensor([1]), 0.5, 2.0), expected, atol=1e-6)
    assert _close(soft_target_kl(student, teacher, 2.0), kl, atol=1e-6)


@SETTINGS
@given(logits_and_targets(n_logits=2), TEMPERATURES)
def test_alpha_zero_is_plain_cross_entropy(data, tau):
    student, teacher, targets = data
    ce = _ce_onehot(student, targets)
    assert _close(label_smoothing_loss(student, targets, 0.0), ce)
    assert _close(distillation_loss(student, teacher, targets, 0.0, tau), ce)
    assert _close(cross_entropy_loss(student, targets), ce)


@SETTINGS
@given(logits_and_targets(), TEMPERATURES)
def test_kl_is_zero_when_student_equals_teacher(data, tau):
    logits, targets = data
    assert abs(float(soft_target_kl(logits, logits.clone(), tau))) < 1e-5
    # ... so KD with alpha = 1 is 0 too, and KD with any alpha is (1 - alpha) * CE.
    assert abs(float(distillation_loss(logits, logits.clone(), targets, 1.0, tau))) < 1e-5 * max(1.0, tau**2)


def test_kl_has_its_hand_computed_value_and_direction():
    s = torch.tensor([[0.0, 1.0, 0.0]])
    t = torch.tensor([[2.0, 0.0, 0.0]])

    def softmax(z, tau):
        e = [math.exp(v / tau) for v in z]
        return [v / sum(e) for v in e]

    for tau in (1.0, 2.0, 0.5):
        p_t, p_s = softmax([2.0, 0.0, 0.0], tau), softmax([0.0, 1.0, 0.0], tau)
        expected = sum(a * math.log(a / b) for a, b in zip(p_t, p_s))  # KL(p_t || p_s), no tau**2
        assert float(soft_target_kl(s, t, tau)) == pytest.approx(expected, rel=1e-5)
    # at tau = 1 by hand: p_t = (e², 1, 1) / (e² + 2), p_s = (1, e, 1) / (e + 2)
    assert float(soft_target_kl(s, t, 1.0)) == pytest.approx(0.7794, abs=1e-4)


@SETTINGS
@given(logits_and_targets(n_logits=2), ALPHAS, TEMPERATURES)
def test_duplicating_the_batch_leaves_losses_unchanged(data, alpha, tau):
    student, teacher, targets = data
    ls = label_smoothing_loss(student, targets, alpha)
    kd = distillation_loss(student, teacher, targets, alpha, tau)
    twice = lambda x: torch.cat([x, x])  # noqa: E731
    assert _close(label_smoothing_loss(twice(student), twice(targets), alpha), ls, rtol=1e-5, atol=1e-5)
    assert _close(
        distillation_loss(twice(student), twice(teacher), twice(targets), alpha, tau), kd, rtol=1e-5, atol=1e-5
    )


@SETTINGS
@given(logits_and_targets(), ALPHAS, st.floats(-50.0, 50.0, allow_nan=False))
def test_uniform_teacher_at_tau_one_is_label_smoothing_minus_alpha_log_k(data, alpha, constant):
    student, targets = data
    k = student.shape[1]
    teacher = torch.full_like(student, constant)
    s1 = student.clone().float().requires_grad_(True)
    s2 = student.clone().float().requires_grad_(True)
    kd = distillation_loss(s1, teacher, targets, alpha, 1.0)
    ls = label_smoothing_loss(s2, targets, alpha)
    assert _close(kd, ls - alpha * math.log(k), rtol=1e-5, atol=1e-4)
    (g_kd,) = torch.autograd.grad(kd, s1)
    (g_ls,) = torch.autograd.grad(ls, s2)
    torch.testing.assert_close(g_kd, g_ls, rtol=1e-4, atol=1e-6)


def test_non_uniform_teacher_is_not_label_smoothing():
    """Companion of the identity above: it really depends on the teacher being uniform."""
    student = torch.tensor([[2.0, 0.0, -1.0]])
    teacher = torch.tensor([[0.0, 3.0, 0.0]])
    targets = torch.tensor([0])
    kd = distillation_loss(student, teacher, targets, 0.5, 1.0)
    ls = label_smoothing_loss(student, targets, 0.5)
    assert not _close(kd, ls - 0.5 * math.log(3), atol=1e-3)


# ---------------------------------------------------------------- gradient scale and teacher


def _soft_grad(student: torch.Tensor, teacher: torch.Tensor, tau: float, with_tau_squared: bool = True):
    s = student.clone().requires_grad_(True)
    targets = torch.zeros(student.shape[0], dtype=torch.long)
    if with_tau_squared:
        loss = distillation_loss(s, teacher, targets, 1.0, tau)
    else:
        loss = soft_target_kl(s, teacher, tau)
    (grad,) = torch.autograd.grad(loss, s)
    return grad


def test_soft_gradient_matches_closed_form():
    # d/ds [tau^2 KL(p_t^tau || p_s^tau)] = tau * (p_s^tau - p_t^tau), / B for the batch mean.
    g = torch.Generator().manual_seed(0)
    student, teacher = torch.randn(5, 7, generator=g), torch.randn(5, 7, generator=g)
    tau = 3.0
    expected = tau * (torch.softmax(student / tau, 1) - torch.softmax(teacher / tau, 1)) / 5
    torch.testing.assert_close(_soft_grad(student, teacher, tau), expected, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("seed", range(8))
def test_tau_squared_keeps_soft_gradient_scale(seed):
    """For large tau the gradient of tau^2*KL is ~ ((s - mean s) - (t - mean t)) / K: tau-free.

    Without the tau^2 factor the gradient is ~ 1/tau^2 of that, so doubling tau divides it by 4.
    """
    g = torch.Generator().manual_seed(seed)
    k = 2 + seed
    student, teacher = 2 * torch.randn(8, k, generator=g), 2 * torch.randn(8, k, generator=g)
    with_32 = _soft_grad(student, teacher, 32.0).norm()
    with_64 = _soft_grad(student, teacher, 64.0).norm()
    assert 0.9 < float(with_32 / with_64) < 1.1
    # The large-tau limit itself: ((s - s_bar) - (t - t_bar)) / (K * B).
    diff = (student - student.mean(1, keepdim=True)) - (teacher - teacher.mean(1, keepdim=True))
    limit = (diff / (k * 8)).norm()
    assert 0.9 < float(with_64 / limit) < 1.1
    # Companion: the bare KL's gradient shrinks like 1/tau^2 (ratio ~ 4).
    without_32 = _soft_grad(student, teacher, 32.0, with_tau_squared=False).norm()
    without_64 = _soft_grad(student, teacher, 64.0, with_tau_squared=False).norm()
    assert 3.6 < float(without_32 / without_64) < 4.4


@st.composite
def student_and_distinct_teacher(draw):
    """Student logits in [-2, 2] and teacher = student + d, d centred with row norm in [1, 2].

    A clear (centred) student/teacher difference makes the tau-free first-order term of the
    soft gradient dominate its O(1/tau) correction at tau = 32 and 64.
    """
    batch, k = draw(st.integers(1, 16)), draw(st.integers(2, 10))
    unit = st.floats(-2.0, 2.0, allow_nan=False, width=32)
    student = torch.from_numpy(draw(arrays(np.float32, (batch, k), elements=unit)))
    d = torch.from_numpy(draw(arrays(np.float32, (batch, k), elements=unit)))
    d = d - d.mean(dim=1, keepdim=True)
    fallback = F.one_hot(torch.zeros(batch, dtype=torch.long), k).float() - 1.0 / k
    d = torch.where(d.norm(dim=1, keepdim=True) > 1e-3, d, fallback)
    radius = draw(st.floats(1.0, 2.0))
    d = d / d.norm(dim=1, keepdim=True) * radius
    return student, student + d


@settings(max_examples=40, deadline=None)
@given(student_and_distinct_teacher())
def test_tau_squared_keeps_soft_gradient_scale_property(data):
    student, teacher = data
    ratio = _soft_grad(student, teacher, 32.0).norm() / _soft_grad(student, teacher, 64.0).norm()
    assert 0.9 < float(ratio) < 1.1
    bare = (
        _soft_grad(student, teacher, 32.0, with_tau_squared=False).norm()
        / _soft_grad(student, teacher, 64.0, with_tau_squared=False).norm()
    )
    assert 3.6 < float(bare) < 4.4


@pytest.mark.parametrize("alpha", [0.0, 0.5, 1.0])
def test_no_gradient_reaches_the_teacher(alpha):
    g = torch.Generator().manual_seed(1)
    student = torch.randn(4, 5, generator=g, requires_grad=True)
    teacher = torch.randn(4, 5, generator=g, requires_grad=True)
    loss = distillation_loss(student, teacher, torch.tensor([0, 1, 2, 3]), alpha, 2.0)
    loss.backward()
    assert teacher.grad is None or bool((teacher.grad == 0).all())
    assert student.grad is not None and bool(student.grad.abs().sum() > 0)
    # soft_target_kl alone also keeps the teacher out of the graph.
    kl = soft_target_kl(student, teacher, 2.0)
    assert kl.grad_fn is not None
    assert torch.autograd.grad(kl, teacher, allow_unused=True)[0] is None


# ---------------------------------------------------------------- validation


def _kd(alpha=0.5, temperature=2.0, student=None, teacher=None, targets=None):
    student = torch.zeros(3, 4) if student is None else student
    teacher = torch.zeros(3, 4) if teacher is None else teacher
    targets = torch.tensor([0, 1, 2]) if targets is None else targets
    return distillation_loss(student, teacher, targets, alpha, temperature)


@pytest.mark.parametrize(
    "alpha, pattern",
    [(-0.1, r"alpha.*-0\.1"), (1.1, r"alpha.*1\.1"), (float("nan"), r"alpha.*nan")],
)
def test_bad_alpha_raises(alpha, pattern):
    with pytest.raises(ValueError, match=pattern):
        _kd(alpha=alpha)
    with pytest.raises(ValueError, match=pattern):
        label_smoothing_loss(torch.zeros(3, 4), torch.tensor([0, 1, 2]), alpha)


@pytest.mark.parametrize(
    "temperature, pattern",
    [
        (0, r"temperature.*0"),
        (-1, r"temperature.*-1"),
        (float("inf"), r"temperature.*inf"),
        (float("nan"), r"temperature.*nan"),
    ],
)
def test_bad_temperature_raises(temperature, pattern):
    with pytest.raises(ValueError, match=pattern):
        _kd(temperature=temperature)
    with pytest.raises(ValueError, match=pattern):
        soft_target_kl(torch.zeros(3, 4), torch.zeros(3, 4), temperature)


def test_shape_mismatch_raises():
    with pytest.raises(ValueError, match=r"teacher_logits.*\(3, 5\).*student_logits.*\(3, 4\)"):
        _kd(teacher=torch.zeros(3, 5))
    with pytest.raises(ValueError, match=r"teacher_logits.*\(2, 4\)"):
        _kd(teacher=torch.zeros(2, 4))


def test_wrong_number_of_targets_raises():
    with pytest.raises(ValueError, match=r"targets.*\(3,\).*\(2,\)"):
        _kd(targets=torch.tensor([0, 1]))
    with pytest.raises(ValueError, match=r"targets.*\(3,\).*\(4,\)"):
        label_smoothing_loss(torch.zeros(3, 4), torch.tensor([0, 1, 2, 3]), 0.1)


@pytest.mark.parametrize("bad", [4, -1])
def test_target_out_of_range_raises(bad):
    targets = torch.tensor([0, bad, 1])
    with pytest.raises(ValueError, match=rf"targets.*\[0, 4\).*{bad}"):
        _kd(targets=targets)
    with pytest.raises(ValueError, match=rf"targets.*\[0, 4\).*{bad}"):
        label_smoothing_loss(torch.zeros(3, 4), targets, 0.1)
    with pytest.raises(ValueError, match=rf"targets.*{bad}"):
        cross_entropy_loss(torch.zeros(3, 4), targets)


@pytest.mark.parametrize("value, pattern", [(float("nan"), "NaN"), (float("inf"), "inf"), (float("-inf"), "inf")])
@pytest.mark.parametrize("which", ["student_logits", "teacher_logits"])
def test_non_finite_logits_raise(value, pattern, which):
    bad = torch.zeros(3, 4)
    bad[1, 2] = value
    kwargs = {which.split("_")[0]: bad}
    with pytest.raises(ValueError, match=rf"{which}.*{pattern}"):
        _kd(**kwargs)
    if which == "student_logits":
        with pytest.raises(ValueError, match=rf"logits.*{pattern}"):
            label_smoothing_loss(bad, torch.tensor([0, 1, 2]), 0.1)


def test_float_targets_raise():
    with pytest.raises(ValueError, match="targets"):
        label_smoothing_loss(torch.zeros(3, 4), torch.tensor([0.0, 1.0, 2.0]), 0.1)


# ---------------------------------------------------------------- numerical stability


@pytest.mark.parametrize("scale", [1e4, -1e4])
@pytest.mark.parametrize("tau", [1.0, 4.0])
def test_huge_logits_give_finite_losses_and_gradients(scale, tau):
    g = torch.Generator().manual_seed(2)
    student = (scale * torch.randn(6, 5, generator=g)).requires_grad_(True)
    teacher = scale * torch.randn(6, 5, generator=g)
    targets = torch.tensor([0, 1, 2, 3, 4, 0])
    for loss in (
        distillation_loss(student, teacher, targets, 0.7, tau),
        label_smoothing_loss(student, targets, 0.1),
        cross_entropy_loss(student, targets),
        soft_target_kl(student, teacher, tau),
    ):
        assert torch.isfinite(loss)
        (grad,) = torch.autograd.grad(loss, student)
        assert torch.isfinite(grad).all()
    # A clear winner that is the target costs nothing.
    winner = torch.tensor([[1e4, -1e4, 0.0]])
    assert float(cross_entropy_loss(winner, torch.tensor([0]))) == pytest.approx(0.0, abs=1e-6)


def test_validate_objective_returns_floats_and_names_what_is_wrong():
    assert validate_objective("kd", 1, 4) == (1.0, 4.0)
    assert validate_objective("erm", 0.0, 1.0) == (0.0, 1.0)
    for args, match in [(("ce", 0.0, 1.0), "method must be one of"), (("erm", 0.1, 1.0), "alpha must be 0"),
                        (("ls", 1.5, 1.0), "alpha must be in"), (("kd", 0.5, 0.0), "temperature must be")]:
        with pytest.raises(ValueError, match=match):
            validate_objective(*args)


# ---------------------------------------------------------------- float64, gradcheck, Objective, bad input


def _float64_case(seed: int = 0, batch: int = 5, classes: int = 4):
    generator = torch.Generator().manual_seed(seed)
    student = torch.randn(batch, classes, generator=generator, dtype=torch.float64, requires_grad=True)
    teacher = torch.randn(batch, classes, generator=generator, dtype=torch.float64)
    targets = torch.randint(0, classes, (batch,), generator=generator)
    return student, teacher, targets


def test_losses_keep_float64_and_pass_gradcheck():
    student, teacher, targets = _float64_case()
    assert cross_entropy_loss(student, targets).dtype == torch.float64
    assert label_smoothing_loss(student, targets, 0.3).dtype == torch.float64
    assert distillation_loss(student, teacher, targets, 0.5, 3.0).dtype == torch.float64
    assert torch.autograd.gradcheck(lambda s: cross_entropy_loss(s, targets), (student,))
    assert torch.autograd.gradcheck(lambda s: label_smoothing_loss(s, targets, 0.3), (student,))
    assert torch.autograd.gradcheck(lambda s: soft_target_kl(s, teacher, 2.0), (student,))
    assert torch.autograd.gradcheck(lambda s: distillation_loss(s, teacher, targets, 0.5, 3.0), (student,))
    for objective in (Objective(), Objective("ls", 0.2), Objective("kd", 0.7, 4.0)):
        assert torch.autograd.gradcheck(lambda s: objective.loss(s, targets, teacher), (student,))


def test_float64_identity_of_yuan_holds_to_1e12():
    student, _, targets = _float64_case(seed=3, classes=6)
    uniform = torch.zeros_like(student)
    kd = distillation_loss(student, uniform, targets, 0.4, 1.0)
    ls = label_smoothing_loss(student, targets, 0.4)
    assert abs(float(kd - (ls - 0.4 * math.log(6)))) < 1e-12


def test_half_precision_is_upcast_to_float32():
    student, teacher, targets = _float64_case()
    loss = distillation_loss(student.detach().bfloat16(), teacher.bfloat16(), targets, 0.5, 2.0)
    assert loss.dtype == torch.float32


@pytest.mark.parametrize("dtype", [torch.int16, torch.int32, torch.uint8, torch.int64])
def test_integer_targets_of_any_width_work(dtype):
    student, teacher, targets = _float64_case()
    expected = distillation_loss(student, teacher, targets, 0.5, 2.0)
    assert torch.equal(distillation_loss(student, teacher, targets.to(dtype), 0.5, 2.0), expected)
    assert torch.equal(label_smoothing_loss(student, targets.to(dtype), 0.1), label_smoothing_loss(student, targets, 0.1))
    assert torch.equal(Objective("kd", 0.5, 2.0).loss(student, targets.to(dtype), teacher), expected)


@pytest.mark.parametrize("alpha", ["0.5", True, None, [0.5], float("nan"), -0.1, 1.5])
def test_alpha_must_be_a_real_number_in_range(alpha):
    with pytest.raises(ValueError, match="alpha"):
        Objective("ls", alpha)
    student, teacher, targets = _float64_case()
    with pytest.raises(ValueError, match="alpha"):
        label_smoothing_loss(student, targets, alpha)


@pytest.mark.parametrize("temperature", [1e30, float("inf"), 0.0, -1.0, "2", False, 1e-9, 0.009])
def test_bad_temperatures_are_refused_with_a_reason(temperature):
    with pytest.raises(ValueError, match="temperature"):
        Objective("kd", 0.5, temperature)


def test_largest_allowed_temperature_gives_a_finite_loss():
    student, teacher, targets = _float64_case()
    from helpers.maths.losses import MAX_TEMPERATURE

    loss = distillation_loss(student.float(), teacher.float(), targets, 0.5, MAX_TEMPERATURE)
    assert torch.isfinite(loss)


def test_soft_target_kl_checks_its_inputs():
    student, teacher, _ = _float64_case()
    with pytest.raises(ValueError, match="non-finite"):
        soft_target_kl(student, torch.full_like(teacher, float("nan")), 1.0)
    with pytest.raises(ValueError, match="non-finite"):
        soft_target_kl(torch.full_like(teacher, float("nan")), teacher, 1.0)
    with pytest.raises(ValueError, match="shape"):
        soft_target_kl(student[:0], teacher[:0], 1.0)
    with pytest.raises(ValueError, match="same shape"):
        soft_target_kl(student, teacher[:1], 1.0)  # would broadcast silently


def test_objective_dispatches_to_the_kits_losses():
    student, teacher, targets = _float64_case()
    assert torch.equal(Objective().loss(student, targets), cross_entropy_loss(student, targets))
    assert torch.equal(Objective("ls", 0.1).loss(student, targets), label_smoothing_loss(student, targets, 0.1))
    assert torch.equal(Objective("kd", 0.5, 4.0).loss(student, targets, teacher),
                       distillation_loss(student, teacher, targets, 0.5, 4.0))
    with pytest.raises(ValueError, match="teacher logits"):
        Objective("kd", 0.5, 4.0).loss(student, targets)


def test_objective_is_validated_once_when_built_and_check_batch_finds_bad_values():
    with pytest.raises(ValueError, match="erm"):
        Objective("erm", 0.1)
    with pytest.raises(ValueError, match="method"):
        Objective("kl")
    objective = Objective("kd", 1, 4)
    assert (objective.alpha, objective.temperature) == (1.0, 4.0) and isinstance(objective.alpha, float)
    student, teacher, targets = _float64_case()
    objective.check_batch(student, targets, teacher)
    with pytest.raises(ValueError, match=r"\[0, 4\)"):
        objective.check_batch(student, targets + 10, teacher)
    with pytest.raises(ValueError, match="teacher"):
        objective.check_batch(student, targets)
    assert [Objective().label(), Objective("ls", 0.1).label(), objective.label()] == ["ERM", "LS α=0.1", "KD α=1 τ=4"]


def test_the_smallest_allowed_temperature_is_the_kits_minimum_and_a_plain_softmax_has_none():
    from helpers.maths.losses import MIN_TEMPERATURE, validate_temperature

    assert MIN_TEMPERATURE == 0.01
    assert validate_temperature(MIN_TEMPERATURE) == MIN_TEMPERATURE
    with pytest.raises(ValueError, match="at least 0.01"):
        validate_temperature(1e-9)
    assert validate_temperature(1e-3, maximum=math.inf) == 1e-3  # theory's plain softmax shows the tau -> 0 limit
    with pytest.raises(ValueError, match="at least 0.5"):
        validate_temperature(0.2, minimum=0.5)
    student, teacher, targets = _float64_case()
    assert torch.isfinite(distillation_loss(student.float(), teacher.float(), targets, 0.5, MIN_TEMPERATURE))
