"""Planning and running a batch: which recordings, where their outputs go, which engine runs them.

:func:`find_recordings` expands paths, folders and globs (local or fsspec URLs) into recordings;
:func:`plan` names one JSON per recording in the output folder; :func:`run` runs the tasks in
this process (``jobs=1``), a local process pool, or on a Dask cluster, calling back as each one
ends; :func:`write_tables` writes the batch's ``reps.parquet`` and ``sets.parquet``.
"""

from __future__ import annotations

import glob
import importlib
import logging
import multiprocessing
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from imurep.batch.task import Outcome, Task, fsspec_of, is_url, local_path, run_task
from imurep.model.errors import DataValidationError, SettingsError

logger = logging.getLogger(__name__)

RECORDING_SUFFIXES: Final = (".csv", ".zip")
"""Files of a folder that are taken as recordings (a vendor export folder is one recording)."""

TABLES: Final = ("reps", "sets")
"""The batch tables, written as ``<out>/<name>.parquet``."""

PRELOAD: Final = [
    "imurep.batch.task",
    "imurep.api",
    "imurep.core.pipeline",
    "imurep.io.loader",
    "imurep.io.export",
    "imurep.coaching.advice",
]
"""Modules imported once before the local pool's workers start, so that each starts with them."""

_GLOB_CHARS: Final = ("*", "?", "[")


@dataclass(frozen=True)
class Missing:
    """An input that names no recording (a missing path, a glob matching nothing)."""

    source: str
    error: str


def _is_export_folder(path: Path) -> bool:
    from imurep.io.detect import detect_format

    try:
        return detect_format(path) != "canonical"
    except DataValidationError:
        return False


def _expand_local(arg: str) -> list[str] | Missing:
    path = Path(local_path(arg))
    if not path.exists() and any(c in arg for c in _GLOB_CHARS):
        found = sorted(glob.glob(local_path(arg), recursive=True))
        found = [f for f in found if Path(f).suffix.lower() in RECORDING_SUFFIXES or Path(f).is_dir()]
        return found or Missing(arg, f"{arg}: matches no recording")
    if not path.exists():
        return Missing(arg, f"{arg}: file not found")
    if path.is_dir() and not _is_export_folder(path):
        found = sorted(str(p) for p in path.iterdir() if p.suffix.lower() in RECORDING_SUFFIXES)
        return found or Missing(arg, f"{arg}: a folder without recordings (.csv, .zip)")
    return [str(path)]


def _expand_url(arg: str) -> list[str] | Missing:
    fs, path = fsspec_of(arg)

    def url(p: str) -> str:
        return p if "://" in p else str(fs.unstrip_protocol(p))

    if any(c in path for c in _GLOB_CHARS) and not fs.exists(path):
        found = sorted(url(p) for p in fs.glob(path) if Path(p).suffix.lower() in RECORDING_SUFFIXES)
        return found or Missing(arg, f"{arg}: matches no recording")
    if not fs.exists(path):
        return Missing(arg, f"{arg}: file not found")
    if fs.isdir(path):
        found = sorted(
            url(p) for p in fs.ls(path, detail=False) if Path(p).suffix.lower() in RECORDING_SUFFIXES
        )
        return found or Missing(arg, f"{arg}: a folder without recordings (.csv, .zip)")
    return [arg]


def find_recordings(args: Iterable[str]) -> tuple[list[str], list[Missing]]:
    """The recordings named by paths, folders and globs (local or fsspec URLs), in order, each once;
    and the inputs that name none."""
    found: list[str] = []
    missing: list[Missing] = []
    for arg in args:
        got = _expand_url(arg) if is_url(arg) else _expand_local(arg)
        if isinstance(got, Missing):
            missing.append(got)
        else:
            found.extend(s for s in got if s not in found)
    return found, missing


def _join(out: str, name: str) -> str:
    return f"{out.rstrip('/')}/{name}" if is_url(out) else str(Path(local_path(out)) / name)


def plan(sources: Sequence[str], out: str, options: dict[str, Any], *, resume: bool = True) -> list[Task]:
    """One :class:`Task` per recording: its JSON is ``<out>/<stem>.json`` (``<stem>-2.json``, … for
    recordings of the same name, in the given order)."""
    used: set[str] = set()
    tasks = []
    for source in sources:
        stem = Path(source.rstrip("/")).name
        stem = stem[: -len(Path(stem).suffix)] if Path(stem).suffix else stem
        name, k = stem, 1
        while name in used or name in TABLES:
            k += 1
            name = f"{stem}-{k}"
        used.add(name)
        tasks.append(Task(source, _join(out, f"{name}.json"), options, resume))
    return tasks


def make_out_dir(out: str) -> None:
    """Create the output folder (path or fsspec URL)."""
    if is_url(out):
        fs, path = fsspec_of(out)
        fs.makedirs(path, exist_ok=True)
    else:
        Path(local_path(out)).mkdir(parents=True, exist_ok=True)


def size_of(source: str) -> int:
    """Bytes of a recording (all files of a folder), for the progress estimate; 0 when unknown."""
    try:
        if is_url(source):
            fs, path = fsspec_of(source)
            return int(fs.du(path)) if fs.isdir(path) else int(fs.size(path) or 0)
        p = Path(local_path(source))
        if p.is_dir():
            return sum(f.stat().st_size for f in p.rglob("*") if f.is_file())
        return p.stat().st_size
    except (OSError, ValueError):
        return 0


def run(
    tasks: Sequence[Task],
    *,
    jobs: int = 1,
    dask: str | None = None,
    on_done: Callable[[int, Outcome], None] | None = None,
    on_start: Callable[[], None] | None = None,
) -> list[Outcome]:
    """Run ``tasks``; returns their outcomes in task order.

    Parameters
    ----------
    tasks
        From :func:`plan`.
    jobs
        Worker processes of the local pool; 1 runs the tasks in this process.
    dask
        Address of a Dask scheduler (``tcp://HOST:8786``): the tasks run on its workers instead.
    on_done
        Called in this process with ``(task index, outcome)`` as each task ends.
    on_start
        Called once the workers are up, before the first task (start threads such as a progress
        display here, not before: the local pool forks its workers first).

    Raises
    ------
    SettingsError
        Dask is not installed or its scheduler cannot be reached.
    """
    outcomes: list[Outcome | None] = [None] * len(tasks)

    def done(i: int, outcome: Outcome) -> None:
        outcomes[i] = outcome
        if on_done is not None:
            on_done(i, outcome)

    if dask is not None:
        _run_dask(tasks, dask, done, on_start)
    elif jobs <= 1 or len(tasks) <= 1:
        if on_start is not None:
            on_start()
        for i, task in enumerate(tasks):
            done(i, run_task(task))
    else:
        with _local_pool(min(jobs, len(tasks))) as pool:
            if on_start is not None:
                on_start()
            futures = {pool.submit(run_task, task): i for i, task in enumerate(tasks)}
            for fut in as_completed(futures):
                done(futures[fut], _result(fut, tasks[futures[fut]], "a worker process"))
    return [o for o in outcomes if o is not None]


def _result(future: Any, task: Task, where: str) -> Outcome:
    """The outcome of a finished future; a failed one when its worker died or could not run the
    task (e.g. imurep missing on a Dask worker): run_task itself never raises."""
    try:
        outcome: Outcome = future.result()
        return outcome
    except Exception as exc:
        text = " ".join(str(exc).split()) or type(exc).__name__
        return Outcome(task.source, task.out_json, "failed", error=f"{task.source}: {where} failed ({text})")


def _ready() -> None:
    """A no-op task: its result means every worker of the pool is up."""


@contextmanager
def _local_pool(workers: int) -> Iterator[ProcessPoolExecutor]:
    """A process pool whose workers start with the analysis imported.

    On Linux the workers are forked from this process after it imported :data:`PRELOAD`, all at
    once before the pool returns (no thread of the caller runs yet, so forking is safe); elsewhere a
    fork server (or spawn) imports them in each worker.
    """
    methods = multiprocessing.get_all_start_methods()
    ctx: multiprocessing.context.BaseContext
    if sys.platform == "linux" and "fork" in methods:
        for name in PRELOAD:
            importlib.import_module(name)
        ctx = multiprocessing.get_context("fork")
    else:
        ctx = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
        if "forkserver" in methods:
            multiprocessing.get_context("forkserver").set_forkserver_preload(PRELOAD)
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
        pool.submit(_ready).result()  # with fork: every worker is forked here
        yield pool


def _run_dask(
    tasks: Sequence[Task],
    address: str,
    done: Callable[[int, Outcome], None],
    on_start: Callable[[], None] | None,
) -> None:
    try:
        from distributed import Client
        from distributed import as_completed as dask_completed
    except ImportError:
        raise SettingsError("--dask needs dask.distributed: pip install 'imurep[dask]'") from None
    try:
        client = Client(address)  # waits up to dask's distributed.comm.timeouts.connect
    except (OSError, TimeoutError) as exc:
        raise SettingsError(f"--dask {address}: cannot reach the Dask scheduler ({exc})") from None
    try:
        if on_start is not None:
            on_start()
        futures = client.map(run_task, list(tasks), pure=False)
        index = {f.key: i for i, f in enumerate(futures)}
        for fut in dask_completed(futures):
            done(index[fut.key], _result(fut, tasks[index[fut.key]], "the Dask worker"))
    finally:
        client.close()


def write_tables(outcomes: Sequence[Outcome], out: str) -> list[str]:
    """Write ``<out>/reps.parquet`` and ``<out>/sets.parquet`` of the recordings that have a
    document, in task order; returns the files written."""
    from imurep.io.export import concat_frames, write_table

    docs = [o.doc for o in outcomes if o.doc is not None]
    written = []
    for kind in TABLES:
        dest = _join(out, f"{kind}.parquet")
        write_table(concat_frames(docs, kind), dest)
        written.append(dest)
    return written


def default_jobs() -> int:
    """Worker processes by default: the CPUs this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)
