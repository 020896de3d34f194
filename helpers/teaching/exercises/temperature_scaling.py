"""Notebook 04: ``my_fit_temperature(val_logits, val_targets)`` -> the ``T > 0`` minimising the mean NLL of
``softmax(val_logits / T)`` on the validation data passed in. The check also takes the notebook's test split
(``test_logits, test_labels``), to tell a function that fits on it through a global."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F

from helpers.maths.calibration import fit_temperature
from helpers.teaching.exercises.checking import Case, Exercise, Instructor, Wrong, as_tensor, call, report

MISTAKES = {
    "test_split": "fitted on the test split",
    "ignores_data": "the answer does not depend on the validation data",
    "inverse": "returned 1/T instead of T",
    "accuracy": "optimised accuracy instead of NLL",
    "log_t": "returned log T instead of T",
    "ece": "optimised ECE instead of NLL",
    "not_optimal": "T is not the validation NLL's minimum",
}
HINTS = {
    "test_split": "Use the function's arguments val_logits, val_targets, never test_logits (a global).",
    "ignores_data": ("Fit on val_logits and val_targets (not on a global such as test_logits). If you maximised "
                     f"accuracy: {MISTAKES['accuracy']} — accuracy never changes with T (the arg-max does not move), "
                     "so it cannot choose T. Minimise the NLL."),
    "inverse": "The kit divides: softmax(logits / T); if you optimised a factor c in softmax(c · logits), return T = 1/c.",
    "log_t": "If you optimised over log T, return exp(log T).",
    "ece": "Temperature scaling minimises the validation NLL (a smooth, proper score); ECE is only reported.",
    "not_optimal": ("Minimise the mean NLL of softmax(val_logits / T) over T > 0 to the end: search a wide range "
                    "(best temperatures run from below 0.1 to above 10), finely (e.g. scipy.optimize.minimize_scalar "
                    "on log T over [log 0.01, log 100]), and let an optimiser converge."),
}


def _calibration_set(seed: int, scale: float, n: int = 600, k: int = 5) -> tuple[torch.Tensor, torch.Tensor]:
    """Logits ``scale * z`` with labels drawn from ``softmax(z)``: the NLL-optimal temperature is close to ``scale``."""
    g = torch.Generator().manual_seed(seed)
    z = 1.5 * torch.randn(n, k, generator=g, dtype=torch.float64)
    y = torch.multinomial(torch.softmax(z, -1), 1, generator=g)[:, 0]
    return (scale * z).float(), y


def _nll(logits: torch.Tensor, targets: torch.Tensor, t: float) -> float:
    return F.cross_entropy(logits.double() / t, targets).item()


def _eces(z: torch.Tensor, y: torch.Tensor, temperatures: np.ndarray, n_bins: int = 15) -> np.ndarray:
    """The ECE (15 bins) of softmax(z / T) for every T at once."""
    t = torch.as_tensor(temperatures, dtype=torch.float64)[:, None, None]
    conf, pred = torch.softmax(z.double()[None] / t, -1).max(-1)
    correct = (pred == y[None]).double()
    index = (torch.ceil(conf * n_bins) - 1).clamp(0, n_bins - 1).long()
    rows = torch.arange(len(temperatures))[:, None].expand_as(index)
    counts = torch.zeros(len(temperatures), n_bins, dtype=torch.float64).index_put_((rows, index), torch.ones_like(conf),
                                                                                    accumulate=True)
    gap = torch.zeros_like(counts).index_put_((rows, index), correct - conf, accumulate=True)
    return (gap.abs().sum(-1) / len(y)).numpy()


def _is_ece_minimum(z: torch.Tensor, y: torch.Tensor, t: float) -> bool:
    grid = np.geomspace(0.05, 20.0, 400)
    eces = _eces(z, y, grid)
    return float(_eces(z, y, np.array([t]))[0]) <= eces.min() + 1e-3 or math.isclose(t, grid[int(np.argmin(eces))],
                                                                                    rel_tol=0.05)


def _answer(fn: Callable, name: str, z: torch.Tensor, y: torch.Tensor) -> float:
    got = as_tensor(call(fn, name, z, y), name, "one positive number T")
    if got.numel() != 1:
        raise Wrong(f"case '{name}': expected one number T, got shape {tuple(got.shape)}.")
    return float(got.reshape(()))


def _judge(fn: Callable, name: str, data: tuple, other: tuple, test: tuple | None) -> None:
    """``fn`` on the validation set ``data``; ``other`` (a set whose best T differs) and the notebook's test split
    name the mistakes of an answer that ignores its data."""
    z, y = data
    t, best = _answer(fn, name, z, y), fit_temperature(z, y)
    if math.isclose(t, best, rel_tol=0.02) or (t > 0 and _nll(z, y, t) - _nll(z, y, best) < 1e-4):
        return
    detail = f"case '{name}': expected T ≈ {best:.3f} (the validation NLL's minimum), got {t:.4g}."
    redacted = f"case '{name}': your T ({t:.4g}) is not the validation NLL's minimum."
    key = ""
    t_other = _answer(fn, name, *other)
    test_t = fit_temperature(*test) if test is not None else None
    if test_t is not None and math.isclose(t, test_t, rel_tol=0.02) and math.isclose(t_other, test_t, rel_tol=0.02):
        key, detail = "test_split", detail + f" Your T equals the one fitted on the notebook's test split (T = {test_t:.3f})."
    elif math.isclose(t, t_other, rel_tol=1e-6):
        key = "ignores_data"
        detail += f" You returned {t:.4g} for two validation sets whose best temperatures differ."
    elif t > 0 and math.isclose(1.0 / t, best, rel_tol=0.02):
        key = "inverse"
    elif math.isclose(math.exp(t), best, rel_tol=0.02):
        key = "log_t"
    elif t > 0 and _is_ece_minimum(z, y, t):
        key = "ece"
    elif t > 0:
        key = "not_optimal"
        detail += f" The NLL at your T is {_nll(z, y, t):.4f} nats, at the best T {_nll(z, y, best):.4f}."
    raise Wrong(detail, key, HINTS.get(key, ""), redacted=redacted)


def _case(name: str, data: Callable[[], tuple], other: Callable[[], tuple], test: tuple | None,
          points: float = 0.0) -> Case:
    return Case(name, lambda fn: _judge(fn, name, data(), other(), test), points)


def _test_split(arguments: tuple) -> tuple | None:
    if len(arguments) >= 2 and arguments[0] is not None and arguments[1] is not None:
        return torch.as_tensor(arguments[0]), torch.as_tensor(arguments[1])
    return None


def visible_cases(*arguments) -> list[Case]:
    test = _test_split(arguments)
    a, b = (lambda: _calibration_set(7, 2.5)), (lambda: _calibration_set(8, 0.6))
    return [
        _case("validation set A (over-confident: optimum near T = 2.5)", a, b, test),
        _case("validation set B (under-confident: optimum near T = 0.6)", b, a, test),
        _case("validation set C (very over-confident: optimum near T = 8)", lambda: _calibration_set(9, 8.0), b, test),
        _case("validation set D (very under-confident: optimum near T = 0.2)", lambda: _calibration_set(10, 0.2), a, test),
    ]


def check_temperature_scaling(fn: Callable, test_logits=None, test_targets=None) -> bool:
    """Check ``fn(val_logits, val_targets) -> T`` minimising the validation NLL of ``softmax(logits / T)`` on four
    validation sets whose best temperatures differ clearly (about 2.5, 0.6, 8 and 0.2); pass the notebook's
    ``test_logits, test_targets`` too, so that fitting on the test split (through a global) is named as such. Print
    the verdict."""
    return report(EXERCISE, fn, test_logits, test_targets)


INSTRUCTOR = None
# BEGIN INSTRUCTOR


def my_fit_temperature(val_logits, val_targets):
    """The T > 0 minimising the validation NLL of softmax(val_logits / T) (a 1-D search on log T)."""
    from scipy.optimize import minimize_scalar

    def nll(log_t):
        return F.cross_entropy(val_logits.double() / math.exp(log_t), val_targets).item()

    result = minimize_scalar(nll, bounds=(math.log(0.01), math.log(100.0)), method="bounded")
    return math.exp(result.x)


def _hidden_cases(*arguments) -> list[Case]:
    test = _test_split(arguments)
    a, b = (lambda: _calibration_set(401, 1.8)), (lambda: _calibration_set(402, 0.45))
    return [
        _case("over-confident set", a, b, test, 1.0),
        _case("under-confident set", b, a, test, 1.0),
        _case("very over-confident set", lambda: _calibration_set(403, 12.0, n=800, k=4), b, test, 1.0),
        _case("very under-confident set", lambda: _calibration_set(404, 0.15, n=800, k=6), a, test, 1.0),
    ]


def _example_test_split() -> tuple[torch.Tensor, torch.Tensor]:
    """A test split standing in for the notebook's: confident logits with a few labels flipped."""
    g = torch.Generator().manual_seed(99)
    z = 4.0 * torch.randn(300, 5, generator=g)
    y = z.argmax(-1)
    y[:30] = torch.randint(0, 5, (30,), generator=g)
    return z, y


def _wrong_catalogue() -> dict[str, tuple[Callable, str]]:
    from scipy.optimize import minimize_scalar

    def nll_fit(logits, targets, low=0.01, high=100.0, multiply=False):
        z, y = torch.as_tensor(logits).double(), torch.as_tensor(targets)

        def nll(log_t):
            t = math.exp(log_t)
            return F.cross_entropy(z * t if multiply else z / t, y).item()

        return math.exp(minimize_scalar(nll, bounds=(math.log(low), math.log(high)), method="bounded").x)

    def grid_fit(logits, targets, score, grid):
        z, y = torch.as_tensor(logits).double(), torch.as_tensor(targets)
        return float(grid[int(np.argmin([score(z / t, y) for t in grid]))])

    test_logits, test_labels = _example_test_split()

    def fits_the_test_split(val_logits, val_targets):
        return nll_fit(test_logits, test_labels)  # the notebook's globals, not the arguments

    def a_constant(val_logits, val_targets):
        return 1.5

    def inverse(val_logits, val_targets):
        return 1.0 / nll_fit(val_logits, val_targets)

    def multiplies_by_t(val_logits, val_targets):
        return nll_fit(val_logits, val_targets, multiply=True)

    def maximises_accuracy(val_logits, val_targets):  # every T ties: the first grid point wins
        return grid_fit(val_logits, val_targets, lambda z, y: -(z.argmax(-1) == y).double().mean().item(),
                        np.geomspace(0.05, 20.0, 50))

    def returns_log_t(val_logits, val_targets):
        return math.log(nll_fit(val_logits, val_targets))

    def minimises_ece(val_logits, val_targets):
        def ece(z, y, n_bins=15):
            conf, pred = torch.softmax(z, -1).max(-1)
            correct = (pred == y).double()
            index = (torch.ceil(conf * n_bins) - 1).clamp(0, n_bins - 1).long()
            return sum((index == b).double().mean() * (correct[index == b].mean() - conf[index == b].mean()).abs()
                       for b in range(n_bins) if (index == b).any()).item()

        return grid_fit(val_logits, val_targets, ece, np.geomspace(0.05, 20.0, 100))

    def narrow_range(val_logits, val_targets):
        return nll_fit(val_logits, val_targets, low=0.5, high=3.0)

    def coarse_grid(val_logits, val_targets):
        return grid_fit(val_logits, val_targets, lambda z, y: F.cross_entropy(z, y).item(), np.arange(0.5, 10.01, 0.5))

    def few_gradient_steps(val_logits, val_targets):
        t = torch.tensor(1.0, requires_grad=True)
        optimiser = torch.optim.SGD([t], lr=0.01)
        for _ in range(20):
            optimiser.zero_grad()
            F.cross_entropy(val_logits / t, val_targets).backward()
            optimiser.step()
        return t.item()

    def wraps_the_kit(val_logits, val_targets):
        from helpers.maths.calibration import fit_temperature as kit_fit

        return kit_fit(val_logits, val_targets)

    def uses_the_kits_report(val_logits, val_targets):
        import helpers

        temperature, _ = helpers.temperature_scaling_report(val_logits, val_targets, val_logits, val_targets)
        return temperature

    return {
        "fits on the notebook's test split": (fits_the_test_split, "test_split"),
        "returns a constant": (a_constant, "ignores_data"),
        "returns 1 / T": (inverse, "inverse"),
        "softmax(logits * T)": (multiplies_by_t, "inverse"),
        "maximises accuracy": (maximises_accuracy, "ignores_data"),
        "returns log T": (returns_log_t, "log_t"),
        "minimises the ECE": (minimises_ece, "ece"),
        "searches only [0.5, 3]": (narrow_range, "not_optimal"),
        "a grid in steps of 0.5": (coarse_grid, "not_optimal"),
        "20 small gradient steps from T = 1": (few_gradient_steps, "not_optimal"),
        "wraps the kit's fit_temperature": (wraps_the_kit, "kit_wrapper"),
        "uses the kit's temperature_scaling_report": (uses_the_kits_report, "kit_wrapper"),
    }


INSTRUCTOR = Instructor(solution=my_fit_temperature, hidden=_hidden_cases, wrong=_wrong_catalogue(),
                        arguments=_example_test_split)
# END INSTRUCTOR

EXERCISE = Exercise(name="temperature_scaling", notebook="04", function="my_fit_temperature",
                    check=check_temperature_scaling, mistakes=MISTAKES, cases=visible_cases,
                    arguments=("test_logits", "test_labels"), instructor=INSTRUCTOR)
