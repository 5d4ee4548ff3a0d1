"""The command line as a lifter meets it (issue 16, "CLI and defaults"): ``-V``, "did you mean" for
mistyped commands, options and exercise names, one-line errors, ``make demo`` leaving the history
alone, unwrapped piped output and the standalone progress page as a responsive HTML page."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from datetime import datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest

from imurep.coaching.history import History
from imurep.io.canonical import write_simulated
from imurep.model.results import SessionResult
from imurep.sim import SimSettings, simulate

ROOT = Path(__file__).resolve().parents[2]


def run(
    *args: str | Path, cwd: Path | None = None, db: Path | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_COLOR": "1", "PYTHONWARNINGS": "ignore"}
    env.pop("COLUMNS", None)  # as piped into another program
    if db is not None:
        env["IMUREP_DB"] = str(db)
    return subprocess.run(
        [sys.executable, "-m", "imurep", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd=cwd,
    )


def error_line(proc: subprocess.CompletedProcess[str]) -> str:
    """The error line of a usage error (after argparse's usage): exit 2, no traceback, no output."""
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr and proc.stdout == ""
    errors = [line for line in proc.stderr.splitlines() if ": error: " in line]
    assert len(errors) == 1, proc.stderr
    return errors[0]


def test_version_short_and_long(tmp_path: Path) -> None:
    short, long = run("-V", cwd=tmp_path), run("--version", cwd=tmp_path)
    assert short.returncode == 0 == long.returncode
    assert (
        short.stdout == long.stdout and short.stdout.startswith("imurep ") and short.stdout.count("\n") == 1
    )


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("analyse", "x.csv"), "unknown command 'analyse'; did you mean 'analyze'?"),
        (("histroy",), "unknown command 'histroy'; did you mean 'history'?"),
        (("history", "expot"), "unknown command 'expot'; did you mean 'export'?"),
        (
            ("analyze", "--placment", "hip", "x.csv"),
            "unrecognized arguments: --placment x.csv; did you mean --placement?",
        ),
        (("report", "x.csv", "--ot", "r"), "did you mean --out?"),
        (("analyze", "x.csv", "--jsn=a", "--repot", "b"), "did you mean --jsn → --json, --repot → --report?"),
        (
            ("simulate", "x.csv", "--exercise", "hipthrust"),
            "invalid choice: 'hipthrust'; did you mean 'hip_thrust'?",
        ),
        (
            ("analyze", "x.csv", "--placement", "hips"),
            "invalid choice: 'hips'; did you mean 'hip'? (choose from hip, thigh)",
        ),
    ],
)
def test_mistyped_words_get_the_closest_known_one(
    args: tuple[str, ...], expected: str, tmp_path: Path
) -> None:
    line = error_line(run(*args, cwd=tmp_path))
    assert expected in line, line
    assert not (tmp_path / "x.csv").exists()


def test_no_suggestion_when_nothing_is_close(tmp_path: Path) -> None:
    line = error_line(run("frobnicate", cwd=tmp_path))
    assert "unknown command 'frobnicate' (commands: analyze, report," in line and "did you mean" not in line
    line = error_line(run("analyze", "x.csv", "--zzzz", cwd=tmp_path))
    assert line.endswith("unrecognized arguments: --zzzz")


def test_mistyped_exercise_names(tmp_path: Path) -> None:
    """Exercise names are checked by the catalog (history included): one line, the closest name."""
    db = tmp_path / "h.sqlite"
    for args in (("history", "--exercise", "hip_thrst"), ("progress", "--exercise", "hip_thrst")):
        p = run(*args, db=db, cwd=tmp_path)
        assert p.returncode == 2 and p.stdout == "", p.stdout
        assert p.stderr.count("\n") == 1 and p.stderr.startswith(
            "imurep: error: unknown exercise 'hip_thrst'"
        )
        assert "did you mean 'hip_thrust'?" in p.stderr
    # a unique part of a name is enough; nothing stored yet is not an error
    p = run("history", "--exercise", "pause", db=db, cwd=tmp_path)
    assert p.returncode == 0 and "no single_leg_hip_thrust_pause sessions" in p.stdout


def test_live_needs_a_placement_unless_the_simulated_recording_says_it(tmp_path: Path) -> None:
    p = run("live", "--device", "AA:BB:CC:DD:EE:FF", cwd=tmp_path)
    assert p.returncode == 2 and p.stderr.count("\n") == 1, p.stderr
    assert p.stderr.startswith("imurep: error: --placement is required: where the sensor sits, hip")
    recording = tmp_path / "thigh.csv"
    write_simulated(simulate(SimSettings(seed=3, n_sets=1, placement="thigh")), recording)
    out = tmp_path / "session.csv"
    p = run(
        "live", "--simulate", recording, "--speed", "500", "--plain", "--out", out, "--no-store", cwd=tmp_path
    )
    assert p.returncode == 0, p.stderr
    assert '"placement": "thigh"' in out.with_suffix(".json").read_text()


def test_make_demo_leaves_the_history_alone(tmp_path: Path) -> None:
    """The demo's analyze line (run as the Makefile runs it) stores nothing in the user's history."""
    lines = (ROOT / "Makefile").read_text().split("\ndemo:", 1)[1].split("\n\n", 1)[0].splitlines()
    analyze = next(shlex.split(line)[1:] for line in lines if "imurep analyze" in line)
    db = tmp_path / "history.sqlite"
    p = run(*analyze, db=db, cwd=ROOT)
    assert p.returncode == 0, p.stderr
    assert "Progression" in p.stdout and "training history" not in p.stdout
    assert not db.exists()


def test_piped_output_is_not_wrapped_at_80_columns(tmp_path: Path) -> None:
    p = run(
        "history", "--db", tmp_path / "a-rather-long-folder-name-for-the-history" / "h.sqlite", cwd=tmp_path
    )
    assert p.returncode == 0, p.stderr
    assert p.stdout.count("\n") == 1 and len(p.stdout) > 80 and p.stdout.rstrip().endswith("each recording")


def test_help_speaks_to_a_lifter(tmp_path: Path) -> None:
    top = run("--help", cwd=tmp_path).stdout
    assert "hip or thigh" in top and "imurep COMMAND --help" in top
    analyze = run("analyze", "--help", cwd=tmp_path).stdout
    assert "phyphox" in analyze and "canonical recording CSV" not in analyze
    for command, default in (("history", "all exercises"), ("progress", "the latest stored session")):
        text = " ".join(run(command, "--help", cwd=tmp_path).stdout.split())
        assert default in text and "sidecar" not in text


# --- the standalone progress page -----------------------------------------------------------------


class _Outline(HTMLParser):
    """Ids, the rows of the ``weeks`` table, the advice items and any external reference."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.week_rows = 0
        self.advice: list[str] = []
        self.external: list[str] = []
        self.img_srcs: list[str] = []
        self._in: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if a.get("id"):
            self.ids.append(str(a["id"]))
            self._in.append(str(a["id"]))
        elif self._in:
            self._in.append("")
        for key in ("src", "href"):
            value = a.get(key) or ""
            if value and not value.startswith(("data:", "#")):
                self.external.append(value)
        if tag == "img":
            self.img_srcs.append(a.get("src") or "")
        if tag == "tr" and "weeks" in self._in:
            self.week_rows += 1

    def handle_endtag(self, tag: str) -> None:
        if self._in:
            self._in.pop()

    def handle_data(self, data: str) -> None:
        if "advice" in self._in and data.strip():
            self.advice.append(data.strip())


def store_two_weeks(result: SessionResult, db: Path) -> None:
    t0 = datetime(2026, 11, 2, 18, 0)
    with History(db) as h:
        h.store(result, key="w1", recorded_at=t0, exercise="single_leg_hip_thrust")
        h.store(result, key="w2", recorded_at=t0 + timedelta(weeks=1), exercise="single_leg_hip_thrust")


def test_progress_report_html_is_a_real_page(hip_session: SessionResult, tmp_path: Path) -> None:
    db = tmp_path / "h.sqlite"
    store_two_weeks(hip_session, db)
    out = tmp_path / "progress.html"
    p = run("progress", "--report", out, db=db, cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    doc = out.read_text(encoding="utf-8")
    outline = _Outline()
    outline.feed(doc)
    assert {"progress", "advice", "weeks"} <= set(outline.ids)
    table_rows = [line for line in p.stdout.splitlines() if line.startswith("2026-")]
    assert len(table_rows) == 4 and outline.week_rows == 1 + len(table_rows)  # header + left/right × 2 weeks
    assert (
        outline.external == []
        and len(outline.img_srcs) == 1
        and outline.img_srcs[0].startswith("data:image/png")
    )
    # the same advice as the terminal, as text
    assert outline.advice and all(item in " ".join(p.stdout.split()) for item in outline.advice[:2])
    assert '<meta name="viewport"' in doc and "Week by week" in doc


def test_simulate_refuses_what_live_refuses(tmp_path: Path) -> None:
    """Like ``live --out``: no folder is created and no recording is overwritten (without --force)."""
    p = run("simulate", tmp_path / "missing" / "x.csv", "--sets", "1", cwd=tmp_path)
    assert p.returncode == 2 and p.stderr.count("\n") == 1 and p.stdout == "", p.stderr
    assert "the folder" in p.stderr and "does not exist" in p.stderr and not (tmp_path / "missing").exists()
    out = tmp_path / "x.csv"
    (tmp_path / "x.truth.json").write_text("{}")  # any of the three files
    p = run("simulate", out, "--sets", "1", cwd=tmp_path)
    assert p.returncode == 2 and p.stderr.count("\n") == 1, p.stderr
    assert "x.truth.json exists already; choose another name, or --force" in p.stderr
    assert not out.exists() and (tmp_path / "x.truth.json").read_text() == "{}"
    p = run("simulate", out, "--sets", "1", "--force", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert out.stat().st_size > 1000 and (tmp_path / "x.truth.json").read_text() != "{}"
