"""Shared test set-up: no test ever touches the user's real training history."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _private_history(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point ``IMUREP_DB`` (inherited by CLI subprocesses) at a throw-away database."""
    path = tmp_path_factory.mktemp("history") / "history.sqlite"
    monkeypatch.setenv("IMUREP_DB", str(path))
    return path
