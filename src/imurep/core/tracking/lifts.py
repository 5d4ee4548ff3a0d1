"""Counting leg lifts during a held bridge (causal, stateful): the glute bridge with leg lift.

The lifter holds a two-leg bridge and lifts one foot a few inches, then the other, without the
pelvis rotating or side-bending.  :class:`LiftTracker` replaces the rep segmentation for this
exercise (``AnalysisSettings.mode == "leg_lift"``); it is fed the same per-block signals and emits
the same events, with one :class:`~imurep.model.results.LiftResult` per lift.

1. **Bridge.**  A quiet posture reached from the previous quiet posture (lying on the floor) by a
   rotation of ``min_bridge_deg``..``max_bridge_deg`` about one axis within ``max_rise_s`` is a
   bridge.  The rise gives the segment's medio-lateral axis in the sensor frame (oriented as
   :func:`imurep.metrics.rep_axis`: the up vector turns positively about it as the hips rise).
   The bridge ends when the segment is back near the floor posture and quiet, or far from the
   bridge for ``leave_s``.  One bridge is one set.
2. **Lifts** (sensor on the pelvis, ``placement="hip"``).  Relative to the bridge posture the
   pelvis deviation is ``d = hypot(roll, yaw)``: *roll* is the change of the medio-lateral axis'
   elevation (pelvic rotation about the long axis of the body, one side dropping), *yaw* the
   integrated rotation about the vertical (side-bending).  Both are measured from baselines that
   follow slow drift while no lift is under way.  A lift is an excursion of ``d`` above
   ``open_deg`` that peaks at ``min_lift_deg`` or more and comes back.  Unloading one leg lets
   that side of the pelvis drop, so the **side** of the lift is the side whose half of the pelvis
   goes down (sign of the roll at the top).  Phases use ``band_fraction`` of the peak (the 5 % rule
   of reps is below the noise of a 1° signal): lifting = from 10 % to 90 %, top hold = above
   90 % (foot held up), set-down = from 90 % back to 10 %.  ``peak_tilt_deg`` is the peak of ``d``
   (pelvic rotation and side-bend together, judged against ``faults.tilt_threshold_deg``) and
   ``rom_deg`` the bridge height at the lift (sagittal angle above the floor posture).
3. **Lifts** (sensor on a thigh).  The lifted thigh flexes: a lift is an excursion of the thigh's
   sagittal angle below the bridge posture by ``min_thigh_lift_deg`` or more; only the lifts of the
   leg carrying the sensor are seen (``side`` = the set's side).  ``rom_deg`` is the thigh flexion of
   the lift; pelvic rotation is not measured.

Limits: a pelvis that does not move at all when the foot lifts (less than about ``min_lift_deg``)
gives nothing to count; the timing is that of the pelvis' response, which follows the foot.

All vectors are in the sensor frame; ``up`` is the unit vector opposite to gravity's pull.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field, replace

import numpy as np

from imurep.core.buffers import SampleBuffer
from imurep.core.faults import FaultSettings, judge_rep
from imurep.core.metrics import angle_between_deg, rep_axis, rep_timing, sagittal_angle_deg, tilt_deg, unit
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
from imurep.model.results import LiftResult, SetResult, SetSummary, SetTrace
from imurep.model.samples import FloatArray

logger = logging.getLogger(__name__)

_LIFT_LEAD_S = 2.0
"""A lift is measured from this long before it opened (its start lies within), s."""

_STEPS, _STEPS_WINDOW_S, _STEP_GAP_S = 3, 2.5, 0.25
"""Walking: this many impacts (at least ``_STEP_GAP_S`` apart) within ``_STEPS_WINDOW_S`` (s)."""

_PRE_S = (1.0, 0.4)
"""The baselines of a lift are the means from 1.0 s to 0.4 s before it opened (s)."""

# buffer columns: time, up vector, angular rate, quiet flag, high-frequency acceleration, then (in a
# bridge) d, roll, yaw, sagittal angle
_T, _U, _G, _Q, _H, _D, _R, _Y, _S = 0, slice(1, 4), slice(4, 7), 7, 8, 9, 10, 11, 12
_WIDTH = 13


@dataclass(frozen=True)
class LiftSettings:
    """Settings of bridge and leg-lift detection.

    Attributes
    ----------
    min_bridge_deg, max_bridge_deg
        Range of the rise from the floor into the bridge, degrees.
    max_rise_s
        Longest rise into the bridge (from leaving the floor posture to being quiet at the top), s.
    max_off_axis
        Largest fraction of the rise's rotation energy off its main axis, 0..1.
    quiet_rads
        Smoothed angular speed below which the segment counts as quiet, rad/s.
    ref_quiet_s
        Quiet time that establishes a posture (floor, bridge), s.
    quiet_drift_deg
        A quiet run ends when the posture drifts this far from the run's mean, degrees.
    open_deg
        Pelvis deviation ``d`` that opens a lift (hip), degrees.
    min_lift_deg
        Smallest peak of ``d`` that counts as a lift (hip), degrees.
    min_thigh_lift_deg
        Smallest thigh flexion that counts as a lift (thigh), degrees; a lift opens at half of it.
    band_fraction
        Fraction of a lift's peak that bounds its phases (start/end at it, top above 1 - it).
    baseline_time_constant_s
        Time constant with which the baselines of roll, yaw and sagittal angle follow slow drift
        while no lift is under way, s.
    min_lift_s, max_lift_s
        A lift lasts at least / at most this long (longer: a change of posture), s.
    min_gap_s
        A movement that starts within this long after a lift ended is the segment settling after
        it (a rebound), not a lift, s.
    settle_s
        A lift is also over when the segment has been quiet this long below half the peak with
        ``d`` staying within ``band_fraction`` of the peak (settled away from the baseline), s.
    floor_fraction, floor_quiet_s
        The bridge has been lowered when the segment is quiet within ``floor_fraction`` (0..1) of
        the bridge's rise from the floor posture for ``floor_quiet_s`` (s).
    thigh_floor_quiet_s
        The same quiet time for a thigh sensor, s: a lifted thigh flexes towards its floor posture,
        so only a longer rest there means the bridge was lowered.
    leave_deg, leave_s
        The bridge also ends when the segment stays this far (degrees) from the bridge posture for
        this long (s).
    max_impact_mps2
        ... or on steps: three impacts (high-frequency acceleration above this, m/s²) within
        2.5 s, heel strikes of walking (a dropped foot is a single jolt).
    min_set_lifts
        A bridge with fewer lifts is not a set (announced, then discarded): a stability set is
        8-10 lifts per side, a stray movement or two (e.g. the first steps after getting up, before
        they are recognised as walking) is not.
    """

    min_bridge_deg: float = 10.0
    max_bridge_deg: float = 50.0
    max_rise_s: float = 5.0
    max_off_axis: float = 0.3
    quiet_rads: float = 0.08
    ref_quiet_s: float = 0.3
    quiet_drift_deg: float = 2.0
    open_deg: float = 0.6
    min_lift_deg: float = 0.8
    min_thigh_lift_deg: float = 5.0
    band_fraction: float = 0.2
    baseline_time_constant_s: float = 3.0
    min_lift_s: float = 0.3
    max_lift_s: float = 10.0
    settle_s: float = 0.5
    min_gap_s: float = 0.3
    floor_fraction: float = 0.3
    floor_quiet_s: float = 0.5
    thigh_floor_quiet_s: float = 2.5
    leave_deg: float = 30.0
    leave_s: float = 1.5
    max_impact_mps2: float = 2.0
    min_set_lifts: int = 4

    def __post_init__(self) -> None:
        positive = [
            "min_bridge_deg",
            "max_rise_s",
            "quiet_rads",
            "ref_quiet_s",
            "quiet_drift_deg",
            "open_deg",
            "min_lift_deg",
            "min_thigh_lift_deg",
            "baseline_time_constant_s",
            "min_lift_s",
            "settle_s",
            "min_gap_s",
            "floor_quiet_s",
            "thigh_floor_quiet_s",
            "leave_deg",
            "leave_s",
            "max_impact_mps2",
        ]
        for name in positive:
            if not getattr(self, name) > 0:
                raise SettingsError(f"lifts.{name} must be > 0, got {getattr(self, name)!r}")
        if self.min_bridge_deg >= self.max_bridge_deg:
            raise SettingsError("lifts.min_bridge_deg must be below lifts.max_bridge_deg")
        if self.min_lift_s >= self.max_lift_s:
            raise SettingsError("lifts.min_lift_s must be below lifts.max_lift_s")
        if self.open_deg > self.min_lift_deg:
            raise SettingsError("lifts.open_deg must not exceed lifts.min_lift_deg")
        if not 0 < self.band_fraction < 0.5:
            raise SettingsError(f"lifts.band_fraction must be in (0, 0.5), got {self.band_fraction!r}")
        if not 0 < self.floor_fraction < 1 or not 0 < self.max_off_axis <= 1:
            raise SettingsError("lifts.floor_fraction must be in (0, 1) and lifts.max_off_axis in (0, 1]")
        if self.min_set_lifts < 1:
            raise SettingsError(f"lifts.min_set_lifts must be >= 1, got {self.min_set_lifts!r}")


@dataclass
class _Bridge:
    """A held bridge: its axis and postures (sensor frame) and the lifts found so far."""

    axis: FloatArray  # medio-lateral axis, oriented as rep_axis (floor -> bridge)
    floor_up: FloatArray
    hold_up: FloatArray
    rise_deg: float
    i_from: int  # first buffered sample of the bridge (start of the rise)
    t_rise_s: float
    side: str | None
    b_roll: float = 0.0  # baselines (degrees)
    b_yaw: float = 0.0
    b_sag: float = 0.0
    yaw: float = 0.0  # integrated rotation about the vertical since the bridge began, degrees
    lift_from: int = -1  # absolute index where the open lift's window starts (-1: none)
    ref_up: FloatArray | None = None  # posture before the open lift
    last_close: int = 0  # where the last lift (or long movement) ended: no lift window reaches back
    peak: float = 0.0
    i_peak: int = -1
    quiet_low_s: float = math.nan  # since when quiet below half the peak, d staying near d_settle
    d_settle: float = 0.0
    leave_since_s: float = math.nan
    floor_since_s: float = math.nan
    set_index: int = 0  # index announced by SetStarted (0: not announced yet)
    impacts: list[float] = field(default_factory=lambda: [-math.inf])  # times of recent impacts
    results: list[LiftResult] = field(default_factory=list)  # the lifts of the open set


class LiftTracker:
    """Finds bridges and the leg lifts within them; groups each bridge's lifts into a set.

    Implements :class:`~imurep.core.tracking.base.Tracker`, like
    :class:`~imurep.core.tracking.reps.SetTracker`.

    Parameters
    ----------
    settings, fault_settings
        Detection and fault settings.
    measure_tilt
        True for the sensor on the pelvis (lifts of both legs, pelvic rotation measured); False for
        a thigh (lifts of that leg only).
    sides
        Side of each set in order (the last one repeats); used for the thigh.
    """

    def __init__(
        self,
        settings: LiftSettings,
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
        self.pelvis = measure_tilt
        """Whether the sensor is on the pelvis (lifts of both legs, pelvic motion measured)."""
        self._sides = SideSchedule(sides)
        self.buf = SampleBuffer(_WIDTH, capacity=1 << 14)
        self.sets: list[SetResult] = []
        self._bridge: _Bridge | None = None
        self._markers = MarkerQueue()
        self._n_sets = 0  # sets announced (kept or open)
        self._n_bridges = 0
        self._quiet = QuietRun(settings.quiet_drift_deg)  # quiet-posture tracking outside a bridge
        self._rest: tuple[FloatArray, int, float] | None = None  # posture, last quiet index, time
        self.t_now = -math.inf
        self._t_prev = math.nan

    # -- feeding ---------------------------------------------------------------------------------

    def update(self, signals: BlockSignals) -> list[Event]:
        """Process consecutive whole blocks (see :class:`~imurep.core.tracking.base.BlockSignals`)."""
        t_s = signals.t_s
        i0 = self.buf.end_index
        n = t_s.shape[0]
        quiet = (signals.speed_rads < self.settings.quiet_rads).astype(np.float64)
        rows = np.full((n, _WIDTH), np.nan)
        rows[:, _T] = t_s
        rows[:, _U] = signals.up
        rows[:, _G] = signals.gyr_rads
        rows[:, _Q] = quiet
        rows[:, _H] = signals.acc_hf_mps2
        self.buf.append(rows)
        events: list[Event] = []
        for a, b in signals.blocks():
            self.t_now = float(t_s[b - 1])
            if self._markers:
                events.extend(self._apply_markers())
            events.extend(self._block(i0 + a, i0 + b))
        self._trim()
        return events

    def mark(self, marker: Marker) -> None:
        """Register a lifter's marker (new set, side switch); applied when its time is processed."""
        self._markers.add(marker)

    def finish(self) -> list[Event]:
        """End of stream: close the open bridge."""
        if self._bridge is None:
            return []
        return self._end_bridge(self.buf.end_index)

    # -- internals -------------------------------------------------------------------------------

    def _apply_markers(self) -> list[Event]:
        events: list[Event] = []
        for m in self._markers.due(self.t_now):
            br = self._bridge
            if br is not None and br.results:
                # lifts after the marker form a new set in the same bridge
                events.extend(self._end_set(br, self.buf.end_index))
                br.results = []
                br.set_index = 0
            self._sides.apply(m)
            if m.kind == "side" and br is not None:
                br.side = m.side
        return events

    def _block(self, a: int, b: int) -> list[Event]:
        """Samples with absolute indices ``a:b`` (already buffered)."""
        events: list[Event] = []
        k = a
        while k < b:
            if self._bridge is None:
                k = self._floor(k, b)
            else:
                k, ev = self._in_bridge(k, b)
                events.extend(ev)
        return events

    def _floor(self, a: int, b: int) -> int:
        """Outside a bridge: follow quiet postures; a bridge found at sample k returns k + 1."""
        v = self.buf.view(a, b)
        s = self.settings
        quiet = self._quiet
        for j in range(v.shape[0]):
            t = float(v[j, _T])
            self._t_prev = t
            if v[j, _Q] < 0.5:
                quiet.reset()
                continue
            quiet.add(float(v[j, 1]), float(v[j, 2]), float(v[j, 3]), t, a + j)
            if t - quiet.t_start_s < s.ref_quiet_s:
                continue
            posture = quiet.posture()
            rest = self._rest
            # a new quiet posture after a movement: a rise into a bridge?
            if rest is not None and rest[1] < quiet.i_start and self._try_bridge(rest, posture, a + j):
                self._rest = None
                quiet.reset()
                return a + j + 1
            self._rest = (posture, a + j, t)
        return b

    def _try_bridge(self, rest: tuple[FloatArray, int, float], posture: FloatArray, i_now: int) -> bool:
        s = self.settings
        rest_up, i_rest, t_rest = rest
        ang = angle_between_deg(rest_up, posture)
        if not s.min_bridge_deg <= ang <= s.max_bridge_deg or self._quiet.t_start_s - t_rest > s.max_rise_s:
            return False
        w = self.buf.view(i_rest, self._quiet.i_start + 1)
        gyr = w[:, _G]
        axis = rep_axis(gyr, rest_up, posture)
        on = gyr @ axis
        tot = float(np.sum(gyr * gyr))
        if tot <= 0 or 1.0 - float(np.sum(on * on)) / tot > s.max_off_axis:
            logger.debug("rise at %.2f s rejected: not about one axis", t_rest)
            return False
        # the rise starts where the sagittal angle leaves the floor posture (5 % of the rise)
        theta = sagittal_angle_deg(w[:, _U], axis, rest_up)
        k = int(np.argmax(theta >= 0.05 * ang)) if theta.size else 0
        side = self._sides.side_of(self._n_bridges)
        self._n_bridges += 1
        self._bridge = _Bridge(
            axis=axis,
            floor_up=rest_up.copy(),
            hold_up=posture.copy(),
            rise_deg=ang,
            i_from=i_rest,
            t_rise_s=float(w[k, _T]),
            side=side,
        )
        # values of the bridge from its quiet start on (they enter the baselines)
        self._t_prev = math.nan
        self._bridge_values(self._quiet.i_start, i_now + 1)
        br = self._bridge
        seg = self.buf.view(self._quiet.i_start, i_now + 1)
        br.b_roll = float(np.mean(seg[:, _R]))
        br.b_sag = float(np.mean(seg[:, _S])) - ang
        br.b_yaw = br.yaw
        logger.debug("bridge at %.2f s: %.1f deg rise", br.t_rise_s, ang)
        return True

    def _bridge_values(self, a: int, b: int) -> None:
        """Fill the roll, yaw and sagittal columns of samples ``a:b`` (d is filled by the caller)."""
        br = self._bridge
        assert br is not None
        v = self.buf.view(a, b)
        up = v[:, _U]
        v[:, _R] = tilt_deg(up, br.axis, br.hold_up)
        v[:, _S] = sagittal_angle_deg(up, br.axis, br.floor_up)
        t = v[:, _T]
        dt = np.diff(np.concatenate(([self._t_prev if math.isfinite(self._t_prev) else t[0]], t)))
        dt = np.minimum(dt, 0.1)  # gaps: no integration across them
        rate = np.einsum("ij,ij->i", v[:, _G], up)
        yaw = br.yaw + np.degrees(np.cumsum(rate * dt))
        v[:, _Y] = yaw
        br.yaw = float(yaw[-1]) if yaw.size else br.yaw
        self._t_prev = float(t[-1]) if t.size else self._t_prev

    def _in_bridge(self, a: int, b: int) -> tuple[int, list[Event]]:
        """In a bridge: find lifts in samples ``a:b``; returns where to continue and the events."""
        br = self._bridge
        assert br is not None
        s = self.settings
        self._bridge_values(a, b)
        v = self.buf.view(a, b)
        alpha = np.minimum(1.0, np.diff(np.concatenate(([v[0, _T]], v[:, _T]))) / s.baseline_time_constant_s)
        events: list[Event] = []
        lowered = s.floor_fraction * br.rise_deg
        floor_quiet_s = s.floor_quiet_s if self.pelvis else s.thigh_floor_quiet_s
        for j in range(v.shape[0]):
            i = a + j
            t = float(v[j, _T])
            roll, yaw, sag = float(v[j, _R]), float(v[j, _Y]), float(v[j, _S])
            quiet = v[j, _Q] > 0.5
            if self.pelvis:
                d = math.hypot(roll - br.b_roll, yaw - br.b_yaw)
                opening = s.open_deg
            else:
                d = (br.rise_deg + br.b_sag) - sag  # thigh flexion below the bridge posture
                opening = 0.5 * s.min_thigh_lift_deg
            v[j, _D] = d
            # the end of the bridge: back on the floor, or away from the bridge for long
            if sag < lowered and quiet:
                if math.isnan(br.floor_since_s):
                    br.floor_since_s = t
                if t - br.floor_since_s >= floor_quiet_s:
                    return i + 1, events + self._end_bridge(i + 1)
            else:
                br.floor_since_s = math.nan
            if v[j, _H] > s.max_impact_mps2 and t - br.impacts[-1] > _STEP_GAP_S:
                br.impacts = [x for x in br.impacts if t - x < _STEPS_WINDOW_S] + [t]
                if len(br.impacts) >= _STEPS:
                    logger.debug("bridge left at %.2f s: steps (impacts of %.1f m/s2)", t, float(v[j, _H]))
                    return i + 1, events + self._end_bridge(i + 1)
            if abs(sag - br.rise_deg - br.b_sag) > s.leave_deg or abs(roll - br.b_roll) > s.leave_deg:
                if math.isnan(br.leave_since_s):
                    br.leave_since_s = t
                if t - br.leave_since_s >= s.leave_s:
                    return i + 1, events + self._end_bridge(i + 1)
            else:
                br.leave_since_s = math.nan
            if br.lift_from < 0:
                if d > opening:
                    # re-estimate the baselines right before the lift (the running ones lag)
                    self._pre_baselines(br, i, t)
                    d = (
                        math.hypot(roll - br.b_roll, yaw - br.b_yaw)
                        if self.pelvis
                        else (br.rise_deg + br.b_sag) - sag
                    )
                    v[j, _D] = d
                if d > opening:
                    br.peak, br.i_peak, br.quiet_low_s = d, i, math.nan
                    br.lift_from = self._lift_window_start(i)
                else:
                    w = float(alpha[j])
                    br.b_roll += w * (roll - br.b_roll)
                    br.b_yaw += w * (yaw - br.b_yaw)
                    br.b_sag += w * (sag - br.rise_deg - br.b_sag)
                continue
            # a lift is under way
            if d > br.peak:
                br.peak, br.i_peak = d, i
            t_open = float(self.buf.view(br.lift_from, br.lift_from + 1)[0, _T])
            if t - t_open > s.max_lift_s:
                logger.debug("movement at %.2f s is not a lift: too long", t_open)
                br.last_close = i + 1
                self._rebase(br, roll, yaw, sag)
                continue
            done = d <= s.band_fraction * br.peak
            if not done and quiet and d < 0.5 * br.peak:
                # settled away from the baseline: d stays put (a slow return is quiet too)
                if math.isnan(br.quiet_low_s) or abs(d - br.d_settle) > s.band_fraction * br.peak:
                    br.quiet_low_s, br.d_settle = t, d
                done = t - br.quiet_low_s >= s.settle_s
            else:
                br.quiet_low_s = math.nan
            if done:
                events.extend(self._close_lift(br, i + 1))
                br.last_close = i + 1
                if d > s.band_fraction * br.peak:  # settled away from the baseline: follow it
                    self._rebase(br, roll, yaw, sag)
                else:
                    br.lift_from, br.peak, br.i_peak, br.quiet_low_s = -1, 0.0, -1, math.nan
        return b, events

    def _pre_baselines(self, br: _Bridge, i: int, t: float) -> None:
        """Baselines = mean of ``_PRE_S`` before a lift opening at sample ``i`` (time ``t``)."""
        lo = max(self.buf.first_index, br.last_close, br.i_from)
        v = self.buf.view(lo, i)
        tt = v[:, _T]
        a, b = np.searchsorted(tt, [t - _PRE_S[0], t - _PRE_S[1]])
        w = v[a:b]
        w = w[np.isfinite(w[:, _D])]
        br.ref_up = unit(v[-1, _U].copy()) if v.shape[0] else br.hold_up
        if w.shape[0] >= 3:
            br.ref_up = unit(np.mean(w[:, _U], axis=0))
            br.b_roll = float(np.mean(w[:, _R]))
            br.b_yaw = float(np.mean(w[:, _Y]))
            br.b_sag = float(np.mean(w[:, _S])) - br.rise_deg

    def _lift_window_start(self, i: int) -> int:
        """Where a lift opening at ``i`` is measured from: ``_LIFT_LEAD_S`` before, but not before
        the previous lift's end or the bridge."""
        br = self._bridge
        assert br is not None
        lo = max(self.buf.first_index, br.last_close, br.i_from)
        v = self.buf.view(lo, i + 1)
        return lo + int(np.searchsorted(v[:, _T], float(v[-1, _T]) - _LIFT_LEAD_S))

    def _rebase(self, br: _Bridge, roll: float, yaw: float, sag: float) -> None:
        br.lift_from, br.peak, br.i_peak = -1, 0.0, -1
        br.b_roll, br.b_yaw, br.b_sag = roll, yaw, sag - br.rise_deg
        br.quiet_low_s = math.nan

    def _close_lift(self, br: _Bridge, stop: int) -> list[Event]:
        s = self.settings
        v = self.buf.view(br.lift_from, stop)
        min_peak = s.min_lift_deg if self.pelvis else s.min_thigh_lift_deg
        if br.peak < min_peak:
            return []
        # a lift comes back to the posture it started from (getting up does not)
        if br.ref_up is not None and angle_between_deg(v[-1, _U], br.ref_up) > max(2.0, 0.5 * br.peak):
            logger.debug("movement at %.2f s did not come back: not a lift", float(v[0, _T]))
            return []
        dv = np.nan_to_num(v[:, _D], nan=0.0)  # NaN: the bridge's rise
        if self.pelvis:
            # the yaw is integrated: take out the drift by a line from the baseline before the lift
            # to the level after it (the pelvis comes back; a residual gyro bias does not)
            tt = v[:, _T]
            after = tt >= tt[-1] - 0.2
            y_end = float(np.mean(v[after, _Y]))
            frac = (tt - tt[0]) / max(float(tt[-1] - tt[0]), 1e-9)
            yaw = v[:, _Y] - (br.b_yaw + frac * (y_end - br.b_yaw))
            dv = np.hypot(v[:, _R] - br.b_roll, yaw)
            dv = np.nan_to_num(dv, nan=0.0)
            if float(np.max(dv)) < min_peak:
                return []
        # d is a deviation from the baseline: its bottom is 0 by definition (a virtual first sample)
        t = np.concatenate(([v[0, _T]], v[:, _T]))
        d = np.concatenate(([0.0], dv))
        br.i_peak = br.lift_from + int(np.argmax(dv))
        timing = rep_timing(t, d, br.i_peak - br.lift_from + 1, d.shape[0] - 1, s.band_fraction, settled=True)
        if timing is None or not s.min_lift_s <= timing.end_s - timing.start_s <= s.max_lift_s:
            return []
        lifts = br.results
        if lifts and timing.start_s - lifts[-1].end_s < s.min_gap_s:
            logger.debug("movement at %.2f s: the pelvis settling after a lift", timing.start_s)
            return []
        i_a, i_b = max(timing.i_start - 1, 0), timing.i_end  # indices into v (d has one more)
        if self.pelvis:
            top = dv >= 0.5 * float(np.max(dv))
            roll_top = float(np.mean(v[top, _R])) - br.b_roll if top.any() else 0.0
            # the up vector turns positively about the axis as the hips rise: for the pelvis the axis
            # points to the lifter's left, so a positive roll raises the left side (the right
            # side dropped: the right foot was lifted)
            side: str | None = "right" if roll_top > 0 else "left"
            tilt: float | None = float(np.max(dv[i_a:i_b])) if i_b > i_a else float(np.max(dv))
            rom = br.rise_deg + br.b_sag
        else:
            side, tilt, rom = br.side, None, timing.rom_deg
        rep = LiftResult(
            index=len(lifts) + 1,
            start_s=timing.start_s,
            top_start_s=timing.top_start_s,
            top_end_s=timing.top_end_s,
            end_s=timing.end_s,
            rom_deg=rom,
            peak_tilt_deg=tilt,
            side=side,
            bridge_height_deg=rom if self.pelvis else None,
            pelvic_motion_deg=tilt,
            thigh_flexion_deg=None if self.pelvis else rom,
        )
        rep = judge_rep(self.fault_settings, rep, float(np.median([r.rom_deg for r in lifts] + [rom])))
        events: list[Event] = []
        if lifts:
            lifts[-1] = replace(lifts[-1], bottom_pause_s=rep.start_s - lifts[-1].end_s)
        else:
            self._n_sets += 1
            br.set_index = self._n_sets
            events.append(SetStarted(br.set_index, rep.start_s))
        lifts.append(rep)
        events.append(RepCompleted(br.set_index, rep, self.t_now))
        return events

    def _end_bridge(self, stop: int) -> list[Event]:
        br = self._bridge
        assert br is not None
        self._bridge = None
        self._quiet.reset()
        v = self.buf.view(stop - 1, stop)
        if v.shape[0]:
            self._rest = (unit(v[0, _U].copy()), stop - 1, float(v[0, _T]))
        return self._end_set(br, stop) if br.results else []

    def _end_set(self, br: _Bridge, stop: int) -> list[Event]:
        lifts = br.results
        if len(lifts) < self.settings.min_set_lifts:
            self._n_sets -= 1
            logger.debug("bridge at %.2f s dropped: %d lift(s)", br.t_rise_s, len(lifts))
            return [SetDiscarded(br.set_index, f"a set needs at least {self.settings.min_set_lifts} lifts")]
        roms = [r.rom_deg for r in lifts]
        median = float(np.median(roms))
        fs = self.fault_settings
        final = tuple(judge_rep(fs, replace(r, index=k + 1), median) for k, r in enumerate(lifts))
        v = self.buf.view(br.i_from, stop)
        t = v[:, _T]
        keep = t <= final[-1].end_s + TRACE_AFTER_S
        keep &= t >= min(br.t_rise_s, final[0].start_s) - 1.0
        t = t[keep]
        up = v[keep][:, _U]
        theta = sagittal_angle_deg(up, br.axis, br.floor_up)
        tilt = tilt_deg(up, br.axis, br.hold_up) - br.b_roll if self.pelvis else None
        result = SetResult(
            index=len(self.sets) + 1,
            side=None if self.pelvis else br.side,
            start_s=final[0].start_s,
            end_s=final[-1].end_s,
            reps=final,
            summary=SetSummary.from_reps(final, FAULTS),
            baseline_source="bridge",
            trace=SetTrace(t.copy(), theta, tilt) if self.keep_traces else None,
        )
        self.sets.append(result)
        return [SetEnded(result)]

    def _trim(self) -> None:
        """Forget samples no stage can look at any more (as :meth:`SetTracker._trim`); a bridge
        keeps its samples from its rise on."""
        keep = None if self._bridge is None else self._bridge.i_from
        self.buf.drop_older_than(self.t_now - RETAIN_S, keep_from=keep)
