"""Gyroscope bias from still periods: learned under large biases, not fooled by slow rotation,
independent of how blocks are batched."""

from __future__ import annotations

import numpy as np
import pytest

from imurep.core.calibration import CalibrationSettings, GyroCalibrator
from imurep.model.errors import SettingsError

RATE, HOP = 100.0, 0.05


def _feed(cal: GyroCalibrator, acc: np.ndarray, gyr: np.ndarray, t: np.ndarray, batch: int = 1) -> np.ndarray:
    """Feed whole blocks, ``batch`` blocks per call; return the corrected rate."""
    blocks = np.floor(t / HOP).astype(int)
    ids = np.unique(blocks)
    out = []
    for k in range(0, ids.size, batch):
        sel = np.isin(blocks, ids[k : k + batch])
        idx = np.flatnonzero(sel)
        starts = np.concatenate(([0], np.flatnonzero(np.diff(blocks[idx])) + 1)).astype(np.intp)
        corrected, _ = cal.update(acc[idx], gyr[idx], starts, HOP)
        out.append(corrected)
    return np.concatenate(out)


def test_bias_of_several_degrees_per_second_is_learned_from_stillness() -> None:
    rng = np.random.default_rng(1)
    t = np.arange(0, 4.0, 1 / RATE)
    bias = np.radians([4.0, -3.0, 5.0])  # far above the scatter thresholds
    gyr = bias + rng.normal(0, 0.003, (t.size, 3))
    acc = np.array([0.3, -0.2, 9.8]) + rng.normal(0, 0.02, (t.size, 3))
    cal = GyroCalibrator(CalibrationSettings(), HOP)
    corrected = _feed(cal, acc, gyr, t)
    assert cal.calibrated
    assert np.allclose(cal.bias_rads, bias, atol=2e-3)
    assert np.abs(corrected[-50:].mean(axis=0)).max() < 2e-3


def test_moving_sensor_is_not_still() -> None:
    t = np.arange(0, 4.0, 1 / RATE)
    gyr = np.column_stack([np.sin(2 * np.pi * t), np.zeros_like(t), np.zeros_like(t)])  # 1 rad/s swing
    acc = np.tile([0.0, 0.0, 9.81], (t.size, 1))
    cal = GyroCalibrator(CalibrationSettings(), HOP)
    _feed(cal, acc, gyr, t)
    assert not cal.calibrated and cal.n_still_blocks == 0


def test_calibration_does_not_depend_on_block_batching() -> None:
    rng = np.random.default_rng(2)
    t = np.arange(0, 6.0, 1 / RATE)
    gyr = np.radians([1.0, 2.0, -1.0]) + rng.normal(0, 0.004, (t.size, 3))
    gyr[(t > 2) & (t < 3), 1] += 0.8
    acc = np.array([0.0, 0.0, 9.81]) + rng.normal(0, 0.03, (t.size, 3))
    one = _feed(GyroCalibrator(CalibrationSettings(), HOP), acc, gyr, t, batch=1)
    many = _feed(GyroCalibrator(CalibrationSettings(), HOP), acc, gyr, t, batch=7)
    assert np.array_equal(one, many)


def test_calibrator_does_not_learn_a_slow_smooth_rotation_as_bias() -> None:
    """A pelvis rolling by a degree over a second has little gyro scatter; it is not stillness."""
    t = np.arange(0, 12.0, 1 / RATE)
    bias = np.array([0.02, -0.01, 0.015])
    gyr = np.tile(bias, (t.size, 1))
    roll = (t > 6.0) & (t < 7.0)
    gyr[roll, 0] += np.radians(1.5)  # 1.5 deg/s for 1 s: smooth, no scatter
    acc = np.tile([0.0, 0.0, 9.81], (t.size, 1))
    cal = GyroCalibrator(CalibrationSettings(), HOP)
    _feed(cal, acc, gyr, t)
    assert np.allclose(cal.bias_rads, bias, atol=2e-3)


@pytest.mark.parametrize("field", ["still_window_s", "still_gyr_std_rads", "rebias_s"])
def test_settings_are_validated(field: str) -> None:
    with pytest.raises(SettingsError, match=field):
        CalibrationSettings(**{field: 0.0})


def test_slow_lowerings_are_not_learned_as_bias() -> None:
    """A 6 s lowering turns the pelvis at a steady 5 deg/s: little gyro or accelerometer scatter,
    but gravity turns in the sensor frame.  Rep after rep, such windows used to add up to a
    're-learned' bias equal to the lowering's rate (here -5 deg/s), and the orientation then drifted
    up to 45 deg within the set (a set of explosive lifts and slow lowerings lost 4 of its 11 reps)."""
    bias = np.radians([1.0, -2.0, 0.5])
    pieces_t, pieces_th, pieces_w = [], [], []
    t0, th = 0.0, np.radians(60.0)
    for _ in range(6):
        for duration, rate in ((0.8, 0.0), (0.3, np.radians(30.0 / 0.3)), (6.0, -np.radians(5.0))):
            t = t0 + np.arange(0, duration, 1 / RATE)
            pieces_t.append(t)
            pieces_th.append(th + rate * (t - t0))
            pieces_w.append(np.full(t.size, rate))
            th += rate * duration
            t0 += duration
    t, theta, w = np.concatenate(pieces_t), np.concatenate(pieces_th), np.concatenate(pieces_w)
    rng = np.random.default_rng(3)
    gyr = bias + np.column_stack([w, np.zeros_like(w), np.zeros_like(w)]) + rng.normal(0, 0.002, (t.size, 3))
    acc = 9.81 * np.column_stack([np.zeros_like(t), np.sin(theta), np.cos(theta)])
    acc += rng.normal(0, 0.02, acc.shape)
    cal = GyroCalibrator(CalibrationSettings(), HOP)
    _feed(cal, acc, gyr, t)
    assert cal.calibrated
    assert np.allclose(cal.bias_rads, bias, atol=3e-3), np.degrees(cal.bias_rads)
