"""Cutting the stream into sets and reps (causal, stateful).

Two stages, both fed once per pipeline block:

* :class:`ExcursionDetector` finds *excursions*: the up vector leaves a quiet rest posture by more
  than ``open_deg`` and comes back to it.  Quiet postures (start position, bottom, top) are kept on
  a small stack, so a rep is measured from the bottom that was established before it.  It needs no
  knowledge of the mounting.
* :class:`SetTracker` judges each excursion (range, single rotation axis, lifting time, start from
  rest, no swing-through), groups accepted reps into sets, learns each set's flexion axis and start
  position, and measures rep phases, ROM, tilt and faults on the buffered samples.  Rep events are
  emitted as soon as a rep is complete.  When a set ends, tilt is re-measured with the set's final
  axis and the median-based rules are applied with the final median; boundaries and ROM do not
  change (see :class:`imurep.types.SetEnded`).  A set with fewer than ``min_set_reps`` reps is
  withdrawn (:class:`imurep.types.SetDiscarded`).

Every look-back is bounded in time (``RETAIN_S``), and decisions are taken at block ends, so the
results do not depend on how the stream was chunked.

All vectors are in the sensor frame; ``up`` is the unit vector opposite to gravity's pull.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field, replace

import numpy as np
from numpy.typing import NDArray

from imurep.core.buffers import SampleBuffer
from imurep.core.faults import FaultSettings, judge_rep
from imurep.core.metrics import (
    angle_between_deg,
    rep_axis,
    rep_timing,
    robust_axis,
    sagittal_angle_deg,
    tilt_deg,
    unit,
)
from imurep.core.tracking.base import (
    RETAIN_S,
    TRACE_AFTER_S,
    BlockSignals,
    MarkerQueue,
    QuietRun,
    SideSchedule,
)
from imurep.model.codes import FAULTS
from imurep.model.errors import SettingsError
from imurep.model.events import Event, Marker, RepCompleted, SetDiscarded, SetEnded, SetStarted
from imurep.model.results import RepResult, SetResult, SetSummary, SetTrace
from imurep.model.samples import FloatArray

logger = logging.getLogger(__name__)

_LOOKBACK_S = 5.0
"""How far before a set's first rep the start position is looked for, s."""


_FLICKER_S = 0.4
"""Interruptions of quietness shorter than this (s) are ignored when finding the start position."""

# buffer columns: time, up vector, angular rate, high-frequency acceleration, quiet flag
_T, _U, _G, _H, _Q = 0, slice(1, 4), slice(4, 7), 7, 8


@dataclass(frozen=True)
class SegmentationSettings:
    """Settings of rep and set detection.

    Attributes
    ----------
    open_deg
        An excursion starts when the up vector is this far from the rest posture, degrees.
    return_fraction
        An excursion has returned when the up vector is back within this fraction of its peak
        angle from the rest posture (the exact end is then found on the sagittal angle).
    ref_quiet_s
        Quiet time that establishes a rest posture (start position, bottom, top), s.
    band_fraction
        Fraction of ROM that counts as at the bottom / at the top (the 5 % rule).
    min_rom_deg, max_rom_deg
        Excursions outside this range of motion are not reps, degrees.
    min_rep_fraction
        A movement counts as a rep only if it rises at least this fraction of the set's median ROM.
    max_rep_s
        An excursion that has not returned after this long is a change of posture, not a rep, s.
    min_concentric_s, min_eccentric_s
        Shorter lifting / lowering phases are jolts or steps, not reps, s.
    max_concentric_s
        Longer lifting is a change of posture, not a rep, s.
    min_set_reps
        Fewer reps are not a set (a lone movement): such a set is announced, then discarded when
        it ends (:class:`~imurep.types.SetDiscarded`).
    max_off_axis
        Largest fraction of rotation energy off the rep's main axis (walking, fidgeting twist), 0..1.
    max_impact_mps2
        Largest high-frequency acceleration (heel strikes, bumps) during a rep, m/s².
    quiet_rads
        Smoothed angular speed below which the segment counts as quiet, rad/s.
    quiet_drift_deg
        A quiet run ends when the posture drifts this far from the run's mean (slow movement), degrees.
    baseline_quiet_s
        Quiet time in the start position needed to use it as tilt reference (otherwise the first
        rep's bottom is used), s.
    set_gap_s
        A set ends when no rep starts for this long after the last one, s.
    leave_deg, leave_s
        A set also ends when the segment stays this far (degrees) outside the set's range of motion
        (below the bottom, above the top, or rolled sideways) for this long (s): the lifter got up.
    max_axis_change_deg, max_bottom_change_deg
        A rep whose axis or bottom posture differs more than this from its set's starts a new set.
    start_gap_s
        The first rep of a set must start within this long after the quiet start position, s.
    confirm_s, overshoot_fraction
        The first rep of a set is confirmed ``confirm_s`` (s) after its end, if the angle has not
        swung below its bottom by more than ``overshoot_fraction`` of its ROM (walking steps do).
    settle_s
        Longest wait after the excursion's return for the angle to reach the bottom band; once the
        segment is quiet (or after this long) the rep ends at the band of the lowest angle reached,
        s (bounds the event latency).
    """

    open_deg: float = 6.0
    return_fraction: float = 0.25
    ref_quiet_s: float = 0.2
    band_fraction: float = 0.05
    min_rom_deg: float = 15.0
    max_rom_deg: float = 110.0
    min_rep_fraction: float = 0.5
    max_rep_s: float = 20.0
    min_concentric_s: float = 0.4
    max_concentric_s: float = 5.0
    min_eccentric_s: float = 0.15
    max_off_axis: float = 0.3
    max_impact_mps2: float = 30.0
    quiet_rads: float = 0.08
    quiet_drift_deg: float = 2.0
    baseline_quiet_s: float = 0.5
    set_gap_s: float = 12.0
    leave_deg: float = 30.0
    leave_s: float = 1.5
    max_axis_change_deg: float = 35.0
    max_bottom_change_deg: float = 25.0
    settle_s: float = 2.0
    min_set_reps: int = 2
    start_gap_s: float = 0.8
    confirm_s: float = 0.3
    overshoot_fraction: float = 0.2

    def __post_init__(self) -> None:
        positive = [
            "open_deg",
            "ref_quiet_s",
            "min_rom_deg",
            "max_rom_deg",
            "max_rep_s",
            "quiet_rads",
            "set_gap_s",
            "leave_deg",
            "leave_s",
            "max_axis_change_deg",
            "max_bottom_change_deg",
            "max_impact_mps2",
        ]
        for name in positive:
            if not getattr(self, name) > 0:
                raise SettingsError(f"segmentation.{name} must be > 0, got {getattr(self, name)!r}")
        if not 0 < self.band_fraction < 0.5:
            raise SettingsError(f"segmentation.band_fraction must be in (0, 0.5), got {self.band_fraction!r}")
        if not 0 < self.return_fraction < 0.5:
            raise SettingsError(
                f"segmentation.return_fraction must be in (0, 0.5), got {self.return_fraction!r}"
            )
        if not 0 <= self.min_rep_fraction < 1 or not 0 < self.max_off_axis <= 1:
            raise SettingsError("segmentation.min_rep_fraction must be in [0, 1) and max_off_axis in (0, 1]")
        if self.min_set_reps < 1:
            raise SettingsError(f"segmentation.min_set_reps must be >= 1, got {self.min_set_reps!r}")
        if self.min_rom_deg >= self.max_rom_deg:
            raise SettingsError("segmentation.min_rom_deg must be below max_rom_deg")
        if self.open_deg >= self.min_rom_deg:
            raise SettingsError("segmentation.open_deg must be below min_rom_deg")


@dataclass
class Excursion:
    """A movement away from a rest posture and back (absolute sample indices)."""

    i_open: int
    i_peak: int
    i_close: int
    up_rest: FloatArray
    peak_deg: float
    t_open_s: float
    i_rest: int
    """Last sample of the quiet run that established the rest posture."""


@dataclass
class _Ref:
    up: FloatArray  # rest posture
    i_rest: int  # last quiet sample that established it
    peak_deg: float = 0.0
    i_peak: int = -1
    i_open: int = -1
    t_open_s: float = math.nan
    armed: bool = True  # may open an excursion (re-armed once back within open_deg)


class ExcursionDetector:
    """Finds excursions: the up vector leaves a quiet rest posture and comes back to it.

    Quiet postures are kept on a small stack: when the segment is quiet at a posture away from the
    current reference (e.g. in the start position after getting onto the bench, or at the top of a
    rep), that posture is pushed.  A movement closes as an excursion when it comes back close to one
    of the stacked postures; those above it are dropped.  The start position is therefore established
    before the top, and reps are measured from the bottom, whatever the mounting.
    """

    _DEPTH = 4

    def __init__(self, settings: SegmentationSettings) -> None:
        self.settings = settings
        self._stack: list[_Ref] = []
        self._quiet = QuietRun(settings.quiet_drift_deg)

    @property
    def in_excursion(self) -> bool:
        """Whether the segment is away from every reference posture."""
        return bool(self._stack) and self._stack[-1].i_open >= 0

    @property
    def first_open_s(self) -> float | None:
        """Start time of the oldest excursion under way."""
        opened = [r.t_open_s for r in self._stack if r.i_open >= 0]
        return min(opened) if opened else None

    @property
    def open_since(self) -> int | None:
        """Absolute index where the current excursion from the top reference began."""
        if not self._stack or self._stack[-1].i_open < 0:
            return None
        return self._stack[-1].i_open

    def update(self, i0: int, t_s: FloatArray, up: FloatArray, quiet: NDArray[np.bool_]) -> list[Excursion]:
        """Process one block whose first sample has absolute index ``i0``; return closed excursions.

        Parameters
        ----------
        i0
            Absolute index of the block's first sample.
        t_s, up
            Times (s, shape ``(n,)``) and unit up vectors (shape ``(n, 3)``, sensor frame).
        quiet
            Whether each sample is quiet (low angular speed), shape ``(n,)``.
        """
        s = self.settings
        quiet_run = self._quiet
        closed: list[Excursion] = []
        n = t_s.shape[0]
        refs = self._stack
        if not refs:
            refs.append(_Ref(up[0].copy(), i0))

        def angles(v: FloatArray) -> list[float]:
            return np.degrees(np.arccos(np.clip(up @ v, -1.0, 1.0))).tolist()

        ang = [angles(r.up) for r in refs]
        tl = t_s.tolist()
        ql = quiet.tolist()
        ul = up.tolist()
        follow = False
        for k in range(n):
            t = tl[k]
            # 1. a return close to a reference that was left far enough closes the excursion from it
            for d, r in enumerate(refs):
                if r.i_open < 0:
                    continue
                a = ang[d][k]
                if a > r.peak_deg:
                    r.peak_deg, r.i_peak = a, i0 + k
                elif r.peak_deg >= s.min_rom_deg and a <= s.return_fraction * r.peak_deg:
                    closed.append(
                        Excursion(r.i_open, r.i_peak, i0 + k, r.up.copy(), r.peak_deg, r.t_open_s, r.i_rest)
                    )
                    del refs[d + 1 :]
                    del ang[d + 1 :]
                    r.i_open, r.peak_deg, r.i_peak, r.armed = -1, 0.0, -1, False
                    quiet_run.reset()
                    follow = False
                    break
            top = refs[-1]
            # 2. leaving the top reference opens an excursion from it
            if not top.armed:
                top.armed = ang[-1][k] <= s.open_deg
            elif top.i_open < 0 and ang[-1][k] > s.open_deg:
                top.i_open, top.t_open_s, top.peak_deg, top.i_peak = i0 + k, t, ang[-1][k], i0 + k
            # 3. quiet: follow the rest posture, or push a new one once quiet long enough away from it
            if ql[k]:
                ux, uy, uz = ul[k]
                quiet_run.add(ux, uy, uz, t, i0 + k)  # slow movement (drift) starts a new run
                if top.i_open < 0:
                    top.i_rest = i0 + k
                    follow = quiet_run.n > 1
                elif t - quiet_run.t_start_s >= s.ref_quiet_s:
                    refs.append(_Ref(quiet_run.posture(), i0 + k))
                    ang.append(angles(refs[-1].up))
                    follow = False
                    if len(refs) > self._DEPTH:
                        del refs[0]
                        del ang[0]
            else:
                quiet_run.reset()
                follow = False
            # 4. an excursion that never comes back is a change of posture
            for r in refs:
                if r.i_open >= 0 and t - r.t_open_s > s.max_rep_s:
                    r.i_open, r.peak_deg, r.i_peak = -1, 0.0, -1
        # the rest posture follows the quiet run (once per block)
        if follow and refs[-1].i_open < 0:
            refs[-1].up = quiet_run.posture()
        return closed


@dataclass(frozen=True)
class _Span:
    """Where a rep lies in the buffer (absolute indices) and its own rotation axis."""

    i_from: int  # start of the bottom before the rep
    i_peak: int
    i_close: int  # the excursion's return
    stop: int  # end of the samples used to measure it
    axis: FloatArray


@dataclass
class _OpenSet:
    index: int
    axis: FloatArray
    bottom_up: FloatArray
    baseline_up: FloatArray
    baseline_source: str
    i_from: int  # first buffered sample the set may use
    reps: list[_Span] = field(default_factory=list)
    results: list[RepResult] = field(default_factory=list)
    last_end_s: float = -math.inf
    max_rom_deg: float = 0.0
    quiet_end_s: float = math.nan
    side: str | None = None
    _frame: tuple[list[float], list[float], list[float], float] | None = None
    _frame_of: tuple[bytes, bytes] | None = None

    def frame(self) -> tuple[list[float], list[float], list[float], float]:
        """In-plane basis (from the bottom posture), axis and the axis' elevation at the bottom.

        Cached while the axis and bottom posture stay the same.
        """
        key = (self.axis.tobytes(), self.bottom_up.tobytes())
        if self._frame is None or self._frame_of != key:
            p_ref = unit(self.bottom_up - np.dot(self.bottom_up, self.axis) * self.axis)
            q_dir = np.cross(self.axis, p_ref)
            el0 = math.asin(max(-1.0, min(1.0, float(np.dot(self.bottom_up, self.axis)))))
            self._frame = (p_ref.tolist(), q_dir.tolist(), self.axis.tolist(), el0)
            self._frame_of = key
        return self._frame

    start_s: float = 0.0
    leave_since_s: float | None = None


class SetTracker:
    """Judges excursions, groups reps into sets and measures them.

    Parameters
    ----------
    settings, fault_settings
        Detection and fault settings.
    measure_tilt
        Whether pelvis tilt is measured (hip placement).
    sides
        Side of each set in order (the last one repeats); ``None`` when unknown.
    """

    def __init__(
        self,
        settings: SegmentationSettings,
        fault_settings: FaultSettings,
        *,
        measure_tilt: bool,
        sides: tuple[str | None, ...] = (None,),
    ) -> None:
        self.settings = settings
        self.fault_settings = fault_settings
        self.measure_tilt = measure_tilt
        self._sides = SideSchedule(sides)
        self.buf = SampleBuffer(9, capacity=1 << 14)
        self.detector = ExcursionDetector(settings)
        self._set: _OpenSet | None = None
        self._pending: tuple[Excursion, FloatArray] | None = None
        self._markers = MarkerQueue()
        self._forced_start = False  # a marker just opened a new set: no quiet start needed
        self.sets: list[SetResult] = []
        self._n_sets = 0
        self._last_hf = np.zeros(3)
        self.t_now = -math.inf
        self._i_end = 0

    # -- feeding ---------------------------------------------------------------------------------

    def update(self, signals: BlockSignals) -> list[Event]:
        """Process consecutive whole blocks (see :class:`~imurep.core.tracking.base.BlockSignals`).

        The segment is quiet where the smoothed angular speed is below ``quiet_rads``.
        """
        t_s, up = signals.t_s, signals.up
        i0 = self.buf.end_index
        quiet = (signals.speed_rads < self.settings.quiet_rads).astype(np.float64)
        self.buf.append(np.column_stack((t_s, up, signals.gyr_rads, signals.acc_hf_mps2, quiet)))
        events: list[Event] = []
        q = quiet > 0.5
        for a, b in signals.blocks():
            events.extend(self._block(i0 + a, t_s[a:b], up[a:b], q[a:b]))
        self._trim()
        return events

    def mark(self, marker: Marker) -> None:
        """Register a lifter's marker (new set, side switch); applied when its time is processed."""
        self._markers.add(marker)

    def _apply_markers(self) -> list[Event]:
        events: list[Event] = []
        for m in self._markers.due(self.t_now):
            if self._pending is not None:
                events.extend(self._complete(final=True, stop=self._i_end))
            if self._set is not None:
                events.extend(self._end_set())
            self._forced_start = True
            self._sides.apply(m)
            logger.debug("marker %s at %.2f s applied", m.kind, m.t_s)
        return events

    def _block(self, i0: int, t_s: FloatArray, up: FloatArray, quiet: NDArray[np.bool_]) -> list[Event]:
        """One block, whose samples are buffered at absolute indices ``i0 : i0 + len(t_s)``."""
        self.t_now = float(t_s[-1])
        self._i_end = i0 + t_s.shape[0]
        events: list[Event] = self._apply_markers() if self._markers else []
        for ex in self.detector.update(i0, t_s, up, quiet):
            if self._pending is not None:
                # measure the pending rep up to where the next movement began (an older, enclosing
                # excursion may close after it: then up to now)
                p_close = self._pending[0].i_close
                events.extend(
                    self._complete(final=True, stop=ex.i_open if ex.i_open > p_close else ex.i_close)
                )
            self._judge(ex)
        if self._pending is not None:
            ex = self._pending[0]
            opened = self.detector.open_since
            if opened is not None and opened > ex.i_close:
                events.extend(self._complete(final=True, stop=opened))
            else:
                events.extend(self._complete(final=self._settled(ex.i_close), stop=self._i_end))
        events.extend(self._check_set_end(up))
        return events

    def finish(self) -> list[Event]:
        """End of stream: complete the pending rep and close the open set."""
        events: list[Event] = []
        if self._pending is not None:
            events.extend(self._complete(final=True, stop=self._i_end))
        if self._set is not None:
            events.extend(self._end_set())
        return events

    def _settled(self, i_close: int) -> bool:
        """Whether the movement after an excursion's return has come to rest (or waited long enough)."""
        b = self.buf.view(i_close, self._i_end)
        t = b[:, _T]
        if self.t_now - float(t[0]) >= self.settings.settle_s:
            return True
        k = int(np.searchsorted(t, self.t_now - self.settings.ref_quiet_s))
        return k > 0 and bool((b[k:, _Q] > 0.5).all())

    # -- sets ------------------------------------------------------------------------------------

    def _check_set_end(self, up: FloatArray) -> list[Event]:
        """End the open set after a long gap, or when the segment leaves the set's range of motion."""
        st = self._set
        if st is None or self._pending is not None:
            return []
        opened = self.detector.first_open_s
        if self.t_now - st.last_end_s > self.settings.set_gap_s and (
            opened is None or opened - st.last_end_s > self.settings.set_gap_s
        ):
            return self._end_set()
        p_ref, q_dir, ax, el0 = st.frame()
        ux, uy, uz = up[-1].tolist()
        theta = math.degrees(
            math.atan2(
                ux * q_dir[0] + uy * q_dir[1] + uz * q_dir[2], ux * p_ref[0] + uy * p_ref[1] + uz * p_ref[2]
            )
        )
        el = math.asin(max(-1.0, min(1.0, ux * ax[0] + uy * ax[1] + uz * ax[2])))
        side = abs(math.degrees(el - el0))
        lim = self.settings.leave_deg
        if theta < -lim or theta > st.max_rom_deg + lim or side > lim:
            if st.leave_since_s is None:
                st.leave_since_s = self.t_now
            elif self.t_now - st.leave_since_s >= self.settings.leave_s:
                return self._end_set()
        else:
            st.leave_since_s = None
        return []

    def _quiet_run_before(self, i: int) -> tuple[int, int]:
        """The last quiet run ending at or before absolute index ``i``, within ``_LOOKBACK_S``.

        Interruptions shorter than ``_FLICKER_S`` do not end a run.  Returns (first, last) absolute
        indices; (i, i) when there is none.
        """
        b = self.buf.view(i - 1_000_000, i + 1)
        t = b[:, _T]
        k = int(np.searchsorted(t, max(float(t[-1]) - _LOOKBACK_S, self.t_now - RETAIN_S)))
        t = t[k:]
        quiet = b[k:, _Q] > 0.5
        first = i + 1 - t.shape[0]
        idx = np.flatnonzero(quiet)
        if idx.size == 0:
            return i, i
        to = frm = int(idx[-1])
        while frm > 0:
            gaps = np.flatnonzero(~quiet[:frm])
            if gaps.size == 0:
                frm = 0
                break
            g_end = int(gaps[-1])  # last non-quiet sample before the run
            if g_end + 1 < frm:
                frm = g_end + 1
                continue
            before = np.flatnonzero(quiet[:g_end])
            if before.size == 0 or t[g_end] - t[int(before[-1])] > _FLICKER_S:
                break
            frm = int(before[-1])
        return first + frm, first + to

    def _judge(self, ex: Excursion) -> None:
        """Keep ``ex`` as the pending rep if it moves like one."""
        s = self.settings
        if not s.min_rom_deg <= ex.peak_deg <= s.max_rom_deg:
            logger.debug("excursion at %.2f s rejected: range %.1f deg", ex.t_open_s, ex.peak_deg)
            return
        b = self.buf.view(ex.i_open, ex.i_close + 1)
        t = b[:, _T]
        if float(t[-1] - t[0]) > s.max_rep_s:
            return
        if float(np.max(b[:, _H])) > s.max_impact_mps2:
            logger.debug("excursion at %.2f s rejected: impact %.1f m/s2", t[0], float(np.max(b[:, _H])))
            return
        up_peak = self.buf.view(ex.i_peak, ex.i_peak + 1)[0, _U]
        gyr = b[:, _G]
        axis = rep_axis(gyr, ex.up_rest, up_peak)
        on = gyr @ axis
        tot = float(np.sum(gyr * gyr))
        off = 1.0 - float(np.sum(on * on)) / tot if tot > 0 else 1.0
        if off > s.max_off_axis:
            logger.debug("excursion at %.2f s rejected: off-axis %.2f", t[0], off)
            return
        self._pending = (ex, axis)

    def _complete(self, *, final: bool, stop: int) -> list[Event]:
        """Measure the pending rep on samples up to ``stop``; keep it pending if not yet returned."""
        assert self._pending is not None
        ex, axis = self._pending
        s = self.settings
        events: list[Event] = []
        st = self._set
        if st is not None and not (
            angle_between_deg(axis, st.axis) <= s.max_axis_change_deg
            and angle_between_deg(ex.up_rest, st.bottom_up) <= s.max_bottom_change_deg
        ):
            if not final:
                return []
            events.extend(self._end_set())
            st = None
        new_set = st is None
        if st is None:
            # the first rep of a set starts from the start position: quiet, right before the rep
            # (unless the lifter just marked a new set: then a quiet start is not required)
            forced = self._forced_start
            q_from, q_to = self._quiet_run_before(ex.i_rest)
            tq = self.buf.view(q_from, q_to + 1)[:, _T]
            quiet_s = float(tq[-1] - tq[0]) if tq.size else 0.0
            if forced and (quiet_s < s.ref_quiet_s or ex.t_open_s - float(tq[-1]) > s.start_gap_s):
                w = self.buf.view(ex.i_open - 1_000_000, ex.i_open + 1)
                k0 = int(np.searchsorted(w[:, _T], ex.t_open_s - s.start_gap_s))
                q_from = q_to = self.buf.first_index + k0
                tq = w[k0 : k0 + 1, _T]
                quiet_s = 0.0
            elif quiet_s < s.ref_quiet_s:
                logger.debug("excursion at %.2f s rejected: no start position", ex.t_open_s)
                self._pending = None
                return events
            if quiet_s >= s.baseline_quiet_s:
                base = unit(self.buf.view(q_from, q_to + 1)[:, _U].mean(axis=0))
                source = "start_position"
            else:
                base = ex.up_rest.copy()
                source = "first_rep_bottom"
            k = int(np.searchsorted(tq, float(tq[-1]) - s.baseline_quiet_s))
            st = _OpenSet(0, axis, ex.up_rest.copy(), base, source, i_from=q_from + k)
            st.side = self._sides.side_of(self._n_sets)
            st.quiet_end_s = float(tq[-1])
        i_from = st.reps[-1].i_close if st.reps else st.i_from
        span = _Span(i_from, ex.i_peak, ex.i_close, stop, axis)
        axes = [r.axis for r in st.reps] + [axis]
        set_axis = robust_axis(axes)
        rep = self._measure(st, set_axis, span, len(st.results) + 1, settled=final)
        if rep is None:
            if final:
                logger.debug("excursion at %.2f s rejected: no rep shape on the sagittal angle", ex.t_open_s)
                self._pending = None
            return events
        if new_set:
            if rep.start_s - st.quiet_end_s > s.start_gap_s:
                logger.debug(
                    "excursion at %.2f s rejected: did not start from rest (%.2f s after it)",
                    ex.t_open_s,
                    rep.start_s - st.quiet_end_s,
                )
                self._pending = None
                return events
            # a set's first rep must also come back to rest, not swing through (a walking step)
            after = self.buf.view(span.i_from, stop)
            k = int(np.searchsorted(after[:, _T], rep.end_s))
            if float(after[-1, _T]) < rep.end_s + s.confirm_s and not final:
                return events
            th = sagittal_angle_deg(after[k:, _U], set_axis, st.baseline_up)
            bottom = float(sagittal_angle_deg(after[:k, _U], set_axis, st.baseline_up).min())
            if th.size and float(th.min()) < bottom - s.overshoot_fraction * rep.rom_deg:
                logger.debug("excursion at %.2f s rejected: swings through its start", ex.t_open_s)
                self._pending = None
                return events
        self._pending = None
        roms = [r.rom_deg for r in st.results]
        if roms and rep.rom_deg < s.min_rep_fraction * float(np.median(roms)):
            logger.debug(
                "excursion at %.2f s rejected: %.1f deg is a partial movement", ex.t_open_s, rep.rom_deg
            )
            return events
        if new_set:
            # announced at once; discarded at its end if it stays a lone movement
            self._n_sets += 1
            st.index = self._n_sets
            st.start_s = rep.start_s
            self._set = st
            self._forced_start = False
            events.append(SetStarted(st.index, rep.start_s))
        st.reps.append(span)
        st.axis = set_axis
        if len(st.reps) > 1:
            st.bottom_up = unit(0.7 * st.bottom_up + 0.3 * ex.up_rest)
        median = float(np.median([r.rom_deg for r in st.results] + [rep.rom_deg]))
        rep = judge_rep(self.fault_settings, rep, median)
        if st.results:
            prev = st.results[-1]
            st.results[-1] = replace(prev, bottom_pause_s=rep.start_s - prev.end_s)
        st.results.append(rep)
        st.last_end_s = rep.end_s
        st.max_rom_deg = max(st.max_rom_deg, rep.rom_deg)
        events.append(RepCompleted(st.index, rep, self.t_now))
        return events

    def _measure(
        self, st: _OpenSet, axis: FloatArray, span: _Span, index: int, *, settled: bool
    ) -> RepResult | None:
        s = self.settings
        first = max(span.i_from, self.buf.first_index)
        b = self.buf.view(first, span.stop)
        t = b[:, _T]
        up = b[:, _U]
        theta = sagittal_angle_deg(up, axis, st.baseline_up)
        timing = rep_timing(
            t, theta, span.i_peak - first, span.i_close - first, self.settings.band_fraction, settled=settled
        )
        if timing is None or not self.settings.min_rom_deg <= timing.rom_deg <= self.settings.max_rom_deg:
            return None
        if (
            not s.min_concentric_s <= timing.top_start_s - timing.start_s <= s.max_concentric_s
            or timing.end_s - timing.top_end_s < s.min_eccentric_s
        ):
            return None
        tilt: float | None = None
        if self.measure_tilt:
            tl = tilt_deg(up[timing.i_start : timing.i_end + 1], axis, st.baseline_up)
            tilt = float(np.max(np.abs(tl))) if tl.size else 0.0
        return RepResult(
            index=index,
            start_s=timing.start_s,
            top_start_s=timing.top_start_s,
            top_end_s=timing.top_end_s,
            end_s=timing.end_s,
            rom_deg=timing.rom_deg,
            peak_tilt_deg=tilt,
        )

    def _end_set(self) -> list[Event]:
        """Close the open set: final tilt with the set's robust axis, final median-based rules.

        Rep boundaries and ROM stay as they were shown live; only what needs the whole set changes.
        """
        s = self.settings
        st = self._set
        self._set = None
        if st is None or not st.results:
            return []
        if len(st.results) < s.min_set_reps:
            logger.debug("movement at %.2f s dropped: a set needs %d reps", st.start_s, s.min_set_reps)
            self._n_sets -= 1
            return [SetDiscarded(st.index, f"a set needs at least {self.settings.min_set_reps} reps")]
        axis = robust_axis([r.axis for r in st.reps])
        median = float(np.median([r.rom_deg for r in st.results]))
        kept = [r for r in st.results if r.rom_deg >= self.settings.min_rep_fraction * median]
        median = float(np.median([r.rom_deg for r in kept]))
        b = self.buf.view(st.i_from, self._i_end)
        t = b[:, _T]
        t_stop = kept[-1].end_s + TRACE_AFTER_S
        b = b[: int(np.searchsorted(t, t_stop, side="right"))]
        t = b[:, _T]
        theta = sagittal_angle_deg(b[:, _U], axis, st.baseline_up)
        tilt_all = tilt_deg(b[:, _U], axis, st.baseline_up) if self.measure_tilt else None
        final: list[RepResult] = []
        for k, r in enumerate(kept):
            i, j = int(np.searchsorted(t, r.start_s)), int(np.searchsorted(t, r.end_s, side="right"))
            tilt = r.peak_tilt_deg
            if tilt_all is not None:
                tilt = float(np.max(np.abs(tilt_all[i:j]))) if j > i else 0.0
            top = float(np.max(theta[i:j])) if j > i else math.nan
            pause = kept[k + 1].start_s - r.end_s if k + 1 < len(kept) else None
            r = replace(
                r,
                index=k + 1,
                peak_tilt_deg=tilt,
                bottom_pause_s=pause,
                top_deg=top,
                bottom_deg=top - r.rom_deg,
            )
            final.append(judge_rep(self.fault_settings, r, median))
        reps = tuple(final)
        side = st.side
        result = SetResult(
            index=len(self.sets) + 1,
            side=side,
            start_s=reps[0].start_s,
            end_s=reps[-1].end_s,
            reps=reps,
            summary=SetSummary.from_reps(reps, FAULTS),
            baseline_source=st.baseline_source,
            trace=SetTrace(t.copy(), theta, tilt_all),
        )
        self.sets.append(result)
        return [SetEnded(result)]

    def _trim(self) -> None:
        """Forget samples no stage can look at any more.

        Everything within ``RETAIN_S`` of the newest sample is always kept (and every look-back is
        bounded by that window), plus the open set; so what is kept never depends on chunking.
        """
        self.buf.drop_older_than(
            self.t_now - RETAIN_S, keep_from=None if self._set is None else self._set.i_from
        )
