"""Plot reports of an analysis: the pages as PNG, PDF and HTML, rendered with worker processes.

A report is the session page (:mod:`imurep.report.session_page`) followed by one page per set
(:mod:`imurep.report.set_page`) and any extra pages (e.g. the progress page of
:mod:`imurep.report.progress_page`).  :func:`write_report` writes it to a folder (``session.png``,
``set-N.png``, ``report.pdf``, ``report.html``) or to one ``.pdf``, ``.html`` or ``.png`` file;
:func:`check_report_path` refuses a bad output path before any work is done.
"""

from __future__ import annotations

import contextlib
import gc
import io
import logging
import multiprocessing
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import matplotlib
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

from imurep.model.errors import SettingsError
from imurep.model.results import SessionResult
from imurep.report.drawing import DEFAULT_DPI
from imurep.report.session_page import build_session_figure
from imurep.report.set_page import DEFAULT_MAX_POINTS, build_set_figure
from imurep.report.stats import is_hip, thresholds, tilt_judged
from imurep.report.style import RC_STYLE
from imurep.report.text import advice_lines, session_verdict, set_name, set_verdict

if TYPE_CHECKING:
    from imurep.coaching.advice import Coaching

logger = logging.getLogger(__name__)

REPORT_SUFFIXES = (".pdf", ".html", ".png")
"""File suffixes ``write_report`` accepts for a single output file (anything else is a folder)."""

_PNG_LEVEL = 3  # zlib level of the PNGs: as small as the default 6 (within 1 %), encoded faster


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


def report_coaching(result: SessionResult, coaching: Coaching | None = None) -> Coaching:
    """The cues and advice the pages show: ``coaching`` when given (e.g. with the training history
    behind its advice), else those of ``result`` alone."""
    if coaching is not None:
        return coaching
    from imurep.coaching.advice import coach
    from imurep.coaching.exercises import load_catalog

    catalog = load_catalog()
    name = result.metadata.get("exercise")
    return coach(result, catalog.get(name if isinstance(name, str) else None), catalog=catalog)


def build_pages(
    result: SessionResult, *, max_points: int = DEFAULT_MAX_POINTS, coaching: Coaching | None = None
) -> list[ReportPage]:
    """All pages of a report: the session page first, then one page per set.

    Parameters
    ----------
    result
        The analysis.
    max_points
        Plotted points per trace at most.
    coaching
        The cues and advice to show (None: from ``result`` alone, see :func:`report_coaching`).
    """
    with _gc_paused(), matplotlib.rc_context(RC_STYLE):
        pages = list(_iter_pages(result, max_points, report_coaching(result, coaching)))
    logger.debug("built %d report page(s)", len(pages))
    return pages


def _iter_pages(result: SessionResult, max_points: int, coaching: Coaching) -> Iterator[ReportPage]:
    """The pages of :func:`build_pages`, built one by one (call with the report style active)."""
    th = thresholds(result)
    advice = advice_lines(coaching)
    yield ReportPage("session", "Session", session_verdict(result), build_session_figure(result, advice))
    cues = {c.index: [cue.text for cue in c.cues] for c in coaching.sets}
    for s in result.sets:
        verdict = set_verdict(
            s, result.placement, th.tilt_deg if is_hip(result) else None, tilt_judged=tilt_judged(result)
        )
        fig = build_set_figure(result, s, max_points=max_points, cues=cues.get(s.index, []))
        yield ReportPage(f"set-{s.index}", set_name(s), verdict, fig)


def figure_png(fig: Figure, dpi: float = DEFAULT_DPI) -> bytes:
    """The figure as PNG bytes."""
    buf = io.BytesIO()
    with _gc_paused(), matplotlib.rc_context(RC_STYLE):
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
        matplotlib.rc_context(RC_STYLE),
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
    """Raise :class:`~imurep.model.errors.SettingsError` now when ``out`` cannot take a report."""
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
    coaching: Coaching,
) -> tuple[list[ReportPage], list[bytes]]:
    """Build the pages and render them to PNG (and the PDF) with ``jobs`` processes, overlapped."""
    workers = _ForkedPngs(dpi, max(1, jobs - 1))
    try:
        with _gc_paused(), matplotlib.rc_context(RC_STYLE):
            for page in _iter_pages(result, max_points, coaching):
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


PAPER_SIZES_PT: dict[str, tuple[float, float]] = {"a4": (595.28, 841.89), "letter": (612.0, 792.0)}
"""Paper sizes of the PDF (``--paper``), width × height in PostScript points."""

_PAPER_MARGIN_PT = 18.0


def fit_pdf_to_paper(path: str | Path, paper: str) -> None:
    """Scale every page of the PDF at ``path`` to fit ``paper`` (``"a4"`` or ``"letter"``), centred,
    keeping its aspect ratio and its vector content (rewrites the file).

    Raises
    ------
    SettingsError
        Unknown paper name.
    """
    from pypdf import PdfWriter
    from pypdf.generic import ArrayObject, DecodedStreamObject, NameObject, RectangleObject

    if paper not in PAPER_SIZES_PT:
        raise SettingsError(f"--paper {paper}: give one of {', '.join(PAPER_SIZES_PT)}")
    width, height = PAPER_SIZES_PT[paper]
    path = Path(path)
    writer = PdfWriter(clone_from=path)

    def stream(data: bytes) -> Any:
        obj = DecodedStreamObject()
        obj.set_data(data)
        return writer._add_object(obj)  # noqa: SLF001 (pypdf has no public name for it)

    # Wrap each page's content streams in "q <scale and move> cm ... Q" (the streams themselves are
    # not parsed: fast for pages with long traces) and give the page the paper's size.
    for page in writer.pages:
        w, h = float(page.mediabox.width), float(page.mediabox.height)
        k = min((width - 2 * _PAPER_MARGIN_PT) / w, (height - 2 * _PAPER_MARGIN_PT) / h)
        tx, ty = (width - k * w) / 2, (height - k * h) / 2
        contents = page.get(NameObject("/Contents"))
        parts = ArrayObject([stream(f"q {k:.6f} 0 0 {k:.6f} {tx:.3f} {ty:.3f} cm\n".encode())])
        if contents is not None:
            resolved = contents.get_object()
            parts.extend(resolved if isinstance(resolved, ArrayObject) else [contents])
        parts.append(stream(b"\nQ\n"))
        page[NameObject("/Contents")] = parts
        page.mediabox = RectangleObject([0, 0, width, height])
        if NameObject("/CropBox") in page:
            page.cropbox = RectangleObject([0, 0, width, height])
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("wb") as f:
        writer.write(f)
    tmp.replace(path)


def write_report(
    result: SessionResult,
    out: str | Path,
    *,
    dpi: float = DEFAULT_DPI,
    max_points: int = DEFAULT_MAX_POINTS,
    jobs: int | None = None,
    extra_pages: Sequence[ReportPage] = (),
    coaching: Coaching | None = None,
    paper: str = "a4",
) -> ReportFiles:
    """Render the report of ``result`` to ``out``.

    Parameters
    ----------
    result
        The analysis.
    out
        A folder (created if missing; its parent must exist): writes ``session.png``,
        ``set-1.png`` … ``set-N.png``, ``report.pdf`` and ``report.html``.  Or one file by suffix:
        ``.pdf`` (all pages), ``.html`` (all pages as one responsive page: HTML text and tables,
        SVG charts) or ``.png`` (the session page only).
    dpi
        Resolution of the PNG images.
    max_points
        Plotted points per trace at most.
    jobs
        Processes used to render (None: one per available CPU; 1: no worker processes).
    extra_pages
        Pages appended after the set pages, e.g. the progress page of
        :func:`imurep.report.progress_page.progress_page`; rendered like the other pages.
    coaching
        The cues and advice to show (None: from ``result`` alone, see :func:`report_coaching`).
    paper
        Paper of the PDF pages: ``"a4"`` or ``"letter"`` (each page scaled to fit).

    Returns
    -------
    ReportFiles
        The files written and the number of pages of the report.

    Raises
    ------
    SettingsError
        ``out`` has an unknown suffix or its folder does not exist, or ``paper`` is unknown.
    """
    from imurep.report.html import build_report_html

    out = Path(out)
    kind = _check_out(out)
    if paper not in PAPER_SIZES_PT:
        raise SettingsError(f"--paper {paper}: give one of {', '.join(PAPER_SIZES_PT)}")
    coaching = report_coaching(result, coaching)
    title = f"imurep report — {Path(result.source).name or 'recording'}"
    n_jobs = default_jobs() if jobs is None else max(1, jobs)
    pngs: list[bytes] | None = None
    pages: list[ReportPage] = []
    if kind in ("dir", ".html") and n_jobs > 1 and _can_fork():  # build and render overlapped
        if kind == "dir":
            out.mkdir(exist_ok=True)
        pages, pngs = _build_and_render(
            result,
            extra_pages,
            pdf_path=out / "report.pdf" if kind == "dir" else None,
            title=title,
            dpi=dpi,
            max_points=max_points,
            jobs=n_jobs,
            coaching=coaching,
        )
    else:
        pages = build_pages(result, max_points=max_points, coaching=coaching) + list(extra_pages)
    written: list[Path] = []
    opts: dict[str, Any] = {"title": title, "dpi": dpi, "max_points": max_points, "jobs": jobs}
    try:
        if kind == "dir":
            out.mkdir(exist_ok=True)
            if pngs is None:
                pngs = render(result, pages, png=True, pdf_path=out / "report.pdf", **opts)
            fit_pdf_to_paper(out / "report.pdf", paper)
            for page, data in zip(pages, pngs, strict=True):
                path = out / f"{page.name}.png"
                path.write_bytes(data)
                written.append(path)
            written.append(out / "report.pdf")
            doc = build_report_html(result, coaching, pages, pngs, title=title)
            (out / "report.html").write_text(doc, encoding="utf-8")
            written.append(out / "report.html")
        elif kind == ".pdf":
            render(result, pages, png=False, pdf_path=out, **opts)
            fit_pdf_to_paper(out, paper)
            written.append(out)
        elif kind == ".html":
            if pngs is None:
                pngs = render(result, pages, png=True, **opts)
            out.write_text(build_report_html(result, coaching, pages, pngs, title=title), encoding="utf-8")
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
