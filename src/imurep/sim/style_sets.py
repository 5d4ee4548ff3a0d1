"""A set of a style recording: the sagittal angle as piecewise quintic Hermite splines.

Each phase of a rep is two quintic pieces joined where its speed peaks (the rep's skew), with
position, speed and acceleration set at every knot.  A rep from rest starts and ends with zero
acceleration; a touch-and-go rep turns at the bottom with the acceleration it bounces with (the
angle is C2 through the turn, its rate passes through zero linearly); a rep without a squeeze turns
at the top the same way.  The phase durations of the profiles are calibrated so that the truth's
phase times (:func:`imurep.sim.truth.rep_set_truth`: onset / 5 % band / stop) come close to the
drawn ones.  The pelvis turns about the shoulders on the bench (or floor) with a torso that turns
less than the pelvis (``coupling``), the thigh about the knee, which slides forward as the hips
rise.  Tilt, rotation about the vertical and side-bend follow each rep with their own shapes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy.spatial.transform import Rotation

from imurep.sim.definitions import MAX_ONSET_DEG_S, MIN_ONSET_DEG_S, ONSET_FRACTION, PHASE_THRESHOLD
from imurep.sim.motion import DEG, Array
from imurep.sim.style_body import Body, heading_vectors, septic
from imurep.sim.styles import RepStyle, SetStyle

_S = np.linspace(0.0, 1.0, 2001)
"""Normalised time grid the phase shapes are calibrated on."""


def quintic(p0: float, v0: float, a0: float, p1: float, v1: float, a1: float, dur: float, s: Array) -> Array:
    """Quintic Hermite curve from (p0, v0, a0) to (p1, v1, a1) over ``dur`` s at fractions ``s``."""
    s2, s3 = s * s, s * s * s
    s4, s5 = s3 * s, s3 * s2
    h0 = 1 - 10 * s3 + 15 * s4 - 6 * s5
    h1 = s - 6 * s3 + 8 * s4 - 3 * s5
    h2 = 0.5 * (s2 - 3 * s3 + 3 * s4 - s5)
    h3 = 10 * s3 - 15 * s4 + 6 * s5
    h4 = -4 * s3 + 7 * s4 - 3 * s5
    h5 = 0.5 * (s3 - 2 * s4 + s5)
    return h0 * p0 + h1 * v0 * dur + h2 * a0 * dur**2 + h3 * p1 + h4 * v1 * dur + h5 * a1 * dur**2


def phase_shape(s: Array, skew: float, a_start: float, a_end: float) -> Array:
    """Unit phase 0 -> 1 over s in [0, 1]: two quintic pieces joined at ``skew`` where the speed
    peaks (1.875, the minimum-jerk peak); ``a_start`` / ``a_end``: accelerations at the ends
    (unit distance per unit time²)."""
    v = 1.875
    out = np.empty_like(s)
    first = s <= skew
    out[first] = quintic(0.0, 0.0, a_start, skew, v, 0.0, skew, s[first] / skew)
    sb = (s[~first] - skew) / (1.0 - skew)
    out[~first] = quintic(skew, v, 0.0, 1.0, 0.0, a_end, 1.0 - skew, sb)
    return out


@dataclass
class _Phase:
    """One calibrated phase: unit shape, duration (s), distance (rad)."""

    skew: float
    a_start: float
    a_end: float
    duration: float
    dist: float

    def curve(self, s: Array) -> Array:
        return phase_shape(s, self.skew, self.a_start, self.a_end)


def _onset_thr(peak_rads: float) -> float:
    return max(MIN_ONSET_DEG_S * DEG, min(MAX_ONSET_DEG_S * DEG, ONSET_FRACTION * peak_rads))


def _calibrate(target_s: float, ph: _Phase, y_start: float, y_end: float, rising: bool, thr: float) -> float:
    """Duration of phase ``ph`` so that the truth's phase time comes close to ``target_s``.

    Rising (lifting): from the onset (the last moment the rate is <= ``thr`` before the shape
    passes ``y_start``) to where it reaches ``y_end``.  Falling (lowering): from where the shape
    passes ``y_start`` to where it reaches ``y_end`` or where the rate has fallen back to ``thr``
    (at rest, or slowing into a bottom turn), whichever is later.
    """
    y = ph.curve(_S)
    dy = np.gradient(y, _S)
    k_a = int(np.argmax(y > min(y_start, 0.999)))
    k_b = int(np.argmax(y >= min(y_end, 0.999)))
    dur = max(target_s, 0.05)
    for _ in range(3):
        rate = ph.dist * dy / dur
        if rising:
            slow = np.flatnonzero(rate[: k_a + 1] <= thr)
            frac = _S[k_b] - (_S[slow[-1]] if slow.size else 0.0)
        else:
            fast = np.flatnonzero(rate[k_b:] > thr)  # stops at rest, or slows into the turn
            s_end = _S[min(_S.size - 1, k_b + int(fast[-1]) + 1)] if fast.size else _S[k_b]
            frac = s_end - _S[k_a]
        dur = target_s / max(frac, 1e-3)
    return float(dur)


@dataclass
class SetTrace:
    """Where a set lies in the fine grid, for the truth."""

    onsets_s: list[float] = field(default_factory=list)
    i_still: int = 0
    i_end: int = 0
    mounting_quat_xyzw: list[float] = field(default_factory=list)
    slips: list[dict[str, float]] = field(default_factory=list)


@dataclass
class Geometry:
    """The set's pivot (shoulders / knee) and how the anchor follows θ."""

    on_pelvis: bool
    pivot_m: Array
    length_m: float
    heading: float
    theta_top: float
    coupling: float
    """Torso turn per pelvis turn (hip sensor)."""

    def pose(self, theta: Array, u: Array, roll: Array, yaw: Array, sway: Array) -> tuple[Array, Array]:
        """Anchor (n, 3) m and angles (n, 4) rad for θ, rep progress u, tilt, yaw and side-bend."""
        h = self.heading
        lat, fwd = heading_vectors(h)
        if self.on_pelvis:
            phi = self.theta_top + self.coupling * (theta - self.theta_top)
            z = np.column_stack([np.cos(phi) * math.sin(h), -np.cos(phi) * math.cos(h), -np.sin(phi)])
            anchor = self.pivot_m[None, :] - self.length_m * z
            flex = 0.5 * math.pi + theta
        else:
            z = np.column_stack([np.cos(theta) * math.sin(h), -np.cos(theta) * math.cos(h), np.sin(theta)])
            knee = self.pivot_m[None, :] + 0.02 * u[:, None] * fwd[None, :]
            anchor = knee + self.length_m * z
            flex = 0.5 * math.pi - theta
        angles = np.column_stack([h + yaw, flex, roll, sway])
        return anchor, angles


def place(body: Body, style: SetStyle, heading: float) -> tuple[Geometry, Array, Array]:
    """The set's geometry near the current pose; returns it and the start pose (anchor, angles)."""
    theta_top = style.top_deg * DEG
    full = max(r.rom_deg for r in style.reps) * DEG
    theta_b = theta_top - full
    coupling = 1.0
    if body.on_pelvis:  # the hips stay above the floor: the torso turns less than the pelvis
        lowest = math.asin(max(-1.0, min(1.0, (0.05 - style.pivot_height_m) / style.segment_length_m)))
        coupling = min(float(body.rng.uniform(0.75, 1.0)), max(0.2, (theta_top - lowest) / (1.15 * full)))
        phi = theta_top + coupling * (theta_b - theta_top)
        z = np.array([math.cos(phi) * math.sin(heading), -math.cos(phi) * math.cos(heading), -math.sin(phi)])
        pivot = body.anchor + style.segment_length_m * z
    else:
        z = np.array(
            [math.cos(theta_b) * math.sin(heading), -math.cos(theta_b) * math.cos(heading), math.sin(theta_b)]
        )
        pivot = body.anchor - style.segment_length_m * z
    pivot[2] = style.pivot_height_m
    geo = Geometry(body.on_pelvis, pivot, style.segment_length_m, heading, theta_top, coupling)
    zero = np.zeros(1)
    anchor, angles = geo.pose(np.array([theta_b]), zero, zero, zero, zero)
    return geo, anchor[0], angles[0]


def do_set(body: Body, style: SetStyle, geo: Geometry, mount0: Rotation, lever0: Array) -> SetTrace:
    """Still start, the reps, still bottom; returns the set's trace (logged ``set``)."""
    rng = body.rng
    trace = SetTrace(i_still=body.n - 1, mounting_quat_xyzw=[float(v) for v in mount0.as_quat()])
    t_a = body.tau_s
    body.hold(style.still_before_s, None, sway=0.0)
    reps = style.reps
    bottom = geo.theta_top - max(r.rom_deg for r in reps) * DEG
    band = PHASE_THRESHOLD
    pieces: list[tuple[Array, Array, int]] = []  # θ (k,), progress u (k,), rep index
    t_slip = None
    a_turn = 0.0  # physical acceleration of the bottom turn into this rep, rad/s² (touch-and-go)
    for k, r in enumerate(reps):
        rom = r.rom_deg * DEG
        top = bottom + rom
        last = k + 1 == len(reps)
        shift = float(np.clip(r.bottom_shift_deg, -0.05 * r.rom_deg, 0.03 * r.rom_deg)) * DEG
        nxt = bottom if last else bottom + shift
        drop = top - nxt
        thr = _onset_thr(1.875 * rom / max(0.2, min(r.lift_s, r.lower_s)))
        touch_out = style.touch_and_go and not last
        draws = (float(rng.uniform(0.0, 0.025)), float(rng.uniform(1.0, 3.0)), float(rng.uniform(1.0, 4.0)))
        quick_top = r.squeeze_s < 0.25
        rise, low, creep = _rep_phases(r, rom, drop, a_turn, touch_out, quick_top, thr, draws)
        tails = rise.duration * (1.0 - _first_above(rise, (1.0 - band) / (1.0 - creep)))
        head = low.duration * _first_above(low, band * rom / drop)
        if not quick_top and tails + head > r.squeeze_s:  # too short a squeeze to stop at the top
            quick_top = True
            rise, low, creep = _rep_phases(r, rom, drop, a_turn, touch_out, quick_top, thr, draws)
        reach = rom * (1.0 - creep)
        a_turn = -drop * low.a_end / low.duration**2 if touch_out else 0.0
        tails = rise.duration * (1.0 - _first_above(rise, (1.0 - band) / (1.0 - creep)))
        squeeze = 0.0 if quick_top else max(0.0, r.squeeze_s - tails - head)
        trace.onsets_s.append(body.tau_s + _count(pieces) * body.dt_s)
        s = body.times(rise.duration) / rise.duration
        pieces.append((bottom + reach * rise.curve(np.minimum(s, 1.0)), np.minimum(s, 1.0), k))
        if squeeze > 0:
            s = body.times(squeeze) / squeeze
            pieces.append((bottom + reach + (rom - reach) * septic(s), np.ones_like(s), k))
        s = body.times(low.duration) / low.duration
        th = top - drop * low.curve(np.minimum(s, 1.0))
        if style.slip is not None and style.slip.rep == k:
            t_slip = body.tau_s + (_count(pieces) + 0.5 * th.size) * body.dt_s
        pieces.append((th, np.clip((th - bottom) / rom, 0.0, 1.0), k))
        if r.pause_s > 0 and not last:
            s = body.times(r.pause_s)
            pieces.append((np.full(s.size, nxt), np.zeros(s.size), k))
        bottom = nxt
    _render(body, style, geo, pieces)
    if t_slip is not None and style.slip is not None:
        slip = style.slip
        rot = Rotation.from_rotvec(np.asarray(slip.axis) * slip.angle_deg * DEG)
        body.mounting.key(t_slip - 0.5 * slip.duration_s, mount0, lever0)
        body.mounting.key(t_slip + 0.5 * slip.duration_s, rot * mount0, rot.apply(lever0))
        trace.slips.append({"t_s": t_slip, "angle_deg": abs(slip.angle_deg)})
    body.hold(style.still_after_s, None, sway=0.0)
    trace.i_end = body.n - 1
    body.log("set", t_a, body.tau_s)
    return trace


def _rep_phases(
    r: RepStyle,
    rom: float,
    drop: float,
    a_turn: float,
    touch_out: bool,
    quick_top: bool,
    thr: float,
    draws: tuple[float, float, float],
) -> tuple[_Phase, _Phase, float]:
    """The calibrated lifting and lowering of a rep and its squeeze creep (fraction of the ROM).

    ``a_turn``: acceleration of the bottom turn into the rep (rad/s², 0 from rest); ``touch_out``:
    the rep turns at the bottom into the next; ``quick_top``: it turns at the top (no squeeze);
    ``draws``: creep, top and bottom turn accelerations (unit shapes) drawn for the rep.
    """
    band = PHASE_THRESHOLD
    creep = 0.0 if quick_top or r.squeeze_s <= 0.3 else draws[0]
    reach = rom * (1.0 - creep)
    rise = _Phase(r.lift_skew, 0.0, -draws[1] if quick_top else 0.0, 1.0, reach)
    rise.duration = _calibrate(r.lift_s, rise, band * rom / reach, (1 - band) * rom / reach, True, thr)
    if a_turn > 0:  # C2 through the bottom turn: the previous lowering's acceleration
        rise.a_start = min(6.0, a_turn * rise.duration**2 / reach)
        rise.duration = _calibrate(r.lift_s, rise, band * rom / reach, (1 - band) * rom / reach, True, thr)
    low = _Phase(r.lower_skew, 0.0, -draws[2] if touch_out else 0.0, 1.0, drop)
    low.duration = _calibrate(r.lower_s, low, band * rom / drop, (1 - band) * rom / drop, False, thr)
    if quick_top:  # C2 through the top turn: the rise's deceleration
        a_top = -reach * rise.a_end / rise.duration**2
        low.a_start = min(6.0, a_top * low.duration**2 / drop)
        low.duration = _calibrate(r.lower_s, low, band * rom / drop, (1 - band) * rom / drop, False, thr)
    return rise, low, creep


def _count(pieces: list[tuple[Array, Array, int]]) -> int:
    return sum(p[0].size for p in pieces)


def _first_above(phase: _Phase, level: float) -> float:
    """First fraction of the phase where its unit shape reaches ``level``."""
    y = phase.curve(_S)
    return float(_S[int(np.argmax(y >= min(level, 1.0)))])


def _render(body: Body, style: SetStyle, geo: Geometry, pieces: list[tuple[Array, Array, int]]) -> None:
    """Append the reps' samples: θ, progress u and, per rep, tilt / yaw / side-bend shapes."""
    rolls, yaws, sways = [], [], []
    for _, uu, k in pieces:
        r = style.reps[k]
        rolls.append(r.tilt_deg * DEG * uu ** (1.0 + 2.0 * r.lift_skew))
        yaws.append(r.yaw_deg * DEG * uu)
        sways.append(r.sway_deg * DEG * 4.0 * uu * (1.0 - uu))
    theta = np.concatenate([p[0] for p in pieces])
    u = np.concatenate([p[1] for p in pieces])
    anchor, angles = geo.pose(theta, u, np.concatenate(rolls), np.concatenate(yaws), np.concatenate(sways))
    body.push(anchor, angles, None)
