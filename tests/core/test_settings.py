"""The one settings resolution: every layer's precedence, unknown keys with hints, type errors."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from imurep.coaching.exercises import load_catalog
from imurep.core.settings import MODES, AnalysisSettings, resolve
from imurep.model.codes import DEFAULT_PLACEMENT
from imurep.model.errors import SettingsError


def _tilt(**layers: Any) -> float:
    return resolve(**layers).faults.tilt_threshold_deg


def _faults(tilt: float) -> dict[str, Any]:
    return {"faults": {"tilt_threshold_deg": tilt}}


# --- precedence ------------------------------------------------------------------------------------


def test_no_layers_are_the_defaults() -> None:
    assert resolve() == AnalysisSettings()
    assert resolve().placement == DEFAULT_PLACEMENT


def test_each_layer_overrides_the_ones_before_it() -> None:
    sidecar = {"settings": _faults(6.0)}
    profile = _faults(4.0)
    config = _faults(3.0)
    overrides = [("faults.tilt_threshold_deg", 2.0)]
    assert _tilt(sidecar=sidecar) == 6.0
    assert _tilt(sidecar=sidecar, profile=profile) == 4.0
    assert _tilt(sidecar=sidecar, profile=profile, config=config) == 3.0
    assert _tilt(sidecar=sidecar, profile=profile, config=config, overrides=overrides) == 2.0
    # a later layer changes only what it names
    s = resolve(sidecar={"settings": {"faults": {"min_top_hold_s": 0.5}}}, profile=profile)
    assert s.faults.min_top_hold_s == 0.5 and s.faults.tilt_threshold_deg == 4.0


def test_overrides_apply_in_order_and_an_object_replaces_the_whole_stage() -> None:
    """(So a later ``--set`` can only name a key of the object that replaced the stage.)"""
    assert _tilt(overrides=[("faults.tilt_threshold_deg", 7), ("faults.tilt_threshold_deg", 8)]) == 8.0
    s = resolve(profile={"faults": {"tilt_threshold_deg": 3.0, "min_top_hold_s": 2.0}},
                overrides=[("faults", {"min_top_hold_s": 1.5})])  # fmt: skip
    assert s.faults.min_top_hold_s == 1.5
    assert s.faults.tilt_threshold_deg == AnalysisSettings().faults.tilt_threshold_deg
    with pytest.raises(SettingsError, match="unknown setting 'faults.enabled'"):
        resolve(overrides=[("faults", {"min_top_hold_s": 1.5}), ("faults.enabled", [])])


def test_placement_flag_beats_config_which_beats_the_sidecar() -> None:
    sidecar = {"placement": "thigh", "settings": {"placement": "hip"}}
    assert resolve(sidecar=sidecar).placement == "thigh", "the sidecar's placement over its settings"
    assert resolve(sidecar=sidecar, profile={"placement": "hip"}).placement == "thigh"
    assert resolve(sidecar=sidecar, config={"placement": "hip"}).placement == "hip"
    assert resolve(sidecar=sidecar, overrides=[("placement", "hip")]).placement == "hip"
    assert resolve(config={"placement": "hip"}, placement="thigh").placement == "thigh"
    # without a sidecar placement: the default, whatever the sidecar's settings say
    assert resolve(sidecar={"settings": {"placement": "thigh"}}).placement == DEFAULT_PLACEMENT


def test_sides_flag_beats_config_which_beats_the_sidecar() -> None:
    assert resolve(sidecar={"side": "left"}).sides == ("left",)
    assert resolve(sidecar={"side": "left", "sides": ["right", "left"]}).sides == ("right", "left")
    assert resolve(sidecar={"settings": {"sides": ["right"]}}).sides == ("right",)
    assert resolve(sidecar={"side": "left"}, config={"sides": []}).sides == ()
    assert resolve(sidecar={"sides": ["left"]}, overrides=[("sides", "right")]).sides == ("right",)
    assert resolve(sidecar={"sides": ["left"]}, config={"sides": ["left"]}, sides=["right"]).sides == (
        "right",
    )


def test_the_profile_sets_the_mode_and_set_can_change_it() -> None:
    assert resolve(profile={"mode": "leg_lift"}).mode == "leg_lift"
    assert resolve(profile={"mode": "leg_lift"}, overrides=[("mode", "reps")]).mode == "reps"
    for p in load_catalog().profiles.values():  # an exercise kind is an analysis mode
        assert p.kind in MODES and resolve(profile=p.settings_overrides()).mode == p.kind


def test_resolve_is_pure() -> None:
    """No layer is changed, even when a later one edits inside an object an earlier one gave."""
    sidecar = {"placement": "hip", "settings": {"faults": {"enabled": ["hip_tilt"]}}}
    config = {"faults": {"enabled": ["short_hold"]}}
    stage = {"open_deg": 7.0}
    overrides = [("segmentation", stage), ("segmentation.open_deg", 8.0)]
    before = copy.deepcopy((sidecar, config, overrides))
    first = resolve(sidecar=sidecar, config=config, overrides=overrides)
    assert (sidecar, config, overrides) == before
    assert first.segmentation.open_deg == 8.0
    assert resolve(sidecar=sidecar, config=config, overrides=overrides) == first


def test_from_dict_is_resolve_of_a_config() -> None:
    s = AnalysisSettings(placement="thigh", sides=("left", "right"), mode="leg_lift")
    assert AnalysisSettings.from_dict(s.to_dict()) == s == resolve(config=s.to_dict())


# --- errors ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("layers", "message"),
    [
        ({"overrides": [("faults.tilt_treshold_deg", 6)]}, "did you mean 'faults.tilt_threshold_deg'"),
        (
            {"config": {"faults": {"enabld": []}}},
            "unknown setting 'faults.enabld'; did you mean 'faults.enabled'",
        ),
        (
            {"sidecar": {"settings": {"segmentaton": {"open_deg": 5}}}},
            "unknown setting 'segmentaton'; did you mean 'segmentation.",
        ),
        ({"profile": {"lifts": {"open": 1.0}}}, "unknown setting 'lifts.open'"),
        ({"overrides": [("zzz", 1)]}, "unknown setting 'zzz'; known here: placement, mode, sides"),
        ({"overrides": [("faults.qqq", 1)]}, "known here: faults.tilt_threshold_deg"),
        ({"overrides": [("placement.x", 1)]}, "unknown setting 'placement.x'"),
        ({"overrides": [("faults", {"x": 1})]}, "unknown setting faults.'x'; known: tilt_threshold_deg"),
    ],
)
def test_unknown_keys_name_the_closest_or_the_known_ones(layers: dict[str, Any], message: str) -> None:
    with pytest.raises(SettingsError, match=message.replace(".", r"\.").replace("(", r"\(")):
        resolve(**layers)


@pytest.mark.parametrize(
    ("layers", "message"),
    [
        (
            {"overrides": [("faults.tilt_threshold_deg", "six")]},
            "setting faults.tilt_threshold_deg must be float",
        ),
        ({"config": {"calibration": {"still_window_s": True}}}, "still_window_s must be float, got True"),
        ({"overrides": [("faults", 5)]}, "settings faults must be an object, got 5"),
        ({"config": {"placement": 3}}, "setting placement must be str"),
        ({"overrides": [("faults.tilt_threshold_deg", -1)]}, "tilt_threshold_deg"),
        ({"overrides": [("mode", "jumps")]}, "mode must be one of reps, leg_lift"),
        ({"overrides": [("segmentation.min_set_rom_thigh_deg", -1.0)]}, "min_set_rom_thigh_deg must be in"),
        ({"placement": "knee"}, "placement must be one of hip, thigh"),
        ({"sides": ["middle"]}, "side must be one of left, right"),
        ({"config": [1, 2]}, "settings root must be an object"),
    ],
)
def test_bad_values_are_refused(layers: dict[str, Any], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        resolve(**layers)


def test_ints_are_accepted_for_floats_and_lists_become_tuples() -> None:
    s = resolve(overrides=[("faults.tilt_threshold_deg", 6), ("faults.enabled", ["hip_tilt"])])
    assert s.faults.tilt_threshold_deg == 6.0 and isinstance(s.faults.tilt_threshold_deg, float)
    assert s.faults.enabled == ("hip_tilt",)
    assert resolve(overrides=[("faults.enabled", "short_hold")]).faults.enabled == ("short_hold",)


def test_settings_of_earlier_versions_are_ignored_in_recordings_and_refused_when_given(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A recording made by an earlier version stores settings that no longer exist (the tempo and
    absolute-range gates): it stays readable, with a warning; asking for one is an error."""
    old = {"settings": {"segmentation": {"min_rom_deg": 15.0, "min_concentric_s": 0.4, "open_deg": 7.0}}}
    with caplog.at_level("WARNING"):
        s = resolve(sidecar=old)
    assert s.segmentation.open_deg == 7.0
    assert "min_rom_deg" in caplog.text and "min_concentric_s" in caplog.text
    with pytest.raises(SettingsError, match="segmentation.min_rom_deg no longer exists"):
        resolve(overrides=[("segmentation.min_rom_deg", 10)])
    with pytest.raises(SettingsError, match="min_eccentric_s no longer exists"):
        resolve(config={"segmentation": {"min_eccentric_s": 0.2}})
