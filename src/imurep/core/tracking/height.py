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

MIN_DIRECTION_M = 0.08
"""A set's first rep that moves the body the wrong way by more than this is not one (picking the
phone up lowers the pelvis 0.1-0.4 m; a thrust raises it, and the double integral of a rep of a
few seconds is good to a few centimetres), m."""

MAX_EXCURSION_M = 1.5
"""Far turns further than this are not judged (no rep moves the pelvis that far: drift), m."""

MAX_REP_SPAN_S = 6.0
"""A whole rep longer than this is not judged by :func:`rep_height_m`, s."""

DRIFT_TIME_S = 2.0
"""Up to this long a stretch's double integral tells :data:`MIN_DIRECTION_M` apart (a vertical
acceleration error of ~0.16 m/s², a 1° error of the vertical: ``a T² / 8``), s; longer ones need
more (see :func:`height_tolerance_m`)."""

AWAY_FRACTION = 0.8
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


def came_back(t_s: FloatArray, acc_up_mps2: FloatArray) -> bool | None:
    """Whether the body ends the stretch back at the height it started from.

    Parameters
    ----------
    t_s, acc_up_mps2
        As for :func:`height_profile_m`; the stretch runs from a turning point to a turning point.

    Returns
    -------
    bool or None
        False when the stretch ends on the side of its furthest height from the start, at least
        :data:`AWAY_FRACTION` of that height away; True otherwise; None when it cannot be judged
        (longer than :data:`MAX_SPAN_S`, or a furthest height outside [:data:`MIN_EXCURSION_M`,
        :data:`MAX_EXCURSION_M`]).
    """
    h = _profile(t_s, acc_up_mps2, MAX_SPAN_S)
    if h is None:
        return None
    far, end = far_m(h), float(h[-1])
    if not MIN_EXCURSION_M <= abs(far) <= MAX_EXCURSION_M:
        return None
    return not (end * far > 0 and abs(end) >= AWAY_FRACTION * abs(far))


def rep_height_m(t_s: FloatArray, acc_up_mps2: FloatArray) -> tuple[float, float] | None:
    """Furthest height of a whole rep and the height of its end, relative to its start, m.

    Parameters
    ----------
    t_s, acc_up_mps2
        As for :func:`height_profile_m`, from the rep's onset to its stop (the body still at both).

    Returns
    -------
    tuple of float or None
        ``(far_m, end_m)``; None when the rep cannot be judged (longer than
        :data:`MAX_REP_SPAN_S`, or a furthest height beyond :data:`MAX_EXCURSION_M`: drift).
    """
    h = _profile(t_s, acc_up_mps2, MAX_REP_SPAN_S)
    if h is None:
        return None
    far = far_m(h)
    return None if abs(far) > MAX_EXCURSION_M else (far, float(h[-1]))


def still_height_m(t_s: FloatArray, acc_up_mps2: FloatArray, still: NDArray[np.bool_]) -> FloatArray | None:
    """Height relative to the first sample, m, with the vertical velocity zero wherever the body is
    still (a long rep: the hold at its far end, a pause on the way).

    Each moving stretch, from the still sample before it to the still sample after it (or the
    ends), is integrated by :func:`height_profile_m`; the height does not change while still.

    Parameters
    ----------
    t_s, acc_up_mps2
        As for :func:`height_profile_m`; the body is still at both ends.
    still
        Whether the body is still at each sample, shape ``(n,)``.

    Returns
    -------
    FloatArray or None
        Shape ``(n,)``, m; None when a moving stretch is longer than :data:`MAX_SPAN_S` (its double
        integral drifts too far to tell).
    """
    n = t_s.shape[0]
    h = np.zeros(n)
    if n < 3:
        return h
    moving = ~np.asarray(still, dtype=bool)
    moving[0] = moving[-1] = False
    edges = np.flatnonzero(np.diff(moving.astype(np.int8)))
    # runs of moving samples: [starts[k], stops[k]) ; each is integrated from the still sample
    # before it to the still sample after it
    starts, stops = edges[0::2] + 1, edges[1::2] + 1
    level = 0.0
    done = 0
    for a, b in zip(starts.tolist(), stops.tolist(), strict=True):
        lo, hi = a - 1, b + 1
        h[done:lo] = level
        if float(t_s[hi - 1] - t_s[lo]) > MAX_SPAN_S:
            return None
        h[lo:hi] = level + height_profile_m(t_s[lo:hi], acc_up_mps2[lo:hi])
        level = float(h[hi - 1])
        done = hi
    h[done:] = level
    return h


def longest_moving_s(t_s: FloatArray, still: NDArray[np.bool_] | None = None) -> float:
    """Duration of the longest stretch between still samples, s (the whole span when ``still`` is
    None or never true inside): what a double integral's drift grows with."""
    if t_s.shape[0] < 2:
        return 0.0
    if still is None or not still.any():
        return float(t_s[-1] - t_s[0])
    idx = np.flatnonzero(still)
    bounds = np.concatenate(([0], idx, [t_s.shape[0] - 1]))
    return float(np.max(t_s[bounds[1:]] - t_s[bounds[:-1]]))


def height_tolerance_m(moving_s: float) -> float:
    """The smallest height, m, that a double integral over moving stretches of up to ``moving_s``
    (s, :func:`longest_moving_s`) tells apart from its drift: :data:`MIN_DIRECTION_M` up to
    :data:`DRIFT_TIME_S`, then growing with the square of the time, as the drift does."""
    return MIN_DIRECTION_M * max(1.0, (moving_s / DRIFT_TIME_S) ** 2)


def _profile(t_s: FloatArray, acc_up_mps2: FloatArray, max_span_s: float) -> FloatArray | None:
    if t_s.shape[0] < 3 or float(t_s[-1] - t_s[0]) > max_span_s:
        return None
    return height_profile_m(t_s, acc_up_mps2)


def far_m(h: FloatArray) -> float:
    """The height furthest from the start (signed), m."""
    return float(h[int(np.argmax(np.abs(h)))])
