"""Tests of the IMU recording simulator :mod:`imurep.sim`: truth, physics, sensor, files."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from imurep.io.canonical import write_simulated
from imurep.model.codes import FAULTS
from imurep.model.units import STANDARD_GRAVITY_MPS2
from imurep.sim import SimRecording, SimSettings, simulate

G = STANDARD_GRAVITY_MPS2


def small(**kw: Any) -> SimSettings:
    """Two short sets (5-7 reps) with the given overrides."""
    return SimSettings(n_sets=2, reps_per_set=(5, 7), **kw)


@pytest.fixture(scope="module")
def ideal_hip() -> SimRecording:
    return simulate(small(seed=11, noise=False, fault_probability=0.3))


@pytest.fixture(scope="module")
def ideal_thigh() -> SimRecording:
    return simulate(small(seed=12, placement="thigh", noise=False, fault_probability=0.3))


@pytest.fixture(scope="module")
def noisy_hip() -> SimRecording:
    return simulate(small(seed=5, drop_probability=0.01))


@pytest.fixture(params=["hip", "thigh"])
def ideal(request: pytest.FixtureRequest, ideal_hip: SimRecording, ideal_thigh: SimRecording) -> SimRecording:
    return ideal_hip if request.param == "hip" else ideal_thigh


# --- helpers ---------------------------------------------------------------------------------


def _window(rec: SimRecording, a: float, b: float) -> np.ndarray:
    return np.flatnonzero((rec.t_s >= a) & (rec.t_s <= b))


def _still_windows(rec: SimRecording) -> list[tuple[dict[str, Any], np.ndarray]]:
    """Sample indices of the still start position of each set (before motion of rep 1 begins)."""
    out = []
    set_acts = [a for a in rec.truth["activities"] if a["kind"] == "set"]
    for s, act in zip(rec.truth["sets"], set_acts, strict=True):
        # motion of rep 1 begins at most 0.65 s before its start_s (profile tail below 5 % of ROM)
        idx = _window(rec, act["start_s"] + 0.02, s["reps"][0]["start_s"] - 0.7)
        if idx.size >= 5:
            out.append((s, idx))
    return out


def _theta_from_up(up_sensor: np.ndarray, mount_xyzw: list[float], placement: str) -> np.ndarray:
    """Sagittal angle (deg) from the 'up' direction expressed in the sensor frame."""
    z_seg_in_sensor = Rotation.from_quat(mount_xyzw).inv().apply([0.0, 0.0, 1.0])
    c = np.clip(up_sensor @ z_seg_in_sensor, -1, 1)
    return np.degrees(np.arcsin(-c if placement == "hip" else c))


def _integrate(rec: SimRecording, i0: int, times: list[float]) -> list[Rotation]:
    """Integrate the gyro from sample i0 (body frame, trapezoidal rate); rotations sensor(t)->sensor(t_i0)."""
    t, w = rec.t_s, rec.gyr_rads
    out = []
    for tq in times:
        k = int(np.searchsorted(t, tq, side="right")) - 1
        dts = np.diff(t[i0 : k + 1])
        wm = 0.5 * (w[i0:k] + w[i0 + 1 : k + 1])
        steps = Rotation.from_rotvec(wm * dts[:, None])
        r = Rotation.identity()
        for q in steps:  # tiny: a few hundred steps
            r = r * q
        frac = tq - t[k]
        w_end = w[k] + (w[k + 1] - w[k]) * frac / (t[k + 1] - t[k])
        r = r * Rotation.from_rotvec(0.5 * (w[k] + w_end) * frac)
        out.append(r)
    return out


# --- truth -----------------------------------------------------------------------------------


def test_truth_schema_and_rep_consistency(ideal: SimRecording) -> None:
    tr = ideal.truth
    json.dumps(tr)  # serialisable
    assert tr["schema"] == "imurep.truth/1"
    assert tr["sample_rate_hz"] == 104.0
    assert len(tr["sets"]) == 2
    hip = tr["placement"] == "hip"
    t_first, t_last = ideal.t_s[0], ideal.t_s[-1]
    for k, s in enumerate(tr["sets"], start=1):
        assert s["index"] == k
        assert s["side"] == ("left", "right")[(k - 1) % 2]
        assert 5 <= len(s["reps"]) <= 7
        assert len(s["mounting_quat_xyzw"]) == 4
        assert (s["baseline_tilt_deg"] is not None) == hip
        reps = s["reps"]
        assert s["start_s"] == reps[0]["start_s"] and s["end_s"] == reps[-1]["end_s"]
        med = float(np.median([r["rom_deg"] for r in reps]))
        prev_end = -math.inf
        for j, r in enumerate(reps, start=1):
            assert r["index"] == j
            assert t_first < prev_end <= r["start_s"] or (j == 1 and t_first < r["start_s"])
            assert r["start_s"] < r["top_start_s"] <= r["top_end_s"] < r["end_s"] < t_last
            assert r["concentric_s"] == pytest.approx(r["top_start_s"] - r["start_s"])
            assert r["top_hold_s"] == pytest.approx(r["top_end_s"] - r["top_start_s"])
            assert r["eccentric_s"] == pytest.approx(r["end_s"] - r["top_end_s"])
            assert r["rom_deg"] == pytest.approx(r["top_deg"] - r["bottom_deg"])
            assert 15.0 < r["rom_deg"] < 55.0
            assert -52.0 < r["bottom_deg"] < -25.0
            if "partial_rom" not in r["faults"]:
                assert -3.0 < r["top_deg"] < 6.0
            expected = []
            if hip and r["peak_tilt_deg"] > 5.0:
                expected.append("hip_tilt")
            if r["eccentric_s"] < 1.0:
                expected.append("rushed_lowering")
            if r["top_hold_s"] < 1.0:
                expected.append("short_hold")
            if r["rom_deg"] < 0.8 * med:
                expected.append("partial_rom")
            assert r["faults"] == [f for f in FAULTS if f in expected]
            assert r["faults"] == r["injected_faults"]
            assert (r["peak_tilt_deg"] is None) == (not hip)
            prev_end = r["end_s"]


def test_truth_is_unambiguous_and_faults_present() -> None:
    """Metrics keep a margin from the fault thresholds; every fault type shows up."""
    seen: set[str] = set()
    for seed in (21, 22):
        rec = simulate(
            SimSettings(
                seed=seed, noise=False, pre_activity=False, fault_probability=0.3, reps_per_set=(10, 12)
            )
        )
        for s in rec.truth["sets"]:
            med = float(np.median([r["rom_deg"] for r in s["reps"]]))
            n_partial = 0
            for r in s["reps"]:
                seen.update(r["faults"])
                assert not 0.8 < r["eccentric_s"] < 1.3
                assert not 0.75 < r["top_hold_s"] < 1.05
                assert not 2.5 < r["peak_tilt_deg"] < 6.5
                assert not 0.75 < r["rom_deg"] / med < 0.9
                assert r["rom_deg"] >= 0.55 * med  # partial reps still count as reps
                n_partial += "partial_rom" in r["faults"]
            assert n_partial <= 0.35 * len(s["reps"])
    assert seen == set(FAULTS)


def test_no_faults_when_disabled() -> None:
    rec = simulate(SimSettings(seed=4, noise=False, pre_activity=False, faults=(), n_sets=1))
    assert all(not r["faults"] for r in rec.truth["sets"][0]["reps"])


def test_activities(ideal: SimRecording) -> None:
    acts = ideal.truth["activities"]
    kinds = {a["kind"] for a in acts}
    assert {"walking", "standing", "transition", "set", "rest"} <= kinds
    assert kinds <= {"walking", "standing", "sitting", "transition", "set", "rest", "fidget"}
    prim = [a for a in acts if a["kind"] != "rest"]
    for a, b in zip(prim, prim[1:], strict=False):  # primitives tile the recording
        assert b["start_s"] == pytest.approx(a["end_s"], abs=1e-9)
    assert prim[0]["start_s"] == pytest.approx(ideal.t_s[0])
    sets = [a for a in acts if a["kind"] == "set"]
    for s, act in zip(ideal.truth["sets"], sets, strict=True):
        assert act["start_s"] < s["start_s"] and s["end_s"] < act["end_s"]
    rests = [a for a in acts if a["kind"] == "rest"]
    assert len(rests) == 1 and sets[0]["end_s"] <= rests[0]["start_s"] + 1e-9
    assert rests[0]["end_s"] == pytest.approx(sets[1]["start_s"])
    assert 30.0 <= rests[0]["end_s"] - rests[0]["start_s"] <= 100.0


# --- physics (ideal sensor) ------------------------------------------------------------------


def test_still_start_position_and_mounting(ideal: SimRecording) -> None:
    """Still start: |acc| = g, gyro = 0, gravity direction consistent with mounting, θ and tilt."""
    windows = _still_windows(ideal)
    assert windows
    for s, idx in windows:
        acc, gyr = ideal.acc_mps2[idx], ideal.gyr_rads[idx]
        assert np.allclose(np.linalg.norm(acc, axis=1), G, atol=1e-3)
        assert np.abs(gyr).max() < 1e-4
        up_s = acc.mean(axis=0) / G
        up_seg = Rotation.from_quat(s["mounting_quat_xyzw"]).apply(up_s)
        theta_b = s["reps"][0]["bottom_deg"]
        sign = -1.0 if ideal.truth["placement"] == "hip" else 1.0
        assert up_seg[2] == pytest.approx(sign * math.sin(math.radians(theta_b)), abs=1e-4)
        assert up_seg[1] > 0.5  # lying on the back: anterior axis points up
        if s["baseline_tilt_deg"] is not None:
            assert up_seg[0] == pytest.approx(math.sin(math.radians(s["baseline_tilt_deg"])), abs=1e-4)


def test_gyro_integration_reproduces_truth(ideal: SimRecording) -> None:
    """Integrating the gyro from the still start reproduces θ at the truth phase boundaries."""
    placement = ideal.truth["placement"]
    for s, idx in _still_windows(ideal):
        i0 = int(idx[-1])
        up0 = ideal.acc_mps2[i0] / np.linalg.norm(ideal.acc_mps2[i0])
        theta0 = float(_theta_from_up(up0, s["mounting_quat_xyzw"], placement))
        reps = s["reps"]
        assert theta0 == pytest.approx(reps[0]["bottom_deg"], abs=1e-3)
        checks: list[tuple[float, float]] = []
        for r in reps[:3]:
            lo = r["bottom_deg"] + 0.05 * r["rom_deg"]
            hi = r["top_deg"] - 0.05 * r["rom_deg"]
            # the rep starts at the movement's onset and ends where it stops: between the bottom
            # and the 5 % level; the squeeze is bounded by the 5 % level under the top
            checks += [
                (r["start_s"], r["bottom_deg"], lo),
                (r["top_start_s"], hi, hi),
                (r["top_end_s"], hi, hi),
                (r["end_s"], r["bottom_deg"] - 0.05 * r["rom_deg"], lo),  # may settle a little deeper
            ]
        rots = _integrate(ideal, i0, [c[0] for c in checks])
        for (_, a, b), rot in zip(checks, rots, strict=True):
            up_t = rot.inv().apply(up0)
            theta = float(_theta_from_up(up_t, s["mounting_quat_xyzw"], placement))
            assert min(a, b) - 0.1 <= theta <= max(a, b) + 0.1  # observed error ~0.01 deg
        # the peak: ROM within 0.5 deg
        r = reps[0]
        ts = np.linspace(r["top_start_s"], r["top_end_s"], 25).tolist()
        thetas = [
            float(_theta_from_up(q.inv().apply(up0), s["mounting_quat_xyzw"], placement))
            for q in _integrate(ideal, i0, ts)
        ]
        assert max(thetas) - theta0 == pytest.approx(r["rom_deg"], abs=0.5)


def test_tilt_reps_visible_in_gravity() -> None:
    """Hip tilt: the sensor's gravity direction at the top reflects the ML-axis elevation."""
    rec = simulate(
        SimSettings(
            seed=8,
            noise=False,
            pre_activity=False,
            faults=("hip_tilt",),
            fault_probability=0.35,
            n_sets=1,
            reps_per_set=(10, 10),
        )
    )
    s = rec.truth["sets"][0]
    m = Rotation.from_quat(s["mounting_quat_xyzw"])
    tilted = [r for r in s["reps"] if "hip_tilt" in r["faults"]]
    assert tilted
    for r in s["reps"]:
        idx = _window(rec, r["top_start_s"] + 0.05, r["top_end_s"] - 0.05)
        if idx.size < 3:
            continue
        up_seg = m.apply(rec.acc_mps2[idx] / np.linalg.norm(rec.acc_mps2[idx], axis=1)[:, None])
        tilt = np.degrees(np.arcsin(up_seg[:, 0])) - s["baseline_tilt_deg"]
        assert np.abs(tilt).max() <= r["peak_tilt_deg"] + 0.2
        if "hip_tilt" in r["faults"]:
            assert np.abs(tilt).max() > 5.0


def test_walking_has_gait_signal(ideal_hip: SimRecording) -> None:
    walk = max(
        (a for a in ideal_hip.truth["activities"] if a["kind"] == "walking"),
        key=lambda a: a["end_s"] - a["start_s"],
    )
    idx = _window(ideal_hip, walk["start_s"] + 2.0, walk["end_s"] - 2.0)
    norm = np.linalg.norm(ideal_hip.acc_mps2[idx], axis=1)
    assert norm.std() > 1.0 and norm.max() > G + 3.0
    x = norm - norm.mean()
    spec = np.abs(np.fft.rfft(x))
    freqs = np.fft.rfftfreq(x.size, 1.0 / 104.0)
    band = (freqs > 1.0) & (freqs < 2.5)
    assert 1.6 < freqs[band][np.argmax(spec[band])] < 2.1  # step frequency


def test_thigh_restrapped_on_side_change(ideal_thigh: SimRecording) -> None:
    s1, s2 = ideal_thigh.truth["sets"]
    assert (s1["side"], s2["side"]) == ("left", "right")
    assert not np.allclose(s1["mounting_quat_xyzw"], s2["mounting_quat_xyzw"])
    assert ideal_thigh.metadata["sides"] == ["left", "right"] and ideal_thigh.metadata["side"] == "left"
    same = simulate(small(seed=12, placement="thigh", noise=False, sides=("left",)))
    q = [s["mounting_quat_xyzw"] for s in same.truth["sets"]]
    assert np.allclose(q[0], q[1])


@pytest.mark.parametrize("rate", [50.0, 1000.0])
def test_sample_rates(rate: float) -> None:
    rec = simulate(
        SimSettings(
            seed=2, sample_rate_hz=rate, noise=False, pre_activity=False, n_sets=1, reps_per_set=(3, 3)
        )
    )
    dt = np.diff(rec.t_s)
    assert np.allclose(dt, 1.0 / rate, rtol=1e-9)
    assert rec.truth["sample_rate_hz"] == rate == rec.metadata["sample_rate_hz"]
    windows = _still_windows(rec)
    assert windows
    idx = windows[0][1]
    assert np.allclose(np.linalg.norm(rec.acc_mps2[idx], axis=1), G, atol=1e-3)
    assert len(rec.truth["sets"][0]["reps"]) == 3


# --- sensor imperfections --------------------------------------------------------------------


def test_noisy_timestamps_and_dropouts(noisy_hip: SimRecording) -> None:
    t = noisy_hip.t_s
    dt = np.diff(t)
    assert (dt > 0).all()
    period = np.median(dt)
    assert period == pytest.approx(1 / 104.0, rel=0.02)
    assert (dt > 4.5 * period).any()  # bursts of dropped samples
    assert (dt > 1.5 * period).sum() > 10
    assert dt.std() > 0.02 * period  # jitter
    assert np.isfinite(noisy_hip.acc_mps2).all() and np.isfinite(noisy_hip.gyr_rads).all()


def test_noise_levels(noisy_hip: SimRecording) -> None:
    """Still start: noise, bias and quantisation at the documented levels."""
    (s, idx), *_ = _still_windows(noisy_hip)
    acc, gyr = noisy_hip.acc_mps2[idx], noisy_hip.gyr_rads[idx]
    assert np.linalg.norm(acc.mean(axis=0)) == pytest.approx(G, rel=0.03)
    assert 0.02 < acc.std(axis=0).mean() < 0.2
    assert 0.004 < gyr.std(axis=0).mean() < 0.05
    assert np.abs(gyr.mean(axis=0)).max() < math.radians(4.0)
    lsb = 32.0 * G / 65536.0
    assert np.allclose(acc / lsb, np.round(acc / lsb), atol=1e-6)


def test_determinism_and_seeds() -> None:
    def cfg(seed: int, **kw: Any) -> SimSettings:
        return SimSettings(seed=seed, n_sets=1, reps_per_set=(4, 5), pre_activity=False, **kw)

    a, b, c = simulate(cfg(7)), simulate(cfg(7)), simulate(cfg(8))
    assert np.array_equal(a.t_s, b.t_s) and np.array_equal(a.acc_mps2, b.acc_mps2)
    assert np.array_equal(a.gyr_rads, b.gyr_rads)
    assert a.truth == b.truth and a.metadata == b.metadata
    assert a.truth != c.truth
    assert a.t_s.shape != c.t_s.shape or not np.allclose(a.acc_mps2, c.acc_mps2)
    fixed = simulate(cfg(7, t0_s=100.0))
    assert fixed.truth["t0_s"] == 100.0 and fixed.t_s[0] == pytest.approx(100.0, abs=0.01)


# --- files -----------------------------------------------------------------------------------


def test_write_recording_roundtrip(noisy_hip: SimRecording, tmp_path: Path) -> None:
    path = tmp_path / "sub" / "rec.csv"
    write_simulated(noisy_hip, path)
    with path.open(newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["t", "ax", "ay", "az", "gx", "gy", "gz"]
    data = np.array(rows[1:], dtype=float)
    assert data.shape == (noisy_hip.t_s.size, 7)
    assert np.allclose(data[:, 0], noisy_hip.t_s, atol=6e-7, rtol=0)
    assert (np.diff(data[:, 0]) > 0).all()
    assert np.allclose(data[:, 1:4], noisy_hip.acc_mps2, rtol=1e-7, atol=1e-9)
    assert np.allclose(data[:, 4:7], noisy_hip.gyr_rads, rtol=1e-7, atol=1e-9)
    meta = json.loads((tmp_path / "sub" / "rec.json").read_text())
    truth = json.loads((tmp_path / "sub" / "rec.truth.json").read_text())
    assert meta == noisy_hip.metadata and truth == noisy_hip.truth
    assert meta["device"] == "imurep.sim" and meta["simulated"] is True and meta["seed"] == 5
