"""A growable, front-trimmable numpy buffer used to keep recent samples for the stages."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray


class SampleBuffer:
    """Append-only row buffer with cheap dropping of old rows.

    Rows are addressed by an absolute, ever-increasing sample index, so positions stay valid when
    old rows are dropped.

    Parameters
    ----------
    width
        Number of float64 columns per row.
    """

    def __init__(self, width: int, capacity: int = 4096) -> None:
        self._data = np.empty((max(capacity, 16), width), dtype=np.float64)
        self._start = 0  # row of the oldest kept sample in _data
        self._stop = 0  # one past the newest
        self.first_index = 0
        """Absolute index of the oldest kept row."""

    @property
    def end_index(self) -> int:
        """Absolute index one past the newest row."""
        return self.first_index + (self._stop - self._start)

    def __len__(self) -> int:
        return self._stop - self._start

    def append(self, rows: NDArray[np.float64]) -> None:
        """Append rows of shape ``(k, width)``."""
        k = rows.shape[0]
        if self._stop + k > self._data.shape[0]:
            n = self._stop - self._start
            cap = self._data.shape[0]
            if n + k > cap // 2:
                cap = max(2 * (n + k), cap)
            new = np.empty((cap, self._data.shape[1]), dtype=np.float64)
            new[:n] = self._data[self._start : self._stop]
            self._data, self._start, self._stop = new, 0, n
        self._data[self._stop : self._stop + k] = rows
        self._stop += k

    def drop_before(self, index: int) -> None:
        """Forget rows with absolute index < ``index``."""
        k = min(max(index - self.first_index, 0), len(self))
        self._start += k
        self.first_index += k

    def drop_older_than(self, t_min: float, *, keep_from: int | None = None, time_col: int = 0) -> None:
        """Forget rows whose time (column ``time_col``, increasing) is below ``t_min``, but none
        from absolute index ``keep_from`` on."""
        v = self.view()
        if not v.shape[0]:
            return
        index = self.first_index + int(np.searchsorted(v[:, time_col], t_min))
        self.drop_before(index if keep_from is None else min(index, keep_from))

    def view(self, start: int | None = None, stop: int | None = None) -> NDArray[np.float64]:
        """Rows with absolute indices ``start:stop`` (clipped to what is kept); a view, do not keep."""
        first = self.first_index
        end = first + (self._stop - self._start)
        lo = first if start is None or start < first else start
        hi = end if stop is None or stop > end else stop
        if hi < lo:
            hi = lo
        return self._data[self._start + lo - first : self._start + hi - first]
