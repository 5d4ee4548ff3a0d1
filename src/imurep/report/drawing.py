"""Page furniture shared by the report pages: the figure, its header, tables, legends, tints.

The figures are built with matplotlib's object API on the non-interactive Agg canvas (``pyplot`` is
never imported, so no display is needed and nothing global is touched).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import matplotlib
import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.text import Text

from imurep.report.style import TABLE_HEADER_COLOR

DEFAULT_DPI = 100
"""Resolution of the PNG pages (and of the images embedded in the HTML), dots per inch."""

PAGE_WIDTH_IN = 11.0
"""Width of every report page, inches."""


def new_figure(height_in: float) -> Figure:
    """A white page ``height_in`` inches tall on an Agg canvas."""
    fig = Figure(figsize=(PAGE_WIDTH_IN, height_in), dpi=DEFAULT_DPI, facecolor="white")
    FigureCanvasAgg(fig)
    return fig


def page_header(fig: Figure, title: str, subtitle: str, note: str, height_in: float) -> float:
    """Title, wrapped subtitle (the verdict) and a grey note (lines may break) at the top of a page.

    Each part starts below the lines of the one above, so a verdict wrapped onto two or three lines
    never runs into the note.  Returns the height the header takes from the top of the page, in.
    """
    top_in = 0.25
    fig.text(0.05, 1.0 - top_in / height_in, title, fontsize=16, fontweight="bold", va="top", ha="left")
    top_in += 0.36
    sub = WrappedText(0.05, 1.0 - top_in / height_in, subtitle, fontsize=11, va="top", ha="left", wrap=True)
    fig.add_artist(sub)
    sub.prewrap()
    top_in += 0.2 * sub.n_lines() + 0.06
    fig.text(0.05, 1.0 - top_in / height_in, note, fontsize=8.5, color="#666666", va="top", ha="left")
    return top_in + 0.16 * (note.count("\n") + 1)


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


class WrappedText(Text):
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
        width_px = 0.965 * float(fig.bbox.x1) - x0  # the pages' right margin
        text = self.get_text()
        self._prewrapped = (text, _wrap_text(text, self.get_fontproperties(), fig.dpi, width_px))

    def n_lines(self) -> int:
        """Number of lines as drawn (after :meth:`prewrap`)."""
        text = self._prewrapped[1] if self._prewrapped is not None else self.get_text()
        return text.count("\n") + 1

    def _get_wrapped_text(self) -> str:
        pre = self._prewrapped
        if pre is not None and self.get_wrap() and pre[0] == self.get_text():
            return pre[1]
        return str(Text._get_wrapped_text(self))  # type: ignore[attr-defined]


_CHARTS_ATTR = "_imurep_charts"


def mark_charts(fig: Figure, top_in: float, below: Axes | None, gap_in: float) -> None:
    """Note where the charts of a page are (for the HTML report, which shows them as images and
    the tables as HTML): from ``top_in`` below the top of the page down to ``gap_in`` above the
    axes ``below`` (the first table; None: to the bottom of the page)."""
    height = float(fig.get_size_inches()[1])
    y_top = 1.0 - top_in / height
    y_bottom = (below.get_position().y1 if below is not None else 0.0) + gap_in / height
    setattr(fig, _CHARTS_ATTR, (min(y_top, 1.0), max(y_bottom, 0.0)))


def chart_span(fig: Figure) -> tuple[float, float] | None:
    """The ``(top, bottom)`` figure fractions noted by :func:`mark_charts` (None: not noted)."""
    span: tuple[float, float] | None = getattr(fig, _CHARTS_ATTR, None)
    return span


def draw_notes(ax: Axes, heading: str, lines: Sequence[str], empty: str = "nothing to report") -> None:
    """A heading and wrapped text lines filling ``ax`` (cues, advice)."""
    ax.axis("off")
    ax.set_title(heading, pad=4)
    text = "\n".join(f"• {line}" for line in lines) if lines else f"• {empty}"
    note = WrappedText(0.0, 1.0, text, fontsize=9.5, va="top", ha="left", wrap=True, transform=ax.transAxes)
    ax.add_artist(note)
    note.prewrap()


def draw_table(
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
        (1.0, header_rows * unit, header, [TABLE_HEADER_COLOR] * n_cols, True)
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


def row_major(handles: Sequence[Any], ncol: int) -> list[Any]:
    """Reorder legend ``handles`` so that matplotlib's column-major layout reads row by row."""
    nrow = math.ceil(len(handles) / ncol)
    grid = [list(handles[i * ncol : (i + 1) * ncol]) for i in range(nrow)]
    return [grid[r][c] for c in range(ncol) for r in range(nrow) if c < len(grid[r])]


def tint(hex_colour: str, alpha: float = 0.22) -> str:
    """``hex_colour`` mixed with white (``alpha`` of the colour), as a hex string."""
    rgb = matplotlib.colors.to_rgb(hex_colour)
    r, g, b = (1.0 - alpha * (1.0 - c) for c in rgb)
    mixed = (r, g, b)
    return matplotlib.colors.to_hex(mixed)


def iter_gid(fig: Figure, prefix: str) -> Iterable[Any]:
    """Artists of ``fig`` whose ``gid`` starts with ``prefix`` (for tests and tools)."""

    def match(artist: Any) -> bool:
        gid = artist.get_gid()
        return isinstance(gid, str) and gid.startswith(prefix)

    yield from fig.findobj(match)
