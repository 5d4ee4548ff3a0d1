"""Every figure the report pages compute, each defined once (no matplotlib here).

The set page: the 5 % band levels, the partial-range threshold, the tilt-fault peaks and the
min/max decimation of the traces.  The session page: the per-side aggregates
(:class:`SideStats`) and their left–right asymmetry (defined in :mod:`imurep.coaching.trends`,
shared with the CLI, the JSON and ``imurep progress``), the fatigue series and the
data-quality figures.  The progress page: the per-session, per-leg means of the stored sets and
their left–right asymmetry.  Times in s, angles in degrees, fractions in 0..1, asymmetries in %.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

import numpy as np

from imurep.coaching.advice import leg_of
from imurep.coaching.trends import (  # the left–right figures, defined once (re-exported for the pages)
    ASYMMETRY_WARN_PCT,
    LEFT_RIGHT_FIGURES,
    SIDE_ORDER,
    LeftRightFigure,
    SideStats,
    asymmetry_flagged,
    asymmetry_pct,
    breaks_limit,
    has_both_sides,
    left_right_asymmetry,
    side_name,
    side_stats,
)
from imurep.model.results import RepResult, SessionResult, SetResult
from imurep.model.samples import FloatArray

if TYPE_CHECKING:
    from imurep.coaching.exercises import ExerciseProfile
    from imurep.coaching.history import SetRow

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


LOW_CONFIDENCE = 0.5
"""A rep whose ``confidence`` is below this is marked as uncertain (maybe not one rep), 0..1."""


def is_uncertain(r: RepResult) -> bool:
    """Whether the analysis is unsure that ``r`` is one rep (confidence below :data:`LOW_CONFIDENCE`)."""
    return r.confidence < LOW_CONFIDENCE


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


def is_lift_set(s: SetResult) -> bool:
    """Whether the set's movements are leg lifts (glute bridge with leg lift; each has a side)."""
    return bool(s.summary.reps_by_side)


def signed_peak_tilt(s: SetResult, r: RepResult) -> float | None:
    """The tilt (degrees, signed) of the trace sample of ``s`` with the largest absolute tilt inside
    rep ``r`` (None without a tilt trace or samples in the rep)."""
    tr = s.trace
    if tr is None or tr.tilt_deg is None:
        return None
    inside = np.flatnonzero((tr.t_s >= r.start_s) & (tr.t_s <= r.end_s))
    if not len(inside):
        return None
    return float(tr.tilt_deg[inside[np.argmax(np.abs(tr.tilt_deg[inside]))]])


def dropped_side(tilt_deg: float) -> str:
    """The hip that is lower at a signed pelvis tilt.

    The tilt is the elevation of the rep's rotation axis, which is oriented so that the pelvis turns
    positively about it as the hips rise: that axis points to the lifter's left
    (:mod:`imurep.core.tracking.lifts` relies on the same), so a positive tilt raises the left side
    and the **right** hip drops.
    """
    return "right" if tilt_deg > 0 else "left"


def dropped_hips(s: SetResult) -> dict[int, str | None]:
    """For each rep of ``s`` with a ``hip_tilt`` fault: the hip that dropped (None when unknown)."""
    out: dict[int, str | None] = {}
    for r in s.reps:
        if "hip_tilt" in r.faults:
            peak = signed_peak_tilt(s, r)
            out[r.index] = None if peak is None else dropped_side(peak)
    return out


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
    strap_slips
        ``(set index, time from the set's start, s)`` of every change of the sensor's seat on the
        body (strap slipped or re-fitted; :attr:`SetResult.mounting_changes_s`).
    uncertain_reps
        ``(set index, rep index)`` of every rep with a confidence below :data:`LOW_CONFIDENCE`.
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
    strap_slips: list[tuple[int, float]]
    uncertain_reps: list[tuple[int, int]]


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
        strap_slips=[(s.index, t - s.start_s) for s in result.sets for t in s.mounting_changes_s],
        uncertain_reps=[(s.index, r.index) for s in result.sets for r in s.reps if is_uncertain(r)],
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
    """Per-day, per-leg means of the stored sets (oldest first).

    Sessions of the same day are one point (at the day's first session): two sessions an hour
    apart would otherwise draw a vertical spike.
    """
    groups: dict[tuple[object, str], list[SetRow]] = {}
    for r in sorted(rows, key=lambda row: row.recorded_at):
        groups.setdefault((r.recorded_at.date(), leg_of(r.stats.side, profile)), []).append(r)
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
    """Left–right asymmetry (% of the stronger leg) of the mean clean reps, per training day.

    The one definition (:func:`imurep.coaching.trends.asymmetry_pct`), as ``imurep progress`` shows it.
    """
    by_session: dict[datetime, dict[str, float]] = {}
    for p in points:
        by_session.setdefault(p.when, {})[p.leg] = p.clean_reps
    return [(w, asymmetry_pct(v.get("left"), v.get("right"))) for w, v in sorted(by_session.items())]


__all__ = [
    "dropped_hips",
    "dropped_side",
    "is_lift_set",
    "signed_peak_tilt",
    "LOW_CONFIDENCE",
    "is_uncertain",
    "ASYMMETRY_WARN_PCT",
    "FatigueSeries",
    "LEFT_RIGHT_FIGURES",
    "LeftRightFigure",
    "QualityFigures",
    "SIDE_ORDER",
    "SessionPoint",
    "SideStats",
    "Thresholds",
    "asymmetry_flagged",
    "asymmetry_pct",
    "band_levels",
    "breaks_limit",
    "clean_rep_asymmetry",
    "decimate_minmax",
    "fatigue_series",
    "has_both_sides",
    "is_hip",
    "left_right_asymmetry",
    "partial_rom_limit",
    "quality_figures",
    "session_points",
    "session_totals",
    "side_name",
    "side_stats",
    "thresholds",
    "tilt_fault_points",
]
