"""Progress: a tqdm bar live, one summary line when executed headless."""

from helpers.progress import HEADLESS_ENV, progress


def test_headless_progress_prints_one_summary_line(monkeypatch, capsys):
    monkeypatch.setenv(HEADLESS_ENV, "1")
    assert list(progress(range(5), desc="heads on trec")) == [0, 1, 2, 3, 4]
    bar = progress(total=3, desc="L1 ERM")
    for _ in range(3):
        bar.update(1)
        bar.set_postfix(loss="0.210")
    bar.close()
    bar.close()  # closing twice prints once
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("heads on trec: 5 of 5 in ") and lines[1].startswith("L1 ERM: 3 of 3 in ")
    assert lines[1].endswith(", loss 0.210")


def test_live_progress_is_tqdm_and_disable_prints_nothing(monkeypatch, capsys):
    monkeypatch.delenv(HEADLESS_ENV, raising=False)
    bar = progress(range(2), desc="x")
    assert type(bar).__module__.startswith("tqdm")
    monkeypatch.setenv(HEADLESS_ENV, "1")
    assert list(progress(range(2), desc="x", disable=True)) == [0, 1]
    assert capsys.readouterr().out == ""
