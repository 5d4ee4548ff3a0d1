"""The one analysis pipeline, used by offline analysis and live sessions alike.

``Pipeline.update(chunk)`` accepts samples in chunks of any size.  Internally the stream is cut into
blocks on a fixed time grid (``hop_s`` from the first sample), and every stage runs once per block,
so results do not depend on how the stream was chunked.  A block is processed as soon as a sample of
a later block arrives; rep events therefore come at most ``hop_s`` plus one sample period after the
sample that completes the rep.

Stages: calibration (gyro bias) → orientation (up vector) → segmentation (excursions, reps, sets)
→ metrics → faults.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, fields, is_dataclass, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.signal import lfilter

from .calibration import CalibrationSettings, GyroCalibrator
from .conventions import PLACEMENTS, SIDES
from .errors import DataValidationError, SettingsError
from .faults import FaultSettings
from .lifts import LiftSettings, LiftTracker
from .orientation import GravityTracker, OrientationSettings
from .segmentation import Marker, SegmentationSettings, SetTracker
from .types import DataQuality, Event, FloatArray, ImuChunk, SessionResult, SetResult

logger = logging.getLogger(__name__)

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


class Pipeline:
    """Step-wise analysis of an IMU stream.

    Parameters
    ----------
    settings
        Analysis settings.

    Notes
    -----
    Call :meth:`update` with chunks in time order, then :meth:`finish` at the end of the stream.
    Events are returned as they happen; :attr:`sets` holds the final set results so far.
    """

    def __init__(self, settings: AnalysisSettings | None = None) -> None:
        self.settings = settings or AnalysisSettings()
        s = self.settings
        self._calib = GyroCalibrator(s.calibration, s.hop_s)
        self._orient: GravityTracker | None = None
        sides: tuple[str | None, ...] = s.sides if s.sides else (None,)
        self._tracker: SetTracker | LiftTracker
        if s.mode == "leg_lift":
            self._tracker = LiftTracker(s.lifts, s.faults, measure_tilt=s.placement == "hip", sides=sides)
        else:
            self._tracker = SetTracker(
                s.segmentation, s.faults, measure_tilt=s.placement == "hip", sides=sides
            )
        self._t0: float | None = None
        self._t_last = -math.inf
        self._pending: list[tuple[FloatArray, FloatArray, FloatArray]] = []
        self._pending_block = -1
        self._lp_zi: FloatArray | None = None
        self._lp_ba: tuple[FloatArray, FloatArray] | None = None
        self._sp_ba: tuple[FloatArray, FloatArray] | None = None
        self._sp_zi = np.zeros(1)
        self._dts: list[FloatArray] = []
        self._n = 0
        self._finished = False

    @property
    def sets(self) -> tuple[SetResult, ...]:
        """Final results of the sets ended so far."""
        return tuple(self._tracker.sets)

    def update(self, chunk: ImuChunk) -> list[Event]:
        """Feed the next samples; return the events they completed.

        Raises
        ------
        DataValidationError
            If the chunk does not continue the stream in time, or after :meth:`finish`.
        """
        if self._finished:
            raise DataValidationError("the pipeline has finished; start a new Pipeline for a new stream")
        n = len(chunk)
        if n == 0:
            return []
        t = chunk.t_s
        if t[0] <= self._t_last:
            raise DataValidationError(
                f"samples must continue in time: got t={t[0]!r} s after t={self._t_last!r} s"
            )
        if self._t0 is None:
            self._t0 = float(t[0])
        self._dts.append(np.diff(np.concatenate(([self._t_last], t))) if self._n else np.diff(t))
        self._t_last = float(t[-1])
        self._n += n
        self._pending.append((t, chunk.acc_mps2, chunk.gyr_rads))
        last_block = math.floor((self._t_last - self._t0) / self.settings.hop_s)
        if last_block == self._pending_block:
            return []
        # everything before the newest sample's block is complete
        t_all, acc, gyr = self._take_pending()
        blocks = np.floor((t_all - self._t0) / self.settings.hop_s).astype(np.int64)
        k = int(np.searchsorted(blocks, last_block, side="left"))
        self._pending = [(t_all[k:], acc[k:], gyr[k:])]
        self._pending_block = last_block
        if k == 0:
            return []
        return self._run_blocks(t_all[:k], acc[:k], gyr[:k], blocks[:k])

    def mark(self, marker: Marker) -> None:
        """Register a lifter's marker (new set / side switch) at ``marker.t_s``.

        It takes effect when the block holding that time is processed, so registering it before
        feeding a recording (offline) or right after the samples up to it (live) gives the same
        result.
        """
        self._tracker.mark(marker)

    @property
    def calibrated(self) -> bool:
        """Whether the gyroscope bias has been learned from a still period."""
        return self._calib.calibrated

    @property
    def gyro_bias_rads(self) -> FloatArray:
        """Current gyroscope-bias estimate, shape ``(3,)``, rad/s, sensor frame."""
        return np.asarray(self._calib.bias_rads, dtype=np.float64)

    @property
    def t_last_s(self) -> float:
        """Time of the newest sample fed, s (-inf before any)."""
        return self._t_last

    def finish(self) -> list[Event]:
        """End of stream: process what is pending and close the open set."""
        if self._finished:
            return []
        events: list[Event] = []
        if self._pending and self._t0 is not None:
            t_all, acc, gyr = self._take_pending()
            self._pending = []
            if t_all.size:
                blocks = np.floor((t_all - self._t0) / self.settings.hop_s).astype(np.int64)
                events = self._run_blocks(t_all, acc, gyr, blocks)
        events.extend(self._tracker.finish())
        self._finished = True
        return events

    # ------------------------------------------------------------------------------------------

    def _take_pending(self) -> tuple[FloatArray, FloatArray, FloatArray]:
        parts = self._pending
        if len(parts) == 1:
            return parts[0]
        return (
            np.concatenate([p[0] for p in parts]),
            np.concatenate([p[1] for p in parts]),
            np.concatenate([p[2] for p in parts]),
        )

    def _run_blocks(
        self, t: FloatArray, acc: FloatArray, gyr: FloatArray, blocks: NDArray[np.int64]
    ) -> list[Event]:
        """Run the stages over consecutive whole blocks (``blocks`` = block number of each sample)."""
        starts = np.concatenate(([0], np.flatnonzero(np.diff(blocks)) + 1)).astype(np.intp)
        if self._orient is None:
            t_first = t[: starts[1]] if starts.size > 1 else t
            rate = 1.0 / float(np.median(np.diff(t_first))) if t_first.size > 1 else 100.0
            self._orient = GravityTracker(
                self.settings.orientation, nominal_rate_hz=min(max(rate, 10.0), 2000.0)
            )
            a = 1.0 - math.exp(-2.0 * math.pi * self.settings.acc_highpass_hz / max(rate, 10.0))
            self._lp_ba = (np.array([a]), np.array([1.0, a - 1.0]))
            self._lp_zi = ((1.0 - a) * acc[0]).reshape(1, 3)
            b = 1.0 - math.exp(-1.0 / (self.settings.speed_time_constant_s * max(rate, 10.0)))
            self._sp_ba = (np.array([b]), np.array([1.0, b - 1.0]))
            self._sp_zi = np.zeros(1)
        gyr_c, _ = self._calib.update(acc, gyr, starts, self.settings.hop_s)
        up = self._orient.update(t, acc, gyr_c)
        assert self._lp_ba is not None and self._lp_zi is not None
        lp, self._lp_zi = lfilter(self._lp_ba[0], self._lp_ba[1], acc, axis=0, zi=self._lp_zi)
        hf = np.linalg.norm(acc - lp, axis=1)
        assert self._sp_ba is not None
        speed, self._sp_zi = lfilter(
            self._sp_ba[0], self._sp_ba[1], np.linalg.norm(gyr_c, axis=1), zi=self._sp_zi
        )
        return self._tracker.update(t, up, gyr_c, hf, speed, starts)

    def quality(self) -> DataQuality:
        """Data-quality figures of the samples seen so far."""
        dts = np.concatenate(self._dts) if self._dts else np.empty(0)
        dts = dts[np.isfinite(dts)]
        med = float(np.median(dts)) if dts.size else float("nan")
        gaps = dts[dts > 2.5 * med] if dts.size else dts
        dur = float(np.sum(dts)) if dts.size else 0.0
        return DataQuality(
            n_samples=self._n,
            duration_s=dur,
            sample_rate_hz=(1.0 / med) if dts.size and med > 0 else 0.0,
            n_gaps=int(gaps.size),
            gap_total_s=float(np.sum(gaps - med)) if gaps.size else 0.0,
            still_fraction=self._calib.n_still_blocks / self._calib.n_blocks if self._calib.n_blocks else 0.0,
        )


def analyze(
    chunks: Iterable[ImuChunk],
    settings: AnalysisSettings | None = None,
    *,
    source: str = "",
    metadata: dict[str, Any] | None = None,
    markers: Iterable[Marker] = (),
) -> SessionResult:
    """Offline driver: run the :class:`Pipeline` over a whole recording.

    Parameters
    ----------
    chunks
        The recording, in time order, in chunks of any size.
    settings
        Analysis settings (defaults when None).
    source, metadata
        Recorded in the result.
    markers
        The lifter's markers from a live session (see :meth:`Pipeline.mark`).

    Raises
    ------
    DataValidationError
        When the stream is not in time order or too short to analyse.
    """
    pipe = Pipeline(settings)
    for marker in markers:
        pipe.mark(marker)
    for chunk in chunks:
        pipe.update(chunk)
    pipe.finish()
    q = pipe.quality()
    if q.n_samples < 2:
        raise DataValidationError(
            f"the recording holds {q.n_samples} sample(s); at least a few seconds are needed"
        )
    return SessionResult(
        source=source,
        placement=pipe.settings.placement,
        sample_rate_hz=round(q.sample_rate_hz, 3),
        settings=pipe.settings.to_dict(),
        sets=pipe.sets,
        quality=q,
        metadata=dict(metadata or {}),
    )
