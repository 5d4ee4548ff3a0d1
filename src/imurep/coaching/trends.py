"""Left vs right and progress over weeks: every left–right figure and asymmetry, defined once.

* :func:`asymmetry_pct` is *the* asymmetry: ``|L − R|`` as a % of the larger value.  The CLI, the
  JSON (``coaching.left_right``), the report pages and ``imurep progress`` all use it.
* :class:`SideStats` / :func:`side_stats` aggregate one recording per working side (a leg lift
  counts for its lifted side); :data:`LEFT_RIGHT_FIGURES` names the compared figures (the rep
  figure compared is the number of **clean** reps, as in the progress trends; tilt is the
  **largest** peak tilt).  :func:`left_right` gives them with their asymmetry and whether a value
  breaks its limit (a limit judges a value, never the asymmetry of two values within it).
* :func:`weekly_trends` are per-leg weekly means of the sets stored in the training history
  (:meth:`imurep.coaching.history.History.sets`).

No I/O: the exercise profile and the progression rules are passed in.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, Final

from imurep.coaching.advice import SetStats, advise, assess_set, leg_of
from imurep.coaching.exercises import Catalog, ExerciseProfile, ProgressionRules
from imurep.model.codes import FAULTS
from imurep.model.results import SessionResult

if TYPE_CHECKING:
    from imurep.coaching.history import SetRow

ASYMMETRY_WARN_PCT: Final = 10.0
"""Left–right asymmetry above which a figure without a limit of its own is highlighted, %."""

SIDE_ORDER: Final = ("left", "right", "unknown")
"""Order of the working sides."""


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


def latest_session_headline(rows: Sequence[SetRow], headline: str) -> str:
    """The advice headline with the session it is about: the advice judges the latest session only
    (the weekly figures span every session of the week)."""
    if not rows:
        return headline
    last = max(rows, key=lambda r: r.recorded_at)
    when = f"{last.recorded_at.strftime('%a')} {last.recorded_at.day} {last.recorded_at.strftime('%b %Y')}"
    return f"Latest session ({when}, #{last.session_id}): {headline}"


def progress_advice(
    rows: Sequence[SetRow],
    profile: ExerciseProfile,
    sessions: Sequence[Sequence[SetStats]] | None = None,
    *,
    catalog: Catalog,
) -> list[str]:
    """The progression advice of the progress views (``imurep progress``, its page): the lines of
    :func:`~imurep.coaching.advice.advise` on ``sessions`` (None: the sessions of ``rows``), the
    headline naming the session it judges (:func:`latest_session_headline`)."""
    if sessions is None:
        grouped: dict[int, list[SetStats]] = {}
        for r in rows:
            grouped.setdefault(r.session_id, []).append(r.stats)
        sessions = list(grouped.values())
    lines = advise(sessions, profile, catalog=catalog).lines()
    lines[0] = latest_session_headline(rows, lines[0])
    return lines


PROGRESS_COLUMNS: Final = (
    "Week of",
    "Leg",
    "Sess.",
    "Sets",
    "Reps",
    "Clean",
    "Hold s",
    "Down s",
    "Tilt °",
    "Qual.",
    "Asym %",
)
"""Columns of :func:`progress_table`."""
PROGRESS_NOTE: Final = (
    "per leg and week: means per set; Tilt = largest pelvis tilt; Qual. = sets meeting the progression "
    "rule; Asym = left–right difference of clean reps, % of the stronger leg"
)
"""What the columns of :func:`progress_table` mean."""


def progress_table(trends: Sequence[WeekTrend]) -> list[list[str]]:
    """The week-by-week table of the progress views (columns :data:`PROGRESS_COLUMNS`), as text."""

    def f(x: float | None, fmt: str) -> str:
        return "—" if x is None else format(x, fmt)

    asym = weekly_asymmetry(trends)
    return [
        [
            t.week.isoformat(),
            t.leg,
            str(t.sessions),
            str(t.sets),
            f"{t.mean_reps:.1f}",
            f"{t.mean_clean_reps:.1f}",
            f(t.mean_top_hold_s, ".2f"),
            f(t.mean_eccentric_s, ".2f"),
            f(t.max_tilt_deg, ".1f"),
            str(t.qualifying_sets),
            f(asym.get(t.week), ".0f"),
        ]
        for t in trends
    ]


def weekly_asymmetry(trends: Sequence[WeekTrend]) -> dict[date, float | None]:
    """Left–right asymmetry of the mean clean reps per set, % of the stronger leg, per week."""
    by_week: dict[date, dict[str, float]] = {}
    for t in trends:
        by_week.setdefault(t.week, {})[t.leg] = t.mean_clean_reps
    return {w: asymmetry_pct(v.get("left"), v.get("right")) for w, v in sorted(by_week.items())}


# --- left vs right of one recording ------------------------------------------------------------


def asymmetry_pct(left: float | None, right: float | None) -> float | None:
    """``|left − right|`` as a % of the larger value (0 = symmetric); None when a value is missing
    or both are 0.  The one definition of the left–right asymmetry."""
    if left is None or right is None:
        return None
    big = max(abs(left), abs(right))
    return None if big == 0 else 100.0 * abs(left - right) / big


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
        return statistics.fmean(values) if values else None

    def sd(self, name: str) -> float:
        """Population standard deviation of the list attribute ``name`` (0 when empty)."""
        values: list[float] = getattr(self, name)
        return statistics.pstdev(values) if values else 0.0

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
        """One figure by name: ``reps``, ``clean_reps``, ``faults``, ``faulty_reps``,
        ``max_tilt_deg``, ``tempo_s`` or the mean of a list attribute (``rom_deg``, ``concentric_s`` …)."""
        if key in ("reps", "clean_reps", "faults", "faulty_reps"):
            return float(getattr(self, key))
        if key in ("max_tilt_deg", "tempo_s"):
            value: float | None = getattr(self, key)
            return value
        return self.mean(key)


def side_stats(result: SessionResult) -> dict[str, SideStats]:
    """Aggregate the reps of ``result`` by working side (``left``, ``right``, ``unknown``; in that
    order).  A leg lift (a rep with its own ``side``) counts for its lifted side."""
    stats: dict[str, SideStats] = {}
    for s in result.sets:
        seen: set[str] = set()
        for r in s.reps:
            name = side_name(r.side or s.side)
            st = stats.setdefault(name, SideStats(name))
            if name not in seen:
                st.sets += 1
                seen.add(name)
            st.reps += 1
            st.clean_reps += not r.faults
            st.rom_deg.append(r.rom_deg)
            st.concentric_s.append(r.concentric_s)
            st.top_hold_s.append(r.top_hold_s)
            st.eccentric_s.append(r.eccentric_s)
            if r.peak_tilt_deg is not None:
                st.peak_tilt_deg.append(r.peak_tilt_deg)
            for code in r.faults:
                st.fault_counts[code] = st.fault_counts.get(code, 0) + 1
        if not s.reps:
            stats.setdefault(side_name(s.side), SideStats(side_name(s.side))).sets += 1
    order = {side: i for i, side in enumerate(SIDE_ORDER)}
    return dict(sorted(stats.items(), key=lambda kv: order.get(kv[0], 3)))


def has_both_sides(stats: Mapping[str, SideStats]) -> bool:
    """Whether left and right can be compared."""
    return "left" in stats and "right" in stats


def left_right_asymmetry(stats: Mapping[str, SideStats], key: str) -> float | None:
    """Asymmetry (%) of figure ``key`` (see :meth:`SideStats.figure`) between left and right
    (None without both sides or when :func:`asymmetry_pct` has none)."""
    if not has_both_sides(stats):
        return None
    return asymmetry_pct(stats["left"].figure(key), stats["right"].figure(key))


@dataclass(frozen=True)
class LeftRightFigure:
    """One figure compared between the sides: its key (:meth:`SideStats.figure`), wording and limit.

    ``limit`` names the limit that judges a value (``"max_tilt"``: at most the tilt threshold;
    ``"min_hold"`` / ``"min_lowering"``: at least the squeeze / lowering target; ``""``: none; the
    asymmetry of a figure without a limit is flagged above :data:`ASYMMETRY_WARN_PCT`).
    """

    key: str
    label: str
    unit: str
    fmt: str
    limit: str = ""
    hip_only: bool = False


LEFT_RIGHT_FIGURES: Final = (
    LeftRightFigure("clean_reps", "Clean reps", "", "d"),
    LeftRightFigure("rom_deg", "Mean range of motion", "°", ".1f"),
    LeftRightFigure("concentric_s", "Mean lifting time (up)", "s", ".2f"),
    LeftRightFigure("top_hold_s", "Mean squeeze at the top", "s", ".2f", "min_hold"),
    LeftRightFigure("eccentric_s", "Mean lowering time (down)", "s", ".2f", "min_lowering"),
    LeftRightFigure("max_tilt_deg", "Largest hip drop (tilt)", "°", ".1f", "max_tilt", hip_only=True),
    LeftRightFigure("faulty_reps", "Reps with a fault", "", "d"),
)
"""The figures compared between left and right, in display order."""


def breaks_limit(
    figure: LeftRightFigure, value: float | None, *, tilt_deg: float, min_hold_s: float, min_lowering_s: float
) -> bool:
    """Whether ``value`` of ``figure`` breaks its limit (False without a limit or a value)."""
    if value is None:
        return False
    if figure.limit == "max_tilt":
        return value > tilt_deg
    if figure.limit == "min_hold":
        return value < min_hold_s
    if figure.limit == "min_lowering":
        return value < min_lowering_s
    return False


def asymmetry_flagged(figure: LeftRightFigure, pct: float | None) -> bool:
    """Whether the asymmetry ``pct`` of ``figure`` deserves a highlight: only for a figure without a
    limit (a limit judges the values themselves) and not for the count of faulty reps."""
    return pct is not None and not figure.limit and figure.key != "faulty_reps" and pct > ASYMMETRY_WARN_PCT


def _rounded(x: float | None) -> float | None:
    """``x`` to 4 decimals (the JSON keeps it as it is)."""
    return None if x is None else round(x, 4) + 0.0


def left_right(result: SessionResult) -> dict[str, object]:
    """The left-vs-right figures of ``result`` as plain JSON types (``coaching.left_right``)::

        {"sides": ["left", "right"], "figures": [{"key": "clean_reps", "label": "Clean reps",
          "unit": "", "left": 8.0, "right": 5.0, "asymmetry_pct": 37.5, "flagged": true,
          "breaks_limit": {"left": false, "right": false}}, ...]}

    ``asymmetry_pct`` is None without both sides.
    """
    f = result.settings.faults
    hip = result.placement == "hip"
    stats = side_stats(result)
    figures: list[dict[str, object]] = []
    for fig in LEFT_RIGHT_FIGURES:
        if fig.hip_only and not hip:
            continue
        values = {side: _rounded(st.figure(fig.key)) for side, st in stats.items()}
        pct = left_right_asymmetry(stats, fig.key)
        figures.append(
            {
                "key": fig.key,
                "label": fig.label,
                "unit": fig.unit,
                **values,
                "asymmetry_pct": _rounded(pct),
                "flagged": asymmetry_flagged(fig, pct),
                "breaks_limit": {
                    side: breaks_limit(
                        fig,
                        v,
                        tilt_deg=f.tilt_threshold_deg,
                        min_hold_s=f.min_top_hold_s,
                        min_lowering_s=f.min_eccentric_s,
                    )
                    for side, v in values.items()
                },
            }
        )
    return {"sides": list(stats), "figures": figures}


def left_right_line(result: SessionResult) -> str:
    """One line comparing the sides, e.g. ``"Left vs right: clean reps 8 vs 5 (asymmetry 38 %) · …"``
    ("" without both sides)."""
    stats = side_stats(result)
    if not has_both_sides(stats):
        return ""
    parts = []
    for fig in LEFT_RIGHT_FIGURES:
        if fig.hip_only and result.placement != "hip":
            continue
        a, b = stats["left"].figure(fig.key), stats["right"].figure(fig.key)
        if a is None or b is None:
            continue
        pct = left_right_asymmetry(stats, fig.key)
        spec = ".0f" if fig.fmt == "d" else fig.fmt
        unit = f" {fig.unit}" if fig.unit and fig.unit != "°" else fig.unit
        asym = "" if pct is None else f" ({pct:.0f} %)"
        parts.append(f"{fig.label.lower()} {a:{spec}}{unit} vs {b:{spec}}{unit}{asym}")
    return "Left vs right (asymmetry = |L − R| / larger): " + " · ".join(parts)
