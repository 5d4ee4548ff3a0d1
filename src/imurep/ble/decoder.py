"""The imurep sensor stream decoder: frames in, SI chunks and exact gaps out (host time base).

Pure Python + numpy: no bleak, no asyncio.  The wire format it reads is
:mod:`imurep.ble.protocol` (normative description: ``firmware_protocol/PROTOCOL.md``).

* :class:`StreamDecoder` turns data-characteristic notifications into
  :class:`~imurep.model.samples.ImuChunk` s in SI units on the host time base, reports gaps
  (:class:`StreamGap`) with exact sample counts (never interpolated), drops duplicates, unwraps the
  32-bit sample index and device timestamp, and parks frames of an unknown configuration until the
  caller supplies the new :class:`~imurep.ble.protocol.DeviceInfo`.
* :class:`ClockMapper` maps the device clock to the host clock (lower-envelope linear fit over a
  sliding window, which estimates the clock drift and removes the BLE latency jitter).
"""

from __future__ import annotations

import logging
import math
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from imurep.ble.protocol import (
    STATUS_FIFO_OVERFLOW,
    U32,
    DeviceInfo,
    ImuFrame,
    StatusFrame,
    UnknownFrame,
    dequantize,
    parse_frame,
)
from imurep.model.errors import ProtocolError
from imurep.model.samples import FloatArray, ImuChunk

logger = logging.getLogger(__name__)

# --- results -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class StreamGap:
    """Samples missing from the stream (never interpolated).

    Attributes
    ----------
    t_s
        Host time of the first missing sample, s (estimated from the clock mapping).
    n_samples
        Number of missing samples: exact for ``"lost"`` and ``"overflow"``, estimated from the
        device clock for ``"reconnect"``.
    reason
        ``"lost"`` (frames never arrived), ``"overflow"`` (the firmware's FIFO overflowed and it
        said so) or ``"reconnect"`` (the link was lost and a new segment started).
    """

    t_s: float
    n_samples: int
    reason: str


@dataclass(frozen=True)
class DecodeResult:
    """What one :meth:`StreamDecoder.feed` produced.

    Attributes
    ----------
    chunks
        New samples, in order, host time base.
    gaps
        Gaps detected before (or between) those samples.
    duplicates
        Frames dropped as duplicates or stale (fully already received).
    status
        Status frames received.
    needs_info
        The frame belongs to a configuration the decoder does not know: read the info
        characteristic and call :meth:`StreamDecoder.set_info`; the frame is parked until then.
    """

    chunks: list[ImuChunk] = field(default_factory=list)
    gaps: list[StreamGap] = field(default_factory=list)
    duplicates: int = 0
    status: list[StatusFrame] = field(default_factory=list)
    needs_info: bool = False

    def items(self) -> list[ImuChunk | StreamGap]:
        """Gaps and chunks merged in time order."""
        out: list[ImuChunk | StreamGap] = [*self.gaps, *self.chunks]
        out.sort(key=lambda it: it.t_s if isinstance(it, StreamGap) else float(it.t_s[0]))
        return out


# --- clock mapping -----------------------------------------------------------------------------


class ClockMapper:
    """Device clock → host clock, ``host = dev + offset + slope * (dev - x_ref)``.

    Each frame gives one point ``(x = device time of its last sample, y = host receive time - x)``.
    Transmission latency only ever adds to ``y``, so the true mapping is the *lower envelope* of the
    points: the window is split into ``bins`` equal spans of device time, the minimum of each span
    is taken and a straight line is fitted through those minima (least squares).  ``slope`` is the
    relative clock drift (host vs. device); with less than ``min_span_s`` of data only the offset
    (minimum of ``y``) is estimated.

    Parameters
    ----------
    window
        Number of points kept (sliding window).
    refit_every
        Refit after this many new points.
    """

    def __init__(
        self, window: int = 512, refit_every: int = 8, bins: int = 8, min_span_s: float = 2.0
    ) -> None:
        self._x: deque[float] = deque(maxlen=window)
        self._y: deque[float] = deque(maxlen=window)
        self._refit_every = refit_every
        self._bins = bins
        self._min_span_s = min_span_s
        self._since_fit = 0
        self.offset_s: float | None = None
        self.slope = 0.0
        self.x_ref = 0.0

    @property
    def drift_ppm(self) -> float:
        """Estimated host-minus-device clock rate difference, parts per million."""
        return self.slope * 1e6

    def reset(self) -> None:
        """Forget all points (e.g. the device rebooted)."""
        self._x.clear()
        self._y.clear()
        self.offset_s = None
        self.slope = 0.0
        self._since_fit = 0

    def add(self, dev_s: float, host_s: float) -> None:
        """Add one observation (device time of an event, host time it was seen)."""
        y = host_s - dev_s
        self._x.append(dev_s)
        self._y.append(y)
        self._since_fit += 1
        if self.offset_s is None or self._since_fit >= self._refit_every or len(self._x) < 16:
            self._fit()
        elif y < self.offset_s + self.slope * (dev_s - self.x_ref):
            # Never map a sample to after the host saw it: lower the line at once.
            self.offset_s = y - self.slope * (dev_s - self.x_ref)

    def _fit(self) -> None:
        self._since_fit = 0
        x = np.fromiter(self._x, dtype=np.float64, count=len(self._x))
        y = np.fromiter(self._y, dtype=np.float64, count=len(self._y))
        span = float(x[-1] - x[0])
        if span < self._min_span_s:
            self.x_ref = float(x[-1])
            self.offset_s = float(y.min())
            self.slope = 0.0
            return
        edges = np.linspace(x[0], x[-1], self._bins + 1)
        which = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, self._bins - 1)
        xs, ys = [], []
        for b in range(self._bins):
            sel = np.flatnonzero(which == b)
            if sel.size:
                k = sel[np.argmin(y[sel])]
                xs.append(x[k])
                ys.append(y[k])
        xm = np.asarray(xs)
        ym = np.asarray(ys)
        self.x_ref = float(x[-1])
        if xm.size >= 2 and float(np.ptp(xm)) > 0:
            slope, intercept = np.polyfit(xm - self.x_ref, ym, 1)
            self.slope = float(slope)
            # Keep the line under every point of the window (a true lower envelope).
            self.offset_s = float(min(intercept, np.min(y - self.slope * (x - self.x_ref))))
        else:
            self.slope = 0.0
            self.offset_s = float(y.min())

    def to_host(self, dev_s: FloatArray) -> FloatArray:
        """Map device times (s) to host times (s)."""
        if self.offset_s is None:
            raise RuntimeError("ClockMapper has no observation yet")
        return dev_s + self.offset_s + self.slope * (dev_s - self.x_ref)


# --- stream decoder ----------------------------------------------------------------------------


@dataclass
class DecoderStats:
    """Running counters of a :class:`StreamDecoder`."""

    frames: int = 0
    samples: int = 0
    duplicates: int = 0
    malformed: int = 0
    unknown: int = 0
    status: int = 0
    gaps: int = 0
    lost_samples: int = 0
    overflow_samples: int = 0
    segments: int = 0


def _signed32(v: int) -> int:
    v %= U32
    return v - U32 if v >= 1 << 31 else v


class StreamDecoder:
    """Stateful decoder of one sensor's data characteristic.

    Parameters
    ----------
    info
        The sensor's current :class:`DeviceInfo` (``None``: every frame is parked until
        :meth:`set_info`).
    max_parked
        Frames kept while waiting for a new info struct; older ones are dropped (and then
        reported as a gap, since their samples never get decoded).
    period_window
        Frames used to estimate the true sample period from the device timestamps.

    Notes
    -----
    Sample indices are unwrapped to 64 bits per segment: ``expected = previous first_index + n``;
    a frame at the expected index is decoded, a later one reports a gap of exactly the missing
    count first, an earlier one is a duplicate (trimmed if it overlaps only partly).  Device
    timestamps are unwrapped the same way.  Host times of the samples come from
    :class:`ClockMapper` and are forced strictly increasing across chunks.
    """

    def __init__(
        self, info: DeviceInfo | None = None, *, max_parked: int = 512, period_window: int = 128
    ) -> None:
        self.stats = DecoderStats()
        self.clock = ClockMapper()
        self._info = info
        self._parked: deque[tuple[ImuFrame | StatusFrame, float]] = deque()
        self._max_parked = max_parked
        self._pk: deque[int] = deque(maxlen=period_window)  # unwrapped first index per frame
        self._pt: deque[float] = deque(maxlen=period_window)  # device time of that sample, s
        self._period_s = 1.0 / info.odr_hz if info else 0.01
        self._since_period_fit = 0
        self._expected: int | None = None  # unwrapped index of the next sample
        self._t_last_raw: int | None = None  # last raw device timestamp (u32 ticks)
        self._t_unwrapped = 0  # ticks, 64-bit
        self._last_dev_s: float | None = None  # device time of the last decoded sample
        self._last_host_s = -math.inf
        self._segment_start_pending = False
        self._overflow: list[tuple[int, int]] = []  # (unwrapped start, count)

    # -- configuration --------------------------------------------------------------------------

    @property
    def info(self) -> DeviceInfo | None:
        return self._info

    @property
    def period_s(self) -> float:
        """Estimated true sample period on the device clock, s."""
        return self._period_s

    def set_info(self, info: DeviceInfo) -> DecodeResult:
        """Install a (new) configuration and decode the frames parked while it was unknown."""
        old = self._info
        self._info = info
        if old is None or old.odr_mhz != info.odr_mhz or old.clock_hz != info.clock_hz:
            self._period_s = 1.0 / info.odr_hz
            self._pk.clear()
            self._pt.clear()
        parked = list(self._parked)
        self._parked.clear()
        out = _Acc()
        for frame, host in parked:
            self._handle(frame, host, out)
        return out.result()

    def new_segment(self) -> None:
        """The stream restarts (new START after a reconnect): the index restarts, device time goes on.

        The gap between the segments is reported (reason ``"reconnect"``) with the first frame of
        the new segment, its length estimated from the device clock.
        """
        if self._expected is not None:
            self._segment_start_pending = True
        self._expected = None
        self._overflow.clear()
        self._pk.clear()
        self._pt.clear()
        self.stats.segments += 1

    # -- decoding -------------------------------------------------------------------------------

    def feed(self, frame: bytes | bytearray, host_time_s: float) -> DecodeResult:
        """Decode one notification received at ``host_time_s`` (host clock, s).

        Raises
        ------
        ProtocolError
            The frame is malformed (counted in ``stats.malformed``; the decoder state is
            unchanged, so the caller can skip it and go on).
        """
        try:
            parsed = parse_frame(frame)
        except ProtocolError:
            self.stats.malformed += 1
            raise
        out = _Acc()
        if isinstance(parsed, UnknownFrame):
            self.stats.unknown += 1
            return out.result()
        if (
            self._parked
            or self._info is None
            or (parsed.config_id is not None and parsed.config_id != self._info.config_id)
        ):
            self._park(parsed, host_time_s)
            out.needs_info = True
            return out.result()
        self._handle(parsed, host_time_s, out)
        return out.result()

    def _park(self, frame: ImuFrame | StatusFrame, host: float) -> None:
        if len(self._parked) >= self._max_parked:
            self._parked.popleft()
        self._parked.append((frame, host))

    def _unwrap_time(self, t_raw: int) -> int:
        if self._t_last_raw is None:
            self._t_unwrapped = t_raw
        else:
            self._t_unwrapped += _signed32(t_raw - self._t_last_raw)
        self._t_last_raw = t_raw
        return self._t_unwrapped

    def _handle(self, frame: ImuFrame | StatusFrame, host: float, out: _Acc) -> None:
        info = self._info
        assert info is not None
        if isinstance(frame, StatusFrame):
            self.stats.status += 1
            out.status.append(frame)
            if frame.code == STATUS_FIFO_OVERFLOW and frame.value > 0:
                start = (
                    frame.index
                    if self._expected is None
                    else self._expected + _signed32(frame.index - self._expected)
                )
                self._overflow.append((start, frame.value))
                del self._overflow[:-16]
            return
        self.stats.frames += 1
        n = frame.n
        if self._expected is None:
            first = frame.first_index
        elif frame.compact:
            d = (frame.first_index - self._expected) & 0xFFFF
            first = self._expected + (d - 0x10000 if d >= 0x8000 else d)
        else:
            first = self._expected + _signed32(frame.first_index - self._expected)
        samples = frame.samples
        skip = 0
        if self._expected is not None and first < self._expected:
            skip = self._expected - first
            if skip >= n:
                self.stats.duplicates += 1
                out.duplicates += 1
                return
        t_ticks = self._unwrap_time(frame.t_device)
        t_first_s = t_ticks / info.clock_hz
        self._update_period(first, t_first_s)
        period = self._period_s
        if skip:
            samples = samples[skip:]
            first += skip
            t_first_s += skip * period
            n -= skip
        dev_s = t_first_s + period * np.arange(n, dtype=np.float64)
        # Clock mapping: the frame was sent after its last sample was taken.
        if self._last_dev_s is not None and t_first_s < self._last_dev_s - 3600.0:
            logger.info("device clock went backwards by > 1 h (reboot?): resetting the clock mapping")
            self.clock.reset()
            self._last_dev_s = None
        self.clock.add(float(dev_s[-1]), host)
        t_host = self.clock.to_host(dev_s)

        if self._segment_start_pending and self._last_dev_s is not None:
            self._segment_start_pending = False
            missing = max(0, round((t_first_s - self._last_dev_s) / period) - 1)
            if missing:
                t_gap = max(
                    float(self.clock.to_host(np.array([self._last_dev_s + period]))[0]), self._last_host_s
                )
                out.gaps.append(StreamGap(t_gap, missing, "reconnect"))
                self.stats.gaps += 1
                self.stats.lost_samples += missing
        elif self._expected is not None and first > self._expected:
            self._report_gap(
                self._expected, first - self._expected, t_host[0] - period * (first - self._expected), out
            )
        self._segment_start_pending = False
        self._expected = first + n
        self._last_dev_s = float(dev_s[-1])

        # Strictly increasing host times across chunks.
        if t_host[0] <= self._last_host_s:
            t_host = t_host + (self._last_host_s - t_host[0] + min(period, 1e-3) * 0.5)
        self._last_host_s = float(t_host[-1])
        acc, gyr = dequantize(samples, info)
        out.chunks.append(ImuChunk(t_host, acc, gyr))
        self.stats.samples += n

    def _update_period(self, first: int, t_first_s: float) -> None:
        if self._pk and first <= self._pk[-1]:
            return
        self._pk.append(first)
        self._pt.append(t_first_s)
        self._since_period_fit += 1
        if len(self._pk) >= 4 and self._since_period_fit >= 8:
            self._since_period_fit = 0
            k = np.fromiter(self._pk, dtype=np.float64, count=len(self._pk))
            t = np.fromiter(self._pt, dtype=np.float64, count=len(self._pt))
            if k[-1] - k[0] >= 8:
                slope = float(np.polyfit(k - k[0], t - t[0], 1)[0])
                nominal = 1.0 / self._info.odr_hz if self._info else slope
                # Accept within ±10 % of nominal (IMU oscillators are within a few %).
                if 0.9 * nominal <= slope <= 1.1 * nominal:
                    self._period_s = slope

    def _report_gap(self, start: int, count: int, t_s: float, out: _Acc) -> None:
        overflow = 0
        for o_start, o_count in self._overflow:
            lo, hi = max(start, o_start), min(start + count, o_start + o_count)
            overflow += max(0, hi - lo)
        overflow = min(overflow, count)
        t_s = max(t_s, self._last_host_s)
        if overflow:
            out.gaps.append(StreamGap(t_s, overflow, "overflow"))
            self.stats.overflow_samples += overflow
            self.stats.gaps += 1
        if count - overflow:
            out.gaps.append(StreamGap(t_s, count - overflow, "lost"))
            self.stats.lost_samples += count - overflow
            self.stats.gaps += 1


@dataclass
class _Acc:
    chunks: list[ImuChunk] = field(default_factory=list)
    gaps: list[StreamGap] = field(default_factory=list)
    duplicates: int = 0
    status: list[StatusFrame] = field(default_factory=list)
    needs_info: bool = False

    def result(self) -> DecodeResult:
        return DecodeResult(self.chunks, self.gaps, self.duplicates, self.status, self.needs_info)
