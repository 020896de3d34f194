"""Notebook 06 (``06_erm_ls_kd``): one KD training step and a paired 95% interval -- their checks, with the
worked solutions beside them."""

from __future__ import annotations

import copy
import math
from collections.abc import Callable

import numpy as np
import torch

from helpers.maths.losses import distillation_loss
from helpers.teaching.exercises.checking import (
    MISTAKES, _as_tensor, _call, _Case, _close, _diagnose, _Failed, _fmt, _generator, _name, _run_check,
)

__all__ = ["check_kd_training_step", "kd_training_step_solution", "check_paired_interval", "paired_interval_solution"]


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


def kd_training_step_solution(head, optimizer, features, teacher_logits, targets, alpha, temperature):
    """One optimisation step of ``head`` under the kit's KD loss; returns the loss before the step."""
    from helpers.maths.losses import distillation_loss as kd_loss

    head.train()  # dropout on (the caller may have left the head in eval mode)
    optimizer.zero_grad()  # PyTorch adds gradients up: clear the previous step's
    loss = kd_loss(head(features), teacher_logits.detach(), targets, alpha, temperature)
    loss.backward()  # gradients reach the head only: the teacher's logits are detached
    optimizer.step()
    return loss.item()


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


def paired_interval_solution(method_values, erm_values):
    from scipy import stats

    d = np.asarray(method_values, dtype=float) - np.asarray(erm_values, dtype=float)  # pair by seed: method − ERM
    half = stats.t.ppf(0.975, d.size - 1) * d.std(ddof=1) / np.sqrt(d.size)  # t with n − 1 df, sd with n − 1
    return d.mean(), d.mean() - half, d.mean() + half
