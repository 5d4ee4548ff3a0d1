"""Coaching cues: the short instruction shown for each fault, live, in tables and in reports.

Exercise profiles (:mod:`imurep.coaching.exercises`) may word a cue for their movement; these are
the defaults.
"""

from __future__ import annotations

from typing import Final

from imurep.model.codes import OVER_EXTENSION

FAULT_CUES: Final[dict[str, str]] = {
    "hip_tilt": "brace the core, squeeze both glutes and keep the hips level",
    "rushed_lowering": "lower under control, for a slow count of two",
    "short_hold": "squeeze the glutes for about a second at the top",
    "partial_rom": "drive up until shoulders, hips and knee form a straight line",
    OVER_EXTENSION: "ribs down: stop when hips line up with knees and shoulders",
}
"""Short coaching cue for each fault and coaching observation."""
