"""Glute bridge with leg lift: lifts counted per side from a pelvis (or thigh) sensor, pelvic
rotation flagged; floor bridges; stream == batch."""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imurep.coaching.exercises import get_profile
from imurep.core.pipeline import Pipeline, analyze
from imurep.core.settings import AnalysisSettings, resolve
from imurep.core.tracking.lifts import LiftSettings
from imurep.io.canonical import write_simulated
from imurep.model.errors import SettingsError
from imurep.model.events import Marker, RepCompleted, SetEnded, SetStarted
from imurep.model.results import LiftResult
from imurep.model.samples import ImuChunk
from imurep.sim import SimRecording, SimSettings, simulate

LIFT = get_profile("glute_bridge_leg_lift")


@functools.cache
def _rec(
    seed: int, placement: str = "hip", exercise: str = "glute_bridge_leg_lift", n_sets: int = 2
) -> SimRecording:
    return simulate(
        SimSettings(seed=seed, placement=placement, exercise=exercise, n_sets=n_sets, reps_per_set=(5, 8))
    )


def _settings(rec: SimRecording, profile: str = "glute_bridge_leg_lift") -> AnalysisSettings:
    return resolve(profile=get_profile(profile).settings_overrides()).replace(
        placement=rec.truth["placement"], sides=tuple(rec.metadata["sides"])
    )


def _chunk(rec: SimRecording, a: int = 0, b: int | None = None) -> ImuChunk:
    return ImuChunk(rec.t_s[a:b], rec.acc_mps2[a:b], rec.gyr_rads[a:b])


@functools.cache
def _whole(seed: int) -> dict[str, object]:
    rec = _rec(seed, n_sets=1)
    return analyze([_chunk(rec)], _settings(rec)).to_dict()


def test_the_leg_lift_profile_selects_lift_counting() -> None:
    s = resolve(profile=LIFT.settings_overrides())
    assert s.mode == "leg_lift"
    assert s.faults.tilt_threshold_deg == 3.0
    assert resolve(profile=get_profile("single_leg_hip_thrust").settings_overrides()).mode == "reps"


@pytest.mark.parametrize("seed", [501, 502, 503])
def test_hip_sensor_counts_the_lifts_of_each_side_and_flags_pelvic_rotation(seed: int) -> None:
    rec = _rec(seed)
    res = analyze([_chunk(rec)], _settings(rec))
    truth = rec.truth["sets"]
    assert len(res.sets) == len(truth)
    for got, want in zip(res.sets, truth, strict=True):
        assert got.side is None  # both legs
        assert [r.side for r in got.reps] == [r["side"] for r in want["reps"]]
        per_side = {s: sum(r["side"] == s for r in want["reps"]) for s in ("left", "right")}
        assert got.summary.reps_by_side == per_side
        for r, w in zip(got.reps, want["reps"], strict=True):
            assert abs(r.start_s - w["start_s"]) < 0.3
            assert abs(r.end_s - w["end_s"]) < 0.3
            assert r.peak_tilt_deg is not None
            assert abs(r.peak_tilt_deg - w["peak_tilt_deg"]) < max(0.6, 0.15 * w["peak_tilt_deg"])
            # pelvic rotation is judged with the tighter threshold of the profile (3 deg)
            assert ("hip_tilt" in r.faults) == ("hip_tilt" in w["faults"])
            assert abs(r.rom_deg - w["rom_deg"]) < 1.5  # bridge height
            # a lift names its own quantities; the JSON schema's rep fields carry them
            assert isinstance(r, LiftResult)
            assert r.bridge_height_deg == r.rom_deg and r.pelvic_motion_deg == r.peak_tilt_deg
            assert r.thigh_flexion_deg is None


def test_thigh_sensor_counts_the_lifts_of_its_own_leg() -> None:
    rec = _rec(511, placement="thigh")
    res = analyze([_chunk(rec)], _settings(rec))
    truth = rec.truth["sets"]
    assert [s.side for s in res.sets] == [s["side"] for s in truth]
    for got, want in zip(res.sets, truth, strict=True):
        assert len(got.reps) == len(want["reps"])
        assert all(r.side == got.side and r.peak_tilt_deg is None for r in got.reps)
        assert all(isinstance(r, LiftResult) and r.thigh_flexion_deg == r.rom_deg for r in got.reps)
        assert all(isinstance(r, LiftResult) and r.bridge_height_deg is None for r in got.reps)
        assert got.summary.reps_by_side == {got.side: len(want["reps"])}


def test_lift_events_come_live_and_match_the_final_result() -> None:
    rec = _rec(502)
    pipe = Pipeline(_settings(rec))
    events = []
    for a in range(0, rec.t_s.size, 23):
        events += pipe.update(_chunk(rec, a, a + 23))
    events += pipe.finish()
    started = [e for e in events if isinstance(e, SetStarted)]
    reps = [e for e in events if isinstance(e, RepCompleted)]
    ended = [e.result for e in events if isinstance(e, SetEnded)]
    assert len(started) == len(ended) == len(rec.truth["sets"])
    assert [(e.rep.side, e.rep.start_s) for e in reps] == [(r.side, r.start_s) for s in ended for r in s.reps]
    for e in reps:  # each lift is announced soon after it ended
        assert e.t_emit_s - e.rep.end_s < 1.0


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_lift_results_do_not_depend_on_chunking(data: st.DataObject) -> None:
    rec = _rec(521, n_sets=1)
    n = rec.t_s.size
    cuts = sorted(set(data.draw(st.lists(st.integers(1, n - 1), min_size=1, max_size=40))))
    start = data.draw(st.integers(0, n - 200))
    cuts = sorted(set(cuts) | set(range(start, start + 200, data.draw(st.integers(1, 7)))) - {0})
    bounds = [0, *cuts, n]
    chunks = [_chunk(rec, a, b) for a, b in zip(bounds[:-1], bounds[1:], strict=True) if b > a]
    assert analyze(chunks, _settings(rec)).to_dict() == _whole(521)


def test_a_marker_splits_the_lifts_of_one_bridge_into_two_sets() -> None:
    rec = _rec(503, n_sets=1)
    reps = rec.truth["sets"][0]["reps"]
    k = len(reps) // 2
    t_mark = 0.5 * (reps[k - 1]["end_s"] + reps[k]["start_s"])
    res = analyze([_chunk(rec)], _settings(rec), markers=[Marker(t_mark, "new_set")])
    assert [len(s.reps) for s in res.sets] == [k, len(reps) - k]


def test_floor_bridge_reps_are_found_with_the_floor_profile() -> None:
    rec = _rec(531, exercise="single_leg_glute_bridge")
    res = analyze([_chunk(rec)], _settings(rec, "single_leg_glute_bridge"))
    assert [len(s.reps) for s in res.sets] == [len(s["reps"]) for s in rec.truth["sets"]]
    for got, want in zip(res.sets, rec.truth["sets"], strict=True):
        roms = [r["rom_deg"] for r in want["reps"]]
        assert max(roms) < 31.0  # the floor's small range
        for r, w in zip(got.reps, want["reps"], strict=True):
            assert abs(r.rom_deg - w["rom_deg"]) < 2.0


def test_lift_settings_are_validated() -> None:
    with pytest.raises(SettingsError, match="open_deg"):
        LiftSettings(open_deg=2.0, min_lift_deg=1.0)
    with pytest.raises(SettingsError, match="mode"):
        AnalysisSettings(mode="jumps")
    assert AnalysisSettings.from_dict({"mode": "leg_lift", "lifts": {"open_deg": 0.5}}).lifts.open_deg == 0.5


def test_analyze_cli_reports_lifts_per_side(tmp_path: Path) -> None:
    rec = _rec(502, n_sets=1)
    csv = tmp_path / "lifts.csv"
    write_simulated(rec, csv)
    env = {**os.environ, "COLUMNS": "160", "NO_COLOR": "1"}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "imurep",
            "analyze",
            str(csv),
            "--no-store",
            "--json",
            str(tmp_path / "o.json"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr
    doc = json.loads((tmp_path / "o.json").read_text())
    assert doc["metadata"]["exercise"] == "glute_bridge_leg_lift"  # from the simulator's sidecar
    truth = rec.truth["sets"][0]["reps"]
    want = {s: sum(r["side"] == s for r in truth) for s in ("left", "right")}
    assert doc["sets"][0]["summary"]["reps_by_side"] == want
    assert [r["side"] for r in doc["sets"][0]["reps"]] == [r["side"] for r in truth]
    assert f"left {want['left']} · right {want['right']}" in proc.stdout
    assert "Lift" in proc.stdout and "Side" in proc.stdout


def test_live_line_of_a_lift_names_the_side_and_the_cue() -> None:
    from imurep.live.views import rep_line

    rec = _rec(501)
    res = analyze([_chunk(rec)], _settings(rec))
    tilted = next(r for s in res.sets for r in s.reps if "hip_tilt" in r.faults)
    line = rep_line(tilted, 3.0, LIFT)
    assert line.startswith(f"lift {tilted.index} ({tilted.side}):") and "bridge" in line
    assert LIFT.cue("hip_tilt") in line  # the leg-lift wording of the cue
