"""``imurep export`` (rep and set tables of recordings) and ``imurep history export`` (of the
training history): CSV for spreadsheets or Parquet, chosen by the file name's ending."""

from __future__ import annotations

import argparse
from typing import Any

from imurep.cli import coaching as coaching_cli
from imurep.cli.analyze import add_recording_args, analyze_args
from imurep.model.errors import SettingsError


def _add_table_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--reps", metavar="FILE", help="rep table to write: .csv or .parquet")
    p.add_argument("--sets", dest="sets_out", metavar="FILE", help="set table to write: .csv or .parquet")


def _check_tables(args: argparse.Namespace) -> list[tuple[str, str]]:
    """``[(kind, file)]`` asked for, checked (ending, pyarrow, folder) before any work."""
    from pathlib import Path

    from imurep.io.export import check_table_path

    wanted = [(k, f) for k, f in (("reps", args.reps), ("sets", args.sets_out)) if f]
    if not wanted:
        raise SettingsError("give --reps FILE and/or --sets FILE (.csv or .parquet)")
    for _, f in wanted:
        check_table_path(f)
        if "://" not in f and not Path(f).resolve().parent.is_dir():
            raise SettingsError(f"{f}: the folder {Path(f).parent} does not exist")
    return wanted


def cmd_export(args: argparse.Namespace) -> int:
    """``imurep export PATH...``: analyse the recordings, write their reps and sets tables."""
    from imurep.io.export import concat_frames, write_table

    wanted = _check_tables(args)
    docs = [analyze_args(args, path, keep_traces=False).to_dict() for path in args.paths]
    for kind, dest in wanted:
        frame = concat_frames(docs, kind)
        write_table(frame, dest)
        print(f"{kind}: {len(frame)} row(s) of {len(docs)} recording(s) written to {dest}")
    return 0


def cmd_history_export(args: argparse.Namespace) -> int:
    """``imurep history export``: the stored reps and sets as tables."""
    from imurep.coaching.history import History
    from imurep.io.export import history_frames, write_table

    wanted = _check_tables(args)
    exercise = None
    if args.exercise:
        from imurep.coaching.exercises import get_profile

        exercise = get_profile(args.exercise).name
    with History(args.db) as h:
        reps, sets = history_frames(h, exercise)
        where = h.path
    frames = {"reps": reps, "sets": sets}
    for kind, dest in wanted:
        write_table(frames[kind], dest)
        print(f"{kind}: {len(frames[kind])} row(s) from {where} written to {dest}")
    return 0


def add_export_commands(sub: Any, common: argparse.ArgumentParser, history: argparse.ArgumentParser) -> None:
    """Add ``export`` to the ``imurep`` sub-commands and ``export`` under ``history``."""
    e = sub.add_parser(
        "export",
        parents=[common],
        help="analyse recordings and write their rep and set tables (CSV or Parquet)",
        description="Analyse recordings and write one rep table and one set table for all of them: .csv "
        "(spreadsheets: units in the headers, ISO times when the sidecar has started_unix_s) or "
        ".parquet. Nothing is stored in the training history.",
    )
    add_recording_args(e, many="recordings: CSVs, or folders/zips of exports")
    _add_table_args(e)
    e.set_defaults(func=cmd_export)

    hs = history.add_subparsers(dest="history_command", metavar="COMMAND")
    he = hs.add_parser(
        "export",
        parents=[common],
        help="write the stored reps and sets as tables (CSV or Parquet)",
        description="Write the training history's reps and sets as tables: .csv or .parquet.",
    )
    coaching_cli.add_db_args(he, store=False)
    coaching_cli.add_exercise_arg(he, "all exercises")
    _add_table_args(he)
    he.set_defaults(func=cmd_history_export)
