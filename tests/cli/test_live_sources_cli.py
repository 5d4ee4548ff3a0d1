"""``imurep live`` with every kind of source, end to end in real processes, and ``imurep scan``.

Each source feeds the same LiveSession and RecordingWriter: the reps shown live must be the reps
``imurep analyze`` finds in the saved recording, and the sidecar says what the link counted.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from imurep.io.canonical import write_canonical
from imurep.phone.simulated import SimPhyphox, serve_in_thread
from imurep.sim import SimSettings, simulate

ROOT = Path(__file__).resolve().parents[2]


def _imurep(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "imurep", *args], capture_output=True, text=True, timeout=timeout, cwd=ROOT
    )


def _recording(tmp_path: Path, reps: int) -> tuple[Path, Any]:
    settings = SimSettings(seed=4, n_sets=1, reps_per_set=(reps, reps), pre_activity=False, sides=("left",))
    rec = simulate(settings)
    path = tmp_path / "rec.csv"
    write_canonical(path, rec.t_s, rec.acc_mps2, rec.gyr_rads, {"placement": "hip"})
    return path, rec


def _rep_key(set_index: object, r: dict[str, Any], faults: bool = True) -> tuple[object, ...]:
    key = (set_index, r["index"], round(r["start_s"], 4), round(r["end_s"], 4))
    return (*key, r["faults"]) if faults else key


def _check_live_equals_analyze(out: Path, events: Path, min_reps: int) -> dict[str, Any]:
    shown = [json.loads(line) for line in events.read_text().splitlines()]
    ended = [e["set"] for e in shown if e["event"] == "set_ended"]
    live_sets = [_rep_key(s["index"], r) for s in ended for r in s["reps"]]
    assert len(live_sets) >= min_reps
    analysis = _imurep("analyze", str(out), "--json", "-")
    assert analysis.returncode == 0, analysis.stderr
    result = json.loads(analysis.stdout)
    offline = [_rep_key(s["index"], r) for s in result["sets"] for r in s["reps"]]
    assert offline == live_sets  # the sets shown live are the sets analyze finds, faults included
    # and each rep was announced live where analyze puts it (a rep's faults may be revised at the
    # set's end, when the set's own range of motion is known)
    announced: list[tuple[object, ...]] = []
    current: list[tuple[object, ...]] = []
    for e in shown:
        if e["event"] == "rep":
            current.append(_rep_key(e["set"], e["rep"], faults=False))
        elif e["event"] == "set_discarded":
            current = []
        elif e["event"] == "set_ended":
            announced += current
            current = []
    assert announced == [k[:4] for k in offline]
    sidecar: dict[str, Any] = json.loads(out.with_suffix(".json").read_text())
    return sidecar


@pytest.mark.parametrize(("sensor", "rate"), [("metawear", 100.0), ("polar", 52.0), ("phyphox", 100.0)])
def test_live_with_each_simulated_sensor_then_analyze_report_the_same_reps(
    tmp_path: Path, sensor: str, rate: float
) -> None:
    rec, _ = _recording(tmp_path, reps=6)
    out, events = tmp_path / "session.csv", tmp_path / "events.jsonl"
    run = _imurep(
        "live", "--simulate", str(rec), "--sensor", sensor, "--speed", "100", "--placement", "hip",
        "--side", "left", "--out", str(out), "--events", str(events), "--no-store",
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr and "connected to" in run.stdout
    sidecar = _check_live_equals_analyze(out, events, min_reps=4)
    link = sidecar["link"]
    assert link["kind"] == sensor and link["lost_samples"] == 0 and link["gaps"] == 0
    assert isinstance(link["clock_drift_ppm"], float)
    assert sidecar["sample_rate_hz"] == pytest.approx(rate, rel=0.01)
    assert sidecar["simulated"] is True and sidecar["gaps"] == []


def test_live_from_a_phone_over_http_in_real_time(tmp_path: Path) -> None:
    """The simulated phone serves phyphox's API from this process (real sockets, real time);
    ``imurep live --phyphox URL`` in another process streams until the phone's timed run ends."""
    rec_path, rec = _recording(tmp_path, reps=3)
    phone = SimPhyphox(rec.t_s, rec.acc_mps2, rec.gyr_rads, speed=1.0, timed_run=True)
    out, events = tmp_path / "phone.csv", tmp_path / "phone.jsonl"
    with serve_in_thread(phone) as url:
        run = _imurep(
            "live", "--phyphox", url, "--placement", "hip", "--side", "left", "--out", str(out),
            "--events", str(events), "--no-store", timeout=180,
        )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "phyphox on google Pixel 7" in run.stdout and "Traceback" not in run.stderr
    sidecar = _check_live_equals_analyze(out, events, min_reps=2)
    assert sidecar["link"]["kind"] == "phyphox" and sidecar["device"]["address"] == url
    assert sidecar["simulated"] is False
    assert phone.controls == ["start", "stop"]  # imurep started the measurement, and stopped it
    n_saved = len(out.read_text().splitlines()) - 1
    assert n_saved >= len(phone.acc.sent_t) - 5  # every sample the phone produced, but the edges


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_source_errors_are_one_line(tmp_path: Path) -> None:
    for args, match in (
        (["--sensor", "phyphox"], "needs --phyphox"),
        (["--phyphox", f"http://127.0.0.1:{_free_port()}"], "could not reach phyphox"),
        (["--phyphox", "http://x:8080", "--sensor", "polar"], "cannot be combined"),
        (["--sensor", "polar", "--mode", "packed"], "--mode applies to MetaWear"),
    ):
        run = _imurep("live", *args, "--placement", "hip", "--out", str(tmp_path / "x.csv"))
        assert run.returncode == 2, (args, run.stderr)
        assert run.stderr.startswith("imurep: error:") and run.stderr.count("\n") == 1 and match in run.stderr


def test_scan_lists_every_kind_with_the_phone_hint(tmp_path: Path) -> None:
    rec, _ = _recording(tmp_path, reps=2)
    run = _imurep("scan", "--simulate", str(rec), "--timeout", "1")
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0].split() == ["kind", "name", "address", "rssi"]
    kinds = {line.split()[0] for line in lines[1:4]}
    assert kinds == {"imurep", "metawear", "polar"}
    assert "Polar Sense 1A2B3C4D" in run.stdout
    assert "--phyphox http://PHONE:8080" in lines[-1]
