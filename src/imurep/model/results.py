"""Results of an analysis: reps, sets, their summaries, data quality and the whole session.

Times are seconds on the recording's own time base, angles degrees (reported metrics).  The JSON
view (schema ``imurep.analysis/1``) is :meth:`SessionResult.to_dict`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from imurep.model.codes import LOWERING_PHASE, PHASE_METRIC, PHASES, phase_name
from imurep.model.samples import FloatArray

if TYPE_CHECKING:  # the settings type only; the model layer imports nothing above it at run time
    from imurep.core.settings import AnalysisSettings


@dataclass(frozen=True)
class RepResult:
    """One rep, its phase boundaries (recording time base, s) and metrics.

    ``rom_deg`` is top angle minus the bottom angle before the rep (degrees, sagittal plane);
    ``peak_tilt_deg`` is the largest absolute pelvis tilt during the rep relative to the set's start
    position (degrees; ``None`` for thigh placement).  ``bottom_pause_s`` is the time from this rep's
    ``end_s`` to the next rep's ``start_s`` (``None`` for the last rep of a set).
    """

    index: int
    start_s: float
    top_start_s: float
    top_end_s: float
    end_s: float
    rom_deg: float
    peak_tilt_deg: float | None
    faults: tuple[str, ...] = ()
    bottom_pause_s: float | None = None
    bottom_deg: float | None = None
    """Sagittal angle at the bottom before the rep, degrees, on the scale of :class:`SetTrace`."""
    top_deg: float | None = None
    """Highest sagittal angle of the rep, degrees, on the scale of :class:`SetTrace`."""
    side: str | None = None
    """The lifted side of a leg lift (:class:`LiftResult`); None for reps."""
    confidence: float = 1.0
    """How sure the analysis is that this is one rep, 0..1 (below 0.5: marked as uncertain); the
    weakest of its range against the set's median, its rotation about one axis, its axis' agreement
    with the set's, impacts and how it ended (:mod:`imurep.core.tracking.reps`)."""
    phase_order: str = "lift_first"
    """How the measured phases are named (:data:`~imurep.model.codes.PHASE_ORDERS`): for
    ``"lower_first"`` (squats) the movement away from rest (``concentric_s``) is the lowering, the
    turn (``top_hold_s``) the pause at the bottom and the return (``eccentric_s``) the rising."""

    @property
    def concentric_s(self) -> float:
        """Time moving away from the rest posture, s (lift-first: lifting; lower-first: lowering)."""
        return self.top_start_s - self.start_s

    @property
    def top_hold_s(self) -> float:
        """Time at the turn, s (lift-first: squeeze at the top; lower-first: pause at the bottom)."""
        return self.top_end_s - self.top_start_s

    @property
    def eccentric_s(self) -> float:
        """Time returning to the rest posture, s (lift-first: lowering; lower-first: rising)."""
        return self.end_s - self.top_end_s

    @property
    def lowering_s(self) -> float:
        """Lowering time, s, whichever measured phase it is (see :attr:`phase_order`)."""
        return float(getattr(self, PHASE_METRIC[LOWERING_PHASE[self.phase_order]]))

    @property
    def lifting_s(self) -> float:
        """Lifting (rising) time, s, whichever measured phase it is (see :attr:`phase_order`)."""
        other = "concentric" if LOWERING_PHASE[self.phase_order] == "eccentric" else "eccentric"
        return float(getattr(self, PHASE_METRIC[other]))

    def phases(self) -> list[dict[str, Any]]:
        """The rep's phases in time order, named for its phase order: ``{"phase", "name",
        "start_s", "end_s"}`` each (s; the pause after the rep is not part of the rep)."""
        bounds = (self.start_s, self.top_start_s, self.top_end_s, self.end_s)
        return [
            {"phase": p, "name": phase_name(p, self.phase_order), "start_s": a, "end_s": b}
            for p, a, b in zip(PHASES[:3], bounds[:-1], bounds[1:], strict=True)
        ]

    @property
    def duration_s(self) -> float:
        """Time under tension of this rep, s."""
        return self.end_s - self.start_s

    def to_dict(self) -> dict[str, Any]:
        """JSON view (schema ``imurep.analysis/1``)."""
        return {
            "index": self.index,
            "start_s": self.start_s,
            "top_start_s": self.top_start_s,
            "top_end_s": self.top_end_s,
            "end_s": self.end_s,
            "concentric_s": self.concentric_s,
            "top_hold_s": self.top_hold_s,
            "eccentric_s": self.eccentric_s,
            "bottom_pause_s": self.bottom_pause_s,
            "rom_deg": self.rom_deg,
            "peak_tilt_deg": self.peak_tilt_deg,
            "bottom_deg": self.bottom_deg,
            "top_deg": self.top_deg,
            "side": self.side,
            "confidence": self.confidence,
            "faults": list(self.faults),
            "phase_order": self.phase_order,
            "lowering_s": self.lowering_s,
            "lifting_s": self.lifting_s,
            "phases": self.phases(),
        }


@dataclass(frozen=True)
class LiftResult(RepResult):
    """One leg lift of a glute bridge with leg lift (:mod:`imurep.core.tracking.lifts`).

    The phases are those of :class:`RepResult` (lift, foot held up, set down, pause); the lift's
    own quantities are named explicitly here.  In the JSON view (schema ``imurep.analysis/1``) a
    lift is written as a rep: ``rom_deg`` carries :attr:`bridge_height_deg` (sensor on the pelvis)
    or :attr:`thigh_flexion_deg` (sensor on a thigh), ``peak_tilt_deg`` carries
    :attr:`pelvic_motion_deg`, and ``side`` is the lifted side.
    """

    bridge_height_deg: float | None = None
    """Sagittal angle of the pelvis above its floor posture during the lift, degrees (pelvis)."""
    pelvic_motion_deg: float | None = None
    """Peak pelvic rotation and side-bend together during the lift, degrees (pelvis)."""
    thigh_flexion_deg: float | None = None
    """Flexion of the lifted thigh from the bridge posture, degrees (sensor on that thigh)."""


def _mean(values: list[float]) -> float | None:
    return float(np.mean(values)) if values else None


@dataclass(frozen=True)
class SetSummary:
    """Aggregates over the reps of one set (times in s, angles in degrees)."""

    reps: int
    time_under_tension_s: float
    mean_concentric_s: float | None
    mean_top_hold_s: float | None
    mean_eccentric_s: float | None
    mean_rom_deg: float | None
    max_peak_tilt_deg: float | None
    fault_counts: dict[str, int]
    clean_reps: int
    reps_by_side: dict[str, int] = field(default_factory=dict)
    """Leg lifts per lifted side (empty for reps)."""

    @classmethod
    def from_reps(cls, reps: tuple[RepResult, ...], fault_codes: tuple[str, ...]) -> SetSummary:
        """Summarise ``reps``; ``fault_codes`` lists every fault code (all appear in the counts)."""
        tilts = [r.peak_tilt_deg for r in reps if r.peak_tilt_deg is not None]
        return cls(
            reps=len(reps),
            time_under_tension_s=float(sum(r.duration_s for r in reps)),
            mean_concentric_s=_mean([r.concentric_s for r in reps]),
            mean_top_hold_s=_mean([r.top_hold_s for r in reps]),
            mean_eccentric_s=_mean([r.eccentric_s for r in reps]),
            mean_rom_deg=_mean([r.rom_deg for r in reps]),
            max_peak_tilt_deg=float(max(tilts)) if tilts else None,
            fault_counts={code: sum(code in r.faults for r in reps) for code in fault_codes},
            clean_reps=sum(not r.faults for r in reps),
            reps_by_side={
                side: sum(r.side == side for r in reps)
                for side in sorted({r.side for r in reps if r.side is not None})
            },
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON view."""
        return {
            "reps": self.reps,
            "clean_reps": self.clean_reps,
            "time_under_tension_s": self.time_under_tension_s,
            "mean_concentric_s": self.mean_concentric_s,
            "mean_top_hold_s": self.mean_top_hold_s,
            "mean_eccentric_s": self.mean_eccentric_s,
            "mean_rom_deg": self.mean_rom_deg,
            "max_peak_tilt_deg": self.max_peak_tilt_deg,
            "fault_counts": dict(self.fault_counts),
            "reps_by_side": dict(self.reps_by_side),
        }


@dataclass(frozen=True, eq=False)
class SetTrace:
    """The angles of one set over time, for plots.

    Attributes
    ----------
    t_s
        Sample times, shape ``(n,)``, s, recording time base.
    sagittal_deg
        Sagittal angle relative to the set's start position, shape ``(n,)``, degrees, increasing
        as the hips rise.
    tilt_deg
        Pelvis tilt relative to the start position, shape ``(n,)``, degrees (None for thigh).
    """

    t_s: FloatArray
    sagittal_deg: FloatArray
    tilt_deg: FloatArray | None = None


@dataclass(frozen=True)
class SetResult:
    """One set: its time span (s, recording time base), its reps and their summary."""

    index: int
    side: str | None
    start_s: float
    end_s: float
    reps: tuple[RepResult, ...]
    summary: SetSummary
    baseline_source: str = "start_position"
    """Where the tilt reference came from: ``"start_position"`` or ``"first_rep_bottom"``."""
    trace: SetTrace | None = field(default=None, compare=False, repr=False)
    """Angles over time (not part of the JSON view)."""
    confidence: float = 1.0
    """How sure the analysis is of this set's count, 0..1: the median of its reps' confidence,
    lowered for a set of two reps."""
    mounting_changes_s: tuple[float, ...] = ()
    """Start times of the reps from which the sensor sat differently on the body (the strap slipped
    or was adjusted): frame and tilt reference were re-learned there, s."""

    @property
    def phase_order(self) -> str:
        """How the phases of the set's reps are named (that of its reps; ``"lift_first"`` without
        reps)."""
        return self.reps[0].phase_order if self.reps else "lift_first"

    def to_dict(self) -> dict[str, Any]:
        """JSON view."""
        return {
            "index": self.index,
            "side": self.side,
            "phase_order": self.phase_order,
            "start_s": self.start_s,
            "end_s": self.end_s,
            "tilt_baseline": self.baseline_source,
            "confidence": self.confidence,
            "mounting_changes_s": list(self.mounting_changes_s),
            "reps": [r.to_dict() for r in self.reps],
            "summary": self.summary.to_dict(),
        }


@dataclass(frozen=True)
class DataQuality:
    """What the input looked like: sample count, achieved rate, gaps, stillness found."""

    n_samples: int
    duration_s: float
    sample_rate_hz: float
    n_gaps: int
    gap_total_s: float
    still_fraction: float
    nominal_rate_hz: float | None = None
    """The rate the device or the recording stated, Hz (None: not stated)."""
    rate_source: str = "estimated"
    """What the stages were tuned to: ``"nominal"`` (the stated rate) or ``"estimated"`` (from the
    first samples of the stream)."""

    def to_dict(self) -> dict[str, Any]:
        """JSON view."""
        return {
            "n_samples": self.n_samples,
            "duration_s": self.duration_s,
            "sample_rate_hz": self.sample_rate_hz,
            "n_gaps": self.n_gaps,
            "gap_total_s": self.gap_total_s,
            "still_fraction": self.still_fraction,
            "nominal_rate_hz": self.nominal_rate_hz,
            "rate_source": self.rate_source,
        }


ANALYSIS_SCHEMA = "imurep.analysis/1"


@dataclass(frozen=True)
class SessionResult:
    """The analysis of a whole recording.

    Built in one place, :meth:`imurep.core.pipeline.Pipeline.result`, for offline and live alike.
    ``settings`` are the resolved settings the analysis ran with (typed; their JSON view is
    :meth:`~imurep.core.settings.AnalysisSettings.to_dict`).
    """

    source: str
    placement: str
    sample_rate_hz: float
    settings: AnalysisSettings
    sets: tuple[SetResult, ...]
    quality: DataQuality
    metadata: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON view, schema ``imurep.analysis/1``."""
        return {
            "schema": ANALYSIS_SCHEMA,
            "source": self.source,
            "sample_rate_hz": self.sample_rate_hz,
            "placement": self.placement,
            "settings": self.settings.to_dict(),
            "quality": self.quality.to_dict(),
            "metadata": self.metadata,
            "sets": [s.to_dict() for s in self.sets],
        }
