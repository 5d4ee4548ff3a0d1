"""Doing a set: placing the bench geometry, then the still start position, the reps and the still
bottom after the last rep, as the sagittal angle θ of the segment.

Sagittal angle θ
    The elevation (rad, above the horizontal plane) of the segment's longitudinal axis, signed so
    that θ increases as the hips rise: the caudal axis for the pelvis, the proximal axis
    (knee -> hip) for the thigh.  Bottom of a thrust ≈ -35..-50°, top ≈ 0..+5°.  The pelvis has
    ``flex = 90° + θ``, the thigh ``flex = 90° - θ`` (see :mod:`imurep.sim.motion`).
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import betainc

from imurep.sim.motion import Array, Pose, heading_dirs, min_jerk, orient
from imurep.sim.plans import SetGeometry, SetPlan
from imurep.sim.trajectory import SoftTissueKick, Trajectory


def set_pose(
    on_pelvis: bool,
    geometry: SetGeometry,
    heading: float,
    theta: Array,
    roll: Array,
    wobble: Array,
    rise: Array,
) -> tuple[Array, Array]:
    """Anchor position (n, 3) m and angles (n, 4) rad in the set for θ, roll and wobble (n,) rad.

    ``rise`` (n,) is the progress 0..1 of the rep; the thigh's knee slides forward 1.5 cm with it.
    """
    headings = np.full(theta.shape, heading)
    flex = (0.5 * math.pi + theta) if on_pelvis else (0.5 * math.pi - theta)
    rot = orient(headings, flex, roll, wobble)
    z_axis = rot.as_matrix()[:, :, 2]
    pivot = np.array([geometry.pivot_x_m, geometry.pivot_y_m, geometry.pivot_height_m])
    if on_pelvis:
        anchor = pivot[None, :] - geometry.segment_length_m * z_axis
    else:
        _, fwd = heading_dirs(headings)
        knee = pivot[None, :] + 0.015 * rise[:, None] * fwd
        anchor = knee + geometry.segment_length_m * z_axis
    return anchor, np.column_stack([headings, flex, roll, wobble])


def standing_pose(
    on_pelvis: bool, geometry: SetGeometry, heading: float, u: Array, roll: Array, wobble: Array
) -> tuple[Array, Array]:
    """Anchor (n, 3) m and angles (n, 4) rad of a standing movement at depth ``u`` (n,).

    The thigh turns about the knee (the pivot, shifting with the depth), the pelvis rides on the
    thigh's hip end and tilts with the depth (:class:`~imurep.sim.plans.StandingGeometry`).  The
    pelvis' left-right axis drops by ``roll`` (an upright pelvis drops, one tilted far forward
    rotates open) and it yaws by ``wobble``; the thigh takes ``roll`` and ``wobble`` as in
    :func:`set_pose`.
    """
    g = geometry.standing
    assert g is not None
    headings = np.full(u.shape, heading)
    thigh_flex = g.thigh_rest + g.thigh_range * u
    z_thigh = orient(headings, thigh_flex, np.zeros(u.shape), np.zeros(u.shape)).as_matrix()[:, :, 2]
    _, fwd = heading_dirs(headings)
    knee = np.array([geometry.pivot_x_m, geometry.pivot_y_m, geometry.pivot_height_m])[None, :] + (
        g.knee_forward_m * u[:, None] * fwd + g.knee_up_m * u[:, None] * np.array([0.0, 0.0, 1.0])
    )
    anchor = knee + geometry.segment_length_m * z_thigh
    if on_pelvis:
        flex = g.pelvis_rest + g.pelvis_range * u
        # a drop of the left-right axis: about the long axis as far as the pelvis is tilted
        # forward, about the front-back axis as far as it is upright (first order: exactly ``roll``)
        s_f, c_f = np.abs(np.sin(flex)), np.cos(flex)
        return anchor, np.column_stack([headings, flex, roll * s_f, roll * c_f + wobble])
    return anchor, np.column_stack([headings, thigh_flex, roll, wobble])


def place_set(on_pelvis: bool, plan: SetPlan, heading: float, near: Pose) -> Pose:
    """Fix the set's pivot so that the start position sits near ``near``; return that position."""
    geometry = plan.geometry
    if geometry.standing is not None:  # the knee under the hip of the standing pose
        one = np.zeros(1)
        geometry.pivot_x_m, geometry.pivot_y_m = 0.0, 0.0
        rel, angles = standing_pose(on_pelvis, geometry, heading, one, one + geometry.start_roll, one)
        geometry.pivot_x_m = float(near.anchor_m[0] - rel[0, 0])
        geometry.pivot_y_m = float(near.anchor_m[1] - rel[0, 1])
        anchor = rel[0] + np.array([geometry.pivot_x_m, geometry.pivot_y_m, 0.0])
        return Pose(
            anchor_m=anchor,
            heading=heading,
            flex=float(angles[0, 1]),
            roll=float(angles[0, 2]),
            wobble=float(angles[0, 3]),
        )
    theta_b = plan.start_theta
    flex = (0.5 * math.pi + theta_b) if on_pelvis else (0.5 * math.pi - theta_b)
    rot = orient(np.array([heading]), np.array([flex]), np.array([geometry.start_roll]), np.array([0.0]))
    z_axis = rot.as_matrix()[0, :, 2]
    length = geometry.segment_length_m
    if on_pelvis:
        geometry.pivot_x_m = near.anchor_m[0] + length * z_axis[0]
        geometry.pivot_y_m = near.anchor_m[1] + length * z_axis[1]
    else:
        geometry.pivot_x_m = near.anchor_m[0] - length * z_axis[0]
        geometry.pivot_y_m = near.anchor_m[1] - length * z_axis[1]
    anchor, angles = set_pose(
        on_pelvis,
        geometry,
        heading,
        np.array([theta_b]),
        np.array([geometry.start_roll]),
        np.array([0.0]),
        np.array([0.0]),
    )
    return Pose(
        anchor_m=anchor[0], heading=heading, flex=float(angles[0, 1]), roll=geometry.start_roll, wobble=0.0
    )


def do_set(traj: Trajectory, plan: SetPlan, heading: float) -> None:
    """The set: still start position, reps, still bottom (logged ``set``).

    Fills the plan's onset times and fine-grid indices.
    """
    on_pelvis = traj.on_pelvis
    geometry = plan.geometry
    t_a = traj.tau_s
    plan.i_still = traj.n_samples - 1
    # knot times relative to t_a
    cur = plan.still_before_s
    for r in plan.reps:
        r.onset_s = t_a + cur
        cur += r.rise_s + r.hold_s + r.lower_s + r.pause_s
    n = traj.steps(cur)
    tl = np.arange(1, n + 1) * traj.dt_s
    ta = t_a + tl
    theta = np.full(n, plan.reps[0].bottom)
    rise = np.zeros(n)
    roll = np.full(n, geometry.start_roll)
    wobble = np.zeros(n)
    for r in plan.reps:
        t1 = r.onset_s + r.rise_s
        t2 = t1 + r.hold_s
        t3 = t2 + r.lower_s
        t4 = t3 + r.pause_s
        i0, i1, i2, i3, i4 = np.searchsorted(ta, [r.onset_s, t1, t2, t3, t4])
        top = r.bottom + r.rom
        sc = (ta[i0:i1] - r.onset_s) / r.rise_s
        fc = betainc(r.rise_beta, 2.0, np.clip(sc, 0, 1))
        theta[i0:i1] = r.bottom + r.rom * fc
        rise[i0:i1] = fc
        theta[i1:i2] = top
        rise[i1:i2] = 1.0
        se = (ta[i2:i3] - t2) / r.lower_s
        fe = betainc(r.lower_beta_start, r.lower_beta_end, np.clip(se, 0, 1))
        theta[i2:i3] = top - (top - r.next_bottom) * fe
        rise[i2:i3] = 1.0 - fe
        theta[i3:i4] = r.next_bottom
        theta[i4:] = r.next_bottom
        uu = rise[i0:i4]
        roll[i0:i4] = geometry.start_roll + r.peak_roll * uu * uu
        wobble[i0:i4] = r.peak_wobble * uu
        traj.soft_tissue.append(SoftTissueKick(r.onset_s, 0.5))
        traj.soft_tissue.append(SoftTissueKick(t2, 0.4))
    if plan.lifts:
        _add_lifts(traj, plan, ta, theta, roll, wobble)
    if geometry.standing is not None:  # θ holds the depth u of the standing movement
        anchor, angles = standing_pose(on_pelvis, geometry, heading, theta, roll, wobble)
    else:
        anchor, angles = set_pose(on_pelvis, geometry, heading, theta, roll, wobble, rise)
    traj.push(anchor, angles)
    plan.i_end = traj.n_samples - 1
    traj.log("set", t_a, traj.tau_s)


def _add_lifts(traj: Trajectory, plan: SetPlan, ta: Array, theta: Array, roll: Array, wobble: Array) -> None:
    """Superpose the leg lifts of a held bridge on θ, roll and wobble (in place)."""
    bridge = plan.reps[0]
    t_hold = bridge.onset_s + bridge.rise_s
    for lift in plan.lifts:
        lift.onset_s = t_hold + lift.start_s
        t1 = lift.onset_s + lift.up_s
        t2 = t1 + lift.hold_s
        t3 = t2 + lift.down_s
        i0, i1, i2, i3 = np.searchsorted(ta, [lift.onset_s, t1, t2, t3])
        w = np.ones(i3 - i0)
        w[: i1 - i0] = min_jerk((ta[i0:i1] - lift.onset_s) / lift.up_s)
        w[i2 - i0 :] = 1.0 - min_jerk((ta[i2:i3] - t2) / lift.down_s)
        if traj.on_pelvis:
            roll[i0:i3] += lift.roll * w
            wobble[i0:i3] += lift.wobble * w
            theta[i0:i3] += lift.dip * w
        elif lift.side == plan.side:  # the sensor's thigh is lifted (hip flexion: θ falls)
            theta[i0:i3] -= lift.flex * w
            roll[i0:i3] += 0.1 * lift.roll * w
        else:  # the other foot is lifted: the sensor's thigh only takes the load
            roll[i0:i3] += 0.15 * lift.roll * w
        traj.soft_tissue.append(SoftTissueKick(lift.onset_s, 0.15))
