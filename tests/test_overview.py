"""Notebook 05's descriptive tables."""

import numpy as np
import pytest

from helpers.reporting.overview import class_table, examples, length_table, model_table, task_table, token_lengths


def test_task_table_reports_split_sizes_and_classes():
    table = task_table(["trec"]).iloc[0]
    assert (table["train"], table["validation"], table["test"], table["classes"]) == (4906, 546, 500, 6)
    assert "HUM" in table["class names"]


def test_class_table_fractions_sum_to_one():
    table = class_table("trec")
    assert list(table.columns) == ["train", "validation", "test"]
    np.testing.assert_allclose(table.sum(), 1.0, atol=2e-3)


def test_token_lengths_and_their_table():
    lengths = token_lengths("trec", split="test")
    assert lengths.shape == (500,) and lengths.min() >= 3  # [CLS] + at least one word + [SEP]
    table = length_table({"toy": np.array([3, 5, 7, 100])}, max_length=6).iloc[0]
    assert (table["median"], table["max"], table["share > 6"]) == (6.0, 100, 0.5)
    with pytest.raises(ValueError, match="split"):
        token_lengths("trec", split="dev")
    with pytest.raises(ValueError, match="empty"):
        length_table({"toy": np.array([])})


def test_examples_pick_every_class():
    frame = examples("trec", per_class=2)
    assert len(frame) == 12 and frame["class"].value_counts().eq(2).all()
    with pytest.raises(ValueError, match="per_class"):
        examples("trec", per_class=0)


def test_model_table_counts_parameters():
    table = model_table(["L1", "L2"], num_labels=6).set_index("model")
    # one transformer layer of MiniLM (hidden 384, intermediate 1536): 4 * 384 * 385 + 2 * 384 * 1536 + 1536 + 384 + 4 * 384
    layer = 4 * 384 * 385 + 384 * 1536 + 1536 + 1536 * 384 + 384 + 4 * 384
    assert table.loc["L2", "parameters (M)"] - table.loc["L1", "parameters (M)"] == pytest.approx(layer / 1e6, abs=0.011)
    assert table.loc["L2", "layers"] == 2


# ------------------------------------------------------------------------------------ rendered sentences

import pandas as pd  # noqa: E402

from helpers.reporting.overview import class_text, length_text, model_text, teacher_text, training_plan, training_plan_text  # noqa: E402


def test_class_text_names_the_rarest_class_and_the_test_shift():
    table = pd.DataFrame({"train": [0.1, 0.6, 0.3], "validation": [0.1, 0.6, 0.3], "test": [0.2, 0.5, 0.3]},
                         index=pd.Index(["A", "B", "C"], name="class"))
    text = class_text({"trec": table})
    assert "far from balanced" in text and "rarest in training is `A` (10.0%)" in text and "commonest `B` (60.0%)" in text
    assert "up to 10.0 percentage points" in text
    assert "roughly balanced" in class_text({"x": table.assign(train=[0.3, 0.35, 0.35])})


def test_length_text_reports_medians_ratio_and_truncation():
    text = length_text({"trec": np.array([10, 12, 13, 14, 70]), "rotten_tomatoes": np.array([20, 26, 30, 80])}, max_length=64)
    assert "TREC: median 13 tokens" in text and "Rotten Tomatoes: median 28 tokens" in text
    assert "Rotten Tomatoes's median is 2.2× TREC's" in text and "20.0% of TREC's examples" in text


def test_model_text_from_the_table():
    table = pd.DataFrame({"model": ["L6", "L1"], "layers": [6, 1], "parameters (M)": [22.7, 13.8],
                          "without embeddings (M)": [10.6, 1.8]})
    text = model_text(table)
    assert "hold 53% of L6's 22.7 M parameters" in text and "L1 keeps 61% of the parameters but only 17%" in text


def test_teacher_text_compares_the_splits():
    summary = pd.DataFrame({"train": {"accuracy": 0.99, "entropy": 0.05}, "test": {"accuracy": 0.95, "entropy": 0.2}})
    text = teacher_text(summary, num_classes=6)
    assert "test accuracy 95.0%" in text and "0.200 nats" in text and "75% lower than on the test split" in text
    assert "**not** more confident" in teacher_text(summary.assign(train=[0.9, 0.3]), num_classes=6)


def test_training_plan_counts_the_missing_runs_and_calibrates_on_cached_ones():
    from helpers.learning.finetune import TrainConfig

    configs = [TrainConfig(student="L2", epochs=2, train_subset=100, seed=s) for s in range(4)]
    cached = {configs[0]: {"timings": {"setup_seconds": 1.0, "train_seconds": 2 * (1.5e-3 * 2 * 2 * 100 + 3.0) - 1.0,
                                       "eval_seconds": 0.0}}}
    plan = training_plan(configs, cached=cached.get)
    assert plan["missing"] == configs[1:] and plan["total"] == 4 and plan["calibrated"]
    assert plan["seconds"] == pytest.approx(3 * 2 * (1.5e-3 * 2 * 2 * 100 + 3.0))  # twice the guess, as measured
    assert training_plan_text(plan).startswith("3 of 4 fine-tuned runs are not cached yet: this cell trains them (under a minute")
    big = training_plan([c.replace(train_subset=100000) for c in configs], cached=lambda c: None)
    assert not big["calibrated"] and "about 40 minutes" in training_plan_text(big)  # 4 × (1.5e-3·2·2·100000 + 3) s
    assert training_plan_text(training_plan(configs, cached=lambda c: {})).startswith("All 4 fine-tuned runs are in the run cache")
