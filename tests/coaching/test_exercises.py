"""Exercise profiles: the packaged catalog, its validation and the analysis settings (issue 7)."""

from __future__ import annotations

import tomllib
from importlib import resources

import pytest

from imurep.coaching.exercises import get_profile, load_catalog, parse_catalog
from imurep.core.pipeline import analyze
from imurep.core.settings import AnalysisSettings, resolve
from imurep.model.errors import SettingsError
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
    assert deficit.faults.min_eccentric_s == 1.5
    floor = resolve(profile=CATALOG.get("glute_bridge").settings_overrides())
    assert floor.faults.tilt_threshold_deg == 4.0
    lift = resolve(profile=CATALOG.get("glute_bridge_leg_lift").settings_overrides())
    assert lift.faults.tilt_threshold_deg == 3.0 < default.faults.tilt_threshold_deg
    assert lift.faults.enabled == ("hip_tilt", "rushed_lowering", "short_hold")
    assert lift.segmentation.max_rep_s == 60.0
    # placement / sides of the base are kept
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
        (
            lambda d: (
                d["exercise"]["glute_bridge"]
                .setdefault("settings", {})
                .__setitem__("segmentation.open_deg", {"value": 500.0, "reason": "too far"})
            ),
            "open_deg",
        ),
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
