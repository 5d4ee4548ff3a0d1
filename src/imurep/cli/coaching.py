"""Command-line parts of the coaching features: ``imurep exercises``, ``history``, ``progress``,
and the ``--exercise`` / ``--db`` / ``--no-store`` options of ``analyze`` and ``live``.

Kept apart from :mod:`imurep.cli` so that the CLI module only wires them in.
"""

from __future__ import annotations

import argparse
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from imurep.model.codes import SIDES

if TYPE_CHECKING:
    from rich.console import Console

    from imurep.coaching.advice import Coaching, SetStats
    from imurep.coaching.exercises import ExerciseProfile
    from imurep.model.results import SessionResult
    from imurep.report.render import ReportPage

logger = logging.getLogger(__name__)


# --- options shared with analyze / report / live -----------------------------------------------


def add_exercise_arg(
    p: argparse.ArgumentParser, default: str = "the recording's sidecar, else single_leg_hip_thrust"
) -> None:
    """``--exercise NAME``; ``default`` says what is used without it."""
    p.add_argument(
        "--exercise",
        metavar="NAME",
        help=f"the exercise you did, e.g. hip_thrust or a unique part of a name such as 'pause' "
        f"(default: {default}; list: imurep exercises)",
    )


def cli_console() -> Console:
    """The console of the commands' output: on a terminal its width; piped or redirected, lines are
    not wrapped (no 80-column breaks mid-phrase) and tables take their natural width."""
    from rich.console import Console

    out = Console()
    if out.is_terminal:
        return out
    return Console(width=max(out.width, 200) if "COLUMNS" not in os.environ else None, soft_wrap=True)


def add_db_args(p: argparse.ArgumentParser, *, store: bool = True) -> None:
    """``--db PATH`` (and ``--no-store`` when ``store``)."""
    p.add_argument(
        "--db",
        metavar="PATH",
        help="training-history database (default: $IMUREP_DB, else ~/.local/share/imurep/history.sqlite)",
    )
    if store:
        p.add_argument(
            "--no-store", action="store_true", help="do not store the sets in the training history"
        )


def coaching_lines(
    result: SessionResult,
    profile: ExerciseProfile | None = None,
    history_sessions: list[list[SetStats]] | None = None,
    *,
    coaching: Coaching | None = None,
) -> list[str]:
    """Cue lines per set and the progression advice, as printed under the rep table.

    Parameters
    ----------
    result
        The analysis (:class:`~imurep.types.SessionResult`).
    profile
        Its exercise (:class:`~imurep.exercises.ExerciseProfile`; None: the one named in
        ``result.metadata["exercise"]``).
    history_sessions
        The sessions the advice is based on (None or empty: ``result`` only).
    coaching
        The :class:`~imurep.coaching.Coaching` of ``result`` when already computed (e.g. for the
        JSON output); ``profile`` and ``history_sessions`` are then not used.
    """
    from imurep.coaching.advice import coach
    from imurep.coaching.exercises import load_catalog

    if coaching is None:
        catalog = load_catalog()
        profile = profile or catalog.get(result.metadata.get("exercise"))
        coaching = coach(result, profile, history_sessions, catalog=catalog)
    from imurep.coaching.trends import left_right_line

    lines: list[str] = []
    if line := left_right_line(result):
        lines += [line, ""]
    for s in coaching.sets:
        if s.cues:
            lines.append(f"Set {s.index} cues:")
            lines.extend(f"  - {c.text}" for c in s.cues)
    advice_lines = coaching.advice.lines()
    lines.append("")
    lines.append(f"Progression ({coaching.exercise_title}): " + advice_lines[0])
    lines.extend(advice_lines[1:])
    return lines


def store_result(
    result: SessionResult, db: str | None, *, path: str | Path | None, origin: str
) -> tuple[str, list[list[SetStats]]]:
    """Store ``result`` in the history; returns a note for the user and the open history's
    sessions of the exercise (input to the advice)."""
    from imurep.coaching.history import History, content_hash, recorded_at_of

    key = content_hash(path) if path is not None and Path(path).exists() else None
    with History(db) as h:
        outcome = h.store(result, key=key, recorded_at=recorded_at_of(result, path), origin=origin)
        sessions = h.sessions_of(result.metadata.get("exercise") or "")
        where = h.path
    verb = "updated" if outcome.replaced else "stored"
    return f"{outcome.n_sets} set(s) {verb} in the training history ({where})", sessions


def progress_pages(result: SessionResult, db: str | None) -> list[ReportPage]:
    """The progress page of ``result``'s exercise from the history (``[]`` when it holds no sets)."""
    from imurep.coaching.exercises import load_catalog
    from imurep.coaching.history import History
    from imurep.report.progress_page import progress_page

    catalog = load_catalog()
    profile = catalog.get(result.metadata.get("exercise"))
    with History(db) as h:
        rows = h.sets(profile.name)
        sessions = h.sessions_of(profile.name)
    if not rows:
        logger.warning("no %s sets in the training history yet: no progress page", profile.name)
        return []
    return [progress_page(rows, profile, sessions, catalog=catalog)]


# --- commands --------------------------------------------------------------------------------------


def _cmd_exercises(args: argparse.Namespace) -> int:
    from rich.table import Table

    from imurep.coaching.exercises import load_catalog

    catalog = load_catalog()
    console = cli_console()
    table = Table(box=None, padding=(0, 1), pad_edge=False, header_style="bold")
    for col in ("Name", "Legs", "Reps", "Hold s", "Down s", "Tilt °", "ROM °"):
        table.add_column(col, no_wrap=True, min_width=len(col))
    for p in catalog.profiles.values():
        table.add_row(
            p.name + (" *" if p.name == catalog.default else ""),
            str(p.legs),
            f"{p.rep_range[0]}–{p.rep_range[1]}",
            f"≥ {p.min_top_hold_s:g}",
            f"≥ {p.min_eccentric_s:g}",
            f"≤ {p.tilt_threshold_deg:g}",
            f"{p.rom_deg[0]:g}–{p.rom_deg[1]:g}",
        )
    console.print(table)
    console.print(
        "* default.  Use with --exercise NAME (analyze, report, live; a unique part such as "
        "'pause' is enough).\n",
        highlight=False,
    )
    for p in catalog.profiles.values():
        ladder = f"harder: {p.harder or '— (add load)'}; easier: {p.easier or '—'}"
        console.print(f"[bold]{p.name}[/bold]: {p.title} — {ladder}", highlight=False)
        if args.details:
            console.print(f"  setup: {p.setup}", highlight=False)
            console.print(f"  faults and cues: {', '.join(p.faults)}", highlight=False)
            order = p.phase_order.replace("_", " ")
            console.print(f"  sensor: {', '.join(p.placements)}; phases: {order}", highlight=False)
            for key, reason in p.reasons.items():
                console.print(f"  {key}: {reason}", highlight=False)
    if args.details:
        console.print("\n[bold]progression rules[/bold]")
        for key, reason in catalog.rules.reasons.items():
            console.print(f"  {key} = {getattr(catalog.rules, key)!r}: {reason}", highlight=False)
    else:
        console.print("\n--details: the setup and the reason for every number, and the progression rules.")
    return 0


def _cmd_history(args: argparse.Namespace) -> int:
    from rich.table import Table

    from imurep.coaching.history import History

    console = cli_console()
    exercise = None
    if args.exercise is not None:  # a known name (or a unique part of one), else an error
        from imurep.coaching.exercises import get_profile

        exercise = get_profile(args.exercise).name
    with History(args.db) as h:
        sessions = h.sessions(exercise)
        sets = h.sets(exercise) if args.sets else []
        where = h.path
    if not sessions:
        what = f"no {exercise} sessions" if exercise else "no sessions"
        console.print(f"{what} in {where} yet — `imurep analyze` stores each recording", highlight=False)
        return 0
    table = Table(
        box=None, padding=(0, 1), pad_edge=False, header_style="bold", title=f"Training history ({where})"
    )
    for col in ("#", "Date", "Exercise", "Sets", "Reps", "Clean", "Via", "Recording"):
        table.add_column(
            col,
            no_wrap=True,
            overflow="ellipsis",
            min_width={"Recording": None, "Date": 10}.get(col, len(col)),
        )
    for s in sessions:
        table.add_row(
            str(s.id),
            s.recorded_at.strftime("%Y-%m-%d"),
            s.exercise,
            str(s.n_sets),
            str(s.reps),
            str(s.clean_reps),
            s.origin,
            Path(s.source).name,
        )
    console.print(table)
    if sets:
        st = Table(box=None, padding=(0, 1), pad_edge=False, header_style="bold", title="Sets")
        for col in ("Session", "Set", "Side", "Reps", "Clean", "Squeeze (s)", "Down (s)", "Max tilt (°)"):
            st.add_column(col, no_wrap=True)
        for row in sets:
            m = row.stats
            st.add_row(
                str(row.session_id),
                str(m.index),
                m.side or "—",
                str(m.reps),
                str(m.clean_reps),
                _f(m.mean_top_hold_s, ".2f"),
                _f(m.mean_eccentric_s, ".2f"),
                _f(m.max_peak_tilt_deg, ".1f"),
            )
        console.print(st)
    return 0


def _f(x: float | None, fmt: str) -> str:
    return "—" if x is None else format(x, fmt)


def _cmd_progress(args: argparse.Namespace) -> int:
    from rich.table import Table

    from imurep.coaching.exercises import load_catalog
    from imurep.coaching.history import History
    from imurep.coaching.trends import (
        PROGRESS_COLUMNS,
        PROGRESS_NOTE,
        progress_advice,
        progress_table,
        weekly_trends,
    )

    if args.report:
        from imurep.report.progress_page import check_progress_path

        check_progress_path(args.report)
    console = cli_console()
    catalog = load_catalog()
    with History(args.db) as h:
        exercise = args.exercise
        if exercise is None:
            all_sessions = h.sessions()
            exercise = all_sessions[-1].exercise if all_sessions else None
        profile = catalog.get(exercise)
        rows = h.sets(profile.name, args.side)
        sessions = h.sessions_of(profile.name)
        where = h.path
    if not rows:
        console.print(f"no sets of {profile.name} in {where}", highlight=False)
        return 0
    table = Table(
        box=None, padding=(0, 1), pad_edge=False, header_style="bold", title=f"Progress: {profile.title}"
    )
    for col in PROGRESS_COLUMNS:
        table.add_column(col, no_wrap=True, min_width=len(col))
    for cells in progress_table(weekly_trends(rows, profile, catalog.rules)):
        table.add_row(*cells)
    console.print(table)
    console.print(PROGRESS_NOTE, highlight=False, style="dim")
    if args.side is None:
        console.print()
        for line in progress_advice(rows, profile, sessions, catalog=catalog):
            console.print(line, highlight=False)
    if args.report:
        from imurep.report.progress_page import write_progress_page

        write_progress_page(rows, profile, args.report, sessions=sessions, catalog=catalog)
        console.print(f"\nprogress page written to {args.report}", highlight=False)
    return 0


def add_commands(sub: Any, common: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add ``exercises``, ``history`` and ``progress`` to the ``imurep`` sub-command parser;
    returns the ``history`` parser (for its ``export`` sub-command)."""
    e = sub.add_parser(
        "exercises",
        parents=[common],
        help="list the exercise profiles (rep range, squeeze, lowering, tilt, ROM, progression ladder)",
        description="List the exercise profiles of imurep/data/exercises.toml.",
    )
    e.add_argument("--details", action="store_true", help="also print the reason for every number")
    e.set_defaults(func=_cmd_exercises)

    h = sub.add_parser(
        "history",
        parents=[common],
        help="list the sessions (and sets) stored in the training history",
        description="List the sessions stored in the training history database.",
    )
    add_db_args(h, store=False)
    add_exercise_arg(h, "all exercises")
    h.add_argument("--sets", action="store_true", help="also list every set")
    h.set_defaults(func=_cmd_history)

    p = sub.add_parser(
        "progress",
        parents=[common],
        help="per-leg trends over weeks and the progression advice",
        description="Weekly per-leg trends (reps, tempo, tilt, qualifying sets, left-right asymmetry) "
        "of one exercise from the training history, and the progression advice.",
    )
    add_db_args(p, store=False)
    add_exercise_arg(p, "the exercise of the latest stored session")
    p.add_argument("--side", choices=SIDES, help="only this leg")
    p.add_argument("--report", metavar="FILE", help="also write the progress page (.png, .pdf or .html)")
    p.set_defaults(func=_cmd_progress)
    return h


def check_exercise(name: str | None) -> None:
    """Refuse an unknown ``--exercise`` early (SettingsError with the closest name)."""
    if name is not None:
        from imurep.coaching.exercises import get_profile

        get_profile(name)
