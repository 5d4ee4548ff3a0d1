"""From the recorded trajectory to the true fine-grid kinematics and the ideal sensor signals.

Assembly adds the world-frame jolts (heel strikes, landings) to the anchor path, interpolates the
sensor mounting and lever arm between re-strap key frames, adds the soft-tissue wobble of the
sensor (``noise`` and ``soft_tissue`` on) and differentiates the sensor's pose twice (specific
force) and once (angular rate).  The truth angles are measured on the segment, not the sensor.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial.transform import Rotation, Slerp

from imurep.sim.motion import DEG, GRAVITY_MPS2, Array, min_jerk, orient, transient, unit_acc_transient
from imurep.sim.settings import SimSettings
from imurep.sim.trajectory import MountingKeys, Trajectory


@dataclass(frozen=True)
class Kinematics:
    """True kinematics on the fine grid."""

    t: Array
    """(n,) s from the recording start (τ)."""
    R_ws: Rotation
    """(n,) segment -> world."""
    acc_sensor_mps2: Array
    """(n, 3) specific force of the sensor, sensor frame, m/s²."""
    gyr_mid_rads: Array
    """(n-1, 3) angular rate of the sensor, sensor frame, rad/s, at ``t[:-1] + dt/2``."""
    theta: Array
    """(n,) sagittal angle θ of the segment, rad (see :mod:`imurep.sim.sets`; standing movements:
    :func:`segment_angles`)."""
    ml_elevation: Array
    """(n,) elevation of the segment's medio-lateral axis above the horizontal, rad."""


def assemble_kinematics(traj: Trajectory, settings: SimSettings) -> Kinematics:
    """Assemble the fine-grid kinematics and the ideal sensor signals of a finished trajectory.

    Draws the soft-tissue wobble from the trajectory's random generator (when enabled).
    """
    dt = traj.dt_s
    anchor, angles = traj.samples()
    n = anchor.shape[0]
    t = np.arange(n) * dt
    R_ws = orient(angles[:, 0], angles[:, 1], angles[:, 2], angles[:, 3])
    # world-frame transients (heel strikes, jolts): displacement with peak acceleration = |amp|
    for jolt in traj.jolts:
        i0 = max(0, int(jolt.t_s / dt))
        i1 = min(n, i0 + int(20 * jolt.decay_s / dt) + 2)
        shape = unit_acc_transient(t[i0:i1] - jolt.t_s, jolt.f_hz, jolt.decay_s, dt)
        anchor[i0:i1] += shape[:, None] * jolt.amplitude_mps2[None, :]
    # sensor mounting and lever arm (piecewise constant, slerp / min-jerk during re-strapping)
    mount_q = np.empty((n, 4))
    lever = np.empty((n, 3))
    _fill_mounting(traj.mounting, mount_q, lever)
    R_mount = Rotation.from_quat(mount_q)
    # soft-tissue wobble (segment frame): small rotation + displacement
    soft_rotvec = np.zeros((n, 3))
    soft_disp = np.zeros((n, 3))
    if settings.noise and settings.soft_tissue:
        _add_soft_tissue(traj, t, soft_rotvec, soft_disp)
    R_sensor = R_ws * Rotation.from_rotvec(soft_rotvec) * R_mount
    p = anchor + R_ws.apply(lever + soft_disp)
    acc_w = np.empty_like(p)
    acc_w[1:-1] = (p[2:] - 2.0 * p[1:-1] + p[:-2]) / (dt * dt)
    acc_w[0] = acc_w[1]
    acc_w[-1] = acc_w[-2]
    acc_w[:, 2] += GRAVITY_MPS2
    acc_s = R_sensor.inv().apply(acc_w)
    gyr_mid = (R_sensor[:-1].inv() * R_sensor[1:]).as_rotvec() / dt
    theta, ml = segment_angles(R_ws, traj.on_pelvis, standing=settings.standing)
    return Kinematics(
        t=t, R_ws=R_ws, acc_sensor_mps2=acc_s, gyr_mid_rads=gyr_mid, theta=theta, ml_elevation=ml
    )


def segment_angles(R_ws: Rotation, on_pelvis: bool, *, standing: bool = False) -> tuple[Array, Array]:
    """The truth angles of segment orientations ``R_ws`` (n,): sagittal angle θ and the elevation of
    the medio-lateral axis, both (n,) rad (see :mod:`imurep.sim.truth`).

    ``standing``: θ of a standing movement is the elevation of the long axis projected onto the
    segment's sagittal plane (normal: the horizontal part of its medio-lateral axis).  An upright
    segment's plain elevation falls with any sideways drop (to first order near the vertical); the
    projection leaves the drop out, as the tracker's sagittal angle does.
    """
    m = R_ws.as_matrix()
    if standing:
        x, z = m[:, :, 0], m[:, :, 2]
        normal = x * np.array([1.0, 1.0, 0.0])
        normal /= np.linalg.norm(normal, axis=1, keepdims=True)
        zp = z - np.einsum("ij,ij->i", z, normal)[:, None] * normal
        zz = np.clip(zp[:, 2] / np.linalg.norm(zp, axis=1), -1.0, 1.0)
    else:
        zz = np.clip(m[:, 2, 2], -1.0, 1.0)
    theta = np.asarray(np.arcsin(-zz) if on_pelvis else np.arcsin(zz), dtype=np.float64)
    ml = np.arcsin(np.clip(m[:, 2, 0], -1.0, 1.0))
    return theta, ml


def _add_soft_tissue(traj: Trajectory, t: Array, soft_rotvec: Array, soft_disp: Array) -> None:
    """Add the damped wobble after each soft-tissue excitation (in place; segment frame)."""
    rng = traj.rng
    dt = traj.dt_s
    n = t.size
    for kick in traj.soft_tissue:
        f = rng.uniform(8.0, 15.0)
        decay = rng.uniform(0.02, 0.05)
        i0 = max(0, int(kick.t_s / dt))
        i1 = min(n, i0 + int(20 * decay / dt) + 2)
        shape = transient(t[i0:i1] - kick.t_s, f, decay)
        axis = rng.normal(size=3)
        axis /= np.linalg.norm(axis)
        soft_rotvec[i0:i1] += (kick.scale * rng.uniform(0.4, 1.5) * DEG * shape)[:, None] * axis
        direction = rng.normal(size=3)
        direction /= np.linalg.norm(direction)
        a_peak = kick.scale * rng.uniform(0.5, 2.0)
        soft_disp[i0:i1] += (a_peak * unit_acc_transient(t[i0:i1] - kick.t_s, f, decay, dt))[
            :, None
        ] * direction


def _fill_mounting(keys: MountingKeys, mount_q: Array, lever: Array) -> None:
    """Fill the mounting quaternions (n, 4) and lever arms (n, 3) from the key frames."""
    rotations = keys.rotations
    mount_q[:] = rotations[0][1].as_quat()
    lever[:] = keys.levers_m[0][1]
    if len(rotations) == 1:
        return
    # keys after the first come in triples (start, waypoint, end) per re-strap
    for j in range(1, len(rotations), 3):
        (i0, r0), (im, rm), (i1, r1) = rotations[j], rotations[j + 1], rotations[j + 2]
        for a, ra, b, rb in ((i0, r0, im, rm), (im, rm, i1, r1)):
            idx = np.arange(a, b + 1)
            w = min_jerk((idx - a) / max(1, b - a))
            slerp = Slerp([0.0, 1.0], Rotation.concatenate([ra, rb]))
            mount_q[a : b + 1] = slerp(w).as_quat()
        mount_q[i1 + 1 :] = r1.as_quat()
    levers = keys.levers_m
    for j in range(1, len(levers), 2):
        (i0, l0), (i1, l1) = levers[j], levers[j + 1]
        w = min_jerk((np.arange(i0, i1 + 1) - i0) / max(1, i1 - i0))[:, None]
        lever[i0 : i1 + 1] = l0[None, :] + w * (l1 - l0)[None, :]
        lever[i1 + 1 :] = l1
