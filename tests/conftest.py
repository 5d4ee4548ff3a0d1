"""Shared test set-up: no test ever touches the user's real training history."""

from __future__ import annotations

from pathlib import Path

import pytest

from imurep.core.pipeline import analyze
from imurep.core.settings import AnalysisSettings
from imurep.model.results import SessionResult
from imurep.model.samples import ImuChunk
from imurep.sim import SimSettings, simulate


@pytest.fixture(autouse=True)
def _private_history(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point ``IMUREP_DB`` (inherited by CLI subprocesses) at a throw-away database."""
    path = tmp_path_factory.mktemp("history") / "history.sqlite"
    monkeypatch.setenv("IMUREP_DB", str(path))
    return path


@pytest.fixture(scope="module")
def sim_result() -> SessionResult:
    """Two simulated sets (left, right) analysed with the default settings; no exercise in the metadata."""
    rec = simulate(SimSettings(seed=5, n_sets=2))
    return analyze([ImuChunk(rec.t_s, rec.acc_mps2, rec.gyr_rads)], AnalysisSettings(sides=("left", "right")))
