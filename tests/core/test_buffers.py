"""SampleBuffer: absolute indices survive growth and trimming; views are exact."""

from __future__ import annotations

import numpy as np

from imurep.core.buffers import SampleBuffer


def _rows(a: int, b: int) -> np.ndarray:
    i = np.arange(a, b, dtype=np.float64)
    return np.column_stack((i * 0.01, i, -i))


def test_absolute_indices_survive_growth_and_dropping() -> None:
    buf = SampleBuffer(3, capacity=16)
    n = 0
    for k in (5, 20, 1, 100, 37):  # forces several reallocations
        buf.append(_rows(n, n + k))
        n += k
    assert buf.end_index == n and len(buf) == n
    assert np.array_equal(buf.view(10, 13)[:, 1], [10, 11, 12])
    buf.drop_before(50)
    assert buf.first_index == 50 and len(buf) == n - 50
    assert np.array_equal(buf.view(49, 52)[:, 1], [50, 51])  # clipped to what is kept
    buf.append(_rows(n, n + 400))
    assert np.array_equal(buf.view(n - 1, n + 2)[:, 1], [n - 1, n, n + 1])
    assert buf.view(n + 1000, n + 1001).shape == (0, 3)


def test_drop_older_than_keeps_the_protected_tail() -> None:
    buf = SampleBuffer(3)
    buf.append(_rows(0, 1000))  # t = 0 .. 9.99 s
    buf.drop_older_than(5.0, keep_from=300)
    assert buf.first_index == 300  # protected from index 300 on
    buf.drop_older_than(5.0)
    assert buf.first_index == 500 and float(buf.view()[0, 0]) == 5.0
    buf.drop_older_than(100.0)
    assert len(buf) == 0 and buf.end_index == 1000
    buf.drop_older_than(200.0)  # empty: nothing to do
    assert buf.end_index == 1000


def test_memory_stays_bounded_when_trimmed_continuously() -> None:
    buf = SampleBuffer(3, capacity=64)
    for k in range(2000):
        buf.append(_rows(10 * k, 10 * k + 10))
        buf.drop_before(buf.end_index - 100)
    assert len(buf) == 100
    assert buf._data.shape[0] <= 1024  # noqa: SLF001 - the storage does not grow with the stream
