"""The ground truth, measured on the noise-free fine-grid kinematics with the product's definitions.

Sagittal angle θ (truth)
    The elevation (degrees, above the horizontal plane) of the segment's longitudinal axis,
    signed so that θ increases as the hips rise:

    * hip (pelvis): ``θ = asin(-z_seg · ẑ_world)``, the elevation of the caudal axis
      (shoulders -> hips direction).  Bottom of a rep ≈ -35..-50°, top ≈ 0..+5°.
    * thigh: ``θ = asin(+z_seg · ẑ_world)``, the elevation of the proximal axis (knee -> hip).
      Bottom ≈ -35..-50° (knee above hip), top ≈ 0..+5° (thigh horizontal).

    A rotation about the segment's long axis (pelvis tilt) leaves θ unchanged; the small yaw
    wobble changes it only to second order (and the truth is measured on the actual θ anyway).

Pelvis tilt (truth, hip only)
    Elevation (degrees) of the segment medio-lateral axis above the horizontal plane,
    ``asin(x_seg · ẑ_world)``; positive when the lifter's right side is higher.  Reported relative
    to its value in the still start position of the set (``baseline_tilt_deg``).

Truth document (schema ``imurep.truth/1``; times in the recording time base, s)
    ``{"schema", "seed", "placement", "sample_rate_hz" (nominal), "exercise" (profile name),
    "t0_s", "sets": [...], "activities": [...]}``.  Each set: ``index`` (1-based), ``side``,
    ``start_s`` / ``end_s`` (first rep start / last rep end), ``mounting_quat_xyzw`` (sensor ->
    segment, scalar last), ``baseline_tilt_deg`` (absolute ML-axis elevation in the still start
    position; ``None`` for the thigh) and ``reps``.  Each rep: ``index``, ``start_s``,
    ``top_start_s``, ``top_end_s``, ``end_s``, ``concentric_s``, ``top_hold_s``, ``eccentric_s``,
    ``rom_deg``, ``peak_tilt_deg`` (``None`` for the thigh), ``faults`` (from the true metrics with
    the default rules of :mod:`imurep.sim.definitions`), plus the extras ``bottom_deg`` /
    ``top_deg`` (absolute θ at rest before the rep / rep maximum), ``phase_order`` (``lift_first``;
    ``lower_first`` for the standing movements that rest at the top) and ``injected_faults`` (what
    the generator intended; equal to ``faults`` by construction).  Phase times use the 5 %-of-ROM
    thresholds, crossings interpolated linearly on the 1 kHz (or finer) grid.  A glute bridge with
    leg lift set is marked ``"exercise": "leg_lift"`` (the profile kind); its reps are the lifts
    (see :func:`_lift_set_truth`).  ``activities`` lists primitive segments (``standing``,
    ``walking``, ``sitting``, ``transition``, ``fidget``, ``set``) that tile the recording in
    order, plus ``rest`` entries that overlap them (from the end of one ``set`` activity to the
    start of the next).  A ``set`` activity spans the still start position, the reps and the
    still bottom after the last rep.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from imurep.model.codes import FAULTS
from imurep.sim.builder import Session
from imurep.sim.definitions import (
    ECCENTRIC_MIN_S,
    HOLD_MIN_S,
    LIFT_BAND,
    LIFT_DOWN_MIN_S,
    LIFT_HOLD_MIN_S,
    LIFT_TILT_LIMIT_DEG,
    LOWER_FIRST,
    MAX_ONSET_DEG_S,
    MIN_ONSET_DEG_S,
    ONSET_FRACTION,
    PARTIAL_FRACTION,
    PHASE_THRESHOLD,
    STANDING_LOWERING_MIN_S,
    STANDING_TILT_LIMIT_DEG,
    TILT_LIMIT_DEG,
    TWO_LEG_STANDING,
)
from imurep.sim.kinematics import Kinematics
from imurep.sim.motion import DEG, Array
from imurep.sim.plans import SetPlan
from imurep.sim.settings import SimSettings

TRUTH_SCHEMA = "imurep.truth/1"
"""Schema name written into every truth document."""


def measure_truth(settings: SimSettings, session: Session, kin: Kinematics, t0_s: float) -> dict[str, Any]:
    """The truth document (schema :data:`TRUTH_SCHEMA`, JSON-serialisable) of a built session.

    Parameters
    ----------
    settings
        What was simulated.
    session
        The built session (set plans with their onsets and indices, activity log).
    kin
        Its fine-grid kinematics.
    t0_s
        Time origin of the recording, s (added to every time).
    """
    on_pelvis = settings.on_pelvis
    sets_out: list[dict[str, Any]] = []
    for plan in session.sets:
        if plan.lifts:
            sets_out.append(_lift_set_truth(plan, kin, t0_s, on_pelvis))
        else:
            sets_out.append(_rep_set_truth(plan, kin, t0_s, on_pelvis, settings.exercise))
    acts = sorted(
        (
            {"kind": a.kind, "start_s": t0_s + float(a.start_s), "end_s": t0_s + float(_closed(a.end_s))}
            for a in session.trajectory.activities
        ),
        key=lambda a: (a["start_s"], a["kind"] == "rest"),
    )
    return {
        "schema": TRUTH_SCHEMA,
        "seed": int(settings.seed),
        "placement": settings.placement,
        "sample_rate_hz": float(settings.sample_rate_hz),
        "exercise": settings.exercise,
        "t0_s": t0_s,
        "sets": sets_out,
        "activities": acts,
    }


def _closed(end_s: float | None) -> float:
    if end_s is None:  # pragma: no cover - closed by build_session
        raise RuntimeError("an activity was left open")
    return end_s


def _cross_up(t: Array, y: Array, i: int, level: float) -> float:
    """Linear crossing time between samples i-1 and i (y[i-1] < level <= y[i])."""
    y0, y1 = y[i - 1], y[i]
    return float(t[i - 1] + (level - y0) / (y1 - y0) * (t[i] - t[i - 1])) if y1 != y0 else float(t[i])


def _cross_after(t: Array, y: Array, i: int, level: float) -> float:
    """Linear crossing time between samples i and i+1 (level crossed right after i)."""
    y0, y1 = y[i], y[i + 1]
    return float(t[i] + (level - y0) / (y1 - y0) * (t[i + 1] - t[i])) if y1 != y0 else float(t[i])


def _cross_rate(t: Array, rate: Array, k: int, level: float, offset: int) -> float:
    """Time where ``rate`` (indexed from ``offset`` in ``t``) passes ``level`` between its samples
    ``k`` and ``k + 1``."""
    if k + 1 >= rate.shape[0]:
        return float(t[offset + k])
    r0, r1 = float(rate[k]), float(rate[k + 1])
    f = (level - r0) / (r1 - r0) if r1 != r0 else 0.0
    f = min(1.0, max(0.0, f))
    return float(t[offset + k] + f * (t[offset + k + 1] - t[offset + k]))


@dataclass(frozen=True)
class _RepMeasure:
    """Phase times (s from the recording start) and angles (rad) of one rep."""

    start: float
    top_start: float
    top_end: float
    end: float
    rom: float
    bottom: float
    top: float


def _measure_rep(t: Array, th: Array, i_on: int, i_stop: int) -> _RepMeasure:
    """Phase times and ROM of the rep in ``th[i_on:i_stop]``, product definitions."""
    bottom = float(th[i_on])
    win = th[i_on:i_stop]
    i_top = i_on + int(np.argmax(win))
    top = float(th[i_top])
    rom = top - bottom
    lo = bottom + PHASE_THRESHOLD * rom
    hi = top - PHASE_THRESHOLD * rom
    below = np.flatnonzero(th[i_on:i_top] <= lo)
    i_s = i_on + int(below[-1])
    start = _cross_after(t, th, i_s, lo)
    above = np.flatnonzero(win >= hi)
    i_ts = i_on + int(above[0])
    top_start = _cross_up(t, th, i_ts, hi) if i_ts > i_on else float(t[i_ts])
    i_te = i_on + int(above[-1])
    top_end = _cross_after(t, th, i_te, hi)
    after = np.flatnonzero(th[i_te:i_stop] <= lo)
    if after.size == 0:  # pragma: no cover - prevented by construction
        raise RuntimeError("simulated rep does not return to its bottom")
    i_e = i_te + int(after[0])
    end = _cross_up(t, -th, i_e, -lo)
    # the onset of the movement before the band, and where the movement back stops or turns
    rate = np.gradient(th[i_on:i_stop], t[i_on:i_stop])
    peak = float(np.max(np.abs(rate[: i_e - i_on + 1])))
    thr = max(MIN_ONSET_DEG_S * DEG, min(MAX_ONSET_DEG_S * DEG, ONSET_FRACTION * peak))
    still = np.flatnonzero(rate[: i_s - i_on + 1] <= thr)
    if still.size:
        k = i_on + int(still[-1])
        start = min(start, _cross_rate(t, rate, k - i_on, thr, i_on))
    stop = np.flatnonzero(rate[i_e - i_on :] >= -thr)
    if stop.size:
        k = i_e + int(stop[0])
        if k > i_e:
            end = max(end, _cross_rate(t, rate, k - 1 - i_on, -thr, i_on))
    return _RepMeasure(
        start=start, top_start=top_start, top_end=top_end, end=end, rom=rom, bottom=bottom, top=top
    )


def _rep_set_truth(
    plan: SetPlan, kin: Kinematics, t0: float, on_pelvis: bool, exercise: str = ""
) -> dict[str, Any]:
    """Truth of a set of reps of the planned simulator (:func:`rep_set_truth` of its plan)."""
    standing = exercise in STANDING_LOWERING_MIN_S
    return rep_set_truth(
        kin,
        t0,
        on_pelvis,
        index=plan.index,
        side=plan.side,
        mounting_quat_xyzw=[float(v) for v in plan.mounting.as_quat()],
        onsets_s=[r.onset_s for r in plan.reps],
        i_still=plan.i_still,
        i_end=plan.i_end,
        injected=[tuple(r.injected) for r in plan.reps],
        tilt_limit_deg=STANDING_TILT_LIMIT_DEG if standing else TILT_LIMIT_DEG,
        direction=plan.direction,
        exercise=exercise,
    )


def rep_set_truth(
    kin: Kinematics,
    t0: float,
    on_pelvis: bool,
    *,
    index: int,
    side: str,
    mounting_quat_xyzw: list[float],
    onsets_s: list[float],
    i_still: int,
    i_end: int,
    injected: list[tuple[str, ...]],
    tilt_limit_deg: float = TILT_LIMIT_DEG,
    direction: float = 1.0,
    exercise: str = "",
) -> dict[str, Any]:
    """Truth of a set of reps: phase times, ROM, peak tilt and faults of each rep.

    The reps are measured on ``direction * θ`` (away from the rest posture is up), so the phases
    are those the tracker measures: away (``concentric_s``), turn (``top_hold_s``), back
    (``eccentric_s``).  For a standing exercise (:data:`STANDING_LOWERING_MIN_S`) the faults follow
    its profile: ``rushed_lowering`` on the lowering (the away phase when it lowers first), no
    ``hip_tilt`` on two legs, no ``short_hold``; ``bottom_deg`` / ``top_deg`` are θ at rest and at
    the far side.

    Parameters
    ----------
    kin
        Fine-grid kinematics (only ``t``, ``theta`` and ``ml_elevation`` are read).
    t0
        Time origin of the recording, s (added to every time).
    on_pelvis
        Sensor on the pelvis (tilt measured) rather than a thigh.
    index, side, mounting_quat_xyzw
        Copied into the set's document.
    onsets_s
        Planned onset of each rep, s from the recording start (the rep is measured from there to
        the next onset, the last one to ``i_end``).
    i_still, i_end
        Fine-grid indices of the still start position (tilt baseline) and of the set's last sample.
    injected
        The faults the generator intended, per rep.
    tilt_limit_deg
        ``hip_tilt`` above this peak tilt, degrees (the exercise profile's threshold).
    direction
        +1 when θ rises away from the rest posture, -1 when it falls (a thigh in a squat).
    exercise
        The exercise profile name (the standing movements label their faults by their profiles).
    """
    t, th = kin.t, direction * kin.theta
    standing = exercise in STANDING_LOWERING_MIN_S
    lower_first = exercise in LOWER_FIRST
    onsets = [int(np.searchsorted(t, t_on)) for t_on in onsets_s]
    stops = onsets[1:] + [i_end + 1]
    raw = [_measure_rep(t, th, max(0, i0 - 1), i1) for i0, i1 in zip(onsets, stops, strict=True)]
    med = float(np.median([x.rom for x in raw]))
    base = float(kin.ml_elevation[i_still]) if on_pelvis else None
    reps_out = []
    for k, x in enumerate(raw):
        conc = x.top_start - x.start
        hold = x.top_end - x.top_start
        ecc = x.end - x.top_end
        peak: float | None = None
        if on_pelvis and base is not None:
            i_a = int(np.searchsorted(t, x.start))
            i_b = int(np.searchsorted(t, x.end, side="right"))
            peak = float(np.max(np.abs(kin.ml_elevation[i_a:i_b] - base)) / DEG)
        faults = []
        if peak is not None and exercise not in TWO_LEG_STANDING and peak > tilt_limit_deg:
            faults.append("hip_tilt")
        lowering = conc if lower_first else ecc
        if lowering < (STANDING_LOWERING_MIN_S[exercise] if standing else ECCENTRIC_MIN_S):
            faults.append("rushed_lowering")
        if hold < HOLD_MIN_S and not standing:
            faults.append("short_hold")
        if x.rom < PARTIAL_FRACTION * med:
            faults.append("partial_rom")
        faults = [f for f in FAULTS if f in faults]
        reps_out.append(
            {
                "index": k + 1,
                "start_s": t0 + x.start,
                "top_start_s": t0 + x.top_start,
                "top_end_s": t0 + x.top_end,
                "end_s": t0 + x.end,
                "concentric_s": conc,
                "top_hold_s": hold,
                "eccentric_s": ecc,
                "rom_deg": x.rom / DEG,
                "peak_tilt_deg": peak,
                "faults": faults,
                "bottom_deg": direction * x.bottom / DEG,
                "top_deg": direction * x.top / DEG,
                "phase_order": "lower_first" if lower_first else "lift_first",
                "injected_faults": list(injected[k]),
            }
        )
    return {
        "index": index,
        "side": side,
        "start_s": reps_out[0]["start_s"],
        "end_s": reps_out[-1]["end_s"],
        "mounting_quat_xyzw": mounting_quat_xyzw,
        "baseline_tilt_deg": (base / DEG) if base is not None else None,
        "reps": reps_out,
    }


def _lift_set_truth(plan: SetPlan, kin: Kinematics, t0: float, on_pelvis: bool) -> dict[str, Any]:
    """Truth of a glute bridge with leg lift: the lifts are the reps (product definitions of
    :mod:`imurep.core.tracking.lifts`, band :data:`~imurep.sim.definitions.LIFT_BAND` of the peak).

    Hip: the lift signal is the pelvis deviation from its posture right before the lift,
    ``hypot(roll, yaw)`` (roll: change of the medio-lateral axis elevation; yaw: rotation about the
    vertical), ``rom_deg`` the bridge height (θ before the lift minus θ at rest before the bridge)
    and ``peak_tilt_deg`` the deviation's peak.  Thigh: only lifts of the sensor's leg, signal =
    thigh flexion from the posture before the lift, ``rom_deg`` its peak.
    """
    t, th = kin.t, kin.theta
    bridge = plan.reps[0]
    theta_floor = float(th[int(np.searchsorted(t, bridge.onset_s))])
    bounds = [lift.onset_s for lift in plan.lifts[1:]] + [bridge.onset_s + bridge.rise_s + bridge.hold_s]
    reps_out: list[dict[str, Any]] = []
    for lift, t_next in zip(plan.lifts, bounds, strict=True):
        if not on_pelvis and lift.side != plan.side:
            continue
        i_ref = int(np.searchsorted(t, lift.onset_s))
        i_stop = int(np.searchsorted(t, t_next))
        if on_pelvis:
            roll = kin.ml_elevation[i_ref:i_stop] - kin.ml_elevation[i_ref]
            rel = kin.R_ws[i_ref + 1 : i_stop] * kin.R_ws[i_ref : i_stop - 1].inv()
            yaw = np.concatenate(([0.0], np.cumsum(rel.as_rotvec()[:, 2])))
            sig = np.hypot(roll, yaw)
        else:
            sig = th[i_ref] - th[i_ref:i_stop]
        tw = t[i_ref:i_stop]
        peak = float(np.max(sig))
        i_pk = int(np.argmax(sig))
        lo, hi = LIFT_BAND * peak, (1.0 - LIFT_BAND) * peak
        i_s = int(np.flatnonzero(sig[: i_pk + 1] <= lo)[-1])
        start = _cross_after(tw, sig, i_s, lo)
        above = np.flatnonzero(sig >= hi)
        top_start = _cross_up(tw, sig, int(above[0]), hi)
        top_end = _cross_after(tw, sig, int(above[-1]), hi)
        i_e = int(above[-1]) + int(np.flatnonzero(sig[int(above[-1]) :] <= lo)[0])
        end = _cross_up(tw, -sig, i_e, -lo)
        hold, down = top_end - top_start, end - top_end
        tilt = peak / DEG if on_pelvis else None
        rom = (float(th[i_ref]) - theta_floor) / DEG if on_pelvis else peak / DEG
        faults = [
            code
            for code, on in (
                ("hip_tilt", tilt is not None and tilt > LIFT_TILT_LIMIT_DEG),
                ("rushed_lowering", down < LIFT_DOWN_MIN_S),
                ("short_hold", hold < LIFT_HOLD_MIN_S),
            )
            if on
        ]
        reps_out.append(
            {
                "index": len(reps_out) + 1,
                "side": lift.side,
                "start_s": t0 + start,
                "top_start_s": t0 + top_start,
                "top_end_s": t0 + top_end,
                "end_s": t0 + end,
                "concentric_s": top_start - start,
                "top_hold_s": hold,
                "eccentric_s": down,
                "rom_deg": rom,
                "peak_tilt_deg": tilt,
                "faults": faults,
                "injected_faults": list(lift.injected),
            }
        )
    return {
        "index": plan.index,
        "side": None if on_pelvis else plan.side,
        "exercise": "leg_lift",
        "start_s": reps_out[0]["start_s"],
        "end_s": reps_out[-1]["end_s"],
        "bridge_start_s": t0 + bridge.onset_s,
        "bridge_end_s": t0 + bridge.onset_s + bridge.rise_s + bridge.hold_s + bridge.lower_s,
        "mounting_quat_xyzw": [float(v) for v in plan.mounting.as_quat()],
        "baseline_tilt_deg": None,
        "reps": reps_out,
    }
