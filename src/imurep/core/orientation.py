"""Orientation: the direction of gravity ("up") in the sensor frame, from accelerometer and gyroscope.

Uses x-io Fusion (``imufusion``), a complementary AHRS with acceleration rejection, with no
magnetometer: heading is unobservable and not needed, since every metric of imurep is defined
relative to the vertical.  Fusion is fed in g and °/s; conversion happens here, SI elsewhere.
World frame: z up (Fusion's NWU convention).
"""

from __future__ import annotations

from dataclasses import dataclass

import imufusion
import numpy as np
from scipy.spatial.transform import Rotation

from imurep.model.errors import SettingsError
from imurep.model.samples import FloatArray
from imurep.model.units import DEG_PER_RAD, STANDARD_GRAVITY_MPS2


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
    """

    def __init__(self, settings: OrientationSettings, nominal_rate_hz: float = 100.0) -> None:
        self.settings = settings
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
            rot, _ = Rotation.align_vectors([[0.0, 0.0, 1.0]], [acc])
            x, y, z, w = rot.as_quat()
            self._ahrs.set_quaternion(np.array([w, x, y, z]))

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
        ahrs = self._ahrs
        set_dt = ahrs.set_sample_period
        upd = ahrs.update_no_magnetometer
        grav = ahrs.get_gravity
        for i in range(n):
            if realign[i]:
                self._align(acc_g[i])
            set_dt(float(dts[i]))
            upd(gyr_dps[i], acc_g[i])
            out[i] = grav()
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        out /= np.where(norms > 0, norms, 1.0)
        self._t_prev = float(t_s[-1])
        return out
