"""The report pages' figures: the set page (angle, tilt, tempo, ROM, rep table) and the session page."""

from __future__ import annotations

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
from imurep.model.results import SessionResult
from imurep.model.samples import ImuChunk
from imurep.report.drawing import iter_gid
from imurep.report.render import ReportPage, build_pages
from imurep.report.stats import asymmetry_pct, side_stats
from imurep.report.text import set_verdict


@pytest.fixture(scope="module")
def thigh() -> SessionResult:
    """One set on the right side, thigh placement."""
    rec = sim.simulate(sim.SimSettings(seed=105, placement="thigh", n_sets=1, sides=("right",)))
    chunk = ImuChunk(rec.t_s, rec.acc_mps2, rec.gyr_rads)
    result = analyze([chunk], AnalysisSettings(placement="thigh", sides=("right",)), source="sim.csv")
    assert len(result.sets) == 1
    return result


def _gid(fig: Figure, prefix: str) -> list[Any]:
    return list(iter_gid(fig, prefix))


def _one(fig: Figure, gid: str) -> Any:
    (artist,) = [a for a in _gid(fig, gid) if a.get_gid() == gid]
    return artist


def _set_page(pages: list[ReportPage], index: int) -> Figure:
    return next(p.figure for p in pages if p.name == f"set-{index}")


# --- set page ----------------------------------------------------------------------------------


def test_one_shaded_span_per_phase_per_rep(hip_session: SessionResult, hip_pages: list[ReportPage]) -> None:
    for s in hip_session.sets:
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


def test_fault_markers_where_the_faults_are(hip_session: SessionResult, hip_pages: list[ReportPage]) -> None:
    for s in hip_session.sets:
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
                assert abs(y) > hip_session.settings.faults.tilt_threshold_deg
        else:
            assert markers == []


def test_bands_thresholds_and_targets(hip_session: SessionResult, hip_pages: list[ReportPage]) -> None:
    band = hip_session.settings.segmentation.band_fraction
    fraction = hip_session.settings.faults.partial_rom_fraction
    hold = hip_session.settings.faults.min_top_hold_s
    ecc = hip_session.settings.faults.min_eccentric_s
    for s in hip_session.sets:
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


def test_rep_numbers_table_and_verdict(hip_session: SessionResult, hip_pages: list[ReportPage]) -> None:
    for s in hip_session.sets:
        fig = _set_page(hip_pages, s.index)
        labels = sorted(int(t.get_text()) for t in _gid(fig, "rep-label:"))
        assert labels == [r.index for r in s.reps]
        texts = _texts(fig)
        verdict = set_verdict(s, "hip", 5.0)
        assert verdict in texts
        assert verdict.startswith(f"{len(s.reps)} reps")
        for code in FAULTS:
            reps = [r.index for r in s.reps if code in r.faults]
            if reps:
                assert ", ".join(map(str, reps)) in verdict
        # the rep table holds every rep's ROM
        for r in s.reps:
            assert f"{r.rom_deg:.1f}" in texts


# --- session page ------------------------------------------------------------------------------


def test_session_page_left_vs_right(hip_session: SessionResult, hip_pages: list[ReportPage]) -> None:
    fig = hip_pages[0].figure
    texts = _texts(fig)
    stats = side_stats(hip_session)
    assert list(stats) == ["left", "right"]
    left, right = stats["left"], stats["right"]
    expected = asymmetry_pct(left.mean("rom_deg"), right.mean("rom_deg"))
    assert expected is not None
    assert any(t.startswith("Range") and f"asymmetry {expected:.0f} %" in t for t in texts)
    assert "Left vs right" in texts
    # one fatigue line per set, x = rep numbers, y = lifting time
    for s in hip_session.sets:
        (line,) = _gid(fig, f"trend:concentric:{s.index}")
        np.testing.assert_allclose(line.get_ydata(), [r.concentric_s for r in s.reps])
        (tilt,) = _gid(fig, f"trend:tilt:{s.index}")
        np.testing.assert_allclose(tilt.get_ydata(), [r.peak_tilt_deg for r in s.reps])
    # data quality: the achieved rate, the gaps and the baseline of every set
    q = hip_session.quality
    assert f"{q.sample_rate_hz:.1f}" in " ".join(texts)
    assert any(t.startswith(f"{q.still_fraction * 100:.0f} %") for t in texts)
    assert sum(t.startswith("Level reference, set") for t in texts) == len(hip_session.sets)


def test_session_page_figures_agree_with_the_table_and_the_json(
    hip_session: SessionResult, hip_pages: list[ReportPage]
) -> None:
    """Issue 16: each asymmetry has one definition: chart titles, table, JSON and CLI line agree."""
    from imurep.coaching.trends import left_right, left_right_line

    texts = _texts(hip_pages[0].figure)
    figures = {f["key"]: f for f in left_right(hip_session)["figures"]}  # type: ignore[union-attr]
    for title, key in (
        ("Reps", "clean_reps"),
        ("Range", "rom_deg"),
        ("Hip drop", "max_tilt_deg"),
        ("Faults", "faulty_reps"),
    ):
        pct = figures[key]["asymmetry_pct"]
        assert isinstance(pct, float)
        (chart,) = [t for t in texts if t.startswith(title) and "asymmetry" in t]
        assert chart.endswith(f"asymmetry {pct:.0f} %"), (chart, pct)
        label = str(figures[key]["label"])
        row = next(t for t in texts if t.startswith(label))
        assert row  # the table row exists ...
        assert f"{pct:.0f}" in texts  # ... and its asymmetry cell reads the same
        assert f"({pct:.0f} %)" in left_right_line(hip_session)
    # the tilt bar is the largest hip drop (the table's figure), not the mean
    heights = sorted(round(p.get_height(), 6) for p in _gid(hip_pages[0].figure, "side:tilt"))
    stats = side_stats(hip_session)
    assert heights == sorted(round(stats[s].max_tilt_deg or 0.0, 6) for s in ("left", "right"))


def test_thigh_says_tilt_not_measured_and_single_side(thigh: SessionResult) -> None:
    pages = build_pages(thigh)
    set_fig = pages[1].figure
    # no empty tilt panel and no "hips not level" bar on thigh pages (issue 16)
    assert not any("Hip drop" in t for t in _texts(set_fig))
    assert _gid(set_fig, "trace:tilt") == [] and _gid(set_fig, "tilt-fault") == []
    session_texts = _texts(pages[0].figure)
    assert "hips not level" not in session_texts and not any("Hip drop" in t for t in session_texts)
    assert "Right side only (no left/right comparison)" in session_texts
    assert any("right side only" in t for t in session_texts)
    assert not any("asymmetry" in t.lower() and "%" in t for t in session_texts)
