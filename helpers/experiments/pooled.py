"""A pooled class result: what ``python -m helpers.experiments.pool`` writes, and how notebooks 06 and 07 show it.

A class folder holds ``results.csv`` (every distinct run of the class, the ``results.csv`` schema plus ``key`` and
``validation_entropy``), ``expectations.csv`` (the kit's predictions' inputs over the class's seeds,
:func:`expectations_from_rows`), ``inheritance.csv`` (the fine-tuned inheritance frames, as notebook 07 draws them),
``verdicts.md``, ``figures/`` and ``pool.json`` (which hand-ins went in, which were set aside or refused). Everything
here is computed from those rows: the figures that need per-example logits (entropy densities, reliability diagrams)
are not part of a class result.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

from helpers.experiments.sweeps import EXPECTATION_COLUMNS, inheritance_points
from helpers.learning.cache import atomic_write_bytes
from helpers.learning.results import IDENTITY_COLUMNS, RESULT_COLUMNS, read_results, results_file, write_results
from helpers.maths.hypotheses import kd_expectation
from helpers.maths.statistics import mean_ci
from helpers.reporting.plotting import set_title
from helpers.reporting.result_plots import difference_plot, inheritance_plot
from helpers.reporting.findings import claim_a_markdown, expectation_markdown, verdict_markdown
from helpers.reporting.inheritance import inheritance_fit, inheritance_text
from helpers.reporting.verdicts import main_table, tier_name, verdict_table

__all__ = ["CLASS_FORMAT", "ClassResult", "expectations_from_rows", "load_class",
           "write_class", "class_summary", "class_beside", "class_comparison", "class_inheritance",
           "LEFT_OUT_FIGURES"]

CLASS_FORMAT = "kdls-class"
LEFT_OUT_FIGURES = ("entropy densities and reliability diagrams (they need per-example logits, which a hand-in does "
                    "not carry)")
_COMPARED = ["tier", "task", "student", "method", "alpha", "temperature", "teacher"]


@dataclass
class ClassResult:
    """A pooled class: its runs, the expectations over its seeds, its inheritance rows and provenance (``pool.json``)."""

    folder: Path
    results: pd.DataFrame
    expectations: pd.DataFrame
    inheritance: pd.DataFrame
    provenance: dict = field(default_factory=dict)

    @property
    def seeds(self) -> list[int]:
        """The distinct seeds of the class's student runs."""
        return sorted(set(self.results.loc[self.results["role"] == "student", "seed"].astype(int)))

    def caption(self) -> str:
        """One line saying where these numbers come from."""
        p, identity = self.provenance, self.provenance.get("identity", {})
        handins = len(p.get("handins", []))
        return (f"{handins} hand-in{'s' if handins != 1 else ''}, {len(self.seeds)} seeds, "
                f"{len(self.results)} runs, preset `{identity.get('preset', {}).get('name', '?')}` in "
                f"{identity.get('precision', '?')} (code {str(identity.get('code', '?'))[:8]})")

    def inheritance_cases(self) -> list[tuple[str, float, str, float]]:
        """``(task, τ, student, α)`` of each fine-tuned inheritance curve the class has: ``class_inheritance(klass, *case)``."""
        if self.inheritance.empty:
            return []
        columns = ["task", "student", "inheritance_alpha", "inheritance_temperature"]
        kd = self.inheritance[self.inheritance["method"] == "kd"]
        return [(str(t), float(tau), str(s), float(a)) for t, s, a, tau in kd[columns].drop_duplicates().itertuples(index=False)]

    def students(self, tier: str) -> pd.DataFrame:
        """The student rows of one tier, in the ``results.csv`` schema."""
        rows = self.results[(self.results["role"] == "student") & (self.results["tier"] == tier)]
        return rows[RESULT_COLUMNS].reset_index(drop=True)


def expectations_from_rows(results: pd.DataFrame, teachers: pd.DataFrame) -> pd.DataFrame:
    """:func:`helpers.experiments.sweeps.kd_expectations` over a class: each KD teacher's validation entropy and accuracy
    from ``teachers`` (the shares' own ``kd_expectations``), the ERM baseline recomputed from the class's rows — the
    mean validation entropy over every seed of the ERM students of the same tier, task and model (the KD student's
    own recipe in the kit's grids)."""
    erm = results[(results["method"] == "erm") & (results["role"] == "student")]
    baselines = {key: list(group["validation_entropy"]) for key, group in erm.groupby(["tier", "task", "student"], sort=False)}
    known = {} if teachers.empty else {(t.tier, t.task, t.student, t.teacher): t for t in teachers.itertuples()}
    rows = {}
    for row in results[results["method"] == "kd"].itertuples():
        key = (row.tier, row.task, row.student, row.teacher)
        teacher, baseline = known.get(key), baselines.get(key[:3])
        if key in rows or teacher is None or not baseline:
            continue
        ci, h = mean_ci(baseline), float(teacher.teacher_entropy)
        rows[key] = dict(zip(EXPECTATION_COLUMNS[:4], key), teacher_entropy=h,
                         teacher_val_accuracy=float(teacher.teacher_val_accuracy), erm_entropy=ci.mean, erm_ci=ci.half,
                         n=ci.n, expected=kd_expectation(h, ci.mean, erm_half=ci.half))
    return pd.DataFrame(list(rows.values()), columns=EXPECTATION_COLUMNS)


def _order(results: pd.DataFrame) -> pd.DataFrame:
    """Teachers first, then by seed; runs of one seed keep their order (that of the grid which made them)."""
    rank = (results["role"] != "teacher").astype(int)
    return results.assign(_rank=rank).sort_values(["_rank", "seed"], kind="stable").drop(columns="_rank") \
        .reset_index(drop=True)


def write_class(folder: Path, results: pd.DataFrame, expectations: pd.DataFrame, inheritance: pd.DataFrame,
                provenance: dict) -> list[Path]:
    """Write a class folder (see the module docstring) from its rows, the shares' own expectations (their teachers'
    part is kept, the ERM baseline recomputed) and inheritance rows; returns the files written."""
    folder = Path(folder)
    klass = ClassResult(folder, _order(results), expectations_from_rows(_order(results), expectations),
                        _inheritance_order(inheritance), provenance)
    written = [write_results(klass.results, folder / "results.csv")]
    for name, frame in (("expectations.csv", klass.expectations), ("inheritance.csv", klass.inheritance)):
        atomic_write_bytes(folder / name, frame.to_csv(index=False).encode())
        written.append(folder / name)
    sections, figures = [f"# Class result: {klass.caption()}", ""], folder / "figures"
    figures.mkdir(parents=True, exist_ok=True)
    for old in [*figures.glob("differences_*.png"), *figures.glob("inheritance_*.png")]:
        old.unlink()
    for tier in [t for t in ("finetune", "features", "paper") if not klass.students(t).empty]:
        table, verdicts, text = class_summary(klass, tier)
        sections += [f"## {tier_name(tier)}", "", table.to_markdown(index=False), "", text, "",
                     verdict_markdown(verdicts), ""]
        fig = difference_plot(verdicts)
        set_title(fig.axes[0], f"class ({len(klass.seeds)} seeds), {tier_name(tier)}: paired differences")
        written.append(_save(fig, figures / f"differences_{tier}.png"))
    cases = klass.inheritance_cases()
    several = len(cases) > len({(task, tau) for task, tau, _, _ in cases})  # students or α besides task and τ
    for task, tau, student, alpha in cases:
        fig, text = class_inheritance(klass, task, tau, student, alpha)
        sections += [text, ""]
        name = f"inheritance_{task}_{student}_alpha{alpha:g}_tau{tau:g}" if several else f"inheritance_{task}_tau{tau:g}"
        written.append(_save(fig, figures / f"{name}.png"))
    sections.append(f"_Left out: {LEFT_OUT_FIGURES}._")
    atomic_write_bytes(folder / "verdicts.md", ("\n".join(sections) + "\n").encode())
    atomic_write_bytes(folder / "pool.json", (json.dumps(provenance, indent=1, ensure_ascii=False) + "\n").encode())
    return [*written, folder / "verdicts.md", folder / "pool.json"]


def _inheritance_order(inheritance: pd.DataFrame) -> pd.DataFrame:
    """The shares' inheritance rows, each run once (its first copy, as in ``results.csv``), by case and seed."""
    if inheritance.empty:
        return pd.DataFrame()
    cases = ["inheritance_alpha", "inheritance_temperature"]
    unique = inheritance.drop_duplicates(subset=[*IDENTITY_COLUMNS, *cases], keep="first")  # a run's first copy
    return unique.assign(_erm=unique["method"] == "erm").sort_values(
        ["task", "student", "inheritance_alpha", "inheritance_temperature", "_erm", "seed"], kind="stable",
        ascending=[True, True, True, False, True, True]).drop(columns="_erm").reset_index(drop=True)


def _save(fig: Figure, path: Path) -> Path:
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path


def load_class(path: "str | Path | None") -> ClassResult | None:
    """The pooled class at ``path`` (its folder or its ``results.csv``); None when ``path`` is None or ''.

    ``ValueError`` (one line) when ``path`` holds no class result."""
    if path is None or str(path).strip() == "":
        return None
    csv = results_file(Path(path).expanduser())
    folder = csv.parent
    if not csv.is_file():
        raise ValueError(f"{path} holds no class result (no {csv.name}): give the folder the pool command wrote")
    results = read_results(csv)
    if "validation_entropy" not in results.columns:
        raise ValueError(f"{csv} is a results.csv but not a pooled class's (no validation_entropy column)")
    parts = {name: _read_csv(folder / f"{name}.csv") for name in ("expectations", "inheritance")}
    provenance = json.loads((folder / "pool.json").read_text(encoding="utf-8")) if (folder / "pool.json").is_file() else {}
    return ClassResult(folder, results, provenance=provenance, **parts)


def _read_csv(path: Path) -> pd.DataFrame:
    """A class folder's table ('' read as empty text in ``teacher`` and ``expected``, as written); empty if absent."""
    if not path.is_file() or not path.read_text(encoding="utf-8").strip():
        return pd.DataFrame()
    frame = pd.read_csv(path, keep_default_na=False, na_values={c: [""] for c in pd.read_csv(path, nrows=0).columns
                                                                if c not in ("teacher", "temperature", "training_run")})
    if "expected" in frame.columns:
        frame["expected"] = frame["expected"].astype(object).where(frame["expected"].notna(), None)
    if "temperature" in frame.columns:
        frame["temperature"] = [float(t) if t != "" else "" for t in frame["temperature"]]
    return frame


def class_summary(klass: ClassResult, tier: str = "finetune") -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """``(main_table, verdict_table, markdown)`` of one tier of a class result, labelled *class* throughout."""
    students = klass.students(tier)
    if students.empty:
        raise ValueError(f"the class result has no {tier!r} students")
    verdicts = verdict_table(students, klass.expectations)
    text = (f"**Class result** ({klass.caption()}).\n\n" + claim_a_markdown(verdicts, label=f"class, {tier_name(tier)}")
            + "\n\n" + expectation_markdown(klass.expectations[klass.expectations["tier"] == tier]))
    return main_table(students), verdicts, text


def class_beside(verdicts: pd.DataFrame, klass: ClassResult, tier: str = "finetune", label: str = "your run") -> Figure:
    """Two forest plots on one x scale, one above the other: ``verdicts`` (the student's own run, titled ``label``) and
    the class's paired differences of ``tier``."""
    _, class_verdicts, _ = class_summary(klass, tier)
    mine = verdicts[verdicts["tier"] == tier] if "tier" in verdicts.columns else verdicts
    heights = [max(len(mine), 1), max(len(class_verdicts), 1)]
    fig, axes = plt.subplots(2, 1, figsize=(9.0, 0.45 * sum(heights) + 3.0), sharex=True,  # one scale: comparable
                             gridspec_kw={"height_ratios": heights})
    for ax, frame, title in ((axes[0], mine, f"{label}: {tier_name(tier)}"),
                             (axes[1], class_verdicts, f"class ({len(klass.seeds)} seeds): {tier_name(tier)}")):
        if frame.empty:
            ax.set_axis_off()
            ax.text(0.5, 0.5, "no comparisons", ha="center", va="center")
        else:
            difference_plot(frame, ax=ax)
        set_title(ax, title)
    fig.tight_layout()
    return fig


def class_comparison(verdicts: pd.DataFrame, klass: ClassResult, tier: str = "finetune") -> pd.DataFrame:
    """One row per comparison: the student's own Δ (95% CI, n) and direction beside the class's, and the kit's judgement
    of the class result."""
    _, class_verdicts, _ = class_summary(klass, tier)

    def cells(frame: pd.DataFrame, who: str) -> pd.DataFrame:
        text = [f"{d:+.3f} [{lo:+.3f}, {hi:+.3f}] (n={n})" if pd.notna(lo) else f"{d:+.3f} (n={n})"
                for d, lo, hi, n in zip(frame["difference"], frame["low"], frame["high"], frame["n"])]
        extra = {f"{who}: kit": frame["kit"]} if who == "class" else {}
        return frame[_COMPARED].assign(**{f"{who}: Δ entropy": text, f"{who}: direction": frame["direction"], **extra})

    mine = verdicts[verdicts["tier"] == tier]
    return cells(mine, "yours").merge(cells(class_verdicts, "class"), on=_COMPARED, how="outer").drop(columns="tier")


def class_inheritance(klass: ClassResult, task: str, temperature: float, student: str | None = None,
                      alpha: float | None = None) -> tuple[Figure | None, str]:
    """The class's fine-tuned inheritance plot of ``task`` at ``temperature`` (the first student and α unless given)
    and its sentence; ``(None, reason)`` when the class has no standard-KD runs there."""
    cases = [c for c in klass.inheritance_cases() if c[0] == task and c[1] == float(temperature)
             and (student is None or c[2] == student) and (alpha is None or c[3] == float(alpha))]
    if not cases:
        return None, f"The class has no standard-KD runs of {task} at τ={temperature:g}."
    _, _, student, alpha = cases[0]
    frame = klass.inheritance
    frame = frame[(frame["task"] == task) & (frame["student"] == student) & (frame["inheritance_alpha"] == alpha)
                  & (frame["inheritance_temperature"] == float(temperature))]
    points = inheritance_points(frame.drop(columns=["point"]))
    erm = mean_ci(frame[frame["method"] == "erm"]["entropy"])
    erm_se = erm.sd / math.sqrt(erm.n) if erm.n > 1 else 0.0  # the ERM mean's standard error, as notebook 07 uses it
    result = inheritance_fit(points, erm.mean, erm_se=erm_se)
    fig = inheritance_plot(points, result.fit, erm.mean, erm.half, alpha=alpha, temperature=temperature, student=student,
                           tier="finetune", erm_se=erm_se,
                           title=f"class ({len(klass.seeds)} seeds), {task}: KD students of {len(points)} teachers")
    return fig, inheritance_text(result, f"class result, fine-tuned tier, {task}, {student} students, KD α={alpha:g} "
                                         f"τ={temperature:g}")
