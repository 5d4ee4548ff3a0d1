"""Input samples: the :class:`ImuChunk` every source yields and the pipeline consumes.

All arrays are float64 numpy arrays.  Shapes and finiteness are checked once, at construction.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from imurep.model.errors import DataValidationError

FloatArray = NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class ImuChunk:
    """A run of consecutive IMU samples.

    Parameters
    ----------
    t_s
        Sample times, shape ``(n,)``, seconds, strictly increasing, any origin.
    acc_mps2
        Specific force (gravity included), shape ``(n, 3)``, m/s², sensor frame.
    gyr_rads
        Angular rate, shape ``(n, 3)``, rad/s, sensor frame.
    frame
        Name of the frame the vectors are expressed in (always ``"sensor"`` for raw data).
    """

    t_s: FloatArray
    acc_mps2: FloatArray
    gyr_rads: FloatArray
    frame: str = "sensor"

    def __post_init__(self) -> None:
        t = np.ascontiguousarray(self.t_s, dtype=np.float64)
        acc = np.ascontiguousarray(self.acc_mps2, dtype=np.float64)
        gyr = np.ascontiguousarray(self.gyr_rads, dtype=np.float64)
        if t.ndim != 1:
            raise DataValidationError(f"t_s must have shape (n,), got {t.shape}")
        n = t.shape[0]
        for name, arr in (("acc_mps2", acc), ("gyr_rads", gyr)):
            if arr.shape != (n, 3):
                raise DataValidationError(f"{name} must have shape ({n}, 3), got {arr.shape}")
        for name, arr in (("t_s", t), ("acc_mps2", acc), ("gyr_rads", gyr)):
            if not np.isfinite(arr).all():
                bad = int(np.argwhere(~np.isfinite(arr.reshape(n, -1)))[0][0]) if n else 0
                raise DataValidationError(f"{name} holds NaN or infinite values (sample {bad})")
        if n > 1 and not (np.diff(t) > 0).all():
            bad = int(np.argmax(np.diff(t) <= 0)) + 1
            raise DataValidationError(
                f"t_s must be strictly increasing; sample {bad} is at {t[bad]!r} s after {t[bad - 1]!r} s"
            )
        object.__setattr__(self, "t_s", t)
        object.__setattr__(self, "acc_mps2", acc)
        object.__setattr__(self, "gyr_rads", gyr)

    def __len__(self) -> int:
        return int(self.t_s.shape[0])

    def slice(self, start: int, stop: int) -> ImuChunk:
        """Samples ``start:stop`` as a new chunk (views, no copy)."""
        return ImuChunk(
            self.t_s[start:stop], self.acc_mps2[start:stop], self.gyr_rads[start:stop], self.frame
        )
