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
