"""Tier 2: the firmware twin as a bumble GATT server, driven through the REAL BleakScanner/BleakClient
(``backend=``) over bumble's in-process link, so real ATT PDUs are exchanged (MTU exchange,
discovery, CCCD writes, notifications, ATT error responses).  Deselect with ``-m "not bumble"``."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import numpy as np
import pytest

pytest.importorskip("bumble")

from bleak import BleakClient, BleakScanner  # noqa: E402
from bleak.exc import BleakGATTProtocolError  # noqa: E402
from bumble_tier import BumbleClient, BumblePeripheral, BumbleScanner, BumbleWorld, bumble_backends  # noqa: E402

from imurep.ble.client import SensorLink, scan  # noqa: E402
from imurep.ble.decoder import StreamGap  # noqa: E402
from imurep.ble.protocol import (  # noqa: E402
    BATTERY_SERVICE_UUID,
    CCCD_UUID,
    CONTROL_CHAR_UUID,
    DATA_CHAR_UUID,
    DIS_SERVICE_UUID,
    ERR_INVALID_OPCODE,
    ERR_INVALID_PARAM,
    ERR_UNSUPPORTED_ODR,
    ERR_UNSUPPORTED_RANGE,
    FRAME_IMU6_COMPACT,
    IMU_SIMULATOR,
    INFO_CHAR_UUID,
    OP_START,
    SERIAL_UUID,
    SERVICE_UUID,
    DeviceInfo,
    ImuFrame,
    StartConfig,
    StatusFrame,
    dequantize,
    encode_command,
    parse_frame,
)
from imurep.ble.simulated import SimulatedSensor  # noqa: E402
from imurep.model.errors import SettingsError  # noqa: E402
from imurep.model.samples import ImuChunk  # noqa: E402
from imurep.sim import SimSettings, simulate  # noqa: E402

pytestmark = pytest.mark.bumble

_REC = simulate(SimSettings(seed=5, n_sets=1, reps_per_set=(2, 2), pre_activity=False))
T = TypeVar("T")


def _sensor(**kw: Any) -> SimulatedSensor:
    return SimulatedSensor(_REC.t_s, _REC.acc_mps2, _REC.gyr_rads, **kw)


def _run(fn: Callable[[BumbleWorld, BumblePeripheral], Awaitable[T]], **sensor_kw: Any) -> T:
    async def go() -> T:
        world = BumbleWorld()
        periph = BumblePeripheral(world, _sensor(**sensor_kw))
        await periph.start()
        try:
            return await asyncio.wait_for(fn(world, periph), 15)
        finally:
            await periph.close()

    return asyncio.run(go())


async def _client(world: BumbleWorld, name: str = "imurep-SIM1") -> BleakClient:
    dev = await BleakScanner.find_device_by_name(
        name, timeout=5.0, service_uuids=[SERVICE_UUID], backend=BumbleScanner, world=world
    )
    assert dev is not None, "the peripheral was not found by service UUID + name"
    return BleakClient(dev, backend=BumbleClient, world=world)


def test_scan_finds_sensor_by_service_uuid_with_battery() -> None:
    async def body(world: BumbleWorld, periph: BumblePeripheral) -> None:
        found = await scan(0.5, scanner_backend=BumbleScanner, backend_kwargs={"world": world})
        assert [(r.name, r.address, r.battery_pct, r.protocol_major) for r in found] == [
            ("imurep-SIM1", periph.address, 87, 1)
        ]

    _run(body)


def test_real_gatt_mtu_cccd_notifications_and_att_errors() -> None:
    async def body(world: BumbleWorld, periph: BumblePeripheral) -> None:
        async with await _client(world) as client:
            # MTU exchange happened over ATT and the twin sizes its frames from it.
            assert client.mtu_size == 247 and periph.sensor.mtu == 247
            # Discovery over ATT: our service, DIS, BAS, each notify characteristic with a CCCD.
            uuids = {s.uuid for s in client.services}
            assert {SERVICE_UUID, DIS_SERVICE_UUID, BATTERY_SERVICE_UUID} <= uuids
            data_char = client.services.get_characteristic(DATA_CHAR_UUID)
            assert data_char is not None and "notify" in data_char.properties
            assert data_char.get_descriptor(CCCD_UUID) is not None
            info = DeviceInfo.unpack(await client.read_gatt_char(INFO_CHAR_UUID))
            assert info.imu_model == IMU_SIMULATOR and info.state == 0
            serial = await client.read_gatt_char(SERIAL_UUID)
            assert bytes(serial) == periph.sensor.address.replace(":", "").encode()

            # ATT application errors surface as BleakGATTProtocolError with the code.
            for cmd, code in (
                (encode_command(OP_START, StartConfig(odr_hz=1000)), ERR_UNSUPPORTED_ODR),
                (encode_command(OP_START, StartConfig(104, 3, 1000)), ERR_UNSUPPORTED_RANGE),
                (b"\x7f", ERR_INVALID_OPCODE),
                (b"\x01\x68", ERR_INVALID_PARAM),
            ):
                with pytest.raises(BleakGATTProtocolError) as ei:
                    await client.write_gatt_char(CONTROL_CHAR_UUID, cmd, response=True)
                assert int(ei.value.code) == code
            # Writing a read-only characteristic is refused by the ATT server itself.
            with pytest.raises(BleakGATTProtocolError) as ei:
                await client.write_gatt_char(INFO_CHAR_UUID, b"\x00", response=True)
            assert int(ei.value.code) == 0x03  # WRITE_NOT_PERMITTED

            # Without the CCCD written nothing is notified; start_notify writes it.
            got: list[bytes] = []
            done = asyncio.Event()

            def on_data(_c: Any, data: bytearray) -> None:
                got.append(bytes(data))
                if parse_frame(data).__class__ is StatusFrame:
                    done.set()

            assert periph.subscriptions == []
            await client.start_notify(DATA_CHAR_UUID, on_data)
            assert periph.subscriptions == [(DATA_CHAR_UUID, True)]
            # max_latency 250 ms > 19 samples at 104 Hz: frames fill up to the MTU (19 samples, 240 B)
            start = encode_command(OP_START, StartConfig(max_latency_ms=250))
            await client.write_gatt_char(CONTROL_CHAR_UUID, start, response=True)
            await asyncio.wait_for(done.wait(), 10)  # STREAM_STOPPED at the end of the recording
            # In order, complete and unmodified: exactly what the twin handed to the server.
            assert got == periph.notified
            frames = [parse_frame(g) for g in got]
            imu = [f for f in frames if isinstance(f, ImuFrame)]
            assert max(f.n for f in imu) == 19 and max(len(g) for g in got) == 240 <= client.mtu_size - 3
            idx = [f.first_index for f in imu]
            assert idx[0] == 0 and all(b - a == f.n for a, b, f in zip(idx, idx[1:], imu, strict=False))
            assert sum(f.n for f in imu) == _REC.t_s.size
            await client.stop_notify(DATA_CHAR_UUID)
            assert periph.subscriptions[-1] == (DATA_CHAR_UUID, False)

    _run(body)


def test_small_mtu_gives_compact_frames() -> None:
    async def body(world: BumbleWorld, periph: BumblePeripheral) -> None:
        dev = await BleakScanner.find_device_by_name(
            "imurep-SIM1", timeout=5.0, backend=BumbleScanner, world=world
        )
        assert dev is not None
        async with BleakClient(dev, backend=BumbleClient, world=world, request_mtu=0) as client:
            assert client.mtu_size == 23
            got: list[bytes] = []
            await client.start_notify(DATA_CHAR_UUID, lambda _c, d: got.append(bytes(d)))
            await client.write_gatt_char(CONTROL_CHAR_UUID, encode_command(OP_START), response=True)
            for _ in range(200):
                if len(got) >= 50:
                    break
                await asyncio.sleep(0.01)
            assert len(got) >= 50 and all(len(g) == 20 and g[1] == FRAME_IMU6_COMPACT for g in got)
            info = DeviceInfo.unpack(await client.read_gatt_char(INFO_CHAR_UUID))
            assert info.max_samples_per_frame == 0 and info.state == 1

    _run(body)


async def _collect(link: SensorLink) -> AsyncIterator[ImuChunk | StreamGap]:
    async for it in link.stream():
        yield it


def test_sensor_link_session_receives_exactly_the_samples_sent() -> None:
    async def body(world: BumbleWorld, periph: BumblePeripheral) -> None:
        chunks: list[ImuChunk] = []
        gaps: list[StreamGap] = []
        async with SensorLink(**bumble_backends(world)) as link:
            async for it in _collect(link):
                (gaps if isinstance(it, StreamGap) else chunks).append(it)
        assert not gaps and link.stats.malformed == 0 and link.stats.duplicates == 0
        sent = [f for f in periph.sensor.log if f.delivered]
        exp_acc = np.concatenate([dequantize(f.counts, f.info)[0] for f in sent])
        exp_gyr = np.concatenate([dequantize(f.counts, f.info)[1] for f in sent])
        np.testing.assert_array_equal(np.concatenate([c.acc_mps2 for c in chunks]), exp_acc)
        np.testing.assert_array_equal(np.concatenate([c.gyr_rads for c in chunks]), exp_gyr)
        assert link.stats.samples == _REC.t_s.size
        assert np.all(np.diff(np.concatenate([c.t_s for c in chunks])) > 0)
        assert link.info.firmware == "sim-1.0.0" and link.info.battery_pct == 87
        # START went over ATT as a write request with the configured parameters
        assert periph.writes[0] == encode_command(OP_START, link.config)

    _run(body)


def test_sensor_link_refused_start_is_a_settings_error() -> None:
    async def body(world: BumbleWorld, periph: BumblePeripheral) -> None:
        with pytest.raises(SettingsError, match="UNSUPPORTED_ODR"):
            async with SensorLink(rate_hz=1000, **bumble_backends(world)):
                pass

    _run(body)
