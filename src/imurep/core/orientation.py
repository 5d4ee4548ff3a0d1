"""Orientation: the direction of gravity ("up") in the sensor frame, from accelerometer and gyroscope.

Uses x-io Fusion (``imufusion``), a complementary AHRS with acceleration rejection, with no
magnetometer: heading is unobservable and not needed, since every metric of imurep is defined
relative to the vertical.  Fusion is fed in g and °/s; conversion happens here, SI elsewhere.
World frame: z up (Fusion's NWU convention).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import imufusion
import numpy as np

from imurep.model.errors import SettingsError
from imurep.model.samples import FloatArray
from imurep.model.units import DEG_PER_RAD, STANDARD_GRAVITY_MPS2

STILL_START_SPREAD_RADS = 0.05
"""A stream starts still when its gyroscope's readings over the first block vary less than this
(the norm of the per-axis ranges), rad/s: a resting sensor reads its bias plus noise (under
0.02 rad/s on the sensors of ``../shared/data``); a rep's turn, even at its slowest point (the
bottom of a squat), changes the angular rate by 5-10 rad/s² (0.25-0.5 rad/s in 50 ms)."""

STILL_START_MAX_RADS = 0.2
"""... and their mean is under this, rad/s (a gyroscope bias is under ~0.1 rad/s)."""


def starts_still(gyr_rads: FloatArray) -> bool:
    """Whether a stream whose first samples are ``gyr_rads`` (angular rate, shape ``(n, 3)``, rad/s,
    sensor frame, not bias-corrected) starts still."""
    if gyr_rads.shape[0] < 2:
        return False
    spread = float(np.linalg.norm(np.ptp(gyr_rads, axis=0)))
    mean = float(np.linalg.norm(gyr_rads.mean(axis=0)))
    return spread < STILL_START_SPREAD_RADS and mean < STILL_START_MAX_RADS


@dataclass(frozen=True)
class OrientationSettings:
    """Settings of the orientation filter.

    Attributes
    ----------
    gain
        Fusion algorithm gain (dimensionless): weight of the accelerometer correction.
    acceleration_rejection_deg
        Accelerometer readings further than this from the predicted gravity are ignored, degrees.
    rejection_timeout_s
        After this long of continuous rejection the filter re-initialises on the accelerometer, s.
    max_dt_s
        After a gap longer than this the filter restarts from the accelerometer, s.
    """

    gain: float = 0.5
    acceleration_rejection_deg: float = 10.0
    rejection_timeout_s: float = 5.0
    max_dt_s: float = 0.1

    def __post_init__(self) -> None:
        if not 0 < self.gain <= 10:
            raise SettingsError(f"orientation.gain must be in (0, 10], got {self.gain!r}")
        if not 0 <= self.acceleration_rejection_deg <= 90:
            raise SettingsError(
                "orientation.acceleration_rejection_deg must be in [0, 90], "
                f"got {self.acceleration_rejection_deg!r}"
            )
        if not self.rejection_timeout_s > 0 or not self.max_dt_s > 0:
            raise SettingsError("orientation.rejection_timeout_s and max_dt_s must be > 0")


class GravityTracker:
    """Tracks the unit "up" vector (opposite to gravity's pull) in the sensor frame.

    Parameters
    ----------
    settings
        Filter settings.
    nominal_rate_hz
        Expected sample rate, Hz (used only to scale Fusion's internal time-outs).
    still_start
        The stream starts still (:func:`starts_still`).  Fusion starts with a ramp of high gain
        (3 s during which the orientation follows the accelerometer, with acceleration rejection
        off), made for a filter that starts from nothing.  Here it starts aligned on the first
        accelerometer reading; when that is a still one the ramp only adds error: in a recording
        that starts right before the first rep, the rep's own accelerations (and any offset of the
        accelerometer) would pull the angle away and leave it off after the rep.  So the ramp is
        skipped then; a stream that starts moving keeps it, to settle on the true vertical.
    """

    def __init__(
        self, settings: OrientationSettings, nominal_rate_hz: float = 100.0, *, still_start: bool = False
    ) -> None:
        self.settings = settings
        self._still_start = still_start
        fs = imufusion.AhrsSettings()
        fs.convention = imufusion.CONVENTION_NWU
        fs.gain = settings.gain
        fs.gyroscope_range = 4000.0
        fs.acceleration_rejection = settings.acceleration_rejection_deg
        fs.rejection_timeout = settings.rejection_timeout_s
        fs.sample_rate = float(nominal_rate_hz)
        self._ahrs = imufusion.Ahrs()
        self._ahrs.set_settings(fs)
        self._t_prev: float | None = None
        self._dt_default = 1.0 / nominal_rate_hz

    def _align(self, acc: FloatArray) -> None:
        """Set the orientation so that ``acc`` (any unit, sensor frame) points up."""
        if float(np.linalg.norm(acc)) > 0:
            self._ahrs.set_quaternion(np.array(align_to_up(float(acc[0]), float(acc[1]), float(acc[2]))))
            if self._still_start and self._ahrs.get_flags().startup:
                self._ahrs.skip_startup()  # see ``still_start``

    def update(self, t_s: FloatArray, acc_mps2: FloatArray, gyr_rads: FloatArray) -> FloatArray:
        """Process samples in order.

        Parameters
        ----------
        t_s
            Times, shape ``(n,)``, s.
        acc_mps2
            Specific force, shape ``(n, 3)``, m/s², sensor frame.
        gyr_rads
            Bias-corrected angular rate, shape ``(n, 3)``, rad/s, sensor frame.

        Returns
        -------
        up
            Unit vector pointing up (world +z), shape ``(n, 3)``, sensor frame.
        """
        n = t_s.shape[0]
        out = np.empty((n, 3))
        if n == 0:
            return out
        prev = self._t_prev
        dts = np.empty(n)
        dts[0] = self._dt_default if prev is None else t_s[0] - prev
        dts[1:] = np.diff(t_s)
        # after a gap the prediction is stale: restart from the accelerometer (heading is irrelevant)
        realign = dts > self.settings.max_dt_s
        if prev is None:
            realign[0] = True
        np.minimum(dts, self.settings.max_dt_s, out=dts)
        gyr_dps = gyr_rads * DEG_PER_RAD
        acc_g = acc_mps2 * (1.0 / STANDARD_GRAVITY_MPS2)
        # Fusion computes in single precision: handing it float32 rows (rounded here, as its binding
        # would round float64 ones) gives the same results and spares a conversion per sample
        gyr_f32 = gyr_dps.astype(np.float32)
        acc_f32 = acc_g.astype(np.float32)
        ahrs = self._ahrs
        set_dt = ahrs.set_sample_period
        upd = ahrs.update_no_magnetometer
        grav = ahrs.get_gravity
        dt_list = dts.tolist()
        grav_rows: list[Any] = []  # float32 vectors (buffers, as bytes.join takes them)
        keep = grav_rows.append
        # the samples run between re-alignments (each starts a run); one tight loop per run
        edges = [*np.flatnonzero(realign).tolist(), n]
        if edges[0] != 0:
            edges.insert(0, 0)
        for lo, hi in zip(edges[:-1], edges[1:], strict=True):
            if realign[lo]:
                self._align(acc_g[lo])
            for g, a, dt in zip(gyr_f32[lo:hi], acc_f32[lo:hi], dt_list[lo:hi], strict=True):
                set_dt(dt)
                upd(g, a)
                keep(grav())
        # Fusion's vectors (contiguous, of its precision) joined as bytes: a fraction of the cost
        # of numpy assembling an array from that many small ones
        out[:] = np.frombuffer(b"".join(grav_rows), dtype=grav_rows[0].dtype).reshape(n, 3)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        out /= np.where(norms > 0, norms, 1.0)
        self._t_prev = float(t_s[-1])
        return out


_SMALL_RAD = 1e-3
"""Below this angle (rad) the rotation formulas use their Taylor series."""


def _rotvec_quat(rx: float, ry: float, rz: float) -> tuple[float, float, float, float]:
    """Quaternion ``(x, y, z, w)`` of the rotation vector ``r`` (rad)."""
    angle = math.sqrt(rx * rx + ry * ry + rz * rz)
    if angle <= _SMALL_RAD:
        a2 = angle * angle
        scale = 0.5 - a2 / 48 + a2 * a2 / 3840
    else:
        scale = math.sin(angle / 2) / angle
    return scale * rx, scale * ry, scale * rz, math.cos(angle / 2)


def align_to_up(ax: float, ay: float, az: float) -> tuple[float, float, float, float]:
    """Quaternion ``(w, x, y, z)`` of the shortest rotation that turns ``(ax, ay, az)`` (any unit,
    sensor frame, non-zero) onto world +z.

    The float operations of SciPy's ``Rotation.align_vectors([[0, 0, 1]], [a])`` (one vector pair:
    the rotation about ``a x z`` by their angle, with its Taylor series near 0° and its flip near
    180°), in the same order, so that the result is the same to the last bit (the tests compare).
    """
    n = math.sqrt(ax * ax + ay * ay + az * az)
    bx, by, bz = ax / n, ay / n, az / n
    # b x (0, 0, 1), with the signed zeros of the full product
    cx = by * 1.0 - bz * 0.0
    cy = bz * 0.0 - bx * 1.0
    cz = bx * 0.0 - by * 0.0
    theta = math.atan2(math.sqrt(cx * cx + cy * cy + cz * cz), (0.0 * bx + 0.0 * by) + 1.0 * bz)
    flip = math.pi - theta < _SMALL_RAD
    if flip:
        # near 180°: turn by 180° about the cross product (or -y when there is none), then back by the
        # small remainder
        r = np.array((cx, cy, cz) if math.sqrt(cx * cx + cy * cy + cz * cz) != 0 else (0.0, -1.0, 0.0))
        fx, fy, fz = (r / np.linalg.norm(r) * np.pi).tolist()
        q_flip = _rotvec_quat(fx, fy, fz)
        theta = math.pi - theta
        cx, cy, cz = -cx, -cy, -cz
    if abs(theta) < _SMALL_RAD:
        t2 = theta * theta
        f = 1 + t2 / 6 + t2 * t2 * 7 / 360
        px, py, pz, pw = _rotvec_quat(cx * f, cy * f, cz * f)
    else:
        sin_t = float(np.sin(theta))  # numpy's sine, as SciPy's code calls it here
        px, py, pz, pw = _rotvec_quat(cx * theta / sin_t, cy * theta / sin_t, cz * theta / sin_t)
    if not flip:
        return pw, px, py, pz
    qx, qy, qz, qw = q_flip
    return (
        pw * qw - px * qx - py * qy - pz * qz,
        pw * qx + qw * px + (py * qz - pz * qy),
        pw * qy + qw * py + (pz * qx - px * qz),
        pw * qz + qw * pz + (px * qy - py * qx),
    )
