"""The results cache: one self-checking file per record; damaged or stale records are dropped loudly."""

import json
import os
import stat

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from safetensors.torch import save_file

from helpers.learning import cache


@pytest.fixture()
def runs(tmp_path, monkeypatch):
    monkeypatch.setattr(cache, "runs_dir", lambda: tmp_path)
    return tmp_path


def _record(value: float):
    return {"metrics": {"accuracy": value}}, {"logits/test": torch.full((3, 2), value), "labels/test": torch.arange(3)}


def _flip_bit(path, offset):
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


def test_round_trip_is_one_file(runs):
    cache.save_run("abc", _record(0.5))
    assert [p.name for p in runs.iterdir()] == ["abc" + cache.RECORD_SUFFIX]
    meta, tensors = cache.load_run("abc")
    assert meta == {"metrics": {"accuracy": 0.5}}
    assert torch.equal(tensors["logits/test"], torch.full((3, 2), 0.5))
    assert torch.equal(tensors["labels/test"], torch.arange(3))
    assert cache.load_run("missing") is None


def test_generic_record_keeps_dtypes_and_empty_tensor_sets(tmp_path):
    path = tmp_path / "deep" / "features.safetensors"
    tensors = {"a": torch.randn(4, 3).to(torch.bfloat16), "b": torch.randn(5, 2)[:, 1]}  # bf16; a strided view
    cache.save_record(path, {"n": 4, "names": ["x", "y"]}, tensors)
    meta, loaded = cache.load_record(path)
    assert meta == {"n": 4, "names": ["x", "y"]}
    assert loaded["a"].dtype == torch.bfloat16 and torch.equal(loaded["a"], tensors["a"])
    assert torch.equal(loaded["b"], tensors["b"])
    cache.save_record(path, {"empty": True}, {})
    assert cache.load_record(path) == ({"empty": True}, {})
    assert cache.load_record(tmp_path / "nothing.safetensors") is None


def test_metadata_lives_in_the_safetensors_header(tmp_path):
    path = tmp_path / "r.safetensors"
    cache.save_record(path, {"k": 1}, {"t": torch.ones(2)})
    size = int.from_bytes(path.read_bytes()[:8], "little")
    metadata = json.loads(path.read_bytes()[8 : 8 + size])["__metadata__"]
    assert json.loads(metadata["kdls.meta"]) == {"k": 1}
    assert metadata["kdls.cache_version"] == str(cache.CACHE_VERSION)
    assert len(metadata["kdls.sha256"]) == 64


def _damage_truncate(path):
    path.write_bytes(path.read_bytes()[:-5])


def _damage_empty(path):
    path.write_bytes(b"")


def _damage_tensor_bit(path):
    _flip_bit(path, len(path.read_bytes()) - 3)  # inside the last tensor's bytes


def _damage_meta_digit(path):
    data = path.read_bytes()
    path.write_bytes(data.replace(b"0.5", b"0.7", 1))  # still valid JSON, another number


def _damage_header_garbage(path):
    path.write_bytes(b"\xff" * 8 + b"not a header")


def _damage_not_a_record(path):
    save_file({"t": torch.ones(2)}, str(path))  # a valid safetensors file without the kit's metadata


@pytest.mark.parametrize(
    "damage, why",
    [
        (_damage_truncate, "is damaged (file is truncated)"),
        (_damage_empty, "is damaged (file is empty)"),
        (_damage_tensor_bit, "is damaged (checksum mismatch)"),
        (_damage_meta_digit, "is damaged (checksum mismatch)"),
        (_damage_header_garbage, "is damaged (file is truncated)"),
        (_damage_not_a_record, "is damaged (no kdls.meta in its metadata)"),
    ],
)
def test_a_damaged_record_is_reported_deleted_and_retrained(runs, capsys, damage, why):
    cache.save_run("abc", _record(0.5))
    path = runs / ("abc" + cache.RECORD_SUFFIX)
    damage(path)
    assert cache.load_run("abc") is None
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines == [f"cached record {path} {why}: deleting it; the run will be retrained"]
    assert not path.exists()
    assert cache.load_run("abc") is None and capsys.readouterr().err == ""  # now simply absent


def test_a_record_of_another_cache_version_is_dropped(runs, capsys, monkeypatch):
    with monkeypatch.context() as patch:
        patch.setattr(cache, "CACHE_VERSION", cache.CACHE_VERSION - 1)
        cache.save_run("abc", _record(0.5))
    assert cache.load_run("abc") is None
    message = capsys.readouterr().err.strip()
    assert f"cache version {cache.CACHE_VERSION - 1} (this kit uses {cache.CACHE_VERSION})" in message
    assert "\n" not in message and "deleting it" in message
    assert not any(runs.iterdir())


def test_old_two_file_records_are_ignored_and_cleared(runs, capsys):
    (runs / "abc.json").write_text(json.dumps({"metrics": {"accuracy": 0.5}}))
    save_file({"logits/test": torch.ones(3, 2)}, str(runs / "abc.safetensors"))
    save_file({"x": torch.ones(1)}, str(runs / "orphan.safetensors"))
    (runs / ".abc.record.safetensors.0123.tmp").write_bytes(b"half")  # a killed writer's leftover
    assert cache.load_run("abc") is None and capsys.readouterr().err == ""
    cache.save_run("new", _record(0.5))
    assert cache.clear_runs() == 2
    assert not any(runs.iterdir())


def test_atomic_write_bytes_never_truncates(runs, monkeypatch):
    target = runs / "results.csv"
    cache.atomic_write_bytes(target, b"old")
    monkeypatch.setattr(cache.os, "fsync", lambda fd: (_ for _ in ()).throw(OSError("disk full")))
    with pytest.raises(OSError):
        cache.atomic_write_bytes(target, b"new content")
    assert target.read_bytes() == b"old"
    assert [p.name for p in runs.iterdir()] == ["results.csv"]


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_written_files_follow_the_umask(tmp_path, umask, mode):
    previous = os.umask(umask)
    try:
        cache.atomic_write_bytes(tmp_path / "results.csv", b"a,b\n")
        cache.save_record(tmp_path / "r.safetensors", {}, {"t": torch.ones(1)})
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "results.csv").stat().st_mode) == mode
    assert stat.S_IMODE((tmp_path / "r.safetensors").stat().st_mode) == mode


_DTYPES = [torch.float32, torch.float16, torch.bfloat16, torch.int64, torch.int32, torch.bool]


@st.composite
def _records(draw):
    names = draw(st.lists(st.text(alphabet="abcxyz/_.0123", min_size=1, max_size=12), max_size=4, unique=True))
    tensors = {}
    for name in names:
        shape = draw(st.lists(st.integers(0, 4), max_size=3))
        dtype = draw(st.sampled_from(_DTYPES))
        seed = draw(st.integers(0, 2**16))
        tensors[name] = (torch.randn(shape, generator=torch.Generator().manual_seed(seed)) * 5).to(dtype)
    meta = draw(st.dictionaries(st.text(max_size=8), st.one_of(st.integers(), st.text(max_size=8), st.booleans(),
                                                                st.floats(allow_nan=False)), max_size=4))
    return meta, tensors


@settings(max_examples=40)
@given(record=_records())
def test_any_record_round_trips_exactly(tmp_path_factory, record):
    meta, tensors = record
    path = tmp_path_factory.mktemp("prop") / "r.safetensors"
    cache.save_record(path, meta, tensors)
    loaded_meta, loaded = cache.load_record(path)
    assert loaded_meta == meta and set(loaded) == set(tensors)
    for name, tensor in tensors.items():
        assert loaded[name].dtype == tensor.dtype and torch.equal(loaded[name], tensor)
