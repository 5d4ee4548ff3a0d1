"""Command line interface: ``imurep analyze`` and ``imurep simulate``.

The CLI only parses arguments, configures logging and calls the library.  Every error a user can
cause (:class:`imurep.errors.ImurepError`, unreadable or unwritable files) is reported as one line
``imurep: error: <message>`` on standard error with exit code 2, never as a traceback.
"""

from __future__ import annotations

import argparse
import copy
import difflib
import itertools
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any

from rich.console import Console

from imurep.cli import coaching as coaching_cli
from imurep.model.codes import PLACEMENTS, SIDES
from imurep.model.errors import ImurepError, SettingsError

logger = logging.getLogger("imurep.cli")

EXIT_OK = 0
EXIT_ERROR = 2
DEFAULT_PLACEMENT = "hip"
SIM_EXERCISES = (
    "single_leg_hip_thrust",
    "single_leg_hip_thrust_pause",
    "single_leg_hip_thrust_deficit",
    "single_leg_hip_thrust_banded",
    "hip_thrust",
    "elevated_glute_bridge",
    "glute_bridge",
    "single_leg_glute_bridge",
    "glute_bridge_leg_lift",
)
"""``imurep simulate --exercise`` names: :data:`imurep.sim.EXERCISES` (spelled out so the CLI starts
without importing numpy; a test keeps them equal)."""
SIM_EXERCISE_ALIASES = ("floor_bridge", "leg_lift")
"""Deprecated ``--exercise`` names of ``imurep simulate`` (:data:`imurep.sim.EXERCISE_ALIASES`)."""
SIM_DEFAULT_EXERCISE = "single_leg_hip_thrust"


def _version() -> str:
    try:
        return importlib_metadata.version("imurep")
    except importlib_metadata.PackageNotFoundError:
        return "0+unknown"


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


def _leaf_keys(d: dict[str, Any], prefix: str = "") -> list[str]:
    keys: list[str] = []
    for k, v in d.items():
        if isinstance(v, dict):
            keys.extend(_leaf_keys(v, f"{prefix}{k}."))
        else:
            keys.append(prefix + k)
    return keys


def apply_override(settings: dict[str, Any], key: str, value: Any) -> None:
    """Set the dotted ``key`` (e.g. ``faults.tilt_threshold_deg``) of the nested ``settings`` in place.

    Raises
    ------
    SettingsError
        ``key`` names no existing setting (with the closest known key as a hint).
    """
    node = settings
    parts = key.split(".")
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if part not in node or (not last and not isinstance(node[part], dict)):
            close = difflib.get_close_matches(key, _leaf_keys(settings), n=1, cutoff=0.6)
            if close:
                hint = f"; did you mean {close[0]!r}?"
            else:
                prefix = ".".join(parts[:i]) + "." if i else ""
                hint = f"; known here: {', '.join(prefix + k for k in node)}"
            raise SettingsError(f"unknown setting {key!r}{hint}")
        if last:
            node[part] = value
        else:
            node = node[part]


def _get(settings: dict[str, Any], key: str) -> Any:
    node: Any = settings
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def merge_settings(settings: dict[str, Any], changes: dict[str, Any], prefix: str = "") -> None:
    """Deep-merge the nested ``changes`` into ``settings`` in place; every key must already exist."""
    for k, v in changes.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict) and isinstance(_get(settings, key), dict):
            merge_settings(settings, v, key + ".")
        else:
            apply_override(settings, key, v)


def load_config(path: str) -> dict[str, Any]:
    """Read a settings JSON file (a JSON object, nested by stage)."""
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
    if not isinstance(data, dict):
        raise SettingsError(f"{path}: settings file must hold a JSON object, got a {type(data).__name__}")
    return data


# --- commands ----------------------------------------------------------------------------------


def _cmd_analyze(args: argparse.Namespace) -> int:
    from imurep.io import write_json
    from imurep.report.table import render_table

    if args.json and args.json != "-" and not Path(args.json).resolve().parent.is_dir():
        raise SettingsError(f"--json {args.json}: the folder {Path(args.json).parent} does not exist")
    if args.report:
        from imurep.report.render import check_report_path

        check_report_path(args.report)
    result = _analyze_args(args)
    report_note = _write_report(result, args.report) if args.report else ""
    # Training history (issue 7): stored unless --no-store; the advice uses the stored sessions.
    store_note, sessions = "", None
    if not args.no_store:
        store_note, sessions = coaching_cli.store_result(result, args.db, path=args.path, origin="analyze")

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
        return EXIT_OK
    if args.json:
        write_json(result, args.json, coaching=coaching.to_dict())
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
    return EXIT_OK


def _analyze_args(args: argparse.Namespace) -> Any:
    """Analyse the recording named by ``args`` (the options shared by ``analyze`` and ``report``).

    Returns the :class:`imurep.types.SessionResult`.
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
    from imurep.core.settings import AnalysisSettings

    settings_dict = copy.deepcopy(AnalysisSettings().to_dict())
    if isinstance(meta.get("settings"), dict):  # a live recording keeps the settings it ran with
        merge_settings(settings_dict, meta["settings"])
    # Exercise profile (--exercise, else the sidecar's, else the default): below --config / --set.
    coaching_cli.profile_settings(settings_dict, getattr(args, "exercise", None), meta)
    explicit: dict[str, Any] = {}  # top-level keys the user set through --config / --set
    if args.config:
        config = load_config(args.config)
        merge_settings(settings_dict, config)
        explicit.update(config)
    for item in args.set or []:
        key, value = parse_override(item)
        apply_override(settings_dict, key, value)
        explicit[key.split(".")[0]] = value

    # Placement: --placement > settings file / --set > sidecar > default.
    if args.placement:
        settings_dict["placement"] = args.placement
    elif "placement" not in explicit:
        settings_dict["placement"] = meta.get("placement") or DEFAULT_PLACEMENT
    # Sides: --side > settings file / --set > sidecar "sides" (one per set) or "side" > unknown.
    if args.side:
        settings_dict["sides"] = [args.side]
    elif "sides" not in explicit:
        if meta.get("sides"):
            settings_dict["sides"] = list(meta["sides"])
        elif meta.get("side"):
            settings_dict["sides"] = [meta["side"]]
    settings = AnalysisSettings.from_dict(settings_dict)
    logger.debug("settings: %s", settings.to_dict())

    markers = _markers(meta)
    return analyze(
        itertools.chain([first], chunks),
        settings,
        sample_rate_hz=nominal_rate_hz(meta),
        source=str(path),
        metadata=meta,
        markers=markers,
    )


def _write_report(result: Any, out: str | Path, extra_pages: Any = ()) -> str:
    """Render the plot report of ``result`` to ``out``; returns a line saying where it is."""
    from imurep.report.render import write_report

    files = write_report(result, out, extra_pages=extra_pages)
    names = ", ".join(p.name for p in files.paths) if len(files.paths) <= 4 else f"{len(files.paths)} files"
    return f"report ({files.pages} page(s)) written to {out}: {names}"


def _cmd_report(args: argparse.Namespace) -> int:
    from imurep.report.render import check_report_path

    out = Path(args.out) if args.out else Path(f"{Path(args.path).stem}-report")
    check_report_path(out)
    result = _analyze_args(args)
    extra = coaching_cli.progress_pages(result, args.db) if args.progress else []
    print(_write_report(result, out, extra))
    return EXIT_OK


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


def _cmd_live(args: argparse.Namespace) -> int:
    import asyncio

    from imurep.core.settings import AnalysisSettings
    from imurep.live.session import LiveOptions, PlainView, RichView, run_live

    if args.speed is not None and args.simulate is None:
        raise SettingsError("--speed only applies with --simulate RECORDING.csv")
    if args.out is not None and not Path(args.out).resolve().parent.is_dir():
        raise SettingsError(f"--out {args.out}: the folder {Path(args.out).parent} does not exist")
    settings = AnalysisSettings(placement=args.placement, sides=(args.side,) if args.side else ())
    from imurep.coaching.exercises import get_profile, settings_for

    profile = get_profile(args.exercise)
    settings = settings_for(profile, settings)
    options = LiveOptions(
        device=args.device,
        simulate=Path(args.simulate) if args.simulate else None,
        speed=args.speed or 1.0,
        out=Path(args.out) if args.out else None,
        beep=args.beep,
        events=Path(args.events) if args.events else None,
        exercise=profile.name,
        db=args.db,
        store=not args.no_store,
    )
    view = RichView() if sys.stdout.isatty() and not args.plain else PlainView()
    try:
        asyncio.run(run_live(options, settings, view))
    except KeyboardInterrupt:
        view.status("stopped (Ctrl-C); the recording is saved")
    finally:
        view.close()
    return EXIT_OK


def _cmd_scan(args: argparse.Namespace) -> int:
    import asyncio

    from imurep.ble.client import format_scan, scan

    kwargs: dict[str, Any] = {}
    if args.simulate:
        from imurep.ble.simulated import sensor_from_recording, simulated_backends

        backends = simulated_backends(sensor_from_recording(args.simulate))
        kwargs = {k: backends[k] for k in ("scanner_backend", "backend_kwargs")}
    results = asyncio.run(scan(args.timeout, **kwargs))
    print(format_scan(results))
    return EXIT_OK


def _cmd_simulate(args: argparse.Namespace) -> int:
    from imurep import sim

    options: dict[str, Any] = {"seed": args.seed, "placement": args.placement, "noise": not args.no_noise}
    if args.faults is not None:
        options["faults"] = sim.parse_faults(args.faults)
    if args.sets is not None:
        options["n_sets"] = args.sets
    if args.rate is not None:
        options["sample_rate_hz"] = args.rate
    if args.exercise is not None:
        options["exercise"] = sim.canonical_exercise(args.exercise)
        if options["exercise"] != args.exercise:
            logger.warning(
                "--exercise %s is deprecated; use --exercise %s", args.exercise, options["exercise"]
            )
    sim_settings = sim.SimSettings(**options)
    rec = sim.simulate(sim_settings)
    out = Path(args.out)
    sim.write_recording(rec, out)
    stem = out.with_suffix("")
    n = len(rec.t_s)
    duration = float(rec.t_s[-1] - rec.t_s[0]) if n else 0.0
    print(
        f"wrote {out}, {stem}.json and {stem}.truth.json: {sim_settings.n_sets} set(s), "
        f"{sim_settings.placement}, {n} samples ({duration / 60:.1f} min at "
        f"{sim_settings.sample_rate_hz:g} Hz), faults allowed: {', '.join(sim_settings.faults) or 'none'}"
    )
    return EXIT_OK


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


def _add_recording_args(p: argparse.ArgumentParser) -> None:
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


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``imurep`` command."""
    common = argparse.ArgumentParser(add_help=False)
    # SUPPRESS: a -v given before the command is not reset by the command's own default.
    common.add_argument(
        "-v", "--verbose", action="store_true", default=argparse.SUPPRESS, help="log debug details to stderr"
    )

    parser = argparse.ArgumentParser(
        prog="imurep",
        description="Reps, tempo, range of motion and form faults of the single-leg hip thrust (IMU data).",
        parents=[common],
    )
    parser.add_argument("--version", action="version", version=f"imurep {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser(
        "analyze",
        parents=[common],
        help="analyze a recording (canonical CSV) and print the rep table",
        description="Analyze a canonical recording CSV (t,ax,ay,az,gx,gy,gz) and print one table per set.",
    )
    _add_recording_args(p)
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
    coaching_cli.add_db_args(p)
    p.set_defaults(func=_cmd_analyze)

    r = sub.add_parser(
        "report",
        parents=[common],
        help="analyze a recording and render the plot report (PNG, PDF, HTML)",
        description="Analyze a recording and render one page per set and one for the session.",
    )
    _add_recording_args(r)
    r.add_argument(
        "--out",
        metavar="DIR|FILE",
        help="a folder (set-N.png, session.png, report.pdf, report.html; default: ./<stem>-report/) "
        "or one file: .pdf (all pages), .html (all pages, self-contained) or .png (the session page)",
    )
    r.add_argument(
        "--progress", action="store_true", help="add the progress page of the exercise's training history"
    )
    coaching_cli.add_db_args(r, store=False)
    r.set_defaults(func=_cmd_report)

    s = sub.add_parser(
        "simulate",
        parents=[common],
        help="write a simulated recording (CSV + sidecar + ground truth)",
        description="Simulate sets of an exercise of the hip-thrust family and write OUT.csv, OUT.json "
        "(sidecar: its exercise is the profile the analysis uses) and OUT.truth.json.",
    )
    s.add_argument("out", metavar="OUT.csv", help="CSV to write")
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
    s.set_defaults(func=_cmd_simulate)

    lv = sub.add_parser(
        "live",
        parents=[common],
        help="coach a live session from a sensor (or a simulated one) and record it",
        description="Connect to an imurep sensor, show rep-by-rep feedback and record the session "
        "(canonical CSV + sidecar, flushed every second). "
        "Keys: n new set, s switch side, q quit; Ctrl-C stops.",
    )
    lv.add_argument("--device", metavar="NAME|ADDRESS", help="sensor to use (default: the first one found)")
    lv.add_argument(
        "--simulate",
        metavar="RECORDING.csv",
        help="play this recording through the simulated sensor (no hardware)",
    )
    lv.add_argument(
        "--speed", type=_positive_float, metavar="X", help="playback speed with --simulate (default 1)"
    )
    lv.add_argument("--placement", choices=PLACEMENTS, required=True, help="where the sensor sits")
    lv.add_argument("--side", choices=SIDES, help="working leg of the first set")
    lv.add_argument(
        "--out", metavar="SESSION.csv", help="recording to write (default: session-<time>.csv here)"
    )
    lv.add_argument("--beep", action="store_true", help="ring the terminal bell on faults")
    lv.add_argument("--plain", action="store_true", help="one line per event even on a terminal")
    lv.add_argument("--events", metavar="FILE", help="also write every event as a JSON line to FILE")
    coaching_cli.add_exercise_arg(lv)
    coaching_cli.add_db_args(lv)
    lv.set_defaults(func=_cmd_live)

    sc = sub.add_parser(
        "scan",
        parents=[common],
        help="list imurep sensors in range (name, address, RSSI, battery)",
        description="Scan for sensors advertising the imurep BLE service.",
    )
    sc.add_argument(
        "--timeout", type=_positive_float, default=5.0, metavar="S", help="scan time, s (default 5)"
    )
    sc.add_argument(
        "--simulate", metavar="RECORDING.csv", help="scan a simulated sensor playing RECORDING (no hardware)"
    )
    sc.set_defaults(func=_cmd_scan)
    coaching_cli.add_commands(sub, common)
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
