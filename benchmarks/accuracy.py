"""Accuracy of the analysis against simulated recordings with ground truth.

Runs the offline pipeline on simulated recordings (both placements, all fault types, seeds that the
unit tests do not use) and compares every set and rep with the simulator's truth.

Prints: exact rep count per set, phantom and missed reps, phase-duration errors (median, 95th
percentile), ROM and hip-tilt errors, and precision / recall / F1 per fault.

Usage: ``python benchmarks/accuracy.py [--n 48] [--first-seed 10000] [--rate 104] [--exercise NAME]``

``--exercise`` simulates another exercise of the catalogue (the similar movements: ``squat``,
``bulgarian_split_squat``, ``step_up``, ``single_leg_rdl``, ``pistol_squat``, or a bridge) and
analyses it with that exercise's profile, as ``imurep analyze`` does with the simulator's sidecar;
the targets printed are the hip thrust's.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
from _scoring import evaluate, fault_f1, new_stats

from imurep.coaching.exercises import get_profile
from imurep.core.pipeline import analyze
from imurep.core.settings import AnalysisSettings, resolve
from imurep.model.codes import FAULTS
from imurep.model.samples import ImuChunk
from imurep.sim import SimSettings, simulate

FIRST_SEED = 10_000  # unit tests use seeds < 1000


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=48, help="number of recordings (half per placement)")
    ap.add_argument("--first-seed", type=int, default=FIRST_SEED)
    ap.add_argument("--rate", type=float, default=None, help="sample rate, Hz (default: varied 50..400)")
    ap.add_argument("--exercise", default=None, help="exercise simulated and analysed (default: hip thrust)")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args(argv)

    stats = new_stats()
    rates = [52.0, 104.0, 200.0, 400.0]
    t_sim = t_an = 0.0
    n_samples = 0
    for k in range(args.n):
        seed = args.first_seed + k
        placement = "hip" if k % 2 == 0 else "thigh"
        rate = args.rate or rates[(k // 2) % len(rates)]
        t0 = time.perf_counter()
        if args.exercise is None:
            rec = simulate(SimSettings(seed=seed, placement=placement, sample_rate_hz=rate, n_sets=2))
            settings = AnalysisSettings(placement=placement)
        else:
            rec = simulate(
                SimSettings(
                    seed=seed, placement=placement, sample_rate_hz=rate, n_sets=2, exercise=args.exercise
                )
            )
            profile = get_profile(rec.metadata["exercise"]).settings_overrides()
            settings = resolve(sidecar=rec.metadata, profile=profile)
        t1 = time.perf_counter()
        res = analyze([ImuChunk(rec.t_s, rec.acc_mps2, rec.gyr_rads)], settings, source=f"sim:{seed}")
        t2 = time.perf_counter()
        t_sim += t1 - t0
        t_an += t2 - t1
        n_samples += rec.t_s.size
        evaluate(rec.truth, res, stats)
        if args.verbose:
            print(
                f"seed {seed} {placement} {rate:g} Hz: "
                f"truth {sum(len(s['reps']) for s in rec.truth['sets'])} "
                f"found {sum(len(s.reps) for s in res.sets)} reps",
                file=sys.stderr,
            )

    pe = np.asarray(stats["phase_err"]) * 1000
    be = np.asarray(stats["boundary_err"]) * 1000
    print(f"exercise: {args.exercise or 'single_leg_hip_thrust (default settings)'}")
    print(
        f"recordings: {args.n} ({args.n // 2} hip, {args.n - args.n // 2} thigh), samples: {n_samples}, "
        f"simulate {t_sim:.1f} s, analyze {t_an:.1f} s ({n_samples / max(t_an, 1e-9):,.0f} samples/s)"
    )
    exact = stats["sets_exact"] / max(stats["sets"], 1)
    print(
        f"sets: {stats['sets']} true, {stats['sets_found']} found; exact rep count in "
        f"{stats['sets_exact']}/{stats['sets']} = {exact:.1%} (target >= 98%)"
    )
    print(
        f"reps: {stats['truth_reps']} true, {stats['found_reps']} found, {stats['matched']} matched, "
        f"{stats['phantom']} phantom (target 0), {stats['missed']} missed"
    )
    if pe.size:
        print(
            f"phase duration error: median {np.median(pe):.1f} ms (target <= 40), "
            f"p95 {np.percentile(pe, 95):.1f} ms (target <= 120), max {pe.max():.0f} ms"
        )
        print(f"phase boundary error: median {np.median(be):.1f} ms, p95 {np.percentile(be, 95):.1f} ms")
        print(
            f"ROM error: mean {np.mean(stats['rom_err']):.2f} deg, "
            f"p95 {np.percentile(stats['rom_err'], 95):.2f} deg"
        )
    if stats["tilt_err"]:
        te = np.asarray(stats["tilt_err"])
        print(
            f"hip tilt error: mean {te.mean():.2f} deg (target <= 1.5), p95 {np.percentile(te, 95):.2f} deg"
        )
    ok = exact >= 0.98 and stats["phantom"] == 0
    for code in FAULTS:
        c = stats["faults"][code]
        p, r, f1 = fault_f1(stats, code)
        ok = ok and f1 >= 0.95
        print(
            f"fault {code:16s} tp {c['tp']:4d} fp {c['fp']:3d} fn {c['fn']:3d}  "
            f"precision {p:.3f} recall {r:.3f} F1 {f1:.3f} (target >= 0.95)"
        )
    if stats["bad_sets"]:
        print("sets with a wrong count (seed, placement, set, true, found, found sets):")
        for row in stats["bad_sets"][:20]:
            print("  ", row)
    if args.verbose:
        for row in stats["missed_reps"]:
            print("   missed (seed, placement, rate, start, faults):", row)
        for row in stats["phantom_reps"]:
            print("   phantom (seed, placement, rate, start, rom):", row)
    if pe.size:
        ok = ok and np.median(pe) <= 40 and np.percentile(pe, 95) <= 120
    if stats["tilt_err"]:
        ok = ok and float(np.mean(stats["tilt_err"])) <= 1.5
    print("ALL TARGETS MET" if ok else "SOME TARGETS MISSED")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
