"""``make reproduce``: execute every notebook on one preset and collect what they produced.

``python -m helpers.pipeline.reproduce --out build/reproduce [--preset classroom]`` runs every numbered
notebook (``helpers.pipeline.notebooks.list_notebooks``) in order in a fresh kernel and writes into ``--out``:

* ``notebooks/NN_name.ipynb`` — the executed notebooks, and ``html/NN_name.html`` (nbconvert);
* ``figures/NN_name_figK.png`` — every figure the notebooks displayed;
* ``records/<name>.csv`` — the result frames the notebooks recorded (see ``record_results``);
* ``results.csv`` — all recorded runs merged, one row per run, in the kit's schema
  (``helpers.learning.results.RESULT_COLUMNS``);
* ``flops/NN_name.jsonl`` — the model FLOPs each notebook spent (``helpers.infrastructure.flops``; cached work costs nothing);
* ``summary.md`` — each notebook's time, training FLOPs and GFLOP/s, the main table (mean ± 95%
  interval over seeds), the verdicts on the paper's two claims — all computed from the recorded
  data — printed at the end.

How runs are collected: a notebook calls ``record_results(frame, name)``. When this command runs it,
``$KDLS_RECORD_DIR`` names ``<out>/records`` and the frame is saved there as ``<name>.csv``; in an
interactive session the variable is unset and the call does nothing.
"""

from __future__ import annotations

import argparse
import base64
import io
import os
import shutil
import time
from collections.abc import Sequence
from pathlib import Path

import nbformat
import pandas as pd

from helpers.infrastructure.settings import current_settings
from helpers.learning.cache import atomic_write_bytes
from helpers.infrastructure.flops import FLOPS_ENV, read_tally
from helpers.learning.results import (EXPECTATIONS_RECORD, FINETUNE_INHERITANCE_RECORD, INHERITANCE_RECORD, MAIN_RECORD,
                                      RECORD_ENV, RESULT_COLUMNS, teacher_label, write_results)

TIER_NAMES = {"finetune": "fine-tuned tier (transformers trained end to end)",
              "features": "frozen-feature tier (small heads on frozen features: the fast, many-seed companion)",
              "paper": "paper-scale tier (transformers.Trainer)"}

__all__ = [
    "collect_results",
    "extract_figures",
    "export_html",
    "summary_markdown",
    "main",
]

def _read_records(folder: Path) -> dict[str, pd.DataFrame]:
    return {path.stem: pd.read_csv(path, keep_default_na=False, na_values=[""])
            for path in sorted(Path(folder).glob("*.csv"))}


def collect_results(folder: Path) -> pd.DataFrame:
    """All recorded frames merged into the ``results.csv`` schema, duplicates (same run recorded twice) dropped."""
    frames = [frame[RESULT_COLUMNS] for frame in _read_records(folder).values()
              if not frame.empty and set(RESULT_COLUMNS) <= set(frame.columns)]
    if not frames:
        return pd.DataFrame(columns=RESULT_COLUMNS)
    merged = pd.concat(frames, ignore_index=True)
    identity = [c for c in RESULT_COLUMNS if c != "train_seconds"]
    return merged.drop_duplicates(subset=identity).reset_index(drop=True)


def extract_figures(notebook: Path, folder: Path) -> list[Path]:
    """Write every ``image/png`` output of an executed notebook to ``folder/<stem>_figK.png``."""
    node = nbformat.read(notebook, as_version=4)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for cell in node.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if "image/png" in data:
                path = folder / f"{Path(notebook).stem}_fig{len(paths) + 1}.png"
                atomic_write_bytes(path, base64.b64decode(data["image/png"]))
                paths.append(path)
    return paths


def export_html(notebook: Path, path: Path) -> Path:
    """An HTML copy of an executed notebook (nbconvert's ``HTMLExporter``)."""
    from nbconvert import HTMLExporter

    body, _ = HTMLExporter().from_notebook_node(nbformat.read(notebook, as_version=4))
    atomic_write_bytes(path, body.encode())
    return path


def _markdown_table(frame: pd.DataFrame) -> str:
    return frame.to_markdown(index=False, missingval="")


def _main_sections(frame: pd.DataFrame, expectations: pd.DataFrame | None = None) -> list[str]:
    from helpers.reporting.findings import (claim_a_markdown, inheritance_check, inheritance_check_markdown,
                                            transfer_markdown, verdict_markdown)
    from helpers.reporting.verdicts import main_table, verdict_table

    lines = []
    for tier in frame["tier"].unique():
        part = frame[frame["tier"] == tier]
        students = part[part["role"] == "student"]
        teachers = part[part["role"] == "teacher"]
        lines += [f"### Main table — {TIER_NAMES.get(tier, tier)}", ""]
        if not teachers.empty:
            lines += ["Teachers: " + "; ".join(
                f"{r.task} {teacher_label(r.student)}: accuracy {r.accuracy:.3f}, entropy {r.entropy:.3f}"
                for r in teachers.itertuples()), ""]
        table = main_table(students).drop(columns=["max_prob"], errors="ignore")
        lines += [_markdown_table(table), ""]
        verdicts = verdict_table(students, expectations)
        if not verdicts.empty:
            lines += ["Paired differences in test entropy (method − ERM, same student and seed), each against the "
                      "pre-declared predictions (helpers.maths.hypotheses):", "", verdict_markdown(verdicts), ""]
            lines += [claim_a_markdown(verdicts), ""]
            if (verdicts["method"] == "kd").any():
                lines += [inheritance_check_markdown(inheritance_check(verdicts)), ""]
                lines += [transfer_markdown(verdicts, label=f"{TIER_NAMES.get(tier, tier)}, besides confidence"), ""]
    return lines


def _inheritance_section(frame: pd.DataFrame, title: str) -> list[str]:
    """Claim (b) per task (and per τ when the frame has ``inheritance_temperature``): the fit over teacher means."""
    import math

    from helpers.reporting.inheritance import inheritance_fit, inheritance_text
    from helpers.reporting.verdicts import tier_name
    from helpers.maths.statistics import mean_ci
    from helpers.experiments.sweeps import inheritance_points

    lines = [f"### Claim (b): confidence inheritance ({title})", ""]
    keys = ["task"] + (["inheritance_temperature"] if "inheritance_temperature" in frame.columns else [])
    for key, part in frame.groupby(keys, sort=False):
        key = key if isinstance(key, tuple) else (key,)
        kd = part[part["method"] == "kd"]
        taus = ", ".join(f"{float(t):g}" for t in dict.fromkeys(kd["temperature"]))
        alphas = ", ".join(f"{float(a):g}" for a in dict.fromkeys(kd["alpha"]))
        context = (f"{tier_name(part['tier'].iloc[0])}, {key[0]}, {', '.join(dict.fromkeys(kd['student']))} students, "
                   f"KD α={alphas} τ={taus}")
        points = inheritance_points(part.drop(columns=["point"], errors="ignore"))
        erm = mean_ci(part[part["method"] == "erm"]["entropy"])
        erm_se = erm.sd / math.sqrt(erm.n) if erm.n > 1 else 0.0
        lines += [f"* {inheritance_text(inheritance_fit(points, erm.mean, erm_se=erm_se), context)}"]
    return lines + [""]


def budget_table(times: dict[str, tuple[float, str]], spent: dict[str, dict[str, tuple[float, float]]]) -> pd.DataFrame:
    """Per notebook: wall seconds, model GFLOPs by kind (``helpers.infrastructure.flops``), their GFLOP/s, and the status."""
    kinds = sorted({kind for tally in spent.values() for kind in tally})
    rows = []
    for name, (seconds, status) in times.items():
        tally = spent.get(name, {})
        row = {"notebook": name, "seconds": round(seconds, 1)}
        row.update({f"{kind} GFLOP": round(tally[kind][0] / 1e9, 1) if kind in tally else 0.0 for kind in kinds})
        work_flops = sum(f for f, _ in tally.values())
        work_seconds = sum(s for _, s in tally.values())
        row["GFLOP/s while computing"] = round(work_flops / 1e9 / work_seconds, 1) if work_seconds > 0 else ""
        row["status"] = status
        rows.append(row)
    return pd.DataFrame(rows)


def summary_markdown(records: dict[str, pd.DataFrame], times: dict[str, tuple[float, str]], preset_name: str,
                     notes: str = "", total_seconds: float | None = None,
                     spent: dict[str, dict[str, tuple[float, float]]] | None = None, precision: str = "") -> str:
    """The reproduce summary: notebook times and FLOPs, the main table and verdicts, computed from ``records``."""
    lines = [f"# Reproduction summary — preset `{preset_name}`" + (f", {precision}" if precision else ""), ""]
    if notes:
        lines += [f"Preset notes: {notes}", ""]
    lines += [_markdown_table(budget_table(times, spent or {}))]
    if total_seconds is not None:
        lines += ["", f"Total (including HTML export): {total_seconds:.1f} s."]
    lines += ["", "FLOPs are model FLOPs (6·N·T to train, 2·N·T to evaluate or encode; N non-embedding parameters, "
              "T real tokens) of work actually done: runs loaded from the cache cost nothing.", ""]
    if MAIN_RECORD in records:
        lines += _main_sections(records[MAIN_RECORD], records.get(EXPECTATIONS_RECORD))
    else:
        lines += ["(no main comparison was recorded)", ""]
    if FINETUNE_INHERITANCE_RECORD in records:
        lines += _inheritance_section(records[FINETUNE_INHERITANCE_RECORD], "fine-tuned tier")
    if INHERITANCE_RECORD in records:
        lines += _inheritance_section(records[INHERITANCE_RECORD], "frozen-feature tier")
    lines += ["Intervals: 95% t-intervals over seeds; a direction is claimed only when the interval of the paired "
              "difference excludes 0; a mean change inside the ±0.01-nat band is reported as negligible; the family is "
              "also read with Holm's correction (helpers.maths.statistics, helpers.reporting.verdicts); KD from one "
              "teacher run holds conditional on that run, several runs are read with the teacher run as a random "
              "effect.", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    from helpers.experiments.presets import get_preset
    from helpers.pipeline.notebooks import execute_notebook, list_notebooks, temporary_environment
    from helpers.infrastructure.precision import resolve_precision

    parser = argparse.ArgumentParser(prog="python -m helpers.pipeline.reproduce", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("build/reproduce"))
    parser.add_argument("--preset", default=None, help="smoke, classroom or full (default: $KDLS_PRESET or classroom)")
    parser.add_argument("--only", nargs="*", default=None, help="run only notebooks whose name starts with one of these")
    args = parser.parse_args(argv)
    try:
        preset = get_preset(args.preset)
    except ValueError as error:
        parser.error(str(error))
    out = args.out
    records_dir, flops_dir = out / "records", out / "flops"
    for folder in (records_dir, flops_dir):
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True, exist_ok=True)
    notebooks = list_notebooks()
    if args.only:
        notebooks = [p for p in notebooks if any(p.name.startswith(prefix) for prefix in args.only)]
    times: dict[str, tuple[float, str]] = {}
    started = time.perf_counter()
    precision = resolve_precision()
    print(f"Reproducing {len(notebooks)} notebooks on preset {preset.name!r} in {precision} into {out}/", flush=True)
    with temporary_environment(**{RECORD_ENV: str(records_dir.resolve())}):
        for number, path in enumerate(notebooks, 1):
            print(f"[{number}/{len(notebooks)}] {path.stem} ...", end=" ", flush=True)
            executed = out / "notebooks" / path.name
            try:
                with temporary_environment(**{FLOPS_ENV: str((flops_dir / f"{path.stem}.jsonl").resolve())}):
                    seconds = execute_notebook(path, preset=preset.name, output=executed)
                status = "ok"
            except Exception as error:  # a failing notebook is reported, the others still run
                seconds, status = float("nan"), f"FAILED: {type(error).__name__}: {str(error).strip().splitlines()[-1][:200]}"
            times[path.stem] = (seconds, status)
            if executed.exists():
                export_html(executed, out / "html" / f"{path.stem}.html")
                figures = extract_figures(executed, out / "figures")
            else:
                figures = []
            print(f"{status} in {seconds:.1f} s ({len(figures)} figures; {time.perf_counter() - started:.0f} s so far)", flush=True)
    results = collect_results(records_dir)
    write_results(results, out)
    total = time.perf_counter() - started
    spent = {path.stem: read_tally(flops_dir / f"{path.stem}.jsonl") for path in notebooks}
    summary = summary_markdown(_read_records(records_dir), times, preset.name, preset.notes, total, spent, precision)
    atomic_write_bytes(out / "summary.md", summary.encode())
    print("\n" + summary)
    print(f"wrote {out}/results.csv ({len(results)} runs), summary.md, notebooks/, html/, figures/ in {total:.0f} s")
    return 0 if all(status == "ok" for _, status in times.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
