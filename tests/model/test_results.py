"""The JSON output of an analysis (schema ``imurep.analysis/1``)."""

from __future__ import annotations

import io
import json
import math
from collections.abc import Callable
from pathlib import Path

import pytest

from imurep.io import result_to_jsonable, write_json
from imurep.model.results import SessionResult

MakeResult = Callable[..., SessionResult]


def test_json_rounding_and_types(make_result: MakeResult, tmp_path: Path) -> None:
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


def test_write_json_to_path_stream_and_stdout(
    make_result: MakeResult, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
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


def test_non_finite_becomes_null(make_result: MakeResult, caplog: pytest.LogCaptureFixture) -> None:
    result = make_result(1, 1)
    bad = SessionResult(**{**result.__dict__, "metadata": {"x_deg": math.nan, "y": math.inf}})
    buf = io.StringIO()
    write_json(bad, buf)
    assert json.loads(buf.getvalue())["metadata"] == {"x_deg": None, "y": None}
    assert "non-finite value" in caplog.text


def test_unsupported_type_is_a_clear_error(make_result: MakeResult) -> None:
    result = make_result(1, 1)
    bad = SessionResult(**{**result.__dict__, "metadata": {"obj": object()}})
    with pytest.raises(TypeError, match="cannot write object"):
        result_to_jsonable(bad)
