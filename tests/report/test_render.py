"""Report outputs: the pages, the folder, PDF, HTML and PNG files, parallel rendering and the CLI."""

from __future__ import annotations

import base64
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from html_doc import parse_html

from imurep import sim
from imurep.io.canonical import write_simulated
from imurep.model.errors import SettingsError
from imurep.model.results import SessionResult
from imurep.report.drawing import DEFAULT_DPI, PAGE_WIDTH_IN
from imurep.report.render import ReportPage, pdf_page_count, png_size, render, write_report


@pytest.fixture(scope="module")
def hip_dir(hip_session: SessionResult, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report") / "hip"
    write_report(hip_session, out)
    return out


def test_pages_session_first_then_one_per_set(
    hip_session: SessionResult, hip_pages: list[ReportPage]
) -> None:
    assert [p.name for p in hip_pages] == ["session", *[f"set-{s.index}" for s in hip_session.sets]]


def test_directory_output(hip_session: SessionResult, hip_dir: Path) -> None:
    names = sorted(p.name for p in hip_dir.iterdir())
    assert names == sorted(["session.png", "set-1.png", "set-2.png", "report.pdf", "report.html"])
    for name in ("session.png", "set-1.png", "set-2.png"):
        w, h = png_size((hip_dir / name).read_bytes())
        assert w == int(PAGE_WIDTH_IN * DEFAULT_DPI) and h > w


def test_pdf_has_one_page_per_set_plus_session(hip_session: SessionResult, hip_dir: Path) -> None:
    data = (hip_dir / "report.pdf").read_bytes()
    assert data.startswith(b"%PDF")
    assert pdf_page_count(data) == len(hip_session.sets) + 1


def test_html_is_one_self_contained_responsive_page(hip_session: SessionResult, hip_dir: Path) -> None:
    """Issue 16: HTML text and tables (searchable), chart images that scale, nothing fetched."""
    text = (hip_dir / "report.html").read_text(encoding="utf-8")
    doc = parse_html(text)
    assert {"session", "left-right", "data-quality", "sets", "advice"} <= set(doc.ids)
    for s in hip_session.sets:
        assert {f"set-{s.index}", f"reps-{s.index}", f"cues-{s.index}"} <= set(doc.ids)
        rows = doc.tables[f"reps-{s.index}"]
        assert len(rows) == len(s.reps) + 1  # header + one row per rep
        assert [r[0].rstrip(" ?") for r in rows[1:]] == [str(r.index) for r in s.reps]
    # one chart image per page, cut from the page's PNG (the tables below it are HTML)
    images = [r for r in doc.refs if r.startswith("data:image/png;base64,")]
    assert len(images) == len(hip_session.sets) + 1
    page_pngs = {p.name: png_size((hip_dir / p.name).read_bytes()) for p in hip_dir.glob("*.png")}
    for ref in images:
        w, h = png_size(base64.b64decode(ref.split(",", 1)[1], validate=True))
        assert w == 1100 and 300 < h < min(ph for _, ph in page_pngs.values())
    assert "script" not in doc.tags and "link" not in doc.tags
    assert all(r.startswith(("#", "data:image/png;base64,")) for r in doc.refs)
    no_ns = re.sub(r'xmlns(:\w+)?="[^"]*"', "", text)  # XML namespace names are not fetched
    assert "http://" not in no_ns and "https://" not in no_ns
    assert "url(" not in text
    assert 'name="viewport"' in text and "figure img{width:100%" in text


def test_pdf_pages_are_a4_or_letter(hip_session: SessionResult, tmp_path: Path) -> None:
    from pypdf import PdfReader

    for paper, size in (("a4", (595.28, 841.89)), ("letter", (612.0, 792.0))):
        write_report(hip_session, tmp_path / f"{paper}.pdf", paper=paper)
        reader = PdfReader(tmp_path / f"{paper}.pdf")
        assert len(reader.pages) == len(hip_session.sets) + 1
        for page in reader.pages:
            assert (float(page.mediabox.width), float(page.mediabox.height)) == pytest.approx(size, abs=0.01)
            assert "Set" in page.extract_text() or "Session" in page.extract_text()
    with pytest.raises(SettingsError, match="--paper"):
        write_report(hip_session, tmp_path / "x.pdf", paper="a3")


def test_single_files_and_bad_paths(hip_session: SessionResult, tmp_path: Path) -> None:
    files = write_report(hip_session, tmp_path / "r.pdf")
    assert files.paths == [tmp_path / "r.pdf"] and files.pages == len(hip_session.sets) + 1
    assert pdf_page_count((tmp_path / "r.pdf").read_bytes()) == len(hip_session.sets) + 1
    write_report(hip_session, tmp_path / "s.png")
    assert png_size((tmp_path / "s.png").read_bytes())[0] == 1100  # the session page
    with pytest.raises(SettingsError, match="unknown type '.svg'"):
        write_report(hip_session, tmp_path / "r.svg")
    with pytest.raises(SettingsError, match="does not exist"):
        write_report(hip_session, tmp_path / "missing" / "r.pdf")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.pdf", "s.png"]


def test_parallel_rendering_gives_the_same_pngs(
    hip_session: SessionResult, hip_pages: list[ReportPage]
) -> None:
    serial = render(hip_session, hip_pages, png=True, jobs=1)
    parallel = render(hip_session, hip_pages, png=True, jobs=2)
    assert len(serial) == len(hip_pages)
    assert [png_size(b) for b in parallel] == [png_size(b) for b in serial]
    assert parallel == serial


# --- command line ------------------------------------------------------------------------------


def _run(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "160", "NO_COLOR": "1", "PYTHONWARNINGS": "ignore"}
    return subprocess.run(
        [sys.executable, "-m", "imurep", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
        cwd=cwd,
    )


@pytest.fixture(scope="module")
def hip_csv(hip_rec: sim.SimRecording, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("rec") / "sim_hip.csv"
    write_simulated(hip_rec, path)
    return path


def test_cli_report_to_folder(hip_csv: Path, tmp_path: Path) -> None:
    proc = _run("report", hip_csv, "--placement", "hip", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    out = tmp_path / "sim_hip-report"
    assert "written to sim_hip-report" in proc.stdout
    n_pages = pdf_page_count((out / "report.pdf").read_bytes())
    pngs = sorted(p.name for p in out.glob("*.png"))
    assert pngs == sorted(["session.png", *[f"set-{i}.png" for i in range(1, n_pages)]])
    assert n_pages >= 3


def test_cli_analyze_with_report(hip_csv: Path, tmp_path: Path) -> None:
    proc = _run("analyze", hip_csv, "--report", tmp_path / "r.html", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "Set 1" in proc.stdout and "r.html" in proc.stdout
    doc = parse_html((tmp_path / "r.html").read_text(encoding="utf-8"))
    assert "session" in doc.ids and "set-1" in doc.ids and "reps-1" in doc.ids


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("report", "{csv}", "--out", "r.svg"), "unknown type '.svg'"),
        (("report", "{csv}", "--out", "no/such/r.pdf"), "does not exist"),
        (("report", "missing.csv"), "missing.csv"),
        (("analyze", "{csv}", "--report", "r.docx"), "unknown type '.docx'"),
    ],
)
def test_cli_bad_input_is_one_error_line(
    hip_csv: Path, tmp_path: Path, args: tuple[str, ...], fragment: str
) -> None:
    proc = _run(*(a.format(csv=hip_csv) for a in args), cwd=tmp_path)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("imurep: error: ") and fragment in lines[0], proc.stderr
    assert list(tmp_path.iterdir()) == []
