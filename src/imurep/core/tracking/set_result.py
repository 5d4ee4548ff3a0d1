"""A set's final result, once it has ended: its reps re-measured with what needs the whole set.

Rep boundaries and ranges stay as they were reported live.  What changes: reps under
``min_rep_fraction`` of the final median range are dropped (they were not reps), the tilt is
measured again about each mounting's final robust axis (the axis learned from all of its reps), the
bottom pause between reps is known, and the median-based fault rules use the final median.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from imurep.core.faults import FaultSettings, judge_rep
from imurep.core.metrics import robust_axis, sagittal_angle_deg, tilt_deg
from imurep.core.tracking.base import TRACE_AFTER_S
from imurep.core.tracking.rep_state import C_Q, C_T, C_U, OpenSet
from imurep.model.codes import FAULTS
from imurep.model.results import RepResult, SetResult, SetSummary, SetTrace
from imurep.model.samples import FloatArray

SLIPPED_CONFIDENCE = 0.4
"""Confidence of the rep during which the strap slipped (below
:data:`~imurep.core.tracking.rep_state.LOW_CONFIDENCE`: marked in tables and reports)."""

PARTIAL_LEAVE_FRACTION = 0.5
"""A set's last rep under this fraction of the other reps' median range, followed without a rest
by the segment leaving the set's range, was the start of that movement
(:func:`last_rep_began_leaving`)."""

__all__ = ["final_set_result", "last_rep_began_leaving"]


def final_set_result(
    st: OpenSet,
    b: FloatArray,
    index: int,
    *,
    min_rep_fraction: float,
    fault_settings: FaultSettings,
    measure_tilt: bool,
    keep_trace: bool,
    drop_last: bool = False,
) -> SetResult:
    """The final result of the ended set ``st``.

    Parameters
    ----------
    st
        The set, with at least one rep (``st.results``: the reps as reported live).
    b
        The tracker's buffer rows from the set's first sample on (columns of
        :mod:`~imurep.core.tracking.rep_state`; times in s, up vectors in the sensor frame).
    index
        The set's number in the session (1-based).
    min_rep_fraction
        Reps smaller than this fraction of the set's median range are dropped.
    fault_settings, measure_tilt, keep_trace
        Fault rules; whether the pelvis tilt is measured (hip sensor); whether the angle traces
        are kept (``SetResult.trace``).
    drop_last
        The last rep was the start of the movement that ended the set
        (:func:`last_rep_began_leaving`): it is dropped.
    """
    median = float(np.median([r.rom_deg for r in st.results]))
    n_reps = len(st.results) - 1 if drop_last else len(st.results)
    keep = [k for k, r in enumerate(st.results[:n_reps]) if r.rom_deg >= min_rep_fraction * median]
    median = float(np.median([st.results[k].rom_deg for k in keep]))
    t = b[:, C_T]
    t_stop = st.results[keep[-1]].end_s + TRACE_AFTER_S
    b = b[: int(np.searchsorted(t, t_stop, side="right"))]
    t = b[:, C_T]
    # each mounting's final axis and tilt reference
    n_m = st.mount + 1
    axes = [robust_axis([r.axis for r in st.reps if r.mount == m]) for m in range(n_m)]
    bases = [base for _, base in st.mounts]
    starts = [st.results[k0].start_s if k0 < len(st.results) else math.inf for k0, _ in st.mounts]
    which = np.searchsorted(np.asarray(starts[1:]), t, side="right") if n_m > 1 else np.zeros(t.shape, int)
    theta = np.empty(t.shape)
    tilt_all = np.empty(t.shape) if measure_tilt else None
    for m in range(n_m):
        sel = which == m
        theta[sel] = sagittal_angle_deg(b[sel, C_U], axes[m], bases[0] if m == 0 else bases[m])
        if tilt_all is not None:
            tilt_all[sel] = tilt_deg(b[sel, C_U], axes[m], bases[m])
    # the rep before each new mounting: the strap slipped during it (its axis turned, its rest did
    # not), mostly under the load of its way down; its tilt is judged up to the end of its hold
    # and its confidence marked low
    slipped = {k0 - 1 for k0, _ in st.mounts[1:] if k0 >= 1}
    final: list[RepResult] = []
    for j, k in enumerate(keep):
        r = st.results[k]
        i, i2 = int(np.searchsorted(t, r.start_s)), int(np.searchsorted(t, r.end_s, side="right"))
        tilt = r.peak_tilt_deg
        if tilt_all is not None:
            i_tilt = int(np.searchsorted(t, r.top_end_s, side="right")) if k in slipped else i2
            tilt = float(np.max(np.abs(tilt_all[i:i_tilt]))) if i_tilt > i else 0.0
        if k in slipped:
            r = replace(r, confidence=min(r.confidence, SLIPPED_CONFIDENCE))
        top = float(np.max(theta[i:i2])) if i2 > i else math.nan
        pause = st.results[keep[j + 1]].start_s - r.end_s if j + 1 < len(keep) else None
        r = replace(
            r,
            index=j + 1,
            peak_tilt_deg=tilt,
            bottom_pause_s=pause,
            top_deg=top,
            bottom_deg=top - r.rom_deg,
        )
        final.append(judge_rep(fault_settings, r, median))
    reps = tuple(final)
    confs = [r.confidence for r in reps]
    set_conf = float(np.median(confs)) * (0.8 if len(reps) < 3 else 1.0)
    result = SetResult(
        index=index,
        side=st.side,
        start_s=reps[0].start_s,
        end_s=reps[-1].end_s,
        reps=reps,
        summary=SetSummary.from_reps(reps, FAULTS),
        baseline_source=st.baseline_source,
        trace=SetTrace(t.copy(), theta, tilt_all) if keep_trace else None,
        confidence=round(set_conf, 3),
        mounting_changes_s=tuple(st.mounting_changes_s),
    )
    return result


def last_rep_began_leaving(st: OpenSet, after: FloatArray, ref_quiet_s: float) -> bool:
    """Whether the set's last rep was the start of the movement that took the segment out of the
    set's range (sitting up off the bench, standing up).

    A partial rep (under :data:`PARTIAL_LEAVE_FRACTION` of the others' median range) after which
    the segment never came to rest (``ref_quiet_s``, s, of quiet samples) before it left.  A
    lifter's real last rep, however short, ends at the rest side, where the lifter stops before
    getting up.

    Parameters
    ----------
    st
        The ended set (``leave_since_s``: when the segment left its range, None if it did not).
    after
        The tracker's buffer rows from the last rep's end on (columns of
        :mod:`~imurep.core.tracking.rep_state`).
    ref_quiet_s
        ``SegmentationSettings.ref_quiet_s``, s.
    """
    if st.leave_since_s is None or len(st.results) <= st.min_reps:
        return False
    median = float(np.median([r.rom_deg for r in st.results[:-1]]))
    if not st.results[-1].rom_deg < PARTIAL_LEAVE_FRACTION * median:
        return False
    w = after[: int(np.searchsorted(after[:, C_T], st.leave_since_s))]
    if w.shape[0] < 2:
        return True
    quiet = w[:, C_Q] > 0.5
    # the longest run of quiet samples, s
    edges = np.flatnonzero(np.diff(np.concatenate(([0], quiet.astype(np.int8), [0]))))
    runs = [float(w[b - 1, C_T] - w[a, C_T]) for a, b in zip(edges[0::2], edges[1::2], strict=True)]
    return max(runs, default=0.0) < ref_quiet_s
