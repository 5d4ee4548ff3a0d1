"""Issue 16: what a coach needs on the pages — context, cues and advice, which hip drops, uncertain
reps and strap slips, the leg-lift page, wrapped verdicts that never overlap — and the CLI runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from html_doc import parse_html
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.text import Text

from imurep.coaching.advice import coach
from imurep.coaching.exercises import load_catalog
from imurep.model.results import SessionResult
from imurep.report.drawing import new_figure, page_header
from imurep.report.render import build_pages
from imurep.report.stats import dropped_hips
from imurep.report.text import context_line, set_verdict

STARTED = 1_764_671_400.0  # 2025-12-02 10:30:00 UTC


def _texts(fig: Figure) -> list[str]:
    return [t.get_text() for t in fig.findobj(Text)]


def _with_context(result: SessionResult) -> SessionResult:
    meta = {"started_unix_s": STARTED, "lifter": "Ana", "exercise": "single_leg_hip_thrust"}
    return replace(result, metadata=meta)


def test_context_cues_and_advice_on_the_pages(
    hip_session: SessionResult, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TZ", "UTC")
    result = _with_context(hip_session)
    line = context_line(result)
    assert line.startswith("Ana · Single-leg hip thrust · ") and "2 Dec 2025, 10:30" in line
    catalog = load_catalog()
    coaching = coach(result, catalog.get(None), catalog=catalog)
    pages = build_pages(result, coaching=coaching)
    session = " ".join(_texts(pages[0].figure))
    assert "Ana" in session and "Progression advice" in session
    assert coaching.advice.headline in session
    for page, s, sc in zip(pages[1:], result.sets, coaching.sets, strict=True):
        texts = " ".join(_texts(page.figure))
        start = s.start_s  # the set's clock time from the recording's start (recording time base)
        assert "into the recording" in texts and "2 Dec 2025" in texts
        assert "What to work on" in texts
        assert sc.cues and all(c.text in texts for c in sc.cues)
        assert f"{s.start_s:.1f}–" not in texts and start > 0  # no raw recording seconds any more
    for p in pages:
        p.figure.clear()


def test_the_verdict_says_which_hip_drops(hip_session: SessionResult) -> None:
    s = next(s for s in hip_session.sets if any("hip_tilt" in r.faults for r in s.reps))
    drops = dropped_hips(s)
    assert drops and all(side in ("left", "right") for side in drops.values())
    verdict = set_verdict(s, "hip", 5.0)
    assert "hip drops" in verdict
    assert any(f"the {side} hip" in verdict for side in set(drops.values()) if side)


def test_uncertain_reps_and_strap_slips_are_shown(hip_session: SessionResult) -> None:
    s = hip_session.sets[0]
    reps = list(s.reps)
    reps[1] = replace(reps[1], confidence=0.3)
    slipped = replace(s, reps=tuple(reps), mounting_changes_s=(s.start_s + 12.0,))
    result = replace(hip_session, sets=(slipped, *hip_session.sets[1:]))
    pages = build_pages(result)
    set_texts = _texts(pages[1].figure)
    assert f"{reps[1].index} ?" in set_texts
    assert any("uncertain (confidence 0.30)" in t for t in set_texts)
    session = _texts(pages[0].figure)
    assert any(t.startswith(f"set {s.index} at 12 s") for t in session)
    assert any(t.startswith(f"set {s.index}: rep {reps[1].index}") for t in session)
    for p in pages:
        p.figure.clear()


def test_a_wrapped_verdict_never_runs_into_the_note() -> None:
    fig = new_figure(10.0)
    verdict = " · ".join(f"{n} rushed lowerings (reps 1, 2, 3, 4, 5, 6, 7)" for n in range(8))
    top_in = page_header(fig, "Set 1", verdict, "note line one\nnote line two", 10.0)
    assert top_in > 1.2  # the header grew with the lines
    canvas = fig.canvas
    assert isinstance(canvas, FigureCanvasAgg)
    canvas.draw()
    renderer = canvas.get_renderer()
    (sub,) = [t for t in fig.findobj(Text) if t.get_text() == verdict]
    (note,) = [t for t in fig.findobj(Text) if t.get_text().startswith("note line one")]
    assert sub.get_window_extent(renderer).y0 >= note.get_window_extent(renderer).y1 - 1
    assert sub.get_window_extent(renderer).x1 <= fig.bbox.x1


# --- command line ------------------------------------------------------------------------------


def _run(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "160", "NO_COLOR": "1", "PYTHONWARNINGS": "ignore", "TZ": "UTC"}
    env["IMUREP_DB"] = str(cwd / "history.sqlite")
    return subprocess.run(
        [sys.executable, "-m", "imurep", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
        cwd=cwd,
    )


def test_cli_leg_lift_report_has_a_lift_page(tmp_path: Path) -> None:
    """A simulated glute bridge with leg lift: the report counts lifts per side with their own labels."""
    proc = _run(
        "simulate",
        "lift.csv",
        "--exercise",
        "glute_bridge_leg_lift",
        "--sets",
        "1",
        "--seed",
        "3",
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    meta = json.loads((tmp_path / "lift.json").read_text())
    meta.update(started_unix_s=STARTED, lifter="Ben")
    (tmp_path / "lift.json").write_text(json.dumps(meta))
    proc = _run("report", "lift.csv", "--out", "lift.html", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    doc = parse_html((tmp_path / "lift.html").read_text(encoding="utf-8"))
    text = " ".join(doc.text)
    assert "Set 1 · leg lifts" in text and "side unknown" not in text and "--side" not in text
    assert "Ben" in text and "2 Dec 2025" in text
    header, *rows = doc.tables["sides-1"]
    assert header[:3] == ["Side", "Lifts", "Clean"] and [r[0] for r in rows] == ["left", "right"]
    reps_header = doc.tables["reps-1"][0]
    assert "Foot held (s)" in reps_header and "Pelvis moved (°)" in reps_header and "Side" in reps_header
    n_lifts = sum(int(r[1]) for r in rows)
    assert len(doc.tables["reps-1"]) == n_lifts + 1
    assert f"{n_lifts} lifts (left {rows[0][1]} · right {rows[1][1]})" in text


def test_cli_report_pdf_on_letter_paper(tmp_path: Path) -> None:
    from pypdf import PdfReader

    proc = _run("simulate", "rec.csv", "--sets", "1", "--seed", "7", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    proc = _run("report", "rec.csv", "--out", "r.pdf", "--paper", "letter", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    reader = PdfReader(tmp_path / "r.pdf")
    assert [(round(float(p.mediabox.width)), round(float(p.mediabox.height))) for p in reader.pages] == [
        (612, 792)
    ] * 2
    proc = _run("report", "rec.csv", "--out", "r.pdf", "--paper", "a3", cwd=tmp_path)
    assert proc.returncode == 2 and "a3" in proc.stderr and "Traceback" not in proc.stderr


def test_a_recording_without_sets_still_gets_its_report(hip_session: SessionResult, tmp_path: Path) -> None:
    from imurep.report.render import write_report

    empty = replace(hip_session, sets=())
    for name in ("e.html", "e.pdf", "e.png"):
        assert write_report(empty, tmp_path / name, jobs=1).pages == 1
    doc = parse_html((tmp_path / "e.html").read_text(encoding="utf-8"))
    assert "no sets found" in " ".join(doc.text)
