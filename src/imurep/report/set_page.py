"""The page of one set: angle trace with reps and phases, pelvis tilt, tempo, ROM and rep table.

Panels: the sagittal angle of the set with its reps numbered, their phases shaded and the 5 %
bands drawn; the pelvis tilt with the allowed band and the tilt faults (hip sensor only); per-rep
tempo (stacked Up / Squeeze / Down with the targets); ROM per rep with the partial-range
threshold; the rep table; and a one-line verdict under the title.

Artists that tests (and other tools) may look for carry a ``gid``: ``phase:<phase>:<rep>`` for the
shaded phase spans, ``fault:<code>`` for the fault markers on the angle plot (x = middle of the
rep's top hold), ``tilt-fault`` for the tilt-fault markers (x = time of the rep's peak tilt),
``band:bottom`` / ``band:top`` for the 5 % bands, ``target:<code>`` for the tempo targets and
``partial-threshold`` for the ROM threshold.  The x axis is the time from the set's start
(``t - SetResult.start_s``), s.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle

from imurep.model.codes import FAULT_LABELS, FAULTS, METRICS, PHASES
from imurep.model.results import SessionResult, SetResult
from imurep.report.drawing import (
    draw_notes,
    draw_table,
    mark_charts,
    new_figure,
    page_header,
    row_major,
    tint,
)
from imurep.report.stats import (
    Thresholds,
    band_levels,
    decimate_minmax,
    dropped_side,
    is_hip,
    is_lift_set,
    is_uncertain,
    partial_rom_limit,
    thresholds,
    tilt_fault_points,
    tilt_judged,
)
from imurep.report.style import (
    FAULT_COLORS,
    FAULT_MARKERS,
    NOTE_FILL,
    OK_COLOR,
    PHASE_COLORS,
    SIDE_COLORS,
    TRACE_COLOR,
)
from imurep.report.text import (
    MISSING,
    context_line,
    exercise_title,
    fmt,
    label,
    phase_label,
    phase_metric_label,
    set_name,
    set_time_text,
    set_verdict,
)

DEFAULT_MAX_POINTS = 4000
"""Plotted points per trace at most (min/max decimation keeps peaks; ≈ 4 per pixel column)."""


def _draw_angle(ax: Axes, s: SetResult, t0: float, th: Thresholds, max_points: int, hip: bool) -> None:
    """Sagittal angle with phase spans, 5 % bands, rep numbers and fault markers."""
    reps = s.reps
    for r in reps:
        spans = {
            "concentric": (r.start_s, r.top_start_s),
            "top_hold": (r.top_start_s, r.top_end_s),
            "eccentric": (r.top_end_s, r.end_s),
        }
        if r.bottom_pause_s is not None:
            spans["bottom_pause"] = (r.end_s, r.end_s + r.bottom_pause_s)
        for phase, (a, b) in spans.items():
            # add_artist, not add_patch: the x limits are set from the trace or the reps anyway, and
            # updating the data limits per span costs more than drawing it
            ax.add_artist(
                Rectangle(
                    (a - t0, 0.0),
                    b - a,
                    1.0,
                    transform=ax.get_xaxis_transform(),
                    facecolor=PHASE_COLORS[phase],
                    alpha=0.28 if phase != "bottom_pause" else 0.22,
                    linewidth=0,
                    zorder=0,
                    gid=f"phase:{phase}:{r.index}",
                )
            )
    tr = s.trace
    if tr is not None and len(tr.t_s):
        t, y = decimate_minmax(tr.t_s - t0, tr.sagittal_deg, max_points)
        ax.plot(t, y, color=TRACE_COLOR, linewidth=1.0, zorder=3, gid="trace:sagittal")
    else:
        ax.text(0.5, 0.5, "no angle trace stored for this set", transform=ax.transAxes, ha="center")

    band = th.band_fraction
    with_angles = [r for r in reps if r.bottom_deg is not None and r.top_deg is not None]
    if with_angles:
        xmin = [r.start_s - t0 for r in with_angles]
        xmax = [r.end_s - t0 for r in with_angles]
        levels = [band_levels(r, band) for r in with_angles]
        bottom = [lo for lo, _ in levels]
        top = [hi for _, hi in levels]
        ax.hlines(
            bottom, xmin, xmax, colors="#1565C0", linestyles="--", linewidth=0.9, zorder=4, gid="band:bottom"
        )
        ax.hlines(top, xmin, xmax, colors="#1B5E20", linestyles="--", linewidth=0.9, zorder=4, gid="band:top")

    tops = [r.top_deg if r.top_deg is not None else r.rom_deg for r in reps]
    y_hi = max(tops) if tops else 10.0
    lows: list[float] = [r.bottom_deg for r in reps if r.bottom_deg is not None]
    if tr is not None and len(tr.t_s):
        lo_trace = float(np.percentile(tr.sagittal_deg, 0.5))
        lows.append(lo_trace)
    y_lo = min(lows) if lows else 0.0
    span = max(y_hi - y_lo, 10.0)
    ax.set_ylim(y_lo - 0.08 * span, y_hi + 0.55 * span)
    for r, top_deg in zip(reps, tops, strict=True):
        x = (r.top_start_s + r.top_end_s) / 2 - t0
        ax.text(
            x,
            top_deg + 0.06 * span,
            str(r.index),
            ha="center",
            va="bottom",
            fontsize=9,
            fontweight="bold",
            zorder=5,
            gid=f"rep-label:{r.index}",
        )
    # One lane per fault code above the rep numbers.
    for lane, code in enumerate(FAULTS):
        xs = [(r.top_start_s + r.top_end_s) / 2 - t0 for r in reps if code in r.faults]
        if not xs:
            continue
        ax.plot(
            xs,
            [0.95 - 0.065 * lane] * len(xs),
            linestyle="none",
            marker=FAULT_MARKERS[code],
            markersize=8,
            color=FAULT_COLORS[code],
            markeredgecolor="white",
            markeredgewidth=0.6,
            transform=ax.get_xaxis_transform(),
            zorder=6,
            gid=f"fault:{code}",
            clip_on=False,
        )
    segment = "Hip" if hip else "Thigh"
    ax.set_ylabel(f"{segment} angle (°)")
    ax.set_title(f"{segment} height over the set — reps numbered, phases shaded")

    handles: list[Any] = [Line2D([], [], color=TRACE_COLOR, linewidth=1.0, label=f"{segment} angle (°)")]
    handles += [
        Patch(facecolor=PHASE_COLORS[p], alpha=0.5, label=phase_label(p, s.phase_order)) for p in PHASES
    ]
    handles.append(
        Line2D(
            [], [], color="#555555", linestyle="--", linewidth=0.9, label="where each rep starts / tops out"
        )
    )
    present = [c for c in FAULTS if any(c in r.faults for r in reps)]
    handles += [
        Line2D(
            [], [], linestyle="none", marker=FAULT_MARKERS[c], color=FAULT_COLORS[c], label=FAULT_LABELS[c]
        )
        for c in present
    ]
    ncol = min(len(handles), 6)
    ax.legend(
        handles=row_major(handles, ncol),
        loc="upper center",
        bbox_to_anchor=(0.5, -0.03),
        ncol=ncol,
        fontsize=8.5,
        handlelength=1.8,
        columnspacing=1.4,
        borderaxespad=0.0,
    )


def _draw_tilt(ax: Axes, s: SetResult, t0: float, th: Thresholds, hip: bool, max_points: int) -> None:
    """Pelvis tilt with the ±threshold band and the tilt faults (hip only)."""
    ax.set_title("Hip drop (pelvis tilting sideways) — should stay inside the band")
    tr = s.trace
    if not hip or tr is None or tr.tilt_deg is None:
        ax.set_yticks([])
        ax.grid(False)
        for side in ("left", "bottom"):
            ax.spines[side].set_visible(False)
        ax.tick_params(axis="x", length=0)
        text = (
            "Tilt not measured with the sensor on the thigh"
            if not hip
            else "no tilt trace stored for this set"
        )
        ax.text(
            0.5,
            0.5,
            text,
            transform=ax.transAxes,
            ha="center",
            va="center",
            fontsize=11,
            color="#666666",
            gid="tilt-not-measured",
        )
        return
    thr = th.tilt_deg
    t, y = decimate_minmax(tr.t_s - t0, tr.tilt_deg, max_points)
    ax.axhspan(-thr, thr, color=OK_COLOR, alpha=0.10, linewidth=0, zorder=0, gid="tilt-band")
    ax.axhline(thr, color=OK_COLOR, linestyle="--", linewidth=0.8)
    ax.axhline(-thr, color=OK_COLOR, linestyle="--", linewidth=0.8)
    ax.plot(t, y, color=TRACE_COLOR, linewidth=0.9, zorder=3, gid="trace:tilt")
    xs, ys = tilt_fault_points(s, t0, thr)
    if xs:
        ax.plot(
            xs,
            ys,
            linestyle="none",
            marker=FAULT_MARKERS["hip_tilt"],
            markersize=10,
            color=FAULT_COLORS["hip_tilt"],
            markeredgecolor="white",
            zorder=6,
            gid="tilt-fault",
        )
    lim = max(2.0 * thr, 1.15 * float(np.max(np.abs(tr.tilt_deg))) if len(tr.tilt_deg) else 0.0)
    ax.set_ylim(-lim, lim)
    ax.set_ylabel("Tilt (°)")
    # the sign of the tilt, in words (see imurep.report.stats.dropped_side)
    for y_ax, text, va in (
        (0.97, f"▲ {dropped_side(1.0)} hip lower", "top"),
        (0.03, f"▼ {dropped_side(-1.0)} hip lower", "bottom"),
    ):
        ax.text(
            0.005,
            y_ax,
            text,
            transform=ax.transAxes,
            fontsize=7.5,
            color="#555555",
            va=va,
            ha="left",
            zorder=7,
        )
    handles: list[Any] = [
        Line2D([], [], color=TRACE_COLOR, linewidth=0.9, label="Tilt (°)"),
        Patch(facecolor=OK_COLOR, alpha=0.25, label=f"level: within ±{thr:g}°"),
    ]
    if xs:
        handles.append(
            Line2D(
                [],
                [],
                linestyle="none",
                marker=FAULT_MARKERS["hip_tilt"],
                color=FAULT_COLORS["hip_tilt"],
                label=FAULT_LABELS["hip_tilt"],
            )
        )
    ax.legend(
        handles=handles,
        loc="lower right",
        bbox_to_anchor=(1.0, 1.0),
        ncol=len(handles),
        fontsize=8,
        borderaxespad=0.2,
    )


def _draw_tempo(ax: Axes, s: SetResult, th: Thresholds) -> None:
    """Stacked Up / Squeeze / Down bars per rep with the squeeze and lowering targets (lowering
    first: Down / Bottom / Up bars with the lowering target on the first segment, no squeeze)."""
    lower_first = s.phase_order == "lower_first"
    idx = np.array([r.index for r in s.reps], dtype=float)
    up = np.array([r.concentric_s for r in s.reps])
    hold = np.array([r.top_hold_s for r in s.reps])
    down = np.array([r.eccentric_s for r in s.reps])
    width = 0.72
    bottom = np.zeros_like(up)
    for phase, values in (("concentric", up), ("top_hold", hold), ("eccentric", down)):
        bars = ax.bar(
            idx,
            values,
            width,
            bottom=bottom,
            color=PHASE_COLORS[phase],
            label=phase_label(phase, s.phase_order),
            edgecolor="white",
            linewidth=0.5,
        )
        for patch, r in zip(bars.patches, s.reps, strict=True):
            patch.set_gid(f"tempo:{phase}:{r.index}")
        bottom = bottom + values
    # Targets as short ticks across each bar: the Squeeze segment must reach the first tick, the
    # Down segment the second one.
    if len(idx):
        half = width / 2 + 0.06
        if not lower_first:
            ax.hlines(
                up + th.min_top_hold_s,
                idx - half,
                idx + half,
                colors="#1B5E20",
                linewidth=1.6,
                label=f"squeeze target ≥ {th.min_top_hold_s:g} s",
                gid="target:short_hold",
                zorder=4,
            )
        lowering_target = th.min_eccentric_s + (np.zeros_like(up) if lower_first else up + hold)
        ax.hlines(
            lowering_target,
            idx - half,
            idx + half,
            colors="#8D4B00",
            linewidth=1.6,
            linestyles=(0, (2, 1)),
            label=f"lowering target ≥ {th.min_eccentric_s:g} s",
            gid="target:rushed_lowering",
            zorder=4,
        )
        ymax = float(max(np.max(bottom), np.max(lowering_target)))
        for code, lane in (("short_hold", 0), ("rushed_lowering", 1)):
            xs = [float(r.index) for r in s.reps if code in r.faults]
            if xs:
                ax.plot(
                    xs,
                    [ymax * (1.08 + 0.11 * lane)] * len(xs),
                    linestyle="none",
                    marker=FAULT_MARKERS[code],
                    color=FAULT_COLORS[code],
                    markersize=7,
                    label=FAULT_LABELS[code],
                    gid=f"tempo-fault:{code}",
                )
        ax.set_ylim(0, ymax * 1.32)
        ax.set_xticks(idx)
        ax.set_xlim(idx[0] - 0.8, idx[-1] + 0.8)
    ax.set_xlabel(METRICS["index"].label)
    ax.set_ylabel("Time (s)")
    ax.set_title("Tempo per rep")
    ax.grid(axis="x", visible=False)
    handles: list[Any] = [
        Patch(facecolor=PHASE_COLORS[p], label=phase_label(p, s.phase_order))
        for p in ("concentric", "top_hold", "eccentric")
    ]
    if not lower_first:
        handles.append(
            Line2D([], [], color="#1B5E20", linewidth=1.6, label=f"squeeze target ≥ {th.min_top_hold_s:g} s")
        )
    handles += [
        Line2D(
            [],
            [],
            color="#8D4B00",
            linewidth=1.6,
            linestyle=(0, (2, 1)),
            label=f"lowering target ≥ {th.min_eccentric_s:g} s",
        ),
    ]
    handles += [
        Line2D(
            [], [], linestyle="none", marker=FAULT_MARKERS[c], color=FAULT_COLORS[c], label=FAULT_LABELS[c]
        )
        for c in ("short_hold", "rushed_lowering")
        if any(c in r.faults for r in s.reps)
    ]
    ax.legend(
        handles=row_major(handles, 3),
        loc="upper center",
        bbox_to_anchor=(0.5, -0.2),
        ncol=3,
        fontsize=7.5,
        handlelength=1.4,
        columnspacing=0.8,
        borderaxespad=0.0,
    )


def _draw_rom(ax: Axes, s: SetResult, th: Thresholds) -> None:
    """ROM per rep with the partial-range threshold (fraction × the set's median ROM)."""
    idx = np.array([r.index for r in s.reps], dtype=float)
    rom = np.array([r.rom_deg for r in s.reps])
    colours = [FAULT_COLORS["partial_rom"] if "partial_rom" in r.faults else "#8DA0CB" for r in s.reps]
    bars = ax.bar(idx, rom, 0.72, color=colours, edgecolor="white", linewidth=0.5)
    for patch, r in zip(bars.patches, s.reps, strict=True):
        patch.set_gid(f"rom:{r.index}")
    if len(rom):
        median, limit = partial_rom_limit(s, th.partial_rom_fraction)
        ax.axhline(
            limit,
            color=FAULT_COLORS["partial_rom"],
            linestyle="--",
            linewidth=1.1,
            gid="partial-threshold",
            label=f"partial below {limit:.1f}° ({th.partial_rom_fraction:.0%} of median {median:.1f}°)",
        )
        for x, v in zip(idx, rom, strict=True):
            ax.text(x, v + 0.01 * float(rom.max()), f"{v:.0f}", ha="center", va="bottom", fontsize=7.5)
        ax.set_ylim(0, float(rom.max()) * 1.3)
        ax.set_xticks(idx)
        ax.set_xlim(idx[0] - 0.8, idx[-1] + 0.8)
        handles: list[Any] = [Patch(facecolor="#8DA0CB", label="full range")]
        if any("partial_rom" in r.faults for r in s.reps):
            handles.append(Patch(facecolor=FAULT_COLORS["partial_rom"], label=FAULT_LABELS["partial_rom"]))
        handles.append(
            Line2D(
                [],
                [],
                color=FAULT_COLORS["partial_rom"],
                linestyle="--",
                label=f"partial below {limit:.1f}° ({th.partial_rom_fraction:.0%} of median)",
            )
        )
        ax.legend(
            handles=handles,
            loc="upper center",
            bbox_to_anchor=(0.5, -0.2),
            ncol=3,
            fontsize=7.5,
            handlelength=1.4,
            columnspacing=0.8,
            borderaxespad=0.0,
        )
    ax.set_xlabel(METRICS["index"].label)
    ax.set_ylabel(label("rom_deg"))
    ax.set_title("Range of motion per rep")
    ax.grid(axis="x", visible=False)


_REP_COLUMNS = (
    "index",
    "concentric_s",
    "top_hold_s",
    "eccentric_s",
    "bottom_pause_s",
    "rom_deg",
    "peak_tilt_deg",
)
_CELL_FAULT = {
    "top_hold_s": "short_hold",
    "eccentric_s": "rushed_lowering",
    "rom_deg": "partial_rom",
    "peak_tilt_deg": "hip_tilt",
}


def rep_table_rows(s: SetResult, hip: bool) -> tuple[list[str], list[list[str]], list[list[str]]]:
    """Header, cells and fills of the rep table of ``s`` (shared by the page and the HTML).

    A rep the analysis is unsure of (:func:`~imurep.report.stats.is_uncertain`) shows its number
    with a ``?`` and says so in the last column; leg lifts get a Side column.
    """
    lifts = is_lift_set(s)
    columns = [c for c in _REP_COLUMNS if hip or c != "peak_tilt_deg"]
    header = [_lift_label(c) if lifts else phase_metric_label(c, s.phase_order) for c in columns]
    if lifts:
        header.insert(1, "Side")
    header.append("Faults")
    cell_fault = dict(_CELL_FAULT)
    if s.phase_order == "lower_first":  # the lowering is the first phase; the turn is no squeeze
        cell_fault.pop("top_hold_s")
        cell_fault.pop("eccentric_s")
        cell_fault["concentric_s"] = "rushed_lowering"
    rows: list[list[str]] = []
    colours: list[list[str]] = []
    for r in s.reps:
        row = [fmt(int(r.index) if c == "index" else getattr(r, c), c) for c in columns]
        fills = ["white"] * len(row)
        for j, c in enumerate(columns):
            code = cell_fault.get(c)
            if code and code in r.faults:
                fills[j] = tint(FAULT_COLORS[code])
        notes = [FAULT_LABELS.get(f, f) for f in r.faults]
        if is_uncertain(r):
            row[0] += " ?"
            fills[0] = NOTE_FILL
            notes.append(f"uncertain (confidence {r.confidence:.2f})")
        if lifts:
            row.insert(1, r.side or MISSING)
            fills.insert(1, tint(SIDE_COLORS.get(r.side or "unknown", "#777777")))
        row.append(", ".join(notes) or "ok")
        fills.append("white" if not notes else NOTE_FILL)
        rows.append(row)
        colours.append(fills)
    return header, rows, colours


_LIFT_LABELS = {
    "index": "Lift",
    "concentric_s": "Lift (s)",
    "top_hold_s": "Foot held (s)",
    "eccentric_s": "Set down (s)",
    "bottom_pause_s": "Rest (s)",
    "rom_deg": "Bridge (°)",
    "peak_tilt_deg": "Pelvis moved (°)",
}


def _lift_label(key: str) -> str:
    return _LIFT_LABELS.get(key, label(key))


def _draw_rep_table(ax: Axes, s: SetResult, hip: bool) -> None:
    header, rows, colours = rep_table_rows(s, hip)
    n_num = len(header) - 1
    widths = [0.07] + [0.10] * (n_num - 1)
    widths.append(1.0 - sum(widths))
    draw_table(ax, header, rows, colours, widths, font_size=8.5)


def build_set_figure(
    result: SessionResult,
    s: SetResult,
    *,
    max_points: int = DEFAULT_MAX_POINTS,
    cues: Sequence[str] = (),
) -> Figure:
    """The page of one set (see the module docstring for its panels and their ``gid``).

    Parameters
    ----------
    result
        The session (for the placement, the settings and the source).
    s
        One of ``result.sets``.
    max_points
        Plotted points per trace at most.
    cues
        The set's coaching cues (:attr:`imurep.coaching.cues.FaultCue.text`), listed at the foot.
    """
    if is_lift_set(s):
        from imurep.report.lift_page import build_lift_figure

        return build_lift_figure(result, s, max_points=max_points, cues=cues)
    th = thresholds(result)
    hip = is_hip(result) and s.trace is not None and s.trace.tilt_deg is not None
    n_rows = len(s.reps) + 1
    table_in = 0.24 * n_rows + 0.3
    cues_in = 0.5 + 0.2 * max(len(cues), 1)
    height = 10.5 + table_in + cues_in + (1.7 if hip else 0.0)
    fig = new_figure(height)
    title = f"{set_name(s)} · {exercise_title(result)}"
    note = (
        f"{context_line(result)}\n{set_time_text(result, s)} · time under tension "
        f"{s.summary.time_under_tension_s:.1f} s · {s.summary.clean_reps} of {s.summary.reps} reps clean"
    )
    top_in = page_header(
        fig,
        title,
        set_verdict(s, result.placement, th.tilt_deg if hip else None, tilt_judged=tilt_judged(result)),
        note,
        height,
    )
    ratios = [3.8, 1.7, 2.3, table_in, cues_in] if hip else [3.8, 2.3, table_in, cues_in]
    gs = fig.add_gridspec(
        len(ratios),
        2,
        height_ratios=ratios,
        left=0.07,
        right=0.97,
        top=1.0 - (top_in + 0.3) / height,
        bottom=0.2 / height,
        hspace=0.42,
        wspace=0.2,
    )
    ax_angle = fig.add_subplot(gs[0, :])
    row = 1
    ax_tilt = None
    if hip:
        ax_tilt = fig.add_subplot(gs[1, :], sharex=ax_angle)
        row = 2
    ax_tempo = fig.add_subplot(gs[row, 0])
    ax_rom = fig.add_subplot(gs[row, 1])
    ax_table = fig.add_subplot(gs[row + 1, :])
    ax_cues = fig.add_subplot(gs[row + 2, :])
    t0 = s.start_s
    _draw_angle(ax_angle, s, t0, th, max_points, is_hip(result))
    if ax_tilt is not None:
        _draw_tilt(ax_tilt, s, t0, th, True, max_points)
        ax_tilt.set_xlabel(label("time_in_set_s"))
        ax_angle.tick_params(labelbottom=False)
    else:
        ax_angle.set_xlabel(label("time_in_set_s"))
        ax_angle.legend_.set_bbox_to_anchor((0.5, -0.12))  # type: ignore[union-attr]
    if s.trace is not None and len(s.trace.t_s):
        ax_angle.set_xlim(float(s.trace.t_s[0] - t0), float(s.trace.t_s[-1] - t0))
    elif s.reps:
        ax_angle.set_xlim(-2.0, s.end_s - t0 + 2.0)
    _draw_tempo(ax_tempo, s, th)
    _draw_rom(ax_rom, s, th)
    _draw_rep_table(ax_table, s, is_hip(result))
    draw_notes(ax_cues, "What to work on", cues, "no faults: keep it up")
    mark_charts(fig, top_in + 0.1, ax_table, 0.05)
    return fig
