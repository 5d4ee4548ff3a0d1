"""The terminal view of an analysis: the rep tables and summaries printed with rich."""

from __future__ import annotations

import io
from collections.abc import Callable

from rich.console import Console

from imurep.model.codes import FAULTS
from imurep.model.results import RepResult, SessionResult, SetResult, SetSummary
from imurep.report.table import render_table

MakeResult = Callable[..., SessionResult]


def render(result: SessionResult) -> str:
    console = Console(record=True, width=160, color_system=None, file=io.StringIO())
    render_table(result, console)
    return console.export_text()


def _header_lines(text: str) -> str:
    """The header lines of the rep tables (the ones with the heavy column separator)."""
    return "\n".join(line for line in text.splitlines() if "┃" in line)


def _rows(text: str) -> list[list[str]]:
    """The cells of every rep-table row, stripped."""
    return [[c.strip() for c in line.split("│")] for line in text.splitlines() if "│" in line]


def test_table_contents(make_result: MakeResult) -> None:
    text = render(make_result())
    assert "rec.csv · hip · 200.0 Hz · 1.0 min" in text
    assert "1 gap in the data (0.25 s in total)" in text
    assert "Set 1 · left · 0:00 into the recording, 0:09 long" in text  # times from the start (issue 16)
    assert "Set 2 · side unknown" in text
    for header in ("Rep", "Start", "Up", "Squeeze", "Down", "Pause", "ROM", "Tilt", "Faults", "(s)", "(°)"):
        assert header in text
        assert header in _header_lines(text)  # not just somewhere in the summary lines ("mean ROM")
    assert "hips not level, rushed lowering" in text
    assert "3 reps · 2 clean · time under tension 8.3 s" in text
    assert "tempo up 1.1 s · hold 1.1 s · down 0.6 s" in text
    assert "faults: hips not level ×1, rushed lowering ×1" in text
    assert "—" in text  # the last rep has no pause
    rows = _rows(text)
    assert len(rows) == 6
    pause = 5  # Rep, Start, Up, Squeeze, Down, Pause, ...
    assert [r[pause] for r in rows] == ["0.10", "0.10", "—"] * 2


def test_table_without_sets_or_reps(make_result: MakeResult) -> None:
    text = render(make_result(0))
    assert "no sets found —" in text
    assert "--placement" in text
    text = render(make_result(1, 0))
    assert "no reps in this set" in text
    assert "0 reps · 0 clean" in text
    assert "tempo up — · hold — · down —" in text


def test_thigh_rep_without_tilt(make_result: MakeResult) -> None:
    result = make_result(1, 1)
    rep = RepResult(1, 0.0, 1.0, 2.0, 3.0, 45.0, None)
    one = SetResult(1, "right", 0.0, 3.0, (rep,), SetSummary.from_reps((rep,), FAULTS))
    text = render(SessionResult(**{**result.__dict__, "placement": "thigh", "sets": (one,)}))
    assert "45.0" in text
    assert "ok" in text
    assert "no faults" in text
    # the row itself, not the summary ("mean ROM 45.0°"): ROM shown, tilt missing, no faults
    (row,) = _rows(text)
    assert row == ["1", "0.00", "1.00", "1.00", "1.00", "—", "45.0", "—", "ok"]
