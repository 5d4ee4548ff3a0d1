"""Unit checks on loaded data: accelerometer in g instead of m/s², gyroscope in deg/s instead of rad/s.

Files often say nothing about their units (or say them wrongly), so the loaders look at the data:

Accelerometer
    The median norm of the specific force is close to 1 g at rest and during most movement.
    ``4 – 20`` → m/s² (kept); ``0.4 – 2`` → g (× 9.80665, warning); ``400 – 2000`` → milli-g
    (× 0.00980665, warning); below ``0.4`` → gravity-free *linear* acceleration: refused, gravity
    cannot be recovered from it; anything else is refused.
Gyroscope
    Human movement stays well below 25 rad/s (1430 °/s), while values in °/s exceed it during any
    brisk movement.  If the 99.5th percentile of the rate norm is above 25, or the rates are not
    consistent with how the gravity direction turns (slope of ``du/dt`` against ``-ω × u`` below
    0.13, where 1 is expected for rad/s and 1/57.3 for °/s), the gyroscope is taken to be in °/s
    (× π/180, warning).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Final

import numpy as np

from imurep.core.validation import check_gravity
from imurep.model.errors import DataValidationError
from imurep.model.samples import FloatArray
from imurep.model.units import STANDARD_GRAVITY_MPS2

logger = logging.getLogger(__name__)

G: Final = STANDARD_GRAVITY_MPS2
DEG: Final = math.pi / 180.0

MAX_PLAUSIBLE_RADS: Final = 25.0
"""A 99.5th percentile angular-rate norm above this (rad/s) means the data are in °/s."""

MIN_SLOPE_RADS: Final = 0.13
"""Kinematic slope below this means the gyroscope is in °/s (1 expected for rad/s)."""


@dataclass(frozen=True)
class UnitCheck:
    """Outcome of :func:`check_units`.

    Attributes
    ----------
    acc_scale
        Factor applied to the accelerometer (1 when already m/s²).
    gyr_scale
        Factor applied to the gyroscope (1 when already rad/s).
    acc_median_norm
        Median ``|acc|`` before scaling, in the file's unit.
    gyr_p995_norm
        99.5th percentile of ``|gyr|`` before scaling, in the file's unit.
    kinematic_slope
        Slope of ``du/dt`` on ``-ω × u`` (``u`` the specific-force direction) after scaling;
        ≈ +1 when the gyroscope agrees with the accelerometer axes in rad/s, ``None`` when the
        data hold too little rotation to tell.
    """

    acc_scale: float
    gyr_scale: float
    acc_median_norm: float
    gyr_p995_norm: float
    kinematic_slope: float | None

    def notes(self) -> list[str]:
        """Human-readable conversions made (empty when none)."""
        out = []
        if self.acc_scale != 1.0:
            unit = "g" if self.acc_scale == G else "milli-g"
            out.append(
                f"accelerometer converted from {unit} to m/s² (median |acc| was {self.acc_median_norm:.3g})"
            )
        if self.gyr_scale != 1.0:
            out.append(
                "gyroscope converted from deg/s to rad/s "
                f"(99.5th percentile |gyr| was {self.gyr_p995_norm:.3g})"
            )
        return out


def _smooth(x: FloatArray, k: int) -> FloatArray:
    if k <= 1:
        return x
    kernel = np.ones(k) / k
    return np.column_stack([np.convolve(x[:, i], kernel, mode="same") for i in range(x.shape[1])])


@dataclass(frozen=True)
class KinematicFit:
    """Fit of ``du/dt`` (turning of the smoothed specific-force direction) on ``-ω × u``."""

    slope: float
    """≈ 1 for a gyroscope in rad/s on the accelerometer's axes, ≈ 1/57.3 in °/s, ≈ -1 mirrored."""
    correlation: float
    """Correlation of the two; below ≈ 0.5 the slope is not to be trusted (too much linear motion)."""
    rms_turn_rads: float
    """RMS turning rate of the accelerometer direction, rad/s."""


def kinematic_slope(
    t_s: FloatArray, acc_mps2: FloatArray, gyr_rads: FloatArray, window_s: float = 0.3
) -> KinematicFit | None:
    """Compare the gyroscope with the turning of the accelerometer direction.

    A direction fixed in the world (gravity) turns in the sensor frame as ``du/dt = -ω × u``.
    Both signals are smoothed over ``window_s`` (moving average) to suppress linear acceleration,
    and only samples with ``|acc|`` within 20 % of 1 g are used.  ``None`` with too little data or
    rotation.
    """
    n = t_s.shape[0]
    if n < 10:
        return None
    dt = float(np.median(np.diff(t_s)))
    if not dt > 0:
        return None
    k = max(1, min(int(round(window_s / dt)), n // 4))
    a = _smooth(acc_mps2, k)
    w = _smooth(gyr_rads, k)
    h = max(1, k // 2)
    norm = np.linalg.norm(a, axis=1)
    u = a / np.where(norm > 0, norm, 1.0)[:, None]
    span = t_s[2 * h :] - t_s[: -2 * h]
    du = (u[2 * h :] - u[: -2 * h]) / np.where(span > 0, span, np.inf)[:, None]
    pw = -np.cross(w[h:-h], u[h:-h])
    ok = (np.abs(norm[h:-h] - G) < 0.2 * G) & (span > 0) & (span < 4 * max(window_s, 2 * dt))
    if ok.sum() < 10:
        return None
    du, pw = du[ok], pw[ok]
    sww = float((pw * pw).sum())
    suu = float((du * du).sum())
    if sww <= 0 or suu <= 0 or sww / len(pw) < 0.05**2:
        return None
    suw = float((du * pw).sum())
    return KinematicFit(suw / sww, suw / math.sqrt(sww * suu), math.sqrt(suu / len(du)))


_TIME_UNITS: Final = (
    # (unit, factor to s, median step range in that unit for 5 Hz .. 2000 Hz)
    ("s", 1.0, (5e-4, 0.2)),
    ("ms", 1e-3, (0.5, 200.0)),
    ("µs", 1e-6, (500.0, 2e5)),
    ("ns", 1e-9, (5e5, 2e8)),
)


def time_unit(t: FloatArray, where: str) -> tuple[float, str | None]:
    """Factor turning the timestamps ``t`` into seconds, from their median step, and a note on the
    conversion (None when they already are in seconds or the step fits no unit).

    IMUs sample at 5 – 2000 Hz, so a median step of 0.5 – 200 is milliseconds, 500 – 2·10⁵
    microseconds, 5·10⁵ – 2·10⁸ nanoseconds (relative or epoch times alike).
    """
    if t.shape[0] < 2:
        return 1.0, None
    step = float(np.median(np.diff(t)))
    for unit, factor, (lo, hi) in _TIME_UNITS:
        if lo <= step <= hi:
            if factor == 1.0:
                return 1.0, None
            note = (
                f"timestamps converted from {unit} to s (median step {step:.4g} {unit}, "
                f"{1.0 / (step * factor):.0f} Hz)"
            )
            logger.warning("%s: %s", where, note)
            return factor, note
    return 1.0, None


def check_units(
    t_s: FloatArray, acc: FloatArray, gyr: FloatArray, where: str, *, acc_label: str = "accelerometer"
) -> UnitCheck:
    """Decide the unit scale factors from the data (see the module docstring).

    Parameters
    ----------
    t_s
        Times, shape ``(n,)``, s.
    acc, gyr
        Accelerometer and gyroscope samples, shape ``(n, 3)``, in the file's units.
    where
        The file, for messages.

    Raises
    ------
    DataValidationError
        The accelerometer holds no gravity (linear acceleration) or its magnitude fits no unit.
    """
    if acc.shape[0] == 0:
        raise DataValidationError("holds no samples", path=where)
    m = float(np.median(np.linalg.norm(acc, axis=1)))
    if 0.4 <= m <= 2.0:
        acc_scale = G
    elif 400.0 <= m <= 2000.0:
        acc_scale = G / 1000.0
    else:
        acc_scale = 1.0
    check_gravity(acc * acc_scale if acc_scale != 1.0 else acc, where, acc_label)  # as the Pipeline
    gnorm = np.linalg.norm(gyr, axis=1)
    p995 = float(np.percentile(gnorm, 99.5)) if gnorm.size else 0.0
    gyr_scale = 1.0
    fit = kinematic_slope(t_s, acc * acc_scale, gyr)
    if p995 > MAX_PLAUSIBLE_RADS:
        gyr_scale = DEG
    elif fit is not None:
        trusted = fit.correlation > 0.5 and 0 <= fit.slope < MIN_SLOPE_RADS
        # Gyro says "turning fast" while the accelerometer direction hardly moves: °/s at rest.
        quiet = float(np.median(gnorm)) > 0.5 and fit.rms_turn_rads < 0.1 * float(np.median(gnorm))
        if trusted or quiet:
            gyr_scale = DEG
    if gyr_scale != 1.0:
        fit = kinematic_slope(t_s, acc * acc_scale, gyr * gyr_scale)
    slope = fit.slope if fit is not None and abs(fit.correlation) > 0.5 else None
    result = UnitCheck(acc_scale, gyr_scale, m, p995, slope)
    for note in result.notes():
        logger.warning("%s: %s", where, note)
    if slope is not None and slope < -0.5:
        logger.warning(
            "%s: the gyroscope turns the opposite way to the accelerometer (kinematic slope %.2f); "
            "one of them has mirrored axes — results will be wrong",
            where,
            slope,
        )
    return result
