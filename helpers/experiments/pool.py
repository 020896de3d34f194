"""``python -m helpers.experiments.pool SUBMISSIONS... --out class/``: merge the hand-ins of a pooled class.

Each submission is a share's ``--out`` folder or its ``handin.json`` (``helpers.experiments.handin``). The pool

* **refuses** a damaged, edited, empty or unreadable submission with one line on stderr and goes on with the rest;
* **groups** the hand-ins by identity (code, asset pins, cache version, precision, preset): runs of different groups
  are never mixed. The **class result** is the group with the most distinct seeds (then the most hand-ins, then the
  first given); every other group is reported, with what differs, and written aside to ``class/set_aside/<group>/``
  as a class result of its own;
* **counts an identical run once** (same run key: config, task data, pins and code); a run handed in twice with other
  numbers (another machine's rounding) keeps the first copy, and the count of such runs is reported;
* writes the class folder (``helpers.experiments.pooled.write_class``): ``results.csv``, ``expectations.csv``,
  ``inheritance.csv``, ``verdicts.md`` (n = the number of distinct seeds), ``figures/`` and ``pool.json``.

Exit status: 0 when every submission was pooled (into the class result or set aside), 2 on bad arguments, when a
submission was refused (the rest is still pooled and written), or when no submission holds any run.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import pandas as pd

from helpers.experiments.commandline import check_out, filesystem_error
from helpers.experiments.handin import HandIn, HandInError, read_handin
from helpers.experiments.pooled import CLASS_FORMAT, LEFT_OUT_FIGURES, write_class
from helpers.learning.results import IDENTITY_COLUMNS

__all__ = ["Group", "group_handins", "merge_runs", "main"]

_IDENTITY_NAMES = {"code": "code", "assets": "asset pins", "cache_version": "cache version", "precision": "precision",
                   "preset": "preset"}


@dataclass
class Group:
    """Hand-ins of one identity, with their runs merged (:func:`merge_runs`)."""

    identity: dict
    handins: list[HandIn]
    results: pd.DataFrame
    duplicates: int
    disagreeing: int
    clashes: int

    @property
    def name(self) -> str:
        return self.handins[0].group

    @property
    def seeds(self) -> list[int]:
        students = self.results[self.results["role"] == "student"]
        return sorted(set(students["seed"].astype(int)))

    def part(self, name: str) -> pd.DataFrame:
        """The hand-ins' ``expectations`` or ``inheritance`` rows, concatenated (repeats are dropped when written)."""
        frames = [getattr(h, name) for h in self.handins if not getattr(h, name).empty]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    def differences(self, other: "Group") -> list[str]:
        """What of the identity differs from ``other``'s, in words (``['code', 'precision']``)."""
        return [word for key, word in _IDENTITY_NAMES.items() if self.identity.get(key) != other.identity.get(key)]


def merge_runs(handins: Sequence[HandIn]) -> tuple[pd.DataFrame, int, int, int]:
    """``(results, duplicates, disagreeing, clashes)`` of hand-ins of one identity: each run key once (the first copy);
    ``duplicates`` counts copies dropped, ``disagreeing`` those with other numbers, ``clashes`` runs dropped because
    another run (another key) already had their row identity."""
    runs: dict[str, dict] = {}
    identities: set[tuple] = set()
    duplicates = disagreeing = clashes = 0
    for handin in handins:
        for run in handin.runs:
            entry = {**run["row"], "key": run["key"], "validation_entropy": run["validation_entropy"]}
            if run["key"] in runs:
                duplicates += 1
                disagreeing += _numbers(runs[run["key"]]) != _numbers(entry)
                continue
            identity = tuple(str(entry[c]) for c in IDENTITY_COLUMNS)
            if identity in identities:
                clashes += 1
                continue
            identities.add(identity)
            runs[run["key"]] = entry
    return pd.DataFrame(list(runs.values())), duplicates, disagreeing, clashes


def _numbers(entry: dict) -> dict:
    """What two copies of one run must agree on: everything but the time it took."""
    return {k: v for k, v in entry.items() if k != "train_seconds"}


def group_handins(handins: Sequence[HandIn]) -> list[Group]:
    """The hand-ins grouped by identity, the class result's group first (most distinct seeds, then most hand-ins, then
    the first given)."""
    by_identity: dict[str, list[HandIn]] = {}
    for handin in handins:
        by_identity.setdefault(handin.group, []).append(handin)
    groups = [Group(members[0].identity, members, *merge_runs(members)) for members in by_identity.values()]
    order = {name: i for i, name in enumerate(by_identity)}
    return sorted(groups, key=lambda g: (-len(g.seeds), -len(g.handins), order[g.name]))


def _provenance(group: Group, groups: list[Group], refused: list[tuple[str, str]], aside: dict[str, Path]) -> dict:
    return {
        "format": CLASS_FORMAT, "version": 1, "identity": group.identity, "group": group.name,
        "handins": [{"path": str(h.path), "shares": h.shares, "seeds": h.seeds, "runs": len(h.runs)} for h in group.handins],
        "seeds": group.seeds, "runs": len(group.results), "duplicates": group.duplicates,
        "disagreeing_duplicates": group.disagreeing, "clashing_runs": group.clashes,
        "set_aside": [{"group": g.name, "differs_in": g.differences(group), "handins": [str(h.path) for h in g.handins],
                       "seeds": g.seeds, "folder": str(aside[g.name])} for g in groups if g is not group and g.name in aside],
        "refused": [{"path": path, "reason": reason} for path, reason in refused],
        "left_out_figures": LEFT_OUT_FIGURES,
    }


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m helpers.experiments.pool", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("submissions", nargs="+", type=Path, metavar="SUBMISSION",
                        help="a share's --out folder or its handin.json (as many as the class handed in)")
    parser.add_argument("--out", required=True, type=Path, help="the class folder to write (created)")
    return parser


def _describe(group: Group) -> str:
    shares = sorted({s for h in group.handins for s in h.shares}, key=lambda s: [int(p) for p in s.split("/")])
    return (f"{len(group.handins)} hand-in{'s' if len(group.handins) != 1 else ''}"
            + (f" (shares {', '.join(shares)})" if shares else "")
            + f", {len(group.seeds)} seeds, {len(group.results)} runs ({group.duplicates} duplicates counted once"
            + (f", {group.disagreeing} of them with other numbers: the first copy kept" if group.disagreeing else "")
            + (f"; {group.clashes} runs dropped: another run already had their row" if group.clashes else "") + ")")


def main(argv: list[str] | None = None) -> int:
    """Read, check, group and merge the submissions, then write the class folder; see the module docstring."""
    parser = _parser()
    args = parser.parse_args(argv)
    out = args.out.expanduser()
    check_out(parser, out, what="the class result is")
    handins, refused = [], []
    print(f"pooling {len(args.submissions)} submission{'s' if len(args.submissions) != 1 else ''}", flush=True)
    for submission in args.submissions:
        try:
            handin = read_handin(submission)
        except HandInError as error:
            refused.append((str(submission), str(error)))
            print(f"{parser.prog}: refused {submission}: {error}", file=sys.stderr, flush=True)
            continue
        if not handin.runs:
            print(f"{submission}: holds no runs (an empty share): nothing to pool", flush=True)
        handins.append(handin)
    groups = [g for g in group_handins(handins) if not g.results.empty]
    if not groups:
        print(f"{parser.prog}: error: no submission holds any run: nothing written", file=sys.stderr, flush=True)
        return 2
    chosen, aside = groups[0], {g.name: out / "set_aside" / g.name for g in groups[1:]}
    try:
        _clear_set_aside(out)
        for group in groups:
            folder = out if group is chosen else aside[group.name]
            write_class(folder, group.results, group.part("expectations"), group.part("inheritance"),
                        _provenance(group, groups, refused, aside))
    except OSError as error:
        return filesystem_error(parser, error, out)
    print(f"class result: {_describe(chosen)} -> {out}", flush=True)
    for group in groups[1:]:
        print(f"set aside (other {', '.join(group.differences(chosen)) or 'identity'}): {_describe(group)} -> "
              f"{aside[group.name]}", flush=True)
    if refused:
        print(f"refused {len(refused)} submission{'s' if len(refused) != 1 else ''} (listed above and in "
              f"{out / 'pool.json'})", flush=True)
    print(f"wrote {out / 'results.csv'}, {out / 'verdicts.md'} and {out / 'figures'}", flush=True)
    return 2 if refused else 0


def _clear_set_aside(out: Path) -> None:
    """Remove the set-aside groups an earlier pool wrote into ``out`` (folders holding a ``pool.json``)."""
    folder = out / "set_aside"
    if folder.is_dir():
        for group in folder.iterdir():
            if group.is_dir() and (group / "pool.json").is_file():
                shutil.rmtree(group)


if __name__ == "__main__":
    raise SystemExit(main())
