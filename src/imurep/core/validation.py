"""Checks on the samples themselves, shared by every way data enters the analysis (the file
loaders of :mod:`imurep.io` after their unit conversions, and :class:`imurep.core.pipeline.Pipeline`
for the Python API and live streams), so that the CLI and the API refuse the same data."""

from __future__ import annotations

from typing import Final

import numpy as np

from imurep.model.errors import DataValidationError
from imurep.model.samples import FloatArray

GRAVITY_BAND_MPS2: Final = (4.0, 20.0)
"""Median specific-force magnitude accepted, m/s² (≈ 9.81 at rest and during most movement)."""


def check_gravity(acc_mps2: FloatArray, where: str | None = None, label: str = "accelerometer") -> float:
    """Refuse an accelerometer whose median magnitude is not that of gravity.

    Parameters
    ----------
    acc_mps2
        Specific force, shape ``(n, 3)``, m/s², sensor frame.
    where
        The file, for the message.

    Returns
    -------
    float
        The median magnitude, m/s².

    Raises
    ------
    DataValidationError
        Gravity-free (linear) acceleration, all zeros, or a magnitude in another unit.
    """
    m = float(np.median(np.linalg.norm(acc_mps2, axis=1))) if acc_mps2.shape[0] else 0.0
    lo, hi = GRAVITY_BAND_MPS2
    if m < 0.4:
        raise DataValidationError(
            f"the {label} has a median magnitude of {m:.3g}, not ≈ 9.81 m/s² (or 1 g): it looks like "
            "gravity-free linear acceleration, from which the sensor's tilt cannot be recovered — "
            "export the accelerometer *with* gravity (or add the gravity stream)",
            path=where,
        )
    if not lo <= m <= hi:
        raise DataValidationError(
            f"the {label} has a median magnitude of {m:.3g}, which is neither ≈ 9.81 (m/s²) nor "
            "≈ 1 (g); check that the columns hold the accelerometer (specific force with gravity) "
            "and their unit",
            path=where,
        )
    return m
