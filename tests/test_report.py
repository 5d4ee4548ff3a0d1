"""Plot reports: the content of the figures, the PDF, the HTML and the PNG files, and the CLI."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle
from matplotlib.text import Text

from imurep import sim
from imurep.core.pipeline import analyze
from imurep.core.settings import AnalysisSettings
from imurep.model.codes import FAULTS, PHASES
from imurep.model.results import RepResult, SessionResult, SetResult, SetSummary
from imurep.model.samples import ImuChunk
from imurep.report import render as report


def _analyse(rec: sim.SimRecording, placement: str, sides: tuple[str, ...]) -> SessionResult:
    chunk = ImuChunk(rec.t_s, rec.acc_mps2, rec.gyr_rads)
    return analyze([chunk], AnalysisSettings(placement=placement, sides=sides), source="sim.csv")


@pytest.fixture(scope="module")
def hip_rec() -> sim.SimRecording:
    return sim.simulate(sim.SimSettings(seed=101, placement="hip", fault_probability=0.3))


@pytest.fixture(scope="module")
def hip(hip_rec: sim.SimRecording) -> SessionResult:
    """Two sets (left, right) with every fault type present."""
    result = _analyse(hip_rec, "hip", ("left", "right"))
    assert len(result.sets) == 2
    for code in FAULTS:
        assert any(code in r.faults for s in result.sets for r in s.reps), code
    return result


@pytest.fixture(scope="module")
def thigh() -> SessionResult:
    """One set on the right side, thigh placement."""
    rec = sim.simulate(sim.SimSettings(seed=105, placement="thigh", n_sets=1, sides=("right",)))
    result = _analyse(rec, "thigh", ("right",))
    assert len(result.sets) == 1
    return result


@pytest.fixture(scope="module")
def hip_pages(hip: SessionResult) -> list[report.ReportPage]:
    return report.build_pages(hip)


@pytest.fixture(scope="module")
def hip_dir(hip: SessionResult, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report") / "hip"
    report.write_report(hip, out)
    return out


def _gid(fig: Figure, prefix: str) -> list[Any]:
    return list(report.iter_gid(fig, prefix))


def _one(fig: Figure, gid: str) -> Any:
    (artist,) = [a for a in _gid(fig, gid) if a.get_gid() == gid]
    return artist


def _set_page(pages: list[report.ReportPage], index: int) -> Figure:
    return next(p.figure for p in pages if p.name == f"set-{index}")


# --- figures -----------------------------------------------------------------------------------


def test_pages_session_first_then_one_per_set(hip: SessionResult, hip_pages: list[report.ReportPage]) -> None:
    assert [p.name for p in hip_pages] == ["session", *[f"set-{s.index}" for s in hip.sets]]


def test_one_shaded_span_per_phase_per_rep(hip: SessionResult, hip_pages: list[report.ReportPage]) -> None:
    for s in hip.sets:
        fig = _set_page(hip_pages, s.index)
        spans = _gid(fig, "phase:")
        assert all(isinstance(p, Rectangle) for p in spans)
        by_gid: dict[str, list[Rectangle]] = {}
        for p in spans:
            by_gid.setdefault(p.get_gid(), []).append(p)
        n_pauses = sum(r.bottom_pause_s is not None for r in s.reps)
        assert len(spans) == 3 * len(s.reps) + n_pauses
        for r in s.reps:
            expected = {
                "concentric": (r.start_s, r.top_start_s),
                "top_hold": (r.top_start_s, r.top_end_s),
                "eccentric": (r.top_end_s, r.end_s),
            }
            if r.bottom_pause_s is not None:
                expected["bottom_pause"] = (r.end_s, r.end_s + r.bottom_pause_s)
            else:
                assert f"phase:bottom_pause:{r.index}" not in by_gid
            for phase, (a, b) in expected.items():
                (rect,) = by_gid[f"phase:{phase}:{r.index}"]
                assert rect.get_x() == pytest.approx(a - s.start_s)
                assert rect.get_width() == pytest.approx(b - a)
        # one colour per phase, the same in every set
        colours = {p.get_gid().split(":")[1]: p.get_facecolor()[:3] for p in spans}
        assert set(colours) <= set(PHASES) and len(set(colours.values())) == len(colours)


def test_fault_markers_where_the_faults_are(hip: SessionResult, hip_pages: list[report.ReportPage]) -> None:
    for s in hip.sets:
        fig = _set_page(hip_pages, s.index)
        for code in FAULTS:
            faulty = [r for r in s.reps if code in r.faults]
            lines = _gid(fig, f"fault:{code}")
            if not faulty:
                assert lines == []
                continue
            (line,) = lines
            assert isinstance(line, Line2D)
            expected = [(r.top_start_s + r.top_end_s) / 2 - s.start_s for r in faulty]
            np.testing.assert_allclose(np.asarray(line.get_xdata(), dtype=float), expected)
        # tilt faults are also marked on the tilt trace, at the peak inside the faulty rep
        tilted = [r for r in s.reps if "hip_tilt" in r.faults]
        markers = _gid(fig, "tilt-fault")
        if tilted:
            (line,) = markers
            xs = np.asarray(line.get_xdata(), dtype=float) + s.start_s
            ys = np.asarray(line.get_ydata(), dtype=float)
            assert len(xs) == len(tilted)
            for x, y, r in zip(xs, ys, tilted, strict=True):
                assert r.start_s <= x <= r.end_s
                assert abs(y) > hip.settings.faults.tilt_threshold_deg
        else:
            assert markers == []


def test_bands_thresholds_and_targets(hip: SessionResult, hip_pages: list[report.ReportPage]) -> None:
    band = hip.settings.segmentation.band_fraction
    fraction = hip.settings.faults.partial_rom_fraction
    hold = hip.settings.faults.min_top_hold_s
    ecc = hip.settings.faults.min_eccentric_s
    for s in hip.sets:
        fig = _set_page(hip_pages, s.index)
        (bottom,) = _gid(fig, "band:bottom")
        (top,) = _gid(fig, "band:top")
        assert isinstance(bottom, LineCollection)
        ys_bottom = [seg[0][1] for seg in bottom.get_segments()]
        ys_top = [seg[0][1] for seg in top.get_segments()]
        np.testing.assert_allclose(ys_bottom, [r.bottom_deg + band * r.rom_deg for r in s.reps])  # type: ignore[operator]
        np.testing.assert_allclose(ys_top, [r.top_deg - band * r.rom_deg for r in s.reps])  # type: ignore[operator]
        (partial,) = _gid(fig, "partial-threshold")
        median = float(np.median([r.rom_deg for r in s.reps]))
        assert partial.get_ydata()[0] == pytest.approx(fraction * median)
        (t_hold,) = _gid(fig, "target:short_hold")
        (t_ecc,) = _gid(fig, "target:rushed_lowering")
        np.testing.assert_allclose(
            [seg[0][1] for seg in t_hold.get_segments()], [r.concentric_s + hold for r in s.reps]
        )
        np.testing.assert_allclose(
            [seg[0][1] for seg in t_ecc.get_segments()], [r.concentric_s + r.top_hold_s + ecc for r in s.reps]
        )
        # stacked tempo bars: one bar per rep and phase, stacked in time order
        for r in s.reps:
            up = _one(fig, f"tempo:concentric:{r.index}")
            sq = _one(fig, f"tempo:top_hold:{r.index}")
            down = _one(fig, f"tempo:eccentric:{r.index}")
            assert up.get_height() == pytest.approx(r.concentric_s)
            assert sq.get_y() == pytest.approx(r.concentric_s)
            assert down.get_height() == pytest.approx(r.eccentric_s)


def _texts(fig: Figure) -> list[str]:
    """Every text of the figure, table cells included."""
    texts = [t.get_text() for t in fig.findobj(Text)]
    for ax in fig.axes:
        for table in ax.tables:
            texts += [cell.get_text().get_text() for cell in table.get_celld().values()]
    return texts


def test_rep_numbers_table_and_verdict(hip: SessionResult, hip_pages: list[report.ReportPage]) -> None:
    for s in hip.sets:
        fig = _set_page(hip_pages, s.index)
        labels = sorted(int(t.get_text()) for t in _gid(fig, "rep-label:"))
        assert labels == [r.index for r in s.reps]
        texts = _texts(fig)
        verdict = report.set_verdict(s, "hip", 5.0)
        assert verdict in texts
        assert verdict.startswith(f"{len(s.reps)} reps")
        for code in FAULTS:
            reps = [r.index for r in s.reps if code in r.faults]
            if reps:
                assert ", ".join(map(str, reps)) in verdict
        # the rep table holds every rep's ROM
        for r in s.reps:
            assert f"{r.rom_deg:.1f}" in texts


def test_verdict_wording() -> None:
    def rep(i: int, faults: tuple[str, ...] = (), tilt: float = 1.0) -> RepResult:
        return RepResult(i, 0.0, 1.0, 2.0, 3.0, 40.0, tilt, faults)

    reps = tuple(
        rep(i, ("rushed_lowering",) if i in (9, 11) else (), tilt=2.0 if i == 3 else 1.0)
        for i in range(1, 12)
    )
    s = SetResult(1, "left", 0.0, 40.0, reps, SetSummary.from_reps(reps, FAULTS))
    assert report.set_verdict(s, "hip") == "11 reps · 2 rushed lowerings (reps 9, 11) · hips level (max 2.0°)"
    one = (rep(1, ("hip_tilt", "partial_rom"), tilt=7.0), rep(2))
    s1 = SetResult(1, None, 0.0, 9.0, one, SetSummary.from_reps(one, FAULTS))
    assert (
        report.set_verdict(s1, "hip") == "2 reps · hips not level in 1 rep (rep 1) · 1 partial range (rep 1)"
    )
    assert report.set_verdict(s1, "thigh").endswith("tilt not measured (thigh)")


def test_session_page_left_vs_right(hip: SessionResult, hip_pages: list[report.ReportPage]) -> None:
    fig = hip_pages[0].figure
    texts = _texts(fig)
    stats = report.side_stats(hip)
    assert list(stats) == ["left", "right"]
    left, right = stats["left"], stats["right"]
    expected = report.asymmetry_pct(left.mean("rom_deg"), right.mean("rom_deg"))
    assert expected is not None
    assert any(t.startswith("ROM") and f"asymmetry {expected:.0f} %" in t for t in texts)
    assert "Left vs right" in texts
    # one fatigue line per set, x = rep numbers, y = lifting time
    for s in hip.sets:
        (line,) = _gid(fig, f"trend:concentric:{s.index}")
        np.testing.assert_allclose(line.get_ydata(), [r.concentric_s for r in s.reps])
        (tilt,) = _gid(fig, f"trend:tilt:{s.index}")
        np.testing.assert_allclose(tilt.get_ydata(), [r.peak_tilt_deg for r in s.reps])
    # data quality: the achieved rate, the gaps and the baseline of every set
    q = hip.quality
    assert f"{q.sample_rate_hz:.1f}" in " ".join(texts)
    assert any(t.startswith(f"{q.still_fraction * 100:.0f} %") for t in texts)
    assert sum(t.startswith("Tilt baseline, set") for t in texts) == len(hip.sets)


def test_thigh_says_tilt_not_measured_and_single_side(thigh: SessionResult) -> None:
    pages = report.build_pages(thigh)
    set_fig = pages[1].figure
    assert "Tilt not measured with the sensor on the thigh" in _texts(set_fig)
    assert _gid(set_fig, "trace:tilt") == [] and _gid(set_fig, "tilt-fault") == []
    session_texts = _texts(pages[0].figure)
    assert "Right side only (no left/right comparison)" in session_texts
    assert any("right side only" in t for t in session_texts)
    assert not any("asymmetry" in t.lower() and "%" in t for t in session_texts)


# --- files -------------------------------------------------------------------------------------


def test_directory_output(hip: SessionResult, hip_dir: Path) -> None:
    names = sorted(p.name for p in hip_dir.iterdir())
    assert names == sorted(["session.png", "set-1.png", "set-2.png", "report.pdf", "report.html"])
    for name in ("session.png", "set-1.png", "set-2.png"):
        w, h = report.png_size((hip_dir / name).read_bytes())
        assert w == int(report.PAGE_WIDTH_IN * report.DEFAULT_DPI) and h > w


def test_pdf_has_one_page_per_set_plus_session(hip: SessionResult, hip_dir: Path) -> None:
    data = (hip_dir / "report.pdf").read_bytes()
    assert data.startswith(b"%PDF")
    assert report.pdf_page_count(data) == len(hip.sets) + 1


class _Images(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.images: list[dict[str, str | None]] = []
        self.tags: list[str] = []
        self.refs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        d = dict(attrs)
        if tag == "img":
            self.images.append(d)
        for key in ("src", "href"):
            if d.get(key) is not None:
                self.refs.append(str(d[key]))


def test_html_is_self_contained(hip: SessionResult, hip_dir: Path) -> None:
    text = (hip_dir / "report.html").read_text(encoding="utf-8")
    parser = _Images()
    parser.feed(text)
    assert len(parser.images) == len(hip.sets) + 1
    for img in parser.images:
        src = str(img["src"])
        prefix = "data:image/png;base64,"
        assert src.startswith(prefix)
        png = base64.b64decode(src[len(prefix) :], validate=True)
        assert report.png_size(png) == (int(str(img["width"])), int(str(img["height"])))
        assert png.rstrip().endswith(b"IEND\xaeB`\x82")
    # nothing to fetch: only data URIs and in-page anchors
    assert all(r.startswith(("data:", "#")) for r in parser.refs)
    assert "script" not in parser.tags and "link" not in parser.tags
    assert "http://" not in text and "https://" not in text and "url(" not in text


def test_single_files_and_bad_paths(hip: SessionResult, tmp_path: Path) -> None:
    files = report.write_report(hip, tmp_path / "r.pdf")
    assert files.paths == [tmp_path / "r.pdf"] and files.pages == len(hip.sets) + 1
    assert report.pdf_page_count((tmp_path / "r.pdf").read_bytes()) == len(hip.sets) + 1
    report.write_report(hip, tmp_path / "s.png")
    assert report.png_size((tmp_path / "s.png").read_bytes())[0] == 1100  # the session page
    with pytest.raises(report.SettingsError, match="unknown type '.svg'"):
        report.write_report(hip, tmp_path / "r.svg")
    with pytest.raises(report.SettingsError, match="does not exist"):
        report.write_report(hip, tmp_path / "missing" / "r.pdf")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.pdf", "s.png"]


def test_parallel_rendering_gives_the_same_pngs(
    hip: SessionResult, hip_pages: list[report.ReportPage]
) -> None:
    serial = report.render(hip, hip_pages, png=True, jobs=1)
    parallel = report.render(hip, hip_pages, png=True, jobs=2)
    assert len(serial) == len(hip_pages)
    assert [report.png_size(b) for b in parallel] == [report.png_size(b) for b in serial]
    assert parallel == serial


def test_decimation_keeps_extremes() -> None:
    t = np.linspace(0.0, 100.0, 100_001)
    y = np.sin(t) + (t == 50.0) * 5.0
    td, yd = report.decimate_minmax(t, y, 4000)
    assert len(td) <= 4001 and np.all(np.diff(td) >= 0)
    assert yd.max() == y.max() and yd.min() == y.min()
    assert report.decimate_minmax(t[:10], y[:10], 4000)[0] is t[:10] or len(t[:10]) == 10


def test_asymmetry() -> None:
    assert report.asymmetry_pct(40.0, 30.0) == pytest.approx(25.0)
    assert report.asymmetry_pct(30.0, 40.0) == pytest.approx(25.0)
    assert report.asymmetry_pct(0.0, 0.0) is None and report.asymmetry_pct(None, 1.0) is None


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
    sim.write_recording(hip_rec, path)
    return path


def test_cli_report_to_folder(hip_csv: Path, tmp_path: Path) -> None:
    proc = _run("report", hip_csv, "--placement", "hip", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    out = tmp_path / "sim_hip-report"
    assert "written to sim_hip-report" in proc.stdout
    n_pages = report.pdf_page_count((out / "report.pdf").read_bytes())
    pngs = sorted(p.name for p in out.glob("*.png"))
    assert pngs == sorted(["session.png", *[f"set-{i}.png" for i in range(1, n_pages)]])
    assert n_pages >= 3


def test_cli_analyze_with_report(hip_csv: Path, tmp_path: Path) -> None:
    proc = _run("analyze", hip_csv, "--report", tmp_path / "r.html", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "Set 1" in proc.stdout and "r.html" in proc.stdout
    parser = _Images()
    parser.feed((tmp_path / "r.html").read_text(encoding="utf-8"))
    assert len(parser.images) >= 3


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
