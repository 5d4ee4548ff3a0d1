"""The excursion detector on synthetic up-vector traces: a rep is one excursion measured from the
bottom, small sway is none, a posture change that never returns is none."""

from __future__ import annotations

import numpy as np

from imurep.core.tracking.reps import ExcursionDetector, SegmentationSettings

RATE = 100.0


def _trace(segments: list[tuple[float, float]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Angle about the sensor x axis, piecewise: (duration s, end angle deg), smooth (cosine) ramps.

    Returns t (n,), up (n, 3), quiet (n,) -- quiet where the angular speed is below 0.08 rad/s.
    """
    t_parts, a_parts = [], []
    t0, a0 = 0.0, 0.0
    for dur, a1 in segments:
        tt = np.arange(0.0, dur, 1.0 / RATE)
        a_parts.append(a0 + (a1 - a0) * 0.5 * (1 - np.cos(np.pi * tt / dur)))
        t_parts.append(t0 + tt)
        t0, a0 = t0 + dur, a1
    t = np.concatenate(t_parts)
    ang = np.radians(np.concatenate(a_parts))
    up = np.column_stack((np.zeros_like(ang), np.sin(ang), np.cos(ang)))
    speed = np.abs(np.gradient(ang, t))
    return t, up, speed < 0.08


def _run(t: np.ndarray, up: np.ndarray, quiet: np.ndarray, block: int = 5):
    det = ExcursionDetector(SegmentationSettings())
    out = []
    for a in range(0, t.size, block):
        out.extend(det.update(a, t[a : a + block], up[a : a + block], quiet[a : a + block]))
    return det, out


def test_one_rep_is_one_excursion_from_the_bottom() -> None:
    t, up, quiet = _trace([(2.0, 0.0), (1.0, 40.0), (1.0, 40.0), (1.5, 0.0), (2.0, 0.0)])
    det, ex = _run(t, up, quiet)
    assert len(ex) == 1
    e = ex[0]
    assert 2.0 < e.t_open_s < 2.5  # 6 degrees into the 1-s rise
    assert abs(e.peak_deg - 40.0) < 0.5
    assert 3.0 <= t[e.i_peak] <= 4.0  # at the top hold
    assert t[e.i_close] > 4.0 and not det.in_excursion
    assert np.allclose(e.up_rest, [0.0, 0.0, 1.0], atol=1e-6)  # measured from the bottom posture


def test_two_reps_with_a_pause_are_two_excursions_whatever_the_blocks() -> None:
    seg = [(2.0, 0.0), (1.0, 35.0), (0.8, 35.0), (1.2, 0.0), (1.0, 0.0), (1.0, 35.0), (0.8, 35.0), (1.2, 0.0)]
    t, up, quiet = _trace(seg + [(2.0, 0.0)])
    ref = [(e.i_open, e.i_peak, e.i_close) for e in _run(t, up, quiet, block=5)[1]]
    assert len(ref) == 2
    for block in (1, 7, 50, 1000):
        assert [(e.i_open, e.i_peak, e.i_close) for e in _run(t, up, quiet, block)[1]] == ref


def test_sway_below_the_opening_angle_is_not_an_excursion() -> None:
    t, up, quiet = _trace([(2.0, 0.0), (1.0, 4.0), (1.0, 0.0), (1.0, -4.0), (1.0, 0.0), (2.0, 0.0)])
    assert _run(t, up, quiet)[1] == []


def test_a_change_of_posture_that_never_returns_is_not_an_excursion() -> None:
    t, up, quiet = _trace([(2.0, 0.0), (1.5, 60.0), (25.0, 60.0)])
    det, ex = _run(t, up, quiet)
    assert ex == []
    assert not det.in_excursion  # the new posture became the reference
