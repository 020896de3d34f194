"""``make reproduce``'s pieces: recording notebook results, merging, figures, HTML, the summary."""

import base64
import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import nbformat  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from helpers.pipeline import reproduce  # noqa: E402
from helpers.learning.results import (  # noqa: E402
    FINETUNE_INHERITANCE_RECORD,
    INHERITANCE_RECORD,
    MAIN_RECORD,
    RECORD_ENV,
    RESULT_COLUMNS,
    record_results,
)
from helpers.pipeline.reproduce import collect_results, export_html, extract_figures, summary_markdown  # noqa: E402


def _frame(seeds=(0, 1, 2), tier="features"):
    rows = []
    for seed in seeds:
        common = dict(task="trec", student="L2", seed=seed, accuracy=0.9, max_prob=0.9, nll=0.3, ece=0.03,
                      train_seconds=0.5, tier=tier, role="student")
        rows.append({**common, "teacher": "", "method": "erm", "alpha": 0.0, "temperature": "", "entropy": 0.30 + 0.01 * seed})
        rows.append({**common, "teacher": "", "method": "ls", "alpha": 0.1, "temperature": "", "entropy": 0.60 + 0.02 * seed})
        rows.append({**common, "teacher": "L6 (20 epochs)", "method": "kd", "alpha": 0.5, "temperature": 4.0,
                     "entropy": 0.10 + 0.005 * seed})
    rows.append({**rows[0], "student": "L6", "role": "teacher", "entropy": 0.08, "seed": 0})
    return pd.DataFrame(rows)


def test_record_results_is_a_no_op_outside_reproduce(monkeypatch):
    monkeypatch.delenv(RECORD_ENV, raising=False)
    assert record_results(_frame(), "main_comparison") is None


def test_record_results_writes_where_reproduce_says(monkeypatch, tmp_path):
    monkeypatch.setenv(RECORD_ENV, str(tmp_path))
    path = record_results(_frame(), "main_comparison")
    assert path == tmp_path / "main_comparison.csv"
    again = pd.read_csv(path, keep_default_na=False)
    assert list(again.columns) == list(_frame().columns)


@pytest.mark.parametrize("frame, name, message", [
    (pd.DataFrame({"task": ["trec"]}), "x", "lacks column"), (_frame(), "../up", "name must be"),
    ([1, 2], "x", "DataFrame"),
])
def test_record_results_rejects_bad_input(frame, name, message):
    with pytest.raises(ValueError, match=message):
        record_results(frame, name)


def test_collect_results_merges_into_the_schema_and_drops_duplicates(tmp_path, monkeypatch):
    monkeypatch.setenv(RECORD_ENV, str(tmp_path))
    record_results(_frame(), "a")
    record_results(_frame().assign(train_seconds=9.9), "b")  # the same runs, recorded by a second notebook
    record_results(_frame(seeds=(7,)), "c")
    merged = collect_results(tmp_path)
    assert list(merged.columns) == RESULT_COLUMNS
    assert len(merged) == len(_frame()) + 3


def test_collect_results_of_nothing_is_an_empty_schema_frame(tmp_path):
    assert list(collect_results(tmp_path).columns) == RESULT_COLUMNS


def _notebook_with_a_figure(path):
    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0])
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    cell = nbformat.v4.new_code_cell("plot()")
    cell.outputs = [nbformat.v4.new_output("display_data", data={"image/png": base64.b64encode(buffer.getvalue()).decode(),
                                                                 "text/plain": "<Figure>"})]
    node = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Title"), cell])
    nbformat.write(node, path)
    return buffer.getvalue()


def test_figures_and_html_are_exported(tmp_path):
    path = tmp_path / "07_example.ipynb"
    png = _notebook_with_a_figure(path)
    figures = extract_figures(path, tmp_path / "figures")
    assert [p.name for p in figures] == ["07_example_fig1.png"] and figures[0].read_bytes() == png
    html = export_html(path, tmp_path / "html" / "07_example.html").read_text()
    assert "<html" in html.lower() and "Title" in html


def test_summary_reports_times_tables_and_verdicts_from_the_records():
    inheritance = []
    for knob, value, teacher_h in [("reference", 1.0, 0.1), ("ls α", 0.3, 0.9), ("epochs", 1.0, 0.5), ("logit scale", 0.5, 0.3)]:
        for seed in (0, 1):
            inheritance.append({**_frame().iloc[2].to_dict(), "seed": seed, "teacher": f"T{knob}", "knob": knob,
                                "knob_value": value, "teacher_entropy": teacher_h, "teacher_train_entropy": teacher_h,
                                "teacher_accuracy": 0.9, "entropy": 0.8 * teacher_h + 0.05 + 0.001 * seed})
    for seed in (0, 1):
        inheritance.append({**_frame().iloc[0].to_dict(), "seed": seed, "knob": "none", "knob_value": float("nan"),
                            "teacher_entropy": float("nan"), "teacher_train_entropy": float("nan"),
                            "teacher_accuracy": float("nan"), "entropy": 0.3})
    text = summary_markdown({MAIN_RECORD: _frame(), INHERITANCE_RECORD: pd.DataFrame(inheritance)},
                            {"05_data_and_models": (12.3, "ok"), "06_erm_ls_kd": (float("nan"), "FAILED: boom")},
                            "classroom", "notes here", total_seconds=99.0,
                            spent={"05_data_and_models": {"features": (61.5e9, 1.5), "finetune": (2e9, 0.5)}}, precision="fp32")
    budget = [line for line in text.splitlines() if line.startswith("| 05_data_and_models")][0]
    cells = [c.strip() for c in budget.strip("|").split("|")]
    assert cells == ["05_data_and_models", "12.3", "61.5", "2", "31.8", "ok"]  # GFLOP by kind, then 63.5 GFLOP / 2 s
    assert "FAILED: boom" in text and "99.0" in text and "preset `classroom`, fp32" in text
    assert "Main table — frozen-feature tier" in text and "0.620 ±" in text
    assert "LS α=0.1: raised the entropy" in text and "Claim (a) (KD and LS move entropy in opposite directions): opposite in 1 of 1" in text
    assert "slope 0.80" in text and "a tight relation" in text
    assert "Teachers: trec L6" in text
    finetune = pd.DataFrame(inheritance).assign(tier="finetune", inheritance_temperature=4.0)
    text = summary_markdown({FINETUNE_INHERITANCE_RECORD: finetune}, {}, "classroom")
    assert "confidence inheritance (fine-tuned tier)" in text and "fine-tuned tier, trec, L2 students, KD α=0.5 τ=4: over 4 teachers" in text
    assert "slope 0.80" in text and "inside the observed range [0.100, 0.900]" in text


def test_main_runs_notebooks_and_writes_everything(tmp_path, monkeypatch):
    """End to end with a stand-in executor: records, results.csv, summary, figures and HTML."""
    notebook = tmp_path / "src" / "06_erm_ls_kd.ipynb"
    notebook.parent.mkdir()
    _notebook_with_a_figure(notebook)

    def fake_execute(path, preset="smoke", output=None, timeout=900):
        import os

        record_results(_frame(), MAIN_RECORD)
        assert os.environ[RECORD_ENV].endswith("records") and preset == "smoke"
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_bytes(path.read_bytes())
        return 1.5

    import helpers.pipeline.notebooks

    monkeypatch.setattr(helpers.pipeline.notebooks, "list_notebooks", lambda: [notebook])
    monkeypatch.setattr(helpers.pipeline.notebooks, "execute_notebook", fake_execute)
    out = tmp_path / "out"
    assert reproduce.main(["--out", str(out), "--preset", "smoke"]) == 0
    assert (out / "figures" / "06_erm_ls_kd_fig1.png").exists() and (out / "html" / "06_erm_ls_kd.html").exists()
    results = pd.read_csv(out / "results.csv", keep_default_na=False)
    assert list(results.columns) == RESULT_COLUMNS and len(results) == len(_frame())
    assert "Claim (a)" in (out / "summary.md").read_text()


def test_main_reports_a_failing_notebook(tmp_path, monkeypatch):
    notebook = tmp_path / "05_x.ipynb"
    nbformat.write(nbformat.v4.new_notebook(), notebook)

    def failing(path, preset="smoke", output=None, timeout=900):
        raise RuntimeError("cell exploded")

    import helpers.pipeline.notebooks

    monkeypatch.setattr(helpers.pipeline.notebooks, "list_notebooks", lambda: [notebook])
    monkeypatch.setattr(helpers.pipeline.notebooks, "execute_notebook", failing)
    assert reproduce.main(["--out", str(tmp_path / "out"), "--preset", "smoke"]) == 1
    assert "FAILED: RuntimeError: cell exploded" in (tmp_path / "out" / "summary.md").read_text()


def test_executed_notebooks_keep_their_figures(tmp_path):
    """A real kernel started by helpers.pipeline.notebooks renders headless and still outputs a PNG."""
    from helpers.pipeline.notebooks import execute_notebook

    path = tmp_path / "fig.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "import matplotlib.pyplot as plt\nfig, ax = plt.subplots()\nax.plot([0, 1])")]), path)
    execute_notebook(path, preset="smoke", output=tmp_path / "out.ipynb", timeout=120)
    assert [p.name for p in extract_figures(tmp_path / "out.ipynb", tmp_path / "figures")] == ["out_fig1.png"]
