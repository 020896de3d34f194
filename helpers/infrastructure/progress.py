"""Progress bars that make sense both live and in executed copies of a notebook.

Live (JupyterLab, a terminal), :func:`progress` is ``tqdm.auto.tqdm``. A notebook executed headless
(``make reproduce``, the tests: ``$KDLS_HEADLESS`` is set by ``helpers.pipeline.notebooks``) cannot update a
widget, and its saved copy would show every bar frozen at 0 %; there, :func:`progress` prints one
line when the work is done instead ("heads on trec: 46 of 46 in 12.3 s").
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any, Iterable

from tqdm.auto import tqdm

from helpers.infrastructure.settings import current_settings

__all__ = ["HEADLESS_ENV", "progress"]

HEADLESS_ENV = "KDLS_HEADLESS"


class _SummaryLine:
    """A stand-in for a tqdm bar (iterate, ``update``, ``set_postfix``, ``close``) that prints one line at the end."""

    def __init__(self, iterable: Iterable | None, total: int | None, desc: str) -> None:
        self.iterable, self.desc, self.n = iterable, desc, 0
        self.total = total if total is not None else (len(iterable) if hasattr(iterable, "__len__") else None)
        self.postfix: dict[str, Any] = {}
        self.started, self.closed = time.perf_counter(), False

    def __iter__(self):
        for item in self.iterable:
            yield item
            self.n += 1
        self.close()

    def update(self, n: int = 1) -> None:
        self.n += n

    def set_postfix(self, **values: Any) -> None:
        self.postfix = values

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        of = f" of {self.total}" if self.total is not None else ""
        extra = "".join(f", {key} {value}" for key, value in self.postfix.items())
        print(f"{self.desc}: {self.n}{of} in {time.perf_counter() - self.started:.1f} s{extra}", file=sys.stdout, flush=True)

    def __enter__(self) -> "_SummaryLine":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def progress(iterable: Iterable | None = None, *, total: int | None = None, desc: str = "", disable: bool = False,
             leave: bool = False):
    """A tqdm bar live; one summary line when executed headless (``$KDLS_HEADLESS``); nothing if ``disable``."""
    if not disable and current_settings().headless:
        return _SummaryLine(iterable, total, desc)
    return tqdm(iterable, total=total, desc=desc, disable=disable, leave=leave)
