"""What every test shares: the smoke preset, headless matplotlib, hypothesis's profile, one folder for computed runs,
the CPU split between parallel workers, and small helpers that several test files use.

The suite runs in parallel processes (pytest-xdist: ``make test`` passes ``-n auto --dist loadscope``). Each worker
gets an equal share of the CPU's cores as its torch threads (``OMP_NUM_THREADS``, inherited by the kernels and
subprocesses it starts), so that two workers on two cores do not each spin two threads. A test file runs in one
worker (``pytest_xdist_make_scheduler`` below says how the tests are shared out).
"""

import json
import os
import re
from pathlib import Path

os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("KDLS_PRESET", "smoke")


def _cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


if "PYTEST_XDIST_WORKER" in os.environ:  # a worker: its share of the cores, set before torch starts its threads
    os.environ.setdefault("OMP_NUM_THREADS",
                          str(max(1, _cores() // int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")))))

import matplotlib  # noqa: E402

matplotlib.use("Agg")

import pytest  # noqa: E402
import torch  # noqa: E402
from hypothesis import settings  # noqa: E402

# Derandomised: every fresh clone draws the same examples, so a newcomer's first `make test` is green exactly
# when CI's was (no example database either). No per-example deadline: a busy machine must not turn slow
# examples into failures. HYPOTHESIS_PROFILE=explore draws new examples each run, to hunt for bugs by hand.
settings.register_profile("kit", deadline=None, derandomize=True, database=None, print_blob=True)
settings.register_profile("explore", deadline=None, max_examples=500)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "kit"))


if "PYTEST_XDIST_WORKER" in os.environ:
    torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))


#: a notebook that trains or loads fine-tuned runs (its look-ups reuse the runs of the notebooks before it)
_FINE_TUNED_RUNS = re.compile(r"\b(run|run_grid|run_with_checkpoints)\(")
#: the test id of a notebook execution (tests/test_notebooks.py): the notebook's file name
_NOTEBOOK_ID = re.compile(r"\[(\d\d_[^\]/]+\.ipynb)\]$")
_NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def _scope(nodeid: str) -> str:
    """The unit of work one parallel worker takes whole (see ``pytest_xdist_make_scheduler``)."""
    notebook = _NOTEBOOK_ID.search(nodeid)
    if notebook and (_NOTEBOOKS / notebook.group(1)).is_file():
        cells = json.loads((_NOTEBOOKS / notebook.group(1)).read_text(encoding="utf-8"))["cells"]
        code = "\n".join("".join(cell["source"]) for cell in cells if cell["cell_type"] == "code")
        return "notebooks sharing fine-tuned runs" if _FINE_TUNED_RUNS.search(code) else nodeid
    return nodeid.split("::")[0]


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """``--dist loadscope`` with the kit's units of work: a test file goes to one worker whole (its module fixtures
    built once, its tests in their written order); the notebook executions spread over the workers, except those
    that share fine-tuned runs (04 trains the teachers 05-07 use: one worker runs them in order, with one cache).
    Units go out in collection order (``pytest_collection_modifyitems`` puts the slow ones first), not by test count.
    (``--dist loadgroup`` does not group on pytest 9.2: pytest-xdist issue 1386.)"""
    if config.getvalue("dist") != "loadscope":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class KitScopes(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return _scope(nodeid)

    config.option.loadscopereorder = False
    return KitScopes(config, log)


def pytest_collection_modifyitems(config, items):
    """In a parallel worker, the units of work that hold a slow test or a notebook execution come first (they are
    handed out first, so that no long unit starts last); the order inside a unit is kept. One process: unchanged."""
    if "PYTEST_XDIST_WORKER" not in os.environ:
        return
    slow = {_scope(item.nodeid) for item in items if item.get_closest_marker("slow") or item.get_closest_marker("notebook")}
    order = {id(item): number for number, item in enumerate(items)}
    items.sort(key=lambda item: (_scope(item.nodeid) not in slow, order[id(item)]))


@pytest.fixture(scope="session", autouse=True)
def computed_runs_folder(tmp_path_factory):
    """Runs and features the tests compute go to one temporary folder per test session (``KDLS_COMPUTED_DIR``), shared
    by the parallel workers (the cache's file locks keep their writes apart), never into the checkout's data/cache.
    A ``KDLS_COMPUTED_DIR`` set by hand is kept."""
    if os.environ.get("KDLS_COMPUTED_DIR"):
        yield None
        return
    root = tmp_path_factory.getbasetemp()
    if "PYTEST_XDIST_WORKER" in os.environ:
        root = root.parent  # the workers' folders (popen-gwN) sit side by side in the session's folder
    folder = root / "computed"
    folder.mkdir(exist_ok=True)
    patch = pytest.MonkeyPatch()
    patch.setenv("KDLS_COMPUTED_DIR", str(folder))
    yield folder
    patch.undo()


@pytest.fixture(scope="module")
def single_torch_thread():
    """Tiny tensors: one intra-op thread is much faster on a busy machine (no spinning workers)."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture()
def close_figures():
    """Close every matplotlib figure a test opened."""
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


@pytest.fixture()
def private_cache(tmp_path, monkeypatch):
    """An empty download cache holding a copy of the (small) verified TREC wheel (assets tests)."""
    import shutil

    from helpers.infrastructure import assets

    source = assets.wheel_path("trec")
    (tmp_path / "wheels").mkdir()
    shutil.copy(source, tmp_path / "wheels" / source.name)
    monkeypatch.setenv("KDLS_DATA_DIR", str(tmp_path))
    return tmp_path


# ----------------------------------------------------------------------------------------------- figures


def figure_texts(fig):
    """Every visible, non-empty text of a figure (titles, labels, tick labels, legends, annotations)."""
    from matplotlib.text import Text

    fig.canvas.draw()
    return [t for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]


def assert_legible(fig, minimum=9.0):
    """No text of ``fig`` below ``minimum`` points, and no literal Markdown backticks (the reviewer's checklist)."""
    small = [(t.get_text(), t.get_fontsize()) for t in figure_texts(fig) if t.get_fontsize() < minimum]
    assert not small, f"texts below {minimum} pt: {small}"
    assert not [t.get_text() for t in figure_texts(fig) if "`" in t.get_text()], "literal Markdown backticks in a figure"
