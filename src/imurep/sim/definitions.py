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
