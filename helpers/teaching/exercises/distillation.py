"""Notebook 03 (``03_knowledge_distillation``): the knowledge-distillation loss -- its check, with the worked
solution beside it."""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from helpers.maths.losses import distillation_loss
from helpers.teaching.exercises.checking import (
    LN2, MISTAKES, _as_tensor, _call, _Case, _close, _diagnose, _Failed, _fmt, _generator, _name, _run_check,
)

__all__ = ["check_distillation_loss", "distillation_loss_solution"]


# ----------------------------------------------------------------------------- 03: distillation


def _kd_cases() -> list[_Case]:
    g = _generator(3)
    s1 = torch.randn(4, 5, generator=g, dtype=torch.float64)
    t1 = 3.0 * torch.randn(4, 5, generator=g, dtype=torch.float64)
    y1 = torch.randint(0, 5, (4,), generator=g)
    s2 = 2.0 * torch.randn(6, 3, generator=g, dtype=torch.float64)
    t2 = 2.0 * torch.randn(6, 3, generator=g, dtype=torch.float64)
    y2 = torch.randint(0, 3, (6,), generator=g)
    return [
        _Case("4 examples, K = 5, alpha = 0.3, tau = 3", (s1, t1, y1, 0.3, 3.0)),
        _Case("the same batch, alpha = 0.7, tau = 1", (s1, t1, y1, 0.7, 1.0)),
        _Case("6 examples, K = 3, alpha = 0.5, tau = 4", (s2, t2, y2, 0.5, 4.0)),
        _Case("alpha = 0 (plain cross-entropy), tau = 2", (s2, t2, y2, 0.0, 2.0)),
    ]


def _kl(log_p_target: torch.Tensor, log_q: torch.Tensor) -> torch.Tensor:
    """KL(p ‖ q) per example from log-probabilities."""
    return (log_p_target.exp() * (log_p_target - log_q)).sum(-1)


def _kd_mutants() -> dict[str, Callable]:
    def parts(s, t, tau):
        return F.log_softmax(s / tau, -1), F.log_softmax(t / tau, -1)

    def kl_bm(s, t, tau):
        log_s, log_t = parts(s, t, tau)
        return _kl(log_t, log_s).mean()

    return {
        "alpha_swapped": lambda s, t, y, a, tau: a * F.cross_entropy(s, y) + (1 - a) * tau**2 * kl_bm(s, t, tau),
        "no_tau2": lambda s, t, y, a, tau: (1 - a) * F.cross_entropy(s, y) + a * kl_bm(s, t, tau),
        "tau2_hard": lambda s, t, y, a, tau: tau**2 * ((1 - a) * F.cross_entropy(s, y) + a * kl_bm(s, t, tau)),
        "tau2_hard_only": lambda s, t, y, a, tau: (1 - a) * tau**2 * F.cross_entropy(s, y) + a * kl_bm(s, t, tau),
        "kl_reversed": lambda s, t, y, a, tau: (1 - a) * F.cross_entropy(s, y)
        + a * tau**2 * _kl(*parts(s, t, tau)).mean(),  # KL(p_s ‖ p_t)
        "mean": lambda s, t, y, a, tau: (1 - a) * F.cross_entropy(s, y) + a * tau**2 * kl_bm(s, t, tau) / s.shape[-1],
        "student_not_softened": lambda s, t, y, a, tau: (1 - a) * F.cross_entropy(s, y)
        + a * tau**2 * _kl(F.log_softmax(t / tau, -1), F.log_softmax(s, -1)).mean(),
        "teacher_not_softened": lambda s, t, y, a, tau: (1 - a) * F.cross_entropy(s, y)
        + a * tau**2 * _kl(F.log_softmax(t, -1), F.log_softmax(s / tau, -1)).mean(),
        "hard_softened": lambda s, t, y, a, tau: (1 - a) * F.cross_entropy(s / tau, y) + a * tau**2 * kl_bm(s, t, tau),
        "sum": lambda s, t, y, a, tau: s.shape[0] * ((1 - a) * F.cross_entropy(s, y) + a * tau**2 * kl_bm(s, t, tau)),
        "log2": lambda s, t, y, a, tau: ((1 - a) * F.cross_entropy(s, y) + a * tau**2 * kl_bm(s, t, tau)) / LN2,
    }


_KD_HINTS = {
    "alpha_swapped": "In the kit α weights the teacher's soft term: (1 − α)·CE(y, p_s) + α·τ²·KL; α = 0 is plain CE.",
    "no_tau2": "Multiply the KL term by τ²: without it the soft gradient shrinks like 1/τ² (notebook 03 §3).",
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
}


def check_distillation_loss(fn: Callable) -> bool:
    """Check ``fn(student_logits, teacher_logits, targets, alpha, temperature) -> mean KD loss`` (kit's convention),
    and that no gradient reaches the teacher."""
    check = "distillation_loss"
    mutants = _kd_mutants()

    def body() -> int:
        cases = _kd_cases()
        for case in cases:
            s, t, y, a, tau = case.args
            expected = distillation_loss(s, t, y, a, tau).double()
            got = _as_tensor(_call(fn, case), case, "a scalar loss tensor")
            if got.numel() != 1 or not _close(got.reshape(()), expected):
                shown = got.reshape(()) if got.numel() == 1 else got
                raise _Failed(f"case '{case.name}': expected {_fmt(expected)}, got {_fmt(got)}."
                              + _diagnose(check, shown, case, mutants, _KD_HINTS))
        # gradients: the student's logits get them, the teacher's must not
        s, t, y, a, tau = cases[0].args
        student = s.clone().requires_grad_(True)
        teacher = t.clone().requires_grad_(True)
        grad_case = _Case("gradient check: student and teacher logits both require grad", (student, teacher, y, a, tau))
        out = _call(fn, grad_case)
        if not isinstance(out, torch.Tensor) or out.grad_fn is None:
            raise _Failed(f"case '{grad_case.name}': your function returned {type(out).__name__} without a gradient.\n"
                          f"   Likely mistake: {MISTAKES[check]['not_tensor']}. Return the loss tensor "
                          "(no .item(), no float()), so that loss.backward() can train the student.")
        out.backward()
        s_ref = s.clone().requires_grad_(True)
        distillation_loss(s_ref, t, y, a, tau).backward()
        if student.grad is None or not _close(student.grad, s_ref.grad):
            raise _Failed(f"case '{grad_case.name}': the gradient w.r.t. the student's logits is wrong "
                          f"(expected {_fmt(s_ref.grad)}, got {_fmt(student.grad) if student.grad is not None else None}).")
        if teacher.grad is not None and teacher.grad.abs().max() > 0:
            raise _Failed(f"case '{grad_case.name}': a gradient reached the teacher's logits "
                          f"(|grad| up to {teacher.grad.abs().max().item():.3g}).\n"
                          f"   Likely mistake: {MISTAKES[check]['teacher_grad']}. The teacher is fixed: use "
                          "teacher_logits.detach() (or compute its probabilities under torch.no_grad()).")
        return len(cases) + 1

    return _run_check(f"check_distillation_loss({_name(fn)})", body)


def distillation_loss_solution(student_logits, teacher_logits, targets, alpha, temperature):
    """(1 − α)·CE(y, p_s) + α·τ²·KL(p_t^τ ‖ p_s^τ), KL summed over classes and averaged over the batch."""
    hard = F.cross_entropy(student_logits, targets)
    log_p_student = F.log_softmax(student_logits / temperature, dim=-1)
    log_p_teacher = F.log_softmax(teacher_logits.detach() / temperature, dim=-1)  # no gradient into the teacher
    soft = (log_p_teacher.exp() * (log_p_teacher - log_p_student)).sum(dim=-1).mean()
    return (1 - alpha) * hard + alpha * temperature**2 * soft
