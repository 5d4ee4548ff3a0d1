"""The simulator's truth is labelled with the product's definitions: they must not drift apart."""

from __future__ import annotations

from imurep.coaching.exercises import get_profile
from imurep.core.faults import FaultSettings
from imurep.core.tracking.lifts import LiftSettings
from imurep.core.tracking.reps import SegmentationSettings
from imurep.sim import definitions as d


def test_rep_fault_rules_are_the_analysis_defaults() -> None:
    assert SegmentationSettings().band_fraction == d.PHASE_THRESHOLD
    faults = FaultSettings()
    assert faults.tilt_threshold_deg == d.TILT_LIMIT_DEG
    assert faults.min_eccentric_s == d.ECCENTRIC_MIN_S
    assert faults.min_top_hold_s == d.HOLD_MIN_S
    assert faults.partial_rom_fraction == d.PARTIAL_FRACTION
    default = get_profile("single_leg_hip_thrust")
    assert (
        default.tilt_threshold_deg,
        default.min_eccentric_s,
        default.min_top_hold_s,
    ) == (d.TILT_LIMIT_DEG, d.ECCENTRIC_MIN_S, d.HOLD_MIN_S)


def test_lift_rules_are_those_of_the_leg_lift_profile() -> None:
    lift = get_profile("glute_bridge_leg_lift")
    assert lift.tilt_threshold_deg == d.LIFT_TILT_LIMIT_DEG
    assert lift.min_eccentric_s == d.LIFT_DOWN_MIN_S
    assert lift.min_top_hold_s == d.LIFT_HOLD_MIN_S
    assert LiftSettings().band_fraction == d.LIFT_BAND
