"""Notebook 03: ``my_distillation_loss(student_logits, teacher_logits, targets, alpha, temperature)`` -> the mean KD loss
``(1 − α)·CE(y, p_s) + α·τ²·KL(p_t^τ ‖ p_s^τ)`` ("batchmean" KL), with no gradient into the teacher."""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from helpers.maths.losses import distillation_loss
from helpers.teaching.exercises.checking import (
    LN2, Case, Exercise, Instructor, Wrong, as_tensor, call, close, expect_close, fmt, report,
)

MISTAKES = {
    "alpha_swapped": "alpha on the wrong term",
    "no_tau2": "tau^2 missing",
    "tau_not_squared": "tau instead of tau^2",
    "tau2_hard": "tau^2 applied to the hard term",
    "tau2_hard_only": "tau^2 applied to the hard term",
    "kl_reversed": "KL in the wrong direction",
    "mean": "reduction='mean' instead of 'batchmean'",
    "student_not_softened": "teacher softened but not the student",
    "teacher_not_softened": "student softened but not the teacher",
    "hard_softened": "hard term computed at temperature tau",
    "sum": "sum instead of mean over the batch",
    "log2": "log base 2",
    "axis": "softmax over the wrong axis",
    "unstable": "numerically unstable: log of a softmax that underflows",
    "clamped": "clamped the probabilities before the log",
    "teacher_grad": "teacher gradients not blocked",
    "not_tensor": "returned a number, not a tensor",
}
HINTS = {
    "alpha_swapped": "In the kit α weights the teacher's soft term: (1 − α)·CE(y, p_s) + α·τ²·KL; α = 0 is plain CE.",
    "no_tau2": "Multiply the KL term by τ²: without it the soft gradient shrinks like 1/τ² (notebook 03 §3).",
    "tau_not_squared": "The factor is τ² (temperature ** 2), not τ.",
    "tau2_hard": "τ² multiplies the KL term only; the hard cross-entropy is at τ = 1 and unscaled.",
    "tau2_hard_only": "τ² multiplies the KL term only; the hard cross-entropy is at τ = 1 and unscaled.",
    "kl_reversed": ("The target distribution comes first: KL(p_t^τ ‖ p_s^τ) = Σ p_t (log p_t − log p_s). "
                    "With F.kl_div the student's log-probabilities are the FIRST argument, the teacher's the second."),
    "mean": ("F.kl_div(..., reduction='mean') divides by B·K: use reduction='batchmean' "
             "(sum over classes, mean over the batch)."),
    "student_not_softened": "Divide BOTH the student's and the teacher's logits by τ inside the KL term.",
    "teacher_not_softened": "Divide BOTH the student's and the teacher's logits by τ inside the KL term.",
    "hard_softened": "The hard term uses the student's plain logits: CE(y, softmax(s)), no τ.",
    "sum": "Losses are means over the batch.",
    "log2": "Losses are in nats: natural logs (F.log_softmax), not log2.",
    "axis": "The classes are on the last axis: (log_)softmax(..., dim=-1).",
    "unstable": ("A confident teacher or student has probabilities that underflow to 0, and log 0 = −inf: take "
                 "F.log_softmax of the logits / τ instead of log(softmax(...))."),
    "clamped": ("Clamping probabilities before the log changes the loss wherever they are tiny (confident logits): "
                "use F.log_softmax, which is exact."),
    "teacher_grad": ("The teacher is fixed: use teacher_logits.detach() (or compute its probabilities under "
                     "torch.no_grad())."),
    "not_tensor": "Return the loss tensor (no .item(), no float()), so that loss.backward() can train the student.",
}


def _kl(log_p_target: torch.Tensor, log_q: torch.Tensor) -> torch.Tensor:
    """KL(p ‖ q) per example from log-probabilities."""
    return (log_p_target.exp() * (log_p_target - log_q)).sum(-1)


def _kd(s, t, y, a, tau, *, weights=None, factor=None, hard_factor=1.0, reverse=False, divide=1.0, soften=(True, True),
        hard_tau=False, dim=-1) -> torch.Tensor:
    """The KD loss with one convention changed (what a classic mistake computes)."""
    log_s = F.log_softmax(s / (tau if soften[0] else 1.0), dim)
    log_t = F.log_softmax(t / (tau if soften[1] else 1.0), dim)
    kl = (_kl(log_s, log_t) if reverse else _kl(log_t, log_s)).mean() / divide
    hard = F.cross_entropy(s / tau if hard_tau else s, y)
    w_hard, w_soft = (1 - a, a) if weights is None else weights
    return w_hard * hard_factor * hard + w_soft * (tau**2 if factor is None else factor) * kl


_LOOKALIKES: dict[str, Callable] = {  # wrong answers the self-check recognises by value
    "alpha_swapped": lambda s, t, y, a, tau: _kd(s, t, y, a, tau, weights=(a, 1 - a)),
    "no_tau2": lambda s, t, y, a, tau: _kd(s, t, y, a, tau, factor=1.0),
    "tau_not_squared": lambda s, t, y, a, tau: _kd(s, t, y, a, tau, factor=tau),
    "tau2_hard": lambda s, t, y, a, tau: _kd(s, t, y, a, tau, hard_factor=tau**2),
    "tau2_hard_only": lambda s, t, y, a, tau: _kd(s, t, y, a, tau, hard_factor=tau**2, factor=1.0),
    "kl_reversed": lambda s, t, y, a, tau: _kd(s, t, y, a, tau, reverse=True),
    "mean": lambda s, t, y, a, tau: _kd(s, t, y, a, tau, divide=s.shape[-1]),
    "student_not_softened": lambda s, t, y, a, tau: _kd(s, t, y, a, tau, soften=(False, True)),
    "teacher_not_softened": lambda s, t, y, a, tau: _kd(s, t, y, a, tau, soften=(True, False)),
    "hard_softened": lambda s, t, y, a, tau: _kd(s, t, y, a, tau, hard_tau=True),
    "sum": lambda s, t, y, a, tau: s.shape[0] * _kd(s, t, y, a, tau),
    "log2": lambda s, t, y, a, tau: _kd(s, t, y, a, tau) / LN2,
    "axis": lambda s, t, y, a, tau: _kd(s, t, y, a, tau, dim=0),
}
_FLOORS = (1e-6, 1e-7, 1e-8, 1e-9, 1e-10, 1e-12, 1e-15, 1e-20, 1e-30)


def _clamped(s, t, y, a, tau, floor, hard_clamped) -> torch.Tensor:
    def log_p(z):
        return torch.softmax(z, -1).clamp_min(floor).log()

    hard = -log_p(s)[torch.arange(len(y)), y].mean() if hard_clamped else F.cross_entropy(s, y)
    p_t = torch.softmax(t / tau, -1).clamp_min(floor)
    return (1 - a) * hard + a * tau**2 * (p_t * (log_p(t / tau) - log_p(s / tau))).sum(-1).mean()


def _diagnose(s, t, y, a, tau) -> Callable[[torch.Tensor], tuple[str, str]]:
    s, t = s.double(), t.double()

    def diagnose(got: torch.Tensor) -> tuple[str, str]:
        got = got.reshape(()) if got.numel() == 1 else got
        for key, lookalike in _LOOKALIKES.items():
            if close(got, lookalike(s, t, y, a, tau), rtol=1e-3, atol=1e-5):
                return key, HINTS[key]
        if not torch.isfinite(got).all():
            return "unstable", HINTS["unstable"]
        if any(close(got, _clamped(s, t, y, a, tau, floor, hard), rtol=1e-5, atol=1e-8)
               for floor in _FLOORS for hard in (False, True)):
            return "clamped", HINTS["clamped"]
        return "", ""

    return diagnose


def _judge(fn: Callable, name: str, s, t, y, a: float, tau: float) -> None:
    got = as_tensor(call(fn, name, s, t, y, a, tau), name, "a scalar loss tensor")
    expected = distillation_loss(s.double(), t.double(), y, a, tau)
    expect_close(name, got.reshape(()) if got.numel() == 1 else got, expected, _diagnose(s, t, y, a, tau))


def _judge_gradient(fn: Callable, name: str, s, t, y, a: float, tau: float) -> None:
    """The student's logits get the kit's gradient; the teacher's none; the answer is a tensor with a graph."""
    student, teacher = s.clone().requires_grad_(True), t.clone().requires_grad_(True)
    out = call(fn, name, student, teacher, y, a, tau)
    if not isinstance(out, torch.Tensor) or out.grad_fn is None:
        raise Wrong(f"case '{name}': your function returned {type(out).__name__} without a gradient.", "not_tensor",
                    HINTS["not_tensor"])
    try:
        out.sum().backward()
    except Exception as exc:
        raise Wrong(f"case '{name}': backward() through your loss raised {type(exc).__name__}: {exc}") from None
    reference = s.clone().requires_grad_(True)
    distillation_loss(reference, t, y, a, tau).backward()
    if student.grad is None or not close(student.grad, reference.grad):
        shown = fmt(student.grad) if student.grad is not None else None
        raise Wrong(f"case '{name}': the gradient w.r.t. the student's logits is wrong (expected {fmt(reference.grad)}, "
                    f"got {shown}).", redacted=f"case '{name}': the gradient w.r.t. the student's logits is wrong.")
    if teacher.grad is not None and teacher.grad.abs().max() > 0:
        raise Wrong(f"case '{name}': a gradient reached the teacher's logits (|grad| up to "
                    f"{teacher.grad.abs().max().item():.3g}).", "teacher_grad", HINTS["teacher_grad"])


def _batch(seed: int, rows: int, k: int, s_scale: float, t_scale: float):
    g = torch.Generator().manual_seed(seed)
    s = s_scale * torch.randn(rows, k, generator=g, dtype=torch.float64)
    t = t_scale * torch.randn(rows, k, generator=g, dtype=torch.float64)
    return s, t, torch.randint(0, k, (rows,), generator=g)


def _mixed_scales(seed: int, rows: int, k: int):
    """Student and teacher rows from nearly flat to extremely confident (logit gaps up to thousands), some rows
    tied, some labels the student's least likely class."""
    g = torch.Generator().manual_seed(seed)

    def logits():
        scale = 10.0 ** (5.0 * torch.rand(rows, 1, generator=g, dtype=torch.float64) - 2.0)
        scale[3::4] = 1000.0  # some rows certainly confident beyond exp's range
        return scale * torch.randn(rows, k, generator=g, dtype=torch.float64)

    s, t = logits(), logits()
    s[0::5] = 0.0
    t[1::5] = 0.0
    y = torch.randint(0, k, (rows,), generator=g)
    y[2::4] = s[2::4].argmin(-1)
    return s, t, y


def _case(name: str, make: Callable[[], tuple], points: float = 0.0) -> Case:
    return Case(name, lambda fn: _judge(fn, name, *make()), points)


def _gradient_case(name: str, make: Callable[[], tuple], points: float = 0.0) -> Case:
    return Case(name, lambda fn: _judge_gradient(fn, name, *make()), points)


def visible_cases() -> list[Case]:
    return [
        _case("4 examples, K = 5, alpha = 0.3, tau = 3", lambda: (*_batch(3, 4, 5, 1.0, 3.0), 0.3, 3.0)),
        _case("the same batch, alpha = 0.7, tau = 1", lambda: (*_batch(3, 4, 5, 1.0, 3.0), 0.7, 1.0)),
        _case("6 examples, K = 3, alpha = 0.5, tau = 4", lambda: (*_batch(4, 6, 3, 2.0, 2.0), 0.5, 4.0)),
        _case("alpha = 0 (plain cross-entropy), tau = 2", lambda: (*_batch(4, 6, 3, 2.0, 2.0), 0.0, 2.0)),
        _case("alpha = 1 (the teacher's term alone), tau = 2", lambda: (*_batch(5, 5, 4, 1.5, 2.5), 1.0, 2.0)),
        _case("a seeded random batch of 20 rows, K = 6, alpha = 0.5, tau = 2 (logit scales 0.01 to 1000, ties, "
              "confidently wrong rows)", lambda: (*_mixed_scales(6, 20, 6), 0.5, 2.0)),
        _gradient_case("gradient check: student and teacher logits both require grad",
                       lambda: (*_batch(3, 4, 5, 1.0, 3.0), 0.3, 3.0)),
    ]


def check_distillation_loss(fn: Callable) -> bool:
    """Check ``fn(student_logits, teacher_logits, targets, alpha, temperature) -> mean KD loss`` (the kit's convention)
    and that no gradient reaches the teacher; print the verdict."""
    return report(EXERCISE, fn)


INSTRUCTOR = None
# BEGIN INSTRUCTOR


def my_distillation_loss(student_logits, teacher_logits, targets, alpha, temperature):
    """(1 − α)·CE(y, p_s) + α·τ²·KL(p_t^τ ‖ p_s^τ), KL summed over classes and averaged over the batch."""
    hard = F.cross_entropy(student_logits, targets)
    log_p_student = F.log_softmax(student_logits / temperature, dim=-1)
    log_p_teacher = F.log_softmax(teacher_logits.detach() / temperature, dim=-1)  # no gradient into the teacher
    soft = (log_p_teacher.exp() * (log_p_teacher - log_p_student)).sum(dim=-1).mean()
    return (1 - alpha) * hard + alpha * temperature**2 * soft


def _hidden_cases() -> list[Case]:
    return [
        _case("a batch, alpha = 0.4, tau = 2", lambda: (*_batch(201, 5, 4, 1.5, 2.5), 0.4, 2.0), 1.0),
        _case("tau = 1", lambda: (*_batch(202, 3, 6, 2.0, 2.0), 0.6, 1.0), 1.0),
        _case("high temperature", lambda: (*_batch(203, 8, 3, 1.0, 4.0), 0.5, 6.0), 1.0),
        _case("plain cross-entropy", lambda: (*_batch(204, 4, 5, 2.0, 1.0), 0.0, 3.0), 1.0),
        _case("the teacher's term alone", lambda: (*_batch(205, 6, 2, 1.0, 3.0), 1.0, 1.5), 1.0),
        _case("mixed scales", lambda: (*_mixed_scales(2027, 30, 5), 0.7, 3.0), 1.0),
        _gradient_case("gradients", lambda: (*_batch(206, 5, 4, 1.0, 3.0), 0.5, 2.0), 2.0),
    ]


def _wrong_catalogue() -> dict[str, tuple[Callable, str]]:
    def kd(student_logits, teacher_logits, targets, alpha, temperature, *, alpha_on_hard=False, tau_power=2,
           hard_tau_power=0, reduction="batchmean", reverse=False, soften_student=True, soften_teacher=True,
           hard_at_tau=False, detach=True):
        teacher = teacher_logits.detach() if detach else teacher_logits
        log_s = F.log_softmax(student_logits / (temperature if soften_student else 1.0), dim=-1)
        log_t = F.log_softmax(teacher / (temperature if soften_teacher else 1.0), dim=-1)
        kl = (F.kl_div(log_t, log_s, reduction=reduction, log_target=True) if reverse
              else F.kl_div(log_s, log_t, reduction=reduction, log_target=True))
        hard = F.cross_entropy(student_logits / temperature if hard_at_tau else student_logits, targets)
        w_hard, w_soft = (alpha, 1 - alpha) if alpha_on_hard else (1 - alpha, alpha)
        return w_hard * temperature**hard_tau_power * hard + w_soft * temperature**tau_power * kl

    def log_of_softmax(student_logits, teacher_logits, targets, alpha, temperature):
        p_s = F.softmax(student_logits / temperature, dim=-1)
        p_t = F.softmax(teacher_logits.detach() / temperature, dim=-1)
        kl = (p_t * (torch.log(p_t) - torch.log(p_s))).sum(-1).mean()
        return (1 - alpha) * F.cross_entropy(student_logits, targets) + alpha * temperature**2 * kl

    def clamped(student_logits, teacher_logits, targets, alpha, temperature):
        p_s = F.softmax(student_logits / temperature, dim=-1).clamp_min(1e-8)
        p_t = F.softmax(teacher_logits.detach() / temperature, dim=-1).clamp_min(1e-8)
        kl = (p_t * (p_t.log() - p_s.log())).sum(-1).mean()
        return (1 - alpha) * F.cross_entropy(student_logits, targets) + alpha * temperature**2 * kl

    def batch_axis(student_logits, teacher_logits, targets, alpha, temperature):
        log_s = F.log_softmax(student_logits / temperature, dim=0)
        log_t = F.log_softmax(teacher_logits.detach() / temperature, dim=0)
        kl = (log_t.exp() * (log_t - log_s)).sum(-1).mean()
        return (1 - alpha) * F.cross_entropy(student_logits, targets) + alpha * temperature**2 * kl

    def wraps_the_kit(student_logits, teacher_logits, targets, alpha, temperature):
        from helpers import distillation_loss as kit_loss

        return kit_loss(student_logits, teacher_logits, targets, alpha, temperature)

    def uses_the_kits_kl(student_logits, teacher_logits, targets, alpha, temperature):
        from helpers.maths import losses

        soft = losses.soft_target_kl(student_logits, teacher_logits, temperature)
        return (1 - alpha) * F.cross_entropy(student_logits, targets) + alpha * temperature**2 * soft

    def variant(**change):
        def wrong(student_logits, teacher_logits, targets, alpha, temperature):
            return kd(student_logits, teacher_logits, targets, alpha, temperature, **change)
        return wrong

    def item(student_logits, teacher_logits, targets, alpha, temperature):
        return kd(student_logits, teacher_logits, targets, alpha, temperature).item()

    def summed(student_logits, teacher_logits, targets, alpha, temperature):
        return student_logits.shape[0] * kd(student_logits, teacher_logits, targets, alpha, temperature)

    def in_bits(student_logits, teacher_logits, targets, alpha, temperature):
        return kd(student_logits, teacher_logits, targets, alpha, temperature) / torch.log(torch.tensor(2.0))

    return {
        "alpha on the hard term": (variant(alpha_on_hard=True), "alpha_swapped"),
        "tau^2 missing": (variant(tau_power=0), "no_tau2"),
        "tau instead of tau^2": (variant(tau_power=1), "tau_not_squared"),
        "tau^2 on both terms": (variant(hard_tau_power=2), "tau2_hard"),
        "tau^2 moved to the hard term": (variant(hard_tau_power=2, tau_power=0), "tau2_hard_only"),
        "KL(p_s || p_t)": (variant(reverse=True), "kl_reversed"),
        "reduction='mean'": (variant(reduction="mean"), "mean"),
        "student not softened": (variant(soften_student=False), "student_not_softened"),
        "teacher not softened": (variant(soften_teacher=False), "teacher_not_softened"),
        "hard term at temperature tau": (variant(hard_at_tau=True), "hard_softened"),
        "sums over the batch": (summed, "sum"),
        "log base 2": (in_bits, "log2"),
        "softmax over the batch axis": (batch_axis, "axis"),
        "log(softmax(...))": (log_of_softmax, "unstable"),
        "probabilities clamped at 1e-8": (clamped, "clamped"),
        "teacher not detached": (variant(detach=False), "teacher_grad"),
        "returns loss.item()": (item, "not_tensor"),
        "wraps the kit's distillation_loss": (wraps_the_kit, "kit_wrapper"),
        "uses the kit's soft_target_kl": (uses_the_kits_kl, "kit_wrapper"),
    }


INSTRUCTOR = Instructor(solution=my_distillation_loss, hidden=_hidden_cases, wrong=_wrong_catalogue())
# END INSTRUCTOR

EXERCISE = Exercise(name="distillation_loss", notebook="03", function="my_distillation_loss",
                    check=check_distillation_loss, mistakes=MISTAKES, cases=visible_cases, instructor=INSTRUCTOR)
