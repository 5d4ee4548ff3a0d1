"""The up vector from Fusion against an oracle built with scipy's Rotation (no linear acceleration,
so the truth is the rotated vertical), after gaps, and the settings' validation."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from imurep.core.orientation import GravityTracker, OrientationSettings, align_to_up, starts_still
from imurep.model.errors import SettingsError
from imurep.model.units import STANDARD_GRAVITY_MPS2

RATE = 200.0


def _motion(seed: int, dur_s: float = 8.0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A sensor turning about a fixed world axis by a smooth 60° swing from a random start.

    Returns t (n,), acc (n, 3) m/s², gyr (n, 3) rad/s, true up (n, 3), sensor frame.
    """
    rng = np.random.default_rng(seed)
    t = np.arange(0.0, dur_s, 1.0 / RATE)
    r0 = Rotation.random(random_state=seed)
    axis = rng.normal(size=3)
    axis /= np.linalg.norm(axis)
    theta = np.radians(60.0) * 0.5 * (1 - np.cos(2 * np.pi * t / dur_s))  # 0 -> 60° -> 0
    dtheta = np.radians(60.0) * 0.5 * (2 * np.pi / dur_s) * np.sin(2 * np.pi * t / dur_s)
    rot = Rotation.from_rotvec(np.outer(theta, axis)) * r0  # sensor -> world
    up = rot.inv().apply([0.0, 0.0, 1.0])
    gyr = rot.inv().apply(np.outer(dtheta, axis))  # world-fixed axis seen in the sensor frame
    acc = STANDARD_GRAVITY_MPS2 * up
    return t, acc, gyr, up


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_up_vector_follows_a_rotation(seed: int) -> None:
    t, acc, gyr, up_true = _motion(seed)
    up = GravityTracker(OrientationSettings(), nominal_rate_hz=RATE).update(t, acc, gyr)
    err = np.degrees(np.arccos(np.clip(np.einsum("ij,ij->i", up, up_true), -1, 1)))
    assert np.allclose(np.linalg.norm(up, axis=1), 1.0)
    assert float(err.max()) < 1.0


def test_gyro_carries_the_orientation_through_accelerations() -> None:
    """A 0.3 s bump of 6 m/s² sideways must not tilt the up vector much (acceleration rejection)."""
    t, acc, gyr, up_true = _motion(3)
    bump = (t > 3.0) & (t < 3.3)
    acc = acc.copy()
    acc[bump] += np.array([6.0, 0.0, 0.0])
    up = GravityTracker(OrientationSettings(), nominal_rate_hz=RATE).update(t, acc, gyr)
    err = np.degrees(np.arccos(np.clip(np.einsum("ij,ij->i", up, up_true), -1, 1)))
    assert float(err[bump].max()) < 3.0


def test_chunked_updates_equal_one_update_and_gaps_realign() -> None:
    t, acc, gyr, up_true = _motion(4)
    whole = GravityTracker(OrientationSettings(), nominal_rate_hz=RATE).update(t, acc, gyr)
    tr = GravityTracker(OrientationSettings(), nominal_rate_hz=RATE)
    parts = [tr.update(t[a : a + 97], acc[a : a + 97], gyr[a : a + 97]) for a in range(0, t.size, 97)]
    assert np.array_equal(np.concatenate(parts), whole)
    # a 2 s gap with the sensor turned meanwhile: the first sample after it is the accelerometer's
    keep = (t < 2.0) | (t > 4.0)
    up = GravityTracker(OrientationSettings(), nominal_rate_hz=RATE).update(t[keep], acc[keep], gyr[keep])
    k = int(np.argmax(t[keep] > 4.0))
    assert float(np.degrees(np.arccos(np.clip(up[k] @ up_true[keep][k], -1, 1)))) < 1.0


@pytest.mark.parametrize(("field", "value"), [("gain", 0.0), ("acceleration_rejection_deg", 95.0)])
def test_settings_are_validated(field: str, value: float) -> None:
    with pytest.raises(SettingsError, match=field):
        OrientationSettings(**{field: value})


def test_alignment_is_scipys_align_vectors_bit_for_bit() -> None:
    """Re-alignment (start, gaps) builds the same quaternion as SciPy's ``align_vectors`` did,
    including near 0° (Taylor series) and near 180° (the flip)."""
    rng = np.random.default_rng(11)
    down = [0.0, 0.0, -1.0]
    vs = np.concatenate(
        (
            rng.normal(size=(3000, 3)) * rng.choice([1e-3, 1.0, 9.8], size=(3000, 1)),
            rng.normal(size=(1000, 3)) * [1e-4, 1e-4, 1.0] + [0.0, 0.0, 1.0],
            rng.normal(size=(1000, 3)) * [1e-4, 1e-4, 1.0] + down,
            [[0.0, 0.0, 1.0], down, [0.0, 0.0, -3.0], [1e-9, 0.0, -1.0], [-1e-9, 0.0, -1.0]],
            [[0.0, 1e-12, 1.0]],
        )
    )
    for v in vs:
        x, y, z, w = Rotation.align_vectors([[0.0, 0.0, 1.0]], [v])[0].as_quat()
        assert align_to_up(*(float(c) for c in v)) == (w, x, y, z)


def test_a_still_start_skips_fusions_start_up_ramp() -> None:
    """A stream that starts still and swings 60° in its first seconds, its accelerometer off by a
    per-axis offset (the thigh sensor of ../shared/data/squat-realtime reads 12-15 m/s² at rest):
    with Fusion's start-up ramp the angle turned followed the accelerometer (the directions it reads
    differ by less than the turn); from a still start the gyroscope carries it."""
    t = np.arange(0.0, 2.5, 1.0 / RATE)
    r0 = Rotation.from_euler("xyz", [10.0, -5.0, 0.0], degrees=True)
    s = np.clip((t - 0.5) / 1.5, 0.0, 1.0)  # the swing: 0.5-2.0 s
    theta = np.radians(60.0) * 0.5 * (1 - np.cos(np.pi * s))
    dtheta = np.where((t > 0.5) & (t < 2.0), np.radians(60.0) * 0.5 * np.pi / 1.5 * np.sin(np.pi * s), 0.0)
    axis = np.array([1.0, 0.0, 0.0])
    rot = Rotation.from_rotvec(np.outer(theta, axis)) * r0
    gyr = rot.inv().apply(np.outer(dtheta, axis))
    acc = STANDARD_GRAVITY_MPS2 * rot.inv().apply([0.0, 0.0, 1.0]) + np.array([0.0, 0.0, 4.0])
    assert starts_still(gyr[:10])
    turned = {}
    for still_start in (True, False):
        up = GravityTracker(OrientationSettings(), nominal_rate_hz=RATE, still_start=still_start).update(
            t, acc, gyr
        )
        k = int(np.searchsorted(t, 2.0))
        turned[still_start] = float(np.degrees(np.arccos(np.clip(up[k] @ up[0], -1, 1))))
    assert abs(turned[True] - 60.0) < 3.0, turned
    assert abs(turned[False] - 60.0) > 6.0, turned  # what the ramp did


def test_a_stream_starts_still_only_when_its_gyroscope_holds_steady() -> None:
    rng = np.random.default_rng(0)
    bias = np.array([0.03, -0.04, 0.02])
    assert starts_still(bias + 0.004 * rng.normal(size=(6, 3)))  # at rest: bias and noise
    # the slowest moment of a rep: the rate passes zero at 8 rad/s² (the bottom of a squat)
    t = np.arange(-0.025, 0.025, 0.01)
    assert not starts_still(np.outer(8.0 * t, [1.0, 0.0, 0.0]) + bias)
    assert not starts_still(np.array([[0.5, 0.0, 0.0]] * 6))  # a steady turn
    assert not starts_still(bias[None, :])  # one sample tells nothing
