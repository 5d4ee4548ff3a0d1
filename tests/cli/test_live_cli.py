"""`imurep live --simulate` end to end in real processes, through the real bleak classes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "recordings" / "demo_hip.csv"


def _imurep(*args: str, **kw: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "imurep", *args], capture_output=True, text=True, timeout=300, cwd=ROOT, **kw
    )  # type: ignore[call-overload]


def test_live_then_analyze_report_the_same_reps(tmp_path: Path) -> None:
    out, events = tmp_path / "session.csv", tmp_path / "events.jsonl"
    run = _imurep(
        "live",
        "--simulate",
        str(DEMO),
        "--speed",
        "400",
        "--placement",
        "hip",
        "--side",
        "left",
        "--out",
        str(out),
        "--events",
        str(events),
    )
    assert run.returncode == 0, run.stderr
    assert "calibrated" in run.stdout and "connected to" in run.stdout
    assert "Traceback" not in run.stderr
    shown = [json.loads(line) for line in events.read_text().splitlines()]
    live_reps: list[tuple[object, ...]] = []
    current: list[tuple[object, ...]] = []
    for e in shown:  # reps of a discarded set (a lone movement) are withdrawn, as the view does
        if e["event"] == "rep":
            r = e["rep"]
            current.append((e["set"], r["index"], round(r["start_s"], 4), round(r["end_s"], 4), r["faults"]))
        elif e["event"] == "set_discarded":
            current = []
        elif e["event"] == "set_ended":
            live_reps += current
            current = []
    assert len(live_reps) >= 10
    analysis = _imurep("analyze", str(out), "--json", "-")
    assert analysis.returncode == 0, analysis.stderr
    result = json.loads(analysis.stdout)
    offline = [
        (s["index"], r["index"], round(r["start_s"], 4), round(r["end_s"], 4), r["faults"])
        for s in result["sets"]
        for r in s["reps"]
    ]
    assert offline == live_reps
    ended = [e["set"] for e in shown if e["event"] == "set_ended"]
    assert [s["summary"]["reps"] for s in ended] == [s["summary"]["reps"] for s in result["sets"]]
    sidecar = json.loads(out.with_suffix(".json").read_text())
    assert sidecar["placement"] == "hip" and sidecar["device"]["name"]
    assert sidecar["sides"] == [s["side"] for s in result["sets"]]


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL])
def test_stopping_keeps_what_was_received(tmp_path: Path, sig: signal.Signals) -> None:
    out = tmp_path / "s.csv"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "imurep",
            "live",
            "--simulate",
            str(DEMO),
            "--speed",
            "20",
            "--placement",
            "hip",
            "--out",
            str(out),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and (not out.exists() or out.stat().st_size < 200_000):
        time.sleep(0.2)
    time.sleep(1.5)
    proc.send_signal(sig)
    stdout, stderr = proc.communicate(timeout=60)
    assert "Traceback" not in stderr
    if sig == signal.SIGINT:
        assert proc.returncode == 0, stderr
        assert "saved" in stdout
    rows = out.read_text().splitlines()
    assert rows[0] == "t,ax,ay,az,gx,gy,gz"
    assert all(len(r.split(",")) == 7 for r in rows[1:])
    assert len(rows) > 2000
    analysis = _imurep("analyze", str(out), "--json", "-")
    assert analysis.returncode == 0, analysis.stderr
    json.loads(analysis.stdout)
    json.loads(out.with_suffix(".json").read_text())
    assert os.path.getsize(out) > 0


def test_live_errors_are_one_line(tmp_path: Path) -> None:
    run = _imurep(
        "live",
        "--simulate",
        str(tmp_path / "missing.csv"),
        "--placement",
        "hip",
        "--out",
        str(tmp_path / "x.csv"),
    )
    assert run.returncode == 2
    assert run.stderr.count("\n") == 1 and run.stderr.startswith("imurep: error:")
    run = _imurep("live", "--placement", "hip", "--speed", "3")
    assert run.returncode == 2 and "--simulate" in run.stderr
