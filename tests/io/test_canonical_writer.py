"""The canonical CSV writers: one row format for live recordings and whole arrays."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from imurep.io.canonical import (
    format_rows,
    load_canonical,
    write_canonical,
    write_simulated,
)
from imurep.io.recording_writer import RecordingWriter
from imurep.model.errors import DataValidationError
from imurep.model.samples import ImuChunk
from imurep.sim import SimRecording, SimSettings, simulate


@pytest.fixture(scope="module")
def rec() -> SimRecording:
    return simulate(SimSettings(seed=41, n_sets=1))


def _stream(rec: SimRecording, step: int = 26):  # type: ignore[no-untyped-def]
    n = rec.t_s.size
    for a in range(0, n, step):
        yield ImuChunk(rec.t_s[a : a + step], rec.acc_mps2[a : a + step], rec.gyr_rads[a : a + step])


def test_recording_is_flushed_while_streaming(rec, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "s.csv"
    writer = RecordingWriter(out, {"placement": "hip"}, flush_interval_s=0.0)  # flush on every append
    chunks = list(_stream(rec))[:50]
    for c in chunks:
        writer.append(c)
    # without close(): what a crash would leave
    lines = out.read_text().splitlines()
    assert lines[0] == "t,ax,ay,az,gx,gy,gz"
    assert len(lines) - 1 == sum(len(c) for c in chunks)
    writer.close()


def test_recording_writer_refuses_bad_targets(tmp_path: Path) -> None:
    with pytest.raises(DataValidationError, match="does not exist"):
        RecordingWriter(tmp_path / "nope" / "s.csv", {})
    (tmp_path / "x.csv").write_text("t\n")
    with pytest.raises(DataValidationError, match="never overwritten"):
        RecordingWriter(tmp_path / "x.csv", {})
    with pytest.raises(DataValidationError, match=r"\.csv"):
        RecordingWriter(tmp_path / "x.txt", {})


def test_live_and_whole_array_writers_write_the_same_bytes(rec: SimRecording, tmp_path: Path) -> None:
    live = tmp_path / "live.csv"
    writer = RecordingWriter(live, {"placement": "hip"})
    stored = [writer.append(c) for c in _stream(rec)]
    writer.close()
    whole = write_canonical(tmp_path / "whole.csv", rec.t_s, rec.acc_mps2, rec.gyr_rads)
    assert live.read_bytes() == whole.read_bytes()
    # what append returns is what a reader gets back from the file
    saved = load_canonical(whole)
    np.testing.assert_array_equal(np.concatenate([c.t_s for c in stored]), saved.t_s)
    np.testing.assert_array_equal(np.concatenate([c.acc_mps2 for c in stored]), saved.acc_mps2)
    np.testing.assert_array_equal(np.concatenate([c.gyr_rads for c in stored]), saved.gyr_rads)


def test_row_format() -> None:
    rows = format_rows(np.array([1.5]), np.array([[9.80665, -0.0, 1e-12]]), np.array([[1 / 3, 2.0, -7.25]]))
    assert rows == ["1.500000,9.80665,-0,1e-12,0.333333333,2,-7.25\n"]


def test_write_simulated_writes_the_sidecar_and_the_truth(rec: SimRecording, tmp_path: Path) -> None:
    path = write_simulated(rec, tmp_path / "new" / "sim.csv")
    assert path == tmp_path / "new" / "sim.csv"
    side = (tmp_path / "new" / "sim.json").read_text(encoding="utf-8")
    truth = (tmp_path / "new" / "sim.truth.json").read_text(encoding="utf-8")
    assert side == json.dumps(rec.metadata, indent=2) + "\n"
    assert truth == json.dumps(rec.truth, indent=2) + "\n"
    assert load_canonical(path).metadata == rec.metadata
    write_simulated(rec, path)  # an existing simulated recording is replaced
    assert path.read_text(encoding="utf-8").count("\n") == rec.t_s.size + 1
