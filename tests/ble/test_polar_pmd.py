"""Polar PMD codec against the Polar BLE SDK's unit-test frames (``vectors/polar_pmd.json``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from imurep.ble.polar import pmd
from imurep.model.errors import ProtocolError
from imurep.model.units import RAD_PER_DEG, STANDARD_GRAVITY_MPS2

_DOC = json.loads((Path(__file__).parent / "vectors" / "polar_pmd.json").read_text())
_V = {v["id"]: v for v in _DOC["vectors"]}


def _b(hexstr: str) -> bytes:
    return bytes.fromhex(hexstr)


def test_vector_file_names_its_sources() -> None:
    assert _DOC["repository"] == "polarofficial/polar-ble-sdk" and len(_DOC["commit"]) == 40
    for v in _DOC["vectors"]:
        assert v["source"]["file"] and v["source"]["test"], v["id"]


def _frame(vid: str) -> tuple[pmd.PmdFrame, dict[str, Any]]:
    v = _V[vid]
    return pmd.parse_frame(_b(v["bytes"])), v


def test_acc_raw_type1() -> None:
    f, v = _frame("acc_raw_type1")
    assert (f.measurement_type, f.frame_type, f.compressed, f.timestamp_ns) == (2, 1, False, 2_000_000_000)
    mg, unit = pmd.acc_samples(f, v["factor"])
    e = v["expected"]
    assert unit == "mG" and mg.shape == (e["n_samples"], 3)
    for k, s in e["samples_mg"].items():
        assert mg[int(k)].tolist() == s
    times = pmd.sample_times_ns(v["previous_timestamp_ns"], f.timestamp_ns, mg.shape[0], v["sample_rate_hz"])
    assert times[-1] == e["last_timestamp_ns"]
    np.testing.assert_allclose(np.diff(times), 1e9 / 52, atol=1)
    np.testing.assert_allclose(pmd.acc_mps2(f), mg * STANDARD_GRAVITY_MPS2 / 1000)


def test_acc_delta_type0_factor_in_g() -> None:
    f, v = _frame("acc_delta_type0")
    assert f.compressed and f.frame_type == 0
    raw = pmd.decode_delta(f.content, 3, 16)
    e = v["expected"]
    assert raw.shape == (e["n_samples"], 3)
    for k, s in e["raw"].items():
        assert raw[int(k)].tolist() == s
    g, unit = pmd.acc_samples(f, v["factor"])
    assert unit == "g"
    # the SDK's float32 mG values (truncated) agree with ours to within 1 mG
    for k, s in e["samples_mg"].items():
        np.testing.assert_allclose(g[int(k)] * 1000, s, atol=1.0)
    assert np.all(np.abs(g * 1000) <= e["all_within_mg"])
    times = pmd.sample_times_ns(v["previous_timestamp_ns"], f.timestamp_ns, raw.shape[0], v["sample_rate_hz"])
    assert (times[0], times[-1]) == (e["first_timestamp_ns"], e["last_timestamp_ns"])


def test_acc_delta_type1_in_mg() -> None:
    f, v = _frame("acc_delta_type1")
    mg, unit = pmd.acc_samples(f, v["factor"])
    e = v["expected"]
    assert unit == "mG" and mg.shape[0] == e["n_samples"]
    for k, s in e["samples_mg"].items():
        assert mg[int(k)].tolist() == s
    assert pmd.sample_times_ns(v["previous_timestamp_ns"], f.timestamp_ns, 2, 0) == e["timestamps_ns"]


@pytest.mark.parametrize(
    "vid", ["gyro_delta_type0", "gyro_delta_type1_float", "gyro_delta_type1_float_factor"]
)
def test_gyro_delta_frames(vid: str) -> None:
    f, v = _frame(vid)
    assert f.measurement_type == pmd.MeasurementType.GYRO and f.compressed
    dps = pmd.gyro_dps(f, v["factor"])
    e = v["expected"]
    assert dps.shape == (e["n_samples"], 3) and f.timestamp_ns == e["last_timestamp_ns"]
    for k, s in e["samples_dps"].items():
        np.testing.assert_allclose(dps[int(k)], s, rtol=1e-6)
    np.testing.assert_allclose(pmd.gyro_rads(f, v["factor"]), dps * RAD_PER_DEG)


def test_frame_headers() -> None:
    for vid in ("gyro_frame_header", "ecg_frame_header"):
        f, v = _frame(vid)
        e = v["expected"]
        assert (f.measurement_type, f.timestamp_ns, f.frame_type, f.compressed) == (
            e["measurement_type"], e["timestamp_ns"], e["frame_type"], e["compressed"],
        )  # fmt: skip
        assert f.content == _b(e["content"])
    with pytest.raises(ProtocolError, match="not defined"):
        pmd.parse_frame(_b(_V["unsupported_frame_type"]["bytes"]))
    with pytest.raises(ProtocolError):
        pmd.parse_frame(b"\x02\x00\x00")
    raw_gyro = pmd.PmdFrame(5, 1, 0, False, bytes(6))
    with pytest.raises(ProtocolError):
        pmd.gyro_dps(raw_gyro)


def test_settings() -> None:
    v = _V["settings_parse_range"]
    s = pmd.parse_settings(_b(v["bytes"]))
    e = v["expected"]
    assert s == {
        pmd.SettingType.SAMPLE_RATE: tuple(e["sample_rate"]),
        pmd.SettingType.RESOLUTION: tuple(e["resolution"]),
        pmd.SettingType.RANGE: tuple(e["range"]),
        pmd.SettingType.CHANNELS: tuple(e["channels"]),
    }
    m = _V["settings_parse_range_milliunit"]
    s = pmd.parse_settings(_b(m["bytes"]))
    assert s[pmd.SettingType.RANGE_MILLIUNIT] == tuple(m["expected"]["range_milliunit"])
    assert s[pmd.SettingType.RESOLUTION] == tuple(m["expected"]["resolution"])
    with pytest.raises(ProtocolError, match="truncated"):
        pmd.parse_settings(_b(_V["settings_parse_truncated"]["bytes"]))
    with pytest.raises(ProtocolError, match="unknown"):
        pmd.parse_settings(b"\x07\x01\x00")
    # round trip, factor as float32
    enc = pmd.encode_settings({pmd.SettingType.SAMPLE_RATE: (26, 52), pmd.SettingType.FACTOR: 0.5})
    back = pmd.parse_settings(enc)
    assert back[pmd.SettingType.SAMPLE_RATE] == (26, 52) and pmd.factor_of(back) == 0.5


def test_control_point_responses_and_events() -> None:
    v = _V["start_response_factor"]
    r = pmd.parse_cp_response(_b(v["bytes"]))
    e = v["expected"]
    assert (r.op, r.measurement_type, r.status, r.more, r.ok) == (
        e["op"],
        e["measurement_type"],
        0,
        False,
        True,
    )
    assert pmd.factor_of(pmd.parse_settings(r.parameters)) == e["factor"]
    ok = _V["cp_response_success"]
    r = pmd.parse_cp_response(_b(ok["bytes"]))
    assert (r.op, r.measurement_type, r.parameters) == (1, 2, _b(ok["expected"]["parameters"]))
    err = _V["cp_response_error"]
    r = pmd.parse_cp_response(_b(err["bytes"]))
    assert (r.status, r.status_name, r.parameters, r.ok) == (7, err["expected"]["status_name"], b"", False)
    for vid in ("cp_measurement_stopped", "cp_measurement_stopped_empty"):
        ev = _V[vid]
        assert list(pmd.parse_cp_event(_b(ev["bytes"])) or ()) == ev["expected"]["stopped_types"]
    assert pmd.parse_cp_event(_b(ok["bytes"])) is None
    with pytest.raises(ProtocolError):
        pmd.parse_cp_response(b"\x01\x02")
    assert pmd.parse_cp_response(pmd.encode_cp_response(2, 5, 0, b"\x05\x01\x00\x00\x00\x3f", more=True)).more


def test_commands() -> None:
    for case in _V["start_command_first_bytes"]["cases"]:
        cmd = pmd.command(
            pmd.Op.REQUEST_MEASUREMENT_START,
            pmd.MeasurementType(case["measurement_type"]),
            offline=case["offline"],
        )
        assert cmd == _b(case["prefix"])
    d = _V["start_command_acc_derived"]
    a = d["args"]
    sel = {
        pmd.SettingType.SAMPLE_RATE: a["sample_rate"],
        pmd.SettingType.RESOLUTION: a["resolution"],
        pmd.SettingType.RANGE: a["range"],
        pmd.SettingType.CHANNELS: a["channels"],
        pmd.SettingType.FACTOR: 99,  # never sent
    }
    assert pmd.start_command(pmd.MeasurementType.ACC, sel) == _b(d["bytes"])
    cp = _V["control_point_opcodes"]
    assert pmd.sdk_mode_command(True) == _b(cp["sdk_mode"]["start"])
    assert pmd.sdk_mode_command(False) == _b(cp["sdk_mode"]["stop"])
    assert pmd.stop_command(pmd.MeasurementType.ACC) == _b(cp["stop_acc"])
    assert pmd.stop_command(pmd.MeasurementType.GYRO) == _b(cp["stop_gyro"])
    assert pmd.get_settings_command(pmd.MeasurementType.ACC) == _b(cp["get_settings_acc"])
    assert pmd.get_settings_command(pmd.MeasurementType.ACC, sdk_mode=True) == b"\x04\x02"
    assert all(pmd.Op[k] == val for k, val in cp["opcodes"].items())
    assert pmd.sdk_mode_status_command() == bytes([cp["opcodes"]["GET_SDK_MODE_STATUS"]])


def test_features_and_uuids() -> None:
    f = _V["feature_bits"]
    types = pmd.parse_features(_b(f["example"]))
    assert {t.name for t in types} == set(f["example_types"])
    assert pmd.encode_features(types) == _b(f["example"])
    for name, bit in f["bits"]["byte1"].items():
        assert pmd.parse_features(bytes([0x0F, bit, 0])) == {pmd.MeasurementType[name]}
    u = _V["gatt_uuids"]
    assert (
        u["service"],
        u["control_point"],
        u["data"],
    ) == (pmd.SERVICE_UUID, pmd.CONTROL_POINT_UUID, pmd.DATA_UUID)


@pytest.mark.parametrize("vid", [v["id"] for v in _DOC["vectors"] if v["kind"] == "timestamps"])
def test_sdk_timestamp_vectors(vid: str) -> None:
    v = _V[vid]
    got = pmd.sample_times_ns(
        v["previous_timestamp_ns"], v["timestamp_ns"], v["n_samples"], v["sample_rate_hz"]
    )
    assert got == v["expected_ns"]


def test_timestamp_errors() -> None:
    with pytest.raises(ValueError):
        pmd.sample_times_ns(0, 100_000, 100, 0)  # neither previous timestamp nor rate
    with pytest.raises(ValueError):
        pmd.sample_times_ns(0, 100_000, 100, 52)  # negative times


@pytest.mark.parametrize("block", [0, 7, 30])
def test_delta_encoder_round_trip(block: int) -> None:
    rng = np.random.default_rng(1)
    s = np.cumsum(rng.integers(-300, 300, size=(40, 3)), axis=0) + np.array([1000, -20000, 30000])
    s = np.clip(s, -32768, 32767)
    enc = pmd.encode_delta(s, 16, block)
    np.testing.assert_array_equal(pmd.decode_delta(enc, 3, 16), s)
    one = pmd.encode_delta(s[:1], 16)
    assert len(one) == 6 and pmd.decode_delta(one, 3, 16).tolist() == [s[0].tolist()]
    with pytest.raises(ProtocolError):
        pmd.decode_delta(enc[:-1] if block == 0 else enc[:7], 3, 16)
