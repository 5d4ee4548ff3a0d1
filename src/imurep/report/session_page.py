"""The session page: left vs right, fatigue trends, data quality and a table of the sets.

Left vs right: reps, ROM, tempo, tilt and faults per working side, each with the left–right
asymmetry in %; fatigue: lifting time and pelvis tilt against the rep number, one line per set;
then the left-vs-right and data-quality tables and one row per set.  Artists tests look for carry
a ``gid``: ``side:<figure>`` for the side bars and ``trend:<concentric|tilt>:<set>`` for the
fatigue lines.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from imurep.model.codes import FAULT_LABELS, FAULTS, METRICS, PHASE_METRIC
from imurep.model.results import SessionResult
from imurep.report.drawing import draw_notes, draw_table, mark_charts, new_figure, page_header, tint
from imurep.report.stats import (
    LEFT_RIGHT_FIGURES,
    SideStats,
    asymmetry_flagged,
    breaks_limit,
    fatigue_series,
    has_both_sides,
    is_hip,
    left_right_asymmetry,
    quality_figures,
    side_name,
    side_stats,
    thresholds,
)
from imurep.report.style import FAULT_COLORS, NOTE_FILL, PHASE_COLORS, SIDE_COLORS, WARN_FILL
from imurep.report.text import (
    MISSING,
    baseline_text,
    context_line,
    exercise_title,
    fmt,
    label,
    no_sets_hint,
    phase_label,
    session_verdict,
    set_name,
    sides_heading,
)

# --- session page --------------------------------------------------------------------------------


def _side_colour(side: str) -> str:
    return SIDE_COLORS.get(side, SIDE_COLORS["unknown"])


def _asym_title(base: str, stats: dict[str, SideStats], key: str) -> str:
    """``base`` and, on a second line, the left–right asymmetry of figure ``key`` (if any)."""
    pct = left_right_asymmetry(stats, key)
    if pct is not None:
        return f"{base}\nasymmetry {pct:.0f} %"
    return f"{base}\n "


def _draw_sides(fig: Figure, gs: Any, result: SessionResult, stats: dict[str, SideStats]) -> None:
    hip = is_hip(result)
    th = thresholds(result)
    sides = list(stats)
    x = np.arange(len(sides), dtype=float)
    colours = [_side_colour(s) for s in sides]
    n_panels = 5 if hip else 4
    axes = [fig.add_subplot(gs[0, i]) for i in range(n_panels)]
    for ax in axes[:-1]:
        ax.grid(axis="x", visible=False)
        ax.set_xticks(x, [s.capitalize() for s in sides])
        ax.set_xlim(-0.7, len(sides) - 0.3)
    if not sides:
        for ax in axes:
            ax.text(0.5, 0.5, "no sets", transform=ax.transAxes, ha="center", color="#666666")
    # Reps: clean (solid) and with a fault (light) stacked; the asymmetry is that of the clean reps
    ax = axes[0]
    clean = [stats[s].clean_reps for s in sides]
    faulty = [stats[s].faulty_reps for s in sides]
    ax.bar(x, clean, 0.6, color=colours, gid="side:reps", label="clean")
    ax.bar(x, faulty, 0.6, bottom=clean, color=colours, alpha=0.35, label="with a fault")
    for xi, c, f in zip(x, clean, faulty, strict=True):
        ax.text(xi, c + f, f"{c + f}\n{c} clean", ha="center", va="bottom", fontsize=7.5)
    ax.set_ylim(0, max((c + f for c, f in zip(clean, faulty, strict=True)), default=1) * 1.35 + 0.5)
    ax.set_title(_asym_title("Reps (clean solid)", stats, "clean_reps"), fontsize=10)
    # ROM: mean ± sd
    ax = axes[1]
    means = [stats[s].mean("rom_deg") or 0.0 for s in sides]
    sds = [stats[s].sd("rom_deg") for s in sides]
    ax.bar(x, means, 0.6, yerr=sds, capsize=4, color=colours, gid="side:rom")
    for xi, mean, sd in zip(x, means, sds, strict=True):
        ax.text(xi, mean + sd, f"{mean:.1f}°", ha="center", va="bottom", fontsize=8)
    ax.set_ylim(0, max((m + d for m, d in zip(means, sds, strict=True)), default=1.0) * 1.25 + 1.0)
    ax.set_ylabel("Range of motion (°)")
    ax.set_title(_asym_title("Range, mean ± SD", stats, "rom_deg"), fontsize=10)
    # Tempo: stacked means, legend under the axis (never over the bars)
    ax = axes[2]
    bottom = np.zeros(len(sides))
    for phase in ("concentric", "top_hold", "eccentric"):
        seg = np.array([stats[s].mean(PHASE_METRIC[phase]) or 0.0 for s in sides])
        ax.bar(
            x,
            seg,
            0.6,
            bottom=bottom,
            color=PHASE_COLORS[phase],
            label=phase_label(phase),
            edgecolor=colours,
            linewidth=1.5,
        )
        for xi, b, vi in zip(x, bottom, seg, strict=True):
            if vi > 0.25:
                ax.text(xi, b + vi / 2, f"{vi:.1f}", ha="center", va="center", fontsize=7.5)
        bottom = bottom + seg
    ax.set_ylim(0, max(float(bottom.max(initial=0.0)) * 1.15, 1.0))
    ax.set_ylabel("Mean time per rep (s)")
    ax.legend(
        loc="upper center",
        bbox_to_anchor=(0.5, -0.12),
        ncol=3,
        fontsize=7,
        handlelength=1.0,
        columnspacing=0.6,
    )
    ax.set_title("Tempo, mean per rep\n ", fontsize=10)
    # Tilt (hip only): the largest hip drop per side as the bar (the figure the table shows), the
    # mean of the reps' peaks as a tick
    if hip:
        ax = axes[3]
        max_t = [stats[s].max_tilt_deg or 0.0 for s in sides]
        mean_t = [stats[s].mean("peak_tilt_deg") or 0.0 for s in sides]
        thr = th.tilt_deg
        bar_colours = [
            FAULT_COLORS["hip_tilt"] if v > thr else c for v, c in zip(max_t, colours, strict=True)
        ]
        ax.bar(x, max_t, 0.6, color=bar_colours, gid="side:tilt")
        ax.plot(x, mean_t, linestyle="none", marker="_", markersize=22, color="#333333", label="mean of reps")
        for xi, v in zip(x, max_t, strict=True):
            ax.text(xi, v, f"{v:.1f}°", ha="center", va="bottom", fontsize=8)
        ax.axhline(
            thr, color=FAULT_COLORS["hip_tilt"], linestyle="--", linewidth=1.0, label=f"limit {thr:g}°"
        )
        ax.set_ylim(0, max(max(max_t, default=0.0), thr) * 1.3)
        ax.set_ylabel("Largest hip drop of a rep (°)")
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=2, fontsize=7)
        ax.set_title(_asym_title("Hip drop, largest", stats, "max_tilt_deg"), fontsize=10)
    # Faults: one horizontal group per code (labels never collide)
    ax = axes[-1]
    codes = [c for c in FAULTS if hip or c != "hip_tilt"]
    n = max(len(sides), 1)
    h = 0.55 / n
    yc = np.arange(len(codes), dtype=float)[::-1]
    for k, side in enumerate(sides):
        counts = [stats[side].fault_counts.get(c, 0) for c in codes]
        ax.barh(yc - 0.2 - h * k, counts, h, color=_side_colour(side), label=side.capitalize())
    for y_code, code in zip(yc, codes, strict=True):  # the fault's name above its bars, in the panel
        ax.text(
            0.02,
            float(y_code) + 0.08,
            FAULT_LABELS[code],
            color=FAULT_COLORS[code],
            fontsize=8,
            va="bottom",
            ha="left",
            transform=ax.get_yaxis_transform(),
        )
    ax.set_yticks([])
    ax.set_ylim(-0.85, len(codes) - 0.35)
    xmax = max((stats[s].fault_counts.get(c, 0) for s in sides for c in codes), default=0)
    ax.set_xlim(0, max(xmax, 1) * 1.15 + 0.3)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(axis="y", visible=False)
    ax.set_xlabel("Reps with the fault")
    if sides:
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=len(sides), fontsize=7)
    ax.set_title(_asym_title("Faults", stats, "faulty_reps"), fontsize=10)


def _draw_trends(ax_conc: Axes, ax_tilt: Axes | None, result: SessionResult) -> None:
    """Lifting time (and, hip sensor only, the hip drop) per rep, one line per set."""
    markers = "osD^vP*X<>"
    styles = ["-", "--", ":", "-."]
    for k, s in enumerate(result.sets):
        colour = _side_colour(side_name(s.side))
        series = fatigue_series(s)
        kw: dict[str, Any] = {
            "color": colour,
            "marker": markers[k % len(markers)],
            "markersize": 4,
            "linestyle": styles[(k // 2) % len(styles)],
            "linewidth": 1.2,
            "label": set_name(s),
        }
        ax_conc.plot(series.rep_index, series.concentric_s, gid=f"trend:concentric:{s.index}", **kw)
        if ax_tilt is not None:
            ax_tilt.plot(series.rep_index, series.peak_tilt_deg, gid=f"trend:tilt:{s.index}", **kw)
    ax_conc.set_title("Fatigue: lifting time across the set")
    ax_conc.set_xlabel(METRICS["index"].label)
    ax_conc.set_ylabel(label("concentric_s"))
    top = max((r.concentric_s for s in result.sets for r in s.reps), default=1.0)
    ax_conc.set_ylim(0, top * 1.45)  # from 0: a 0.2 s wobble must not look like a collapse
    axes = [ax_conc]
    if ax_tilt is not None:
        axes.append(ax_tilt)
        thr = thresholds(result).tilt_deg
        ax_tilt.set_title("Fatigue: hip drop across the set")
        ax_tilt.set_xlabel(METRICS["index"].label)
        ax_tilt.axhline(
            thr, color=FAULT_COLORS["hip_tilt"], linestyle="--", linewidth=1.0, label=f"limit {thr:g}°"
        )
        ax_tilt.set_ylabel("Hip drop, largest per rep (°)")
        peaks = [r.peak_tilt_deg or 0.0 for s in result.sets for r in s.reps]
        ax_tilt.set_ylim(0, max(max(peaks, default=0.0), thr) * 1.45)
    for ax in axes:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        if result.sets and len(result.sets) <= 12:  # legend in the free band above the lines
            ncol = min(len(result.sets) + (ax is not ax_conc), 4)
            ax.legend(loc="upper center", fontsize=7, ncol=ncol)


def _rep_refs(pairs: list[tuple[int, int]]) -> str:
    """``"set 1: reps 4, 9 · set 2: rep 3"``."""
    by_set: dict[int, list[int]] = {}
    for set_index, rep in pairs:
        by_set.setdefault(set_index, []).append(rep)
    return " · ".join(
        f"set {k}: {'rep' if len(v) == 1 else 'reps'} {', '.join(map(str, v))}" for k, v in by_set.items()
    )


def quality_rows(result: SessionResult) -> tuple[list[list[str]], list[list[str]]]:
    """The data-quality table in plain words (rows of two cells, and their fills)."""
    q = quality_figures(result)
    hip = is_hip(result)
    rate = f"{q.sample_rate_hz:.1f}"
    if q.nominal_rate_hz is not None:
        rate += f" (stated {q.nominal_rate_hz:g})"
    gaps = "none" if not q.n_gaps else f"{q.n_gaps} ({q.gap_total_s:.2f} s in total)"
    slips = (
        "none"
        if not q.strap_slips
        else " · ".join(f"set {k} at {t:.0f} s" for k, t in q.strap_slips) + " (re-levelled there)"
    )
    uncertain = "none" if not q.uncertain_reps else _rep_refs(q.uncertain_reps) + " (maybe not one rep)"
    rows = [
        [label("sample_rate_hz"), rate],
        [
            METRICS["duration_s"].label,
            f"{q.duration_s / 60:.1f} min ({fmt(q.n_samples, 'n_samples')} samples)",
        ],
        ["Data missing (gaps)", gaps],
        ["Sensor lying still", f"{q.still_fraction * 100:.0f} % of the time (used to zero the gyro)"],
        ["Strap slipped or re-fitted", slips],
        ["Uncertain reps", uncertain],
    ]
    if hip:
        for index, source in q.baselines[:6]:
            rows.append([f"Level reference, set {index}", baseline_text(source, hip)])
        if len(q.baselines) > 6:
            n_sets = len(q.baselines)
            rows.append(
                ["Level reference, all sets", f"still start in {q.n_start_position} of {n_sets} sets"]
            )
    colours = []
    for name, value in rows:
        c = ["white", "white"]
        if value != "none" and name in (
            "Data missing (gaps)",
            "Strap slipped or re-fitted",
            "Uncertain reps",
        ):
            c[1] = NOTE_FILL
        if "first rep" in value:
            c[1] = NOTE_FILL
        colours.append(c)
    return rows, colours


def comparison_rows(
    stats: dict[str, SideStats], result: SessionResult
) -> tuple[list[str], list[list[str]], list[list[str]]]:
    """The left-vs-right table: :data:`~imurep.coaching.trends.LEFT_RIGHT_FIGURES`, a value tinted
    when it breaks its limit, an asymmetry only when the figure has no limit of its own."""
    hip = is_hip(result)
    th = thresholds(result)
    sides = list(stats)
    both = has_both_sides(stats)
    header = ["", *[s.capitalize() for s in sides]] + ([label("asymmetry_pct")] if both else [])
    rows: list[list[str]] = [["Reps", *[str(stats[s].reps) for s in sides]] + ([MISSING] if both else [])]
    colours: list[list[str]] = [["white"] * len(rows[0])]
    for figure in LEFT_RIGHT_FIGURES:
        if figure.hip_only and not hip:
            continue
        unit = f" ({figure.unit})" if figure.unit else ""
        cells = [figure.label + unit]
        c = ["white"]
        for s in sides:
            v = stats[s].figure(figure.key)
            cells.append(MISSING if v is None else format(int(v) if figure.fmt == "d" else v, figure.fmt))
            broken = breaks_limit(
                figure,
                v,
                tilt_deg=th.tilt_deg,
                min_hold_s=th.min_top_hold_s,
                min_lowering_s=th.min_eccentric_s,
            )
            c.append(WARN_FILL if broken else "white")
        if both:
            pct = left_right_asymmetry(stats, figure.key)
            cells.append(MISSING if pct is None else f"{pct:.0f}")
            c.append(WARN_FILL if asymmetry_flagged(figure, pct) else "white")
        rows.append(cells)
        colours.append(c)
    return header, rows, colours


def set_rows(result: SessionResult) -> tuple[list[str], list[list[str]], list[list[str]]]:
    hip = is_hip(result)
    codes = [c for c in FAULTS if hip or c != "hip_tilt"]
    header = [
        "Set",
        "Side",
        METRICS["reps"].label,
        "Clean",
        "TUT (s)",
        "Mean " + label("rom_deg"),
        "Up / Squeeze / Down (s)",
    ]
    if hip:
        header.append("Max " + label("peak_tilt_deg"))
    header += [FAULT_LABELS[c].capitalize().replace(" ", "\n", 1) for c in codes]
    rows: list[list[str]] = []
    colours: list[list[str]] = []
    for s in result.sets:
        m = s.summary
        tempo = " / ".join(
            fmt(v, "concentric_s") for v in (m.mean_concentric_s, m.mean_top_hold_s, m.mean_eccentric_s)
        )
        row = [
            str(s.index),
            side_name(s.side),
            str(m.reps),
            str(m.clean_reps),
            fmt(m.time_under_tension_s, "time_under_tension_s"),
            fmt(m.mean_rom_deg, "rom_deg"),
            tempo,
        ]
        if hip:
            row.append(fmt(m.max_peak_tilt_deg, "peak_tilt_deg"))
        n_fixed = len(row)
        row += [str(m.fault_counts.get(c, 0)) for c in codes]
        rows.append(row)
        fills = ["white"] * n_fixed + [
            tint(FAULT_COLORS[c]) if m.fault_counts.get(c, 0) else "white" for c in codes
        ]
        colours.append(fills)
    return header, rows, colours


def build_session_figure(result: SessionResult, advice: Sequence[str] = ()) -> Figure:
    """The session page: left vs right, fatigue trends, data quality, the set table and the advice.

    Parameters
    ----------
    result
        The analysis.
    advice
        The progression advice as lines (:meth:`imurep.coaching.advice.Advice.lines`), at the foot.
    """
    if not result.sets:
        return _build_no_sets_figure(result)
    hip = is_hip(result)
    stats = side_stats(result)
    n_set_rows = len(result.sets) + 1
    q_rows, q_colours = quality_rows(result)
    c_header, c_rows, c_colours = comparison_rows(stats, result)
    mid_rows = max(len(q_rows), len(c_rows)) + 1
    mid_in = 0.26 * mid_rows + 0.2
    set_in = 0.26 * n_set_rows + 0.2
    advice_in = 0.5 + 0.36 * max(len(advice), 1)
    height = 2.45 + 3.4 + 3.1 + mid_in + set_in + advice_in + 2.0
    fig = new_figure(height)
    top_in = page_header(
        fig,
        f"Session report · {exercise_title(result)}",
        session_verdict(result),
        context_line(result),
        height,
    )
    gs = fig.add_gridspec(
        5,
        1,
        height_ratios=[3.4, 3.1, mid_in, set_in, advice_in],
        left=0.07,
        right=0.97,
        top=1.0 - (top_in + 1.1) / height,
        bottom=0.2 / height,
        hspace=0.45,
    )
    ratios = [1.0, 0.9, 1.0, 0.9, 1.5] if hip else [1.0, 0.9, 1.0, 1.5]
    gs_sides = gs[0].subgridspec(1, len(ratios), wspace=0.6, width_ratios=ratios)
    _draw_sides(fig, gs_sides, result, stats)
    fig.text(
        0.05, 1.0 - (top_in + 0.3) / height, sides_heading(stats), fontsize=13, fontweight="bold", va="top"
    )
    gs_trend = gs[1].subgridspec(1, 2 if hip else 1, wspace=0.2)
    _draw_trends(fig.add_subplot(gs_trend[0, 0]), fig.add_subplot(gs_trend[0, 1]) if hip else None, result)
    gs_mid = gs[2].subgridspec(1, 2, wspace=0.08, width_ratios=[1.15, 1.0])
    ax_cmp = fig.add_subplot(gs_mid[0, 0])
    n_cols = len(c_header)
    cmp_widths = [0.44] + [0.56 / max(n_cols - 1, 1)] * (n_cols - 1)
    draw_table(ax_cmp, c_header, c_rows, c_colours, cmp_widths, font_size=8.5)
    ax_cmp.set_title(
        "Left vs right" + (" (asymmetry = difference / larger side)" if has_both_sides(stats) else ""),
        pad=8,
    )
    ax_q = fig.add_subplot(gs_mid[0, 1])
    draw_table(ax_q, ["Measure", "Value"], q_rows, q_colours, [0.38, 0.62], font_size=8)
    ax_q.set_title("Data quality", pad=8)
    ax_sets = fig.add_subplot(gs[3])
    s_header, s_rows, s_colours = set_rows(result)
    fixed = [0.05, 0.07, 0.06, 0.06, 0.08, 0.11, 0.17] + ([0.10] if hip else [])
    n_codes = len(s_header) - len(fixed)
    widths = fixed + [(1.0 - sum(fixed)) / max(n_codes, 1)] * n_codes
    draw_table(ax_sets, s_header, s_rows, s_colours, widths, font_size=8.5)
    ax_sets.set_title("Sets", pad=8)
    draw_notes(fig.add_subplot(gs[4]), "Progression advice", advice)
    mark_charts(fig, top_in + 0.1, ax_cmp, 0.4)
    return fig


def _build_no_sets_figure(result: SessionResult) -> Figure:
    """The session page of a recording without sets: says so, with what to check and its data
    quality."""
    q_rows, q_colours = quality_rows(result)
    table_in = 0.26 * (len(q_rows) + 1) + 0.2
    height = 1.9 + table_in + 0.5
    fig = new_figure(height)
    note = (
        f"{Path(result.source).name or 'recording'} · {result.placement} sensor · "
        f"{result.quality.duration_s / 60:.1f} min at {result.quality.sample_rate_hz:.0f} Hz"
    )
    page_header(fig, "Session report", session_verdict(result), note, height)
    hint = fig.text(0.05, 1.0 - 1.25 / height, no_sets_hint(result), fontsize=10, va="top", wrap=True)
    hint.set_color("#444444")
    ax_q = fig.add_axes((0.07, 0.3 / height, 0.6, table_in / height))
    draw_table(ax_q, ["Measure", "Value"], q_rows, q_colours, [0.38, 0.62], font_size=8.5)
    ax_q.set_title("Data quality", pad=8)
    return fig
