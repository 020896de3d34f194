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
* Precision: float64 inputs are computed in float64 (so ``torch.autograd.gradcheck`` works);
  half-precision inputs (bf16/fp16, from autocast) are upcast to float32.

The public functions (``label_smoothing_loss``, ``distillation_loss``, ...) check their inputs
on every call: they are what notebooks and students call. Training loops use one
:class:`Objective` instead: validated once when built, its ``check_batch`` is called once per
run, and its ``loss`` does no per-step value checks (those would synchronise with the device).
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import torch
import torch.nn.functional as F

__all__ = [
    "METHODS",
    "MAX_TEMPERATURE",
    "Objective",
    "validate_objective",
    "RunObjective",
    "cross_entropy_loss",
    "label_smoothing_loss",
    "distillation_loss",
    "soft_target_kl",
    "validate_alpha",
    "validate_temperature",
    "MIN_TEMPERATURE",
    "validate_logits_and_targets",
]

METHODS = ("erm", "ls", "kd")
# Above this, softmax(z / tau) is uniform to float32's precision and tau**2 * KL is a difference of
# nearly equal numbers multiplied by tau**2 (at tau = 1e30 it is NaN); the tau -> infinity limit of
# KD is logit matching, which is a different loss.
MAX_TEMPERATURE = 100.0


def _real_number(value: object, name: str, allowed: str) -> float:
    """``value`` as a float if it is a real number (not a bool or a string), else ``ValueError``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        if isinstance(value, torch.Tensor) and value.numel() == 1 and value.dtype.is_floating_point:
            return float(value)
        raise ValueError(f"{name} must be a number {allowed}, got {value!r} ({type(value).__name__})")
    return float(value)


def validate_alpha(alpha: float) -> float:
    """Return ``alpha`` as a float, or raise ``ValueError`` unless it is a number in [0, 1]."""
    value = _real_number(alpha, "alpha", "in [0, 1]")
    if math.isnan(value) or not 0.0 <= value <= 1.0:
        raise ValueError(f"alpha must be in [0, 1], got alpha={alpha!r}")
    return value


# Below this, logits / tau overflow low precision (bf16, fp16) for ordinary logits and tau**2 * KL vanishes
# (a KD run at tau = 1e-9 is cross-entropy plus noise). Calibration's search and the sliders start here too.
MIN_TEMPERATURE = 0.01


def validate_temperature(temperature: float, maximum: float = MAX_TEMPERATURE, minimum: float | None = None) -> float:
    """Return ``temperature`` as a float, or raise ``ValueError`` unless it lies in [minimum, maximum].

    The losses use the default range [``MIN_TEMPERATURE``, ``MAX_TEMPERATURE``]. A plain softmax passes
    ``maximum=math.inf``: then the default ``minimum`` is 0 (any finite tau > 0; its tau -> 0 limit is the argmax).
    """
    if minimum is None:
        minimum = MIN_TEMPERATURE if math.isfinite(maximum) else 0.0
    value = _real_number(temperature, "temperature", f"in [{minimum:g}, {maximum:g}]")
    if not math.isfinite(value) or value <= 0.0:
        raise ValueError(f"temperature must be finite and > 0, got temperature={temperature!r}")
    if value < minimum:
        raise ValueError(
            f"temperature must be at least {minimum:g}, got temperature={temperature!r}: below that logits / tau "
            "overflow low precision and tau**2 * KL vanishes"
        )
    if value > maximum:
        raise ValueError(
            f"temperature must be at most {maximum:g}, got temperature={temperature!r}: beyond that the "
            "softened distributions are uniform to floating-point precision and tau**2 * KL is numerical noise"
        )
    return value


def validate_objective(method: str, alpha: float, temperature: float) -> tuple[float, float]:
    """Check a training objective; returns ``(alpha, temperature)`` as floats.

    ``method`` is one of :data:`METHODS`, ``alpha`` in [0, 1], ``temperature`` in (0, 100],
    and ERM (plain cross-entropy) has no soft target, so its ``alpha`` must be 0.
    """
    if not isinstance(method, str) or method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got method={method!r}")
    value = validate_alpha(alpha)
    tau = validate_temperature(temperature)
    if method == "erm" and value != 0.0:
        raise ValueError(f"method='erm' has no soft target: alpha must be 0, got alpha={alpha!r}")
    return value, tau


@dataclass(frozen=True)
class RunObjective:
    """The fields every run config shares (the fine-tuned tier's ``TrainConfig``, the frozen-feature tier's
    ``HeadConfig``), validated in one place.

    ``method`` (ERM, LS or KD); ``alpha`` weights the soft part (LS's uniform target, KD's teacher); ``temperature`` is
    KD's softmax temperature (ignored otherwise); ``teacher`` (KD only, and only then) is a config of the subclass's
    own tier (:meth:`teacher_types`); ``teacher_logit_scale`` multiplies the teacher's logits before they are used (a
    way to make a teacher more or less confident); ``seed`` seeds everything random in the run. A subclass's
    ``__post_init__`` calls :meth:`validate_objective`, which builds the config's one :class:`Objective`
    (:attr:`objective`): the loss, the labels and the results rows all use that object.
    """

    method: str = "erm"
    alpha: float = 0.0
    temperature: float = 1.0
    teacher: object = None
    teacher_logit_scale: float = 1.0
    seed: int = 0

    @classmethod
    def teacher_types(cls) -> tuple[type, ...]:
        """What a KD teacher may be (default: a config of the same class)."""
        return (cls,)

    def validate_objective(self, kd_hint: str) -> None:
        """Build the run's one :class:`Objective` (the only place ``method``, ``alpha`` and ``temperature`` are
        validated), check that a teacher is given exactly when ``method='kd'``, of :meth:`teacher_types`, and keep the
        objective (:attr:`objective`); ``alpha`` and ``temperature`` are stored as its floats. ``kd_hint`` tells a KD
        config without a teacher how to give one."""
        objective = Objective(self.method, self.alpha, self.temperature)
        if self.method == "kd" and self.teacher is None:
            raise ValueError(f"method='kd' needs a teacher {kd_hint}")
        if self.method != "kd" and self.teacher is not None:
            raise ValueError(f"teacher is only used with method='kd', got method={self.method!r}")
        if self.teacher is not None and not isinstance(self.teacher, self.teacher_types()):
            names = " or a ".join(t.__name__ for t in self.teacher_types())
            raise ValueError(f"teacher must be a {names}, got {type(self.teacher).__name__}")
        object.__setattr__(self, "alpha", objective.alpha)
        object.__setattr__(self, "temperature", objective.temperature)
        object.__setattr__(self, "_objective", objective)  # not a field: equality, hashing and to_dict ignore it

    @property
    def objective(self) -> "Objective":
        """What this run minimises, built and validated once with the config (training and labels use this one)."""
        return self._objective


def _compute_dtype(logits: torch.Tensor) -> torch.Tensor:
    """float64 stays float64; float32 stays; half precision (bf16, fp16) is upcast to float32."""
    return logits.float() if logits.dtype in (torch.float16, torch.bfloat16) else logits


def _validate_logits(logits: torch.Tensor, name: str) -> None:
    if not isinstance(logits, torch.Tensor):
        raise ValueError(f"{name} must be a torch.Tensor, got {type(logits).__name__}")
    if not logits.dtype.is_floating_point:
        raise ValueError(f"{name} must be a floating-point tensor, got dtype {logits.dtype}")
    if logits.dim() != 2 or logits.shape[0] == 0 or logits.shape[1] < 2:
        raise ValueError(f"{name} must have shape (batch>0, K>=2), got {tuple(logits.shape)}")
    if not torch.isfinite(logits).all():
        raise ValueError(f"{name} contains non-finite values (NaN or inf)")


def _validate_targets_shape(targets: torch.Tensor, logits: torch.Tensor, name: str) -> None:
    if not isinstance(targets, torch.Tensor):
        raise ValueError(f"targets must be a torch.Tensor, got {type(targets).__name__}")
    if targets.dim() != 1 or targets.shape[0] != logits.shape[0]:
        raise ValueError(f"targets must have shape ({logits.shape[0]},) to match {name}, got {tuple(targets.shape)}")
    if targets.dtype.is_floating_point or targets.dtype.is_complex or targets.dtype == torch.bool:
        raise ValueError(f"targets must be integer class indices, got dtype {targets.dtype}")


def validate_logits_and_targets(logits: torch.Tensor, targets: torch.Tensor, name: str = "logits") -> None:
    """Raise ``ValueError`` unless ``logits`` is finite ``(B, K)`` and ``targets`` holds B indices in [0, K)."""
    _validate_logits(logits, name)
    _validate_targets_shape(targets, logits, name)
    num_classes = logits.shape[1]
    if targets.numel() and (targets.min() < 0 or targets.max() >= num_classes):
        bad = targets[(targets < 0) | (targets >= num_classes)][0].item()
        raise ValueError(f"targets must lie in [0, {num_classes}), found target {bad}")


def _validate_teacher(teacher_logits: torch.Tensor, student_logits: torch.Tensor) -> None:
    _validate_logits(teacher_logits, "teacher_logits")
    if teacher_logits.shape != student_logits.shape:
        raise ValueError(
            "teacher_logits and student_logits must have the same shape, got "
            f"teacher_logits {tuple(teacher_logits.shape)} vs student_logits {tuple(student_logits.shape)}"
        )


# ----------------------------------------------------------------------------- unchecked kernels
# The formulas, once. They trust their inputs; the public functions and Objective check first.


def _cross_entropy(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    return F.cross_entropy(_compute_dtype(logits), targets.long())


def _label_smoothing(logits: torch.Tensor, targets: torch.Tensor, alpha: float) -> torch.Tensor:
    log_p = F.log_softmax(_compute_dtype(logits), dim=-1)
    hard = F.nll_loss(log_p, targets.long())
    uniform = -log_p.mean(dim=-1).mean()
    return (1.0 - alpha) * hard + alpha * uniform


def _soft_kl(student_logits: torch.Tensor, teacher_logits: torch.Tensor, temperature: float) -> torch.Tensor:
    log_p_student = F.log_softmax(_compute_dtype(student_logits) / temperature, dim=-1)
    teacher = _compute_dtype(teacher_logits.detach()).to(log_p_student.dtype)
    log_p_teacher = F.log_softmax(teacher / temperature, dim=-1)
    return F.kl_div(log_p_student, log_p_teacher, reduction="batchmean", log_target=True)


def _distillation(student_logits, teacher_logits, targets, alpha: float, temperature: float) -> torch.Tensor:
    hard = F.cross_entropy(_compute_dtype(student_logits), targets.long())
    if alpha == 0.0:
        return hard
    return (1.0 - alpha) * hard + alpha * temperature**2 * _soft_kl(student_logits, teacher_logits, temperature)


# ----------------------------------------------------------------------------- public, checked


def cross_entropy_loss(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Plain cross-entropy CE(one-hot(y), softmax(logits)), mean over the batch (ERM)."""
    validate_logits_and_targets(logits, targets)
    return _cross_entropy(logits, targets)


def label_smoothing_loss(logits: torch.Tensor, targets: torch.Tensor, alpha: float) -> torch.Tensor:
    """LS loss ``(1-alpha)*CE(y, p) + alpha*CE(uniform, p)``, mean over the batch, in nats.

    Equals ``F.cross_entropy(logits, targets, label_smoothing=alpha)``.
    """
    alpha = validate_alpha(alpha)
    validate_logits_and_targets(logits, targets)
    return _label_smoothing(logits, targets, alpha)


def soft_target_kl(student_logits: torch.Tensor, teacher_logits: torch.Tensor, temperature: float) -> torch.Tensor:
    """``KL(softmax(t/tau) || softmax(s/tau))`` summed over classes, mean over the batch (no tau**2).

    The teacher's logits are detached: no gradient reaches the teacher.
    """
    temperature = validate_temperature(temperature)
    _validate_logits(student_logits, "student_logits")
    _validate_teacher(teacher_logits, student_logits)
    return _soft_kl(student_logits, teacher_logits, temperature)


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
    _validate_teacher(teacher_logits, student_logits)
    return _distillation(student_logits, teacher_logits, targets, alpha, temperature)


@dataclass(frozen=True)
class Objective:
    """What a run minimises: ``method`` (``"erm"``, ``"ls"`` or ``"kd"``), ``alpha`` and ``temperature``.

    ``alpha`` weights the soft part (LS's uniform target, KD's teacher); ``temperature`` is KD's
    softmax temperature, ``tau**2`` multiplying KD's KL term only (it is ignored by ERM and LS).
    Validated once when built; every tier of the kit (fine-tuning, frozen-feature heads, the
    Trainer path) computes its loss through :meth:`loss` and nothing else.
    """

    method: str = "erm"
    alpha: float = 0.0
    temperature: float = 1.0

    def __post_init__(self) -> None:
        alpha, temperature = validate_objective(self.method, self.alpha, self.temperature)
        object.__setattr__(self, "alpha", alpha)
        object.__setattr__(self, "temperature", temperature)

    @property
    def needs_teacher(self) -> bool:
        return self.method == "kd"

    def check_batch(self, logits: torch.Tensor, targets: torch.Tensor, teacher_logits: torch.Tensor | None = None) -> None:
        """Full validation of one batch (shapes, dtypes, values): call it once per run, on the first batch."""
        validate_logits_and_targets(logits.detach(), targets, "logits")
        if self.needs_teacher:
            if teacher_logits is None:
                raise ValueError("method='kd' needs teacher logits")
            _validate_teacher(teacher_logits, logits)

    def loss(self, logits: torch.Tensor, targets: torch.Tensor, teacher_logits: torch.Tensor | None = None) -> torch.Tensor:
        """The batch-mean loss in nats (no per-step value checks: see :meth:`check_batch`)."""
        if self.method == "erm":
            return _cross_entropy(logits, targets)
        if self.method == "ls":
            return _label_smoothing(logits, targets, self.alpha)
        if teacher_logits is None:
            raise ValueError("method='kd' needs teacher logits")
        return _distillation(logits, teacher_logits, targets, self.alpha, self.temperature)

    def label(self) -> str:
        """Readable name used in tables and legends: ``'ERM'``, ``'LS α=0.1'``, ``'KD α=0.5 τ=4'``."""
        if self.method == "erm":
            return "ERM"
        if self.method == "ls":
            return f"LS α={self.alpha:g}"
        return f"KD α={self.alpha:g} τ={self.temperature:g}"
