"""Figures of the plot reports: trace decimation and the left–right asymmetry."""

from __future__ import annotations

import numpy as np
import pytest

from imurep.report.stats import asymmetry_pct, decimate_minmax


def _spiky_trace() -> tuple[np.ndarray, np.ndarray]:
    """A noisy sine (100 001 samples) with one spike up and one down at known samples."""
    t = np.linspace(0.0, 100.0, 100_001)
    y = np.sin(t) + 0.05 * np.random.default_rng(7).standard_normal(len(t))
    return t, y


def test_decimation_keeps_extremes() -> None:
    t = np.linspace(0.0, 100.0, 100_001)
    y = np.sin(t) + (t == 50.0) * 5.0
    td, yd = decimate_minmax(t, y, 4000)
    assert len(td) <= 4001 and np.all(np.diff(td) >= 0)
    assert yd.max() == y.max() and yd.min() == y.min()
    # short traces come back unchanged (the same arrays, not copies)
    t_short, y_short = t[:10], y[:10]
    out_t, out_y = decimate_minmax(t_short, y_short, 4000)
    assert out_t is t_short and out_y is y_short


@pytest.mark.parametrize("spikes", [(123, 50_000), (51, 101), (77_777, 99_900)])
def test_decimation_keeps_every_spike_and_only_input_points(spikes: tuple[int, int]) -> None:
    t, y = _spiky_trace()
    up, down = spikes
    y[up] += 7.0
    y[down] -= 7.0
    td, yd = decimate_minmax(t, y, 4000)
    assert 1000 < len(td) <= 4001
    idx = np.searchsorted(t, td)
    np.testing.assert_array_equal(t[idx], td)  # every point is an input sample ...
    np.testing.assert_array_equal(y[idx], yd)  # ... with its own value
    assert up in idx and down in idx
    assert yd.max() == y[up] and yd.min() == y[down]


@pytest.mark.xfail(
    strict=True,
    reason="known bug kept by the behaviour-preserving split: the samples after the last full bin "
    "(up to one bin, 41 of 100 001 here) are dropped except the very last one",
)
def test_decimation_keeps_a_spike_in_the_last_partial_bin() -> None:
    t, y = _spiky_trace()
    y[99_980] += 7.0
    td, yd = decimate_minmax(t, y, 4000)
    assert yd.max() == y[99_980]


def test_asymmetry() -> None:
    assert asymmetry_pct(40.0, 30.0) == pytest.approx(25.0)
    assert asymmetry_pct(30.0, 40.0) == pytest.approx(25.0)
    assert asymmetry_pct(0.0, 0.0) is None and asymmetry_pct(None, 1.0) is None
