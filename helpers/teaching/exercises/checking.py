"""The machinery every exercise check shares (the checks themselves live in one module per notebook).

A check builds its cases (:class:`_Case`, seeded by :func:`_generator`), calls the student's function on each with
:func:`_call` (a blank raises :class:`_NotImplemented`, an exception or a wrong answer :class:`_Failed`), compares with
:func:`_close`, names a classic mistake with :func:`_diagnose` (the mistakes' names are :data:`MISTAKES`), and hands
its body to :func:`_run_check`, which prints one verdict and returns True/False, never raising. :class:`CheckResult`
and :func:`named_mistake` read a printed verdict back as data (``helpers.teaching.exercises.run_check``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

__all__ = ["MISTAKES", "CheckResult", "named_mistake"]

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


# ============================================================================= results as data (helpers.pipeline.grade)
# A block of its own. Nothing here changes what a check prints or returns: a check's printed verdict, read back as
# data for graders and feedback files (the package's run_check runs a check and keeps what it printed).


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
