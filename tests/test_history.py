"""Training history (SQLite), progress trends, the progress page and the coaching CLI (issue 7)."""

from __future__ import annotations

import io
import json
import os
import sqlite3
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from imurep.coaching.advice import advise
from imurep.coaching.exercises import get_profile
from imurep.coaching.history import (
    SCHEMA_VERSION,
    History,
    content_hash,
    default_db_path,
    migrate,
    weekly_asymmetry,
    weekly_trends,
)
from imurep.core.pipeline import analyze
from imurep.core.settings import AnalysisSettings
from imurep.io.canonical import write_simulated
from imurep.model.codes import FAULTS
from imurep.model.errors import DataValidationError
from imurep.model.results import SessionResult, SetSummary
from imurep.model.samples import ImuChunk
from imurep.report.progress_page import progress_page, write_progress_page
from imurep.sim import SimSettings, simulate

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "recordings" / "demo_hip.csv"
SLHT = get_profile()
T0 = datetime(2026, 3, 2, 18, 0, tzinfo=UTC)  # a Monday


@pytest.fixture(scope="module")
def sim_result() -> SessionResult:
    rec = simulate(SimSettings(seed=5, n_sets=2))
    return analyze([ImuChunk(rec.t_s, rec.acc_mps2, rec.gyr_rads)], AnalysisSettings(sides=("left", "right")))


def _synthetic(result: SessionResult, clean: dict[str, int], reps: int = 13) -> SessionResult:
    """``result`` with each set rebuilt to ``reps`` reps of which ``clean[side]`` are clean."""
    sets = []
    for s in result.sets:
        base = s.reps[0]
        n_clean = clean[s.side or "left"]
        rs = tuple(
            replace(base, index=i + 1, faults=() if i < n_clean else ("short_hold",)) for i in range(reps)
        )
        sets.append(replace(s, reps=rs, summary=SetSummary.from_reps(rs, FAULTS)))
    return replace(result, sets=tuple(sets), metadata={"exercise": SLHT.name})


def test_default_location_honours_env_and_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("IMUREP_DB", str(tmp_path / "x.sqlite"))
    assert default_db_path() == tmp_path / "x.sqlite"
    monkeypatch.delenv("IMUREP_DB")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert default_db_path() == tmp_path / "data" / "imurep" / "history.sqlite"


def test_store_is_idempotent_per_recording(sim_result: SessionResult, tmp_path: Path) -> None:
    with History(tmp_path / "h.sqlite") as h:
        first = h.store(sim_result, key="abc", recorded_at=T0)
        again = h.store(sim_result, key="abc", recorded_at=T0, exercise="single_leg_hip_thrust_pause")
        assert not first.replaced and again.replaced
        sessions = h.sessions()
        assert len(sessions) == 1 and sessions[0].exercise == "single_leg_hip_thrust_pause"
        assert len(h.sets()) == len(sim_result.sets)
        assert h.db.execute("SELECT COUNT(*) FROM reps").fetchone()[0] == sum(
            len(s.reps) for s in sim_result.sets
        )
        h.store(sim_result, key="other", recorded_at=T0 + timedelta(days=1))
        assert len(h.sessions()) == 2
        assert [r.stats.side for r in h.sets(side="left")] == ["left", "left"]


def test_content_hash_of_files_and_folders(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("t\n1\n")
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "x.csv").write_text("t\n1\n")
    h1 = content_hash(tmp_path / "a.csv")
    assert h1 == content_hash(tmp_path / "a.csv") and len(h1) == 64
    before = content_hash(tmp_path / "d")
    (tmp_path / "d" / "y.csv").write_text("2")
    assert content_hash(tmp_path / "d") != before


def test_migrates_a_version_1_database(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    db = sqlite3.connect(path)
    migrate(db, target=1)
    db.execute(
        "INSERT INTO sessions (content_hash, source, recorded_at, stored_at, exercise, placement)"
        " VALUES ('h1', 'old.csv', '2025-01-06T10:00:00+00:00', '2025-01-06T10:00:00+00:00',"
        " 'single_leg_hip_thrust', 'hip')"
    )
    db.execute(
        "INSERT INTO sets (session_id, set_index, side, reps, clean_reps, time_under_tension_s, fault_counts)"
        " VALUES (1, 1, 'left', 12, 12, 50.0, '{}')"
    )
    db.commit()
    assert db.execute("PRAGMA user_version").fetchone()[0] == 1
    db.close()
    with History(path) as h:
        assert h.version == SCHEMA_VERSION == 2
        (row,) = h.sessions()
        assert (row.source, row.origin, row.reps) == ("old.csv", "analyze", 12), "v1 rows survive"
        assert h.db.execute("SELECT COUNT(*) FROM reps").fetchone()[0] == 0
    db = sqlite3.connect(path)
    db.execute("PRAGMA user_version = 99")
    db.close()
    with pytest.raises(DataValidationError, match="newer"):
        History(path)


def test_simulated_multi_week_history_trends_and_advice(sim_result: SessionResult, tmp_path: Path) -> None:
    """Weekly sessions built from a simulated recording with controlled clean-rep counts: the
    advice read back from the database at each step, the weekly trends and the asymmetry."""
    plan = [  # (left clean, right clean) of 13-rep sets; 2 sets per session (one per leg)
        ({"left": 4, "right": 3}, "regress"),
        ({"left": 9, "right": 7}, "stay"),
        ({"left": 12, "right": 10}, "stay"),
        ({"left": 12, "right": 10}, "stay"),
        ({"left": 12, "right": 10}, "stay"),  # plateau
    ]
    with History(tmp_path / "h.sqlite") as h:
        for week, (clean, action) in enumerate(plan):
            result = _synthetic(sim_result, clean)
            h.store(result, key=f"w{week}", recorded_at=T0 + timedelta(weeks=week))
            advice = advise(h.sessions_of(SLHT.name), SLHT)
            assert advice.action == action, (week, advice.lines())
        assert advice.plateau
        rows = h.sets(SLHT.name)
    trends = weekly_trends(rows, SLHT)
    assert [(t.week.isoformat(), t.leg) for t in trends[:2]] == [
        ("2026-03-02", "left"),
        ("2026-03-02", "right"),
    ]
    assert [t.mean_clean_reps for t in trends if t.leg == "left"] == [4, 9, 12, 12, 12]
    asym = list(weekly_asymmetry(trends).values())
    assert asym[0] == pytest.approx(25.0) and asym[-1] == pytest.approx(100 * 2 / 12)
    # three qualifying sets per leg in the next session: ready to progress
    ready = _synthetic(sim_result, {"left": 13, "right": 13})
    ready = replace(ready, sets=ready.sets + tuple(replace(s, index=s.index + 2) for s in ready.sets) * 1)
    ready = replace(ready, sets=ready.sets + tuple(replace(s, index=s.index + 4) for s in ready.sets[:2]))
    with History(tmp_path / "h.sqlite") as h:
        h.store(ready, key="w5", recorded_at=T0 + timedelta(weeks=5))
        advice = advise(h.sessions_of(SLHT.name), SLHT)
        rows = h.sets(SLHT.name)
    assert advice.action == "progress" and advice.suggestion == "single_leg_hip_thrust_pause"
    page = progress_page(rows, SLHT)
    assert page.name == "progress" and page.summary == advice.headline
    gids = {a.get_gid() for ax in page.figure.axes for a in ax.get_children()}
    assert {"clean:left", "clean:right", "tilt-threshold", "asymmetry"} <= gids
    for suffix in (".png", ".pdf", ".html"):
        out = write_progress_page(rows, SLHT, tmp_path / f"progress{suffix}")
        assert out.stat().st_size > 1000


def test_live_session_is_stored(tmp_path: Path) -> None:
    from imurep.io.canonical import RecordingWriter
    from imurep.live.run import store_session
    from imurep.live.session import LiveSession
    from imurep.live.views import PlainView

    rec = simulate(SimSettings(seed=3, n_sets=1, pre_activity=False))
    writer = RecordingWriter(tmp_path / "live.csv", {"placement": "hip", "started_unix_s": T0.timestamp()})
    session = LiveSession(AnalysisSettings(sides=("left",)), PlainView(io.StringIO()), writer)
    step = 50
    for a in range(0, rec.t_s.size, step):
        session.on_chunk(
            ImuChunk(rec.t_s[a : a + step], rec.acc_mps2[a : a + step], rec.gyr_rads[a : a + step])
        )
    session.finish()
    note = store_session(session, tmp_path / "h.sqlite")
    assert "1 set(s) stored" in note
    with History(tmp_path / "h.sqlite") as h:
        (row,) = h.sessions()
    assert row.origin == "live" and row.recorded_at == T0 and row.n_sets == 1


# --- CLI -------------------------------------------------------------------------------------------


def run(*args: str | Path, db: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "160", "NO_COLOR": "1", "IMUREP_DB": str(db)}
    return subprocess.run(
        [sys.executable, "-m", "imurep", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


def test_cli_exercises_analyze_history_progress(tmp_path: Path) -> None:
    db = tmp_path / "h.sqlite"
    p = run("exercises", "--details", db=db)
    assert p.returncode == 0, p.stderr
    assert "single_leg_hip_thrust_pause" in p.stdout and "glute_bridge_leg_lift" in p.stdout
    assert "struggle_min_clean_reps" in p.stdout

    rec = simulate(SimSettings(seed=11, n_sets=2))
    csv = tmp_path / "rec.csv"
    write_simulated(rec, csv)
    p = run("analyze", csv, "--exercise", "pause", "--json", tmp_path / "r.json", db=db)
    assert p.returncode == 0, p.stderr
    doc = json.loads((tmp_path / "r.json").read_text())
    assert doc["metadata"]["exercise"] == "single_leg_hip_thrust_pause"
    assert doc["settings"]["faults"]["min_top_hold_s"] == 2.0
    assert (
        "Progression (Single-leg hip thrust with pause)" in p.stdout
        and "stored in the training history" in p.stdout
    )
    # --set beats the profile; re-analysing the same file does not duplicate it
    p = run("analyze", csv, "--exercise", "pause", "--set", "faults.min_top_hold_s=1.5", "--json", "-", db=db)
    assert p.returncode == 0 and json.loads(p.stdout)["settings"]["faults"]["min_top_hold_s"] == 1.5
    assert "updated in the training history" in p.stderr
    p = run("analyze", csv, "--no-store", "--json", "-", db=db)
    assert json.loads(p.stdout)["metadata"]["exercise"] == "single_leg_hip_thrust"

    p = run("history", "--sets", db=db)
    assert p.returncode == 0, p.stderr
    assert p.stdout.count("single_leg_hip_thrust_pause") == 1 and "rec.csv" in p.stdout
    p = run("progress", "--report", tmp_path / "progress.png", db=db)
    assert p.returncode == 0, p.stderr
    assert "Progress: Single-leg hip thrust with pause" in p.stdout and (tmp_path / "progress.png").exists()
    assert any(w in p.stdout for w in ("Ready to progress", "Stay with", "Too hard"))
    p = run("progress", "--exercise", "glute_bridge", "--side", "left", db=db)
    assert p.returncode == 0 and "no sets of glute_bridge" in p.stdout

    p = run("analyze", csv, "--exercise", "wobble", db=db)
    assert p.returncode == 2 and p.stderr.count("\n") == 1 and "unknown exercise 'wobble'" in p.stderr
    (tmp_path / "bad.sqlite").write_text("not a database " * 100)
    p = run("history", "--db", tmp_path / "bad.sqlite", db=db)
    assert p.returncode == 2 and "cannot open the history database" in p.stderr
