import os

os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("KDLS_PRESET", "smoke")

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
