"""Tests of helpers.pipeline.environment: each check reports success and failure correctly."""

from __future__ import annotations

import json

import ipywidgets
import pytest

from helpers.infrastructure import assets
from helpers.pipeline import environment


def _fake_manager(tmp_path, version: str):
    folder = tmp_path / "labextensions" / "@jupyter-widgets" / "jupyterlab-manager"
    folder.mkdir(parents=True)
    (folder / "package.json").write_text(json.dumps({"name": "@jupyter-widgets/jupyterlab-manager", "version": version}))
    return [str(tmp_path / "elsewhere"), str(tmp_path / "labextensions")]


def test_package_versions():
    versions = environment.package_versions(("ipywidgets", "surely-not-installed-kdls"))
    assert versions["ipywidgets"] == ipywidgets.__version__
    assert versions["surely-not-installed-kdls"] is None


def test_check_packages_reports_missing():
    assert environment.check_packages(("ipywidgets",)).ok
    check = environment.check_packages(("ipywidgets", "surely-not-installed-kdls"))
    assert not check.ok and "MISSING: surely-not-installed-kdls" in check.detail


def test_widget_check_passes_in_this_environment():
    check = environment.check_widgets()
    assert check.ok, check.detail
    assert environment.find_widget_manager() is not None


def test_widget_check_detects_mismatch_and_absence(tmp_path):
    major = int(ipywidgets.__version__.split(".")[0])
    good = environment.WIDGET_MANAGER_MAJOR[major]
    assert environment.check_widgets(_fake_manager(tmp_path / "a", f"{good}.0.1")).ok
    wrong = environment.check_widgets(_fake_manager(tmp_path / "b", f"{good - 2}.0.0"))
    assert not wrong.ok and "mismatch" in wrong.detail and "Error displaying widget" in wrong.detail
    absent = environment.check_widgets([str(tmp_path / "nothing")])
    assert not absent.ok and "not found" in absent.detail


def test_asset_check_success_and_failure(monkeypatch, tmp_path):
    monkeypatch.setattr(assets, "verify_all", lambda: {"trec": tmp_path, "minilm": tmp_path})
    assert environment.check_assets().ok

    def broken():
        raise assets.AssetError("sha256 mismatch for model.safetensors")

    monkeypatch.setattr(assets, "verify_all", broken)
    check = environment.check_assets()
    assert not check.ok and "sha256 mismatch" in check.detail and "make assets" in check.detail


def test_report_and_frame(monkeypatch):
    monkeypatch.setenv("KDLS_PRESET", "smoke")
    checks = environment.environment_report(assets=False)
    assert [c.name for c in checks] == ["packages", "widgets", "compute", "preset"]
    frame = environment.report_frame(checks)
    assert list(frame.columns) == ["check", "status", "detail"]
    assert frame.set_index("check").loc["preset", "detail"].startswith("smoke")
    monkeypatch.setenv("KDLS_PRESET", "nonsense")
    preset = environment.environment_report(assets=False)[-1]
    assert not preset.ok and "nonsense" in preset.detail


@pytest.mark.parametrize("ok, status", [(True, "ok"), (False, "FAILED")])
def test_frame_and_text_status(ok, status):
    checks = [environment.Check("x", ok, "some detail")]
    assert environment.report_frame(checks).loc[0, "status"] == status
    assert environment.format_report(checks).split() == ["x", status, "some", "detail"]
