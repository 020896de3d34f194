"""What every test shares: the smoke preset, headless matplotlib, hypothesis's profile, one folder for computed runs,
the CPU split between parallel workers, and small helpers that several test files use.

The suite runs in parallel processes (pytest-xdist: ``make test`` passes ``-n auto --dist loadgroup``). Each worker
gets an equal share of the CPU's cores as its torch threads (``OMP_NUM_THREADS``, inherited by the kernels and
subprocesses it starts), so that two workers on two cores do not each spin two threads. Tests that must run in one
process, in order, share an ``xdist_group`` (the notebooks that reuse each other's runs).
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


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups
def pytest_collection_modifyitems(config, items):
    """The notebook tests that share fine-tuned runs (04 trains the teachers 05-07 use) form one ``xdist_group``: one
    worker runs them in order, with one session cache, as a single process would."""
    for item in items:
        path = item.callspec.params.get("path") if hasattr(item, "callspec") else None
        if item.get_closest_marker("notebook") and isinstance(path, Path) and path.suffix == ".ipynb":
            code = "\n".join(cell.get("source", "") if isinstance(cell.get("source"), str) else "".join(cell["source"])
                             for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]
                             if cell["cell_type"] == "code")
            if _FINE_TUNED_RUNS.search(code):
                item.add_marker(pytest.mark.xdist_group("notebooks-sharing-runs"))


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
