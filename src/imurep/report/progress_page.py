"""The progress page: training history of one exercise over time, per leg.

Four plots against the session date: clean reps per set (with the exercise's rep range), tempo
(mean squeeze and lowering with their targets), the largest pelvis tilt (with the threshold) and
the left–right asymmetry of the clean reps; the progression advice is the page's verdict.

:func:`progress_page` gives a :class:`~imurep.report.render.ReportPage` to append to a report;
:func:`write_progress_page` writes the page alone (``imurep progress --report FILE``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import matplotlib
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter, date2num
from matplotlib.figure import Figure

from imurep.coaching.advice import SetStats
from imurep.coaching.exercises import Catalog, ExerciseProfile
from imurep.coaching.history import SetRow
from imurep.coaching.trends import (
    PROGRESS_COLUMNS,
    PROGRESS_NOTE,
    progress_advice,
    progress_table,
    weekly_trends,
)
from imurep.model.errors import SettingsError
from imurep.report.drawing import PAGE_WIDTH_IN, mark_charts
from imurep.report.render import ReportPage, figure_png, write_pdf
from imurep.report.stats import ASYMMETRY_WARN_PCT, SessionPoint, clean_rep_asymmetry, session_points
from imurep.report.style import PHASE_COLORS, RC_STYLE, SIDE_COLORS, WARN_COLOR

logger = logging.getLogger(__name__)

PROGRESS_SUFFIXES = (".png", ".pdf", ".html")
_LEG_COLORS = {**SIDE_COLORS, "both": "#2E7D32"}


def _legs(points: Sequence[SessionPoint]) -> list[str]:
    order = ["left", "right", "both", "unknown"]
    return [leg for leg in order if any(p.leg == leg for p in points)]


def _series(points: Sequence[SessionPoint], leg: str, attr: str) -> tuple[list[float], list[float]]:
    """Dates (matplotlib date numbers) and values of ``attr`` of one leg."""
    xs: list[float] = []
    ys: list[float] = []
    for p in points:
        v = getattr(p, attr)
        if p.leg == leg and v is not None:
            xs.append(float(date2num(p.when)))
            ys.append(float(v))
    return xs, ys


def _dates(ax: Axes) -> None:
    ax.xaxis_date()
    loc = AutoDateLocator(minticks=3, maxticks=8)
    ax.xaxis.set_major_locator(loc)
    ax.xaxis.set_major_formatter(ConciseDateFormatter(loc))


def build_progress_figure(rows: Sequence[SetRow], profile: ExerciseProfile, headline: str = "") -> Figure:
    """The progress page of ``profile``'s stored sets ``rows``."""
    points = session_points(rows, profile)
    legs = _legs(points)
    fig = Figure(figsize=(PAGE_WIDTH_IN, 8.5))
    FigureCanvasAgg(fig)
    fig.suptitle(f"Progress — {profile.title}", x=0.02, ha="left", fontsize=15, fontweight="bold")
    n_sessions = len({r.session_id for r in rows})
    fig.text(0.02, 0.925, f"{n_sessions} session(s), {len(rows)} set(s). {headline}", fontsize=9.5, wrap=True)
    gs = fig.add_gridspec(2, 2, left=0.07, right=0.98, top=0.86, bottom=0.07, hspace=0.38, wspace=0.2)
    mark_charts(fig, 0.8, None, 0.0)  # the HTML page shows the title and the advice as text
    ax_reps, ax_tempo = fig.add_subplot(gs[0, 0]), fig.add_subplot(gs[0, 1])
    ax_tilt, ax_asym = fig.add_subplot(gs[1, 0]), fig.add_subplot(gs[1, 1])

    lo, hi = profile.rep_range
    ax_reps.axhspan(
        lo, hi, color=_LEG_COLORS["both"], alpha=0.12, lw=0, label=f"target {lo}–{hi}", gid="target"
    )
    for leg in legs:
        xs, ys = _series(points, leg, "clean_reps")
        ax_reps.plot(xs, ys, "o-", color=_LEG_COLORS.get(leg, "#777777"), label=leg, gid=f"clean:{leg}")
    ax_reps.set_title("Clean reps per set")
    ax_reps.set_ylabel("reps")
    ax_reps.set_ylim(bottom=0)
    ax_reps.legend(loc="lower right")

    for leg in legs:
        colour = _LEG_COLORS.get(leg, "#777777")
        xs, ys = _series(points, leg, "top_hold_s")
        ax_tempo.plot(xs, ys, "s-", color=colour, mfc=PHASE_COLORS["top_hold"], label=f"{leg} squeeze")
        xs, ys = _series(points, leg, "eccentric_s")
        ax_tempo.plot(xs, ys, "v--", color=colour, mfc=PHASE_COLORS["eccentric"], label=f"{leg} down")
    if profile.min_top_hold_s == profile.min_eccentric_s:  # one line, named for both
        ax_tempo.axhline(
            profile.min_top_hold_s,
            color="#555555",
            ls=":",
            label=f"squeeze and down target {profile.min_top_hold_s:g} s",
        )
    else:
        ax_tempo.axhline(
            profile.min_top_hold_s,
            color=PHASE_COLORS["top_hold"],
            ls=(0, (4, 2)),
            lw=1.6,
            zorder=3,
            label=f"squeeze target {profile.min_top_hold_s:g} s",
        )
        ax_tempo.axhline(
            profile.min_eccentric_s,
            color=PHASE_COLORS["eccentric"],
            ls=":",
            lw=1.6,
            zorder=2,
            label=f"down target {profile.min_eccentric_s:g} s",
        )
    ax_tempo.set_title("Tempo (mean per training day)")
    ax_tempo.set_ylabel("s")
    ax_tempo.set_ylim(bottom=0)
    ax_tempo.legend(loc="lower right", ncol=2, fontsize=7.5)

    has_tilt = False
    for leg in legs:
        xs, ys = _series(points, leg, "max_tilt_deg")
        has_tilt = has_tilt or bool(ys)
        ax_tilt.plot(xs, ys, "o-", color=_LEG_COLORS.get(leg, "#777777"), label=leg)
    ax_tilt.axhline(
        profile.tilt_threshold_deg, color="#D62728", ls="--", label="threshold", gid="tilt-threshold"
    )
    ax_tilt.set_title("Largest pelvis tilt" + ("" if has_tilt else " (no hip-sensor sessions)"))
    ax_tilt.set_ylabel("°")
    ax_tilt.set_ylim(bottom=0)
    ax_tilt.legend(loc="upper right")

    asym = clean_rep_asymmetry(points)
    xs = [float(date2num(w)) for w, a in asym if a is not None]
    ys = [a for _, a in asym if a is not None]
    ax_asym.bar(xs, ys, width=0.8, color="#777777", gid="asymmetry")
    # a marker and the value on every day, so that a perfectly even day (0 %) shows too
    ax_asym.plot(xs, ys, linestyle="none", marker="o", color="#333333", markersize=4, gid="asymmetry-points")
    for x, y in zip(xs, ys, strict=True):
        ax_asym.text(x, y, f"{y:.0f} %", ha="center", va="bottom", fontsize=7.5)
    ax_asym.axhline(ASYMMETRY_WARN_PCT, color=WARN_COLOR, ls=":", label=f"{ASYMMETRY_WARN_PCT:g} %")
    ax_asym.set_title("Left–right asymmetry of clean reps" + ("" if ys else " (needs both legs)"))
    ax_asym.set_ylabel("% of the stronger leg")
    ax_asym.set_ylim(0, max([*ys, ASYMMETRY_WARN_PCT]) * 1.3)
    ax_asym.legend(loc="upper right")
    when = [float(date2num(p.when)) for p in points]
    for ax in (ax_reps, ax_tempo, ax_tilt, ax_asym):
        _dates(ax)
        if when:  # the same date span on every plot, at least a week wide
            ax.set_xlim(min(when) - 3.5, max(max(when), min(when) + 7.0) + 2.0)  # room for the last bar
    return fig


def progress_page(
    rows: Sequence[SetRow],
    profile: ExerciseProfile,
    sessions: Sequence[Sequence[SetStats]] | None = None,
    *,
    catalog: Catalog,
) -> ReportPage:
    """The progress page as a report page (name ``"progress"``); its verdict is the advice
    (:func:`~imurep.coaching.advice.advise` with the profiles and rules of ``catalog``)."""
    headline = progress_advice(rows, profile, sessions, catalog=catalog)[0]
    with matplotlib.rc_context(RC_STYLE):
        fig = build_progress_figure(rows, profile, headline)
    return ReportPage("progress", f"Progress — {profile.title}", headline, fig)


def check_progress_path(out: str | Path) -> None:
    """Refuse an output the progress page cannot be written to (SettingsError)."""
    p = Path(out)
    if p.suffix.lower() not in PROGRESS_SUFFIXES:
        raise SettingsError(f"progress page {out}: give a file ending in {', '.join(PROGRESS_SUFFIXES)}")
    if not p.resolve().parent.is_dir():
        raise SettingsError(f"progress page {out}: the folder {p.parent} does not exist")


def write_progress_page(
    rows: Sequence[SetRow],
    profile: ExerciseProfile,
    out: str | Path,
    *,
    sessions: Sequence[Sequence[SetStats]] | None = None,
    catalog: Catalog,
) -> Path:
    """Write the progress page alone to ``out`` (.png, .pdf or .html, by suffix)."""
    check_progress_path(out)
    out = Path(out)
    page = progress_page(rows, profile, sessions, catalog=catalog)
    try:
        suffix = out.suffix.lower()
        if suffix == ".pdf":
            write_pdf([page], out, title=page.title)
        else:
            png = figure_png(page.figure)
            if suffix == ".png":
                out.write_bytes(png)
            else:
                out.write_text(_progress_html(rows, profile, sessions, catalog, page, png), encoding="utf-8")
    finally:
        page.figure.clear()
    logger.info("progress page written to %s", out)
    return out


def _progress_html(
    rows: Sequence[SetRow],
    profile: ExerciseProfile,
    sessions: Sequence[Sequence[SetStats]] | None,
    catalog: Catalog,
    page: ReportPage,
    png: bytes,
) -> str:
    """The progress page alone as a responsive HTML page (:func:`~imurep.report.html.build_progress_html`)."""
    from imurep.report.html import build_progress_html

    days = sorted(r.recorded_at for r in rows)
    n_sessions = len({r.session_id for r in rows})
    span = f"{days[0]:%d %b %Y}" + (f" to {days[-1]:%d %b %Y}" if days[-1].date() != days[0].date() else "")
    return build_progress_html(
        page,
        png,
        advice=progress_advice(rows, profile, sessions, catalog=catalog),
        header=PROGRESS_COLUMNS,
        rows=progress_table(weekly_trends(rows, profile, catalog.rules)),
        note=PROGRESS_NOTE,
        context=f"{n_sessions} session(s), {len(rows)} set(s), {span}",
        title=f"imurep — {page.title}",
    )
