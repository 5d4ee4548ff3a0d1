"""Hostile files for `imurep analyze / report / history / progress` (issue 14), each run as a user
runs it (a subprocess of the CLI on real files): one line and exit 2, never a traceback or a hang,
and what can still be done is done (the analysis is printed when only the history is broken)."""

from __future__ import annotations

import io
import json
import os
import sqlite3
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from imurep.io.canonical import write_canonical, write_simulated
from imurep.sim import SimSettings, simulate

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / ".." / "shared" / "data"


def _imurep(*args: str | Path, timeout: float = 60, **kw: object) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "160", "NO_COLOR": "1"}
    return subprocess.run(
        [sys.executable, "-m", "imurep", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        env=env,
        **kw,
    )  # type: ignore[call-overload]


def _one_line_error(run: subprocess.CompletedProcess[str], *words: str) -> str:
    assert "Traceback" not in run.stderr, run.stderr
    assert run.returncode == 2, (run.returncode, run.stdout[-500:], run.stderr)
    lines = run.stderr.splitlines()
    errors = [line for line in lines if line.startswith("imurep: error:")]
    assert len(errors) == 1, run.stderr
    for w in words:
        assert w in errors[0], errors[0]
    return errors[0]


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small simulated session with one set."""
    path = tmp_path_factory.mktemp("rec") / "rec.csv"
    return write_simulated(simulate(SimSettings(seed=5, n_sets=1)), path)


@pytest.fixture(scope="module")
def still(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """20 s of a sensor lying still: no sets."""
    rng = np.random.default_rng(0)
    t = np.arange(0.0, 20.0, 0.01)
    acc = np.array([0.0, 0.0, 9.81]) + rng.normal(0.0, 0.02, (t.size, 3))
    return write_canonical(
        tmp_path_factory.mktemp("still") / "still.csv", t, acc, rng.normal(0, 0.01, (t.size, 3))
    )


# --- 5: a recording with no sets -------------------------------------------------------------------


def test_report_of_a_recording_without_sets_says_so(still: Path, tmp_path: Path) -> None:
    run = _imurep("report", still, "--placement", "hip", "--out", tmp_path / "rep")
    assert run.returncode == 0 and "Traceback" not in run.stderr, run.stderr
    html = (tmp_path / "rep" / "report.html").read_text()
    assert "no sets found" in html and (tmp_path / "rep" / "session.png").stat().st_size > 0
    run = _imurep("analyze", still, "--placement", "hip", "--no-store", "--report", tmp_path / "rep2")
    assert run.returncode == 0, run.stderr
    assert "no sets found" in run.stdout and (tmp_path / "rep2" / "report.html").exists()


@pytest.mark.parametrize(
    "export",
    [
        "phyphox/ios_simple_experiment_acc_gyro_semicolon",
        "sensor_logger/android_v1.28_csv_folder",
        "physics_toolbox/multi_record_gforce_linacc_gyro/AISSAOUI_DIAB_INPUT_X.csv",
        "metabase/android_metabase_25Hz_acc_gyro",
    ],
)
def test_report_of_real_vendor_exports(export: str, tmp_path: Path) -> None:
    path = DATA / export
    if not path.exists():
        pytest.skip(f"real data not available: {path}")
    run = _imurep("report", path, "--placement", "hip", "--out", tmp_path / "rep", timeout=120)
    assert run.returncode == 0 and "Traceback" not in run.stderr, run.stderr
    assert (tmp_path / "rep" / "report.html").exists()


# --- 6: the training history ---------------------------------------------------------------------


def _analysis_still_printed(run: subprocess.CompletedProcess[str], db: Path) -> None:
    assert run.returncode == 0 and "Traceback" not in run.stderr, run.stderr
    assert "Set 1" in run.stdout, "the analysis is printed"
    assert f"could not store the session in the training history: {db}" in run.stdout


def _damaged_db(path: Path, recording: Path) -> Path:
    assert _imurep("analyze", recording, "--db", path).returncode == 0
    with sqlite3.connect(path) as con:
        con.execute("CREATE TABLE filler (x TEXT)")
        con.executemany("INSERT INTO filler VALUES (?)", [("x" * 500,)] * 200)
    data = bytearray(path.read_bytes())
    page = 4096
    for start in range(page, len(data), page):  # every page but the header's: garbage
        data[start : start + page] = bytes((start // page * 37 + i) % 251 for i in range(page))
    path.write_bytes(bytes(data))
    return path


def test_a_damaged_history_database(recording: Path, tmp_path: Path) -> None:
    db = _damaged_db(tmp_path / "h.sqlite", recording)
    _analysis_still_printed(_imurep("analyze", recording, "--db", db), db)
    for cmd in ("history", "progress"):
        _one_line_error(_imurep(cmd, "--db", db), str(db))


def test_a_foreign_database_with_the_right_version(recording: Path, tmp_path: Path) -> None:
    db = tmp_path / "other.sqlite"
    with sqlite3.connect(db) as con:
        con.execute("CREATE TABLE sessions (id INTEGER PRIMARY KEY, name TEXT)")
        con.execute("PRAGMA user_version = 2")
    _analysis_still_printed(_imurep("analyze", recording, "--db", db), db)
    for cmd in ("history", "progress"):
        _one_line_error(_imurep(cmd, "--db", db), str(db), "not an imurep training history")


def test_a_folder_as_history_database(recording: Path, tmp_path: Path) -> None:
    db = tmp_path / "folder.sqlite"
    db.mkdir()
    _analysis_still_printed(_imurep("analyze", recording, "--db", db), db)
    for cmd in ("history", "progress"):
        _one_line_error(_imurep(cmd, "--db", db), str(db), "folder")


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes read-only files")
def test_a_read_only_history_database(recording: Path, tmp_path: Path) -> None:
    db = tmp_path / "h.sqlite"
    assert _imurep("analyze", recording, "--db", db).returncode == 0
    db.chmod(0o444)
    run = _imurep("analyze", recording, "--db", db, "--exercise", "glute_bridge")
    _analysis_still_printed(run, db)
    assert "read-only" in run.stdout
    assert _imurep("history", "--db", db).returncode == 0, "reading still works"


def test_a_json_that_cannot_be_written_stores_nothing(recording: Path, tmp_path: Path) -> None:
    db = tmp_path / "h.sqlite"
    (tmp_path / "out.json").mkdir()
    _one_line_error(_imurep("analyze", recording, "--db", db, "--json", tmp_path / "out.json"), "folder")
    assert not db.exists(), "refused before anything was stored"


# --- 7, 11: zip archives -------------------------------------------------------------------------


def _phyphox_zip(path: Path, method: int = zipfile.ZIP_DEFLATED) -> Path:
    t = np.arange(0.005, 8.0, 0.01)
    with zipfile.ZipFile(path, "w", compression=method) as zf:
        for name, unit, z in (("Accelerometer", "m/s^2", 9.81), ("Gyroscope", "rad/s", 0.0)):
            rows = [f'"Time (s)","X ({unit})","Y ({unit})","Z ({unit})"']
            rows += [f"{x:.9E},{0.1 * np.sin(x):.9E},0.0,{z:.9E}" for x in t]
            zf.writestr(f"{name}.csv", "\n".join(rows) + "\n")
    return path


def _patch_members(path: Path, *, flags: int | None = None, method: int | None = None) -> Path:
    """Rewrite the flag bits or the compression method of every member, in the local headers and
    the central directory (what a password-protecting or AES zip tool writes)."""
    data = bytearray(path.read_bytes())
    for sig, flag_at, method_at in ((b"PK\x03\x04", 6, 8), (b"PK\x01\x02", 8, 10)):
        at = data.find(sig)
        while at >= 0:
            if flags is not None:
                old = int.from_bytes(data[at + flag_at : at + flag_at + 2], "little")
                data[at + flag_at : at + flag_at + 2] = (old | flags).to_bytes(2, "little")
            if method is not None:
                data[at + method_at : at + method_at + 2] = method.to_bytes(2, "little")
            at = data.find(sig, at + 4)
    path.write_bytes(bytes(data))
    return path


def test_zip_archives_say_what_is_wrong(tmp_path: Path) -> None:
    good = _phyphox_zip(tmp_path / "good.zip")
    assert _imurep("analyze", good, "--placement", "hip", "--no-store").returncode == 0
    corrupt = tmp_path / "corrupt.zip"
    data = bytearray(good.read_bytes())
    data[200:260] = bytes(range(60))  # inside the first member's deflate stream
    corrupt.write_bytes(bytes(data))
    _one_line_error(_imurep("analyze", corrupt, "--placement", "hip", "--no-store"), "damaged")
    encrypted = _patch_members(_phyphox_zip(tmp_path / "locked.zip"), flags=0x1)
    _one_line_error(_imurep("analyze", encrypted, "--no-store"), "encrypted", "password")
    aes = _patch_members(_phyphox_zip(tmp_path / "aes.zip"), method=99)
    _one_line_error(_imurep("analyze", aes, "--no-store"), "compression method", "99")


def test_zip_bombs_are_refused_quickly(tmp_path: Path) -> None:
    header = '"Time (s)","X (m/s^2)","Y (m/s^2)","Z (m/s^2)"'
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        with zf.open("Accelerometer.csv", "w") as fh:
            fh.write(header.encode() + b"," + b"a" * (200 << 20) + b"\n")
        zf.writestr("Gyroscope.csv", '"Time (s)","X (rad/s)","Y (rad/s)","Z (rad/s)"\n0.1,0,0,0\n')
    assert bomb.stat().st_size < 1 << 20
    _one_line_error(_imurep("analyze", bomb, "--no-store", timeout=30), "zip bomb")
    long_line = tmp_path / "long.zip"
    with zipfile.ZipFile(long_line, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        buf = io.BytesIO()
        buf.write(header.encode() + b"\n0.1,0,0,9.8,")
        buf.write(b"7" * (3 << 20) + b"\n")
        zf.writestr("Accelerometer.csv", buf.getvalue())
        zf.writestr("Gyroscope.csv", '"Time (s)","X (rad/s)","Y (rad/s)","Z (rad/s)"\n0.1,0,0,0\n')
    _one_line_error(_imurep("analyze", long_line, "--no-store", timeout=30), "line longer")


def test_an_archive_too_large_in_all_is_refused_before_reading(tmp_path: Path) -> None:
    archive = tmp_path / "huge.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_STORED) as zf:
        for k in range(3):
            zf.writestr(f"part{k}.csv", '"Time (s)","X (m/s^2)","Y (m/s^2)","Z (m/s^2)"\n')
    data = bytearray(archive.read_bytes())
    at = data.find(b"PK\x01\x02")
    while at >= 0:  # each member claims 900 MiB from 20 MiB (a plausible ratio, too much in all)
        data[at + 20 : at + 24] = (20 << 20).to_bytes(4, "little")
        data[at + 24 : at + 28] = (900 << 20).to_bytes(4, "little")
        at = data.find(b"PK\x01\x02", at + 4)
    archive.write_bytes(bytes(data))
    _one_line_error(_imurep("analyze", archive, "--no-store", timeout=30), "GiB in all")


# --- 8, 9: nesting and pipes ---------------------------------------------------------------------


def test_deeply_nested_sidecar_and_config(recording: Path, tmp_path: Path) -> None:
    csv = tmp_path / "r.csv"
    csv.write_bytes(recording.read_bytes())
    csv.with_suffix(".json").write_text("[" * 100_000 + "]" * 100_000)
    _one_line_error(_imurep("analyze", csv, "--no-store"), "nested too deeply")
    config = tmp_path / "settings.json"
    config.write_text('{"a":' * 100_000 + "1" + "}" * 100_000)
    _one_line_error(_imurep("analyze", recording, "--no-store", "--config", config), "nested too deeply")


def test_a_named_pipe_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "f.csv"
    os.mkfifo(fifo)
    for extra in ((), ("--format", "phyphox"), ("--format", "canonical")):
        _one_line_error(_imurep("analyze", fifo, "--no-store", *extra, timeout=20), "not a regular file")


# --- 3: a recording cut mid-row ------------------------------------------------------------------


def test_a_recording_cut_mid_row_is_read_without_its_last_row(recording: Path, tmp_path: Path) -> None:
    text = recording.read_text()
    cut = tmp_path / "cut.csv"
    cut.write_text(text[: text.rindex("\n", 0, len(text) // 2) + 12])  # ends inside a row
    n_whole = cut.read_text().count("\n") - 1
    run = _imurep("analyze", cut, "--no-store", "--json", "-")
    assert run.returncode == 0 and "Traceback" not in run.stderr, run.stderr
    assert "cut short" in run.stderr and "dropped" in run.stderr
    assert json.loads(run.stdout)["quality"]["n_samples"] == n_whole
    # a complete last row without its newline is kept
    whole = tmp_path / "whole.csv"
    whole.write_text(text.rstrip("\n"))
    run = _imurep("analyze", whole, "--no-store", "--json", "-")
    assert run.returncode == 0 and "cut short" not in run.stderr
    assert json.loads(run.stdout)["quality"]["n_samples"] == text.count("\n") - 1


# --- 12, 13, 14: silent or misleading --------------------------------------------------------------


@pytest.mark.parametrize(
    ("unit", "factor", "origin_s"), [("ms", 1e3, 0.0), ("µs", 1e6, 0.0), ("ns", 1e9, 1.7e9)]
)
def test_timestamps_in_ms_us_ns_are_converted_with_a_warning(
    recording: Path, tmp_path: Path, unit: str, factor: float, origin_s: float
) -> None:
    seconds = _imurep("analyze", recording, "--no-store", "--json", "-")
    expected = json.loads(seconds.stdout)
    lines = recording.read_text().splitlines()
    t0 = float(lines[1].split(",")[0])
    out = [lines[0]]
    for line in lines[1:]:
        t, rest = line.split(",", 1)
        out.append(f"{(float(t) - t0 + origin_s) * factor:.{3 if factor == 1e3 else 0}f},{rest}")
    scaled = tmp_path / "scaled.csv"
    scaled.write_text("\n".join(out) + "\n")
    run = _imurep("analyze", scaled, "--no-store", "--json", "-")
    assert run.returncode == 0, run.stderr
    assert f"timestamps converted from {unit} to s" in run.stderr
    doc = json.loads(run.stdout)
    assert abs(doc["quality"]["sample_rate_hz"] - expected["quality"]["sample_rate_hz"]) < 1.0
    assert [s["summary"]["reps"] for s in doc["sets"]] == [s["summary"]["reps"] for s in expected["sets"]]


def test_utf16_extra_fields_and_bad_sidecar_values_are_not_silent(recording: Path, tmp_path: Path) -> None:
    text = recording.read_text()
    u16 = tmp_path / "u16.csv"
    u16.write_text(text, encoding="utf-16")
    _one_line_error(_imurep("analyze", u16, "--no-store"), "UTF-16", "UTF-8")
    lines = text.splitlines()
    lines[50] += ",7.5"
    extra = tmp_path / "extra.csv"
    extra.write_text("\n".join(lines) + "\n")
    run = _imurep("analyze", extra, "--no-store", "--json", "-")
    assert run.returncode == 0 and "more fields than the header" in run.stderr, run.stderr
    bad = tmp_path / "bad.csv"
    bad.write_text(text)
    for sidecar, words in (
        ({"exercise": 42}, ("bad.json", "'exercise'")),
        ({"exercise": "no_such_lift"}, ("sidecar", "no_such_lift")),
        ({"settings": [1, 2]}, ("bad.json", "'settings'")),
    ):
        bad.with_suffix(".json").write_text(json.dumps(sidecar))
        _one_line_error(_imurep("analyze", bad, "--no-store"), *words)


def test_the_python_api_refuses_what_the_cli_refuses(tmp_path: Path) -> None:
    t = np.arange(0.0, 60.0, 0.01)
    zeros = np.zeros((t.size, 3))
    rng = np.random.default_rng(1)
    gyr = rng.normal(0.0, 0.3, (t.size, 3))
    csv = write_canonical(tmp_path / "zero.csv", t, zeros, gyr)
    cli = _one_line_error(_imurep("analyze", csv, "--no-store"), "median magnitude")
    script = (
        "import numpy as np\n"
        "from imurep.io import load_canonical\n"
        "from imurep.core.pipeline import analyze\n"
        "from imurep.model.errors import DataValidationError\n"
        f"rec = load_canonical({str(csv)!r})\n"
        "try:\n"
        "    analyze(rec.chunks(100))\n"
        "except DataValidationError as exc:\n"
        "    print(exc)\n"
    )
    api = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert api.returncode == 0, api.stderr
    assert "median magnitude of 0" in api.stdout and "median magnitude of 0" in cli
