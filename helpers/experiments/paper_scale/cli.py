"""The paper-scale command line, generated from :class:`helpers.experiments.paper_scale.config.PaperScaleConfig`.

``transformers.HfArgumentParser`` turns every field of the dataclass into an option (``--batch-size``
and ``--batch_size`` both work), with the field's default and its ``metadata["help"]``, so no
default or help text is written twice. A ``ValueError`` from the config or the run (a bad
value, a model that cannot be loaded) ends the command like an argparse error: exit code 2 and
the message on stderr.
"""

from __future__ import annotations

import argparse
import os

import pandas as pd
from transformers import HfArgumentParser

from helpers.experiments.paper_scale import __doc__ as OVERVIEW
from helpers.experiments.paper_scale.config import PaperScaleConfig
from helpers.experiments.paper_scale.run import results_path, run
from helpers.learning.results import RESULT_COLUMNS

__all__ = ["PROG", "build_parser", "parse_config", "main", "run_paper_scale"]

PROG = "python -m helpers.experiments.paper_scale"


class _Formatter(argparse.RawDescriptionHelpFormatter):
    """The description's line breaks kept; an option's default shown unless it is None (required or derived)."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if action.default not in (None, argparse.SUPPRESS) and "%(default)" not in text:
            text += " (default: %(default)s)"
        return text


def build_parser() -> HfArgumentParser:
    """The argument parser of :class:`PaperScaleConfig` (one option per field)."""
    return HfArgumentParser(PaperScaleConfig, prog=PROG, description=OVERVIEW, formatter_class=_Formatter)


def parse_config(argv: list[str] | None = None, parser: HfArgumentParser | None = None) -> PaperScaleConfig:
    """The config of a command line; a bad one exits with code 2 and the reason on stderr."""
    parser = parser or build_parser()
    namespace = parser.parse_args(argv)
    try:
        return PaperScaleConfig(**vars(namespace))
    except ValueError as error:
        parser.error(str(error))


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    config = parse_config(argv, parser)
    try:
        rows = run(config)
    except ValueError as error:
        parser.error(str(error))
    if int(os.environ.get("RANK", "0")) == 0 and not config.quiet:
        frame = pd.DataFrame(rows, columns=RESULT_COLUMNS)
        with pd.option_context("display.width", 200, "display.max_columns", 20, "display.float_format", "{:.4f}".format):
            print(frame.to_string(index=False))
        print(f"appended {len(rows)} row(s) to {results_path(config)}")
    return 0


# The command line run in this process, under the flat API's name (notebook 10: ``run_paper_scale([...]) == 0``).
run_paper_scale = main


if __name__ == "__main__":
    raise SystemExit(main())
