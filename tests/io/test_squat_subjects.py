"""The held-out squat converter (``benchmarks/squat_subjects.py``), run as a developer runs it, on a
small folder shaped like the dataset's repository (the real clone is not on the test machines)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from imurep.io import load_recording
from imurep.io.labels import read_rep_labels

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "squat_subjects.py"


def _fake_clone(root: Path) -> None:
    base = root / "squat_classifier_ssl" / "data"
    raw = base / "raw" / "labeled" / "class0"
    meta = base / "manually_labeled" / "class0"
    raw.mkdir(parents=True)
    meta.mkdir(parents=True)
    n = 300
    millis = 1_000_000 + np.arange(n) * 9
    cols: dict[str, object] = {"timestamp": ["x"] * n, "seq": np.arange(n), "millis": millis}
    for s, g in (("s0", 9.81), ("s1", -9.81), ("s2", 9.81)):
        for a in ("ax", "ay", "az", "gx", "gy", "gz"):
            cols[f"{s}_{a}"] = np.full(n, g if a == "az" else 0.01)
    pd.DataFrame(cols).to_csv(raw / "subject3_set1.csv", index=False)
    windows = [{"start_sample": 10, "end_sample": 120}, {"start_sample": 118, "end_sample": 250}]
    (meta / "subject3_set1_metadata.json").write_text(json.dumps({"windows": windows}))


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=120, check=False
    )


def test_converts_a_clone_into_readable_recordings_with_their_labels(tmp_path: Path) -> None:
    _fake_clone(tmp_path / "clone")
    out = _run(str(tmp_path / "clone"), str(tmp_path / "out"), "--subjects", "3")
    assert out.returncode == 0, out.stderr
    assert "2 recordings written" in out.stdout
    hip = tmp_path / "out" / "c0-correct_subject3_set1_hip.csv"
    rec = load_recording(hip)
    assert rec.metadata["placement"] == "hip"
    t = np.concatenate([c.t_s for c in rec.chunks()])
    assert t[0] == 0.0 and abs(t[-1] - 299 * 0.009) < 1e-9
    labels = read_rep_labels(hip)
    assert [(round(w.start_s, 3), round(w.end_s, 3)) for w in labels] == [(0.09, 1.071), (1.062, 2.241)]
    thigh = load_recording(tmp_path / "out" / "c0-correct_subject3_set1_thigh.csv")
    assert thigh.metadata["placement"] == "thigh"
    assert float(next(iter(thigh.chunks())).acc_mps2[0, 2]) == -9.81


def test_refuses_to_write_into_the_repository(tmp_path: Path) -> None:
    _fake_clone(tmp_path / "clone")
    inside = SCRIPT.parent / "_data" / "squat-heldout-test"
    out = _run(str(tmp_path / "clone"), str(inside))
    assert out.returncode == 2
    assert "inside the repository" in out.stderr and not inside.exists()


def test_refuses_a_folder_that_is_not_the_dataset(tmp_path: Path) -> None:
    out = _run(str(tmp_path), str(tmp_path / "out"))
    assert out.returncode == 2 and "not a clone" in out.stderr
