"""The shipped `full` results: they load, carry provenance, and one cheap configuration re-runs to the same numbers."""

import numpy as np
import pytest

from helpers.learning.cache import COMPUTED_ENV
from helpers.learning.data import load_task
from helpers.experiments.presets import get_preset
from helpers.experiments.runner import feature_data
from helpers.learning.features import train_head
from helpers.maths.metrics import summarize
from helpers.learning.shipped import load_shipped

# Tolerances for re-running the feature tier's TREC teacher head of `full` (20 epochs on frozen features).
# The head trains in fp32 and is deterministic, but the frozen features are encoded in the machine's precision
# (bf16 where the CPU has it natively, fp32 elsewhere) and the shipped run used bf16. Measured when the results
# were shipped: re-encoding in fp32 and retraining moved test accuracy by 0.000 and mean test entropy by 1.0e-4
# nats. The tolerances leave room for other BLAS libraries and thread counts (a few of 500 questions flipping,
# 50x the measured entropy gap) and stay far below the effects the kit reports (LS: tenths of a nat).
ACCURACY_TOLERANCE = 0.01
ENTROPY_TOLERANCE = 0.005


@pytest.fixture(scope="module")
def shipped():
    result = load_shipped("full")
    assert result is not None, "data/results/full/ is missing: regenerate it with `python -m helpers.pipeline.shipped --preset full`"
    return result


def test_shipped_results_cover_both_tasks_with_three_seeds_and_provenance(shipped):
    frame = shipped.results
    students = frame[(frame["tier"] == "finetune") & (frame["role"] == "student")]
    assert set(students["task"]) == {"trec", "rotten_tomatoes"}
    assert students.groupby(["task", "method", "teacher", "temperature"])["seed"].nunique().min() >= 3
    for key in ("commit", "date", "cpu", "precision", "wall_seconds", "command"):
        assert shipped.provenance[key] not in (None, "")
    assert shipped.provenance["command"].startswith(("python -m helpers.pipeline.shipped", "python -m helpers.shipped"))


def test_shipped_predictions_reproduce_the_shipped_metrics(shipped):
    classes = {task: len(load_task(task)["train"].features["label"].names) for task in set(shipped.results["task"])}
    assert classes == {"trec": 6, "rotten_tomatoes": 2}
    for row in shipped.results.itertuples():
        probabilities, labels = shipped.predictions(row.run_id)
        assert probabilities.shape == (len(labels), classes[row.task]), (row.run_id, probabilities.shape)
        assert np.allclose(probabilities.astype(np.float64).sum(axis=1), 1.0, atol=5e-3)  # float16 rows
        metrics = summarize(np.log(np.clip(probabilities, 1e-12, None)), labels)
        assert metrics["accuracy"] == pytest.approx(row.accuracy, abs=2 / len(labels))  # float16 ties may flip one argmax
        # the probabilities are stored in float16: entropies agree to about 1e-3 nats
        assert metrics["entropy"] == pytest.approx(row.entropy, abs=5e-3)


@pytest.mark.slow
def test_one_shipped_configuration_runs_again_to_the_same_numbers(shipped, tmp_path, monkeypatch):
    monkeypatch.setenv(COMPUTED_ENV, str(tmp_path))  # fresh features, not the user's cache
    preset = get_preset("full")
    teacher = preset.features.teacher()
    rerun = train_head(teacher, feature_data("trec", preset, progress=False))
    frame = shipped.results
    row = frame[(frame["tier"] == "features") & (frame["task"] == "trec") & (frame["role"] == "teacher")].iloc[0]
    assert rerun.metrics["accuracy"] == pytest.approx(row["accuracy"], abs=ACCURACY_TOLERANCE)
    assert rerun.metrics["entropy"] == pytest.approx(row["entropy"], abs=ENTROPY_TOLERANCE)
