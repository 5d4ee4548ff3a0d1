"""`imurep live` under hostile conditions (issue 14), in real processes against the simulated
imurep sensor behind the real bleak classes: a stalled stream then SIGKILL, existing outputs,
SIGTERM, a full disk (a file-size limit in the child)."""

from __future__ import annotations

import json
import os
import resource
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "recordings" / "demo_hip.csv"


def _cmd(*args: str | Path) -> list[str]:
    return [sys.executable, "-m", "imurep", *map(str, args)]


def _imurep(*args: str | Path, **kw: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(_cmd(*args), capture_output=True, text=True, timeout=120, cwd=ROOT, **kw)  # type: ignore[call-overload]


def _one_line_error(run: subprocess.CompletedProcess[str]) -> None:
    assert run.returncode == 2, run.stderr
    assert "Traceback" not in run.stderr
    errors = [line for line in run.stderr.splitlines() if line.startswith("imurep: error:")]
    assert len(errors) == 1, run.stderr


def _stalling_recording(path: Path, n_before: int = 2500, stall_s: float = 300.0) -> int:
    """The demo's first ``n_before`` samples, then a ``stall_s`` hole in time (the simulated
    sensor sends nothing for ``stall_s / speed`` wall seconds), then more samples."""
    lines = DEMO.read_text().splitlines()
    out = lines[: 1 + n_before]
    for line in lines[1 + n_before : 1 + 2 * n_before]:
        t, rest = line.split(",", 1)
        out.append(f"{float(t) + stall_s:.6f},{rest}")
    path.write_text("\n".join(out) + "\n")
    return n_before


def test_samples_of_a_stalled_stream_are_on_disk_before_a_kill(tmp_path: Path) -> None:
    rec = tmp_path / "stall.csv"
    n_before = _stalling_recording(rec)  # 2500 samples = 24 s of recording = 1.2 s at speed 20
    out = tmp_path / "s.csv"
    proc = subprocess.Popen(
        _cmd("live", "--simulate", rec, "--speed", "20", "--placement", "hip", "--out", out, "--no-store"),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not (out.exists() and out.stat().st_size > 100):
            time.sleep(0.05)
        # samples stop arriving ~1.2 s after the first ones; the stall lasts 15 s
        time.sleep(1.2 + 1.5)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=30)
    rows = out.read_text().splitlines()
    assert rows[0] == "t,ax,ay,az,gx,gy,gz"
    assert all(len(r.split(",")) == 7 for r in rows[1:])
    assert len(rows) - 1 == n_before, "every sample received >= 1 s before the kill is saved"


def test_an_existing_sidecar_or_csv_is_refused_before_connecting(tmp_path: Path) -> None:
    out = tmp_path / "x.csv"
    previous = '{"placement": "thigh", "notes": "last week"}\n'
    out.with_suffix(".json").write_text(previous)
    run = _imurep("live", "--simulate", DEMO, "--speed", "400", "--placement", "hip", "--out", out)
    _one_line_error(run)
    assert "x.json" in run.stderr and "never overwritten" in run.stderr
    assert "connected to" not in run.stdout
    assert out.with_suffix(".json").read_text() == previous and not out.exists()
    out.with_suffix(".json").unlink()
    out.write_text("t,ax,ay,az,gx,gy,gz\n")
    run = _imurep("live", "--simulate", DEMO, "--speed", "400", "--placement", "hip", "--out", out)
    _one_line_error(run)
    assert "connected to" not in run.stdout and not out.with_suffix(".json").exists()


def test_events_into_a_missing_folder_leave_nothing_behind(tmp_path: Path) -> None:
    out = tmp_path / "s.csv"
    run = _imurep(
        "live", "--simulate", DEMO, "--speed", "400", "--placement", "hip", "--out", out,
        "--events", tmp_path / "missing" / "e.jsonl",
    )  # fmt: skip
    _one_line_error(run)
    assert "missing" in run.stderr and "connected to" not in run.stdout
    assert list(tmp_path.iterdir()) == [], "no 0-byte CSV or sidecar left behind"
    run = _imurep("live", "--simulate", DEMO, "--speed", "400", "--placement", "hip", "--out", out)
    assert run.returncode == 0, run.stderr


def test_sigterm_stores_the_session_like_ctrl_c(tmp_path: Path) -> None:
    out, db = tmp_path / "s.csv", tmp_path / "h.sqlite"
    proc = subprocess.Popen(
        _cmd("live", "--simulate", DEMO, "--speed", "40", "--placement", "hip", "--out", out, "--db", db),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and (not out.exists() or out.stat().st_size < 900_000):
        time.sleep(0.1)
    proc.send_signal(signal.SIGTERM)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 0, stderr
    assert "Traceback" not in stderr
    assert "stopped (SIGTERM)" in stdout and "saved" in stdout
    assert "stored in the training history" in stdout, stdout
    with sqlite3.connect(db) as con:
        assert con.execute("SELECT COUNT(*) FROM sessions").fetchone()[0] == 1
    assert _imurep("analyze", out, "--no-store", "--json", "-").returncode == 0


def _limit_file_size(limit: int):  # type: ignore[no-untyped-def]
    def set_limit() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes past the limit fail with EFBIG
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return set_limit


def test_a_full_disk_keeps_whole_rows_and_coaching_and_says_what_was_saved(tmp_path: Path) -> None:
    out = tmp_path / "s.csv"
    rec = tmp_path / "first_80s.csv"  # the demo's first set, cut at 80 s
    rec.write_text("\n".join(DEMO.read_text().splitlines()[:8300]) + "\n")
    # about 5 000 rows (48 s, in the first set; 750 kB in all): at speed 40 a flush (<= 1 s)
    # writes at most 4 200 rows, so the first one fits and a later one fails; the sidecar is small
    limit = 450_000
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    run = subprocess.run(
        _cmd("live", "--simulate", rec, "--speed", "40", "--placement", "hip", "--out", out, "--no-store"),
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env=env,
        preexec_fn=_limit_file_size(limit),
    )
    _one_line_error(run)
    assert f"cannot write {out}" in run.stderr and "File too large" in run.stderr
    assert "samples received before" in run.stderr and "are saved in" in run.stderr
    lines = run.stdout.splitlines()
    stop = next(i for i, line in enumerate(lines) if "recording stopped" in line)
    assert any("rep " in line.lower() for line in lines[stop + 1 :]), "coaching goes on after the stop"
    data = out.read_bytes()
    assert 0 < len(data) <= limit and data.endswith(b"\n"), "rows are whole"
    rows = data.decode().splitlines()
    assert all(len(r.split(",")) == 7 for r in rows[1:])
    saved = int(run.stderr.split("the ")[1].split(" samples")[0])
    assert saved == len(rows) - 1 and saved > 0
    json.loads(out.with_suffix(".json").read_text())
    analysis = _imurep("analyze", out, "--no-store", "--json", "-")
    assert analysis.returncode == 0, analysis.stderr
