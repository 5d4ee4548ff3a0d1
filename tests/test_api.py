"""The Python API, :func:`imurep.analyze`: the same analysis as the CLI from a path, a DataFrame or
arrays, with rep and set tables."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import imurep
from imurep.core.settings import AnalysisSettings
from imurep.io.canonical import read_sidecar
from imurep.model.errors import DataValidationError, SettingsError

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "recordings" / "demo_hip.csv"


@pytest.fixture(scope="module")
def demo() -> imurep.Analysis:
    """The analysis of the demo recording (two sets)."""
    return imurep.analyze(str(DEMO))


@pytest.fixture(scope="module")
def small(small_recordings: list[Path]) -> imurep.Analysis:
    """The analysis of the first small recording."""
    return imurep.analyze(small_recordings[0])


def cli_json(*args: str | Path) -> str:
    """``imurep analyze ... --no-store --json -`` run as a process: its standard output."""
    proc = subprocess.run(
        [sys.executable, "-m", "imurep", "analyze", *map(str, args), "--no-store", "--json", "-"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_path_gives_the_json_of_the_cli_byte_for_byte(demo: imurep.Analysis) -> None:
    a = demo
    assert a.to_json() == cli_json(DEMO)
    assert isinstance(a, imurep.Analysis)
    assert [s.side for s in a.result.sets] == ["left", "right"]  # the sidecar's sides applied


def test_exercise_profile_and_overrides_as_the_cli(
    small_recordings: list[Path], small: imurep.Analysis
) -> None:
    path = small_recordings[0]
    a = imurep.analyze(path, exercise="pause", overrides=[("faults.tilt_threshold_deg", 7)], side="right")
    assert a.to_json() == cli_json(
        path, "--exercise", "pause", "--set", "faults.tilt_threshold_deg=7", "--side", "right"
    )
    assert a.result.metadata["exercise"] == "single_leg_hip_thrust_pause"
    assert a.result.settings.faults.tilt_threshold_deg == 7
    assert a.result.settings.sides == ("right",)
    default = small
    assert a.result.settings.faults.min_top_hold_s != default.result.settings.faults.min_top_hold_s


def test_dataframe_and_arrays_give_the_analysis_of_the_file(
    small_recordings: list[Path], small: imurep.Analysis
) -> None:
    path = small_recordings[0]
    meta = read_sidecar(path)
    from_file = small
    frame = pd.read_csv(path)
    from_frame = imurep.analyze(frame, metadata=meta, name=str(path))
    values = frame.to_numpy()
    from_arrays = imurep.analyze(
        (values[:, 0], values[:, 1:4], values[:, 4:7]), metadata=meta, name=str(path)
    )
    from_matrix = imurep.analyze(values, metadata=meta, name=str(path))
    for other in (from_frame, from_arrays, from_matrix):
        pd.testing.assert_frame_equal(other.reps, from_file.reps)
        pd.testing.assert_frame_equal(other.sets, from_file.sets)
        assert other.to_dict()["sets"] == from_file.to_dict()["sets"]
    assert from_frame.result.metadata["format"] == "dataframe"
    assert len(from_file.reps) == sum(len(s.reps) for s in from_file.result.sets) >= 4


def test_dataframe_aliases_and_units_in_g_and_dps(
    small_recordings: list[Path], small: imurep.Analysis
) -> None:
    path = small_recordings[0]
    frame = pd.read_csv(path)
    renamed = pd.DataFrame(
        {
            "time": frame["t"],
            **{f"acc_{a}": frame[f"a{a}"] / 9.80665 for a in "xyz"},  # in g
            **{f"gyr_{a}": np.degrees(frame[f"g{a}"]) for a in "xyz"},  # in deg/s
        }
    )
    a = imurep.analyze(renamed, metadata=read_sidecar(path))
    b = small
    assert a.result.metadata["conversions"]
    assert len(a.reps) == len(b.reps)
    np.testing.assert_allclose(a.reps["rom_deg"], b.reps["rom_deg"], atol=0.05)


def test_tables_name_their_units_and_match_the_result(demo: imurep.Analysis) -> None:
    a = demo
    reps, sets = a.reps, a.sets
    for col in ("start_s", "end_s", "concentric_s", "top_hold_s", "eccentric_s", "rom_deg", "peak_tilt_deg"):
        assert col in reps.columns
    assert {"mean_top_hold_s", "mean_rom_deg", "max_peak_tilt_deg", "time_under_tension_s"} <= set(
        sets.columns
    )
    assert list(sets["reps"]) == [len(s.reps) for s in a.result.sets]
    first = a.result.sets[0].reps[0]
    row = reps.iloc[0]
    assert (row["set"], row["rep"]) == (1, 1)
    assert row["top_hold_s"] == pytest.approx(first.top_hold_s, abs=1e-4)
    assert row["faults"] == ",".join(first.faults)
    assert list(sets["reps_partial_rom"]) == [s.summary.fault_counts["partial_rom"] for s in a.result.sets]
    assert "start_utc" not in reps.columns  # the demo's sidecar states no start time


def test_wall_clock_columns_from_started_unix_s(small_recordings: list[Path]) -> None:
    path = small_recordings[1]  # its sidecar has started_unix_s
    a = imurep.analyze(path)
    t0 = float(pd.read_csv(path, nrows=1)["t"].iloc[0])
    start = read_sidecar(path)["started_unix_s"]
    rep = a.result.sets[0].reps[0]
    expected = datetime.fromtimestamp(start + rep.start_s - t0, UTC)
    got = a.reps["start_utc"].iloc[0]
    assert abs(got.timestamp() - expected.timestamp()) < 1e-3
    assert got.tz is not None
    assert a.sets["start_utc"].dt.tz is not None


def test_settings_object_is_used_whole(small_recordings: list[Path]) -> None:
    path = small_recordings[0]
    a = imurep.analyze(path, settings=AnalysisSettings(placement="hip"), exercise="pause")
    assert a.result.settings.sides == ()  # not the sidecar's
    assert a.result.settings.faults == AnalysisSettings().faults  # not the profile's
    b = imurep.analyze(path, settings={"faults": {"tilt_threshold_deg": 9}})
    assert b.result.settings.faults.tilt_threshold_deg == 9 and b.result.settings.sides == ("left",)


def test_to_json_writes_a_file(tmp_path: Path, small_recordings: list[Path]) -> None:
    a = imurep.analyze(small_recordings[2])
    out = tmp_path / "a.json"
    text = a.to_json(out)
    assert out.read_text(encoding="utf-8") == text
    assert json.loads(text)["schema"] == "imurep.analysis/1"
    doc = a.to_dict()
    doc["sets"].clear()
    assert a.to_dict()["sets"]  # a fresh copy each time


@pytest.mark.parametrize(
    ("source", "kwargs", "error", "fragment"),
    [
        (pd.DataFrame({"t": [0.0, 1.0], "ax": [1.0, 2.0]}), {}, DataValidationError, "lacks column(s) ay"),
        (np.zeros((10, 5)), {}, DataValidationError, "shape (n, 7)"),
        ({"t": 1}, {}, DataValidationError, "cannot analyse a dict"),
        ("no/such/file.csv", {}, DataValidationError, "file not found"),
        (DEMO, {"exercise": "no_such_exercise"}, SettingsError, "exercise"),
        (DEMO, {"overrides": [("faults.nope", 1)]}, SettingsError, "faults.nope"),
        (np.zeros((10, 7)), {"format": "phyphox"}, SettingsError, "file source only"),
    ],
)
def test_bad_input_raises_one_clear_error(source: object, kwargs: dict, error: type, fragment: str) -> None:
    with pytest.raises(error) as info:
        imurep.analyze(source, **kwargs)
    assert fragment in str(info.value)
    assert "\n" not in str(info.value)


def test_import_imurep_stays_light() -> None:
    code = (
        "import sys, imurep; heavy = [m for m in ('pandas', 'numpy', 'scipy', 'imurep.api')"
        " if m in sys.modules];"
        "print(heavy); imurep.analyze; print('imurep.api' in sys.modules, 'pandas' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.split("\n")[:2] == ["[]", "True False"]


def test_readme_example_runs(tmp_path: Path) -> None:
    """The README's 'Python API' example, run as written (from a folder holding recordings/)."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## Python API") :]
    code = section[section.index("```python\n") + len("```python\n") :]
    code = code[: code.index("```")]
    (tmp_path / "recordings").symlink_to(ROOT / "recordings")
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stderr
    assert "set 1 rep 1:" in proc.stdout and "mean_top_hold_s" in proc.stdout
    assert json.loads((tmp_path / "demo_hip.json").read_text())["schema"] == "imurep.analysis/1"
