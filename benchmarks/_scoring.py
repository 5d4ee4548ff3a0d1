"""Scoring of an analysis against simulated truth, shared by the benchmarks (``accuracy.py``,
``styles.py``): one-to-one rep matching by overlap and the accumulated figures (exact counts,
phantom and missed reps, phase and boundary errors, ROM and tilt errors, fault counts).

Not a benchmark itself (imported by them; running it prints nothing).
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any

from imurep.io.labels import RepWindow, match_windows
from imurep.model.codes import FAULTS
from imurep.model.results import SessionResult

LISTS = ("phase_err", "boundary_err", "rom_err", "tilt_err", "bad_sets", "missed_reps", "phantom_reps")
"""Keys of the per-item lists in a stats dict (the rest are counters and ``faults``)."""


def new_stats() -> dict[str, Any]:
    """An empty stats dict for :func:`evaluate`: counters, the lists :data:`LISTS` and per-fault
    tp / fp / fn / tn counters under ``faults``."""
    stats: dict[str, Any] = defaultdict(int)
    for k in LISTS:
        stats[k] = []
    stats["faults"] = {code: defaultdict(int) for code in FAULTS}
    return stats


def fault_f1(stats: dict[str, Any], code: str) -> tuple[float, float, float]:
    """Precision, recall and F1 of fault ``code`` in ``stats`` (NaN each when it neither occurred
    nor was reported)."""
    c = stats["faults"][code]
    if c["tp"] + c["fp"] + c["fn"] == 0:
        return math.nan, math.nan, math.nan
    p = c["tp"] / max(c["tp"] + c["fp"], 1)
    r = c["tp"] / max(c["tp"] + c["fn"], 1)
    return p, r, 2 * p * r / max(p + r, 1e-9)


def match_reps(truth: list[dict[str, Any]], found: list[dict[str, Any]]) -> list[tuple[int, int]]:
    """Pair truth and found reps whose [start, end] intervals overlap most (greedy, one-to-one);
    the same matching as the real-data tests (:func:`imurep.io.labels.match_windows`)."""
    return match_windows(
        [RepWindow(r["start_s"], r["end_s"]) for r in truth],
        [RepWindow(r["start_s"], r["end_s"]) for r in found],
    )


def evaluate(truth: dict[str, Any], result: SessionResult, stats: dict[str, Any]) -> None:
    """Accumulate the comparison of one recording into ``stats``."""
    found_sets = [s.to_dict() for s in result.sets]
    t_reps = [r for s in truth["sets"] for r in s["reps"]]
    f_reps = [r for s in found_sets for r in s["reps"]]
    pairs = match_reps(t_reps, f_reps)
    stats["truth_reps"] += len(t_reps)
    stats["found_reps"] += len(f_reps)
    stats["matched"] += len(pairs)
    stats["phantom"] += len(f_reps) - len(pairs)
    stats["missed"] += len(t_reps) - len(pairs)
    # per set: exact count when the found set overlapping the truth set has the same number of reps
    for ts in truth["sets"]:
        overlapping = [
            fs for fs in found_sets if min(fs["end_s"], ts["end_s"]) - max(fs["start_s"], ts["start_s"]) > 0
        ]
        n_found = sum(len(fs["reps"]) for fs in overlapping)
        stats["sets"] += 1
        stats["sets_exact"] += int(n_found == len(ts["reps"]) and len(overlapping) == 1)
        if n_found != len(ts["reps"]) or len(overlapping) != 1:
            stats["bad_sets"].append(
                (truth["seed"], truth["placement"], ts["index"], len(ts["reps"]), n_found, len(overlapping))
            )
    stats["sets_found"] += len(found_sets)
    for i, j in pairs:
        tr, fr = t_reps[i], f_reps[j]
        for key in ("concentric_s", "top_hold_s", "eccentric_s"):
            stats["phase_err"].append(abs(fr[key] - tr[key]))
        for key in ("start_s", "top_start_s", "top_end_s", "end_s"):
            stats["boundary_err"].append(abs(fr[key] - tr[key]))
        stats["rom_err"].append(abs(fr["rom_deg"] - tr["rom_deg"]))
        if tr.get("peak_tilt_deg") is not None and fr.get("peak_tilt_deg") is not None:
            stats["tilt_err"].append(abs(fr["peak_tilt_deg"] - tr["peak_tilt_deg"]))
        for code in FAULTS:
            t_has, f_has = code in tr["faults"], code in fr["faults"]
            if code == "hip_tilt" and truth["placement"] != "hip":
                continue
            key = ("tp" if t_has else "fp") if f_has else ("fn" if t_has else "tn")
            stats["faults"][code][key] += 1
    tag = (truth["seed"], truth["placement"], truth["sample_rate_hz"])
    for i in sorted(set(range(len(t_reps))) - {i for i, _ in pairs}):
        stats["missed_reps"].append((*tag, round(t_reps[i]["start_s"], 2), t_reps[i]["faults"]))
        for code in t_reps[i]["faults"]:
            stats["faults"][code]["fn"] += 1
    for j in sorted(set(range(len(f_reps))) - {j for _, j in pairs}):
        stats["phantom_reps"].append((*tag, round(f_reps[j]["start_s"], 2), round(f_reps[j]["rom_deg"], 1)))
        for code in f_reps[j]["faults"]:
            stats["faults"][code]["fp"] += 1
