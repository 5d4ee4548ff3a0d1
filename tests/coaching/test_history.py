"""Training history: the SQLite store, its keys, its migrations, and live sessions stored (issue 7)."""

from __future__ import annotations

import io
import sqlite3
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from imurep.coaching.exercises import get_profile
from imurep.coaching.history import SCHEMA_VERSION, History, content_hash, default_db_path, migrate
from imurep.core.settings import AnalysisSettings
from imurep.model.errors import DataValidationError
from imurep.model.results import SessionResult
from imurep.model.samples import ImuChunk
from imurep.sim import SimSettings, simulate

SLHT = get_profile()
T0 = datetime(2026, 3, 2, 18, 0, tzinfo=UTC)  # a Monday


def test_default_location_honours_env_and_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("IMUREP_DB", str(tmp_path / "x.sqlite"))
    assert default_db_path() == tmp_path / "x.sqlite"
    monkeypatch.delenv("IMUREP_DB")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert default_db_path() == tmp_path / "data" / "imurep" / "history.sqlite"


def test_store_is_idempotent_per_recording(sim_result: SessionResult, tmp_path: Path) -> None:
    with History(tmp_path / "h.sqlite") as h:
        first = h.store(sim_result, key="abc", recorded_at=T0, exercise=SLHT.name)
        again = h.store(sim_result, key="abc", recorded_at=T0, exercise="single_leg_hip_thrust_pause")
        assert not first.replaced and again.replaced
        sessions = h.sessions()
        assert len(sessions) == 1 and sessions[0].exercise == "single_leg_hip_thrust_pause"
        assert len(h.sets()) == len(sim_result.sets)
        assert h.db.execute("SELECT COUNT(*) FROM reps").fetchone()[0] == sum(
            len(s.reps) for s in sim_result.sets
        )
        h.store(sim_result, key="other", recorded_at=T0 + timedelta(days=1), exercise=SLHT.name)
        assert len(h.sessions()) == 2
        assert [r.stats.side for r in h.sets(side="left")] == ["left", "left"]


def test_store_needs_an_exercise_named_or_in_the_metadata(sim_result: SessionResult, tmp_path: Path) -> None:
    """No catalog is consulted for a default: the exercise is given, or named in the metadata."""
    assert "exercise" not in sim_result.metadata
    with History(tmp_path / "h.sqlite") as h:
        with pytest.raises(DataValidationError, match="no exercise"):
            h.store(sim_result, key="abc", recorded_at=T0)
        assert h.sessions() == [], "nothing stored"
        named = replace(sim_result, metadata={"exercise": "glute_bridge"})
        h.store(named, key="abc", recorded_at=T0)
        (row,) = h.sessions()
        assert row.exercise == "glute_bridge" and row.n_sets == len(sim_result.sets)


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


def test_live_session_is_stored(tmp_path: Path) -> None:
    from imurep.io.recording_writer import RecordingWriter
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
