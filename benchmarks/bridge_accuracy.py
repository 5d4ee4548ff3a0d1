"""Accuracy of the floor-bridge family against simulated truth (issue 7).

* glute bridge with leg lift (``imurep.lifts``): lifts counted per side, side, phase timing,
  pelvic-rotation error, fault F1 (pelvis sensor: rotation > 3°, dropped foot, short hold; thigh
  sensor: the lifts of its own leg);
* single-leg glute bridge on the floor (rep segmentation with the floor profile, 18-30° range).

Seeds start at 20000 (tests use seeds below 1000).  Usage::

    python benchmarks/bridge_accuracy.py [--n 16] [--rate 104]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from imurep.coaching.exercises import get_profile
from imurep.core.pipeline import analyze
from imurep.core.settings import resolve
from imurep.model.samples import ImuChunk
from imurep.sim import SimSettings, simulate

LIFT_FAULTS = ("hip_tilt", "rushed_lowering", "short_hold")
LIFT = "glute_bridge_leg_lift"
BRIDGE = "single_leg_glute_bridge"


def _run(exercise: str, placement: str, seed: int, rate: float, profile: str) -> tuple[list, list]:
    rec = simulate(
        SimSettings(
            seed=seed,
            exercise=exercise,
            placement=placement,
            sample_rate_hz=rate,
            reps_per_set=(6, 10) if exercise == LIFT else (8, 14),
        )
    )
    st = resolve(
        profile=get_profile(profile).settings_overrides(), placement=placement, sides=rec.metadata["sides"]
    )
    res = analyze([ImuChunk(rec.t_s, rec.acc_mps2, rec.gyr_rads)], st)
    return rec.truth["sets"], list(res.sets)


def bench(exercise: str, placement: str, seeds: range, rate: float) -> None:
    profile = exercise  # the simulator's exercise names are the profile names
    n_sets = exact = phantom = missed = n_truth = 0
    phase: list[float] = []
    tilt: list[float] = []
    f1 = {f: [0, 0, 0] for f in LIFT_FAULTS}
    t0 = time.perf_counter()
    for seed in seeds:
        truth, found = _run(exercise, placement, seed, rate, profile)
        n_sets += len(truth)
        n_truth += sum(len(s["reps"]) for s in truth)
        n_found = sum(len(s.reps) for s in found)
        if len(truth) != len(found):
            phantom += max(0, n_found - n_truth)
            continue
        for want, got in zip(truth, found, strict=True):
            key_w = [r.get("side") for r in want["reps"]] if exercise == LIFT else [None] * len(want["reps"])
            key_g = [r.side for r in got.reps] if exercise == LIFT else [None] * len(got.reps)
            if key_w != key_g:
                phantom += max(0, len(got.reps) - len(want["reps"]))
                missed += max(0, len(want["reps"]) - len(got.reps))
                continue
            exact += 1
            for w, g in zip(want["reps"], got.reps, strict=True):
                phase += [
                    abs(g.start_s - w["start_s"]),
                    abs(g.top_start_s - w["top_start_s"]),
                    abs(g.top_end_s - w["top_end_s"]),
                    abs(g.end_s - w["end_s"]),
                ]
                if w["peak_tilt_deg"] is not None and g.peak_tilt_deg is not None:
                    tilt.append(abs(g.peak_tilt_deg - w["peak_tilt_deg"]))
                if exercise == LIFT:
                    for f in LIFT_FAULTS:
                        a, b = f in w["faults"], f in g.faults
                        f1[f][0] += a and b
                        f1[f][1] += b and not a
                        f1[f][2] += a and not b
    dt = time.perf_counter() - t0
    ph = np.asarray(phase) * 1000
    print(f"\n{exercise} · {placement} · {rate:g} Hz · {len(seeds)} recordings ({dt:.0f} s)")
    print(f"  sets with the exact count{' and sides' if exercise == LIFT else ''}: {exact}/{n_sets}")
    print(f"  movements in truth: {n_truth}; phantom {phantom}, missed {missed} (in sets counted wrong)")
    if ph.size:
        print(f"  phase-boundary error: median {np.median(ph):.0f} ms, p95 {np.percentile(ph, 95):.0f} ms")
    if tilt:
        print(f"  pelvic-rotation error: mean {np.mean(tilt):.2f}°, p95 {np.percentile(tilt, 95):.2f}°")
    for f, (tp, fp, fn) in f1.items():
        if tp + fp + fn:
            print(f"  {f}: F1 {2 * tp / (2 * tp + fp + fn):.3f} (tp {tp}, fp {fp}, fn {fn})")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=16, help="recordings per case")
    ap.add_argument("--rate", type=float, default=104.0, help="sample rate, Hz")
    args = ap.parse_args()
    seeds = range(20000, 20000 + args.n)
    bench(LIFT, "hip", seeds, args.rate)
    bench(LIFT, "thigh", range(20000, 20000 + max(2, args.n // 2)), args.rate)
    bench(BRIDGE, "hip", range(20000, 20000 + max(2, args.n // 2)), args.rate)
    bench(BRIDGE, "thigh", range(20000, 20000 + max(2, args.n // 2)), args.rate)


if __name__ == "__main__":
    main()
