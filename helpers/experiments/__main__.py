"""``python -m helpers.experiments``: a preset's grid into ``results.csv`` (see :mod:`helpers.experiments.cli`)."""

from helpers.experiments.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
