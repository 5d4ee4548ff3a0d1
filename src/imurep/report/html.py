"""The report as one responsive, self-contained HTML page (opens offline, reads on a phone).

Text and tables are HTML (searchable, legible at 390 px: wide tables scroll sideways inside their
own box); the charts are inline SVG figures that scale to the width of the screen.  Nothing is
fetched: no scripts, fonts or images from elsewhere.  The tables come from the same row builders
as the PNG/PDF pages, so both show the same figures.  Elements tests look for carry an ``id``:
``session``, ``set-N`` and the extra pages' names for the sections, ``left-right``,
``data-quality``, ``sets``, ``advice``, ``reps-N`` and ``cues-N``.
"""

from __future__ import annotations

import html
import io
import re
from collections.abc import Sequence

import matplotlib
from matplotlib.figure import Figure

from imurep.coaching.advice import Coaching
from imurep.model.results import SessionResult, SetResult
from imurep.report.drawing import new_figure
from imurep.report.lift_page import _draw_bars, _draw_trace, side_rows
from imurep.report.session_page import _draw_sides, _draw_trends, comparison_rows, quality_rows, set_rows
from imurep.report.set_page import (
    DEFAULT_MAX_POINTS,
    _draw_angle,
    _draw_rom,
    _draw_tempo,
    _draw_tilt,
    rep_table_rows,
)
from imurep.report.stats import has_both_sides, is_hip, is_lift_set, side_stats, thresholds
from imurep.report.style import RC_STYLE
from imurep.report.text import (
    advice_lines,
    context_line,
    exercise_title,
    session_verdict,
    set_name,
    set_time_text,
    set_verdict,
)

_CSS = """
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:0;background:#f4f4f4;color:#222;
  font-size:16px;line-height:1.45}
header{background:#263238;color:#fff;padding:14px 16px}
header h1{margin:0 0 4px 0;font-size:1.35rem} header p{margin:2px 0;color:#cfd8dc}
nav{padding:8px 16px;background:#fff;border-bottom:1px solid #ddd;position:sticky;top:0;overflow-x:auto;
  white-space:nowrap}
nav a{margin-right:14px;color:#1565c0;text-decoration:none}
main{max-width:1140px;margin:auto;padding:0 8px}
section{background:#fff;margin:14px 0;padding:12px 14px;box-shadow:0 1px 3px #0002;border-radius:4px}
h2{margin:4px 0 6px 0;font-size:1.2rem} h3{margin:14px 0 6px 0;font-size:1.02rem}
.verdict{font-weight:600;margin:4px 0}
.context{color:#555;font-size:.9rem;margin:2px 0 8px 0}
figure{margin:8px 0;overflow-x:auto;-webkit-overflow-scrolling:touch}
figure svg{width:100%;height:auto;display:block}
@media (max-width:700px){figure svg{width:900px;max-width:none}}
.scroll{overflow-x:auto;-webkit-overflow-scrolling:touch;max-width:100%}
table{border-collapse:collapse;font-size:.9rem;margin:4px 0}
th,td{border:1px solid #ddd;padding:3px 7px;text-align:center}
th{background:#eee}
td.l,th.l{text-align:left;white-space:normal}
.cols{display:flex;flex-wrap:wrap;gap:14px}.cols>div{flex:1 1 340px;min-width:0}
ul{margin:4px 0;padding-left:22px}
footer{color:#777;font-size:12px;text-align:center;padding:16px}
"""


def _svg(fig: Figure) -> str:
    """``fig`` as an inline ``<svg>`` element (no XML prolog, no fixed size: it scales)."""
    buf = io.StringIO()
    with matplotlib.rc_context(RC_STYLE):
        fig.savefig(buf, format="svg", facecolor="white")
    fig.clear()
    text = buf.getvalue()
    text = text[text.index("<svg") :]
    text = re.sub(
        r"<metadata>.*?</metadata>", "", text, count=1, flags=re.S
    )  # no date: same input, same page
    # drop the fixed width/height (the viewBox keeps the aspect ratio): CSS sets the width
    return re.sub(r'<svg([^>]*?) width="[^"]*" height="[^"]*"', r"<svg\1", text, count=1)


def _table(
    header: Sequence[str],
    rows: Sequence[Sequence[str]],
    fills: Sequence[Sequence[str]] | None,
    table_id: str = "",
    left_first: bool = True,
) -> str:
    esc = html.escape
    attr = f' id="{esc(table_id)}"' if table_id else ""
    head = "".join(
        f"<th{' class=l' if left_first and j == 0 else ''}>{esc(h).replace(chr(10), ' ')}</th>"
        for j, h in enumerate(header)
    )
    body = []
    for i, row in enumerate(rows):
        cells = []
        for j, cell in enumerate(row):
            fill = fills[i][j] if fills is not None else "white"
            style = f' style="background:{esc(fill)}"' if fill.lower() not in ("white", "#ffffff") else ""
            cls = " class=l" if left_first and j == 0 else ""
            cells.append(f"<td{cls}{style}>{esc(cell)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    rows_html = "".join(body)
    table = f"<table{attr}><thead><tr>{head}</tr></thead><tbody>{rows_html}</tbody></table>"
    return f'<div class="scroll">{table}</div>'


def _list(items: Sequence[str], list_id: str, empty: str) -> str:
    esc = html.escape
    lis = "".join(f"<li>{esc(i)}</li>" for i in items) or f"<li>{esc(empty)}</li>"
    return f'<ul id="{esc(list_id)}">{lis}</ul>'


def _session_charts(result: SessionResult) -> str:
    hip = is_hip(result)
    stats = side_stats(result)
    with matplotlib.rc_context(RC_STYLE):
        fig = new_figure(3.6)
        ratios = [1.0, 0.9, 1.0, 0.9, 1.5] if hip else [1.0, 0.9, 1.0, 1.5]
        gs = fig.add_gridspec(
            1, len(ratios), wspace=0.6, width_ratios=ratios, left=0.06, right=0.98, top=0.84, bottom=0.24
        )
        _draw_sides(fig, gs, result, stats)
        sides = _svg(fig)
        fig = new_figure(3.4)
        gs = fig.add_gridspec(1, 2 if hip else 1, wspace=0.2, left=0.07, right=0.98, top=0.9, bottom=0.15)
        _draw_trends(fig.add_subplot(gs[0, 0]), fig.add_subplot(gs[0, 1]) if hip else None, result)
        trends = _svg(fig)
    return f"<figure>{sides}</figure><figure>{trends}</figure>"


def _set_charts(result: SessionResult, s: SetResult, max_points: int) -> str:
    th = thresholds(result)
    hip_sensor = is_hip(result)
    with matplotlib.rc_context(RC_STYLE):
        if is_lift_set(s):
            fig = new_figure(3.2)
            ax = fig.add_axes((0.07, 0.16, 0.9, 0.7))
            _draw_trace(ax, s, s.start_s, hip_sensor, max_points)
            trace = _svg(fig)
            fig = new_figure(3.0)
            gs = fig.add_gridspec(
                1, 2 if hip_sensor else 1, left=0.07, right=0.98, top=0.88, bottom=0.18, wspace=0.2
            )
            _draw_bars(
                fig.add_subplot(gs[0, 0]),
                s,
                "top_hold_s",
                th.min_top_hold_s,
                f"target ≥ {th.min_top_hold_s:g} s",
                "Foot held up (s)",
                "Foot held up, per lift",
            )
            if hip_sensor:
                _draw_bars(
                    fig.add_subplot(gs[0, 1]),
                    s,
                    "peak_tilt_deg",
                    th.tilt_deg,
                    f"limit {th.tilt_deg:g}°",
                    "Pelvis moved (°)",
                    "Pelvis moved during the lift",
                )
            return f"<figure>{trace}</figure><figure>{_svg(fig)}</figure>"
        hip = hip_sensor and s.trace is not None and s.trace.tilt_deg is not None
        fig = new_figure(5.6 if hip else 3.8)
        gs = fig.add_gridspec(
            2 if hip else 1,
            1,
            height_ratios=[3.8, 1.7] if hip else [1.0],
            left=0.07,
            right=0.98,
            top=0.93,
            bottom=0.2 if not hip else 0.1,
            hspace=0.45,
        )
        ax_angle = fig.add_subplot(gs[0])
        _draw_angle(ax_angle, s, s.start_s, th, max_points, hip_sensor)
        if s.trace is not None and len(s.trace.t_s):
            ax_angle.set_xlim(float(s.trace.t_s[0] - s.start_s), float(s.trace.t_s[-1] - s.start_s))
        if hip:
            ax_tilt = fig.add_subplot(gs[1], sharex=ax_angle)
            _draw_tilt(ax_tilt, s, s.start_s, th, True, max_points)
            ax_tilt.set_xlabel("Time from set start (s)")
            ax_angle.tick_params(labelbottom=False)
        angle = _svg(fig)
        fig = new_figure(3.4)
        gs = fig.add_gridspec(1, 2, left=0.07, right=0.98, top=0.9, bottom=0.3, wspace=0.2)
        _draw_tempo(fig.add_subplot(gs[0, 0]), s, th)
        _draw_rom(fig.add_subplot(gs[0, 1]), s, th)
        return f"<figure>{angle}</figure><figure>{_svg(fig)}</figure>"


def build_report_html(
    result: SessionResult,
    coaching: Coaching,
    *,
    title: str,
    extra: Sequence[tuple[str, str, str, Figure]] = (),
    max_points: int = DEFAULT_MAX_POINTS,
) -> str:
    """The whole report as one HTML document.

    Parameters
    ----------
    result
        The analysis.
    coaching
        Its cues and progression advice (:func:`imurep.report.render.report_coaching`).
    title
        Title of the document.
    extra
        Further pages as ``(name, title, summary, figure)`` (e.g. the progress page), each shown
        with its figure as SVG.
    max_points
        Plotted points per trace at most.
    """
    esc = html.escape
    hip = is_hip(result)
    stats = side_stats(result)
    sections: list[str] = []
    # session
    c_header, c_rows, c_fills = comparison_rows(stats, result)
    q_rows, q_fills = quality_rows(result)
    s_header, s_rows, s_fills = set_rows(result)
    advice = advice_lines(coaching)
    heading = "Left vs right" if has_both_sides(stats) else "By side"
    sections.append(
        '<section id="session"><h2>Session</h2>'
        f'<p class="verdict">{esc(session_verdict(result))}</p>'
        f"<h3>Progression advice ({esc(coaching.exercise_title)})</h3>"
        + _list(advice, "advice", "no advice")
        + _session_charts(result)
        + '<div class="cols"><div>'
        + f"<h3>{heading} (asymmetry = difference / larger side)</h3>"
        + _table(c_header, c_rows, c_fills, "left-right")
        + "</div><div><h3>Data quality</h3>"
        + _table(["Measure", "Value"], q_rows, q_fills, "data-quality")
        + "</div></div><h3>Sets</h3>"
        + _table(s_header, s_rows, s_fills, "sets", left_first=False)
        + "</section>"
    )
    cues = {c.index: [cue.text for cue in c.cues] for c in coaching.sets}
    th = thresholds(result)
    for s in result.sets:
        verdict = set_verdict(s, result.placement, th.tilt_deg if hip else None)
        r_header, r_rows, r_fills = rep_table_rows(s, hip)
        per_side = ""
        if is_lift_set(s):
            h, rows, fills = side_rows(s, th, hip)
            per_side = "<h3>Per side</h3>" + _table(h, rows, fills, f"sides-{s.index}")
        sections.append(
            f'<section id="set-{s.index}"><h2>{esc(set_name(s))}</h2>'
            f'<p class="verdict">{esc(verdict)}</p>'
            f'<p class="context">{esc(set_time_text(result, s))}</p>'
            "<h3>What to work on</h3>"
            + _list(cues.get(s.index, []), f"cues-{s.index}", "no faults: keep it up")
            + _set_charts(result, s, max_points)
            + per_side
            + "<h3>Reps</h3>"
            + _table(r_header, r_rows, r_fills, f"reps-{s.index}", left_first=False)
            + "</section>"
        )
    for name, page_title, summary, fig in extra:
        sections.append(
            f'<section id="{esc(name)}"><h2>{esc(page_title)}</h2><p class="verdict">{esc(summary)}</p>'
            f"<figure>{_svg(fig)}</figure></section>"
        )
    nav_items = [("session", "Session")] + [(f"set-{s.index}", set_name(s)) for s in result.sets]
    nav_items += [(name, t) for name, t, _, _ in extra]
    nav = " ".join(f'<a href="#{esc(n)}">{esc(t)}</a>' for n, t in nav_items)
    return (
        "\n".join(
            [
                "<!DOCTYPE html>",
                '<html lang="en"><head><meta charset="utf-8">',
                '<meta name="viewport" content="width=device-width, initial-scale=1">',
                f"<title>{esc(title)}</title><style>{_CSS}</style></head><body>",
                f"<header><h1>{esc(exercise_title(result))} — report</h1>"
                f"<p>{esc(context_line(result))}</p></header>",
                f"<nav>{nav}</nav><main>",
                *sections,
                "</main><footer>Made by imurep from recorded or simulated IMU data.</footer></body></html>",
            ]
        )
        + "\n"
    )
