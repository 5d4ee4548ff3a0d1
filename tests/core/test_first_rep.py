"""The swing-through check of a set's first rep, with the gyroscope's own angle."""

from __future__ import annotations

import numpy as np

from imurep.core.metrics import RepTiming
from imurep.core.tracking.first_rep import GYRO_SWING_FRACTION, _gyro_swings_through
from imurep.core.tracking.rep_state import C_G, C_T, WIDTH

RATE_HZ = 100.0
AXIS = np.array([0.0, 0.0, 1.0])


def _rows(theta_deg: np.ndarray) -> np.ndarray:
    """Buffer rows whose gyroscope turns the sagittal angle about ``AXIS`` along ``theta_deg``."""
    rows = np.zeros((theta_deg.shape[0], WIDTH))
    rows[:, C_T] = np.arange(theta_deg.shape[0]) / RATE_HZ
    rate_deg_s = np.gradient(theta_deg, 1.0 / RATE_HZ)
    # the sagittal angle's rate is -omega about the axis (the up vector turns the other way)
    rows[:, C_G] = -np.radians(rate_deg_s)[:, None] * AXIS
    return rows


def _timing(theta_deg: np.ndarray, i_top: int, i_end: int) -> RepTiming:
    return RepTiming(
        start_s=0.0,
        top_start_s=i_top / RATE_HZ,
        top_end_s=i_top / RATE_HZ,
        end_s=i_end / RATE_HZ,
        rom_deg=float(theta_deg.max()),
        bottom_deg=0.0,
        top_deg=float(theta_deg.max()),
        i_start=0,
        i_end=i_end,
    )


def test_a_filter_angle_that_swings_past_the_start_while_the_gyroscope_comes_back_is_a_rep() -> None:
    """An accelerometer with an offset: the filter's angle comes back short at the bottom and then
    swings 26 deg past the start, while the rate the gyroscope measures comes back to it."""
    t = np.arange(400) / RATE_HZ
    theta = 60.0 * np.sin(np.pi * np.clip(t / 3.0, 0.0, 1.0))  # out 60 deg and back in 3 s
    filt = 0.75 * theta - 26.0 * np.clip((t - 1.5) / 1.5, 0.0, 1.0)
    rows, i_top, i_end = _rows(theta), 150, 299
    timing = _timing(filt, i_top, i_end)
    assert filt[i_top:].min() < -0.5 * filt.max()  # what the filter alone would call a swing-through
    assert not _gyro_swings_through(
        rows[: i_end + 1], rows[i_end + 1 :], AXIS, filt, timing, i_top, 250, GYRO_SWING_FRACTION
    )


def test_a_stride_that_swings_through_the_start_does_so_for_the_gyroscope_too() -> None:
    """A walking stride: 30 deg forward, then 25 deg back behind the start."""
    t = np.arange(300) / RATE_HZ
    theta = np.where(
        t < 1.0, 30.0 * np.sin(0.5 * np.pi * t), 30.0 * np.cos(np.pi * (t - 1.0)) - 25.0 * (t > 2.0)
    )
    theta = np.convolve(np.pad(theta, 5, mode="edge"), np.ones(11) / 11, mode="valid")  # smooth
    rows, i_top = _rows(theta), int(np.argmax(theta))
    timing = _timing(theta, i_top, 199)
    assert _gyro_swings_through(
        rows[:200], rows[200:], AXIS, theta, timing, i_top, 300 - i_top, GYRO_SWING_FRACTION
    )
