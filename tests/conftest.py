"""Shared test set-up: no test ever touches the user's real training history; shared results."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest

from imurep import sim
from imurep.core.faults import FaultSettings
from imurep.core.pipeline import analyze
from imurep.core.settings import AnalysisSettings
from imurep.model.codes import FAULTS
from imurep.model.results import DataQuality, RepResult, SessionResult, SetResult, SetSummary
from imurep.model.samples import ImuChunk

if TYPE_CHECKING:
    from imurep.report.render import ReportPage
from imurep.sim import SimSettings, simulate


@pytest.fixture(autouse=True)
def _private_history(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point ``IMUREP_DB`` (inherited by CLI subprocesses) at a throw-away database."""
    path = tmp_path_factory.mktemp("history") / "history.sqlite"
    monkeypatch.setenv("IMUREP_DB", str(path))
    return path


# --- a hand-made result (JSON and table views) ---------------------------------------------------


def _make_result(n_sets: int = 2, reps_per_set: int = 3) -> SessionResult:
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


@pytest.fixture
def make_result() -> Callable[..., SessionResult]:
    """Builder of a hand-made hip result: ``make_result(n_sets=2, reps_per_set=3)``.

    Set 1 is left, set 2 side unknown; rep 3 of each set has a tilt and a rushed lowering; every
    rep but the last has a bottom pause; one gap in the data.
    """
    return _make_result


# --- a simulated hip session with every fault (plot reports) --------------------------------------


@pytest.fixture(scope="session")
def hip_rec() -> sim.SimRecording:
    """A simulated hip recording: two sets (left, right), faults in 30 % of the reps."""
    return sim.simulate(sim.SimSettings(seed=101, placement="hip", fault_probability=0.3))


@pytest.fixture(scope="session")
def hip_session(hip_rec: sim.SimRecording) -> SessionResult:
    """The analysis of :func:`hip_rec`: two sets (left, right) with every fault type present."""
    chunk = ImuChunk(hip_rec.t_s, hip_rec.acc_mps2, hip_rec.gyr_rads)
    result = analyze([chunk], AnalysisSettings(placement="hip", sides=("left", "right")), source="sim.csv")
    assert len(result.sets) == 2
    for code in FAULTS:
        assert any(code in r.faults for s in result.sets for r in s.reps), code
    return result


@pytest.fixture(scope="session")
def hip_pages(hip_session: SessionResult) -> list[ReportPage]:
    """The report pages of :func:`hip_session` (session page first, then one per set)."""
    from imurep.report.render import build_pages

    return build_pages(hip_session)


@pytest.fixture(scope="module")
def sim_result() -> SessionResult:
    """Two simulated sets (left, right) analysed with the default settings; no exercise in the metadata."""
    rec = simulate(SimSettings(seed=5, n_sets=2))
    return analyze([ImuChunk(rec.t_s, rec.acc_mps2, rec.gyr_rads)], AnalysisSettings(sides=("left", "right")))


# --- small one-set recordings on disk (API, export and batch tests) -------------------------------


@pytest.fixture(scope="session")
def small_recordings(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Three simulated one-set hip recordings (CSV + sidecar, ~35 s at 104 Hz each) in one folder:
    ``s1.csv`` (left), ``s2.csv`` (right, its sidecar states ``started_unix_s``), ``s3.csv``."""
    import json

    from imurep.io.canonical import write_simulated

    folder = tmp_path_factory.mktemp("small")
    paths = []
    for k, side in enumerate(("left", "right", "left"), start=1):
        rec = simulate(
            SimSettings(seed=40 + k, n_sets=1, reps_per_set=(4, 5), pre_activity=False, sides=(side,))
        )
        path = write_simulated(rec, folder / f"s{k}.csv")
        (folder / f"s{k}.truth.json").unlink()
        paths.append(path)
    sidecar = folder / "s2.json"
    meta = json.loads(sidecar.read_text())
    meta["started_unix_s"] = 1767225600.25  # 2026-01-01T00:00:00.25Z
    sidecar.write_text(json.dumps(meta))
    return paths
