"""Shares of a class's grid: a pooled class runs one experiment with many seeds, each student a few of them.

A class of ``N`` shares trains the preset's seeds, widened to ``N`` seeds when ``N`` is larger (seeds ``0..N-1``),
unless the seeds are given (``--seeds``): then exactly those, and at least ``N`` of them. Share ``K`` of ``N``
(``"K/N"``, ``K`` from 1) trains the seeds ``K-1``, ``K-1+N``, ``K-1+2N``, ... of that list: whole seeds, so each share
is a complete paired comparison (ERM, LS and KD of a seed go together), and every share trains or loads the teachers
its runs need. Pooling the hand-ins (``helpers.experiments.pool``) gives the grid of all the class's seeds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

from helpers.experiments.presets import Preset

__all__ = ["Share", "class_seeds", "share_preset", "share_text"]

_SHARE = re.compile(r"\s*(\d+)\s*/\s*(\d+)\s*")


@dataclass(frozen=True)
class Share:
    """Share ``index`` (from 1) of ``count``; ``str(share)`` is ``'K/N'``."""

    index: int
    count: int

    def __post_init__(self) -> None:
        for name in ("index", "count"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"share {name} must be a whole number, got {value!r}")
        if self.count < 1:
            raise ValueError(f"a class has at least one share: N must be 1 or more, got {self}")
        if not 1 <= self.index <= self.count:
            raise ValueError(f"share {self} does not exist: K must lie in 1..{self.count} (shares count from 1)")

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    @classmethod
    def parse(cls, text: "str | Share") -> "Share":
        """``'3/30'`` as a ``Share`` (a ``Share`` is returned as it is); ``ValueError`` with one line otherwise."""
        if isinstance(text, Share):
            return text
        match = _SHARE.fullmatch(str(text))
        if not match:
            raise ValueError(f"a share is K/N with whole numbers, e.g. 3/30 (the third of thirty), got {text!r}")
        return cls(int(match.group(1)), int(match.group(2)))

    def seeds(self, seeds: Sequence[int]) -> tuple[int, ...]:
        """This share's seeds among the class's ``seeds`` (every ``count``-th, from the ``index``-th)."""
        seeds = tuple(seeds)
        if self.count > len(seeds):
            listed = ", ".join(map(str, seeds))
            raise ValueError(f"share {self}: {self.count} shares but only {len(seeds)} seed{'s' if len(seeds) != 1 else ''} "
                             f"to share out ({listed}): give at least {self.count} seeds "
                             f"(e.g. --seeds 0-{self.count - 1}) or make fewer shares")
        return seeds[self.index - 1 :: self.count]


def class_seeds(seeds: Sequence[int], count: int, given: bool = False) -> tuple[int, ...]:
    """The seeds a class of ``count`` shares trains: ``seeds`` (the preset's), widened with the smallest unused seeds to
    ``count`` of them when there are fewer; ``given`` seeds (``--seeds``) are taken as they are."""
    seeds = tuple(dict.fromkeys(seeds))
    if given or len(seeds) >= count:
        return seeds
    extra = (seed for seed in range(count + len(seeds)) if seed not in seeds)
    return seeds + tuple(next(extra) for _ in range(count - len(seeds)))


def share_preset(preset: Preset, share: "str | Share | None", seeds_given: bool = False) -> Preset:
    """``preset`` with the fine-tuned tier's seeds cut to ``share``'s (unchanged when ``share`` is None).

    The frozen-feature tier is cheap and runs whole in every share (identical runs are counted once when pooled).
    """
    if share is None or share == "":
        return preset
    share = Share.parse(share)
    return preset.replace(seeds=share.seeds(class_seeds(preset.seeds, share.count, seeds_given)))


def share_text(share: "str | Share", preset: Preset, seeds_given: bool = False) -> str:
    """One line saying what share ``share`` of ``preset`` (the whole class's preset) trains."""
    share = Share.parse(share)
    everyone = class_seeds(preset.seeds, share.count, seeds_given)
    mine = share.seeds(everyone)
    return (f"share {share} of the class: seed{'s' if len(mine) != 1 else ''} {', '.join(map(str, mine))} of the "
            f"class's {len(everyone)} ({_spans(everyone)}); this share trains or loads the teachers its runs need")


def _spans(seeds: Sequence[int]) -> str:
    """``0, 1, 2, 5`` as ``'0–2, 5'``."""
    ordered, parts = sorted(seeds), []
    start = previous = ordered[0]
    for seed in [*ordered[1:], None]:
        if seed is not None and seed == previous + 1:
            previous = seed
            continue
        parts.append(f"{start}" if start == previous else f"{start}–{previous}")
        if seed is not None:
            start = previous = seed
    return ", ".join(parts)
