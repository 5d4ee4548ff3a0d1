"""The pipeline's first-order filter and small numeric helpers against the SciPy / numpy calls they
replace: bit for bit, on random data, in one call and in chunks (the state carries over)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.signal import lfilter

from imurep.core.filters import first_order
from imurep.core.metrics import mean_1d, median, median_interval, unit


def _coeffs(rate_hz: float) -> tuple[float, float]:
    b0 = 1.0 - math.exp(-2.0 * math.pi * 0.5 / rate_hz)
    return b0, b0 - 1.0


@pytest.mark.parametrize("rate_hz", [25.0, 104.0, 400.0])
def test_first_order_is_scipy_lfilter_bit_for_bit(rate_hz: float) -> None:
    rng = np.random.default_rng(int(rate_hz))
    x = rng.normal(size=(5000, 3)) * rng.choice([1e-3, 1.0, 50.0], size=(5000, 1)) + 9.8
    b0, a1 = _coeffs(rate_hz)
    zi = ((1.0 - b0) * x[0]).reshape(1, 3)
    ref, ref_zf = lfilter([b0], [1.0, a1], x, axis=0, zi=zi)
    y, zf = first_order(b0, a1, x, zi)
    assert y.shape == ref.shape and zf.shape == ref_zf.shape
    assert np.array_equal(y, ref) and np.array_equal(zf, ref_zf)
    # chunked: the state carries over exactly
    parts, z = [], zi
    for piece in np.array_split(x, [1, 7, 1000, 1001, 4000]):
        yp, z = first_order(b0, a1, piece, z)
        parts.append(yp)
    assert np.array_equal(np.concatenate(parts), ref) and np.array_equal(z, ref_zf)


def test_first_order_one_dimensional_and_non_finite_input() -> None:
    rng = np.random.default_rng(7)
    b0, a1 = _coeffs(200.0)
    x = np.abs(rng.normal(size=2000))
    ref, ref_zf = lfilter([b0], [1.0, a1], x, zi=np.zeros(1))
    y, zf = first_order(b0, a1, x, np.zeros(1))
    assert np.array_equal(y, ref) and np.array_equal(zf, ref_zf)
    x[[100, 900]] = [np.inf, np.nan]
    ref, ref_zf = lfilter([b0], [1.0, a1], x, zi=np.zeros(1))
    y, zf = first_order(b0, a1, x, np.zeros(1))
    assert np.array_equal(y, ref, equal_nan=True) and np.array_equal(zf, ref_zf, equal_nan=True)
    empty, z_empty = first_order(b0, a1, np.empty(0), np.full(1, 0.5))
    assert empty.shape == (0,) and z_empty.tolist() == [0.5]


def test_unit_and_median_match_numpy_bit_for_bit() -> None:
    rng = np.random.default_rng(3)
    vs = rng.normal(size=(20000, 3)) * rng.choice([1e-6, 1.0, 1e3], size=(20000, 1))
    for v in vs:
        n = np.linalg.norm(v, axis=-1, keepdims=True)
        assert np.array_equal(unit(v), v / np.where(n > 0, n, 1.0))
    assert unit(np.zeros(3)).tolist() == [0.0, 0.0, 0.0]
    for n in (1, 2, 3, 10, 25, 26):
        for _ in range(200):
            x = rng.normal(size=n) * 10 ** rng.uniform(-3, 3)
            assert median(x) == float(np.median(x))
    assert math.isnan(median(np.array([1.0, np.nan, 2.0]))) and math.isnan(median(np.empty(0)))


def test_mean_and_median_interval_match_numpy_bit_for_bit() -> None:
    rng = np.random.default_rng(4)
    for n in (1, 2, 3, 9, 10, 17, 26, 130):
        for _ in range(200):
            rows = rng.normal(size=(n, 12)) * 10 ** rng.uniform(-3, 3)
            x = rows[:, 10]  # a strided column, as the trackers pass them
            assert mean_1d(x) == float(np.mean(x))
            t = np.cumsum(rng.uniform(0.001, 0.02, size=n)) + rng.uniform(0, 1e4)
            expected = float(np.median(np.diff(t))) if n > 1 else 1.0
            assert median_interval(t.tolist()) == expected
    assert math.isnan(mean_1d(np.array([1.0, np.nan])))
