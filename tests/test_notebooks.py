"""Every numbered notebook executes top to bottom on the smoke preset, in a temporary results cache, followed in the
same kernel by every Python block of its written solutions (``notebooks/solutions/<notebook>.md``: each written answer
runs in CI, and each notebook is executed once), and shows neither an error output nor a traceback; a notebook that trains or loads runs looks them up
in its own temporary cache (not the user's data/cache/)."""

import re
import shutil

import nbformat
import pytest

from helpers.learning.cache import COMPUTED_ENV
from helpers.pipeline.notebooks import execute_notebook, list_notebooks

NOTEBOOKS = list_notebooks()
SOLUTIONS = NOTEBOOKS[0].parent / "solutions"
FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```", re.MULTILINE | re.DOTALL)
# calls that go through the results cache (helpers.learning.finetune.run, the grids, the feature tier's disk cache)
CACHED_CALLS = re.compile(r"\b(run|run_grid|run_with_checkpoints|feature_data|encode_features)\(")


@pytest.fixture(scope="session")
def temporary_results_cache(tmp_path_factory):
    """Records shared by the session's notebooks, so a run trained by one is not trained again by the next."""
    return tmp_path_factory.mktemp("computed")


def _outputs(notebook) -> list[dict]:
    return [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.get("outputs", [])]


def _locks(folder) -> list:
    """The lock files left by cache look-ups (``helpers.learning.cache.run_lock`` and the feature tier's lock, one per key)."""
    return sorted(folder.rglob(".*.lock"))


@pytest.mark.notebook
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_executes_on_smoke_preset(path, tmp_path, temporary_results_cache, monkeypatch):
    # This notebook's own cache: the session's records so far, without their lock files, so that the look-ups of
    # this notebook alone leave locks here. Its new records go back to the session's folder afterwards.
    private = tmp_path / "computed"
    shutil.copytree(temporary_results_cache, private, ignore=shutil.ignore_patterns("*.lock"))
    monkeypatch.setenv(COMPUTED_ENV, str(private))
    executed = tmp_path / path.name
    solution = SOLUTIONS / f"{path.stem}.md"
    blocks = [code for language, code in FENCE.findall(solution.read_text(encoding="utf-8")) if language == "python"]
    assert blocks, f"{solution.name} has no Python block to run"
    seconds = execute_notebook(path, preset="smoke", output=executed, timeout=600, extra_cells=blocks)
    print(f"{path.name}: {seconds:.1f} s")
    notebook = nbformat.read(executed, as_version=4)
    outputs = _outputs(notebook)
    assert not [o for o in outputs if o.output_type == "error"]
    streams = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "Traceback" not in streams
    code = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "code")
    if CACHED_CALLS.search(code):
        assert _locks(private), f"{path.name} calls the results cache but looked nothing up in {COMPUTED_ENV}"
    shutil.copytree(private, temporary_results_cache, ignore=shutil.ignore_patterns("*.lock"), dirs_exist_ok=True)
