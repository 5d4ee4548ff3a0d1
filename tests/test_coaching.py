"""Exercise profiles, cues and progression advice (issue 7)."""

from __future__ import annotations

import io
import json
import tomllib
from importlib import resources

import pytest

from imurep.coaching.advice import (
    SetStats,
    advise,
    assess_set,
    coaching_dict,
    cue_lines,
    over_extended_reps,
    set_cues,
)
from imurep.coaching.cues import FAULT_CUES
from imurep.coaching.exercises import get_profile, load_catalog, parse_catalog
from imurep.core.pipeline import analyze
from imurep.core.settings import AnalysisSettings, resolve
from imurep.io import result_to_jsonable
from imurep.live.session import LiveSession, qualifies_for_progression
from imurep.live.views import PlainView
from imurep.model.codes import FAULTS, OVER_EXTENSION
from imurep.model.errors import SettingsError
from imurep.model.results import DataQuality, RepResult, SessionResult, SetResult, SetSummary
from imurep.model.samples import ImuChunk
from imurep.sim import SimSettings, simulate

CATALOG = load_catalog()
SLHT = CATALOG.get("single_leg_hip_thrust")


def _raw() -> dict:  # type: ignore[type-arg]
    text = resources.files("imurep.coaching").joinpath("data", "exercises.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


# --- profiles ------------------------------------------------------------------------------------


def test_catalog_has_the_family_with_a_reason_for_every_number() -> None:
    names = set(CATALOG.profiles)
    assert {
        "single_leg_hip_thrust",
        "single_leg_hip_thrust_pause",
        "single_leg_hip_thrust_deficit",
        "single_leg_hip_thrust_banded",
        "hip_thrust",
        "elevated_glute_bridge",
        "glute_bridge",
        "single_leg_glute_bridge",
        "glute_bridge_leg_lift",
    } <= names
    assert CATALOG.default == "single_leg_hip_thrust"
    for p in CATALOG.profiles.values():
        for key in ("rep_range", "min_top_hold_s", "min_eccentric_s", "tilt_threshold_deg", "rom_deg"):
            assert len(p.reasons[key]) > 10, (p.name, key)
        assert set(p.settings) <= set(p.reasons)
    assert set(CATALOG.rules.reasons) == {
        "sets_required",
        "max_faulty_reps",
        "struggle_min_clean_reps",
        "struggle_tilt_fraction",
        "struggle_rushed_fraction",
        "struggle_sets_fraction",
        "struggle_sessions",
        "plateau_sessions",
        "plateau_min_gain",
        "over_extension_deg",
    }


def test_progression_ladders() -> None:
    chain, name = [], "single_leg_hip_thrust"
    while name:
        chain.append(name)
        name = CATALOG.profiles[name].harder  # type: ignore[assignment]
    assert chain[1:] == [
        "single_leg_hip_thrust_pause",
        "single_leg_hip_thrust_deficit",
        "single_leg_hip_thrust_banded",
    ]
    chain, name = [], "single_leg_hip_thrust"
    while name:
        chain.append(name)
        name = CATALOG.profiles[name].easier  # type: ignore[assignment]
    assert chain[1:] == ["single_leg_glute_bridge", "elevated_glute_bridge", "glute_bridge"]


def test_profile_maps_onto_analysis_settings() -> None:
    default = resolve(profile=SLHT.settings_overrides())
    assert default == AnalysisSettings(), "the default profile is the analysis defaults"
    pause = resolve(profile=CATALOG.get("pause").settings_overrides())  # a unique part of the name is enough
    assert pause.faults.min_top_hold_s == 2.0 and pause.segmentation.max_rep_s == 25.0
    deficit = resolve(profile=CATALOG.get("single_leg_hip_thrust_deficit").settings_overrides())
    assert deficit.faults.min_eccentric_s == 1.5 and deficit.segmentation.min_rom_deg == 20.0
    floor = resolve(profile=CATALOG.get("glute_bridge").settings_overrides())
    assert floor.segmentation.min_rom_deg == 10.0 and floor.faults.tilt_threshold_deg == 4.0
    lift = resolve(profile=CATALOG.get("glute_bridge_leg_lift").settings_overrides())
    assert lift.faults.tilt_threshold_deg == 3.0 < default.faults.tilt_threshold_deg
    assert lift.faults.enabled == ("hip_tilt", "rushed_lowering", "short_hold")
    assert lift.segmentation.max_rep_s == 60.0
    # the placement flag is kept
    thigh = resolve(profile=(floor_p := CATALOG.get("glute_bridge")).settings_overrides(), placement="thigh")
    assert thigh.placement == "thigh" and floor_p.legs == 2


def test_unknown_or_ambiguous_exercise_names_the_choices() -> None:
    with pytest.raises(SettingsError, match="did you mean 'single_leg_hip_thrust_pause'"):
        get_profile("single_leg_hip_thrust_pase")
    with pytest.raises(SettingsError, match="known: "):
        get_profile("bridge")  # several profiles contain it


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d["exercise"]["glute_bridge"]["min_top_hold_s"].pop("reason"), "inline table"),
        (lambda d: d["exercise"]["glute_bridge"].__setitem__("legs", 3), "legs must be 1 or 2"),
        (lambda d: d["exercise"]["glute_bridge"].__setitem__("harder", "nope"), "unknown exercise 'nope'"),
        (lambda d: d["exercise"]["glute_bridge"]["min_rom_deg"].__setitem__("value", 3.0), "open_deg"),
        (lambda d: d["progression"].pop("sets_required"), "sets_required is missing"),
        (lambda d: d["exercise"]["glute_bridge"].__setitem__("faults", ["wobble"]), "fault codes"),
    ],
)
def test_bad_profiles_file_is_refused(edit, message: str) -> None:  # type: ignore[no-untyped-def]
    data = _raw()
    edit(data)
    with pytest.raises(SettingsError, match=message):
        parse_catalog(data)


def test_floor_bridge_profile_finds_the_same_reps_on_simulated_thrusts() -> None:
    """The simulator cannot make floor-bridge ROM (it draws 32–50°), so this checks that the floor
    profile's lower ROM limit adds no phantom reps; small-ROM detection itself is untested."""
    rec = simulate(SimSettings(seed=77, n_sets=1, reps_per_set=(10, 10)))
    chunks = [ImuChunk(rec.t_s, rec.acc_mps2, rec.gyr_rads)]
    floor = analyze(chunks, resolve(profile=CATALOG.get("glute_bridge").settings_overrides()))
    assert [len(s.reps) for s in floor.sets] == [len(s["reps"]) for s in rec.truth["sets"]]


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
    assert "ribs down" in cue_lines(s, SLHT)[-1]
    assert over_extended_reps(_set([_rep(1, top=40.0), _rep(2, top=60.0)]), 8.0) == ()  # too few reps
    rec = simulate(SimSettings(seed=41, n_sets=2))
    res = analyze([ImuChunk(rec.t_s, rec.acc_mps2, rec.gyr_rads)], AnalysisSettings())
    assert all(over_extended_reps(x) == () for x in res.sets), "no false alarm on simulated sets"


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
    doc = coaching_dict(result, SLHT)
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
    assert cue_lines(over, SLHT) == [c.text for c in set_cues(over, SLHT)]
    assert cue_lines(over, SLHT)[-1] == f"over-extension (rep 3): {FAULT_CUES[OVER_EXTENSION]}"
    # the advice: this result only by default, else the sessions given
    this_only = [[SetStats.from_set(s) for s in result.sets]]
    assert doc["advice"] == advise(this_only, SLHT).to_dict()
    assert doc["advice"]["action"] == "regress", "2 clean reps of 5 on the left leg: struggling"
    history = [_session(13, 13)]
    with_history = coaching_dict(result, SLHT, history)
    assert with_history["advice"] == advise(history, SLHT).to_dict()
    assert with_history["advice"]["action"] == "progress"
    assert with_history["sets"] == doc["sets"], "the cues are those of the result, whatever the history"
    # worded for the profile, and plain JSON
    lift = CATALOG.get("glute_bridge_leg_lift")
    lift_cues = coaching_dict(result, lift)["sets"][0]["cues"]
    assert lift_cues[0]["cue"] == lift.cue("hip_tilt") != FAULT_CUES["hip_tilt"]
    written = result_to_jsonable(result, doc)
    assert json.loads(json.dumps(written))["coaching"] == doc


def test_coaching_dict_of_a_result_without_sets() -> None:
    doc = coaching_dict(_session_result(), SLHT)
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
    assert advise([good, bad], SLHT).action == "stay"
    advice = advise([good, bad, bad], SLHT)
    assert advice.action == "regress" and "last 2 sessions" in " ".join(advice.reasons)


def test_progress_needs_both_legs_and_handles_the_ends_of_the_ladder() -> None:
    left_only = [_stats(i, "left", 13, 13) for i in range(1, 4)]
    advice = advise([left_only], SLHT)
    assert advice.action == "stay" and any("no sets of the right leg" in r for r in advice.reasons)
    banded = CATALOG.get("single_leg_hip_thrust_banded")
    top = advise([_session(13, 13)], banded)
    assert top.action == "progress" and top.suggestion is None and "add load" in top.headline
    bridge = CATALOG.get("glute_bridge")
    two_legs = [_stats(i, None, 16, 16) for i in range(1, 4)]
    advice = advise([two_legs], bridge)
    assert advice.action == "progress" and advice.suggestion == "elevated_glute_bridge"
    assert advice.reasons[0].startswith("3 of 3"), "two-leg exercise: no per-leg prefix"
    floor = advise([[_stats(i, None, 10, 2, hip_tilt=8) for i in range(1, 4)]], bridge)
    assert floor.action == "regress" and floor.suggestion is None and "easiest" in floor.headline
    assert advise([], SLHT).action == "stay"


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
