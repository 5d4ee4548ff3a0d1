"""What the lifter does around the sets: standing, walking, sitting, getting up, fidgeting and
moving the sensor to the other thigh.

Every phase appends to a :class:`~imurep.sim.trajectory.Trajectory` from its current pose and
draws from its random generator in a fixed order (the order is part of the behaviour: the same
seed must give the same recording).  Pose helpers (:func:`seated_floor`, :func:`mid_squat`,
:func:`standing_pose`) only return target poses for :func:`move`.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.spatial.transform import Rotation

from imurep.sim.motion import DEG, Array, Pose, heading_dirs, min_jerk, wrap_angle
from imurep.sim.trajectory import Jolt, SoftTissueKick, Trajectory

# --- primitives -------------------------------------------------------------------------------


def still(traj: Trajectory, duration_s: float, kind: str | None = "standing", sway: float = 1.0) -> None:
    """Quiet standing/sitting/lying with postural sway (amplitude scale ``sway``, 0 = none).

    Logged as ``kind`` unless it is ``None``.
    """
    rng = traj.rng
    t_a = traj.tau_s
    n = traj.steps(duration_s)
    tl = np.arange(1, n + 1) * traj.dt_s
    window = np.sin(math.pi * tl / (n * traj.dt_s)) ** 2
    pose = traj.pose
    anchor = np.repeat(pose.anchor_m[None, :], n, axis=0)
    angles = np.repeat(np.array([[pose.heading, pose.flex, pose.roll, pose.wobble]]), n, axis=0)
    if sway > 0.0:
        for k in range(3):
            for _ in range(2):
                f = rng.uniform(0.1, 0.6)
                phase = rng.uniform(0, 2 * math.pi)
                anchor[:, k] += (
                    sway
                    * window
                    * rng.uniform(0.001, 0.004 if k < 2 else 0.0015)
                    * np.sin(2 * math.pi * f * tl + phase)
                )
        for k in range(1, 4):
            f = rng.uniform(0.1, 0.5)
            phase = rng.uniform(0, 2 * math.pi)
            angles[:, k] += sway * window * rng.uniform(0.2, 0.8) * DEG * np.sin(2 * math.pi * f * tl + phase)
    traj.push(anchor, angles)
    if kind:
        traj.log(kind, t_a, traj.tau_s)


def move(
    traj: Trajectory,
    waypoints: list[tuple[Pose, float]],
    kind: str | None = "transition",
    jolts: tuple[float, ...] = (),
) -> None:
    """Min-jerk moves through ``waypoints`` [(pose, duration s)], with landing jolts.

    ``jolts`` lists (fractional) waypoint positions, e.g. 1.6 = 60 % into waypoint 2.  Each
    waypoint also excites the soft tissue.
    """
    rng = traj.rng
    t_a = traj.tau_s
    seg_starts = []
    for target, duration_s in waypoints:
        seg_starts.append(traj.tau_s)
        n = traj.steps(duration_s)
        s = min_jerk(np.arange(1, n + 1) / n)[:, None]
        pose = traj.pose
        d_heading = wrap_angle(target.heading - pose.heading)
        a0 = np.array([pose.heading, pose.flex, pose.roll, pose.wobble])
        a1 = np.array([pose.heading + d_heading, target.flex, target.roll, target.wobble])
        anchor = pose.anchor_m[None, :] + s * (target.anchor_m - pose.anchor_m)[None, :]
        traj.push(anchor, a0[None, :] + s * (a1 - a0)[None, :])
        traj.soft_tissue.append(SoftTissueKick(seg_starts[-1], float(rng.uniform(0.3, 0.8))))
    durations = [d for _, d in waypoints]
    for j in jolts:
        k = min(int(j), len(waypoints) - 1)
        t_j = seg_starts[k] + (j - k) * durations[k]
        amp = np.array([rng.normal(0, 0.6), rng.normal(0, 0.6), rng.uniform(1.5, 4.0)])
        f_j, decay_j = float(rng.uniform(6, 12)), float(rng.uniform(0.012, 0.025))
        traj.jolts.append(Jolt(t_j, amp, f_j, decay_j))
        traj.soft_tissue.append(SoftTissueKick(t_j, 1.0))
    if kind:
        traj.log(kind, t_a, traj.tau_s)


# --- walking ----------------------------------------------------------------------------------


def walk(traj: Trajectory, duration_s: float) -> None:
    """Walking with gait oscillations, heel strikes and (for walks over 14 s) a turn."""
    rng = traj.rng
    dt = traj.dt_s
    lat_offset = traj.lateral_offset_m
    t_a = traj.tau_s
    n = traj.steps(duration_s)
    T = n * dt
    tl = np.arange(1, n + 1) * dt
    ramp = 1.2
    env = min_jerk(tl / ramp) * min_jerk((T - tl) / ramp)
    f_step = rng.uniform(1.7, 2.0)
    f_stride = f_step / 2.0
    v0 = f_step * rng.uniform(0.62, 0.75)
    pose = traj.pose
    heading = np.full(n, pose.heading)
    if T > 14.0:
        t_turn = rng.uniform(0.35, 0.65) * T
        turn = rng.choice([-1.0, 1.0]) * rng.uniform(0.5, 1.0) * math.pi
        heading = heading + turn * min_jerk((tl - t_turn) / rng.uniform(2.4, 3.4))
    lat_dir, fwd = heading_dirs(heading)
    lat0, _ = heading_dirs(np.array([pose.heading]))
    centre0 = pose.anchor_m - lat_offset * lat0[0]
    phase0 = rng.uniform(0, 2 * math.pi)
    w_stride = 2 * math.pi * f_stride * tl + phase0
    w_step = 2 * w_stride
    speed = v0 * env * (1.0 + 0.06 * np.sin(w_step))
    # pelvis centre path (no net drift in the oscillations: they are enveloped)
    step_xy = np.cumsum(speed[:, None] * fwd, axis=0) * dt
    centre = centre0[None, :] + step_xy
    centre[:, 2] += env * (-0.02 * np.cos(w_step))
    centre += (env * 0.02 * np.sin(w_stride))[:, None] * lat_dir
    anchor = centre + lat_offset * lat_dir
    angles = np.zeros((n, 4))
    angles[:, 0] = heading
    if traj.on_pelvis:
        angles[:, 1] = pose.flex + env * 1.5 * DEG * np.sin(w_step)
        angles[:, 2] = pose.roll + env * rng.uniform(4.0, 7.0) * DEG * np.sin(w_stride + 0.5)  # rotation
        angles[:, 3] = pose.wobble + env * rng.uniform(3.0, 5.0) * DEG * np.sin(w_stride)  # obliquity
    else:
        side_phase = 0.0 if lat_offset >= 0 else math.pi
        angles[:, 1] = pose.flex + env * (rng.uniform(20, 28) * DEG * np.sin(w_stride + side_phase) + 5 * DEG)
        angles[:, 2] = pose.roll + env * 3.0 * DEG * np.sin(w_stride + side_phase + 1.0)
        angles[:, 3] = pose.wobble + env * 2.0 * DEG * np.sin(w_stride + side_phase)
    traj.push(anchor, angles)
    # heel strikes: once per step while walking properly
    k0 = math.ceil(ramp * 0.8 * f_step)
    t_heel = np.arange(k0, int(T * f_step)) / f_step + (phase0 / (2 * math.pi)) / f_stride
    for i, t_h in enumerate(t_heel):
        if t_h > T - ramp * 0.8:
            break
        idx = min(n - 1, int(t_h / dt))
        ipsilateral = (i % 2 == 0) if lat_offset >= 0 else (i % 2 == 1)
        big = 1.0 if (traj.on_pelvis or ipsilateral) else 0.45
        amp = big * (np.array([0.0, 0.0, rng.uniform(1.5, 3.5)]) + fwd[idx] * rng.uniform(-1.2, 0.3))
        f_j, decay_j = float(rng.uniform(12, 20)), float(rng.uniform(0.008, 0.015))
        traj.jolts.append(Jolt(t_a + t_h, amp, f_j, decay_j))
        traj.soft_tissue.append(SoftTissueKick(t_a + t_h, float(big)))
    traj.log("walking", t_a, traj.tau_s)


# --- poses ------------------------------------------------------------------------------------


def seated_floor(traj: Trajectory, base: Pose, heading: float) -> Pose:
    """Sitting on the floor in front of the bench, back against it (pose only)."""
    rng = traj.rng
    _, fwd = heading_dirs(np.array([heading]))
    xy = base.anchor_m + fwd[0] * rng.uniform(-0.1, 0.1)
    if traj.on_pelvis:
        return Pose(
            anchor_m=np.array([xy[0], xy[1], rng.uniform(0.11, 0.15)]),
            heading=heading,
            flex=rng.uniform(20, 40) * DEG,
        )
    return Pose(
        anchor_m=np.array([xy[0], xy[1], rng.uniform(0.09, 0.13)]),
        heading=heading,
        flex=rng.uniform(110, 130) * DEG,
    )


def mid_squat(traj: Trajectory, a: Pose, b: Pose) -> Pose:
    """The half-squat pose between ``a`` and ``b`` when sitting down or getting up."""
    rng = traj.rng
    heading = a.heading + 0.6 * wrap_angle(b.heading - a.heading)
    anchor = 0.5 * (a.anchor_m + b.anchor_m)
    anchor[2] = rng.uniform(0.5, 0.6)
    flex = rng.uniform(-30, -15) * DEG if traj.on_pelvis else rng.uniform(70, 95) * DEG
    return Pose(anchor_m=anchor, heading=heading, flex=flex)


def standing_pose(traj: Trajectory, near: Pose) -> Pose:
    """Standing upright a step in front of ``near``, facing about the same way."""
    rng = traj.rng
    _, fwd = heading_dirs(np.array([near.heading]))
    anchor = near.anchor_m.copy() + fwd[0] * rng.uniform(0.1, 0.3)
    anchor[2] = traj.stand_height_m
    return Pose(anchor_m=anchor, heading=near.heading + rng.normal(0, 0.5), flex=traj.stand_flex)


# --- composite activities ---------------------------------------------------------------------


def get_up(traj: Trajectory) -> None:
    """From lying on the bench (or sitting in front of it) to standing, via sitting and a squat."""
    rng = traj.rng
    seat = seated_floor(traj, traj.pose, traj.pose.heading)
    stand = standing_pose(traj, seat)
    mid = mid_squat(traj, seat, stand)
    move(
        traj,
        [
            (seat, rng.uniform(0.8, 1.4)),
            (mid, rng.uniform(0.8, 1.2)),
            (stand, rng.uniform(0.8, 1.2)),
        ],
        jolts=(0.6,),
    )


def fidget(traj: Trajectory) -> None:
    """Shifting position while sitting on the floor (lift, shift, settle; logged ``fidget``)."""
    rng = traj.rng
    pose = traj.pose
    _, fwd = heading_dirs(np.array([pose.heading]))
    lat, _ = heading_dirs(np.array([pose.heading]))
    up = pose.copy()
    up.anchor_m = (
        pose.anchor_m + np.array([0, 0, rng.uniform(0.04, 0.09)]) + lat[0] * rng.uniform(-0.05, 0.05)
    )
    up.flex = pose.flex + (1 if traj.on_pelvis else -1) * rng.uniform(5, 12) * DEG
    up.heading = pose.heading + rng.uniform(-0.15, 0.15)
    up.roll = pose.roll + rng.uniform(-4, 4) * DEG
    down = pose.copy()
    down.anchor_m = pose.anchor_m + fwd[0] * rng.uniform(-0.12, 0.12) + lat[0] * rng.uniform(-0.06, 0.06)
    down.flex = pose.flex + rng.uniform(-5, 5) * DEG
    down.heading = pose.heading + rng.uniform(-0.2, 0.2)
    down.roll = rng.uniform(-2, 2) * DEG
    move(traj, [(up, rng.uniform(0.6, 1.0)), (down, rng.uniform(0.7, 1.2))], kind="fidget", jolts=(1.8,))


# --- the sensor -------------------------------------------------------------------------------


def lever_arm(traj: Trajectory, side: str) -> Array:
    """A random sensor position on the segment (segment frame, m) on the ``side`` of the body."""
    rng = traj.rng
    sgn = 1.0 if side == "right" else -1.0
    if traj.on_pelvis:
        return np.array([sgn * rng.uniform(0.10, 0.16), rng.uniform(-0.05, 0.05), rng.uniform(-0.02, 0.08)])
    return np.array([sgn * rng.uniform(0.06, 0.09), rng.uniform(0.03, 0.07), -rng.uniform(0.15, 0.25)])


def thigh_offset_m(side: str) -> float:
    """Lateral offset of the thigh anchor (hip joint) from the pelvis centre, m (+ = right)."""
    return (1.0 if side == "right" else -1.0) * 0.09


def restrap(traj: Trajectory, mounting: Rotation, side: str) -> tuple[Rotation, Array]:
    """Thigh: move the sensor to the other thigh (new random mounting, mirrored side).

    The mounting is handled through a random waypoint while standing; returns the new mounting
    (sensor -> segment) and lever arm (segment frame, m).
    """
    rng = traj.rng
    new_mounting = Rotation.random(random_state=rng)
    new_lever = lever_arm(traj, side)
    i0 = traj.n_samples - 1
    duration_s = rng.uniform(4.0, 7.0)
    new_offset = thigh_offset_m(side)
    lat_dir, _ = heading_dirs(np.array([traj.pose.heading]))
    target = traj.pose.copy()
    target.anchor_m = traj.pose.anchor_m + (new_offset - traj.lateral_offset_m) * lat_dir[0]
    traj.lateral_offset_m = new_offset
    move(traj, [(target, duration_s)], kind="transition")
    i1 = traj.n_samples - 1
    handling = mounting * Rotation.from_rotvec(rng.normal(0, 0.5, 3))
    keys = traj.mounting
    keys.rotations.append((i0, mounting))
    keys.rotations.append(((i0 + i1) // 2, handling))
    keys.rotations.append((i1, new_mounting))
    keys.levers_m.append((i0, keys.levers_m[-1][1]))
    keys.levers_m.append((i1, new_lever))
    return new_mounting, new_lever
