"""The results cache: one finished run = one JSON record plus one tensor file, written atomically.

Layout: ``<cache_dir>/runs/<key>.json`` and ``<key>.safetensors``. The tensors are written
first and the JSON last, each to a temporary name then renamed (``os.replace`` is atomic),
so a run killed mid-way leaves no record, and a record always has its tensors.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from helpers.assets import cache_dir

__all__ = ["runs_dir", "atomic_write_bytes", "save_run", "load_run", "clear_runs"]


def runs_dir() -> Path:
    """Folder of cached runs (``$KDLS_DATA_DIR/runs`` or ``data/cache/runs``)."""
    path = cache_dir() / "runs"
    path.mkdir(parents=True, exist_ok=True)
    return path


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to a temporary file in ``path``'s folder, fsync, then rename over ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)


def save_run(key: str, record: tuple[dict, dict[str, torch.Tensor]]) -> None:
    """Store a run's JSON-able metadata and named tensors under ``key``."""
    meta, tensors = record
    folder = runs_dir()
    handle, tmp = tempfile.mkstemp(dir=folder, prefix=f".{key}.", suffix=".safetensors")
    os.close(handle)
    try:
        save_file({k: v.contiguous() for k, v in tensors.items()}, tmp)
        os.replace(tmp, folder / f"{key}.safetensors")
    finally:
        Path(tmp).unlink(missing_ok=True)
    atomic_write_bytes(folder / f"{key}.json", json.dumps(meta, indent=1, sort_keys=True).encode())


def load_run(key: str) -> tuple[dict, dict[str, torch.Tensor]] | None:
    """The stored run for ``key``, or None if there is no complete record."""
    folder = runs_dir()
    meta_path, tensor_path = folder / f"{key}.json", folder / f"{key}.safetensors"
    if not meta_path.exists() or not tensor_path.exists():
        return None
    try:
        meta = json.loads(meta_path.read_text())
        tensors = load_file(tensor_path)
    except (json.JSONDecodeError, OSError, RuntimeError, ValueError):
        return None
    return meta, tensors


def clear_runs() -> int:
    """Delete every cached run; returns how many records were removed."""
    removed = 0
    for path in runs_dir().glob("*.json"):
        path.unlink()
        path.with_suffix(".safetensors").unlink(missing_ok=True)
        removed += 1
    return removed
