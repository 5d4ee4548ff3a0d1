"""Rep detection on real, manually labelled squat sets (../shared/data/squat-realtime/).

Bodyweight squats done touch-and-go, two people, a waist ("hip") and a thigh IMU at ~111 Hz, 22
sets seen by both sensors (see the folder's SOURCE.md).  Each recording is analysed as a user
would (``imurep.io.load_recording`` + the sidecar's nominal rate + the exercise profile) and its
reps are matched one-to-one with the labelled windows by overlap.

Prints, per sensor: sets with the exact rep count, recall and precision of reps, the median and
95th percentile of the start / end errors, and a line per set whose count is wrong.

Usage: ``python benchmarks/real_squats.py [--exercise squat] [--data DIR] [-v]``
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from imurep.coaching.exercises import get_profile
from imurep.core.pipeline import analyze
from imurep.core.settings import resolve
from imurep.io import load_recording, nominal_rate_hz
from imurep.io.labels import RepWindow, match_windows, read_rep_labels

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "squat-realtime"


def evaluate(csv: Path, exercise: str | None) -> dict[str, Any]:
    """Analyse one recording and compare it with its labels."""
    labels = read_rep_labels(csv)
    rec = load_recording(csv)
    settings = resolve(profile=get_profile(exercise).settings_overrides()) if exercise else None
    placement = rec.metadata.get("placement", "hip")
    base = settings if settings is not None else None
    from imurep.core.settings import AnalysisSettings

    s = (base or AnalysisSettings()).replace(placement=placement)
    res = analyze(rec.chunks(), s, sample_rate_hz=nominal_rate_hz(rec.metadata), source=str(csv))
    found = [RepWindow(r.start_s, r.end_s) for st in res.sets for r in st.reps]
    pairs = match_windows(labels, found)
    return {
        "file": csv.stem,
        "sensor": placement,
        "n_true": len(labels),
        "n_found": len(found),
        "n_sets": len(res.sets),
        "matched": len(pairs),
        "start_err": [abs(found[j].start_s - labels[i].start_s) for i, j in pairs],
        "end_err": [abs(found[j].end_s - labels[i].end_s) for i, j in pairs],
        "within_025": sum(
            abs(found[j].start_s - labels[i].start_s) <= 0.25
            and abs(found[j].end_s - labels[i].end_s) <= 0.25
            for i, j in pairs
        ),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--exercise", default=None, help="exercise profile (default: the hip-thrust default)")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args(argv)
    files = sorted(args.data.glob("*.csv"))
    if not files:
        print(f"no recordings in {args.data} (the folder is beside the repository); nothing measured")
        return 0
    t0 = time.perf_counter()
    rows = [evaluate(f, args.exercise) for f in files]
    dt = time.perf_counter() - t0
    print(f"{len(rows)} recordings analysed in {dt:.1f} s (exercise: {args.exercise or 'default'})")
    print(
        "| sensor | sets exact | reps true | found | matched | recall | precision | start err median / p95 "
        "| end err median / p95 | matched within 0.25 s |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for sensor in ("hip", "thigh"):
        rs = [r for r in rows if r["sensor"] == sensor]
        exact = sum(r["n_found"] == r["n_true"] for r in rs)
        nt, nf, nm = (sum(r[k] for r in rs) for k in ("n_true", "n_found", "matched"))
        se = np.asarray([e for r in rs for e in r["start_err"]])
        ee = np.asarray([e for r in rs for e in r["end_err"]])
        within = sum(r["within_025"] for r in rs)

        def q(x: np.ndarray, p: float) -> str:
            return f"{np.percentile(x, p):.3f}" if x.size else "-"

        print(
            f"| {sensor} | {exact}/{len(rs)} ({exact / max(len(rs), 1):.0%}) | {nt} | {nf} | {nm} "
            f"| {nm / max(nt, 1):.1%} | {nm / max(nf, 1):.1%} | {q(se, 50)} / {q(se, 95)} s "
            f"| {q(ee, 50)} / {q(ee, 95)} s | {within}/{nt} |"
        )
    bad = [r for r in rows if r["n_found"] != r["n_true"]]
    for r in bad:
        print(f"  wrong count: {r['file']}: {r['n_found']} found of {r['n_true']} ({r['n_sets']} set(s))")
    if args.verbose:
        for r in rows:
            print(
                r["file"], r["n_true"], r["n_found"], np.round(r["start_err"], 2), np.round(r["end_err"], 2)
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
