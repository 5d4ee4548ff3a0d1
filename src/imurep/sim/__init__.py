"""Simulated IMU recordings with exact ground truth.

Modules, in the order a simulation runs: :mod:`~imurep.sim.settings` (what to simulate),
:mod:`~imurep.sim.plans` (each set drawn before it is done), :mod:`~imurep.sim.builder` (the
session on a fine time grid, with :mod:`~imurep.sim.activities` around the sets and
:mod:`~imurep.sim.sets` for the sets, recorded in a :mod:`~imurep.sim.trajectory`),
:mod:`~imurep.sim.kinematics` (ideal sensor signals), :mod:`~imurep.sim.truth` (ground truth),
:mod:`~imurep.sim.sensor` (sampling and imperfections), :mod:`~imurep.sim.recording`
(:func:`simulate`) and :mod:`~imurep.sim.files` (CSV + sidecars).

A second, independent model draws recordings from the whole *style space* of how people lift
(issue 12): :mod:`~imurep.sim.styles` (the space, its families and :func:`~imurep.sim.styles.draw_style`),
:mod:`~imurep.sim.style_body`, :mod:`~imurep.sim.style_sets` and :mod:`~imurep.sim.style_activities`
(the body), :mod:`~imurep.sim.style_sensor` (the IMU) and :mod:`~imurep.sim.style_recording`
(:func:`~imurep.sim.style_recording.simulate_style`); its truth uses :mod:`~imurep.sim.truth`.
"""

from __future__ import annotations

from imurep.sim.recording import SimRecording, simulate
from imurep.sim.settings import (
    DEFAULT_EXERCISE,
    EXERCISE_ALIASES,
    EXERCISES,
    MOTION_OF_EXERCISE,
    MOTIONS,
    SimSettings,
    canonical_exercise,
    parse_faults,
)
from imurep.sim.style_recording import simulate_style
from imurep.sim.truth import TRUTH_SCHEMA

__all__ = [
    "DEFAULT_EXERCISE",
    "EXERCISES",
    "EXERCISE_ALIASES",
    "MOTIONS",
    "MOTION_OF_EXERCISE",
    "TRUTH_SCHEMA",
    "SimRecording",
    "SimSettings",
    "canonical_exercise",
    "parse_faults",
    "simulate",
    "simulate_style",
]
