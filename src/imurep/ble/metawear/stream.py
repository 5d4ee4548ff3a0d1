"""MetaWear notifications -> :class:`~imurep.model.samples.ImuChunk` s and gaps (pure, no bleak).

Two stream modes:

``fused`` (:class:`FusedStreamDecoder`)
    One notification per sample, ``[0x09, 0x03, id, count u32, acc xyz, gyro xyz]`` (19 bytes),
    from the processor chain ``gyro -> buffer``, ``acc -> fuser(buffer) -> accounter(count)``.
    The counter is incremented by the board for every sample, also for those it could not send,
    so gaps are counted exactly; sample times are ``count / rate`` on the board's IMU clock, mapped
    to the host clock by a lower-envelope fit (which also follows the IMU's rate error).
``packed`` (:class:`PackedStreamDecoder`)
    The packed acc and packed gyro registers, 3 samples per notification each (up to 800 Hz with
    fewer notifications).  They carry no counter or time stamp, so each stream is timed by the
    configured rate and gaps are *estimated* from late arrivals (reason ``"lost-estimated"``,
    only gaps longer than ``gap_tolerance_s`` are seen); gyroscope values are interpolated at the
    accelerometer sample times.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from imurep.ble.decoder import StreamGap
from imurep.ble.metawear import protocol as mw
from imurep.ble.timebase import DeviceGap, HostTimeline, Item, PairMerger, coalesce, to_host_items
from imurep.model.errors import ProtocolError
from imurep.model.samples import ImuChunk

U32 = 1 << 32
FloatArray = NDArray[np.float64]


def _signed32(v: int) -> int:
    v %= U32
    return v - U32 if v >= 1 << 31 else v


@dataclass
class MetaWearStats:
    """Running counters of a MetaWear stream decoder."""

    notifications: int = 0
    samples: int = 0
    gaps: int = 0
    lost_samples: int = 0
    estimated_lost_samples: int = 0
    duplicates: int = 0
    malformed: int = 0
    unknown: int = 0
    segments: int = 0


class FusedStreamDecoder:
    """Decoder of the fused + counted stream (exact gaps).

    Parameters
    ----------
    config
        The IMU configuration in force (rate and ranges).
    processor_id
        Id of the accounter processor whose notifications carry the samples.
    """

    def __init__(self, config: mw.ImuConfig, processor_id: int) -> None:
        self.config = config
        self.processor_id = processor_id
        self.stats = MetaWearStats()
        self.timeline = HostTimeline()
        self._period = 1.0 / config.rate_hz
        self._last_raw: int | None = None
        self._count = 0  # unwrapped count of the last sample
        self._offset = 0  # device index = unwrapped count + offset (continues across segments)
        self._last_dev_s: float | None = None
        self._segment_pending = False

    def new_segment(self, processor_id: int | None = None) -> None:
        """The processors were re-created (reconnect): the counter restarts, the time base goes on."""
        if processor_id is not None:
            self.processor_id = processor_id
        self._last_raw = None
        self._segment_pending = self._last_dev_s is not None
        self.stats.segments += 1

    def feed(self, data: bytes | bytearray, host_s: float) -> list[Item]:
        """Decode one notification received at ``host_s`` (host clock, s).

        Notifications of other modules or processors return ``[]`` (counted as unknown).

        Raises
        ------
        ProtocolError
            A notification of the stream's processor is malformed (state unchanged).
        """
        if (
            len(data) < 3
            or data[0] != mw.Module.DATA_PROCESSOR
            or data[1] != mw.DP_NOTIFY
            or data[2] != self.processor_id
        ):
            self.stats.unknown += 1
            return []
        try:
            _, raw, acc, gyr = mw.parse_fused(data)
        except ProtocolError:
            self.stats.malformed += 1
            raise
        self.stats.notifications += 1
        out: list[Item] = []
        if self._last_raw is None:
            count = raw
            if self._segment_pending and self._last_dev_s is not None:
                self._segment_pending = False
                # Estimate how long the link was down from the host clock.
                dev_now = self._last_dev_s + (host_s - self.timeline.predict(self._last_dev_s))
                missing = max(0, round((dev_now - self._last_dev_s) / self._period) - 1)
                index_last = round(self._last_dev_s / self._period)
                self._offset = index_last + 1 + missing - count
                if missing:
                    out.append(
                        StreamGap(
                            self.timeline.gap_time(self._last_dev_s + self._period), missing, "reconnect"
                        )
                    )
                    self.stats.gaps += 1
                    self.stats.lost_samples += missing
            elif self._last_dev_s is None:
                self._offset = -count
        else:
            count = self._count + _signed32(raw - self._last_raw)
            if count <= self._count:
                self.stats.duplicates += 1
                return []
            missing = count - self._count - 1
            if missing:
                t_gap = self.timeline.gap_time((self._count + 1 + self._offset) * self._period)
                out.append(StreamGap(t_gap, missing, "lost"))
                self.stats.gaps += 1
                self.stats.lost_samples += missing
        self._last_raw = raw
        self._count = count
        dev_s = (count + self._offset) * self._period
        self.timeline.observe(dev_s, host_s)
        t = self.timeline.to_host(np.array([dev_s]), min_step_s=min(self._period, 1e-3) * 0.5)
        self._last_dev_s = dev_s
        cfg = self.config
        out.append(
            ImuChunk(
                t, acc.astype(np.float64) * cfg.acc_scale_mps2, gyr.astype(np.float64) * cfg.gyro_scale_rads
            )
        )
        self.stats.samples += 1
        return out

    def feed_many(self, batch: list[tuple[bytes, float]]) -> list[Item]:
        """:meth:`feed` every notification (malformed ones skipped) and join the chunks."""
        items: list[Item] = []
        for data, host in batch:
            try:
                items.extend(self.feed(data, host))
            except ProtocolError:
                continue
        return coalesce(items)


class _PackedStream:
    """Sample index of one packed stream, from the count of samples received (+ estimated gaps)."""

    def __init__(self, rate_hz: float, tolerance_s: float, timeline: HostTimeline) -> None:
        self.period = 1.0 / rate_hz
        self.tolerance_s = tolerance_s
        self.timeline = timeline
        self.next_index = 0
        self.observations = 0
        self.first_host: float | None = None

    def place(self, n: int, host_s: float, origin_s: float | None) -> tuple[FloatArray, int]:
        """Device times of the next ``n`` samples and the samples estimated missing before them.

        ``origin_s`` is the host time of the other stream's first notification: a stream that
        starts later starts at the index its arrival time implies (the sensors are started by
        separate commands).
        """
        missing = 0
        if self.first_host is None:
            self.first_host = host_s
            if origin_s is not None:
                self.next_index = max(0, round((host_s - origin_s) / self.period))
        dev_last = (self.next_index + n - 1) * self.period
        if self.observations >= 16 and host_s - self.first_host >= 1.0:
            excess = host_s - self.timeline.predict(dev_last)
            if excess > self.tolerance_s:
                missing = round(excess / self.period)
                self.next_index += missing
        dev = ((self.next_index + np.arange(n)) * self.period).astype(np.float64)
        self.next_index += n
        self.timeline.observe(float(dev[-1]), host_s)
        self.observations += 1
        return dev, missing


class PackedStreamDecoder:
    """Decoder of the packed acc + packed gyro streams (timing from the configured rate).

    Both sensors of the IMU sample on one clock at the same rate, so sample ``k`` of the
    accelerometer and sample ``k`` of the gyroscope are taken together: both streams are placed
    on one device time base ``k / rate`` (one host timeline) and paired there.

    Parameters
    ----------
    config
        The IMU configuration in force.
    gap_tolerance_s
        A notification arriving this much later (s) than its samples' expected time means
        notifications were lost (BLE latency jitter below this is tolerated).
    """

    def __init__(self, config: mw.ImuConfig, gap_tolerance_s: float = 0.15) -> None:
        self.config = config
        self.gap_tolerance_s = gap_tolerance_s
        self.stats = MetaWearStats()
        self._acc_reg = (mw.Module.ACC, mw.ACC_PACKED[config.acc_chip])
        self._gyro_reg = (mw.Module.GYRO, mw.GYRO_PACKED[config.gyro_chip])
        self._segment_after: float | None = None
        self._reset_streams()

    def _reset_streams(self) -> None:
        previous = getattr(self, "timeline", None)
        self.timeline = HostTimeline()
        if previous is not None:
            self.timeline.follow(previous)
        self._acc = _PackedStream(self.config.rate_hz, self.gap_tolerance_s, self.timeline)
        self._gyro = _PackedStream(self.config.rate_hz, self.gap_tolerance_s, self.timeline)
        self._merger = PairMerger(hold_s=0.5 / self.config.rate_hz)

    def new_segment(self) -> None:
        """Streaming restarted (reconnect): both streams restart their sample index.

        The samples missed while the link was down are estimated from the host clock and
        reported (reason ``"reconnect"``) before the first sample of the new segment.
        """
        self._merger.pop(final=True)  # what could be paired went out with the last batch
        self._segment_after = self.timeline.last_host_s
        self._reset_streams()
        self.stats.segments += 1

    def feed(self, data: bytes | bytearray, host_s: float) -> list[Item]:
        """Decode one notification received at ``host_s``; returns what can be paired so far."""
        key = (data[0], data[1]) if len(data) >= 2 else None
        if key not in (self._acc_reg, self._gyro_reg):
            self.stats.unknown += 1
            return []
        if (len(data) - 2) % 6 or len(data) <= 2:
            self.stats.malformed += 1
            raise ProtocolError(
                bytes(data), f"packed data must carry whole xyz samples, got {len(data) - 2} bytes"
            )
        counts = mw.xyz_counts(data[2:]).astype(np.float64)
        self.stats.notifications += 1
        cfg = self.config
        out: list[Item] = []
        if self._segment_after is not None and self._acc.first_host is None and self._gyro.first_host is None:
            last, self._segment_after = self._segment_after, None
            n = counts.shape[0]
            missing = max(0, round((host_s - last) * cfg.rate_hz) - n)
            if missing and last > -math.inf:
                out.append(StreamGap(last + 1.0 / cfg.rate_hz, missing, "reconnect"))
                self.stats.gaps += 1
                self.stats.lost_samples += missing
        if key == self._acc_reg:
            dev, missing = self._acc.place(counts.shape[0], host_s, self._gyro.first_host)
            if missing:
                self._merger.acc_gap(float(dev[0]) - missing * self._acc.period, missing, "lost-estimated")
                self.stats.estimated_lost_samples += missing
            self._merger.add_acc(dev, counts * cfg.acc_scale_mps2)
        else:
            dev, missing = self._gyro.place(counts.shape[0], host_s, self._acc.first_host)
            if missing:
                self._merger.gyro_break()
            self._merger.add_gyro(dev, counts * cfg.gyro_scale_rads)
        return out + self._drain()

    def _drain(self, *, final: bool = False) -> list[Item]:
        dropped = self._merger.dropped
        raw = self._merger.pop(final=final)
        items = to_host_items(raw, self.timeline)
        self.stats.gaps += sum(1 for it in raw if isinstance(it, DeviceGap))
        self.stats.lost_samples += self._merger.dropped - dropped
        self.stats.samples += sum(len(it) for it in items if isinstance(it, ImuChunk))
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
