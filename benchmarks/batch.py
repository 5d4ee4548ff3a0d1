"""Batch analysis: N one-set recordings as N separate ``imurep analyze`` processes vs one
``imurep batch`` process pool, with the in-process analysis floor measured in the same run.

The recordings are simulated once (cached in ``benchmarks/_data/batch-N/``, gitignored): one set of
single-leg hip thrusts each, with the simulator's walking and sitting around it.

Three ways, each repeated (``--repeat``), min and median printed:

- ``processes``: one ``imurep analyze FILE --no-store --json OUT`` process per recording, ``-j``
  of them at a time (what a shell loop or ``xargs -P`` gives);
- ``batch``: one ``imurep batch DIR --out OUT -j J --no-resume`` process (pool start-up, imports,
  progress, tables included);
- ``floor``: the per-recording task (:func:`imurep.batch.task.run_task`) of every recording in this
  already warm process, divided by ``-j``: the analysis work alone on ``-j`` ideal workers.

Usage::

    python benchmarks/batch.py [--n 50] [-j 2] [--repeat 3] [--strict]

Target (issue 15): batch >= 15x faster than the separate processes; ``--strict`` exits 1 when
missed.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from imurep import sim
from imurep.batch.runner import plan
from imurep.batch.task import run_task
from imurep.io.canonical import write_simulated

DATA_DIR = Path(__file__).resolve().parent / "_data"
TARGET_SPEEDUP = 15.0


def build_inputs(n: int) -> Path:
    """``n`` simulated one-set recordings (CSV + sidecar), cached."""
    folder = DATA_DIR / f"batch-{n}"
    if len(list(folder.glob("*.csv"))) == n:
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for k in range(n):
        rec = sim.simulate(sim.SimSettings(seed=1000 + k, n_sets=1, sides=(("left", "right")[k % 2],)))
        write_simulated(rec, folder / f"rec{k:03d}.csv")
        (folder / f"rec{k:03d}.truth.json").unlink()
    return folder


def time_processes(files: list[Path], out: Path, jobs: int) -> float:
    """Seconds for one ``imurep analyze`` process per file, ``jobs`` at a time."""

    def one(path: Path) -> None:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "imurep",
                "analyze",
                str(path),
                "--no-store",
                "--json",
                str(out / f"{path.stem}.json"),
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )

    t0 = time.perf_counter()
    with ThreadPoolExecutor(jobs) as pool:
        list(pool.map(one, files))
    return time.perf_counter() - t0


def time_batch(folder: Path, out: Path, jobs: int) -> float:
    """Seconds for one ``imurep batch`` process over the folder."""
    t0 = time.perf_counter()
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "imurep",
            "batch",
            str(folder),
            "--out",
            str(out),
            "-j",
            str(jobs),
            "--no-resume",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"imurep batch failed: {proc.stderr.strip()}")
    return elapsed


def time_floor(folder: Path, out: Path, jobs: int) -> float:
    """Seconds of the per-recording tasks in this (warm) process, divided by ``jobs``."""
    tasks = plan(sorted(str(p) for p in folder.glob("*.csv")), str(out), {}, resume=False)
    run_task(tasks[0])  # warm the imports
    t0 = time.perf_counter()
    for task in tasks:
        outcome = run_task(task)
        assert outcome.status == "analysed", outcome.error
    return (time.perf_counter() - t0) / jobs


def summary(name: str, values: list[float]) -> str:
    return f"{name:<10} min {min(values):7.2f} s   median {statistics.median(values):7.2f} s"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=50, help="recordings (default: 50)")
    ap.add_argument("-j", "--jobs", type=int, default=2, help="concurrent processes / workers (default: 2)")
    ap.add_argument("--repeat", type=int, default=3, help="repetitions (default: 3)")
    ap.add_argument("--strict", action="store_true", help="exit 1 when the target is missed")
    args = ap.parse_args()

    folder = build_inputs(args.n)
    files = sorted(folder.glob("*.csv"))
    samples = sum(sum(1 for _ in f.open()) - 1 for f in files)
    print(f"{len(files)} one-set recordings, {samples} samples, -j {args.jobs}, {args.repeat} repetitions")
    procs: list[float] = []
    batch: list[float] = []
    floor: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.repeat):
            out = Path(tmp) / f"r{r}"
            for sub in ("procs", "batch", "floor"):
                (out / sub).mkdir(parents=True)
            batch.append(time_batch(folder, out / "batch", args.jobs))
            procs.append(time_processes(files, out / "procs", args.jobs))
            floor.append(time_floor(folder, out / "floor", args.jobs))
            print(f"  repetition {r + 1}: processes {procs[-1]:.2f} s, batch {batch[-1]:.2f} s, "
                  f"floor {floor[-1]:.2f} s", flush=True)  # fmt: skip
    print(summary("processes", procs))
    print(summary("batch", batch))
    print(summary("floor", floor))
    speedups = [p / b for p, b in zip(procs, batch, strict=True)]
    over_floor = [b / f for b, f in zip(batch, floor, strict=True)]
    print(f"speed-up batch vs processes: min {min(speedups):.1f}x, median {statistics.median(speedups):.1f}x "
          f"(target >= {TARGET_SPEEDUP:g}x)")  # fmt: skip
    print(
        f"batch / floor:               min {min(over_floor):.2f}, median {statistics.median(over_floor):.2f}"
    )
    print(f"batch throughput: {samples / statistics.median(batch):,.0f} samples/s")
    if args.strict and statistics.median(speedups) < TARGET_SPEEDUP:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
