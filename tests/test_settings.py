"""helpers.infrastructure.settings: one frozen object read from the environment; the data folder is never a surprise."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from helpers.infrastructure import assets
from helpers.infrastructure import settings
from helpers.infrastructure.settings import Settings, SettingsError, current_settings

ROOT = Path(__file__).resolve().parents[1]


def test_defaults_in_a_checkout():
    found = Settings.from_environment({})
    assert found == Settings(preset="classroom", precision="auto", data_dir=ROOT / "data" / "cache", computed_dir=None,
                             allow_hub=False, record_dir=None, flops_file=None, headless=False, in_checkout=True)
    assert settings.checkout_root() == ROOT


def test_outside_a_checkout_the_data_go_to_the_per_user_cache(tmp_path):
    import platformdirs

    package = tmp_path / "site-packages" / "helpers"
    package.mkdir(parents=True)
    assert settings.checkout_root(package) is None
    found = Settings.from_environment({}, package_dir=package)
    assert found.data_dir == Path(platformdirs.user_cache_dir("kdls-kit")) and not found.in_checkout
    # a pyproject.toml alone (no notebooks/) is not a checkout of the kit
    (tmp_path / "site-packages" / "pyproject.toml").write_text("")
    assert settings.checkout_root(package) is None


def test_every_variable_is_read(tmp_path):
    env = {"KDLS_PRESET": "smoke", "KDLS_PRECISION": "FP32", "KDLS_DATA_DIR": str(tmp_path / "d"),
           "KDLS_COMPUTED_DIR": str(tmp_path / "c"), "KDLS_ALLOW_HUB": "1", "KDLS_RECORD_DIR": str(tmp_path / "r"),
           "KDLS_FLOPS_FILE": str(tmp_path / "f.jsonl"), "KDLS_HEADLESS": "1"}
    found = Settings.from_environment(env)
    assert (found.preset, found.precision, found.allow_hub, found.headless) == ("smoke", "fp32", True, True)
    assert (found.data_dir, found.computed_dir, found.record_dir, found.flops_file) == \
        (tmp_path / "d", tmp_path / "c", tmp_path / "r", tmp_path / "f.jsonl")
    assert set(settings.VARIABLES.values()) == set(env)


def test_the_table_documents_every_setting():
    doc = settings.__doc__
    names = [field.name for field in dataclasses.fields(Settings) if field.name != "in_checkout"]
    assert names == list(settings.VARIABLES)
    for name, variable in settings.VARIABLES.items():
        assert f"``{name}``" in doc and f"``{variable}``" in doc, name
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for variable in settings.VARIABLES.values():
        assert f"`{variable}`" in readme, f"README's settings table lacks {variable}"


def test_settings_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        Settings.from_environment({}).preset = "full"  # type: ignore[misc]


@pytest.mark.parametrize("variable, value, words", [
    ("KDLS_DATA_DIR", "", "set but empty"),
    ("KDLS_DATA_DIR", "   ", "set but empty"),
    ("KDLS_PRESET", "huge", "KDLS_PRESET must be one of"),
    ("KDLS_PRECISION", "fp8", "KDLS_PRECISION must be one of"),
])
def test_bad_values_are_clear_errors(variable, value, words):
    with pytest.raises(SettingsError, match=words):
        Settings.from_environment({variable: value})


def test_a_data_dir_that_is_a_file_is_refused(tmp_path, monkeypatch):
    file = tmp_path / "notes.txt"
    file.write_text("x")
    with pytest.raises(SettingsError, match="is a file"):
        Settings.from_environment({"KDLS_DATA_DIR": str(file)})
    monkeypatch.setenv("KDLS_DATA_DIR", str(file))
    with pytest.raises(assets.AssetError, match="is a file"):
        assets.cache_dir()


def test_current_settings_follow_the_environment_and_cache_dir_uses_them(tmp_path, monkeypatch):
    monkeypatch.setenv("KDLS_DATA_DIR", str(tmp_path / "cache"))
    assert current_settings().data_dir == tmp_path / "cache"
    assert assets.cache_dir() == tmp_path / "cache" and (tmp_path / "cache").is_dir()
    monkeypatch.setenv("KDLS_DATA_DIR", "")
    with pytest.raises(assets.AssetError, match="set but empty"):
        assets.cache_dir()
    monkeypatch.delenv("KDLS_DATA_DIR")
    assert assets.cache_dir() == ROOT / "data" / "cache"


def test_settings_is_read_once_and_lazily():
    assert settings.SETTINGS is settings.SETTINGS
    assert isinstance(settings.SETTINGS, Settings)
