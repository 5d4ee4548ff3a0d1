"""Real bodyweight-squat sets (``../shared/data/squat-realtime``, see its SOURCE.md): analysed with
``--exercise squat`` as ``imurep analyze`` does, every file's rep count must match its manual
labels and every labelled rep must be matched by a found rep whose start and end lie within
0.25 s of the label's (issue 13).  Skipped when the folder is absent.

The files the shared rep tracking does not meet yet are marked ``xfail(strict=False)`` one by
one (:data:`NOT_YET`), with what fails; the rest must pass.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from imurep.cli.analyze import analyze_args
from imurep.cli.main import build_parser
from imurep.io.labels import RepWindow, match_windows, read_rep_labels

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "squat-realtime"
FILES = sorted(DATA.glob("*.csv")) if DATA.is_dir() else []
TOLERANCE_S = 0.25

NOT_YET: dict[str, str] = {
    # measured on the exercises branch merged with main at 1fc25e0 (tracker with the height check):
    # labelled reps whose start or end the found rep misses by more than 0.25 s, and wrong counts
    "c0-correct_subject1_set1_thigh": "reps 1 of 10 off by > 0.25 s",
    "c0-correct_subject2_set1_hip": "reps 8 of 10 off by > 0.25 s",
    "c1-knee_valgus_subject1_set1_hip": "reps 1, 6, 10 of 10 off by > 0.25 s",
    "c1-knee_valgus_subject1_set1_thigh": "reps 1, 10 of 10 off by > 0.25 s",
    "c1-knee_valgus_subject1_set2_hip": "reps 3, 4, 5, 8, 9, 10 of 10 off by > 0.25 s",
    "c1-knee_valgus_subject2_set1_hip": "reps 10 of 10 off by > 0.25 s",
    "c1-knee_valgus_subject2_set1_thigh": "reps 8, 10 of 10 off by > 0.25 s",
    "c1-knee_valgus_subject2_set2_hip": "reps 2, 5, 6, 10 of 10 off by > 0.25 s",
    "c1-knee_valgus_subject2_set2_thigh": "reps 2, 10 of 10 off by > 0.25 s",
    "c2-butt_wink_subject1_set1_hip": "reps 1 of 10 off by > 0.25 s",
    "c2-butt_wink_subject1_set2_hip": "reps 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 of 10 off by > 0.25 s",
    "c2-butt_wink_subject1_set2_thigh": "reps 10 of 10 off by > 0.25 s",
    "c2-butt_wink_subject2_set1_hip": "reps 1, 7, 10 of 10 off by > 0.25 s",
    "c2-butt_wink_subject2_set1_thigh": "reps 1, 10 of 10 off by > 0.25 s",
    "c2-butt_wink_subject2_set2_hip": "reps 10 of 10 off by > 0.25 s",
    "c3-excessive_lean_subject1_set1_hip": "reps 6, 7, 8, 10 of 10 off by > 0.25 s",
    "c3-excessive_lean_subject1_set1_thigh": "reps 1, 7, 8 of 10 off by > 0.25 s",
    "c3-excessive_lean_subject1_set2_hip": "reps 10 of 10 off by > 0.25 s",
    "c3-excessive_lean_subject1_set2_thigh": "reps 1 of 10 off by > 0.25 s",
    "c3-excessive_lean_subject2_set1_hip": "reps 1, 10 of 10 off by > 0.25 s",
    "c3-excessive_lean_subject2_set1_thigh": "reps 1 of 10 off by > 0.25 s",
    "c3-excessive_lean_subject2_set2_hip": "reps 1, 9 of 10 off by > 0.25 s",
    "c3-excessive_lean_subject2_set2_thigh": "reps 1, 2, 5, 9, 10 of 10 off by > 0.25 s",
    "c4-partial_squat_subject1_set1_thigh": "reps 10 of 10 off by > 0.25 s",
    "c4-partial_squat_subject1_set2_hip": "reps 10 of 10 off by > 0.25 s",
    "c4-partial_squat_subject2_set1_hip": "reps 1, 10 of 10 off by > 0.25 s",
    "c4-partial_squat_subject2_set1_thigh": "reps 1 of 10 off by > 0.25 s",
    "c4-partial_squat_subject2_set2_hip": "reps 1, 10 of 10 off by > 0.25 s",
    "c4-partial_squat_subject2_set2_thigh": "reps 1 of 10 off by > 0.25 s",
    "ssl_subject1_ssl_hip": "reps 25 of 25 off by > 0.25 s",
    "ssl_subject2_ssl_hip": "reps 25 of 25 off by > 0.25 s",
}
"""Files the tracker does not yet meet, with why (filled from a run of this test)."""


def _params() -> list[object]:
    out: list[object] = []
    for f in FILES:
        marks = [pytest.mark.xfail(strict=False, reason=NOT_YET[f.stem])] if f.stem in NOT_YET else []
        out.append(pytest.param(f, id=f.stem, marks=marks))
    return out


def _found(path: Path) -> list[RepWindow]:
    args = build_parser().parse_args(["analyze", str(path), "--exercise", "squat", "--no-store"])
    result = analyze_args(args).result
    assert result.metadata["exercise"] == "squat"
    return [RepWindow(r.start_s, r.end_s) for s in result.sets for r in s.reps]


@pytest.mark.skipif(not FILES, reason=f"no real squat recordings in {DATA}")
@pytest.mark.parametrize("path", _params())
def test_real_squat_set_counts_and_times_every_labelled_rep(path: Path) -> None:
    labels = read_rep_labels(path)
    found = _found(path)
    assert len(found) == len(labels), f"{len(found)} reps found, {len(labels)} labelled"
    pairs = dict(match_windows(labels, found))
    missed = [
        i
        for i, lab in enumerate(labels)
        if i not in pairs
        or abs(found[pairs[i]].start_s - lab.start_s) > TOLERANCE_S
        or abs(found[pairs[i]].end_s - lab.end_s) > TOLERANCE_S
    ]
    assert not missed, f"labelled reps {[i + 1 for i in missed]} of {len(labels)} not within {TOLERANCE_S} s"


def _analyze_cli(path: Path, *extra: str) -> dict[str, Any]:
    """``imurep analyze PATH --exercise squat --json - [EXTRA...]`` in a subprocess, as a user runs it."""
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "imurep",
            "analyze",
            str(path),
            "--exercise",
            "squat",
            "--json",
            "-",
            "--no-store",
            *extra,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    doc: dict[str, Any] = json.loads(out.stdout)
    return doc


@pytest.mark.skipif(not FILES, reason=f"no real squat recordings in {DATA}")
def test_real_squat_cli_names_the_lowering_first() -> None:
    """As a user runs it: the squat's rep JSON names its phases lowering, bottom pause, rising."""
    path = next(f for f in FILES if "thigh" in f.stem)
    doc = _analyze_cli(path)
    rep = doc["sets"][0]["reps"][0]
    assert rep["phase_order"] == "lower_first"
    assert [p["name"] for p in rep["phases"]] == ["lowering", "bottom pause", "rising"]
    assert rep["lowering_s"] == rep["concentric_s"] and rep["lifting_s"] == rep["eccentric_s"]
    assert doc["settings"]["faults"]["enabled"] == ["rushed_lowering", "partial_rom"]


def _cut_mid_second_rep(path: Path, out: Path, *, at_start: bool = False) -> tuple[Path, list[RepWindow]]:
    """Write ``path`` from half-way through its second labelled rep on (or from its start: the top of
    a touch-and-go rep, not still) -- a recording started during a touch-and-go set, no quiet
    posture anywhere -- with its sidecar; return it and the labelled reps that lie wholly after the
    cut."""
    import numpy as np

    labels = read_rep_labels(path)
    t_cut = labels[1].start_s if at_start else 0.5 * (labels[1].start_s + labels[1].end_s)
    rows = np.loadtxt(path, delimiter=",", skiprows=1)
    rows = rows[rows[:, 0] >= t_cut]
    csv = out / f"{path.stem}_cut.csv"
    np.savetxt(csv, rows, delimiter=",", header="t,ax,ay,az,gx,gy,gz", comments="", fmt="%.7g")
    sidecar = json.loads(path.with_suffix(".json").read_text())
    csv.with_suffix(".json").write_text(json.dumps(sidecar))
    return csv, [lab for lab in labels if lab.start_s >= t_cut]


def _cut_totals(files: list[Path], out: Path, *, at_start: bool = False) -> tuple[int, int, int]:
    """Reps found, labelled reps matched and labelled reps, over ``files`` cut as
    :func:`_cut_mid_second_rep` cuts them."""
    found = matched = whole = 0
    for path in files:
        csv, labels = _cut_mid_second_rep(path, out, at_start=at_start)
        reps = _found(csv)
        found += len(reps)
        matched += len(match_windows(labels, reps))
        whole += len(labels)
    return found, matched, whole


def _cli_reps_of_cut(
    stem: str, out: Path, *, at_start: bool = False
) -> tuple[list[RepWindow], list[RepWindow]]:
    """The reps ``imurep analyze`` (a subprocess) finds in the recording ``stem`` cut as
    :func:`_cut_mid_second_rep` cuts it, and the labelled reps after the cut."""
    csv, labels = _cut_mid_second_rep(DATA / f"{stem}.csv", out, at_start=at_start)
    reps = [RepWindow(r["start_s"], r["end_s"]) for s in _analyze_cli(csv)["sets"] for r in s["reps"]]
    return reps, labels


HIP_FILES = [f for f in FILES if f.stem.endswith("_hip")]


@pytest.mark.skipif(not HIP_FILES, reason=f"no real squat recordings in {DATA}")
def test_a_recording_started_during_a_touch_and_go_set_finds_its_reps(tmp_path: Path) -> None:
    """A recording that begins mid-rep has no quiet start position: the first movement is refused
    (it does not come back where it began, or ends at another height), and the touch-and-go reps
    after it pause nowhere.  They are scanned from where that movement stopped, and after 3 s with
    no start position at all from the next calm turn (labelled reps matched: 72 of 206 with neither,
    122 with the first, 139 with both; no rep at all in 11, then 4, then 1 of the 22 recordings)."""
    found, matched, whole = _cut_totals(HIP_FILES, tmp_path)
    assert matched >= 0.65 * whole, f"{matched} of {whole} whole labelled reps found"
    # what it finds are the labelled reps, but for one butt-wink lifter whose every pelvic tuck is
    # counted when a set is seen without a quiet start (6 extra, and 3 more since the calm-turn
    # start finds that lifter's second set too), and 3 reps of a long set found half a rep late
    assert found - matched <= 0.06 * whole, f"{found - matched} reps found that are not labelled"


THIGH_FILES = [f for f in FILES if f.stem.endswith("_thigh")]


@pytest.mark.skipif(not THIGH_FILES, reason=f"no real squat recordings in {DATA}")
def test_a_thigh_recording_started_at_the_top_of_a_touch_and_go_rep_finds_its_reps(tmp_path: Path) -> None:
    """Started at the second rep's start: moving, never still.  When the first movement is refused
    and no pause follows, the tracker looks again from the next calm turn 3 s on (before: no rep in
    5 of the 22 recordings, 183 of 228 labelled reps; then 214; 216 since the swing-through
    of a first rep is checked with the gyroscope's angle too).  Fusion also no longer follows the
    accelerometer for its first 3 s when the stream starts still (in these, the thigh sensor's
    accelerometer reads 12-15 m/s² at rest: following it through the first rep left the angle 25°
    off)."""
    found, matched, whole = _cut_totals(THIGH_FILES, tmp_path, at_start=True)
    assert matched >= 0.9 * whole, f"{matched} of {whole} whole labelled reps found"
    assert found - matched <= 0.02 * whole, f"{found - matched} reps found that are not labelled"


@pytest.mark.skipif(not FILES, reason=f"no real squat recordings in {DATA}")
@pytest.mark.parametrize(
    "stem",
    [
        # the first movement does not come back where it began: scanned from where it stopped
        "c0-correct_subject1_set2_hip",
        # the first movement is a small one the other way: the squat after it is judged from the
        # same start position (before: no rep)
        "c2-butt_wink_subject1_set2_thigh",
    ],
)
def test_analyze_cli_finds_the_reps_of_a_recording_started_mid_set(stem: str, tmp_path: Path) -> None:
    """As a user runs it: ``imurep analyze`` of a recording started during a set's second rep."""
    reps, labels = _cli_reps_of_cut(stem, tmp_path)
    assert len(match_windows(labels, reps)) == len(reps) >= len(labels) - 2, (len(reps), len(labels))


@pytest.mark.skipif(not FILES, reason=f"no real squat recordings in {DATA}")
@pytest.mark.parametrize(
    "stem",
    [
        # the first movement is refused (a partial one) and no pause follows: before, no rep at all
        "c4-partial_squat_subject1_set1_thigh",
        # the same, with the hip sensor (a long set: before, no rep at all of 24)
        "ssl_subject2_ssl_hip",
    ],
)
def test_analyze_cli_looks_again_at_a_calm_turn_when_no_pause_comes(stem: str, tmp_path: Path) -> None:
    """As a user runs it: a recording started at the top of a touch-and-go set's second rep.  The
    reps of the first 3 s after the refused movement are lost (the set then needs 3 reps)."""
    reps, labels = _cli_reps_of_cut(stem, tmp_path, at_start=True)
    assert len(match_windows(labels, reps)) == len(reps) >= 0.45 * len(labels), (len(reps), len(labels))


@pytest.mark.skipif(not FILES, reason=f"no real squat recordings in {DATA}")
def test_analyze_cli_trusts_the_gyroscope_when_the_filter_sees_a_swing_through(
    tmp_path: Path,
) -> None:
    """As a user runs it: a recording started at the top of a touch-and-go set's second rep.  On
    the way back the orientation filter's angle (pulled off by this thigh sensor's accelerometer
    offset) swings 11 deg past the start of a 12 deg first rep, a walking stride's sign; the
    gyroscope's own angle comes back (before: 7 of 9 reps)."""
    reps, labels = _cli_reps_of_cut("c2-butt_wink_subject1_set2_thigh", tmp_path, at_start=True)
    assert len(match_windows(labels, reps)) == len(reps) == len(labels), (len(reps), len(labels))


@pytest.mark.skipif(not FILES, reason=f"no real squat recordings in {DATA}")
def test_a_thigh_set_must_turn_as_far_as_the_exercise_asks() -> None:
    """``segmentation.min_set_rom_thigh_deg``: the squat profile's 25° keeps a real partial-squat set
    (median 61°) and drops shuffling before a set (5-18° turns: held-out subject 5 had a 6-"rep" set
    of median 10° before a set of 25); raised past the set's range it drops the set on the thigh
    and not on the pelvis, which keeps ``min_set_rom_deg``."""
    stem = "c4-partial_squat_subject1_set1"
    thigh, hip = DATA / f"{stem}_thigh.csv", DATA / f"{stem}_hip.csv"
    assert len(_analyze_cli(thigh)["sets"]) == 1
    raised = ("--set", "segmentation.min_set_rom_thigh_deg=75")
    assert _analyze_cli(thigh, *raised)["sets"] == []
    assert len(_analyze_cli(hip, *raised)["sets"]) == 1
