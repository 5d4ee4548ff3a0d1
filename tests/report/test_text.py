"""Wording of the plot reports: the set verdict."""

from __future__ import annotations

from imurep.model.codes import FAULTS
from imurep.model.results import RepResult, SetResult, SetSummary
from imurep.report.text import set_verdict


def test_verdict_wording() -> None:
    def rep(i: int, faults: tuple[str, ...] = (), tilt: float = 1.0) -> RepResult:
        return RepResult(i, 0.0, 1.0, 2.0, 3.0, 40.0, tilt, faults)

    reps = tuple(
        rep(i, ("rushed_lowering",) if i in (9, 11) else (), tilt=2.0 if i == 3 else 1.0)
        for i in range(1, 12)
    )
    s = SetResult(1, "left", 0.0, 40.0, reps, SetSummary.from_reps(reps, FAULTS))
    assert set_verdict(s, "hip") == "11 reps · 2 rushed lowerings (reps 9, 11) · hips level (max 2.0°)"
    one = (rep(1, ("hip_tilt", "partial_rom"), tilt=7.0), rep(2))
    s1 = SetResult(1, None, 0.0, 9.0, one, SetSummary.from_reps(one, FAULTS))
    assert set_verdict(s1, "hip") == "2 reps · hips not level in 1 rep (rep 1) · 1 partial range (rep 1)"
    assert set_verdict(s1, "thigh").endswith("tilt not measured (thigh)")
