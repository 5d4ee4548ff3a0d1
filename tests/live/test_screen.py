"""The live screen read from the bench (issue 16): big count against the target, the reps strip,
the tilt gauge, summaries that never show a warning in green, the end-of-session summary."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

from imurep.core.settings import AnalysisSettings
from imurep.live.screen import big_text, clock_text, counter_text, rep_strip, tilt_gauge
from imurep.live.session import LiveSession
from imurep.live.views import PlainView, set_summary_lines, summary_style
from imurep.model.codes import FAULTS
from imurep.model.results import RepResult, SetResult, SetSummary
from imurep.model.samples import ImuChunk
from imurep.sim import SimSettings, simulate


def _rep(i: int, faults: tuple[str, ...] = (), tilt: float | None = 1.0) -> RepResult:
    return RepResult(i, 10.0 * i, 10.0 * i + 1.0, 10.0 * i + 2.0, 10.0 * i + 4.0, 40.0, tilt, faults)


def test_big_digits_counter_strip_and_gauge() -> None:
    rows = big_text("12")
    assert len(rows) == 5 and all("██" in r for r in rows)
    assert big_text("1:05")[1].count("██") >= 3
    assert counter_text(4, (12, 15)) == "4 of 12–15 reps"
    strip = rep_strip([_rep(1), _rep(2, ("rushed_lowering",))])
    assert strip[0].startswith("  1 ▲▲▲▲■■■■▼▼▼▼▼▼▼▼") and strip[0].endswith(" ok")
    assert strip[1].endswith("rushed lowering")
    assert "limit 5°, level" in tilt_gauge(2.0, 5.0) and "over the limit" in tilt_gauge(7.0, 5.0)
    gauge = tilt_gauge(2.5, 5.0)
    assert gauge.index("●") < gauge.index("|")  # inside the limit: left of the mark
    assert tilt_gauge(None, 5.0) == "" and clock_text(65.4) == "1:05"


def test_set_summary_wording_and_colour() -> None:
    reps = (_rep(1),)
    s = SetResult(1, "left", 10.0, 14.0, reps, SetSummary.from_reps(reps, FAULTS))
    lines = set_summary_lines(s)
    assert "1 rep, 1 clean" in lines[0]
    assert summary_style("  struggling: only 1 clean reps (< 6) — a set like this counts") == "yellow bold"
    assert summary_style("  faults: none") == "green"


def test_end_summary_per_leg_and_unknown_side_switch() -> None:
    rec = simulate(SimSettings(seed=41, n_sets=1))
    out = io.StringIO()
    session = LiveSession(AnalysisSettings(placement="hip"), PlainView(out))
    for a in range(0, rec.t_s.size, 26):
        session.on_chunk(ImuChunk(rec.t_s[a : a + 26], rec.acc_mps2[a : a + 26], rec.gyr_rads[a : a + 26]))
        if a == 2600:
            session.on_key("s")  # from an unknown side: said out loud, not a silent "left"
    session.finish()
    assert "side was unknown: the next reps are the left leg" in out.getvalue()
    lines = session.summary_lines("s.csv")
    assert lines[0] == "session summary:" and lines[-1] == "  report: imurep report s.csv"
    reps = sum(s.summary.reps for s in session.pipeline.sets)
    assert any(f"{reps} reps" in line for line in lines[1:-1])


def test_cli_sides_per_set(tmp_path: Path) -> None:
    env = {**os.environ, "COLUMNS": "160", "NO_COLOR": "1", "IMUREP_DB": str(tmp_path / "h.sqlite")}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        cmd = [sys.executable, "-m", "imurep", *args]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=180, env=env, cwd=tmp_path)

    demo = str(Path(__file__).resolve().parents[2] / "recordings" / "demo_hip.csv")
    proc = run("analyze", demo, "--no-store", "--sides", "right,left")
    assert proc.returncode == 0, proc.stderr
    headers = [line for line in proc.stdout.splitlines() if line.startswith("Set ")]
    assert headers[0].startswith("Set 1 · right · ") and headers[1].startswith("Set 2 · left · ")
    assert "into the recording" in headers[0]
    bad = run("analyze", demo, "--no-store", "--sides", "right,up")
    assert bad.returncode == 2 and "left,right" in bad.stderr and "Traceback" not in bad.stderr


def test_rich_view_shows_the_bench_screen() -> None:
    from rich.console import Console

    from imurep.coaching.exercises import get_profile
    from imurep.live.views import RichView

    buf = io.StringIO()
    view = RichView(Console(file=buf, width=100, force_terminal=False, color_system=None))
    view.status("connected to sim (AA) · firmware 1 · battery 80 % · 104 Hz")
    view.status("calibrated (gyro bias 1.0 °/s) · waiting for the first set")
    view.status("in set 1 (left)")
    for i in range(1, 5):
        view.rep(
            _rep(i, ("hip_tilt",) if i == 4 else (), tilt=6.0 if i == 4 else 1.0), 1, 5.0, get_profile(None)
        )
    text = "\n".join(str(line) for line in view.console.render_lines(view._render()))  # noqa: SLF001
    plain = "".join(seg.text for line in view.console.render_lines(view._render()) for seg in line)
    assert "4 of 12–15 reps · set 1" in plain and "battery 80 %" in plain and "calibrated" in plain
    assert big_text("4")[0] in plain and "over the limit" in plain and "hips not level" in plain
    view.set_ended(["set 1 (left) done: 4 reps, 3 clean"])
    plain = "".join(seg.text for line in view.console.render_lines(view._render()) for seg in line)
    assert "rest" in plain and big_text("0:00")[0][:6] in plain
    view.close()
    assert text
