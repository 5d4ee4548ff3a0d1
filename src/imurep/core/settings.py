"""Analysis settings: every value that decides an analysis, typed, validated and serialisable.

:class:`AnalysisSettings` nests one frozen settings dataclass per stage; :func:`resolve` is the one
place where the layers (defaults < sidecar < exercise profile < ``--config`` < ``--set`` < flags)
are combined.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, is_dataclass, replace
from typing import Any

from imurep.core.calibration import CalibrationSettings
from imurep.core.faults import FaultSettings
from imurep.core.orientation import OrientationSettings
from imurep.core.tracking.lifts import LiftSettings
from imurep.core.tracking.rep_settings import SegmentationSettings
from imurep.model.codes import PLACEMENTS, SIDES
from imurep.model.errors import SettingsError

MODES = ("reps", "leg_lift")
"""What is counted: reps, or leg lifts during a held bridge."""


@dataclass(frozen=True)
class AnalysisSettings:
    """Everything that decides an analysis; saved in every result so it can be reproduced.

    Attributes
    ----------
    placement
        Segment carrying the sensor: ``"hip"`` (pelvis) or ``"thigh"``.
    mode
        ``"reps"`` (the movement is the rep: :mod:`imurep.segmentation`) or ``"leg_lift"`` (a held
        bridge whose leg lifts are counted: :mod:`imurep.lifts`).
    sides
        Working side of each set in order (the last one repeats for further sets); empty = unknown.
    hop_s
        Block length of the time grid the stages run on, s.
    acc_highpass_hz
        Corner of the low-pass whose residual is the "high-frequency acceleration" (impacts), Hz.
    speed_time_constant_s
        Time constant of the smoothing of the angular speed that decides "quiet" (soft-tissue
        wobble must not count as rest), s.
    """

    placement: str = "hip"
    mode: str = "reps"
    sides: tuple[str, ...] = ()
    hop_s: float = 0.05
    acc_highpass_hz: float = 3.0
    speed_time_constant_s: float = 0.1
    calibration: CalibrationSettings = field(default_factory=CalibrationSettings)
    orientation: OrientationSettings = field(default_factory=OrientationSettings)
    segmentation: SegmentationSettings = field(default_factory=SegmentationSettings)
    faults: FaultSettings = field(default_factory=FaultSettings)
    lifts: LiftSettings = field(default_factory=LiftSettings)

    def __post_init__(self) -> None:
        if self.placement not in PLACEMENTS:
            raise SettingsError(f"placement must be one of {', '.join(PLACEMENTS)}, got {self.placement!r}")
        if self.mode not in MODES:
            raise SettingsError(f"mode must be one of {', '.join(MODES)}, got {self.mode!r}")
        object.__setattr__(self, "sides", tuple(self.sides))
        for side in self.sides:
            if side not in SIDES:
                raise SettingsError(f"side must be one of {', '.join(SIDES)}, got {side!r}")
        if not 0.005 <= self.hop_s <= 1.0:
            raise SettingsError(f"hop_s must be in [0.005, 1] s, got {self.hop_s!r}")
        if not 0 < self.speed_time_constant_s <= 2:
            raise SettingsError(
                f"speed_time_constant_s must be in (0, 2] s, got {self.speed_time_constant_s!r}"
            )
        if not 0 < self.acc_highpass_hz < 50:
            raise SettingsError(f"acc_highpass_hz must be in (0, 50) Hz, got {self.acc_highpass_hz!r}")

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON view (tuples become lists)."""
        d = asdict(self)
        return _jsonable(d)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> AnalysisSettings:
        """Build from a (possibly partial) dict as produced by :meth:`to_dict`.

        Raises
        ------
        SettingsError
            On unknown keys or invalid values.
        """
        return _from_dict(cls, d, "")

    def replace(self, **changes: Any) -> AnalysisSettings:
        """A copy with top-level fields changed."""
        return replace(self, **changes)


def _jsonable(x: Any) -> Any:
    if isinstance(x, dict):
        return {k: _jsonable(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_jsonable(v) for v in x]
    return x


def _from_dict(cls: type, d: Any, prefix: str) -> Any:
    if not isinstance(d, dict):
        raise SettingsError(f"settings {prefix.rstrip('.') or 'root'} must be an object, got {d!r}")
    known = {f.name: f for f in fields(cls)}
    kwargs: dict[str, Any] = {}
    defaults = cls()
    for k, v in d.items():
        if k not in known:
            raise SettingsError(f"unknown setting {prefix}{k!r}; known: {', '.join(known)}")
        current = getattr(defaults, k)
        if is_dataclass(current):
            kwargs[k] = _from_dict(type(current), v, f"{prefix}{k}.")
        elif isinstance(current, tuple):
            kwargs[k] = tuple(v) if isinstance(v, list | tuple) else (v,)
        elif isinstance(current, float) and isinstance(v, int | float) and not isinstance(v, bool):
            kwargs[k] = float(v)
        else:
            if current is not None and not isinstance(v, type(current)):
                raise SettingsError(f"setting {prefix}{k} must be {type(current).__name__}, got {v!r}")
            kwargs[k] = v
    try:
        return cls(**kwargs)
    except TypeError as e:  # pragma: no cover - guarded by the checks above
        raise SettingsError(f"bad settings {prefix}: {e}") from e
