"""Rep tracking on style-space recordings that once went wrong (imurep.sim.styles; seeds below the
benchmark's 30000+).  Each case is named by what the tracker did before its fix."""

from __future__ import annotations

import pytest

from imurep.coaching.exercises import get_profile
from imurep.core.pipeline import analyze
from imurep.core.settings import resolve
from imurep.model.results import SessionResult
from imurep.model.samples import ImuChunk
from imurep.sim.recording import SimRecording
from imurep.sim.style_recording import simulate_style


def _analyse(family: str, seed: int, placement: str, rate: float) -> tuple[SimRecording, SessionResult]:
    """Simulate one style recording and analyse it as a user would (sidecar and exercise profile)."""
    rec = simulate_style(seed, family, placement=placement, sample_rate_hz=rate)
    settings = resolve(
        sidecar=rec.metadata, profile=get_profile(rec.metadata["exercise"]).settings_overrides()
    )
    res = analyze([ImuChunk(rec.t_s, rec.acc_mps2, rec.gyr_rads)], settings, sample_rate_hz=rate)
    return rec, res


@pytest.mark.parametrize(
    ("seed", "what"),
    [
        (100, "sitting down and getting up opened a set (the pelvis went down, a thrust lifts it)"),
        (104, "two walking steps were a set of 10 and 6 deg reps"),
        (112, "a fidget's discarded set swallowed rep 1; the set was then read from the top"),
    ],
)
def test_slow_sets_among_everyday_motion_are_counted(seed: int, what: str) -> None:
    rate = 150.0
    rec, res = _analyse("slow_pause", seed, "hip", rate)
    truth = rec.truth["sets"]
    assert [len(s.reps) for s in res.sets] == [len(s["reps"]) for s in truth], what
    for found, true in zip(res.sets, truth, strict=True):
        for r, tr in zip(found.reps, true["reps"], strict=True):
            # (the slow style lowers over up to 6 s: its stop is spread out in time)
            assert abs(r.start_s - tr["start_s"]) < 0.6 and abs(r.end_s - tr["end_s"]) < 0.6, what


@pytest.mark.parametrize(
    ("family", "seed", "what"),
    [
        # sitting on a box for 10-15 s and getting up was one long "rep" (the sitting its hold, too
        # long to integrate whole), sitting down by the bench the second: a 2-rep set
        ("touch_and_go", 104, "the phantom set then ended inside the real one: its 23 reps were lost"),
        ("noisy_motion", 102, "a 2-rep set before the real one"),
        ("two_leg", 114, "a 2-rep set before the real ones"),
    ],
)
def test_everyday_motion_before_a_set_is_not_a_set(family: str, seed: int, what: str) -> None:
    rate = 60.0
    rec, res = _analyse(family, seed, "hip", rate)
    truth = rec.truth["sets"]
    assert [len(s.reps) for s in res.sets] == [len(s["reps"]) for s in truth], what
    for found, true in zip(res.sets, truth, strict=True):
        starts = [r.start_s for r in found.reps]
        assert max(abs(a - tr["start_s"]) for a, tr in zip(starts, true["reps"], strict=True)) < 0.25, what


@pytest.mark.parametrize(("seed", "placement"), [(103, "hip"), (109, "thigh")])
def test_a_strap_that_slips_during_a_rep_does_not_end_the_set(seed: int, placement: str) -> None:
    """The slip turned that rep's axis more than a different movement's would: the set used to end
    there (its rep lost, the rest a set of its own).  The rep after it turns about the set's axis
    again and the rest posture moved: the strap slipped, the set goes on."""
    rate = 80.0
    rec, res = _analyse("strap_slip", seed, placement, rate)
    truth = rec.truth["sets"]
    assert [len(s.reps) for s in res.sets] == [len(s["reps"]) for s in truth]
    assert any(s["strap_slips"] for s in truth)
    for found, true in zip(res.sets, truth, strict=True):
        for r, tr in zip(found.reps, true["reps"], strict=True):
            assert abs(r.start_s - tr["start_s"]) < 0.6 and abs(r.end_s - tr["end_s"]) < 0.6


@pytest.mark.parametrize("seed", [100, 104])
def test_sitting_up_off_the_bench_is_not_a_last_partial_rep(seed: int) -> None:
    """Getting up after the set first lifted the thigh ~17 deg and let it sink back a little, then
    went on without a stop: that start was counted as a last, partial rep (12 of 11)."""
    rate = 300.0
    rec, res = _analyse("explosive", seed, "thigh", rate)
    truth = rec.truth["sets"]
    assert [len(s.reps) for s in res.sets] == [len(s["reps"]) for s in truth]
    for found, true in zip(res.sets, truth, strict=True):
        assert abs(found.end_s - true["end_s"]) < 0.5


@pytest.mark.parametrize(
    ("seed", "what"),
    [
        (118, "a tilted rep right after the slip cleared it: 7 reps after it 'hips not level' (13-25 deg)"),
        (128, "a partial rep right after the slip cleared it: 8 reps judged with the old frame"),
    ],
)
def test_a_pelvis_strap_slip_is_found_whatever_rep_follows_it(seed: int, what: str) -> None:
    """The rep after a slip (its rest posture moved, its axis turned) may itself be tilted or partial:
    its axis then is not the next rep's, which used to clear the slip for good.  The frame is
    re-learned, every rep's tilt is judged as the truth's, and the rep the strap slipped in is marked
    uncertain."""
    rate = 120.0
    rec, res = _analyse("strap_slip", seed, "hip", rate)
    truth = rec.truth["sets"]
    assert [len(s.reps) for s in res.sets] == [len(s["reps"]) for s in truth], what
    for found, true in zip(res.sets, truth, strict=True):
        assert len(found.mounting_changes_s) == len(true["strap_slips"]), what
        for t_change, slip in zip(found.mounting_changes_s, true["strap_slips"], strict=True):
            # (re-learned from the first rep after the slip)
            assert 0.0 < t_change - slip["t_s"] < 8.0, what
        for r, tr in zip(found.reps, true["reps"], strict=True):
            assert r.peak_tilt_deg is not None
            assert abs(r.peak_tilt_deg - tr["peak_tilt_deg"]) < 3.0, what
            assert ("hip_tilt" in r.faults) == ("hip_tilt" in tr["faults"]), what
        slipped = [r for r in found.reps if r.start_s < true["strap_slips"][0]["t_s"] < r.end_s]
        assert all(r.confidence < 0.5 for r in slipped), what


@pytest.mark.parametrize(
    ("family", "seed", "what"),
    [
        # a 9 deg partial floor bridge with 8 deg of hip drop leans its rotation axis 40-45 deg:
        # it was taken for another movement and the set was cut there
        ("floor_bridge", 201, "a partial, tilted rep split the set in two (9 + 7 of 18)"),
        ("floor_bridge", 207, "a partial, tilted rep ended the second set after 5 of 13 reps"),
        # a 4-6 s first rep (a squeeze at the top) whose double-integrated height drifted 0.1-0.2 m
        # was taken for a movement that did not come back (sitting down)
        ("floor_bridge", 202, "the second set's first reps were a set of their own (3 + 7 of 12)"),
        ("noisy_motion", 202, "the second set's first rep was lost"),
    ],
)
def test_hip_sets_with_tilted_partial_reps_and_long_first_reps_are_counted(
    family: str, seed: int, what: str
) -> None:
    rec, res = _analyse(family, seed, "hip", 100.0)
    truth = rec.truth["sets"]
    assert [len(s.reps) for s in res.sets] == [len(s["reps"]) for s in truth], what
    errs = [
        max(abs(r.start_s - tr["start_s"]), abs(r.end_s - tr["end_s"]))
        for found, true in zip(res.sets, truth, strict=True)
        for r, tr in zip(found.reps, true["reps"], strict=True)
    ]
    # (a set that begins with a partial rep has its second rep's start early: known, issue 12)
    assert sorted(errs)[len(errs) // 2] < 0.1 and sum(e > 0.6 for e in errs) <= 1, what


@pytest.mark.parametrize(("seed", "what"), [(100, "a 6-rep set"), (102, "a 7-rep set")])
def test_walking_is_not_a_set_when_the_tracker_looks_again_without_a_pause(seed: int, what: str) -> None:
    """With no start position for a while (a refused movement, no pause after it) the tracker takes
    the next calm turn as a start (touch-and-go reps pause nowhere).  A thigh's walking steps turn
    calmly too: judged from such a turn, a step was a rep, and the walk before the set became one
    (``what``).  They swing back and forth around the standing posture held before the walk: a first
    rep from a calm turn may not swing past the last quiet posture."""
    rec, res = _analyse("ordinary", seed, "thigh", 60.0)
    truth = rec.truth["sets"]
    assert [len(s.reps) for s in res.sets] == [len(s["reps"]) for s in truth], what
    assert any(a["kind"] == "walking" for a in rec.truth["activities"])
