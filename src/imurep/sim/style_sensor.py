"""The IMU of a style recording: from the body track to the samples the sensor delivers.

Kinematics: the sensor sits at the lever arm on the segment, turned by the mounting (which
eases through slips and re-straps); soft tissue lets it lag the segment as a damped spring driven
by the segment's acceleration (displacement) with a rocking rotation proportional to it; impacts
(heel strikes, sitting down) are Gaussian displacement bumps of the anchor.  Specific force and
angular rate follow by differentiation on the fine grid.

The sensor (``noise`` on): its own low-pass filter (causal 2nd-order Butterworth at a fraction of
the output rate, run at the fine rate before decimation, as a digital MEMS filter does), sampling
on its own clock (rate error up to ±1 %), then per-axis scale, cross-axis misalignment, a
constant gyro bias (up to :attr:`~imurep.sim.styles.StyleSpace.gyro_bias_dps`), a Gauss-Markov
bias instability, white noise, 16-bit quantisation with saturation (±8 g, ±2000 °/s), timestamp
jitter and lost packets of 4 samples.  With ``noise`` off: the ideal signals at the nominal rate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.signal import bilinear, butter, lfilter, lfilter_zi, sosfilt, sosfilt_zi
from scipy.spatial.transform import Rotation

from imurep.model.samples import FloatArray
from imurep.sim.motion import DEG, GRAVITY_MPS2, Array
from imurep.sim.style_body import Body
from imurep.sim.styles import SensorStyle

ACC_RANGE_MPS2 = 8.0 * GRAVITY_MPS2
GYR_RANGE_RADS = 2000.0 * DEG
PACKET = 4
"""Samples per radio packet (lost together)."""


@dataclass(frozen=True)
class BodyKinematics:
    """Fine-grid kinematics of the segment and the ideal sensor signals."""

    t: Array
    """(n,) s from the recording start."""
    R_ws: Rotation
    """(n,) segment -> world."""
    acc_mps2: Array
    """(n, 3) specific force, sensor frame."""
    gyr_rads: Array
    """(n, 3) angular rate, sensor frame."""
    R_sensor: Rotation
    """(n,) sensor -> world."""


def body_kinematics(body: Body, sensor: SensorStyle, soft_tissue: bool) -> BodyKinematics:
    """Segment and sensor kinematics of a finished body track."""
    dt = body.dt_s
    anchor, angles = body.samples()
    n = anchor.shape[0]
    t = np.arange(n) * dt
    for t_i, peak, width in body.impacts:  # displacement bumps with the given peak acceleration
        i0, i1 = max(0, int((t_i - 5 * width) / dt)), min(n, int((t_i + 5 * width) / dt) + 1)
        x = t[i0:i1] - t_i
        anchor[i0:i1, 2] -= peak * width**2 * np.exp(-0.5 * (x / width) ** 2)
    # segment -> world, Rz(heading)·Rx(flex)·Rz(roll)·Ry(wobble) (imurep.sim.motion.orient) as quaternions
    q_ws = _axis_quat(2, angles[:, 0])
    for axis, col in ((0, 1), (2, 2), (1, 3)):
        q_ws = quat_mul(q_ws, _axis_quat(axis, angles[:, col]))
    R_ws = Rotation.from_quat(q_ws)
    R_mount, lever = body.mounting.at(t)
    p = anchor + R_ws.apply(lever)
    acc_w = _second_diff(p, dt)
    q_s = quat_mul(q_ws, R_mount.as_quat())
    if soft_tissue:
        disp = _tissue(acc_w, sensor.tissue_hz, sensor.tissue_damping, dt)
        rock = sensor.tissue_gain * (2 * math.pi * sensor.tissue_hz) ** 2 * np.cross([0.0, 0.0, 1.0], disp)
        p = p + disp
        acc_w = _second_diff(p, dt)
        q_s = quat_mul(Rotation.from_rotvec(rock).as_quat(), q_s)
    acc_w[:, 2] += GRAVITY_MPS2
    R_sensor = Rotation.from_quat(q_s)
    acc_s = R_sensor.inv().apply(acc_w)
    rel = quat_mul(q_s[:-1] * np.array([-1.0, -1.0, -1.0, 1.0]), q_s[1:])
    rel *= np.where(rel[:, 3:4] < 0, -1.0, 1.0)
    vnorm = np.linalg.norm(rel[:, :3], axis=1)
    angle = 2.0 * np.arctan2(vnorm, rel[:, 3])
    mid = rel[:, :3] * (angle / np.maximum(vnorm, 1e-15) / dt)[:, None]
    gyr = np.empty((n, 3))
    gyr[1:-1] = 0.5 * (mid[1:] + mid[:-1])
    gyr[0], gyr[-1] = mid[0], mid[-1]
    return BodyKinematics(t=t, R_ws=R_ws, acc_mps2=acc_s, gyr_rads=gyr, R_sensor=R_sensor)


def quat_mul(a: Array, b: Array) -> Array:
    """Hamilton products of quaternions (scalar last), shapes (n, 4) or (4,), broadcast."""
    ax, ay, az, aw = np.moveaxis(np.atleast_2d(a), -1, 0)
    bx, by, bz, bw = np.moveaxis(np.atleast_2d(b), -1, 0)
    return np.stack(
        [
            aw * bx + ax * bw + ay * bz - az * by,
            aw * by - ax * bz + ay * bw + az * bx,
            aw * bz + ax * by - ay * bx + az * bw,
            aw * bw - ax * bx - ay * by - az * bz,
        ],
        axis=-1,
    )


def _axis_quat(axis: int, angle: Array) -> Array:
    q = np.zeros((angle.size, 4))
    q[:, axis] = np.sin(0.5 * angle)
    q[:, 3] = np.cos(0.5 * angle)
    return q


def _second_diff(p: Array, dt: float) -> Array:
    a = np.empty_like(p)
    a[1:-1] = (p[2:] - 2.0 * p[1:-1] + p[:-2]) / (dt * dt)
    a[0], a[-1] = a[1], a[-2]
    return a


def _tissue(acc_w: Array, f_hz: float, zeta: float, dt: float) -> Array:
    """Displacement (n, 3) m of a damped spring x'' + 2ζωx' + ω²x = -a driven by ``acc_w``."""
    w = 2.0 * math.pi * f_hz
    b, a = bilinear([-1.0], [1.0, 2.0 * zeta * w, w * w], fs=1.0 / dt)
    zi = lfilter_zi(b, a)
    return np.column_stack([lfilter(b, a, acc_w[:, k], zi=zi * acc_w[0, k])[0] for k in range(3)])


def sample(
    kin: BodyKinematics,
    sensor: SensorStyle,
    rate_hz: float,
    noise: bool,
    rng: np.random.Generator,
    t0_s: float,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """The sensor's samples: timestamps (n,) s from ``t0_s``, specific force (n, 3) m/s², angular
    rate (n, 3) rad/s (sensor frame)."""
    t = kin.t
    acc, gyr = kin.acc_mps2, kin.gyr_rads
    f = rate_hz * (1.0 + sensor.clock_error) if noise else rate_hz
    n = int(math.floor(t[-1] * f)) + 1
    tau = np.arange(n) / f
    if noise:  # the sensor's own digital low-pass filter, at the fine rate
        fs = 1.0 / (t[1] - t[0])
        sos = butter(2, min(0.9, sensor.lpf_fraction * rate_hz / (0.5 * fs)), output="sos")
        zi = sosfilt_zi(sos)
        acc = np.column_stack([sosfilt(sos, acc[:, k], zi=zi * acc[0, k])[0] for k in range(3)])
        gyr = np.column_stack([sosfilt(sos, gyr[:, k], zi=zi * gyr[0, k])[0] for k in range(3)])
    acc_o = np.column_stack([np.interp(tau, t, acc[:, k]) for k in range(3)])
    gyr_o = np.column_stack([np.interp(tau, t, gyr[:, k]) for k in range(3)])
    ts = t0_s + tau
    if not noise:
        return ts, np.asarray(acc_o, dtype=np.float64), np.asarray(gyr_o, dtype=np.float64)
    mis_g = _misalignment(rng, sensor.misalignment_deg)
    mis_a = _misalignment(rng, sensor.misalignment_deg)
    gyr_o = (gyr_o * np.asarray(sensor.gyro_scale)) @ mis_g.T
    gyr_o += np.asarray(sensor.gyro_bias_dps) * DEG
    gyr_o += _gauss_markov(rng, n, 1.0 / f, sensor.bias_walk_dps * DEG, rng.uniform(30.0, 300.0))
    gyr_o += rng.normal(0.0, sensor.gyro_noise_dps * DEG, (n, 3))
    acc_o = (acc_o * np.asarray(sensor.acc_scale)) @ mis_a.T
    acc_o += rng.uniform(-0.15, 0.15, 3) + rng.normal(0.0, sensor.acc_noise_mps2, (n, 3))
    acc_q = _quantise(acc_o, ACC_RANGE_MPS2)
    gyr_q = _quantise(gyr_o, GYR_RANGE_RADS)
    ts = ts + rng.uniform(-0.5, 0.5, n) * sensor.jitter / f
    lost = rng.random(n // PACKET + 1) < sensor.packet_loss
    keep = ~np.repeat(lost, PACKET)[:n]
    keep[0] = True
    return ts[keep], np.ascontiguousarray(acc_q[keep]), np.ascontiguousarray(gyr_q[keep])


def _misalignment(rng: np.random.Generator, deg: float) -> Array:
    """A near-identity matrix with off-diagonal terms up to ``deg`` (cross-axis sensitivity)."""
    m = np.eye(3)
    off = rng.uniform(-1.0, 1.0, (3, 3)) * deg * DEG
    m += off - np.diag(np.diag(off))
    return m


def _gauss_markov(rng: np.random.Generator, n: int, dt: float, sigma: float, tau_s: float) -> Array:
    """First-order Gauss-Markov process (n, 3) with RMS ``sigma`` and correlation time ``tau_s``."""
    phi = math.exp(-dt / tau_s)
    drive = rng.normal(0.0, sigma * math.sqrt(1.0 - phi * phi), (n, 3))
    x0 = rng.normal(0.0, sigma, 3)
    out = lfilter([1.0], [1.0, -phi], drive, axis=0, zi=(phi * x0)[None, :])[0]
    return np.asarray(out)


def _quantise(x: Array, full_scale: float) -> FloatArray:
    """Round to 16-bit counts over ±``full_scale`` (saturating)."""
    lsb = 2.0 * full_scale / 65536.0
    return np.asarray(np.clip(np.round(x / lsb), -32768, 32767) * lsb, dtype=np.float64)
