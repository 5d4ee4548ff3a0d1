"""``imurep analyze``, and what it shares with ``imurep report``: the recording and settings
options, reading a recording, resolving its settings and analysing it."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

from imurep.cli import coaching as coaching_cli
from imurep.model.codes import DEFAULT_PLACEMENT, PLACEMENTS, SIDES
from imurep.model.errors import HistoryError, SettingsError

logger = logging.getLogger(__name__)


# --- options -----------------------------------------------------------------------------------


def add_recording_args(p: argparse.ArgumentParser, *, many: str | None = None) -> None:
    """The recording and settings options shared by ``analyze``, ``report``, ``export`` and
    ``batch``; ``many``: the help of a ``paths`` positional taking one or more recordings."""
    if many is None:
        p.add_argument(
            "path",
            metavar="PATH",
            help="recording: a CSV, or the folder/zip of an export (a <stem>.json sidecar is read if "
            "present)",
        )
    else:
        p.add_argument("paths", metavar="PATH", nargs="+", help=many)
    p.add_argument(
        "--format",
        choices=("auto", "canonical", "metabase", "phyphox", "sensor_logger", "physics_toolbox"),
        default="auto",
        help="recording format (default: auto-detect; see docs/formats.md)",
    )
    p.add_argument(
        "--placement",
        choices=PLACEMENTS,
        help=f"where the sensor sat (default: the sidecar's, else {DEFAULT_PLACEMENT})",
    )
    side = p.add_mutually_exclusive_group()
    side.add_argument("--side", choices=SIDES, help="working leg of every set (default: from the sidecar)")
    side.add_argument(
        "--sides",
        type=sides_list,
        metavar="LIST",
        help="working leg of each set in order, e.g. left,right,left (default: from the sidecar)",
    )
    p.add_argument("--config", metavar="SETTINGS.json", help="settings file (JSON object, nested by stage)")
    p.add_argument(
        "--set",
        action="append",
        metavar="KEY=VALUE",
        help="override one setting, e.g. faults.tilt_threshold_deg=6 (repeatable; VALUE is JSON or text)",
    )
    coaching_cli.add_exercise_arg(p)


def add_paper_arg(p: argparse.ArgumentParser) -> None:
    """``--paper a4|letter`` (the PDF report's page size)."""
    p.add_argument(
        "--paper",
        choices=("a4", "letter"),
        default="a4",
        help="page size of the PDF report (default: a4; every page is scaled to fit)",
    )


def sides_list(text: str) -> list[str]:
    """``"left,right"`` → ``["left", "right"]`` (argparse type of ``--sides``)."""
    items = [t.strip().lower() for t in text.split(",") if t.strip()]
    bad = [t for t in items if t not in SIDES]
    if not items or bad:
        raise argparse.ArgumentTypeError(
            f"expected a comma-separated list of {' or '.join(SIDES)}, e.g. left,right (got {text!r})"
        )
    return items


def sides_of(args: argparse.Namespace) -> list[str] | None:
    """The per-set sides asked for on the command line (``--side`` or ``--sides``; None: neither)."""
    if getattr(args, "side", None):
        return [args.side]
    sides: list[str] | None = getattr(args, "sides", None)
    return sides


# --- settings ----------------------------------------------------------------------------------


def parse_override(text: str) -> tuple[str, Any]:
    """Split ``KEY=VALUE``; the value is parsed as JSON when it parses, else kept as a string.

    >>> parse_override("faults.tilt_threshold_deg=6")
    ('faults.tilt_threshold_deg', 6)
    """
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise SettingsError(f"--set expects KEY=VALUE (e.g. faults.tilt_threshold_deg=6), got {text!r}")
    try:
        value: Any = json.loads(raw)
    except json.JSONDecodeError:
        value = raw
    return key, value


def load_config(path: str) -> dict[str, Any]:
    """Read a settings JSON file (a JSON object, nested by stage)."""
    if Path(path).exists() and not Path(path).is_file():
        raise SettingsError(f"{path}: the settings file is not a regular file; pass a JSON file")
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SettingsError(f"{path}: settings file not found") from None
    except UnicodeDecodeError:
        raise SettingsError(f"{path}: settings file is not UTF-8 text") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SettingsError(
            f"{path}: settings file is not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
        ) from None
    except RecursionError:
        raise SettingsError(f"{path}: settings file is nested too deeply to be settings") from None
    if not isinstance(data, dict):
        raise SettingsError(f"{path}: settings file must hold a JSON object, got a {type(data).__name__}")
    return data


# --- analysis ----------------------------------------------------------------------------------


def analysis_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    """The keyword arguments of :func:`imurep.api.analyze` named by the recording options."""
    return {
        "format": getattr(args, "format", None),
        "placement": args.placement,
        "exercise": getattr(args, "exercise", None),
        "side": getattr(args, "side", None),
        "sides": getattr(args, "sides", None),
        "settings": load_config(args.config) if args.config else None,
        "overrides": [parse_override(item) for item in args.set or []],
    }


def analyze_args(args: argparse.Namespace, path: str | None = None, keep_traces: bool = True) -> Any:
    """Analyse the recording named by ``args`` (the options shared by ``analyze`` and ``report``;
    ``path`` instead of ``args.path`` when given) with :func:`imurep.api.analyze`;
    ``keep_traces``: keep the sets' angle traces (needed by a plot report only).

    Returns the :class:`imurep.api.Analysis`.
    """
    from imurep.api import analyze

    return analyze(args.path if path is None else path, keep_traces=keep_traces, **analysis_kwargs(args))


def write_report_note(
    result: Any, out: str | Path, extra_pages: Any = (), *, coaching: Any = None, paper: str = "a4"
) -> str:
    """Render the plot report of ``result`` to ``out`` (with ``coaching``'s cues and advice when
    given); returns a line saying where it is."""
    from imurep.report.render import write_report

    files = write_report(result, out, extra_pages=extra_pages, coaching=coaching, paper=paper)
    names = ", ".join(p.name for p in files.paths) if len(files.paths) <= 4 else f"{len(files.paths)} files"
    return f"report ({files.pages} page(s)) written to {out}: {names}"


# --- the command -------------------------------------------------------------------------------


def check_output_file(path: str | Path, option: str) -> None:
    """Refuse an output file that cannot be written (missing folder, a folder, no permission)
    before anything is analysed or stored."""
    import tempfile

    p = Path(path)
    if not p.resolve().parent.is_dir():
        raise SettingsError(f"{option} {path}: the folder {p.parent} does not exist")
    if p.is_dir():
        raise SettingsError(f"{option} {path}: is a folder; name a file")
    if p.exists() and not os.access(p, os.W_OK):
        raise SettingsError(f"{option} {path}: the file is read-only")
    try:
        with tempfile.NamedTemporaryFile(dir=p.resolve().parent, prefix=".imurep-check-"):
            pass
    except OSError as exc:
        raise SettingsError(f"{option} {path}: cannot write in {p.parent} ({exc.strerror or exc})") from None


def cmd_analyze(args: argparse.Namespace) -> int:
    """``imurep analyze``: the rep table (and JSON, report), stored in the training history."""
    from imurep.io import write_json
    from imurep.report.table import render_table

    if args.json and args.json != "-":
        check_output_file(args.json, "--json")
    if args.report:
        from imurep.report.render import check_report_path

        check_report_path(args.report)
    result = analyze_args(args, keep_traces=bool(args.report)).result  # traces only for a report
    # Training history (issue 7): stored unless --no-store; the advice uses the stored sessions.
    store_note, sessions = "", None
    if not args.no_store:
        try:
            store_note, sessions = coaching_cli.store_result(
                result, args.db, path=args.path, origin="analyze"
            )
        except HistoryError as exc:  # the analysis is still shown; the history is not needed for it
            store_note = f"warning: could not store the session in the training history: {exc}"

    # Cues and advice: computed once, for the JSON ("coaching") and the text under the table.
    from imurep.coaching.advice import coach
    from imurep.coaching.exercises import load_catalog

    catalog = load_catalog()
    coaching = coach(result, catalog.get(result.metadata["exercise"]), sessions, catalog=catalog)
    report_note = (
        write_report_note(result, args.report, coaching=coaching, paper=args.paper) if args.report else ""
    )
    if args.json == "-":
        write_json(result, "-", coaching=coaching.to_dict())
        for note in (report_note, store_note):
            if note:
                sys.stderr.write(note + "\n")
        return 0
    if args.json:
        try:
            write_json(result, args.json, coaching=coaching.to_dict())
        except OSError as exc:
            stored = " (the session is stored in the training history)" if sessions is not None else ""
            raise SettingsError(
                f"--json {args.json}: cannot write it ({exc.strerror or exc}){stored}"
            ) from None
    console = coaching_cli.cli_console()
    render_table(result, console)
    if result.sets:
        console.print()
        for line in coaching_cli.coaching_lines(result, coaching=coaching):
            console.print(line, highlight=False)
    if args.json:
        console.print(f"\nJSON written to {args.json}")
    if report_note:
        console.print(f"\n{report_note}", highlight=False)
    if store_note:
        console.print(f"\n{store_note}", highlight=False)
    return 0
