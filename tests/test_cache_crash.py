"""A writer that dies at any step while overwriting a record leaves exactly the old or exactly the new record."""

import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import torch

from helpers.learning import cache

REPO = Path(__file__).resolve().parent.parent
STEPS = ("open", "write", "fsync", "close", "replace")


class Crash(BaseException):
    """A simulated kill: not an Exception, so no handler in the code under test swallows it."""


class CrashingOS:
    """Stands in for ``os`` inside ``helpers.learning.cache``: logs each file-system step and crashes at step ``crash_at``."""

    def __init__(self, crash_at: int | None = None, after: bool = False):
        self.crash_at, self.after, self.trace = crash_at, after, []

    def __getattr__(self, name):
        real = getattr(os, name)
        if name not in STEPS:
            return real

        def step(*args, **kwargs):
            index = len(self.trace)
            self.trace.append(name)
            if index == self.crash_at and not self.after:
                raise Crash(f"killed before {name}")
            result = real(*args, **kwargs)
            if index == self.crash_at:
                raise Crash(f"killed after {name}")
            return result

        return step


def _record(value: int):
    return {"counter": value}, {"x": torch.full((3000,), float(value)), "y": torch.arange(value)}


def _assert_is(loaded, value):
    meta, tensors = loaded
    assert meta == {"counter": value}
    assert torch.equal(tensors["x"], torch.full((3000,), float(value)))
    assert torch.equal(tensors["y"], torch.arange(value))


def _write_with(monkeypatch, fake, path, value):
    with monkeypatch.context() as patch:
        patch.setattr(cache, "os", fake)
        patch.setattr(cache, "_CHUNK", 4096)  # several write calls per record
        cache.save_record(path, *_record(value))


def _dry_run_trace(tmp_path, monkeypatch):
    fake = CrashingOS()
    _write_with(monkeypatch, fake, tmp_path / "dry.safetensors", 2)
    return fake.trace


def test_the_write_protocol_is_fsync_then_rename_then_fsync_the_folder(tmp_path, monkeypatch):
    trace = _dry_run_trace(tmp_path, monkeypatch)
    writes = trace.count("write")
    assert writes >= 3
    assert trace == ["open"] + ["write"] * writes + ["fsync", "close", "replace", "open", "fsync", "close"]


@pytest.mark.parametrize("after", [False, True], ids=["crash-before-step", "crash-after-step"])
def test_a_crash_at_every_step_leaves_the_complete_old_or_the_complete_new_record(tmp_path, monkeypatch, capsys, after):
    trace = _dry_run_trace(tmp_path, monkeypatch)
    commit = trace.index("replace")
    for k, name in enumerate(trace):
        path = tmp_path / f"step{k}.safetensors"
        cache.save_record(path, *_record(1))
        with pytest.raises(Crash):
            _write_with(monkeypatch, CrashingOS(crash_at=k, after=after), path, 2)
        # the rename is the commit point: crashing before it keeps the old record, after it shows the new one
        new_is_visible = k > commit or (k == commit and after)
        _assert_is(cache.load_record(path), 2 if new_is_visible else 1)
        assert capsys.readouterr().err == "", f"step {k} ({name}) left a damaged record"
        leftovers = sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(f".{path.name}"))
        if not (after and k == 0):  # only a kill right after creating the temp file can leave it behind
            assert leftovers == [], f"step {k} ({name}) left {leftovers}"


WRITER = textwrap.dedent(
    """
    import os
    import sys
    import time
    from pathlib import Path

    import torch

    from helpers.learning import cache

    class SlowOS:  # writes in small slow chunks, so a random kill often lands mid-write
        def __getattr__(self, name):
            return getattr(os, name)

        def write(self, fd, data):
            time.sleep(0.002)
            return os.write(fd, data)

    cache.os, cache._CHUNK = SlowOS(), 1 << 16
    path, counter = Path(sys.argv[1]), 0
    while True:
        counter += 1
        cache.save_record(path, {"counter": counter},
                          {"x": torch.full((1_000_000,), float(counter)), "y": torch.arange(counter)})
        print(counter, flush=True)
    """
)


@pytest.mark.slow
@pytest.mark.parametrize("round_", range(3))
def test_kill_9_while_overwriting_leaves_a_complete_record(tmp_path, capsys, round_):
    path = tmp_path / "big.safetensors"
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(path)], cwd=REPO, stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout.readline().strip() == "1"  # one complete record exists; now it overwrites it
        time.sleep(random.Random(round_).uniform(0.0, 0.3))
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.wait(timeout=30)
    assert writer.returncode == -signal.SIGKILL
    loaded = cache.load_record(path)
    assert loaded is not None and capsys.readouterr().err == ""
    meta, tensors = loaded
    counter = meta["counter"]
    assert counter >= 1
    assert torch.equal(tensors["x"], torch.full((1_000_000,), float(counter)))
    assert torch.equal(tensors["y"], torch.arange(counter))
