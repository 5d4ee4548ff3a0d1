"""Peak memory of streamed analysis: ``imurep analyze`` of a 200 Hz recording of 10 min, 1 h, 10 h.

The inputs are canonical CSVs built once (cached in ``benchmarks/_data/``, gitignored) by writing
one simulated session (:mod:`imurep.sim`) over and over on a continuous time base, in blocks, so
building them needs little memory too.  Each recording is analysed by the real CLI in a child
process (``imurep analyze REC --no-store --json OUT``) and its peak resident set size is read from
the kernel (``wait4`` rusage, ``ru_maxrss``).  The floor is the same command on a 10 s recording
(interpreter, imports, one chunk), measured in the same run.

Usage::

    python benchmarks/memory.py [--durations 10m,1h,10h] [--repeat 2] [--rate HZ] [--strict]

Prints, per duration: peak RSS (min and median of the repeats), its excess over the floor, wall
time and the time per hour of data (linear time: the same per hour for every length).  The
target is a peak RSS <= 300 MB for 10 h at 200 Hz; ``--strict`` exits 1 when it is missed.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from imurep import sim
from imurep.io.canonical import CANONICAL_COLUMNS, format_rows

DATA_DIR = Path(__file__).resolve().parent / "_data"
TARGET_MB = 300.0
SRC = Path(__file__).resolve().parents[1] / "src"


def _seconds(text: str) -> float:
    unit = text[-1]
    return float(text[:-1]) * {"s": 1.0, "m": 60.0, "h": 3600.0}[unit]


def build_input(path: Path, seconds: float, rate_hz: float) -> None:
    """Write ``seconds`` of 200 Hz data: one simulated session repeated on a continuous time base."""
    rec = sim.simulate(sim.SimSettings(seed=3, placement="hip", sample_rate_hz=rate_hz))
    dt = 1.0 / rate_hz
    t_rel = rec.t_s - rec.t_s[0]
    period = float(t_rel[-1]) + dt
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8", newline="\n") as fh:
        fh.write(",".join(CANONICAL_COLUMNS) + "\n")
        offset = 0.0
        while offset < seconds:
            t = t_rel + offset
            keep = t < seconds
            for a in range(0, int(keep.sum()), 20000):
                b = min(a + 20000, int(keep.sum()))
                fh.writelines(format_rows(t[a:b], rec.acc_mps2[a:b], rec.gyr_rads[a:b]))
            offset += period
    tmp.replace(path)


def cached_input(seconds: float, rate_hz: float) -> Path:
    sim_hash = hashlib.sha256(Path(sim.__file__).read_bytes()).hexdigest()[:8]
    path = DATA_DIR / f"mem_{seconds:g}s_{rate_hz:g}hz_{sim_hash}.csv"
    if not path.is_file():
        DATA_DIR.mkdir(exist_ok=True)
        start = time.perf_counter()
        build_input(path, seconds, rate_hz)
        print(
            f"  built {path.name} ({path.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - start:.0f} s"
        )
    return path


def peak_rss_mb(path: Path, out: Path) -> tuple[float, float]:
    """Peak RSS (MB) and wall time (s) of ``imurep analyze path`` in a child process."""
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    cmd = [sys.executable, "-m", "imurep", "analyze", str(path), "--placement", "hip", "--no-store",
           "--json", str(out)]  # fmt: skip
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode() if proc.stderr else ""
    if proc.returncode != 0:
        raise SystemExit(f"imurep analyze {path} failed ({proc.returncode}): {err.strip()}")
    return usage.ru_maxrss / 1024.0, elapsed  # Linux: kB


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--durations", default="10m,1h,10h", help="comma-separated, e.g. 10m,1h,10h")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--rate", type=float, default=200.0, help="sample rate, Hz")
    parser.add_argument(
        "--strict", action="store_true", help=f"exit 1 when 10 h peaks above {TARGET_MB:g} MB"
    )
    args = parser.parse_args()
    durations = [d.strip() for d in args.durations.split(",") if d.strip()]

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out.json"
        small = Path(tmp) / "floor.csv"
        rec = sim.simulate(sim.SimSettings(seed=3, placement="hip", sample_rate_hz=args.rate))
        n = int(10 * args.rate)
        with small.open("w", encoding="utf-8") as fh:
            fh.write(",".join(CANONICAL_COLUMNS) + "\n")
            fh.writelines(format_rows(rec.t_s[:n], rec.acc_mps2[:n], rec.gyr_rads[:n]))
        floors = [peak_rss_mb(small, out)[0] for _ in range(args.repeat)]
        floor = min(floors)
        print(
            f"floor (10 s recording): peak RSS min {floor:.0f} MB, median {statistics.median(floors):.0f} MB"
        )
        print(f"{'duration':>9} {'≈samples':>12} {'peak MB min':>12} {'median':>8} {'over floor':>11} "
              f"{'time s':>8} {'s per hour':>11}")  # fmt: skip
        worst_10h: float | None = None
        for d in durations:
            seconds = _seconds(d)
            path = cached_input(seconds, args.rate)
            runs = [peak_rss_mb(path, out) for _ in range(args.repeat)]
            peaks = [r[0] for r in runs]
            times = [r[1] for r in runs]
            n_samples = int(np.floor(seconds * args.rate))
            print(
                f"{d:>9} {n_samples:>12,} {min(peaks):>12.0f} {statistics.median(peaks):>8.0f} "
                f"{min(peaks) - floor:>+11.0f} {min(times):>8.1f} {min(times) / (seconds / 3600):>11.1f}"
            )
            if seconds >= 36000:
                worst_10h = max(peaks)
    if worst_10h is not None:
        ok = worst_10h <= TARGET_MB
        print(f"10 h peak RSS {worst_10h:.0f} MB: {'within' if ok else 'OVER'} the {TARGET_MB:g} MB target")
        return 0 if ok or not args.strict else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
