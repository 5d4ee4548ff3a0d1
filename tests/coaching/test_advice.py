"""Progression advice and the coaching of an analysed recording (cues per set + advice) (issue 7)."""

from __future__ import annotations

import io
import json

from imurep.coaching.advice import SetStats, advise, assess_set, coaching_dict, over_extended_reps
from imurep.coaching.cues import FAULT_CUES, cue_lines, set_cues
from imurep.coaching.exercises import load_catalog
from imurep.core.settings import AnalysisSettings
from imurep.io import result_to_jsonable
from imurep.live.session import LiveSession, qualifies_for_progression
from imurep.live.views import PlainView
from imurep.model.codes import FAULTS, OVER_EXTENSION
from imurep.model.results import DataQuality, RepResult, SessionResult, SetResult, SetSummary

CATALOG = load_catalog()
SLHT = CATALOG.get("single_leg_hip_thrust")
OVER_DEG = CATALOG.rules.over_extension_deg


def _rep(i: int, faults: tuple[str, ...] = (), top: float | None = 40.0) -> RepResult:
    start = 10.0 * i
    return RepResult(i, start, start + 1, start + 2.2, start + 4, 40.0, 1.0, faults, 1.0, 0.0, top)


def _set(reps: list[RepResult], side: str | None = "left", index: int = 1) -> SetResult:
    t = tuple(reps)
    return SetResult(index, side, 0.0, 100.0, t, SetSummary.from_reps(t, FAULTS))


def _session_result(*sets: SetResult) -> SessionResult:
    quality = DataQuality(1000, 100.0, 100.0, 0, 0.0, 0.5)
    return SessionResult(
        "test.csv", "hip", 100.0, AnalysisSettings(), tuple(sets), quality, {"exercise": SLHT.name}
    )


def test_coaching_dict_lists_the_cues_of_each_set_and_the_over_extended_rep() -> None:
    over = _set(
        [
            _rep(1, top=40.0),
            _rep(2, ("hip_tilt",), top=41.0),
            _rep(3, ("hip_tilt", "short_hold"), top=52.0),  # 11.5° above the median top: over-extended
            _rep(4, top=39.5),
            _rep(5, ("rushed_lowering",), top=40.5),
        ],
        "left",
        1,
    )
    clean = _set([_rep(i) for i in range(1, 14)], "right", 2)
    result = _session_result(over, clean)
    doc = coaching_dict(result, SLHT, catalog=CATALOG)
    assert doc["exercise"] == "single_leg_hip_thrust" and doc["exercise_title"] == SLHT.title
    first, second = doc["sets"]
    assert (first["set"], first["side"], second["set"], second["side"]) == (1, "left", 2, "right")
    assert first["over_extended_reps"] == [3]
    assert first["cues"] == [
        {"fault": "hip_tilt", "label": "hips not level", "reps": [2, 3], "cue": FAULT_CUES["hip_tilt"]},
        {
            "fault": "rushed_lowering",
            "label": "rushed lowering",
            "reps": [5],
            "cue": FAULT_CUES["rushed_lowering"],
        },
        {"fault": "short_hold", "label": "short squeeze", "reps": [3], "cue": FAULT_CUES["short_hold"]},
        {"fault": OVER_EXTENSION, "label": "over-extension", "reps": [3], "cue": FAULT_CUES[OVER_EXTENSION]},
    ]
    assert second["cues"] == [] and second["over_extended_reps"] == []
    # the same data as the printed cue lines
    over_reps = over_extended_reps(over, OVER_DEG)
    lines = cue_lines(over, SLHT, over_extended=over_reps)
    assert lines == [c.text for c in set_cues(over, SLHT, over_extended=over_reps)]
    assert lines[-1] == f"over-extension (rep 3): {FAULT_CUES[OVER_EXTENSION]}"
    # the advice: this result only by default, else the sessions given
    this_only = [[SetStats.from_set(s) for s in result.sets]]
    assert doc["advice"] == advise(this_only, SLHT, catalog=CATALOG).to_dict()
    assert doc["advice"]["action"] == "regress", "2 clean reps of 5 on the left leg: struggling"
    history = [_session(13, 13)]
    with_history = coaching_dict(result, SLHT, history, catalog=CATALOG)
    assert with_history["advice"] == advise(history, SLHT, catalog=CATALOG).to_dict()
    assert with_history["advice"]["action"] == "progress"
    assert with_history["sets"] == doc["sets"], "the cues are those of the result, whatever the history"
    # worded for the profile, and plain JSON
    lift = CATALOG.get("glute_bridge_leg_lift")
    lift_cues = coaching_dict(result, lift, catalog=CATALOG)["sets"][0]["cues"]
    assert lift_cues[0]["cue"] == lift.cue("hip_tilt") != FAULT_CUES["hip_tilt"]
    written = result_to_jsonable(result, doc)
    assert json.loads(json.dumps(written))["coaching"] == doc


def test_coaching_dict_of_a_result_without_sets() -> None:
    doc = coaching_dict(_session_result(), SLHT, catalog=CATALOG)
    assert doc["sets"] == [] and doc["advice"]["action"] == "stay"
    assert "no sets recorded yet" in doc["advice"]["headline"]


# --- progression advice ----------------------------------------------------------------------------


def _stats(index: int, side: str | None, reps: int, clean: int, **faults: int) -> SetStats:
    counts = {code: faults.get(code, 0) for code in FAULTS}
    if reps - clean and not any(counts.values()):
        counts["short_hold"] = reps - clean
    return SetStats(index, side, reps, clean, counts)


def _session(reps: int, clean: int, right: tuple[int, int] | None = None, **faults: int) -> list[SetStats]:
    r_reps, r_clean = right or (reps, clean)
    out = []
    for i in range(3):
        out.append(_stats(2 * i + 1, "left", reps, clean, **faults))
        out.append(_stats(2 * i + 2, "right", r_reps, r_clean, **faults))
    return out


def test_set_rule() -> None:
    rules = CATALOG.rules
    ok = assess_set(_stats(1, "left", 13, 13), SLHT, rules)
    assert ok.qualifies and not ok.struggling and "meets the rule" in ok.text
    miss = assess_set(_stats(2, "left", 13, 12), SLHT, rules)
    assert not miss.qualifies and "1 with a fault (short squeeze ×1)" in miss.text
    few = assess_set(_stats(3, "left", 10, 10), SLHT, rules)
    assert not few.qualifies and "fewer than 12" in few.text
    tilt = assess_set(_stats(4, "left", 10, 4, hip_tilt=6), SLHT, rules)
    assert tilt.struggling and "hips not level on 6 of 10" in tilt.text
    rushed = assess_set(_stats(5, "left", 10, 6, rushed_lowering=8), SLHT, rules)
    assert rushed.struggling and "lowering rushed on 8 of 10" in rushed.text
    assert assess_set(_stats(6, "left", 16, 16), SLHT, rules).qualifies, "above the range: too easy"


def test_multi_week_history_gives_the_expected_advice_at_each_step() -> None:
    """Eight weekly sessions, both legs: struggling, improving, a plateau, then ready."""
    weeks = [
        (_session(8, 4, hip_tilt=5), "regress", "single_leg_glute_bridge", False),  # the only session
        (_session(10, 8), "stay", None, False),  # improving
        (_session(12, 10), "stay", None, False),
        (_session(13, 12, right=(12, 11)), "stay", None, False),  # the right leg lags
        (_session(13, 12, right=(12, 11)), "stay", None, False),
        (_session(13, 12, right=(13, 11)), "stay", None, True),  # no gain over 3 sessions: plateau
        (_session(14, 14, right=(13, 12)), "stay", None, False),  # left ready, right not
        (_session(14, 14, right=(13, 13)), "progress", "single_leg_hip_thrust_pause", False),
    ]
    history: list[list[SetStats]] = []
    for n, (sets, action, suggestion, plateau) in enumerate(weeks, 1):
        history.append(sets)
        advice = advise(history, SLHT, catalog=CATALOG)
        assert (advice.action, advice.suggestion, advice.plateau) == (action, suggestion, plateau), (
            n,
            advice.lines(),
        )
        assert advice.reasons, "advice always says why"
        assert any(r.startswith("left leg: ") for r in advice.reasons)
    assert "Ready to progress" in advice.headline and "pause" in advice.headline
    week7 = advise(history[:7], SLHT, catalog=CATALOG)
    assert any("right leg: 0 of 3" in r and "set 2: misses the rule" in r for r in week7.reasons)
    assert any("left leg: 3 of 3" in r for r in week7.reasons)
    week6 = advise(history[:6], SLHT, catalog=CATALOG)
    assert "plateau" in " ".join(week6.reasons) and "squeeze" in week6.focus


def test_one_bad_session_does_not_regress_two_do() -> None:
    good, bad = _session(12, 10), _session(9, 3, rushed_lowering=8)
    assert advise([good, bad], SLHT, catalog=CATALOG).action == "stay"
    advice = advise([good, bad, bad], SLHT, catalog=CATALOG)
    assert advice.action == "regress" and "last 2 sessions" in " ".join(advice.reasons)


def test_progress_needs_both_legs_and_handles_the_ends_of_the_ladder() -> None:
    left_only = [_stats(i, "left", 13, 13) for i in range(1, 4)]
    advice = advise([left_only], SLHT, catalog=CATALOG)
    assert advice.action == "stay" and any("no sets of the right leg" in r for r in advice.reasons)
    banded = CATALOG.get("single_leg_hip_thrust_banded")
    top = advise([_session(13, 13)], banded, catalog=CATALOG)
    assert top.action == "progress" and top.suggestion is None and "add load" in top.headline
    bridge = CATALOG.get("glute_bridge")
    two_legs = [_stats(i, None, 16, 16) for i in range(1, 4)]
    advice = advise([two_legs], bridge, catalog=CATALOG)
    assert advice.action == "progress" and advice.suggestion == "elevated_glute_bridge"
    assert advice.reasons[0].startswith("3 of 3"), "two-leg exercise: no per-leg prefix"
    floor = advise([[_stats(i, None, 10, 2, hip_tilt=8) for i in range(1, 4)]], bridge, catalog=CATALOG)
    assert floor.action == "regress" and floor.suggestion is None and "easiest" in floor.headline
    assert advise([], SLHT, catalog=CATALOG).action == "stay"


# --- live --------------------------------------------------------------------------------------------


def test_live_progression_hint_uses_the_profile() -> None:
    s13 = _set([_rep(i) for i in range(1, 14)])
    assert qualifies_for_progression(s13)
    assert not qualifies_for_progression(_set([_rep(i) for i in range(1, 12)]))
    pause = CATALOG.get("pause")
    assert qualifies_for_progression(_set([_rep(i) for i in range(1, 10)]), pause), "8–12 for the pause"
    out = io.StringIO()
    session = LiveSession(AnalysisSettings(), PlainView(out), profile=SLHT)
    for k in range(3):
        session._set_ended(_set([_rep(i) for i in range(1, 14)], "left", k + 1))
    text = out.getvalue()
    assert "3 of 3 such sets on the left leg" in text
    assert "ready to progress once the other leg also meets the rule" in text
