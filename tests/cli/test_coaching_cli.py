"""The coaching commands end to end: ``exercises``, ``analyze`` storing in the history,
``history`` and ``progress`` (issue 7)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from imurep.io.canonical import write_simulated
from imurep.sim import SimSettings, simulate


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
