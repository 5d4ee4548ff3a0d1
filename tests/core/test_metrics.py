"""Unit and oracle tests of the pure metric functions."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from imurep.core.faults import FaultSettings, rep_faults
from imurep.core.metrics import rep_axis, rep_timing, robust_axis, sagittal_angle_deg, tilt_deg, unit


def _min_jerk(x: np.ndarray) -> np.ndarray:
    return 10 * x**3 - 15 * x**4 + 6 * x**5


def _rep_profile(fs: float = 1000.0) -> tuple[np.ndarray, np.ndarray]:
    """Bottom 1 s, up 1 s, hold 1.5 s, down 2 s, bottom 1 s; 0 -> 40 degrees."""
    parts = [
        np.zeros(int(1.0 * fs)),
        40 * _min_jerk(np.linspace(0, 1, int(1.0 * fs), endpoint=False)),
        np.full(int(1.5 * fs), 40.0),
        40 - 40 * _min_jerk(np.linspace(0, 1, int(2.0 * fs), endpoint=False)),
        np.zeros(int(1.0 * fs)),
    ]
    th = np.concatenate(parts)
    return np.arange(th.size) / fs, th


def _band_time(duration_s: float, band: float = 0.05) -> float:
    """Time a min-jerk transition of ``duration_s`` takes to reach ``band`` of its travel."""
    x = np.linspace(0, 1, 200001)
    return float(x[np.argmax(_min_jerk(x) >= band)] * duration_s)


def test_rep_timing_follows_the_5_percent_definitions() -> None:
    t, th = _rep_profile()
    timing = rep_timing(t, th, i_peak=int(2.2 * 1000), i_top_max=th.size - 1)
    assert timing is not None
    b1, b2 = _band_time(1.0), _band_time(2.0)
    assert timing.start_s == pytest.approx(1.0 + b1, abs=2e-3)
    assert timing.top_start_s == pytest.approx(2.0 - b1, abs=2e-3)
    assert timing.top_end_s == pytest.approx(3.5 + b2, abs=2e-3)
    assert timing.end_s == pytest.approx(5.5 - b2, abs=2e-3)
    assert timing.rom_deg == pytest.approx(40.0, abs=1e-6)


def test_rep_timing_waits_or_settles_when_the_bottom_is_not_reached() -> None:
    t, th = _rep_profile()
    th = th.copy()
    cut = int(4.6 * 1000)
    th[cut:] = th[cut]  # stays 10 degrees up after the lowering
    assert rep_timing(t, th, 2200, th.size - 1, settled=False) is None
    timing = rep_timing(t, th, 2200, th.size - 1, settled=True)
    assert timing is not None
    assert 3.5 < timing.end_s <= 4.6 + 1e-3


def test_sagittal_and_tilt_angles_match_rotations() -> None:
    mount = Rotation.random(random_state=4)
    flex = np.radians(np.linspace(0, 40, 50))
    tilt = np.radians(np.linspace(0, 8, 50))
    # segment: rotate about world x (medio-lateral, horizontal) by flex, then tilt about segment y
    seg = Rotation.from_rotvec(np.outer(flex, [1, 0, 0])) * Rotation.from_rotvec(np.outer(tilt, [0, 1, 0]))
    sensor = seg * mount
    up = sensor.inv().apply([0, 0, 1])
    ml_axis = mount.inv().apply([1, 0, 0])  # segment x in the sensor frame
    th = sagittal_angle_deg(up, ml_axis, up[0])
    tl = tilt_deg(up, ml_axis, up[0])
    # elevation of the ML axis: the segment's x axis rotated by the tilt about its y axis
    expected_tilt = -np.degrees(np.arcsin(seg.apply([1, 0, 0])[:, 2]))
    np.testing.assert_allclose(np.abs(tl), np.abs(expected_tilt), atol=1e-9)
    assert abs(th[-1]) == pytest.approx(40.0, abs=1.5)  # tilt couples weakly into the sagittal angle


def test_rep_axis_is_oriented_bottom_to_top_and_robust_axis_ignores_outliers() -> None:
    mount = Rotation.random(random_state=7)
    ml = mount.inv().apply([1, 0, 0])
    gyr = np.outer(np.sin(np.linspace(0, np.pi, 50)), ml)
    up_b = mount.inv().apply([0, 0, 1])
    up_t = (Rotation.from_rotvec([0.6, 0, 0]) * mount).inv().apply([0, 0, 1])
    a = rep_axis(gyr, up_b, up_t)
    assert abs(abs(float(a @ ml)) - 1) < 1e-9
    th = sagittal_angle_deg(np.vstack([up_b, up_t]), a, up_b)
    assert th[1] > th[0]
    outlier = unit(ml + np.array([0.3, -0.2, 0.25]))
    axes = [unit(ml + 0.01 * np.random.default_rng(i).normal(size=3)) for i in range(5)] + [outlier, outlier]
    r = robust_axis(axes)
    assert float(r @ ml) > np.cos(np.radians(1.0))


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        (
            {"eccentric_s": 2.0, "top_hold_s": 1.2, "rom_deg": 40, "median_rom_deg": 40, "peak_tilt_deg": 2},
            (),
        ),
        (
            {"eccentric_s": 0.5, "top_hold_s": 0.2, "rom_deg": 20, "median_rom_deg": 40, "peak_tilt_deg": 9},
            ("hip_tilt", "rushed_lowering", "short_hold", "partial_rom"),
        ),
        (
            {
                "eccentric_s": 2.0,
                "top_hold_s": 1.2,
                "rom_deg": 40,
                "median_rom_deg": 40,
                "peak_tilt_deg": None,
            },
            (),
        ),
    ],
)
def test_fault_rules(kwargs: dict[str, float], expected: tuple[str, ...]) -> None:
    assert rep_faults(FaultSettings(), **kwargs) == expected  # type: ignore[arg-type]


def test_disabled_faults_are_not_reported() -> None:
    fs = FaultSettings(enabled=("short_hold",))
    got = rep_faults(fs, eccentric_s=0.1, top_hold_s=0.1, rom_deg=1, median_rom_deg=40, peak_tilt_deg=20)
    assert got == ("short_hold",)
