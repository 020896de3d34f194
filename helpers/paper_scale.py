"""``python -m helpers.paper_scale``: the paper-scale command line (see :mod:`helpers.paper`).

This module only forwards to :func:`helpers.paper.cli.main`, so that ``python -m``, ``torchrun -m`` and
``accelerate launch -m`` keep their short name and a notebook can call ``paper_scale.main([...])``.
Everything else lives in :mod:`helpers.paper` (``config``, ``data``, ``run``, ``sources``, ``cli``).
"""

from __future__ import annotations

from helpers.paper.cli import main

__all__ = ["main"]

if __name__ == "__main__":
    raise SystemExit(main())
