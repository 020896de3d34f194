"""The experiment CLI end to end on the smoke preset."""

import numpy as np
import pandas as pd
import pytest

from helpers import cache, training
from helpers.experiments import get_preset, main, main_grid
from helpers.results import RESULT_COLUMNS, read_results

pytestmark = pytest.mark.slow  # trains real transformers end to end

SMALL = ["--preset", "smoke", "--seeds", "0", "--temperature", "1", "--quiet"]


@pytest.fixture()
def isolated_runs(tmp_path, monkeypatch):
    monkeypatch.setattr(cache, "runs_dir", lambda: tmp_path / "runs")
    (tmp_path / "runs").mkdir()
    return tmp_path


def _numpy_metrics(logits, labels) -> dict[str, float]:
    """Accuracy, mean entropy (nats) and NLL recomputed with numpy, independently of helpers.metrics."""
    z = logits.double().numpy()
    z = z - z.max(axis=1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    p = np.exp(log_p)
    y = labels.numpy()
    return {"accuracy": float((p.argmax(1) == y).mean()), "entropy": float(-(p * log_p).sum(1).mean()),
            "nll": float(-log_p[np.arange(len(y)), y].mean())}


def test_smoke_preset_writes_results_with_the_kit_schema(isolated_runs, capsys, monkeypatch):
    out = isolated_runs / "out"
    assert main(["--task", "trec", "--out", str(out), *SMALL]) == 0
    frame = read_results(out / "results.csv")
    assert list(frame.columns) == RESULT_COLUMNS
    assert {"erm", "ls", "kd"} <= set(frame["method"]) and set(frame["tier"]) == {"finetune"}
    assert list(frame["role"]) == ["teacher", "teacher"] + ["student"] * (len(frame) - 2)
    assert (frame.loc[frame["method"] != "kd", "teacher"] == "").all()
    assert (frame.loc[frame["method"] == "kd", "teacher"] != "").all()
    # every row's metrics are those of its cached run's test logits, recomputed independently
    grid = main_grid("trec", get_preset("smoke").replace(seeds=(0,), kd_temperatures=(1.0,)))
    assert len(grid) == len(frame)
    for config, row in zip(grid, frame.itertuples()):
        record = training.run(config, progress=False)
        expected = _numpy_metrics(record.logits["test"], record.labels["test"])
        assert (row.student, row.method, row.teacher) == (config.student, config.method, config.teacher_label())
        for name, value in expected.items():
            assert getattr(row, name) == pytest.approx(value, abs=1e-5), (config.label(), name)
    printed = capsys.readouterr()
    assert "results.csv" in printed.out and "Claim (a)" in printed.out and "LS (α=0.1)" in printed.out and "n=1" in printed.out
    assert "task 'trec'" in printed.err and "L2 ERM, 2 epochs; L2 ERM, 1 epoch" in printed.err

    monkeypatch.setattr(training, "train", lambda *a, **k: pytest.fail("a finished run was retrained"))
    assert main(["--task", "trec", "--out", str(out), *SMALL]) == 0
    again = read_results(out / "results.csv")
    pd.testing.assert_frame_equal(again.drop(columns="train_seconds"), frame.drop(columns="train_seconds"))


def test_a_csv_task_runs_through_the_cli(isolated_runs):
    rows = [(f"{word} example number {i}", word) for i in range(40) for word in ("alpha", "beta")]
    path = isolated_runs / "toy.csv"
    pd.DataFrame(rows, columns=["text", "label"]).to_csv(path, index=False)
    out = isolated_runs / "out"
    assert main(["--task", str(path), "--out", str(out), *SMALL]) == 0
    frame = pd.read_csv(out / "results.csv", keep_default_na=False)
    assert set(frame["task"]) == {"toy"}


def test_bad_preset_and_task_exit_with_a_message(isolated_runs, capsys):
    with pytest.raises(SystemExit) as error:
        main(["--preset", "huge", "--out", str(isolated_runs)])
    assert error.value.code == 2 and "huge" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["--task", "no_such_task", "--preset", "smoke", "--out", str(isolated_runs)])
    assert "unknown task" in capsys.readouterr().err


def test_preset_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("KDLS_PRESET", "smoke")
    assert get_preset().name == "smoke"
    assert get_preset("classroom").name == "classroom"
    monkeypatch.delenv("KDLS_PRESET")
    assert get_preset().name == "classroom"
