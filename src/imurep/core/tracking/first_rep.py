"""A set's first rep: from a held start position to an open set (:class:`FirstRepJudge`).

When the segment leaves a start position by more than ``open_deg``, the angle from that posture is
cut into a rest -> far -> rest cycle (a :class:`~imurep.core.tracking.rep_state.Candidate`).  The
cycle is the set's first rep if it rotates about one axis, without impacts, starts right after the
quiet start, comes back, moves the pelvis the exercise's way (hip sensor) and does not swing
through the start posture (a walking step does).  Then the set opens with the cycle's axis and the
start posture as its frame, and the rep is accepted as the set's first.

This is one part of :class:`~imurep.core.tracking.reps.SetTracker` (a base class of it, written
apart to keep each module to one job); it needs the tracker's buffer and state, declared below.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace

import numpy as np

from imurep.core.buffers import SampleBuffer
from imurep.core.metrics import (
    ONSET_SMOOTH_S,
    RepTiming,
    median,
    onset_threshold_deg_s,
    rep_axis,
    rep_timing,
    sagittal_angle_deg,
    unit,
)
from imurep.core.tracking.base import SideSchedule
from imurep.core.tracking.cycles import Cycle, CycleSegmenter, CycleSettings
from imurep.core.tracking.height import (
    AWAY_FRACTION,
    MAX_EXCURSION_M,
    MAX_REP_SPAN_S,
    MIN_DIRECTION_M,
    MIN_EXCURSION_M,
    came_back,
    far_m,
    height_tolerance_m,
    longest_moving_s,
    rep_height_m,
    still_height_m,
)
from imurep.core.tracking.rep_settings import SegmentationSettings
from imurep.core.tracking.rep_state import (
    C_G,
    C_Q,
    C_T,
    C_U,
    C_V,
    CALM_SET_REPS,
    MAX_CANDIDATES,
    Candidate,
    OpenSet,
    Rest,
    axis_rate,
    calm_rest,
    held_on_the_way,
    impact_mps2,
    off_axis,
    stopped_at,
)
from imurep.model.events import Event, SetStarted
from imurep.model.samples import FloatArray

__all__ = ["FirstRepJudge"]

logger = logging.getLogger("imurep.core.tracking.reps")  # one logger for the tracker's decisions

NEW_POSTURE_REASONS = ("came back only",)
"""A movement refused as a first rep for one of these (it did not come back to where it began: a
change of stance, a recording started mid-rep) leaves the lifter in a posture the next movement
starts from: that one is scanned from where it turned or stopped, quiet or not.  (Not after an
impact, an off-axis turn, a swing through the start, a hold on the way or a late start: walking and
getting onto the bench, whose next step from such a posture would look like a rep.)"""

PAST_QUIET_MARGIN = 0.15
"""A first rep from a calm start found after a blind stretch swings past the last quiet posture when
that posture lies between its start and its far end, further than this fraction of its range from
both (a thigh's walking steps swing back and forth around the standing posture; a rep's standing
or bottom posture lies at one end of it)."""

GYRO_SWING_FRACTION = 0.2
"""A first rep whose filtered angle swings through its start on the way back is still one when the
gyroscope's own angle (integrated over those few seconds) comes back to within this fraction of its
range past the start: the filter's angle was pulled off by an accelerometer error (real cases: 0.11,
0.15, 0.17).  A thigh's walking stride swings back 0.45-0.5 of its range in both, and 0.22 for the
gyroscope when judged from where it crossed the standing posture: the margin is thin, which is why
the filter's angle must swing through as well."""

SMALL_FIRST_FACTOR = 2.0
"""A movement refused for swinging through its start by at least this many times its own range
was a counter-movement before the real one (which is judged from the same start position)."""


class FirstRepJudge:
    """The first-rep half of :class:`~imurep.core.tracking.reps.SetTracker` (a base class)."""

    settings: SegmentationSettings
    measure_tilt: bool
    buf: SampleBuffer
    _cycle_settings: CycleSettings
    _sides: SideSchedule
    _rest: Rest | None
    _cands: list[Candidate]
    _set: OpenSet | None
    _n_sets: int
    _i_end: int
    _quiet_in_set: list[Rest]

    # SetTracker._accept: record the rep of the open set and report it
    _accept: Callable[
        [OpenSet, Cycle, FloatArray, FloatArray, RepTiming, FloatArray, float, int], list[Event]
    ]

    def _judge_pending(self) -> list[Event]:
        """Decide every candidate's pending first rep with the data there is (a marker, the end of
        the stream), then forget the candidates."""
        events: list[Event] = []
        for c in list(self._cands):
            if c.pending is None and c.inside is not None:  # the stream ended inside it
                c.pending, c.inside = c.inside, None
            if c.pending is not None:
                events.extend(self._judge_first(c, c.pending, final=True))
        self._cands = []
        return events

    def _candidates(self, b: int) -> list[Event]:
        """Start a candidate when the segment leaves the newest start position; scan them all."""
        r = self._rest
        if r is not None and not any(c.rest is r for c in self._cands):
            w = self.buf.view(r.i_scan_from + 1, b)
            if w.shape[0] and float(np.max(self._distance(w, r))) > self.settings.open_deg:
                seg = CycleSegmenter(self._cycle_settings, self.settings.open_deg)
                seg.start_rest(0.0, r.i_scan_from)
                self._cands.append(Candidate(r, seg, r.i_scan_from + 1))
                del self._cands[:-MAX_CANDIDATES]
        events: list[Event] = []
        for c in list(self._cands):
            if self._set is not None:
                break
            events.extend(self._scan_candidate(c, b))
        return events

    def _scan_candidate(self, c: Candidate, b: int) -> list[Event]:
        if c.pending is not None:
            ev = self._judge_first(c, c.pending, final=False)
            if c.pending is not None or self._set is not None:
                return ev
        w = self.buf.view(c.i_scan, b)
        if not w.shape[0]:
            return []
        d = self._distance(w, c.rest)
        events: list[Event] = []
        cycles, nxt = c.seg.update(c.i_scan, d, w[:, C_T], w[:, C_Q] > 0.5, stop_at_cycle=True)
        c.i_scan = nxt
        for cyc in cycles:
            f = c.inside
            if f is not None:  # the cycle before turned inside the rep: this one continues it
                cyc = Cycle(
                    cyc.kind,
                    f.i_base,
                    cyc.i_peak,  # the end is searched after it (the deepest point may be before)
                    cyc.i_low,
                    cyc.i_decide,
                    f.i_open,
                    f.base_deg,
                    max(cyc.peak_deg, f.peak_deg),
                )
            c.pending = cyc
            events.extend(self._judge_first(c, cyc, final=False))
            if self._set is not None or c not in self._cands:
                return events
        if c.i_scan < b and c in self._cands:
            events.extend(self._scan_candidate(c, b))
        return events

    def _distance(self, w: FloatArray, rest: Rest) -> FloatArray:
        """Angle between the up vectors of buffer rows ``w`` and a start position, degrees."""
        return np.asarray(np.degrees(np.arccos(np.clip(w[:, C_U] @ rest.up, -1.0, 1.0))), dtype=np.float64)

    def _drop(self, c: Candidate) -> None:
        if c in self._cands:
            self._cands.remove(c)
        if self._rest is c.rest:
            self._rest = None

    def _judge_first(self, c: Candidate, cyc: Cycle, *, final: bool) -> list[Event]:
        """Is ``cyc`` (the cycle of the distance from a start position) a set's first rep?"""
        s = self.settings
        rest = c.rest
        stop = (cyc.i_low if cyc.kind == "valley" else cyc.i_decide) + 1
        i0 = max(rest.i_scan_from, self.buf.first_index)
        w = self.buf.view(i0, stop)
        gyr = w[:, C_G]
        up_peak = self.buf.view(cyc.i_peak, cyc.i_peak + 1)[0, C_U]
        axis = rep_axis(gyr, rest.up, up_peak)
        off = off_axis(gyr, axis)
        reason = ""
        if off > s.max_off_axis:
            reason = f"off-axis {off:.2f}"
        elif (hit := impact_mps2(w)) > s.max_impact_mps2:
            reason = f"impact {hit:.1f} m/s2"
        q = self.buf.view(rest.i_from, rest.i_to + 1)
        k = int(np.searchsorted(q[:, C_T], rest.t_to_s - s.baseline_quiet_s))
        i_base_from = max(rest.i_from, self.buf.first_index) + k  # the set's samples start here
        if rest.t_to_s - rest.t_from_s >= s.baseline_quiet_s and not rest.forced and not rest.calm:
            base, source = unit(q[k:, C_U].mean(axis=0)), "start_position"
        else:
            base, source = rest.up.copy(), "first_rep_bottom"
        x, rate = sagittal_angle_deg(w[:, C_U], axis, base), axis_rate(w, axis)
        k_back = (cyc.i_decide if cyc.kind == "end" else cyc.i_low) - i0
        if not reason and (cyc.kind == "end" or float(rate[min(k_back, rate.shape[0] - 1)]) < -2.0):
            # the movement back goes on past the band, or through the start position (the distance
            # from it folds there: not a turn): measure up to where its smoothed rate has stopped,
            # plus the smoothing's half window
            w2 = self.buf.view(i0, self._i_end)
            r2 = axis_rate(w2, axis)
            k_in = k_back
            dt = median(np.diff(w2[:, C_T])) if w2.shape[0] > 1 else 0.01
            half = int(round(0.5 * ONSET_SMOOTH_S / dt)) + 1
            rs = np.convolve(r2, np.ones(2 * half - 1) / (2 * half - 1), mode="same")
            thr = onset_threshold_deg_s(float(np.max(np.abs(r2[: k_in + 1]))))
            done = np.flatnonzero(rs[k_in:] >= -thr)
            if done.size and k_in + int(done[0]) + half < w2.shape[0]:
                stop = i0 + k_in + int(done[0]) + half
            elif not final:
                return []  # wait for it
            else:
                stop = self._i_end
            w = self.buf.view(i0, stop)
            x, rate = sagittal_angle_deg(w[:, C_U], axis, base), axis_rate(w, axis)
        t = w[:, C_T]
        timing = (
            None
            if reason
            else rep_timing(
                t,
                x,
                cyc.i_peak - i0,
                stop - 1 - i0,
                s.band_fraction,
                settled=True,
                rate_deg_s=rate,
                i_base_max=None if c.inside is None else max(0, c.inside.i_peak - i0),
                i_end_from=None if c.inside is None else cyc.i_peak - i0,
            )
        )
        if not reason and timing is None:
            reason = "no rep shape"
        if timing is not None and not reason:
            if not self.settings.open_deg <= timing.rom_deg <= s.max_rom_deg:
                reason = f"range {timing.rom_deg:.1f}"
            elif not rest.forced and timing.start_s - rest.t_ready_s > s.start_gap_s:
                reason = f"did not start from rest ({timing.start_s - rest.t_ready_s:.2f} s after it)"
            elif held_on_the_way(
                w[: cyc.i_peak - i0 + 1], x[: cyc.i_peak - i0 + 1], timing, s.ref_quiet_s * 5
            ):
                # it stopped and held a posture part-way up: two movements (a change of posture, then
                # another), not one rep
                reason = "held a posture on the way"
            elif rest.passes is not None and (
                timing.bottom_deg + PAST_QUIET_MARGIN * timing.rom_deg
                < float(sagittal_angle_deg(rest.passes[None, :], axis, base)[0])
                < timing.top_deg - PAST_QUIET_MARGIN * timing.rom_deg
            ):
                reason = "swings past the last quiet posture"
            elif float(x[-1]) > timing.bottom_deg + (1.0 - s.first_return_fraction) * timing.rom_deg:
                # a set's first rep comes back to where it started (a change of posture does not)
                reason = f"came back only {(timing.top_deg - float(x[-1])) / timing.rom_deg:.0%} of the way"
            elif timing.bottom_deg < -s.overshoot_fraction * timing.top_deg:
                # it swung to the other side of the start position first (walking does)
                reason = f"swung {-timing.bottom_deg:.1f} deg through the start position first"
        if reason:
            logger.debug("movement at %.2f s is not a first rep: %s", float(t[0]), reason)
            c.pending = None
            self._drop(c)
            if self._rest is None and not final and timing is not None and timing.rom_deg < s.open_deg:
                # it hardly moved in any rep's plane (a shift of weight): still at that start position
                self._resume(rest, stop - 1)
            elif self._rest is None and not final and reason.startswith(NEW_POSTURE_REASONS):
                # the lifter is where that movement turned or stopped: touch-and-go reps that
                # follow it pause nowhere, so the next movement is scanned from there
                self._restart_at(stop - 1)
            return []
        assert timing is not None
        if (
            not final
            and c.inside is None
            and not self._turn_is_rest_side(i0 + int(np.searchsorted(t, timing.start_s)), cyc.i_low)
        ):
            # it turned inside the rep (the pelvis tucking at the bottom of a squat): the rep goes on
            logger.debug("turn at %.2f s is inside the first rep", float(t[-1]))
            c.inside, c.pending = cyc, None
            return []
        reason = self._first_rep_height(w, rate, timing)
        if reason:
            logger.debug("movement at %.2f s is not a first rep: %s", timing.start_s, reason)
            c.pending = None
            self._drop(c)
            if self._rest is None and reason.startswith("moves the pelvis"):
                # it started at the far side (held at the top, touch-and-go at the bottom): its far
                # turn is where the exercise's reps start
                self._restart_at(cyc.i_peak)
            elif self._rest is None and not final:
                # it ended at another height: the next movement starts from where it stopped
                self._restart_at(stop - 1)
            return []
        # confirm: it does not swing through its start (a walking step does), judged up to
        # ``confirm_s`` after its end or up to where the angle stopped going down, if sooner (so
        # that the first rep is announced as soon as the lifter stops or turns back up)
        after = self.buf.view(stop, self._i_end)
        i_top = int(np.argmax(x))
        t_back = np.concatenate((t[i_top:], after[:, C_T]))  # the way back, in the window and after
        back = np.concatenate((x[i_top:], sagittal_angle_deg(after[:, C_U], axis, base)))
        t_ok = stopped_at(t_back, back, timing.end_s, s.confirm_still_s, s.band_fraction * timing.rom_deg)
        if t_ok is None or t_ok > timing.end_s + s.confirm_s:
            if not final and float(t_back[-1]) < timing.end_s + s.confirm_s:
                return []
            t_ok = timing.end_s + s.confirm_s
        n_back = int(np.searchsorted(t_back, t_ok, side="right"))
        back = back[:n_back]
        if float(back.min()) < -s.overshoot_fraction * timing.top_deg and _gyro_swings_through(
            w, after, axis, x, timing, i_top, n_back, GYRO_SWING_FRACTION
        ):
            logger.debug("movement at %.2f s swings through its start: not a rep", timing.start_s)
            c.pending = None
            self._drop(c)
            if self._rest is None and not final and -float(back.min()) >= SMALL_FIRST_FACTOR * timing.top_deg:
                # a small movement one way, then a much larger one the other way (a counter-movement
                # before the first rep): the larger one is judged from the same start position
                self._resume(rest, stop - 1)
            return []
        # the set opens
        c.pending = None
        self._cands = []
        self._rest = None
        seg = CycleSegmenter(self._cycle_settings, s.rise_fraction * timing.rom_deg)
        st = OpenSet(
            index=0,
            axis=axis,
            baseline_up=base,
            baseline_source=source,
            bottom_up=rest.up.copy(),
            i_from=i_base_from,
            seg=seg,
            i_scan=stop,
            side=self._sides.side_of(self._n_sets),
            min_reps=max(s.min_set_reps, CALM_SET_REPS) if rest.calm else s.min_set_reps,
            calm=rest.calm,
        )
        st.mounts.append((0, base))
        self._n_sets += 1
        st.index = self._n_sets
        self._set = st
        self._quiet_in_set = []
        events: list[Event] = [SetStarted(st.index, timing.start_s)]
        i_end = i0 + timing.i_end
        events.extend(self._accept(st, cyc, w, x, timing, axis, off, i_end))
        # the set's signal from the first rep's end on; the cycle after it is scanned from there
        seg.start_rest(float(x[timing.i_end]), i_end)
        st.i_scan = i_end + 1
        return events

    def _restart_at(self, k: int) -> None:
        """The next movement is scanned from buffer row ``k``, a calm start position (not quiet)."""
        self._rest = calm_rest(self.buf.view(k, k + 1), k, k + 1)

    def _resume(self, rest: Rest, k: int) -> None:
        """Keep ``rest`` as the start position, the next movement scanned from buffer row ``k``
        (where a small movement refused as a first rep ended)."""
        t_k = float(self.buf.view(k, k + 1)[0, C_T])
        self._rest = replace(rest, i_resume=k, t_resume_s=t_k)

    def _first_rep_height(self, w: FloatArray, rate: FloatArray, timing: RepTiming) -> str:
        """Why a set's first rep (buffer rows ``w``, its angle's rate ``rate`` in degrees/s) is not
        one as the pelvis's height sees it, or "" (:func:`~imurep.core.tracking.height.rep_height_m`).

        A rep comes back to the height it left (sitting down or getting up does not), and its way
        out moves the pelvis the exercise's way (``away_height_sign``: up in a thrust, down in a
        squat; picking something up from standing lowers it).  Pelvis only; reps too long or too
        small to judge pass.
        """
        if not self.measure_tilt:
            return ""
        k_on = int(np.searchsorted(w[:, C_T], timing.start_s))
        k_end = timing.i_end + 1
        if k_end - k_on < 3:
            return ""
        t_on, acc_on, still = w[k_on:k_end, C_T], w[k_on:k_end, C_V], w[k_on:k_end, C_Q] > 0.5
        h: tuple[float, float] | None = None
        moving_s = longest_moving_s(t_on)
        if still.any():
            # a hold at the top, a pause on the way: integrated between the still moments, piece
            # by piece (the vertical velocity is zero there, so the drift starts again from zero)
            hs = still_height_m(t_on, acc_on, still)
            if hs is not None and abs(far_m(hs)) <= MAX_EXCURSION_M:
                h, moving_s = (far_m(hs), float(hs[-1])), longest_moving_s(t_on, still)
        if h is None:
            h = rep_height_m(t_on, acc_on)
        if h is not None:
            # (the end height carries the double integral's whole drift: only heights beyond it
            # are told)
            h_far, h_end = h
            away_m = height_tolerance_m(moving_s)
            if h_end * h_far > 0 and abs(h_end) >= max(AWAY_FRACTION * abs(h_far), away_m):
                return f"ends {h_end:+.2f} m from the height it left"
        sign = self.settings.away_height_sign
        if not sign:
            return ""
        # (a long rep's pieces add their errors up: only larger heights are told)
        min_m = MIN_DIRECTION_M if float(t_on[-1] - t_on[0]) <= MAX_REP_SPAN_S else MIN_EXCURSION_M
        # the way out moves it up or down: the furthest height of the whole rep or, for a long
        # rep, the height from the onset to the stillest moment at the top (where the vertical
        # velocity is zero too)
        far: float | None = None if h is None else h[0]
        if far is None:
            t = w[:, C_T]
            k_ts = int(np.searchsorted(t, timing.top_start_s))
            k_te = max(int(np.searchsorted(t, timing.top_end_s)), k_ts + 1)
            k_top = k_ts + int(np.argmin(np.abs(rate[k_ts:k_te]))) + 1
            out = rep_height_m(t[k_on:k_top], w[k_on:k_top, C_V]) if k_top - k_on >= 3 else None
            far = None if out is None else out[1]
        if far is not None and abs(far) >= min_m and far * sign < 0:
            return f"moves the pelvis {'down' if far < 0 else 'up'} {abs(far):.2f} m"
        return ""

    def _turn_is_rest_side(self, i_from: int, i_low: int) -> bool:
        """Whether the turn at buffer row ``i_low`` is back at the height the rep left at ``i_from``
        (the body's vertical motion, :func:`~imurep.core.tracking.height.came_back`): a turn of
        the angle at the far height is inside the rep.  Pelvis only
        (a thigh sensor's acceleration is dominated by the thigh's own rotation); stretches it
        cannot judge count as back."""
        if not self.measure_tilt:
            return True
        w = self.buf.view(max(i_from, self.buf.first_index), i_low + 1)
        return came_back(w[:, C_T], w[:, C_V]) is not False


def _gyro_swings_through(
    w: FloatArray,
    after: FloatArray,
    axis: FloatArray,
    x: FloatArray,
    timing: RepTiming,
    i_top: int,
    n_back: int,
    fraction: float,
) -> bool:
    """Whether the gyroscope alone sees the movement swing through its start on the way back.

    ``x`` (degrees) is the sagittal angle of the orientation filter, of buffer rows ``w``; the way
    back is its rows from ``i_top`` on, then ``after``, ``n_back`` of them.  An accelerometer with an
    offset (the thigh sensor of a real squat data set reads 12-15 m/s2 at rest) makes the filter's
    angle come back short at the bottom and then swing past the start on the way up, by 20-25 deg;
    the rate the gyroscope measures about the rep's axis, integrated from the rep's start over
    these few seconds, comes back to it.  A walking stride swings through in both.  True when the
    gyroscope's angle goes further than ``fraction`` of its range past the start.
    """
    rows = np.concatenate((w[timing.i_start :], after))
    rate = axis_rate(rows, axis)
    dt = np.diff(rows[:, C_T])
    theta = float(x[timing.i_start]) + np.concatenate(([0.0], np.cumsum(rate[:-1] * dt)))
    k_top = i_top - timing.i_start
    top = float(np.max(theta[: max(k_top + 1, 1)]))
    way_back = theta[max(k_top, 0) : max(k_top, 0) + n_back]
    return bool(way_back.size) and float(way_back.min()) < -fraction * top
