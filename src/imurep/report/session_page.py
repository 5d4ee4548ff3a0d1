"""The session page: left vs right, fatigue trends, data quality and a table of the sets.

Left vs right: reps, ROM, tempo, tilt and faults per working side, each with the left–right
asymmetry in %; fatigue: lifting time and pelvis tilt against the rep number, one line per set;
then the left-vs-right and data-quality tables and one row per set.  Artists tests look for carry
a ``gid``: ``side:<figure>`` for the side bars and ``trend:<concentric|tilt>:<set>`` for the
fatigue lines.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from imurep.model.codes import FAULT_LABELS, FAULTS, METRICS, PHASE_METRIC
from imurep.model.results import SessionResult
from imurep.report.drawing import draw_table, new_figure, page_header, tint
from imurep.report.stats import (
    ASYMMETRY_WARN_PCT,
    SideStats,
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
    sides = list(stats)
    x = np.arange(len(sides), dtype=float)
    colours = [_side_colour(s) for s in sides]
    axes = [fig.add_subplot(gs[0, i]) for i in range(5)]
    for ax in axes:
        ax.grid(axis="x", visible=False)
        ax.set_xticks(x, [s.capitalize() for s in sides])
        ax.set_xlim(-0.7, len(sides) - 0.3)
    if not sides:
        for ax in axes:
            ax.text(0.5, 0.5, "no sets", transform=ax.transAxes, ha="center", color="#666666")
    # Reps
    ax = axes[0]
    vals = [stats[s].reps for s in sides]
    ax.bar(x, vals, 0.6, color=colours, gid="side:reps")
    for xi, v, s in zip(x, vals, sides, strict=True):
        ax.text(xi, v, f"{v}\n{stats[s].clean_reps} clean", ha="center", va="bottom", fontsize=7.5)
    ax.set_ylim(0, max(vals, default=1) * 1.35 + 0.5)
    ax.set_title(_asym_title(METRICS["reps"].label, stats, "reps"), fontsize=10)
    # ROM: mean ± sd
    ax = axes[1]
    means = [stats[s].mean("rom_deg") or 0.0 for s in sides]
    sds = [stats[s].sd("rom_deg") for s in sides]
    ax.bar(x, means, 0.6, yerr=sds, capsize=4, color=colours, gid="side:rom")
    for xi, mean, sd in zip(x, means, sds, strict=True):
        ax.text(xi, mean + sd, f"{mean:.1f}°", ha="center", va="bottom", fontsize=8)
    ax.set_ylim(0, max((m + d for m, d in zip(means, sds, strict=True)), default=1.0) * 1.25 + 1.0)
    ax.set_ylabel(label("rom_deg"))
    ax.set_title(_asym_title("ROM, mean ± SD", stats, "rom_deg"), fontsize=10)
    # Tempo: stacked means
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
    ax.set_ylim(0, max(float(bottom.max(initial=0.0)) * 1.4, 1.0))
    ax.set_ylabel("Mean time per rep (s)")
    ax.legend(loc="upper center", ncol=3, fontsize=7, handlelength=1.0, columnspacing=0.6)
    ax.set_title(_asym_title("Tempo, mean per rep", stats, "tempo_s"), fontsize=10)
    # Tilt
    ax = axes[3]
    if is_hip(result):
        mean_t = [stats[s].mean("peak_tilt_deg") or 0.0 for s in sides]
        max_t = [max(stats[s].peak_tilt_deg, default=0.0) for s in sides]
        ax.bar(x, mean_t, 0.6, color=colours, gid="side:tilt")
        ax.plot(x, max_t, linestyle="none", marker="_", markersize=22, color="#333333", label="max")
        thr = thresholds(result).tilt_deg
        ax.axhline(
            thr, color=FAULT_COLORS["hip_tilt"], linestyle="--", linewidth=1.0, label=f"limit {thr:g}°"
        )
        ax.set_ylim(0, max(max(max_t, default=0.0), thr) * 1.3)
        ax.set_ylabel("Peak tilt per rep (°)")
        ax.legend(loc="upper center", ncol=2, fontsize=7)
        ax.set_title(_asym_title("Tilt, mean and max", stats, "peak_tilt_deg"), fontsize=10)
    else:
        ax.set_title("Tilt\n ", fontsize=10)
        ax.axis("off")
        ax.text(
            0.5,
            0.5,
            "not measured\nwith the sensor\non the thigh",
            transform=ax.transAxes,
            ha="center",
            va="center",
            color="#666666",
        )
    # Faults: grouped by code
    ax = axes[4]
    codes = list(FAULTS)
    n = max(len(sides), 1)
    w = 0.8 / n
    xc = np.arange(len(codes), dtype=float)
    for k, side in enumerate(sides):
        counts = [stats[side].fault_counts.get(c, 0) for c in codes]
        ax.bar(xc - 0.4 + w * (k + 0.5), counts, w, color=_side_colour(side), label=side.capitalize())
    ax.set_xticks(xc, ["hips\ntilted", "rushed\nlowering", "short\nsqueeze", "partial\nrange"], fontsize=7.5)
    ax.set_xlim(-0.6, len(codes) - 0.4)
    for tick, c in zip(ax.get_xticklabels(), codes, strict=True):
        tick.set_color(FAULT_COLORS[c])
    ymax = max((stats[s].fault_counts.get(c, 0) for s in sides for c in codes), default=0)
    ax.set_ylim(0, max(ymax, 1) * 1.3 + 0.3)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel("Faulty reps")
    if sides:
        ax.legend(loc="upper right", fontsize=7)
    ax.set_title(_asym_title("Faults", stats, "faults"), fontsize=10)


def _draw_trends(ax_conc: Axes, ax_tilt: Axes, result: SessionResult) -> None:
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
        if is_hip(result):
            ax_tilt.plot(series.rep_index, series.peak_tilt_deg, gid=f"trend:tilt:{s.index}", **kw)
    ax_conc.set_title("Fatigue: lifting time across the set")
    ax_conc.set_xlabel(METRICS["index"].label)
    ax_conc.set_ylabel(label("concentric_s"))
    ax_tilt.set_title("Fatigue: pelvis tilt across the set")
    ax_tilt.set_xlabel(METRICS["index"].label)
    if is_hip(result):
        thr = thresholds(result).tilt_deg
        ax_tilt.axhline(
            thr, color=FAULT_COLORS["hip_tilt"], linestyle="--", linewidth=1.0, label=f"limit {thr:g}°"
        )
        ax_tilt.set_ylabel(label("peak_tilt_deg") + ", peak per rep")
        ax_tilt.set_ylim(bottom=0)
    else:
        ax_tilt.axis("off")
        ax_tilt.text(
            0.5,
            0.5,
            "Tilt not measured with the sensor on the thigh",
            transform=ax_tilt.transAxes,
            ha="center",
            va="center",
            color="#666666",
        )
    for ax in (ax_conc, ax_tilt):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        if result.sets and (ax is ax_conc or is_hip(result)):
            ncol = 2 if len(result.sets) > 4 else 1
            ax.legend(loc="best", fontsize=7, ncol=ncol)
    if len(result.sets) > 12:
        for ax in (ax_conc, ax_tilt):
            legend = ax.get_legend()
            if legend is not None:
                legend.remove()


def _quality_rows(result: SessionResult) -> tuple[list[list[str]], list[list[str]]]:
    q = quality_figures(result)
    hip = is_hip(result)
    rate = f"{q.sample_rate_hz:.1f}"
    if q.nominal_rate_hz is not None:
        rate += f" (nominal {q.nominal_rate_hz:g})"
    gaps = f"{q.n_gaps}" + (f" ({q.gap_total_s:.2f} s in total)" if q.n_gaps else "")
    rows = [
        [label("sample_rate_hz"), rate],
        [METRICS["n_samples"].label, fmt(q.n_samples, "n_samples")],
        [METRICS["duration_s"].label, f"{q.duration_s / 60:.1f} min"],
        ["Gaps in the data", gaps],
        [label("still_fraction"), f"{q.still_fraction * 100:.0f} % of the time still (gyro bias learned)"],
    ]
    if hip:
        for index, source in q.baselines[:8]:
            rows.append([f"Tilt baseline, set {index}", baseline_text(source, hip)])
        if len(q.baselines) > 8:
            n_sets = len(q.baselines)
            rows.append(
                ["Tilt baseline, all sets", f"start position in {q.n_start_position} of {n_sets} sets"]
            )
    else:
        rows.append(["Tilt baseline", "– (tilt not measured on the thigh)"])
    colours = []
    for name, value in rows:
        c = ["white", "white"]
        if name == "Gaps in the data" and q.n_gaps:
            c[1] = NOTE_FILL
        if "first rep's bottom" in value:
            c[1] = NOTE_FILL
        colours.append(c)
    return rows, colours


def _comparison_rows(
    stats: dict[str, SideStats], hip: bool
) -> tuple[list[str], list[list[str]], list[list[str]]]:
    sides = list(stats)
    both = has_both_sides(stats)
    header = ["", *[s.capitalize() for s in sides]] + ([label("asymmetry_pct")] if both else [])
    metrics: list[tuple[str, str, str]] = [
        ("Reps (clean)", "reps", "d"),
        ("Mean " + label("rom_deg"), "rom_deg", ".1f"),
        ("Mean " + label("concentric_s"), "concentric_s", ".2f"),
        ("Mean " + label("top_hold_s"), "top_hold_s", ".2f"),
        ("Mean " + label("eccentric_s"), "eccentric_s", ".2f"),
    ]
    if hip:
        metrics.append(("Max " + label("peak_tilt_deg"), "max_tilt_deg", ".1f"))
    metrics.append(("Faulty reps", "faulty_reps", "d"))
    rows: list[list[str]] = []
    colours: list[list[str]] = []

    for name, key, spec in metrics:
        vals = [stats[s].figure(key) for s in sides]
        cells = [name]
        for s, v in zip(sides, vals, strict=True):
            if v is None:
                cells.append(MISSING)
            elif key == "reps":
                cells.append(f"{int(v)} ({stats[s].clean_reps})")
            else:
                cells.append(format(int(v) if spec == "d" else v, spec))
        c = ["white"] * len(cells)
        if both:
            pct = left_right_asymmetry(stats, key)
            cells.append(MISSING if pct is None else f"{pct:.0f}")
            ok = pct is None or pct <= ASYMMETRY_WARN_PCT or key == "faulty_reps"
            c.append("white" if ok else WARN_FILL)
        rows.append(cells)
        colours.append(c)
    return header, rows, colours


def _set_rows(result: SessionResult) -> tuple[list[str], list[list[str]], list[list[str]]]:
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


def build_session_figure(result: SessionResult) -> Figure:
    """The session page: left vs right, fatigue trends, data quality and the set table.

    Parameters
    ----------
    result
        The analysis.
    """
    if not result.sets:
        return _build_no_sets_figure(result)
    hip = is_hip(result)
    stats = side_stats(result)
    n_set_rows = len(result.sets) + 1
    q_rows, q_colours = _quality_rows(result)
    c_header, c_rows, c_colours = _comparison_rows(stats, hip)
    mid_rows = max(len(q_rows), len(c_rows)) + 1
    mid_in = 0.26 * mid_rows + 0.2
    set_in = 0.26 * n_set_rows + 0.2
    height = 2.25 + 3.4 + 3.1 + mid_in + set_in + 2.0
    fig = new_figure(height)
    note = (
        f"{Path(result.source).name or 'recording'} · {result.placement} sensor · "
        f"{result.quality.duration_s / 60:.1f} min at {result.quality.sample_rate_hz:.0f} Hz"
    )
    page_header(fig, "Session report", session_verdict(result), note, height)
    gs = fig.add_gridspec(
        4,
        1,
        height_ratios=[3.4, 3.1, mid_in, set_in],
        left=0.07,
        right=0.97,
        top=1.0 - 2.1 / height,
        bottom=0.2 / height,
        hspace=0.45,
    )
    gs_sides = gs[0].subgridspec(1, 5, wspace=0.6, width_ratios=[1.0, 0.9, 1.0, 0.9, 1.5])
    _draw_sides(fig, gs_sides, result, stats)
    fig.text(0.05, 1.0 - 1.3 / height, sides_heading(stats), fontsize=13, fontweight="bold", va="top")
    gs_trend = gs[1].subgridspec(1, 2, wspace=0.2)
    _draw_trends(fig.add_subplot(gs_trend[0, 0]), fig.add_subplot(gs_trend[0, 1]), result)
    gs_mid = gs[2].subgridspec(1, 2, wspace=0.08, width_ratios=[1.15, 1.0])
    ax_cmp = fig.add_subplot(gs_mid[0, 0])
    n_cols = len(c_header)
    cmp_widths = [0.34] + [0.66 / (n_cols - 1)] * (n_cols - 1)
    draw_table(ax_cmp, c_header, c_rows, c_colours, cmp_widths, font_size=8.5)
    ax_cmp.set_title(
        "Left vs right" + (" (asymmetry = |L − R| / larger)" if has_both_sides(stats) else ""),
        pad=8,
    )
    ax_q = fig.add_subplot(gs_mid[0, 1])
    draw_table(ax_q, ["Measure", "Value"], q_rows, q_colours, [0.38, 0.62], font_size=8.5)
    ax_q.set_title("Data quality", pad=8)
    ax_sets = fig.add_subplot(gs[3])
    s_header, s_rows, s_colours = _set_rows(result)
    fixed = [0.05, 0.07, 0.06, 0.06, 0.08, 0.11, 0.17] + ([0.10] if hip else [])
    n_codes = len(s_header) - len(fixed)
    widths = fixed + [(1.0 - sum(fixed)) / max(n_codes, 1)] * n_codes
    draw_table(ax_sets, s_header, s_rows, s_colours, widths, font_size=8.5)
    ax_sets.set_title("Sets", pad=8)
    return fig


def _build_no_sets_figure(result: SessionResult) -> Figure:
    """The session page of a recording without sets: says so, with what to check and its data
    quality."""
    q_rows, q_colours = _quality_rows(result)
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
