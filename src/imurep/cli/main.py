"""Command line interface: the ``imurep`` parser and entry point.

The commands live in one module each (:mod:`~imurep.cli.analyze`, :mod:`~imurep.cli.report`,
:mod:`~imurep.cli.live` with ``scan``, :mod:`~imurep.cli.simulate`, :mod:`~imurep.cli.coaching`
with ``exercises``, ``history`` and ``progress``); they only parse arguments and call the library.
Every error a user can cause (:class:`imurep.model.errors.ImurepError`, unreadable or unwritable
files) is reported here as one line ``imurep: error: <message>`` on standard error with exit code
2, never as a traceback.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

from imurep.cli import coaching as coaching_cli
from imurep.cli.analyze import add_paper_arg, add_recording_args, cmd_analyze, sides_list
from imurep.cli.batch import add_batch_command
from imurep.cli.export import add_export_commands
from imurep.cli.live import add_scan_args, add_source_args, cmd_live, cmd_scan
from imurep.cli.report import cmd_report
from imurep.cli.simulate import (
    SIM_DEFAULT_EXERCISE,
    SIM_EXERCISE_ALIASES,
    SIM_EXERCISES,
    SIM_STYLES,
    cmd_simulate,
)
from imurep.cli.suggest import Parser
from imurep.model.codes import DEFAULT_PLACEMENT, PLACEMENTS, SIDES
from imurep.model.errors import ImurepError

logger = logging.getLogger("imurep.cli")

EXIT_OK = 0
EXIT_ERROR = 2


def _version() -> str:
    from importlib import metadata  # ~50 ms: read only when --version is asked for

    try:
        return metadata.version("imurep")
    except metadata.PackageNotFoundError:
        return "0+unknown"


class _VersionAction(argparse.Action):
    """``--version``: prints ``imurep <version>`` and exits (the version is looked up only then)."""

    def __init__(self, option_strings: Sequence[str], dest: str = argparse.SUPPRESS, **kwargs: Any) -> None:
        super().__init__(option_strings, dest=dest, default=argparse.SUPPRESS, nargs=0, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, *args: Any, **kwargs: Any) -> None:
        sys.stdout.write(f"imurep {_version()}\n")
        parser.exit()


# --- parser ------------------------------------------------------------------------------------


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``imurep`` command."""
    common = Parser(add_help=False)
    # SUPPRESS: a -v given before the command is not reset by the command's own default.
    common.add_argument(
        "-v", "--verbose", action="store_true", default=argparse.SUPPRESS, help="log debug details to stderr"
    )

    parser = Parser(
        prog="imurep",
        description="A coach in one motion sensor (IMU) on your hip or thigh: counts your reps, times each "
        "phase (lift, squeeze at the top, lowering), measures how far you move and whether your hips stay "
        "level, and tells you what to fix. Hip thrusts, glute bridges, squats, split squats, step-ups, "
        "single-leg RDLs. Start with: imurep live --simulate recordings/demo_hip.csv (no sensor needed).",
        epilog="Each command has its own help: imurep COMMAND --help.",
        parents=[common],
    )
    parser.add_argument("-V", "--version", action=_VersionAction, help="show the version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser(
        "analyze",
        parents=[common],
        help="analyze a recording and print each set's reps, tempo, range, faults and what to work on",
        description="Analyze a recording (imurep's own CSV, or the export of MetaBase, phyphox, "
        "Sensor Logger or Physics Toolbox: a CSV, folder or zip) and print one table per set: the time of "
        "each phase of every rep, how far you moved (ROM), how level your hips stayed (tilt), the faults, "
        "then cues and whether to progress. The sets are stored in your training history unless --no-store.",
    )
    add_recording_args(p)
    p.add_argument(
        "--json",
        metavar="FILE",
        help="also write the result as JSON to FILE; '-' prints only the JSON to stdout",
    )
    p.add_argument(
        "--report",
        metavar="DIR|FILE",
        help="also render the plot report: a folder (PNG per page + report.pdf + report.html) "
        "or one .pdf, .html or .png (session page) file",
    )
    add_paper_arg(p)
    coaching_cli.add_db_args(p)
    p.set_defaults(func=cmd_analyze)

    r = sub.add_parser(
        "report",
        parents=[common],
        help="analyze a recording and draw its report (PDF, phone-friendly HTML, PNG)",
        description="Analyze a recording and draw its report: one page for the session (left vs right, "
        "advice) and one per set (charts, reps, cues). Nothing is stored in the training history.",
    )
    add_recording_args(r)
    r.add_argument(
        "--out",
        metavar="DIR|FILE",
        help="a folder (set-N.png, session.png, report.pdf, report.html; default: ./<stem>-report/) "
        "or one file: .pdf (all pages), .html (one responsive page, self-contained) or .png (session page)",
    )
    add_paper_arg(r)
    r.add_argument(
        "--progress", action="store_true", help="add the progress page of the exercise's training history"
    )
    coaching_cli.add_db_args(r, store=False)
    r.set_defaults(func=cmd_report)

    s = sub.add_parser(
        "simulate",
        parents=[common],
        help="write a made-up recording to try imurep without a sensor (CSV + sidecar + ground truth)",
        description="Simulate sets of an exercise as a sensor would record them and write OUT.csv, "
        "OUT.json (sidecar) and OUT.truth.json (what really happened).",
    )
    s.add_argument("out", metavar="OUT.csv", help="CSV to write (its folder must exist)")
    s.add_argument(
        "--force", action="store_true", help="overwrite OUT.csv, OUT.json and OUT.truth.json if they exist"
    )
    s.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    s.add_argument("--placement", choices=PLACEMENTS, default=DEFAULT_PLACEMENT, help="sensor placement")
    s.add_argument(
        "--faults",
        metavar="LIST",
        help="faults that may be injected: comma-separated codes (e.g. hip_tilt,rushed_lowering), "
        "'all' (default) or 'none'",
    )
    s.add_argument("--sets", type=_positive_int, metavar="N", help="number of sets (default: 2)")
    s.add_argument("--rate", type=_positive_float, metavar="HZ", help="sample rate, Hz (default: 104)")
    s.add_argument("--no-noise", action="store_true", help="no sensor noise or bias")
    s.add_argument(
        "--exercise",
        choices=SIM_EXERCISES + SIM_EXERCISE_ALIASES,
        metavar="NAME",
        help=f"exercise profile to simulate (default: {SIM_DEFAULT_EXERCISE}): {', '.join(SIM_EXERCISES)}; "
        "hip_thrust and the pause, deficit and banded variants move as the single-leg hip thrust, "
        "glute_bridge and elevated_glute_bridge as the single-leg glute bridge (variant specifics "
        "are not simulated); deprecated: floor_bridge, leg_lift",
    )
    s.add_argument(
        "--style",
        choices=SIM_STYLES,
        metavar="FAMILY",
        help="draw the sets from a family of the style space instead (the way people really lift: "
        f"tempo, pauses, touch-and-go, partial reps, fatigue, strap slip, motion around the sets): "
        f"{', '.join(SIM_STYLES)}; placement, seed, --sets (1-3), --rate (25-400 Hz) and --no-noise "
        "apply, the exercise and faults come from the family",
    )
    s.set_defaults(func=cmd_simulate)

    lv = sub.add_parser(
        "live",
        parents=[common],
        help="coach a live session from a sensor (or a simulated one) and record it",
        description="Connect to a sensor (imurep, MetaMotion, Polar Verity Sense over Bluetooth, or a phone "
        "running phyphox), show rep-by-rep feedback and record the session "
        "(canonical CSV + sidecar, flushed every second). "
        "Keys: n new set, s switch side, q quit; Ctrl-C stops.",
    )
    add_source_args(lv, _positive_float)
    lv.add_argument(
        "--placement",
        choices=PLACEMENTS,
        help="where the sensor sits: hip (on the pelvis, e.g. clipped to the belt at the side) or thigh "
        "(strapped to the working thigh); required, except with --simulate when the recording's "
        "sidecar says it",
    )
    lv_side = lv.add_mutually_exclusive_group()
    lv_side.add_argument("--side", choices=SIDES, help="working leg of the first set")
    lv_side.add_argument(
        "--sides", type=sides_list, metavar="LIST", help="working leg of each set in order, e.g. left,right"
    )
    lv.add_argument(
        "--out", metavar="SESSION.csv", help="recording to write (default: session-<time>.csv here)"
    )
    lv.add_argument("--beep", action="store_true", help="ring the terminal bell on faults")
    lv.add_argument(
        "--voice",
        action="store_true",
        help="speak the rep count, each fault's cue and the set summary (offline: espeak-ng, macOS say or "
        "Windows speech; the bell when none is installed)",
    )
    lv.add_argument("--plain", action="store_true", help="one line per event even on a terminal")
    lv.add_argument("--events", metavar="FILE", help="also write every event as a JSON line to FILE")
    coaching_cli.add_exercise_arg(lv, "with --simulate the recording's sidecar, else single_leg_hip_thrust")
    coaching_cli.add_db_args(lv)
    lv.set_defaults(func=cmd_live)

    sc = sub.add_parser(
        "scan",
        parents=[common],
        help="list the supported sensors in range (kind, name, address, RSSI)",
        description="Scan for Bluetooth sensors imurep can stream from: imurep sensors, MbientLab MetaWear / "
        "MetaMotion boards and Polar Verity Sense.",
    )
    add_scan_args(sc, _positive_float)
    sc.set_defaults(func=cmd_scan)
    history = coaching_cli.add_commands(sub, common)
    add_export_commands(sub, common, history)
    add_batch_command(sub, common, _positive_int)
    return parser


# --- entry point -------------------------------------------------------------------------------


def _configure_logging(verbose: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("imurep: %(levelname)s: %(message)s"))
    root = logging.getLogger("imurep")
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbose else logging.WARNING)
    root.propagate = False


def _error(message: str) -> int:
    sys.stderr.write(f"imurep: error: {' '.join(message.split())}\n")
    return EXIT_ERROR


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``imurep`` command; returns the exit status (0 success, 2 error)."""
    args = build_parser().parse_args(argv)
    _configure_logging(getattr(args, "verbose", False))
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except ImurepError as exc:
        logger.debug("%s", type(exc).__name__)
        return _error(str(exc))
    except BrokenPipeError:
        # The reader went away (e.g. `| head`); keep Python from complaining at exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK
    except OSError as exc:
        logger.debug("%s", type(exc).__name__)
        where = f"{exc.filename}: " if exc.filename else ""
        return _error(f"{where}{exc.strerror or exc}")
    except KeyboardInterrupt:
        sys.stderr.write("imurep: interrupted\n")
        return 130
    except RecursionError:  # a pathologically nested input that slipped past the readers' checks
        return _error("an input (sidecar, settings or catalog) is nested too deeply; simplify it")
