"""Where a notebook's time goes: kernel start, imports, model compute, evaluation, data, figures, HTML export.

    python bench/notebook_profile.py 08 09 --preset classroom      # execute them and break their time down
    python bench/notebook_profile.py --imports-only                # every notebook's imports, fresh interpreters

For each notebook (``NN`` prefixes; default: all):

* **imports**: a fresh interpreter runs exactly the notebook's import statements (``import helpers``, every
  ``from helpers import ...`` and the other imports of its code cells); the wall time, and the packages that took
  longest (``python -X importtime``: each module's own time, summed per top-level package).
* **execution** (unless ``--imports-only``): the notebook runs headless as ``make reproduce`` runs it
  (``helpers.pipeline.notebooks.execute_notebook``: a fresh kernel, ``$KDLS_PRESET``), with a profiling cell
  inserted after its set-up cell and one appended. They time, inside the kernel (each call's own time, less the
  timed calls inside it): fine-tuned evaluation (``helpers.learning.finetune._evaluate``), the feature tier's heads
  (``features.train_heads``: training and evaluating them), loading the data (``load_task``, ``prepare_data``) and
  rendering figures (IPython's ``print_figure``). Model compute comes from the FLOPs file the kit writes
  (``helpers.infrastructure.flops``: seconds and GFLOP per kind; ``finetune`` includes its evaluation). Kernel start
  is the time until the first cell begins; "other" is what no timer covers.
* **HTML export**: ``helpers.pipeline.reproduce.export_html`` on the executed copy.

Nothing is cached between notebooks unless ``KDLS_COMPUTED_DIR`` says where (set it to reuse encoded features and
trained runs; an empty folder reproduces a fresh clone). Restrict the CPU kernels as ``bench/widget_latency.py``
explains to stand in for a slower machine (``ATEN_CPU_CAPABILITY=avx2`` ...); the report names the capability.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TIMERS_ENV = "KDLS_PROFILE_TIMERS"
#: (label, module, attribute) wrapped with an exclusive wall-clock timer inside the kernel (a timed call inside
#: another counts for itself only)
TIMED = (
    ("fine-tuned evaluation", "helpers.learning.finetune", "_evaluate"),
    ("heads (training and evaluation)", "helpers.learning.features", "train_heads"),
    ("data", "helpers.learning.data", "load_task"),
    ("data", "helpers.learning.frozen_features", "load_task"),
    ("data", "helpers.learning.finetune", "prepare_data"),
    ("figures", "IPython.core.pylabtools", "print_figure"),
)
PROFILE_CELL = f"""# (inserted by bench/notebook_profile.py: exclusive wall-clock timers around a few functions)
import importlib as _il, os as _os, time as _time, functools as _ft, json as _json
_timers, _stack = {{}}, []
def _timed(label, module, name):
    owner = _il.import_module(module)
    real = getattr(owner, name)
    @_ft.wraps(real)
    def wrapper(*args, **kwargs):
        _stack.append(0.0)
        started = _time.perf_counter()
        try:
            return real(*args, **kwargs)
        finally:
            elapsed = _time.perf_counter() - started
            inner = _stack.pop()
            _timers[label] = _timers.get(label, 0.0) + elapsed - inner
            if _stack:
                _stack[-1] += elapsed
    setattr(owner, name, wrapper)
for _label, _module, _name in {TIMED!r}:
    try:
        _timed(_label, _module, _name)
    except (ImportError, AttributeError) as _error:
        print("profile: cannot time", _module, _name, _error)
"""
DUMP_CELL = f"""# (appended by bench/notebook_profile.py)
with open(_os.environ[{TIMERS_ENV!r}], "w") as _out:
    _json.dump(_timers, _out)
"""


def notebook_paths(prefixes: list[str]) -> list[Path]:
    """The numbered notebooks whose names start with one of ``prefixes`` (all when empty)."""
    paths = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    return [p for p in paths if not prefixes or any(p.name.startswith(prefix) for prefix in prefixes)]


def import_statements(path: Path) -> list[str]:
    """Every import statement of the notebook's code cells, in order (shell and magic lines skipped)."""
    statements = ["import helpers"]
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type != "code":
            continue
        source = "\n".join(line for line in cell.source.splitlines() if not line.lstrip().startswith(("%", "!")))
        try:
            tree = ast.parse(source)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)) and not (isinstance(node, ast.ImportFrom) and node.level):
                statement = ast.unparse(node)
                if statement not in statements:
                    statements.append(statement)
    return statements


def import_profile(path: Path, top: int = 6) -> dict:
    """Wall seconds of the notebook's imports in a fresh interpreter, and the packages that took longest (each
    module's own import time, summed per top-level package)."""
    code = "\n".join(import_statements(path))
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-X", "importtime", "-c", code], capture_output=True, text=True, cwd=ROOT)
    seconds = time.perf_counter() - started
    if done.returncode:
        return {"seconds": round(seconds, 2), "error": done.stderr.strip().splitlines()[-1]}
    own: dict[str, float] = {}  # each module's own import time (not its imports'), summed per top-level package
    for line in done.stderr.splitlines():
        match = re.match(r"import time:\s+(\d+) \|\s+\d+ \|\s*(\S+)", line)
        if match:
            name = match.group(2).split(".")[0]
            own[name] = own.get(name, 0.0) + int(match.group(1)) / 1e6
    heaviest = sorted(own.items(), key=lambda item: -item[1])[:top]
    return {"seconds": round(seconds, 2), "heaviest": {name: round(value, 2) for name, value in heaviest}}


def _cell_seconds(cell) -> tuple[datetime, datetime] | None:
    timing = cell.get("metadata", {}).get("execution", {})
    try:
        start = datetime.fromisoformat(timing["iopub.execute_input"].replace("Z", "+00:00"))
        end = datetime.fromisoformat(timing["shell.execute_reply"].replace("Z", "+00:00"))
    except (KeyError, ValueError):
        return None
    return start, end


CPROFILE_START = """# (inserted by bench/notebook_profile.py --cprofile)
import cProfile as _cprofile
_profiler = _cprofile.Profile()
_profiler.enable()
"""
CPROFILE_DUMP = f"""# (appended by bench/notebook_profile.py --cprofile)
_profiler.disable()
_profiler.dump_stats(_os.environ[{TIMERS_ENV!r}] + ".pstats")
"""


def cprofile_top(path: Path, count: int) -> list[str]:
    """The ``count`` functions of the kit with the largest cumulative time in a cProfile dump: where "other" went."""
    import pstats

    stats = pstats.Stats(str(path)).stats  # {(file, line, name): (calls, primitive, own, cumulative, callers)}
    kit = [(cumulative, f"{Path(file).parent.name}/{Path(file).name}:{name}")
           for (file, _, name), (_, _, _, cumulative, _) in stats.items() if f"{os.sep}helpers{os.sep}" in file]
    return [f"{seconds:.2f} s {name}" for seconds, name in sorted(kit, reverse=True)[:count]]


def execution_profile(path: Path, preset: str, work: Path, cprofile: int = 0) -> dict:
    """Execute an instrumented copy of the notebook; the breakdown of its wall time (seconds). ``cprofile``: also
    list that many of the kit's functions by cumulative time (cProfile; it slows pure-Python code down)."""
    from helpers.infrastructure.flops import FLOPS_ENV, read_tally
    from helpers.pipeline.notebooks import execute_notebook, temporary_environment
    from helpers.pipeline.reproduce import export_html

    notebook = nbformat.read(path, as_version=4)
    notebook.cells.insert(1, nbformat.v4.new_code_cell(PROFILE_CELL + (CPROFILE_START if cprofile else "")))
    notebook.cells.append(nbformat.v4.new_code_cell((CPROFILE_DUMP if cprofile else "") + DUMP_CELL))
    instrumented, executed = work / path.name, work / f"executed_{path.name}"
    nbformat.write(notebook, instrumented)
    timers_file, flops_file = work / f"{path.stem}.timers.json", work / f"{path.stem}.flops.jsonl"
    flops_file.unlink(missing_ok=True)
    started = datetime.now().astimezone()
    with temporary_environment(**{TIMERS_ENV: str(timers_file), FLOPS_ENV: str(flops_file)}):
        total = execute_notebook(instrumented, preset=preset, output=executed, timeout=3600)
    spans = [span for cell in nbformat.read(executed, as_version=4).cells if (span := _cell_seconds(cell))]
    kernel_start = (spans[0][0] - started).total_seconds() if spans else float("nan")
    profiled = (spans[1][1] - spans[1][0]).total_seconds() if len(spans) > 1 else 0.0
    export_started = time.perf_counter()
    export_html(executed, work / f"{path.stem}.html")
    html = time.perf_counter() - export_started
    timers = json.loads(timers_file.read_text())
    tally = read_tally(flops_file)
    compute = {kind: {"seconds": round(seconds, 2), "GFLOP": round(flop / 1e9, 1),
                      "GFLOP/s": round(flop / 1e9 / seconds, 1) if seconds else None}
               for kind, (flop, seconds) in tally.items()}
    parts = {
        "kernel start": kernel_start,
        "set-up and import cells": sum((end - start).total_seconds() for start, end in spans[:3]) - profiled,
        "fine-tuned training": tally.get("finetune", (0, 0.0))[1] - timers.get("fine-tuned evaluation", 0.0),
        "fine-tuned evaluation": timers.get("fine-tuned evaluation", 0.0),
        "feature encoding": tally.get("features", (0, 0.0))[1],
        "heads (training and evaluation)": timers.get("heads (training and evaluation)", 0.0),
        "data": timers.get("data", 0.0),
        "figures": timers.get("figures", 0.0),
    }
    executed_seconds = total - profiled
    parts["other"] = executed_seconds - sum(value for key, value in parts.items() if key != "set-up and import cells")
    result = {"total": round(executed_seconds, 2), **{key: round(value, 2) for key, value in parts.items()},
              "HTML export": round(html, 2), "model compute (FLOPs file)": compute}
    if cprofile:
        result["the kit's functions by cumulative time (cProfile)"] = cprofile_top(Path(f"{timers_file}.pstats"), cprofile)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="*", help="notebook number prefixes, e.g. 07 08 (default: all)")
    parser.add_argument("--preset", default=os.environ.get("KDLS_PRESET", "classroom"))
    parser.add_argument("--imports-only", action="store_true", help="only the imports of each notebook")
    parser.add_argument("--out", type=Path, help="also write the report as JSON here")
    parser.add_argument("--cprofile", type=int, default=0, metavar="N",
                        help="also list the N functions of the kit with the largest cumulative time (cProfile)")
    args = parser.parse_args(argv)
    import torch

    report = {"cpu capability": torch.backends.cpu.get_cpu_capability(), "threads": torch.get_num_threads(),
              "load average": os.getloadavg(), "preset": args.preset, "notebooks": {}}
    print(f"CPU kernels {report['cpu capability']}, {report['threads']} threads, load {report['load average']}")
    with tempfile.TemporaryDirectory() as folder:
        for path in notebook_paths(args.notebooks):
            entry = {"imports": import_profile(path)}
            if not args.imports_only:
                entry["execution"] = execution_profile(path, args.preset, Path(folder), args.cprofile)
            report["notebooks"][path.stem] = entry
            print(path.stem, json.dumps(entry, indent=1), flush=True)
    report["load average after"] = os.getloadavg()
    if args.out:
        args.out.write_text(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
