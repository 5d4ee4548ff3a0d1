"""Pipeline tests: stream == batch for any chunking, events, invariants, simulated sessions."""

from __future__ import annotations

import functools

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imurep.core.pipeline import Pipeline, analyze
from imurep.core.settings import AnalysisSettings
from imurep.model.errors import DataValidationError, SettingsError
from imurep.model.events import Marker, RepCompleted, SetDiscarded, SetEnded, SetStarted
from imurep.model.samples import ImuChunk
from imurep.model.units import STANDARD_GRAVITY_MPS2
from imurep.sim import SimRecording, SimSettings, simulate


@functools.cache
def _rec(seed: int, placement: str = "hip", rate: float = 104.0, n_sets: int = 2) -> SimRecording:
    return simulate(SimSettings(seed=seed, placement=placement, sample_rate_hz=rate, n_sets=n_sets))


def _chunk(rec: SimRecording, a: int = 0, b: int | None = None) -> ImuChunk:
    return ImuChunk(rec.t_s[a:b], rec.acc_mps2[a:b], rec.gyr_rads[a:b])


@functools.cache
def _whole(seed: int) -> dict[str, object]:
    rec = _rec(seed, n_sets=1)
    return analyze([_chunk(rec)], AnalysisSettings(placement="hip")).to_dict()


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_results_do_not_depend_on_chunking(data: st.DataObject) -> None:
    rec = _rec(11, n_sets=1)
    n = rec.t_s.size
    cuts = sorted(set(data.draw(st.lists(st.integers(1, n - 1), min_size=1, max_size=60))))
    # also many tiny chunks in one region, as a BLE stream delivers them
    start = data.draw(st.integers(0, n - 200))
    cuts = sorted(set(cuts) | set(range(start, start + 200, data.draw(st.integers(1, 7)))) - {0})
    bounds = [0, *cuts, n]
    chunks = [_chunk(rec, a, b) for a, b in zip(bounds[:-1], bounds[1:], strict=True) if b > a]
    got = analyze(chunks, AnalysisSettings(placement="hip")).to_dict()
    assert got == _whole(11)


def test_events_match_the_final_result() -> None:
    rec = _rec(12)
    pipe = Pipeline(AnalysisSettings(placement="hip"))
    events = []
    for a in range(0, rec.t_s.size, 37):  # ~3 notifications' worth at a time
        events += pipe.update(_chunk(rec, a, a + 37))
    events += pipe.finish()
    assert not [e for e in events if isinstance(e, SetDiscarded)]  # no lone rep-like movements here
    started = [e for e in events if isinstance(e, SetStarted)]
    reps = [e for e in events if isinstance(e, RepCompleted)]
    ended = [e.result for e in events if isinstance(e, SetEnded)]
    assert ended == list(pipe.sets)
    assert len(started) == len(ended) >= 2
    # every rep shown live is in the final result, at the same time
    assert len(reps) == sum(len(s.reps) for s in ended)
    final = {(round(r.start_s, 6), round(r.end_s, 6)) for s in ended for r in s.reps}
    shown = {(round(e.rep.start_s, 6), round(e.rep.end_s, 6)) for e in reps}
    assert shown == final
    # reps are announced soon after their end (the first rep of a set too)
    lat = [e.t_emit_s - e.rep.end_s for e in reps]
    assert all(0 <= x < 1.0 for x in lat)


@pytest.mark.parametrize("seed", [12, 31])
def test_a_sets_first_rep_is_announced_once_the_lifter_stops(seed: int) -> None:
    # the first rep waits to see that it does not swing through its start (walking does), but no
    # longer than it takes to see the lifter stop at the bottom: within 0.2 s of its end, in the
    # stream's time, like the set's other reps
    rec = _rec(seed)
    pipe = Pipeline(AnalysisSettings(placement="hip"))
    events = []
    for a in range(0, rec.t_s.size, 4):
        events += pipe.update(_chunk(rec, a, a + 4))
    firsts = [e for e in events if isinstance(e, RepCompleted) and e.rep.index == 1]
    assert len(firsts) >= 2
    lat = [e.t_emit_s - e.rep.end_s for e in firsts]
    assert all(0 <= x <= 0.2 for x in lat), lat


@pytest.mark.parametrize(
    ("seed", "placement", "rate"),
    [(21, "hip", 104.0), (22, "thigh", 104.0), (23, "hip", 52.0), (24, "thigh", 200.0), (25, "hip", 400.0)],
)
def test_simulated_sessions_are_counted_and_timed(seed: int, placement: str, rate: float) -> None:
    rec = _rec(seed, placement, rate)
    res = analyze([_chunk(rec)], AnalysisSettings(placement=placement))
    truth = rec.truth["sets"]
    assert [len(s.reps) for s in res.sets] == [len(s["reps"]) for s in truth]
    errs = []
    for fs, ts in zip(res.sets, truth, strict=True):
        for fr, tr in zip(fs.reps, ts["reps"], strict=True):
            errs += [abs(fr.concentric_s - tr["concentric_s"]), abs(fr.eccentric_s - tr["eccentric_s"])]
            errs.append(abs(fr.top_hold_s - tr["top_hold_s"]))
            assert abs(fr.rom_deg - tr["rom_deg"]) < 3.0
            if placement == "hip":
                assert fr.peak_tilt_deg is not None
                assert abs(fr.peak_tilt_deg - tr["peak_tilt_deg"]) < 3.0
            else:
                assert fr.peak_tilt_deg is None
    assert float(np.median(errs)) < 0.06


def test_fault_detection_on_a_simulated_session() -> None:
    rec = _rec(26)
    res = analyze([_chunk(rec)], AnalysisSettings(placement="hip"))
    found = [set(r.faults) for s in res.sets for r in s.reps]
    truth = [set(r["faults"]) for s in rec.truth["sets"] for r in s["reps"]]
    assert len(found) == len(truth)
    agree = sum(f == t for f, t in zip(found, truth, strict=True))
    assert agree >= 0.9 * len(truth)
    assert any(truth), "the simulated session should contain faults"


def test_walking_standing_and_sitting_are_not_reps() -> None:
    rec = _rec(27)
    keep = np.zeros(rec.t_s.size, dtype=bool)
    for act in rec.truth["activities"]:
        if act["kind"] in ("walking", "standing", "sitting", "transition", "fidget"):
            keep |= (rec.t_s >= act["start_s"]) & (rec.t_s <= act["end_s"])
    idx = np.flatnonzero(keep)
    res = analyze([ImuChunk(rec.t_s[idx], rec.acc_mps2[idx], rec.gyr_rads[idx])], AnalysisSettings())
    assert sum(len(s.reps) for s in res.sets) == 0


def test_still_sensor_gives_no_sets_and_learns_the_gyro_bias() -> None:
    rng = np.random.default_rng(0)
    n = 104 * 30
    t = np.arange(n) / 104.0
    up = np.array([0.3, -0.5, 0.81])
    up /= np.linalg.norm(up)
    acc = up * STANDARD_GRAVITY_MPS2 + rng.normal(0, 0.03, (n, 3))
    bias = np.radians([2.0, -3.0, 1.5])
    gyr = bias + rng.normal(0, 0.005, (n, 3))
    pipe = Pipeline()
    pipe.update(ImuChunk(t, acc, gyr))
    pipe.finish()
    assert pipe.sets == ()
    np.testing.assert_allclose(pipe._calib.bias_rads, bias, atol=np.radians(0.2))
    assert pipe.quality().still_fraction > 0.9
    assert pipe.quality().sample_rate_hz == pytest.approx(104.0)


def test_time_must_move_forward() -> None:
    rec = _rec(11, n_sets=1)
    pipe = Pipeline()
    pipe.update(_chunk(rec, 0, 100))
    with pytest.raises(DataValidationError, match="continue in time"):
        pipe.update(_chunk(rec, 50, 150))


def test_settings_round_trip_and_validation() -> None:
    s = AnalysisSettings(placement="thigh", sides=("left", "right"))
    d = s.to_dict()
    assert AnalysisSettings.from_dict(d) == s
    assert AnalysisSettings.from_dict({"faults": {"tilt_threshold_deg": 7}}).faults.tilt_threshold_deg == 7.0
    with pytest.raises(SettingsError, match="unknown setting"):
        AnalysisSettings.from_dict({"faults": {"tilt_deg": 7}})
    with pytest.raises(SettingsError, match="placement"):
        AnalysisSettings(placement="knee")
    with pytest.raises(SettingsError):
        AnalysisSettings.from_dict({"segmentation": {"band_fraction": 0.7}})


def test_markers_split_sets_and_switch_sides_the_same_for_any_chunking() -> None:
    rec = _rec(12)
    base = analyze([_chunk(rec)], AnalysisSettings(placement="hip", sides=("left",)))
    first = base.sets[0]
    mid = first.reps[len(first.reps) // 2]
    t_new = mid.end_s + 0.05  # the lifter presses "n" right after this rep
    markers = [Marker(t_new, "new_set"), Marker(base.sets[1].start_s - 5.0, "side", "right")]
    whole = analyze([_chunk(rec)], AnalysisSettings(placement="hip", sides=("left",)), markers=markers)
    assert len(whole.sets) == len(base.sets) + 1
    assert whole.sets[0].reps[-1].end_s == pytest.approx(mid.end_s)
    assert [s.side for s in whole.sets] == ["left", "left", "right"]
    assert sum(len(s.reps) for s in whole.sets) == sum(len(s.reps) for s in base.sets)
    n = rec.t_s.size
    chunks = [_chunk(rec, a, min(a + 53, n)) for a in range(0, n, 53)]
    pieces = analyze(chunks, AnalysisSettings(placement="hip", sides=("left",)), markers=markers)
    assert pieces.to_dict() == whole.to_dict()
    with pytest.raises(SettingsError):
        Marker(1.0, "side", "up")
