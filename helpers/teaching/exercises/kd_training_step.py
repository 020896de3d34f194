"""Notebook 06: ``kd_training_step(head, optimizer, features, teacher_logits, targets, alpha, temperature)`` -> one
optimisation step of ``head`` under the kit's KD loss (train mode, old gradients cleared, the teacher frozen),
returning the loss before the step as a float. The kit's losses (``helpers.maths.losses``) may be used."""

from __future__ import annotations

import copy
import math
from collections.abc import Callable

import torch

from helpers.maths.losses import distillation_loss
from helpers.teaching.exercises.checking import Case, Exercise, Instructor, Wrong, as_tensor, call, close, report

MISTAKES = {
    "eval_mode": "model not in train mode",
    "zero_grad": "zero_grad missing",
    "order": "zero_grad between backward and step",
    "no_step": "optimizer.step() missing",
    "two_steps": "the optimizer stepped twice",
    "teacher": "teacher not frozen",
    "loss": "not the kit's KD loss",
    "loss_after_step": "returned the loss after the step",
}
HINTS = {
    "eval_mode": "Call head.train() before the forward pass: the caller may have left it in eval mode after evaluating.",
    "zero_grad": "Call optimizer.zero_grad() before loss.backward(): PyTorch adds gradients up.",
    "order": ("optimizer.zero_grad() after loss.backward() wipes the gradient the step needs: zero_grad, forward, "
              "backward, step."),
    "no_step": "After loss.backward(), call optimizer.step().",
    "two_steps": "One step: call optimizer.step() once per batch.",
    "teacher": ("Detach the teacher's logits (teacher_logits.detach()) or use helpers.maths.losses.distillation_loss, "
                "which does."),
    "loss": ("Use helpers.maths.losses.distillation_loss(student_logits, teacher_logits, targets, alpha, temperature) "
             "(or your notebook-03 version)."),
    "loss_after_step": "Return loss.item() of the loss you called backward() on.",
}


def _setup(seed: int, lr: float):
    """A frozen-feature problem: 16 feature vectors of size 8, a student head (dropout + linear), a live teacher; the
    head left in eval mode, with stale gradients from "an earlier step"."""
    g = torch.Generator().manual_seed(seed)
    features = torch.randn(16, 8, generator=g)
    targets = torch.randint(0, 4, (16,), generator=g)
    torch.manual_seed(seed)
    head = torch.nn.Sequential(torch.nn.Dropout(0.3), torch.nn.Linear(8, 4))
    teacher = torch.nn.Linear(8, 4)
    with torch.no_grad():
        teacher.weight.mul_(6.0)
    head.eval()
    optimizer = torch.optim.SGD(head.parameters(), lr=lr)
    for p in head.parameters():
        p.grad = torch.full_like(p, 0.3)
    return head, optimizer, features, teacher, targets


def _flat(values) -> torch.Tensor:
    return torch.cat([v.detach().reshape(-1) for v in values]).double()


def _judge(fn: Callable, name: str, seed: int, alpha: float, temperature: float, lr: float) -> None:
    head, optimizer, features, teacher, targets = _setup(seed, lr)
    reference = copy.deepcopy(head)
    reference_optimizer = torch.optim.SGD(reference.parameters(), lr=lr)
    start, teacher_start = _flat(head.parameters()), _flat(teacher.parameters())
    stale = _flat(p.grad for p in head.parameters())

    torch.manual_seed(seed + 1)
    reference.train()
    reference_optimizer.zero_grad()
    loss = distillation_loss(reference(features), teacher(features).detach(), targets, alpha, temperature)
    loss.backward()
    reference_optimizer.step()
    ref_loss, ref_params = loss.item(), _flat(reference.parameters())

    modes: list[bool] = []
    hook = head[0].register_forward_pre_hook(lambda module, _inputs: modes.append(module.training))
    teacher_logits = teacher(features)  # a live teacher: its logits carry its graph
    torch.manual_seed(seed + 1)
    try:
        out = call(fn, name, head, optimizer, features, teacher_logits, targets, alpha, temperature)
    finally:
        hook.remove()
    got_loss = float(as_tensor(out, name, "the loss as a float (loss.item())").reshape(-1)[0])
    params = _flat(head.parameters())

    def wrong(detail: str, key: str = "") -> Wrong:
        return Wrong(f"case '{name}': {detail}", key, HINTS.get(key, ""))

    if modes and not any(modes):
        raise wrong("the head ran its forward pass in eval mode (dropout off).", "eval_mode")
    if any(p.grad is not None and p.grad.abs().max() > 0 for p in teacher.parameters()) or \
            not torch.equal(_flat(teacher.parameters()), teacher_start):
        raise wrong("gradients reached the teacher's parameters.", "teacher")
    if torch.equal(params, start):
        cleared = all(p.grad is None or not p.grad.any() for p in head.parameters())
        raise wrong("the head's parameters did not move.", "order" if cleared else "no_step")
    if close(params, ref_params - lr * stale, rtol=1e-4, atol=1e-6):
        raise wrong("the parameters moved by the new gradient PLUS the stale one left in .grad.", "zero_grad")
    if close(params, start - 2 * (start - ref_params), rtol=1e-4, atol=1e-6):
        raise wrong("the parameters moved twice as far as one step.", "two_steps")
    params_right = close(params, ref_params, rtol=1e-4, atol=1e-6)
    loss_right = math.isclose(got_loss, ref_loss, rel_tol=1e-4, abs_tol=1e-6)
    if params_right and not loss_right:
        raise Wrong(f"case '{name}': the step itself is right, but you returned {got_loss:.5f} instead of the loss "
                    f"{ref_loss:.5f} that the gradient came from.", "loss_after_step", HINTS["loss_after_step"],
                    redacted=f"case '{name}': the step itself is right, but the loss returned is not the one the "
                             "gradient came from.")
    if not loss_right:
        raise Wrong(f"case '{name}': expected the loss {ref_loss:.5f}, got {got_loss:.5f}.", "loss", HINTS["loss"],
                    redacted=f"case '{name}': the loss returned is not the kit's KD loss.")
    if not params_right:
        raise wrong(f"the parameters moved differently from one SGD step on the KD loss (largest difference "
                    f"{(params - ref_params).abs().max().item():.3g}). One forward pass, zero_grad, backward, step — in "
                    "that order, once.")


def _case(name: str, seed: int, alpha: float, temperature: float, lr: float, points: float = 0.0) -> Case:
    return Case(name, lambda fn: _judge(fn, name, seed, alpha, temperature, lr), points)


def visible_cases() -> list[Case]:
    return [
        _case("one step on 16 examples, alpha = 0.3, tau = 2, SGD lr = 0.5", 11, 0.3, 2.0, 0.5),
        _case("another head, alpha = 0.8, tau = 4, SGD lr = 0.2", 12, 0.8, 4.0, 0.2),
    ]


def check_kd_training_step(fn: Callable) -> bool:
    """Check ``fn(head, optimizer, features, teacher_logits, targets, alpha, temperature) -> float``: one SGD step of
    the head under the kit's KD loss (train mode, gradients cleared, teacher frozen), returning the loss before the
    step. Print the verdict."""
    return report(EXERCISE, fn)


INSTRUCTOR = None
# BEGIN INSTRUCTOR


def kd_training_step(head, optimizer, features, teacher_logits, targets, alpha, temperature):
    """One optimisation step of ``head`` under the kit's KD loss; returns the loss before the step."""
    head.train()  # dropout on (the caller may have left the head in eval mode)
    optimizer.zero_grad()  # PyTorch adds gradients up: clear the previous step's
    loss = distillation_loss(head(features), teacher_logits.detach(), targets, alpha, temperature)
    loss.backward()  # gradients reach the head only: the teacher's logits are detached
    optimizer.step()
    return loss.item()


def _hidden_cases() -> list[Case]:
    return [
        _case("one step, alpha = 0.5, tau = 3", 31, 0.5, 3.0, 0.3, 2.0),
        _case("one step, alpha = 0.2, tau = 1", 32, 0.2, 1.0, 0.7, 1.0),
        _case("one step, alpha = 0.9, tau = 6", 33, 0.9, 6.0, 0.1, 1.0),
    ]


def _wrong_catalogue() -> dict[str, tuple[Callable, str]]:
    import torch.nn.functional as F

    def step(head, optimizer, features, teacher_logits, targets, alpha, temperature, *, train=True, zero="before",
             steps=1, detach=True, loss_fn=None, report_after=False):
        if train:
            head.train()
        if zero == "before":
            optimizer.zero_grad()
        teacher = teacher_logits.detach() if detach else teacher_logits
        logits = head(features)
        loss = loss_fn(logits, teacher) if loss_fn else (
            (1 - alpha) * F.cross_entropy(logits, targets) + alpha * temperature**2 * F.kl_div(
                F.log_softmax(logits / temperature, -1), F.log_softmax(teacher / temperature, -1),
                reduction="batchmean", log_target=True))
        loss.backward()
        if zero == "after":
            optimizer.zero_grad()
        for _ in range(steps):
            optimizer.step()
        if report_after:
            with torch.no_grad():
                return distillation_loss(head(features), teacher, targets, alpha, temperature).item()
        return loss.item()

    def variant(**change):
        def wrong(head, optimizer, features, teacher_logits, targets, alpha, temperature):
            if change.get("loss") == "ce":
                return step(head, optimizer, features, teacher_logits, targets, alpha, temperature,
                            loss_fn=lambda s, t: F.cross_entropy(s, targets))
            if change.get("loss") == "swapped":
                return step(head, optimizer, features, teacher_logits, targets, alpha, temperature,
                            loss_fn=lambda s, t: distillation_loss(s, t, targets, 1 - alpha, temperature))
            if change.get("loss") == "no_tau2":
                return step(head, optimizer, features, teacher_logits, targets, alpha, temperature,
                            loss_fn=lambda s, t: (1 - alpha) * F.cross_entropy(s, targets) + alpha * F.kl_div(
                                F.log_softmax(s / temperature, -1), F.log_softmax(t / temperature, -1),
                                reduction="batchmean", log_target=True))
            return step(head, optimizer, features, teacher_logits, targets, alpha, temperature, **change)
        return wrong

    def no_grad_forward(head, optimizer, features, teacher_logits, targets, alpha, temperature):
        head.train()
        optimizer.zero_grad()
        with torch.no_grad():
            loss = distillation_loss(head(features), teacher_logits, targets, alpha, temperature)
        loss.backward()
        optimizer.step()
        return loss.item()

    def uses_the_kits_soft_targets(head, optimizer, features, teacher_logits, targets, alpha, temperature):
        from helpers.maths.theory import kd_soft_targets

        head.train()
        optimizer.zero_grad()
        logits = head(features)
        p_teacher = kd_soft_targets(teacher_logits.detach(), temperature).to(logits.dtype)  # the kit's, not losses
        soft = (torch.special.xlogy(p_teacher, p_teacher) - p_teacher * F.log_softmax(logits / temperature, -1))
        loss = (1 - alpha) * F.cross_entropy(logits, targets) + alpha * temperature**2 * soft.sum(-1).mean()
        loss.backward()
        optimizer.step()
        return loss.item()

    return {
        "head left in eval mode": (variant(train=False), "eval_mode"),
        "zero_grad missing": (variant(zero="never"), "zero_grad"),
        "zero_grad after backward": (variant(zero="after"), "order"),
        "optimizer.step() missing": (variant(steps=0), "no_step"),
        "optimizer.step() twice": (variant(steps=2), "two_steps"),
        "teacher logits not detached": (variant(detach=False), "teacher"),
        "plain cross-entropy": (variant(loss="ce"), "loss"),
        "alpha on the wrong term": (variant(loss="swapped"), "loss"),
        "tau^2 missing": (variant(loss="no_tau2"), "loss"),
        "returns the loss after the step": (variant(report_after=True), "loss_after_step"),
        "forward pass under no_grad": (no_grad_forward, ""),
        "the teacher's targets from the kit's theory module": (uses_the_kits_soft_targets, "kit_wrapper"),
    }


INSTRUCTOR = Instructor(solution=kd_training_step, hidden=_hidden_cases, wrong=_wrong_catalogue())
# END INSTRUCTOR

EXERCISE = Exercise(name="kd_training_step", notebook="06", function="kd_training_step", check=check_kd_training_step,
                    mistakes=MISTAKES, cases=visible_cases, allowed=("helpers.maths.losses",), instructor=INSTRUCTOR)
