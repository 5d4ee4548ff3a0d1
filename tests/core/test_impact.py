"""What counts as an impact at a set's first rep: high-frequency acceleration that the segment's own
rotation does not explain (an explosive 0.2 s lift accelerates a thigh sensor by 30-50 m/s²)."""

from __future__ import annotations

import math

import numpy as np

from imurep.core.tracking.rep_settings import SegmentationSettings
from imurep.core.tracking.rep_state import C_G, C_H, C_T, LEVER_M, WIDTH, impact_mps2


def _rows(t: np.ndarray, omega: np.ndarray, hf: np.ndarray) -> np.ndarray:
    w = np.zeros((t.size, WIDTH))
    w[:, C_T] = t
    w[:, C_G] = omega
    w[:, C_H] = hf
    return w


def test_an_explosive_lift_is_not_an_impact() -> None:
    """A 61 deg lift in 0.2 s (minimum-jerk) with the sensor 0.3 m from the joint: its tangential
    and centripetal acceleration reach ~40 m/s², above the impact limit, all of it explained by the
    rotation the gyroscope measures."""
    rate, r_m, rom = 370.0, 0.3, math.radians(61.0)
    t = np.arange(0.0, 0.2, 1.0 / rate)
    s = t / 0.2
    rate_rads = rom / 0.2 * 30 * s**2 * (1 - s) ** 2  # minimum-jerk angular rate
    alpha = np.gradient(rate_rads, t)
    acc = r_m * np.hypot(alpha, rate_rads**2)  # the sensor's own acceleration, m/s²
    omega = np.column_stack([rate_rads, np.zeros_like(t), np.zeros_like(t)])
    w = _rows(t, omega, acc)
    limit = SegmentationSettings().max_impact_mps2
    assert acc.max() > limit  # what the raw high-pass used to call an impact
    assert impact_mps2(w) < limit


def test_a_bump_without_rotation_is_an_impact() -> None:
    t = np.arange(0.0, 0.5, 1.0 / 200.0)
    hf = np.where(np.abs(t - 0.25) < 0.01, 35.0, 0.5)
    omega = np.tile([0.3, 0.0, 0.0], (t.size, 1))  # a slow turn explains almost nothing
    w = _rows(t, omega, hf)
    assert impact_mps2(w) > 35.0 - LEVER_M * 0.3**2 - 1e-9
    assert impact_mps2(w) > SegmentationSettings().max_impact_mps2
