"""MetaWear codec and stream decoders against the MetaWear C++ SDK's own unit-test bytes.

Every vector in ``vectors/metawear.json`` names the SDK file and test it was copied from.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from imurep.ble.decoder import StreamGap
from imurep.ble.metawear import protocol as mw
from imurep.ble.metawear.stream import FusedStreamDecoder, PackedStreamDecoder
from imurep.model.errors import ProtocolError, SettingsError
from imurep.model.samples import ImuChunk
from imurep.model.units import RAD_PER_DEG, STANDARD_GRAVITY_MPS2

_DOC = json.loads((Path(__file__).parent / "vectors" / "metawear.json").read_text())
_V = {v["id"]: v for v in _DOC["vectors"]}


def _b(hexstr: str) -> bytes:
    return bytes.fromhex(hexstr)


def _kind(kind: str, prefix: str = "") -> list[dict[str, Any]]:
    return [v for v in _DOC["vectors"] if v["kind"] == kind and v["id"].startswith(prefix)]


def test_vector_file_names_its_sources() -> None:
    assert _DOC["repository"] == "mbientlab/MetaWear-SDK-Cpp" and len(_DOC["commit"]) == 40
    for v in _DOC["vectors"]:
        assert v["source"]["file"] and v["source"]["test"], v["id"]


@pytest.mark.parametrize("v", [v for v in _kind("command", "acc_") if "args" in v], ids=lambda v: v["id"])
def test_acc_config_commands(v: dict[str, Any]) -> None:
    a = v["args"]
    assert mw.acc_config(v["chip"], a["odr_hz"], a["range_g"]) == _b(v["bytes"])


@pytest.mark.parametrize("v", [v for v in _kind("command", "gyro_bmi160_config")], ids=lambda v: v["id"])
def test_gyro_config_commands(v: dict[str, Any]) -> None:
    a = v["args"]
    assert mw.gyro_config("bmi160", a["odr_hz"], a["range_dps"]) == _b(v["bytes"])


def test_named_commands() -> None:
    ops = {
        "acc_enable_sampling": mw.sampling(mw.Module.ACC, True),
        "acc_disable_sampling": mw.sampling(mw.Module.ACC, False),
        "gyro_enable_sampling": mw.sampling(mw.Module.GYRO, True),
        "gyro_disable_sampling": mw.sampling(mw.Module.GYRO, False),
        "gyro_start": mw.power(mw.Module.GYRO, True),
        "gyro_stop": mw.power(mw.Module.GYRO, False),
        "battery_read": mw.battery_read(),
        "logging_stop": mw.logging_stop(),
        "debug_reset": mw.debug_reset(),
        "debug_disconnect": mw.debug_disconnect(),
    }
    seen = 0
    for v in _kind("command"):
        op = v.get("op")
        chip = v.get("chip", "bmi160")
        if op in ops:
            assert ops[op] == _b(v["bytes"]), v["id"]
        elif op in ("acc_subscribe", "acc_unsubscribe"):
            assert mw.subscribe(mw.Module.ACC, mw.ACC_DATA, op == "acc_subscribe") == _b(v["bytes"])
        elif op in ("acc_packed_subscribe", "acc_packed_unsubscribe"):
            on = op == "acc_packed_subscribe"
            assert mw.subscribe(mw.Module.ACC, mw.ACC_PACKED[chip], on) == _b(v["bytes"]), v["id"]
        elif op in ("gyro_subscribe", "gyro_unsubscribe"):
            assert mw.subscribe(mw.Module.GYRO, mw.GYRO_DATA[chip], op == "gyro_subscribe") == _b(v["bytes"])
        elif op in ("gyro_packed_subscribe", "gyro_packed_unsubscribe"):
            on = op == "gyro_packed_subscribe"
            assert mw.subscribe(mw.Module.GYRO, mw.GYRO_PACKED[chip], on) == _b(v["bytes"])
        else:
            continue
        seen += 1
    assert seen >= 20


def test_sequences() -> None:
    order = _V["acc_gyro_start_stop_order"]
    assert mw.start_commands() == [_b(x) for x in order["start"]]
    assert mw.stop_commands() == [_b(x) for x in order["stop"]]
    assert mw.tear_down_commands() == [_b(x) for x in _V["tear_down"]["commands"]]
    disc = _V["module_discovery"]["commands"]
    assert [mw.read_info(m) for m in (1, 3, 0x13, 0xFE)] == [
        _b(disc[0]),
        _b(disc[2]),
        _b(disc[15]),
        _b(disc[20]),
    ]


def test_processor_chain_commands() -> None:
    chain = [_b(x) for x in _V["dp_fuser_chain"]["commands"]]
    assert mw.buffer_processor("bmi160") == chain[0]
    assert mw.fuser_processor(0) == chain[1]
    # The SDK's chain puts a time processor (id 1) between; the same accounter on processor 2:
    assert mw.accounter_count_processor(2) == chain[3]
    assert mw.accounter_processor((9, 3, 2), 12, mode="time") == chain[4]
    acc = (mw.Module.ACC, mw.ACC_DATA, 0xFF)
    assert mw.accounter_processor(acc, 6) == _b(_V["dp_accounter_count_on_acc"]["bytes"])
    assert mw.accounter_processor(acc, 6, mode="time") == _b(_V["dp_accounter_time_on_acc"]["bytes"])
    sub = _V["dp_subscribe"]
    assert mw.processor_notify(sub["processor_id"], True) == [_b(x) for x in sub["commands"]]
    unsub = _V["dp_unsubscribe"]
    assert mw.processor_notify(unsub["processor_id"], False) == [_b(unsub["bytes"])]
    # BMI270: the gyro data register is 0x04 (header only, no SDK test)
    regs = _V["gyro_bmi270_registers"]["registers"]
    assert (
        mw.buffer_processor("bmi270")[3] == regs["DATA"]
        and mw.GYRO_PACKED["bmi270"] == regs["PACKED_GYRO_DATA"]
    )


def test_event_entry_layout() -> None:
    v = _V["event_on_disconnect"]
    cmd = _b(v["target"]) + _b(v["params"])
    entry, params = mw.event_entry(mw.DISCONNECT_EVENT_SOURCE, cmd)
    assert [entry, params] == [_b(x) for x in v["commands"]]
    with pytest.raises(ValueError):
        mw.event_entry(mw.DISCONNECT_EVENT_SOURCE, b"\x03")


def test_uuids_and_registers_from_source() -> None:
    u = _V["gatt_uuids"]
    assert (
        u["service"], u["command_char"], u["notify_char"],
    ) == (mw.SERVICE_UUID, mw.COMMAND_CHAR_UUID, mw.NOTIFY_CHAR_UUID)  # fmt: skip
    regs = _V["event_and_processor_registers"]
    assert (
        (mw.EV_ENTRY, mw.EV_CMD_PARAMETERS, mw.EV_REMOVE)
        == (2, 3, 4)
        == tuple(regs["event"][k] for k in ("ENTRY", "CMD_PARAMETERS", "REMOVE"))
    )
    assert (
        regs["data_processor"]["REMOVE"],
        regs["data_processor"]["NOTIFY_ENABLE"],
    ) == (mw.DP_REMOVE, mw.DP_NOTIFY_ENABLE)


@pytest.mark.parametrize(
    "vid", ["acc_data_4g", "acc_data_4g_bmi270", "acc_packed_8g_bmi160", "acc_packed_8g_bmi270"]
)
def test_acc_notifications(vid: str) -> None:
    v = _V[vid]
    data = _b(v["bytes"])
    assert data[0] == mw.Module.ACC
    g = mw.acc_g(mw.xyz_counts(data[2:]), v["range_g"])
    np.testing.assert_allclose(g, v["expected_g"], atol=v["tolerance"])


@pytest.mark.parametrize("vid", ["gyro_data_500dps", "gyro_packed_1000dps"])
def test_gyro_notifications(vid: str) -> None:
    v = _V[vid]
    dps = mw.gyro_dps(mw.xyz_counts(_b(v["bytes"])[2:]), v["range_dps"])
    np.testing.assert_allclose(dps, v["expected_dps"], atol=v["tolerance"])


def test_counted_notifications() -> None:
    for vid in ("dp_accounter_count_data", "dp_packer_accounter_count_data"):
        v = _V[vid]
        c = mw.parse_counted(_b(v["bytes"]))
        assert (c.processor_id, c.count) == (v["processor_id"], v["expected_count"])
        assert len(c.data) == 6 * v.get("samples", 1)
    v = _V["dp_fused_accounter_count_data"]
    pid, count, acc, gyr = mw.parse_fused(_b(v["bytes"]))
    assert (pid, count) == (v["processor_id"], v["expected_count"])
    np.testing.assert_array_equal(acc, mw.xyz_counts(_b(v["acc_equals"])[2:]))
    np.testing.assert_array_equal(gyr, mw.xyz_counts(_b(v["gyro_equals"])[2:]))
    with pytest.raises(ProtocolError):
        mw.parse_fused(_b(_V["dp_accounter_count_data"]["bytes"]))


def test_accounter_time_ticks() -> None:
    v = _V["dp_accounter_time_offsets"]
    assert pytest.approx(v["tick_s"]) == mw.TICK_S
    ticks = [mw.parse_counted(_b(n)).count for n in v["notifications"]]
    ms = [round(t * mw.TICK_S * 1000) for t in ticks]
    assert list(np.diff(ms)) == v["expected_offsets_ms"]


def test_battery_module_info_and_logging_time() -> None:
    v = _V["battery_state"]
    st = mw.parse_battery(_b(v["bytes"]))
    assert (st.charge_pct, st.voltage_mv) == (v["expected_charge_pct"], v["expected_voltage_mv"])
    for vid in ("module_info_metamotion_r", "module_info_metamotion_s"):
        f = _V[vid]
        acc = mw.parse_module_info(_b(f["responses"]["acc"]))
        gyro = mw.parse_module_info(_b(f["responses"]["gyro"]))
        assert mw.ACC_IMPLEMENTATIONS[acc.implementation] == f["expected"]["acc_chip"]
        assert mw.GYRO_IMPLEMENTATIONS[gyro.implementation] == f["expected"]["gyro_chip"]
        assert mw.MODEL_NAMES[f["model_number"]].startswith("MetaMotion")
    dp = mw.parse_module_info(_b(_V["module_info_fuser_revision"]["responses"]["data_processor"]))
    assert dp.present and dp.revision >= mw.FUSER_MIN_REVISION and dp.extra == b"\x1c"
    assert not mw.parse_module_info(b"\x16\x80").present
    t = _V["logging_time_response"]
    assert mw.parse_logging_time(_b(t["bytes"])) == (t["expected_tick"], t["expected_reset_uid"])
    with pytest.raises(ProtocolError):
        mw.parse_battery(b"\x11\x8c\x63")


def test_config_validation_and_scales() -> None:
    cfg = mw.ImuConfig("bmi270", "bmi270", 200.0, 16, 2000)
    assert cfg.acc_scale_mps2 == pytest.approx(STANDARD_GRAVITY_MPS2 / 2048)
    assert cfg.gyro_scale_rads == pytest.approx(RAD_PER_DEG / 16.4)
    for bad in ({"rate_hz": 1600.0}, {"acc_range_g": 3}, {"gyro_range_dps": 300}):
        with pytest.raises(SettingsError):
            mw.ImuConfig("bmi160", "bmi160", **bad)  # type: ignore[arg-type]
    with pytest.raises(SettingsError):
        mw.acc_config("bmi160", 150.0, 8)
    with pytest.raises(SettingsError):
        mw.gyro_config("bmi160", 12.5, 2000)
    assert mw.nearest(104, mw.STREAM_RATES_HZ) == 100.0 and mw.nearest(150, mw.STREAM_RATES_HZ) == 200.0
    assert mw.range_at_least(5, mw.ACC_RANGES_G) == 8 and mw.range_at_least(40, mw.ACC_RANGES_G) == 16


# --- stream decoders ---------------------------------------------------------------------------------


def _fused(pid: int, count: int, acc: tuple[int, int, int], gyr: tuple[int, int, int]) -> bytes:
    return (
        bytes([9, 3, pid]) + (count % 2**32).to_bytes(4, "little") + np.array([*acc, *gyr], "<i2").tobytes()
    )


def test_fused_decoder_exact_gaps_duplicates_and_wrap() -> None:
    cfg = mw.ImuConfig("bmi160", "bmi160", 100.0, 4, 500)
    dec = FusedStreamDecoder(cfg, processor_id=2)
    start = 2**32 - 5
    counts = [start + k for k in range(40) if k not in (10, 11, 12, 30)]
    counts.insert(20, counts[19])  # a duplicate
    items = []
    for c in counts:
        host = 5.0 + (c - start) * 0.01 + 0.004 * ((c * 7) % 3)
        items += dec.feed(_fused(2, c, (8192, -8192, 0), (656, 0, -656)), host)
    gaps = [i for i in items if isinstance(i, StreamGap)]
    chunks = [i for i in items if isinstance(i, ImuChunk)]
    assert [(g.n_samples, g.reason) for g in gaps] == [(3, "lost"), (1, "lost")]
    assert dec.stats.duplicates == 1 and dec.stats.samples == 36 == len(chunks)
    t = np.concatenate([c.t_s for c in chunks])
    assert np.all(np.diff(t) > 0)
    np.testing.assert_allclose(chunks[0].acc_mps2[0], [STANDARD_GRAVITY_MPS2, -STANDARD_GRAVITY_MPS2, 0])
    np.testing.assert_allclose(chunks[0].gyr_rads[0], [10 * RAD_PER_DEG, 0, -10 * RAD_PER_DEG])
    # the gap sits where the missing samples were (host time base)
    assert gaps[0].t_s == pytest.approx(t[9] + 0.01, abs=0.006)
    assert dec.feed(b"\x03\x04" + bytes(6), 9.0) == [] and dec.stats.unknown == 1
    with pytest.raises(ProtocolError):
        dec.feed(bytes([9, 3, 2, 1, 0, 0, 0, 1]), 9.0)


def test_fused_decoder_new_segment_estimates_the_outage() -> None:
    cfg = mw.ImuConfig("bmi160", "bmi160", 50.0, 8, 1000)
    dec = FusedStreamDecoder(cfg, processor_id=1)
    out = dec.feed_many([(_fused(1, k, (0, 0, 4096), (0, 0, 0)), 1.0 + k * 0.02) for k in range(100)])
    assert len(out) == 1 and len(out[0]) == 100
    dec.new_segment(processor_id=4)
    # 1 s later (50 samples) the counter restarts at 0 on a new processor id
    items = dec.feed_many(
        [(_fused(4, k, (0, 0, 4096), (0, 0, 0)), 1.0 + (150 + k) * 0.02) for k in range(10)]
    )
    gap = items[0]
    assert isinstance(gap, StreamGap) and gap.reason == "reconnect" and abs(gap.n_samples - 50) <= 1
    t = items[1].t_s  # type: ignore[union-attr]
    assert t[0] > out[0].t_s[-1] + 0.9  # type: ignore[union-attr]


def _packed(module: int, reg: int, counts: np.ndarray) -> bytes:
    return bytes([module, reg]) + counts.astype("<i2").tobytes()


def test_packed_decoder_pairs_streams_and_estimates_gaps() -> None:
    cfg = mw.ImuConfig("bmi270", "bmi270", 400.0, 8, 2000)
    dec = PackedStreamDecoder(cfg, gap_tolerance_s=0.05)
    n = 3 * 400  # 3 s
    k = np.arange(n)
    acc = np.stack([k, -k, np.full(n, 4096)], axis=1)
    gyr = np.stack([k, k, -k], axis=1)
    items = []
    lost = set(range(300, 330))  # 30 acc notifications (90 samples, 225 ms) never arrive
    for j in range(0, n, 3):
        host = 2.0 + (j + 2) / 400.0 + 0.003 * ((j // 3) % 4)
        if j // 3 not in lost:
            items += dec.feed(_packed(3, 5, acc[j : j + 3]), host)
        items += dec.feed(_packed(0x13, 5, gyr[j : j + 3]), host + 0.001)
    items += dec.flush()
    gaps = [i for i in items if isinstance(i, StreamGap)]
    chunks = [i for i in items if isinstance(i, ImuChunk)]
    assert [g.reason for g in gaps] == ["lost-estimated"]
    assert abs(gaps[0].n_samples - 90) <= 4  # estimated from arrival times (jitter here: up to 9 ms)
    got = np.concatenate([c.acc_mps2 for c in chunks]) / cfg.acc_scale_mps2
    # every delivered sample comes out, paired (up to the gap estimate's error at the very end)
    assert abs(got.shape[0] - (n - 90)) <= 4
    idx = np.round(got[:, 0]).astype(int)  # x counts = the sample index
    assert not set(range(900, 990)) & set(idx.tolist())
    g = np.concatenate([c.gyr_rads for c in chunks]) / cfg.gyro_scale_rads
    assert np.max(np.abs(g[:, 0] - idx)) <= 2.5  # paired within the timing estimate (about +-2 samples)
    t = np.concatenate([c.t_s for c in chunks])
    assert np.all(np.diff(t) > 0) and math.isclose(np.median(np.diff(t)), 1 / 400, rel_tol=0.02)
    with pytest.raises(ProtocolError):
        dec.feed(b"\x03\x05\x01\x02\x03", 9.0)
