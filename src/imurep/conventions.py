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

# --- display: colours and labels of plots (reports) ---------------------------------------------

PHASES: Final = ("concentric", "top_hold", "eccentric", "bottom_pause")
"""Phases of a rep, in time order (display order of plots)."""

PHASE_METRIC: Final[dict[str, str]] = {
    "concentric": "concentric_s",
    "top_hold": "top_hold_s",
    "eccentric": "eccentric_s",
    "bottom_pause": "bottom_pause_s",
}
"""The :data:`METRICS` key of each phase's duration (its label is the phase's display name)."""

PHASE_COLORS: Final[dict[str, str]] = {
    "concentric": "#4C9BE8",  # Up: blue
    "top_hold": "#3BB273",  # Squeeze: green
    "eccentric": "#F0A030",  # Down: amber
    "bottom_pause": "#BDBDBD",  # Pause: grey
}
"""One colour per phase, used by every plot (shading, stacked tempo bars)."""

FAULT_COLORS: Final[dict[str, str]] = {
    "hip_tilt": "#D62728",  # red
    "rushed_lowering": "#7B3FA0",  # purple
    "short_hold": "#C2185B",  # magenta
    "partial_rom": "#6D4C41",  # brown
}
"""One colour per fault code, used by every plot (markers, highlighted bars and table cells)."""

FAULT_MARKERS: Final[dict[str, str]] = {
    "hip_tilt": "X",
    "rushed_lowering": "v",
    "short_hold": "D",
    "partial_rom": "^",
}
"""Matplotlib marker of each fault code."""

SIDE_COLORS: Final[dict[str, str]] = {"left": "#3366AA", "right": "#AA3377", "unknown": "#777777"}
"""Colour of each working side in left-vs-right plots."""

METRICS.update(
    {
        m.key: m
        for m in (
            MetricLabel("sagittal_deg", "Sagittal angle", "°", ".1f"),
            MetricLabel("tilt_deg", "Pelvis tilt", "°", ".1f"),
            MetricLabel("time_in_set_s", "Time from set start", "s", ".1f"),
            MetricLabel("clean_reps", "Clean reps", "", "d"),
            MetricLabel("reps", "Reps", "", "d"),
            MetricLabel("duration_s", "Duration", "s", ".1f"),
            MetricLabel("n_samples", "Samples", "", ",d"),
            MetricLabel("n_gaps", "Gaps", "", "d"),
            MetricLabel("gap_total_s", "Time in gaps", "s", ".2f"),
            MetricLabel("still_fraction", "Calibration stillness", "%", ".0f"),
            MetricLabel("asymmetry_pct", "Asymmetry", "%", ".0f"),
        )
    }
)
"""Plot labels and units (added to the same table that feeds the CLI tables)."""

FAULT_CUES: Final[dict[str, str]] = {
    "hip_tilt": "brace the core, squeeze both glutes and keep the hips level",
    "rushed_lowering": "lower under control, for a slow count of two",
    "short_hold": "squeeze the glutes for about a second at the top",
    "partial_rom": "drive up until shoulders, hips and knee form a straight line",
}
"""Short coaching cue for each fault, shown live, in tables and in reports."""

# --- coaching observations (not pipeline faults: judged by imurep.coaching) -----------------------

FAULT_LABELS["over_extension"] = "over-extension"
FAULT_CUES["over_extension"] = "ribs down: stop when hips line up with knees and shoulders"
"""Over-extension at the top (hips driven past the straight line, lower back arching) is a
coaching observation of :func:`imurep.coaching.over_extended_reps` (a relative criterion), not a
code of :data:`FAULTS`."""
