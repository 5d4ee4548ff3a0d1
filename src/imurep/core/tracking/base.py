"""What every tracker shares: its interface, the signals it is fed, markers, sides and retention.

A *tracker* turns the per-sample signals of the pipeline (up vector, angular rate, impacts,
smoothed angular speed) into sets and reps (:class:`~imurep.core.tracking.reps.SetTracker`) or
into bridges and leg lifts (:class:`~imurep.core.tracking.lifts.LiftTracker`).  Both implement
:class:`Tracker`; the pieces they have in common live here, written once:

* :class:`MarkerQueue` -- the lifter's markers (new set, side switch), applied when the block
  holding their time is processed (so offline replay and live use give the same result);
* :class:`SideSchedule` -- the working side of each set (from the settings, overridden by markers);
* :class:`QuietRun` -- following a quiet posture (mean up vector of a run of quiet samples that
  does not drift);
* :data:`RETAIN_S` / :data:`TRACE_AFTER_S` -- how far back any look-back may reach, which bounds
  memory and keeps what is retained independent of chunking.

All vectors are in the sensor frame; ``up`` is the unit vector opposite to gravity's pull.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

from imurep.core.metrics import unit
from imurep.model.events import Event, Marker
from imurep.model.results import SetResult
from imurep.model.samples import FloatArray

RETAIN_S = 40.0
"""Samples this recent are always kept; no look-back of a tracker reaches further, s."""

TRACE_AFTER_S = 3.0
"""How long after a set's last rep its trace (angles over time, for plots) goes on, s."""


@dataclass(frozen=True, eq=False)
class BlockSignals:
    """The pipeline's per-sample signals over consecutive whole blocks of its time grid.

    Attributes
    ----------
    t_s
        Sample times, shape ``(n,)``, s, recording time base.
    up
        Unit up vectors, shape ``(n, 3)``, sensor frame.
    gyr_rads
        Bias-corrected angular rate, shape ``(n, 3)``, rad/s, sensor frame.
    acc_hf_mps2
        Magnitude of the high-frequency part of the specific force (impacts), shape ``(n,)``, m/s².
    speed_rads
        Smoothed angular speed, shape ``(n,)``, rad/s.
    block_starts
        Index of the first sample of each block, shape ``(m,)``, starting with 0.
    acc_up_mps2
        Vertical specific force less gravity (the sensor's vertical acceleration, up positive),
        shape ``(n,)``, m/s²; None when not given.
    """

    t_s: FloatArray
    up: FloatArray
    gyr_rads: FloatArray
    acc_hf_mps2: FloatArray
    speed_rads: FloatArray
    block_starts: NDArray[np.intp]
    acc_up_mps2: FloatArray | None = None

    def blocks(self) -> list[tuple[int, int]]:
        """``(start, stop)`` sample indices of each block."""
        stops = np.append(self.block_starts[1:], self.t_s.shape[0])
        return list(zip(self.block_starts.tolist(), stops.tolist(), strict=True))


@runtime_checkable
class Tracker(Protocol):
    """The interface of a tracker, as the pipeline drives it.

    Contract (tested for every tracker in ``tests/core/test_tracker_contract.py``): events come in
    time order; a set is announced (``SetStarted``) before its reps, its reps before its end
    (``SetEnded`` or ``SetDiscarded``); set indices count up from 1 without holes among the sets
    kept; results do not depend on how the stream is cut into blocks' batches; a marker ends the
    open set when the block holding its time is processed; :meth:`finish` closes what is open and
    a second call returns nothing; memory is bounded by :data:`RETAIN_S` plus the open set.
    """

    sets: list[SetResult]
    """Final results of the sets ended so far, in order."""

    def update(self, signals: BlockSignals) -> list[Event]:
        """Process consecutive whole blocks; return the events they completed."""
        ...

    def mark(self, marker: Marker) -> None:
        """Register a lifter's marker; it takes effect when its time is processed."""
        ...

    def finish(self) -> list[Event]:
        """End of stream: complete what is pending and close the open set."""
        ...


class MarkerQueue:
    """The lifter's markers not yet applied, in time order."""

    def __init__(self) -> None:
        self._pending: list[Marker] = []

    def __bool__(self) -> bool:
        return bool(self._pending)

    def add(self, marker: Marker) -> None:
        """Queue ``marker`` (markers may be registered in any order)."""
        self._pending.append(marker)
        self._pending.sort(key=lambda m: m.t_s)

    def due(self, t_now_s: float) -> list[Marker]:
        """Remove and return the markers at or before ``t_now_s`` (s), oldest first."""
        k = 0
        while k < len(self._pending) and self._pending[k].t_s <= t_now_s:
            k += 1
        out, self._pending = self._pending[:k], self._pending[k:]
        return out


class SideSchedule:
    """The working side of each set: ``sides[i]`` for the i-th set (the last repeats), until a side
    marker sets it for every later set.

    Parameters
    ----------
    sides
        Side of each set in order; ``None`` entries (or an empty tuple) mean unknown.
    """

    def __init__(self, sides: tuple[str | None, ...]) -> None:
        self.sides: tuple[str | None, ...] = sides or (None,)
        self.override: str | None = None
        """The side set by the last side marker (None: none yet)."""

    def apply(self, marker: Marker) -> None:
        """Take a side marker into account (other markers change nothing)."""
        if marker.kind == "side":
            self.override = marker.side

    def side_of(self, n_before: int) -> str | None:
        """Side of the set that follows ``n_before`` earlier ones."""
        if self.override is not None:
            return self.override
        return self.sides[min(n_before, len(self.sides) - 1)]


class QuietRun:
    """Follows a quiet posture: the mean up vector of a run of quiet samples.

    A run ends (and a new one starts with the next quiet sample) at a non-quiet sample, or when the
    up vector leaves the run's mean direction by more than ``drift_deg``: slow movement is not rest.

    Parameters
    ----------
    drift_deg
        Largest angle between a sample's up vector and the run's mean, degrees.
    """

    def __init__(self, drift_deg: float) -> None:
        self._cos_drift = math.cos(math.radians(drift_deg))
        self.sum = [0.0, 0.0, 0.0]
        """Sum of the run's up vectors (sensor frame)."""
        self.n = 0
        """Samples in the run (0: no run)."""
        self.t_start_s = 0.0
        self.i_start = 0

    def reset(self) -> None:
        """End the run."""
        self.n = 0

    def add(self, ux: float, uy: float, uz: float, t_s: float, i: int) -> None:
        """Add a quiet sample (up vector components, time in s, absolute index)."""
        qs = self.sum
        if self.n > 0:
            dot = ux * qs[0] + uy * qs[1] + uz * qs[2]
            if dot < self._cos_drift * math.sqrt(qs[0] * qs[0] + qs[1] * qs[1] + qs[2] * qs[2]):
                self.n = 0
        if self.n == 0:
            self.t_start_s, self.i_start = t_s, i
            self.sum = [ux, uy, uz]
        else:
            qs[0] += ux
            qs[1] += uy
            qs[2] += uz
        self.n += 1

    def posture(self) -> FloatArray:
        """Unit mean up vector of the run, shape ``(3,)``, sensor frame."""
        return unit(np.array(self.sum))
