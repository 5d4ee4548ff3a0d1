"""Coaching cues: the cue of each fault, worded per exercise, and over-extended reps (issue 7)."""

from __future__ import annotations

from imurep.coaching.advice import over_extended_reps
from imurep.coaching.cues import FAULT_CUES, cue_lines
from imurep.coaching.exercises import load_catalog
from imurep.core.pipeline import analyze
from imurep.core.settings import AnalysisSettings
from imurep.model.codes import FAULTS
from imurep.model.results import RepResult, SetResult, SetSummary
from imurep.model.samples import ImuChunk
from imurep.sim import SimSettings, simulate

CATALOG = load_catalog()
SLHT = CATALOG.get("single_leg_hip_thrust")
OVER_DEG = CATALOG.rules.over_extension_deg


# --- cues ------------------------------------------------------------------------------------------


def _rep(i: int, faults: tuple[str, ...] = (), top: float | None = 40.0) -> RepResult:
    start = 10.0 * i
    return RepResult(i, start, start + 1, start + 2.2, start + 4, 40.0, 1.0, faults, 1.0, 0.0, top)


def _set(reps: list[RepResult], side: str | None = "left", index: int = 1) -> SetResult:
    t = tuple(reps)
    return SetResult(index, side, 0.0, 100.0, t, SetSummary.from_reps(t, FAULTS))


def test_every_fault_has_a_plain_cue() -> None:
    for code in FAULTS:
        assert 20 < len(FAULT_CUES[code]) < 80
    assert "level" in FAULT_CUES["hip_tilt"] and "second" in FAULT_CUES["short_hold"]
    s = _set([_rep(1), _rep(2, ("hip_tilt",)), _rep(3, ("hip_tilt", "short_hold"))])
    lines = cue_lines(s, SLHT)
    assert lines[0] == "hips not level (reps 2, 3): " + FAULT_CUES["hip_tilt"]
    assert lines[1].startswith("short squeeze (rep 3): ")
    lift = CATALOG.get("glute_bridge_leg_lift")
    assert "foot" in cue_lines(s, lift)[0], "the leg-lift profile words its own cues"


def test_over_extension_is_relative_to_the_sets_typical_top() -> None:
    s = _set([_rep(1, top=40.0), _rep(2, top=41.0), _rep(3, top=52.0), _rep(4, top=39.5), _rep(5, top=30.0)])
    assert over_extended_reps(s, 8.0) == (3,)
    assert "ribs down" in cue_lines(s, SLHT, over_extended=over_extended_reps(s, OVER_DEG))[-1]
    assert over_extended_reps(_set([_rep(1, top=40.0), _rep(2, top=60.0)]), 8.0) == ()  # too few reps
    rec = simulate(SimSettings(seed=41, n_sets=2))
    res = analyze([ImuChunk(rec.t_s, rec.acc_mps2, rec.gyr_rads)], AnalysisSettings())
    assert all(over_extended_reps(x, OVER_DEG) == () for x in res.sets), "no false alarm on simulated sets"
