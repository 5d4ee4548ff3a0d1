"""The vertical-motion test that tells a rep's end from a turn inside it (imurep.core.tracking.height)."""

from __future__ import annotations

import numpy as np
import pytest

from imurep.core.tracking.height import (
    MAX_SPAN_S,
    came_back,
    far_m,
    height_profile_m,
    rep_height_m,
    still_height_m,
)


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
    assert came_back(t, _acc(t, h, bias)) is True
    # a squat's way down that ends at the bottom (the pelvis tucks there: the angle turns)
    half = t[:201]
    h_down = -0.25 * (1 - np.cos(np.pi * half))
    assert came_back(half, _acc(half, h_down, bias)) is False


def test_stretches_it_cannot_judge() -> None:
    t = np.linspace(0.0, 2.0, 401)
    tiny = -0.02 * (1 - np.cos(np.pi * t))  # a 4 cm excursion: too small to tell
    assert came_back(t, _acc(t, tiny)) is None
    long_t = np.linspace(0.0, MAX_SPAN_S + 1.0, 801)
    h = -0.25 * (1 - np.cos(2 * np.pi * long_t / long_t[-1]))
    assert came_back(long_t, _acc(long_t, h)) is None


def test_rep_height_tells_a_thrust_from_sitting_down() -> None:
    t = np.linspace(0.0, 3.0, 601)
    thrust = 0.15 * (1 - np.cos(2 * np.pi * t / 3.0))  # hips up 0.3 m and back
    far, end = rep_height_m(t, _acc(t, thrust, 0.2)) or (0.0, 1.0)
    assert far == pytest.approx(0.3, abs=0.02) and abs(end) < 0.02
    sit = -0.45 * (t / 3.0 - np.sin(2 * np.pi * t / 3.0) / (2 * np.pi))  # down 0.45 m and stays
    far, end = rep_height_m(t, _acc(t, sit)) or (0.0, 0.0)
    assert far == pytest.approx(-0.45, abs=0.02) and end == pytest.approx(far, abs=1e-6)


def _sit_hold_stand(bias: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Sit down (1.5 s, 0.45 m), sit still 6 s, stand up (1.5 s): 9 s, too long to integrate whole."""
    t = np.linspace(0.0, 9.0, 1801)
    down = np.clip(t / 1.5, 0.0, 1.0)
    up = np.clip((t - 7.5) / 1.5, 0.0, 1.0)
    h = -0.45 * (0.5 - 0.5 * np.cos(np.pi * down)) + 0.45 * (0.5 - 0.5 * np.cos(np.pi * up))
    acc = _acc(t, h)
    acc[(t > 1.5) & (t < 7.5)] = 0.0
    still = (t > 1.6) & (t < 7.4)
    return t, h, acc + bias, still


@pytest.mark.parametrize("bias", [0.0, 0.3, -0.3])
def test_still_height_follows_a_long_rep_through_its_hold(bias: float) -> None:
    t, h, acc, still = _sit_hold_stand(bias)
    assert rep_height_m(t, acc) is None  # longer than a whole rep it judges
    got = still_height_m(t, acc, still)
    assert got is not None
    # the bias is removed stretch by stretch: the hold is at the true depth, the end back at 0
    assert far_m(got) == pytest.approx(-0.45, abs=0.03)
    assert np.max(np.abs(got - h)) < 0.03


def test_still_height_cannot_judge_a_long_moving_stretch() -> None:
    t, _, acc, still = _sit_hold_stand(0.0)
    assert still_height_m(t, acc, np.zeros_like(still)) is None  # never still: 9 s of drift
    assert still_height_m(t[:2], acc[:2], still[:2]) is not None  # (too short: flat)


def test_stopped_at_finds_where_the_angle_stops_going_down() -> None:
    from imurep.core.tracking.rep_state import stopped_at

    t = np.arange(0.0, 2.0, 0.01)
    # coming back at 50 deg/s until 1.0 s, then at rest: stopped 0.1 s after it halts
    x = np.where(t < 1.0, 50.0 * (1.0 - t), 0.0)
    got = stopped_at(t, x, 0.5, 0.1, 1.0)
    assert got is not None and 1.0 <= got <= 1.1
    # a swing through goes on at its speed: never stopped
    assert stopped_at(t, 50.0 * (1.0 - t), 0.5, 0.1, 1.0) is None
    # turning back up is stopping too
    v = np.abs(t - 1.0) * 50.0
    got = stopped_at(t, v, 0.5, 0.1, 1.0)
    assert got is not None and 1.0 <= got <= 1.1
    # not before t_from + hold, and None when the data ends first
    assert stopped_at(t, np.zeros_like(t), 0.5, 0.1, 1.0) == pytest.approx(0.6)
    assert stopped_at(t[:55], np.zeros(55), 0.5, 0.1, 1.0) is None


def test_the_height_tolerance_grows_with_the_longest_moving_stretch() -> None:
    from imurep.core.tracking.height import (
        DRIFT_TIME_S,
        MIN_DIRECTION_M,
        height_tolerance_m,
        longest_moving_s,
    )

    t = np.arange(0.0, 6.0, 0.01)
    assert longest_moving_s(t) == pytest.approx(5.99)
    still = (t > 1.0) & (t < 2.5)  # a hold at the top: stretches of 1.0 s and 3.5 s around it
    assert longest_moving_s(t, still) == pytest.approx(3.5, abs=0.02)
    assert height_tolerance_m(1.0) == MIN_DIRECTION_M == height_tolerance_m(DRIFT_TIME_S)
    assert height_tolerance_m(2 * DRIFT_TIME_S) == pytest.approx(4 * MIN_DIRECTION_M)


def test_a_tilting_rep_keeps_its_axis_a_twist_does_not() -> None:
    from imurep.core.tracking.rep_state import axis_change_deg

    up = np.array([0.0, 0.0, 1.0])
    set_axis = np.array([1.0, 0.0, 0.0])
    tilt_axis = np.cross(up, set_axis)  # turns the up vector towards the set's axis
    # a partial rep with as much tilt as range leans its axis 45 deg towards the tilt axis
    leaning = (set_axis + tilt_axis) / np.sqrt(2.0)
    assert axis_change_deg(leaning, set_axis, up) == pytest.approx(0.0, abs=1e-9)
    # a twist about the vertical is a change of axis
    twisted = (set_axis + up) / np.sqrt(2.0)
    assert axis_change_deg(twisted, set_axis, up) == pytest.approx(45.0)
    assert axis_change_deg(tilt_axis, set_axis, up) == 90.0  # pure tilt: nothing of the set's axis left
