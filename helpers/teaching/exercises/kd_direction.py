"""Notebook 07 (``07_confidence_inheritance``): predicting KD's direction before the run -- its check, with the
worked solution beside it."""

from __future__ import annotations

from collections.abc import Callable

from helpers.teaching.exercises.checking import MISTAKES, _Case, _Failed, _name, _NotImplemented, _run_check

__all__ = ["check_kd_direction_prediction", "kd_direction_prediction_solution"]


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


def kd_direction_prediction_solution(teacher_val_entropy, erm_val_entropy):
    gap = teacher_val_entropy - erm_val_entropy
    if abs(gap) < 0.01:  # inside the negligible band: no prediction
        return None
    return "up" if gap > 0 else "down"  # a less confident teacher pulls the student's entropy up
