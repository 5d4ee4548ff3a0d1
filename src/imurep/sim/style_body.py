"""The body of a style recording on the fine grid: a track of segment poses and sensor mountings.

:class:`Body` is appended to phase by phase (:mod:`imurep.sim.style_activities` around the sets,
:mod:`imurep.sim.style_sets` the sets).  Poses use the angles of :func:`imurep.sim.motion.orient`
(heading, flex, roll, wobble; the frames of :mod:`imurep.sim.motion`).  Unlike the planned
simulator, transitions through several poses are C2 cubic splines (no stop at the via poses),
quiet postures sway with low-pass filtered noise, and mounting changes are eased with a septic
(C3) step.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy.interpolate import CubicSpline
from scipy.signal import butter, sosfilt
from scipy.spatial.transform import Rotation

from imurep.sim.motion import DEG, Array


def septic(s: Array) -> Array:
    """C3 smooth step -20s⁷ + 70s⁶ - 84s⁵ + 35s⁴ on s clipped to [0, 1] (0 -> 1)."""
    s = np.clip(s, 0.0, 1.0)
    return s**4 * (35.0 + s * (-84.0 + s * (70.0 - 20.0 * s)))


@dataclass
class Mounting:
    """Key frames of the sensor on the segment: at ``t_s`` the rotation (sensor -> segment) and the
    lever arm (segment frame, m); between two keys the change is eased (:func:`septic`)."""

    t_s: list[float] = field(default_factory=list)
    rotations: list[Rotation] = field(default_factory=list)
    levers_m: list[Array] = field(default_factory=list)

    def key(self, t_s: float, rotation: Rotation, lever_m: Array) -> None:
        """Add a key frame (times must not decrease)."""
        self.t_s.append(t_s)
        self.rotations.append(rotation)
        self.levers_m.append(np.asarray(lever_m, dtype=float))

    def at(self, t: Array) -> tuple[Rotation, Array]:
        """Mounting rotations (n,) and lever arms (n, 3) at the times ``t`` (s)."""
        n = t.size
        quat = np.tile(self.rotations[0].as_quat(), (n, 1))
        lever = np.tile(self.levers_m[0], (n, 1))
        for k in range(1, len(self.t_s)):
            t0, t1 = self.t_s[k - 1], self.t_s[k]
            after = t >= t1
            quat[after] = self.rotations[k].as_quat()
            lever[after] = self.levers_m[k]
            inside = (t > t0) & (t < t1)
            if t1 > t0 and inside.any():
                w = septic((t[inside] - t0) / (t1 - t0))
                r0, r1 = self.rotations[k - 1], self.rotations[k]
                rel = (r0.inv() * r1).as_rotvec()
                quat[inside] = (r0 * Rotation.from_rotvec(w[:, None] * rel[None, :])).as_quat()
                lever[inside] = self.levers_m[k - 1] + w[:, None] * (self.levers_m[k] - self.levers_m[k - 1])
        return Rotation.from_quat(quat), lever


class Body:
    """The segment's poses on the fine grid (step ``dt_s``), sample 0 at τ = 0.

    Parameters
    ----------
    rng
        The random generator (draw order is part of the behaviour).
    dt_s
        Fine-grid step, s.
    on_pelvis
        Sensor on the pelvis rather than a thigh.
    anchor_m, angles
        First pose: anchor (3,) world m, angles (4,) rad (heading, flex, roll, wobble).
    """

    def __init__(
        self, rng: np.random.Generator, dt_s: float, on_pelvis: bool, anchor_m: Array, angles: Array
    ) -> None:
        self.rng = rng
        self.dt_s = dt_s
        self.on_pelvis = on_pelvis
        self._anchor: list[Array] = [np.asarray(anchor_m, dtype=float)[None, :]]
        self._angles: list[Array] = [np.asarray(angles, dtype=float)[None, :]]
        self.n = 1
        self.activities: list[tuple[str, float, float]] = []
        self.mounting = Mounting()
        self.impacts: list[tuple[float, float, float]] = []
        """Vertical impacts (heel strikes, sitting down): (time s, peak acceleration m/s², width s)."""

    @property
    def tau_s(self) -> float:
        """Time of the last sample, s."""
        return (self.n - 1) * self.dt_s

    @property
    def anchor(self) -> Array:
        """Current anchor position (3,), m."""
        return self._anchor[-1][-1].copy()

    @property
    def angles(self) -> Array:
        """Current angles (4,), rad."""
        return self._angles[-1][-1].copy()

    def samples(self) -> tuple[Array, Array]:
        """All anchor positions (n, 3) m and angles (n, 4) rad, as new arrays."""
        return np.concatenate(self._anchor, axis=0), np.concatenate(self._angles, axis=0)

    def times(self, duration_s: float) -> Array:
        """Local times (k,) s after the current sample of a phase of ``duration_s`` (k >= 1)."""
        k = max(1, round(duration_s / self.dt_s))
        return np.arange(1, k + 1) * self.dt_s

    def push(self, anchor_m: Array, angles: Array, kind: str | None) -> None:
        """Append samples (k, 3) m and (k, 4) rad; log them as ``kind`` unless None."""
        t_a = self.tau_s
        self._anchor.append(anchor_m)
        self._angles.append(angles)
        self.n += anchor_m.shape[0]
        if kind:
            self.log(kind, t_a, self.tau_s)

    def log(self, kind: str, start_s: float, end_s: float) -> None:
        """Add an activity (merged with the previous one when it continues it)."""
        if (
            self.activities
            and self.activities[-1][0] == kind
            and abs(self.activities[-1][2] - start_s) < 1e-9
        ):
            self.activities[-1] = (kind, self.activities[-1][1], end_s)
        else:
            self.activities.append((kind, start_s, end_s))

    def hold(self, duration_s: float, kind: str | None, sway: float = 1.0) -> None:
        """Quiet posture with low-pass filtered postural sway (``sway`` scales it; 0: none)."""
        tl = self.times(duration_s)
        k = tl.size
        anchor = np.repeat(self.anchor[None, :], k, axis=0)
        angles = np.repeat(self.angles[None, :], k, axis=0)
        if sway > 0 and k > 8:
            window = np.sin(math.pi * tl / tl[-1]) ** 2
            sos = butter(2, min(0.45, self.rng.uniform(0.3, 1.0) * 2.0 * self.dt_s), output="sos")
            noise = sosfilt(sos, self.rng.normal(size=(k, 7)), axis=0)
            noise /= max(1e-12, float(np.std(noise)))
            anchor += sway * window[:, None] * noise[:, :3] * np.array([0.002, 0.002, 0.001])
            angles[:, 1:] += sway * window[:, None] * noise[:, 3:6] * 0.4 * DEG
            angles[:, 0] += sway * window * noise[:, 6] * 0.3 * DEG
        self.push(anchor, angles, kind)

    def go(self, poses: list[tuple[Array, Array, float]], kind: str | None = "transition") -> None:
        """Move through poses ``(anchor (3,), angles (4,), duration s)`` along a C2 cubic spline
        that starts and ends at rest."""
        t_knots = [0.0]
        anchors = [self.anchor]
        angles = [self.angles]
        for a, g, d in poses:
            t_knots.append(t_knots[-1] + max(d, 0.2))
            anchors.append(np.asarray(a, dtype=float))
            g = np.asarray(g, dtype=float).copy()
            g[0] = angles[-1][0] + _wrap(g[0] - angles[-1][0])
            angles.append(g)
        values = np.column_stack([np.array(anchors), np.array(angles)])
        spline = CubicSpline(np.array(t_knots), values, axis=0, bc_type="clamped")
        tl = self.times(t_knots[-1])
        out = spline(np.minimum(tl, t_knots[-1]))
        self.push(out[:, :3], out[:, 3:], kind)


def _wrap(a: float) -> float:
    return (a + math.pi) % (2.0 * math.pi) - math.pi


def heading_vectors(heading: float) -> tuple[Array, Array]:
    """World lateral (x) and forward (y) directions of a heading (rad), each (3,)."""
    c, s = math.cos(heading), math.sin(heading)
    return np.array([c, s, 0.0]), np.array([-s, c, 0.0])
