"""The sensor: sampling the ideal signals at its (imperfect) sample times, plus its imperfections.

With ``noise`` off the sensor is ideal: samples at exactly the nominal rate, no error.  With it on,
in this order (each step draws from the random generator; the order is part of the behaviour):

* clock error: the actual rate is the nominal one ±0.5 %;
* gyro: per-axis scale error ±2 %, bias ±``gyro_bias_max_dps``, random-walk drift
  (0.3 °/s over the recording), white noise 0.01 rad/s;
* accelerometer: per-axis scale error ±2 %, bias ±0.1 m/s², white noise 0.05 m/s²;
* quantisation to 16 bits over ±16 g and ±2000 °/s (with saturation);
* timestamp jitter ±10 % of a sample period;
* dropouts: each sample with ``drop_probability``, plus 1-3 bursts of 5-50 samples (the first
  sample is always kept).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from imurep.model.samples import FloatArray
from imurep.sim.kinematics import Kinematics
from imurep.sim.motion import DEG, GRAVITY_MPS2, Array
from imurep.sim.settings import SimSettings

ACC_LSB_MPS2 = 32.0 * GRAVITY_MPS2 / 65536.0
"""Accelerometer resolution: 16 bits over ±16 g, m/s²."""
GYR_LSB_RADS = 4000.0 * DEG / 65536.0
"""Gyroscope resolution: 16 bits over ±2000 °/s, rad/s."""


def sample_sensor(
    settings: SimSettings, rng: np.random.Generator, kin: Kinematics, t0_s: float
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Sample the sensor over the whole recording.

    Returns
    -------
    (t_s, acc_mps2, gyr_rads)
        Timestamps ``(n,)`` s (recording time base, from ``t0_s``), specific force ``(n, 3)``
        m/s² and angular rate ``(n, 3)`` rad/s, sensor frame.
    """
    rate = float(settings.sample_rate_hz)
    noise = settings.noise
    clock_error = rng.uniform(-0.005, 0.005) if noise else 0.0
    f_actual = rate * (1.0 + clock_error)
    t_end = float(kin.t[-1])
    dt_fine = float(kin.t[1] - kin.t[0])
    n = int(math.floor((t_end - dt_fine) * f_actual)) + 1
    tau = np.arange(n) / f_actual
    acc = _interp3(tau, kin.t, kin.acc_sensor_mps2)
    gyr = _interp3(tau, kin.t[:-1] + 0.5 * dt_fine, kin.gyr_mid_rads)
    ts = t0_s + tau
    if noise:
        gyr = _gyro_errors(rng, gyr, settings.gyro_bias_max_dps)
        acc = _acc_errors(rng, acc)
        acc = _quantise(acc, ACC_LSB_MPS2)
        gyr = _quantise(gyr, GYR_LSB_RADS)
        ts = ts + rng.uniform(-0.1, 0.1, n) / f_actual
        keep = _kept(rng, n, settings.drop_probability)
        ts, acc, gyr = ts[keep], acc[keep], gyr[keep]
    return (
        ts.astype(np.float64),
        np.ascontiguousarray(acc, dtype=np.float64),
        np.ascontiguousarray(gyr, dtype=np.float64),
    )


def _interp3(x: Array, xp: Array, fp: Array) -> Array:
    return np.column_stack([np.interp(x, xp, fp[:, k]) for k in range(3)])


def _gyro_errors(rng: np.random.Generator, gyr: Array, bias_max_dps: float) -> Array:
    """Scale, bias + random-walk drift and white noise (rad/s)."""
    n = gyr.shape[0]
    scale = 1.0 + rng.uniform(-0.02, 0.02, 3)
    bias = rng.uniform(-1.0, 1.0, 3) * bias_max_dps * DEG
    drift = np.cumsum(rng.normal(0.0, 0.3 * DEG / math.sqrt(n), (n, 3)), axis=0)
    return gyr * scale + bias + drift + rng.normal(0.0, 0.01, (n, 3))


def _acc_errors(rng: np.random.Generator, acc: Array) -> Array:
    """Scale, bias and white noise (m/s²)."""
    n = acc.shape[0]
    scale = 1.0 + rng.uniform(-0.02, 0.02, 3)
    bias = rng.uniform(-0.1, 0.1, 3)
    return acc * scale + bias + rng.normal(0.0, 0.05, (n, 3))


def _quantise(x: Array, lsb: float) -> Array:
    """Round to 16-bit counts of ``lsb`` (saturating)."""
    return np.clip(np.round(x / lsb), -32768, 32767) * lsb


def _kept(rng: np.random.Generator, n: int, drop_probability: float) -> NDArray[np.bool_]:
    """Boolean mask (n,) of the samples that are not dropped."""
    keep = rng.random(n) >= drop_probability
    for _ in range(int(rng.integers(1, 4))):
        length = int(rng.integers(5, 51))
        a = int(rng.integers(1, max(2, n - length - 1)))
        keep[a : a + length] = False
    keep[0] = True
    return keep
