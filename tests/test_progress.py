"""Progress: a tqdm bar live, one summary line when executed headless."""

from helpers.infrastructure.progress import HEADLESS_ENV, progress


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


def test_headless_progress_without_a_length_counts_and_a_context_manager_prints_once(monkeypatch, capsys):
    monkeypatch.setenv(HEADLESS_ENV, "1")
    assert list(progress((i for i in range(3)), desc="stream")) == [0, 1, 2]
    with progress(total=4, desc="block") as bar:
        bar.update(2)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("stream: 3 in ") and " of " not in lines[0]
    assert lines[1].startswith("block: 2 of 4 in ") and lines[1].endswith(" s")


def test_live_progress_draws_a_bar_on_stderr_and_nothing_on_stdout(monkeypatch, capsys):
    monkeypatch.delenv(HEADLESS_ENV, raising=False)
    assert list(progress(range(7), desc="live bar")) == list(range(7))
    bar = progress(total=3, desc="steps")
    bar.update(3)
    bar.set_postfix(loss="0.5")
    bar.close()
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "live bar" in captured.err and "/7 " in captured.err  # a tqdm bar of 7 steps
    assert "steps" in captured.err and "3/3" in captured.err and "loss=0.5" in captured.err


def test_disabled_progress_prints_nothing_live_or_headless(monkeypatch, capsys):
    for headless in ("", "1"):
        monkeypatch.setenv(HEADLESS_ENV, headless)
        assert list(progress(range(2), desc="x", disable=True)) == [0, 1]
        bar = progress(total=2, desc="y", disable=True)
        bar.update(2)
        bar.close()
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""
