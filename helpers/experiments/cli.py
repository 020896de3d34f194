"""``python -m helpers.experiments``: a preset's fine-tuned grid into ``results.csv``, a share of a class's grid with
``--share K/N``, and a hand-in (``handin.json``) beside it.

The presets and their grids: ``helpers.experiments.presets`` and ``helpers.experiments.grid``. With ``--share K/N``
the command trains share K of a class of N (whole seeds: every method of a seed, and the teachers those runs need;
see ``helpers.experiments.shares``); ``python -m helpers.experiments.pool`` merges the class's hand-ins.

Usage::

    python -m helpers.experiments --task trec --preset classroom --out build/reproduce
    python -m helpers.experiments --preset classroom --share 3/30 --precision fp32 --out share
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import sys
from pathlib import Path

import pandas as pd

from helpers.experiments.commandline import check_environment, check_out, filesystem_error
from helpers.experiments.grid import describe_run, main_grid, teacher_configs
from helpers.experiments.handin import write_handin
from helpers.experiments.presets import PRESETS, Preset, get_preset
from helpers.experiments.runner import run_grid
from helpers.experiments.shares import Share, share_preset, share_text
from helpers.experiments.sweeps import kd_expectations
from helpers.infrastructure.settings import setting
from helpers.learning.results import RESULT_COLUMNS, results_frame, write_results
from helpers.reporting.findings import claim_a_markdown
from helpers.reporting.verdicts import claim_a_text, verdict_table

__all__ = ["MAX_SEED", "preset_from_arguments", "verdict_text", "main"]

MAX_SEED = 2**32
_RANGE = re.compile(r"(\d+)-(\d+)")


def _numbers(kind: type, name: str):
    def parse(text: str) -> tuple:
        values: list = []
        try:
            for part in text.replace(",", " ").split():
                ends = _RANGE.fullmatch(part) if kind is int else None
                if ends and int(ends.group(1)) > int(ends.group(2)):
                    raise ValueError
                values += range(int(ends.group(1)), int(ends.group(2)) + 1) if ends else [kind(part)]
        except ValueError:
            example = "'0,1,2' or '0-29'" if kind is int else "'0.1,0.5'"
            raise argparse.ArgumentTypeError(f"{name} must be a list of {kind.__name__}s like {example}, got {text!r}") from None
        if not values:
            raise argparse.ArgumentTypeError(f"{name} is empty")
        return tuple(dict.fromkeys(values))
    return parse


def _words(text: str) -> tuple[str, ...]:
    return tuple(part for part in text.replace(",", " ").split())


def _share(text: str) -> Share:
    try:
        return Share.parse(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m helpers.experiments", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--task", default="trec", help="trec, rotten_tomatoes or a CSV path with text,label columns")
    parser.add_argument("--preset", default=None, help=f"one of {', '.join(PRESETS)} (default: $KDLS_PRESET or classroom)")
    parser.add_argument("--out", default="build/reproduce", type=Path,
                        help="output folder for results.csv (created; rows of other runs already there are kept)")
    parser.add_argument("--methods", type=_words, help="methods besides the ERM baseline, e.g. 'ls,kd' (default: the preset's)")
    parser.add_argument("--alpha", type=_numbers(float, "--alpha"),
                        help="α values (weight of the soft part) for every LS and KD run, e.g. '0.1,0.5'")
    parser.add_argument("--temperature", type=_numbers(float, "--temperature"), help="KD temperatures, e.g. '1,4'")
    parser.add_argument("--seeds", type=_numbers(int, "--seeds"), help="seeds in [0, 2**32), e.g. '0,1,2' or '0-29'")
    parser.add_argument("--students", type=_words,
                        help="student models: L1..L6, scratch or the folder of a saved model, e.g. 'L1,L2'")
    parser.add_argument("--precision", choices=("auto", "fp32", "bf16"), default=None,
                        help="training precision (default: $KDLS_PRECISION or auto: bf16 where the CPU has it natively)")
    parser.add_argument("--share", type=_share, metavar="K/N",
                        help="train only share K of a class of N (whole seeds: the preset's seeds, widened to N when "
                             "fewer, or the given --seeds) and hand in OUT/handin.json; e.g. '3/30'")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    return parser


def preset_from_arguments(args: argparse.Namespace) -> Preset:
    """The preset named by ``--preset`` with the grid options that were given overriding it (validated)."""
    if args.preset is not None and args.preset not in PRESETS:
        raise ValueError(f"unknown preset {args.preset!r}; choose one of {', '.join(PRESETS)}")
    preset = get_preset(args.preset)
    changes: dict = {}
    if args.methods is not None:
        changes["methods"] = tuple(dict.fromkeys(("erm", *args.methods)))
    if args.alpha is not None:
        changes["ls_alphas"] = changes["kd_alphas"] = args.alpha
    if args.temperature is not None:  # the given temperatures, from every teacher
        changes["kd_temperatures"], changes["extreme_temperatures"] = args.temperature, ()
    if args.seeds is not None:
        bad = [seed for seed in args.seeds if not 0 <= seed < MAX_SEED]
        if bad:
            raise ValueError(f"--seeds must be integers in [0, 2**32) (NumPy's and torch's seed range), got {bad[0]}")
        changes["seeds"] = args.seeds
    if args.students is not None:
        for student in args.students:
            _check_model_name(student, "--students")
        changes["students"] = args.students
    return preset.replace(**changes) if changes else preset



def _check_model_name(name: str, option: str) -> None:
    """``L<k>``, ``scratch``, an existing model folder, or (with ``KDLS_ALLOW_HUB=1``) a hub name; else ``ValueError``."""
    if re.fullmatch(r"L\d+", name) or name == "scratch" or Path(name).expanduser().is_dir():
        return  # L0 and L7 are refused by TrainConfig with the range in the message
    if setting("allow_hub") and "/" in name:
        return
    hub = "" if setting("allow_hub") else " (hub names need KDLS_ALLOW_HUB=1)"
    raise ValueError(f"{option}: unknown model {name!r}: use L1..L6, scratch or the folder of a saved model{hub}")



def main(argv: list[str] | None = None) -> int:
    """The command line: every check before anything trains, then the grid, then results.csv (merged) and handin.json.

    Exit status 0, or 2 with one line on stderr: a bad option or environment variable (before training),
    or a file-system fault (a cache record, results.csv or handin.json that cannot be written).
    ``--precision`` holds for this call only (``$KDLS_PRECISION`` is restored afterwards).
    """
    parser = _parser()
    args = parser.parse_args(argv)
    out = Path(args.out).expanduser()
    check_environment(parser)
    try:
        whole = preset_from_arguments(args)
        preset = share_preset(whole, args.share, seeds_given=args.seeds is not None)
        grid = main_grid(args.task, preset)
    except ValueError as error:
        parser.error(str(error))
    check_out(parser, out)
    if args.share is not None:
        print(share_text(args.share, whole, seeds_given=args.seeds is not None), file=sys.stderr, flush=True)
    previous = os.environ.get("KDLS_PRECISION")
    if args.precision is not None:
        os.environ["KDLS_PRECISION"] = args.precision
    try:
        return _run_and_report(parser, args, preset, grid, out)
    finally:
        if previous is None:
            os.environ.pop("KDLS_PRECISION", None)
        else:
            os.environ["KDLS_PRECISION"] = previous


def _run_and_report(parser: argparse.ArgumentParser, args: argparse.Namespace, preset: Preset,
                    grid: list, out: Path) -> int:
    print(describe_run(args.task, preset, grid), file=sys.stderr, flush=True)
    try:
        records = run_grid(grid, progress=not args.quiet)
    except ValueError as error:
        parser.error(str(error))
    except OSError as error:
        return filesystem_error(parser, error, out)
    teachers = teacher_configs(args.task, preset)
    frame = results_frame(records, teachers=teachers)
    command = f"{parser.prog} {shlex.join(_argv(args))}"
    try:
        path = write_results(frame, out / "results.csv", merge=True)
        handin = write_handin(records, out, teachers=teachers, preset=preset, share=args.share, command=command)
    except OSError as error:
        return filesystem_error(parser, error, Path(error.filename or out))
    except ValueError as error:
        print(f"{parser.prog}: error: {error}", file=sys.stderr, flush=True)
        return 2
    with pd.option_context("display.width", 200, "display.max_columns", 20, "display.float_format", "{:.4f}".format):
        print(f"\n{describe_run(args.task, preset, grid)}\n")
        print(frame[RESULT_COLUMNS].drop(columns=["tier", "task"]).to_string(index=False))
    print(verdict_text(frame, kd_expectations(records)))
    print(f"\nwrote {path}")
    print(f"hand-in: {handin} ({len(records)} runs" + (f", share {args.share}" if args.share else "") + ")")
    return 0


def _argv(args: argparse.Namespace) -> list[str]:
    """The options that shaped this run, as a command line (for the hand-in's record of how it was made)."""
    words = ["--task", str(args.task), "--out", str(args.out)]
    for name in ("preset", "methods", "alpha", "temperature", "seeds", "students", "precision", "share"):
        value = getattr(args, name)
        if value is not None:
            text = ",".join(f"{v:g}" if isinstance(v, float) else str(v) for v in value) \
                if isinstance(value, tuple) else str(value)
            words += [f"--{name}", text]
    return words


def verdict_text(frame: pd.DataFrame, expectations: pd.DataFrame | None = None) -> str:
    """Paired entropy differences (method − ERM) of the student rows of ``frame``, each judged against the
    pre-declared predictions (``helpers.maths.hypotheses``; KD's from ``expectations``, ``helpers.experiments.sweeps.kd_expectations``),
    then the family's summary. ``frame`` is in the ``results.csv`` schema; teacher rows are left out."""
    students = frame[frame["role"] == "student"]
    verdicts = verdict_table(students, expectations)
    if verdicts.empty:
        return "\nNo LS or KD runs with an ERM baseline: no verdict."
    lines = ["", "Test entropy against ERM (same student and seed), with the predictions:",
             *[f"* {s}" for s in claim_a_text(verdicts).splitlines()],
             *[f"* {s}" for s in verdicts[verdicts["method"] == "ls"]["statement"]],
             "", claim_a_markdown(verdicts).replace("**", "")]
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
