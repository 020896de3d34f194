"""Every numbered notebook executes top to bottom on the smoke preset, in a temporary results cache,
and shows neither an error output nor a traceback; conclusions render and figures have captions."""

import nbformat
import pytest

from helpers.cache import COMPUTED_ENV
from helpers.notebooks import execute_notebook, list_notebooks

NOTEBOOKS = list_notebooks()


@pytest.fixture(scope="session")
def temporary_results_cache(tmp_path_factory):
    """One private folder of runs and features for the whole session (the user's data/cache/ is left alone)."""
    return tmp_path_factory.mktemp("computed")


def _outputs(notebook) -> list[dict]:
    return [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.get("outputs", [])]


@pytest.mark.notebook
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_executes_on_smoke_preset(path, tmp_path, temporary_results_cache, monkeypatch):
    monkeypatch.setenv(COMPUTED_ENV, str(temporary_results_cache))
    executed = tmp_path / path.name
    seconds = execute_notebook(path, preset="smoke", output=executed, timeout=600)
    print(f"{path.name}: {seconds:.1f} s")
    notebook = nbformat.read(executed, as_version=4)
    outputs = _outputs(notebook)
    assert not [o for o in outputs if o.output_type == "error"]
    streams = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "Traceback" not in streams
    assert list(temporary_results_cache.iterdir()) or not any("run(" in c.source for c in notebook.cells)
