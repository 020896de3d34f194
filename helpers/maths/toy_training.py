"""Demo simulations of notebooks 02-03: free logits trained by gradient descent, with the losses of
:mod:`helpers.maths.losses`. The closed forms they are compared with live in :mod:`helpers.maths.theory`.

* :func:`gradient_descent_demo` -- one example's logits under ERM and LS: ERM's entropy keeps falling, LS's
  stops at the floor of its optimum.
* :func:`finite_training_demo` -- a small softmax classifier on Gaussian blobs trained for a finite number of
  steps with ERM, LS and KD: what training dynamics do before any optimum is reached.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from helpers.maths.losses import cross_entropy_loss, distillation_loss, label_smoothing_loss, validate_alpha, validate_temperature
from helpers.maths.metrics import accuracy, entropy
from helpers.maths.theory import _validate_num_classes, ls_optimum, uniform_teacher_identity

__all__ = ["GradientDescentDemo", "gradient_descent_demo", "FiniteTrainingDemo", "finite_training_demo",
           "finite_training_summary"]


@dataclass
class GradientDescentDemo:
    """Trajectories of plain gradient descent on one example's free logits, under CE and under LS.

    ``gap`` is ``z_target - max_{k != target} z_k``; ``max_prob`` is the target's probability
    (the arg-max). ``predicted_gap`` / ``predicted_max_prob`` are LS's closed forms.
    """

    num_classes: int
    alpha: float
    learning_rate: float
    steps: np.ndarray
    ce_gap: np.ndarray
    ls_gap: np.ndarray
    ce_max_prob: np.ndarray
    ls_max_prob: np.ndarray
    ce_loss: np.ndarray
    ls_loss: np.ndarray
    predicted_gap: float
    predicted_max_prob: float

    def frame(self) -> pd.DataFrame:
        """The trajectories as a table (one row per recorded step)."""
        return pd.DataFrame({"step": self.steps, "ce_gap": self.ce_gap, "ls_gap": self.ls_gap,
                             "ce_max_prob": self.ce_max_prob, "ls_max_prob": self.ls_max_prob,
                             "ce_loss": self.ce_loss, "ls_loss": self.ls_loss})


def _log_spaced_steps(steps: int, points: int = 60) -> set[int]:
    """About ``points`` log-spaced steps from 1 to ``steps``, plus 0, ``steps`` and every power of 10 up to it."""
    powers = {10**e for e in range(int(math.log10(steps)) + 1) if 10**e <= steps}
    return {0, steps} | powers | {int(round(x)) for x in np.geomspace(1, steps, points)}


def gradient_descent_demo(num_classes: int = 6, alpha: float = 0.1, steps: int = 3000,
                          learning_rate: float = 1.0) -> GradientDescentDemo:
    """Gradient descent from ``z = 0`` on one example (target 0): CE's logits grow without bound,
    LS's settle at the closed-form gap ``log((1 - alpha + alpha/K) / (alpha/K))``.

    Losses are :func:`helpers.maths.losses.cross_entropy_loss` and :func:`helpers.maths.losses.label_smoothing_loss`;
    trajectories are recorded at about 60 log-spaced steps, including every power of 10.
    """
    k = _validate_num_classes(num_classes)
    alpha = validate_alpha(alpha)
    if alpha == 0.0:
        raise ValueError("alpha must be > 0 for the demo: with alpha=0, LS is CE and has no finite gap")
    if not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be a positive integer, got steps={steps!r}")
    if not learning_rate > 0:
        raise ValueError(f"learning_rate must be > 0, got learning_rate={learning_rate!r}")
    targets = torch.zeros(1, dtype=torch.long)
    record_at = _log_spaced_steps(steps)
    losses = {"ce": lambda z: cross_entropy_loss(z, targets),
              "ls": lambda z: label_smoothing_loss(z, targets, alpha)}
    trace: dict[str, dict[str, list[float]]] = {name: {"gap": [], "max_prob": [], "loss": []} for name in losses}
    recorded: list[int] = []
    for name, loss_fn in losses.items():
        z = torch.zeros(1, k, requires_grad=True)
        for step in range(steps + 1):
            value = loss_fn(z)
            if step in record_at:
                with torch.no_grad():
                    trace[name]["gap"].append((z[0, 0] - z[0, 1:].max()).item())
                    trace[name]["max_prob"].append(torch.softmax(z, -1)[0, 0].item())
                    trace[name]["loss"].append(value.item())
                if name == "ce":
                    recorded.append(step)
            if step == steps:
                break
            (grad,) = torch.autograd.grad(value, z)
            with torch.no_grad():
                z -= learning_rate * grad
    optimum = ls_optimum(k, alpha)
    return GradientDescentDemo(
        num_classes=k, alpha=alpha, learning_rate=float(learning_rate), steps=np.array(recorded),
        ce_gap=np.array(trace["ce"]["gap"]), ls_gap=np.array(trace["ls"]["gap"]),
        ce_max_prob=np.array(trace["ce"]["max_prob"]), ls_max_prob=np.array(trace["ls"]["max_prob"]),
        ce_loss=np.array(trace["ce"]["loss"]), ls_loss=np.array(trace["ls"]["loss"]),
        predicted_gap=optimum.logit_gap, predicted_max_prob=optimum.max_prob,
    )


# ----------------------------------------------------------------------------- finite training


FINITE_TRAINING_METHODS: dict[str, str] = {
    "erm": "ERM",
    "ls": "LS",
    "kd_confident": "KD, confident teacher",
    "kd_unconfident": "KD, unconfident teacher",
}


@dataclass
class FiniteTrainingDemo:
    """Test-set entropy of a linear classifier trained with ERM, LS and KD, during training and at convergence.

    ``trajectory``: one row per (method, step) with ``test_entropy``, ``test_accuracy``, ``train_entropy``
    (mean nats); ``converged``: one row per method, the same columns, after L-BFGS to convergence;
    ``teachers``: the two teachers' ``test_entropy``, ``test_accuracy`` and ``train_entropy``.
    Methods are the keys of :data:`FINITE_TRAINING_METHODS`.
    """

    alpha: float
    temperature: float
    learning_rate: float
    trajectory: pd.DataFrame
    converged: pd.DataFrame
    teachers: pd.DataFrame

    def at_step(self, step: int) -> pd.Series:
        """Mean test entropy of each method after ``step`` gradient steps (a recorded step)."""
        rows = self.trajectory[self.trajectory["step"] == step]
        if rows.empty:
            raise ValueError(f"step {step} was not recorded; recorded steps are {sorted(set(self.trajectory['step']))}")
        return rows.set_index("method")["test_entropy"]


def _blobs(seed: int, num_classes: int, dim: int, n_train: int, n_test: int, separation: float):
    g = torch.Generator().manual_seed(seed)
    means = separation * torch.randn(num_classes, dim, generator=g, dtype=torch.float64)

    def sample(n: int):
        y = torch.arange(n) % num_classes
        return means[y] + torch.randn(n, dim, generator=g, dtype=torch.float64), y

    x_train, y_train = sample(n_train)
    x_test, y_test = sample(n_test)
    return x_train, y_train, x_test, y_test, means


def finite_training_demo(steps: int = 300, learning_rate: float = 0.5, alpha: float = 0.5, temperature: float = 2.0,
                         confident_scale: float = 2.0, unconfident_scale: float = 0.3, seed: int = 0,
                         record: Sequence[int] | None = None, converge: bool = True) -> FiniteTrainingDemo:
    """Why "KD lowers entropy" is a statement about *trained* models on *unseen* data.

    A toy problem: 4 Gaussian classes in 20 dimensions (40 training points, linearly separable; 400 test
    points). The teacher is the Bayes classifier of the classes (its logits ``x·mu_k - |mu_k|^2/2``),
    scaled by ``confident_scale`` (a teacher more confident on unseen data than an ERM student becomes
    in a few steps) or by ``unconfident_scale``. A linear student (from zero weights) is trained by
    full-batch gradient descent with :func:`helpers.maths.losses.cross_entropy_loss` (ERM),
    :func:`helpers.maths.losses.label_smoothing_loss` (LS) or :func:`helpers.maths.losses.distillation_loss` (KD, from
    each teacher), all at the same ``alpha``; the test-set entropy (:func:`helpers.maths.metrics.entropy`) is
    recorded along the way (``record``: steps, default 1, 3, 10, 30, ... and ``steps``). With ``converge``, each
    is then trained to convergence by L-BFGS: ERM's training predictions become one-hot (the data are
    separable: its optimum is at infinity), while LS and KD stop at finite optima.
    """
    alpha = validate_alpha(alpha)
    temperature = validate_temperature(temperature)
    if not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be a positive integer, got steps={steps!r}")
    if not learning_rate > 0:
        raise ValueError(f"learning_rate must be > 0, got learning_rate={learning_rate!r}")
    k, dim = 4, 20
    x_train, y_train, x_test, y_test, means = _blobs(seed, k, dim, 40, 400, 0.45)

    def bayes(x: torch.Tensor) -> torch.Tensor:
        return x @ means.T - 0.5 * (means**2).sum(1)

    teachers = {"kd_confident": confident_scale, "kd_unconfident": unconfident_scale}
    record_at = sorted(set(record) if record is not None else
                       {s for s in (1, 3, 10, 30, 100, 300, 1000, 3000) if s < steps} | {steps})

    def loss_fn(method: str):
        if method == "erm":
            return lambda z: cross_entropy_loss(z, y_train)
        if method == "ls":
            return lambda z: label_smoothing_loss(z, y_train, alpha)
        t = teachers[method] * bayes(x_train)
        return lambda z: distillation_loss(z, t, y_train, alpha, temperature)

    def evaluate(w: torch.Tensor, b: torch.Tensor) -> dict[str, float]:
        with torch.no_grad():
            z_test, z_train = x_test @ w + b, x_train @ w + b
            return {"test_entropy": entropy(z_test).mean().item(), "test_accuracy": accuracy(z_test, y_test),
                    "train_entropy": entropy(z_train).mean().item()}

    rows, converged = [], []
    for method in FINITE_TRAINING_METHODS:
        objective = loss_fn(method)
        w = torch.zeros(dim, k, dtype=torch.float64, requires_grad=True)
        b = torch.zeros(k, dtype=torch.float64, requires_grad=True)
        for step in range(1, steps + 1):
            grad_w, grad_b = torch.autograd.grad(objective(x_train @ w + b), [w, b])
            with torch.no_grad():
                w -= learning_rate * grad_w
                b -= learning_rate * grad_b
            if step in record_at:
                rows.append({"method": method, "step": step, **evaluate(w, b)})
        if converge:
            optimiser = torch.optim.LBFGS([w, b], lr=1.0, max_iter=200, tolerance_grad=1e-10,
                                          tolerance_change=1e-14, line_search_fn="strong_wolfe")

            def closure():
                optimiser.zero_grad()
                value = objective(x_train @ w + b)
                value.backward()
                return value

            optimiser.step(closure)
            converged.append({"method": method, **evaluate(w, b)})
    teacher_rows = []
    for method, scale in teachers.items():
        z_test, z_train = scale * bayes(x_test), scale * bayes(x_train)
        teacher_rows.append({"method": method, "scale": scale, "test_entropy": entropy(z_test).mean().item(),
                             "test_accuracy": accuracy(z_test, y_test),
                             "train_entropy": entropy(z_train).mean().item()})
    return FiniteTrainingDemo(alpha=alpha, temperature=temperature, learning_rate=float(learning_rate),
                              trajectory=pd.DataFrame(rows), converged=pd.DataFrame(converged),
                              teachers=pd.DataFrame(teacher_rows))


def _direction(value: float, reference: float) -> str:
    return "below" if value < reference else "above"


def finite_training_summary(demo: FiniteTrainingDemo, step: int) -> str:
    """A Markdown paragraph stating, from the numbers, where each student's test entropy ends up after ``step``
    gradient steps relative to ERM's, and what happens at convergence."""
    h = demo.at_step(step)
    text = (f"After **{step} gradient steps**, ERM's test entropy is **{h['erm']:.3f}** nats. "
            f"The KD student of the confident teacher is **{_direction(h['kd_confident'], h['erm'])}** it "
            f"({h['kd_confident']:.3f}), the KD student of the unconfident teacher "
            f"**{_direction(h['kd_unconfident'], h['erm'])}** it ({h['kd_unconfident']:.3f}), and LS "
            f"**{_direction(h['ls'], h['erm'])}** it ({h['ls']:.3f}).")
    if not demo.converged.empty:
        c = demo.converged.set_index("method")
        lowest = c["test_entropy"].idxmin()
        text += (f" Trained to convergence, ERM's predictions on its (separable) training set are one-hot "
                 f"(mean entropy {c.loc['erm', 'train_entropy']:.1e} nats) and its test entropy "
                 f"({c.loc['erm', 'test_entropy']:.3f}) is "
                 + ("the lowest of the four" if lowest == "erm" else f"not the lowest (that is {lowest})")
                 + f"; the confident teacher's KD student stops at {c.loc['kd_confident', 'test_entropy']:.3f}.")
    return text
