"""The results cache is written atomically: a crash never leaves a partial record."""

import json
import os

import pytest
import torch

from helpers import cache


@pytest.fixture()
def runs(tmp_path, monkeypatch):
    monkeypatch.setattr(cache, "runs_dir", lambda: tmp_path)
    return tmp_path


def _record(value: float):
    return {"metrics": {"accuracy": value}}, {"logits/test": torch.full((3, 2), value)}


def test_round_trip(runs):
    cache.save_run("abc", _record(0.5))
    meta, tensors = cache.load_run("abc")
    assert meta == {"metrics": {"accuracy": 0.5}}
    assert torch.equal(tensors["logits/test"], torch.full((3, 2), 0.5))
    assert cache.load_run("missing") is None


def test_crash_before_the_record_is_committed_leaves_no_record(runs, monkeypatch):
    real_replace = os.replace

    def crash_on_json(src, dst):
        if str(dst).endswith(".json"):
            raise KeyboardInterrupt("killed mid-way")
        real_replace(src, dst)

    monkeypatch.setattr(cache.os, "replace", crash_on_json)
    with pytest.raises(KeyboardInterrupt):
        cache.save_run("abc", _record(0.5))
    assert cache.load_run("abc") is None
    assert not list(runs.glob(".*")), "no temporary files are left behind"


def test_crash_while_overwriting_keeps_the_old_record_readable(runs, monkeypatch):
    cache.save_run("abc", _record(0.25))

    def crash_mid_write(*args, **kwargs):
        raise KeyboardInterrupt("killed while writing")

    monkeypatch.setattr(cache.json, "dumps", crash_mid_write)
    with pytest.raises(KeyboardInterrupt):
        cache.save_run("abc", _record(0.75))
    meta, _ = cache.load_run("abc")
    assert meta["metrics"]["accuracy"] in (0.25, 0.75)
    json.loads((runs / "abc.json").read_text())  # still valid JSON


def test_atomic_write_bytes_never_truncates(runs, monkeypatch):
    target = runs / "results.csv"
    cache.atomic_write_bytes(target, b"old")
    monkeypatch.setattr(cache.os, "fsync", lambda fd: (_ for _ in ()).throw(OSError("disk full")))
    with pytest.raises(OSError):
        cache.atomic_write_bytes(target, b"new content")
    assert target.read_bytes() == b"old"
    assert [p.name for p in runs.iterdir()] == ["results.csv"]


def test_corrupt_record_is_treated_as_missing(runs):
    cache.save_run("abc", _record(0.5))
    (runs / "abc.json").write_text("{not json")
    assert cache.load_run("abc") is None
