"""Codes and display labels: placements, sides, fault and phase codes, metric labels with units.

One table per concern, each defined once; colours live in :mod:`imurep.report.style`, cue texts in
:mod:`imurep.coaching.cues`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

PLACEMENTS: Final = ("hip", "thigh")
"""Where the sensor can sit: the pelvis (``hip``) or the working thigh."""

DEFAULT_PLACEMENT: Final = "hip"
"""The placement when neither the user nor the recording names one."""

SIDES: Final = ("left", "right")

FAULTS: Final = ("hip_tilt", "rushed_lowering", "short_hold", "partial_rom")
"""Fault codes judged by the pipeline (:mod:`imurep.core.faults`), in display order."""

OVER_EXTENSION: Final = "over_extension"
"""Over-extension at the top (hips driven past the straight line, lower back arching): a coaching
observation of :func:`imurep.coaching.advice.over_extended_reps` (a relative criterion), not a
code of :data:`FAULTS`."""

FAULT_LABELS: Final[dict[str, str]] = {
    "hip_tilt": "hips not level",
    "rushed_lowering": "rushed lowering",
    "short_hold": "short squeeze",
    "partial_rom": "partial range",
    OVER_EXTENSION: "over-extension",
}
"""Display label of every fault code and coaching observation."""

PHASES: Final = ("concentric", "top_hold", "eccentric", "bottom_pause")
"""Phases of a rep, in time order (display order of plots)."""

PHASE_ORDERS: Final = ("lift_first", "lower_first")
"""How an exercise's rep begins.  The tracker measures every rep the same way: it leaves the rest
posture (``concentric``), turns (``top_hold``), returns (``eccentric``) and rests
(``bottom_pause``).  ``lift_first``: the rest is at the bottom (hip thrusts and bridges), so the
phases are lifting, squeeze at the top, lowering.  ``lower_first``: the rest is standing at the top
(squats, split squats, step-ups, RDLs), so the same measured phases are lowering, bottom pause,
rising; the boundaries (the 5 %-of-ROM rule and the onset / stop of the movement) are the same."""

PHASE_NAMES: Final[dict[str, dict[str, tuple[str, str, str]]]] = {
    "lift_first": {
        "concentric": ("lifting", "Up", "up"),
        "top_hold": ("squeeze at top", "Squeeze", "hold"),
        "eccentric": ("lowering", "Down", "down"),
        "bottom_pause": ("bottom pause", "Pause", "pause"),
    },
    "lower_first": {
        "concentric": ("lowering", "Down", "down"),
        "top_hold": ("bottom pause", "Bottom", "bottom"),
        "eccentric": ("rising", "Up", "up"),
        "bottom_pause": ("standing pause", "Stand", "stand"),
    },
}
"""Name (in words), short label (tables, plots) and tempo word of each measured phase, per phase
order."""

LOWERING_PHASE: Final[dict[str, str]] = {"lift_first": "eccentric", "lower_first": "concentric"}
"""The measured phase that is the lowering, per phase order (judged by ``rushed_lowering``)."""


def phase_name(phase: str, order: str = "lift_first") -> str:
    """Name of a measured phase in words, e.g. ``phase_name("concentric", "lower_first")`` →
    ``"lowering"``."""
    return PHASE_NAMES[order][phase][0]


def phase_short(phase: str, order: str = "lift_first") -> str:
    """Short label of a measured phase (table columns, plot legends), e.g. ``"Up"``."""
    return PHASE_NAMES[order][phase][1]


def tempo_line(order: str, away_s: float | None, turn_s: float | None, back_s: float | None) -> str:
    """The three phases of a rep in time order, named for ``order`` (a missing value is "—"):
    ``"up 1.1 s · hold 1.2 s · down 2.3 s"`` lifting first, ``"down 1.0 s · bottom 0.2 s · up 0.8 s"``
    lowering first."""
    names = PHASE_NAMES[order]
    values = {"concentric": away_s, "top_hold": turn_s, "eccentric": back_s}
    return " · ".join(f"{names[p][2]} " + ("—" if v is None else f"{v:.1f} s") for p, v in values.items())


PHASE_METRIC: Final[dict[str, str]] = {
    "concentric": "concentric_s",
    "top_hold": "top_hold_s",
    "eccentric": "eccentric_s",
    "bottom_pause": "bottom_pause_s",
}
"""The :data:`METRICS` key of each phase's duration (its label is the phase's display name)."""


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
        # plot labels and units
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
"""Label, unit and number format of every reported metric (CLI tables, JSON views, plots)."""


SensorChoice = Literal["auto", "imurep", "metawear", "polar", "phyphox"]
SENSOR_CHOICES: Final[tuple[SensorChoice, ...]] = ("auto", "imurep", "metawear", "polar", "phyphox")
"""``imurep live --sensor`` choices: identify the kind in a scan, or name it (:mod:`imurep.live.sources`)."""
