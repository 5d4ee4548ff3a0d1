"""``imurep export`` and ``imurep history export``, run as processes on real files."""

from __future__ import annotations

import csv
import os
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest
from test_cli import DEMO, assert_one_line_error, run

import imurep
from imurep.cli.coaching import store_result


def read_csv_rows(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        return list(reader.fieldnames or []), list(reader)


def test_export_csv_for_spreadsheets(tmp_path: Path, small_recordings: list[Path]) -> None:
    reps_csv, sets_csv = tmp_path / "reps.csv", tmp_path / "sets.csv"
    proc = run("export", *small_recordings[:2], "--reps", reps_csv, "--sets", sets_csv)
    assert proc.returncode == 0, proc.stderr
    assert "written to" in proc.stdout
    header, rows = read_csv_rows(reps_csv)
    assert header[:4] == ["recording", "set", "set_side", "rep"]
    assert {"concentric_s", "top_hold_s", "eccentric_s", "rom_deg", "peak_tilt_deg", "start_utc"} <= set(
        header
    )
    analyses = [imurep.analyze(p) for p in small_recordings[:2]]
    assert len(rows) == sum(len(a.reps) for a in analyses)
    assert [r["recording"] for r in rows] == [str(p) for a, p in zip(analyses, small_recordings, strict=False)
                                              for _ in range(len(a.reps))]  # fmt: skip
    first = analyses[0].result.sets[0].reps[0]
    assert float(rows[0]["top_hold_s"]) == pytest.approx(first.top_hold_s, abs=1e-4)
    # ISO times for the recording whose sidecar states started_unix_s, empty for the other one
    own = [r for r in rows if r["recording"] == str(small_recordings[1])]
    assert all(datetime.fromisoformat(r["start_utc"]).year == 2026 for r in own)
    assert own[0]["start_utc"].endswith("Z") and "T" in own[0]["start_utc"]
    assert all(r["start_utc"] == "" for r in rows if r["recording"] == str(small_recordings[0]))
    sheader, srows = read_csv_rows(sets_csv)
    assert len(srows) == 2 and {"mean_top_hold_s", "reps_hip_tilt", "exercise"} <= set(sheader)
    assert [int(r["reps"]) for r in srows] == [len(a.result.sets[0].reps) for a in analyses]


def test_export_parquet_equals_the_api_tables(tmp_path: Path, small_recordings: list[Path]) -> None:
    out = tmp_path / "reps.parquet"
    proc = run("export", small_recordings[0], "--reps", out, "--sets", tmp_path / "sets.pq")
    assert proc.returncode == 0, proc.stderr
    a = imurep.analyze(small_recordings[0])
    # same values and numeric types (text columns come back in pandas' own string type)
    pd.testing.assert_frame_equal(pd.read_parquet(out), a.reps, check_dtype=False)
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "sets.pq"), a.sets, check_dtype=False)
    assert (
        (pd.read_parquet(out).dtypes[a.reps.columns[1:]] == a.reps.dtypes[1:]).loc[["set", "rom_deg"]].all()
    )


def test_history_export(tmp_path: Path, small_recordings: list[Path]) -> None:
    db = tmp_path / "h.sqlite"
    recordings = small_recordings[:2]
    for p in recordings:  # stored as `imurep analyze` stores them
        store_result(imurep.analyze(p).result, str(db), path=p, origin="analyze")
    proc = run(
        "history", "export", "--db", db, "--reps", tmp_path / "r.csv", "--sets", tmp_path / "s.parquet"
    )
    assert proc.returncode == 0, proc.stderr
    header, rows = read_csv_rows(tmp_path / "r.csv")
    assert header[:7] == ["session", "recorded_utc", "exercise", "recording", "set", "side", "rep"]
    expected = {str(p): imurep.analyze(p) for p in recordings}
    assert len(rows) == sum(len(a.reps) for a in expected.values())
    sets = pd.read_parquet(tmp_path / "s.parquet")
    # oldest first: s2's sidecar dates it 2026-01-01, s1 is dated by its file
    assert list(sets["recording"]) == [str(recordings[1]), str(recordings[0])]
    assert list(sets["reps"]) == [len(expected[r].result.sets[0].reps) for r in sets["recording"]]
    assert str(sets["recorded_utc"].dt.tz) == "UTC"
    # the one whose sidecar states the start time is dated by it
    assert str(sets.loc[sets["recording"] == str(small_recordings[1]), "recorded_utc"].iloc[0]).startswith(
        "2026-01-01 00:00:00"
    )
    listed = run("history", "--db", db)
    assert listed.returncode == 0 and "s1.csv" in listed.stdout  # plain `history` still lists


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (("export", DEMO, "--reps", "out.xlsx"), ("out.xlsx", ".csv or .parquet")),
        (("export", DEMO), ("--reps FILE",)),
        (("export", DEMO, "--reps", "no/such/dir/r.csv"), ("does not exist",)),
        (("export", "no-such.csv", "--reps", "r.csv"), ("no-such.csv", "not found")),
        (("history", "export", "--sets", "s.txt"), ("s.txt",)),
        (("history", "export", "--reps", "r.csv", "--exercise", "nope_nope"), ("nope_nope",)),
    ],
)
def test_export_errors_are_one_line(
    tmp_path: Path, args: tuple[str, ...], fragments: tuple[str, ...]
) -> None:
    proc = run(*args, cwd=tmp_path)
    assert_one_line_error(proc, *fragments)
    assert not list(tmp_path.iterdir())  # nothing written


def test_parquet_without_pyarrow_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A machine without pyarrow: the Parquet commands say how to install it (CSV still works)."""
    (tmp_path / "sitecustomize.py").write_text("import sys\nsys.modules['pyarrow'] = None\n")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")]))
    proc = run("export", DEMO, "--reps", tmp_path / "r.parquet")
    assert_one_line_error(proc, "pyarrow", "pip install 'imurep[parquet]'")
    assert not (tmp_path / "r.parquet").exists()
    assert_one_line_error(run("batch", DEMO, "--out", tmp_path / "out"), "pyarrow")
    assert run("export", DEMO, "--reps", tmp_path / "r.csv").returncode == 0
