"""``imurep analyze``, and what it shares with ``imurep report``: the recording and settings
options, reading a recording, resolving its settings and analysing it."""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

from rich.console import Console

from imurep.cli import coaching as coaching_cli
from imurep.model.codes import DEFAULT_PLACEMENT, PLACEMENTS, SIDES
from imurep.model.errors import HistoryError, SettingsError

logger = logging.getLogger(__name__)


# --- options -----------------------------------------------------------------------------------


def add_recording_args(p: argparse.ArgumentParser) -> None:
    """The recording and settings options shared by ``analyze`` and ``report``."""
    p.add_argument(
        "path",
        metavar="PATH",
        help="recording: a CSV, or the folder/zip of an export (a <stem>.json sidecar is read if present)",
    )
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
    p.add_argument("--side", choices=SIDES, help="working leg of every set (default: from the sidecar)")
    p.add_argument("--config", metavar="SETTINGS.json", help="settings file (JSON object, nested by stage)")
    p.add_argument(
        "--set",
        action="append",
        metavar="KEY=VALUE",
        help="override one setting, e.g. faults.tilt_threshold_deg=6 (repeatable; VALUE is JSON or text)",
    )
    coaching_cli.add_exercise_arg(p)


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


def _markers(meta: dict[str, Any]) -> list[Any]:
    """The lifter's markers (new set / side switch) saved by ``imurep live`` in the sidecar."""
    from imurep.model.events import Marker

    raw = meta.get("markers") or []
    if not isinstance(raw, list):
        raise SettingsError("sidecar 'markers' must be a list of {t_s, kind, side} objects")
    try:
        return [Marker(float(m["t_s"]), str(m["kind"]), m.get("side")) for m in raw]
    except (KeyError, TypeError, ValueError) as exc:
        raise SettingsError(
            f"sidecar 'markers' entry is malformed ({exc}); expected {{t_s, kind, side}}"
        ) from None


# --- analysis ----------------------------------------------------------------------------------


def analyze_args(args: argparse.Namespace, keep_traces: bool = True) -> Any:
    """Analyse the recording named by ``args`` (the options shared by ``analyze`` and ``report``);
    ``keep_traces``: keep the sets' angle traces (needed by a plot report only).

    Returns the :class:`imurep.model.results.SessionResult`.
    """
    from imurep.io import nominal_rate_hz, open_recording

    path = Path(args.path)
    # Read the first chunk before importing the (slower to import) core, so that a bad file is
    # reported at once; the rest of the file is streamed through the analysis.
    # Any format (canonical CSV, MetaBase, phyphox, Sensor Logger, Physics Toolbox; see
    # docs/formats.md); metadata holds {"format": ...} plus the sidecar.
    recording = open_recording(path, getattr(args, "format", None))
    chunks = recording.chunks
    first = next(chunks)
    meta = recording.metadata

    from imurep.core.pipeline import analyze
    from imurep.core.settings import resolve

    # Exercise profile (--exercise, else the sidecar's, else the default): below --config / --set.
    profile = coaching_cli.exercise_profile(getattr(args, "exercise", None), meta)
    config = load_config(args.config) if args.config else None
    settings = resolve(
        sidecar=meta,  # a live recording keeps the settings it ran with; placement, side(s)
        profile=profile.settings_overrides(),
        config=config,
        overrides=[parse_override(item) for item in args.set or []],
        placement=args.placement,
        sides=[args.side] if args.side else None,
    )
    logger.debug("settings: %s", settings.to_dict())

    markers = _markers(meta)
    return analyze(
        itertools.chain([first], chunks),
        settings,
        sample_rate_hz=nominal_rate_hz(meta),
        source=str(path),
        metadata=meta,
        markers=markers,
        keep_traces=keep_traces,
    )


def write_report_note(result: Any, out: str | Path, extra_pages: Any = ()) -> str:
    """Render the plot report of ``result`` to ``out``; returns a line saying where it is."""
    from imurep.report.render import write_report

    files = write_report(result, out, extra_pages=extra_pages)
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
    result = analyze_args(args, keep_traces=bool(args.report))  # traces only for a report
    report_note = write_report_note(result, args.report) if args.report else ""
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
    console = Console()
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
