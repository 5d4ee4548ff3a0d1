"""State and helpers of the rep tracker (:class:`~imurep.core.tracking.reps.SetTracker`): start
positions, candidate first reps, open sets, the buffer's columns, and the small pure functions it
measures with (off-axis energy, the angle's rate, confidence)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from imurep.core.metrics import RepTiming, angle_between_deg, unit
from imurep.core.tracking.cycles import Cycle, CycleSegmenter
from imurep.model.results import RepResult
from imurep.model.samples import FloatArray

MAX_CANDIDATES = 4
"""At most this many possible first reps (one per recent start position) are followed at once."""

LOW_CONFIDENCE = 0.5
"""Reps and sets below this confidence are marked in tables and reports."""

CALM_SET_REPS = 3
"""A set found without a quiet start position (from the stream's first sample, or right after a
set that a different movement ended) needs this many reps."""

# buffer columns: time, up vector, angular rate, high-frequency acceleration, quiet flag, angle,
# smoothed angular speed, vertical acceleration
C_T, C_U, C_G, C_H, C_Q, C_A, C_S, C_V = 0, slice(1, 4), slice(4, 7), 7, 8, 9, 10, 11
WIDTH = 12

SHORT_TRAIL_ROWS = 48
"""Rows before a block first searched for the start of its trailing window, in plain floats (see
:meth:`SetTracker._trailing_rate`; the window is ``ONSET_SMOOTH_S``, 16 rows at 200 Hz) ..."""
TRAIL_ROWS = 256
"""... then these many rows (then the whole buffer)."""


@dataclass(eq=False)
class Rest:
    """A quiet posture held long enough to be a start position (absolute sample indices)."""

    up: FloatArray
    i_from: int
    i_to: int
    t_from_s: float
    t_to_s: float
    forced: bool = False  # set by a marker: the next movement starts a set without a quiet start
    calm: bool = False  # not quiet: the calmest moment of a movement (or the stream's start)
    i_resume: int | None = None  # a small movement after it ended here: the next one is scanned from here
    t_resume_s: float | None = None  # ... at this time (the start-from-rest gap counts from it)
    passes: FloatArray | None = None  # a quiet posture a first rep from here may not swing past

    @property
    def i_scan_from(self) -> int:
        """The sample the next movement is scanned from (the rest's end, or a small movement's)."""
        return self.i_to if self.i_resume is None else self.i_resume

    @property
    def t_ready_s(self) -> float:
        """The time the next movement may start from, s (a set's first rep starts right after)."""
        return self.t_to_s if self.t_resume_s is None else self.t_resume_s


@dataclass(eq=False)
class Candidate:
    """A possible first rep: the cycle of the angle from a start position."""

    rest: Rest
    seg: CycleSegmenter
    i_scan: int  # first sample not yet scanned
    pending: Cycle | None = None  # a cycle waiting for ``confirm_s`` of data after it
    inside: Cycle | None = None  # a cycle that turned inside the rep: the next one continues it


@dataclass(eq=False)
class RepPlace:
    """Where an accepted rep lies (absolute indices) and its own axis."""

    i_end: int
    axis: FloatArray
    mount: int
    rom_deg: float


@dataclass(eq=False)
class OpenSet:
    index: int
    axis: FloatArray  # robust axis of the current mounting (sensor frame)
    baseline_up: FloatArray  # the sagittal angle's zero and the tilt reference
    baseline_source: str
    bottom_up: FloatArray  # rest posture of the recent reps
    i_from: int
    seg: CycleSegmenter
    i_scan: int
    side: str | None = None
    reps: list[RepPlace] = field(default_factory=list)
    results: list[RepResult] = field(default_factory=list)
    last_end_s: float = -math.inf
    max_rom_deg: float = 0.0
    leave_since_s: float | None = None
    mount: int = 0
    mounts: list[tuple[int, FloatArray]] = field(default_factory=list)  # (first rep, baseline up)
    mounting_changes_s: list[float] = field(default_factory=list)
    suspect: tuple[int, FloatArray, FloatArray] | None = None  # (rep, axis, rest up) of a rep that turned
    min_reps: int = 2  # reps needed to be a set (more when it did not start from a quiet position)
    calm: bool = False  # it did not start from a held (quiet) start position
    rest_floor_deg: float = 0.0  # the lowest the reps came back to (their turns at the rest side)
    i_inside: int | None = None  # far turn of the first cycle since the last rep that turned inside a rep
    # a full rep that turned about another axis, kept until the next movement says whether the strap
    # slipped during it (the next rep turns about the set's axis again: it was a rep) or a different
    # movement began (the set ends before it): the arguments of SetTracker._accept
    held: tuple[Any, ...] | None = None

    def median_rom(self) -> float:
        return float(np.median([r.rom_deg for r in self.reps])) if self.reps else math.nan


def held_on_the_way(w: FloatArray, x: FloatArray, timing: RepTiming, hold_s: float) -> bool:
    """Whether the segment was quiet for ``hold_s`` (s) between 15 % and 70 % of the way up to the
    top of ``timing`` (rows ``w`` and signal ``x`` up to the top)."""
    if not x.shape[0]:
        return False
    lo = timing.bottom_deg + 0.15 * timing.rom_deg
    hi = timing.bottom_deg + 0.7 * timing.rom_deg
    held = (w[:, C_Q] > 0.5) & (x > lo) & (x < hi)
    if not held.any():
        return False
    t = w[:, C_T]
    edges = np.diff(np.concatenate(([0], held.astype(np.int8), [0])))
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1
    return bool(np.any(t[stops] - t[starts] >= hold_s))


def stopped_at(t: FloatArray, x: FloatArray, t_from_s: float, hold_s: float, tol_deg: float) -> float | None:
    """The first time (s) from ``t_from_s + hold_s`` on at which the angle ``x`` (degrees, at times
    ``t``) has made no new low deeper than ``tol_deg`` for ``hold_s`` (s): it stopped going down
    (came to rest, or turned back up).  None if it has not by the end of ``t``."""
    j0 = int(np.searchsorted(t, t_from_s + hold_s))
    if j0 >= t.shape[0]:
        return None
    low = np.minimum.accumulate(x)
    i = np.searchsorted(t, t[j0:] - hold_s)  # the sample ``hold_s`` before each candidate
    ok = np.flatnonzero(low[i] - low[j0:] <= tol_deg)
    return float(t[j0 + int(ok[0])]) if ok.size else None


def axis_change_deg(axis: FloatArray, set_axis: FloatArray, up: FloatArray) -> float:
    """How far a rep's rotation axis turned from its set's, degrees, leaving out the turn that
    tilting explains.

    A rep whose pelvis also tilts (one hip drops) rotates about the set's axis and, at the same
    time, about the axis that moves the up vector towards the set's axis (``up × set_axis``): its
    axis leans towards that one by ``atan(tilt / range)`` (a 9° drop on a 9° partial floor bridge:
    45°).  That rep is a rep, with its tilt measured and judged; a turn about any other direction
    (a twist about the vertical, another movement) is what a change of axis means.

    Parameters
    ----------
    axis, set_axis
        Unit rotation axes, sensor frame.
    up
        Unit up vector at the rep's start, sensor frame.
    """
    b = np.cross(up, set_axis)
    nb = float(np.linalg.norm(b))
    a = axis - (float(axis @ b) / (nb * nb)) * b if nb > 1e-9 else axis
    na = float(np.linalg.norm(a))
    return angle_between_deg(a / na, set_axis) if na > 1e-9 else 90.0


def off_axis(gyr: FloatArray, axis: FloatArray) -> float:
    """Fraction of the rotation energy of ``gyr`` (rows of rad/s) that is not about ``axis``."""
    on = gyr @ axis
    tot = float(np.sum(gyr * gyr))
    return 1.0 - float(np.sum(on * on)) / tot if tot > 0 else 1.0


def axis_rate(w: FloatArray, axis: FloatArray) -> FloatArray:
    """Rate of the sagittal angle about ``axis`` of buffer rows ``w``, degrees/s (positive away from
    the rest side): the up vector, fixed in the world, turns by ``-ω`` in the sensor frame."""
    return np.asarray(-np.degrees(w[:, C_G] @ axis), dtype=np.float64)


LEVER_M = 0.5
"""The furthest a strapped sensor sits from the joint its segment turns about (mid-thigh to the
knee or hip, the pelvis's side to its axis), m: what the segment's own rotation can accelerate it
by is at most this times its angular acceleration and squared rate."""


def impact_mps2(w: FloatArray) -> float:
    """Largest high-frequency acceleration of buffer rows ``w`` that the segment's own rotation does
    not explain, m/s²: ``C_H`` less ``LEVER_M · (|dω/dt| + |ω|²)`` (an explosive lift's 0.2 s turn
    accelerates a thigh sensor by 30-50 m/s²; a heel strike or a bump comes without such a turn)."""
    hf = w[:, C_H]
    if w.shape[0] < 3:
        return float(np.max(hf)) if hf.size else 0.0
    g, t = w[:, C_G], w[:, C_T]
    dt = np.maximum(t[2:] - t[:-2], 1e-6)
    alpha = np.empty(w.shape[0])
    alpha[1:-1] = np.linalg.norm(g[2:] - g[:-2], axis=1) / dt
    alpha[0], alpha[-1] = alpha[1], alpha[-2]
    spin = np.einsum("ij,ij->i", g, g)
    return float(np.max(hf - LEVER_M * (alpha + spin)))


def calm_rest(w: FloatArray, a: int, b: int) -> Rest:
    """A start position at the calm block ``w`` (absolute indices ``a:b``)."""
    return Rest(
        unit(w[:, C_U].sum(axis=0)),
        a,
        b - 1,
        float(w[0, C_T]),
        float(w[-1, C_T]),
        calm=True,
    )


def rep_confidence(
    *,
    rom_ratio: float,
    off_axis: float,
    max_off_axis: float,
    axis_dev_deg: float,
    max_axis_deg: float,
    impact: bool,
    settled: bool,
    min_rep_fraction: float,
) -> float:
    """How sure the count is of this rep, 0..1: the weakest of the pieces of evidence.

    * range: 1 from 60 % of the set's median range, falling to 0 at ``min_rep_fraction``;
    * rotation about one axis: 1 up to half of ``max_off_axis`` off-axis energy, 0 at it;
    * axis agreement with the set: 1 up to half of ``max_axis_deg``, 0 at it;
    * an impact during the rep: at most 0.6; a rep that ended by settling (not back at the
      bottom, no turn): at most 0.8.
    """
    f_rom = min(1.0, max(0.0, (rom_ratio - min_rep_fraction) / max(0.6 - min_rep_fraction, 1e-6)))
    f_off = min(1.0, max(0.0, (max_off_axis - off_axis) / (0.5 * max_off_axis)))
    f_dev = min(1.0, max(0.0, (max_axis_deg - axis_dev_deg) / (0.5 * max_axis_deg)))
    conf = min(f_rom, f_off, f_dev, 0.6 if impact else 1.0, 0.8 if settled else 1.0)
    return round(conf, 3)
