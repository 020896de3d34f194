"""The results cache: one finished run = one self-checking safetensors file, written atomically.

A record is a single ``.safetensors`` file. Its header metadata (``dict[str, str]``) holds the
record's JSON metadata, the kit-wide ``CACHE_VERSION`` and a sha256 checksum of the record
(tensor names, dtypes, shapes, the JSON metadata and every tensor byte). Layout:
``<cache_dir>/runs/<key>.record.safetensors``.

Writes go to a temporary file in the same folder, which is flushed and fsync-ed, then renamed
over the record (``os.replace`` is atomic), then the folder is fsync-ed. So whenever a writer
dies, the record on disk is either the complete old one or the complete new one.

A record that is truncated, empty, corrupt, fails its checksum or carries another
``CACHE_VERSION`` is reported on one stderr line, deleted and treated as absent.
Records of the previous two-file layout (``<key>.json`` + ``<key>.safetensors``) are
ignored; ``clear_runs`` removes them.

A key names a run by everything that determines its result: the whole config, the task file's
contents, the asset pins, ``CACHE_VERSION`` and :func:`code_fingerprint` of the modules that compute
it (:data:`FINETUNE_MODULES`, :data:`FEATURE_MODULES`; their syntax trees without docstrings, so a
code change is a new key while comments and layout are not). A loaded record is served only if the
config stored in it is the one asked for. :func:`run_lock` serialises identical runs across processes.
"""

from __future__ import annotations

import ast
import errno
import functools
import hashlib
import importlib.util
import json
import os
import secrets
import sys
from pathlib import Path

import torch
from filelock import FileLock
from safetensors.torch import load as load_safetensors
from safetensors.torch import save as save_safetensors

from helpers.infrastructure.assets import cache_dir
from helpers.infrastructure.settings import read_only_folder, setting, user_cache_folder

__all__ = [
    "CACHE_VERSION",
    "COMPUTED_ENV",
    "FINETUNE_MODULES",
    "FEATURE_MODULES",
    "code_fingerprint",
    "run_lock",
    "computed_dir",
    "RECORD_SUFFIX",
    "runs_dir",
    "run_path",
    "atomic_write_bytes",
    "save_record",
    "load_record",
    "save_run",
    "load_run",
    "clear_runs",
]

CACHE_VERSION = 2  # kit-wide: bump when a code change changes cached results; other versions are dropped
RECORD_SUFFIX = ".record.safetensors"
_VERSION_KEY, _SHA_KEY, _META_KEY = "kdls.cache_version", "kdls.sha256", "kdls.meta"
_CHUNK = 1 << 20  # bytes per os.write call
_TMP_SUFFIX = ".tmp"


COMPUTED_ENV = "KDLS_COMPUTED_DIR"

# The modules whose code determines a run's result (their fingerprint is part of every cache key):
FINETUNE_MODULES = ("helpers.maths.losses", "helpers.learning.finetune", "helpers.learning.models", "helpers.learning.data", "helpers.infrastructure.precision")
FEATURE_MODULES = ("helpers.maths.losses", "helpers.learning.frozen_features", "helpers.learning.features", "helpers.learning.models", "helpers.learning.data", "helpers.infrastructure.precision")


@functools.lru_cache(maxsize=None)
def _module_source(name: str) -> str:
    """The source text of the module ``name`` (found without importing it), read once per process."""
    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None or not spec.origin.endswith(".py"):
        raise ValueError(f"cannot fingerprint {name!r}: no Python source file found")
    return Path(spec.origin).read_text(encoding="utf-8")


def _strip_docstrings(tree: ast.AST) -> ast.AST:
    """Drop the docstring of the module and of every class and function (comments are not in the tree)."""
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                    and isinstance(body[0].value.value, str):
                node.body = body[1:] or [ast.Pass()]
    return tree


@functools.lru_cache(maxsize=64)
def source_fingerprint(source: str) -> str:
    """sha256 of a module's code: its syntax tree without docstrings (comments and layout do not count)."""
    tree = _strip_docstrings(ast.parse(source))
    return hashlib.sha256(ast.dump(tree, annotate_fields=True, include_attributes=False).encode()).hexdigest()


def code_fingerprint(*module_names: str) -> str:
    """One hash of the code of ``module_names`` (e.g. :data:`FINETUNE_MODULES`), for cache keys.

    Any change to the code changes it; editing comments, docstrings or the layout does not. Each module's source
    is read once per process (:func:`_module_source`): the code a process runs is the code it imported, so editing
    a file while a long run is going on does not change the keys of that run's teachers halfway.
    """
    if not module_names:
        raise ValueError("code_fingerprint needs at least one module name")
    digest = hashlib.sha256()
    for name in sorted(set(module_names)):
        digest.update(f"{name}\0{source_fingerprint(_module_source(name))}\0".encode())
    return digest.hexdigest()[:20]


def computed_dir() -> Path:
    """Folder of computed results (runs, features): ``$KDLS_COMPUTED_DIR``, else the download cache folder, or,
    when that one is read-only (a class's shared copy on a hub), this user's cache folder.

    Unset or empty means the default; a value naming a file (or a path through one) is a ``ValueError``.

    Separate from the downloads so that tests (and anyone who wants a clean slate) can use a
    temporary folder without downloading the assets again, and so that many users share one read-only download.
    """
    path = setting("computed_dir")
    if path is None:  # unset or empty: the default (never the current folder)
        data = cache_dir()
        if not read_only_folder(data):
            return data
        own = user_cache_folder()
        if own.resolve() == data.resolve():
            raise ValueError(f"the data folder {data} is read-only and is this user's cache folder too: set "
                             f"{COMPUTED_ENV} to a folder you can write, for the computed runs")
        return own
    folder = str(path)
    for above in (path, *path.parents):
        if above.exists():
            if not above.is_dir():
                raise ValueError(f"{COMPUTED_ENV}={folder!r} cannot be a folder: {above} is a file")
            break
    return path


def runs_dir() -> Path:
    """Folder of cached runs (``computed_dir()/runs``: ``data/cache/runs`` by default)."""
    path = computed_dir() / "runs"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _open_temp(folder: Path, name: str) -> tuple[int, Path]:
    """Create a fresh hidden temporary file next to ``name``; its mode follows the umask (unlike mkstemp's 0600)."""
    while True:
        tmp = folder / f".{name}.{secrets.token_hex(6)}{_TMP_SUFFIX}"
        try:
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666), tmp
        except FileExistsError:
            continue


def _fsync_dir(folder: Path) -> None:
    """fsync a folder so a rename inside it survives a power loss (skipped where folders cannot be opened)."""
    if os.name == "nt":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    except OSError as error:  # some file systems do not support fsync on folders
        if error.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EBADF):
            raise
    finally:
        os.close(fd)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to a temporary file in ``path``'s folder, fsync it, rename it over ``path``, fsync the folder."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = _open_temp(path.parent, path.name)
    try:
        try:
            view = memoryview(data)
            for start in range(0, len(view), _CHUNK):
                chunk = view[start : start + _CHUNK]
                while chunk:
                    chunk = chunk[os.write(fd, chunk) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    _fsync_dir(path.parent)


def _checksum(header: dict, meta_json: str, body: bytes | memoryview) -> str:
    """sha256 over the tensor layout (header without metadata), the JSON metadata and the tensor bytes."""
    layout = {name: value for name, value in header.items() if name != "__metadata__"}
    digest = hashlib.sha256(json.dumps(layout, sort_keys=True).encode())
    digest.update(b"\0" + meta_json.encode() + b"\0")
    digest.update(body)
    return digest.hexdigest()


def _split(blob: bytes) -> tuple[dict, memoryview]:
    """Parse a safetensors blob into its header dict and its tensor-data region."""
    if len(blob) < 8:
        raise ValueError("file is empty" if not blob else "file is truncated")
    size = int.from_bytes(blob[:8], "little")
    if size > len(blob) - 8:
        raise ValueError("file is truncated")
    header = json.loads(blob[8 : 8 + size])
    if not isinstance(header, dict):
        raise ValueError("header is not a JSON object")
    body = memoryview(blob)[8 + size :]
    end = max((int(t["data_offsets"][1]) for name, t in header.items() if name != "__metadata__"), default=0)
    if len(body) != end:
        raise ValueError("file is truncated" if len(body) < end else "file has trailing bytes")
    return header, body


def _serialize(meta: dict, tensors: dict[str, torch.Tensor]) -> bytes:
    """The bytes of a record file: tensors, JSON metadata, version and checksum."""
    plain = {name: tensor.detach().cpu().contiguous().clone() for name, tensor in tensors.items()}
    meta_json = json.dumps(meta, sort_keys=True)
    unsigned = save_safetensors(plain, metadata={_META_KEY: meta_json})
    header, body = _split(unsigned)
    metadata = {_META_KEY: meta_json, _VERSION_KEY: str(CACHE_VERSION), _SHA_KEY: _checksum(header, meta_json, body)}
    return save_safetensors(plain, metadata=metadata)


def _parse(blob: bytes) -> tuple[dict, dict[str, torch.Tensor]]:
    """Check and decode a record file's bytes; raises ``_Dropped`` saying why a record is unusable."""
    try:
        header, body = _split(blob)
        metadata = header.get("__metadata__") or {}
        meta_json, version, expected = metadata[_META_KEY], metadata[_VERSION_KEY], metadata[_SHA_KEY]
    except Exception as error:  # noqa: BLE001 - any parse failure means a damaged file
        raise _Dropped(f"is damaged ({_reason(error)})") from None
    if version != str(CACHE_VERSION):
        raise _Dropped(f"was written by cache version {version} (this kit uses {CACHE_VERSION})")
    if _checksum(header, meta_json, body) != expected:
        raise _Dropped("is damaged (checksum mismatch)")
    try:
        return json.loads(meta_json), load_safetensors(blob)
    except Exception as error:  # noqa: BLE001 - SafetensorError and friends never escape
        raise _Dropped(f"is damaged ({_reason(error)})") from None


class _Dropped(Exception):
    """A record file that exists but cannot be used; the message says why."""


def _reason(error: Exception) -> str:
    if isinstance(error, KeyError):
        return f"no {error.args[0]} in its metadata"
    return str(error).splitlines()[0] if str(error) else type(error).__name__


def save_record(path: Path, meta: dict, tensors: dict[str, torch.Tensor]) -> None:
    """Atomically store JSON-able ``meta`` and named ``tensors`` as one checksummed safetensors file."""
    atomic_write_bytes(Path(path), _serialize(meta, tensors))


def load_record(path: Path, *, consequence: str = "it will be recomputed") -> tuple[dict, dict[str, torch.Tensor]] | None:
    """The record stored at ``path``; None if missing, or if unusable (then reported on stderr and deleted)."""
    path = Path(path)
    try:
        with open(path, "rb") as handle:
            identity = os.fstat(handle.fileno()).st_ino
            blob = handle.read()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return None
    try:
        return _parse(blob)
    except _Dropped as dropped:
        print(f"cached record {path} {dropped}: deleting it; {consequence}", file=sys.stderr)
        _unlink_if_same(path, identity)
        return None


def _unlink_if_same(path: Path, identity: int) -> None:
    """Delete ``path`` unless a writer has meanwhile replaced it with another file."""
    try:
        if os.stat(path).st_ino == identity:
            path.unlink()
    except FileNotFoundError:
        pass


def run_path(key: str) -> Path:
    """Where the run ``key`` is stored: ``runs_dir()/<key>.record.safetensors``."""
    return runs_dir() / f"{key}{RECORD_SUFFIX}"


def save_run(key: str, record: tuple[dict, dict[str, torch.Tensor]]) -> None:
    """Store a run's JSON-able metadata and named tensors under ``key``."""
    meta, tensors = record
    save_record(run_path(key), meta, tensors)


def run_lock(key: str, timeout: float = -1) -> FileLock:
    """An inter-process lock for the run ``key`` (a hidden ``.<key>.lock`` file beside its record).

    Hold it around "look up, else train and store": a second identical process waits, then finds the record.
    """
    return FileLock(runs_dir() / f".{key}.lock", timeout=timeout)


def load_run(key: str) -> tuple[dict, dict[str, torch.Tensor]] | None:
    """The stored run for ``key``, or None if there is no usable record."""
    return load_record(run_path(key), consequence="the run will be retrained")


def clear_runs() -> int:
    """Delete every cached run (and old-layout records and stray temporary files); returns how many runs."""
    folder = runs_dir()
    removed = 0
    for path in folder.glob(f"*{RECORD_SUFFIX}"):
        path.unlink(missing_ok=True)
        removed += 1
    for path in folder.glob("*.json"):  # the previous layout: <key>.json + <key>.safetensors
        path.unlink(missing_ok=True)
        path.with_suffix(".safetensors").unlink(missing_ok=True)
        removed += 1
    for path in folder.glob("*.safetensors"):  # old-layout tensors whose JSON is already gone
        if not path.name.endswith(RECORD_SUFFIX):
            path.unlink(missing_ok=True)
    for path in folder.glob(f".*{_TMP_SUFFIX}"):  # left behind by writers that were killed
        path.unlink(missing_ok=True)
    return removed
