"""The experiment CLI end to end on the smoke preset."""

import pandas as pd
import pytest

from helpers import cache, training
from helpers.experiments import RESULT_COLUMNS, get_preset, main


@pytest.fixture()
def isolated_runs(tmp_path, monkeypatch):
    monkeypatch.setattr(cache, "runs_dir", lambda: tmp_path / "runs")
    (tmp_path / "runs").mkdir()
    return tmp_path


def test_smoke_preset_writes_results_with_the_kit_schema(isolated_runs, capsys, monkeypatch):
    out = isolated_runs / "out"
    assert main(["--task", "trec", "--preset", "smoke", "--out", str(out), "--quiet"]) == 0
    frame = pd.read_csv(out / "results.csv", keep_default_na=False)
    assert list(frame.columns) == RESULT_COLUMNS
    assert {"erm", "ls", "kd"} <= set(frame["method"])
    assert (frame.loc[frame["method"] != "kd", "teacher"] == "").all()
    assert (frame.loc[frame["method"] == "kd", "teacher"] != "").all()
    for column, upper in [("accuracy", 1), ("ece", 1), ("max_prob", 1), ("entropy", 1.7918)]:
        assert frame[column].between(0, upper).all(), column
    printed = capsys.readouterr().out
    assert "kd" in printed and "results.csv" in printed
    assert "The first row is the teacher" in printed
    assert "Claim (a)" in printed and "LS (α=0.1)" in printed and "n=1" in printed

    monkeypatch.setattr(training, "train", lambda *a, **k: pytest.fail("a finished run was retrained"))
    assert main(["--task", "trec", "--preset", "smoke", "--out", str(out), "--quiet"]) == 0
    again = pd.read_csv(out / "results.csv", keep_default_na=False)
    pd.testing.assert_frame_equal(again.drop(columns="train_seconds"), frame.drop(columns="train_seconds"))


def test_a_csv_task_runs_through_the_cli(isolated_runs):
    rows = [(f"{word} example number {i}", word) for i in range(40) for word in ("alpha", "beta")]
    path = isolated_runs / "toy.csv"
    pd.DataFrame(rows, columns=["text", "label"]).to_csv(path, index=False)
    out = isolated_runs / "out"
    assert main(["--task", str(path), "--preset", "smoke", "--out", str(out), "--quiet"]) == 0
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
