"""Training losses: cross-entropy (ERM), label smoothing (LS) and knowledge distillation (KD).

Conventions used everywhere in the kit
--------------------------------------
* Logits have shape ``(batch, K)``; targets are integer class indices in ``[0, K)``.
* All logarithms are natural (losses in nats); every loss is a mean over the batch.
* ``alpha`` is the weight of the *soft* part: ``alpha = 0`` is plain cross-entropy.
* LS:  ``(1 - alpha) * CE(y, p) + alpha * CE(u, p)`` with ``u`` the uniform distribution,
  identical to ``F.cross_entropy(logits, y, label_smoothing=alpha)``.
* KD:  ``(1 - alpha) * CE(y, p_s) + alpha * tau**2 * KL(p_t^tau || p_s^tau)``, the KL
  summed over classes and averaged over the batch ("batchmean"). The ``tau**2`` keeps
  the soft gradient's scale independent of the temperature (Hinton et al., 2015).
  No gradient ever reaches the teacher's logits.
* With a uniform teacher and ``tau = 1``: ``KD = LS - alpha * log K`` (Yuan et al., 2020).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

__all__ = [
    "METHODS",
    "validate_objective",
    "cross_entropy_loss",
    "label_smoothing_loss",
    "distillation_loss",
    "soft_target_kl",
    "validate_alpha",
    "validate_temperature",
    "validate_logits_and_targets",
]


def validate_alpha(alpha: float) -> float:
    """Return ``alpha`` as a float, or raise ``ValueError`` unless it lies in [0, 1]."""
    try:
        value = float(alpha)
    except (TypeError, ValueError):
        raise ValueError(f"alpha must be a number in [0, 1], got {alpha!r}") from None
    if math.isnan(value) or not 0.0 <= value <= 1.0:
        raise ValueError(f"alpha must be in [0, 1], got alpha={alpha!r}")
    return value


def validate_temperature(temperature: float) -> float:
    """Return ``temperature`` as a float, or raise ``ValueError`` unless it is finite and > 0."""
    try:
        value = float(temperature)
    except (TypeError, ValueError):
        raise ValueError(f"temperature must be a finite number > 0, got {temperature!r}") from None
    if not math.isfinite(value) or value <= 0.0:
        raise ValueError(f"temperature must be finite and > 0, got temperature={temperature!r}")
    return value


METHODS = ("erm", "ls", "kd")


def validate_objective(method: str, alpha: float, temperature: float) -> tuple[float, float]:
    """Check a training objective; returns ``(alpha, temperature)`` as floats.

    ``method`` is one of :data:`METHODS`, ``alpha`` in [0, 1], ``temperature`` finite and > 0,
    and ERM (plain cross-entropy) has no soft target, so its ``alpha`` must be 0.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got method={method!r}")
    value = validate_alpha(alpha)
    tau = validate_temperature(temperature)
    if method == "erm" and value != 0.0:
        raise ValueError(f"method='erm' has no soft target: alpha must be 0, got alpha={alpha!r}")
    return value, tau


def _validate_logits(logits: torch.Tensor, name: str) -> None:
    if not isinstance(logits, torch.Tensor):
        raise ValueError(f"{name} must be a torch.Tensor, got {type(logits).__name__}")
    if logits.dim() != 2 or logits.shape[0] == 0 or logits.shape[1] < 2:
        raise ValueError(f"{name} must have shape (batch>0, K>=2), got {tuple(logits.shape)}")
    if not torch.isfinite(logits).all():
        raise ValueError(f"{name} contains non-finite values (NaN or inf)")


def validate_logits_and_targets(logits: torch.Tensor, targets: torch.Tensor, name: str = "logits") -> None:
    """Raise ``ValueError`` unless ``logits`` is finite ``(B, K)`` and ``targets`` holds B indices in [0, K)."""
    _validate_logits(logits, name)
    if not isinstance(targets, torch.Tensor):
        raise ValueError(f"targets must be a torch.Tensor, got {type(targets).__name__}")
    if targets.dim() != 1 or targets.shape[0] != logits.shape[0]:
        raise ValueError(
            f"targets must have shape ({logits.shape[0]},) to match {name}, got {tuple(targets.shape)}"
        )
    if targets.dtype.is_floating_point or targets.dtype == torch.bool:
        raise ValueError(f"targets must be integer class indices, got dtype {targets.dtype}")
    num_classes = logits.shape[1]
    if targets.numel() and (targets.min() < 0 or targets.max() >= num_classes):
        bad = targets[(targets < 0) | (targets >= num_classes)][0].item()
        raise ValueError(f"targets must lie in [0, {num_classes}), found target {bad}")


def cross_entropy_loss(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Plain cross-entropy CE(one-hot(y), softmax(logits)), mean over the batch (ERM)."""
    validate_logits_and_targets(logits, targets)
    return F.cross_entropy(logits.float(), targets)


def label_smoothing_loss(logits: torch.Tensor, targets: torch.Tensor, alpha: float) -> torch.Tensor:
    """LS loss ``(1-alpha)*CE(y, p) + alpha*CE(uniform, p)``, mean over the batch, in nats.

    Equals ``F.cross_entropy(logits, targets, label_smoothing=alpha)``.
    """
    alpha = validate_alpha(alpha)
    validate_logits_and_targets(logits, targets)
    log_p = F.log_softmax(logits.float(), dim=-1)
    hard = F.nll_loss(log_p, targets)
    uniform = -log_p.mean(dim=-1).mean()
    return (1.0 - alpha) * hard + alpha * uniform


def soft_target_kl(student_logits: torch.Tensor, teacher_logits: torch.Tensor, temperature: float) -> torch.Tensor:
    """``KL(softmax(t/tau) || softmax(s/tau))`` summed over classes, mean over the batch (no tau**2).

    The teacher's logits are detached: no gradient reaches the teacher.
    """
    temperature = validate_temperature(temperature)
    log_p_student = F.log_softmax(student_logits.float() / temperature, dim=-1)
    log_p_teacher = F.log_softmax(teacher_logits.detach().float() / temperature, dim=-1)
    return F.kl_div(log_p_student, log_p_teacher, reduction="batchmean", log_target=True)


def distillation_loss(
    student_logits: torch.Tensor,
    teacher_logits: torch.Tensor,
    targets: torch.Tensor,
    alpha: float,
    temperature: float,
) -> torch.Tensor:
    """KD loss ``(1-alpha)*CE(y, p_s) + alpha*tau**2*KL(p_t^tau || p_s^tau)``, mean over the batch.

    ``alpha`` weights the teacher's soft targets; ``tau**2`` multiplies the KL term only.
    """
    alpha = validate_alpha(alpha)
    temperature = validate_temperature(temperature)
    validate_logits_and_targets(student_logits, targets, "student_logits")
    _validate_logits(teacher_logits, "teacher_logits")
    if teacher_logits.shape != student_logits.shape:
        raise ValueError(
            "teacher_logits and student_logits must have the same shape, got "
            f"teacher_logits {tuple(teacher_logits.shape)} vs student_logits {tuple(student_logits.shape)}"
        )
    hard = F.cross_entropy(student_logits.float(), targets)
    soft = soft_target_kl(student_logits, teacher_logits, temperature)
    return (1.0 - alpha) * hard + alpha * temperature**2 * soft
