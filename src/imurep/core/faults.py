"""Form faults of a rep, from its metrics (pure functions)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TypeVar

from imurep.model.codes import FAULTS, LOWERING_PHASE, PHASE_METRIC, PHASE_ORDERS
from imurep.model.errors import SettingsError
from imurep.model.results import RepResult

R = TypeVar("R", bound=RepResult)
"""A rep or a lift (:class:`~imurep.model.results.LiftResult`): judging keeps its type."""


@dataclass(frozen=True)
class FaultSettings:
    """Fault thresholds.

    Attributes
    ----------
    tilt_threshold_deg
        ``hip_tilt`` when the peak pelvis tilt exceeds this, degrees.
    min_eccentric_s
        ``rushed_lowering`` when the lowering is shorter than this, s (the lowering is the
        measured phase :data:`~imurep.model.codes.LOWERING_PHASE` names for ``phase_order``).
    min_top_hold_s
        ``short_hold`` when the squeeze at the top is shorter than this, s.
    partial_rom_fraction
        ``partial_rom`` when ROM is below this fraction of the set's median ROM.
    enabled
        Fault codes that are reported.
    phase_order
        ``"lift_first"`` (hip thrusts, bridges: the rest is at the bottom) or ``"lower_first"``
        (squats and the standing movements: the rest is standing, the movement away from it is the
        lowering); see :data:`~imurep.model.codes.PHASE_ORDERS`.  It decides which measured phase
        ``rushed_lowering`` judges and how the phases are named; every judged rep carries it.
    """

    tilt_threshold_deg: float = 5.0
    min_eccentric_s: float = 1.0
    min_top_hold_s: float = 1.0
    partial_rom_fraction: float = 0.8
    enabled: tuple[str, ...] = FAULTS
    phase_order: str = "lift_first"

    def __post_init__(self) -> None:
        if not self.tilt_threshold_deg > 0:
            raise SettingsError(f"faults.tilt_threshold_deg must be > 0, got {self.tilt_threshold_deg!r}")
        if not self.min_eccentric_s >= 0 or not self.min_top_hold_s >= 0:
            raise SettingsError("faults.min_eccentric_s and faults.min_top_hold_s must be >= 0")
        if not 0 < self.partial_rom_fraction <= 1:
            raise SettingsError(
                f"faults.partial_rom_fraction must be in (0, 1], got {self.partial_rom_fraction!r}"
            )
        object.__setattr__(self, "enabled", tuple(self.enabled))
        unknown = [f for f in self.enabled if f not in FAULTS]
        if unknown:
            raise SettingsError(f"faults.enabled: unknown fault {unknown[0]!r}; known: {', '.join(FAULTS)}")
        if self.phase_order not in PHASE_ORDERS:
            raise SettingsError(
                f"faults.phase_order must be one of {', '.join(PHASE_ORDERS)}, got {self.phase_order!r}"
            )


def rep_faults(
    settings: FaultSettings,
    *,
    eccentric_s: float,
    top_hold_s: float,
    rom_deg: float,
    median_rom_deg: float,
    peak_tilt_deg: float | None,
) -> tuple[str, ...]:
    """Fault codes of one rep, in the order of :data:`imurep.conventions.FAULTS`.

    Parameters
    ----------
    eccentric_s, top_hold_s
        Lowering and turn-hold durations, s (for a lift-first rep the eccentric and the squeeze at
        the top; :func:`judge_rep` passes the phases of ``settings.phase_order``).
    rom_deg, median_rom_deg
        The rep's range of motion and the set's median, degrees.
    peak_tilt_deg
        Largest absolute pelvis tilt in the rep, degrees (None when not measured).
    """
    found = {
        "hip_tilt": peak_tilt_deg is not None and peak_tilt_deg > settings.tilt_threshold_deg,
        "rushed_lowering": eccentric_s < settings.min_eccentric_s,
        "short_hold": top_hold_s < settings.min_top_hold_s,
        "partial_rom": rom_deg < settings.partial_rom_fraction * median_rom_deg,
    }
    return tuple(code for code in FAULTS if found[code] and code in settings.enabled)


def judge_rep(settings: FaultSettings, rep: R, median_rom_deg: float) -> R:
    """``rep`` with its fault codes (:func:`rep_faults` on its metrics and the set's median ROM) and
    the phase order of ``settings`` (how its phases are named)."""
    lowering = PHASE_METRIC[LOWERING_PHASE[settings.phase_order]]
    faults = rep_faults(
        settings,
        eccentric_s=getattr(rep, lowering),
        top_hold_s=rep.top_hold_s,
        rom_deg=rep.rom_deg,
        median_rom_deg=median_rom_deg,
        peak_tilt_deg=rep.peak_tilt_deg,
    )
    return replace(rep, faults=faults, phase_order=settings.phase_order)
