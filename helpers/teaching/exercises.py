"""Hands-on exercises with self-checks, and their worked solutions (the only copy of them).

How an exercise works in a notebook
-----------------------------------
1. A code cell defines a function with blanks, e.g.::

       def entropy(probs):
           ...  # your code here

   A blank function returns ``None``: the notebook keeps running.
2. The next cell calls a check, e.g. ``check_entropy(entropy)``. A check runs the student's function
   on a few prepared cases, compares with the kit's own implementation (:mod:`helpers.maths.losses`,
   :mod:`helpers.maths.metrics`, :mod:`helpers.maths.calibration`), **prints** what it found and **returns**
   ``True`` (all cases pass) or ``False``. It never raises: a blank prints "not implemented yet",
   an exception raised by the student's function is reported with the case that raised it, and a
   wrong answer is reported with the case, the expected and the obtained values and -- when the
   answer matches a classic mistake -- the mistake's name and a hint (see :data:`MISTAKES`).
3. Worked solutions live in :data:`SOLUTIONS` (reference implementations written the way a student
   would, each passing its check); ``show_solution("entropy")`` prints one.

Conventions are the kit's (README): natural logarithms (nats), batch means, ``alpha`` weights the
soft part, LS = PyTorch's ``label_smoothing`` (uniform over **all** K classes), KD =
``(1-alpha)*CE(y, p_s) + alpha*tau**2*KL(p_t^tau || p_s^tau)`` with a "batchmean" KL and no
gradient into the teacher.
"""

from __future__ import annotations

import copy
import inspect
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from helpers.maths.calibration import fit_temperature
from helpers.maths.losses import distillation_loss, label_smoothing_loss
from helpers.maths.metrics import expected_calibration_error

__all__ = [
    "MISTAKES",
    "SOLUTIONS",
    "show_solution",
    "check_softmax_with_temperature",
    "check_entropy",
    "check_label_smoothing_loss",
    "check_distillation_loss",
    "check_expected_calibration_error",
    "check_temperature_scaling",
    "check_kd_training_step",
    "check_paired_interval",
    "check_kd_direction_prediction",
]

LN2 = math.log(2.0)

#: For each check, the classic mistakes it recognises: key -> the name printed when it is found.
MISTAKES: dict[str, dict[str, str]] = {
    "softmax_with_temperature": {
        "multiplied": "multiplied the logits by the temperature instead of dividing",
        "ignored": "temperature ignored",
        "axis": "softmax over the wrong axis",
        "overflow": "overflow (exp of large logits)",
        "unnormalised": "probabilities do not sum to 1",
    },
    "entropy": {
        "log2": "log base 2",
        "axis": "sum over the wrong axis",
        "nan": "log(0) gives NaN",
        "mean": "averaged over the batch",
        "sign": "minus sign missing",
    },
    "label_smoothing_loss": {
        "alpha_swapped": "alpha on the wrong term",
        "k_minus_1": "smoothing over K-1 classes instead of K",
        "sum": "sum instead of mean over the batch",
        "no_hard_weight": "(1 - alpha) missing on the cross-entropy term",
        "kl_not_ce": "alpha*log K constant dropped",
        "log2": "log base 2",
        "per_example": "per-example losses instead of their mean",
    },
    "distillation_loss": {
        "alpha_swapped": "alpha on the wrong term",
        "no_tau2": "tau^2 missing",
        "tau2_hard": "tau^2 applied to the hard term",
        "tau2_hard_only": "tau^2 applied to the hard term",
        "kl_reversed": "KL in the wrong direction",
        "mean": "reduction='mean' instead of 'batchmean'",
        "student_not_softened": "teacher softened but not the student",
        "teacher_not_softened": "student softened but not the teacher",
        "hard_softened": "hard term computed at temperature tau",
        "sum": "sum instead of mean over the batch",
        "log2": "log base 2",
        "teacher_grad": "teacher gradients not blocked",
        "not_tensor": "returned a number, not a tensor",
    },
    "expected_calibration_error": {
        "equal_weights": "bins weighted equally instead of by count",
        "equal_weights_all": "bins weighted equally instead of by count",
        "true_class_prob": "probability of the true class used as confidence",
        "accuracy_mixup": "accuracy and confidence mixed up",
        "signed": "per-bin absolute gap missing",
        "signed_raw": "per-bin absolute gap missing",
        "no_bins": "per-bin absolute gap missing",
    },
    "temperature_scaling": {
        "test_split": "fitted on the test split",
        "ignores_data": "the answer does not depend on the validation data",
        "inverse": "returned 1/T instead of T",
        "accuracy": "optimised accuracy instead of NLL",
        "log_t": "returned log T instead of T",
        "ece": "optimised ECE instead of NLL",
    },
    "kd_training_step": {
        "eval_mode": "model not in train mode",
        "zero_grad": "zero_grad missing",
        "no_step": "optimizer.step() missing",
        "teacher": "teacher not frozen",
        "loss": "not the kit's KD loss",
        "loss_after_step": "returned the loss after the step",
    },
    "paired_interval": {
        "unpaired": "compared the two groups' means instead of the per-seed differences",
        "normal": "used the normal 1.96 instead of Student's t",
        "one_sided": "used the one-sided t quantile (0.95 instead of 0.975)",
        "ddof0": "standard deviation with n instead of n - 1",
        "no_sqrt_n": "divided by n instead of sqrt(n) or not at all",
        "reversed": "erm - method instead of method - erm",
    },
    "kd_direction_prediction": {
        "reversed": "up and down swapped",
        "no_band": "no 'no prediction' inside the negligible band",
    },
}


# ----------------------------------------------------------------------------- machinery


class _NotImplemented(Exception):
    pass


class _Failed(Exception):
    pass


@dataclass
class _Case:
    name: str
    args: tuple


def _name(fn: Callable) -> str:
    return getattr(fn, "__name__", repr(fn))


def _fmt(value) -> str:
    """A short, readable rendering of a number or an array (4 significant digits)."""
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    array = np.asarray(value, dtype=float)
    if array.ndim == 0:
        return f"{float(array):.4g}"
    flat = array.reshape(-1)
    shown = ", ".join(f"{x:.4g}" for x in flat[:6]) + (", …" if flat.size > 6 else "")
    return f"[{shown}] (shape {tuple(array.shape)})"


def _call(fn: Callable, case: _Case):
    """Call the student's function on a copy of the case's arguments; blanks and errors become messages."""
    args = tuple(a.clone() if isinstance(a, torch.Tensor) and a.grad_fn is None and not a.requires_grad else a
                 for a in case.args)
    try:
        out = fn(*args)
    except Exception as exc:  # the student's code: report, never let it escape
        hint = ""
        text = str(exc)
        if "Dimension out of range" in text or "axis" in text:
            hint = "\n   Hint: the input may be one example of shape (K,) or a batch (B, K): work on the last axis (dim=-1)."
        raise _Failed(f"case '{case.name}': your function raised {type(exc).__name__}: {text}{hint}") from None
    if out is None or out is Ellipsis:
        raise _NotImplemented
    return out


def _as_tensor(out, case: _Case, what: str) -> torch.Tensor:
    try:
        if isinstance(out, torch.Tensor):
            return out.detach().double()
        return torch.as_tensor(np.asarray(out, dtype=float), dtype=torch.float64)
    except Exception:
        raise _Failed(f"case '{case.name}': your function returned {type(out).__name__} {out!r:.80}; "
                      f"expected {what}") from None


def _close(a: torch.Tensor, b: torch.Tensor, rtol: float = 1e-4, atol: float = 1e-6) -> bool:
    a, b = torch.as_tensor(a).double(), torch.as_tensor(b).double()
    return a.shape == b.shape and bool(torch.allclose(a, b, rtol=rtol, atol=atol, equal_nan=False))


def _diagnose(check: str, got: torch.Tensor, case: _Case, mutants: dict[str, Callable], hints: dict[str, str]) -> str:
    """The mistake (name + hint) whose implementation reproduces ``got`` on ``case``, or ''."""
    for key, mutant in mutants.items():
        try:
            with torch.no_grad():
                value = torch.as_tensor(mutant(*case.args)).double()
        except Exception:
            continue
        if _close(got, value, rtol=1e-3, atol=1e-5):
            return f"\n   Likely mistake: {MISTAKES[check][key]}. {hints[key]}"
    return ""


def _run_check(title: str, body: Callable[[], int]) -> bool:
    """Run a check's body; print one verdict; return True/False; never raise."""
    try:
        passed = body()
    except _NotImplemented:
        print(f"⏳ {title}: not implemented yet — fill in the blanks (...) and run this check again.")
        return False
    except _Failed as failure:
        print(f"❌ {title}: {failure}")
        return False
    except Exception as exc:  # a surprising return value the check could not handle
        print(f"❌ {title}: could not check your answer ({type(exc).__name__}: {exc}).")
        return False
    print(f"✅ {title}: correct ({passed} case{'' if passed == 1 else 's'} checked).")
    return True


def _generator(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


# ----------------------------------------------------------------------------- 01: softmax with temperature


def _softmax_cases() -> list[_Case]:
    g = _generator(1)
    batch = 3.0 * torch.randn(3, 4, generator=g, dtype=torch.float64)
    return [
        _Case("one example [2, 1, 0.1, -1], tau = 2", (torch.tensor([2.0, 1.0, 0.1, -1.0], dtype=torch.float64), 2.0)),
        _Case("a batch of 3 examples (shape (3, 4)), tau = 0.5", (batch, 0.5)),
        _Case("the same batch, tau = 1", (batch, 1.0)),
        _Case("large logits [1000, 999, 990], tau = 1", (torch.tensor([[1000.0, 999.0, 990.0]], dtype=torch.float64), 1.0)),
    ]


def check_softmax_with_temperature(fn: Callable) -> bool:
    """Check ``fn(logits, temperature) -> softmax(logits / temperature)`` over the last axis."""
    check = "softmax_with_temperature"
    mutants = {
        "multiplied": lambda z, t: torch.softmax(z * t, dim=-1),
        "ignored": lambda z, t: torch.softmax(z, dim=-1),
        "axis": lambda z, t: torch.softmax(z / t, dim=0),
    }
    hints = {
        "multiplied": "Divide: p = softmax(z / τ), so τ > 1 flattens and τ < 1 sharpens.",
        "ignored": "Divide the logits by τ before the softmax.",
        "axis": "The classes are on the last axis: softmax(..., dim=-1).",
    }

    def body() -> int:
        cases = _softmax_cases()
        for case in cases:
            z, t = case.args
            expected = torch.softmax(z / t, dim=-1)
            got = _as_tensor(_call(fn, case), case, "a tensor of probabilities")
            if got.shape != expected.shape:
                raise _Failed(f"case '{case.name}': expected shape {tuple(expected.shape)}, got {tuple(got.shape)}."
                              + _diagnose(check, got, case, mutants, hints))
            if not torch.isfinite(got).all():
                raise _Failed(f"case '{case.name}': your probabilities contain NaN or inf ({_fmt(got)}).\n"
                              f"   Likely mistake: {MISTAKES[check]['overflow']}. exp(1000) is inf in floating point: "
                              "subtract each row's largest logit before exp (it changes nothing, notebook 01 §1), "
                              "or use torch.softmax.")
            if not _close(got, expected):
                message = (f"case '{case.name}': expected {_fmt(expected)}, got {_fmt(got)}."
                           + _diagnose(check, got, case, mutants, hints))
                if "Likely" not in message and not _close(got.sum(-1), torch.ones(got.shape[:-1], dtype=torch.float64)):
                    message += (f"\n   Likely mistake: {MISTAKES[check]['unnormalised']} (row sums {_fmt(got.sum(-1))}). "
                                "Apply the temperature to the logits, then the softmax (exp, divided by the row's sum).")
                raise _Failed(message)
        return len(cases)

    return _run_check(f"check_softmax_with_temperature({_name(fn)})", body)


# ----------------------------------------------------------------------------- 01: entropy


def _entropy_reference(p: torch.Tensor) -> torch.Tensor:
    return -(p * p.clamp_min(1e-300).log()).sum(-1)


def _entropy_cases() -> list[_Case]:
    return [
        _Case("3 distributions over 4 classes, no zeros",
              (torch.tensor([[0.25, 0.25, 0.25, 0.25], [0.7, 0.1, 0.1, 0.1], [0.4, 0.3, 0.2, 0.1]], dtype=torch.float64),)),
        _Case("a batch with zero probabilities ([0.5, 0.5, 0, 0] and one-hot)",
              (torch.tensor([[0.5, 0.5, 0.0, 0.0], [1.0, 0.0, 0.0, 0.0], [0.1, 0.2, 0.3, 0.4]], dtype=torch.float64),)),
        _Case("a batch of 5 distributions over 2 classes",
              (torch.tensor([[0.5, 0.5], [0.9, 0.1], [0.99, 0.01], [0.2, 0.8], [0.6, 0.4]], dtype=torch.float64),)),
    ]


def check_entropy(fn: Callable) -> bool:
    """Check ``fn(probs) -> per-example entropy in nats`` (shape ``(B,)``; ``0 log 0 = 0``)."""
    check = "entropy"
    mutants = {
        "log2": lambda p: _entropy_reference(p) / LN2,
        "sign": lambda p: -_entropy_reference(p),
        "mean": lambda p: _entropy_reference(p).mean(),
        "axis": lambda p: -(p * p.clamp_min(1e-300).log()).sum(0),
    }
    hints = {
        "log2": "The kit measures entropy in nats: use the natural log (torch.log), not log2.",
        "sign": "H(p) = -Σ p log p: log p ≤ 0, so the minus makes H ≥ 0.",
        "mean": "Return one entropy per example (shape (B,)): do not average over the batch.",
        "axis": "Sum over the classes, the last axis: .sum(dim=-1).",
    }

    def body() -> int:
        cases = _entropy_cases()
        for case in cases:
            (p,) = case.args
            expected = _entropy_reference(p)
            got = _as_tensor(_call(fn, case), case, "a tensor of per-example entropies")
            if got.shape != expected.shape or not torch.isfinite(got).all() or not _close(got, expected):
                message = f"case '{case.name}': expected {_fmt(expected)}, got {_fmt(got)}."
                diagnosis = _diagnose(check, got, case, mutants, hints)
                if not diagnosis and got.shape == expected.shape and torch.isnan(got).any():
                    diagnosis = (f"\n   Likely mistake: {MISTAKES[check]['nan']} (0 · log 0 = 0 · (-inf) = NaN). "
                                 "Skip the zeros, e.g. torch.special.xlogy(p, p), or clamp p before the log: "
                                 "p * p.clamp_min(1e-12).log().")
                raise _Failed(message + diagnosis)
        return len(cases)

    return _run_check(f"check_entropy({_name(fn)})", body)


# ----------------------------------------------------------------------------- 02: label smoothing


def _ls_cases() -> list[_Case]:
    g = _generator(2)
    z1 = 2.0 * torch.randn(4, 5, generator=g, dtype=torch.float64)
    y1 = torch.randint(0, 5, (4,), generator=g)
    z2 = 2.0 * torch.randn(6, 3, generator=g, dtype=torch.float64)
    y2 = torch.randint(0, 3, (6,), generator=g)
    return [
        _Case("4 examples, K = 5, alpha = 0.2", (z1, y1, 0.2)),
        _Case("the same batch, alpha = 0 (plain cross-entropy)", (z1, y1, 0.0)),
        _Case("6 examples, K = 3, alpha = 0.6", (z2, y2, 0.6)),
    ]


def _ls_k_minus_1(z, y, a):
    log_p = F.log_softmax(z, dim=-1)
    k = z.shape[-1]
    q = torch.full_like(log_p, a / (k - 1))
    q[torch.arange(len(y)), y] = 1 - a
    return -(q * log_p).sum(-1).mean()


def check_label_smoothing_loss(fn: Callable) -> bool:
    """Check ``fn(logits, targets, alpha) -> mean LS loss`` = ``F.cross_entropy(..., label_smoothing=alpha)``."""
    check = "label_smoothing_loss"

    def ce(z, y):
        return F.cross_entropy(z, y)

    def ce_u(z):
        return -F.log_softmax(z, dim=-1).mean(-1).mean()

    mutants = {
        "alpha_swapped": lambda z, y, a: a * ce(z, y) + (1 - a) * ce_u(z),
        "k_minus_1": _ls_k_minus_1,
        "sum": lambda z, y, a: F.cross_entropy(z, y, label_smoothing=a, reduction="sum"),
        "no_hard_weight": lambda z, y, a: ce(z, y) + a * ce_u(z),
        "kl_not_ce": lambda z, y, a: F.cross_entropy(z, y, label_smoothing=a) - a * math.log(z.shape[-1]),
        "log2": lambda z, y, a: F.cross_entropy(z, y, label_smoothing=a) / LN2,
    }
    hints = {
        "alpha_swapped": "In the kit α weights the soft (uniform) part: (1 − α)·CE(y, p) + α·CE(u, p); α = 0 is plain CE.",
        "k_minus_1": ("The kit follows PyTorch's label_smoothing: the α mass is spread uniformly over ALL K classes "
                      "(the label too), so the label gets 1 − α + α/K and every other class α/K — not α/(K − 1)."),
        "sum": "Losses are means over the batch: .mean(), not .sum().",
        "no_hard_weight": "The hard term is weighted too: (1 − α)·CE(y, p).",
        "kl_not_ce": "The uniform term is CE(u, p) = KL(u ‖ p) + log K: keep the constant (the kit's loss equals PyTorch's).",
        "log2": "Losses are in nats: natural log (F.log_softmax), not log2.",
    }

    def body() -> int:
        cases = _ls_cases()
        for case in cases:
            z, y, a = case.args
            expected = label_smoothing_loss(z, y, a).double()
            got = _as_tensor(_call(fn, case), case, "a scalar loss tensor")
            if got.shape == (z.shape[0],):
                raise _Failed(f"case '{case.name}': expected one number (the batch mean), got shape {tuple(got.shape)}.\n"
                              f"   Likely mistake: {MISTAKES[check]['per_example']}. Average over the batch: .mean().")
            if got.numel() != 1 or not _close(got.reshape(()), expected):
                raise _Failed(f"case '{case.name}': expected {_fmt(expected)}, got {_fmt(got)}."
                              + _diagnose(check, got.reshape(()) if got.numel() == 1 else got, case, mutants, hints))
        return len(cases)

    return _run_check(f"check_label_smoothing_loss({_name(fn)})", body)


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


# ----------------------------------------------------------------------------- 04: expected calibration error


def _ece_data(seed: int, n: int = 400, k: int = 4) -> tuple[torch.Tensor, torch.Tensor]:
    """Predictions over-confident on some examples and under-confident on others: probabilities softmax(z),
    labels drawn from softmax(z / 2) for half of the examples and from softmax(2 z) for the other half.

    Confidences are kept away from every bin edge of 5, 10 and 15 bins (so float rounding never moves
    an example across an edge)."""
    g = _generator(seed)
    z = 2.5 * torch.randn(n, k, generator=g, dtype=torch.float64)
    probs = torch.softmax(z, -1)
    sharpness = torch.where(torch.arange(n) % 2 == 0, 0.5, 2.0).double()[:, None]
    targets = torch.multinomial(torch.softmax(z * sharpness, -1), 1, generator=g)[:, 0]
    conf = probs.max(-1).values
    edges = torch.cat([torch.arange(1, nb) / nb for nb in (5, 10, 15)]).double()
    far = (conf[:, None] - edges[None, :]).abs().min(-1).values > 1e-6
    return probs[far], targets[far]


def _ece_by_hand(probs: torch.Tensor, targets: torch.Tensor, n_bins: int, confidence=None, weights: str = "count",
                 signed: bool = False) -> torch.Tensor:
    conf = probs.max(-1).values if confidence is None else confidence
    correct = (probs.argmax(-1) == targets).double()
    index = (torch.ceil(conf * n_bins) - 1).clamp(0, n_bins - 1).long()
    total, used = torch.zeros((), dtype=torch.float64), 0
    for b in range(n_bins):
        mask = index == b
        if mask.any():
            gap = correct[mask].mean() - conf[mask].mean()
            gap = gap if signed else gap.abs()
            total = total + (mask.double().mean() * gap if weights == "count" else gap)
            used += 1
    if weights == "count":
        return total
    return total / (used if weights == "equal" else n_bins)  # "all": empty bins counted too


def check_expected_calibration_error(fn: Callable) -> bool:
    """Check ``fn(probs, targets, n_bins) -> ECE`` (equal-width bins of max-probability, weighted by count)."""
    check = "expected_calibration_error"
    mutants = {
        "equal_weights": lambda p, y, n: _ece_by_hand(p, y, n, weights="equal"),
        "equal_weights_all": lambda p, y, n: _ece_by_hand(p, y, n, weights="all"),
        "true_class_prob": lambda p, y, n: _ece_by_hand(p, y, n, confidence=p[torch.arange(len(y)), y]),
        "accuracy_mixup": lambda p, y, n: _ece_mixup(p, y, n),
        "signed": lambda p, y, n: _ece_by_hand(p, y, n, signed=True).abs(),
        "signed_raw": lambda p, y, n: _ece_by_hand(p, y, n, signed=True),
    }
    hints = {
        "equal_weights": ("Weight each bin by the fraction of examples in it (count / N): a bin with 3 examples "
                          "must count less than one with 300."),
        "true_class_prob": ("Confidence is the max-probability (the probability of the PREDICTED class), not the "
                            "probability of the true class; bin by it."),
        "accuracy_mixup": ("In each bin, accuracy = fraction of examples whose arg-max equals the label; "
                           "confidence = their mean max-probability. You used a probability as accuracy or compared "
                           "the wrong pair."),
        "signed": ("Take |accuracy − confidence| inside each bin, then the count-weighted mean of these gaps. A signed "
                   "sum (or one gap over all examples, without bins — the same number) lets over- and "
                   "under-confident bins cancel."),
    }
    hints["equal_weights_all"] = hints["equal_weights"]
    hints["signed_raw"] = hints["signed"]

    def body() -> int:
        cases = []
        for seed, n_bins in ((4, 10), (5, 5), (6, 15)):
            probs, targets = _ece_data(seed)
            cases.append(_Case(f"{len(targets)} predictions, K = 4, n_bins = {n_bins}",
                               (probs, targets, n_bins)))
        for case in cases:
            p, y, n_bins = case.args
            expected = torch.tensor(expected_calibration_error(p.log(), y, n_bins), dtype=torch.float64)
            got = _as_tensor(_call(fn, case), case, "one number (the ECE)")
            if got.numel() != 1 or not _close(got.reshape(()), expected, rtol=1e-4, atol=1e-6):
                shown = got.reshape(()) if got.numel() == 1 else got
                raise _Failed(f"case '{case.name}': expected {_fmt(expected)}, got {_fmt(got)}."
                              + _diagnose(check, shown, case, mutants, hints))
        return len(cases)

    return _run_check(f"check_expected_calibration_error({_name(fn)})", body)


def _ece_mixup(probs: torch.Tensor, targets: torch.Tensor, n_bins: int) -> torch.Tensor:
    """A classic mix-up: 'accuracy' taken as the mean probability of the true class."""
    conf = probs.max(-1).values
    p_true = probs[torch.arange(len(targets)), targets]
    index = (torch.ceil(conf * n_bins) - 1).clamp(0, n_bins - 1).long()
    total = torch.zeros((), dtype=torch.float64)
    for b in range(n_bins):
        mask = index == b
        if mask.any():
            total = total + mask.double().mean() * (p_true[mask].mean() - conf[mask].mean()).abs()
    return total


# ----------------------------------------------------------------------------- 04: temperature scaling


def _calibration_set(seed: int, scale: float, n: int = 600, k: int = 5) -> tuple[torch.Tensor, torch.Tensor]:
    """Logits ``scale * z`` with labels drawn from ``softmax(z)``: the NLL-optimal temperature is close to ``scale``."""
    g = _generator(seed)
    z = 1.5 * torch.randn(n, k, generator=g, dtype=torch.float64)
    y = torch.multinomial(torch.softmax(z, -1), 1, generator=g)[:, 0]
    return (scale * z).float(), y


def _nll(logits: torch.Tensor, targets: torch.Tensor, t: float) -> float:
    return F.cross_entropy(logits.double() / t, targets).item()


def check_temperature_scaling(fn: Callable, test_logits=None, test_targets=None) -> bool:
    """Check ``fn(val_logits, val_targets) -> T`` minimising the validation NLL of ``softmax(logits / T)``.

    The check calls ``fn`` on two validation sets whose optimal temperatures differ clearly (about 2.5
    and 0.6); pass the notebook's ``test_logits, test_targets`` too, so that a function that reads
    them through a global (fitting on the test split) is named as such.
    """
    check = "temperature_scaling"

    def body() -> int:
        sets = [("validation set A (over-confident: optimum near T = 2.5)", _calibration_set(7, 2.5)),
                ("validation set B (under-confident: optimum near T = 0.6)", _calibration_set(8, 0.6))]
        test_t = None
        if test_logits is not None and test_targets is not None:
            test_t = fit_temperature(torch.as_tensor(test_logits), torch.as_tensor(test_targets))
        answers = []
        for name, (z, y) in sets:
            case = _Case(name, (z, y))
            raw = _call(fn, case)
            got = _as_tensor(raw, case, "one positive number T")
            if got.numel() != 1:
                raise _Failed(f"case '{name}': expected one number T, got {_fmt(got)}.")
            answers.append((case, float(got.reshape(())), fit_temperature(z, y)))
        (case_a, t_a, best_a), (case_b, t_b, best_b) = answers
        for case, t, best in answers:
            z, y = case.args
            if math.isclose(t, best, rel_tol=0.02) or (t > 0 and _nll(z, y, t) - _nll(z, y, best) < 1e-4):
                continue
            message = f"case '{case.name}': expected T ≈ {best:.3f} (the validation NLL's minimum), got {t:.4g}."
            if test_t is not None and math.isclose(t_a, test_t, rel_tol=0.02) and math.isclose(t_b, test_t, rel_tol=0.02):
                message += (f"\n   Likely mistake: {MISTAKES[check]['test_split']}: your T equals the one fitted on the "
                            f"notebook's test split (T = {test_t:.3f}) for both validation sets. Use the function's "
                            "arguments val_logits, val_targets, never test_logits (a global).")
            elif math.isclose(t_a, t_b, rel_tol=1e-6):
                message += (f"\n   Likely mistake: {MISTAKES[check]['ignores_data']} — you returned {t:.4g} for two "
                            "validation sets whose best temperatures differ. Fit on val_logits and val_targets (not on "
                            "a global such as test_logits). If you maximised accuracy: "
                            f"{MISTAKES[check]['accuracy']} — accuracy never changes with T (the arg-max does not move), "
                            "so it cannot choose T. Minimise the NLL.")
            elif t > 0 and math.isclose(1.0 / t, best, rel_tol=0.02):
                message += (f"\n   Likely mistake: {MISTAKES[check]['inverse']}. The kit divides: softmax(logits / T); "
                            "if you optimised a factor c in softmax(c · logits), return T = 1/c.")
            elif math.isclose(math.exp(t), best, rel_tol=0.02):
                message += (f"\n   Likely mistake: {MISTAKES[check]['log_t']}. If you optimised over log T, "
                            "return exp(log T).")
            elif t > 0 and _is_ece_minimum(case.args[0], case.args[1], t):
                message += (f"\n   Likely mistake: {MISTAKES[check]['ece']}. Temperature scaling minimises the "
                            "validation NLL (a smooth, proper score); ECE is only reported.")
            elif t > 0:
                message += (f"\n   The NLL at your T is {_nll(*case.args, t):.4f} nats, at the best T "
                            f"{_nll(*case.args, best):.4f}. Minimise the mean NLL of softmax(val_logits / T) over T > 0 "
                            f"(e.g. scipy.optimize.minimize_scalar on log T); if you maximised accuracy: "
                            f"{MISTAKES[check]['accuracy']} — accuracy does not depend on T.")
            raise _Failed(message)
        return len(answers)

    return _run_check(f"check_temperature_scaling({_name(fn)})", body)


def _is_ece_minimum(z: torch.Tensor, y: torch.Tensor, t: float) -> bool:
    grid = np.geomspace(0.05, 20.0, 400)
    eces = [expected_calibration_error(z / g, y) for g in grid]
    best = grid[int(np.argmin(eces))]
    return expected_calibration_error(z / t, y) <= min(eces) + 1e-3 or math.isclose(t, best, rel_tol=0.05)


# ----------------------------------------------------------------------------- 06: one KD training step


def _kd_step_setup(seed: int = 11):
    """A frozen-feature problem: 16 feature vectors of size 8, a student head (dropout + linear), a live teacher."""
    g = _generator(seed)
    features = torch.randn(16, 8, generator=g)
    targets = torch.randint(0, 4, (16,), generator=g)
    torch.manual_seed(seed)
    head = torch.nn.Sequential(torch.nn.Dropout(0.3), torch.nn.Linear(8, 4))
    teacher = torch.nn.Linear(8, 4)
    with torch.no_grad():
        teacher.weight.mul_(6.0)
    head.eval()  # a well-written step switches it to train mode itself
    optimizer = torch.optim.SGD(head.parameters(), lr=0.5)
    for p in head.parameters():  # stale gradients from "an earlier step": the step must clear them
        p.grad = torch.full_like(p, 0.3)
    return head, optimizer, features, teacher, targets


def _reference_kd_step(head, optimizer, features, teacher_logits, targets, alpha, temperature) -> float:
    head.train()
    optimizer.zero_grad()
    loss = distillation_loss(head(features), teacher_logits.detach(), targets, alpha, temperature)
    loss.backward()
    optimizer.step()
    return loss.item()


def check_kd_training_step(fn: Callable) -> bool:
    """Check ``fn(head, optimizer, features, teacher_logits, targets, alpha, temperature) -> float``: one SGD step of
    the head under the kit's KD loss (train mode, gradients cleared, teacher frozen), returning the loss before the step."""
    check = "kd_training_step"
    alpha, temperature, seed = 0.3, 2.0, 123

    def flat(module) -> torch.Tensor:
        return torch.cat([p.detach().reshape(-1) for p in module.parameters()]).double()

    def body() -> int:
        head, optimizer, features, teacher, targets = _kd_step_setup()
        ref_head, ref_opt = copy.deepcopy(head), None
        ref_opt = torch.optim.SGD(ref_head.parameters(), lr=0.5)
        for p, q in zip(ref_head.parameters(), head.parameters()):
            p.grad = q.grad.clone()
        start = flat(head)
        teacher_start = flat(teacher)
        stale = torch.cat([p.grad.reshape(-1) for p in head.parameters()]).double()

        torch.manual_seed(seed)
        ref_loss = _reference_kd_step(ref_head, ref_opt, features, teacher(features).detach(), targets, alpha, temperature)
        ref_params = flat(ref_head)

        modes: list[bool] = []
        hook = head[0].register_forward_pre_hook(lambda module, _inputs: modes.append(module.training))
        teacher_logits = teacher(features)  # a live teacher: its logits carry its graph
        case = _Case("one step on 16 examples, alpha = 0.3, tau = 2, SGD lr = 0.5",
                     (head, optimizer, features, teacher_logits, targets, alpha, temperature))
        torch.manual_seed(seed)
        try:
            out = _call(fn, case)
        finally:
            hook.remove()
        got_loss = float(_as_tensor(out, case, "the loss as a float (loss.item())").reshape(-1)[0])
        params = flat(head)
        name = case.name
        if modes and not any(modes):
            raise _Failed(f"case '{name}': the head ran its forward pass in eval mode (dropout off).\n"
                          f"   Likely mistake: {MISTAKES[check]['eval_mode']}. Call head.train() before the forward "
                          "pass: the caller may have left it in eval mode after evaluating.")
        if any(p.grad is not None and p.grad.abs().max() > 0 for p in teacher.parameters()) or \
                not torch.equal(flat(teacher), teacher_start):
            raise _Failed(f"case '{name}': gradients reached the teacher's parameters.\n"
                          f"   Likely mistake: {MISTAKES[check]['teacher']}. Detach the teacher's logits "
                          "(teacher_logits.detach()) or use helpers.maths.losses.distillation_loss, which does.")
        if torch.equal(params, start):
            raise _Failed(f"case '{name}': the head's parameters did not move.\n"
                          f"   Likely mistake: {MISTAKES[check]['no_step']}. After loss.backward(), call optimizer.step().")
        if _close(params, ref_params - 0.5 * stale, rtol=1e-4, atol=1e-6):
            raise _Failed(f"case '{name}': the parameters moved by the new gradient PLUS the stale one left in .grad.\n"
                          f"   Likely mistake: {MISTAKES[check]['zero_grad']}. Call optimizer.zero_grad() before "
                          "loss.backward(): PyTorch adds gradients up.")
        params_right = _close(params, ref_params, rtol=1e-4, atol=1e-6)
        loss_right = math.isclose(got_loss, ref_loss, rel_tol=1e-4, abs_tol=1e-6)
        if params_right and not loss_right:
            raise _Failed(f"case '{name}': the step itself is right, but you returned {got_loss:.5f} instead of the "
                          f"loss {ref_loss:.5f} that the gradient came from.\n"
                          f"   Likely mistake: {MISTAKES[check]['loss_after_step']} (or another value). Return "
                          "loss.item() of the loss you called backward() on.")
        if not loss_right:
            raise _Failed(f"case '{name}': expected the loss {ref_loss:.5f}, got {got_loss:.5f}.\n"
                          f"   Likely mistake: {MISTAKES[check]['loss']}. Use helpers.maths.losses.distillation_loss("
                          "student_logits, teacher_logits, targets, alpha, temperature) (or your notebook-03 version).")
        if not params_right:
            raise _Failed(f"case '{name}': the parameters moved differently from one SGD step on the KD loss "
                          f"(largest difference {(params - ref_params).abs().max().item():.3g}). One forward pass, "
                          "zero_grad, backward, step — in that order, once.")
        return 1

    def isolated() -> int:
        with torch.random.fork_rng():  # the check seeds dropout: leave the notebook's random state as it was
            return body()

    return _run_check(f"check_kd_training_step({_name(fn)})", isolated)


# ----------------------------------------------------------------------------- 06: a paired 95% interval


def _paired_reference(method, erm, level=0.95):
    d = np.asarray(method, dtype=float) - np.asarray(erm, dtype=float)
    from scipy import stats

    half = stats.t.ppf(0.5 + level / 2, d.size - 1) * d.std(ddof=1) / math.sqrt(d.size)
    return float(d.mean()), float(d.mean() - half), float(d.mean() + half)


def _paired_cases() -> list[_Case]:
    return [
        _Case("3 seeds: KD entropies [0.21, 0.18, 0.25] against ERM [0.30, 0.26, 0.33]",
              ([0.21, 0.18, 0.25], [0.30, 0.26, 0.33])),
        _Case("5 seeds where the seeds differ a lot but the differences little",
              ([0.50, 0.31, 0.72, 0.44, 0.29], [0.40, 0.20, 0.63, 0.33, 0.20])),
        _Case("8 seeds with a difference of about 0", ([0.3, 0.31, 0.29, 0.3, 0.32, 0.28, 0.3, 0.31],
                                                        [0.3, 0.30, 0.30, 0.31, 0.31, 0.29, 0.29, 0.3])),
    ]


def check_paired_interval(fn: Callable) -> bool:
    """Check ``fn(method_values, erm_values) -> (mean, low, high)``: the 95% t-interval of the per-seed differences
    ``method − ERM`` (same seed in the same position), ``mean ± t_{0.975, n−1} · sd / sqrt(n)``, sd with n − 1."""
    from scipy import stats

    check = "paired_interval"

    def interval(center, half):
        return (center, center - half, center + half)

    def unpaired(m, e):
        m, e = np.asarray(m, float), np.asarray(e, float)
        se = math.sqrt(m.var(ddof=1) / m.size + e.var(ddof=1) / e.size)
        return interval(m.mean() - e.mean(), stats.t.ppf(0.975, m.size - 1) * se)

    def scaled(quantile=None, ddof=1, root=True, sign=1.0):
        def mutant(m, e):
            d = sign * (np.asarray(m, float) - np.asarray(e, float))
            q = stats.t.ppf(0.975, d.size - 1) if quantile is None else quantile(d.size)
            return interval(d.mean(), q * d.std(ddof=ddof) / (math.sqrt(d.size) if root else d.size))
        return mutant

    mutants = {"unpaired": unpaired, "normal": scaled(lambda n: 1.959964), "one_sided": scaled(lambda n: stats.t.ppf(0.95, n - 1)),
               "ddof0": scaled(ddof=0), "no_sqrt_n": scaled(root=False), "reversed": scaled(sign=-1.0)}
    hints = {
        "unpaired": "Pair by seed: d_i = method_i − erm_i, then an interval for mean(d). The seeds' shared noise cancels.",
        "normal": "With n seeds the multiplier is Student's t with n − 1 degrees of freedom: scipy.stats.t.ppf(0.975, n - 1).",
        "one_sided": "A two-sided 95% interval leaves 2.5% in each tail: the 0.975 quantile.",
        "ddof0": "The sample standard deviation divides by n − 1: np.std(d, ddof=1).",
        "no_sqrt_n": "The standard error of a mean is sd / sqrt(n).",
        "reversed": "The kit's convention is method − ERM: a negative mean means the method lowered the metric.",
    }

    def body() -> int:
        cases = _paired_cases()
        for case in cases:
            expected = torch.tensor(_paired_reference(*case.args), dtype=torch.float64)
            got = _as_tensor(_call(fn, case), case, "a tuple (mean, low, high)")
            if got.shape != (3,) or not _close(got, expected, rtol=1e-4, atol=1e-6):
                raise _Failed(f"case '{case.name}': expected (mean, low, high) = {_fmt(expected)}, got {_fmt(got)}."
                              + _diagnose(check, got, case, {k: (lambda f: lambda *a: torch.tensor(f(*a)))(f)
                                                              for k, f in mutants.items()}, hints))
        return len(cases)

    return _run_check(f"check_paired_interval({_name(fn)})", body)


# ----------------------------------------------------------------------------- 07: predict KD's direction first


def _direction_cases() -> list[_Case]:
    return [
        _Case("a confident teacher: validation entropy 0.06 against the ERM student's 0.24", (0.06, 0.24)),
        _Case("an unsure teacher: 1.10 against 0.24", (1.10, 0.24)),
        _Case("a teacher as confident as the student: 0.245 against 0.24", (0.245, 0.24)),
        _Case("just outside the band: 0.228 against 0.24", (0.228, 0.24)),
        _Case("just inside the band: 0.2505 against 0.2410", (0.2505, 0.2410)),
    ]


def check_kd_direction_prediction(fn: Callable) -> bool:
    """Check ``fn(teacher_val_entropy, erm_val_entropy) -> 'down' | 'up' | None``: the kit's pre-declared rule
    (``helpers.maths.hypotheses.kd_expectation``) — a teacher more confident than the ERM student predicts 'down', a less
    confident one 'up', and within ±0.01 nats (``NEGLIGIBLE_ENTROPY``) no prediction (None)."""
    from helpers.maths.hypotheses import kd_expectation

    def answer(case: _Case):
        try:
            return fn(*case.args)
        except Exception as exc:  # the student's code: report, never let it escape
            raise _Failed(f"case '{case.name}': your function raised {type(exc).__name__}: {exc}") from None

    def body() -> int:
        cases = _direction_cases()
        answers = [answer(case) for case in cases]
        if all(got is None or got is Ellipsis for got in answers):  # the template (`...`) answers None everywhere
            raise _NotImplemented
        for case, got in zip(cases, answers):
            expected = kd_expectation(*case.args)
            if got != expected:
                flipped = {"up": "down", "down": "up"}.get(got)
                diagnosis = ""
                if expected is not None and flipped == expected:
                    diagnosis = (f"\n   Likely mistake: {MISTAKES['kd_direction_prediction']['reversed']}. A teacher "
                                 "*more* confident (lower entropy) than the student pulls its entropy *down*.")
                elif expected is None and got in ("up", "down"):
                    diagnosis = (f"\n   Likely mistake: {MISTAKES['kd_direction_prediction']['no_band']}. Differences "
                                 "smaller than 0.01 nats predict nothing: return None.")
                raise _Failed(f"case '{case.name}': expected {expected!r}, got {got!r}.{diagnosis}")
        return len(cases)

    return _run_check(f"check_kd_direction_prediction({_name(fn)})", body)


# ----------------------------------------------------------------------------- worked solutions


def softmax_with_temperature_solution(logits, temperature):
    """softmax(logits / temperature) over the last axis, computed stably."""
    scaled = logits / temperature
    scaled = scaled - scaled.max(dim=-1, keepdim=True).values  # changes nothing, avoids exp overflow
    e = torch.exp(scaled)
    return e / e.sum(dim=-1, keepdim=True)


def entropy_solution(probs):
    """Per-example entropy in nats; 0 · log 0 counts as 0."""
    return -(probs * torch.log(probs.clamp_min(1e-12))).sum(dim=-1)


def label_smoothing_loss_solution(logits, targets, alpha):
    """(1 − α)·CE(y, p) + α·CE(u, p), uniform u over all K classes, mean over the batch."""
    log_p = torch.log_softmax(logits, dim=-1)
    hard = -log_p[torch.arange(len(targets)), targets]  # CE(y, p) per example
    uniform = -log_p.mean(dim=-1)  # CE(u, p) = −(1/K) Σ_k log p_k per example
    return ((1 - alpha) * hard + alpha * uniform).mean()


def distillation_loss_solution(student_logits, teacher_logits, targets, alpha, temperature):
    """(1 − α)·CE(y, p_s) + α·τ²·KL(p_t^τ ‖ p_s^τ), KL summed over classes and averaged over the batch."""
    hard = F.cross_entropy(student_logits, targets)
    log_p_student = F.log_softmax(student_logits / temperature, dim=-1)
    log_p_teacher = F.log_softmax(teacher_logits.detach() / temperature, dim=-1)  # no gradient into the teacher
    soft = (log_p_teacher.exp() * (log_p_teacher - log_p_student)).sum(dim=-1).mean()
    return (1 - alpha) * hard + alpha * temperature**2 * soft


def expected_calibration_error_solution(probs, targets, n_bins):
    """Σ_bins (count / N) · |accuracy − mean confidence| over equal-width bins of max-probability."""
    confidence, predicted = probs.max(dim=-1)
    correct = (predicted == targets).double()
    ece = 0.0
    for b in range(n_bins):
        low, high = b / n_bins, (b + 1) / n_bins
        in_bin = (confidence > low) & (confidence <= high) if b > 0 else (confidence <= high)
        if in_bin.any():
            weight = in_bin.double().mean()  # the fraction of examples in this bin
            ece += weight * (correct[in_bin].mean() - confidence[in_bin].double().mean()).abs()
    return float(ece)


def temperature_scaling_solution(val_logits, val_targets):
    """The T > 0 minimising the validation NLL of softmax(val_logits / T) (a 1-D search on log T)."""
    from scipy.optimize import minimize_scalar

    def nll(log_t):
        return F.cross_entropy(val_logits.double() / math.exp(log_t), val_targets).item()

    result = minimize_scalar(nll, bounds=(math.log(0.01), math.log(100.0)), method="bounded")
    return math.exp(result.x)


def kd_training_step_solution(head, optimizer, features, teacher_logits, targets, alpha, temperature):
    """One optimisation step of ``head`` under the kit's KD loss; returns the loss before the step."""
    from helpers.maths.losses import distillation_loss as kd_loss

    head.train()  # dropout on (the caller may have left the head in eval mode)
    optimizer.zero_grad()  # PyTorch adds gradients up: clear the previous step's
    loss = kd_loss(head(features), teacher_logits.detach(), targets, alpha, temperature)
    loss.backward()  # gradients reach the head only: the teacher's logits are detached
    optimizer.step()
    return loss.item()


def paired_interval_solution(method_values, erm_values):
    from scipy import stats

    d = np.asarray(method_values, dtype=float) - np.asarray(erm_values, dtype=float)  # pair by seed: method − ERM
    half = stats.t.ppf(0.975, d.size - 1) * d.std(ddof=1) / np.sqrt(d.size)  # t with n − 1 df, sd with n − 1
    return d.mean(), d.mean() - half, d.mean() + half


def kd_direction_prediction_solution(teacher_val_entropy, erm_val_entropy):
    gap = teacher_val_entropy - erm_val_entropy
    if abs(gap) < 0.01:  # inside the negligible band: no prediction
        return None
    return "up" if gap > 0 else "down"  # a less confident teacher pulls the student's entropy up


#: exercise name -> (worked solution, its check)
SOLUTIONS: dict[str, tuple[Callable, Callable]] = {
    "softmax_with_temperature": (softmax_with_temperature_solution, check_softmax_with_temperature),
    "entropy": (entropy_solution, check_entropy),
    "label_smoothing_loss": (label_smoothing_loss_solution, check_label_smoothing_loss),
    "distillation_loss": (distillation_loss_solution, check_distillation_loss),
    "expected_calibration_error": (expected_calibration_error_solution, check_expected_calibration_error),
    "temperature_scaling": (temperature_scaling_solution, check_temperature_scaling),
    "kd_training_step": (kd_training_step_solution, check_kd_training_step),
    "paired_interval": (paired_interval_solution, check_paired_interval),
    "kd_direction_prediction": (kd_direction_prediction_solution, check_kd_direction_prediction),
}


def show_solution(name: str) -> None:
    """Print the worked solution of exercise ``name`` (a key of :data:`SOLUTIONS`)."""
    if name not in SOLUTIONS:
        raise ValueError(f"unknown exercise {name!r}; exercises are {sorted(SOLUTIONS)}")
    print(inspect.getsource(SOLUTIONS[name][0]))


def solution_names() -> Sequence[str]:
    return tuple(SOLUTIONS)


# ============================================================================= results as data (helpers.pipeline.grade)
# A block of its own: new exercises go above it. Nothing here changes what a check prints or returns; it runs a
# check, keeps what it printed and reads the verdict out of it, for graders and feedback files.


@dataclass(frozen=True)
class CheckResult:
    """One check's verdict as data.

    ``status`` is ``"ok"`` (the check judged an answer) or ``"blank"`` (the function is still the template);
    ``mistake`` is the key in ``MISTAKES[exercise]`` of the classic mistake the check named (``""`` if none);
    ``message`` is what the check printed."""

    exercise: str
    passed: bool
    status: str
    mistake: str
    message: str

    @property
    def mistake_name(self) -> str:
        """The mistake as the check names it (``""`` if none)."""
        return MISTAKES.get(self.exercise, {}).get(self.mistake, "")


def named_mistake(exercise: str, message: str) -> str:
    """The key of the classic mistake a check's printed ``message`` names after "Likely mistake:" (``""`` if none;
    when two keys share one name, the first one)."""
    marker = "Likely mistake: "
    if marker not in message:
        return ""
    named = message.split(marker, 1)[1]
    matches = [(len(text), key) for key, text in MISTAKES.get(exercise, {}).items() if named.startswith(text)]
    return max(matches, key=lambda match: match[0])[1] if matches else ""


def run_check(exercise: str, function: Callable, *arguments) -> CheckResult:
    """Run exercise ``exercise``'s check on ``function`` (extra ``arguments`` go to the check, e.g. the test split of
    ``check_temperature_scaling``) without printing; the verdict as a :class:`CheckResult`."""
    import contextlib
    import io

    if exercise not in SOLUTIONS:
        raise ValueError(f"unknown exercise {exercise!r}; exercises are {sorted(SOLUTIONS)}")
    check = SOLUTIONS[exercise][1]
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        passed = bool(check(function, *arguments))
    message = printed.getvalue().strip()
    blank = not passed and message.startswith("⏳")
    return CheckResult(exercise, passed, "blank" if blank else "ok", "" if passed else named_mistake(exercise, message),
                       message)
