"""Notebook 05's descriptive tables."""

import numpy as np
import pytest

from helpers.overview import class_table, examples, length_table, model_table, task_table, token_lengths


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
