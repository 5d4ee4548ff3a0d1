"""Progress over weeks: per-leg weekly means of the stored sets, and the left–right asymmetry.

Input are the rows read from the training history (:meth:`imurep.coaching.history.History.sets`);
the exercise profile and the progression rules are passed in (no I/O).
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from imurep.coaching.advice import assess_set, leg_of
from imurep.coaching.exercises import ExerciseProfile, ProgressionRules
from imurep.coaching.history import SetRow


@dataclass(frozen=True)
class WeekTrend:
    """One leg in one ISO week: means over its sets (times in s, angles in degrees)."""

    week: date
    """Monday of the week."""
    leg: str
    sessions: int
    sets: int
    mean_reps: float
    mean_clean_reps: float
    mean_top_hold_s: float | None
    mean_eccentric_s: float | None
    max_tilt_deg: float | None
    qualifying_sets: int


def _fmean(values: Iterable[float | None]) -> float | None:
    vals = [v for v in values if v is not None]
    return statistics.fmean(vals) if vals else None


def weekly_trends(
    rows: Sequence[SetRow], profile: ExerciseProfile, rules: ProgressionRules
) -> list[WeekTrend]:
    """Per-leg weekly means of reps, clean reps, tempo, tilt and qualifying sets (oldest first).

    Parameters
    ----------
    rows
        Stored sets of ``profile``'s exercise.
    profile
        The exercise (per leg or both legs; its rep range for the qualifying sets).
    rules
        The progression rules a set must meet to qualify.
    """
    groups: dict[tuple[date, str], list[SetRow]] = {}
    for row in rows:
        local = row.recorded_at.date()
        monday = local - timedelta(days=local.weekday())
        groups.setdefault((monday, leg_of(row.stats.side, profile)), []).append(row)
    out = []
    for (week, leg), items in sorted(groups.items()):
        stats = [r.stats for r in items]
        tilts = [s.max_peak_tilt_deg for s in stats if s.max_peak_tilt_deg is not None]
        out.append(
            WeekTrend(
                week=week,
                leg=leg,
                sessions=len({r.session_id for r in items}),
                sets=len(items),
                mean_reps=statistics.fmean(s.reps for s in stats),
                mean_clean_reps=statistics.fmean(s.clean_reps for s in stats),
                mean_top_hold_s=_fmean(s.mean_top_hold_s for s in stats),
                mean_eccentric_s=_fmean(s.mean_eccentric_s for s in stats),
                max_tilt_deg=max(tilts) if tilts else None,
                qualifying_sets=sum(assess_set(s, profile, rules).qualifies for s in stats),
            )
        )
    return out


def asymmetry_pct(left: float | None, right: float | None) -> float | None:
    """Left–right difference as a percentage of the larger value (None when either is missing or both 0)."""
    if left is None or right is None or max(left, right) <= 0:
        return None
    return 100.0 * abs(left - right) / max(left, right)


def weekly_asymmetry(trends: Sequence[WeekTrend]) -> dict[date, float | None]:
    """Left–right asymmetry of the mean clean reps per set, % of the stronger leg, per week."""
    by_week: dict[date, dict[str, float]] = {}
    for t in trends:
        by_week.setdefault(t.week, {})[t.leg] = t.mean_clean_reps
    return {w: asymmetry_pct(v.get("left"), v.get("right")) for w, v in sorted(by_week.items())}
