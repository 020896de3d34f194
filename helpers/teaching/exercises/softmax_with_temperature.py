"""Notebook 01: ``softmax_with_temperature(logits, temperature)`` -> ``softmax(logits / temperature)`` over the last
axis, for one example ``(K,)`` or a batch ``(B, K)``, computed stably."""

from __future__ import annotations

from collections.abc import Callable

import torch

from helpers.teaching.exercises.checking import Case, Exercise, Instructor, as_tensor, call, close, expect_close, report

MISTAKES = {
    "multiplied": "multiplied the logits by the temperature instead of dividing",
    "ignored": "temperature ignored",
    "axis": "softmax over the wrong axis",
    "overflow": "overflow (exp of large logits)",
    "global_max": "subtracted the batch's largest logit instead of each row's",
    "unnormalised": "probabilities do not sum to 1",
    "clamped": "clamped the logits",
    "unstable": "numerically unstable: exact in theory, wrong for large logits",
    "log_probs": "returned log-probabilities",
}
HINTS = {
    "multiplied": "Divide: p = softmax(z / τ), so τ > 1 flattens and τ < 1 sharpens.",
    "ignored": "Divide the logits by τ before the softmax.",
    "axis": "The classes are on the last axis: work along dim=-1 (max, exp-sum and softmax alike).",
    "overflow": ("exp(1000) is inf in floating point: subtract each row's largest logit before exp (it changes "
                 "nothing, notebook 01 §1), or use torch.softmax."),
    "global_max": ("Subtract each row's own maximum (max(dim=-1, keepdim=True)): with the batch's maximum, a row far "
                   "below it underflows to 0/0."),
    "unnormalised": "Apply the temperature to the logits, then the softmax (exp, divided by the row's sum).",
    "clamped": ("Clamping the logits changes the answer for large logits; subtracting the row's maximum is exact and "
                "never overflows."),
    "unstable": ("softmax(z) ** (1/τ), renormalised, is softmax(z/τ) on paper, but softmax(z) underflows to 0 for "
                 "large logits first. Divide the logits by τ, then take one stable softmax."),
    "log_probs": "Return the probabilities themselves (they sum to 1), not their logarithms.",
}


def _reference(z: torch.Tensor, t: float) -> torch.Tensor:
    return torch.softmax(z.double() / t, dim=-1)


def _normalised(e: torch.Tensor) -> torch.Tensor:
    return e / e.sum(-1, keepdim=True)


_LOOKALIKES: dict[str, Callable] = {  # wrong answers the self-check recognises by value
    "multiplied": lambda z, t: torch.softmax(z * t, dim=-1),
    "ignored": lambda z, t: torch.softmax(z, dim=-1),
    "axis": lambda z, t: torch.softmax(z / t, dim=0),
    "log_probs": lambda z, t: torch.log_softmax(z / t, dim=-1),
    "unstable": lambda z, t: _normalised(torch.softmax(z, dim=-1) ** (1.0 / t)),
}


def _diagnose(z: torch.Tensor, t: float) -> Callable[[torch.Tensor], tuple[str, str]]:
    z = z.double()

    def diagnose(got: torch.Tensor) -> tuple[str, str]:
        for key, lookalike in _LOOKALIKES.items():
            if close(got, lookalike(z, t), rtol=1e-3, atol=1e-5):
                return key, HINTS[key]
        for bound in (10.0, 20.0, 30.0, 50.0, 80.0, 88.0, 100.0, 500.0, 700.0):
            if close(got, torch.softmax((z / t).clamp(-bound, bound), -1), 1e-3, 1e-5) or \
                    close(got, torch.softmax(z.clamp(-bound, bound) / t, -1), 1e-3, 1e-5):
                return "clamped", HINTS["clamped"]
        if z.dim() == 2 and close(got, _normalised(torch.exp(z / t - (z / t).max(dim=0).values)), 1e-3, 1e-5):
            return "axis", HINTS["axis"]
        if got.shape == z.shape and not torch.isfinite(got).all():
            bad = ~torch.isfinite(got).reshape(-1, z.shape[-1]).all(-1)
            row_max = (z / t).reshape(-1, z.shape[-1]).max(-1).values
            if z.dim() == 2 and bad.any() and (row_max[bad] < row_max.max() - 700).all():
                return "global_max", HINTS["global_max"]
            return "overflow", HINTS["overflow"]
        if got.shape == z.shape and not close(got.sum(-1), torch.ones(got.shape[:-1], dtype=torch.float64)):
            return "unnormalised", HINTS["unnormalised"] + f" (row sums {got.sum(-1).reshape(-1)[:4].tolist()})"
        return "", ""

    return diagnose


def _judge(fn: Callable, name: str, z: torch.Tensor, t: float) -> None:
    got = as_tensor(call(fn, name, z, t), name, "a tensor of probabilities")
    expect_close(name, got, _reference(z, t), _diagnose(z, t))


def _random_logits(seed: int, rows: int, k: int) -> torch.Tensor:
    """Rows of very different scales (0.001 to 1000), some shifted by ±1000, some tied (all equal, or two equal at
    the top): a batch a stable softmax gets right and a naive one does not."""
    g = torch.Generator().manual_seed(seed)
    scale = 10.0 ** (6.0 * torch.rand(rows, 1, generator=g, dtype=torch.float64) - 3.0)
    z = scale * torch.randn(rows, k, generator=g, dtype=torch.float64)
    z[2::6] += 1000.0
    z[3::6] -= 1000.0
    z[0::5] = z[0::5, :1]  # all classes tied
    top = z[1::7].argmax(-1)
    z[1::7, (top + 1) % k] = z[1::7].max(-1).values  # two classes tied at the top
    return z


def _case(name: str, make: Callable[[], tuple[torch.Tensor, float]], points: float = 0.0) -> Case:
    return Case(name, lambda fn: _judge(fn, name, *make()), points)


def _batch(seed: int, rows: int, k: int, scale: float) -> torch.Tensor:
    return scale * torch.randn(rows, k, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def visible_cases() -> list[Case]:
    t = torch.tensor
    f64 = torch.float64
    return [
        _case("one example [2, 1, 0.1, -1], tau = 2", lambda: (t([2.0, 1.0, 0.1, -1.0], dtype=f64), 2.0)),
        _case("a batch of 3 examples (shape (3, 4)), tau = 0.5", lambda: (_batch(1, 3, 4, 3.0), 0.5)),
        _case("the same batch, tau = 1", lambda: (_batch(1, 3, 4, 3.0), 1.0)),
        _case("large logits [1000, 999, 990], tau = 1", lambda: (t([[1000.0, 999.0, 990.0]], dtype=f64), 1.0)),
        _case("rows of very different scale in one batch, tau = 1",
              lambda: (t([[1000.0, 999.0, 990.0], [1.0, 0.0, -1.0], [-1000.0, -1001.0, -1003.0], [800.0, 0.0, -5.0]],
                         dtype=f64), 1.0)),
        _case("large logits at a high temperature: [0, -800, 5], tau = 100", lambda: (t([[0.0, -800.0, 5.0]], dtype=f64), 100.0)),
        _case("a seeded random batch of 24 rows (scales 0.001 to 1000, shifts of ±1000, ties), tau = 0.7",
              lambda: (_random_logits(11, 24, 5), 0.7)),
    ]


def check_softmax_with_temperature(fn: Callable) -> bool:
    """Check ``fn(logits, temperature) -> softmax(logits / temperature)`` over the last axis; print the verdict."""
    return report(EXERCISE, fn)


INSTRUCTOR = None
# BEGIN INSTRUCTOR


def softmax_with_temperature(logits, temperature):
    """softmax(logits / temperature) over the last axis, computed stably."""
    scaled = logits / temperature
    scaled = scaled - scaled.max(dim=-1, keepdim=True).values  # changes nothing, avoids exp overflow
    e = torch.exp(scaled)
    return e / e.sum(dim=-1, keepdim=True)


def _hidden_cases() -> list[Case]:
    t = torch.tensor
    f64 = torch.float64
    return [
        _case("one example, tau = 0.25", lambda: (t([3.0, -1.0, 0.5, 0.0, 2.5], dtype=f64), 0.25), 1.0),
        _case("a batch, tau = 3", lambda: (_batch(101, 6, 3, 2.0), 3.0), 1.0),
        _case("large logits", lambda: (t([[2500.0, 2490.0, -3.0], [-700.0, 0.0, 700.0]], dtype=f64), 1.0), 1.0),
        _case("rows of very different scale", lambda: (t([[-2000.0, -2001.0, -2010.0], [0.01, 0.0, -0.01],
                                                           [1500.0, 0.0, -2.0], [3.0, 1.0, 2.0]], dtype=f64), 2.0), 1.0),
        _case("large logits, high temperature", lambda: (t([[0.0, -1500.0, 8.0], [1.0, 2.0, 3.0]], dtype=f64), 250.0), 1.0),
        _case("a random batch", lambda: (_random_logits(2024, 40, 6), 1.3), 1.0),
    ]


def _wrong_catalogue() -> dict[str, tuple[Callable, str]]:
    def multiplies(logits, temperature):
        return torch.softmax(logits * temperature, dim=-1)

    def ignores_temperature(logits, temperature):
        e = torch.exp(logits - logits.max(dim=-1, keepdim=True).values)
        return e / e.sum(dim=-1, keepdim=True)

    def batch_axis(logits, temperature):
        return torch.softmax(logits / temperature, dim=0)

    def naive_exp(logits, temperature):
        e = torch.exp(logits / temperature)
        return e / e.sum(dim=-1, keepdim=True)

    def unnormalised(logits, temperature):
        z = logits / temperature
        return torch.exp(z - z.max(dim=-1, keepdim=True).values)

    def batch_max(logits, temperature):
        z = logits / temperature
        e = torch.exp(z - z.max())  # one maximum for the whole batch
        return e / e.sum(dim=-1, keepdim=True)

    def column_max(logits, temperature):
        z = logits / temperature
        e = torch.exp(z - z.max(dim=0).values)  # off by an axis: the maximum of each class over the batch
        return e / e.sum(dim=-1, keepdim=True)

    def subtracts_minimum(logits, temperature):
        z = logits / temperature
        e = torch.exp(z - z.min(dim=-1, keepdim=True).values)
        return e / e.sum(dim=-1, keepdim=True)

    def clamps_logits(logits, temperature):
        z = torch.clamp(logits / temperature, -50, 50)  # "to avoid overflow"
        return torch.softmax(z, dim=-1)

    def power_of_softmax(logits, temperature):
        p = torch.softmax(logits, dim=-1) ** (1 / temperature)
        return p / p.sum(dim=-1, keepdim=True)

    def log_probabilities(logits, temperature):
        return torch.log_softmax(logits / temperature, dim=-1)

    def wraps_the_kit(logits, temperature):
        from helpers.maths.theory import softmax_with_temperature as kit_softmax

        return kit_softmax(logits, temperature)

    def wraps_the_flat_api(logits, temperature):
        import helpers

        return torch.softmax(helpers.scale_logits(logits, temperature), dim=-1)

    return {
        "multiplies the logits by tau": (multiplies, "multiplied"),
        "forgets the temperature": (ignores_temperature, "ignored"),
        "softmax over the batch axis": (batch_axis, "axis"),
        "maximum over the wrong axis": (column_max, "axis"),
        "exp without subtracting the maximum": (naive_exp, "overflow"),
        "subtracts the row's minimum": (subtracts_minimum, "overflow"),
        "subtracts the batch's maximum": (batch_max, "global_max"),
        "does not divide by the sum": (unnormalised, "unnormalised"),
        "clamps the logits to [-50, 50]": (clamps_logits, "clamped"),
        "softmax(z) ** (1 / tau), renormalised": (power_of_softmax, "unstable"),
        "returns log-probabilities": (log_probabilities, "log_probs"),
        "wraps the kit's softmax_with_temperature": (wraps_the_kit, "kit_wrapper"),
        "uses the kit's scale_logits": (wraps_the_flat_api, "kit_wrapper"),
    }


INSTRUCTOR = Instructor(solution=softmax_with_temperature, hidden=_hidden_cases, wrong=_wrong_catalogue())
# END INSTRUCTOR

EXERCISE = Exercise(name="softmax_with_temperature", notebook="01", function="softmax_with_temperature",
                    check=check_softmax_with_temperature, mistakes=MISTAKES, cases=visible_cases, instructor=INSTRUCTOR)
