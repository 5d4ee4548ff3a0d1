"""Protocol v1 codec and stream decoder: vectors, edge cases and a property test."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from imurep.ble.decoder import ClockMapper, StreamDecoder
from imurep.ble.protocol import (
    ERR_INVALID_OPCODE,
    ERR_INVALID_PARAM,
    GYR_LSB_DPS,
    STATUS_FIFO_OVERFLOW,
    U32,
    DeviceInfo,
    ImuFrame,
    StartConfig,
    StatusFrame,
    UnknownFrame,
    decode_command,
    dequantize,
    encode_compact_frame,
    encode_imu_frame,
    encode_status_frame,
    parse_frame,
    samples_per_frame,
)
from imurep.model.errors import ProtocolError

VECTORS = Path(__file__).resolve().parents[2] / "firmware_protocol" / "vectors"


def _load(name: str) -> list[dict]:
    return json.loads((VECTORS / f"{name}.json").read_text())["vectors"]


def test_vectors_are_up_to_date(tmp_path: Path) -> None:
    script = VECTORS.parent / "tools" / "make_vectors.py"
    subprocess.run([sys.executable, str(script), str(tmp_path)], check=True)
    for f in VECTORS.glob("*.json"):
        assert (tmp_path / f.name).read_text() == f.read_text(), f"{f.name} is stale: rerun {script}"


@pytest.mark.parametrize("vec", _load("frames"), ids=lambda v: v["name"])
def test_frame_vectors(vec: dict) -> None:
    data = bytes.fromhex(vec["hex"])
    if vec["kind"] == "malformed":
        with pytest.raises(ProtocolError):
            parse_frame(data)
        return
    frame = parse_frame(data)
    d = vec.get("decoded", {})
    if vec["kind"] == "unknown":
        assert isinstance(frame, UnknownFrame) and frame.frame_type == d["frame_type"]
    elif vec["kind"] == "status":
        assert frame == StatusFrame(1, d["code"], d["config_id"], d["index"], d["t_device"], d["value"])
        assert (
            encode_status_frame(d["code"], d["index"], d["t_device"], d["value"], config_id=d["config_id"])
            == data
        )
    else:
        assert isinstance(frame, ImuFrame)
        assert frame.samples.tolist() == d["samples"]
        assert frame.t_device == d["t_device"]
        if vec["kind"] == "imu":
            assert (frame.first_index, frame.config_id) == (d["first_index"], d["config_id"])
            enc = encode_imu_frame(
                d["first_index"], d["t_device"], np.array(d["samples"]), config_id=d["config_id"]
            )
        else:
            assert frame.compact and frame.first_index == d["index_lo"]
            enc = encode_compact_frame(d["index_lo"], d["t_device"], np.array(d["samples"][0]))
        assert enc == data


@pytest.mark.parametrize("vec", _load("info"), ids=lambda v: v["name"])
def test_info_vectors(vec: dict) -> None:
    data = bytes.fromhex(vec["hex"])
    if vec["kind"] == "malformed":
        with pytest.raises(ProtocolError):
            DeviceInfo.unpack(data)
        return
    info = DeviceInfo.unpack(data)
    if vec["kind"] == "info":
        assert info == DeviceInfo(**vec["decoded"])
        assert info.pack() == data


@pytest.mark.parametrize("vec", _load("commands"), ids=lambda v: v["name"])
def test_command_vectors(vec: dict) -> None:
    data = bytes.fromhex(vec["hex"])
    if vec["kind"] == "bad_command":
        with pytest.raises(ProtocolError) as ei:
            decode_command(data)
        code = ERR_INVALID_OPCODE if ei.value.reason.startswith("INVALID_OPCODE") else ERR_INVALID_PARAM
        assert code == vec["att_error"]
        return
    op, cfg = decode_command(data)
    assert op == vec["decoded"]["opcode"]
    if cfg is not None:
        assert cfg == StartConfig(
            *(vec["decoded"][k] for k in ("odr_hz", "acc_range_g", "gyr_range_dps", "max_latency_ms"))
        )


def test_stream_vectors() -> None:
    for vec in _load("streams"):
        dec = StreamDecoder(DeviceInfo.unpack(bytes.fromhex(vec["info_hex"])))
        n, gaps, dups = 0, [], 0
        for i, fr in enumerate(vec["frames"]):
            r = dec.feed(bytes.fromhex(fr["hex"]), 10.0 + 0.08 * i)
            n += sum(len(c) for c in r.chunks)
            gaps += r.gaps
            dups += r.duplicates
        exp = vec["expect"]
        assert n == exp["samples"] and dups == exp["duplicates"]
        assert [(g.n_samples, g.reason) for g in gaps] == [(g["n_samples"], g["reason"]) for g in exp["gaps"]]


def _frames(info: DeviceInfo, n_frames: int, spf: int = 8, index0: int = 0, t0: int = 0, seed: int = 0):
    rng = np.random.default_rng(seed)
    out = []
    per = info.clock_hz / info.odr_hz
    for k in range(n_frames):
        counts = rng.integers(-2000, 2000, size=(spf, 6)).astype(np.int16)
        idx = index0 + k * spf
        out.append(
            (
                idx,
                counts,
                encode_imu_frame(idx, t0 + round(k * spf * per), counts, config_id=info.config_id),
            )
        )
    return out


def test_decoder_exact_values_gap_duplicate_overflow_and_wrap() -> None:
    info = DeviceInfo()
    frames = _frames(info, 40, index0=U32 - 100, t0=U32 - 200_000)
    dec = StreamDecoder(info)
    got, gaps, host = [], [], 100.0
    for k, (idx, _counts, data) in enumerate(frames):
        host += 8 / info.odr_hz
        if k == 5:
            continue  # lost
        if k == 20:
            dec.feed(encode_status_frame(STATUS_FIFO_OVERFLOW, idx, 0, 8), host)
            continue  # dropped by the firmware, announced
        r = dec.feed(data, host)
        if k == 30:
            assert dec.feed(data, host).duplicates == 1
            # A partly overlapping frame is trimmed to its new samples.
        got += r.chunks
        gaps += r.gaps
    assert [(g.n_samples, g.reason) for g in gaps] == [(8, "lost"), (8, "overflow")]
    acc = np.concatenate([c.acc_mps2 for c in got])
    kept = np.concatenate([c for k, (_, c, _) in enumerate(frames) if k not in (5, 20)])
    exp_acc, _ = dequantize(kept, info)
    np.testing.assert_array_equal(acc, exp_acc)
    t = np.concatenate([c.t_s for c in got])
    assert np.all(np.diff(t) > 0)
    assert dec.stats.samples == 38 * 8


def test_partial_overlap_is_trimmed() -> None:
    info = DeviceInfo()
    dec = StreamDecoder(info)
    c = np.arange(60, dtype=np.int16).reshape(10, 6)
    dec.feed(encode_imu_frame(0, 0, c[:6]), 1.0)
    r = dec.feed(encode_imu_frame(4, 40000, c[4:10]), 1.1)
    assert len(r.chunks[0]) == 4 and r.duplicates == 0
    assert r.chunks[0].acc_mps2[0, 0] == pytest.approx(36 * info.acc_scale_mps2)


def test_config_change_parks_until_info() -> None:
    info = DeviceInfo()
    dec = StreamDecoder(info)
    c = np.ones((4, 6), dtype=np.int16)
    dec.feed(encode_imu_frame(0, 0, c), 1.0)
    r = dec.feed(encode_imu_frame(4, 40000, c, config_id=1), 1.1)
    assert r.needs_info and not r.chunks
    new = DeviceInfo(config_id=1, gyr_range_dps=2000, gyr_lsb_dps=GYR_LSB_DPS[2000])
    r2 = dec.set_info(new)
    assert len(r2.chunks) == 1 and not r2.gaps
    assert r2.chunks[0].gyr_rads[0, 0] == pytest.approx(new.gyr_scale_rads)


def test_compact_frames_and_mtu_sizes() -> None:
    assert samples_per_frame(23) == 0 and samples_per_frame(27) == 1
    assert samples_per_frame(185) == 14 and samples_per_frame(247) == 19 and samples_per_frame(517) == 19
    info = DeviceInfo()
    dec = StreamDecoder(info)
    n = 0
    for k in range(65530, 65560):
        if k == 65540:
            continue
        r = dec.feed(encode_compact_frame(k, k * 9615, np.full(6, k % 100)), k / 104)
        n += sum(len(c) for c in r.chunks)
        assert all(g.n_samples == 1 for g in r.gaps)
    assert n == 29 and dec.stats.lost_samples == 1


def test_clock_mapper_drift_and_lower_envelope() -> None:
    rng = np.random.default_rng(0)
    c = ClockMapper()
    for k in range(2000):
        true = k * 0.05
        c.add(100.0 + true * (1 + 50e-6), 5.0 + true + rng.uniform(0, 0.03))
    assert c.drift_ppm == pytest.approx(-50, abs=15)
    assert abs(float(c.to_host(np.array([100.0 + 99.95 * (1 + 50e-6)]))[0]) - (5.0 + 99.95)) < 2e-3


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_only_raise_protocol_error(data: bytes) -> None:
    dec = StreamDecoder(DeviceInfo())
    for payload in (data, b"\x01\x01" + data, b"\x01\x02" + data, b"\x01\x03" + data):
        with contextlib.suppress(ProtocolError):
            dec.feed(payload, 1.0)
        with contextlib.suppress(ProtocolError):
            DeviceInfo.unpack(payload)
