"""Units, frames and display conventions shared by every part of imurep.

Units
    SI inside the library: seconds (``_s``), metres per second squared (``_mps2``), radians per
    second (``_rads``), radians (``_rad``).  Degrees (``_deg``) only in reported metrics.
Frames
    ``sensor``: the IMU's own axes, any mounting.  ``segment``: the body segment carrying the
    sensor (pelvis or thigh); x = medio-lateral (towards the lifter's right), y = antero-posterior
    (anterior), z = longitudinal (cranial for the pelvis, proximal for the thigh).  ``world``:
    z up, x/y horizontal with arbitrary heading (no magnetometer).
Accelerometer
    Specific force, gravity included: a sensor at rest reads +9.81 m/s² on an axis pointing up.
Quaternions
    Scalar-first ``(w, x, y, z)`` when stored as arrays; rotations map sensor -> world.
    :mod:`scipy.spatial.transform` (scalar-last) is used for all conversions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

STANDARD_GRAVITY_MPS2: Final = 9.80665
"""Standard gravity in m/s²."""

DEG_PER_RAD: Final = 57.29577951308232
RAD_PER_DEG: Final = 1.0 / DEG_PER_RAD

CANONICAL_COLUMNS: Final = ("t", "ax", "ay", "az", "gx", "gy", "gz")
"""Header of the canonical recording CSV: time (s), specific force (m/s²), angular rate (rad/s)."""

PLACEMENTS: Final = ("hip", "thigh")
SIDES: Final = ("left", "right")

FAULTS: Final = ("hip_tilt", "rushed_lowering", "short_hold", "partial_rom")
"""Fault codes, in display order."""


@dataclass(frozen=True)
class MetricLabel:
    """Display label and unit of one reported metric (feeds CLI tables, CSV headers, plots)."""

    key: str
    label: str
    unit: str
    fmt: str = ".2f"

    @property
    def header(self) -> str:
        """Column header with the unit, e.g. ``'Concentric (s)'``."""
        return f"{self.label} ({self.unit})" if self.unit else self.label


METRICS: Final[dict[str, MetricLabel]] = {
    m.key: m
    for m in (
        MetricLabel("index", "Rep", "", "d"),
        MetricLabel("start_s", "Start", "s", ".2f"),
        MetricLabel("end_s", "End", "s", ".2f"),
        MetricLabel("concentric_s", "Up", "s", ".2f"),
        MetricLabel("top_hold_s", "Squeeze", "s", ".2f"),
        MetricLabel("eccentric_s", "Down", "s", ".2f"),
        MetricLabel("bottom_pause_s", "Pause", "s", ".2f"),
        MetricLabel("rom_deg", "ROM", "°", ".1f"),
        MetricLabel("peak_tilt_deg", "Tilt", "°", ".1f"),
        MetricLabel("time_under_tension_s", "Time under tension", "s", ".1f"),
        MetricLabel("sample_rate_hz", "Sample rate", "Hz", ".1f"),
    )
}

FAULT_LABELS: Final[dict[str, str]] = {
    "hip_tilt": "hips not level",
    "rushed_lowering": "rushed lowering",
    "short_hold": "short squeeze",
    "partial_rom": "partial range",
}
