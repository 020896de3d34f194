"""bench/notebook_profile.py: what it times exists in the kit, and it reads a notebook's imports (no timing)."""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path

import nbformat
import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench" / "notebook_profile.py"


@pytest.fixture(scope="module")
def profile():
    spec = importlib.util.spec_from_file_location("notebook_profile", BENCH)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.modules.pop(spec.name, None)


def test_every_timed_function_exists(profile):
    """A renamed function would leave its time in "other" without a word: the bench names only what exists."""
    for label, module, attribute in profile.TIMED:
        assert callable(getattr(importlib.import_module(module), attribute)), (label, module, attribute)


def test_the_imports_of_a_notebook_are_its_import_statements(profile, tmp_path):
    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("import nothing_from_prose"),
        nbformat.v4.new_code_cell("%matplotlib inline\nimport pandas as pd\nfrom helpers import a, b\nx = 1"),
        nbformat.v4.new_code_cell("def f():\n    from helpers import c\n    import math\nfrom . import local"),
        nbformat.v4.new_code_cell("import pandas as pd\nthis is not python"),
    ])
    path = tmp_path / "99_probe.ipynb"
    nbformat.write(notebook, path)
    assert profile.import_statements(path) == ["import helpers", "import pandas as pd", "from helpers import a, b",
                                               "from helpers import c", "import math"]


def test_the_profiling_cell_times_each_call_less_the_timed_calls_inside_it(profile, monkeypatch):
    """Exclusive timers, on a clock that ticks once per reading: an outer call keeps only its own ticks."""
    import itertools
    import types

    module = types.ModuleType("probe_module")
    module.inner = lambda: None
    module.outer = lambda: [module.inner() for _ in range(3)]
    monkeypatch.setitem(sys.modules, "probe_module", module)
    namespace: dict = {}
    exec(profile.PROFILE_CELL.split("for _label")[0], namespace)
    ticks = itertools.count()
    namespace["_time"] = types.SimpleNamespace(perf_counter=lambda: float(next(ticks)))
    namespace["_timed"]("in", "probe_module", "inner")
    namespace["_timed"]("out", "probe_module", "outer")
    module.outer()  # outer: ticks 0..7 (7 in all), each inner call 1 tick
    assert namespace["_timers"] == {"in": 3.0, "out": 4.0} and namespace["_stack"] == []
