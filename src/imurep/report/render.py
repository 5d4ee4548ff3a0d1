"""Plot reports of an analysis: one page per set and one per session, as PNG, PDF and HTML.

The figures are built with matplotlib's object API on the non-interactive Agg canvas (``pyplot`` is
never imported, so no display is needed and nothing global is touched).  Colours of phases, faults
and sides and every label with its unit come from :mod:`imurep.conventions`.

Pages
    ``session``: left vs right (reps, ROM, tempo, tilt, faults, asymmetry in %), fatigue trends
    (concentric time and tilt against the rep number, one line per set), data quality and a table
    of the sets.  ``set-N``: the sagittal angle of set *N* with its reps numbered, their phases
    shaded and the 5 % bands drawn, the pelvis tilt with the allowed band and the tilt faults,
    per-rep tempo (stacked Up / Squeeze / Down with the targets), ROM per rep with the partial-range
    threshold, the rep table and a one-line verdict.

Artists that tests (and other tools) may look for carry a ``gid``: ``phase:<phase>:<rep>`` for the
shaded phase spans, ``fault:<code>`` for the fault markers on the angle plot (x = middle of the
rep's top hold), ``tilt-fault`` for the tilt-fault markers (x = time of the rep's peak tilt),
``band:bottom`` / ``band:top`` for the 5 % bands, ``target:<code>`` for the tempo targets and
``partial-threshold`` for the ROM threshold.  The x axis of a set page is the time from the set's
start (``t - SetResult.start_s``), s.
"""

from __future__ import annotations

import base64
import contextlib
import gc
import html
import io
import logging
import math
import multiprocessing
import os
import re
import shutil
import statistics
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle
from matplotlib.text import Text
from matplotlib.ticker import MaxNLocator

from imurep.model.codes import FAULT_LABELS, FAULTS, METRICS, PHASE_METRIC, PHASES
from imurep.model.errors import SettingsError
from imurep.model.results import SessionResult, SetResult
from imurep.model.samples import FloatArray
from imurep.report.style import FAULT_COLORS, FAULT_MARKERS, PHASE_COLORS, SIDE_COLORS

logger = logging.getLogger(__name__)

REPORT_SUFFIXES = (".pdf", ".html", ".png")
"""File suffixes ``write_report`` accepts for a single output file (anything else is a folder)."""

DEFAULT_DPI = 100
"""Resolution of the PNG pages (and of the images embedded in the HTML), dots per inch."""

DEFAULT_MAX_POINTS = 4000
"""Plotted points per trace at most (min/max decimation keeps peaks; ≈ 4 per pixel column)."""

PAGE_WIDTH_IN = 11.0

_STYLE: Any = {  # rc parameters of every report figure
    "font.size": 9.5,
    "axes.titlesize": 11,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.titley": 1.0,  # no top ticks anywhere: skip the costly automatic title placement
    "axes.labelsize": 9.5,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#E6E6E6",
    "grid.linewidth": 0.6,
    "legend.fontsize": 8.5,
    "legend.frameon": False,
    "xtick.labelsize": 8.5,
    "ytick.labelsize": 8.5,
    "pdf.compression": 6,
    "svg.fonttype": "none",
}
_TRACE_COLOR = "#222222"
_OK_COLOR = "#2E7D32"
_WARN_COLOR = "#B71C1C"
_ASYMMETRY_WARN_PCT = 10.0
_TABLE_HEADER_COLOR = "#EEEEEE"
_PNG_LEVEL = 3  # zlib level of the PNGs: as small as the default 6 (within 1 %), encoded faster


# --- labels ------------------------------------------------------------------------------------


def label(key: str) -> str:
    """Axis label of a metric with its unit, from :data:`imurep.conventions.METRICS`."""
    return METRICS[key].header


def phase_label(phase: str) -> str:
    """Display name of a phase (``"concentric"`` → ``"Up"``)."""
    return METRICS[PHASE_METRIC[phase]].label


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s" if not word.endswith("s") else f"{n} {word}es"


def _rep_list(indices: Sequence[int]) -> str:
    return ("rep " if len(indices) == 1 else "reps ") + ", ".join(str(i) for i in indices)


def _fault_phrase(code: str, reps: Sequence[int]) -> str:
    """E.g. ``"2 rushed lowerings (reps 9, 11)"`` or ``"hips not level in 1 rep (rep 3)"``."""
    n = len(reps)
    name = FAULT_LABELS.get(code, code)
    if code == "hip_tilt":
        return f"{name} in {_plural(n, 'rep')} ({_rep_list(reps)})"
    return f"{_plural(n, name)} ({_rep_list(reps)})"


def _thresholds(result: SessionResult) -> dict[str, float]:
    f = result.settings.faults
    return {
        "tilt": f.tilt_threshold_deg,
        "hold": f.min_top_hold_s,
        "ecc": f.min_eccentric_s,
        "partial": f.partial_rom_fraction,
        "band": result.settings.segmentation.band_fraction,
    }


def _is_hip(result: SessionResult) -> bool:
    return result.placement == "hip"


def set_verdict(s: SetResult, placement: str, tilt_threshold_deg: float | None = None) -> str:
    """One-line verdict of a set, e.g. ``"11 reps · 2 rushed lowerings (reps 9, 11) · hips level"``.

    Parameters
    ----------
    s
        The set.
    placement
        ``"hip"`` or ``"thigh"`` (tilt is only judged with the sensor on the hip).
    tilt_threshold_deg
        Shown with the largest tilt when the hips stayed level (optional).
    """
    parts = [_plural(len(s.reps), "rep")]
    faulty = False
    for code in FAULTS:
        reps = [r.index for r in s.reps if code in r.faults]
        if reps:
            parts.append(_fault_phrase(code, reps))
            faulty = True
    if not faulty and s.reps:
        parts.append("all reps clean")
    if placement == "hip":
        tilts = [r.peak_tilt_deg for r in s.reps if r.peak_tilt_deg is not None]
        if tilts and not any("hip_tilt" in r.faults for r in s.reps):
            limit = f" ≤ {tilt_threshold_deg:g}°" if tilt_threshold_deg is not None else ""
            parts.append(f"hips level (max {max(tilts):.1f}°{limit})")
    else:
        parts.append("tilt not measured (thigh)")
    return " · ".join(parts)


def _side_name(side: str | None) -> str:
    return side if side else "unknown"


def _set_name(s: SetResult) -> str:
    return f"Set {s.index} · {s.side} leg" if s.side else f"Set {s.index} · side unknown"


# --- data helpers --------------------------------------------------------------------------------


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


def asymmetry_pct(a: float | None, b: float | None) -> float | None:
    """``|a − b| / max(|a|, |b|) × 100`` (0 = symmetric); None when a value is missing or both are 0."""
    if a is None or b is None:
        return None
    big = max(abs(a), abs(b))
    return None if big == 0 else abs(a - b) / big * 100.0


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

    @property
    def faults(self) -> int:
        """Total number of faults."""
        return sum(self.fault_counts.values())


def side_stats(result: SessionResult) -> dict[str, SideStats]:
    """Aggregate the reps of ``result`` by working side (``left``, ``right``, ``unknown``; in that order)."""
    stats: dict[str, SideStats] = {}
    for s in result.sets:
        name = _side_name(s.side)
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
    order = {"left": 0, "right": 1, "unknown": 2}
    return dict(sorted(stats.items(), key=lambda kv: order.get(kv[0], 3)))


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector (restored on exit; nothing is collected here).

    Building figures allocates hundreds of thousands of long-lived matplotlib objects, which makes
    Python run full collections over all of them again and again (about 40 % of the build time of a
    1-hour report).  The few cycles made meanwhile are collected by the next automatic collection.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


# --- drawing helpers -----------------------------------------------------------------------------


def _new_figure(height_in: float) -> Figure:
    fig = Figure(figsize=(PAGE_WIDTH_IN, height_in), dpi=DEFAULT_DPI, facecolor="white")
    FigureCanvasAgg(fig)
    return fig


def _header(fig: Figure, title: str, subtitle: str, note: str, height_in: float) -> None:
    top = 1.0 - 0.25 / height_in
    fig.text(0.05, top, title, fontsize=16, fontweight="bold", va="top", ha="left")
    sub = _WrappedText(0.05, top - 0.36 / height_in, subtitle, fontsize=11, va="top", ha="left", wrap=True)
    fig.add_artist(sub)
    sub.prewrap()
    fig.text(0.05, top - 0.62 / height_in, note, fontsize=8.5, color="#666666", va="top", ha="left")


def _wrap_text(text: str, prop: FontProperties, dpi: float, width_px: float) -> str:
    """``text`` with line breaks so that no line is wider than ``width_px`` (greedy, word by word)."""
    renderer = RendererAgg(8, 8, dpi)

    def fits(line: str) -> bool:
        return float(renderer.get_text_width_height_descent(line, prop, ismath=False)[0]) <= width_px

    lines: list[str] = []
    for paragraph in text.split("\n"):
        if fits(paragraph):
            lines.append(paragraph)
            continue
        words = paragraph.split(" ")
        while words:
            n = 1
            while n < len(words) and fits(" ".join(words[: n + 1])):
                n += 1
            lines.append(" ".join(words[:n]))
            words = words[n:]
    return "\n".join(lines)


class _WrappedText(Text):
    """A text wrapped at the figure's edge (``wrap=True``) whose line breaks are worked out once.

    matplotlib's wrapping measures every prefix of the line again on every draw (dozens of text
    layouts per page and format); :meth:`prewrap` computes the same greedy breaks once with the Agg
    metrics, and drawing reuses them while the text is unchanged.  ``get_text()`` stays unwrapped.
    """

    _prewrapped: tuple[str, str] | None = None

    def prewrap(self) -> None:
        """Compute the line breaks now (the text must be in a figure)."""
        fig = self.get_figure(root=True)
        if fig is None or not self.get_wrap():
            return
        x0 = float(self.get_transform().transform(self.get_position())[0])
        width_px = float(fig.bbox.x1) - x0
        text = self.get_text()
        self._prewrapped = (text, _wrap_text(text, self.get_fontproperties(), fig.dpi, width_px))

    def _get_wrapped_text(self) -> str:
        pre = self._prewrapped
        if pre is not None and self.get_wrap() and pre[0] == self.get_text():
            return pre[1]
        return str(Text._get_wrapped_text(self))  # type: ignore[attr-defined]


def _table(
    ax: Axes,
    header: Sequence[str],
    rows: Sequence[Sequence[str]],
    colours: Sequence[Sequence[str]] | None = None,
    col_widths: Sequence[float] | None = None,
    font_size: float = 8.5,
) -> None:
    """A table filling ``ax``: bold header on grey, one text per cell, thin grey cell borders.

    Drawn as one collection of cell rectangles plus one centred text per cell, which looks like
    matplotlib's ``ax.table(..., bbox=(0, 0, 1, 1))`` but is several times cheaper to build and to
    draw (PNG and PDF).  The header row is 1.8 rows tall when a header label has a line break.
    """
    ax.axis("off")
    if not rows:
        ax.text(
            0.5, 0.5, "nothing to show", ha="center", va="center", color="#666666", transform=ax.transAxes
        )
        return
    n_cols = len(header)
    widths = np.asarray(col_widths if col_widths is not None else [1.0] * n_cols, dtype=float)
    lefts = np.concatenate([[0.0], np.cumsum(widths)[:-1]]) / widths.sum()
    widths = widths / widths.sum()
    header_rows = 1.8 if any("\n" in h for h in header) else 1.0
    unit = 1.0 / (len(rows) + header_rows)
    # (top, height, texts, colours, bold) of every row, the header first
    table_rows: list[tuple[float, float, Sequence[str], Sequence[str], bool]] = [
        (1.0, header_rows * unit, header, [_TABLE_HEADER_COLOR] * n_cols, True)
    ]
    for i, row in enumerate(rows):
        top = 1.0 - (header_rows + i) * unit
        table_rows.append((top, unit, row, colours[i] if colours is not None else ["white"] * n_cols, False))
    verts: list[list[tuple[float, float]]] = []
    faces: list[str] = []
    for top, height, texts, fills, bold in table_rows:
        bottom = top - height
        for left, width, text, fill in zip(lefts, widths, texts, fills, strict=True):
            right = left + width
            verts.append([(left, bottom), (right, bottom), (right, top), (left, top)])
            faces.append(fill)
            ax.text(
                left + width / 2,
                bottom + height / 2,
                text,
                ha="center",
                va="center",
                fontsize=font_size,
                fontweight="bold" if bold else "normal",
                transform=ax.transAxes,
                clip_on=False,
            )
    ax.add_collection(
        PolyCollection(
            verts,
            facecolors=faces,
            edgecolors="#CCCCCC",
            linewidths=0.5,
            transform=ax.transAxes,
            clip_on=False,
            zorder=0,
            gid="table-cells",
        ),
        autolim=False,
    )


def _row_major(handles: Sequence[Any], ncol: int) -> list[Any]:
    """Reorder legend ``handles`` so that matplotlib's column-major layout reads row by row."""
    nrow = math.ceil(len(handles) / ncol)
    grid = [list(handles[i * ncol : (i + 1) * ncol]) for i in range(nrow)]
    return [grid[r][c] for c in range(ncol) for r in range(nrow) if c < len(grid[r])]


def _tint(hex_colour: str, alpha: float = 0.22) -> str:
    rgb = matplotlib.colors.to_rgb(hex_colour)
    r, g, b = (1.0 - alpha * (1.0 - c) for c in rgb)
    mixed = (r, g, b)
    return matplotlib.colors.to_hex(mixed)


def _fmt(value: float | int | None, key: str) -> str:
    return "–" if value is None else format(value, METRICS[key].fmt)


# --- set page ------------------------------------------------------------------------------------


def _draw_angle(ax: Axes, s: SetResult, t0: float, th: dict[str, float], max_points: int, hip: bool) -> None:
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
        ax.plot(t, y, color=_TRACE_COLOR, linewidth=1.0, zorder=3, gid="trace:sagittal")
    else:
        ax.text(0.5, 0.5, "no angle trace stored for this set", transform=ax.transAxes, ha="center")

    band = th["band"]
    with_angles = [r for r in reps if r.bottom_deg is not None and r.top_deg is not None]
    if with_angles:
        xmin = [r.start_s - t0 for r in with_angles]
        xmax = [r.end_s - t0 for r in with_angles]
        bottom = [r.bottom_deg + band * r.rom_deg for r in with_angles]  # type: ignore[operator]
        top = [r.top_deg - band * r.rom_deg for r in with_angles]  # type: ignore[operator]
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
    ax.set_ylabel(label("sagittal_deg"))
    segment = "Hip" if hip else "Thigh"
    ax.set_title(f"{segment} angle over the set — reps numbered, phases shaded")

    handles: list[Any] = [Line2D([], [], color=_TRACE_COLOR, linewidth=1.0, label=label("sagittal_deg"))]
    handles += [Patch(facecolor=PHASE_COLORS[p], alpha=0.5, label=phase_label(p)) for p in PHASES]
    handles.append(
        Line2D(
            [], [], color="#555555", linestyle="--", linewidth=0.9, label=f"{band:.0%} bands (bottom / top)"
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
        handles=_row_major(handles, ncol),
        loc="upper center",
        bbox_to_anchor=(0.5, -0.03),
        ncol=ncol,
        fontsize=8.5,
        handlelength=1.8,
        columnspacing=1.4,
        borderaxespad=0.0,
    )


def _draw_tilt(ax: Axes, s: SetResult, t0: float, th: dict[str, float], hip: bool, max_points: int) -> None:
    """Pelvis tilt with the ±threshold band and the tilt faults (hip only)."""
    ax.set_title("Pelvis tilt (sideways) — should stay inside the band")
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
    thr = th["tilt"]
    t_rel = tr.t_s - t0
    t, y = decimate_minmax(t_rel, tr.tilt_deg, max_points)
    ax.axhspan(-thr, thr, color=_OK_COLOR, alpha=0.10, linewidth=0, zorder=0, gid="tilt-band")
    ax.axhline(thr, color=_OK_COLOR, linestyle="--", linewidth=0.8)
    ax.axhline(-thr, color=_OK_COLOR, linestyle="--", linewidth=0.8)
    ax.plot(t, y, color=_TRACE_COLOR, linewidth=0.9, zorder=3, gid="trace:tilt")
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
            ys.append(r.peak_tilt_deg or thr)
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
    ax.set_ylabel(label("tilt_deg"))
    handles: list[Any] = [
        Line2D([], [], color=_TRACE_COLOR, linewidth=0.9, label=label("tilt_deg")),
        Patch(facecolor=_OK_COLOR, alpha=0.25, label=f"level: within ±{thr:g}°"),
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
    ax.legend(handles=handles, loc="upper right", ncol=len(handles), fontsize=8)


def _draw_tempo(ax: Axes, s: SetResult, th: dict[str, float]) -> None:
    """Stacked Up / Squeeze / Down bars per rep with the squeeze and lowering targets."""
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
            label=phase_label(phase),
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
        ax.hlines(
            up + th["hold"],
            idx - half,
            idx + half,
            colors="#1B5E20",
            linewidth=1.6,
            label=f"squeeze target ≥ {th['hold']:g} s",
            gid="target:short_hold",
            zorder=4,
        )
        ax.hlines(
            up + hold + th["ecc"],
            idx - half,
            idx + half,
            colors="#8D4B00",
            linewidth=1.6,
            linestyles=(0, (2, 1)),
            label=f"lowering target ≥ {th['ecc']:g} s",
            gid="target:rushed_lowering",
            zorder=4,
        )
        ymax = float(max(np.max(bottom), np.max(up + hold + th["ecc"])))
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
        Patch(facecolor=PHASE_COLORS[p], label=phase_label(p))
        for p in ("concentric", "top_hold", "eccentric")
    ]
    handles += [
        Line2D([], [], color="#1B5E20", linewidth=1.6, label=f"squeeze target ≥ {th['hold']:g} s"),
        Line2D(
            [],
            [],
            color="#8D4B00",
            linewidth=1.6,
            linestyle=(0, (2, 1)),
            label=f"lowering target ≥ {th['ecc']:g} s",
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
        handles=_row_major(handles, 3),
        loc="upper center",
        bbox_to_anchor=(0.5, -0.2),
        ncol=3,
        fontsize=7.5,
        handlelength=1.4,
        columnspacing=0.8,
        borderaxespad=0.0,
    )


def _draw_rom(ax: Axes, s: SetResult, th: dict[str, float]) -> None:
    """ROM per rep with the partial-range threshold (fraction × the set's median ROM)."""
    idx = np.array([r.index for r in s.reps], dtype=float)
    rom = np.array([r.rom_deg for r in s.reps])
    colours = [FAULT_COLORS["partial_rom"] if "partial_rom" in r.faults else "#8DA0CB" for r in s.reps]
    bars = ax.bar(idx, rom, 0.72, color=colours, edgecolor="white", linewidth=0.5)
    for patch, r in zip(bars.patches, s.reps, strict=True):
        patch.set_gid(f"rom:{r.index}")
    if len(rom):
        median = float(statistics.median(rom.tolist()))
        limit = th["partial"] * median
        ax.axhline(
            limit,
            color=FAULT_COLORS["partial_rom"],
            linestyle="--",
            linewidth=1.1,
            gid="partial-threshold",
            label=f"partial below {limit:.1f}° ({th['partial']:.0%} of median {median:.1f}°)",
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
                label=f"partial below {limit:.1f}° ({th['partial']:.0%} of median)",
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


def _draw_rep_table(ax: Axes, s: SetResult, hip: bool) -> None:
    columns = [c for c in _REP_COLUMNS if hip or c != "peak_tilt_deg"]
    header = [label(c) for c in columns] + ["Faults"]
    rows: list[list[str]] = []
    colours: list[list[str]] = []
    for r in s.reps:
        row = [_fmt(int(r.index) if c == "index" else getattr(r, c), c) for c in columns]
        row.append(", ".join(FAULT_LABELS.get(f, f) for f in r.faults) or "ok")
        rows.append(row)
        tint = ["white"] * len(row)
        for j, c in enumerate(columns):
            code = _CELL_FAULT.get(c)
            if code and code in r.faults:
                tint[j] = _tint(FAULT_COLORS[code])
        tint[-1] = "white" if not r.faults else "#FFF3E0"
        colours.append(tint)
    widths = [0.07] + [0.10] * (len(columns) - 1)
    widths.append(1.0 - sum(widths))
    _table(ax, header, rows, colours, widths, font_size=8.5)


def build_set_figure(result: SessionResult, s: SetResult, *, max_points: int = DEFAULT_MAX_POINTS) -> Figure:
    """The page of one set (see the module docstring for its panels and their ``gid``).

    Parameters
    ----------
    result
        The session (for the placement, the settings and the source).
    s
        One of ``result.sets``.
    max_points
        Plotted points per trace at most.
    """
    th = _thresholds(result)
    hip = _is_hip(result)
    n_rows = len(s.reps) + 1
    table_in = 0.24 * n_rows + 0.3
    height = 12.2 + table_in - (0 if hip else 0.9)
    fig = _new_figure(height)
    title = f"{_set_name(s)} · {result.placement} sensor"
    duration = s.end_s - s.start_s
    note = (
        f"{Path(result.source).name or 'recording'} · {s.start_s:.1f}–{s.end_s:.1f} s "
        f"({int(duration // 60)}:{duration % 60:04.1f} min) · time under tension "
        f"{s.summary.time_under_tension_s:.1f} s · {s.summary.clean_reps} of {s.summary.reps} reps clean"
    )
    _header(fig, title, set_verdict(s, result.placement, th["tilt"] if hip else None), note, height)
    top = 1.0 - 1.3 / height
    gs = fig.add_gridspec(
        4,
        2,
        height_ratios=[3.8, 1.7 if hip else 0.5, 2.3, table_in],
        left=0.07,
        right=0.97,
        top=top,
        bottom=0.2 / height,
        hspace=0.42,
        wspace=0.2,
    )
    ax_angle = fig.add_subplot(gs[0, :])
    ax_tilt = fig.add_subplot(gs[1, :], sharex=ax_angle)
    ax_tempo = fig.add_subplot(gs[2, 0])
    ax_rom = fig.add_subplot(gs[2, 1])
    ax_table = fig.add_subplot(gs[3, :])
    t0 = s.start_s
    _draw_angle(ax_angle, s, t0, th, max_points, hip)
    _draw_tilt(ax_tilt, s, t0, th, hip, max_points)
    ax_tilt.set_xlabel(label("time_in_set_s"))
    if s.trace is not None and len(s.trace.t_s):
        ax_angle.set_xlim(float(s.trace.t_s[0] - t0), float(s.trace.t_s[-1] - t0))
    elif s.reps:
        ax_angle.set_xlim(-2.0, s.end_s - t0 + 2.0)
    ax_angle.tick_params(labelbottom=False)
    _draw_tempo(ax_tempo, s, th)
    _draw_rom(ax_rom, s, th)
    _draw_rep_table(ax_table, s, hip)
    return fig


# --- session page --------------------------------------------------------------------------------


def _side_colour(side: str) -> str:
    return SIDE_COLORS.get(side, SIDE_COLORS["unknown"])


def _asym_title(base: str, stats: dict[str, SideStats], value: str) -> str:
    if "left" in stats and "right" in stats:
        a = stats["left"]
        b = stats["right"]
        va: float | None = float(getattr(a, value)) if value in ("reps", "faults") else a.mean(value)
        vb: float | None = float(getattr(b, value)) if value in ("reps", "faults") else b.mean(value)
        pct = asymmetry_pct(va, vb)
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
    sds = [float(np.std(stats[s].rom_deg)) if stats[s].rom_deg else 0.0 for s in sides]
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
    title = "Tempo, mean per rep"
    if "left" in stats and "right" in stats:
        tl = sum(stats["left"].mean(PHASE_METRIC[p]) or 0.0 for p in ("concentric", "top_hold", "eccentric"))
        tr = sum(stats["right"].mean(PHASE_METRIC[p]) or 0.0 for p in ("concentric", "top_hold", "eccentric"))
        pct = asymmetry_pct(tl, tr)
        title += f"\nasymmetry {pct:.0f} %" if pct is not None else "\n "
    else:
        title += "\n "
    ax.set_title(title, fontsize=10)
    # Tilt
    ax = axes[3]
    if _is_hip(result):
        mean_t = [stats[s].mean("peak_tilt_deg") or 0.0 for s in sides]
        max_t = [max(stats[s].peak_tilt_deg, default=0.0) for s in sides]
        ax.bar(x, mean_t, 0.6, color=colours, gid="side:tilt")
        ax.plot(x, max_t, linestyle="none", marker="_", markersize=22, color="#333333", label="max")
        thr = _thresholds(result)["tilt"]
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
        colour = _side_colour(_side_name(s.side))
        reps = [r.index for r in s.reps]
        kw: dict[str, Any] = {
            "color": colour,
            "marker": markers[k % len(markers)],
            "markersize": 4,
            "linestyle": styles[(k // 2) % len(styles)],
            "linewidth": 1.2,
            "label": _set_name(s),
        }
        ax_conc.plot(reps, [r.concentric_s for r in s.reps], gid=f"trend:concentric:{s.index}", **kw)
        if _is_hip(result):
            tilts = [r.peak_tilt_deg for r in s.reps]
            ax_tilt.plot(reps, [np.nan if v is None else v for v in tilts], gid=f"trend:tilt:{s.index}", **kw)
    ax_conc.set_title("Fatigue: lifting time across the set")
    ax_conc.set_xlabel(METRICS["index"].label)
    ax_conc.set_ylabel(label("concentric_s"))
    ax_tilt.set_title("Fatigue: pelvis tilt across the set")
    ax_tilt.set_xlabel(METRICS["index"].label)
    if _is_hip(result):
        thr = _thresholds(result)["tilt"]
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
        if result.sets and (ax is ax_conc or _is_hip(result)):
            ncol = 2 if len(result.sets) > 4 else 1
            ax.legend(loc="best", fontsize=7, ncol=ncol)
    if len(result.sets) > 12:
        for ax in (ax_conc, ax_tilt):
            legend = ax.get_legend()
            if legend is not None:
                legend.remove()


def _baseline_text(s: SetResult, hip: bool) -> str:
    if not hip:
        return "– (thigh)"
    return {
        "start_position": "start position",
        "first_rep_bottom": "first rep's bottom (no quiet start)",
    }.get(s.baseline_source, s.baseline_source)


def _quality_rows(result: SessionResult) -> tuple[list[list[str]], list[list[str]]]:
    q = result.quality
    hip = _is_hip(result)
    nominal = result.metadata.get("sample_rate_hz")
    rate = f"{q.sample_rate_hz:.1f}"
    if isinstance(nominal, int | float) and nominal > 0:
        rate += f" (nominal {nominal:g})"
    gaps = f"{q.n_gaps}" + (f" ({q.gap_total_s:.2f} s in total)" if q.n_gaps else "")
    rows = [
        [label("sample_rate_hz"), rate],
        [METRICS["n_samples"].label, _fmt(q.n_samples, "n_samples")],
        [METRICS["duration_s"].label, f"{q.duration_s / 60:.1f} min"],
        ["Gaps in the data", gaps],
        [label("still_fraction"), f"{q.still_fraction * 100:.0f} % of the time still (gyro bias learned)"],
    ]
    if hip:
        for s in result.sets[:8]:
            rows.append([f"Tilt baseline, set {s.index}", _baseline_text(s, hip)])
        if len(result.sets) > 8:
            n_start = sum(s.baseline_source == "start_position" for s in result.sets)
            rows.append(
                ["Tilt baseline, all sets", f"start position in {n_start} of {len(result.sets)} sets"]
            )
    else:
        rows.append(["Tilt baseline", "– (tilt not measured on the thigh)"])
    colours = []
    for name, value in rows:
        c = ["white", "white"]
        if name == "Gaps in the data" and q.n_gaps:
            c[1] = "#FFF3E0"
        if "first rep's bottom" in value:
            c[1] = "#FFF3E0"
        colours.append(c)
    return rows, colours


def _comparison_rows(
    stats: dict[str, SideStats], hip: bool
) -> tuple[list[str], list[list[str]], list[list[str]]]:
    sides = list(stats)
    both = "left" in stats and "right" in stats
    header = ["", *[s.capitalize() for s in sides]] + ([label("asymmetry_pct")] if both else [])
    metrics: list[tuple[str, str, str]] = [
        ("Reps (clean)", "reps", "d"),
        ("Mean " + label("rom_deg"), "rom_deg", ".1f"),
        ("Mean " + label("concentric_s"), "concentric_s", ".2f"),
        ("Mean " + label("top_hold_s"), "top_hold_s", ".2f"),
        ("Mean " + label("eccentric_s"), "eccentric_s", ".2f"),
    ]
    if hip:
        metrics.append(("Max " + label("peak_tilt_deg"), "max_tilt", ".1f"))
    metrics.append(("Faulty reps", "faulty", "d"))
    rows: list[list[str]] = []
    colours: list[list[str]] = []

    def value(st: SideStats, key: str) -> float | None:
        if key == "reps":
            return float(st.reps)
        if key == "max_tilt":
            return max(st.peak_tilt_deg) if st.peak_tilt_deg else None
        if key == "faulty":
            return float(st.reps - st.clean_reps)
        return st.mean(key)

    for name, key, fmt in metrics:
        vals = [value(stats[s], key) for s in sides]
        cells = [name]
        for s, v in zip(sides, vals, strict=True):
            if v is None:
                cells.append("–")
            elif key == "reps":
                cells.append(f"{int(v)} ({stats[s].clean_reps})")
            else:
                cells.append(format(int(v) if fmt == "d" else v, fmt))
        c = ["white"] * len(cells)
        if both:
            pct = asymmetry_pct(value(stats["left"], key), value(stats["right"], key))
            cells.append("–" if pct is None else f"{pct:.0f}")
            c.append("white" if pct is None or pct <= _ASYMMETRY_WARN_PCT or key == "faulty" else "#FFE0E0")
        rows.append(cells)
        colours.append(c)
    return header, rows, colours


def _set_rows(result: SessionResult) -> tuple[list[str], list[list[str]], list[list[str]]]:
    hip = _is_hip(result)
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
            _fmt(v, "concentric_s") for v in (m.mean_concentric_s, m.mean_top_hold_s, m.mean_eccentric_s)
        )
        row = [
            str(s.index),
            _side_name(s.side),
            str(m.reps),
            str(m.clean_reps),
            _fmt(m.time_under_tension_s, "time_under_tension_s"),
            _fmt(m.mean_rom_deg, "rom_deg"),
            tempo,
        ]
        if hip:
            row.append(_fmt(m.max_peak_tilt_deg, "peak_tilt_deg"))
        n_fixed = len(row)
        row += [str(m.fault_counts.get(c, 0)) for c in codes]
        rows.append(row)
        tint = ["white"] * n_fixed + [
            _tint(FAULT_COLORS[c]) if m.fault_counts.get(c, 0) else "white" for c in codes
        ]
        colours.append(tint)
    return header, rows, colours


def session_verdict(result: SessionResult) -> str:
    """One line about the whole session, e.g. ``"2 sets · 21 reps (13 clean) · left and right"``."""
    n_reps = sum(len(s.reps) for s in result.sets)
    clean = sum(s.summary.clean_reps for s in result.sets)
    sides = [s for s in side_stats(result) if s != "unknown"]
    if "left" in sides and "right" in sides:
        side_text = "left and right compared"
    elif sides:
        side_text = f"{sides[0]} side only — no left/right comparison"
    else:
        side_text = "sides unknown — no left/right comparison (use --side or the sidecar's sides)"
    if not result.sets:
        return "no sets found"
    return f"{_plural(len(result.sets), 'set')} · {_plural(n_reps, 'rep')} ({clean} clean) · {side_text}"


def build_session_figure(result: SessionResult) -> Figure:
    """The session page: left vs right, fatigue trends, data quality and the set table.

    Parameters
    ----------
    result
        The analysis.
    """
    hip = _is_hip(result)
    stats = side_stats(result)
    n_set_rows = len(result.sets) + 1
    q_rows, q_colours = _quality_rows(result)
    c_header, c_rows, c_colours = _comparison_rows(stats, hip)
    mid_rows = max(len(q_rows), len(c_rows)) + 1
    mid_in = 0.26 * mid_rows + 0.2
    set_in = 0.26 * n_set_rows + 0.2
    height = 2.25 + 3.4 + 3.1 + mid_in + set_in + 2.0
    fig = _new_figure(height)
    note = (
        f"{Path(result.source).name or 'recording'} · {result.placement} sensor · "
        f"{result.quality.duration_s / 60:.1f} min at {result.quality.sample_rate_hz:.0f} Hz"
    )
    _header(fig, "Session report", session_verdict(result), note, height)
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
    fig.text(0.05, 1.0 - 1.3 / height, _sides_heading(stats), fontsize=13, fontweight="bold", va="top")
    gs_trend = gs[1].subgridspec(1, 2, wspace=0.2)
    _draw_trends(fig.add_subplot(gs_trend[0, 0]), fig.add_subplot(gs_trend[0, 1]), result)
    gs_mid = gs[2].subgridspec(1, 2, wspace=0.08, width_ratios=[1.15, 1.0])
    ax_cmp = fig.add_subplot(gs_mid[0, 0])
    n_cols = len(c_header)
    _table(ax_cmp, c_header, c_rows, c_colours, [0.34] + [0.66 / (n_cols - 1)] * (n_cols - 1), font_size=8.5)
    ax_cmp.set_title(
        "Left vs right" + (" (asymmetry = |L − R| / larger)" if "left" in stats and "right" in stats else ""),
        pad=8,
    )
    ax_q = fig.add_subplot(gs_mid[0, 1])
    _table(ax_q, ["Measure", "Value"], q_rows, q_colours, [0.38, 0.62], font_size=8.5)
    ax_q.set_title("Data quality", pad=8)
    ax_sets = fig.add_subplot(gs[3])
    s_header, s_rows, s_colours = _set_rows(result)
    fixed = [0.05, 0.07, 0.06, 0.06, 0.08, 0.11, 0.17] + ([0.10] if hip else [])
    n_codes = len(s_header) - len(fixed)
    widths = fixed + [(1.0 - sum(fixed)) / max(n_codes, 1)] * n_codes
    _table(ax_sets, s_header, s_rows, s_colours, widths, font_size=8.5)
    ax_sets.set_title("Sets", pad=8)
    return fig


def _sides_heading(stats: dict[str, SideStats]) -> str:
    if "left" in stats and "right" in stats:
        return "Left vs right"
    present = [s for s in stats if s != "unknown"]
    if present:
        return f"{present[0].capitalize()} side only (no left/right comparison)"
    return "Sides unknown (no left/right comparison)"


# --- pages and output ----------------------------------------------------------------------------


@dataclass
class ReportPage:
    """One page of a report.

    Attributes
    ----------
    name
        File stem: ``"session"`` or ``"set-N"``.
    title
        Heading (HTML) and PDF bookmark text.
    summary
        One-line verdict.
    figure
        The matplotlib figure (Agg canvas).
    """

    name: str
    title: str
    summary: str
    figure: Figure


def build_pages(result: SessionResult, *, max_points: int = DEFAULT_MAX_POINTS) -> list[ReportPage]:
    """All pages of a report: the session page first, then one page per set.

    Parameters
    ----------
    result
        The analysis.
    max_points
        Plotted points per trace at most.
    """
    with _gc_paused(), matplotlib.rc_context(_STYLE):
        pages = list(_iter_pages(result, max_points))
    logger.debug("built %d report page(s)", len(pages))
    return pages


def _iter_pages(result: SessionResult, max_points: int) -> Iterator[ReportPage]:
    """The pages of :func:`build_pages`, built one by one (call with the report style active)."""
    th = _thresholds(result)
    yield ReportPage("session", "Session", session_verdict(result), build_session_figure(result))
    for s in result.sets:
        verdict = set_verdict(s, result.placement, th["tilt"] if _is_hip(result) else None)
        yield ReportPage(
            f"set-{s.index}", _set_name(s), verdict, build_set_figure(result, s, max_points=max_points)
        )


def figure_png(fig: Figure, dpi: float = DEFAULT_DPI) -> bytes:
    """The figure as PNG bytes."""
    buf = io.BytesIO()
    with _gc_paused(), matplotlib.rc_context(_STYLE):
        fig.savefig(buf, format="png", dpi=dpi, facecolor="white", pil_kwargs={"compress_level": _PNG_LEVEL})
    return buf.getvalue()


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height in pixels of PNG ``data`` (from its IHDR chunk).

    Raises
    ------
    ValueError
        ``data`` is not a PNG image.
    """
    if len(data) < 24 or data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        raise ValueError("not a PNG image")
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def write_pdf(pages: Sequence[ReportPage], path: str | Path, *, title: str = "imurep report") -> int:
    """Write all ``pages`` to one multi-page PDF; returns the number of pages written."""
    return _write_pdf(pages, path, title=title)


def _write_pdf(
    pages: Sequence[ReportPage], path: str | Path, *, title: str, after_page: Callable[[], None] | None = None
) -> int:
    with (
        _gc_paused(),
        matplotlib.rc_context(_STYLE),
        PdfPages(
            path, metadata={"Title": title, "Creator": "imurep", "Subject": "single-leg hip thrust analysis"}
        ) as pdf,
    ):
        for page in pages:
            pdf.savefig(page.figure, facecolor="white")
            if after_page is not None:
                after_page()
        count = pdf.get_pagecount()
    return int(count)


_HTML_CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:0;background:#f4f4f4;color:#222}
header{background:#263238;color:#fff;padding:16px 28px}
header h1{margin:0 0 4px 0;font-size:22px} header p{margin:0;color:#cfd8dc}
nav{padding:10px 28px;background:#fff;border-bottom:1px solid #ddd;position:sticky;top:0}
nav a{margin-right:14px;color:#1565c0;text-decoration:none}
section{background:#fff;margin:18px auto;padding:14px 20px;max-width:1140px;box-shadow:0 1px 3px #0002}
section h2{margin:4px 0} section p{margin:4px 0 10px 0}
img{max-width:100%;height:auto;display:block;margin:auto}
footer{color:#777;font-size:12px;text-align:center;padding:16px}
"""


def build_html(pages: Sequence[ReportPage], pngs: Sequence[bytes], *, title: str, subtitle: str) -> str:
    """A self-contained HTML document: every page as an embedded PNG (base64 data URI), no external files.

    Parameters
    ----------
    pages, pngs
        The pages and their PNG renderings (same order).
    title, subtitle
        Heading of the document.
    """
    esc = html.escape
    nav = " ".join(f'<a href="#{esc(p.name)}">{esc(p.title)}</a>' for p in pages)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{esc(title)}</title><style>{_HTML_CSS}</style></head><body>",
        f"<header><h1>{esc(title)}</h1><p>{esc(subtitle)}</p></header>",
        f"<nav>{nav}</nav>",
    ]
    for page, png in zip(pages, pngs, strict=True):
        w, h = png_size(png)
        data = base64.b64encode(png).decode("ascii")
        parts.append(
            f'<section id="{esc(page.name)}"><h2>{esc(page.title)}</h2><p>{esc(page.summary)}</p>'
            f'<img src="data:image/png;base64,{data}" width="{w}" height="{h}" '
            f'alt="{esc(page.title)}: {esc(page.summary)}"></section>'
        )
    parts.append("<footer>Made by imurep from simulated or recorded IMU data.</footer></body></html>")
    return "\n".join(parts) + "\n"


@dataclass
class ReportFiles:
    """What :func:`write_report` wrote."""

    paths: list[Path]
    pages: int


def _check_out(out: Path) -> str:
    """``"dir"`` or the suffix of the single file to write; raises SettingsError for bad paths."""
    suffix = out.suffix.lower()
    if out.is_dir() or not suffix:
        if out.exists() and not out.is_dir():
            raise SettingsError(f"report output {out}: exists and is not a folder")
        parent = out.resolve().parent
        if not parent.is_dir():
            raise SettingsError(f"report output {out}: the folder {out.parent} does not exist")
        return "dir"
    if suffix not in REPORT_SUFFIXES:
        raise SettingsError(
            f"report output {out}: unknown type {out.suffix!r}; give a folder or a file ending in "
            f"{', '.join(REPORT_SUFFIXES)}"
        )
    if not out.resolve().parent.is_dir():
        raise SettingsError(f"report output {out}: the folder {out.parent} does not exist")
    return suffix


def check_report_path(out: str | Path) -> None:
    """Raise :class:`~imurep.errors.SettingsError` now when ``out`` cannot take a report (early check)."""
    _check_out(Path(out))


# Worker state of the PNG process pool (set once per worker by its initializer).  The workers are
# forked after the pages were built, so they inherit the figures and only render them.
_WORKER: dict[str, Any] = {}


def _init_worker(pages: Sequence[ReportPage], dpi: float) -> None:
    _WORKER.update(pages=pages, dpi=dpi)


def _render_page_png(i: int) -> bytes:
    """Render the worker's (inherited) page ``i`` to PNG (runs in a worker)."""
    page: ReportPage = _WORKER["pages"][i]
    return figure_png(page.figure, _WORKER["dpi"])


class _ForkedPngs:
    """PNGs rendered by forked worker processes while this process builds the pages and writes the PDF.

    A worker is forked (so it inherits the figures: nothing is built twice or pickled) whenever one
    is free and pages were built since the last fork; it renders those pages in order.  Each page is
    claimed with an exclusive file create before it is rendered, so :meth:`finish` can take the
    pages no worker has started yet, from the last one backwards.  Workers write their PNGs into a
    temporary folder; a page a crashed worker left undone is rendered here.
    """

    def __init__(self, dpi: float, n_workers: int) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="imurep-report-"))
        self.dpi = dpi
        self.n_workers = n_workers
        self.pages: list[ReportPage] = []
        self.handed = 0  # pages [0, handed) went to a worker
        self.procs: list[Any] = []
        self.ctx = multiprocessing.get_context("fork")

    def _claim(self, i: int) -> bool:
        try:
            os.close(os.open(self.dir / f"{i}.claim", os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            return False
        return True

    def _work(self, start: int, stop: int) -> None:  # runs in a worker
        for i in range(start, stop):
            if self._claim(i):
                tmp = self.dir / f"{i}.tmp"
                tmp.write_bytes(figure_png(self.pages[i].figure, self.dpi))
                tmp.rename(self.dir / f"{i}.png")

    def add(self, page: ReportPage) -> None:
        self.pages.append(page)
        self.poll()

    def poll(self) -> None:
        """Fork a worker for the pages not handed out yet when fewer than ``n_workers`` run."""
        self.procs = [p for p in self.procs if p.is_alive()]
        if len(self.procs) < self.n_workers and self.handed < len(self.pages):
            proc = self.ctx.Process(target=self._work, args=(self.handed, len(self.pages)), daemon=True)
            proc.start()
            self.procs.append(proc)
            self.handed = len(self.pages)

    def finish(self) -> list[bytes]:
        """Render the pages nobody took, wait for the workers and return every page's PNG in order."""
        try:
            self.poll()
            mine: dict[int, bytes] = {}
            for i in reversed(range(len(self.pages))):
                if self._claim(i):
                    mine[i] = figure_png(self.pages[i].figure, self.dpi)
            for proc in self.procs:
                proc.join()
            pngs: list[bytes] = []
            for i, page in enumerate(self.pages):
                path = self.dir / f"{i}.png"
                if i in mine:
                    pngs.append(mine[i])
                elif path.is_file():
                    pngs.append(path.read_bytes())
                else:  # a crashed worker must not lose the report
                    logger.debug("no PNG from the workers for %s; rendering here", page.name)
                    pngs.append(figure_png(page.figure, self.dpi))
            return pngs
        finally:
            self.close()

    def close(self) -> None:
        for proc in self.procs:
            if proc.is_alive():
                proc.terminate()
                proc.join()
        shutil.rmtree(self.dir, ignore_errors=True)


def _build_and_render(
    result: SessionResult,
    extra_pages: Sequence[ReportPage],
    *,
    pdf_path: Path | None,
    title: str,
    dpi: float,
    max_points: int,
    jobs: int,
) -> tuple[list[ReportPage], list[bytes]]:
    """Build the pages and render them to PNG (and the PDF) with ``jobs`` processes, overlapped."""
    workers = _ForkedPngs(dpi, max(1, jobs - 1))
    try:
        with _gc_paused(), matplotlib.rc_context(_STYLE):
            for page in _iter_pages(result, max_points):
                workers.add(page)
        for page in extra_pages:
            workers.add(page)
        if pdf_path is not None:
            _write_pdf(workers.pages, pdf_path, title=title, after_page=workers.poll)
        return workers.pages, workers.finish()
    finally:
        workers.close()


def _can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods() and sys.platform.startswith("linux")


def default_jobs() -> int:
    """Processes :func:`render` uses by default: one per CPU this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def render(
    result: SessionResult,
    pages: Sequence[ReportPage],
    *,
    png: bool,
    pdf_path: Path | None = None,
    title: str = "imurep report",
    dpi: float = DEFAULT_DPI,
    max_points: int = DEFAULT_MAX_POINTS,
    jobs: int | None = None,
) -> list[bytes]:
    """Render ``pages`` to PNG (returned, in order) and/or to one PDF at ``pdf_path``.

    With more than one job, ``jobs - 1`` worker processes (forked, Linux) render PNGs from the first
    page on while this process writes the PDF; then this process renders the PNGs no worker has
    started, from the last page backwards.  The workers inherit the built figures (nothing is built
    twice or pickled).  The output is the same as with ``jobs=1``.

    Parameters
    ----------
    result
        The analysis the pages were built from.
    pages
        From :func:`build_pages` with the same ``max_points``.
    png
        Render every page to PNG.
    pdf_path
        Write all pages to this PDF (None: no PDF).
    title
        PDF title.
    dpi, max_points
        As for :func:`write_report`.
    jobs
        Processes to use (None: one per available CPU).
    """
    jobs = default_jobs() if jobs is None else max(1, jobs)
    can_fork = "fork" in multiprocessing.get_all_start_methods() and sys.platform.startswith("linux")
    if not png:
        if pdf_path is not None:
            write_pdf(pages, pdf_path, title=title)
        return []
    if jobs == 1 or len(pages) < 3 or not can_fork:
        if pdf_path is not None:
            write_pdf(pages, pdf_path, title=title)
        return [figure_png(p.figure, dpi) for p in pages]

    n_workers = jobs - 1  # this process renders too
    pngs: list[bytes | None] = [None] * len(pages)
    ctx = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(
        max_workers=n_workers, mp_context=ctx, initializer=_init_worker, initargs=(pages, dpi)
    ) as pool:
        futures: list[Future[bytes]] = [pool.submit(_render_page_png, i) for i in range(len(pages))]
        if pdf_path is not None:
            write_pdf(pages, pdf_path, title=title)
        for i in reversed(range(len(pages))):
            if futures[i].cancel():
                pngs[i] = figure_png(pages[i].figure, dpi)
        for i, fut in enumerate(futures):
            if pngs[i] is None:
                try:
                    pngs[i] = fut.result()
                except Exception as exc:  # a crashed worker must not lose the report
                    logger.debug("worker failed on %s (%s); rendering here", pages[i].name, exc)
                    pngs[i] = figure_png(pages[i].figure, dpi)
    logger.debug("rendered %d PNG page(s) with %d worker process(es)", len(pages), n_workers)
    return [b for b in pngs if b is not None]


def write_report(
    result: SessionResult,
    out: str | Path,
    *,
    dpi: float = DEFAULT_DPI,
    max_points: int = DEFAULT_MAX_POINTS,
    jobs: int | None = None,
    extra_pages: Sequence[ReportPage] = (),
) -> ReportFiles:
    """Render the report of ``result`` to ``out``.

    Parameters
    ----------
    result
        The analysis.
    out
        A folder (created if missing; its parent must exist): writes ``session.png``,
        ``set-1.png`` … ``set-N.png``, ``report.pdf`` and ``report.html``.  Or one file by suffix:
        ``.pdf`` (all pages), ``.html`` (all pages, images embedded) or ``.png`` (the session
        page only).
    dpi
        Resolution of the PNG images.
    max_points
        Plotted points per trace at most.
    jobs
        Processes used to render (None: one per available CPU; 1: no worker processes).
    extra_pages
        Pages appended after the set pages, e.g. the progress page of
        :func:`imurep.report_progress.progress_page`; rendered like the other pages.

    Returns
    -------
    ReportFiles
        The files written and the number of pages of the report.

    Raises
    ------
    SettingsError
        ``out`` has an unknown suffix or its folder does not exist.
    """
    out = Path(out)
    kind = _check_out(out)
    title = f"imurep report — {Path(result.source).name or 'recording'}"
    n_jobs = default_jobs() if jobs is None else max(1, jobs)
    pngs: list[bytes] | None = None
    if kind in ("dir", ".html") and n_jobs > 1 and _can_fork():  # build and render overlapped
        pdf = out / "report.pdf" if kind == "dir" else None
        if kind == "dir":
            out.mkdir(exist_ok=True)
        pages, pngs = _build_and_render(
            result, extra_pages, pdf_path=pdf, title=title, dpi=dpi, max_points=max_points, jobs=n_jobs
        )
    else:
        pages = build_pages(result, max_points=max_points) + list(extra_pages)
    subtitle = session_verdict(result)
    written: list[Path] = []
    opts: dict[str, Any] = {"title": title, "dpi": dpi, "max_points": max_points, "jobs": jobs}
    try:
        if kind == "dir":
            out.mkdir(exist_ok=True)
            if pngs is None:
                pngs = render(result, pages, png=True, pdf_path=out / "report.pdf", **opts)
            for page, data in zip(pages, pngs, strict=True):
                path = out / f"{page.name}.png"
                path.write_bytes(data)
                written.append(path)
            written.append(out / "report.pdf")
            (out / "report.html").write_text(
                build_html(pages, pngs, title=title, subtitle=subtitle), encoding="utf-8"
            )
            written.append(out / "report.html")
        elif kind == ".pdf":
            render(result, pages, png=False, pdf_path=out, **opts)
            written.append(out)
        elif kind == ".html":
            if pngs is None:
                pngs = render(result, pages, png=True, **opts)
            out.write_text(build_html(pages, pngs, title=title, subtitle=subtitle), encoding="utf-8")
            written.append(out)
        else:
            out.write_bytes(figure_png(pages[0].figure, dpi))
            written.append(out)
    finally:
        for page in pages:
            page.figure.clear()
    logger.info("report: %d page(s) written to %s", len(pages), out)
    return ReportFiles(written, len(pages))


def pdf_page_count(data: bytes) -> int:
    """Number of ``/Type /Page`` objects in a PDF (pages of an uncompressed page tree)."""
    return len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", data))


def iter_gid(fig: Figure, prefix: str) -> Iterable[Any]:
    """Artists of ``fig`` whose ``gid`` starts with ``prefix`` (for tests and tools)."""

    def match(artist: Any) -> bool:
        gid = artist.get_gid()
        return isinstance(gid, str) and gid.startswith(prefix)

    yield from fig.findobj(match)
