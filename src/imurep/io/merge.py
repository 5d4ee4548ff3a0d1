"""Sensor streams and their merge onto one timeline.

Vendor exports hold one stream per sensor, each with its own timestamps and rate (MetaBase:
accelerometer 12.5 Hz and gyroscope 25 Hz; phones: separate clocks per sensor).  imurep needs
``t, acc, gyr`` rows on one timeline.  The rule (also in ``docs/formats.md``):

* The **faster** stream (smaller median sample interval; the gyroscope on a tie) is the timeline;
  its samples are kept as they are.
* The other stream is **linearly interpolated** at those times, component by component.
* **No extrapolation**: timeline samples before the other stream's first sample or after its last
  are dropped, and so are timeline samples that fall inside a *gap* of the other stream — two
  consecutive samples more than ``max(GAP_FACTOR × its median interval, MIN_GAP_S)`` apart.  The
  output then has a gap there too, which the analysis handles like any dropout.

Before merging, each stream's timestamps are checked (:func:`clean_times`): exact duplicate rows
are dropped, small back-steps (jitter) are sorted and rare repeated timestamps dropped, each with
a warning; anything else is refused.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import numpy as np

from imurep.io.canonical import MIN_DURATION_S, Recording
from imurep.io.units import check_units
from imurep.model.errors import DataValidationError
from imurep.model.samples import FloatArray, ImuChunk

logger = logging.getLogger(__name__)

GAP_FACTOR: Final = 4.0
"""A stream has a gap where consecutive samples are more than this many median intervals apart."""

MIN_GAP_S: Final = 0.05
"""Intervals up to this long (s) are never gaps, whatever the rate."""

MAX_REPAIR_FRACTION: Final = 0.01
"""At most this fraction of rows may be repaired (sorted or dropped) before a stream is refused."""


@dataclass(frozen=True, eq=False)
class Stream:
    """Samples of one 3-axis sensor.

    Attributes
    ----------
    name
        What it is, for messages (``"accelerometer"``, ``"gyroscope"``, ``"gravity"``).
    where
        The file it came from, for messages.
    t_s
        Sample times, shape ``(n,)``, s (strictly increasing after :func:`clean_times`).
    values
        Samples, shape ``(n, 3)``, sensor frame, in the unit of the stream.
    rows
        Data row (1-based, in ``where``) of each sample, shape ``(n,)``, for messages.
    """

    name: str
    where: str
    t_s: FloatArray
    values: FloatArray
    rows: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))

    def __len__(self) -> int:
        return int(self.t_s.shape[0])

    @property
    def median_dt_s(self) -> float:
        """Median sample interval, s (``inf`` with fewer than 2 samples)."""
        return float(np.median(np.diff(self.t_s))) if len(self) > 1 else float("inf")

    @property
    def rate_hz(self) -> float:
        """Median sample rate, Hz."""
        dt = self.median_dt_s
        return 1.0 / dt if 0 < dt < float("inf") else 0.0

    def with_values(self, values: FloatArray, name: str | None = None) -> Stream:
        """The same timestamps with other values."""
        return Stream(name or self.name, self.where, self.t_s, values, self.rows)


def make_stream(name: str, where: str, t_s: FloatArray, values: FloatArray, first_row: int = 1) -> Stream:
    """A stream from raw columns (rows numbered from ``first_row``), timestamps not yet checked."""
    n = t_s.shape[0]
    return Stream(
        name,
        where,
        np.asarray(t_s, dtype=np.float64),
        np.asarray(values, dtype=np.float64),
        np.arange(first_row, first_row + n, dtype=np.int64),
    )


def spread_packets(stream: Stream, nominal_dt_s: float | None = None) -> Stream:
    """Spread runs of samples that share one timestamp (packed BLE notifications) evenly.

    A run of ``k`` samples stamped ``T`` followed by the next distinct stamp ``T'`` gets the times
    ``T + j (T' - T) / k``, ``j = 0..k-1``; the last run uses ``nominal_dt_s`` (or the median
    interval) per sample.  Timestamps must already be non-decreasing.
    """
    t = stream.t_s
    if len(t) < 2 or not (np.diff(t) == 0).any():
        return stream
    starts = np.flatnonzero(np.r_[True, np.diff(t) != 0])
    counts = np.diff(np.r_[starts, len(t)])
    distinct = t[starts]
    steps = np.diff(distinct)
    if nominal_dt_s is None:
        per = steps / counts[:-1]
        nominal_dt_s = float(np.median(per)) if per.size else 0.0
    last_span = nominal_dt_s * counts[-1]
    spans = np.r_[steps, last_span]
    offsets = np.arange(len(t)) - np.repeat(starts, counts)
    new_t = np.repeat(distinct, counts) + offsets * np.repeat(spans / counts, counts)
    return Stream(stream.name, stream.where, new_t, stream.values, stream.rows)


def clean_times(stream: Stream) -> Stream:
    """Make the timestamps strictly increasing, repairing only when it is safe.

    * rows that exactly repeat the previous row are dropped (warning);
    * timestamps that step back by less than ``GAP_FACTOR`` median intervals (clock jitter) are
      sorted, and a repeated timestamp with other values is dropped, when at most
      ``MAX_REPAIR_FRACTION`` of the rows are affected (warning);
    * anything else raises :class:`DataValidationError` naming the row.
    """
    t, v, rows = stream.t_s, stream.values, stream.rows
    if len(t) < 2:
        return stream
    d = np.diff(t)
    if (d > 0).all():
        return stream
    exact = np.r_[False, (d == 0) & (v[1:] == v[:-1]).all(axis=1)]
    if exact.any():
        logger.warning(
            "%s: dropped %d row(s) repeating the previous row exactly (first at data row %d)",
            stream.where,
            int(exact.sum()),
            int(rows[exact][0]),
        )
        t, v, rows = t[~exact], v[~exact], rows[~exact]
        d = np.diff(t)
        if (d > 0).all():
            return Stream(stream.name, stream.where, t, v, rows)
    bad = np.flatnonzero(d <= 0) + 1
    positive = d[d > 0]
    dt = float(np.median(positive)) if positive.size else 0.0
    back = t[bad - 1] - t[bad]
    i = int(bad[0])
    if bad.size > MAX_REPAIR_FRACTION * len(t) or dt == 0.0 or (back > GAP_FACTOR * dt).any():
        k = int(bad[np.argmax(back > GAP_FACTOR * dt)]) if (back > GAP_FACTOR * dt).any() else i
        how = "repeats" if t[k] == t[k - 1] else "goes back in time from"
        raise DataValidationError(
            f"{stream.name} timestamp {float(t[k])!r} {how} the previous row's {float(t[k - 1])!r} "
            f"({bad.size} such row(s) in {len(t)}); timestamps must increase — sort the file by time, "
            "or split it where the clock was reset",
            path=stream.where,
            row=int(rows[k]),
        )
    order = np.argsort(t, kind="stable")
    t, v, rows = t[order], v[order], rows[order]
    keep = np.r_[True, np.diff(t) > 0]
    logger.warning(
        "%s: %d out-of-order or repeated timestamp(s) (first at data row %d) repaired by sorting "
        "and dropping repeats",
        stream.where,
        int(bad.size),
        int(stream.rows[i]),
    )
    return Stream(stream.name, stream.where, t[keep], v[keep], rows[keep])


def max_gap_s(stream: Stream) -> float:
    """Longest interval of ``stream`` that is bridged by interpolation, s."""
    return max(GAP_FACTOR * stream.median_dt_s, MIN_GAP_S)


def interpolate(stream: Stream, t_s: FloatArray) -> tuple[FloatArray, np.ndarray]:
    """Linearly interpolate ``stream`` at the times ``t_s`` (shape ``(m,)``, s, increasing).

    Returns
    -------
    values
        Shape ``(m, 3)``; rows where ``valid`` is false are NaN.
    valid
        Shape ``(m,)``, bool: inside the stream's span and not inside one of its gaps.
    """
    src_t = stream.t_s
    m = t_s.shape[0]
    out = np.full((m, stream.values.shape[1]), np.nan)
    if len(stream) == 0 or m == 0:
        return out, np.zeros(m, dtype=bool)
    valid = (t_s >= src_t[0]) & (t_s <= src_t[-1])
    hi = np.clip(np.searchsorted(src_t, t_s, side="left"), 1, max(len(src_t) - 1, 1))
    lo = hi - 1
    if len(src_t) > 1:
        span = src_t[hi] - src_t[lo]
        valid &= (span <= max_gap_s(stream)) | (t_s == src_t[lo]) | (t_s == src_t[hi])
        w = np.where(span > 0, (t_s - src_t[lo]) / np.where(span > 0, span, 1.0), 0.0)
        vals = stream.values[lo] + (stream.values[hi] - stream.values[lo]) * w[:, None]
    else:
        vals = np.repeat(stream.values[:1], m, axis=0)
    out[valid] = vals[valid]
    return out, valid


@dataclass(frozen=True)
class MergeInfo:
    """How two streams were merged (copied into the recording's metadata)."""

    timeline: str
    """Name of the stream whose timestamps were kept."""
    interpolated: str
    """Name of the stream that was interpolated."""
    rates_hz: dict[str, float]
    """Median rate of each input stream, Hz."""
    dropped: int
    """Timeline samples dropped (outside the other stream or inside one of its gaps)."""

    def to_dict(self) -> dict[str, object]:
        """JSON view."""
        return {
            "timeline": self.timeline,
            "interpolated": self.interpolated,
            "rates_hz": {k: round(v, 3) for k, v in self.rates_hz.items()},
            "dropped_samples": self.dropped,
            "method": "linear, no extrapolation",
        }


def merge_pair(first: Stream, second: Stream) -> tuple[FloatArray, FloatArray, FloatArray, MergeInfo]:
    """Merge two streams onto the timeline of the faster one (``second`` wins a tie).

    Returns ``t_s (m,)``, ``first`` values ``(m, 3)``, ``second`` values ``(m, 3)`` and a
    :class:`MergeInfo`.  See the module docstring for the rule.
    """
    if len(first) and len(second) and first.t_s[0] == second.t_s[0] and np.array_equal(first.t_s, second.t_s):
        info = MergeInfo(second.name, first.name, {first.name: first.rate_hz, second.name: second.rate_hz}, 0)
        return first.t_s, first.values, second.values, info
    base, other = (first, second) if first.median_dt_s < second.median_dt_s else (second, first)
    vals, valid = interpolate(other, base.t_s)
    t = base.t_s[valid]
    b = base.values[valid]
    o = vals[valid]
    info = MergeInfo(
        base.name, other.name, {first.name: first.rate_hz, second.name: second.rate_hz}, int((~valid).sum())
    )
    if info.dropped:
        logger.debug("merge: dropped %d %s samples without %s data", info.dropped, base.name, other.name)
    return (t, b, o, info) if base is first else (t, o, b, info)


def add_streams(a: Stream, b: Stream, name: str, sign: float = 1.0) -> Stream:
    """``sign × (a + b)`` on the timeline of the faster stream (e.g. linear acceleration + gravity)."""
    t, va, vb, _ = merge_pair(a, b)
    base = a if a.median_dt_s < b.median_dt_s else b
    idx = np.searchsorted(base.t_s, t)
    return Stream(name, f"{a.where} + {b.where}", t, sign * (va + vb), base.rows[idx])


def build_recording(
    path: Path,
    fmt: str,
    acc: Stream,
    gyr: Stream,
    metadata: dict[str, Any],
    *,
    acc_label: str = "accelerometer",
) -> Recording:
    """Clean, merge and unit-check an accelerometer and a gyroscope stream into a :class:`Recording`.

    ``acc`` must already be the specific force (gravity included, "up" positive) and both streams
    should be in SI units when the file says so; :func:`imurep.io.units.check_units` converts data
    that are evidently in g or °/s (with a warning).  ``metadata`` gets ``format``, ``merge``,
    ``units`` and (when conversions were made) ``conversions`` keys.

    Raises
    ------
    DataValidationError
        Too few samples, no overlap between the streams, implausible units, or less than
        :data:`imurep.io.canonical.MIN_DURATION_S` of merged data.
    """
    where = str(path)
    for s in (acc, gyr):
        if len(s) == 0:
            raise DataValidationError(f"the {s.name} file holds no data rows", path=s.where)
    acc = clean_times(acc)
    gyr = clean_times(gyr)
    t, a, g, info = merge_pair(acc, gyr)
    if t.shape[0] < 2:
        raise DataValidationError(
            f"the {acc.name} ({acc.t_s[0]:.3f}–{acc.t_s[-1]:.3f} s) and {gyr.name} "
            f"({gyr.t_s[0]:.3f}–{gyr.t_s[-1]:.3f} s) do not overlap in time; they must come from "
            "the same recording",
            path=where,
        )
    units = check_units(t, a, g, where, acc_label=acc_label)
    a = a * units.acc_scale
    g = g * units.gyr_scale
    span = float(t[-1] - t[0])
    if span < MIN_DURATION_S:
        raise DataValidationError(
            f"holds only {span:.3g} s of accelerometer and gyroscope data together ({t.shape[0]} samples); "
            f"at least {MIN_DURATION_S:g} s are needed",
            path=where,
        )
    meta = dict(metadata)
    meta["format"] = fmt
    meta["merge"] = info.to_dict()
    meta["units"] = {"acc": "m/s^2", "gyr": "rad/s"}
    if units.notes():
        meta["conversions"] = units.notes()
    if units.kinematic_slope is not None:
        meta["gyro_acc_consistency"] = round(units.kinematic_slope, 3)
    chunk = ImuChunk(t, a, g)  # validates shapes, finiteness and increasing time
    return Recording(path, chunk.t_s, chunk.acc_mps2, chunk.gyr_rads, meta)
