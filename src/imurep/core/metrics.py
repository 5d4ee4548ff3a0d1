"""Rep metrics from the sagittal angle and the pelvis medio-lateral axis (pure functions).

Frames: all vectors are in the sensor frame.  ``up`` is the unit vector opposite to gravity's pull
(shape ``(n, 3)``); ``axis`` is the unit flexion (medio-lateral) axis of the segment.
"""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass

import numpy as np

from imurep.model.samples import FloatArray
from imurep.model.units import DEG_PER_RAD


def unit(v: FloatArray) -> FloatArray:
    """``v`` scaled to unit length (along the last axis); zero vectors stay zero."""
    if v.shape == (3,) and v.dtype == np.float64:
        # one vector (the common case, per block): the same float operations as numpy's norm
        # (squares summed left to right), without its call overhead
        x, y, z = float(v[0]), float(v[1]), float(v[2])
        n = math.sqrt((x * x + y * y) + z * z)
        if not n > 0:
            n = 1.0
        return np.array((x / n, y / n, z / n))
    n = np.linalg.norm(v, axis=-1, keepdims=True)
    return np.asarray(v / np.where(n > 0, n, 1.0), dtype=np.float64)


def median(x: FloatArray) -> float:
    """Median of a 1-D array, exactly as :func:`numpy.median` computes it (the mean of the two
    middle values for an even count, NaN if any value is NaN), without its call overhead."""
    n = x.shape[0]
    if n == 0:
        return math.nan
    s = np.sort(x)
    if math.isnan(float(s[-1])):
        return math.nan
    h = n // 2
    return float(s[h]) if n % 2 else (float(s[h - 1]) + float(s[h])) / 2.0


def mean_1d(x: FloatArray) -> float:
    """Mean of a 1-D array, exactly as :func:`numpy.mean` computes it (numpy's sum divided by the
    count), without its call overhead."""
    n = x.shape[0]
    if x.ndim != 1 or n == 0:
        return float(np.mean(x))
    return float(np.add.reduce(x)) / n


def median_interval(t: list[float]) -> float:
    """The median of the intervals of the increasing times ``t`` (s), exactly as
    ``numpy.median(numpy.diff(t))`` computes it; 1.0 for fewer than two times.

    In plain floats: for the few dozen samples of a per-block window numpy's call overhead is most
    of the cost.  The times must be finite (as :class:`~imurep.model.samples.ImuChunk` ensures).
    """
    n = len(t) - 1
    if n < 1:
        return 1.0
    d = sorted(map(operator.sub, t[1:], t))  # (the last time is left over)
    h = n // 2
    return d[h] if n % 2 else (d[h - 1] + d[h]) / 2.0


def angle_between_deg(a: FloatArray, b: FloatArray) -> float:
    """Angle between two vectors, degrees."""
    c = float(np.dot(unit(a), unit(b)))
    return float(np.degrees(np.arccos(min(1.0, max(-1.0, c)))))


def sagittal_angle_deg(up: FloatArray, axis: FloatArray, up_ref: FloatArray) -> FloatArray:
    """Sagittal (flexion) angle of the segment, degrees, relative to the posture ``up_ref``.

    The angle of the projection of ``up`` onto the plane normal to ``axis``, measured from the
    projection of ``up_ref``, positive for a right-handed rotation of ``up`` about ``axis``.  With
    ``axis`` oriented as in :func:`rep_axis` it increases as the hips rise.

    Parameters
    ----------
    up
        Up vectors, shape ``(n, 3)``, sensor frame.
    axis
        Unit flexion axis, shape ``(3,)``, sensor frame.
    up_ref
        Reference up vector (the set's start position), shape ``(3,)``, sensor frame.
    """
    p_ref, q = _sagittal_basis(axis, up_ref)
    return np.asarray(np.degrees(np.arctan2(up @ q, up @ p_ref)), dtype=np.float64)


_BASIS_CACHE: dict[bytes, tuple[FloatArray, FloatArray]] = {}
"""Recent in-plane bases of :func:`sagittal_angle_deg`, by the bytes of (axis, up_ref): a set's
frame changes once per rep but its angle is taken every block."""


def _sagittal_basis(axis: FloatArray, up_ref: FloatArray) -> tuple[FloatArray, FloatArray]:
    """The projection of ``up_ref`` onto the plane normal to ``axis`` (unit) and that vector
    rotated +90° about ``axis``; a pure function of its inputs, memoised."""
    cacheable = axis.shape == (3,) and up_ref.shape == (3,) and axis.dtype == up_ref.dtype == np.float64
    key = axis.tobytes() + up_ref.tobytes() if cacheable else b""
    hit = _BASIS_CACHE.get(key) if cacheable else None
    if hit is not None:
        return hit
    p_ref = unit(up_ref - np.dot(up_ref, axis) * axis)
    q = np.cross(axis, p_ref)  # completes the in-plane basis: p_ref rotated +90° about axis
    if cacheable:
        if len(_BASIS_CACHE) >= 64:
            _BASIS_CACHE.clear()
        p_ref.flags.writeable = False
        q.flags.writeable = False
        _BASIS_CACHE[key] = (p_ref, q)
    return p_ref, q


def tilt_deg(up: FloatArray, axis: FloatArray, up_ref: FloatArray) -> FloatArray:
    """Elevation of the medio-lateral ``axis`` above the horizontal, relative to posture ``up_ref``.

    Degrees, shape ``(n,)``.  Zero in the reference posture.
    """
    el = np.arcsin(np.clip(up @ axis, -1.0, 1.0))
    el_ref = np.arcsin(np.clip(float(np.dot(up_ref, axis)), -1.0, 1.0))
    return np.asarray((el - el_ref) * DEG_PER_RAD, dtype=np.float64)


def rep_axis(gyr_rads: FloatArray, up_bottom: FloatArray, up_top: FloatArray) -> FloatArray:
    """Rotation axis of one rep: principal axis of the angular rate, oriented bottom → top.

    Parameters
    ----------
    gyr_rads
        Bias-corrected angular rate during the rep, shape ``(n, 3)``, rad/s, sensor frame.
    up_bottom, up_top
        Up vectors at the bottom and at the top, shape ``(3,)``.

    Returns
    -------
    axis
        Unit vector, shape ``(3,)``, such that the up vector turns positively about it from bottom
        to top.
    """
    cross = np.cross(up_bottom, up_top)
    if gyr_rads.shape[0] >= 3:
        cov = gyr_rads.T @ gyr_rads
        _, vecs = np.linalg.eigh(cov)
        a = vecs[:, -1]
    else:
        a = unit(cross)
    if float(np.dot(a, cross)) < 0:
        a = -a
    return unit(np.asarray(a, dtype=np.float64))


def robust_axis(axes: list[FloatArray], inlier_deg: float = 6.0) -> FloatArray:
    """Robust average of unit axes: the medoid, then the mean of the axes within ``inlier_deg`` of it.

    Reps whose axis is pulled by a tilt or a twist are minority outliers and are left out.
    """
    a = np.asarray(axes, dtype=np.float64)
    if a.shape[0] == 1:
        return np.asarray(a[0], dtype=np.float64)
    ang = np.arccos(np.clip(a @ a.T, -1.0, 1.0))
    medoid = a[int(np.argmin(ang.sum(axis=1)))]
    inl = np.arccos(np.clip(a @ medoid, -1.0, 1.0)) <= np.radians(inlier_deg)
    return unit(a[inl].mean(axis=0))


def _cross_time(t: FloatArray, y: FloatArray, k: int, level: float) -> float:
    """Time where ``y`` crosses ``level`` between samples ``k-1`` and ``k`` (linear interpolation)."""
    if k <= 0:
        return float(t[0])
    y0, y1 = float(y[k - 1]), float(y[k])
    if y1 == y0:
        return float(t[k])
    f = min(1.0, max(0.0, (level - y0) / (y1 - y0)))
    return float(t[k - 1] + f * (t[k] - t[k - 1]))


@dataclass(frozen=True)
class RepTiming:
    """Phase boundaries (s) and range of motion (degrees) of one rep on the sagittal angle."""

    start_s: float
    top_start_s: float
    top_end_s: float
    end_s: float
    rom_deg: float
    bottom_deg: float
    top_deg: float
    i_start: int
    i_end: int


def rep_timing(
    t_s: FloatArray,
    theta_deg: FloatArray,
    i_peak: int,
    i_top_max: int,
    band: float = 0.05,
    *,
    settled: bool = True,
    rate_deg_s: FloatArray | None = None,
    onset_fraction: float = 0.05,
    min_onset_deg_s: float = 2.0,
    i_base_max: int | None = None,
    i_end_from: int | None = None,
) -> RepTiming | None:
    """Phase boundaries of one rep, by the product's 5 %-of-ROM definitions.

    Parameters
    ----------
    t_s
        Times, shape ``(n,)``, s; the window starts at the bottom before the rep.
    theta_deg
        Sagittal angle, shape ``(n,)``, degrees, increasing as the hips rise.
    i_peak
        A sample near the top (the bottom angle is the lowest angle before it).
    i_top_max
        Last sample in which the top is searched (the excursion's return).
    band
        Fraction of ROM that counts as "at the bottom" / "at the top".
    settled
        When the angle never comes back within ``band`` of the bottom before the rep: if True, end
        the rep at the band of the lowest angle after the top (the lifter settled higher); if False
        return None (wait for more samples).
    rate_deg_s
        Rate of change of ``theta_deg``, shape ``(n,)``, degrees/s (from the gyroscope).  When
        given, the rep starts at the *onset* of the movement and ends when the movement back has
        *stopped or turned*: the start is the last moment before the angle leaves the bottom band
        at which the rate was at most the onset threshold, the end the first moment after it is
        back in the band at which the rate (towards the bottom) has fallen to it.  After a pause the
        onset is where the rise begins; between touch-and-go reps it is the turning point.  The
        threshold is ``onset_fraction`` of the rep's peak rate, at least ``min_onset_deg_s`` and at
        most :data:`MAX_ONSET_DEG_S`.
    onset_fraction, min_onset_deg_s
        See ``rate_deg_s``.
    i_base_max
        Last sample in which the rep's bottom (where it starts) is searched; default ``i_peak``.
        A turn inside the rep (the pelvis tucking at the bottom of a squat) may come closer to the
        rest side than the rep's real start: the caller bounds the search before it.
    i_end_from
        First sample in which the rep's end is searched (default: its top); after a turn inside
        the rep, the far turn that follows it.

    Returns
    -------
    RepTiming or None
        None when the angle does not (yet) rise and return as a rep must.
    """
    th = theta_deg
    n = th.shape[0]
    if not 0 <= i_peak <= i_top_max < n:
        return None
    i_b = int(np.argmin(th[: (i_peak if i_base_max is None else min(i_peak, i_base_max)) + 1]))
    bottom = float(th[i_b])
    i_top = i_b + int(np.argmax(th[i_b : i_top_max + 1]))
    top = float(th[i_top])
    rom = top - bottom
    if rom <= 0:
        return None
    lo = bottom + band * rom
    hi = top - band * rom
    # start: last sample <= lo before the top
    k_last = i_top if i_base_max is None else max(i_b, min(i_top, i_base_max))
    before = np.flatnonzero(th[i_b : k_last + 1] <= lo)
    k_start = i_b + int(before[-1])  # exists: i_b itself
    start = _cross_time(t_s, th, k_start + 1, lo) if k_start + 1 <= i_top else float(t_s[k_start])
    # top start: first sample >= hi after start
    k_ts = k_start + int(np.argmax(th[k_start : i_top + 1] >= hi))
    top_start = _cross_time(t_s, th, k_ts, hi)
    # end: first sample <= lo after the top
    j = i_top if i_end_from is None else max(i_top, min(i_end_from, n - 1))
    after = np.flatnonzero(th[j:] <= lo)
    if after.size == 0:
        if not settled:
            return None
        # the lifter settled higher than the bottom before the rep: the band of the lowest point after
        lo = float(np.min(th[j:])) + band * rom
        if lo >= hi:
            return None
        after = np.flatnonzero(th[j:] <= lo)
    k_end = j + int(after[0])
    # top end: last sample >= hi before the end
    k_te = k_ts + int(np.flatnonzero(th[k_ts:k_end] >= hi)[-1])
    top_end = _cross_time(t_s, th, k_te + 1, hi) if k_te + 1 <= k_end else float(t_s[k_te])
    end = _cross_time(t_s, th, k_end, lo)
    if rate_deg_s is not None:
        r = _smooth(t_s, rate_deg_s, ONSET_SMOOTH_S)
        thr = onset_threshold_deg_s(
            float(np.max(np.abs(r[i_b : k_end + 1]))), onset_fraction, min_onset_deg_s
        )
        # onset: the last sample at or below the threshold before the band exit (not before i_b)
        still = np.flatnonzero(r[i_b : k_start + 1] <= thr)
        if still.size:
            k_on = i_b + int(still[-1])
            start = min(start, _lin_cross(t_s, r, k_on, thr))
        else:
            start = float(t_s[i_b])
        # offset: the first sample from the band entry on whose rate towards the bottom is small
        stop = np.flatnonzero(r[k_end:] >= -thr)
        if stop.size:
            k_off = k_end + int(stop[0])
            end = max(end, _lin_cross(t_s, r, k_off - 1, -thr) if k_off > k_end else end)
            k_end = k_off
    return RepTiming(start, top_start, top_end, end, rom, bottom, top, k_start, k_end)


MAX_ONSET_DEG_S = 6.0
"""The onset threshold is at most this, deg/s (fast reps: the first slow motion counts)."""


def onset_threshold_deg_s(peak_deg_s: float, fraction: float = 0.05, min_deg_s: float = 2.0) -> float:
    """Rate below which a rep's segment counts as not (yet / any more) moving, deg/s: ``fraction``
    of the rep's peak rate, within [``min_deg_s``, :data:`MAX_ONSET_DEG_S`]."""
    return max(min_deg_s, min(MAX_ONSET_DEG_S, fraction * peak_deg_s))


ONSET_SMOOTH_S = 0.08
"""The rate is smoothed over this window (centred: no delay) before its onset and stop are found, s."""


def _smooth(t: FloatArray, y: FloatArray, window_s: float) -> FloatArray:
    """Centred moving average of ``y`` over about ``window_s`` (sample count from the median
    interval of ``t``), same shape; the ends average what is there."""
    n = y.shape[0]
    if n < 3:
        return y
    dt = median(np.diff(t))
    k = int(round(window_s / dt)) if dt > 0 else 1
    if k < 2:
        return y
    half = k // 2
    c = np.concatenate(([0.0], np.cumsum(y)))
    lo = np.clip(np.arange(n) - half, 0, n)
    hi = np.clip(np.arange(n) + half + 1, 0, n)
    return np.asarray((c[hi] - c[lo]) / (hi - lo), dtype=np.float64)


def _lin_cross(t: FloatArray, y: FloatArray, k: int, level: float) -> float:
    """Time where ``y`` passes ``level`` between samples ``k`` and ``k + 1`` (linear interpolation);
    the time of sample ``k`` when there is no next sample or no crossing between them."""
    if k < 0 or k + 1 >= y.shape[0]:
        return float(t[max(k, 0)])
    y0, y1 = float(y[k]), float(y[k + 1])
    if y1 == y0:
        return float(t[k])
    f = min(1.0, max(0.0, (level - y0) / (y1 - y0)))
    return float(t[k] + f * (t[k + 1] - t[k]))
