"""Every figure the report pages compute, each defined once (no matplotlib here).

The set page: the 5 % band levels, the partial-range threshold, the tilt-fault peaks and the
min/max decimation of the traces.  The session page: the per-side aggregates
(:class:`SideStats`), the left–right asymmetry of each of them, the fatigue series and the
data-quality figures.  The progress page: the per-session, per-leg means of the stored sets and
their left–right asymmetry.  Times in s, angles in degrees, fractions in 0..1, asymmetries in %.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Final

import numpy as np

from imurep.coaching.advice import leg_of
from imurep.coaching.trends import asymmetry_pct as history_asymmetry_pct
from imurep.model.codes import FAULTS
from imurep.model.results import RepResult, SessionResult, SetResult
from imurep.model.samples import FloatArray

if TYPE_CHECKING:
    from imurep.coaching.exercises import ExerciseProfile
    from imurep.coaching.history import SetRow

ASYMMETRY_WARN_PCT: Final = 10.0
"""Left–right asymmetry above which the report highlights a figure, %."""

SIDE_ORDER: Final = ("left", "right", "unknown")
"""Order of the working sides on the session page."""


# --- settings ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Thresholds:
    """The fault thresholds and band of the analysis, as the pages draw them.

    Attributes
    ----------
    tilt_deg
        Largest allowed pelvis tilt, degrees.
    min_top_hold_s
        Shortest clean squeeze (top hold), s.
    min_eccentric_s
        Shortest clean lowering, s.
    partial_rom_fraction
        A rep is partial below this fraction of the set's median ROM (0..1).
    band_fraction
        Height of the bottom and top bands as a fraction of the rep's ROM (0..1).
    """

    tilt_deg: float
    min_top_hold_s: float
    min_eccentric_s: float
    partial_rom_fraction: float
    band_fraction: float


def thresholds(result: SessionResult) -> Thresholds:
    """The thresholds of ``result``'s settings."""
    f = result.settings.faults
    return Thresholds(
        tilt_deg=f.tilt_threshold_deg,
        min_top_hold_s=f.min_top_hold_s,
        min_eccentric_s=f.min_eccentric_s,
        partial_rom_fraction=f.partial_rom_fraction,
        band_fraction=result.settings.segmentation.band_fraction,
    )


def tilt_judged(result: SessionResult) -> bool:
    """Whether ``hip_tilt`` is judged in ``result`` (the sensor on the hip and the fault enabled:
    a two-leg squat does not judge it)."""
    return is_hip(result) and "hip_tilt" in result.settings.faults.enabled


def is_hip(result: SessionResult) -> bool:
    """Whether the sensor sat on the hip (tilt is only measured there)."""
    return result.placement == "hip"


# --- set page ----------------------------------------------------------------------------------


def decimate_minmax(t: FloatArray, y: FloatArray, max_points: int) -> tuple[FloatArray, FloatArray]:
    """Reduce a trace to at most about ``max_points`` points, keeping each bin's min and max.

    Peaks survive, so the plot looks the same at screen resolution.

    Parameters
    ----------
    t, y
        Time (s) and value, same shape ``(n,)``.
    max_points
        Upper bound of the returned length (>= 4).
    """
    n = len(t)
    if n <= max_points:
        return t, y
    n_bins = max(2, max_points // 2)
    size = math.ceil(n / n_bins)
    n_full = n // size
    tb = t[: n_full * size].reshape(n_full, size)
    yb = y[: n_full * size].reshape(n_full, size)
    i_min = np.argmin(yb, axis=1)
    i_max = np.argmax(yb, axis=1)
    first = np.minimum(i_min, i_max)
    second = np.maximum(i_min, i_max)
    rows = np.arange(n_full)
    t_out = np.column_stack([tb[rows, first], tb[rows, second]]).ravel()
    y_out = np.column_stack([yb[rows, first], yb[rows, second]]).ravel()
    if n_full * size < n:
        t_out = np.concatenate([t_out, t[-1:]])
        y_out = np.concatenate([y_out, y[-1:]])
    return t_out, y_out


def band_levels(r: RepResult, band_fraction: float) -> tuple[float, float]:
    """Angles of the bottom and top bands of rep ``r`` (degrees; the rep must have both angles).

    Bottom: ``bottom_deg + band × ROM``; top: ``top_deg − band × ROM``.
    """
    assert r.bottom_deg is not None and r.top_deg is not None
    return r.bottom_deg + band_fraction * r.rom_deg, r.top_deg - band_fraction * r.rom_deg


def partial_rom_limit(s: SetResult, fraction: float) -> tuple[float, float]:
    """The median ROM of the set and the partial-range threshold ``fraction × median`` (degrees).

    The set must have reps.
    """
    median = float(statistics.median(np.array([r.rom_deg for r in s.reps]).tolist()))
    return median, fraction * median


def tilt_fault_points(s: SetResult, t0: float, tilt_deg: float) -> tuple[list[float], list[float]]:
    """Where the tilt faults of set ``s`` are marked on its tilt trace.

    For each rep with a ``hip_tilt`` fault: the time (s, from ``t0``) and the tilt (degrees) of the
    trace sample with the largest absolute tilt inside the rep; without samples inside the rep,
    the middle of the rep and its peak tilt (``tilt_deg`` when unknown).  The set must have a
    tilt trace.
    """
    tr = s.trace
    assert tr is not None and tr.tilt_deg is not None
    t_rel = tr.t_s - t0
    xs: list[float] = []
    ys: list[float] = []
    for r in s.reps:
        if "hip_tilt" not in r.faults:
            continue
        inside = (tr.t_s >= r.start_s) & (tr.t_s <= r.end_s)
        if inside.any():
            idx = np.flatnonzero(inside)
            k = int(idx[np.argmax(np.abs(tr.tilt_deg[idx]))])
            xs.append(float(t_rel[k]))
            ys.append(float(tr.tilt_deg[k]))
        else:
            xs.append((r.start_s + r.end_s) / 2 - t0)
            ys.append(r.peak_tilt_deg or tilt_deg)
    return xs, ys


# --- session page ------------------------------------------------------------------------------


def asymmetry_pct(a: float | None, b: float | None) -> float | None:
    """``|a − b| / max(|a|, |b|) × 100`` (0 = symmetric); None when a value is missing or both are 0."""
    if a is None or b is None:
        return None
    big = max(abs(a), abs(b))
    return None if big == 0 else abs(a - b) / big * 100.0


def side_name(side: str | None) -> str:
    """The side key of a set's working side (``"unknown"`` when not known)."""
    return side if side else "unknown"


@dataclass
class SideStats:
    """Aggregates over all reps of one working side (times in s, angles in degrees)."""

    side: str
    sets: int = 0
    reps: int = 0
    clean_reps: int = 0
    rom_deg: list[float] = field(default_factory=list)
    concentric_s: list[float] = field(default_factory=list)
    top_hold_s: list[float] = field(default_factory=list)
    eccentric_s: list[float] = field(default_factory=list)
    peak_tilt_deg: list[float] = field(default_factory=list)
    fault_counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FAULTS, 0))

    def mean(self, name: str) -> float | None:
        """Mean of the list attribute ``name`` (None when empty)."""
        values: list[float] = getattr(self, name)
        return float(np.mean(values)) if values else None

    def sd(self, name: str) -> float:
        """Population standard deviation of the list attribute ``name`` (0 when empty)."""
        values: list[float] = getattr(self, name)
        return float(np.std(values)) if values else 0.0

    @property
    def faults(self) -> int:
        """Total number of faults (a rep with two faults counts twice)."""
        return sum(self.fault_counts.values())

    @property
    def faulty_reps(self) -> int:
        """Reps with at least one fault."""
        return self.reps - self.clean_reps

    @property
    def max_tilt_deg(self) -> float | None:
        """Largest peak tilt of a rep (None without tilt)."""
        return max(self.peak_tilt_deg) if self.peak_tilt_deg else None

    @property
    def tempo_s(self) -> float:
        """Mean Up + Squeeze + Down time per rep (a missing mean counts as 0)."""
        return sum(self.mean(name) or 0.0 for name in ("concentric_s", "top_hold_s", "eccentric_s"))

    def figure(self, key: str) -> float | None:
        """One figure by name: ``reps``, ``faults``, ``faulty_reps``, ``max_tilt_deg``,
        ``tempo_s`` or the mean of a list attribute (``rom_deg``, ``concentric_s`` …)."""
        if key in ("reps", "faults", "faulty_reps"):
            return float(getattr(self, key))
        if key in ("max_tilt_deg", "tempo_s"):
            value: float | None = getattr(self, key)
            return value
        return self.mean(key)


def side_stats(result: SessionResult) -> dict[str, SideStats]:
    """Aggregate the reps of ``result`` by working side (``left``, ``right``, ``unknown``; in that order)."""
    stats: dict[str, SideStats] = {}
    for s in result.sets:
        name = side_name(s.side)
        st = stats.setdefault(name, SideStats(name))
        st.sets += 1
        st.reps += len(s.reps)
        st.clean_reps += sum(not r.faults for r in s.reps)
        for r in s.reps:
            st.rom_deg.append(r.rom_deg)
            st.concentric_s.append(r.concentric_s)
            st.top_hold_s.append(r.top_hold_s)
            st.eccentric_s.append(r.eccentric_s)
            if r.peak_tilt_deg is not None:
                st.peak_tilt_deg.append(r.peak_tilt_deg)
            for code in r.faults:
                st.fault_counts[code] = st.fault_counts.get(code, 0) + 1
    order = {side: i for i, side in enumerate(SIDE_ORDER)}
    return dict(sorted(stats.items(), key=lambda kv: order.get(kv[0], 3)))


def has_both_sides(stats: Mapping[str, SideStats]) -> bool:
    """Whether left and right can be compared."""
    return "left" in stats and "right" in stats


def left_right_asymmetry(stats: Mapping[str, SideStats], key: str) -> float | None:
    """Asymmetry (%) of figure ``key`` (see :meth:`SideStats.figure`) between left and right.

    None without both sides or when :func:`asymmetry_pct` has none.
    """
    if not has_both_sides(stats):
        return None
    return asymmetry_pct(stats["left"].figure(key), stats["right"].figure(key))


@dataclass(frozen=True)
class FatigueSeries:
    """One set's fatigue lines: against the rep number, the lifting time and the peak tilt.

    Attributes
    ----------
    rep_index
        Rep numbers, shape ``(n_reps,)``.
    concentric_s
        Up time of each rep, s.
    peak_tilt_deg
        Peak pelvis tilt of each rep, degrees (NaN where not measured).
    """

    rep_index: list[int]
    concentric_s: list[float]
    peak_tilt_deg: list[float]


def fatigue_series(s: SetResult) -> FatigueSeries:
    """The fatigue lines of set ``s``."""
    return FatigueSeries(
        rep_index=[r.index for r in s.reps],
        concentric_s=[r.concentric_s for r in s.reps],
        peak_tilt_deg=[np.nan if r.peak_tilt_deg is None else r.peak_tilt_deg for r in s.reps],
    )


@dataclass(frozen=True)
class QualityFigures:
    """The data-quality figures of the session page.

    Attributes
    ----------
    sample_rate_hz
        Achieved sample rate, Hz.
    nominal_rate_hz
        Rate from the recording's metadata, Hz (None when not given or not positive).
    n_samples
        Samples analysed.
    duration_s
        Length of the recording, s.
    n_gaps, gap_total_s
        Gaps in the data and their total length, s.
    still_fraction
        Fraction of the time the sensor was still (0..1).
    baselines
        ``(set index, baseline source)`` of every set (the tilt baseline of the hip sensor).
    n_start_position
        Sets whose tilt baseline is the start position.
    """

    sample_rate_hz: float
    nominal_rate_hz: float | None
    n_samples: int
    duration_s: float
    n_gaps: int
    gap_total_s: float
    still_fraction: float
    baselines: list[tuple[int, str]]
    n_start_position: int


def quality_figures(result: SessionResult) -> QualityFigures:
    """The data-quality figures of ``result``."""
    q = result.quality
    nominal = result.metadata.get("sample_rate_hz")
    return QualityFigures(
        sample_rate_hz=q.sample_rate_hz,
        nominal_rate_hz=nominal if isinstance(nominal, int | float) and nominal > 0 else None,
        n_samples=q.n_samples,
        duration_s=q.duration_s,
        n_gaps=q.n_gaps,
        gap_total_s=q.gap_total_s,
        still_fraction=q.still_fraction,
        baselines=[(s.index, s.baseline_source) for s in result.sets],
        n_start_position=sum(s.baseline_source == "start_position" for s in result.sets),
    )


def session_totals(result: SessionResult) -> tuple[int, int]:
    """Reps and clean reps (from the set summaries) of the whole session."""
    n_reps = sum(len(s.reps) for s in result.sets)
    clean = sum(s.summary.clean_reps for s in result.sets)
    return n_reps, clean


# --- progress page -----------------------------------------------------------------------------


@dataclass(frozen=True)
class SessionPoint:
    """One leg in one session: means over its sets."""

    when: datetime
    leg: str
    clean_reps: float
    reps: float
    top_hold_s: float | None
    eccentric_s: float | None
    max_tilt_deg: float | None


def _mean(values: Sequence[float | None]) -> float | None:
    vals = [v for v in values if v is not None]
    return statistics.fmean(vals) if vals else None


def session_points(rows: Sequence[SetRow], profile: ExerciseProfile) -> list[SessionPoint]:
    """Per-session, per-leg means of the stored sets (oldest first)."""
    groups: dict[tuple[int, str], list[SetRow]] = {}
    for r in rows:
        groups.setdefault((r.session_id, leg_of(r.stats.side, profile)), []).append(r)
    points = []
    for (_, leg), items in groups.items():
        st = [i.stats for i in items]
        tilts = [s.max_peak_tilt_deg for s in st if s.max_peak_tilt_deg is not None]
        points.append(
            SessionPoint(
                when=items[0].recorded_at,
                leg=leg,
                clean_reps=statistics.fmean(s.clean_reps for s in st),
                reps=statistics.fmean(s.reps for s in st),
                top_hold_s=_mean([s.mean_top_hold_s for s in st]),
                eccentric_s=_mean([s.mean_eccentric_s for s in st]),
                max_tilt_deg=max(tilts) if tilts else None,
            )
        )
    return sorted(points, key=lambda p: (p.when, p.leg))


def clean_rep_asymmetry(points: Sequence[SessionPoint]) -> list[tuple[datetime, float | None]]:
    """Left–right asymmetry (% of the stronger leg) of the mean clean reps, per session date.

    Uses the training history's definition (:func:`imurep.coaching.history.asymmetry_pct`), the
    one the ``imurep progress`` text shows.
    """
    by_session: dict[datetime, dict[str, float]] = {}
    for p in points:
        by_session.setdefault(p.when, {})[p.leg] = p.clean_reps
    return [(w, history_asymmetry_pct(v.get("left"), v.get("right"))) for w, v in sorted(by_session.items())]
