"""Time bases shared by the vendor-sensor decoders (pure: numpy only, no bleak, no asyncio).

* :class:`HostTimeline` maps a device clock (s) to the host clock (s) with the lower-envelope fit
  of :class:`imurep.ble.protocol.ClockMapper` (it removes BLE latency jitter and follows clock
  drift) and keeps every sample time it hands out strictly increasing.
* :class:`PairMerger` pairs an accelerometer stream with a gyroscope stream that arrive in
  separate notifications (Polar PMD, MetaWear packed data): gyroscope values are interpolated
  linearly at the accelerometer sample times, never across a gap.  Accelerometer samples without
  gyroscope data around them are dropped and reported as a gap, so every sample that comes out
  has both.
* :func:`coalesce` joins consecutive chunks (a decoder may produce one per notification).

Items in a device time base are :class:`DeviceChunk` and :class:`DeviceGap`; the decoders turn
them into :class:`~imurep.model.samples.ImuChunk` and :class:`~imurep.ble.protocol.StreamGap` on
the host time base.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from imurep.ble.decoder import ClockMapper, StreamGap
from imurep.model.samples import ImuChunk

FloatArray = NDArray[np.float64]
Item = ImuChunk | StreamGap


class HostTimeline:
    """Device seconds -> host seconds, strictly increasing across everything handed out.

    Feed one :meth:`observe` per notification (device time of its last sample, host receive
    time), then map sample times with :meth:`to_host`.
    """

    def __init__(self) -> None:
        self.clock = ClockMapper()
        self._last_host = -math.inf

    @property
    def drift_ppm(self) -> float:
        """Estimated host-minus-device clock rate difference, ppm."""
        return self.clock.drift_ppm

    @property
    def ready(self) -> bool:
        """At least one observation was made."""
        return self.clock.offset_s is not None

    def observe(self, dev_s: float, host_s: float) -> None:
        """The notification carrying the sample taken at ``dev_s`` arrived at ``host_s``."""
        self.clock.add(dev_s, host_s)

    def predict(self, dev_s: float) -> float:
        """Host time of device time ``dev_s`` by the current fit (no monotonic adjustment)."""
        return float(self.clock.to_host(np.array([dev_s]))[0])

    def to_host(self, dev_s: FloatArray, min_step_s: float = 1e-4) -> FloatArray:
        """Host times of samples taken at ``dev_s`` (shape ``(n,)``, increasing), s."""
        t = self.clock.to_host(np.asarray(dev_s, dtype=np.float64))
        if t.size and t[0] <= self._last_host:
            t = t + (self._last_host - t[0] + min_step_s)
        if t.size:
            self._last_host = float(t[-1])
        return t

    def gap_time(self, dev_s: float) -> float:
        """Host time of the first missing sample (never before what was already handed out), s."""
        return max(self.predict(dev_s), self._last_host)

    @property
    def last_host_s(self) -> float:
        """Host time of the last sample handed out (``-inf`` before the first), s."""
        return self._last_host

    def reset(self) -> None:
        """Forget the clock fit (the device clock restarted); output stays increasing."""
        self.clock.reset()

    def follow(self, previous: HostTimeline) -> None:
        """Continue after ``previous`` (a new device time base): never hand out an earlier time."""
        self._last_host = max(self._last_host, previous._last_host)


@dataclass(frozen=True, eq=False)
class DeviceChunk:
    """Samples on a device (or any common) time base: ``t_s (n,)``, ``acc_mps2``/``gyr_rads (n, 3)``."""

    t_s: FloatArray
    acc_mps2: FloatArray
    gyr_rads: FloatArray


@dataclass(frozen=True)
class DeviceGap:
    """``n_samples`` missing from ``t_s`` on (same time base as :class:`DeviceChunk`)."""

    t_s: float
    n_samples: int
    reason: str


DeviceItem = DeviceChunk | DeviceGap


@dataclass
class _Segment:
    t: FloatArray
    v: FloatArray
    closed: bool = False


class PairMerger:
    """Accelerometer samples paired with gyroscope values interpolated at their times.

    Parameters
    ----------
    hold_s
        How far (s) an accelerometer sample may lie outside the span of gyroscope samples around
        it and still take the nearest one (about one gyroscope period: the two sensors of one IMU
        sample at slightly different instants).
    max_wait_s
        Accelerometer samples more than this far (s) ahead of the newest gyroscope sample are
        given up (dropped as a gap) instead of waiting for ever.
    """

    def __init__(self, hold_s: float, max_wait_s: float = 2.0) -> None:
        if not hold_s > 0:
            raise ValueError("hold_s must be positive")
        self.hold_s = hold_s
        self.max_wait_s = max_wait_s
        self._acc: deque[DeviceGap | tuple[FloatArray, FloatArray]] = deque()
        self._gyro: list[_Segment] = []
        self.dropped = 0
        """Accelerometer samples dropped so far for want of gyroscope data."""
        self.dropped_runs = 0
        """Gaps reported for those."""
        self._last_acc_t = -math.inf

    # -- input ---------------------------------------------------------------------------------

    def add_acc(self, t_s: FloatArray, acc_mps2: FloatArray) -> None:
        """Accelerometer samples (increasing times; shapes ``(n,)`` and ``(n, 3)``)."""
        if len(t_s):
            self._acc.append((np.asarray(t_s, dtype=np.float64), np.asarray(acc_mps2, dtype=np.float64)))

    def acc_gap(self, t_s: float, n_samples: int, reason: str) -> None:
        """The accelerometer stream lost ``n_samples`` from ``t_s`` on (reported in order)."""
        self._acc.append(DeviceGap(t_s, n_samples, reason))

    def add_gyro(self, t_s: FloatArray, gyr_rads: FloatArray) -> None:
        """Gyroscope samples (continuing the current segment unless :meth:`gyro_break` was called)."""
        t = np.asarray(t_s, dtype=np.float64)
        v = np.asarray(gyr_rads, dtype=np.float64)
        if not t.size:
            return
        if self._gyro and not self._gyro[-1].closed:
            seg = self._gyro[-1]
            keep = t > seg.t[-1]
            seg.t = np.concatenate([seg.t, t[keep]])
            seg.v = np.concatenate([seg.v, v[keep]])
        else:
            self._gyro.append(_Segment(t, v))

    def gyro_break(self) -> None:
        """The gyroscope stream has a gap: never interpolate across it."""
        if self._gyro:
            self._gyro[-1].closed = True

    # -- output --------------------------------------------------------------------------------

    def pop(self, *, final: bool = False) -> list[DeviceItem]:
        """Everything that can be paired now (``final``: the streams ended, flush what can be)."""
        out: list[DeviceItem] = []
        newest = self._gyro[-1].t[-1] if self._gyro else None
        while self._acc:
            head = self._acc[0]
            if isinstance(head, DeviceGap):
                self._acc.popleft()
                out.append(head)
                continue
            t, acc = head
            limit = -math.inf if newest is None else newest + self.hold_s
            if (
                not final
                and self._newest_acc() - max(t[0] if newest is None else newest, t[0]) > self.max_wait_s
            ):
                limit = math.inf  # give up on these: no gyroscope data is coming for them
            ready = int(np.searchsorted(t, limit, side="right")) if not final else t.size
            if ready == 0:
                break
            out.extend(self._pair(t[:ready], acc[:ready], end_of_stream=final))
            self._last_acc_t = float(t[ready - 1])
            if ready < t.size:
                self._acc[0] = (t[ready:], acc[ready:])
                break
            self._acc.popleft()
        self._trim()
        return out

    def _newest_acc(self) -> float:
        for x in reversed(self._acc):
            if not isinstance(x, DeviceGap):
                return float(x[0][-1])
        return -math.inf

    def _pair(self, t: FloatArray, acc: FloatArray, *, end_of_stream: bool) -> list[DeviceItem]:
        gyr = np.full((t.size, 3), np.nan)
        for seg in self._gyro:
            lo, hi = seg.t[0] - self.hold_s, seg.t[-1] + self.hold_s
            sel = (t >= lo) & (t <= hi) & np.isnan(gyr[:, 0])
            if sel.any():
                for k in range(3):
                    gyr[sel, k] = np.interp(t[sel], seg.t, seg.v[:, k])
        ok = ~np.isnan(gyr[:, 0])
        newest = self._gyro[-1].t[-1] if self._gyro else -math.inf
        out: list[DeviceItem] = []
        edges = np.flatnonzero(np.diff(ok.astype(np.int8))) + 1
        for run in np.split(np.arange(t.size), edges):
            if not run.size:
                continue
            if ok[run[0]]:
                out.append(DeviceChunk(t[run], acc[run], gyr[run]))
            elif end_of_stream and run[-1] == t.size - 1 and t[run[0]] > newest:
                continue  # the streams ended: samples after the last gyroscope sample are not "lost"
            else:
                self.dropped += int(run.size)
                self.dropped_runs += 1
                out.append(DeviceGap(float(t[run[0]]), int(run.size), "lost"))
        return out

    def _trim(self) -> None:
        if not self._gyro:
            return
        if self._acc:
            head = self._acc[0]
            oldest = head.t_s if isinstance(head, DeviceGap) else float(head[0][0])
        elif math.isfinite(self._last_acc_t):
            oldest = self._last_acc_t  # the next accelerometer sample comes after this one
        else:
            return
        keep_from = oldest - 4 * self.hold_s
        self._gyro = [s for s in self._gyro[:-1] if s.t[-1] >= keep_from] + self._gyro[-1:]
        last = self._gyro[-1]
        k = int(np.searchsorted(last.t, keep_from)) - 1
        if k > 0:
            last.t = last.t[k:]
            last.v = last.v[k:]

    @property
    def pending(self) -> int:
        """Accelerometer samples waiting for gyroscope data."""
        return sum(len(x[0]) for x in self._acc if not isinstance(x, DeviceGap))


def coalesce(items: list[Item]) -> list[Item]:
    """Join consecutive chunks into one (gaps stay where they are)."""
    out: list[Item] = []
    run: list[ImuChunk] = []

    def flush() -> None:
        if len(run) == 1:
            out.append(run[0])
        elif run:
            out.append(
                ImuChunk(
                    np.concatenate([c.t_s for c in run]),
                    np.concatenate([c.acc_mps2 for c in run]),
                    np.concatenate([c.gyr_rads for c in run]),
                )
            )
        run.clear()

    for it in items:
        if isinstance(it, ImuChunk):
            run.append(it)
        else:
            flush()
            out.append(it)
    flush()
    return out


def to_host_items(items: list[DeviceItem], timeline: HostTimeline) -> list[Item]:
    """Map device-time items to the host time base."""
    out: list[Item] = []
    for it in items:
        if isinstance(it, DeviceChunk):
            out.append(ImuChunk(timeline.to_host(it.t_s), it.acc_mps2, it.gyr_rads))
        else:
            out.append(StreamGap(timeline.gap_time(it.t_s), it.n_samples, it.reason))
    return out
