"""Whether the body came back to the height it left: the vertical motion between two turns.

At a turning point of a rep (standing at the top of a squat, lying at the bottom of a thrust, and
the deepest point of either) the body's vertical velocity is zero.  Between two such moments the
mean of the vertical acceleration is therefore the accelerometer's bias along the vertical (plus
what the orientation estimate leaks into it), and integrating the bias-free acceleration twice
gives the height profile of the stretch.  A rep ends where the body is back at the height it
started from; a turn of the *angle* at the far height (the pelvis tucking under at the bottom of a
squat makes its angle dip twice per rep) is inside the rep.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]

MAX_SPAN_S = 3.5
"""Longer stretches are not judged (the double integral's drift grows with the square of time), s."""

MIN_EXCURSION_M = 0.15
"""Far turns less than this far from the start height are not judged (too small to tell), m."""

MAX_EXCURSION_M = 1.5
"""Far turns further than this are not judged (no rep moves the pelvis that far: drift), m."""

AWAY_FRACTION = 0.6
"""A stretch that ends on the far turn's side, at least this fraction of its height away from the
start, did not come back."""


def height_profile_m(t_s: FloatArray, acc_up_mps2: FloatArray) -> FloatArray:
    """Height relative to the first sample, m, assuming zero vertical velocity at both ends.

    Parameters
    ----------
    t_s
        Sample times, shape ``(n,)``, s.
    acc_up_mps2
        Acceleration along the vertical (world frame, up positive, gravity removed), shape ``(n,)``,
        m/s².

    Returns
    -------
    FloatArray
        Shape ``(n,)``, m (trapezoidal double integral of the acceleration minus its time-mean).
    """
    n = t_s.shape[0]
    if n < 3:
        return np.zeros(n)
    dt = np.diff(t_s)
    span = float(t_s[-1] - t_s[0])
    mid = 0.5 * (acc_up_mps2[1:] + acc_up_mps2[:-1])
    bias = float(np.sum(mid * dt)) / span if span > 0 else 0.0
    v = np.concatenate(([0.0], np.cumsum((mid - bias) * dt)))
    return np.concatenate(([0.0], np.cumsum(0.5 * (v[1:] + v[:-1]) * dt)))


def came_back(t_s: FloatArray, acc_up_mps2: FloatArray, k_far: int) -> bool | None:
    """Whether the body ends the stretch back at the height it started from.

    Parameters
    ----------
    t_s, acc_up_mps2
        As for :func:`height_profile_m`; the stretch runs from a turning point to a turning point.
    k_far
        Index of the rep's far turn in the stretch.

    Returns
    -------
    bool or None
        False when the stretch ends on the far turn's side of the start height, at least
        :data:`AWAY_FRACTION` of the far turn's height away; True otherwise; None when it cannot
        be judged (longer than :data:`MAX_SPAN_S`, or a far turn outside
        [:data:`MIN_EXCURSION_M`, :data:`MAX_EXCURSION_M`]).
    """
    n = t_s.shape[0]
    if n < 3 or not 0 < k_far < n or float(t_s[-1] - t_s[0]) > MAX_SPAN_S:
        return None
    h = height_profile_m(t_s, acc_up_mps2)
    far, end = float(h[k_far]), float(h[-1])
    if not MIN_EXCURSION_M <= abs(far) <= MAX_EXCURSION_M:
        return None
    return not (end * far > 0 and abs(end) >= AWAY_FRACTION * abs(far))
