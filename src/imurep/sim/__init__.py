"""Simulated IMU recordings with exact ground truth (see :mod:`imurep.sim.builder`)."""

from __future__ import annotations

from imurep.sim.builder import (
    EXERCISES,
    TRUTH_SCHEMA,
    SimRecording,
    SimSettings,
    parse_faults,
    simulate,
)

__all__ = [
    "EXERCISES",
    "TRUTH_SCHEMA",
    "SimRecording",
    "SimSettings",
    "parse_faults",
    "simulate",
]
