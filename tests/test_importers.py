"""Importers of other recording formats, the timeline merge, unit detection and bad input.

Real exports are read from ``../shared/data`` beside the repository (never copied into it: no
licence); those tests are skipped when the folder is absent.
"""

from __future__ import annotations

import json
import logging
import math
import os
import subprocess
import sys
import tracemalloc
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imurep.io import detect_format, load_recording, open_recording
from imurep.io.merge import clean_times, interpolate, make_stream, merge_pair, spread_packets
from imurep.io.units import G, check_units
from imurep.model.errors import DataValidationError
from imurep.model.samples import FloatArray

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def real(*parts: str) -> Path:
    path = DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"real data not available: {path}")
    return path


def error_of(path: Path, fmt: str | None = None) -> str:
    with pytest.raises(DataValidationError) as info:
        load_recording(path, fmt)
    message = str(info.value)
    assert "\n" not in message
    return message


def at_rest(acc: FloatArray, gyr: FloatArray) -> np.ndarray:
    """Samples where the sensor is nearly still (gyro below 0.05 rad/s)."""
    return np.asarray(np.linalg.norm(gyr, axis=1) < 0.05)


def check_sane(rec_t: FloatArray, acc: FloatArray, gyr: FloatArray) -> None:
    assert np.all(np.diff(rec_t) > 0)
    assert np.isfinite(acc).all() and np.isfinite(gyr).all()
    assert 9.0 < float(np.median(np.linalg.norm(acc, axis=1))) < 10.8
    still = at_rest(acc, gyr)
    if still.sum() > 10:
        assert float(np.median(np.linalg.norm(acc[still], axis=1))) == pytest.approx(9.81, abs=0.35)
    assert float(np.percentile(np.linalg.norm(gyr, axis=1), 99)) < 15.0  # rad/s, not deg/s


# --- synthetic writers -------------------------------------------------------------------------


def motion(t: FloatArray) -> tuple[FloatArray, FloatArray]:
    """A sensor rocking about x: specific force (m/s², +z up at rest) and rate (rad/s)."""
    angle = 0.4 * np.sin(2 * np.pi * 0.5 * t)
    rate = 0.4 * 2 * np.pi * 0.5 * np.cos(2 * np.pi * 0.5 * t)
    acc = np.column_stack([np.zeros_like(t), G * np.sin(angle), G * np.cos(angle)])
    gyr = np.column_stack([rate, np.zeros_like(t), np.zeros_like(t)])
    return acc, gyr


def write_metabase(
    folder: Path, seconds: float = 10.0, acc_hz: float = 12.5, gyr_hz: float = 25.0, packed: int = 1
) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    stem = "S1_MetaWear_2019-01-15T20.04.08.637_C42732BE255C"
    paths = []
    for sensor, rate, unit in (("Accelerometer", acc_hz, "g"), ("Gyroscope", gyr_hz, "deg/s")):
        t = np.arange(0, seconds, 1 / rate)
        acc, gyr = motion(t)
        vals = acc / G if sensor == "Accelerometer" else np.degrees(gyr)
        epoch = 1547579048841 + np.round(t * 1000)
        if packed > 1:
            epoch = epoch[(np.arange(len(t)) // packed) * packed]
        lines = [f"epoch (ms),time (01:00),elapsed (s),x-axis ({unit}),y-axis ({unit}),z-axis ({unit})"]
        lines += [
            f"{int(e)},2019-01-15T20:04:08.000,{(e - epoch[0]) / 1000:.3f},{v[0]:.5f},{v[1]:.5f},{v[2]:.5f}"
            for e, v in zip(epoch, vals, strict=True)
        ]
        path = folder / f"{stem}_{sensor}_{rate:.3f}Hz_1.4.4.csv"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        paths.append(path)
    return paths[0], paths[1]


def write_phyphox(folder: Path, seconds: float = 6.0, sep: str = ",", decimal: str = ".") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, unit in (("Accelerometer", "m/s^2"), ("Gyroscope", "rad/s")):
        t = np.arange(0.005, seconds, 0.01)
        acc, gyr = motion(t)
        vals = acc if name == "Accelerometer" else gyr
        cols = ["Time (s)", f"X ({unit})", f"Y ({unit})", f"Z ({unit})"]
        lines = [sep.join(f'"{c}"' for c in cols)]
        for ti, v in zip(t, vals, strict=True):
            cells = [f"{x:.9E}".replace(".", decimal) for x in (ti, *v)]
            lines.append(sep.join(cells))
        (folder / f"{name}.csv").write_text("\n".join(lines), encoding="utf-8")
    return folder


def write_sensor_logger(folder: Path, platform: str = "android", seconds: float = 6.0) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    t = np.arange(0, seconds, 0.01)
    acc, gyr = motion(t)
    grav = acc.copy()  # no linear acceleration in this motion model
    lin = acc - grav + 0.01
    if platform == "ios":  # Core Motion convention: gravity points down, user acceleration likewise
        grav, lin = -grav, -lin
    t_ns = 1667581571396870000 + np.round(t * 1e9).astype(np.int64)
    for name, vals in (("Accelerometer", lin), ("Gravity", grav), ("Gyroscope", gyr)):
        lines = ["time,seconds_elapsed,z,y,x"]
        lines += [
            f"{tn},{ti:.6f},{float(v[2])!r},{float(v[1])!r},{float(v[0])!r}"
            for tn, ti, v in zip(t_ns, t, vals, strict=True)
        ]
        (folder / f"{name}.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (folder / "Metadata.csv").write_text(
        f"version,device name,recording time,platform,appVersion\n3,Test,2022-11-04_17-06-11,{platform},1.11",
        encoding="utf-8",
    )
    return folder


def write_physics_toolbox(path: Path, seconds: float = 6.0) -> Path:
    rows = ["", "time,gFx,gFy,gFz,ax,ay,az,wx,wy,wz,"]
    t_acc = np.arange(0.01, seconds, 0.01)
    t_gyr = np.arange(0.015, seconds, 0.02)
    events = sorted([(t, "a") for t in t_acc] + [(t, "g") for t in t_gyr])
    gf = np.zeros(3)
    w = np.zeros(3)
    for t, kind in events:
        acc, gyr = motion(np.array([t]))
        if kind == "a":
            gf = acc[0] / G
        else:
            w = gyr[0]
        rows.append(
            f"{t:.6f},{gf[0]:.4f},{gf[1]:.4f},{gf[2]:.4f},0.0000,0.0000,0.0000,{w[0]:.4f},{w[1]:.4f},{w[2]:.4f},"
        )
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def write_canonical(path: Path, acc: FloatArray, gyr: FloatArray, t: FloatArray) -> Path:
    data = np.column_stack([t, acc, gyr])
    np.savetxt(path, data, delimiter=",", header="t,ax,ay,az,gx,gy,gz", comments="", fmt="%.6f")
    return path


# --- real exports ------------------------------------------------------------------------------


def test_metabase_real_folder_25hz() -> None:
    folder = real("metabase", "android_metabase_25Hz_acc_gyro")
    assert detect_format(folder) == "metabase"
    rec = load_recording(folder)
    assert rec.metadata["format"] == "metabase"
    # 8670 accelerometer / 8676 gyroscope rows in 3-sample packets, spread onto 25 Hz.
    assert 8600 <= len(rec) <= 8676
    assert rec.sample_rate_hz == pytest.approx(25.0, rel=0.02)
    assert rec.duration_s == pytest.approx(345.4, abs=0.5)
    assert rec.metadata["file_units"] == {"accelerometer": "g", "gyroscope": "deg/s"}
    check_sane(rec.t_s, rec.acc_mps2, rec.gyr_rads)
    assert rec.metadata["gyro_acc_consistency"] > 0.5  # gyro and accelerometer share axes


def test_metabase_real_pair_from_either_file_12_5_and_25hz() -> None:
    folder = real("metawear-barbell")
    acc_file = next(folder.glob("A-rest-sitting_*_Accelerometer_12.500Hz_1.4.4.csv"))
    gyr_file = next(folder.glob("A-rest-sitting_*_Gyroscope_25.000Hz_1.4.4.csv"))
    a = load_recording(acc_file)
    b = load_recording(gyr_file)
    np.testing.assert_array_equal(a.t_s, b.t_s)
    assert a.metadata["merge"]["timeline"] == "gyroscope"
    assert a.sample_rate_hz == pytest.approx(25.0, rel=0.01)
    assert 840 <= len(a) <= 856  # 856 gyro rows, a few outside the accelerometer's span dropped
    check_sane(a.t_s, a.acc_mps2, a.gyr_rads)


def test_metabase_real_folder_with_many_recordings_is_refused() -> None:
    msg = error_of(real("metawear-barbell"))
    assert "MetaBase recordings" in msg and "pass one of the files" in msg


def test_phyphox_real_ios_semicolon_acc_gyro() -> None:
    folder = real("phyphox", "ios_simple_experiment_acc_gyro_semicolon")
    assert detect_format(folder) == "phyphox"
    rec = load_recording(folder)
    assert rec.metadata["format"] == "phyphox"
    assert rec.metadata["device"] == "iPhone13,4"
    assert 3500 <= len(rec) <= 3560
    assert rec.sample_rate_hz == pytest.approx(100.0, rel=0.03)
    check_sane(rec.t_s, rec.acc_mps2, rec.gyr_rads)
    # The phone starts lying flat, screen up: +z up, +9.8 m/s² (phyphox uses Android's sign on iOS).
    assert rec.acc_mps2[:100, 2].mean() == pytest.approx(9.85, abs=0.2)
    assert rec.metadata["gyro_acc_consistency"] == pytest.approx(1.0, abs=0.2)
    # Either file of the folder gives the same recording.
    again = load_recording(folder / "Gyroscope.csv")
    np.testing.assert_array_equal(again.t_s, rec.t_s)


@pytest.mark.parametrize(
    "parts",
    [
        ("phyphox", "android_acceleration_without_g_walk"),
        ("phyphox", "android_acceleration_without_g_walk", "walk.csv"),
        ("phyphox", "ios_acceleration_without_g_pocket", "Raw Data.csv"),
    ],
)
def test_phyphox_real_without_g_is_refused_clearly(parts: tuple[str, ...]) -> None:
    msg = error_of(real(*parts))
    assert "Linear Acceleration" in msg and "without g" in msg
    assert "tilt cannot be recovered" in msg


def test_sensor_logger_real_android_total_acceleration() -> None:
    folder = real("sensor_logger", "android_v1.28_csv_folder")
    assert detect_format(folder) == "sensor_logger"
    assert detect_format(folder / "Gyroscope.csv") == "sensor_logger"
    rec = load_recording(folder)
    assert rec.metadata["format"] == "sensor_logger"
    assert rec.metadata["platform"] == "android"
    assert rec.metadata["specific_force"] == "TotalAcceleration"
    assert 11900 <= len(rec) <= 12050
    assert rec.duration_s == pytest.approx(202.9, abs=0.5)
    check_sane(rec.t_s, rec.acc_mps2, rec.gyr_rads)


def test_sensor_logger_real_android_linear_plus_gravity_matches_total(tmp_path: Path) -> None:
    folder = real("sensor_logger", "android_v1.28_csv_folder")
    copy = tmp_path / "export"
    copy.mkdir()
    for name in ("Accelerometer.csv", "Gravity.csv", "Gyroscope.csv", "Metadata.csv"):
        (copy / name).write_bytes((folder / name).read_bytes())
    rebuilt = load_recording(copy)  # no TotalAcceleration.csv: Accelerometer + Gravity
    total = load_recording(folder)
    assert rebuilt.metadata["specific_force"] == "Accelerometer + Gravity"
    acc_total = np.column_stack([np.interp(rebuilt.t_s, total.t_s, total.acc_mps2[:, i]) for i in range(3)])
    inside = (rebuilt.t_s > total.t_s[0] + 1) & (rebuilt.t_s < total.t_s[-1] - 1)
    diff = np.median(np.abs(rebuilt.acc_mps2[inside] - acc_total[inside]), axis=0)
    assert (diff < 0.3).all(), diff  # same sign and scale (the two use different sensor clocks)


def test_sensor_logger_real_ios_folder_squats() -> None:
    folder = real("sensor_logger", "ios_v1.11_squats")
    rec = load_recording(folder)
    assert rec.metadata["platform"] == "ios"
    assert rec.metadata["specific_force"] == "-(Accelerometer + Gravity)"
    assert len(rec) == 10910
    assert rec.sample_rate_hz == pytest.approx(100.0, rel=0.02)
    check_sane(rec.t_s, rec.acc_mps2, rec.gyr_rads)
    # Gravity.csv reads ≈ (-0.2, -8.6, -4.5) (pointing down); the specific force points up.
    assert np.median(rec.acc_mps2[:, 1]) > 7.0


def test_sensor_logger_real_ios_zip_sign_matches_raw_accelerometer() -> None:
    archive = next(real("sensor_logger", "ios_v1.10.4_zip").glob("*.zip"))
    assert detect_format(archive) == "sensor_logger"
    rec = load_recording(archive)
    assert rec.metadata["platform"] == "ios"
    check_sane(rec.t_s, rec.acc_mps2, rec.gyr_rads)
    # AccelerometerUncalibrated is Core Motion's raw accelerometer in g (-1 g on the up axis):
    # the rebuilt specific force must equal -raw × g.
    with zipfile.ZipFile(archive) as zf, zf.open("AccelerometerUncalibrated.csv") as fh:
        raw = np.genfromtxt(fh, delimiter=",", names=True)
    t0 = rec.metadata["start_epoch_s"]
    t_raw = raw["time"] / 1e9 - t0
    expect = np.column_stack([np.interp(rec.t_s, t_raw, -raw[c] * G) for c in "xyz"])
    np.testing.assert_allclose(rec.acc_mps2[10:-10], expect[10:-10], atol=0.05)
    assert np.median(rec.acc_mps2[:, 2]) > 9.0  # mostly lying screen up: +z up


def test_physics_toolbox_real_multi_record() -> None:
    path = next(real("physics_toolbox", "multi_record_gforce_linacc_gyro").glob("*.csv"))
    assert detect_format(path) == "physics_toolbox"
    rec = load_recording(path)
    assert rec.metadata["format"] == "physics_toolbox"
    events = rec.metadata["events"]
    assert events["rows"] == 5354
    assert 2400 <= events["accelerometer"] <= 2600 and 1000 <= events["gyroscope"] <= 1100
    assert rec.duration_s == pytest.approx(71.5, abs=0.5)
    assert np.all(np.diff(rec.t_s) > 0)
    # A vigorous arm gesture: at rest the g-force meter reads 1 g.
    still = at_rest(rec.acc_mps2, rec.gyr_rads)
    assert float(np.median(np.linalg.norm(rec.acc_mps2[still], axis=1))) == pytest.approx(9.81, abs=0.5)


def test_cli_analyze_metabase_folder_json() -> None:
    folder = real("metabase", "android_metabase_25Hz_acc_gyro")
    env = {**os.environ, "NO_COLOR": "1", "PYTHONWARNINGS": "ignore"}
    proc = subprocess.run(
        [sys.executable, "-m", "imurep", "analyze", str(folder), "--json", "-"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["metadata"]["format"] == "metabase"
    assert doc["quality"]["n_samples"] > 8000
    assert isinstance(doc["sets"], list)


def test_cli_refuses_without_g_with_exit_2() -> None:
    folder = real("phyphox", "android_acceleration_without_g_walk")
    proc = subprocess.run(
        [sys.executable, "-m", "imurep", "analyze", str(folder), "--format", "phyphox"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert "Linear Acceleration" in proc.stderr


# --- synthetic exports -------------------------------------------------------------------------


def test_metabase_synthetic_units_and_rates(tmp_path: Path) -> None:
    acc_file, gyr_file = write_metabase(tmp_path / "mb")
    rec = load_recording(tmp_path / "mb")
    t = rec.t_s
    acc, gyr = motion(t)
    np.testing.assert_allclose(rec.gyr_rads, gyr, atol=1e-4)
    np.testing.assert_allclose(rec.acc_mps2, acc, atol=0.15)  # 12.5 Hz linearly interpolated
    assert rec.sample_rate_hz == pytest.approx(25.0)
    assert "conversions" not in rec.metadata  # units came from the header


def test_metabase_packed_timestamps_are_spread(tmp_path: Path) -> None:
    write_metabase(tmp_path / "mb", acc_hz=25.0, packed=3)
    rec = load_recording(tmp_path / "mb")
    assert np.all(np.diff(rec.t_s) > 0)
    assert rec.sample_rate_hz == pytest.approx(25.0, rel=0.01)


def test_metabase_missing_partner(tmp_path: Path) -> None:
    acc_file, gyr_file = write_metabase(tmp_path / "mb")
    gyr_file.unlink()
    msg = error_of(acc_file)
    assert "no gyroscope file found" in msg and "_Gyroscope_" in msg


def test_metabase_zip(tmp_path: Path) -> None:
    acc_file, gyr_file = write_metabase(tmp_path / "mb")
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(acc_file, acc_file.name)
        zf.write(gyr_file, gyr_file.name)
    assert detect_format(archive) == "metabase"
    assert len(load_recording(archive)) == len(load_recording(tmp_path / "mb"))


@pytest.mark.parametrize(("sep", "decimal"), [(",", "."), (";", "."), ("\t", "."), (";", ",")])
def test_phyphox_separators_and_decimal_comma(tmp_path: Path, sep: str, decimal: str) -> None:
    folder = write_phyphox(tmp_path / "ph", sep=sep, decimal=decimal)
    rec = load_recording(folder)
    assert rec.metadata["format"] == "phyphox"
    acc, gyr = motion(rec.t_s)
    np.testing.assert_allclose(rec.acc_mps2, acc, atol=1e-6)
    np.testing.assert_allclose(rec.gyr_rads, gyr, atol=1e-6)


def test_phyphox_zip(tmp_path: Path) -> None:
    folder = write_phyphox(tmp_path / "ph")
    archive = tmp_path / "phyphox export.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for f in folder.iterdir():
            zf.write(f, f.name)
    assert detect_format(archive) == "phyphox"
    np.testing.assert_array_equal(load_recording(archive).t_s, load_recording(folder).t_s)


def test_phyphox_accelerometer_without_gyroscope(tmp_path: Path) -> None:
    folder = write_phyphox(tmp_path / "ph")
    (folder / "Gyroscope.csv").unlink()
    msg = error_of(folder)
    assert "no gyroscope" in msg and "Accelerometer.csv" in msg


@pytest.mark.parametrize("platform", ["android", "ios"])
def test_sensor_logger_signs(tmp_path: Path, platform: str) -> None:
    rec = load_recording(write_sensor_logger(tmp_path / "sl", platform))
    acc, _ = motion(rec.t_s)
    # Android: linear + gravity; iOS: -(user + gravity); both give +9.81 up.
    np.testing.assert_allclose(rec.acc_mps2, acc + 0.01, atol=1e-5)  # ns times as float64
    assert rec.metadata["platform"] == platform


def test_sensor_logger_without_gravity_or_metadata(tmp_path: Path) -> None:
    folder = write_sensor_logger(tmp_path / "sl", "ios")
    (folder / "Metadata.csv").unlink()
    assert "cannot tell whether" in error_of(folder)
    folder = write_sensor_logger(tmp_path / "sl2", "ios")
    (folder / "Gravity.csv").unlink()
    msg = error_of(folder)
    assert "holds no Gravity.csv" in msg and "gravity" in msg
    (folder / "Gyroscope.csv").unlink()
    assert "holds no Gyroscope.csv" in error_of(folder)


def test_physics_toolbox_synthetic(tmp_path: Path) -> None:
    rec = load_recording(write_physics_toolbox(tmp_path / "pt.csv"))
    acc, gyr = motion(rec.t_s)
    np.testing.assert_allclose(rec.acc_mps2, acc, atol=0.01)
    np.testing.assert_allclose(rec.gyr_rads, gyr, atol=0.02)  # 50 Hz gyro interpolated at 100 Hz


def test_physics_toolbox_linear_only_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "pt.csv"
    path.write_text("time,ax,ay,az,wx,wy,wz\n0.1,0,0,0.1,0,0,0\n", encoding="utf-8")
    msg = error_of(path, "physics_toolbox")
    assert "no g-force columns" in msg and "linear accelerometer" in msg


# --- merge ------------------------------------------------------------------------------------


def test_merge_sines_at_25_and_12_5_hz() -> None:
    t_fast = np.arange(0, 10, 1 / 25)
    t_slow = np.arange(0.02, 10, 1 / 12.5)
    f = 0.7

    def sig(t: FloatArray) -> FloatArray:
        return np.column_stack([np.sin(2 * np.pi * f * t), np.cos(2 * np.pi * f * t), t])

    slow = make_stream("accelerometer", "a.csv", t_slow, sig(t_slow))
    fast = make_stream("gyroscope", "g.csv", t_fast, sig(t_fast) * 2)
    t, a, g, info = merge_pair(slow, fast)
    assert info.timeline == "gyroscope" and info.interpolated == "accelerometer"
    # No extrapolation: the gyroscope's samples before 0.02 s and after the last slow one are dropped.
    assert t[0] >= t_slow[0] and t[-1] <= t_slow[-1]
    assert info.dropped == len(t_fast) - len(t)
    np.testing.assert_array_equal(g, sig(t) * 2)
    # Linear interpolation of a 0.7 Hz sine sampled at 12.5 Hz: error ≤ (ωΔt)²/8 ≈ 0.0155.
    np.testing.assert_allclose(a, sig(t), atol=0.0155)
    np.testing.assert_allclose(a[:, 2], t, atol=1e-12)  # a linear signal is reproduced exactly


def test_merge_does_not_bridge_gaps() -> None:
    t_slow = np.r_[np.arange(0, 4, 0.08), np.arange(6, 10, 0.08)]  # 2 s gap
    slow = make_stream("accelerometer", "a.csv", t_slow, np.ones((len(t_slow), 3)))
    t_fast = np.arange(0, 10, 0.04)
    vals, valid = interpolate(slow, t_fast)
    in_gap = (t_fast > 3.93) & (t_fast < 6)
    assert not valid[in_gap].any()
    assert valid[~in_gap & (t_fast <= t_slow[-1])].all()
    assert np.isnan(vals[in_gap]).all()


def test_spread_packets() -> None:
    t = np.array([0.0, 0.0, 0.0, 0.12, 0.12, 0.12, 0.24, 0.24, 0.24])
    s = spread_packets(make_stream("x", "f", t, np.zeros((9, 3))), 0.04)
    np.testing.assert_allclose(s.t_s, np.arange(9) * 0.04)


def test_clean_times_repairs_jitter_and_refuses_resets(caplog: pytest.LogCaptureFixture) -> None:
    t = np.arange(0, 10, 0.01)
    t[500], t[501] = t[501], t[500]  # one swapped pair: jitter, repaired
    s = make_stream("gyroscope", "g.csv", t, np.arange(3000.0).reshape(1000, 3))
    with caplog.at_level(logging.WARNING):
        fixed = clean_times(s)
    assert np.all(np.diff(fixed.t_s) > 0) and len(fixed) == 1000
    assert "repaired by sorting" in caplog.text
    t2 = np.r_[np.arange(0, 5, 0.01), np.arange(0, 5, 0.01)]  # clock reset: refused
    with pytest.raises(DataValidationError, match=r"g\.csv, row 501: gyroscope timestamp 0\.0 goes back"):
        clean_times(make_stream("gyroscope", "g.csv", t2, np.zeros((1000, 3))))


# --- units -------------------------------------------------------------------------------------


def test_canonical_in_g_and_deg_s_is_converted(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    t = np.arange(0, 20, 0.01)
    acc, gyr = motion(t)
    path = write_canonical(tmp_path / "rec.csv", acc / G, np.degrees(gyr), t)
    with caplog.at_level(logging.WARNING):
        rec = load_recording(path)
    np.testing.assert_allclose(rec.acc_mps2, acc, atol=1e-4)
    np.testing.assert_allclose(rec.gyr_rads, gyr, atol=1e-4)
    assert "converted from g to m/s²" in caplog.text and "converted from deg/s to rad/s" in caplog.text
    assert rec.metadata["format"] == "canonical" and len(rec.metadata["conversions"]) == 2
    # Streaming gives the same converted data.
    stream = open_recording(path, chunk_rows=100)
    np.testing.assert_allclose(np.concatenate([c.gyr_rads for c in stream.chunks]), gyr, atol=1e-4)


def test_slow_rotation_in_deg_s_detected_by_kinematics() -> None:
    t = np.arange(0, 20, 0.01)
    acc, gyr = motion(t)  # peak 1.26 rad/s = 72 °/s: below the "implausible" threshold in °/s
    units = check_units(t, acc, np.degrees(gyr), "x.csv")
    assert units.gyr_scale == pytest.approx(math.pi / 180)
    assert check_units(t, acc, gyr, "x.csv").gyr_scale == 1.0


def test_still_deg_s_noise_detected() -> None:
    rng = np.random.default_rng(1)
    t = np.arange(0, 20, 0.01)
    acc = np.tile([0.0, 0.0, G], (len(t), 1)) + rng.normal(0, 0.02, (len(t), 3))
    gyr_deg = rng.normal(0, 0.8, (len(t), 3)) + [1.5, -0.7, 0.4]  # bias of a few °/s
    assert check_units(t, acc, gyr_deg, "x.csv").gyr_scale == pytest.approx(math.pi / 180)
    assert check_units(t, acc, np.radians(gyr_deg), "x.csv").gyr_scale == 1.0


def test_linear_acceleration_in_canonical_is_refused(tmp_path: Path) -> None:
    t = np.arange(0, 20, 0.01)
    rng = np.random.default_rng(2)
    path = write_canonical(tmp_path / "rec.csv", rng.normal(0, 0.1, (len(t), 3)), np.zeros((len(t), 3)), t)
    msg = error_of(path)
    assert "gravity-free linear acceleration" in msg and str(path) in msg


# --- bad input ---------------------------------------------------------------------------------


def test_bad_vendor_cells_name_file_row_and_column(tmp_path: Path) -> None:
    folder = write_phyphox(tmp_path / "ph")
    gyr = folder / "Gyroscope.csv"
    lines = gyr.read_text(encoding="utf-8").splitlines()
    lines[42] = lines[42].replace(",", ",oops", 1)
    gyr.write_text("\n".join(lines), encoding="utf-8")
    msg = error_of(folder)
    assert "Gyroscope.csv, row 42, column 'X (rad/s)'" in msg and "is not a number" in msg
    cells = lines[42].replace("oops", "").split(",")
    cells[1] = "nan"
    lines[42] = ",".join(cells)
    gyr.write_text("\n".join(lines), encoding="utf-8")
    msg = error_of(folder)
    assert "row 42" in msg and "NaN" in msg


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b"", "file is empty"),
        (b"\x00\x01\x02binary\xff" * 50, "binary"),
        (b"time,seconds_elapsed,z,y,x\n", "no data rows"),
    ],
)
def test_bad_sensor_logger_files(tmp_path: Path, content: bytes, fragment: str) -> None:
    folder = write_sensor_logger(tmp_path / "sl", "android")
    (folder / "Gyroscope.csv").write_bytes(content)
    msg = error_of(folder, "sensor_logger")
    assert fragment in msg and "Gyroscope.csv" in msg


def test_misspelled_vendor_column(tmp_path: Path) -> None:
    acc_file, gyr_file = write_metabase(tmp_path / "mb")
    text = gyr_file.read_text(encoding="utf-8").replace("epoch (ms)", "epoc (ms)", 1)
    gyr_file.write_text(text, encoding="utf-8")
    msg = error_of(acc_file)
    assert "missing the 'epoch (ms)' column" in msg and "found header: epoc (ms)" in msg


def test_too_short_vendor_recording(tmp_path: Path) -> None:
    folder = write_phyphox(tmp_path / "ph", seconds=1.0)
    assert "at least 2 s are needed" in error_of(folder)


def test_spreadsheet_and_wrong_extension(tmp_path: Path) -> None:
    xlsx = tmp_path / "rec.xlsx"
    with zipfile.ZipFile(xlsx, "w") as zf:
        zf.writestr("[Content_Types].xml", "<xml/>")
        zf.writestr("xl/workbook.xml", "<xml/>")
    assert "spreadsheet" in error_of(xlsx)
    # A canonical CSV with another extension is read by its content.
    t = np.arange(0, 5, 0.01)
    acc, gyr = motion(t)
    txt = write_canonical(tmp_path / "rec.txt", acc, gyr, t)
    assert load_recording(txt).metadata["format"] == "canonical"
    assert "unknown format 'csv'" in error_of(txt, "csv")


def test_canonical_streaming_memory_is_bounded(tmp_path: Path) -> None:
    """600k rows (≈ 40 MB of text, 34 MB as arrays) stream in chunks with a small peak."""
    n = 600_000
    t = np.arange(n) / 200.0
    acc = np.tile([0.0, 0.0, 9.81], (n, 1))
    gyr = np.zeros((n, 3))
    path = write_canonical(tmp_path / "big.csv", acc, gyr, t)
    tracemalloc.start()
    try:
        stream = open_recording(path, chunk_rows=20_000)
        total = sum(len(c) for c in stream.chunks)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert total == n
    assert peak < 20e6, f"peak {peak / 1e6:.1f} MB"


# --- property-based: arbitrary input raises only DataValidationError ---------------------------

_FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
_CELLS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-(10**19), 10**19).map(str),
    st.sampled_from(["", "x", '"', "nan", "1e999", " ", "1,5", "\t", ";", "-", "0.0000"]),
)


def _rows(header: str, sep: str = ",") -> st.SearchStrategy[str]:
    line = st.lists(_CELLS, min_size=0, max_size=7).map(sep.join)
    return st.lists(line, max_size=25).map(lambda rows: "\n".join([header, *rows]))


def _only_validation_errors(path: Path, fmt: str | None) -> None:
    try:
        rec = load_recording(path, fmt)
    except DataValidationError as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    assert np.all(np.diff(rec.t_s) > 0)
    assert np.isfinite(rec.acc_mps2).all() and np.isfinite(rec.gyr_rads).all()


@_FUZZ
@given(
    acc=_rows("epoch (ms),time (01:00),elapsed (s),x-axis (g),y-axis (g),z-axis (g)"),
    gyr=st.one_of(st.binary(max_size=300).map(lambda b: b.decode("latin-1")), _rows("epoch (ms),t,e,x,y,z")),
)
def test_fuzz_metabase(tmp_path: Path, acc: str, gyr: str) -> None:
    stem = "F_MetaWear_2019-01-15T20.04.08.637_C42732BE255C"
    (tmp_path / f"{stem}_Accelerometer_12.500Hz_1.4.4.csv").write_text(acc, encoding="utf-8")
    (tmp_path / f"{stem}_Gyroscope_25.000Hz_1.4.4.csv").write_text(gyr, encoding="utf-8")
    _only_validation_errors(tmp_path, None)


@_FUZZ
@given(
    acc=_rows('"Time (s)";"X (m/s^2)";"Y (m/s^2)";"Z (m/s^2)"', ";"),
    gyr=_rows('"Time (s)","Gyroscope x (rad/s)","Gyroscope y (rad/s)","Gyroscope z (rad/s)"'),
)
def test_fuzz_phyphox(tmp_path: Path, acc: str, gyr: str) -> None:
    (tmp_path / "Accelerometer.csv").write_text(acc, encoding="utf-8")
    (tmp_path / "Gyroscope.csv").write_text(gyr, encoding="utf-8")
    _only_validation_errors(tmp_path, "phyphox")


@_FUZZ
@given(
    files=st.fixed_dictionaries(
        {name: _rows("time,seconds_elapsed,z,y,x") for name in ("Accelerometer", "Gravity", "Gyroscope")}
    ),
    meta=st.sampled_from(["platform\nios", "platform\nandroid", "", "\x00", "platform,x\n"]),
)
def test_fuzz_sensor_logger(tmp_path: Path, files: dict[str, str], meta: str) -> None:
    for name, text in files.items():
        (tmp_path / f"{name}.csv").write_text(text, encoding="utf-8")
    (tmp_path / "Metadata.csv").write_text(meta, encoding="utf-8")
    _only_validation_errors(tmp_path, None)


@_FUZZ
@given(text=_rows("time,gFx,gFy,gFz,ax,ay,az,wx,wy,wz,"), raw=st.binary(max_size=200))
def test_fuzz_physics_toolbox_and_detection(tmp_path: Path, text: str, raw: bytes) -> None:
    path = tmp_path / "pt.csv"
    path.write_text(text, encoding="utf-8")
    _only_validation_errors(path, None)
    blob = tmp_path / "blob.dat"
    blob.write_bytes(raw)
    for fmt in (None, "metabase", "phyphox", "sensor_logger", "physics_toolbox"):
        _only_validation_errors(blob, fmt)
