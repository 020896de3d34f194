"""The teacher's guide: every notebook's time estimate is the guide's, and every lesson plan fits its slot.

A plan is a section ``## Lesson plan N — ... M-minute ...`` of TEACHING.md; its tables' rows are ``| a–b | notebooks |
...``. Every table runs from 0 to the slot's M minutes without gaps or overlaps. In a row, a notebook followed by ``§``
or ``section`` is covered in part, and a row naming a demonstration (``demo`` in any cell) is the instructor's; a
notebook a plan names without either is done whole, so the plan's student rows naming it must give it at least its own
estimate (a row naming several notebooks shares its minutes among them). A lab plan ("... labs on notebooks a–b")
must give each of its notebooks that time, in whole or in parts.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
GUIDE_PATH = ROOT / "notebooks" / "TEACHING.md"
GUIDE = GUIDE_PATH.read_text(encoding="utf-8")
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def estimate(number: str) -> int:
    """The minutes a notebook's first cell announces ("**Time:** about N minutes")."""
    path = next((ROOT / "notebooks").glob(f"{number}_*.ipynb"))
    first = "".join(json.loads(path.read_text(encoding="utf-8"))["cells"][0]["source"])
    match = re.search(r"\*\*Time:\*\* about (\d+) minutes", first)
    assert match, f"{path.name} states no time"
    return int(match.group(1))


def guide_times(guide: str = GUIDE) -> dict[str, int]:
    """The guide's student time per notebook (the table under *Expected outputs and times*)."""
    section = guide.split("## Expected outputs and times", 1)[1].split("\n## ", 1)[0]
    return {number: int(minutes) for number, minutes in re.findall(r"^\| (\d\d) \| (\d+) min \|", section, re.M)}


@dataclass(frozen=True)
class Row:
    start: int
    end: int
    cells: tuple[str, ...]

    @property
    def minutes(self) -> int:
        return self.end - self.start

    @property
    def demo(self) -> bool:
        return any("demo" in cell for cell in self.cells)

    def notebooks(self) -> dict[str, bool]:
        """Notebook -> whether this row covers it whole (named without ``§`` or ``section``)."""
        found = {}
        for part in self.cells[0].split(","):
            match = re.match(r"\s*(\d\d)\b(.*)", part)
            if match:
                found[match.group(1)] = not re.search(r"§|section", match.group(2))
        return found


@dataclass(frozen=True)
class Plan:
    heading: str
    slot: int
    tables: tuple[tuple[Row, ...], ...]

    def allotted(self, whole_only: bool) -> dict[str, float]:
        """Notebook -> minutes its student rows give it (all of them, or only those where it is done whole)."""
        minutes: dict[str, float] = {}
        for row in (row for table in self.tables for row in table if not row.demo):
            named = row.notebooks()
            for number, whole in named.items():
                if whole or not whole_only:
                    minutes[number] = minutes.get(number, 0) + row.minutes / len(named)
        return minutes


def plans(guide: str = GUIDE) -> list[Plan]:
    """Every lesson plan of the guide, with its slot and tables."""
    found = []
    for section in re.split(r"\n(?=## )", guide):
        heading = section.splitlines()[0]
        if not heading.startswith("## Lesson plan"):
            continue
        slot = re.search(r"(\d+)-minute", heading)
        assert slot, f"{heading!r} states no slot length (N-minute)"
        tables, rows = [], []
        for line in section.splitlines() + [""]:
            match = re.match(r"\| (\d+)–(\d+) \|(.*)\|\s*$", line)
            if match:
                rows.append(Row(int(match.group(1)), int(match.group(2)),
                                tuple(cell.strip() for cell in match.group(3).split("|"))))
            elif rows:
                tables.append(tuple(rows))
                rows = []
        found.append(Plan(heading, int(slot.group(1)), tuple(tables)))
    return found


def test_every_notebook_states_the_time_the_guide_gives_it():
    numbers = [path.name[:2] for path in NOTEBOOKS]
    assert numbers and sorted(guide_times()) == numbers, (sorted(guide_times()), numbers)
    differ = {number: (estimate(number), guide_times()[number]) for number in numbers
              if estimate(number) != guide_times()[number]}
    assert not differ, f"notebook's estimate vs TEACHING.md (minutes): {differ}"


def test_the_guide_has_its_plans():
    headings = [plan.heading for plan in plans()]
    assert len(headings) >= 3 and all(plan.tables for plan in plans()), headings


@pytest.mark.parametrize("plan", plans(), ids=lambda plan: plan.heading[3:40])
def test_every_plan_fills_its_slot_without_gaps(plan):
    for table in plan.tables:
        assert table[0].start == 0 and table[-1].end == plan.slot, (plan.heading, table[0], table[-1])
        assert all(a.end == b.start and a.start < a.end for a, b in zip(table, table[1:])), plan.heading


@pytest.mark.parametrize("plan", plans(), ids=lambda plan: plan.heading[3:40])
def test_a_notebook_done_whole_gets_its_own_estimate(plan):
    allotted = plan.allotted(whole_only=False)
    whole = plan.allotted(whole_only=True)
    short = {number: (allotted[number], estimate(number)) for number in whole if allotted[number] < estimate(number)}
    assert not short, f"{plan.heading}: notebook: (minutes given, its estimate): {short}"
    labs = re.search(r"labs on notebooks (\d\d)–(\d\d)", plan.heading)
    if labs:
        numbers = [f"{n:02d}" for n in range(int(labs.group(1)), int(labs.group(2)) + 1)]
        short = {number: (allotted.get(number, 0), estimate(number)) for number in numbers
                 if allotted.get(number, 0) < estimate(number)}
        assert not short, f"{plan.heading}: notebook: (minutes given, its estimate): {short}"


def test_the_plan_checks_see_a_plan_that_does_not_fit():
    guide = ("## Lesson plan 9 — a 50-minute lecture\n\n| minutes | notebook | what |\n|---|---|---|\n"
             "| 0–20 | 01 | all of it |\n| 20–50 | 02 §1 | part |\n\n"
             "## Expected outputs and times\n\n| 01 | 30 min | x |\n")
    (plan,) = plans(guide)
    assert plan.slot == 50 and plan.allotted(whole_only=True) == {"01": 20}
    assert plan.allotted(whole_only=False) == {"01": 20, "02": 30}
    assert guide_times(guide) == {"01": 30}
