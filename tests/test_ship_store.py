"""The resumable store behind the shipped results (helpers.pipeline.ship_store)."""

from __future__ import annotations

import json

import pytest
import torch

from helpers.learning import cache
from helpers.learning.finetune import RunRecord, TrainConfig, store
from helpers.maths.metrics import entropy, summarize
from helpers.pipeline import ship_store


@pytest.fixture
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv(cache.COMPUTED_ENV, str(tmp_path / "computed"))
    return tmp_path


def _record(config: TrainConfig, scale: float = 3.0) -> RunRecord:
    generator = torch.Generator().manual_seed(config.seed)
    logits = {split: scale * torch.randn(n, 6, generator=generator) for split, n in
              (("train", 12), ("validation", 7), ("test", 9))}
    labels = {split: torch.arange(len(t)) % 6 for split, t in logits.items()}
    indices = {split: torch.arange(len(t)) for split, t in logits.items()}
    return RunRecord(config=config, metrics=summarize(logits["test"], labels["test"]),
                     validation_metrics=summarize(logits["validation"], labels["validation"]),
                     timings={"train_seconds": 1.5}, logits=logits, labels=labels, indices=indices)


def test_a_stored_student_gives_back_its_row_and_the_entropies_of_its_predictions(private_cache):
    config = TrainConfig(task="trec", student="L1", seed=3, train_subset=64, eval_subset=32)
    record = _record(config)
    ship_store.save_student(private_cache / "shipped", record)
    stored = ship_store.load_student(private_cache / "shipped", config)
    assert stored is not None and stored.row() == record.row()
    for split in ("validation", "test"):
        assert torch.allclose(entropy(stored.logits[split]), entropy(record.logits[split]), atol=2e-3)
        assert torch.equal(stored.labels[split], record.labels[split])
    other = config.replace(seed=4)
    assert ship_store.load_student(private_cache / "shipped", other) is None  # another run: not found


def test_a_damaged_or_moved_student_record_is_not_served(private_cache, capsys):
    config = TrainConfig(task="trec", student="L1", seed=3, train_subset=64, eval_subset=32)
    folder = private_cache / "shipped"
    ship_store.save_student(folder, _record(config))
    path = ship_store.student_path(folder, config.key())
    blob = bytearray(path.read_bytes())
    blob[-3] ^= 0xFF
    path.write_bytes(bytes(blob))
    assert ship_store.load_student(folder, config) is None
    assert "checksum" in capsys.readouterr().err
    other = config.replace(seed=5)  # a record copied under another run's key
    ship_store.save_student(folder, _record(other))
    ship_store.student_path(folder, other.key()).replace(ship_store.student_path(folder, config.key()))
    assert ship_store.load_student(folder, config) is None


def test_a_stored_teacher_is_seeded_into_the_run_cache_byte_for_byte(private_cache):
    config = TrainConfig(task="trec", student="L2", seed=0, train_subset=64, eval_subset=32)
    store(_record(config))
    folder = private_cache / "shipped"
    ship_store.save_teacher(folder, config)
    original = cache.run_path(config.key()).read_bytes()
    cache.run_path(config.key()).unlink()
    assert ship_store.seed_teachers(folder, [config]) == 1
    assert cache.run_path(config.key()).read_bytes() == original
    assert ship_store.seed_teachers(folder, [config]) == 0  # already there: nothing copied
    assert ship_store.stored_keys(folder)["teachers"] == {config.key()}
    with pytest.raises(FileNotFoundError):
        ship_store.save_teacher(folder, config.replace(seed=9))


@pytest.mark.slow
def test_an_interrupted_regeneration_continues_on_another_machine_from_the_shipped_folder(tmp_path, monkeypatch):
    """The smoke preset's shipping is interrupted after two student runs; a second process with an empty run cache
    (another machine, the committed folder) trains only what is missing; a third trains nothing and writes the same
    results."""
    import pandas as pd
    import helpers.experiments.runner  # noqa: F401 - imported first, so that it keeps the real `run` for the teachers
    from helpers.learning import finetune
    from helpers.pipeline import shipped

    import dataclasses
    from helpers.experiments import presets

    smoke = presets.PRESETS["smoke"]  # the fine-tuned tier only: the feature tier is not stored (cheap to recompute)
    monkeypatch.setitem(presets.PRESETS, "smoke", dataclasses.replace(
        smoke, features=dataclasses.replace(smoke.features, tasks=())))
    out = tmp_path / "shipped"
    real_run, calls = finetune.run, []

    def interrupted(config, progress=True, refresh=False):
        if len(calls) == 2:
            raise KeyboardInterrupt
        calls.append(config)
        return real_run(config, progress=progress, refresh=refresh)

    monkeypatch.setenv(cache.COMPUTED_ENV, str(tmp_path / "machine-1"))
    monkeypatch.setattr(finetune, "run", interrupted)
    with pytest.raises(KeyboardInterrupt):
        shipped.ship("smoke", out, progress=False)
    stored = ship_store.stored_keys(out)
    assert len(stored["students"]) == 2, (stored, len(calls))
    monkeypatch.setattr(finetune, "run", real_run)
    monkeypatch.setenv(cache.COMPUTED_ENV, str(tmp_path / "machine-2"))
    shipped.ship("smoke", out, progress=False)
    first = json.loads((out / "provenance.json").read_text())["parts"]
    finetune_parts = [p for p in first if p["part"].startswith("finetune")]
    assert finetune_parts and finetune_parts[0]["teachers_from_store"] > 0
    results = pd.read_csv(out / "results.csv")
    assert sum(p["runs"] for p in finetune_parts) == (results["tier"] == "finetune").sum()
    monkeypatch.setenv(cache.COMPUTED_ENV, str(tmp_path / "machine-3"))
    monkeypatch.setattr(finetune, "train", lambda *a, **k: pytest.fail("a stored run was trained again"))
    shipped.ship("smoke", out, progress=False)
    again = pd.read_csv(out / "results.csv")
    columns = [c for c in results.columns if c != "train_seconds"]
    pd.testing.assert_frame_equal(again[columns], results[columns])
    parts = json.loads((out / "provenance.json").read_text())["parts"]
    assert [p["runs_trained_here"] for p in parts if p["part"].startswith("finetune")][-1] == 0
