"""Cutting the stream into sets and reps (causal, stateful): :class:`SetTracker`.

What makes a rep, physically: the segment carrying the sensor rotates about one axis away from the
posture it rests in and comes back, and the reps of a set share that axis and that rest posture.
Nothing here depends on tempo or on an absolute range of motion.

1. **Start position.**  Quiet postures are followed block by block; one held for ``ref_quiet_s``
   is a possible start position.
2. **A set's first rep** (:class:`Candidate`): when the segment leaves a start position by more
   than ``open_deg``, the angle from that posture is cut into a rest → far → rest cycle
   (:class:`~imurep.core.tracking.cycles.CycleSegmenter`).  The cycle is the set's first rep if it
   rotates about one axis (``max_off_axis``), without impacts, starts right after the quiet start
   (``start_gap_s``) and does not swing through the start posture (a walking step does; judged
   ``confirm_s`` after its end, or as soon as the angle stops going down).  Its axis
   and the start posture define the set's frame: the *sagittal angle* about the axis, increasing
   away from the rest side (up for a hip thrust, down for a squat).  A quiet posture held during a
   candidate (the bench after lying down) starts another candidate, so a change of posture does not
   hide the set that follows.
3. **The set's reps**: the sagittal angle is cut into cycles; touch-and-go reps are separated at
   the turning point, reps with pauses at the band.  A cycle is a rep if it reaches
   ``min_rep_fraction`` of the set's median range (smaller: not a rep; partial reps are reps,
   flagged by the faults) and rotates about the set's axis.  A full rep about another axis or from
   another rest posture ends the set.  Each rep's phases, range and tilt are measured with the
   5 % rule (:func:`imurep.core.metrics.rep_timing`) on the set's current robust axis, and it is
   reported at once.
4. **Strap slip**: two consecutive reps whose axes agree with each other but have turned more than
   ``slip_deg`` from the set's axis mean the sensor moved on the body; the frame and the tilt
   reference are re-learned from them (``SetResult.mounting_changes_s``).
5. **Set end**: no rep for ``set_gap_s``, or the segment away from the set's range for ``leave_s``
   (the lifter got up), or a marker.  Tilt is then re-measured with the final axis of each mounting
   and the median-based rules use the final median; boundaries and ranges stay as reported live.

Step 2 is written in :mod:`~imurep.core.tracking.first_rep` (a base class of the tracker), the
final measurement of step 5 in :mod:`~imurep.core.tracking.set_result`, the tracker's state in
:mod:`~imurep.core.tracking.rep_state`.

Every decision is taken at an exact sample from the samples up to it, and every look-back is
bounded (:data:`~imurep.core.tracking.base.RETAIN_S`), so the results do not depend on chunking.
All vectors are in the sensor frame; ``up`` is the unit vector opposite to gravity's pull.
"""

from __future__ import annotations

import logging
import math
from bisect import bisect_left
from dataclasses import replace
from itertools import accumulate

import numpy as np

from imurep.core.buffers import SampleBuffer
from imurep.core.faults import FaultSettings, judge_rep
from imurep.core.metrics import (
    ONSET_SMOOTH_S,
    RepTiming,
    angle_between_deg,
    mean_1d,
    median_interval,
    rep_axis,
    rep_timing,
    robust_axis,
    sagittal_angle_deg,
    tilt_deg,
    unit,
)
from imurep.core.tracking.base import (
    RETAIN_S,
    BlockSignals,
    MarkerQueue,
    QuietRun,
    SideSchedule,
)
from imurep.core.tracking.cycles import REST, Cycle, CycleSettings
from imurep.core.tracking.first_rep import FirstRepJudge
from imurep.core.tracking.mounting import check_slip, new_mounting
from imurep.core.tracking.rep_settings import SegmentationSettings
from imurep.core.tracking.rep_state import (
    C_A,
    C_G,
    C_H,
    C_Q,
    C_S,
    C_T,
    C_U,
    C_V,
    MAX_CANDIDATES,
    SHORT_TRAIL_ROWS,
    TRAIL_ROWS,
    WIDTH,
    Candidate,
    OpenSet,
    RepPlace,
    Rest,
    axis_change_deg,
    axis_rate,
    calm_rest,
    impact_mps2,
    off_axis,
    rep_confidence,
)
from imurep.core.tracking.set_result import final_set_result, last_rep_began_leaving
from imurep.model.events import Event, Marker, RepCompleted, SetDiscarded, SetEnded
from imurep.model.results import RepResult, SetResult
from imurep.model.samples import FloatArray

__all__ = ["SegmentationSettings", "SetTracker"]

logger = logging.getLogger(__name__)


BLIND_RESTART_S = 3.0
"""With no start position for this long (a movement was refused and no quiet posture followed), s,
the next calm turn is one (a calm start: its set needs ``CALM_SET_REPS``, and its first rep may not
swing past the last quiet posture, which walking does).  Touch-and-go reps pause nowhere: without
this, a set whose first movement was refused (a recording started mid-set, a fidget before the set)
would not be seen at all.  3 s is about one slow rep: the reps lost before the tracker looks again."""

CALM_TURN_BLOCKS = 4
"""A calm turn is a block whose mean angular speed is the lowest of this many blocks on either side
(4 blocks of 50 ms: the turn of a rep, not a wobble within a movement)."""

CALM_TURN_FRACTION = 0.5
"""... and under this fraction of the fastest of them (the movement slows down markedly there)."""


class SetTracker(FirstRepJudge):
    """Finds sets and reps in the pipeline's signals and measures them.

    Implements :class:`~imurep.core.tracking.base.Tracker`.

    Parameters
    ----------
    settings, fault_settings
        Detection and fault settings.
    measure_tilt
        Whether pelvis tilt is measured (sensor on the hip).
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
        keep_traces: bool = True,
    ) -> None:
        self.settings = settings
        self.fault_settings = fault_settings
        self.keep_traces = keep_traces
        """Whether each set keeps its angle traces (for the report; memory grows with them)."""
        self.measure_tilt = measure_tilt
        self._sides = SideSchedule(sides)
        self.buf = SampleBuffer(WIDTH, capacity=1 << 14)
        self.sets: list[SetResult] = []
        self._cycle_settings = CycleSettings(
            band_fraction=settings.band_fraction,
            return_fraction=settings.return_fraction,
            rise_fraction=settings.rise_fraction,
            settle_quiet_s=settings.settle_quiet_s,
            settle_s=settings.settle_s,
            max_rep_s=settings.max_rep_s,
        )
        self._quiet = QuietRun(settings.quiet_drift_deg)
        self._quiet_n_samples = 0
        self._rest: Rest | None = None
        self._cands: list[Candidate] = []
        self._set: OpenSet | None = None
        self._markers = MarkerQueue()
        self._n_sets = 0  # sets announced (kept or open)
        self.t_now = -math.inf
        self._i_end = 0
        self._calm_blocks: list[tuple[float, int, int]] = []  # (mean speed, a, b) of the latest blocks
        self._blind_from_s: float | None = None
        self._last_quiet_up: FloatArray | None = None
        self._quiet_in_set: list[Rest] = []  # the latest quiet postures while a set is open
        self._bottom_memo: tuple[bytes, float, float] | None = None  # see _bottom_angles

    # -- feeding ---------------------------------------------------------------------------------

    def update(self, signals: BlockSignals) -> list[Event]:
        """Process consecutive whole blocks (see :class:`~imurep.core.tracking.base.BlockSignals`)."""
        t_s = signals.t_s
        n = t_s.shape[0]
        rows = np.empty((n, WIDTH))
        rows[:, C_T] = t_s
        rows[:, C_U] = signals.up
        rows[:, C_G] = signals.gyr_rads
        rows[:, C_H] = signals.acc_hf_mps2
        rows[:, C_Q] = signals.speed_rads < self.settings.quiet_rads
        rows[:, C_A] = np.nan
        rows[:, C_S] = signals.speed_rads
        rows[:, C_V] = 0.0 if signals.acc_up_mps2 is None else signals.acc_up_mps2
        i0 = self.buf.end_index
        self.buf.append(rows)
        events: list[Event] = []
        for a, b in signals.blocks():
            events.extend(self._block(i0 + a, i0 + b))
        self._trim()
        return events

    def mark(self, marker: Marker) -> None:
        """Register a lifter's marker (new set, side switch); applied when its time is processed."""
        self._markers.add(marker)

    def finish(self) -> list[Event]:
        """End of stream: decide what is pending and close the open set."""
        events = self._judge_pending()
        st = self._set
        if st is not None:
            events.extend(self._flush(st))
        if self._set is not None:
            events.extend(self._end_set())
        self._cands = []
        return events

    def _flush(self, st: OpenSet) -> list[Event]:
        """The stream ends (or a marker ends the set): a rep on its way back is complete.  Its turn
        is the stream's last sample, not a turning point: the pelvis's height there (the body may
        still be moving) does not tell whether it is back (see ``_judge_cycle``)."""
        cyc = st.seg.flush(self._i_end - 1)
        return [] if cyc is None else self._set_cycle(st, cyc, flushed=True)

    # -- per block -------------------------------------------------------------------------------

    def _block(self, a: int, b: int) -> list[Event]:
        v = self.buf.view(a, b)
        self.t_now = float(v[-1, C_T])
        self._i_end = b
        events: list[Event] = []
        if self._markers:
            for m in self._markers.due(self.t_now):
                events.extend(self._apply_marker(m))
        self._follow_quiet(a, v)
        if self._set is None:
            self._follow_calm(a, b, v)
            events.extend(self._candidates(b))
        if self._set is not None:
            events.extend(self._in_set(b))
            events.extend(self._check_set_end(v))
        return events

    def _apply_marker(self, m: Marker) -> list[Event]:
        events = self._judge_pending()
        st = self._set
        if st is not None:
            # a rep on its way back when the lifter pressed the key is complete
            events.extend(self._flush(st))
        if self._set is not None:
            events.extend(self._end_set())
        self._sides.apply(m)
        # the next movement starts a set from the posture at the marker, quiet or not
        i = self._i_end - 1
        u = self.buf.view(i, i + 1)[0]
        self._rest = Rest(unit(u[C_U].copy()), i, i, float(u[C_T]), float(u[C_T]), forced=True)
        logger.debug("marker %s at %.2f s applied", m.kind, m.t_s)
        return events

    def _follow_quiet(self, a: int, v: FloatArray) -> None:
        """Follow the quiet posture block by block; one held ``ref_quiet_s`` is a start position."""
        s = self.settings
        if not float(v[:, C_Q].min()) > 0.5:  # (the flags are 0 or 1)
            self._quiet.reset()
            return
        mean = unit(v[:, C_U].sum(axis=0))
        self._quiet.add(float(mean[0]), float(mean[1]), float(mean[2]), float(v[0, C_T]), a)
        t_end = float(v[-1, C_T])
        if t_end - self._quiet.t_start_s < s.ref_quiet_s:
            return
        posture = self._quiet.posture()
        self._last_quiet_up = posture
        i_to = a + v.shape[0] - 1
        if self._set is not None:
            # kept in case the set is discarded: the movement that ended it may start the real one
            qs = self._quiet_in_set
            if qs and qs[-1].i_to >= self._quiet.i_start:
                qs[-1].up, qs[-1].i_to, qs[-1].t_to_s = posture, i_to, t_end
            else:
                qs.append(Rest(posture, self._quiet.i_start, i_to, self._quiet.t_start_s, t_end))
                del qs[:-MAX_CANDIDATES]
            return
        r = self._rest
        if r is not None and r.i_to >= self._quiet.i_start and not r.forced:
            r.up, r.i_to, r.t_to_s = posture, i_to, t_end  # the same quiet run goes on
            return
        self._rest = Rest(posture, self._quiet.i_start, i_to, self._quiet.t_start_s, t_end)

    def _follow_calm(self, a: int, b: int, v: FloatArray) -> None:
        """A start position that is not quiet: the stream's first block (a recording that begins
        right before, or during, the first rep), and, after ``BLIND_RESTART_S`` with no start
        position at all, the calmest moment of the movement (touch-and-go reps in a recording
        started mid-set never pause; see :data:`BLIND_RESTART_S`)."""
        speed = mean_1d(v[:, C_S])
        blocks = self._calm_blocks
        first = not blocks
        blocks.append((speed, a, b))
        del blocks[: -(2 * CALM_TURN_BLOCKS + 1)]
        if first and self._rest is None:
            self._rest = calm_rest(self.buf.view(a, b), a, b)
        if self._rest is not None or self._cands:
            self._blind_from_s = None
            return
        if self._blind_from_s is None:
            self._blind_from_s = float(v[0, C_T])
            return
        if self.t_now - self._blind_from_s < BLIND_RESTART_S or len(blocks) < 2 * CALM_TURN_BLOCKS + 1:
            return
        s_mid, pa, pb = blocks[CALM_TURN_BLOCKS]
        others = [x[0] for k, x in enumerate(blocks) if k != CALM_TURN_BLOCKS]
        if s_mid < min(others) and s_mid < CALM_TURN_FRACTION * max(others):
            logger.debug(
                "no start position for %.1f s: the turn at %.2f s is one",
                self.t_now - self._blind_from_s,
                float(self.buf.view(pa, pa + 1)[0, C_T]),
            )
            self._rest = replace(calm_rest(self.buf.view(pa, pb), pa, pb), passes=self._last_quiet_up)
            self._blind_from_s = None

    # -- the set's reps --------------------------------------------------------------------------

    def _set_coord(self, st: OpenSet, w: FloatArray) -> tuple[FloatArray, FloatArray]:
        """The set's sagittal angle (degrees) and its rate (degrees/s) for buffer rows ``w``."""
        return sagittal_angle_deg(w[:, C_U], st.axis, st.baseline_up), axis_rate(w, st.axis)

    def _in_set(self, b: int) -> list[Event]:
        st = self._set
        events: list[Event] = []
        while st is not None and st is self._set and st.i_scan < b:
            a = st.i_scan
            v = self.buf.view(a, b)
            x = sagittal_angle_deg(v[:, C_U], st.axis, st.baseline_up)
            v[:, C_A] = x
            rate = self._trailing_rate(st, a, b)
            cycles, nxt = st.seg.update(a, x, v[:, C_T], v[:, C_Q] > 0.5, rate=rate, stop_at_cycle=True)
            st.i_scan = nxt
            for cyc in cycles:
                events.extend(self._set_cycle(st, cyc))
        return events

    def _trailing_rate(self, st: OpenSet, a: int, b: int) -> FloatArray:
        """The angle's rate for samples ``a:b``, averaged over the trailing ``ONSET_SMOOTH_S``: a
        rep is decided over once this has stopped, so the centred average that
        :func:`~imurep.core.metrics.rep_timing` measures with has stopped too by then."""
        w, t = self._trailing_window(a, b)
        r = axis_rate(w, st.axis).tolist()
        n_new = b - a
        dt = median_interval(t)
        k = max(1, int(round(ONSET_SMOOTH_S / dt)) // 2 * 2 + 1)
        # running sums in plain floats (the same additions as np.cumsum, without its overhead)
        c = [0.0, *accumulate(r)]
        m = len(r)
        out = []
        for h in range(m - n_new + 1, m + 1):
            lo = h - k if h > k else 0
            out.append((c[h] - c[lo]) / (h - lo))
        return np.array(out)

    def _trailing_window(self, a: int, b: int) -> tuple[FloatArray, list[float]]:
        """The kept rows from the first one at most ``ONSET_SMOOTH_S`` before row ``a`` to row
        ``b - 1``, and their times."""
        buf = self.buf
        n_new = b - a
        # searched in the last rows first (a few dozen: in plain floats), then in TRAIL_ROWS rows,
        # the whole buffer only when the window reaches further
        w = buf.view(a - SHORT_TRAIL_ROWS, b)
        t = w[:, C_T].tolist()
        k0 = bisect_left(t, t[max(0, len(t) - n_new)] - ONSET_SMOOTH_S)
        if k0 > 0 or a - SHORT_TRAIL_ROWS <= buf.first_index:
            return w[k0:], t[k0:]
        for lookback in (TRAIL_ROWS, 1_000_000):
            w = buf.view(a - lookback, b)
            ts = w[:, C_T]
            k0 = int(np.searchsorted(ts, float(ts[max(0, w.shape[0] - n_new)]) - ONSET_SMOOTH_S))
            if k0 > 0 or a - lookback <= buf.first_index:
                break
        w = w[k0:]
        return w, w[:, C_T].tolist()

    def _set_cycle(self, st: OpenSet, cyc: Cycle, *, flushed: bool = False) -> list[Event]:
        """Judge and measure a cycle of the open set's signal (``flushed``: cut by the stream's end
        or a marker, see :meth:`_flush`)."""
        events = self._decide_held(st, cyc)
        if self._set is not st:
            return events
        return events + self._judge_cycle(st, cyc, flushed=flushed)

    def _decide_held(self, st: OpenSet, cyc: Cycle) -> list[Event]:
        """A rep held for turning about another axis is a rep when the movement after it turns about
        the set's axis again (the strap slipped during it); otherwise the set ends before it."""
        if st.held is None:
            return []
        held, st.held = st.held, None
        i_end = held[-1]
        w = self.buf.view(max(i_end, self.buf.first_index), cyc.i_peak + 1)
        s = self.settings
        if w.shape[0] >= 3:
            # a slip moves the rest posture (the sensor turned on the body) and the reps after it
            # turn about the set's axis again, give or take the slip
            axis = rep_axis(w[:, C_G], w[0, C_U], w[-1, C_U])
            moved = angle_between_deg(w[0, C_U], st.bottom_up)
            if (
                angle_between_deg(axis, st.axis) <= s.max_axis_change_deg
                and 0.5 * s.slip_deg < moved <= s.max_bottom_change_deg
            ):
                logger.debug("the rep at %.2f s was one (the strap slipped)", held[3].start_s)
                return self._accept(st, *held)
        logger.debug("rep at %.2f s turned about another axis: the set ends", held[3].start_s)
        # (a set discarded now is scanned again from a quiet posture before that rep)
        st.leave_since_s = min(held[3].start_s, math.inf if st.leave_since_s is None else st.leave_since_s)
        after = [
            q
            for q in self._quiet_in_set
            if i_end <= q.i_from and q.i_to <= cyc.i_peak and q.i_from >= self.buf.first_index
        ]
        events = self._end_set_before(held[0])
        if self._rest is None and after:
            # the movement that decided it may be the next set's first rep: scanned again from the
            # latest quiet posture between the held one and it
            self._rest, self._cands = after[-1], []
        return events

    def _judge_cycle(self, st: OpenSet, cyc: Cycle, *, flushed: bool = False) -> list[Event]:
        s = self.settings
        i_prev = st.reps[-1].i_end if st.reps else st.i_from
        stop = (cyc.i_low if cyc.kind == "valley" else cyc.i_decide) + 1
        i0 = max(i_prev, self.buf.first_index)
        w = self.buf.view(i0, stop)
        t = w[:, C_T]
        x, rate = self._set_coord(st, w)
        i_base_max = None if st.i_inside is None else max(0, st.i_inside - i0)
        timing = rep_timing(
            t,
            x,
            cyc.i_peak - i0,
            stop - 1 - i0,
            s.band_fraction,
            settled=True,
            rate_deg_s=rate,
            i_base_max=i_base_max,
            i_end_from=None if i_base_max is None else cyc.i_peak - i0,
        )
        median = st.median_rom()
        if timing is None or timing.rom_deg < s.min_rep_fraction * median:
            logger.debug("movement at %.2f s is not a rep (range)", float(t[0]))
            return []
        rep_w = w[timing.i_start : timing.i_end + 1]
        gyr = rep_w[:, C_G]
        up_bottom = w[int(np.argmin(x[: cyc.i_peak - i0 + 1])), C_U]
        up_top = self.buf.view(cyc.i_peak, cyc.i_peak + 1)[0, C_U]
        axis = rep_axis(gyr, up_bottom, up_top) if gyr.shape[0] >= 3 else st.axis
        if timing.rom_deg > s.max_rom_deg:
            return []
        off = off_axis(gyr, axis)
        # (with a hip sensor, leaving out the lean that the measured tilt explains)
        dev = angle_between_deg(axis, st.axis)
        if self.measure_tilt:
            dev = axis_change_deg(axis, st.axis, up_bottom)
        full = timing.rom_deg >= 0.6 * median
        if off > s.max_off_axis or dev > s.max_axis_change_deg:
            if full and dev > s.max_axis_change_deg and off <= s.max_off_axis:
                if st.held is None:
                    # the strap may have slipped during it: the next movement decides
                    logger.debug("rep at %.2f s turns about another axis: held", timing.start_s)
                    st.held = (cyc, w, x, timing, axis, off, i0 + timing.i_end)
                    return []
                logger.debug("rep at %.2f s turns about another axis: the set ends", timing.start_s)
                return self._end_set_before(st.held[0])
            logger.debug("movement at %.2f s is not a rep (off-axis %.2f, axis %.1f deg)", t[0], off, dev)
            return []
        if not flushed and not self._turn_is_rest_side(i_prev, cyc.i_low):
            logger.debug("turn at %.2f s is not at the rest side: part of a rep", float(t[-1]))
            if st.i_inside is None:
                st.i_inside = cyc.i_peak  # the rep started before this cycle's far turn
            return []
        past = s.overshoot_fraction * median
        if s.max_past_rest_deg > 0:
            past = min(past, s.max_past_rest_deg)
        if timing.bottom_deg < st.rest_floor_deg - past:
            # it swings past the rest side the set's reps come back to (walking does)
            logger.debug("movement at %.2f s swings past the set's rest side", float(t[0]))
            return []
        lim = max(s.max_bottom_change_deg, 0.5 * float(np.median([r.rom_deg for r in st.results])))
        if full and angle_between_deg(up_bottom, st.bottom_up) > lim:
            logger.debug("rep at %.2f s starts from another posture: the set ends", timing.start_s)
            return self._end_set_before(cyc)
        return self._accept(st, cyc, w, x, timing, axis, off, i0 + timing.i_end)

    def _end_set_before(self, cyc: Cycle) -> list[Event]:
        """End the open set.  When that set began without a held start position (the stream's first
        samples), the movement of ``cyc`` may begin the real set: it is scanned again, as a set's
        first rep, from where the set's last rep ended (the rest side)."""
        st = self._set
        i = st.reps[-1].i_end if st is not None and st.reps else cyc.i_base
        events = self._end_set()
        if st is not None and st.calm and self.buf.first_index <= i < self._i_end:
            self._restart_at(i)
        return events

    def _accept(
        self,
        st: OpenSet,
        cyc: Cycle,
        w: FloatArray,
        x: FloatArray,
        timing: RepTiming,
        axis: FloatArray,
        off_axis: float,
        i_end: int,
    ) -> list[Event]:
        """Record a rep of the open set and report it (``x``: the signal it was cut on, of ``w``)."""
        s = self.settings
        check_slip(st, axis, w, timing.i_start, s.slip_deg)
        rep_up = w[timing.i_start : timing.i_end + 1, C_U]
        tilt: float | None = None
        if self.measure_tilt:
            tl = tilt_deg(rep_up, st.axis, st.mounts[-1][1])
            tilt = float(np.max(np.abs(tl))) if tl.size else 0.0
        median = float(np.median([r.rom_deg for r in st.reps] + [timing.rom_deg]))
        conf = rep_confidence(
            rom_ratio=timing.rom_deg / median if median > 0 else 1.0,
            off_axis=off_axis,
            max_off_axis=s.max_off_axis,
            axis_dev_deg=angle_between_deg(axis, st.axis),
            max_axis_deg=s.max_axis_change_deg,
            impact=impact_mps2(w[timing.i_start : timing.i_end + 1]) > s.max_impact_mps2,
            settled=cyc.kind == "settled",
            min_rep_fraction=s.min_rep_fraction,
        )
        rep = RepResult(
            index=len(st.results) + 1,
            start_s=timing.start_s,
            top_start_s=timing.top_start_s,
            top_end_s=timing.top_end_s,
            end_s=timing.end_s,
            rom_deg=timing.rom_deg,
            peak_tilt_deg=tilt,
            confidence=conf,
        )
        rep = judge_rep(self.fault_settings, rep, median)
        if st.results:
            prev = st.results[-1]
            st.results[-1] = replace(prev, bottom_pause_s=rep.start_s - prev.end_s)
        st.results.append(rep)
        st.reps.append(RepPlace(i_end, axis, st.mount, timing.rom_deg))
        st.i_inside = None
        st.last_end_s = rep.end_s
        st.max_rom_deg = max(st.max_rom_deg, rep.rom_deg)
        st.bottom_up = w[int(np.argmin(x[: max(timing.i_start, 1)])), C_U].copy()
        i_top = int(np.argmax(x[: timing.i_end + 1]))
        st.rest_floor_deg = min(st.rest_floor_deg, float(np.min(x[i_top:])) if x.shape[0] > i_top else 0.0)
        # the frame follows the reps of the current mounting (robust average of their axes)
        st.axis = robust_axis([r.axis for r in st.reps if r.mount == st.mount])
        st.seg.open_deg = max(s.rise_fraction * st.median_rom(), 0.5)
        return [RepCompleted(st.index, rep, self.t_now)]

    # -- sets ------------------------------------------------------------------------------------

    def _check_set_end(self, v: FloatArray) -> list[Event]:
        """End the open set after a long gap, or when the segment leaves the set's range of motion."""
        st = self._set
        if st is None:
            return []
        s = self.settings
        if st.seg.mode == REST and self.t_now - st.last_end_s > s.set_gap_s:
            logger.debug("set %d ends at %.2f s: no rep for %.0f s", st.index, self.t_now, s.set_gap_s)
            return self._end_set()
        up = v[-1, C_U]
        theta = float(sagittal_angle_deg(up[None, :], st.axis, st.baseline_up)[0])
        el = math.degrees(math.asin(max(-1.0, min(1.0, float(up @ st.axis)))))
        el0, bottom = self._bottom_angles(st)
        lim = s.leave_deg
        if theta < bottom - lim or theta > bottom + st.max_rom_deg + lim or abs(el - el0) > lim:
            if st.leave_since_s is None:
                st.leave_since_s = self.t_now
            elif self.t_now - st.leave_since_s >= s.leave_s:
                logger.debug("set %d ends at %.2f s: the segment left the set's range", st.index, self.t_now)
                return self._end_set()
        else:
            st.leave_since_s = None
        return []

    def _bottom_angles(self, st: OpenSet) -> tuple[float, float]:
        """Elevation of the axis (degrees) and sagittal angle (degrees) of the set's rest posture;
        they change only with a rep, so they are kept until their inputs change."""
        key = st.bottom_up.tobytes() + st.axis.tobytes() + st.baseline_up.tobytes()
        if self._bottom_memo is None or self._bottom_memo[0] != key:
            el0 = math.degrees(math.asin(max(-1.0, min(1.0, float(st.bottom_up @ st.axis)))))
            bottom = float(sagittal_angle_deg(st.bottom_up[None, :], st.axis, st.baseline_up)[0])
            self._bottom_memo = (key, el0, bottom)
        return self._bottom_memo[1], self._bottom_memo[2]

    def _end_set(self) -> list[Event]:
        """Close the open set: final tilt with each mounting's axis, final median-based rules.

        Rep boundaries and ROM stay as they were shown live; only what needs the whole set changes.
        """
        s = self.settings
        st = self._set
        self._set = None
        self._quiet.reset()
        if st is None or not st.results:
            return []
        min_rom = s.min_set_rom_deg if self.measure_tilt else max(s.min_set_rom_deg, s.min_set_rom_thigh_deg)
        if len(st.results) < st.min_reps:
            why = f"a set needs at least {st.min_reps} reps"
        elif float(np.median([r.rom_deg for r in st.results])) < min_rom:
            why = f"its reps move less than {min_rom:g} deg (median)"
        else:
            why = ""
        if why:
            logger.debug("movements at %.2f s dropped: %s", st.results[0].start_s, why)
            self._n_sets -= 1
            # the movement that ended it may be the real set's first rep: from the latest quiet
            # posture on, it is scanned again
            # (before the movement that left the set's range: not the top of that movement)
            # (after the last rep that ended before it: a rep cut short by the movement is not one)
            t_left = math.inf if st.leave_since_s is None else st.leave_since_s
            ends = [p.i_end for p, r in zip(st.reps, st.results, strict=True) if r.end_s <= t_left]
            i_after = ends[-1] if ends else st.reps[0].i_end
            back = [
                q
                for q in self._quiet_in_set
                if q.i_to >= i_after and q.i_from >= self.buf.first_index and q.t_from_s < t_left
            ]
            if back:
                self._rest = back[-1]
                self._cands = []
            elif st.calm and self.buf.first_index <= i_after < self._i_end:
                # no quiet posture since (touch-and-go): the rest side where its last rep ended
                # (a set opened by a shuffle at the stream's start, left by the real first rep)
                self._restart_at(i_after)
                self._cands = []
            return [SetDiscarded(st.index, why)]
        if st.suspect is not None:
            # the reps since the suspected one all stayed turned: the strap slipped there
            new_mounting(st, None)
        after = self.buf.view(max(st.reps[-1].i_end, self.buf.first_index), self._i_end)
        drop_last = last_rep_began_leaving(st, after, s.ref_quiet_s)
        if drop_last:
            logger.debug("set %d: its last rep began the movement that left the set", st.index)
        result = final_set_result(
            st,
            self.buf.view(st.i_from, self._i_end),
            len(self.sets) + 1,
            min_rep_fraction=s.min_rep_fraction,
            fault_settings=self.fault_settings,
            measure_tilt=self.measure_tilt,
            keep_trace=self.keep_traces,
            drop_last=drop_last,
        )
        self.sets.append(result)
        return [SetEnded(result)]

    def _trim(self) -> None:
        """Forget samples no stage can look at any more.

        Everything within ``RETAIN_S`` of the newest sample is always kept (and every look-back is
        bounded by that window), plus the open set; so what is kept never depends on chunking.
        """
        keep = None if self._set is None else self._set.i_from
        if self._cands:
            first = min(c.rest.i_from for c in self._cands)
            keep = first if keep is None else min(keep, first)
        self.buf.drop_older_than(self.t_now - RETAIN_S, keep_from=keep)
