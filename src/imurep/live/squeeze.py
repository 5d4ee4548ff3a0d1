"""The squeeze countdown of the live screen: when the lifter holds the top of a rep, how long is left.

The tracker decides a rep's phases only when the rep ends (:class:`~imurep.model.events.RepCompleted`,
tens of ms after the bottom).  For the countdown the live session follows the current rep itself,
from what the pipeline already gives it: the samples, the gyroscope bias
(:attr:`~imurep.core.pipeline.Pipeline.gyro_bias_rads`) and each completed rep.  Each completed
rep gives the lift's rotation axis (the mean bias-free angular velocity from its start to its top)
and its range; from that rep's end on, the angular velocity about that axis is integrated.  The top
is reached when the angle is past :attr:`SqueezeSettings.top_fraction` of the set's median range
and the segment is still; the squeeze ends when it turns back down.  The first rep of a set has no
countdown (no axis yet).  This is a display aid only: every reported figure (the squeeze time
included) still comes from the tracker.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from imurep.model.results import RepResult
from imurep.model.samples import FloatArray, ImuChunk

DEG_PER_RAD = 180.0 / math.pi


@dataclass(frozen=True)
class SqueezeSettings:
    """Settings of :class:`SqueezeClock`.

    Attributes
    ----------
    target_s
        The squeeze to hold at the top, s (the exercise's ``min_top_hold_s``).
    top_fraction
        The top: past this fraction of the median range of motion of the set's reps so far (a
        partial rep gets no countdown: it did not reach the top).
    still_dps
        Still: angular speed about the lift axis below this, °/s.
    back_fraction
        The squeeze ends once the angle fell back by this fraction of the range.
    off_axis_fraction
        A top only when the rotation about other axes since the rep's end is at most this fraction
        of the angle about the lift axis (getting up or walking turns about several axes).
    max_wait_s
        A top only this soon after the last rep's end, s (a pause at the bottom is shorter; later,
        the set is over).
    history_s
        Samples kept to learn the axis of a completed rep, s (longer than a rep's lift).
    """

    target_s: float
    top_fraction: float = 0.7
    still_dps: float = 15.0
    back_fraction: float = 0.15
    off_axis_fraction: float = 0.5
    max_wait_s: float = 8.0
    history_s: float = 12.0


@dataclass
class SqueezeClock:
    """Follows the current rep between :class:`~imurep.model.events.RepCompleted` events and says
    when a squeeze at the top starts and ends (call :meth:`update` with every chunk, then
    :meth:`on_rep` for each completed rep and :meth:`on_set_end` when a set ends)."""

    settings: SqueezeSettings
    started_s: float | None = None
    """When the current squeeze started (recording time, s); None: not squeezing."""
    _axis: FloatArray | None = None
    _rom_deg: float | None = None
    _angle_deg: float = 0.0
    _peak_deg: float = 0.0
    _off_rad: FloatArray = field(default_factory=lambda: np.zeros(3))  # rotation about other axes
    _held: bool = False  # this rep's squeeze was shown already
    _t_last: float | None = None
    _end_s: float = 0.0
    _roms: list[float] = field(default_factory=list)  # ranges of the set's reps so far, degrees
    _buf: deque[tuple[FloatArray, FloatArray]] = field(default_factory=deque)

    def update(self, chunk: ImuChunk, bias_rads: FloatArray) -> str | None:
        """Feed samples; returns ``"start"`` or ``"end"`` when the squeeze starts or ends in them."""
        if len(chunk) == 0:
            return None
        gyr = chunk.gyr_rads - bias_rads
        self._buf.append((chunk.t_s, gyr))
        while self._buf and self._buf[0][0][-1] < chunk.t_s[-1] - self.settings.history_s:
            self._buf.popleft()
        if self._axis is None or self._rom_deg is None:
            self._t_last = float(chunk.t_s[-1])
            return None
        rate = (gyr @ self._axis) * DEG_PER_RAD
        t_prev = self._t_last if self._t_last is not None else float(chunk.t_s[0])
        dt = np.diff(np.concatenate(([t_prev], chunk.t_s)))
        self._t_last = float(chunk.t_s[-1])
        off = np.cumsum((gyr - np.outer(gyr @ self._axis, self._axis)) * dt[:, None], axis=0) + self._off_rad
        self._off_rad = off[-1]
        off_deg = np.linalg.norm(off, axis=1) * DEG_PER_RAD
        s = self.settings
        change = None
        for t, r, d, o in zip(chunk.t_s, rate, dt, off_deg, strict=True):
            self._angle_deg += float(r * d)
            self._peak_deg = max(self._peak_deg, self._angle_deg)
            if self.started_s is None:
                if (
                    not self._held
                    and t - self._end_s <= s.max_wait_s
                    and self._angle_deg >= s.top_fraction * self._rom_deg
                    and abs(r) < s.still_dps
                    and o <= s.off_axis_fraction * self._angle_deg
                ):
                    self.started_s, self._held, change = float(t), True, "start"
            elif self._angle_deg < self._peak_deg - s.back_fraction * self._rom_deg or r < -s.still_dps:
                self.started_s, change = None, "end"
        return change

    def on_rep(self, rep: RepResult) -> str | None:
        """A rep completed: learn its axis and range and follow the next rep from its end.
        Returns ``"end"`` when a squeeze was still showing."""
        t = np.concatenate([b[0] for b in self._buf]) if self._buf else np.empty(0)
        gyr = np.concatenate([b[1] for b in self._buf]) if self._buf else np.empty((0, 3))
        lift = (t >= rep.start_s) & (t <= rep.top_start_s)
        mean = gyr[lift].mean(axis=0) if lift.any() else np.zeros(3)
        norm = float(np.linalg.norm(mean))
        if rep.rom_deg > 0:
            self._roms.append(float(rep.rom_deg))
            self._rom_deg = float(np.median(self._roms))
        if norm > 0:
            self._axis = mean / norm
        after = t > rep.end_s
        self._angle_deg, self._off_rad = 0.0, np.zeros(3)
        if self._axis is not None and after.any():  # the samples already seen after its end
            dt = np.diff(np.concatenate(([rep.end_s], t[after])))
            g = gyr[after]
            along = g @ self._axis
            self._angle_deg = float((along * dt).sum() * DEG_PER_RAD)
            self._off_rad = ((g - np.outer(along, self._axis)) * dt[:, None]).sum(axis=0)
        self._peak_deg, self._held = self._angle_deg, False
        self._end_s = rep.end_s
        was = self.started_s is not None
        self.started_s = None
        return "end" if was else None

    def on_set_end(self) -> str | None:
        """A set ended: no countdown until the next set's first rep.  ``"end"`` when one was showing."""
        was = self.started_s is not None
        self._axis, self._rom_deg, self.started_s, self._held = None, None, None, False
        self._roms = []
        return "end" if was else None

    def remaining_s(self, t_now_s: float) -> float | None:
        """Squeeze time left at ``t_now_s`` (recording time), s (negative: held longer than the target;
        None: not squeezing)."""
        if self.started_s is None:
            return None
        return self.settings.target_s - (t_now_s - self.started_s)
