"""The ``imurep`` command, run as a real process on real files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from imurep.cli.analyze import parse_override
from imurep.coaching.advice import advise
from imurep.coaching.exercises import get_profile, load_catalog
from imurep.coaching.history import History
from imurep.core.settings import resolve
from imurep.model.codes import FAULT_LABELS, OVER_EXTENSION
from imurep.model.errors import SettingsError

REP_KEYS = {
    "index",
    "start_s",
    "top_start_s",
    "top_end_s",
    "end_s",
    "concentric_s",
    "top_hold_s",
    "eccentric_s",
    "bottom_pause_s",
    "rom_deg",
    "peak_tilt_deg",
    "faults",
}
SET_KEYS = {"index", "side", "start_s", "end_s", "tilt_baseline", "reps", "summary"}
SUMMARY_KEYS = {
    "reps",
    "clean_reps",
    "time_under_tension_s",
    "mean_concentric_s",
    "mean_top_hold_s",
    "mean_eccentric_s",
    "mean_rom_deg",
    "max_peak_tilt_deg",
    "fault_counts",
}
TOP_KEYS = {
    "schema",
    "source",
    "sample_rate_hz",
    "placement",
    "settings",
    "quality",
    "metadata",
    "sets",
    "coaching",
}
ADVICE_KEYS = {"exercise", "action", "suggestion", "headline", "reasons", "plateau", "focus"}
ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "recordings" / "demo_hip.csv"
QUALITY_KEYS = {"n_samples", "duration_s", "sample_rate_hz", "n_gaps", "gap_total_s", "still_fraction"}


def run(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "160", "NO_COLOR": "1", "PYTHONWARNINGS": "ignore"}
    return subprocess.run(
        [sys.executable, "-m", "imurep", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=cwd,
    )


def assert_one_line_error(proc: subprocess.CompletedProcess[str], *fragments: str) -> str:
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("imurep: error: ")
    for fragment in fragments:
        assert fragment in lines[0]
    assert proc.stdout == ""
    return lines[0]


def write_canonical(path: Path, seconds: float = 5.0, rate_hz: float = 100.0) -> Path:
    n = int(seconds * rate_hz)
    t = np.arange(n) / rate_hz
    data = np.column_stack([t, np.zeros(n), np.zeros(n), np.full(n, 9.81), np.zeros((n, 3))])
    np.savetxt(path, data, delimiter=",", header="t,ax,ay,az,gx,gy,gz", comments="", fmt="%.5f")
    return path


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A simulated 2-set hip recording with one fault, written by ``imurep simulate``."""
    out = tmp_path_factory.mktemp("sim") / "rec.csv"
    proc = run("simulate", out, "--seed", "3", "--sets", "2", "--faults", "hip_tilt")
    assert proc.returncode == 0, proc.stderr
    assert str(out) in proc.stdout
    assert len(proc.stdout.strip().splitlines()) == 1
    return out


@pytest.fixture(scope="module")
def analysis(simulated: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    # A module fixture runs before the autouse IMUREP_DB fixture: name a private history here.
    db = tmp_path_factory.mktemp("db") / "history.sqlite"
    proc = run("analyze", simulated, "--json", "-", "--db", db)
    assert proc.returncode == 0, proc.stderr
    doc: dict[str, Any] = json.loads(proc.stdout)  # only JSON on stdout
    return doc


# --- happy paths -------------------------------------------------------------------------------


def test_version() -> None:
    proc = run("--version")
    assert proc.returncode == 0
    assert proc.stdout.strip() == "imurep 0.1.0"


def test_simulate_writes_csv_sidecar_and_truth(simulated: Path) -> None:
    assert simulated.is_file()
    assert simulated.read_text(encoding="utf-8").splitlines()[0].split(",")[:1] == ["t"]
    sidecar = json.loads(simulated.with_suffix(".json").read_text(encoding="utf-8"))
    assert sidecar["placement"] == "hip"
    assert simulated.with_suffix(".truth.json").is_file()


def test_analyze_json_schema(analysis: dict[str, Any], simulated: Path) -> None:
    assert analysis["schema"] == "imurep.analysis/1"
    assert set(analysis) >= TOP_KEYS
    assert analysis["source"] == str(simulated)
    assert analysis["placement"] == "hip"
    assert set(analysis["quality"]) >= QUALITY_KEYS
    assert isinstance(analysis["settings"], dict)
    assert analysis["sets"], "the simulated recording has sets"
    for s in analysis["sets"]:
        assert set(s) >= SET_KEYS
        assert set(s["summary"]) >= SUMMARY_KEYS
        assert s["reps"], "every simulated set has reps"
        assert s["summary"]["reps"] == len(s["reps"])
        for rep in s["reps"]:
            assert set(rep) >= REP_KEYS
            assert rep["start_s"] < rep["top_start_s"] <= rep["top_end_s"] < rep["end_s"]
            assert rep["rom_deg"] > 0


def test_analyze_json_is_rounded(analysis: dict[str, Any]) -> None:
    rep = analysis["sets"][0]["reps"][0]
    assert round(rep["start_s"], 4) == rep["start_s"]
    assert round(rep["rom_deg"], 2) == rep["rom_deg"]


def test_analyze_prints_table_and_writes_json_file(simulated: Path, tmp_path: Path) -> None:
    dest = tmp_path / "out.json"
    proc = run("analyze", simulated, "--json", dest)
    assert proc.returncode == 0, proc.stderr
    assert "Set 1 · " in proc.stdout and "Squeeze" in proc.stdout and "(°)" in proc.stdout
    assert "tempo up" in proc.stdout
    doc = json.loads(dest.read_text(encoding="utf-8"))
    assert doc["schema"] == "imurep.analysis/1"


def test_analyze_json_holds_the_coaching(analysis: dict[str, Any]) -> None:
    coaching = analysis["coaching"]
    profile = get_profile(analysis["metadata"]["exercise"])
    assert coaching["exercise"] == profile.name == "single_leg_hip_thrust"
    assert coaching["exercise_title"] == profile.title
    assert [(c["set"], c["side"]) for c in coaching["sets"]] == [
        (s["index"], s["side"]) for s in analysis["sets"]
    ]
    n_cues = 0
    for s, c in zip(analysis["sets"], coaching["sets"], strict=True):
        expected: dict[str, list[int]] = {}
        for rep in s["reps"]:
            for code in rep["faults"]:
                expected.setdefault(code, []).append(rep["index"])
        cued = {x["fault"]: x["reps"] for x in c["cues"] if x["fault"] != OVER_EXTENSION}
        assert cued == expected, "one cue per fault seen, naming the reps that showed it"
        over = [x["reps"] for x in c["cues"] if x["fault"] == OVER_EXTENSION]
        assert over == ([c["over_extended_reps"]] if c["over_extended_reps"] else [])
        for x in c["cues"]:
            assert x["cue"] == profile.cue(x["fault"]) and x["label"] == FAULT_LABELS[x["fault"]]
        n_cues += len(c["cues"])
    assert n_cues > 0, "the simulated recording has faults (hip_tilt injected)"
    advice = coaching["advice"]
    assert set(advice) == ADVICE_KEYS
    assert advice["exercise"] == profile.name and advice["action"] in ("progress", "stay", "regress")
    assert advice["headline"] and advice["reasons"]


def test_analyze_json_advice_uses_the_stored_history_like_the_printed_one(tmp_path: Path) -> None:
    """Two sessions in the history: the JSON advice is the printed one, from both sessions."""
    db = tmp_path / "history.sqlite"
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    lines = DEMO.read_text(encoding="utf-8").splitlines(keepends=True)
    first.write_text("".join(lines), encoding="utf-8")
    second.write_text("".join(lines[:-1]), encoding="utf-8")  # other bytes: another session
    for path in (first, second):
        path.with_suffix(".json").write_text(DEMO.with_suffix(".json").read_text(encoding="utf-8"))
    assert run("analyze", first, "--db", db).returncode == 0
    dest = tmp_path / "b.json.out"
    proc = run("analyze", second, "--db", db, "--json", dest)
    assert proc.returncode == 0, proc.stderr
    advice = json.loads(dest.read_text(encoding="utf-8"))["coaching"]["advice"]
    profile = get_profile("single_leg_hip_thrust")
    with History(db) as h:
        sessions = h.sessions_of(profile.name)
    assert len(sessions) == 2
    assert advice == advise(sessions, profile, catalog=load_catalog()).to_dict()
    assert any("in the last 2 sessions" in r for r in advice["reasons"]), advice
    printed = " ".join(proc.stdout.split())
    for text in (advice["headline"], *advice["reasons"]):
        assert " ".join(text.split()) in printed
    # without the history: this recording only, and still nothing but JSON on stdout
    alone = run("analyze", second, "--no-store", "--json", "-")
    assert alone.returncode == 0, alone.stderr
    advice_alone = json.loads(alone.stdout)["coaching"]["advice"]
    assert any("in this session" in r for r in advice_alone["reasons"]), advice_alone


def test_analyze_json_of_a_recording_without_sets_has_an_empty_coaching(tmp_path: Path) -> None:
    proc = run("analyze", write_canonical(tmp_path / "still.csv"), "--no-store", "--json", "-")
    assert proc.returncode == 0, proc.stderr
    coaching = json.loads(proc.stdout)["coaching"]
    assert coaching["sets"] == [] and set(coaching["advice"]) == ADVICE_KEYS


def test_cli_flags_override_sidecar_and_settings(simulated: Path, tmp_path: Path) -> None:
    config = tmp_path / "settings.json"
    config.write_text(json.dumps({"faults": {"min_top_hold_s": 0.5}}), encoding="utf-8")
    proc = run(
        "analyze",
        simulated,
        "--side",
        "left",
        "--config",
        config,
        "--set",
        "faults.tilt_threshold_deg=6",
        "--json",
        "-",
    )
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["settings"]["faults"]["tilt_threshold_deg"] == 6
    assert doc["settings"]["faults"]["min_top_hold_s"] == 0.5
    assert {s["side"] for s in doc["sets"]} == {"left"}


def test_analyze_with_no_reps_says_so(tmp_path: Path) -> None:
    proc = run("analyze", write_canonical(tmp_path / "still.csv"))
    assert proc.returncode == 0, proc.stderr
    assert "no sets found" in proc.stdout


# --- errors ------------------------------------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    assert_one_line_error(run("analyze", tmp_path / "nope.csv"), "nope.csv", "file not found")


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    assert_one_line_error(run("analyze", path), "empty.csv", "empty")


def test_misspelled_column(tmp_path: Path) -> None:
    path = tmp_path / "rec.csv"
    path.write_text("t,ax,ay,az,gx,gy,gzz\n0,0,0,9.8,0,0,0\n", encoding="utf-8")
    assert_one_line_error(run("analyze", path), "'gz'", "did you mean 'gzz'")


def test_non_numeric_cell(tmp_path: Path) -> None:
    path = write_canonical(tmp_path / "rec.csv")
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[51] = lines[51].replace(",", ",oops,", 1).rsplit(",", 1)[0]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert_one_line_error(run("analyze", path), "row 51", "column 'ax'", "'oops' is not a number")


def test_binary_file(tmp_path: Path) -> None:
    path = tmp_path / "rec.csv"
    path.write_bytes(bytes(range(256)) * 8)
    assert_one_line_error(run("analyze", path), "binary")


def test_bad_sidecar(tmp_path: Path) -> None:
    path = write_canonical(tmp_path / "rec.csv")
    path.with_suffix(".json").write_text("{not json", encoding="utf-8")
    assert_one_line_error(run("analyze", path), "rec.json", "not valid JSON")


def test_unknown_setting(tmp_path: Path) -> None:
    path = write_canonical(tmp_path / "rec.csv")
    assert_one_line_error(
        run("analyze", path, "--set", "faults.tilt_treshold_deg=6"),
        "unknown setting 'faults.tilt_treshold_deg'",
        "did you mean 'faults.tilt_threshold_deg'",
    )


def test_out_of_range_setting(tmp_path: Path) -> None:
    path = write_canonical(tmp_path / "rec.csv")
    assert_one_line_error(run("analyze", path, "--set", "faults.tilt_threshold_deg=-1"), "tilt_threshold_deg")


def test_bad_config_file(tmp_path: Path) -> None:
    path = write_canonical(tmp_path / "rec.csv")
    config = tmp_path / "settings.json"
    config.write_text("[1, 2]", encoding="utf-8")
    assert_one_line_error(run("analyze", path, "--config", config), "settings.json", "JSON object")
    assert_one_line_error(run("analyze", path, "--config", tmp_path / "none.json"), "not found")


def test_unwritable_json_destination(simulated: Path, tmp_path: Path) -> None:
    assert_one_line_error(
        run("analyze", simulated, "--json", tmp_path / "no" / "such" / "dir.json"),
        "dir.json",
        "does not exist",
    )
    # A folder as destination is refused before anything is analysed or stored (issue 14).
    assert_one_line_error(run("analyze", simulated, "--json", tmp_path), f"--json {tmp_path}: is a folder")


def test_simulate_bad_faults(tmp_path: Path) -> None:
    proc = run("simulate", tmp_path / "x.csv", "--faults", "wobbly_knee")
    assert_one_line_error(proc, "wobbly_knee")


@pytest.mark.parametrize(
    "args",
    [
        (),
        ("analyze",),
        ("analyze", "x.csv", "--placement", "knee"),
        ("simulate", "x.csv", "--sets", "0"),
        ("frobnicate",),
    ],
)
def test_usage_errors_exit_2(args: tuple[str, ...], tmp_path: Path) -> None:
    proc = run(*args, cwd=tmp_path)
    assert proc.returncode == 2
    assert "usage: imurep" in proc.stderr
    assert "Traceback" not in proc.stderr


# --- settings helpers (in process) -------------------------------------------------------------


def test_parse_override() -> None:
    assert parse_override("faults.tilt_threshold_deg=6") == ("faults.tilt_threshold_deg", 6)
    assert parse_override('a.b=["x"]') == ("a.b", ["x"])
    assert parse_override("a=hip") == ("a", "hip")
    assert parse_override("a=") == ("a", "")
    with pytest.raises(SettingsError, match="KEY=VALUE"):
        parse_override("nothing")


def test_apply_and_merge_settings() -> None:
    """--set and --config layers through the one resolution (see tests/core/test_settings.py)."""
    settings = resolve(
        config={"placement": "thigh", "faults": {"enabled": []}},
        overrides=[("faults.tilt_threshold_deg", 7)],
    )
    assert settings.placement == "thigh"
    assert settings.faults.tilt_threshold_deg == 7 and settings.faults.enabled == ()
    with pytest.raises(SettingsError, match="did you mean 'faults.enabled'"):
        resolve(overrides=[("faults.enabld", 1)])
    with pytest.raises(SettingsError, match="unknown setting 'placement.x'"):
        resolve(overrides=[("placement.x", 1)])
    with pytest.raises(SettingsError, match="unknown setting 'nope'"):
        resolve(config={"nope": {"x": 1}})
