"""The experiment CLI end to end on the smoke preset."""

import errno
import os

import numpy as np
import pandas as pd
import pytest

from helpers.learning import cache
from helpers.learning import finetune as training
from helpers.experiments.cli import main
from helpers.experiments.grid import main_grid, rung_label, teacher_configs
from helpers.experiments.presets import get_preset
from helpers.learning.results import RESULT_COLUMNS, read_results

SMALL = ["--preset", "smoke", "--seeds", "0", "--temperature", "1", "--quiet"]


@pytest.fixture()
def isolated_runs(tmp_path, monkeypatch):
    monkeypatch.setattr(cache, "runs_dir", lambda: tmp_path / "runs")
    (tmp_path / "runs").mkdir()
    return tmp_path


def _numpy_metrics(logits, labels) -> dict[str, float]:
    """Accuracy, mean entropy (nats) and NLL recomputed with numpy, independently of helpers.maths.metrics."""
    z = logits.double().numpy()
    z = z - z.max(axis=1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    p = np.exp(log_p)
    y = labels.numpy()
    return {"accuracy": float((p.argmax(1) == y).mean()), "entropy": float(-(p * log_p).sum(1).mean()),
            "nll": float(-log_p[np.arange(len(y)), y].mean())}


@pytest.mark.slow  # trains real transformers end to end
def test_smoke_preset_writes_results_with_the_kit_schema(isolated_runs, capsys, monkeypatch):
    out = isolated_runs / "out"
    assert main(["--task", "trec", "--out", str(out), *SMALL]) == 0
    frame = read_results(out / "results.csv")
    assert list(frame.columns) == RESULT_COLUMNS
    assert {"erm", "ls", "kd"} <= set(frame["method"]) and set(frame["tier"]) == {"finetune"}
    teachers = teacher_configs("trec", get_preset("smoke"))
    assert list(frame["role"]) == ["teacher"] * len(teachers) + ["student"] * (len(frame) - len(teachers))
    assert (frame.loc[frame["method"] != "kd", "teacher"] == "").all()
    assert (frame.loc[frame["method"] == "kd", "teacher"] != "").all()
    # every row's metrics are those of its cached run's test logits, recomputed independently
    grid = main_grid("trec", get_preset("smoke").replace(seeds=(0,), kd_temperatures=(1.0,)))
    assert len(grid) == len(frame)
    for config, row in zip(grid, frame.itertuples()):
        record = training.run(config, progress=False)
        expected = _numpy_metrics(record.logits["test"], record.labels["test"])
        role = "teacher" if config in teachers else "student"
        assert (row.student, row.method, row.teacher) == (record.row(role)["student"], config.method, config.teacher_label())
        assert row.student == (config.student if role == "student" else rung_label(config))
        for name, value in expected.items():
            assert getattr(row, name) == pytest.approx(value, abs=1e-5), (config.label(), name)
    printed = capsys.readouterr()
    assert "results.csv" in printed.out and "Claim (a)" in printed.out and "LS α=0.1" in printed.out and "n=1" in printed.out
    assert "task 'trec'" in printed.err
    assert "teacher ladder (standard KD): L2 (0.5 of 2 epochs); L2 (1 of 2 epochs); L2 (1.5 of 2 epochs); L2 (2 epochs)" in printed.err

    monkeypatch.setattr(training, "train", lambda *a, **k: pytest.fail("a finished run was retrained"))
    assert main(["--task", "trec", "--out", str(out), *SMALL]) == 0
    again = read_results(out / "results.csv")
    pd.testing.assert_frame_equal(again.drop(columns="train_seconds"), frame.drop(columns="train_seconds"))


@pytest.mark.slow
def test_a_csv_task_runs_through_the_cli(isolated_runs):
    rows = [(f"{word} example number {i}", word) for i in range(40) for word in ("alpha", "beta")]
    path = isolated_runs / "toy.csv"
    pd.DataFrame(rows, columns=["text", "label"]).to_csv(path, index=False)
    out = isolated_runs / "out"
    assert main(["--task", str(path), "--out", str(out), *SMALL]) == 0
    frame = pd.read_csv(out / "results.csv", keep_default_na=False)
    assert set(frame["task"]) == {"toy"}


@pytest.mark.slow
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


# ----------------------------------------------------------------------------- the command line without training

METRICS = dict(accuracy=0.5, entropy=0.4, max_prob=0.6, nll=0.7, ece=0.1)


class _FakeRecord:
    """What run_grid returns, without training: the config and a row with fixed metrics."""

    def __init__(self, config):
        import torch

        self.config = config
        self.logits = {split: torch.zeros(4, 6) for split in ("train", "validation", "test")}
        self.labels = {split: torch.arange(4) for split in ("train", "validation", "test")}
        self.metrics = self.validation_metrics = METRICS

    def row(self, role="student"):
        from helpers.learning.results import make_row

        c = self.config
        return make_row(tier="finetune", task="trec", role=role, student=c.student, teacher=c.teacher_label(),
                        objective=c.objective, seed=c.seed, metrics=METRICS, train_seconds=0.0)


@pytest.fixture()
def no_training(monkeypatch, tmp_path):
    """``run_grid`` replaced by one that trains nothing and notes what it was asked for and the precision then."""
    from helpers.experiments import cli as experiments

    calls = []

    def fake_run_grid(configs, progress=True):
        calls.append((list(configs), os.environ.get("KDLS_PRECISION")))
        return [_FakeRecord(config) for config in configs]

    monkeypatch.setattr(experiments, "run_grid", fake_run_grid)
    monkeypatch.setattr(training, "train", lambda *a, **k: pytest.fail("trained"))
    monkeypatch.setenv("KDLS_COMPUTED_DIR", str(tmp_path / "computed"))
    return calls


FAST = ["--preset", "smoke", "--seeds", "0", "--temperature", "1", "--quiet"]


@pytest.mark.parametrize("before", [None, "fp32"])
def test_the_precision_option_holds_for_that_call_only(no_training, monkeypatch, tmp_path, before):
    if before is None:
        monkeypatch.delenv("KDLS_PRECISION", raising=False)
    else:
        monkeypatch.setenv("KDLS_PRECISION", before)
    assert main(["--out", str(tmp_path / "out"), "--precision", "bf16", *FAST]) == 0
    assert no_training[-1][1] == "bf16"  # what the runs saw
    assert os.environ.get("KDLS_PRECISION") == before  # and the process afterwards
    assert main(["--out", str(tmp_path / "out"), *FAST]) == 0
    assert no_training[-1][1] == before


def test_two_runs_into_one_folder_keep_both_seeds(no_training, tmp_path):
    out = tmp_path / "out"
    assert main(["--out", str(out), *FAST]) == 0
    first = read_results(out / "results.csv")
    assert main(["--out", str(out), *[a if a != "0" else "1" for a in FAST]]) == 0
    frame = read_results(out / "results.csv")
    students, teachers = frame[frame["role"] == "student"], frame[frame["role"] == "teacher"]
    assert sorted(students["seed"]) == [0] * (first["role"] == "student").sum() + [1] * (first["role"] == "student").sum()
    assert len(teachers) == (first["role"] == "teacher").sum()  # the same teachers (seed 0) in both: replaced, not doubled
    assert main(["--out", str(out), *FAST]) == 0  # the same run again replaces its rows
    assert len(read_results(out / "results.csv")) == len(frame)


def test_a_dotted_folder_name_is_a_folder(no_training, tmp_path):
    out = tmp_path / "run.v2"
    assert main(["--out", str(out), *FAST]) == 0
    assert out.is_dir() and (out / "results.csv").is_file()


def _bad_inputs(tmp_path, monkeypatch):
    (tmp_path / "existing_file").write_text("not a folder")
    return {
        "out inside a file": (["--out", str(tmp_path / "existing_file" / "sub")], "existing_file is a file"),
        "out is a file": (["--out", str(tmp_path / "existing_file")], "it is a file"),
        "out looks like a file": (["--out", str(tmp_path / "results.csv")], "looks like a file name"),
        "seed too large": (["--seeds", "1099511627776"], "2**32"),
        "tiny temperature": (["--temperature", "1e-9"], "temperature must be at least"),
        "unknown student": (["--students", "foo"], "unknown model 'foo'"),
    }


@pytest.mark.parametrize("case", ["out inside a file", "out is a file", "out looks like a file", "seed too large",
                                  "tiny temperature", "unknown student"])
def test_bad_options_stop_with_one_line_before_anything_trains(no_training, tmp_path, monkeypatch, capsys, case):
    arguments, message = _bad_inputs(tmp_path, monkeypatch)[case]
    defaults = {"--out": str(tmp_path / "out"), **dict(zip(FAST[:-1:2], FAST[1::2]))}
    given = dict(zip(arguments[::2], arguments[1::2]))
    argv = [item for name, value in {**defaults, **given}.items() for item in (name, value)] + ["--quiet"]
    with pytest.raises(SystemExit) as stop:
        main(argv)
    assert stop.value.code == 2 and no_training == []
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert error.startswith("python -m helpers.experiments: error:") and message in error, error
    assert not (tmp_path / "results.csv").exists()


@pytest.mark.parametrize("variable", ["KDLS_DATA_DIR", "KDLS_COMPUTED_DIR"])
@pytest.mark.parametrize("value, message", [("", "set but empty"), ("existing_file", "is a file"),
                                            ("existing_file/sub", "is a file")])
def test_data_folders_that_are_empty_or_files_stop_the_cli(no_training, tmp_path, monkeypatch, capsys, variable,
                                                           value, message):
    (tmp_path / "existing_file").write_text("not a folder")
    monkeypatch.setenv(variable, str(tmp_path / value) if value else "")
    with pytest.raises(SystemExit) as stop:
        main(["--out", str(tmp_path / "out"), *FAST])
    assert stop.value.code == 2 and no_training == []
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert variable in error and message in error, error


def test_a_symbolic_link_loop_is_reported_as_a_loop(tmp_path, monkeypatch, capsys):
    from helpers.learning.data import load_task

    loop = tmp_path / "loop.csv"
    loop.symlink_to(loop)
    with pytest.raises(ValueError, match="symbolic link loop"):
        load_task(str(loop))
    (tmp_path / "dangling.csv").symlink_to(tmp_path / "gone.csv")
    with pytest.raises(ValueError, match="broken symbolic link"):
        load_task(str(tmp_path / "dangling.csv"))
    monkeypatch.setattr(training, "train", lambda *a, **k: pytest.fail("trained"))
    monkeypatch.setenv("KDLS_COMPUTED_DIR", str(tmp_path / "computed"))
    with pytest.raises(SystemExit) as stop:
        main(["--task", str(loop), "--out", str(tmp_path / "out"), *FAST])
    assert stop.value.code == 2 and "symbolic link loop" in capsys.readouterr().err


def test_an_unwritable_out_folder_stops_before_training(no_training, tmp_path, monkeypatch, capsys):
    import tempfile

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "TemporaryFile", refuse)
    with pytest.raises(SystemExit) as stop:
        main(["--out", str(tmp_path / "out"), *FAST])
    assert stop.value.code == 2 and no_training == []
    assert "is not writable: Permission denied" in capsys.readouterr().err


@pytest.mark.parametrize("fault", [PermissionError(13, "Permission denied"), NotADirectoryError(20, "Not a directory"),
                                   OSError(errno.ENOSPC, "No space left on device")])
@pytest.mark.parametrize("where", ["results", "cache"])
def test_file_system_faults_after_training_are_one_line_and_exit_2(no_training, tmp_path, monkeypatch, capsys, fault,
                                                                   where):
    from helpers.experiments import cli as experiments

    target = tmp_path / "out" / "results.csv" if where == "results" else tmp_path / "computed" / "runs" / "x.record"

    def fail(*args, **kwargs):
        raise type(fault)(fault.errno, fault.strerror, str(target))

    monkeypatch.setattr(experiments, "write_results" if where == "results" else "run_grid", fail)
    assert main(["--out", str(tmp_path / "out"), *FAST]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    last = err.strip().splitlines()[-1]
    assert last == f"python -m helpers.experiments: error: cannot write {target}: {fault.strerror}"


_CLI_WRITER = """
import sys, time
from pathlib import Path
from helpers.experiments import cli as experiments
from helpers.learning import finetune as training
from helpers.learning.results import make_row

class Record:
    def __init__(self, config):
        import torch
        self.config = config
        self.logits = {split: torch.zeros(4, 6) for split in ("train", "validation", "test")}
        self.labels = {split: torch.arange(4) for split in ("train", "validation", "test")}
        self.metrics = self.validation_metrics = dict(accuracy=0.5, entropy=0.4, max_prob=0.6, nll=0.7, ece=0.1)
    def row(self, role="student"):
        c = self.config
        return make_row(tier="finetune", task="trec", role=role, student=c.student, teacher=c.teacher_label(),
                        objective=c.objective, seed=c.seed, metrics=dict(accuracy=0.5, entropy=0.4, max_prob=0.6,
                        nll=0.7, ece=0.1), train_seconds=0.0)

def fake_run_grid(configs, progress=True):
    while not Path(sys.argv[2]).exists():  # both processes reach the write together
        time.sleep(0.01)
    return [Record(config) for config in configs]

def no_training(*args, **kwargs):
    raise SystemExit("trained")

experiments.run_grid = fake_run_grid
training.train = no_training
print("ready", flush=True)
sys.exit(experiments.main(["--out", sys.argv[1], "--preset", "smoke", "--seeds", sys.argv[3], "--temperature", "1",
                           "--quiet"]))
"""


@pytest.mark.slow  # starts two Python processes that import torch and transformers
def test_two_cli_processes_into_one_folder_keep_both_seeds(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    out, go = tmp_path / "out", tmp_path / "go"
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "KDLS_COMPUTED_DIR": str(tmp_path / "computed")}
    writers = [subprocess.Popen([sys.executable, "-c", _CLI_WRITER, str(out), str(go), seed], cwd=root, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for seed in ("0", "1")]
    for writer in writers:
        assert writer.stdout.readline().strip() == "ready", writer.stderr.read()
    go.touch()
    for writer in writers:
        stdout, stderr = writer.communicate(timeout=300)
        assert writer.returncode == 0, stderr
    frame = read_results(out / "results.csv")
    students = frame[frame["role"] == "student"]
    assert set(students["seed"]) == {0, 1}
    assert (students["seed"] == 0).sum() == (students["seed"] == 1).sum()
    from helpers.experiments.handin import read_handin

    handin = read_handin(out)  # the hand-in beside it holds both commands' runs too
    assert handin.seeds == [0, 1] and len(handin.runs) == len(frame) and len(handin.commands) == 2
