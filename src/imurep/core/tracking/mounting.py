"""Strap slips within a set: when a rep shows that the sensor turned on the segment, the set's
frame (its axis) and tilt reference are re-learned from that rep on (a new *mounting*).

A part of :class:`~imurep.core.tracking.reps.SetTracker`, written as functions of the open set.
"""

from __future__ import annotations

import logging

from imurep.core.metrics import angle_between_deg, robust_axis, unit
from imurep.core.tracking.rep_state import C_U, OpenSet
from imurep.model.samples import FloatArray

__all__ = ["check_slip", "new_mounting"]

logger = logging.getLogger("imurep.core.tracking.reps")  # one logger for the tracker's decisions


def check_slip(st: OpenSet, axis: FloatArray, w: FloatArray, i_start: int, slip_deg: float) -> None:
    """Note a new mounting of the open set ``st`` from the rep about to be accepted.

    A new mounting: the rest posture before a rep moved (``slip_deg / 2``) and its axis turned
    ``slip_deg`` from the set's (a tilted rep turns its axis, not its rest), and a later rep's axis
    is nearer that rep's than the set's, the reps between turned from the set's too (the new
    mounting lasts; its reps' axes scatter as any reps' do: a partial or tilted rep right after a
    slip does not clear it).  A set's last rep that moved and turned so is a new mounting when the
    set ends (:meth:`~imurep.core.tracking.reps.SetTracker._end_set`).

    Parameters
    ----------
    st
        The open set (its ``suspect``, ``mount`` and frame are updated).
    axis
        The rep's own rotation axis, shape ``(3,)``, unit, sensor frame.
    w
        Buffer rows from the previous rep's end on (columns of
        :mod:`~imurep.core.tracking.rep_state`); ``w[i_start]`` is where this rep starts.
    i_start
        Row of ``w`` where the rep starts.
    slip_deg
        ``SegmentationSettings.slip_deg``, degrees.
    """
    dev = angle_between_deg(axis, st.axis) if len(st.reps) >= 2 else 0.0
    if st.suspect is not None:
        if dev <= 0.5 * slip_deg:
            st.suspect = None  # back on the set's axis: it was a rep of its own
        elif angle_between_deg(axis, st.suspect[1]) < dev:
            new_mounting(st, axis)
            return
    if dev > slip_deg:
        rest_up = unit(w[: max(i_start, 1), C_U].mean(axis=0))
        if angle_between_deg(rest_up, st.bottom_up) > 0.5 * slip_deg:
            st.suspect = (len(st.results), axis.copy(), rest_up)


def new_mounting(st: OpenSet, axis: FloatArray | None) -> None:
    """The strap slipped before the suspected rep (``st.suspect``): its reps and those after it
    are of a new mounting, whose axis is theirs (with ``axis``, the current rep's, shape ``(3,)``,
    when given) and whose tilt reference is the rest posture before it."""
    assert st.suspect is not None
    k, _, rest_up = st.suspect
    st.suspect = None
    st.mount += 1
    for r in st.reps[k:]:
        r.mount = st.mount
    st.axis = robust_axis([r.axis for r in st.reps[k:]] + ([] if axis is None else [axis]))
    st.baseline_up = rest_up
    st.mounts.append((k, rest_up.copy()))
    t_first = st.results[k].start_s
    st.mounting_changes_s.append(t_first)
    logger.debug("strap slip: the frame is re-learned from rep %d (%.2f s)", k + 1, t_first)
