"""The report as one responsive, self-contained HTML page (opens offline, reads on a phone).

Text and tables are HTML (searchable, legible at 390 px: wide tables scroll sideways inside their
own box); the charts are images cut from the pages' own PNG renderings (nothing is drawn twice)
that scale to the width of the screen (drawn 900 px wide on a phone, scrolling sideways in their
own box).  Nothing is
fetched: no scripts, fonts or images from elsewhere.  The tables come from the same row builders
as the PNG/PDF pages, so both show the same figures.  Elements tests look for carry an ``id``:
``session``, ``set-N`` and the extra pages' names for the sections, ``left-right``,
``data-quality``, ``sets``, ``advice``, ``reps-N`` and ``cues-N``.  The progress page alone
(:func:`build_progress_html`, ``imurep progress --report FILE.html``) is the same kind of page:
sections ``progress``, lists ``advice`` and table ``weeks``.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Sequence

from imurep.coaching.advice import Coaching
from imurep.model.results import SessionResult
from imurep.report.drawing import chart_span
from imurep.report.lift_page import side_rows
from imurep.report.render import ReportPage, png_size
from imurep.report.session_page import comparison_rows, quality_rows, set_rows
from imurep.report.set_page import rep_table_rows
from imurep.report.stats import has_both_sides, is_hip, is_lift_set, side_stats, thresholds
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
figure img{width:100%;height:auto;display:block}
@media (max-width:700px){figure img{width:900px;max-width:none}}
.scroll{overflow-x:auto;-webkit-overflow-scrolling:touch;max-width:100%}
table{border-collapse:collapse;font-size:.9rem;margin:4px 0}
th,td{border:1px solid #ddd;padding:3px 7px;text-align:center}
th{background:#eee}
td.l,th.l{text-align:left;white-space:normal}
.cols{display:flex;flex-wrap:wrap;gap:14px}.cols>div{flex:1 1 340px;min-width:0}
ul{margin:4px 0;padding-left:22px}
footer{color:#777;font-size:12px;text-align:center;padding:16px}
"""


def _chart_img(page: ReportPage, png: bytes) -> str:
    """The charts of ``page`` (the part of its PNG noted by
    :func:`~imurep.report.drawing.mark_charts`; the whole page when none) as an ``<img>`` that
    scales.  Cut from the page's own rendering: nothing is drawn twice."""
    span = chart_span(page.figure)
    data = png
    if span is not None:
        from PIL import Image

        with Image.open(io.BytesIO(png)) as im:
            w, h = im.size
            box = (0, max(0, int((1.0 - span[0]) * h)), w, min(h, int(round((1.0 - span[1]) * h))))
            buf = io.BytesIO()
            im.crop(box).save(buf, format="PNG", compress_level=3)
        data = buf.getvalue()
    w, h = png_size(data)
    src = "data:image/png;base64," + base64.b64encode(data).decode("ascii")
    alt = html.escape(f"charts: {page.title} — {page.summary}")
    return f'<figure><img src="{src}" width="{w}" height="{h}" alt="{alt}"></figure>'


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


def build_report_html(
    result: SessionResult,
    coaching: Coaching,
    pages: Sequence[ReportPage],
    pngs: Sequence[bytes],
    *,
    title: str,
) -> str:
    """The whole report as one HTML document.

    Parameters
    ----------
    result
        The analysis.
    coaching
        Its cues and progression advice (:func:`imurep.report.render.report_coaching`).
    pages, pngs
        The report's pages (session, sets, then any extra pages such as the progress page) and
        their PNG renderings, same order: the charts are cut from them.
    title
        Title of the document.
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
        + (_chart_img(pages[0], pngs[0]) if pages else "")
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
    by_name = {p.name: (p, png) for p, png in zip(pages, pngs, strict=True)}
    for s in result.sets:
        page_png = by_name.get(f"set-{s.index}")
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
            + (_chart_img(*page_png) if page_png is not None else "")
            + per_side
            + "<h3>Reps</h3>"
            + _table(r_header, r_rows, r_fills, f"reps-{s.index}", left_first=False)
            + "</section>"
        )
    extra = [
        (p, png)
        for p, png in zip(pages, pngs, strict=True)
        if p.name != "session" and not p.name.startswith("set-")
    ]
    for page, png in extra:
        sections.append(
            f'<section id="{esc(page.name)}"><h2>{esc(page.title)}</h2>'
            f'<p class="verdict">{esc(page.summary)}</p>{_chart_img(page, png)}</section>'
        )
    nav_items = [("session", "Session")] + [(f"set-{s.index}", set_name(s)) for s in result.sets]
    nav_items += [(p.name, p.title) for p, _ in extra]
    return _document(title, f"{exercise_title(result)} — report", context_line(result), nav_items, sections)


def build_progress_html(
    page: ReportPage,
    png: bytes,
    *,
    advice: Sequence[str],
    header: Sequence[str],
    rows: Sequence[Sequence[str]],
    note: str,
    context: str,
    title: str,
) -> str:
    """The progress page alone as one HTML document, like the report's (:func:`build_report_html`):
    the advice and the week-by-week table as text, the charts cut from the page's PNG.

    Parameters
    ----------
    page, png
        The progress page (:func:`~imurep.report.progress_page.progress_page`) and its PNG.
    advice
        The advice lines (headline first).
    header, rows, note
        The week-by-week table (column names, text cells) and what its columns mean.
    context
        The line under the title (sessions, dates).
    title
        Title of the document.
    """
    esc = html.escape
    section = (
        f'<section id="{esc(page.name)}"><h2>{esc(page.title)}</h2>'
        f'<p class="verdict">{esc(advice[0] if advice else page.summary)}</p>'
        "<h3>Progression advice</h3>"
        + _list([line.strip().lstrip("·").strip() for line in advice[1:]], "advice", "no details")
        + _chart_img(page, png)
        + "<h3>Week by week</h3>"
        + _table(header, rows, None, "weeks", left_first=False)
        + f'<p class="context">{esc(note)}</p></section>'
    )
    return _document(title, page.title, context, [(page.name, page.title)], [section])


def _document(
    title: str, heading: str, context: str, nav_items: Sequence[tuple[str, str]], sections: Sequence[str]
) -> str:
    """A self-contained responsive HTML document of ``sections`` (HTML), with a header and a
    navigation bar of ``(id, text)`` links."""
    esc = html.escape
    nav = " ".join(f'<a href="#{esc(n)}">{esc(t)}</a>' for n, t in nav_items)
    return (
        "\n".join(
            [
                "<!DOCTYPE html>",
                '<html lang="en"><head><meta charset="utf-8">',
                '<meta name="viewport" content="width=device-width, initial-scale=1">',
                f"<title>{esc(title)}</title><style>{_CSS}</style></head><body>",
                f"<header><h1>{esc(heading)}</h1><p>{esc(context)}</p></header>",
                f"<nav>{nav}</nav><main>",
                *sections,
                "</main><footer>Made by imurep from recorded or simulated IMU data.</footer></body></html>",
            ]
        )
        + "\n"
    )
