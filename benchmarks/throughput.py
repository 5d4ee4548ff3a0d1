"""End-to-end throughput: 1 hour of 200 Hz data, CSV -> analysis -> JSON, as a user runs it.

The input is built once (cached in ``benchmarks/_data/``, gitignored) by concatenating simulated
recordings from :mod:`imurep.sim` (different seeds, continuous time base) until one hour is
covered, so it contains realistic sets and reps.

Usage::

    python benchmarks/throughput.py [--hours H] [--rate HZ] [--repeat N] [--rebuild] [--strict]

Measured in one run, interleaved, each ``--repeat`` times (min and median of the wall time and of
the CPU time printed; on a shared machine the CPU time is the steadier figure):

* **process**: wall time of ``python -m imurep analyze FILE --json OUT --no-store`` in a fresh
  process (interpreter start, imports, reading, analysis, JSON), the figure a user sees;
* **in-process**: ``analyze(iter_canonical_chunks(FILE))`` plus the JSON text, imports excluded;
* **imports**: wall time of ``python -c "import imurep.cli.main, imurep.core.pipeline, imurep.io"``,
  and of ``python -c pass`` (the interpreter alone);
* **floors**: the same file parsed by ``pyarrow.csv.read_csv`` (multi-threaded, to numpy) and by
  ``pandas.read_csv`` (C engine), imports excluded.

Targets (issue 15): process <= 3.6 s per hour (>= 1000x real time), process <= 6x the pyarrow
parse, imports <= 0.4 s.  ``--strict`` exits with status 1 when one is missed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.csv as pa_csv

import imurep
from imurep import sim
from imurep.core.pipeline import analyze
from imurep.core.settings import AnalysisSettings
from imurep.io import iter_canonical_chunks, load_canonical, result_to_jsonable, write_canonical

DATA_DIR = Path(__file__).resolve().parent / "_data"
TARGET_RT = 1000.0
"""Process wall time target: at least this many times real time."""
TARGET_FLOOR_RATIO = 6.0
"""... and at most this many times the pyarrow parse of the same file."""
TARGET_IMPORT_S = 0.4
"""Imports of the command line and the analysis, s."""
IMPORTS = "import imurep.cli.main, imurep.core.pipeline, imurep.io"
LABELS = {
    "pyarrow": "floor: pyarrow.csv parse",
    "pandas": "pandas.read_csv (C engine)",
    "inproc": "in-process analyse + JSON",
    "process": "process: imurep analyze",
    "imports": "imports (cli + analysis)",
    "python": "python -c pass",
}
"""The figures measured, in the order printed."""


def truth_path(path: Path) -> Path:
    """Where the true set and rep counts of the cached input are kept."""
    return path.with_suffix(".truth.json")


def build_input(path: Path, hours: float, rate_hz: float) -> None:
    """Write ``hours`` of simulated hip-thrust data at ``rate_hz`` to ``path`` (canonical CSV)."""
    target_s = hours * 3600.0
    dt = 1.0 / rate_hz
    pieces: list[np.ndarray] = []
    offset = 0.0
    covered = 0.0
    seed = 0
    truth_sets = truth_reps = 0
    while covered < target_s:
        rec = sim.simulate(sim.SimSettings(seed=seed, placement="hip", sample_rate_hz=rate_hz))
        shift = offset - float(rec.t_s[0])
        t = rec.t_s + shift
        pieces.append(np.column_stack([t, rec.acc_mps2, rec.gyr_rads]))
        for truth_set in rec.truth["sets"]:
            ends = [r["end_s"] + shift for r in truth_set["reps"]]
            n_in = sum(e < target_s for e in ends)
            truth_reps += n_in
            truth_sets += n_in > 0
        offset = float(t[-1]) + dt
        covered = offset
        seed += 1
    data = np.concatenate(pieces)
    data = data[data[:, 0] < target_s]
    tmp_path = write_canonical(path.with_suffix(".tmp"), data[:, 0], data[:, 1:4], data[:, 4:7])
    tmp_path.replace(path)
    truth_path(path).write_text(json.dumps({"sets": truth_sets, "reps": truth_reps}), encoding="utf-8")
    print(f"built {path} from {seed} simulated recordings ({len(data):,} rows)")


def measure(func: Callable[[], object]) -> tuple[float, float]:
    """Wall time and CPU time (s; this process's threads plus the child processes it waited for)
    of one call of ``func``.  On a shared machine the CPU time is the steadier figure."""
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu0 = time.process_time() + kids.ru_utime + kids.ru_stime
    start = time.perf_counter()
    func()
    elapsed = time.perf_counter() - start
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return elapsed, time.process_time() + kids.ru_utime + kids.ru_stime - cpu0


def _env() -> dict[str, str]:
    """The environment of the measured processes: this interpreter's imurep, no history store."""
    env = dict(os.environ)
    src = str(Path(imurep.__file__).resolve().parents[1])  # the imurep this script imported
    env["PYTHONPATH"] = src + os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else src
    return env


def run_process(args: list[str]) -> None:
    """Run ``python ARGS`` to completion; raise if it fails."""
    r = subprocess.run([sys.executable, *args], env=_env(), capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"{args} failed ({r.returncode}): {r.stderr.strip()[-500:]}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--hours", type=float, default=1.0)
    parser.add_argument("--rate", type=float, default=200.0, help="sample rate, Hz")
    parser.add_argument("--repeat", type=int, default=3, help="repetitions of each measurement")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the cached input file")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args()
    n_rep = max(1, args.repeat)

    # The simulator's source hash is part of the name: a changed simulator rebuilds the input.
    sim_hash = hashlib.sha256(Path(sim.__file__).read_bytes()).hexdigest()[:8]
    path = DATA_DIR / f"sim_{args.hours:g}h_{args.rate:g}hz_{sim_hash}.csv"
    if args.rebuild or not path.is_file() or not truth_path(path).is_file():
        build_input(path, args.hours, args.rate)
    duration_s = args.hours * 3600.0
    print(f"input: {path} ({path.stat().st_size / 1e6:.1f} MB), {n_rep} repetitions")

    def floor_pyarrow() -> object:
        return pa_csv.read_csv(path).to_pandas().to_numpy()

    def in_process() -> str:
        result = analyze(iter_canonical_chunks(path), AnalysisSettings(), source=str(path))
        return json.dumps(result_to_jsonable(result), allow_nan=False)

    n = len(load_canonical(path))
    text = in_process()  # warm-up (file cache) and the result checked below
    with tempfile.TemporaryDirectory() as tmp:
        out = str(Path(tmp) / "out.json")
        analyse_cmd = ["-m", "imurep", "analyze", str(path), "--json", out, "--no-store"]
        # interleaved, so that a change of the machine's load affects every figure alike
        jobs: dict[str, Callable[[], object]] = {
            "pyarrow": floor_pyarrow,
            "pandas": lambda: pd.read_csv(path, engine="c"),
            "inproc": in_process,
            "process": lambda: run_process(analyse_cmd),
            "imports": lambda: run_process(["-c", IMPORTS]),
            "python": lambda: run_process(["-c", "pass"]),
        }
        rows: dict[str, list[tuple[float, float]]] = {k: [] for k in LABELS}
        for _ in range(n_rep):
            for k, job in jobs.items():
                rows[k].append(measure(job))
        same = json.loads(Path(out).read_text(encoding="utf-8"))["sets"] == json.loads(text)["sets"]

    lo = {k: min(w for w, _ in v) for k, v in rows.items()}
    med = {k: statistics.median(w for w, _ in v) for k, v in rows.items()}
    cpu_lo = {k: min(c for _, c in v) for k, v in rows.items()}
    cpu_med = {k: statistics.median(c for _, c in v) for k, v in rows.items()}
    print()
    print(f"  {'':<30} {'wall min':>9} {'median':>8} {'CPU min':>9} {'median':>8}  (s)")
    for k, label in LABELS.items():
        print(f"  {label:<30} {lo[k]:9.2f} {med[k]:8.2f} {cpu_lo[k]:9.2f} {cpu_med[k]:8.2f}")
    doc = json.loads(text)
    n_sets = len(doc["sets"])
    n_reps = sum(len(s["reps"]) for s in doc["sets"])
    truth = json.loads(truth_path(path).read_text(encoding="utf-8"))
    rt = {k: duration_s / v for k, v in (("min", lo["process"]), ("median", med["process"]))}
    ratio = {k: v["process"] / v["pyarrow"] for k, v in (("min", lo), ("median", med))}
    print()
    print(f"  samples                 {n:>12,}")
    print(f"  sets / reps found       {n_sets:>6} / {n_reps}  (simulated: {truth['sets']} / {truth['reps']})")
    print(f"  process result = in-process result: {same}")
    print(
        f"  process                 {rt['min']:,.0f}x real time (min), {rt['median']:,.0f}x (median);"
        f"  {n / lo['process']:,.0f} samples/s  (target >= {TARGET_RT:,.0f}x)"
    )
    print(
        f"  process, CPU time       {duration_s / cpu_lo['process']:,.0f}x real time (min),"
        f" {duration_s / cpu_med['process']:,.0f}x (median)"
    )
    print(
        f"  in-process              {duration_s / lo['inproc']:,.0f}x real time (min),"
        f" {duration_s / med['inproc']:,.0f}x (median)"
    )
    print(
        f"  process / pyarrow parse {ratio['min']:>8.1f}x (min), {ratio['median']:.1f}x (median)"
        f"  (target <= {TARGET_FLOOR_RATIO:g}x)"
    )
    print(
        f"  imports                 {lo['imports']:>8.2f} s (min), {med['imports']:.2f} s (median),"
        f" of which the interpreter {lo['python']:.2f} s  (target <= {TARGET_IMPORT_S:g} s)"
    )
    ok = (
        rt["median"] >= TARGET_RT
        and ratio["median"] <= TARGET_FLOOR_RATIO
        and med["imports"] <= TARGET_IMPORT_S
    )
    print(f"  result                  {'within targets' if ok else 'OVER TARGET'} (medians)")
    return 0 if ok or not args.strict else 1


if __name__ == "__main__":
    sys.exit(main())
