"""``make reproduce``: execute every notebook on one preset and collect what they produced.

``python -m helpers.reproduce --out build/reproduce [--preset classroom]`` runs every numbered
notebook (``helpers.notebooks.list_notebooks``) in order in a fresh kernel and writes into ``--out``:

* ``notebooks/NN_name.ipynb`` — the executed notebooks, and ``html/NN_name.html`` (nbconvert);
* ``figures/NN_name_figK.png`` — every figure the notebooks displayed;
* ``records/<name>.csv`` — the result frames the notebooks recorded (see ``record_results``);
* ``results.csv`` — all recorded runs merged, one row per run, in the kit's schema
  (``helpers.experiments.RESULT_COLUMNS``);
* ``summary.md`` — each notebook's time, the main table (mean ± 95% interval over seeds), the
  verdicts on the paper's two claims — all computed from the recorded data — printed at the end.

How runs are collected: a notebook calls ``record_results(frame, name)``. When this command runs it,
``$KDLS_RECORD_DIR`` names ``<out>/records`` and the frame is saved there as ``<name>.csv``; in an
interactive session the variable is unset and the call does nothing.
"""

from __future__ import annotations

import argparse
import base64
import io
import math
import os
import shutil
import time
from pathlib import Path

import nbformat
import pandas as pd

from helpers.cache import atomic_write_bytes

__all__ = [
    "RECORD_ENV",
    "MAIN_RECORD",
    "INHERITANCE_RECORD",
    "record_results",
    "collect_results",
    "extract_figures",
    "export_html",
    "summary_markdown",
    "main",
]

RECORD_ENV = "KDLS_RECORD_DIR"
MAIN_RECORD = "main_comparison"  # notebook 06: both tiers, with columns tier and role
INHERITANCE_RECORD = "inheritance"  # notebook 07: feature-tier dose-response (helpers.sweeps.inheritance_frame)


def record_results(frame: pd.DataFrame, name: str) -> Path | None:
    """Save a notebook's result frame as ``$KDLS_RECORD_DIR/<name>.csv``; a no-op when the variable is unset.

    The frame must hold the ``results.csv`` columns; extra columns (``tier``, ``role``, ...) are kept.
    """
    from helpers.experiments import RESULT_COLUMNS

    if not isinstance(frame, pd.DataFrame):
        raise ValueError(f"frame must be a pandas DataFrame, got {type(frame).__name__}")
    missing = [c for c in RESULT_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"frame lacks the results.csv column(s) {missing}")
    if not name or not all(c.isalnum() or c in "_-" for c in name):
        raise ValueError(f"name must be a non-empty word of letters, digits, '_' or '-', got name={name!r}")
    folder = os.environ.get(RECORD_ENV)
    if not folder:
        return None
    path = Path(folder) / f"{name}.csv"
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False)
    atomic_write_bytes(path, buffer.getvalue().encode())
    return path


def _read_records(folder: Path) -> dict[str, pd.DataFrame]:
    return {path.stem: pd.read_csv(path, keep_default_na=False, na_values=[""])
            for path in sorted(Path(folder).glob("*.csv"))}


def collect_results(folder: Path) -> pd.DataFrame:
    """All recorded frames merged into the ``results.csv`` schema, duplicates (same run recorded twice) dropped."""
    from helpers.experiments import RESULT_COLUMNS

    frames = [frame[RESULT_COLUMNS] for frame in _read_records(folder).values() if not frame.empty]
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
    columns = list(frame.columns)
    lines = ["| " + " | ".join(map(str, columns)) + " |", "|" + "---|" * len(columns)]
    for row in frame.itertuples(index=False):
        lines.append("| " + " | ".join("" if (isinstance(v, float) and math.isnan(v)) else str(v) for v in row) + " |")
    return "\n".join(lines)


def _main_sections(frame: pd.DataFrame) -> list[str]:
    from helpers.analysis import claim_a_text, main_table, verdict_table

    lines = []
    tiers = frame["tier"].unique() if "tier" in frame.columns else ["all"]
    for tier in tiers:
        part = frame[frame["tier"] == tier] if "tier" in frame.columns else frame
        students = part[part["role"] == "student"] if "role" in part.columns else part
        teachers = part[part["role"] == "teacher"] if "role" in part.columns else part.iloc[0:0]
        lines += [f"### Main table — {tier} tier", ""]
        if not teachers.empty:
            lines += ["Teachers: " + "; ".join(
                f"{r.task} {r.student}: accuracy {r.accuracy:.3f}, entropy {r.entropy:.3f}" for r in teachers.itertuples()), ""]
        table = main_table(students).drop(columns=["max_prob"], errors="ignore")
        lines += [_markdown_table(table), ""]
        verdicts = verdict_table(students)
        if not verdicts.empty:
            lines += ["Paired differences in entropy (method − ERM, same student and seed):", ""]
            lines += [f"* {s}" for s in verdicts["statement"]] + [""]
            lines += ["Claim (a):", ""] + [f"* {s}" for s in claim_a_text(verdicts).splitlines()] + [""]
    return lines


def _inheritance_section(frame: pd.DataFrame) -> list[str]:
    from helpers.analysis import fit_line, inheritance_text, mean_ci
    from helpers.sweeps import inheritance_points

    lines = ["### Claim (b): confidence inheritance (feature tier)", ""]
    for task, part in frame.groupby("task", sort=False):
        points = inheritance_points(part)
        if len(points) < 3:
            continue
        fit = fit_line(points["teacher_entropy"], points["student_entropy"])
        erm = mean_ci(part[part["method"] == "erm"]["entropy"]).mean
        lines += [f"* {task}: {inheritance_text(fit, erm)}"]
    return lines + [""]


def summary_markdown(records: dict[str, pd.DataFrame], times: dict[str, tuple[float, str]], preset_name: str,
                     notes: str = "", total_seconds: float | None = None) -> str:
    """The reproduce summary: notebook times, the main table and verdicts, computed from ``records``."""
    lines = [f"# Reproduction summary — preset `{preset_name}`", ""]
    if notes:
        lines += [f"Preset notes: {notes}", ""]
    lines += ["| notebook | seconds | status |", "|---|---|---|"]
    lines += [f"| {name} | {seconds:.1f} | {status} |" for name, (seconds, status) in times.items()]
    if total_seconds is not None:
        lines += [f"| **total** (including HTML export) | {total_seconds:.1f} | |"]
    lines.append("")
    if MAIN_RECORD in records:
        lines += _main_sections(records[MAIN_RECORD])
    else:
        lines += ["(no main comparison was recorded)", ""]
    if INHERITANCE_RECORD in records:
        lines += _inheritance_section(records[INHERITANCE_RECORD])
    lines += ["Intervals: 95% t-intervals over seeds; a direction is claimed only when the interval of the paired "
              "difference excludes 0 and is not negligible (see helpers.analysis).", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    from helpers.experiments import get_preset, write_results
    from helpers.notebooks import execute_notebook, list_notebooks, temporary_environment

    parser = argparse.ArgumentParser(prog="python -m helpers.reproduce", description=__doc__,
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
    records_dir = out / "records"
    shutil.rmtree(records_dir, ignore_errors=True)
    records_dir.mkdir(parents=True, exist_ok=True)
    notebooks = list_notebooks()
    if args.only:
        notebooks = [p for p in notebooks if any(p.name.startswith(prefix) for prefix in args.only)]
    times: dict[str, tuple[float, str]] = {}
    started = time.perf_counter()
    print(f"Reproducing {len(notebooks)} notebooks on preset {preset.name!r} into {out}/", flush=True)
    with temporary_environment(**{RECORD_ENV: str(records_dir.resolve())}):
        for number, path in enumerate(notebooks, 1):
            print(f"[{number}/{len(notebooks)}] {path.stem} ...", end=" ", flush=True)
            executed = out / "notebooks" / path.name
            try:
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
    summary = summary_markdown(_read_records(records_dir), times, preset.name, preset.notes, total)
    atomic_write_bytes(out / "summary.md", summary.encode())
    print("\n" + summary)
    print(f"wrote {out}/results.csv ({len(results)} runs), summary.md, notebooks/, html/, figures/ in {total:.0f} s")
    return 0 if all(status == "ok" for _, status in times.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
