"""The data cards in data/README.md match what the loaders return and name every pinned asset."""

from pathlib import Path

import pytest

from helpers.infrastructure import assets
from helpers.learning.data import load_task

README = Path(__file__).resolve().parent.parent / "data" / "README.md"


def test_every_pinned_wheel_and_the_manifest_are_documented():
    text = README.read_text()
    assert f"helpers/infrastructure/{assets.MANIFEST}" in text
    for wheel in assets.WHEELS.values():
        assert wheel.filename in text
        for member in wheel.members:
            assert member.rsplit("/", 1)[-1] in text
    assert "data/cache/" in text and "data/results/" in text


@pytest.mark.parametrize(
    "task, sizes",
    [("trec", {"train": 4906, "validation": 546, "test": 500}),
     ("rotten_tomatoes", {"train": 10328, "validation": 1148, "test": 1276})],
)
def test_documented_split_sizes_are_the_loaded_ones(task, sizes):
    loaded = load_task(task)
    assert {split: len(rows) for split, rows in loaded.items()} == sizes
    text = README.read_text()
    card = text[text.index("## TREC" if task == "trec" else "## Rotten"):]
    line = next(row for row in card.splitlines() if row.startswith("| Splits in the kit"))
    for split, size in sizes.items():
        assert f"{split} {size:,}" in line
    names = loaded["train"].features["label"].names
    labels = next(row for row in card.splitlines() if row.startswith("| Labels"))
    assert all(f"`{name}`" in labels for name in names)
