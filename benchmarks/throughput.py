"""End-to-end throughput: 1 hour of 200 Hz data, CSV -> analysis -> JSON text.

The input is built once (cached in ``benchmarks/_data/``, gitignored) by concatenating simulated
recordings from :mod:`imurep.sim` (different seeds, continuous time base) until one hour is
covered, so it contains realistic sets and reps.

Usage::

    python benchmarks/throughput.py [--hours H] [--rate HZ] [--rebuild] [--strict]

Prints samples/s, the total time and the ratio to a bare ``pandas.read_csv`` of the same file.
The target is <= 10 s per hour of 200 Hz data; ``--strict`` exits with status 1 when it is missed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import numpy as np
import pandas as pd

from imurep import sim
from imurep.core.pipeline import analyze
from imurep.core.settings import AnalysisSettings
from imurep.io import iter_canonical_chunks, load_canonical, result_to_jsonable, write_canonical

DATA_DIR = Path(__file__).resolve().parent / "_data"
TARGET_S = 10.0
T = TypeVar("T")


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


def timed(label: str, func: Callable[[], T]) -> tuple[float, T]:
    """Run ``func`` once, print and return its wall time (s) and its value."""
    start = time.perf_counter()
    value = func()
    elapsed = time.perf_counter() - start
    print(f"  {label:<34} {elapsed:8.2f} s")
    return elapsed, value


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--hours", type=float, default=1.0)
    parser.add_argument("--rate", type=float, default=200.0, help="sample rate, Hz")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the cached input file")
    parser.add_argument("--strict", action="store_true", help=f"exit 1 when over {TARGET_S:g} s (per hour)")
    args = parser.parse_args()

    # The simulator's source hash is part of the name: a changed simulator rebuilds the input.
    sim_hash = hashlib.sha256(Path(sim.__file__).read_bytes()).hexdigest()[:8]
    path = DATA_DIR / f"sim_{args.hours:g}h_{args.rate:g}hz_{sim_hash}.csv"
    if args.rebuild or not path.is_file() or not truth_path(path).is_file():
        build_input(path, args.hours, args.rate)

    print(f"input: {path} ({path.stat().st_size / 1e6:.1f} MB)")
    bare_s, _ = timed("bare pandas.read_csv", lambda: pd.read_csv(path))
    load_s, rec = timed("load_canonical (validated)", lambda: load_canonical(path))
    n = len(rec)
    del rec

    def end_to_end() -> str:
        result = analyze(iter_canonical_chunks(path), AnalysisSettings(), source=str(path))
        return json.dumps(result_to_jsonable(result), allow_nan=False)

    total_s, text = timed("end to end: CSV -> analyze -> JSON", end_to_end)
    doc = json.loads(text)
    n_sets = len(doc["sets"])
    n_reps = sum(len(s["reps"]) for s in doc["sets"])
    budget = TARGET_S * args.hours
    truth = json.loads(truth_path(path).read_text(encoding="utf-8"))

    print()
    print(f"  samples                 {n:>12,}")
    print(f"  sets / reps found       {n_sets:>6} / {n_reps}  (simulated: {truth['sets']} / {truth['reps']})")
    print(
        f"  throughput              {n / total_s:>12,.0f} samples/s"
        f"  ({n / total_s / args.rate:,.0f}x real time)"
    )
    print(f"  total                   {total_s:>12.2f} s  (target <= {budget:.1f} s)")
    print(f"  load only               {load_s:>12.2f} s  ({load_s / bare_s:.2f}x bare read_csv)")
    print(f"  ratio to bare read_csv  {total_s / bare_s:>12.1f}x  (bare: {bare_s:.2f} s)")
    ok = total_s <= budget
    print(f"  result                  {'within target' if ok else 'OVER TARGET'}")
    return 0 if ok or not args.strict else 1


if __name__ == "__main__":
    sys.exit(main())
