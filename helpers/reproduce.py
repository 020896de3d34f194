"""``make reproduce``: the kit's main job on one preset, into one output folder."""

from __future__ import annotations

import argparse
from pathlib import Path

from helpers.experiments import main as run_experiments


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m helpers.reproduce", description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("build/reproduce"))
    parser.add_argument("--preset", default=None)
    args = parser.parse_args(argv)
    extra = ["--preset", args.preset] if args.preset else []
    return run_experiments(["--task", "trec", "--out", str(args.out), *extra])


if __name__ == "__main__":
    raise SystemExit(main())
