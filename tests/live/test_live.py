"""Live session: same reps as offline, recording that loses nothing, markers, views
(the recording writer itself: tests/io/test_canonical_writer.py)."""

from __future__ import annotations

import io
import json
import math
from pathlib import Path

import numpy as np
import pytest

from imurep.coaching.cues import FAULT_CUES
from imurep.coaching.exercises import get_profile
from imurep.core.pipeline import analyze
from imurep.core.settings import AnalysisSettings
from imurep.io import load_canonical
from imurep.io.recording_writer import RecordingWriter
from imurep.live.session import LiveSession, qualifies_for_progression
from imurep.live.views import PlainView, event_to_dict, level_indicator, tempo_text
from imurep.model.events import Marker, RepCompleted, SetDiscarded, SetEnded
from imurep.model.results import RepResult
from imurep.model.samples import ImuChunk
from imurep.sim import SimSettings, simulate


@pytest.fixture(scope="module")
def rec():  # type: ignore[no-untyped-def]
    return simulate(SimSettings(seed=41, n_sets=2))


def _stream(rec, step: int = 26):  # type: ignore[no-untyped-def]
    n = rec.t_s.size
    for a in range(0, n, step):
        yield ImuChunk(rec.t_s[a : a + step], rec.acc_mps2[a : a + step], rec.gyr_rads[a : a + step])


class _Gap:
    def __init__(self, t_s: float, n: int) -> None:
        self.t_s, self.n_samples, self.reason = t_s, n, "lost"


def test_live_session_records_everything_and_analyze_reports_the_same_reps(rec, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "session.csv"
    settings = AnalysisSettings(placement="hip", sides=("left",))
    text = io.StringIO()
    writer = RecordingWriter(out, {"placement": "hip", "settings": settings.to_dict()})
    session = LiveSession(settings, PlainView(text), writer)
    marker_done = False
    for chunk in _stream(rec):
        session.on_chunk(chunk)
        if not marker_done and session.pipeline.sets:  # after the first set: switch leg
            session.on_key("s")
            marker_done = True
    session.on_gap(_Gap(float(rec.t_s[-1]), 12))
    session.finish()
    # the file holds every sample, exactly as fed (to the printed precision)
    saved = load_canonical(out)
    assert saved.t_s.size == rec.t_s.size
    np.testing.assert_allclose(saved.acc_mps2, rec.acc_mps2, rtol=1e-5, atol=1e-5)
    side = json.loads(out.with_suffix(".json").read_text())
    assert side["gaps"] == [{"t_s": float(rec.t_s[-1]), "n_samples": 12, "reason": "lost"}]
    assert side["markers"][0]["kind"] == "side" and side["markers"][0]["side"] == "right"
    # offline analysis of the saved recording = what was shown live
    offline = analyze(
        [ImuChunk(saved.t_s, saved.acc_mps2, saved.gyr_rads)],
        AnalysisSettings.from_dict(side["settings"]),
        markers=[Marker(**m) for m in side["markers"]],
    )
    # a rep shown live belongs to the result unless its set was then discarded (too few reps)
    live_reps: list[tuple[int, int, float, float]] = []
    shown: list[tuple[int, int, float, float]] = []
    for e in session.events:
        if isinstance(e, RepCompleted):
            shown.append((e.set_index, e.rep.index, round(e.rep.start_s, 4), round(e.rep.end_s, 4)))
        elif isinstance(e, SetDiscarded):
            shown = []
        elif isinstance(e, SetEnded):
            live_reps += shown
            shown = []
    off_reps = [
        (s.index, r.index, round(r.start_s, 4), round(r.end_s, 4)) for s in offline.sets for r in s.reps
    ]
    assert live_reps == off_reps
    assert [s.side for s in offline.sets] == ["left", "right"] == side["sides"]
    ended = [e.result for e in session.events if isinstance(e, SetEnded)]
    assert [s.to_dict() for s in ended] == [s.to_dict() for s in offline.sets]
    shown = text.getvalue()
    assert "calibrated" in shown and "set 1 (left) done" in shown
    assert shown.count("[set 1] rep ") == len(offline.sets[0].reps)


def test_view_helpers() -> None:
    from imurep.model.results import RepResult

    rep = RepResult(3, 10.0, 11.1, 12.3, 14.6, 40.0, 1.0, ("rushed_lowering",))
    assert tempo_text(rep) == "up 1.1 s · hold 1.2 s · down 2.3 s"
    assert level_indicator(0.0, 5.0) == "[-----*-----]"
    assert level_indicator(20.0, 5.0).endswith("*]")
    assert level_indicator(None, 5.0) == ""
    assert not math.isnan(rep.eccentric_s)


def test_progression_rule(rec) -> None:  # type: ignore[no-untyped-def]
    res = analyze([ImuChunk(rec.t_s, rec.acc_mps2, rec.gyr_rads)], AnalysisSettings())
    for s in res.sets:
        expected = 12 <= s.summary.reps <= 15 and s.summary.clean_reps == s.summary.reps
        assert qualifies_for_progression(s) == expected


def test_rep_events_carry_the_cues_of_their_faults(rec) -> None:  # type: ignore[no-untyped-def]
    log = io.StringIO()
    profile = get_profile("single_leg_hip_thrust")
    session = LiveSession(
        AnalysisSettings(placement="hip"), PlainView(io.StringIO()), event_log=log, profile=profile
    )
    for chunk in _stream(rec):
        session.on_chunk(chunk)
    session.finish()
    events = [json.loads(line) for line in log.getvalue().splitlines()]
    reps = [e for e in events if e["event"] == "rep"]
    assert len(reps) == sum(isinstance(e, RepCompleted) for e in session.events) > 10
    for e in reps:
        assert list(e["cues"]) == e["rep"]["faults"]
        assert all(cue == profile.cue(code) for code, cue in e["cues"].items())
    assert sum(bool(e["cues"]) for e in reps) >= 3, "the simulated sets have faulty reps"
    assert all("cues" not in e for e in events if e["event"] != "rep")


def test_rep_event_cues_are_worded_for_the_profile() -> None:
    rep = RepResult(2, 10.0, 11.1, 11.3, 11.6, 20.0, 4.0, ("hip_tilt", "rushed_lowering"))
    lift = get_profile("glute_bridge_leg_lift")
    worded = event_to_dict(RepCompleted(1, rep, 12.0), lift)
    assert worded["cues"] == {
        "hip_tilt": lift.cue("hip_tilt"),
        "rushed_lowering": lift.cue("rushed_lowering"),
    }
    assert worded["cues"]["hip_tilt"] != FAULT_CUES["hip_tilt"], "the leg-lift profile words its own cue"
    assert event_to_dict(RepCompleted(1, rep, 12.0))["cues"]["hip_tilt"] == FAULT_CUES["hip_tilt"]
    clean = RepResult(3, 20.0, 21.1, 22.3, 24.6, 40.0, 1.0)
    assert event_to_dict(RepCompleted(1, clean, 25.0), lift)["cues"] == {}
