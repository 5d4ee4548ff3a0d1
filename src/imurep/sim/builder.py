"""The trajectory builder: the whole session, phase by phase, on the fine time grid.

With ``pre_activity`` the lifter stands, walks, turns to the bench and sits down in front of it,
gets into the start position, does the set, then rests (sitting on the floor against the bench,
or getting up, standing, walking, standing; a thigh sensor is moved to the other thigh when the
working side changes) and finally gets up and walks off.  Without it the recording starts in the
first set's start position and the lifter stays on the bench between sets.  The phases are in
:mod:`imurep.sim.activities` (around the sets) and :mod:`imurep.sim.sets` (the set itself).

Every draw comes from one random generator in a fixed order: the order is part of the behaviour.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.spatial.transform import Rotation

from imurep.sim import activities as act
from imurep.sim.motion import DEG, Pose
from imurep.sim.plans import SetPlan, plan_set
from imurep.sim.sets import do_set, place_set
from imurep.sim.settings import SimSettings
from imurep.sim.trajectory import Trajectory


@dataclass(frozen=True)
class Session:
    """A built session: the trajectory and the plans of its sets (filled in while doing them)."""

    trajectory: Trajectory
    sets: list[SetPlan]


def build_session(settings: SimSettings, rng: np.random.Generator, dt_s: float) -> Session:
    """Build the whole session on a fine grid of step ``dt_s`` (s).

    The open ``rest`` activities are closed at the end (see :meth:`Trajectory.close_rests`).
    """
    traj = _start(settings, rng, dt_s)
    sets: list[SetPlan] = []
    sides = [settings.sides[i % len(settings.sides)] for i in range(settings.n_sets)]
    mounting = Rotation.random(random_state=rng)
    traj.mounting.rotations.append((0, mounting))
    traj.mounting.levers_m.append((0, act.lever_arm(traj, sides[0])))
    if not traj.on_pelvis:
        traj.lateral_offset_m = act.thigh_offset_m(sides[0])
    pre = settings.pre_activity
    if pre:
        act.still(traj, rng.uniform(3.0, 6.0))
        act.walk(traj, rng.uniform(10.0, 20.0))
        act.still(traj, rng.uniform(2.0, 4.0))
    seated = False
    for i, side in enumerate(sides):
        plan = plan_set(rng, settings, i + 1, side, mounting)
        heading = _into_start_position(traj, settings, plan, first=i == 0, seated=seated)
        do_set(traj, plan, heading)
        sets.append(plan)
        last = i == len(sides) - 1
        next_side = None if last else sides[i + 1]
        seated = False
        standing = settings.standing
        if not pre:
            if not last:
                t_rest = traj.tau_s
                act.still(traj, rng.uniform(6.0, 12.0), kind="standing" if standing else "sitting", sway=0.3)
                if not traj.on_pelvis and next_side != side:
                    mounting, _ = act.restrap(traj, mounting, str(next_side))
                _mark_rest(traj, t_rest)
            continue
        t_rest = traj.tau_s
        if last:
            if not standing:
                act.get_up(traj)
            act.still(traj, rng.uniform(2.0, 5.0))
            act.walk(traj, rng.uniform(4.0, 10.0))
            act.still(traj, rng.uniform(2.0, 4.0))
            break
        if standing:
            mounting = _standing_rest(traj, mounting, side, str(next_side))
        else:
            seated, mounting = _rest(traj, mounting, side, str(next_side))
        _mark_rest(traj, t_rest)
    traj.close_rests()
    return Session(trajectory=traj, sets=sets)


def _start(settings: SimSettings, rng: np.random.Generator, dt_s: float) -> Trajectory:
    """The trajectory with its first sample: standing, facing a random heading."""
    on_pelvis = settings.on_pelvis
    heading = float(rng.uniform(-math.pi, math.pi))
    stand_height_m = 0.95 if on_pelvis else 0.90
    start = Pose(
        anchor_m=np.array([0.0, 0.0, stand_height_m]), heading=heading, flex=float(rng.uniform(-4, 4)) * DEG
    )
    return Trajectory(rng, dt_s, on_pelvis, start, stand_height_m=stand_height_m, stand_flex=start.flex)


def _into_start_position(
    traj: Trajectory, settings: SimSettings, plan: SetPlan, first: bool, seated: bool
) -> float:
    """Get from the current pose into the set's still start position; return the bench heading."""
    rng = traj.rng
    on_pelvis = traj.on_pelvis
    pre = settings.pre_activity
    heading = traj.pose.heading
    if settings.standing:  # step into the stance where the lifter stands
        start = place_set(on_pelvis, plan, heading, traj.pose)
        if not pre and first:
            traj.anchor_chunks[0][0] = start.anchor_m
            traj.angle_chunks[0][0] = [start.heading, start.flex, start.roll, start.wobble]
            traj.pose = start
        else:
            act.move(traj, [(start, rng.uniform(1.0, 2.0))], jolts=(0.5,))
        return heading
    if pre and not seated:  # turn around to sit down in front of the bench
        heading += rng.uniform(0.7, 1.3) * math.pi
    if not pre and first:
        # begin the recording directly in the start position
        start = place_set(on_pelvis, plan, heading, traj.pose)
        traj.anchor_chunks[0][0] = start.anchor_m
        traj.angle_chunks[0][0] = [start.heading, start.flex, start.roll, start.wobble]
        traj.pose = start
    elif seated:
        start = place_set(on_pelvis, plan, heading, traj.pose)
        act.move(traj, [(start, rng.uniform(1.2, 2.2))], jolts=(0.5,))
    elif pre:
        seat = act.seated_floor(traj, traj.pose, heading)
        start = place_set(on_pelvis, plan, heading, seat)
        turned = traj.pose.copy()
        turned.heading = heading
        mid = act.mid_squat(traj, turned, seat)
        act.move(
            traj,
            [
                (turned, rng.uniform(1.8, 2.6)),
                (mid, rng.uniform(0.9, 1.4)),
                (seat, rng.uniform(0.8, 1.2)),
                (start, rng.uniform(1.0, 1.6)),
            ],
            jolts=(2.85, 3.55),
        )
    else:  # no pre-activity, later set: adjust into the new start position while lying
        start = place_set(on_pelvis, plan, heading, traj.pose)
        act.move(traj, [(start, rng.uniform(1.5, 2.5))])
    return heading


def _rest(traj: Trajectory, mounting: Rotation, side: str, next_side: str) -> tuple[bool, Rotation]:
    """The rest between two sets (with pre-activity): sit on the floor, or get up and move about.

    Returns whether the lifter ends seated in front of the bench, and the (new) mounting.
    """
    rng = traj.rng
    t_rest = traj.tau_s
    rest_total = rng.uniform(30.0, 60.0) if rng.random() < 0.8 else rng.uniform(60.0, 90.0)
    must_stand = (not traj.on_pelvis) and next_side != side
    if not must_stand and rng.random() < 0.4:
        # sit up and rest on the floor, back against the bench
        seat = act.seated_floor(traj, traj.pose, traj.pose.heading)
        act.move(traj, [(seat, rng.uniform(1.5, 2.5))], jolts=(0.7,))
        remain = max(8.0, rest_total - (traj.tau_s - t_rest) - 2.0)
        if rng.random() < 0.6:
            a = rng.uniform(0.3, 0.6) * remain
            act.still(traj, a, kind="sitting", sway=0.6)
            act.fidget(traj)
            act.still(traj, max(2.0, remain - a - 3.0), kind="sitting", sway=0.6)
        else:
            act.still(traj, remain, kind="sitting", sway=0.6)
        return True, mounting
    act.get_up(traj)
    act.still(traj, rng.uniform(2.0, 6.0))
    if must_stand:
        mounting, _ = act.restrap(traj, mounting, next_side)
        act.still(traj, rng.uniform(1.0, 3.0))
    used = traj.tau_s - t_rest
    if rest_total - used > 18.0 and rng.random() < 0.7:
        act.walk(traj, min(25.0, rng.uniform(10.0, rest_total - used - 6.0)))
    act.still(traj, max(2.0, rest_total - (traj.tau_s - t_rest) - 4.0))
    return False, mounting


def _standing_rest(traj: Trajectory, mounting: Rotation, side: str, next_side: str) -> Rotation:
    """The rest between two sets of a standing movement: stand, maybe walk about, stand; a thigh
    sensor is moved to the other thigh when the working side changes.  Returns the mounting."""
    rng = traj.rng
    t_rest = traj.tau_s
    rest_total = rng.uniform(30.0, 60.0)
    act.still(traj, rng.uniform(3.0, 6.0))
    if not traj.on_pelvis and next_side != side:
        mounting, _ = act.restrap(traj, mounting, next_side)
        act.still(traj, rng.uniform(1.0, 3.0))
    used = traj.tau_s - t_rest
    if rest_total - used > 18.0 and rng.random() < 0.6:
        act.walk(traj, min(20.0, rng.uniform(8.0, rest_total - used - 6.0)))
    act.still(traj, max(2.0, rest_total - (traj.tau_s - t_rest) - 4.0))
    return mounting


def _mark_rest(traj: Trajectory, t_rest: float) -> None:
    """Open a ``rest`` activity at ``t_rest`` (closed at the next set's still start)."""
    traj.log("rest", t_rest, None)
