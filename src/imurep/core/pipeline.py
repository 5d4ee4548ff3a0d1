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
from typing import Any

import numpy as np
from numpy.typing import NDArray

from imurep.core.calibration import GyroCalibrator
from imurep.core.filters import first_order
from imurep.core.orientation import GravityTracker, starts_still
from imurep.core.settings import AnalysisSettings
from imurep.core.tracking.base import BlockSignals, Tracker
from imurep.core.tracking.lifts import LiftTracker
from imurep.core.tracking.reps import SetTracker
from imurep.core.validation import check_gravity
from imurep.model.errors import DataValidationError
from imurep.model.events import Event, Marker
from imurep.model.results import DataQuality, SessionResult, SetResult
from imurep.model.samples import FloatArray, ImuChunk
from imurep.model.units import STANDARD_GRAVITY_MPS2

logger = logging.getLogger(__name__)

RATE_ESTIMATE_SAMPLES = 64
"""Without a nominal rate, processing waits for this many samples and estimates the rate from
them (median interval), so the estimate never depends on how the stream is chunked."""

QUALITY_MEDIAN_INTERVALS = 65536
"""The data-quality sample interval is the median of the first this many intervals (about 5 min at
200 Hz); later intervals are only compared with it (gaps), so memory does not grow with length."""

GRAVITY_CHECK_SAMPLES = 256
"""The accelerometer's magnitude is checked on the first this many samples (all of a shorter
stream): the same check as the file loaders (:func:`imurep.core.validation.check_gravity`)."""

MIN_RATE_HZ, MAX_RATE_HZ = 10.0, 2000.0
"""Sample rates the stages are designed for, Hz."""


class Pipeline:
    """Step-wise analysis of an IMU stream.

    Parameters
    ----------
    settings
        Analysis settings.
    sample_rate_hz
        The stream's nominal sample rate, Hz, when the device or the recording states it (an
        explicit input: filters and the orientation filter are tuned to it).  When None it is
        estimated from the first :data:`RATE_ESTIMATE_SAMPLES` samples (median interval, robust to
        gaps and jitter); :attr:`sample_rate_source` says which was used.
    keep_traces
        Keep each set's angle traces (``SetResult.trace``, what the plot report draws).  Without
        them memory does not grow with the length of the stream (only with the number of reps).

    Notes
    -----
    Call :meth:`update` with chunks in time order, then :meth:`finish` at the end of the stream.
    Events are returned as they happen; :attr:`sets` holds the final set results so far.
    """

    def __init__(
        self,
        settings: AnalysisSettings | None = None,
        *,
        sample_rate_hz: float | None = None,
        keep_traces: bool = True,
    ) -> None:
        self.settings = settings or AnalysisSettings()
        s = self.settings
        if sample_rate_hz is not None and not (
            math.isfinite(sample_rate_hz) and MIN_RATE_HZ <= sample_rate_hz <= MAX_RATE_HZ
        ):
            raise DataValidationError(
                f"the nominal sample rate must be {MIN_RATE_HZ:g}..{MAX_RATE_HZ:g} Hz, got {sample_rate_hz!r}"
            )
        self.nominal_rate_hz = sample_rate_hz
        """The nominal rate given, Hz (None: estimated from the stream)."""
        self._rate_hz: float | None = sample_rate_hz
        self._calib = GyroCalibrator(s.calibration, s.hop_s)
        self._orient: GravityTracker | None = None
        sides: tuple[str | None, ...] = s.sides if s.sides else (None,)
        self._tracker: Tracker
        if s.mode == "leg_lift":
            self._tracker = LiftTracker(
                s.lifts, s.faults, measure_tilt=s.placement == "hip", sides=sides, keep_traces=keep_traces
            )
        else:
            self._tracker = SetTracker(
                s.segmentation,
                s.faults,
                measure_tilt=s.placement == "hip",
                sides=sides,
                keep_traces=keep_traces,
            )
        self._t0: float | None = None
        self._t_last = -math.inf
        self._pending: list[tuple[FloatArray, FloatArray, FloatArray]] = []
        self._pending_block = -1
        self._lp_zi: FloatArray | None = None
        self._lp_ba: tuple[float, float] | None = None
        self._sp_ba: tuple[float, float] | None = None
        self._sp_zi = np.zeros(1)
        self._dts: list[FloatArray] = []  # intervals until the median is fixed (then released)
        self._n_dts = 0
        self._med_dt: float | None = None
        self._gap_dts: list[FloatArray] = []  # intervals longer than 2.5 median ones, once fixed
        self._n = 0
        self._head_acc: list[FloatArray] = []  # the first GRAVITY_CHECK_SAMPLES samples, until checked
        self._gravity_checked = False
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
        self._add_intervals(np.diff(np.concatenate(([self._t_last], t))) if self._n else np.diff(t))
        self._t_last = float(t[-1])
        self._n += n
        if not self._gravity_checked:
            self._check_gravity(chunk.acc_mps2, final=False)
        self._pending.append((t, chunk.acc_mps2, chunk.gyr_rads))
        last_block = math.floor((self._t_last - self._t0) / self.settings.hop_s)
        if self._rate_hz is None:
            if self._n < RATE_ESTIMATE_SAMPLES:
                return []
            self._estimate_rate()
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
        if not self._gravity_checked and self._head_acc:
            self._check_gravity(np.empty((0, 3)), final=True)
        if self._pending and self._t0 is not None:
            if self._rate_hz is None:
                self._estimate_rate()
            t_all, acc, gyr = self._take_pending()
            self._pending = []
            if t_all.size:
                blocks = np.floor((t_all - self._t0) / self.settings.hop_s).astype(np.int64)
                events = self._run_blocks(t_all, acc, gyr, blocks)
        events.extend(self._tracker.finish())
        self._finished = True
        return events

    # ------------------------------------------------------------------------------------------

    @property
    def sample_rate_hz(self) -> float | None:
        """The rate the stages are tuned to, Hz (None until known or estimated)."""
        return self._rate_hz

    @property
    def sample_rate_source(self) -> str:
        """``"nominal"`` (given by the device or the recording) or ``"estimated"`` (from the stream)."""
        return "nominal" if self.nominal_rate_hz is not None else "estimated"

    def _estimate_rate(self) -> None:
        """Estimate the rate from the first :data:`RATE_ESTIMATE_SAMPLES` samples (or all, if fewer)."""
        t = self._take_pending()[0][:RATE_ESTIMATE_SAMPLES]
        dt = np.diff(t)
        rate = 1.0 / float(np.median(dt)) if dt.size else 100.0
        self._rate_hz = min(max(rate, MIN_RATE_HZ), MAX_RATE_HZ)
        logger.debug("sample rate estimated from %d samples: %.3f Hz", t.size, self._rate_hz)

    def _check_gravity(self, acc: FloatArray, *, final: bool) -> None:
        """Refuse data without gravity (e.g. an all-zero accelerometer) as the loaders do."""
        self._head_acc.append(acc)
        n = sum(a.shape[0] for a in self._head_acc)
        if n < GRAVITY_CHECK_SAMPLES and not final:
            return
        head = np.concatenate(self._head_acc)[:GRAVITY_CHECK_SAMPLES]
        self._head_acc = []
        self._gravity_checked = True
        check_gravity(head)

    def _add_intervals(self, dts: FloatArray) -> None:
        """Keep what the data-quality figures need of the sample intervals, in bounded memory."""
        if self._med_dt is not None:
            self._gap_dts.append(dts[dts > 2.5 * self._med_dt])
            return
        self._dts.append(dts)
        self._n_dts += dts.size
        if self._n_dts >= QUALITY_MEDIAN_INTERVALS:
            every = np.concatenate(self._dts)
            self._med_dt = float(np.median(every[:QUALITY_MEDIAN_INTERVALS]))
            self._dts = []
            self._gap_dts = [every[every > 2.5 * self._med_dt]]

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
            assert self._rate_hz is not None
            rate = self._rate_hz
            # (the first call holds the whole first block: see update)
            first = gyr[: starts[1]] if starts.shape[0] > 1 else gyr
            self._orient = GravityTracker(
                self.settings.orientation, nominal_rate_hz=rate, still_start=starts_still(first)
            )
            a = 1.0 - math.exp(-2.0 * math.pi * self.settings.acc_highpass_hz / rate)
            self._lp_ba = (a, a - 1.0)  # (b0, a1) of the first-order filters
            self._lp_zi = ((1.0 - a) * acc[0]).reshape(1, 3)
            b = 1.0 - math.exp(-1.0 / (self.settings.speed_time_constant_s * rate))
            self._sp_ba = (b, b - 1.0)
            self._sp_zi = np.zeros(1)
        gyr_c, _ = self._calib.update(acc, gyr, starts, self.settings.hop_s)
        up = self._orient.update(t, acc, gyr_c)
        assert self._lp_ba is not None and self._lp_zi is not None
        lp, self._lp_zi = first_order(*self._lp_ba, acc, self._lp_zi)
        hf = np.linalg.norm(acc - lp, axis=1)
        assert self._sp_ba is not None
        speed, self._sp_zi = first_order(*self._sp_ba, np.linalg.norm(gyr_c, axis=1), self._sp_zi)
        acc_up = np.einsum("ij,ij->i", acc, up) - STANDARD_GRAVITY_MPS2
        return self._tracker.update(BlockSignals(t, up, gyr_c, hf, speed, starts, acc_up))

    def result(self, *, source: str = "", metadata: dict[str, Any] | None = None) -> SessionResult:
        """The session's result: the sets ended so far, data quality and the settings used.

        The one place a :class:`~imurep.model.results.SessionResult` is assembled (offline analysis
        and live sessions).

        Raises
        ------
        DataValidationError
            When fewer than two samples were fed.
        """
        q = self.quality()
        if q.n_samples < 2:
            raise DataValidationError(
                f"the recording holds {q.n_samples} sample(s); at least a few seconds are needed"
            )
        return SessionResult(
            source=source,
            placement=self.settings.placement,
            sample_rate_hz=round(q.sample_rate_hz, 3),
            settings=self.settings,
            sets=self.sets,
            quality=q,
            metadata=dict(metadata or {}),
        )

    def quality(self) -> DataQuality:
        """Data-quality figures of the samples seen so far."""
        if self._med_dt is None:
            dts = np.concatenate(self._dts) if self._dts else np.empty(0)
            med = float(np.median(dts)) if dts.size else float("nan")
            gaps = dts[dts > 2.5 * med] if dts.size else dts
        else:
            med = self._med_dt
            gaps = np.concatenate(self._gap_dts) if self._gap_dts else np.empty(0)
        known = self._med_dt is not None or bool(self._n_dts)
        dur = self._t_last - self._t0 if self._t0 is not None and self._n > 1 else 0.0
        return DataQuality(
            n_samples=self._n,
            duration_s=dur,
            sample_rate_hz=(1.0 / med) if known and med > 0 else 0.0,
            n_gaps=int(gaps.size),
            gap_total_s=float(np.sum(gaps - med)) if gaps.size else 0.0,
            still_fraction=self._calib.n_still_blocks / self._calib.n_blocks if self._calib.n_blocks else 0.0,
            nominal_rate_hz=self.nominal_rate_hz,
            rate_source=self.sample_rate_source,
        )


def analyze(
    chunks: Iterable[ImuChunk],
    settings: AnalysisSettings | None = None,
    *,
    sample_rate_hz: float | None = None,
    source: str = "",
    metadata: dict[str, Any] | None = None,
    markers: Iterable[Marker] = (),
    keep_traces: bool = True,
) -> SessionResult:
    """Offline driver: run the :class:`Pipeline` over a whole recording.

    Parameters
    ----------
    chunks
        The recording, in time order, in chunks of any size.
    settings
        Analysis settings (defaults when None).
    sample_rate_hz
        Nominal sample rate, Hz, when the recording states it (see :class:`Pipeline`).
    source, metadata
        Recorded in the result.
    markers
        The lifter's markers from a live session (see :meth:`Pipeline.mark`).
    keep_traces
        Keep the sets' angle traces for a plot report (see :class:`Pipeline`).

    Raises
    ------
    DataValidationError
        When the stream is not in time order or too short to analyse.
    """
    pipe = Pipeline(settings, sample_rate_hz=sample_rate_hz, keep_traces=keep_traces)
    for marker in markers:
        pipe.mark(marker)
    for chunk in chunks:
        pipe.update(chunk)
    pipe.finish()
    return pipe.result(source=source, metadata=metadata)
