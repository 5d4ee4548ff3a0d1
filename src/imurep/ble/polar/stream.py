"""PMD ACC + GYRO data frames -> :class:`~imurep.model.samples.ImuChunk` s and gaps (pure, no bleak).

Each frame carries the device time of its *last* sample (ns); earlier samples are one period
apart, the period being ``1 / rate`` refined from the device timestamps of consecutive frames.
A frame whose timestamp is more than its own samples after the previous one means whole frames
were lost: the number of missing samples is ``round(dt / period) - n`` (exact while the period
estimate is better than half a sample over the gap).  The accelerometer and gyroscope streams are
paired on the device clock (:class:`~imurep.ble.timebase.PairMerger`), then mapped to the host
clock by a lower-envelope fit (:class:`~imurep.ble.timebase.HostTimeline`).
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

import numpy as np

from imurep.ble.polar import pmd
from imurep.ble.timebase import HostTimeline, Item, PairMerger, coalesce, to_host_items
from imurep.model.errors import ProtocolError
from imurep.model.samples import ImuChunk

FloatArray = np.ndarray


@dataclass
class PolarStats:
    """Running counters of a :class:`PmdImuDecoder`."""

    frames: int = 0
    samples: int = 0
    gaps: int = 0
    lost_samples: int = 0
    duplicates: int = 0
    malformed: int = 0
    unknown: int = 0
    segments: int = 0


class _Stream:
    """Timing of one measurement stream (device clock, ns)."""

    def __init__(self, rate_hz: float, window: int = 64) -> None:
        self.nominal_ns = 1e9 / rate_hz
        self.period_ns = self.nominal_ns
        self.prev_ns: int | None = None
        self._dt: deque[tuple[int, int]] = deque(maxlen=window)

    def place(self, ts_ns: int, n: int) -> tuple[FloatArray | None, int, int]:
        """``(sample times ns or None for a stale frame, missing before it, samples to skip)``."""
        missing = 0
        skip = 0
        if self.prev_ns is not None:
            dt = ts_ns - self.prev_ns
            k = round(dt / self.period_ns)
            if k <= 0:
                return None, 0, n
            if k < n:
                skip = n - k  # overlaps samples already received
            elif k > n:
                missing = k - n
            else:
                self._dt.append((dt, n))
                tot_dt = sum(d for d, _ in self._dt)
                tot_n = sum(c for _, c in self._dt)
                est = tot_dt / tot_n
                if 0.9 * self.nominal_ns <= est <= 1.1 * self.nominal_ns:
                    self.period_ns = est
        self.prev_ns = ts_ns
        times = ts_ns - self.period_ns * np.arange(n - 1, -1, -1, dtype=np.float64)
        return times, missing, skip


class PmdImuDecoder:
    """ACC + GYRO PMD frames to chunks on the host clock.

    Parameters
    ----------
    acc_rate_hz, gyro_rate_hz
        Sample rates the measurements were started with, Hz.
    acc_factor, gyro_factor
        FACTOR of the start responses (1.0 when the response had none).
    """

    def __init__(
        self, acc_rate_hz: float, gyro_rate_hz: float, acc_factor: float = 1.0, gyro_factor: float = 1.0
    ) -> None:
        self.acc_rate_hz = acc_rate_hz
        self.gyro_rate_hz = gyro_rate_hz
        self.acc_factor = acc_factor
        self.gyro_factor = gyro_factor
        self.stats = PolarStats()
        self.timeline = HostTimeline()
        self._ref_ns: int | None = None
        self._acc = _Stream(acc_rate_hz)
        self._gyro = _Stream(gyro_rate_hz)
        self._merger = PairMerger(hold_s=0.5 / gyro_rate_hz)
        self._reconnect_pending = False

    def configure(self, acc_factor: float, gyro_factor: float) -> None:
        """New factors (after a restart of the measurements)."""
        self.acc_factor = acc_factor
        self.gyro_factor = gyro_factor

    def new_segment(self) -> None:
        """The measurements restarted (reconnect): the device clock goes on, so the gap is exact."""
        self._reconnect_pending = True
        self._merger.gyro_break()
        self.stats.segments += 1

    def _dev_s(self, ns: float) -> float:
        assert self._ref_ns is not None
        return (ns - self._ref_ns) / 1e9

    def feed(self, data: bytes | bytearray, host_s: float) -> list[Item]:
        """Decode one data notification received at ``host_s`` (host clock, s).

        Raises
        ------
        ProtocolError
            A malformed ACC/GYRO frame (state unchanged, counted).
        """
        try:
            frame = pmd.parse_frame(data)
            if frame.measurement_type == pmd.MeasurementType.ACC:
                values = pmd.acc_mps2(frame, self.acc_factor)
                stream = self._acc
            elif frame.measurement_type == pmd.MeasurementType.GYRO:
                values = pmd.gyro_rads(frame, self.gyro_factor)
                stream = self._gyro
            else:
                self.stats.unknown += 1
                return []
        except ProtocolError:
            self.stats.malformed += 1
            raise
        n = values.shape[0]
        if n == 0:
            return []
        self.stats.frames += 1
        if self._ref_ns is None:
            self._ref_ns = frame.timestamp_ns
        times, missing, skip = stream.place(frame.timestamp_ns, n)
        if times is None:
            self.stats.duplicates += 1
            return []
        t_s = np.array([self._dev_s(x) for x in times])
        if skip:
            t_s, values = t_s[skip:], values[skip:]
        self.timeline.observe(float(t_s[-1]), host_s)
        reason = "reconnect" if self._reconnect_pending else "lost"
        if stream is self._acc:
            if missing:
                gap_t = float(t_s[0]) - missing * stream.period_ns / 1e9
                self._merger.acc_gap(gap_t, missing, reason)
                self.stats.gaps += 1
                self.stats.lost_samples += missing
            self._reconnect_pending = False
            self._merger.add_acc(t_s, values)
        else:
            if missing:
                self._merger.gyro_break()
            self._merger.add_gyro(t_s, values)
        return self._drain()

    def _drain(self, *, final: bool = False) -> list[Item]:
        dropped, runs = self._merger.dropped, self._merger.dropped_runs
        items = to_host_items(self._merger.pop(final=final), self.timeline)
        self.stats.gaps += self._merger.dropped_runs - runs
        self.stats.lost_samples += self._merger.dropped - dropped
        self.stats.samples += sum(len(i) for i in items if isinstance(i, ImuChunk))
        return items

    def feed_many(self, batch: list[tuple[bytes, float]]) -> list[Item]:
        """:meth:`feed` every notification (malformed ones skipped) and join the chunks."""
        items: list[Item] = []
        for data, host in batch:
            try:
                items.extend(self.feed(data, host))
            except ProtocolError:
                continue
        return coalesce(items)

    def flush(self) -> list[Item]:
        """The stream ended: pair what is left."""
        return coalesce(self._drain(final=True))

    @property
    def pending_samples(self) -> int:
        """Accelerometer samples waiting for gyroscope data."""
        return self._merger.pending

    @property
    def acc_period_s(self) -> float:
        """Estimated accelerometer sample period on the device clock, s."""
        return self._acc.period_ns / 1e9 if math.isfinite(self._acc.period_ns) else math.nan
