"""Tasks load with the documented splits and columns; bad CSVs are rejected clearly."""

import pandas as pd
import pytest

from helpers.learning.data import load_task, padding_collator, take_subset, tokenize_task, used_token_ids
from helpers.learning.models import load_tokenizer


def test_trec_official_split_and_coarse_labels():
    task = load_task("trec")
    assert {k: len(v) for k, v in task.items()} == {"train": 4906, "validation": 546, "test": 500}
    assert task["train"].features["label"].names == ["DESC", "ENTY", "ABBR", "HUM", "NUM", "LOC"]
    assert task["test"][-1]["text"] == "What is e-coli ?"
    assert sorted(task["validation"]["idx"]) == list(range(546))


def test_validation_is_stratified():
    task = load_task("trec")
    train = pd.Series(task["train"]["label"]).value_counts(normalize=True).sort_index()
    validation = pd.Series(task["validation"]["label"]).value_counts(normalize=True).sort_index()
    assert (train - validation).abs().max() < 0.01


def test_rotten_tomatoes_is_binary_without_plots_or_duplicates():
    task = load_task("rotten_tomatoes")
    assert task["train"].features["label"].names == ["rotten", "fresh"]
    texts = [t for split in ("train", "validation", "test") for t in task[split]["text"]]
    assert len(texts) == len(set(texts)) == 12752
    assert not set(task["train"]["text"]) & set(task["test"]["text"])


def test_csv_with_string_labels(tmp_path):
    rows = [(f"text number {i}", ["neg", "pos", "neutral"][i % 3]) for i in range(60)]
    path = tmp_path / "mine.csv"
    pd.DataFrame(rows, columns=["text", "label"]).to_csv(path, index=False)
    task = load_task(path)
    assert task["train"].features["label"].names == ["neg", "neutral", "pos"]
    assert sum(len(split) for split in task.values()) == 60
    assert len(load_task(path)["test"]) == len(task["test"])  # the same split every time
    assert list(load_task(path)["test"]["text"]) == list(task["test"]["text"])


@pytest.mark.parametrize(
    "frame, match",
    [
        (pd.DataFrame({"sentence": ["a", "b"], "label": [0, 1]}), "missing column"),
        (pd.DataFrame({"text": [], "label": []}), "no rows"),
        (pd.DataFrame({"text": ["a", "b", "c", "d"], "label": [1, 1, 1, 1]}), "single class"),
        (pd.DataFrame({"text": ["a", " ", "c", "d", "e", "f"], "label": [0, 1, 0, 1, 0, 1]}), "empty text"),
        (pd.DataFrame({"text": list("abcdef"), "label": [0, 1, 0, 1, 0, None]}), "empty label"),
        (pd.DataFrame({"text": [f"t{i}" for i in range(30)], "label": [i % 6 for i in range(30)]}), "too few"),
    ],
)
def test_bad_csvs_raise_value_error(tmp_path, frame, match):
    path = tmp_path / "bad.csv"
    frame.to_csv(path, index=False)
    with pytest.raises(ValueError, match=match):
        load_task(path)


def test_empty_file_and_unknown_names(tmp_path):
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(ValueError, match="empty"):
        load_task(tmp_path / "empty.csv")
    with pytest.raises(ValueError, match="unknown task"):
        load_task("imdb")
    with pytest.raises(ValueError, match="does not exist"):
        load_task(tmp_path / "nope.csv")


def test_tokenization_pads_each_batch_to_its_own_longest():
    task = load_task("trec")
    tokenizer = load_tokenizer()
    tokens = tokenize_task(take_subset(task["test"], 64).train_test_split(test_size=0.5, seed=0), tokenizer, max_length=16)
    split = tokens["train"]
    assert max(split["length"]) <= 16 and "input_ids" in split.column_names and "idx" in split.column_names
    rows = [{k: split[i][k] for k in ("input_ids", "attention_mask", "label")} for i in range(8)]
    batch = padding_collator(tokenizer)(rows)
    assert batch["input_ids"].shape[1] == max(len(r["input_ids"]) for r in rows)
    assert batch["attention_mask"].sum(1).tolist() == [len(r["input_ids"]) for r in rows]


def test_used_token_ids_cover_every_split_and_the_special_tokens():
    tokenizer = load_tokenizer()
    tokens = tokenize_task(take_subset(load_task("trec")["test"], 40).train_test_split(test_size=0.5, seed=0),
                           tokenizer, max_length=16)
    used = used_token_ids(tokens, tokenizer)
    everything = {i for split in tokens.values() for row in split["input_ids"] for i in row}
    assert used.tolist() == sorted(everything | set(tokenizer.all_special_ids))
    assert tokenizer.pad_token_id in used.tolist() and len(used) < tokenizer.vocab_size
