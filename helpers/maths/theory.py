"""The maths behind notebooks 01-03: softmax temperature, label smoothing (LS), distillation (KD).

Conventions (the same as :mod:`helpers.maths.losses` and :mod:`helpers.maths.metrics`)
---------------------------------------------------------------------------
* Logits are float tensors of shape ``(K,)`` or ``(B, K)``; probabilities live on the last axis.
* All logarithms are natural: entropies and losses are in nats.
* ``alpha`` weights the *soft* part of a target: ``alpha = 0`` is the one-hot label.
  LS target ``q = (1 - alpha) * y + alpha * u`` (``u`` uniform over ``K`` classes).
* KD: ``(1 - alpha) * CE(y, p_s) + alpha * tau**2 * KL(p_t^tau || p_s^tau)`` with
  ``p^tau = softmax(z / tau)``; ``tau**2`` multiplies the KL term only.
* Entropies and losses are always computed with :mod:`helpers.maths.metrics` / :mod:`helpers.maths.losses`;
  this module only arranges them into the closed forms and demonstrations the notebooks show.

Key facts, each with a function below
-------------------------------------
* ``CE(q, p)`` over ``p`` is minimised at ``p = q`` (Gibbs' inequality), so LS's optimum is its
  target: max-probability ``1 - alpha + alpha/K``, finite logit gap
  ``log((1 - alpha + alpha/K) / (alpha/K))`` and an entropy floor ``H(q)``
  (:func:`ls_optimum`).
* ``LS = (1 - alpha) * CE + alpha * KL(u || p) + alpha * log K`` (:func:`ls_loss_decomposition`).
* At ``tau = 1`` KD is minimised at ``(1 - alpha) * y + alpha * p_t``; at other temperatures the
  minimiser is found numerically and stays near the teacher's un-softened confidence (:func:`kd_optimum`).
* The soft gradient scales as ``1/tau**2`` without the ``tau**2`` factor; with it, large ``tau``
  becomes logit matching (Hinton et al., 2015) (:func:`tau_squared_table`).
* With a uniform teacher and ``tau = 1``: ``KD = LS - alpha * log K`` with identical gradients
  (Yuan et al., 2020) (:func:`uniform_teacher_identity`).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from helpers.maths.losses import (
    cross_entropy_loss,
    distillation_loss,
    label_smoothing_loss,
    soft_target_kl,
    validate_alpha,
    validate_temperature,
)
from helpers.maths.metrics import accuracy, entropy, max_probability

__all__ = [
    "as_logits",
    "softmax_with_temperature",
    "temperature_table",
    "distribution_entropy",
    "smoothed_target",
    "LSOptimum",
    "ls_optimum",
    "ls_optimal_logits",
    "ls_entropy_floors",
    "ls_loss_decomposition",
    "numerical_optimum",
    "kd_soft_targets",
    "kd_mixed_target",
    "kd_optimum",
    "kd_loss_derivatives",
    "soft_gradient",
    "logit_matching_gradient",
    "tau_squared_table",
    "uniform_teacher_identity",
    "teacher_logits_with_confidence",
    "TargetComparison",
    "compare_targets",
    "entropy_vs_teacher_confidence",
]

_TINY = 1e-30  # probabilities are clamped to this before taking logs (0 * log 0 = 0)


# ----------------------------------------------------------------------------- basics


def as_logits(values, name: str = "logits") -> torch.Tensor:
    """``values`` as a float32 tensor of shape ``(K,)`` or ``(B, K)`` with ``K >= 2``, all finite."""
    try:
        tensor = torch.as_tensor(values, dtype=torch.float32)
    except (TypeError, ValueError, RuntimeError):
        raise ValueError(f"{name} must be numbers of shape (K,) or (B, K), got {values!r}") from None
    if tensor.dim() not in (1, 2) or tensor.shape[-1] < 2 or tensor.numel() == 0:
        raise ValueError(f"{name} must have shape (K>=2,) or (B>0, K>=2), got {tuple(tensor.shape)}")
    if not torch.isfinite(tensor).all():
        raise ValueError(f"{name} contains non-finite values (NaN or inf)")
    return tensor


def _validate_num_classes(num_classes: int) -> int:
    if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)) or num_classes < 2:
        raise ValueError(f"num_classes must be an integer >= 2, got num_classes={num_classes!r}")
    return int(num_classes)


def _validate_target(target: int, num_classes: int) -> int:
    if isinstance(target, bool) or not isinstance(target, (int, np.integer)) or not 0 <= target < num_classes:
        raise ValueError(f"target must be an integer class index in [0, {num_classes}), got target={target!r}")
    return int(target)


def _softmax_temperature(temperature: float) -> float:
    """A softmax temperature: finite and > 0. (The losses cap tau at ``helpers.maths.losses.MAX_TEMPERATURE``; a plain
    softmax does not need a cap, and notebook 01 shows its limit tau -> infinity.)"""
    return validate_temperature(temperature, maximum=math.inf)


def softmax_with_temperature(logits, temperature: float) -> torch.Tensor:
    """``softmax(logits / temperature)`` over the last axis (``temperature > 0``)."""
    temperature = _softmax_temperature(temperature)
    return torch.softmax(as_logits(logits) / temperature, dim=-1)


def temperature_table(logits, temperatures: Sequence[float]) -> pd.DataFrame:
    """Entropy (nats) and max-probability of ``softmax(logits / tau)`` for each ``tau``.

    ``logits`` is one example ``(K,)``. Columns: ``temperature``, ``entropy``, ``max_prob``,
    ``entropy / log K`` (0: one-hot, 1: uniform). As ``tau -> 0`` the softmax tends to the
    one-hot arg-max (entropy 0, if the maximum is unique); as ``tau -> inf`` to uniform (entropy ``log K``).
    """
    z = as_logits(logits)
    if z.dim() != 1:
        raise ValueError(f"logits must be one example of shape (K,), got {tuple(z.shape)}")
    log_k = math.log(z.shape[0])
    rows = []
    for tau in temperatures:
        scaled = z / _softmax_temperature(tau)
        h = entropy(scaled).item() + 0.0  # + 0.0 turns -0.0 into 0.0
        rows.append({"temperature": float(tau), "entropy": h, "max_prob": max_probability(scaled).item(),
                     "entropy / log K": h / log_k})
    return pd.DataFrame(rows)


def distribution_entropy(probs) -> torch.Tensor:
    """Entropy (nats) of probability vectors on the last axis, via :func:`helpers.maths.metrics.entropy`.

    ``log(probs)`` are logits whose softmax is ``probs``; zeros are clamped to 1e-30 (``0 log 0 = 0``).
    """
    p = torch.as_tensor(probs, dtype=torch.float32)
    if p.shape[-1] < 2 or (p < 0).any() or not torch.allclose(p.sum(-1), torch.ones(()), atol=1e-4):
        raise ValueError(f"probs must be non-negative and sum to 1 over the last axis, got {p.tolist()!r}")
    return entropy(p.clamp_min(_TINY).log())


# ----------------------------------------------------------------------------- label smoothing


def smoothed_target(target: int, num_classes: int, alpha: float) -> torch.Tensor:
    """LS target ``(1 - alpha) * one_hot(target) + alpha / K``, shape ``(K,)``."""
    alpha = validate_alpha(alpha)
    k = _validate_num_classes(num_classes)
    target = _validate_target(target, k)
    q = torch.full((k,), alpha / k)
    q[target] += 1.0 - alpha
    return q


@dataclass(frozen=True)
class LSOptimum:
    """Closed-form optimum of the LS loss on one example (``K`` classes, weight ``alpha``)."""

    num_classes: int
    alpha: float
    max_prob: float  # 1 - alpha + alpha/K
    logit_gap: float  # log((1 - alpha + alpha/K) / (alpha/K)); inf when alpha = 0
    entropy_floor: float  # H(smoothed target), nats
    max_entropy: float  # log K


def ls_entropy_floors(num_classes: int, alphas: Sequence[float]) -> np.ndarray:
    """The entropy floor ``H(q)`` (nats) of LS for each ``alpha`` at ``K = num_classes`` (vectorised)."""
    k = _validate_num_classes(num_classes)
    a = torch.tensor([validate_alpha(x) for x in alphas], dtype=torch.float32)[:, None]
    q = a / k + (1.0 - a) * torch.nn.functional.one_hot(torch.tensor(0), k).float()
    return distribution_entropy(q).numpy()


def ls_optimal_logits(num_classes: int, alpha: float, target: int = 0) -> torch.Tensor:
    """Logits (up to an additive constant) of LS's optimum: ``gap`` on ``target``, 0 elsewhere.

    Raises ``ValueError`` for ``alpha = 0``: plain CE has no finite optimum.
    """
    alpha = validate_alpha(alpha)
    k = _validate_num_classes(num_classes)
    target = _validate_target(target, k)
    if alpha == 0.0:
        raise ValueError("alpha=0 (plain cross-entropy) has no finite optimal logits: the gap is infinite")
    z = torch.zeros(k)
    z[target] = math.log1p(k * (1.0 - alpha) / alpha)  # = log((1 - a + a/K) / (a/K)), stable
    return z


def ls_optimum(num_classes: int, alpha: float) -> LSOptimum:
    """Max-probability, logit gap and entropy floor of the LS optimum ``p = q`` (see module doc)."""
    alpha = validate_alpha(alpha)
    k = _validate_num_classes(num_classes)
    max_prob = 1.0 - alpha + alpha / k
    if alpha == 0.0:
        gap, floor = math.inf, 0.0
    else:
        z = ls_optimal_logits(k, alpha)
        gap, floor = float(z[0]), entropy(z).item()
    return LSOptimum(num_classes=k, alpha=alpha, max_prob=max_prob, logit_gap=gap,
                     entropy_floor=floor, max_entropy=math.log(k))


def ls_loss_decomposition(logits: torch.Tensor, targets: torch.Tensor, alpha: float) -> dict[str, float]:
    """The LS loss and its three parts: ``(1-alpha)*CE + alpha*KL(u || p) + alpha*log K``.

    ``KL(u || p)`` is :func:`helpers.maths.losses.soft_target_kl` against an all-zero (uniform) teacher
    at ``tau = 1``. Returns floats ``total`` (:func:`helpers.maths.losses.label_smoothing_loss`),
    ``ce_term``, ``kl_term``, ``constant`` and ``sum`` (of the three parts), batch means.
    """
    alpha = validate_alpha(alpha)
    total = label_smoothing_loss(logits, targets, alpha).item()
    ce_term = (1.0 - alpha) * cross_entropy_loss(logits, targets).item()
    kl_term = alpha * soft_target_kl(logits, torch.zeros_like(logits), 1.0).item()
    constant = alpha * math.log(logits.shape[-1])
    return {"total": total, "ce_term": ce_term, "kl_term": kl_term, "constant": constant,
            "sum": ce_term + kl_term + constant}


def numerical_optimum(loss: Callable[[torch.Tensor], torch.Tensor], num_classes: int,
                      steps: int = 200) -> torch.Tensor:
    """Probabilities ``softmax(z*)`` where ``z*`` minimises ``loss(z)`` over free logits ``z`` of shape ``(1, K)``.

    L-BFGS (strong Wolfe line search) from ``z = 0``, in float64. Used to check closed forms;
    only meaningful when the optimum is finite (e.g. LS with ``alpha > 0``).
    """
    k = _validate_num_classes(num_classes)
    z = torch.zeros(1, k, dtype=torch.float64, requires_grad=True)
    optimiser = torch.optim.LBFGS([z], lr=1.0, max_iter=steps, tolerance_grad=1e-12,
                                  tolerance_change=1e-15, line_search_fn="strong_wolfe")

    def closure():
        optimiser.zero_grad()
        value = loss(z)
        value.backward()
        return value

    optimiser.step(closure)
    return torch.softmax(z.detach(), dim=-1)[0]


# ----------------------------------------------------------------------------- distillation


def kd_soft_targets(teacher_logits, temperature: float) -> torch.Tensor:
    """The teacher's soft targets ``p_t^tau = softmax(t / tau)``."""
    return softmax_with_temperature(teacher_logits, temperature)


def kd_mixed_target(teacher_logits, target: int, alpha: float, temperature: float = 1.0) -> torch.Tensor:
    """KD's target read as one distribution: ``(1 - alpha) * one_hot(target) + alpha * p_t^tau``.

    ``teacher_logits`` has shape ``(K,)`` or ``(B, K)`` (the same ``target`` for every row).
    At ``tau = 1`` it is exactly the KD loss's minimiser (:func:`kd_optimum`). At ``tau != 1`` it is
    only a common reading of the target: the soft term compares *softened* student and teacher and
    is minimised by ``s = t + c``, so the student's own (tau = 1) prediction is pulled towards
    ``softmax(t)``, not towards ``softmax(t / tau)``.
    """
    alpha = validate_alpha(alpha)
    t = as_logits(teacher_logits, "teacher_logits")
    target = _validate_target(target, t.shape[-1])
    mixed = alpha * kd_soft_targets(t, temperature)
    mixed[..., target] += 1.0 - alpha
    return mixed


def kd_optimum(teacher_logits, target: int, alpha: float, temperature: float = 1.0,
               start: torch.Tensor | None = None, max_iter: int = 50) -> torch.Tensor:
    """The student's prediction ``softmax(s*)`` at the minimiser ``s*`` of the KD loss over free logits.

    ``teacher_logits`` has shape ``(K,)`` or ``(B, K)`` (one problem per row, same ``target``).
    At ``tau = 1`` it is the closed form ``(1 - alpha) * y + alpha * softmax(t)``, because
    ``(1-a) CE(y, p) + a KL(p_t || p) = CE((1-a) y + a p_t, p) - a H(p_t)`` and ``CE(q, p)`` is
    minimised at ``p = q``. At ``tau != 1`` it is found numerically: damped Newton steps on
    :func:`helpers.maths.losses.distillation_loss` (a convex function of ``s``) from the ``tau = 1`` answer,
    with the gradient and Hessian written out (:func:`kd_loss_derivatives`, see :func:`_kd_newton`).
    The soft term alone is minimised by ``s = t + c`` at *every* tau, so the optimum stays close to
    the teacher's un-softened ``softmax(t)``, not to ``softmax(t / tau)`` (compare :func:`kd_mixed_target`).
    ``alpha = 0`` returns the one-hot label (CE has no finite optimum); ``alpha = 1`` returns ``softmax(t)``.
    ``start`` (probabilities shaped like the result, e.g. the optimum at a nearby alpha or tau) warm-starts
    the search; it changes the speed, not the answer.
    """
    alpha = validate_alpha(alpha)
    temperature = validate_temperature(temperature)
    t = as_logits(teacher_logits, "teacher_logits")
    closed = kd_mixed_target(t, target, alpha, temperature=1.0)
    if temperature == 1.0 or alpha == 0.0:
        return closed
    if alpha == 1.0:
        return torch.softmax(t, dim=-1)
    teachers = t.reshape(-1, t.shape[-1]).double()
    usable = start is not None and start.shape == t.shape and bool((start > 1e-8).all())  # not a one-hot (alpha=0) start
    init = torch.as_tensor(start, dtype=torch.float32) if usable else closed
    s = init.reshape(teachers.shape).double().clamp_min(_TINY).log()
    s = _kd_newton(s, teachers, int(target), alpha, temperature, max_iter)
    return torch.softmax(s, dim=-1).float().reshape(t.shape)


def kd_loss_derivatives(student_logits: torch.Tensor, teacher_logits: torch.Tensor, target: int, alpha: float,
                        temperature: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Gradient ``(B, K)`` and Hessian ``(B, K, K)`` of each row's KD loss w.r.t. its student logits, written out.

    Per row, with ``p = softmax(s)``, ``q = softmax(s/tau)``, ``r = softmax(t/tau)``, the loss
    ``(1-a)(-log p_y) + a tau^2 KL(r || q)`` (the row's term of :func:`helpers.maths.losses.distillation_loss`) has
    gradient ``(1-a)(p - y) + a tau (q - r)`` and Hessian ``(1-a)(diag p - p p^T) + a (diag q - q q^T)``.
    The tests tie both to autograd on :func:`helpers.maths.losses.distillation_loss` in float64.
    """
    k = student_logits.shape[-1]
    y = torch.nn.functional.one_hot(torch.full((student_logits.shape[0],), int(target)), k).to(student_logits.dtype)
    p = torch.softmax(student_logits, dim=-1)
    q = torch.softmax(student_logits / temperature, dim=-1)
    r = torch.softmax(teacher_logits.to(student_logits.dtype) / temperature, dim=-1)
    grad = (1 - alpha) * (p - y) + alpha * temperature * (q - r)
    hessian = ((1 - alpha) * (torch.diag_embed(p) - p[:, :, None] * p[:, None, :])
               + alpha * (torch.diag_embed(q) - q[:, :, None] * q[:, None, :]))
    return grad, hessian


def _kd_newton(s: torch.Tensor, teachers: torch.Tensor, target: int, alpha: float, temperature: float,
               max_iter: int, tolerance: float = 1e-8) -> torch.Tensor:
    """Minimise the KD loss over free logits ``s`` (float64, shape ``(B, K)``, one problem per row) by damped Newton.

    The objective is :func:`helpers.maths.losses.distillation_loss` itself (times ``B``: the sum of the rows'
    independent losses); its gradient and Hessian come from :func:`kd_loss_derivatives`. The Hessian is
    singular only along the all-ones direction (a shift of the logits), which the gradient never has, so
    each step solves ``(H + 1 1^T) d = g``. The step is halved until the loss decreases enough (Armijo, up
    to the loss's floating-point rounding). Stops when every gradient entry is below ``tolerance`` or when
    a step no longer lowers the loss measurably.
    """
    batch, k = s.shape
    targets = torch.full((batch,), int(target), dtype=torch.long)
    ones = torch.ones(k, k, dtype=s.dtype)

    def objective(z: torch.Tensor) -> float:
        return batch * distillation_loss(z, teachers, targets, alpha, temperature).item()

    current = objective(s)
    for _ in range(max_iter):
        grad, hessian = kd_loss_derivatives(s, teachers, target, alpha, temperature)
        if grad.abs().max() < tolerance:
            break
        direction = torch.linalg.solve(hessian + ones, grad)
        decrease = (grad * direction).sum().item()
        rounding = 16 * torch.finfo(s.dtype).eps * max(abs(current), 1.0)
        step, accepted = 1.0, None
        for _ in range(30):
            trial = objective(s - step * direction)
            if trial <= current - 1e-4 * step * decrease + rounding:
                accepted = trial
                break
            step /= 2
        if accepted is None:
            break
        s = s - step * direction
        progress, current = current - accepted, accepted
        if progress <= rounding:
            break
    return s


def _same_shape(teacher_logits, student: torch.Tensor) -> torch.Tensor:
    t = as_logits(teacher_logits, "teacher_logits")
    if t.shape != student.shape:
        raise ValueError(f"teacher_logits must have the student's shape {tuple(student.shape)}, got {tuple(t.shape)}")
    return t


def soft_gradient(student_logits: torch.Tensor, teacher_logits: torch.Tensor, temperature: float,
                  tau_squared: bool = True) -> torch.Tensor:
    """Gradient w.r.t. the student's logits of KD's soft term ``[tau**2 *] KL(p_t^tau || p_s^tau)``.

    Computed by autograd through :func:`helpers.maths.losses.soft_target_kl` (batch mean).
    Analytically ``(1/tau) * (p_s^tau - p_t^tau) / B``, times ``tau**2`` when ``tau_squared``.
    """
    temperature = validate_temperature(temperature)
    s0 = as_logits(student_logits, "student_logits")
    s = s0.reshape(-1, s0.shape[-1]).clone().requires_grad_(True)
    t = _same_shape(teacher_logits, s0).reshape(s.shape)
    value = soft_target_kl(s, t, temperature) * (temperature**2 if tau_squared else 1.0)
    (grad,) = torch.autograd.grad(value, s)
    return grad.reshape(s0.shape)


def logit_matching_gradient(student_logits: torch.Tensor, teacher_logits: torch.Tensor) -> torch.Tensor:
    """Gradient of logit matching ``(1/2K) * mean_b ||(s - mean s) - (t - mean t)||^2`` w.r.t. ``s``.

    ``((s - mean s) - (t - mean t)) / (K * B)``: the high-temperature limit of the
    ``tau**2``-scaled soft gradient (Hinton et al., 2015, section 2.1).
    """
    s0 = as_logits(student_logits, "student_logits")
    s = s0.reshape(-1, s0.shape[-1])
    t = _same_shape(teacher_logits, s0).reshape(s.shape)
    k, b = s.shape[1], s.shape[0]
    centred = (s - s.mean(-1, keepdim=True)) - (t - t.mean(-1, keepdim=True))
    return (centred / (k * b)).reshape(s0.shape)


def tau_squared_table(student_logits: torch.Tensor, teacher_logits: torch.Tensor,
                      temperatures: Sequence[float]) -> pd.DataFrame:
    """How the soft gradient's size depends on ``tau``, with and without the ``tau**2`` factor.

    Columns: ``temperature``; ``grad_norm`` (no ``tau**2``: shrinks like ``1/tau**2`` at large tau);
    ``grad_norm * tau^2`` (settles to a constant: why KD multiplies by ``tau**2``);
    ``logit_matching_norm`` (that constant's limit); ``rel_diff_to_logit_matching``
    (``||tau^2 grad - logit matching grad|| / ||logit matching grad||`` -> 0 as tau grows).
    """
    matching = logit_matching_gradient(student_logits, teacher_logits)
    matching_norm = matching.norm().item()
    rows = []
    for tau in temperatures:
        raw = soft_gradient(student_logits, teacher_logits, tau, tau_squared=False)
        scaled = raw * float(tau) ** 2
        rows.append({
            "temperature": float(tau),
            "grad_norm": raw.norm().item(),
            "grad_norm * tau^2": scaled.norm().item(),
            "logit_matching_norm": matching_norm,
            "rel_diff_to_logit_matching": (scaled - matching).norm().item() / max(matching_norm, 1e-30),
        })
    return pd.DataFrame(rows)


# ----------------------------------------------------------------------------- LS versus KD


def uniform_teacher_identity(student_logits: torch.Tensor, targets: torch.Tensor, alpha: float) -> dict[str, float]:
    """Yuan et al. (2020): KD from a uniform teacher at ``tau = 1`` is LS up to a constant.

    Returns floats ``ls``, ``kd`` (teacher logits all zero), ``alpha_log_k``, ``ls_minus_kd``
    (equals ``alpha_log_k``) and ``max_grad_diff`` (max |grad LS - grad KD| w.r.t. the logits: 0).
    """
    alpha = validate_alpha(alpha)
    s = as_logits(student_logits, "student_logits").detach().clone().requires_grad_(True)
    ls = label_smoothing_loss(s, targets, alpha)
    (grad_ls,) = torch.autograd.grad(ls, s)
    kd = distillation_loss(s, torch.zeros_like(s), targets, alpha, 1.0)
    (grad_kd,) = torch.autograd.grad(kd, s)
    return {"ls": ls.item(), "kd": kd.item(), "alpha_log_k": alpha * math.log(s.shape[-1]),
            "ls_minus_kd": (ls - kd).item(), "max_grad_diff": (grad_ls - grad_kd).abs().max().item()}


def teacher_logits_with_confidence(base_logits, confidence: float) -> torch.Tensor:
    """``c * base_logits`` with the scale ``c >= 0`` chosen so that the max-probability equals ``confidence``.

    Scaling keeps the teacher's ranking of the classes (its "dark knowledge") and only changes
    how peaked it is, like ``TrainConfig.teacher_logit_scale``. ``base_logits`` (shape ``(K,)``)
    needs a unique maximum; ``confidence`` must lie in ``[1/K, 1)``.
    """
    z = as_logits(base_logits, "base_logits")
    if z.dim() != 1:
        raise ValueError(f"base_logits must have shape (K,), got {tuple(z.shape)}")
    k = z.shape[0]
    top2 = torch.topk(z, 2).values
    if top2[0] - top2[1] <= 0:
        raise ValueError(f"base_logits must have a unique maximum, got {z.tolist()}")
    try:
        confidence = float(confidence)
    except (TypeError, ValueError):
        raise ValueError(f"confidence must be a number in [1/K, 1), got confidence={confidence!r}") from None
    if not 1.0 / k - 1e-9 <= confidence < 1.0:
        raise ValueError(f"confidence must be in [1/K, 1) = [{1.0 / k:.4f}, 1), got confidence={confidence!r}")
    z = z.double()

    def confidence_at(scale: float) -> float:
        return torch.softmax(scale * z, dim=-1).max().item()

    if confidence <= 1.0 / k:
        return torch.zeros(k)
    low, high = 0.0, 1.0
    while confidence_at(high) < confidence:  # max-probability grows monotonically with the scale
        low, high = high, 2.0 * high
    for _ in range(60):
        middle = 0.5 * (low + high)
        low, high = (middle, high) if confidence_at(middle) < confidence else (low, middle)
    return (0.5 * (low + high) * z).float()


@dataclass(frozen=True)
class TargetComparison:
    """What KD and LS pull one example's prediction towards, at the same ``alpha`` (label ``target``).

    ``kd_target`` is the exact minimiser of the KD loss (:func:`kd_optimum`, the student's prediction at
    tau = 1); ``kd_mixed`` the common reading ``(1 - alpha) y + alpha p_t^tau`` (equal at tau = 1);
    ``ls_target`` the LS target ``(1 - alpha) y + alpha u`` (= LS's optimum). Entropies in nats.
    """

    alpha: float
    temperature: float
    target: int
    teacher_soft: torch.Tensor  # p_t^tau
    kd_target: torch.Tensor  # argmin of the KD loss (softmax of the optimal student logits)
    kd_mixed: torch.Tensor  # (1 - alpha) y + alpha p_t^tau
    ls_target: torch.Tensor  # (1 - alpha) y + alpha u
    teacher_entropy: float
    kd_entropy: float
    kd_mixed_entropy: float
    ls_entropy: float
    teacher_max_prob: float
    kd_max_prob: float
    ls_max_prob: float


def compare_targets(teacher_logits, target: int, alpha: float, temperature: float = 1.0,
                    start: torch.Tensor | None = None) -> TargetComparison:
    """KD's optimum next to LS's at the same ``alpha``, with their entropies (nats) and max-probabilities.

    The KD optimum's confidence follows the teacher's; the LS target's is fixed by ``alpha``
    (``1 - alpha + alpha/K``) -- Sultan's (2023) entropy argument. ``start`` warm-starts
    :func:`kd_optimum` (e.g. with the previous ``kd_target`` when a slider moves).
    """
    t = as_logits(teacher_logits, "teacher_logits")
    if t.dim() != 1:
        raise ValueError(f"teacher_logits must be one example of shape (K,), got {tuple(t.shape)}")
    soft = kd_soft_targets(t, temperature)
    kd = kd_optimum(t, target, alpha, temperature, start=start)
    mixed = kd_mixed_target(t, target, alpha, temperature)
    ls = smoothed_target(target, t.shape[-1], alpha)
    h = distribution_entropy(torch.stack([soft, kd, mixed, ls])).tolist()
    return TargetComparison(alpha=validate_alpha(alpha), temperature=validate_temperature(temperature),
                            target=int(target), teacher_soft=soft, kd_target=kd, kd_mixed=mixed, ls_target=ls,
                            teacher_entropy=h[0], kd_entropy=h[1], kd_mixed_entropy=h[2], ls_entropy=h[3],
                            teacher_max_prob=soft.max().item(), kd_max_prob=kd.max().item(),
                            ls_max_prob=ls.max().item())


@functools.lru_cache(maxsize=4096)
def _cached_teacher(base: tuple[float, ...], confidence: float) -> torch.Tensor:
    return teacher_logits_with_confidence(base, confidence)


def _teachers_for_confidences(base: tuple[float, ...], confidences: tuple[float, ...]) -> torch.Tensor:
    return torch.stack([_cached_teacher(base, c) for c in confidences])


def entropy_vs_teacher_confidence(base_logits, alpha: float, temperature: float = 1.0,
                                  confidences: Sequence[float] | None = None,
                                  start: torch.Tensor | None = None) -> pd.DataFrame:
    """Entropy of KD's optimum and of LS's target as the teacher grows more confident.

    The teacher is ``base_logits`` rescaled to each confidence (:func:`teacher_logits_with_confidence`,
    measured at ``tau = 1``; cached), its arg-max being the label. Default confidences: 40
    points from ``1/K`` to 0.995. Columns ``teacher_confidence``, ``teacher_entropy`` (of ``p_t^tau``),
    ``kd_entropy`` (exact optimum, :func:`kd_optimum`), ``kd_mixed_entropy`` (the reading
    ``(1 - alpha) y + alpha p_t^tau``) and ``ls_entropy``, all in nats. The KD optima themselves are in
    ``frame.attrs["kd_optimum"]``; pass them as ``start`` to warm-start a nearby (alpha, tau).
    """
    z = as_logits(base_logits, "base_logits")
    if z.dim() != 1:
        raise ValueError(f"base_logits must have shape (K,), got {tuple(z.shape)}")
    k = z.shape[-1]
    if confidences is None:
        confidences = np.linspace(1.0 / k, 0.995, 40)
    grid = tuple(float(c) for c in confidences)
    teachers = _teachers_for_confidences(tuple(z.tolist()), grid)
    target = int(z.argmax())
    soft = kd_soft_targets(teachers, temperature)
    kd = kd_optimum(teachers, target, alpha, temperature, start=start)
    mixed = kd_mixed_target(teachers, target, alpha, temperature)
    ls = smoothed_target(target, k, alpha)
    frame = pd.DataFrame({"teacher_confidence": grid, "teacher_entropy": distribution_entropy(soft).tolist(),
                          "kd_entropy": distribution_entropy(kd).tolist(),
                          "kd_mixed_entropy": distribution_entropy(mixed).tolist(),
                          "ls_entropy": [distribution_entropy(ls).item()] * len(grid)})
    frame.attrs["kd_optimum"] = kd
    return frame
