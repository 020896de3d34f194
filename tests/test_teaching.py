"""The teacher's guide: its lesson plans fit the notebooks' own time estimates."""

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
GUIDE = (ROOT / "notebooks" / "TEACHING.md").read_text(encoding="utf-8")


def _estimate(number: str) -> int:
    """The minutes a notebook's first cell announces ("**Time:** about N minutes")."""
    path = next((ROOT / "notebooks").glob(f"{number}_*.ipynb"))
    first = "".join(json.loads(path.read_text(encoding="utf-8"))["cells"][0]["source"])
    match = re.search(r"\*\*Time:\*\* about (\d+) minutes", first)
    assert match, f"{path.name} states no time"
    return int(match.group(1))


def _tables(section: str) -> list[list[tuple[int, int, str]]]:
    """The plan tables of a section of the guide: rows as (start, end, notebook cell)."""
    text = GUIDE.split(section, 1)[1].split("\n## ", 1)[0]
    tables, rows = [], []
    for line in text.splitlines() + [""]:
        match = re.match(r"\| (\d+)–(\d+) \| ([^|]+) \|", line)
        if match:
            rows.append((int(match.group(1)), int(match.group(2)), match.group(3).strip()))
        elif rows:
            tables.append(rows)
            rows = []
    return tables


@pytest.mark.parametrize("section, length", [("## Lesson plan 1", 50), ("## Lesson plan 2", 90)])
def test_every_plan_is_contiguous_and_as_long_as_announced(section, length):
    tables = _tables(section)
    assert tables
    for rows in tables:
        assert rows[0][0] == 0 and rows[-1][1] == length
        assert all(a[1] == b[0] for a, b in zip(rows, rows[1:]))


def test_the_two_labs_give_each_notebook_at_least_its_own_estimate():
    lab_a, lab_b, _ = _tables("## Lesson plan 2")
    allotted: dict[str, int] = {}
    for start, end, cell in lab_a + lab_b:
        for number in re.findall(r"\b0[4-7]\b", cell.split(",")[0] if "§" in cell else cell):
            allotted[number] = allotted.get(number, 0) + end - start
    for number in ("04", "05", "06", "07"):
        assert allotted.get(number, 0) >= _estimate(number), (number, allotted, _estimate(number))
