"""The hub recipe (README, *Running a course*): one read-only data folder shared by a class, runs cached per user.

An administrator prepares the data folder once (``KDLS_DATA_DIR=... python -m helpers.infrastructure.assets``) and
makes it read-only; every student's kernel reads the assets from it and caches its own runs in the per-user cache
folder. The end-to-end test copies the checkout's verified assets into such a folder, removes every write bit
(``chmod a-w``, which the kit respects even for root, who may write anywhere: see
:func:`helpers.infrastructure.settings.read_only_folder`), then, as a "student" with a private home, verifies the
assets, encodes frozen features and trains one tiny run twice (the second from the cache). The folder's tree, sizes,
modes and modification times must be unchanged afterwards, and the runs must be in the student's cache folder.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from helpers.infrastructure.assets import cache_dir
from helpers.infrastructure.settings import read_only_folder
from helpers.learning import cache

ROOT = Path(__file__).resolve().parents[1]


def _set_writable(folder: Path, writable: bool) -> None:
    """Add or remove every write bit of ``folder`` and everything in it (``chmod -R a-w`` / ``u+w``)."""
    for path in [folder, *folder.rglob("*")]:
        mode = stat.S_IMODE(path.stat().st_mode)
        path.chmod(mode | stat.S_IWUSR if writable else mode & ~0o222)


def _tree(folder: Path) -> dict[str, tuple]:
    """Every path under ``folder`` (the folder too, hidden files included) with its kind, size, mode and mtime."""
    found = {}
    for path in [folder, *folder.rglob("*")]:
        info = path.lstat()
        found[path.relative_to(folder).as_posix()] = (stat.S_IFMT(info.st_mode), info.st_size,
                                                      stat.S_IMODE(info.st_mode), info.st_mtime_ns)
    return found


@pytest.fixture()
def shared_folder(tmp_path):
    """A read-only copy of the verified assets (what the assets command leaves in a data folder); writable again
    afterwards, so that the temporary folder can be removed."""
    shared = tmp_path / "shared-kdls"
    shutil.copytree(cache_dir() / "assets", shared / "assets")
    _set_writable(shared, False)
    yield shared
    _set_writable(shared, True)


def test_a_folder_without_write_bits_is_read_only_even_for_root(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    assert not read_only_folder(folder)
    folder.chmod(0o555)
    try:
        assert read_only_folder(folder)  # as root too: os.access alone would say writable
    finally:
        folder.chmod(0o755)


def test_runs_go_to_the_user_cache_when_the_data_folder_is_read_only(shared_folder, tmp_path, monkeypatch):
    monkeypatch.setenv("KDLS_DATA_DIR", str(shared_folder))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "user-cache"))
    monkeypatch.delenv("KDLS_COMPUTED_DIR", raising=False)
    assert cache.computed_dir() == tmp_path / "user-cache" / "kdls-kit"
    monkeypatch.setenv("KDLS_COMPUTED_DIR", str(tmp_path / "chosen"))
    assert cache.computed_dir() == tmp_path / "chosen"  # an explicit choice wins
    monkeypatch.delenv("KDLS_COMPUTED_DIR")
    monkeypatch.setenv("KDLS_DATA_DIR", str(tmp_path / "writable"))
    assert cache.computed_dir() == tmp_path / "writable"  # a writable data folder keeps its runs


def test_a_read_only_user_cache_as_data_folder_is_one_clear_error(tmp_path, monkeypatch):
    own = tmp_path / "user-cache" / "kdls-kit"
    own.mkdir(parents=True)
    own.chmod(0o555)
    monkeypatch.setenv("KDLS_DATA_DIR", str(own))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "user-cache"))
    monkeypatch.delenv("KDLS_COMPUTED_DIR", raising=False)
    try:
        with pytest.raises(ValueError, match="KDLS_COMPUTED_DIR"):
            cache.computed_dir()
    finally:
        own.chmod(0o755)


STUDENT = textwrap.dedent("""
    import json, subprocess, sys
    from helpers.learning import cache
    from helpers.learning.frozen_features import encode_features
    from helpers.learning.finetune import TrainConfig, cached_run, run

    verified = subprocess.run([sys.executable, "-m", "helpers.infrastructure.assets"], capture_output=True, text=True)
    assert verified.returncode == 0, verified.stderr
    config = TrainConfig(task="trec", student="L1", train_subset=48, eval_subset=24, max_length=16, batch_size=16,
                         epochs=1, precision="fp32")
    assert cached_run(config) is None
    first = run(config, progress=False)
    again = cached_run(config)
    features = encode_features("trec", max_length=16, train_subset=48, eval_subset=24, precision="fp32", progress=False)
    print(json.dumps({"runs": str(cache.runs_dir()), "cached": again is not None and again.metrics == first.metrics,
                      "features": features.sizes(), "verified": verified.stdout}))
""")


@pytest.mark.slow
def test_a_class_shares_one_read_only_data_folder(shared_folder, tmp_path):
    before = _tree(shared_folder)
    home = tmp_path / "student"
    home.mkdir()
    env = {key: value for key, value in os.environ.items() if not key.startswith(("KDLS_", "XDG_"))}
    env |= {"HOME": str(home), "XDG_CACHE_HOME": str(home / ".cache"), "KDLS_DATA_DIR": str(shared_folder),
            "KDLS_PRESET": "smoke", "OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg"}
    done = subprocess.run([sys.executable, "-c", STUDENT], cwd=home, env=env, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    import json

    found = json.loads(done.stdout.strip().splitlines()[-1])
    own = home / ".cache" / "kdls-kit"
    assert Path(found["runs"]) == own / "runs" and found["cached"], found
    assert list((own / "runs").glob(f"*{cache.RECORD_SUFFIX}")) and list((own / "features").glob("*.safetensors"))
    assert str(shared_folder) in found["verified"]
    after = _tree(shared_folder)
    changed = sorted(name for name in before.keys() | after.keys() if before.get(name) != after.get(name))
    assert not changed, f"written into the shared data folder: {changed[:10]}"
