"""The sentences of notebooks 08 (α and τ sweeps) and 09 (representations, LS-trained teachers, the virtual teacher).

They use notebook 06's rules (``helpers.maths.statistics``, ``helpers.reporting.verdicts``): a paired difference against
ERM of the same seed with its 95% t-interval, each metric's negligible band, the same direction words, and Holm's
correction over the family of comparisons the text reads; "as expected" only from an interval that says so, never
from an unclear one, and no verdict from a single trained head.
"""

from __future__ import annotations

import math
from typing import Mapping

import numpy as np
import pandas as pd

from helpers.maths.statistics import (
    check_columns,
    difference_summary,
    direction,
    holm,
    negligible_band,
    paired_differences,
)
from helpers.reporting.verdicts import WORDS, interval_text

__all__ = [
    "sweep_text",
    "band_text",
    "tightness_text",
    "teacher_quality_text",
    "virtual_teacher_text",
]

_CLOSE = ("negligible", "up-small", "down-small")  # within the band: "close to ERM"


def _sweep_expectation(method: str, temperature) -> str:
    """What notebook 08's explanation expects at the largest α: LS raises entropy, KD at τ = 1 stays close to ERM, KD
    at τ > 1 lowers it."""
    if method == "ls":
        return "up"
    return "close" if float(temperature) == 1.0 else "down"


def _sweep_judgement(observed: str, expected: str) -> str:
    if observed.endswith("?"):
        return "one seed: a sign, not a tested difference"
    if expected == "close":
        if observed in _CLOSE:
            return "as the explanation expects (within the negligible band)"
        if observed == "unclear":
            return "not decided: the interval leaves the band without excluding 0"
        return f"**not what the explanation expects** (it should stay close to ERM)"
    if observed == expected:
        return "as the explanation expects"
    if observed == "unclear":
        return "not decided: the interval includes 0"
    if observed in _CLOSE:
        return f"**no practical change** (the explanation expects {'a rise' if expected == 'up' else 'a fall'})"
    return f"**not what the explanation expects** (it should {'rise' if expected == 'up' else 'fall'})"


def sweep_text(frame: pd.DataFrame, metric: str = "entropy", level: float = 0.95) -> str:
    """Plain words on an α/τ sweep (``helpers.experiments.sweeps.run_sweep``'s per-seed rows), set against notebook 08's
    explanation — LS raises entropy with α; KD at τ = 1 from a converged teacher stays close to ERM; KD at τ > 1 lowers
    it. ERM is LS at α = 0. Each curve is judged at its largest α by the paired difference from ERM of the same seed,
    its 95% t-interval and the metric's negligible band; the family (every α > 0 point) is read with Holm's
    correction (a † marks a direction that does not survive it)."""
    check_columns(frame, ["method", "alpha", "temperature", "seed", metric], "frame")
    ls = frame[frame["method"] == "ls"]
    if not (ls["alpha"] == 0.0).any():
        raise ValueError("frame needs LS at α = 0 (the ERM point)")
    runs = frame[frame["alpha"] > 0].copy()
    erm = ls[ls["alpha"] == 0.0].assign(method="erm", temperature="")
    pairs = pd.concat([erm, runs], ignore_index=True)
    summary = difference_summary(paired_differences(pairs, metric), level, negligible_band(metric))
    summary["holm"] = holm(summary["p"].to_numpy(float), 1.0 - level)[1]
    n = int(summary["n"].min())
    base = erm[metric].mean()
    lines = [f"ERM (α = 0): {metric} {base:.3f}, the mean of {erm['seed'].nunique()} seeds; every point below is paired with "
             f"the ERM run of its seed." if n > 1 else
             f"ERM (α = 0): {metric} {base:.3f} (**one seed**: each point is one run, so the words below are signs, "
             f"not tested differences)."]
    curves = [("LS", summary[summary["method"] == "ls"])]
    kd = summary[summary["method"] == "kd"]
    curves += [(f"KD τ = {tau:g}", kd[pd.to_numeric(kd["temperature"]) == tau])
               for tau in sorted({float(t) for t in kd["temperature"]})]
    for name, part in curves:
        if part.empty:
            continue
        part = part.sort_values("alpha")
        top = part.iloc[-1]
        means = [base] + part["value"].tolist()
        rising = "rising at every step of α" if (np.diff(means) > 0).all() else "not rising at every step of α"
        dagger = "" if top["holm"] or top["direction"] in ("unclear", "negligible") or top["n"] < 2 else " †"
        judgement = _sweep_judgement(top["direction"], _sweep_expectation(top["method"], top["temperature"]))
        lines.append(f"{name}: {metric} {top['value']:.3f} at α = {top['alpha']:g} ({rising} on average), "
                     f"{WORDS[top['direction']]} against ERM ({interval_text(top.to_dict())}){dagger} — {judgement}.")
    tested = summary[summary["n"] >= 2]
    if len(tested):
        clear = tested[tested["direction"].isin(["up", "down", "up-small", "down-small"])]
        lines.append(f"Read as a family of {len(summary)} comparisons (every α > 0 point) with Holm's correction at 5%: "
                     f"{int(clear['holm'].sum())} of {len(clear)} directions survive.")
    return "\n".join(f"* {line}" for line in lines)


def band_text(summary: pd.DataFrame) -> str:
    """What the bands of a sweep plot are, from the number of seeds (min–max below three seeds, else 95% t-bands)."""
    check_columns(summary, ["n"], "summary")
    n = int(summary["n"].min())
    if n == 1:
        return "With **one seed** there are no bands: every point is a single run, and no difference is tested."
    if n < 3:
        return (f"The bands are the **min–max over {n} seeds** (a 95% t-interval from {n} seeds "
                f"would be far wider than the spread, and could leave the metric's range), clipped to the metric's range.")
    return f"The bands are 95% t-intervals over {n} seeds, clipped to the metric's range."


def tightness_text(tightness: Mapping[str, float]) -> str:
    """Which model's clusters are tightest (spread / separation, smaller is tighter). One trained head per loss gives
    no interval, so the sentence describes and does not judge Müller et al.'s picture (LS gives the tightest
    clusters). Keys are titles; the LS one contains ``'LS'``."""
    if not tightness:
        raise ValueError("tightness must map at least one model to its spread / separation")
    ordered = sorted(tightness.items(), key=lambda item: item[1])
    listing = ", ".join(f"{name} {value:.3f}" for name, value in ordered)
    text = f"Spread / separation on the test split (one trained head each; smaller is tighter): {listing}."
    if any("LS" in name for name in tightness):
        where = "smallest" if "LS" in ordered[0][0] else "not the smallest"
        text += (f" LS's ratio is the {where} of these heads. With one head per loss there is no interval, so this "
                 f"describes these heads and does not test Müller et al.'s (2019) finding either way.")
    return text


def teacher_quality_text(differences: pd.DataFrame, level: float = 0.95) -> str:
    """Müller et al.'s "LS-trained teachers distil worse", judged from a ``difference_summary`` of student accuracy
    against the students of the ERM teacher (paired by seed and τ): one clause per LS teacher and τ with its
    direction read against the accuracy band, the family read with Holm's correction, then a verdict — "holds" or
    "contradict" only from directions that are clear and survive Holm. Each teacher is one training run, so the
    verdict holds conditional on those runs."""
    check_columns(differences, ["teacher", "temperature", "difference", "low", "high", "n", "p"], "differences")
    if differences.empty:
        return "_No LS-trained teacher to compare._"
    band = negligible_band("accuracy")
    rows = differences.copy()
    rows["direction"] = [("up?" if r.difference > 0 else "down?") if r.n < 2 else direction(r.low, r.high, band, r.difference)
                         for r in rows.itertuples()]
    rows["holm"] = holm(rows["p"].to_numpy(float), 1.0 - level)[1]
    lines = []
    for row in rows.itertuples():
        dagger = "" if row.holm or row.direction in ("unclear", "negligible") or row.n < 2 else " †"
        lines.append(f"* students of {row.teacher} at τ = {float(row.temperature):g}: accuracy "
                     f"{WORDS[row.direction]} ({interval_text(row)}){dagger}.")
    solid = rows[rows["holm"] & rows["direction"].isin(["up", "down"])]
    down, up, total = int((solid["direction"] == "down").sum()), int((solid["direction"] == "up").sum()), len(rows)
    if down == total:
        verdict = "Müller et al.'s finding holds here: every LS-trained teacher distilled clearly worse."
    elif up and not down:
        verdict = (f"**The data contradict Müller et al. here:** in {up} of {total} comparisons an LS-trained teacher "
                   f"distilled clearly better (beyond the ±{band:g} accuracy band, surviving Holm's correction), and in "
                   f"none worse.")
    elif down:
        verdict = f"Müller et al.'s finding holds in {down} of {total} comparisons only."
    else:
        verdict = ("**Müller et al.'s finding is not confirmed here:** no LS-trained teacher's students were clearly "
                   "less accurate (nor clearly more).")
    verdict += " Each teacher is one training run, so this holds conditional on those runs."
    return "\n".join(lines + ["", verdict])


def virtual_teacher_text(verdicts: pd.DataFrame) -> str:
    """How KD from Yuan et al.'s virtual teacher moved the student's entropy, beside LS (both against ERM): same
    direction as LS (KD from it behaves like label smoothing) or not — only from clear directions that survive Holm."""
    check_columns(verdicts, ["method", "teacher", "direction", "alpha", "temperature"], "verdicts")
    ls = verdicts[verdicts["method"] == "ls"]
    kd = verdicts[(verdicts["method"] == "kd") & verdicts["teacher"].str.startswith("virtual")]
    if kd.empty:
        return "_No KD run from a virtual teacher._"

    def clear(row) -> str | None:
        survived = bool(row.get("holm", True))
        return row["direction"] if row["direction"] in ("up", "down") and survived else None

    ls_dir = clear(ls.iloc[0]) if not ls.empty else None
    lines = []
    if not ls.empty:
        lines.append(f"* LS α={ls['alpha'].iloc[0]:g} {WORDS[ls['direction'].iloc[0]]} the entropy "
                     f"({interval_text(ls.iloc[0].to_dict())}).")
    for _, row in kd.iterrows():
        mine = clear(row)
        same = ("the same way as LS: label smoothing by another name" if ls_dir and mine == ls_dir else
                "**the opposite way from LS**" if ls_dir and mine else
                "no clear direction on one side, so no match with LS can be claimed")
        lines.append(f"* KD α={row['alpha']:g} τ={float(row['temperature']):g} from {row['teacher']} "
                     f"{WORDS[row['direction']]} it ({interval_text(row.to_dict())}) — {same}.")
    return "\n".join(lines)
