"""The non-rep motion around the sets of a style recording, and the session that strings it together.

Walking (step-frequency bounce, stride-frequency pelvis obliquity and rotation or thigh swing,
heel-strike impacts), sitting down on a box and getting up, getting onto the bench (sitting on
the floor in front of it, then shoulders onto it), re-strapping the sensor (it turns in the hand
through random orientations and ends at a new mounting; a thigh sensor changes thigh when the
working side changes) and picking the phone up from the floor (a hinge down, standing up,
looking at it).  :func:`build_body` runs the whole recording of a :class:`RecordingStyle`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.signal import butter, sosfilt
from scipy.spatial.transform import Rotation

from imurep.sim.motion import DEG, Array
from imurep.sim.style_body import Body, heading_vectors
from imurep.sim.style_sets import SetTrace, do_set, place
from imurep.sim.styles import RecordingStyle

STAND_M = {True: 0.95, False: 0.90}
"""Anchor height when standing (pelvis centre / hip joint), m, by ``on_pelvis``."""


def standing(body: Body, near: Array, heading: float) -> tuple[Array, Array]:
    """A standing pose at ``near`` (x, y) facing ``heading``."""
    a = near.copy()
    a[2] = STAND_M[body.on_pelvis] + body.rng.uniform(-0.02, 0.02)
    return a, np.array([heading, body.rng.uniform(-4, 4) * DEG, 0.0, 0.0])


def walk(body: Body, duration_s: float) -> None:
    """Walk for ``duration_s``, turning now and then (logged ``walking``)."""
    rng = body.rng
    tl = body.times(duration_s)
    dt = body.dt_s
    f_step = rng.uniform(1.6, 2.1)
    speed = rng.uniform(0.8, 1.4)
    env = np.clip(np.minimum(tl, tl[-1] - tl) / 0.8, 0.0, 1.0)
    env = env * env * (3 - 2 * env)
    # smooth turns: low-pass filtered turn rate (about 0.3 rad/s RMS), integrated
    sos = butter(2, 0.3 * 2.0 * dt, output="sos")
    rate = sosfilt(sos, rng.normal(size=tl.size))
    rate *= 0.3 / max(1e-12, float(np.std(rate))) * env
    a0, g0 = body.anchor, body.angles
    heading = g0[0] + np.cumsum(rate) * dt
    dx = np.cumsum(-np.sin(heading) * speed * env * dt)
    dy = np.cumsum(np.cos(heading) * speed * env * dt)
    ph = 2.0 * math.pi * f_step * tl + rng.uniform(0, 2 * math.pi)
    anchor = np.column_stack([a0[0] + dx, a0[1] + dy, a0[2] - env * rng.uniform(0.012, 0.025) * np.cos(ph)])
    angles = np.repeat(g0[None, :], tl.size, axis=0)
    angles[:, 0] = heading + env * rng.uniform(2, 6) * DEG * np.sin(0.5 * ph + rng.uniform(0, 6))
    if body.on_pelvis:
        angles[:, 1] += env * rng.uniform(1.5, 4.0) * DEG * np.sin(ph)
        angles[:, 2] += env * rng.uniform(2.0, 5.0) * DEG * np.sin(0.5 * ph)
    else:  # hip flexion / extension of the thigh, once per stride
        swing = rng.uniform(16, 26) * DEG
        angles[:, 1] += env * (swing * np.sin(0.5 * ph) + 0.2 * swing)
        angles[:, 2] += env * rng.uniform(1.0, 4.0) * DEG * np.sin(0.5 * ph + 1.0)
    body.push(anchor, angles, "walking")
    # heel strikes: once per step, the leg of the sensor's side harder for a thigh sensor
    t_first = body.tau_s - tl[-1]
    k = np.flatnonzero(np.diff(np.floor(ph / (2 * math.pi))) > 0)
    for j, i in enumerate(k):
        if env[i] > 0.5:
            peak = rng.uniform(4.0, 10.0) * (1.3 if (not body.on_pelvis and j % 2 == 0) else 1.0)
            body.impacts.append((t_first + tl[i], peak, rng.uniform(0.01, 0.02)))


def sit_down(body: Body) -> None:
    """Sit down on a box, rest there a while, get up (``transition`` / ``sitting``)."""
    rng = body.rng
    a0, g0 = body.anchor, body.angles
    h = g0[0]
    _, fwd = heading_vectors(h)
    seat = a0 - fwd * rng.uniform(0.15, 0.3)
    seat[2] = rng.uniform(0.45, 0.55) if body.on_pelvis else rng.uniform(0.45, 0.52)
    g_seat = np.array([h, rng.uniform(-5, 15) * DEG if body.on_pelvis else rng.uniform(80, 95) * DEG, 0, 0])
    mid = 0.5 * (a0 + seat)
    g_mid = np.array([h, -rng.uniform(20, 35) * DEG if body.on_pelvis else rng.uniform(50, 70) * DEG, 0, 0])
    body.go([(mid, g_mid, rng.uniform(0.6, 1.0)), (seat, g_seat, rng.uniform(0.5, 0.9))])
    body.impacts.append((body.tau_s, rng.uniform(2.0, 5.0), 0.03))
    body.hold(rng.uniform(4.0, 15.0), "sitting", sway=1.0)
    up, g_up = standing(body, a0, h + rng.uniform(-0.5, 0.5))
    body.go([(mid, g_mid, rng.uniform(0.6, 1.0)), (up, g_up, rng.uniform(0.6, 1.0))])
    body.hold(rng.uniform(1.0, 3.0), "standing")


def phone(body: Body) -> None:
    """Pick the phone up from the floor and look at it (logged ``phone``)."""
    rng = body.rng
    t_a = body.tau_s
    a0, g0 = body.anchor, body.angles
    _, fwd = heading_vectors(g0[0])
    low = a0 + fwd * rng.uniform(0.05, 0.2)
    low[2] = a0[2] - rng.uniform(0.2, 0.4)
    g_low = g0.copy()
    g_low[1] = -rng.uniform(45, 80) * DEG if body.on_pelvis else rng.uniform(40, 100) * DEG
    g_low[2] = rng.uniform(-5, 5) * DEG
    body.go([(low, g_low, rng.uniform(0.8, 1.4))], kind=None)
    body.hold(rng.uniform(0.4, 1.2), None, sway=2.0)
    body.go([(a0, g0, rng.uniform(0.8, 1.4))], kind=None)
    body.hold(rng.uniform(3.0, 10.0), None, sway=1.5)
    body.log("phone", t_a, body.tau_s)


def restrap(body: Body, mount: Rotation, lever: Array, side_change: bool) -> tuple[Rotation, Array]:
    """Take the sensor off, turn it in the hand, strap it on again (logged ``restrap``).

    Returns the new mounting and lever arm.  A thigh sensor that changes side moves to the other
    thigh (its anchor, the hip joint, shifts by 0.18 m and the lever arm is mirrored).
    """
    rng = body.rng
    t_a = body.tau_s
    new_mount = Rotation.random(random_state=rng)
    new_lever = lever.copy()
    if side_change:
        new_lever[0] = -new_lever[0]
    else:
        new_lever = new_lever + rng.normal(0.0, 0.01, 3)
    body.mounting.key(t_a, mount, lever)
    t = t_a
    r = mount
    for _ in range(int(rng.integers(2, 4))):
        t += rng.uniform(0.8, 2.0)
        r = r * Rotation.from_rotvec(rng.normal(0.0, 0.8, 3))
        body.mounting.key(t, r, lever + rng.normal(0.0, 0.08, 3))
    t_end = t + rng.uniform(0.8, 2.0)
    body.mounting.key(t_end, new_mount, new_lever)
    a = body.anchor
    if side_change and not body.on_pelvis:
        lat, _ = heading_vectors(body.angles[0])
        a = a + lat * (0.18 if new_lever[0] > 0 else -0.18)
    body.go([(a, body.angles, t_end - t_a)], kind=None)
    body.hold(rng.uniform(0.5, 2.0), None)
    body.log("restrap", t_a, body.tau_s)
    return new_mount, new_lever


def onto_bench(body: Body, bench_heading: float) -> None:
    """Turn, sit on the floor in front of the bench (``transition``, ``sitting``)."""
    rng = body.rng
    a0 = body.anchor
    turned = np.array([bench_heading, body.angles[1], 0.0, 0.0])
    seat = a0.copy()
    seat[2] = rng.uniform(0.10, 0.15)
    g_seat = np.array(
        [bench_heading, rng.uniform(15, 40) * DEG if body.on_pelvis else rng.uniform(120, 140) * DEG, 0, 0]
    )
    squat = 0.5 * (a0 + seat)
    g_squat = np.array(
        [bench_heading, -rng.uniform(15, 30) * DEG if body.on_pelvis else rng.uniform(95, 115) * DEG, 0, 0]
    )
    body.go(
        [(a0, turned, rng.uniform(1.0, 2.0)), (squat, g_squat, rng.uniform(0.8, 1.3)), (seat, g_seat, 0.9)]
    )
    body.impacts.append((body.tau_s, rng.uniform(2.0, 5.0), 0.03))
    body.hold(rng.uniform(1.5, 5.0), "sitting", sway=0.8)


def get_up(body: Body) -> None:
    """From the bottom of a set: hips to the floor, sit up, stand up (``transition``)."""
    rng = body.rng
    a0, g0 = body.anchor, body.angles
    h = g0[0]
    seat = a0.copy()
    seat[2] = rng.uniform(0.10, 0.15)
    g_seat = np.array([h, rng.uniform(15, 40) * DEG if body.on_pelvis else rng.uniform(120, 140) * DEG, 0, 0])
    _, fwd = heading_vectors(h)
    stand, g_stand = standing(body, seat + fwd * rng.uniform(0.2, 0.4), h + rng.uniform(-0.4, 0.4))
    squat = 0.5 * (seat + stand)
    g_squat = np.array(
        [h, -rng.uniform(15, 30) * DEG if body.on_pelvis else rng.uniform(95, 115) * DEG, 0, 0]
    )
    body.go(
        [
            (seat, g_seat, rng.uniform(1.0, 1.8)),
            (squat, g_squat, rng.uniform(0.8, 1.2)),
            (stand, g_stand, 0.9),
        ]
    )
    body.hold(rng.uniform(1.0, 3.0), "standing")


@dataclass
class BuiltBody:
    """A built recording: the body track and the traces of its sets."""

    body: Body
    sets: list[SetTrace]


def build_body(style: RecordingStyle, rng: np.random.Generator, dt_s: float) -> BuiltBody:
    """The whole recording of ``style`` on a fine grid of step ``dt_s`` (s)."""
    on_pelvis = style.placement == "hip"
    heading = float(rng.uniform(-math.pi, math.pi))
    a0 = np.array([0.0, 0.0, STAND_M[on_pelvis]])
    body = Body(rng, dt_s, on_pelvis, a0, np.array([heading, 0.0, 0.0, 0.0]))
    mount = Rotation.random(random_state=rng)
    lever = np.asarray(style.sensor.lever_m, dtype=float)
    body.mounting.key(0.0, mount, lever)
    body.hold(rng.uniform(2.0, 5.0), "standing")
    traces: list[SetTrace] = []
    side = style.sets[0].side
    for k, st in enumerate(style.sets):
        around = list(style.around[k])
        change = st.side != side and not on_pelvis
        if change and "restrap" not in around:
            around.insert(0, "restrap")
        for what in around:
            if what == "walking":
                walk(body, rng.uniform(5.0, 15.0))
                body.hold(rng.uniform(1.0, 3.0), "standing")
            elif what == "phone":
                phone(body)
            elif what == "restrap":
                mount, lever = restrap(body, mount, lever, change)
                change = False
            elif what == "sitting_down":
                sit_down(body)
            elif what == "onto_bench":
                onto_bench(body, body.angles[0] + rng.uniform(0.8, 1.2) * math.pi)
        side = st.side
        geo, a_start, g_start = place(body, st, float(body.angles[0]))
        body.go([(a_start, g_start, rng.uniform(1.0, 2.0))])
        traces.append(do_set(body, st, geo, mount, lever))
        mount, lever = _after_slip(body, mount, lever, traces[-1])
        get_up(body)
        body.hold(rng.uniform(2.0, 8.0), "standing")
    for what in style.around[-1]:
        if what == "walking":
            walk(body, rng.uniform(4.0, 10.0))
        elif what == "phone":
            phone(body)
        elif what == "sitting_down":
            sit_down(body)
    body.hold(rng.uniform(1.0, 3.0), "standing")
    return BuiltBody(body=body, sets=traces)


def _after_slip(body: Body, mount: Rotation, lever: Array, trace: SetTrace) -> tuple[Rotation, Array]:
    """The mounting after a set (changed when its strap slipped)."""
    if not trace.slips:
        return mount, lever
    return body.mounting.rotations[-1], body.mounting.levers_m[-1]
