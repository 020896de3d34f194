"""Notebook 07: ``predict_kd_direction(teacher_val_entropy, erm_val_entropy)`` -> ``'down'``, ``'up'`` or ``None``: the
kit's pre-declared rule (``helpers.maths.hypotheses.kd_expectation``). A teacher more confident than the ERM student
(a lower validation entropy) predicts 'down', a less confident one 'up'; a gap ``|teacher − erm| < 0.01`` nats
(``NEGLIGIBLE_ENTROPY``) predicts nothing (None). A gap of exactly 0.01 is a prediction."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from helpers.maths.hypotheses import kd_expectation
from helpers.teaching.exercises.checking import Case, Exercise, Instructor, NotYet, Wrong, call, report

MISTAKES = {
    "reversed": "up and down swapped",
    "no_band": "no 'no prediction' inside the negligible band",
    "one_sided_band": "the 'no prediction' band applied on one side only",
    "band_width": "a band of the wrong width (it is ±0.01 nats)",
    "boundary": "a gap of exactly 0.01 counted as inside the band",
    "relative_band": "a relative (1%) band instead of ±0.01 nats",
    "none_string": "returned the string 'None' instead of None",
}
HINTS = {
    "reversed": "A teacher *more* confident (lower entropy) than the student pulls its entropy *down*.",
    "no_band": "Differences smaller than 0.01 nats predict nothing: return None.",
    "one_sided_band": ("The band is symmetric: |teacher − erm| < 0.01 gives None whether the teacher is slightly more "
                       "or slightly less confident."),
    "band_width": "No prediction exactly when |teacher − erm| < 0.01 nats (NEGLIGIBLE_ENTROPY), not another width.",
    "boundary": "The band is open: |gap| < 0.01 gives None, a gap of exactly 0.01 already predicts.",
    "relative_band": "The band is absolute, 0.01 nats, whatever the entropies' size; not 1% of the ERM entropy.",
    "none_string": "Return the value None (no quotes), not a string.",
}


def _answer(fn: Callable, name: str, teacher: float, erm: float):
    return call(fn, name, teacher, erm, none_is_blank=False)


def _is_blank(fn: Callable, name: str) -> bool:
    """The template answers None even far outside the band."""
    return all(_answer(fn, name, t, e) in (None, Ellipsis) for t, e in ((1.0, 0.0), (0.0, 1.0)))


def _diagnose(fn: Callable, name: str, teacher: float, erm: float, got, expected) -> str:
    flipped = {"up": "down", "down": "up"}
    if isinstance(got, str) and got.strip().lower() == "none":
        return "none_string"
    if expected is not None and got == flipped.get(expected):
        return "reversed"
    relative = [(2.015, 2.0), (0.506, 0.5), (1.0, 1.008), (0.3, 0.2985)]
    if all(_answer(fn, name, t, e) == ("up" if t > e else "down") if abs(t - e) >= 0.01 * e else
           _answer(fn, name, t, e) is None for t, e in relative):
        return "relative_band"
    above, below = _answer(fn, name, 0.2450, 0.2400), _answer(fn, name, 0.2350, 0.2400)
    if (above is None) != (below is None):
        return "one_sided_band"
    if expected is not None and got is None:
        return "boundary" if abs(abs(teacher - erm) - 0.01) < 1e-12 else "band_width"
    if above is not None and below is not None:
        tiny = _answer(fn, name, 0.2401, 0.2400), _answer(fn, name, 0.2399, 0.2400)
        return "no_band" if None not in tiny else "band_width"
    return ""


def _judge(fn: Callable, name: str, pairs: list[tuple[float, float]]) -> None:
    if _is_blank(fn, name):  # None is a right answer inside the band: the template must not earn it
        raise NotYet
    for teacher, erm in pairs:
        got, expected = _answer(fn, name, teacher, erm), kd_expectation(teacher, erm)
        if got == expected and (got is None or isinstance(got, str)):
            continue
        key = _diagnose(fn, name, teacher, erm, got, expected)
        where = "" if len(pairs) == 1 else f" (teacher {teacher!r}, ERM {erm!r})"
        raise Wrong(f"case '{name}'{where}: expected {expected!r}, got {got!r}.", key, HINTS.get(key, ""),
                    redacted=f"case '{name}': your prediction differs from the rule's.")


def _random_pairs(seed: int, n: int) -> list[tuple[float, float]]:
    """ERM entropies from 0.05 to 1.5 nats; gaps just inside and just outside ±0.01 on both sides, zero gaps (ties),
    small and large gaps."""
    g = np.random.default_rng(seed)
    erm = g.uniform(0.05, 1.5, n)
    kinds = g.integers(0, 5, n)
    sign = g.choice([-1.0, 1.0], n)
    gap = np.select([kinds == 0, kinds == 1, kinds == 2, kinds == 3],
                    [sign * (0.01 - 1e-6), sign * (0.01 + 1e-6), 0.0, sign * g.uniform(0.0, 0.02, n)],
                    sign * g.uniform(0.05, 1.0, n))
    return [(float(e + d), float(e)) for e, d in zip(erm, gap)]


def _case(name: str, pairs: Callable[[], list[tuple[float, float]]], points: float = 0.0) -> Case:
    return Case(name, lambda fn: _judge(fn, name, pairs()), points)


def _one(teacher: float, erm: float) -> Callable[[], list[tuple[float, float]]]:
    return lambda: [(teacher, erm)]


def visible_cases() -> list[Case]:
    return [
        _case("a confident teacher: validation entropy 0.06 against the ERM student's 0.24", _one(0.06, 0.24)),
        _case("an unsure teacher: 1.10 against 0.24", _one(1.10, 0.24)),
        _case("a teacher as confident as the student: 0.245 against 0.24", _one(0.245, 0.24)),
        _case("just outside the band, below: 0.228 against 0.24", _one(0.228, 0.24)),
        _case("just inside the band, above: 0.2505 against 0.2410", _one(0.2505, 0.2410)),
        _case("just inside the band, below: 0.2315 against 0.2410", _one(0.2315, 0.2410)),
        _case("just outside the band, above: 0.2515 against 0.2410", _one(0.2515, 0.2410)),
        _case("exactly on the band's upper edge: 0.01 against 0.0", _one(0.01, 0.0)),
        _case("exactly on the band's lower edge: 0.0 against 0.01", _one(0.0, 0.01)),
        _case("large entropies: 2.015 against 2.0", _one(2.015, 2.0)),
        _case("0.506 against 0.5", _one(0.506, 0.5)),
        _case("40 seeded random pairs (gaps just inside and outside ±0.01 on both sides, ties)",
              lambda: _random_pairs(14, 40)),
    ]


def check_kd_direction_prediction(fn: Callable) -> bool:
    """Check ``fn(teacher_val_entropy, erm_val_entropy) -> 'down' | 'up' | None``: the kit's pre-declared rule
    (``helpers.maths.hypotheses.kd_expectation``), None when ``|teacher − erm| < 0.01`` nats. Print the verdict."""
    return report(EXERCISE, fn)


INSTRUCTOR = None
# BEGIN INSTRUCTOR


def predict_kd_direction(teacher_val_entropy, erm_val_entropy):
    gap = teacher_val_entropy - erm_val_entropy
    if abs(gap) < 0.01:  # inside the negligible band: no prediction
        return None
    return "up" if gap > 0 else "down"  # a less confident teacher pulls the student's entropy up


def _hidden_cases() -> list[Case]:
    return [
        _case("confident teacher", _one(0.11, 0.35), 0.5),
        _case("unsure teacher", _one(0.9, 0.35), 0.5),
        _case("inside the band, both sides", lambda: [(0.355, 0.35), (0.345, 0.35), (0.35, 0.35)], 1.0),
        _case("just outside the band, both sides", lambda: [(0.3605, 0.35), (0.3395, 0.35)], 1.0),
        _case("on the band's edges", lambda: [(0.01, 0.0), (0.0, 0.01)], 0.5),
        _case("large and small entropies", lambda: [(3.0, 2.985), (0.1, 0.0995), (0.805, 0.8)], 0.5),
        _case("random pairs", lambda: _random_pairs(2030, 60), 1.0),
    ]


def _wrong_catalogue() -> dict[str, tuple[Callable, str]]:
    def rule(band=lambda gap, erm: abs(gap) < 0.01, swap=False, none="none"):
        def predict(teacher_val_entropy, erm_val_entropy):
            gap = teacher_val_entropy - erm_val_entropy
            if band(gap, erm_val_entropy):
                return None if none == "none" else "None"
            if swap:
                return "down" if gap > 0 else "up"
            return "up" if gap > 0 else "down"
        return predict

    def arguments_swapped(teacher_val_entropy, erm_val_entropy):
        gap = erm_val_entropy - teacher_val_entropy
        if abs(gap) < 0.01:
            return None
        return "up" if gap > 0 else "down"

    def two_thresholds(teacher_val_entropy, erm_val_entropy):
        if teacher_val_entropy > erm_val_entropy + 0.01:
            return "up"
        if teacher_val_entropy < erm_val_entropy - 0.01:
            return "down"
        return None

    def wraps_the_kit(teacher_val_entropy, erm_val_entropy):
        from helpers.maths.hypotheses import kd_expectation as kit_rule

        return kit_rule(teacher_val_entropy, erm_val_entropy)

    def uses_the_kits_direction(teacher_val_entropy, erm_val_entropy):
        import helpers

        gap = teacher_val_entropy - erm_val_entropy
        moved = helpers.direction(gap, gap, helpers.NEGLIGIBLE_ENTROPY, gap)
        return {"up": "up", "down": "down"}.get(moved)

    return {
        "up and down swapped": (rule(swap=True), "reversed"),
        "arguments swapped": (arguments_swapped, "reversed"),
        "no band": (rule(band=lambda gap, erm: False), "no_band"),
        "band above only": (rule(band=lambda gap, erm: 0 <= gap < 0.01), "one_sided_band"),
        "band below only": (rule(band=lambda gap, erm: -0.01 < gap <= 0), "one_sided_band"),
        "|gap| <= 0.01": (rule(band=lambda gap, erm: abs(gap) <= 0.01), "boundary"),
        "two thresholds with strict >": (two_thresholds, "boundary"),
        "band ±0.005": (rule(band=lambda gap, erm: abs(gap) < 0.005), "band_width"),
        "band ±0.02": (rule(band=lambda gap, erm: abs(gap) < 0.02), "band_width"),
        "round(gap, 2) == 0": (rule(band=lambda gap, erm: round(gap, 2) == 0), "band_width"),
        "1% of the ERM entropy": (rule(band=lambda gap, erm: abs(gap) < 0.01 * erm), "relative_band"),
        "returns 'None' as a string": (rule(none="string"), "none_string"),
        "wraps the kit's kd_expectation": (wraps_the_kit, "kit_wrapper"),
        "uses the kit's direction": (uses_the_kits_direction, "kit_wrapper"),
    }


INSTRUCTOR = Instructor(solution=predict_kd_direction, hidden=_hidden_cases, wrong=_wrong_catalogue())
# END INSTRUCTOR

EXERCISE = Exercise(name="kd_direction_prediction", notebook="07", function="predict_kd_direction",
                    check=check_kd_direction_prediction, mistakes=MISTAKES, cases=visible_cases,
                    instructor=INSTRUCTOR)
