"""The page of a set of leg lifts (glute bridge with leg lift): per side, not per rep.

The lifter holds a bridge and lifts one foot, then the other.  Panels: the pelvis over the set
with every lift shaded in the colour of its side and numbered (``L3``, ``R4``); the time each foot
was held up, against the squeeze target; how far the pelvis moved (rotated and bent sideways)
during each lift, against the limit; a per-side table (lifts, clean lifts, mean foot-held time,
mean and largest pelvic motion, bridge height) and the lift table.  Artists carry a ``gid``:
``lift:<side>:<n>`` for the shaded lifts, ``held:<n>`` and ``motion:<n>`` for the bars.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch, Rectangle

from imurep.model.results import SessionResult, SetResult
from imurep.report.drawing import draw_notes, draw_table, mark_charts, new_figure, page_header
from imurep.report.stats import Thresholds, decimate_minmax, is_hip, thresholds
from imurep.report.style import FAULT_COLORS, SIDE_COLORS, TRACE_COLOR, WARN_FILL
from imurep.report.text import MISSING, context_line, exercise_title, set_name, set_time_text, set_verdict

LIFT_SIDES = ("left", "right")


def _colour(side: str | None) -> str:
    return SIDE_COLORS.get(side or "unknown", SIDE_COLORS["unknown"])


def side_rows(s: SetResult, th: Thresholds, hip: bool) -> tuple[list[str], list[list[str]], list[list[str]]]:
    """The per-side table of a lift set: header, cells and fills (a value past its limit tinted)."""
    header = ["Side", "Lifts", "Clean", "Foot held\nmean (s)"]
    if hip:
        header += ["Pelvis moved\nmean (°)", "Pelvis moved\nlargest (°)"]
    header.append("Bridge height\nmean (°)" if hip else "Thigh lifted\nmean (°)")
    rows: list[list[str]] = []
    fills: list[list[str]] = []
    for side in [*LIFT_SIDES, None]:
        lifts = [r for r in s.reps if r.side == side]
        if not lifts:
            continue
        held = float(np.mean([r.top_hold_s for r in lifts]))
        row = [side or "unknown", str(len(lifts)), str(sum(not r.faults for r in lifts)), f"{held:.2f}"]
        fill = ["white"] * 3 + [WARN_FILL if held < th.min_top_hold_s else "white"]
        if hip:
            motion = [r.peak_tilt_deg for r in lifts if r.peak_tilt_deg is not None]
            mean_m = f"{np.mean(motion):.1f}" if motion else MISSING
            big = max(motion) if motion else None
            row += [mean_m, MISSING if big is None else f"{big:.1f}"]
            fill += ["white", WARN_FILL if big is not None and big > th.tilt_deg else "white"]
        row.append(f"{np.mean([r.rom_deg for r in lifts]):.1f}")
        fill.append("white")
        rows.append(row)
        fills.append(fill)
    return header, rows, fills


def _draw_trace(ax: Axes, s: SetResult, t0: float, hip: bool, max_points: int) -> None:
    for r in s.reps:
        ax.add_artist(
            Rectangle(
                (r.start_s - t0, 0.0),
                r.end_s - r.start_s,
                1.0,
                transform=ax.get_xaxis_transform(),
                facecolor=_colour(r.side),
                alpha=0.22,
                linewidth=0,
                zorder=0,
                gid=f"lift:{r.side}:{r.index}",
            )
        )
        ax.text(
            (r.start_s + r.end_s) / 2 - t0,
            0.97,
            f"{(r.side or '?')[0].upper()}{r.index}",
            transform=ax.get_xaxis_transform(),
            ha="center",
            va="top",
            fontsize=7.5,
            fontweight="bold",
            color=FAULT_COLORS["hip_tilt"] if r.faults else _colour(r.side),
        )
    tr = s.trace
    values = None if tr is None else (tr.tilt_deg if hip and tr.tilt_deg is not None else tr.sagittal_deg)
    if tr is not None and values is not None and len(tr.t_s):
        t, y = decimate_minmax(tr.t_s - t0, values, max_points)
        ax.plot(t, y, color=TRACE_COLOR, linewidth=0.9, zorder=3)
        ax.set_xlim(float(t[0]), float(t[-1]))
        span = float(np.ptp(values)) or 1.0
        ax.set_ylim(float(np.min(values)) - 0.1 * span, float(np.max(values)) + 0.45 * span)
    ax.set_ylabel("Pelvis tilt (°)" if hip else "Thigh angle (°)")
    ax.set_xlabel("Time from set start (s)")
    what = "Pelvis (sideways)" if hip else "Thigh"
    ax.set_title(f"{what} over the set — each lift shaded by the side lifted (L = left, R = right)")
    handles = [Patch(facecolor=_colour(side), alpha=0.4, label=f"{side} foot up") for side in LIFT_SIDES]
    ax.legend(
        handles=handles, loc="lower right", bbox_to_anchor=(1.0, 1.0), ncol=2, fontsize=8, borderaxespad=0.2
    )


def _draw_bars(
    ax: Axes, s: SetResult, attr: str, limit: float, limit_text: str, ylabel: str, title: str
) -> None:
    idx = np.array([r.index for r in s.reps], dtype=float)
    vals = np.array([getattr(r, attr) or 0.0 for r in s.reps], dtype=float)
    bars = ax.bar(idx, vals, 0.72, color=[_colour(r.side) for r in s.reps], edgecolor="white", linewidth=0.5)
    key = "held" if attr == "top_hold_s" else "motion"
    for patch, r in zip(bars.patches, s.reps, strict=True):
        patch.set_gid(f"{key}:{r.index}")
    ax.axhline(limit, color=FAULT_COLORS["hip_tilt"], linestyle="--", linewidth=1.0, label=limit_text)
    ax.set_ylim(0, max(float(vals.max(initial=0.0)), limit) * 1.3)
    if len(idx):
        ax.set_xlim(idx[0] - 0.8, idx[-1] + 0.8)
        ax.set_xticks(idx, [str(r.index) for r in s.reps], fontsize=7)
        for tick, r in zip(ax.get_xticklabels(), s.reps, strict=True):
            tick.set_color(_colour(r.side))
    ax.set_xlabel("Lift")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(axis="x", visible=False)
    handles = [Patch(facecolor=_colour(side), label=side) for side in LIFT_SIDES]
    line = ax.get_lines()[-1]
    ax.legend(handles=[*handles, line], loc="upper center", ncol=3, fontsize=7.5)


def build_lift_figure(
    result: SessionResult, s: SetResult, *, max_points: int = 4000, cues: Sequence[str] = ()
) -> Figure:
    """The page of a set of leg lifts (see the module docstring)."""
    from imurep.report.set_page import rep_table_rows

    th = thresholds(result)
    hip = is_hip(result)
    n_rows = len(s.reps) + 1
    table_in = 0.24 * n_rows + 0.3
    cues_in = 0.5 + 0.2 * max(len(cues), 1)
    side_in = 0.26 * 4 + 0.4
    height = 9.6 + side_in + table_in + cues_in
    fig = new_figure(height)
    title = f"{set_name(s)} · {exercise_title(result)}"
    clean = f"{s.summary.clean_reps} of {s.summary.reps} lifts clean"
    note = f"{context_line(result)}\n{set_time_text(result, s)} · {clean}"
    top_in = page_header(
        fig, title, set_verdict(s, result.placement, th.tilt_deg if hip else None), note, height
    )
    gs = fig.add_gridspec(
        5,
        2,
        height_ratios=[3.2, 2.6, side_in, table_in, cues_in],
        left=0.07,
        right=0.97,
        top=1.0 - (top_in + 0.35) / height,
        bottom=0.2 / height,
        hspace=0.5,
        wspace=0.2,
    )
    t0 = s.start_s
    _draw_trace(fig.add_subplot(gs[0, :]), s, t0, hip, max_points)
    _draw_bars(
        fig.add_subplot(gs[1, 0]),
        s,
        "top_hold_s",
        th.min_top_hold_s,
        f"target ≥ {th.min_top_hold_s:g} s",
        "Foot held up (s)",
        "Foot held up, per lift",
    )
    ax_motion = fig.add_subplot(gs[1, 1])
    if hip:
        _draw_bars(
            ax_motion,
            s,
            "peak_tilt_deg",
            th.tilt_deg,
            f"limit {th.tilt_deg:g}°",
            "Pelvis moved (°)",
            "Pelvis moved during the lift (should stay still)",
        )
    else:
        ax_motion.axis("off")
        ax_motion.text(0.5, 0.5, "pelvic motion needs the sensor on the pelvis", ha="center", color="#666666")
    ax_side = fig.add_subplot(gs[2, :])
    mark_charts(fig, top_in + 0.1, ax_side, 0.35)
    header, rows, fills = side_rows(s, th, hip)
    draw_table(ax_side, header, rows, fills, font_size=8.5)
    ax_side.set_title("Per side", pad=6)
    ax_table = fig.add_subplot(gs[3, :])
    header, rows, fills = rep_table_rows(s, hip)
    widths = [0.06, 0.07] + [0.095] * (len(header) - 3)
    widths.append(1.0 - sum(widths))
    draw_table(ax_table, header, rows, fills, widths, font_size=8.5)
    draw_notes(fig.add_subplot(gs[4, :]), "What to work on", cues, "no faults: keep it up")
    return fig


__all__ = ["build_lift_figure", "side_rows"]
