"""End to end through the real BleakScanner/BleakClient with the simulated sensor (bleak backend hooks)."""

from __future__ import annotations

import asyncio
import math
from typing import Any

import numpy as np
import pytest
from bleak import BleakClient, BleakScanner

from imurep.ble.client import SensorLink, scan
from imurep.ble.decoder import StreamGap
from imurep.ble.protocol import (
    CONTROL_CHAR_UUID,
    DATA_CHAR_UUID,
    ERR_INVALID_OPCODE,
    SERVICE_UUID,
    U32,
    DeviceInfo,
    dequantize,
)
from imurep.ble.simulated import FaultPlan, SimClient, SimulatedSensor, SimWorld, simulated_backends
from imurep.cli.main import main
from imurep.model.errors import ConnectionLostError, ProtocolError, SensorNotFoundError, SettingsError
from imurep.model.samples import ImuChunk
from imurep.sim import SimSettings, simulate

_REC = simulate(SimSettings(seed=3, n_sets=1, reps_per_set=(3, 3), pre_activity=False))


def _sensor(**kw: Any) -> SimulatedSensor:
    return SimulatedSensor(_REC.t_s, _REC.acc_mps2, _REC.gyr_rads, **kw)


async def _collect(link: SensorLink) -> tuple[list[ImuChunk], list[StreamGap]]:
    chunks, gaps = [], []
    async for it in link.stream():
        (gaps if isinstance(it, StreamGap) else chunks).append(it)
    return chunks, gaps


def _run(sensor: SimulatedSensor, **link_kw: Any) -> tuple[list[ImuChunk], list[StreamGap], SensorLink]:
    async def go() -> tuple[list[ImuChunk], list[StreamGap], SensorLink]:
        async with SensorLink(**simulated_backends(sensor), **link_kw) as link:
            chunks, gaps = await asyncio.wait_for(_collect(link), 20)
        return chunks, gaps, link

    return asyncio.run(go())


def _expected(sensor: SimulatedSensor) -> tuple[np.ndarray, np.ndarray]:
    acc, gyr = [], []
    for f in sensor.log:
        if f.delivered:
            a, g = dequantize(f.counts, f.info)
            acc.append(a)
            gyr.append(g)
    return np.concatenate(acc), np.concatenate(gyr)


def _check_exact(sensor: SimulatedSensor, chunks: list[ImuChunk]) -> None:
    acc = np.concatenate([c.acc_mps2 for c in chunks])
    gyr = np.concatenate([c.gyr_rads for c in chunks])
    exp_acc, exp_gyr = _expected(sensor)
    np.testing.assert_array_equal(acc, exp_acc)
    np.testing.assert_array_equal(gyr, exp_gyr)
    t = np.concatenate([c.t_s for c in chunks])
    assert np.all(np.diff(t) > 0)


@pytest.mark.parametrize("mtu", [23, 185, 247])
def test_clean_stream_is_exact(mtu: int) -> None:
    sensor = _sensor(mtu=mtu)
    chunks, gaps, link = _run(sensor)
    assert not gaps
    _check_exact(sensor, chunks)
    assert link.stats.samples == _REC.t_s.size
    assert link.info.sample_rate_hz == pytest.approx(104, rel=0.01)
    assert link.info.firmware == "sim-1.0.0" and link.info.battery_pct == 87
    # Quantisation error is within half an LSB of the recording.
    assert (
        np.max(np.abs(np.concatenate([c.acc_mps2 for c in chunks]) - _REC.acc_mps2))
        <= 0.5 * DeviceInfo().acc_scale_mps2 + 1e-12
    )


def test_faults_are_reported_exactly_and_session_survives() -> None:
    plan = FaultPlan(
        drop_frames=(5, 6, 41),
        duplicate_frames=(7, 50),
        malformed_before=(9, 70),
        overflow=((600, 13),),
        drift_ppm=80.0,
        fail_connects=2,
        link_loss_after_frames=(120,),
        link_loss_s=0.5,
        config_change_at_frame=200,
        t0_ticks=U32 - 2_000_000,
    )
    sensor = _sensor(faults=plan)
    chunks, gaps, link = _run(sensor)
    _check_exact(sensor, chunks)
    lost = sum(len(f.counts) for f in sensor.log if not f.delivered)
    by = {r: sum(g.n_samples for g in gaps if g.reason == r) for r in ("lost", "overflow", "reconnect")}
    assert by["lost"] == lost
    assert by["overflow"] == 13
    assert by["reconnect"] == pytest.approx(round(0.5 * 104.121), abs=1)
    st = link.stats
    assert (st.duplicates, st.malformed, st.reconnects) == (2, 2, 1)
    assert st.samples + by["lost"] + by["overflow"] + by["reconnect"] == _REC.t_s.size
    assert sensor.connect_attempts == 4
    assert link.device_info is not None and link.device_info.gyr_range_dps == 2000
    assert st.clock_drift_ppm < 0  # the device clock runs fast


def test_real_time_pacing_and_burst_mode() -> None:
    # speed 200: ~27 s of recording in ~0.14 s; host times follow the device clock.
    sensor = _sensor(speed=200.0, faults=FaultPlan(latency_jitter_s=0.0))
    chunks, gaps, _ = _run(sensor)
    t = np.concatenate([c.t_s for c in chunks])
    assert not gaps
    assert t[-1] - t[0] == pytest.approx(_REC.t_s[-1] - _REC.t_s[0], rel=1e-3)


def test_scan_real_bleak_scanner_and_contract_of_kwargs() -> None:
    world = SimWorld()
    world.add(_sensor(name="imurep-A", address="5E:AA:00:00:00:0A", rssi=-70))
    world.add(_sensor(name="imurep-B", address="5E:AA:00:00:00:0B", rssi=-40))
    kw = simulated_backends(world)
    res = asyncio.run(scan(0.2, scanner_backend=kw["scanner_backend"], backend_kwargs=kw["backend_kwargs"]))
    assert [r.name for r in res] == ["imurep-B", "imurep-A"]
    assert res[0].battery_pct == 87 and res[0].protocol_major == 1

    async def by_name() -> tuple[str, str]:
        async with SensorLink("imurep-A", **kw) as link:
            await link.stop()
            return link.info.name, link.info.address

    assert asyncio.run(by_name()) == ("imurep-A", "5E:AA:00:00:00:0A")


def test_bleak_front_end_details() -> None:
    sensor = _sensor()
    world = SimWorld()
    world.add(sensor)

    async def go() -> None:
        dev = await BleakScanner.find_device_by_filter(
            lambda d, ad: SERVICE_UUID in ad.service_uuids,
            timeout=1,
            backend=simulated_backends(world)["scanner_backend"],
            world=world,
        )
        assert dev is not None
        async with BleakClient(dev, backend=SimClient, world=world) as client:
            assert client.mtu_size == 247
            with pytest.raises(ValueError):
                await client.write_gatt_descriptor(
                    client.services.get_characteristic(DATA_CHAR_UUID).descriptors[0].handle, b"\x01\x00"
                )
            from bleak.exc import BleakGATTProtocolError

            with pytest.raises(BleakGATTProtocolError) as ei:
                await client.write_gatt_char(CONTROL_CHAR_UUID, b"\x7f", response=True)
            assert int(ei.value.code) == ERR_INVALID_OPCODE

    asyncio.run(go())


def test_unsupported_rate_is_a_clear_error() -> None:
    with pytest.raises(SettingsError, match="UNSUPPORTED_ODR"):
        _run(_sensor(), rate_hz=833)


def test_protocol_version_mismatch() -> None:
    with pytest.raises(ProtocolError, match="protocol v2"):
        _run(_sensor(proto_major=2))


def test_no_sensor_and_no_retries_left() -> None:
    kw = simulated_backends(SimWorld())
    with pytest.raises(SensorNotFoundError, match="no imurep sensor found"):
        asyncio.run(SensorLink(**{**kw, "scan_timeout_s": 0.1}).__aenter__())
    with pytest.raises(ConnectionLostError, match="after 2 attempts"):
        _run(_sensor(faults=FaultPlan(fail_connects=5)), max_retries=1)


def test_link_loss_without_reconnect_ends_with_error() -> None:
    with pytest.raises(ConnectionLostError):
        _run(_sensor(faults=FaultPlan(link_loss_after_frames=(10,))), reconnect=False)


def test_stop_mid_stream_keeps_received_samples() -> None:
    sensor = _sensor(speed=50.0)

    async def go() -> int:
        n = 0
        async with SensorLink(**simulated_backends(sensor)) as link:
            async for it in link.stream():
                if isinstance(it, ImuChunk):
                    n += len(it)
                if n > 200:
                    await link.stop()
        assert not sensor.streaming and not sensor.connected
        return n

    n = asyncio.run(go())
    assert n == sum(len(f.counts) for f in sensor.log)


def test_no_bluetooth_stack_is_one_clear_line(capsys: pytest.CaptureFixture[str]) -> None:
    class NoStack:  # behaves like bleak's BlueZ backend without a system D-Bus
        def __init__(self, *a: Any, **k: Any) -> None:
            raise FileNotFoundError(2, "No such file or directory")

    with pytest.raises(SensorNotFoundError, match="no usable Bluetooth adapter"):
        asyncio.run(scan(0.1, scanner_backend=NoStack))
    assert main(["scan", "--timeout", "0.1"]) in (0, 2)  # 2 here (no adapter); 0 on a machine with one
    err = capsys.readouterr().err
    assert err.count("\n") <= 1 and "Traceback" not in err


def test_cli_scan_simulate(tmp_path: Any, capsys: pytest.CaptureFixture[str]) -> None:
    from imurep.io.canonical import write_simulated

    csv = tmp_path / "rec.csv"
    write_simulated(_REC, csv)
    assert main(["scan", "--simulate", str(csv), "--timeout", "0.2"]) == 0
    assert "imurep-SIM1" in capsys.readouterr().out
    assert math.isfinite(_REC.t_s[0])
