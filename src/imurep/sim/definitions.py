"""The product's definitions the simulator's ground truth is measured (and its plans aimed) with.

They mirror the analysis defaults (:class:`imurep.core.faults.FaultSettings`,
:class:`imurep.core.tracking.lifts.LiftSettings`) and the ``glute_bridge_leg_lift`` profile of
``imurep/coaching/data/exercises.toml``; ``tests/sim/test_sim_definitions.py`` checks that they agree.
"""

from __future__ import annotations

PHASE_THRESHOLD = 0.05
"""Phase threshold of a rep, fraction of the rep's ROM (product definition)."""

ONSET_FRACTION = 0.05
MIN_ONSET_DEG_S = 2.0
MAX_ONSET_DEG_S = 6.0
"""A rep starts at the onset of the movement (the last moment before it leaves the bottom band
with the angle's rate at most this fraction of the rep's peak rate, within these deg/s) and
ends where the movement back stops or turns (product definition, imurep.core.metrics.rep_timing)."""

# default fault rules used to label the truth of reps (product defaults)
TILT_LIMIT_DEG = 5.0
ECCENTRIC_MIN_S = 1.0
HOLD_MIN_S = 1.0
PARTIAL_FRACTION = 0.8

# ... and those of the glute bridge with leg lift
LIFT_TILT_LIMIT_DEG = 3.0
LIFT_DOWN_MIN_S = 0.25
LIFT_HOLD_MIN_S = 1.0
LIFT_BAND = 0.2
"""Lift phase threshold, fraction of the lift's peak (product definition, imurep.core.tracking.lifts)."""

# ... and those of the standing movements (profiles squat, bulgarian_split_squat, step_up,
# single_leg_rdl, pistol_squat): short_hold is not judged; rushed_lowering judges the lowering,
# which for a lower-first exercise is the movement away from the standing rest
STANDING_TILT_LIMIT_DEG = 6.0
STANDING_LOWERING_MIN_S = {
    "squat": 0.6,
    "bulgarian_split_squat": 0.8,
    "step_up": 0.8,
    "single_leg_rdl": 1.0,
    "pistol_squat": 1.0,
}
"""Shortest controlled lowering of each standing exercise, s (its profile's ``min_eccentric_s``)."""
LOWER_FIRST = ("squat", "bulgarian_split_squat", "single_leg_rdl", "pistol_squat")
"""Standing exercises whose rest is at the top (phase order ``lower_first``); the step-up rests
at the bottom (foot on the box) and lifts first."""
TWO_LEG_STANDING = ("squat",)
"""Standing exercises on two legs: their profile does not judge ``hip_tilt``, so the simulator
neither injects nor labels it."""
