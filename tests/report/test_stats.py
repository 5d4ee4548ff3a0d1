"""Figures of the plot reports: trace decimation and the left–right asymmetry."""

from __future__ import annotations

import numpy as np
import pytest

from imurep.report.stats import asymmetry_pct, decimate_minmax


def test_decimation_keeps_extremes() -> None:
    t = np.linspace(0.0, 100.0, 100_001)
    y = np.sin(t) + (t == 50.0) * 5.0
    td, yd = decimate_minmax(t, y, 4000)
    assert len(td) <= 4001 and np.all(np.diff(td) >= 0)
    assert yd.max() == y.max() and yd.min() == y.min()
    assert decimate_minmax(t[:10], y[:10], 4000)[0] is t[:10] or len(t[:10]) == 10


def test_asymmetry() -> None:
    assert asymmetry_pct(40.0, 30.0) == pytest.approx(25.0)
    assert asymmetry_pct(30.0, 40.0) == pytest.approx(25.0)
    assert asymmetry_pct(0.0, 0.0) is None and asymmetry_pct(None, 1.0) is None
