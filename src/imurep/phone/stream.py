"""phyphox samples -> :class:`~imurep.model.samples.ImuChunk` s and gaps (pure: numpy only).

A phone samples its accelerometer and gyroscope independently, each at its own (jittery) rate,
and phyphox timestamps every sample in *experiment time* (the phone's monotonic clock, pauses left
out).  :class:`PhoneDecoder` takes the new samples of each poll and

* drops samples that are not after the previous one (counted as duplicates) and rows holding NaN
  (phyphox's ``null``: no valid reading; counted as ``invalid``);
* finds gaps in each stream: an interval longer than :data:`GAP_FACTOR` times the running median
  period holds ``round(dt / period) - 1`` missing samples (``"lost-estimated"``: phyphox delivers
  every sample the phone produced, so a gap is the phone not producing them, and its size comes
  from the sample times);
* reports a hole that spans several polls as one gap (a gap is handed out with the next samples);
* pairs the streams on the experiment clock (:class:`~imurep.ble.timebase.PairMerger`: gyroscope
  interpolated at the accelerometer times, never across a gyroscope gap);
* maps experiment time to the host clock with the lower-envelope fit of
  :class:`~imurep.ble.timebase.HostTimeline` (one point per poll: the newest sample's time and
  when its answer arrived), which also measures the clock drift;
* starts a new *segment* when the experiment time does not go on (the data were cleared, another
  experiment was loaded) or the measurement was paused: the time base restarts and the samples
  the host clock says are missing are one ``"paused"`` gap (estimated from the host clock).
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from typing import Final

import numpy as np

from imurep.ble.decoder import StreamGap
from imurep.ble.timebase import HostTimeline, Item, PairMerger, coalesce, to_host_items
from imurep.model.samples import FloatArray, ImuChunk

GAP_FACTOR: Final = 2.5
"""An interval longer than this many median periods is a gap (as the pipeline's data quality)."""


@dataclass
class PhoneStats:
    """Running counters of a :class:`PhoneDecoder`."""

    polls: int = 0
    samples: int = 0
    gaps: int = 0
    lost_samples: int = 0
    duplicates: int = 0
    invalid: int = 0
    unpaired: int = 0
    """Accelerometer samples from before the first gyroscope sample of a segment (not lost:
    the two sensors start at different instants)."""
    segments: int = 1


class _Timing:
    """Gap detection of one stream (experiment time, s)."""

    def __init__(self, rate_hz: float | None, window: int = 255) -> None:
        self.last_t: float | None = None
        self._dt: deque[float] = deque(maxlen=window)
        self._seed = 1.0 / rate_hz if rate_hz and rate_hz > 0 else math.nan

    @property
    def period_s(self) -> float:
        if len(self._dt) >= 5:
            return float(np.median(np.fromiter(self._dt, dtype=np.float64)))
        return self._seed

    def place(self, t: FloatArray) -> tuple[np.ndarray, list[tuple[int, float, int]]]:
        """``(keep mask, [(index of the sample after the gap, time of its first missing sample,
        count)])`` for new times ``t``."""
        keep = np.ones(t.shape[0], dtype=bool)
        gaps: list[tuple[int, float, int]] = []
        prev = self.last_t
        for k in range(t.shape[0]):
            tk = float(t[k])
            if prev is not None and not tk > prev:
                keep[k] = False
                continue
            if prev is not None:
                dt = tk - prev
                period = self.period_s
                if math.isfinite(period) and dt > GAP_FACTOR * period:
                    n = round(dt / period) - 1
                    if n > 0:
                        gaps.append((k, prev + period, n))
                else:
                    self._dt.append(dt)
            prev = tk
        self.last_t = prev
        return keep, gaps


class _Segment:
    """One continuous run of experiment time."""

    def __init__(
        self, acc_rate_hz: float | None, gyr_rate_hz: float | None, previous: _Segment | None
    ) -> None:
        self.timeline = HostTimeline()
        if previous is not None:
            self.timeline.follow(previous.timeline)
        self.acc = _Timing(acc_rate_hz)
        self.gyr = _Timing(gyr_rate_hz)
        # a phone's two sensors sample at unrelated instants: an accelerometer sample waits for the
        # gyroscope samples on both sides of it (a quarter period of slack at a segment's ends)
        hold = 0.25 / gyr_rate_hz if gyr_rate_hz and gyr_rate_hz > 0 else 0.0025
        self.merger = PairMerger(hold_s=hold)
        self.hold_s = hold
        self.started = False
        self.gyr_first: float | None = None
        """Time of the segment's first gyroscope sample (accelerometer samples before it are
        not paired: the streams start at slightly different instants)."""
        self.early: list[tuple[FloatArray, FloatArray]] = []
        """Accelerometer samples that came before any gyroscope sample of the segment."""


class PhoneDecoder:
    """Samples of successive polls -> chunks and gaps on the host clock.

    Parameters
    ----------
    acc_rate_hz, gyr_rate_hz
        Expected rates (Hz) until the streams' own median periods are known (``None``: unknown).
    """

    def __init__(self, acc_rate_hz: float | None = None, gyr_rate_hz: float | None = None) -> None:
        self.acc_rate_hz = acc_rate_hz
        self.gyr_rate_hz = gyr_rate_hz
        self.stats = PhoneStats()
        self._seg = _Segment(acc_rate_hz, gyr_rate_hz, None)
        self._pending_gap: str | None = None
        self._held_gap: StreamGap | None = None
        self._first: list[StreamGap] = []
        self._last_dev_s = -math.inf

    @property
    def timeline(self) -> HostTimeline:
        """Experiment time -> host time of the current segment."""
        return self._seg.timeline

    @property
    def drift_ppm(self) -> float:
        """Host-minus-phone clock rate difference of the current segment, ppm."""
        return self._seg.timeline.drift_ppm

    @property
    def acc_period_s(self) -> float:
        """Median accelerometer period so far, s (NaN when unknown)."""
        return self._seg.acc.period_s

    @property
    def last_experiment_s(self) -> float:
        """Experiment time of the newest sample received (``-inf`` before the first), s."""
        return self._last_dev_s

    def new_segment(self, reason: str = "paused") -> list[Item]:
        """The experiment time does not go on from here (pause, clear, another experiment).

        Returns what the old segment still held; the next samples start a new time base and the
        samples the host clock says are missing before them are one gap of ``reason``.
        """
        items = self._drain(final=True)
        old = self._seg
        if old.started:
            self._seg = _Segment(self.acc_rate_hz, self.gyr_rate_hz, old)
            self._seg.acc._seed = old.acc.period_s
            self._seg.gyr._seed = old.gyr.period_s
            self._pending_gap = reason
            self.stats.segments += 1
        self._last_dev_s = -math.inf
        return items

    def feed(
        self,
        acc_t: FloatArray,
        acc: FloatArray,
        gyr_t: FloatArray,
        gyr: FloatArray,
        host_s: float,
        *,
        observe: bool = True,
    ) -> list[Item]:
        """The new samples of one poll (experiment time s; m/s² and rad/s), answered at ``host_s``.

        Times must continue the current segment (call :meth:`new_segment` first when they do not).
        ``observe=False``: the answer says nothing about the clock (the samples are older than
        the time base of the answer), only map them.
        """
        self.stats.polls += 1
        seg = self._seg
        acc_t, acc = self._valid(np.asarray(acc_t, dtype=np.float64), np.asarray(acc, dtype=np.float64))
        gyr_t, gyr = self._valid(np.asarray(gyr_t, dtype=np.float64), np.asarray(gyr, dtype=np.float64))
        newest = max(
            float(acc_t[-1]) if acc_t.size else -math.inf, float(gyr_t[-1]) if gyr_t.size else -math.inf
        )
        if not math.isfinite(newest):
            return []
        if seg.gyr_first is None and gyr_t.size:
            seg.gyr_first = float(gyr_t[0])
            if seg.early:  # what waited for the first gyroscope sample
                early_t = np.concatenate([e[0] for e in seg.early] + [acc_t])
                early_v = np.concatenate([e[1] for e in seg.early] + [acc])
                seg.early.clear()
                acc_t, acc = early_t, early_v
        if acc_t.size and (seg.gyr_first is None or acc_t[0] < seg.gyr_first - seg.hold_s):
            keep_from = math.inf if seg.gyr_first is None else seg.gyr_first - seg.hold_s
            lead = acc_t < keep_from
            if seg.gyr_first is None:
                seg.early.append((acc_t, acc))
            else:
                self.stats.unpaired += int(lead.sum())
            acc_t, acc = acc_t[~lead], acc[~lead]
        gap_prev_host = seg.timeline.last_host_s
        if observe or not seg.timeline.ready:
            seg.timeline.observe(newest, host_s)
        self._last_dev_s = max(self._last_dev_s, newest)
        if acc_t.size:
            keep, gaps = seg.acc.place(acc_t)
            self.stats.duplicates += int((~keep).sum())
            if self._pending_gap is not None and keep.any():
                self._add_pause_gap(float(acc_t[keep][0]), gap_prev_host)
            start = 0
            for k, t_gap, n in gaps:
                sel = np.flatnonzero(keep[start:k]) + start
                seg.merger.add_acc(acc_t[sel], acc[sel])
                seg.merger.acc_gap(t_gap, n, "lost-estimated")
                self.stats.gaps += 1
                self.stats.lost_samples += n
                start = k
            sel = np.flatnonzero(keep[start:]) + start
            seg.merger.add_acc(acc_t[sel], acc[sel])
            seg.started = seg.started or bool(keep.any())
        if gyr_t.size:
            keep, gaps = seg.gyr.place(gyr_t)
            self.stats.duplicates += int((~keep).sum())
            start = 0
            for k, _t_gap, _n in gaps:
                sel = np.flatnonzero(keep[start:k]) + start
                seg.merger.add_gyro(gyr_t[sel], gyr[sel])
                seg.merger.gyro_break()  # never interpolate the gyroscope across its own gap
                start = k
            sel = np.flatnonzero(keep[start:]) + start
            seg.merger.add_gyro(gyr_t[sel], gyr[sel])
        return self._drain()

    def flush(self) -> list[Item]:
        """The stream ended: pair what is left."""
        return self._drain(final=True)

    # -- internals ------------------------------------------------------------------------------

    def _valid(self, t: FloatArray, v: FloatArray) -> tuple[FloatArray, FloatArray]:
        ok = np.isfinite(t) & np.isfinite(v).all(axis=1) if t.size else np.zeros(0, dtype=bool)
        bad = int((~ok).sum())
        if bad:
            self.stats.invalid += bad
            return t[ok], v[ok]
        return t, v

    def _add_pause_gap(self, first_dev_s: float, prev_last_host_s: float) -> None:
        """One gap for what the host clock says is missing before the segment's first sample."""
        reason = self._pending_gap or "paused"
        self._pending_gap = None
        period = self._seg.acc.period_s
        if not (math.isfinite(prev_last_host_s) and math.isfinite(period) and period > 0):
            return
        first_host = self._seg.timeline.predict(first_dev_s)
        n = round((first_host - prev_last_host_s) / period) - 1
        if n > 0:  # handed out before the segment's first samples, at the first missing one
            self._first.append(StreamGap(prev_last_host_s + period, n, reason))
            self.stats.gaps += 1
            self.stats.lost_samples += n

    def _drain(self, *, final: bool = False) -> list[Item]:
        seg = self._seg
        merger = seg.merger
        dropped, runs = merger.dropped, merger.dropped_runs
        out: list[Item] = []
        for it in [*self._first, *to_host_items(merger.pop(final=final), seg.timeline)]:
            if isinstance(it, StreamGap):
                if it.n_samples <= 0:
                    continue
                held = self._held_gap
                if held is not None and held.reason == it.reason:
                    # one hole reported over several polls is one gap
                    self._held_gap = StreamGap(held.t_s, held.n_samples + it.n_samples, held.reason)
                else:
                    if held is not None:
                        out.append(held)
                    self._held_gap = it
                continue
            if self._held_gap is not None:
                out.append(self._held_gap)
                self._held_gap = None
            out.append(it)
        self._first.clear()
        if final and self._held_gap is not None:
            out.append(self._held_gap)
            self._held_gap = None
        self.stats.gaps += merger.dropped_runs - runs
        self.stats.lost_samples += merger.dropped - dropped
        self.stats.samples += sum(len(i) for i in out if isinstance(i, ImuChunk))
        return coalesce(out)
