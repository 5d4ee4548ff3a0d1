"""``imurep batch``: analyse many recordings in a process pool (or on a Dask cluster) with a
progress bar, a summary table, per-recording errors listed at the end, and resume."""

from __future__ import annotations

import argparse
import logging
import sys
import time
from typing import TYPE_CHECKING, Any

from imurep.cli import coaching as coaching_cli
from imurep.cli.analyze import add_recording_args, analysis_kwargs

if TYPE_CHECKING:
    from rich.progress import Progress
    from rich.table import Table

    from imurep.batch.task import Outcome

logger = logging.getLogger(__name__)

EXIT_FAILED = 2


def add_batch_command(sub: Any, common: argparse.ArgumentParser, positive_int: Any) -> None:
    """Add ``batch`` to the ``imurep`` sub-command parser."""
    b = sub.add_parser(
        "batch",
        parents=[common],
        help="analyse many recordings (files, folders, globs) into per-recording JSON and Parquet tables",
        description="Analyse many recordings in a process pool, or on a Dask cluster with --dask. Writes "
        "OUT/<recording>.json per recording and OUT/reps.parquet, OUT/sets.parquet for the batch; "
        "recordings already analysed with the same content, sidecar, settings and version are skipped. "
        "Inputs and OUT may be fsspec URLs (s3://..., file://...).",
    )
    add_recording_args(
        b,
        many="recordings: files, folders (their .csv and .zip files; an export folder is one recording) "
        "or globs such as 'data/**/*.csv' (quote them); local or fsspec URLs",
    )
    b.add_argument("--out", metavar="DIR", required=True, help="output folder (path or fsspec URL)")
    b.add_argument(
        "-j", "--jobs", type=positive_int, metavar="N", help="worker processes (default: the CPUs available)"
    )
    b.add_argument(
        "--dask",
        metavar="tcp://HOST:8786",
        help="run the recordings on this Dask scheduler's workers (imurep installed there; inputs and "
        "--out on storage they can reach)",
    )
    b.add_argument("--no-resume", action="store_true", help="analyse every recording, even when up to date")
    b.set_defaults(func=cmd_batch)


def _options(args: argparse.Namespace) -> dict[str, Any]:
    """The analysis options of every task (JSON types), checked once before the batch starts."""
    from imurep.core.settings import resolve

    kwargs = analysis_kwargs(args)
    coaching_cli.check_exercise(kwargs["exercise"])
    resolve(  # a bad --config / --set / --placement fails here, not once per recording
        config=kwargs["settings"],
        overrides=kwargs["overrides"],
        placement=kwargs["placement"],
        sides=[kwargs["side"]] if kwargs["side"] else None,
    )
    kwargs["overrides"] = [list(kv) for kv in kwargs["overrides"]]
    return kwargs


def _progress() -> Progress:
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    console = Console(stderr=True)
    return Progress(
        TextColumn("[bold]batch[/bold] {task.fields[files]}"),
        BarColumn(),
        TextColumn("{task.fields[rate]}"),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=console,
        transient=False,
        disable=not console.is_terminal,  # a log file gets the summary only
    )


def _summary(outcomes: list[Outcome]) -> Table:
    from rich.table import Table

    table = Table(box=None, padding=(0, 1), pad_edge=False, header_style="bold", title="Batch")
    for col in ("Recording", "Status", "Sets", "Reps", "Clean", "Samples", "Time s"):
        table.add_column(
            col, no_wrap=True, overflow="ellipsis", justify="left" if col == "Recording" else "right"
        )
    for o in outcomes:
        sets = (o.doc or {}).get("sets", [])
        table.add_row(
            o.source,
            o.status,
            str(len(sets)) if o.doc else "—",
            str(sum(s["summary"]["reps"] for s in sets)) if o.doc else "—",
            str(sum(s["summary"]["clean_reps"] for s in sets)) if o.doc else "—",
            str(o.n_samples) if o.doc else "—",
            f"{o.seconds:.2f}",
        )
    return table


def cmd_batch(args: argparse.Namespace) -> int:
    """``imurep batch``: see :mod:`imurep.batch`."""

    from imurep.batch import find_recordings, plan, run, write_tables
    from imurep.batch.runner import default_jobs, make_out_dir, size_of
    from imurep.io.export import require_pyarrow
    from imurep.model.errors import SettingsError

    require_pyarrow("imurep batch (its reps and sets tables are Parquet)")
    options = _options(args)
    sources, missing = find_recordings(args.paths)
    if not sources:
        raise SettingsError(missing[0].error if len(missing) == 1 else "no recordings found in the inputs")
    make_out_dir(args.out)
    tasks = plan(sources, args.out, options, resume=not args.no_resume)
    sizes = [size_of(t.source) for t in tasks]  # the ETA goes by bytes (by files when sizes are unknown)
    if sum(sizes) == 0:
        sizes = [1] * len(tasks)
    jobs = args.jobs or default_jobs()

    started = time.perf_counter()
    samples = 0
    bar = _progress()  # started once the workers are up (the local pool forks them first)
    tid = bar.add_task("batch", total=sum(sizes), files=f"0/{len(tasks)} files", rate="")
    n_done = 0

    def on_done(i: int, outcome: Outcome) -> None:
        nonlocal n_done, samples
        n_done += 1
        samples += outcome.n_samples if outcome.status == "analysed" else 0
        rate = samples / max(time.perf_counter() - started, 1e-9)
        bar.update(
            tid,
            advance=sizes[i],
            files=f"{n_done}/{len(tasks)} files",
            rate=f"{rate:,.0f} samples/s",
        )

    try:
        outcomes = run(tasks, jobs=jobs, dask=args.dask, on_done=on_done, on_start=bar.start)
    finally:
        bar.stop()
    tables = write_tables(outcomes, args.out)

    console = coaching_cli.cli_console()
    console.print(_summary(outcomes))
    failed = [o for o in outcomes if o.status == "failed"]
    counts = {s: sum(o.status == s for o in outcomes) for s in ("analysed", "skipped", "failed")}
    counts["failed"] += len(missing)
    elapsed = time.perf_counter() - started
    console.print(
        f"{len(outcomes) + len(missing)} input(s) in {elapsed:.1f} s: {counts['analysed']} analysed, "
        f"{counts['skipped']} skipped (up to date), {counts['failed']} failed; "
        f"{samples / max(elapsed, 1e-9):,.0f} samples/s; tables: {', '.join(tables)}",
        highlight=False,
    )
    problems = [m.error for m in missing] + [o.error or o.source for o in failed]
    for line in problems:
        sys.stderr.write(f"imurep: error: {line}\n")
    if problems:
        sys.stderr.write(f"imurep: error: {len(problems)} input(s) failed (listed above)\n")
        return EXIT_FAILED
    return 0
