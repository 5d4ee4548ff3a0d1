"""JSON output and terminal tables of an analysis."""

from __future__ import annotations

import io
import json
import math
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console

from imurep.core.faults import FaultSettings
from imurep.core.settings import AnalysisSettings
from imurep.io import render_table, result_to_jsonable, write_json
from imurep.model.codes import FAULTS
from imurep.model.results import DataQuality, RepResult, SessionResult, SetResult, SetSummary


def make_result(n_sets: int = 2, reps_per_set: int = 3) -> SessionResult:
    sets = []
    for k in range(n_sets):
        reps = tuple(
            RepResult(
                index=i + 1,
                start_s=10.0 * k + 3.0 * i + 0.123456789,
                top_start_s=10.0 * k + 3.0 * i + 1.2,
                top_end_s=10.0 * k + 3.0 * i + 2.3,
                end_s=10.0 * k + 3.0 * i + 2.9,
                rom_deg=40.0 + i + 0.123456,
                peak_tilt_deg=3.0 + 2.5 * i,
                faults=("hip_tilt", "rushed_lowering") if i == 2 else (),
                bottom_pause_s=0.1 if i < reps_per_set - 1 else None,
            )
            for i in range(reps_per_set)
        )
        sets.append(
            SetResult(
                index=k + 1,
                side=("left", None)[k % 2],
                start_s=reps[0].start_s if reps else 0.0,
                end_s=reps[-1].end_s if reps else 0.0,
                reps=reps,
                summary=SetSummary.from_reps(reps, FAULTS),
            )
        )
    quality = DataQuality(
        n_samples=12000,
        duration_s=60.0,
        sample_rate_hz=200.0,
        n_gaps=1,
        gap_total_s=0.25,
        still_fraction=0.4,
    )
    return SessionResult(
        source="rec.csv",
        placement="hip",
        sample_rate_hz=200.0,
        settings=AnalysisSettings(faults=FaultSettings(tilt_threshold_deg=5.0, enabled=("hip_tilt",))),
        sets=tuple(sets),
        quality=quality,
        metadata={"device": "sim", "rate": np.float64(1.0 / 3.0), "n": np.int64(3)},
    )


def render(result: SessionResult) -> str:
    console = Console(record=True, width=160, color_system=None, file=io.StringIO())
    render_table(result, console)
    return console.export_text()


def test_json_rounding_and_types(tmp_path: Path) -> None:
    doc = result_to_jsonable(make_result())
    rep = doc["sets"][0]["reps"][0]
    assert rep["start_s"] == 0.1235
    assert rep["rom_deg"] == 40.12
    assert rep["bottom_pause_s"] == 0.1
    assert doc["sets"][0]["reps"][-1]["bottom_pause_s"] is None
    assert doc["sets"][1]["side"] is None
    assert doc["metadata"] == {"device": "sim", "rate": 0.3333333333, "n": 3}
    assert doc["settings"]["faults"]["enabled"] == ["hip_tilt"]
    assert doc["schema"] == "imurep.analysis/1"
    assert doc["sets"][0]["summary"]["fault_counts"] == {
        "hip_tilt": 1,
        "rushed_lowering": 1,
        "short_hold": 0,
        "partial_rom": 0,
    }


def test_write_json_to_path_stream_and_stdout(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    result = make_result()
    write_json(result, tmp_path / "a.json")
    write_json(result, str(tmp_path / "b.json"))
    buf = io.StringIO()
    write_json(result, buf)
    write_json(result, "-")
    out = capsys.readouterr().out
    texts = [(tmp_path / "a.json").read_text(encoding="utf-8"), (tmp_path / "b.json").read_text("utf-8")]
    assert texts[0] == texts[1] == buf.getvalue() == out
    assert json.loads(out) == result_to_jsonable(result)


def test_non_finite_becomes_null(caplog: pytest.LogCaptureFixture) -> None:
    result = make_result(1, 1)
    bad = SessionResult(**{**result.__dict__, "metadata": {"x_deg": math.nan, "y": math.inf}})
    buf = io.StringIO()
    write_json(bad, buf)
    assert json.loads(buf.getvalue())["metadata"] == {"x_deg": None, "y": None}
    assert "non-finite value" in caplog.text


def test_unsupported_type_is_a_clear_error() -> None:
    result = make_result(1, 1)
    bad = SessionResult(**{**result.__dict__, "metadata": {"obj": object()}})
    with pytest.raises(TypeError, match="cannot write object"):
        result_to_jsonable(bad)


def test_table_contents() -> None:
    text = render(make_result())
    assert "rec.csv · hip · 200.0 Hz · 1.0 min" in text
    assert "1 gap in the data (0.25 s in total)" in text
    assert "Set 1 · left · 0.1–8.9 s" in text
    assert "Set 2 · side unknown" in text
    for header in ("Rep", "Start", "Up", "Squeeze", "Down", "Pause", "ROM", "Tilt", "Faults", "(s)", "(°)"):
        assert header in text
    assert "hips not level, rushed lowering" in text
    assert "3 reps · 2 clean · time under tension 8.3 s" in text
    assert "tempo up 1.1 s · hold 1.1 s · down 0.6 s" in text
    assert "faults: hips not level ×1, rushed lowering ×1" in text
    assert "—" in text  # the last rep has no pause


def test_table_without_sets_or_reps() -> None:
    text = render(make_result(0))
    assert "no sets found —" in text
    assert "--placement" in text
    text = render(make_result(1, 0))
    assert "no reps in this set" in text
    assert "0 reps · 0 clean" in text
    assert "tempo up — · hold — · down —" in text


def test_thigh_rep_without_tilt() -> None:
    result = make_result(1, 1)
    rep = RepResult(1, 0.0, 1.0, 2.0, 3.0, 45.0, None)
    one = SetResult(1, "right", 0.0, 3.0, (rep,), SetSummary.from_reps((rep,), FAULTS))
    text = render(SessionResult(**{**result.__dict__, "placement": "thigh", "sets": (one,)}))
    assert "45.0" in text
    assert "ok" in text
    assert "no faults" in text
