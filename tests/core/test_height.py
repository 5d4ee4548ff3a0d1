"""The vertical-motion test that tells a rep's end from a turn inside it (imurep.core.tracking.height)."""

from __future__ import annotations

import numpy as np
import pytest

from imurep.core.tracking.height import MAX_SPAN_S, came_back, height_profile_m


def _acc(t: np.ndarray, h: np.ndarray, bias: float = 0.0) -> np.ndarray:
    """Vertical acceleration of a height profile (second difference), plus a constant bias."""
    v = np.gradient(h, t)
    return np.gradient(v, t) + bias


def test_profile_recovers_a_squat_despite_an_accelerometer_bias() -> None:
    t = np.linspace(0.0, 2.0, 401)
    h = -0.25 * (1 - np.cos(np.pi * t))  # down 0.5 m and back up, zero velocity at both ends
    got = height_profile_m(t, _acc(t, h, bias=0.3))
    assert np.max(np.abs(got - h)) < 0.01


@pytest.mark.parametrize("bias", [0.0, 0.4, -0.4])
def test_a_rep_that_comes_back_and_a_turn_at_the_bottom(bias: float) -> None:
    t = np.linspace(0.0, 2.0, 401)
    # a whole squat: standing -> bottom -> standing
    h = -0.25 * (1 - np.cos(np.pi * t))
    assert came_back(t, _acc(t, h, bias), k_far=200) is True
    # a squat's way down that ends at the bottom (the pelvis tucks there: the angle turns)
    half = t[:201]
    h_down = -0.25 * (1 - np.cos(np.pi * half))
    k_far = 150
    assert came_back(half, _acc(half, h_down, bias), k_far=k_far) is False


def test_stretches_it_cannot_judge() -> None:
    t = np.linspace(0.0, 2.0, 401)
    tiny = -0.02 * (1 - np.cos(np.pi * t))  # a 4 cm excursion: too small to tell
    assert came_back(t, _acc(t, tiny), k_far=200) is None
    long_t = np.linspace(0.0, MAX_SPAN_S + 1.0, 801)
    h = -0.25 * (1 - np.cos(2 * np.pi * long_t / long_t[-1]))
    assert came_back(long_t, _acc(long_t, h), k_far=400) is None
