"""The HTML report in a real browser (Chromium driven by Playwright): legible at phone and desktop width.

Needs the ``playwright`` package (dev extra) and a Chromium: the system one (Debian's ``chromium``
package, installed by ``.ci/run``) or Playwright's own; skipped cleanly when either is missing.
Screenshots are written to the test's temporary folder (and to ``$IMUREP_SCREENSHOTS`` when set, to
look at them).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from imurep.coaching.exercises import load_catalog
from imurep.coaching.history import History
from imurep.model.results import SessionResult
from imurep.report.progress_page import write_progress_page
from imurep.report.render import png_size, write_report

sync_api = pytest.importorskip("playwright.sync_api")


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    return None


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    exe = _chromium()
    with sync_api.sync_playwright() as p:
        try:
            b = p.chromium.launch(executable_path=exe, args=["--no-sandbox"]) if exe else p.chromium.launch()
        except Exception as exc:  # no browser binary: nothing to test with
            pytest.skip(f"no Chromium to drive ({type(exc).__name__})")
        try:
            yield b
        finally:
            b.close()


@pytest.fixture(scope="module")
def report_html(hip_session: SessionResult, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("html") / "report.html"
    write_report(hip_session, out)
    return out


_MEASURE = """() => {
  const px = (el) => parseFloat(getComputedStyle(el).fontSize);
  const sections = [...document.querySelectorAll('section')];
  const svgs = [...document.querySelectorAll('figure img')].map(s => s.getBoundingClientRect().width);
  const tables = [...document.querySelectorAll('table')].map(t => px(t));
  const boxes = [...document.querySelectorAll('section')].map(s => s.getBoundingClientRect().right);
  return {scroll: document.documentElement.scrollWidth, body: px(document.body), tables, svgs,
          sections: sections.map(s => s.id), right: Math.max(...boxes),
          verdict: px(document.querySelector('.verdict')), searchable: document.body.innerText};
}"""


@pytest.mark.parametrize("width", [390, 1400])
def test_report_reads_at_phone_and_desktop_width(
    browser: Any, report_html: Path, hip_session: SessionResult, tmp_path: Path, width: int
) -> None:
    page = browser.new_page(viewport={"width": width, "height": 900})
    try:
        page.goto(report_html.as_uri())
        m = page.evaluate(_MEASURE)
        shot = tmp_path / f"report-{width}.png"
        page.screenshot(path=str(shot), full_page=True)
    finally:
        page.close()
    # the page itself never scrolls sideways; wide tables and charts scroll inside their own box
    assert m["scroll"] <= width and m["right"] <= width
    assert (
        m["sections"][:1] == ["session"] and [f"set-{s.index}" for s in hip_session.sets] == m["sections"][1:]
    )
    # text large enough to read without zooming
    assert m["body"] >= 15 and m["verdict"] >= 15 and min(m["tables"]) >= 13
    # charts scale: full width on a desktop (within the 1140 px column), legible width on a phone
    assert m["svgs"] and all(w > 0 for w in m["svgs"])
    if width >= 1200:
        assert max(m["svgs"]) <= 1140
    else:
        assert min(m["svgs"]) >= 2 * width  # drawn wide enough to read, scrolled sideways
    # the numbers are text: the rep tables and the advice are searchable
    assert "What to work on" in m["searchable"] and "Progression advice" in m["searchable"]
    w, h = png_size(shot.read_bytes())
    assert w == width and h > 2 * 900
    keep = os.environ.get("IMUREP_SCREENSHOTS")
    if keep:
        shutil.copy(shot, Path(keep) / shot.name)


@pytest.fixture(scope="module")
def progress_html(hip_session: SessionResult, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``imurep progress --report progress.html`` of two weeks of :func:`hip_session`."""
    folder = tmp_path_factory.mktemp("progress")
    catalog = load_catalog()
    profile = catalog.get(None)
    t0 = datetime(2026, 11, 2, 18, 0)
    with History(folder / "h.sqlite") as h:
        for week in range(2):
            h.store(
                hip_session, key=f"w{week}", recorded_at=t0 + timedelta(weeks=week), exercise=profile.name
            )
        rows, sessions = h.sets(profile.name), h.sessions_of(profile.name)
    return write_progress_page(rows, profile, folder / "progress.html", sessions=sessions, catalog=catalog)


@pytest.mark.parametrize("width", [390, 1400])
def test_progress_page_reads_at_phone_and_desktop_width(
    browser: Any, progress_html: Path, tmp_path: Path, width: int
) -> None:
    """The progress page alone is the same kind of page as the report (issue 16)."""
    page = browser.new_page(viewport={"width": width, "height": 900})
    try:
        page.goto(progress_html.as_uri())
        m = page.evaluate(_MEASURE)
        weeks = page.evaluate("() => document.querySelectorAll('#weeks tbody tr').length")
        shot = tmp_path / f"progress-{width}.png"
        page.screenshot(path=str(shot), full_page=True)
    finally:
        page.close()
    assert m["scroll"] <= width and m["right"] <= width
    assert m["sections"] == ["progress"] and weeks == 4  # left and right, two weeks
    assert m["body"] >= 15 and m["verdict"] >= 15 and min(m["tables"]) >= 13
    assert len(m["svgs"]) == 1
    if width >= 1200:
        assert 0 < m["svgs"][0] <= 1140
    else:
        assert m["svgs"][0] >= 2 * width
    assert "Week by week" in m["searchable"] and "Latest session" in m["searchable"]
    keep = os.environ.get("IMUREP_SCREENSHOTS")
    if keep:
        shutil.copy(shot, Path(keep) / shot.name)
