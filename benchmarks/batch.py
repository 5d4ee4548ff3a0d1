"""Batch analysis: N one-set recordings as N separate ``imurep analyze`` processes vs one
``imurep batch`` process pool, with the in-process analysis floor measured in the same run.

The recordings are simulated once (cached in ``benchmarks/_data/batch-N/``, gitignored): one set of
single-leg hip thrusts each (4-14 reps, ~30-60 s; ``--activity`` adds the simulator's walking and
sitting around the set, ~2 min each).

Three ways, each repeated (``--repeat``), min and median of the wall time printed, and the CPU time
of each (user + system of every process involved), which other load on the machine does not
change: the CPU ratio is the speed-up on an otherwise idle machine when both use all ``-j`` cores.

- ``processes``: one ``imurep analyze FILE --no-store --json OUT`` process per recording, ``-j``
  of them at a time (what a shell loop or ``xargs -P`` gives);
- ``batch``: one ``imurep batch DIR --out OUT -j J --no-resume`` process (pool start-up, imports,
  progress, tables included);
- ``floor``: the per-recording task (:func:`imurep.batch.task.run_task`) of every recording in this
  already warm process, divided by ``-j``: the analysis work alone on ``-j`` ideal workers.

Usage::

    python benchmarks/batch.py [--n 50] [-j 2] [--repeat 3] [--activity] [--strict]

Target (issue 15): batch >= 15x faster than the separate processes; ``--strict`` exits 1 when
missed.
"""

from __future__ import annotations

import argparse
import resource
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


def build_inputs(n: int, activity: bool) -> Path:
    """``n`` simulated one-set recordings (CSV + sidecar), cached."""
    folder = DATA_DIR / f"batch-{n}-{'activity' if activity else 'sets'}"
    if len(list(folder.glob("*.csv"))) == n:
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for k in range(n):
        side = ("left", "right")[k % 2]
        rec = sim.simulate(sim.SimSettings(seed=1000 + k, n_sets=1, sides=(side,), pre_activity=activity))
        write_simulated(rec, folder / f"rec{k:03d}.csv")
        (folder / f"rec{k:03d}.truth.json").unlink()
    return folder


def children_cpu_s() -> float:
    """User + system CPU seconds of the finished child processes (and the ones they waited for)."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def self_cpu_s() -> float:
    """User + system CPU seconds of this process."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def time_processes(files: list[Path], out: Path, jobs: int) -> tuple[float, float]:
    """Wall and CPU seconds for one ``imurep analyze`` process per file, ``jobs`` at a time."""

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

    t0, c0 = time.perf_counter(), children_cpu_s()
    with ThreadPoolExecutor(jobs) as pool:
        list(pool.map(one, files))
    return time.perf_counter() - t0, children_cpu_s() - c0


def time_batch(folder: Path, out: Path, jobs: int) -> tuple[float, float]:
    """Wall and CPU seconds for one ``imurep batch`` process over the folder (its workers included)."""
    t0, c0 = time.perf_counter(), children_cpu_s()
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
    elapsed, cpu = time.perf_counter() - t0, children_cpu_s() - c0
    if proc.returncode != 0:
        raise SystemExit(f"imurep batch failed: {proc.stderr.strip()}")
    return elapsed, cpu


def time_floor(folder: Path, out: Path, jobs: int) -> tuple[float, float]:
    """Wall seconds of the per-recording tasks in this (warm) process divided by ``jobs``, and their
    CPU seconds."""
    tasks = plan(sorted(str(p) for p in folder.glob("*.csv")), str(out), {}, resume=False)
    run_task(tasks[0])  # warm the imports
    t0, c0 = time.perf_counter(), self_cpu_s()
    for task in tasks:
        outcome = run_task(task)
        assert outcome.status == "analysed", outcome.error
    return (time.perf_counter() - t0) / jobs, self_cpu_s() - c0


def summary(name: str, values: list[float]) -> str:
    return f"{name:<10} min {min(values):7.2f} s   median {statistics.median(values):7.2f} s"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=50, help="recordings (default: 50)")
    ap.add_argument("-j", "--jobs", type=int, default=2, help="concurrent processes / workers (default: 2)")
    ap.add_argument("--repeat", type=int, default=3, help="repetitions (default: 3)")
    ap.add_argument("--activity", action="store_true", help="walking and sitting around each set")
    ap.add_argument("--strict", action="store_true", help="exit 1 when the target is missed")
    args = ap.parse_args()

    folder = build_inputs(args.n, args.activity)
    files = sorted(folder.glob("*.csv"))
    samples = sum(sum(1 for _ in f.open()) - 1 for f in files)
    print(f"{len(files)} one-set recordings, {samples} samples, -j {args.jobs}, {args.repeat} repetitions")
    procs: list[tuple[float, float]] = []
    batch: list[tuple[float, float]] = []
    floor: list[tuple[float, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.repeat):
            out = Path(tmp) / f"r{r}"
            for sub in ("procs", "batch", "floor"):
                (out / sub).mkdir(parents=True)
            batch.append(time_batch(folder, out / "batch", args.jobs))
            procs.append(time_processes(files, out / "procs", args.jobs))
            floor.append(time_floor(folder, out / "floor", args.jobs))
            print(f"  repetition {r + 1}: processes {procs[-1][0]:.2f} s ({procs[-1][1]:.1f} s CPU), "
                  f"batch {batch[-1][0]:.2f} s ({batch[-1][1]:.1f} s CPU), "
                  f"floor {floor[-1][0]:.2f} s ({floor[-1][1]:.1f} s CPU)", flush=True)  # fmt: skip
    for name, runs in (("processes", procs), ("batch", batch), ("floor", floor)):
        print(
            summary(name, [w for w, _ in runs])
            + f"   CPU median {statistics.median(c for _, c in runs):7.2f} s"
        )
    speedups = [p[0] / b[0] for p, b in zip(procs, batch, strict=True)]
    cpu_speedups = [p[1] / b[1] for p, b in zip(procs, batch, strict=True)]
    over_floor = [b[0] / f[0] for b, f in zip(batch, floor, strict=True)]
    print(f"speed-up batch vs processes: wall min {min(speedups):.1f}x, "
          f"median {statistics.median(speedups):.1f}x; "
          f"CPU min {min(cpu_speedups):.1f}x, median {statistics.median(cpu_speedups):.1f}x "
          f"(target >= {TARGET_SPEEDUP:g}x)")  # fmt: skip
    print(
        f"batch / floor (wall):        min {min(over_floor):.2f}, median {statistics.median(over_floor):.2f}"
    )
    print(f"per recording: process {statistics.median(p[1] for p in procs) / len(files):.2f} s CPU, "
          f"task {statistics.median(f[1] for f in floor) / len(files):.2f} s CPU")  # fmt: skip
    print(f"batch throughput: {samples / statistics.median(w for w, _ in batch):,.0f} samples/s")
    if args.strict and statistics.median(speedups) < TARGET_SPEEDUP:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
