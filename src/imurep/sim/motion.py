"""Motion primitives of the simulator: smooth profiles, transients, the segment pose and its frames.

Frames
    ``world``: z up, x/y horizontal.  ``segment``: x = medio-lateral (to the lifter's right),
    y = anterior, z = longitudinal (cranial for the pelvis, proximal i.e. knee -> hip for the
    thigh).  ``sensor``: the IMU axes; the mounting maps sensor-frame vectors to segment-frame
    vectors and is uniformly random.

Segment orientation
    ``R_ws = Rz(heading) · Rx(flex) · Rz(roll) · Ry(wobble)`` (segment -> world).  Standing
    upright with the lifter facing world ``Rz(heading)·(0, 1, 0)`` is ``flex = 0``.  On the bench
    the lifter lies with the head towards ``-Rz(heading)·(0, 1, 0)``; the pelvis has
    ``flex = 90° + θ`` and the thigh ``flex = 90° - θ``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.spatial.transform import Rotation

from imurep.model.units import STANDARD_GRAVITY_MPS2

Array = NDArray[np.floating[Any]]
"""A float array of the fine-grid simulation (shape and unit given where it is used)."""

DEG = math.pi / 180.0
"""One degree, rad."""
GRAVITY_MPS2 = float(STANDARD_GRAVITY_MPS2)


def min_jerk(s: Array) -> Array:
    """Minimum-jerk profile 10s³ - 15s⁴ + 6s⁵ on s clipped to [0, 1] (0 -> 1, unitless)."""
    s = np.clip(s, 0.0, 1.0)
    return s**3 * (10.0 - 15.0 * s + 6.0 * s * s)


def transient(tau: Array, f_hz: float, decay_s: float) -> Array:
    """Smooth damped oscillation (τ/τd)² exp(-τ/τd) sin(2π f τ) / 0.54, zero for τ < 0.

    Position and its first two derivatives are continuous at the onset; peak ≈ 1.
    """
    x = np.clip(tau, 0.0, None) / decay_s
    return np.where(tau > 0.0, x * x * np.exp(-x) * np.sin(2.0 * math.pi * f_hz * tau) / 0.5413, 0.0)


def unit_acc_transient(tau: Array, f_hz: float, decay_s: float, dt_s: float) -> Array:
    """:func:`transient` scaled so that its second derivative peaks at 1 (displacement per m/s²)."""
    x = transient(tau, f_hz, decay_s)
    if x.size < 3:
        return np.zeros_like(x)
    d2 = np.abs(np.diff(x, 2)).max() / (dt_s * dt_s)
    return x / d2 if d2 > 0 else x


def wrap_angle(a: float) -> float:
    """Angle wrapped into [-π, π), rad."""
    return (a + math.pi) % (2.0 * math.pi) - math.pi


def heading_dirs(heading: Array) -> tuple[Array, Array]:
    """World directions of the segment's lateral (x) and anterior (y) axes for a heading (rad).

    Returns two arrays of shape ``heading.shape + (3,)``.
    """
    c, s = np.cos(heading), np.sin(heading)
    z = np.zeros_like(heading)
    return np.stack([c, s, z], axis=-1), np.stack([-s, c, z], axis=-1)


def orient(heading: Array, flex: Array, roll: Array, wobble: Array) -> Rotation:
    """Segment -> world rotation Rz(heading)·Rx(flex)·Rz(roll)·Ry(wobble), angles in rad, shape (n,)."""
    r = Rotation.from_euler("ZXZ", np.column_stack([heading, flex, roll]))
    return r * Rotation.from_euler("Y", np.asarray(wobble)[:, None])


@dataclass
class Pose:
    """Pose of the segment: anchor position (world, m) and the angles of :func:`orient` (rad).

    The anchor is the pelvis centre (hip) or the hip end of the thigh (thigh).
    """

    anchor_m: Array
    heading: float
    flex: float
    roll: float = 0.0
    wobble: float = 0.0

    def copy(self) -> Pose:
        """An independent copy."""
        return Pose(
            anchor_m=self.anchor_m.copy(),
            heading=self.heading,
            flex=self.flex,
            roll=self.roll,
            wobble=self.wobble,
        )

    def angles(self) -> Array:
        """``[heading, flex, roll, wobble]``, shape (4,), rad."""
        return np.array([self.heading, self.flex, self.roll, self.wobble])
