"""What each set will be, drawn from the random generator before it is performed.

:func:`plan_set` draws the set's geometry (bench or floor, segment length, start angle), then the
reps (range, timing, injected faults, tilt) or, for the glute bridge with leg lift, the held bridge
and its lifts (:func:`plan_lift_set`).  The draw order is part of the behaviour.

Rep timing
    The concentric rises along a beta(a, 2) CDF, the eccentric falls along a beta(e0, a_e) CDF;
    the movement durations are chosen so that the truth phase times (crossings of
    :data:`~imurep.sim.definitions.PHASE_THRESHOLD` of the ROM) equal the drawn ones.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from scipy.spatial.transform import Rotation
from scipy.special import betaincinv

from imurep.model.codes import FAULTS
from imurep.sim.definitions import LOWER_FIRST, PHASE_THRESHOLD, STANDING_LOWERING_MIN_S
from imurep.sim.motion import DEG
from imurep.sim.settings import SimSettings


@dataclass
class RepPlan:
    """One rep: the profile of θ from the rest before it to the rest after it.

    Durations are those of the movement profiles (s); the truth's phase times are measured later.
    """

    bottom: float
    """θ at rest before the rep, rad."""
    rom: float
    """Range of motion, rad."""
    next_bottom: float
    """θ at rest after the rep, rad."""
    rise_s: float
    """Duration of the concentric profile, s."""
    hold_s: float
    """Plateau at the top, s."""
    lower_s: float
    """Duration of the eccentric profile, s."""
    pause_s: float
    """Plateau at the bottom after the rep, s."""
    rise_beta: float
    """First beta exponent of the concentric (2: touch-and-go start, 3: from rest)."""
    lower_beta_end: float
    """Second beta exponent of the eccentric (2: touch-and-go end, 3: to rest)."""
    lower_beta_start: float
    """First beta exponent of the eccentric (2: brisk start, 3: smooth start)."""
    peak_roll: float
    """Peak roll at the top (hip: pelvis tilt) / roll wobble (thigh), rad."""
    peak_wobble: float
    """Peak wobble (rotation about the segment's y axis) at the top, rad."""
    injected: tuple[str, ...]
    """Fault codes the plan intends."""
    onset_s: float = 0.0
    """Time of the concentric onset, s from the recording start (set by :func:`imurep.sim.sets.do_set`)."""


@dataclass
class LiftPlan:
    """One leg lift during a held bridge."""

    side: str
    start_s: float
    """Onset, s after the end of the bridge's rise."""
    up_s: float
    """Min-jerk lift, s."""
    hold_s: float
    """Foot held up, s."""
    down_s: float
    """Min-jerk set-down, s."""
    roll: float
    """Pelvis roll at the top, rad (> 0 raises the right side)."""
    wobble: float
    """Side-bend at the top, rad."""
    dip: float
    """Change of θ, rad (hip: the hips sag)."""
    flex: float
    """Thigh flexion of the lifted leg, rad."""
    injected: tuple[str, ...]
    onset_s: float = 0.0
    """Time of the onset, s from the recording start (set by :func:`imurep.sim.sets.do_set`)."""


@dataclass
class StandingGeometry:
    """How a standing movement bends the leg and the trunk with its depth ``u`` (0 at rest, 1 at
    the far side of a full rep): flexions (rad, :func:`~imurep.sim.motion.orient` convention:
    thigh > 0 with the hip behind the knee, pelvis < 0 tilted forward) and the knee's shift."""

    thigh_rest: float
    thigh_range: float
    """Change of the thigh flexion from rest to the far side, rad (< 0: it straightens)."""
    pelvis_rest: float
    pelvis_range: float
    """Change of the pelvis flexion from rest to the far side, rad (< 0: it tilts forward)."""
    knee_forward_m: float
    knee_up_m: float
    """Shift of the knee (the pivot) at the far side, m."""


@dataclass
class SetGeometry:
    """Where the set is done: the segment pivots about a fixed point.

    Hip: the pivot is the shoulders (on the bench, or the floor), the pelvis hangs
    ``segment_length_m`` caudally of it.  Thigh: the pivot is the knee, the hip end of the thigh
    is ``segment_length_m`` proximally of it.
    """

    pivot_height_m: float
    segment_length_m: float
    start_roll: float = 0.0
    """Roll in the still start position, rad."""
    pivot_x_m: float = 0.0
    pivot_y_m: float = 0.0
    """Horizontal position of the pivot, world, m (set by :func:`imurep.sim.sets.place_set`)."""
    standing: StandingGeometry | None = None
    """A standing movement: the pivot is the knee, the thigh is ``segment_length_m`` long and
    the pelvis rides on its hip end (None: a thrust or bridge)."""


@dataclass
class SetPlan:
    """One set: its reps (or the held bridge and its lifts) and, once done, where it lies."""

    index: int
    side: str
    mounting: Rotation
    """Sensor -> segment rotation during the set."""
    start_theta: float
    """θ in the still start position, rad."""
    geometry: SetGeometry
    reps: list[RepPlan]
    lifts: list[LiftPlan] = field(default_factory=list)
    still_before_s: float = 0.0
    """Still start position before the first rep, s."""
    i_still: int = 0
    """Fine-grid index where the still start position begins (set by :func:`imurep.sim.sets.do_set`)."""
    i_end: int = 0
    """Fine-grid index of the last sample of the set (set by :func:`imurep.sim.sets.do_set`)."""
    direction: float = 1.0
    """+1 when the segment's θ rises away from the rest posture (thrusts, bridges), -1 when it
    falls (a thigh in a squat); the truth measures its reps on ``direction * θ``."""


def capped_flags(rng: np.random.Generator, n: int, p: float, cap: int) -> NDArray[np.bool_]:
    """``n`` random flags with probability ``p``, at most ``cap`` of them set."""
    m = rng.random(n) < p
    if m.sum() > cap:
        keep = rng.choice(np.flatnonzero(m), size=cap, replace=False)
        m = np.zeros(n, dtype=bool)
        m[keep] = True
    return m


def beta_band(a: float, b: float) -> tuple[float, float]:
    """Fractions of a beta(a, b) CDF profile's duration where it crosses 5 % and 95 %."""
    return float(betaincinv(a, b, PHASE_THRESHOLD)), float(betaincinv(a, b, 1.0 - PHASE_THRESHOLD))


def _draw_geometry(rng: np.random.Generator, settings: SimSettings) -> tuple[SetGeometry, float, float]:
    """The set's geometry, θ of the still start position (rad) and the set's ROM (rad)."""
    on_pelvis = settings.on_pelvis
    if settings.motion != "bench_thrust":
        # shoulders on the floor: from the hips resting on the floor to the straight line
        rom_set = rng.uniform(18.0, 30.0)
        if on_pelvis:
            pivot_z, length = rng.uniform(0.10, 0.14), rng.uniform(0.45, 0.60)
            bottom_deg = math.degrees(math.asin((rng.uniform(0.08, 0.11) - pivot_z) / length))
        else:
            length = rng.uniform(0.40, 0.48)
            pivot_z = rng.uniform(0.38, min(0.48, length + 0.04))
            bottom_deg = math.degrees(math.asin((rng.uniform(0.08, 0.11) - pivot_z) / length))
        start_theta = bottom_deg * DEG
    else:
        if on_pelvis:
            pivot_z = rng.uniform(0.42, 0.50)
            length = rng.uniform(0.45, 0.60)
            th_max = min(50.0, math.degrees(math.asin(min(1.0, (pivot_z - 0.06) / length))))
        else:
            pivot_z = rng.uniform(0.45, 0.52)
            length = rng.uniform(0.40, 0.48)
            th_max = 50.0
        rom_set = rng.uniform(32.0, min(50.0, th_max + 4.0))
        top_lo, top_hi = max(-2.0, rom_set - th_max), min(5.0, rom_set - 30.0)
        top = rng.uniform(top_lo, max(top_lo, top_hi))
        start_theta = (top - rom_set) * DEG
    rom_set *= DEG
    return SetGeometry(pivot_height_m=pivot_z, segment_length_m=length), start_theta, rom_set


def plan_set(
    rng: np.random.Generator, settings: SimSettings, index: int, side: str, mounting: Rotation
) -> SetPlan:
    """Draw set ``index`` (1-based) done on ``side`` with the sensor mounted as ``mounting``."""
    if settings.standing:
        return plan_standing_set(rng, settings, index, side, mounting)
    geometry, start_theta, rom_set = _draw_geometry(rng, settings)
    if settings.motion == "bridge_leg_lift":
        return plan_lift_set(rng, settings, index, side, mounting, geometry, start_theta, rom_set)
    on_pelvis = settings.on_pelvis
    floor = settings.motion != "bench_thrust"
    n = int(rng.integers(settings.reps_per_set[0], settings.reps_per_set[1] + 1))
    allowed = [f for f in FAULTS if f in settings.faults and (on_pelvis or f != "hip_tilt")]
    cap = int(math.floor(0.35 * n))
    flags = {f: capped_flags(rng, n, settings.fault_probability, cap) for f in allowed}
    no = np.zeros(n, dtype=bool)
    tilt_sign = (-1.0 if side == "left" else 1.0) * (1.0 if rng.random() < 0.8 else -1.0)
    touch_and_go = rng.random(n) < 0.1  # touch-and-go after rep k
    reps: list[RepPlan] = []
    bottom = start_theta
    for k in range(n):
        # on the floor a partial first rep (10-13 deg) is hardly a movement: not simulated
        partial = bool(flags.get("partial_rom", no)[k]) and not (floor and k == 0)
        rushed = bool(flags.get("rushed_lowering", no)[k])
        short = bool(flags.get("short_hold", no)[k])
        tilted = bool(flags.get("hip_tilt", no)[k])
        rom = rom_set * (rng.uniform(0.58, 0.72) if partial else 1.0 + rng.uniform(-0.03, 0.03))
        conc = rng.uniform(0.8, 1.6)
        # measured from the movement's onset to its stop, a 0.6 s profile lasts up to ~0.7 s: clear
        # of the 1 s limit
        ecc = rng.uniform(0.35, 0.6) if rushed else rng.uniform(1.4, 3.0)
        hold = rng.uniform(0.0, 0.6) if short else rng.uniform(1.1, 2.0)
        rise_beta = 2.0 if (k > 0 and touch_and_go[k - 1]) else 3.0
        lower_beta_end = 2.0 if touch_and_go[k] else 3.0
        # rushed lowering starts smoothly (a brisk start would exceed free fall)
        lower_beta_start = 3.0 if rushed else 2.0
        lo_c, hi_c = beta_band(rise_beta, 2.0)
        lo_e, hi_e = beta_band(lower_beta_start, lower_beta_end)
        rise_s, lower_s = conc / (hi_c - lo_c), ecc / (hi_e - lo_e)
        # the truth top hold also contains the profile ends within 5 % of the top
        hold_s = max(0.0, hold - (1.0 - hi_c) * rise_s - lo_e * lower_s)
        pause = rng.uniform(0.0, 0.1) if touch_and_go[k] else rng.uniform(0.3, 2.5)
        next_bottom = start_theta + rng.uniform(-0.3, 0.3) * DEG
        next_bottom = min(next_bottom, bottom + 0.02 * rom)
        if on_pelvis:
            # a floor bridge's range is about half a thrust's: so is a visible tilt
            t_lo, t_hi, t_ok = (6.0, 8.0, 1.2) if floor else (7.0, 12.0, 1.8)
            roll = tilt_sign * rng.uniform(t_lo, t_hi) * DEG if tilted else rng.uniform(-t_ok, t_ok) * DEG
            wobble = rng.uniform(-0.6, 0.6) * DEG
        else:
            roll = rng.uniform(-1.5, 1.5) * DEG
            wobble = rng.uniform(-1.5, 1.5) * DEG
        on = {"partial_rom": partial, "rushed_lowering": rushed, "short_hold": short, "hip_tilt": tilted}
        injected = tuple(f for f in FAULTS if on[f] and f in flags)
        reps.append(
            RepPlan(
                bottom=bottom,
                rom=rom,
                next_bottom=next_bottom,
                rise_s=rise_s,
                hold_s=hold_s,
                lower_s=lower_s,
                pause_s=pause,
                rise_beta=rise_beta,
                lower_beta_end=lower_beta_end,
                lower_beta_start=lower_beta_start,
                peak_roll=roll,
                peak_wobble=wobble,
                injected=injected,
            )
        )
        bottom = next_bottom
    reps[-1].pause_s = rng.uniform(1.0, 3.0)  # still at the bottom after the last rep
    geometry.start_roll = rng.uniform(-2.0, 2.0) * DEG if on_pelvis else rng.uniform(-3.0, 3.0) * DEG
    still_before_s = rng.uniform(0.2, 0.5) if rng.random() < 0.15 else rng.uniform(1.5, 4.0)
    return SetPlan(
        index=index,
        side=side,
        mounting=mounting,
        start_theta=start_theta,
        geometry=geometry,
        reps=reps,
        still_before_s=still_before_s,
    )


def plan_lift_set(
    rng: np.random.Generator,
    settings: SimSettings,
    index: int,
    side: str,
    mounting: Rotation,
    geometry: SetGeometry,
    start_theta: float,
    rom: float,
) -> SetPlan:
    """A glute bridge with leg lift: rise, hold with alternating lifts, lower (one 'rep')."""
    on_pelvis = settings.on_pelvis
    n_side = int(rng.integers(settings.reps_per_set[0], settings.reps_per_set[1] + 1))
    other = "left" if side == "right" else "right"
    order = [side if k % 2 == 0 else other for k in range(2 * n_side)]
    n = len(order)
    allowed = [f for f in ("hip_tilt", "rushed_lowering", "short_hold") if f in settings.faults]
    if not on_pelvis:  # pelvic rotation is not seen from a thigh
        allowed = [f for f in allowed if f != "hip_tilt"]
    flags = {f: capped_flags(rng, n, settings.fault_probability, int(math.floor(0.35 * n))) for f in allowed}
    no = np.zeros(n, dtype=bool)
    lifts: list[LiftPlan] = []
    cur = rng.uniform(1.0, 2.0)  # settle into the bridge before the first lift
    for k, lift_side in enumerate(order):
        tilted = bool(flags.get("hip_tilt", no)[k])
        rushed = bool(flags.get("rushed_lowering", no)[k])
        short = bool(flags.get("short_hold", no)[k])
        up = rng.uniform(0.5, 0.9)
        hold = rng.uniform(0.0, 0.15) if short else rng.uniform(1.0, 1.8)
        down = rng.uniform(0.2, 0.45) if rushed else rng.uniform(1.0, 1.6)
        # the pelvis rolls towards the unsupported (lifted) side: that side drops
        drop = rng.uniform(4.0, 7.0) if tilted else rng.uniform(1.0, 2.3)
        sgn = -1.0 if lift_side == "right" else 1.0  # roll > 0 raises the right side
        roll = sgn * drop * DEG
        wobble = rng.uniform(-1.0, 1.0) * (2.0 if tilted else 0.5) * DEG
        dip = -rng.uniform(0.3, 1.5) * DEG  # the hips sag a little on one leg
        flex = rng.uniform(10.0, 22.0) * DEG  # thigh flexion of the lifted leg
        injected = tuple(
            f for f, on in (("hip_tilt", tilted), ("rushed_lowering", rushed), ("short_hold", short)) if on
        )
        lifts.append(LiftPlan(lift_side, cur, up, hold, down, roll, wobble, dip, flex, injected))
        cur += up + hold + down + rng.uniform(0.8, 2.0)
    bridge = RepPlan(
        bottom=start_theta,
        rom=rom,
        next_bottom=start_theta + rng.uniform(-0.3, 0.3) * DEG,
        rise_s=rng.uniform(1.2, 2.0),
        hold_s=cur,
        lower_s=rng.uniform(1.5, 3.0),
        pause_s=rng.uniform(3.0, 5.0),  # lying a few seconds after the drill
        rise_beta=3.0,
        lower_beta_end=3.0,
        lower_beta_start=2.0,
        peak_roll=rng.uniform(-0.5, 0.5) * DEG,
        peak_wobble=rng.uniform(-0.3, 0.3) * DEG,
        injected=(),
    )
    geometry.start_roll = rng.uniform(-2.0, 2.0) * DEG if on_pelvis else rng.uniform(-3.0, 3.0) * DEG
    still_before_s = rng.uniform(1.5, 4.0)
    return SetPlan(
        index=index,
        side=side,
        mounting=mounting,
        start_theta=start_theta,
        geometry=geometry,
        reps=[bridge],
        lifts=lifts,
        still_before_s=still_before_s,
    )


_STANDING_SHAPES: dict[str, tuple[tuple[float, float], ...]] = {
    # thigh rest, thigh range, pelvis rest, pelvis range (deg); knee forward, up (m)
    "squat": ((2, 6), (80, 100), (-8, -4), (-45, -25), (0.06, 0.10), (-0.04, -0.02)),
    "split_squat": ((15, 25), (55, 70), (-8, -4), (-25, -12), (0.03, 0.06), (-0.05, -0.03)),
    "pistol": ((2, 6), (100, 125), (-8, -4), (-50, -30), (0.10, 0.14), (-0.06, -0.04)),
    "hinge": ((2, 6), (10, 20), (-8, -4), (-80, -50), (0.02, 0.04), (-0.02, -0.01)),
    "step_up": ((65, 85), (-78, -60), (-28, -22), (12, 18), (-0.10, -0.06), (0.01, 0.03)),
}
"""Ranges the standing geometry of each standing motion is drawn from: a squat turns the thigh
80-100 deg (real sets: 80-100) and tilts the pelvis 25-45 deg forward (real: 28-41); a split
squat's front thigh starts 15-25 deg flexed; a pistol goes past parallel; a hinge tilts the
pelvis 50-80 deg over a nearly still thigh; a step-up starts with the foot on a knee-high box
(thigh 65-85 deg flexed, trunk leaning) and straightens both."""


def plan_standing_set(
    rng: np.random.Generator, settings: SimSettings, index: int, side: str, mounting: Rotation
) -> SetPlan:
    """A set of a standing movement: the reps as the depth ``u`` (0 standing at rest, 1 at the far
    side; partial reps 0.58-0.72), lowering first unless the exercise rests at the bottom (the
    step-up).  Faults that may be injected: ``rushed_lowering``, ``partial_rom`` and, with the
    sensor on the pelvis of a single-leg movement, ``hip_tilt`` (a pelvis dropping or rotating
    7-11 deg); no ``short_hold``."""
    on_pelvis = settings.on_pelvis
    shape = _STANDING_SHAPES[settings.motion]
    th_rest, th_range, p_rest, p_range, k_fwd, k_up = (rng.uniform(lo, hi) for lo, hi in shape)
    standing = StandingGeometry(
        th_rest * DEG, th_range * DEG, p_rest * DEG, p_range * DEG, float(k_fwd), float(k_up)
    )
    length = rng.uniform(0.40, 0.48)
    geometry = SetGeometry(pivot_height_m=rng.uniform(0.45, 0.52), segment_length_m=length, standing=standing)
    lower_first = settings.exercise in LOWER_FIRST
    min_lowering = STANDING_LOWERING_MIN_S[settings.exercise]
    n = int(rng.integers(settings.reps_per_set[0], settings.reps_per_set[1] + 1))
    allowed = [
        f for f in FAULTS if f in settings.faults and f != "short_hold" and (on_pelvis or f != "hip_tilt")
    ]
    cap = int(math.floor(0.35 * n))
    flags = {f: capped_flags(rng, n, settings.fault_probability, cap) for f in allowed}
    no = np.zeros(n, dtype=bool)
    tilt_sign = (-1.0 if side == "left" else 1.0) * (1.0 if rng.random() < 0.8 else -1.0)
    touch_and_go = rng.random(n) < 0.3  # standing movements are often done without a pause
    reps: list[RepPlan] = []
    bottom = 0.0
    for k in range(n):
        partial = bool(flags.get("partial_rom", no)[k]) and k > 0
        rushed = bool(flags.get("rushed_lowering", no)[k])
        tilted = bool(flags.get("hip_tilt", no)[k])
        depth = rng.uniform(0.58, 0.72) if partial else 1.0 + rng.uniform(-0.03, 0.03)
        # measured from the onset, a lowering lasts up to ~0.1 s longer than its band-to-band time
        lowering = rng.uniform(0.55, 0.75) * min_lowering if rushed else rng.uniform(1.3, 2.5) * min_lowering
        lifting = rng.uniform(0.7, 1.4)
        conc, ecc = (lowering, lifting) if lower_first else (lifting, lowering)
        hold = rng.uniform(0.0, 0.4) if lower_first else rng.uniform(0.2, 0.8)
        rise_beta = 2.0 if (k > 0 and touch_and_go[k - 1]) else 3.0
        lower_beta_end = 2.0 if touch_and_go[k] else 3.0
        lower_beta_start = 3.0 if (rushed and not lower_first) else 2.0
        lo_c, hi_c = beta_band(rise_beta, 2.0)
        lo_e, hi_e = beta_band(lower_beta_start, lower_beta_end)
        rise_s, lower_s = conc / (hi_c - lo_c), ecc / (hi_e - lo_e)
        hold_s = max(0.0, hold - (1.0 - hi_c) * rise_s - lo_e * lower_s)
        pause = rng.uniform(0.0, 0.1) if touch_and_go[k] else rng.uniform(0.3, 1.5)
        next_bottom = min(rng.uniform(-0.003, 0.003), bottom + 0.02 * depth)
        if on_pelvis:
            roll = tilt_sign * rng.uniform(7.0, 11.0) * DEG if tilted else rng.uniform(-1.2, 1.2) * DEG
            wobble = rng.uniform(-0.6, 0.6) * DEG
        else:
            roll = rng.uniform(-1.5, 1.5) * DEG
            wobble = rng.uniform(-1.5, 1.5) * DEG
        on = {"partial_rom": partial, "rushed_lowering": rushed, "hip_tilt": tilted}
        injected = tuple(f for f in FAULTS if on.get(f, False) and f in flags)
        reps.append(
            RepPlan(
                bottom=bottom,
                rom=depth,
                next_bottom=next_bottom,
                rise_s=rise_s,
                hold_s=hold_s,
                lower_s=lower_s,
                pause_s=pause,
                rise_beta=rise_beta,
                lower_beta_end=lower_beta_end,
                lower_beta_start=lower_beta_start,
                peak_roll=roll,
                peak_wobble=wobble,
                injected=injected,
            )
        )
        bottom = next_bottom
    reps[-1].pause_s = rng.uniform(1.0, 3.0)  # standing still after the last rep
    geometry.start_roll = rng.uniform(-2.0, 2.0) * DEG if on_pelvis else rng.uniform(-3.0, 3.0) * DEG
    seg_range = standing.pelvis_range if on_pelvis else standing.thigh_range
    return SetPlan(
        index=index,
        side=side,
        mounting=mounting,
        start_theta=0.0,
        geometry=geometry,
        reps=reps,
        still_before_s=rng.uniform(1.5, 4.0),
        direction=-1.0 if seg_range > 0 else 1.0,
    )
