"""Text classification tasks as ``datasets.DatasetDict`` objects, and their tokenization.

``load_task(name)`` returns splits ``train``, ``validation`` and ``test`` with columns
``text`` (str), ``label`` (``ClassLabel``) and ``idx`` (the row's position in its split,
used to look up cached teacher logits). The validation split is a fixed, stratified
slice of the original training data (seed ``SPLIT_SEED``), so it never overlaps ``test``.
A user CSV keeps the first row of each repeated text (no text is in two splits); a text given
two different labels is refused. ``task_fingerprint`` names a task's data for cache keys.
"""

from __future__ import annotations

import bz2
import gzip
import hashlib
import io
import math
import sys
from pathlib import Path

import datasets
import numpy as np
import pandas as pd
import torch
from transformers import DataCollatorWithPadding, PreTrainedTokenizerBase

from helpers.infrastructure import assets

__all__ = [
    "SPLITS",
    "TASKS",
    "SPLIT_SEED",
    "load_task",
    "task_name",
    "task_fingerprint",
    "frame_to_task",
    "tokenize_task",
    "padding_collator",
    "take_subset",
    "subset_and_tokenize",
    "used_token_ids",
]

SPLITS = ("train", "validation", "test")  #: every task's three splits, in this order
SPLIT_SEED = 0
VALIDATION_FRACTION = 0.1
TEST_FRACTION = 0.1
TREC_TRAIN_ROWS = 5452
TREC_COARSE_NAMES = ["DESC", "ENTY", "ABBR", "HUM", "NUM", "LOC"]  # label-coarse 0..5 in the file
TASKS = ("trec", "rotten_tomatoes")

datasets.disable_progress_bars()  # loading and tokenizing take a second: no bars for them


def task_name(name: str | Path) -> str:
    """Short display name of a task: the name itself, or a CSV file's stem."""
    text = str(name)
    return text if text in TASKS else Path(text).stem


def load_task(name: str | Path) -> datasets.DatasetDict:
    """Load ``"trec"``, ``"rotten_tomatoes"`` or a CSV path with ``text,label`` columns.

    A CSV (optionally ``.gz`` or ``.bz2``) must be comma-separated UTF-8 text; cells are read as
    written (no ``NA``/``None`` guessing). Malformed files raise a ``ValueError`` naming the file
    with a hint. See ``frame_to_task`` for duplicates and label spellings.
    """
    text = str(name)
    if text == "trec":
        return _load_trec()
    if text == "rotten_tomatoes":
        return _load_rotten_tomatoes()
    path = _csv_path(name)
    return frame_to_task(_read_csv(path), source=str(path))


def task_fingerprint(task: str | Path) -> str:
    """What a cache key needs to know about a task: a built-in task's name, or the sha256 of a CSV file's bytes."""
    text = str(task)
    if text in TASKS:
        return text
    digest = hashlib.sha256()
    with open(_csv_path(task), "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _csv_path(name: str | Path) -> Path:
    """The existing CSV file a task name points to, or a ``ValueError`` saying why not."""
    text = str(name)
    path = Path(text).expanduser()
    if path.is_symlink() and not path.exists():  # exists() is False for a loop too: say which it is
        try:
            path.resolve(strict=True)
        except RuntimeError:
            raise ValueError(f"{path} is a symbolic link loop (it points back to itself), not a CSV file") from None
        except OSError:
            pass
        raise ValueError(f"{path} is a broken symbolic link (its target {str(path.readlink())!r} does not exist)")
    if path.suffix.lower() not in {".csv", ".bz2", ".gz"} and not path.exists():
        raise ValueError(f"unknown task {text!r}: use one of {TASKS} or a path to a CSV file with text,label columns")
    if not path.exists():
        raise ValueError(f"CSV file {path} does not exist")
    if path.is_dir():
        raise ValueError(f"{path} is a directory, not a CSV file; hint: pass the path of the .csv file itself")
    return path


_COMPRESSIONS = {".gz": ("gzip", gzip.decompress), ".bz2": ("bz2", bz2.decompress)}


def _read_csv(path: Path) -> pd.DataFrame:
    """Read a task CSV as strings, turning every way a file can be malformed into a ``ValueError`` with a hint."""
    raw = path.read_bytes()
    kind, decompress = _COMPRESSIONS.get(path.suffix.lower(), (None, None))
    if decompress is not None:
        try:
            raw = decompress(raw)
        except (OSError, EOFError, ValueError) as error:
            raise ValueError(
                f"{path} is not {kind}-compressed although its name ends in {path.suffix} ({error}); "
                f"hint: rename it without {path.suffix} if it is plain text, or compress it with {kind}"
            ) from None
    if b"\0" in raw[: 1 << 16]:
        raise ValueError(f"{path} looks like a binary file, not CSV text; hint: export the data as a .csv file")
    try:
        content = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise ValueError(
            f"{path} is not UTF-8 text (line {line}: byte 0x{raw[error.start]:02x}); "
            "hint: check the file's encoding and save it as UTF-8 (spreadsheets: 'CSV UTF-8')"
        ) from None
    header = content.split("\n", 1)[0]
    try:
        frame = pd.read_csv(io.StringIO(content), dtype=str, keep_default_na=False, na_values=[""])
    except pd.errors.EmptyDataError:
        raise ValueError(f"CSV file {path} is empty") from None
    except pd.errors.ParserError as error:
        detail = str(error).strip().splitlines()[-1].replace("C error: ", "")
        raise ValueError(
            f"{path}: rows do not all have the same number of fields ({detail}); hint: check the delimiter "
            'and quote texts that contain commas, quotes or line breaks in double quotes ("like, this")'
        ) from None
    if "text" not in frame.columns or "label" not in frame.columns:
        for separator, name in (("\t", "tab"), (";", "semicolon"), ("|", "pipe")):
            if separator in header and header.count(separator) >= header.count(","):
                raise ValueError(
                    f"{path} looks {name}-separated (header {header.strip()!r}); "
                    "hint: a task CSV is comma-separated with columns text,label: save it with commas"
                )
    return frame


def _load_trec() -> datasets.DatasetDict:
    frame = pd.read_csv(assets.trec_csv())
    frame = pd.DataFrame({"text": frame["text"], "label": frame["label-coarse"].astype(int)})
    features = _features(TREC_COARSE_NAMES)
    train = datasets.Dataset.from_pandas(frame.iloc[:TREC_TRAIN_ROWS], features=features, preserve_index=False)
    test = datasets.Dataset.from_pandas(frame.iloc[TREC_TRAIN_ROWS:], features=features, preserve_index=False)
    return _with_validation(train, test)


def _load_rotten_tomatoes() -> datasets.DatasetDict:
    frame = pd.read_csv(assets.rotten_tomatoes_csv())
    frame = frame[frame["category"].isin(["fresh", "rotten"])].drop_duplicates("text")
    frame = pd.DataFrame({"text": frame["text"].str.strip(), "label": frame["category"]})
    return frame_to_task(frame, source="rotten_tomatoes", label_names=["rotten", "fresh"])


def frame_to_task(
    frame: pd.DataFrame, source: str = "data frame", label_names: list[str] | None = None
) -> datasets.DatasetDict:
    """Validate a ``text,label`` frame and split it (stratified, fixed seed) into train/validation/test."""
    missing = {"text", "label"} - set(frame.columns)
    if missing:
        raise ValueError(f"{source}: missing column(s) {sorted(missing)}; a task CSV needs columns text,label")
    frame = frame[["text", "label"]]
    if len(frame) == 0:
        raise ValueError(f"{source}: no rows")
    if frame["label"].isna().any():
        raise ValueError(f"{source}: {int(frame['label'].isna().sum())} row(s) have an empty label")
    texts = frame["text"]
    empty = texts.isna() | (texts.astype(str).str.strip() == "")
    if empty.any():
        raise ValueError(f"{source}: {int(empty.sum())} row(s) have an empty text (first at row {int(empty.idxmax())})")
    frame = pd.DataFrame({"text": texts.astype(str).str.strip(), "label": frame["label"].astype(str).str.strip()})
    if label_names is None:
        frame["label"] = _merge_label_spellings(frame["label"], source)
    frame = _drop_duplicate_texts(frame, source)
    labels = frame["label"]
    names = label_names or sorted(labels.unique(), key=_natural_key)
    unknown = set(labels) - set(names)
    if unknown:
        raise ValueError(f"{source}: labels {sorted(unknown)} are not among {names}")
    if labels.nunique() < 2:
        raise ValueError(f"{source}: a single class ({labels.iloc[0]!r}); a classification task needs at least 2")
    counts = labels.value_counts()
    if counts.min() < 3:
        raise ValueError(f"{source}: class {counts.idxmin()!r} has {counts.min()} row(s); each class needs at least 3")
    test_rows = math.ceil(TEST_FRACTION * len(frame))
    validation_rows = math.ceil(VALIDATION_FRACTION * (len(frame) - test_rows))
    if min(test_rows, validation_rows) < len(names):
        raise ValueError(
            f"{source}: {len(frame)} rows are too few to split stratified into train/validation/test "
            f"with {len(names)} classes (each held-out split needs at least one row per class)"
        )
    clean = pd.DataFrame({"text": frame["text"], "label": labels.map(names.index)})
    full = datasets.Dataset.from_pandas(clean, features=_features(names), preserve_index=False)
    split = full.train_test_split(test_size=TEST_FRACTION, stratify_by_column="label", seed=SPLIT_SEED)
    return _with_validation(split["train"], split["test"])


def _drop_duplicate_texts(frame: pd.DataFrame, source: str) -> pd.DataFrame:
    """Keep the first row of each text (so no text lands in two splits); refuse a text given two labels."""
    repeated = frame["text"].duplicated(keep="first")
    if not repeated.any():
        return frame
    labels_per_text = frame.groupby("text", sort=False)["label"].unique()
    clashing = labels_per_text[labels_per_text.map(len) > 1]
    if len(clashing):
        text, labels = clashing.index[0], sorted(clashing.iloc[0])
        raise ValueError(
            f"{source}: {len(clashing)} text(s) appear with different labels, e.g. {text!r} with labels "
            f"{', '.join(repr(label) for label in labels)}; hint: keep one row per text with its correct label"
        )
    print(f"{source}: dropped {int(repeated.sum())} row(s) repeating an earlier text", file=sys.stderr)
    return frame[~repeated]


def _merge_label_spellings(labels: pd.Series, source: str) -> pd.Series:
    """Merge spellings of one number (``1``, ``1.0``, ``01``) into the most common one; flag case-only differences.

    Spaces around labels are already stripped. Numbers spelled differently are the same class in
    any reading, so they are merged (one stderr line says so). Labels differing only by letter case
    (``Pos``/``pos``) may be meant as different classes, so they are kept apart with a one-line warning.
    """
    counts = labels.value_counts(sort=False)
    mapping: dict[str, str] = {}
    notes: list[str] = []
    groups: dict[float, list[str]] = {}
    for label in counts.index:
        if _is_number(label):
            groups.setdefault(float(label), []).append(label)
    for spellings in groups.values():
        if len(spellings) > 1:
            spellings.sort(key=lambda value: (-counts[value], value))
            mapping.update({spelling: spellings[0] for spelling in spellings[1:]})
            shown = " and ".join(repr(value) for value in sorted(spellings))
            notes.append(f"labels {shown} spell the same number: merged into class {spellings[0]!r}")
    by_case: dict[str, list[str]] = {}
    for label in counts.index:
        by_case.setdefault(label.casefold(), []).append(label)
    for spellings in by_case.values():
        if len(spellings) > 1:
            shown = " and ".join(repr(value) for value in sorted(spellings))
            notes.append(f"labels {shown} differ only by letter case: kept as separate classes (fix the CSV if they are one)")
    if notes:
        print(f"{source}: warning: " + "; ".join(notes), file=sys.stderr)
    return labels.replace(mapping) if mapping else labels


def _natural_key(value: str):
    return (0, float(value), "") if _is_number(value) else (1, 0.0, value)


def _is_number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True


def _features(names: list[str]) -> datasets.Features:
    return datasets.Features({"text": datasets.Value("string"), "label": datasets.ClassLabel(names=list(names))})


def _with_index(dataset: datasets.Dataset) -> datasets.Dataset:
    return dataset.add_column("idx", list(range(len(dataset))))


def _with_validation(train: datasets.Dataset, test: datasets.Dataset) -> datasets.DatasetDict:
    split = train.train_test_split(test_size=VALIDATION_FRACTION, stratify_by_column="label", seed=SPLIT_SEED)
    return datasets.DatasetDict(
        train=_with_index(split["train"]), validation=_with_index(split["test"]), test=_with_index(test)
    )


def take_subset(dataset: datasets.Dataset, size: int | None, seed: int = SPLIT_SEED) -> datasets.Dataset:
    """A fixed random subset of ``size`` rows (all rows if ``size`` is None or too large)."""
    if size is None or size >= len(dataset):
        return dataset
    if size <= 0:
        raise ValueError(f"subset size must be positive, got {size}")
    return dataset.shuffle(seed=seed).select(range(size))


def subset_and_tokenize(task: datasets.DatasetDict, tokenizer: PreTrainedTokenizerBase, max_length: int,
                        train_subset: int | None = None, eval_subset: int | None = None) -> datasets.DatasetDict:
    """The splits both tiers train and evaluate on: ``train`` cut to ``train_subset`` rows and ``validation`` / ``test``
    to ``eval_subset`` (:func:`take_subset`: the same rows for every caller), then :func:`tokenize_task`.
    ``task`` itself is left as it was."""
    subsets = {"train": train_subset, "validation": eval_subset, "test": eval_subset}
    chosen = datasets.DatasetDict({split: take_subset(task[split], subsets[split]) for split in SPLITS})
    return tokenize_task(chosen, tokenizer, max_length)


def tokenize_task(
    task: datasets.DatasetDict, tokenizer: PreTrainedTokenizerBase, max_length: int = 128
) -> datasets.DatasetDict:
    """Tokenize every split with ``Dataset.map(batched=True)``, truncating to ``max_length``, no padding.

    Keeps ``label`` and ``idx`` and adds ``length`` (tokens per example) for length-grouped batching.
    """

    def encode(batch: dict) -> dict:
        encoded = tokenizer(batch["text"], truncation=True, max_length=max_length)
        encoded["length"] = [len(ids) for ids in encoded["input_ids"]]
        return encoded

    return task.map(encode, batched=True, remove_columns=["text"], desc="tokenizing")


def used_token_ids(tokenized: datasets.DatasetDict, tokenizer: PreTrainedTokenizerBase) -> torch.Tensor:
    """Sorted unique token ids occurring in any split's ``input_ids``, plus the tokenizer's special ids."""
    ids = [np.asarray(tokenizer.all_special_ids, dtype=np.int64)]
    for split in tokenized.values():
        ids += [np.asarray(row, dtype=np.int64) for row in split.select_columns(["input_ids"])[:]["input_ids"]]
    return torch.from_numpy(np.unique(np.concatenate(ids)))


def padding_collator(tokenizer: PreTrainedTokenizerBase) -> DataCollatorWithPadding:
    """Collator padding each batch to its own longest sequence (dynamic padding)."""
    return DataCollatorWithPadding(tokenizer, return_tensors="pt")
