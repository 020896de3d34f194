"""The results.csv schema: the row builder, the label spellings, the writers (locked, merging, atomic)."""

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest

from helpers.maths.losses import Objective
from helpers.learning.results import (
    RESULT_COLUMNS,
    append_results,
    make_row,
    read_results,
    run_label,
    write_results,
)

METRICS = dict(accuracy=0.9, entropy=0.3, max_prob=0.8, nll=0.4, ece=0.05)
ROOT = Path(__file__).resolve().parents[1]


def _row(seed=0, student="L1", method="erm", alpha=0.0, temperature=1.0, teacher="", accuracy=0.9):
    return make_row(tier="features", task="trec", student=student, objective=Objective(method, alpha, temperature),
                    seed=seed, metrics={**METRICS, "accuracy": accuracy}, train_seconds=1.23456, teacher=teacher)


def test_make_row_fills_the_schema_in_order():
    row = _row(seed=3)
    assert list(row) == RESULT_COLUMNS
    assert row["temperature"] == "" and row["teacher"] == "" and row["alpha"] == 0.0
    assert row["seed"] == 3 and row["train_seconds"] == 1.235 and row["role"] == "student"
    kd = _row(method="kd", alpha=0.5, temperature=4.0, teacher="L6 (4 epochs)")
    assert (kd["method"], kd["alpha"], kd["temperature"], kd["teacher"]) == ("kd", 0.5, 4.0, "L6 (4 epochs)")
    assert _row(method="ls", alpha=0.1, temperature=4.0)["temperature"] == ""  # τ belongs to KD only


@pytest.mark.parametrize("changes, match", [
    (dict(tier="gpu"), "tier"),
    (dict(role="coach"), "role"),
    (dict(objective="erm"), "Objective"),
    (dict(teacher="L6"), "no teacher"),
    (dict(objective=Objective("kd", 0.5, 2.0)), "needs"),
    (dict(metrics={"accuracy": 1.0}), "lack"),
])
def test_make_row_rejects_what_does_not_fit_the_schema(changes, match):
    arguments = dict(tier="finetune", task="trec", student="L1", objective=Objective(), seed=0, metrics=METRICS,
                     train_seconds=1.0)
    with pytest.raises(ValueError, match=match):
        make_row(**{**arguments, **changes})


def test_run_label_spells_each_method():
    assert run_label("L2", Objective()) == "L2 ERM"
    assert run_label("L2", Objective("ls", 0.1)) == "L2 LS α=0.1"
    assert run_label("L2", Objective("kd", 0.5, 4.0), "L6 (logits ×2)") == "L2 KD α=0.5 τ=4 ← L6 (logits ×2)"


def test_append_results_creates_then_appends_and_keeps_empty_fields_empty(tmp_path):
    path = tmp_path / "results.csv"
    append_results([_row(seed=0)], path)
    append_results([_row(seed=1), _row(method="kd", alpha=0.5, temperature=2.0, teacher="L6")], path)
    frame = read_results(path)
    assert list(frame.columns) == RESULT_COLUMNS and len(frame) == 3
    assert list(frame["seed"]) == [0, 1, 0]
    assert list(frame["temperature"]) == ["", "", 2.0] and list(frame["teacher"]) == ["", "", "L6"]


def test_a_folder_name_with_a_dot_is_a_folder_and_a_file_is_never_a_folder(tmp_path):
    from helpers.learning.results import results_file

    assert results_file(tmp_path / "run.v2") == tmp_path / "run.v2" / "results.csv"
    assert results_file(tmp_path / "mine.csv") == tmp_path / "mine.csv"
    written = write_results(pd.DataFrame([_row()]), tmp_path / "run.v2")
    assert written == tmp_path / "run.v2" / "results.csv" and (tmp_path / "run.v2").is_dir()
    (tmp_path / "existing_file").write_text("x")
    with pytest.raises(ValueError, match="is a file"):
        write_results(pd.DataFrame([_row()]), tmp_path / "existing_file" / "sub")


def test_a_merging_write_replaces_rows_of_the_same_run_and_keeps_the_others(tmp_path):
    write_results(pd.DataFrame([_row(seed=0, accuracy=0.1), _row(seed=1, accuracy=0.2)]), tmp_path, merge=True)
    kd = _row(seed=1, method="kd", alpha=0.5, temperature=2.0, teacher="L6", accuracy=0.3)
    write_results(pd.DataFrame([_row(seed=1, accuracy=0.7), kd]), tmp_path, merge=True)
    frame = read_results(tmp_path / "results.csv")
    assert sorted(zip(frame["method"], frame["seed"], frame["accuracy"])) == [("erm", 0, 0.1), ("erm", 1, 0.7), ("kd", 1, 0.3)]
    write_results(pd.DataFrame([{**kd, "accuracy": 0.4}]), tmp_path, merge=True)  # KD read back from the CSV matches
    frame = read_results(tmp_path / "results.csv")
    assert len(frame) == 3 and frame.loc[frame["method"] == "kd", "accuracy"].tolist() == [0.4]
    write_results(pd.DataFrame([_row(seed=5)]), tmp_path)  # without merge: the file is the frame
    assert len(read_results(tmp_path / "results.csv")) == 1


_WRITER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    import pandas as pd
    from helpers.maths.losses import Objective
    from helpers.learning.results import append_results, make_row, write_results
    student, mode, out, go = sys.argv[1], sys.argv[2], Path(sys.argv[3]), Path(sys.argv[4])
    metrics = dict(accuracy=0.5, entropy=0.1, max_prob=0.5, nll=0.7, ece=0.0)
    print("ready", flush=True)
    while not go.exists():
        time.sleep(0.01)
    for seed in range(150):
        row = make_row(tier="features", task="trec", student=student, objective=Objective(), seed=seed,
                       metrics=metrics, train_seconds=0.0)
        if mode == "append":
            append_results([row], out)
        else:
            write_results(pd.DataFrame([row]), out, merge=True)
""")


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["append", "merge"])
def test_two_processes_writing_150_rows_each_keep_all_300(tmp_path, mode):
    out, go = tmp_path / "results.csv", tmp_path / "go"
    writers = [subprocess.Popen([sys.executable, "-c", _WRITER, student, mode, str(out), str(go)], cwd=ROOT,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for student in ("L1", "L2")]
    for writer in writers:
        assert writer.stdout.readline().strip() == "ready", writer.stderr.read()
    go.touch()
    deadline = time.monotonic() + 300
    for writer in writers:
        writer.wait(timeout=max(1, deadline - time.monotonic()))
        assert writer.returncode == 0, writer.stderr.read()
    frame = read_results(out)
    assert len(frame) == 300
    assert sorted(zip(frame["student"], frame["seed"])) == sorted((s, k) for s in ("L1", "L2") for k in range(150))
