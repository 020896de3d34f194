"""Every numbered notebook executes top to bottom on the smoke preset."""

import pytest

from helpers.notebooks import execute_notebook, list_notebooks

NOTEBOOKS = list_notebooks()


@pytest.mark.notebook
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_executes_on_smoke_preset(path, tmp_path):
    seconds = execute_notebook(path, preset="smoke", output=tmp_path / path.name, timeout=600)
    print(f"{path.name}: {seconds:.1f} s")
