"""The fine-grid trajectory of the sensor's segment, recorded phase by phase.

A :class:`Trajectory` holds the segment's anchor position and angles on the internal time grid
(step ``dt_s``, sample 0 at τ = 0), the activity log (what the lifter does when), the transient
events applied after assembly (landing jolts, soft-tissue excitations) and the key frames of the
sensor mounting.  The phases that append to it live in :mod:`imurep.sim.activities` and
:mod:`imurep.sim.sets`; each continues from the last :attr:`Trajectory.pose`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.spatial.transform import Rotation

from imurep.sim.motion import Array, Pose


@dataclass
class Activity:
    """One entry of the activity log (times in s from the recording start, τ).

    ``end_s`` is ``None`` for an open ``rest`` until :meth:`Trajectory.close_rests`.
    """

    kind: str
    start_s: float
    end_s: float | None


@dataclass(frozen=True)
class Jolt:
    """A world-frame transient (heel strike, landing): displacement with peak acceleration |amp|."""

    t_s: float
    amplitude_mps2: Array
    """(3,) world-frame peak acceleration, m/s²."""
    f_hz: float
    decay_s: float


@dataclass(frozen=True)
class SoftTissueKick:
    """An excitation of the soft-tissue wobble of the sensor at ``t_s`` (``scale`` 0..1)."""

    t_s: float
    scale: float


@dataclass
class MountingKeys:
    """Key frames of the sensor mounting (sample index, value), piecewise constant between
    re-straps.

    ``rotations`` (sensor -> segment): the first key, then a triple (start, handling waypoint,
    end) per re-strap.  ``levers_m`` (sensor position in the segment frame, m): the first key,
    then a pair (start, end) per re-strap.
    """

    rotations: list[tuple[int, Rotation]] = field(default_factory=list)
    levers_m: list[tuple[int, Array]] = field(default_factory=list)


class Trajectory:
    """The segment's pose on the fine grid, appended phase by phase.

    Parameters
    ----------
    rng
        The simulation's random generator (shared: the draw order is part of the behaviour).
    dt_s
        Step of the fine grid, s.
    on_pelvis
        Sensor on the pelvis (``placement="hip"``) rather than the working thigh.
    start
        Pose at τ = 0.
    stand_height_m, stand_flex
        Anchor height (m) and flexion (rad) of upright standing.
    """

    def __init__(
        self,
        rng: np.random.Generator,
        dt_s: float,
        on_pelvis: bool,
        start: Pose,
        stand_height_m: float,
        stand_flex: float,
    ) -> None:
        self.rng = rng
        self.dt_s = dt_s
        self.on_pelvis = on_pelvis
        self.pose = start
        self.stand_height_m = stand_height_m
        self.stand_flex = stand_flex
        self.anchor_chunks: list[Array] = [start.anchor_m[None, :].copy()]
        """Anchor positions, chunks of shape (k, 3), world, m."""
        self.angle_chunks: list[Array] = [np.array([[start.heading, start.flex, 0.0, 0.0]])]
        """Angles, chunks of shape (k, 4): heading, flex, roll, wobble, rad."""
        self.n_samples = 1
        self.activities: list[Activity] = []
        self.jolts: list[Jolt] = []
        self.soft_tissue: list[SoftTissueKick] = []
        self.mounting = MountingKeys()
        self.lateral_offset_m = 0.0
        """Lateral offset of the anchor from the pelvis centre (thigh: ±0.09 m), m."""

    @property
    def tau_s(self) -> float:
        """Time of the last sample, s from the recording start."""
        return (self.n_samples - 1) * self.dt_s

    def steps(self, duration_s: float) -> int:
        """Number of fine-grid steps (at least 1) of a phase of ``duration_s``."""
        return max(1, round(duration_s / self.dt_s))

    def push(self, anchor_m: Array, angles: Array) -> None:
        """Append samples: anchor positions (k, 3) m and angles (k, 4) rad; the last is the pose."""
        self.anchor_chunks.append(anchor_m)
        self.angle_chunks.append(angles)
        self.n_samples += anchor_m.shape[0]
        self.pose = Pose(
            anchor_m=anchor_m[-1].copy(),
            heading=float(angles[-1, 0]),
            flex=float(angles[-1, 1]),
            roll=float(angles[-1, 2]),
            wobble=float(angles[-1, 3]),
        )

    def log(self, kind: str, start_s: float, end_s: float | None) -> None:
        """Add an activity to the log."""
        self.activities.append(Activity(kind, start_s, end_s))

    def close_rests(self) -> None:
        """End each open ``rest`` where the next set's still start position begins (or at the end)."""
        starts = [a.start_s for a in self.activities if a.kind == "set"]
        for a in self.activities:
            if a.end_s is None:
                later = [s for s in starts if s > a.start_s]
                a.end_s = later[0] if later else self.tau_s

    def samples(self) -> tuple[Array, Array]:
        """All anchor positions (n, 3) m and angles (n, 4) rad, as new arrays."""
        return np.concatenate(self.anchor_chunks, axis=0), np.concatenate(self.angle_chunks, axis=0)
