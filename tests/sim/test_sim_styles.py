"""The style-space simulator (imurep.sim.styles and the style_* modules): coverage of the space,
truth consistent with the signals, determinism and sample rates."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from imurep.coaching.exercises import get_profile
from imurep.model.errors import SettingsError
from imurep.sim.style_recording import run_style, simulate_style
from imurep.sim.style_sensor import BodyKinematics, sample
from imurep.sim.styles import (
    AROUND_SET,
    EXERCISE_OF,
    FAMILIES,
    SPACE,
    TWO_LEG_TILT_LIMIT_DEG,
    RecordingStyle,
    draw_style,
)

SRC = Path(__file__).resolve().parents[2] / "src"


@pytest.fixture(scope="module")
def styles() -> list[RecordingStyle]:
    """Many drawn styles: every family, and the whole space (``mixed``) most often."""
    rng = np.random.default_rng(123)
    families = [*FAMILIES, *["mixed"] * 30]
    return [draw_style(rng, families[k % len(families)]) for k in range(820)]


def test_sampler_reaches_every_bound_of_the_space(styles: list[RecordingStyle]) -> None:
    reps = [r for st in styles for s in st.sets for r in s.reps]

    def span(values: list[float]) -> tuple[float, float]:
        return min(values), max(values)

    lift, squeeze = span([r.lift_s for r in reps]), span([r.squeeze_s for r in reps])
    lower, pause = span([r.lower_s for r in reps]), span([r.pause_s for r in reps])
    assert SPACE.lift_s[0] <= lift[0] < 0.22 and 3.8 < lift[1] <= SPACE.lift_s[1]
    assert squeeze[0] < 0.05 and 4.8 < squeeze[1] <= SPACE.squeeze_s[1]
    assert SPACE.lower_s[0] <= lower[0] < 0.35 and 5.7 < lower[1] <= SPACE.lower_s[1]
    assert pause == (0.0, SPACE.pause_s[1]) or (pause[0] == 0.0 and pause[1] > 4.8)
    n_reps = [len(s.reps) for st in styles for s in st.sets]
    assert min(n_reps) == 1 and max(n_reps) == 30
    full = [r.rom_deg for r in reps if not r.partial]
    assert 12.0 <= min(full) < 13.0 and 68.0 < max(full) <= 70.0
    # partial reps down to 35 % of the set's full range
    fractions = [r.rom_deg / max(x.rom_deg for x in s.reps) for st in styles for s in st.sets for r in s.reps]
    assert 0.35 <= min(fractions) < 0.37
    sets = [s for st in styles for s in st.sets]
    assert {s.side for s in sets} == {"left", "right"}
    assert {(s.floor, s.two_leg) for s in sets} == set(EXERCISE_OF)
    assert any(s.touch_and_go for s in sets) and not all(s.touch_and_go for s in sets)
    assert {st.placement for st in styles} == {"hip", "thigh"}
    rates = [st.sample_rate_hz for st in styles]
    assert 25.0 <= min(rates) < 27.0 and 380.0 < max(rates) <= 400.0
    bias = np.abs([b for st in styles for b in st.sensor.gyro_bias_dps])
    assert 4.9 < bias.max() <= SPACE.gyro_bias_dps
    slips = [abs(s.slip.angle_deg) for s in sets if s.slip is not None]
    assert 8.0 <= min(slips) < 8.3 and 14.7 < max(slips) <= 15.0
    levers = [math.hypot(st.sensor.lever_m[0], st.sensor.lever_m[1]) for st in styles]
    assert min(levers) < 0.03 and max(levers) > 0.1
    assert {a for st in styles for around in st.around for a in around} == set(AROUND_SET)


def test_fatigue_slows_shrinks_and_tilts_over_the_set(styles: list[RecordingStyle]) -> None:
    tired = [s for st in styles if st.family == "fatigue" and st.placement == "hip" for s in st.sets]
    assert tired
    for s in tired:
        first, last = s.reps[:3], s.reps[-3:]
        assert np.mean([r.lift_s for r in last]) > 1.15 * np.mean([r.lift_s for r in first])
        full_first = [r.rom_deg for r in first if not r.partial]
        full_last = [r.rom_deg for r in last if not r.partial]
        if full_first and full_last:
            assert max(full_last) < max(full_first)
    gains = [
        np.mean([abs(r.tilt_deg) for r in s.reps[-3:]]) - np.mean([abs(r.tilt_deg) for r in s.reps[:3]])
        for s in tired
    ]
    assert np.median(gains) > 1.0


def test_unknown_family_and_bad_rate_are_settings_errors() -> None:
    rng = np.random.default_rng(0)
    with pytest.raises(SettingsError, match="unknown style family"):
        draw_style(rng, "powerlifting")
    with pytest.raises(SettingsError, match="sample rate"):
        draw_style(rng, "ordinary", sample_rate_hz=10.0)


def test_two_leg_tilt_rule_and_exercises_are_the_profiles() -> None:
    for (floor, two_leg), name in EXERCISE_OF.items():
        profile = get_profile(name)
        if two_leg:
            assert profile.tilt_threshold_deg == TWO_LEG_TILT_LIMIT_DEG
        assert (profile.min_eccentric_s, profile.min_top_hold_s) == (1.0, 1.0), (floor, name)


def _theta_from_signals(t: np.ndarray, acc: np.ndarray, gyr: np.ndarray, i0: int, mount: Rotation,
                        on_pelvis: bool) -> np.ndarray:  # fmt: skip
    """θ (degrees) of the segment from the samples alone: the up direction from gravity at the
    still sample ``i0``, carried through the set by integrating the gyro, seen through ``mount``."""
    up = acc[i0] / np.linalg.norm(acc[i0])
    z_seg = mount.inv().apply([0.0, 0.0, 1.0])  # the segment's long axis in the sensor frame
    out = np.empty(t.size - i0)
    for k in range(i0, t.size):
        if k > i0:
            w = 0.5 * (gyr[k - 1] + gyr[k]) * (t[k] - t[k - 1])
            up = Rotation.from_rotvec(w).inv().apply(up)
        dot = float(np.clip(np.dot(z_seg, up), -1.0, 1.0))
        out[k - i0] = math.degrees(math.asin(-dot if on_pelvis else dot))
    return out


@pytest.mark.parametrize(
    ("family", "placement", "seed"),
    [
        ("touch_and_go", "hip", 11),
        ("floor_bridge", "thigh", 12),
        ("explosive", "thigh", 13),
        ("fatigue", "hip", 14),
    ],
)
def test_gyro_integration_reproduces_the_truth_angles(family: str, placement: str, seed: int) -> None:
    rec = simulate_style(seed, family, placement=placement, sample_rate_hz=200.0, n_sets=1, noise=False)
    truth_set = rec.truth["sets"][0]
    t, acc, gyr = rec.t_s, rec.acc_mps2, rec.gyr_rads
    i0 = int(np.searchsorted(t, truth_set["start_s"] - 0.3))
    i1 = int(np.searchsorted(t, truth_set["end_s"]))
    mount = Rotation.from_quat(truth_set["mounting_quat_xyzw"])
    theta = _theta_from_signals(t[: i1 + 1], acc, gyr, i0, mount, placement == "hip")
    tt = t[i0 : i1 + 1]
    for rep in truth_set["reps"]:
        at_start = float(np.interp(rep["start_s"], tt, theta))
        assert at_start == pytest.approx(rep["bottom_deg"], abs=0.6)
        inside = (tt >= rep["start_s"]) & (tt <= rep["end_s"])
        assert float(theta[inside].max()) == pytest.approx(rep["top_deg"], abs=0.6)
        assert float(theta[inside].max() - at_start) == pytest.approx(rep["rom_deg"], abs=0.8)


def test_truth_follows_the_style() -> None:
    run = run_style(21, "touch_and_go", placement="hip", sample_rate_hz=100.0, n_sets=1, noise=False)
    reps = run.recording.truth["sets"][0]["reps"]
    assert len(reps) == len(run.style.sets[0].reps) >= 8
    for a, b in zip(reps, reps[1:], strict=False):  # no stillness between reps: only the turn
        assert abs(b["start_s"] - a["end_s"]) < 0.2
    for drawn, rep in zip(run.style.sets[0].reps, reps, strict=True):
        assert rep["concentric_s"] == pytest.approx(drawn.lift_s, abs=0.06)
        assert rep["eccentric_s"] == pytest.approx(drawn.lower_s, abs=0.1)
        assert rep["rom_deg"] == pytest.approx(drawn.rom_deg, abs=0.5)
    partial = run_style(22, "partial", placement="thigh", sample_rate_hz=100.0, n_sets=1, noise=False)
    st, truth = partial.style.sets[0], partial.recording.truth["sets"][0]
    assert any(r.partial for r in st.reps)
    for drawn, rep in zip(st.reps, truth["reps"], strict=True):
        assert ("partial_rom" in rep["faults"]) == drawn.partial
    slip = run_style(23, "strap_slip", placement="hip", sample_rate_hz=100.0, n_sets=1)
    (event,) = slip.recording.truth["sets"][0]["strap_slips"]
    set_truth = slip.recording.truth["sets"][0]
    assert set_truth["start_s"] < event["t_s"] < set_truth["end_s"] + 3.0
    assert 8.0 <= event["angle_deg"] <= 15.0


def test_recordings_are_deterministic_by_seed() -> None:
    a = simulate_style(31, "mixed", n_sets=1, sample_rate_hz=50.0)
    b = simulate_style(31, "mixed", n_sets=1, sample_rate_hz=50.0)
    c = simulate_style(32, "mixed", n_sets=1, sample_rate_hz=50.0)
    for x, y in ((a.t_s, b.t_s), (a.acc_mps2, b.acc_mps2), (a.gyr_rads, b.gyr_rads)):
        np.testing.assert_array_equal(x, y)
    assert json.dumps(a.truth) == json.dumps(b.truth) and a.metadata == b.metadata
    assert a.truth != c.truth


@pytest.mark.parametrize("rate", [25.0, 52.0, 400.0])
def test_sample_rates_are_honoured(rate: float) -> None:
    ideal = simulate_style(41, "explosive", placement="thigh", sample_rate_hz=rate, n_sets=1, noise=False)
    np.testing.assert_allclose(np.diff(ideal.t_s), 1.0 / rate, rtol=1e-9)
    real = simulate_style(41, "explosive", placement="thigh", sample_rate_hz=rate, n_sets=1)
    dt = np.diff(real.t_s)
    assert np.all(dt > 0)
    assert float(np.median(dt)) == pytest.approx(1.0 / rate, rel=0.012)  # clock error <= 1 %
    assert real.metadata["sample_rate_hz"] == rate and real.truth["sample_rate_hz"] == rate
    duration = real.t_s[-1] - real.t_s[0]
    assert 0.98 * duration * rate < real.t_s.size <= 1.02 * duration * rate + 1


def test_sensor_low_pass_filters_what_the_rate_cannot_carry() -> None:
    """The sensor's own low-pass filter (noise on) passes slow motion and removes what lies above
    the output's Nyquist frequency (here 20 Hz wobble sampled at 25 Hz)."""
    run = run_style(51, "ordinary", placement="hip", sample_rate_hz=25.0, n_sets=1)
    quiet = replace(
        run.style.sensor,
        gyro_bias_dps=(0.0, 0.0, 0.0),
        gyro_scale=(1.0, 1.0, 1.0),
        misalignment_deg=0.0,
        gyro_noise_dps=0.0,
        bias_walk_dps=0.0,
        jitter=0.0,
        packet_loss=0.0,
    )
    t = np.arange(0.0, 20.0, 1e-3)
    gyr = np.zeros((t.size, 3))
    gyr[:, 0] = np.sin(2 * math.pi * 1.0 * t)  # lifting-speed motion, 1 Hz
    gyr[:, 1] = np.sin(2 * math.pi * 20.0 * t)  # soft-tissue wobble, 20 Hz
    kin = BodyKinematics(t=t, R_ws=Rotation.identity(t.size), acc_mps2=gyr.copy(), gyr_rads=gyr,
                         R_sensor=Rotation.identity(t.size))  # fmt: skip
    ts, _, out = sample(kin, quiet, 25.0, True, np.random.default_rng(0), 0.0)
    late = ts > 2.0
    assert np.abs(out[late, 0]).max() > 0.93
    assert np.abs(out[late, 1]).max() < 0.35
    _, _, ideal = sample(kin, quiet, 25.0, False, np.random.default_rng(0), 0.0)
    assert np.abs(ideal[50:, 1]).max() > 0.5  # without the filter the wobble aliases in


def test_cli_simulate_style(tmp_path: Path) -> None:
    out = tmp_path / "tng.csv"
    cmd = [sys.executable, "-m", "imurep", "simulate", str(out), "--style", "touch_and_go", "--seed", "5"]
    env = {"PYTHONPATH": str(SRC), "PATH": "/usr/bin:/bin"}
    proc = subprocess.run([*cmd, "--rate", "50", "--sets", "1"], capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr
    assert "style touch_and_go" in proc.stdout
    meta = json.loads(out.with_suffix(".json").read_text(encoding="utf-8"))
    truth = json.loads((tmp_path / "tng.truth.json").read_text(encoding="utf-8"))
    assert meta["style"] == truth["style"] == "touch_and_go" and meta["sample_rate_hz"] == 50.0
    assert len(truth["sets"]) == 1 and truth["sets"][0]["style"]["touch_and_go"]
    bad = subprocess.run([*cmd, "--rate", "1000"], capture_output=True, text=True, env=env)
    assert bad.returncode == 2
    assert bad.stderr.strip().splitlines() == [
        "imurep: error: sample rate must be in [25, 400] Hz, got 1000.0"
    ]
    both = subprocess.run([*cmd, "--faults", "none"], capture_output=True, text=True, env=env)
    assert both.returncode == 2 and "--style draws the exercise and the faults" in both.stderr
