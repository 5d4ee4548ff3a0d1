"""Accuracy of the analysis across the style space (issue 12): one table, every family x rate band.

Each recording is drawn from :mod:`imurep.sim.styles` (a second motion model, independent of the
planned simulator behind ``accuracy.py``) by :func:`imurep.sim.style_recording.simulate_style`,
analysed as a user would (:func:`imurep.core.pipeline.analyze` with the settings resolved from its
sidecar: placement, sides and the exercise profile) and scored against its truth with the shared
scoring of ``_scoring.py`` (reps matched one-to-one by overlap).  Placements alternate hip /
thigh; the rate is drawn log-uniformly in the band.  Seeds start at 30000 (tests use seeds below
1000, ``accuracy.py`` 10000+, ``bridge_accuracy.py`` 20000+).

Columns: sets with the exact rep count, phantom and missed reps (of the true reps), phase-duration
error (lifting, squeeze, lowering) median / p95 in ms, hip-tilt error mean (degrees, hip sensor),
and the F1 of each fault (``-`` where a fault neither occurred nor was reported).  Targets of
issue 12: exact >= 99 %, phantom 0, phase error median <= 25 ms and p95 <= 80 ms (<= 50 / 150 ms at
25 Hz), tilt error mean <= 1.0 deg, F1 >= 0.97.

Usage: ``python benchmarks/styles.py [--n 2] [--quick] [--family F ...] [--band B ...] [-v]``
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from typing import Any

import numpy as np
from _scoring import evaluate, fault_f1, new_stats

from imurep.coaching.exercises import get_profile
from imurep.core.pipeline import analyze
from imurep.core.settings import resolve
from imurep.model.codes import FAULTS
from imurep.model.samples import ImuChunk
from imurep.sim.style_recording import simulate_style
from imurep.sim.styles import FAMILIES, RATE_BANDS

FIRST_SEED = 30_000
SHORT = {"hip_tilt": "tilt", "rushed_lowering": "rushed", "short_hold": "short", "partial_rom": "partial"}


def seed_of(first: int, i_family: int, i_band: int, k: int) -> int:
    """The seed of recording ``k`` of a (family, band) cell."""
    return first + 1000 * i_family + 100 * i_band + k


def run_cell(
    family: str, band: str, seeds: list[int], first_hip: bool, stats: dict[str, Any], verbose: bool
) -> int:
    """Simulate, analyse and score the recordings of one cell into ``stats`` (placements alternate,
    starting with the hip when ``first_hip``); returns the number of samples."""
    lo, hi = RATE_BANDS[band]
    n_samples = 0
    for k, seed in enumerate(seeds):
        rate = float(np.exp(np.random.default_rng(seed).uniform(math.log(lo), math.log(hi))))
        placement = "hip" if (k % 2 == 0) == first_hip else "thigh"
        rec = simulate_style(seed, family, placement=placement, sample_rate_hz=rate)
        meta = rec.metadata
        settings = resolve(sidecar=meta, profile=get_profile(meta["exercise"]).settings_overrides())
        res = analyze(
            [ImuChunk(rec.t_s, rec.acc_mps2, rec.gyr_rads)],
            settings,
            sample_rate_hz=rate,
            source=f"style:{family}:{seed}",
        )
        n_samples += rec.t_s.size
        before = len(stats["bad_sets"])
        evaluate(rec.truth, res, stats)
        if verbose:
            n_true = sum(len(s["reps"]) for s in rec.truth["sets"])
            n_found = sum(len(s.reps) for s in res.sets)
            flag = "" if len(stats["bad_sets"]) == before else "  <- wrong count"
            print(
                f"  {family} {band} seed {seed} {placement} {rate:.0f} Hz: truth {n_true} reps in "
                f"{len(rec.truth['sets'])} set(s), found {n_found} in {len(res.sets)}{flag}",
                file=sys.stderr,
            )
    return n_samples


def row(stats: dict[str, Any]) -> dict[str, Any]:
    """The table's figures of one stats dict."""
    pe = np.asarray(stats["phase_err"]) * 1000.0
    te = np.asarray(stats["tilt_err"])
    return {
        "sets": stats["sets"],
        "exact": stats["sets_exact"] / max(stats["sets"], 1),
        "reps": stats["truth_reps"],
        "phantom": stats["phantom"],
        "missed": stats["missed"],
        "pe_med": float(np.median(pe)) if pe.size else math.nan,
        "pe_p95": float(np.percentile(pe, 95)) if pe.size else math.nan,
        "tilt": float(te.mean()) if te.size else math.nan,
        "f1": {code: fault_f1(stats, code)[2] for code in FAULTS},
    }


def _fmt(x: float, spec: str) -> str:
    return "-" if math.isnan(x) else format(x, spec)


def table_line(label: str, band: str, r: dict[str, Any]) -> str:
    f1 = " | ".join(_fmt(r["f1"][c], ".2f") for c in FAULTS)
    return (
        f"| {label} | {band} | {r['exact']:.0%} of {r['sets']} | {r['phantom']} "
        f"| {r['missed']} of {r['reps']} | {_fmt(r['pe_med'], '.0f')} / {_fmt(r['pe_p95'], '.0f')} "
        f"| {_fmt(r['tilt'], '.2f')} | {f1} |"
    )


def merge(into: dict[str, Any], other: dict[str, Any]) -> None:
    """Add the counts and lists of ``other`` to ``into`` (both from :func:`_scoring.new_stats`)."""
    for key, value in other.items():
        if key == "faults":
            for code, c in value.items():
                for k, v in c.items():
                    into["faults"][code][k] += v
        elif isinstance(value, list):
            into[key].extend(value)
        else:
            into[key] += value


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=2, help="recordings per family and band (hip / thigh alternate)")
    ap.add_argument("--quick", action="store_true", help="one recording per cell (placements alternate)")
    ap.add_argument("--first-seed", type=int, default=FIRST_SEED)
    ap.add_argument("--family", nargs="+", choices=FAMILIES, default=list(FAMILIES))
    ap.add_argument("--band", nargs="+", choices=list(RATE_BANDS), default=list(RATE_BANDS))
    ap.add_argument("-v", "--verbose", action="store_true", help="a line per recording, on stderr")
    args = ap.parse_args(argv)
    n = 1 if args.quick else args.n
    t_start = time.perf_counter()
    total = new_stats()
    per_band = {b: new_stats() for b in args.band}
    lines = []
    n_samples = 0
    for family in args.family:
        for band in args.band:
            i_f, i_b = FAMILIES.index(family), list(RATE_BANDS).index(band)
            seeds = [seed_of(args.first_seed, i_f, i_b, k) for k in range(n)]
            stats = new_stats()
            n_samples += run_cell(family, band, seeds, (i_f + i_b) % 2 == 0, stats, args.verbose)
            lines.append(table_line(family, band, row(stats)))
            merge(per_band[band], stats)
            merge(total, stats)
    elapsed = time.perf_counter() - t_start
    bands = ", ".join(f"{b} {lo:g}-{hi:g} Hz" for b, (lo, hi) in RATE_BANDS.items() if b in args.band)
    print(
        f"style space: {len(args.family)} families x {len(args.band)} rate bands ({bands}), {n} recording(s) "
        f"per cell, {n_samples:,} samples, {elapsed:.0f} s"
    )
    print()
    faults = " | ".join(f"F1 {SHORT[c]}" for c in FAULTS)
    head = "| family | rate | sets exact | phantom | missed | phase err med / p95 ms | tilt err deg"
    print(f"{head} | {faults} |")
    print("|---" * (7 + len(FAULTS)) + "|")
    for line in lines:
        print(line)
    for band in args.band:
        print(table_line("**all**", band, row(per_band[band])))
    print(table_line("**all**", "all", row(total)))
    if total["bad_sets"]:
        print()
        print("sets with a wrong count (seed, placement, set, true reps, found reps, found sets):")
        for bad in total["bad_sets"][: 40 if args.verbose else 15]:
            print("  ", bad)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
