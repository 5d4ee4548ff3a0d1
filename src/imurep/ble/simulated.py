"""A simulated imurep sensor ("firmware twin") exposed through bleak's own backend hooks.

:class:`SimulatedSensor` models the reference firmware in Python: the control-point state
machine, typed ATT errors, the flush policy (frame full or ``max_latency_ms`` elapsed), frames
sized to the negotiated MTU (compact frames below ATT MTU 27), the sample index, the device clock
(with drift) and status frames, all encoded with :mod:`imurep.ble.protocol`'s reference encoder.
It plays a recording (``t_s``, ``acc_mps2``, ``gyr_rads`` arrays, e.g. from
:func:`imurep.sim.simulate` or :func:`imurep.io.load_canonical`) at real or accelerated pace.

:class:`SimScanner` and :class:`SimClient` are bleak backends (``BleakScanner(backend=SimScanner,
world=...)``, ``BleakClient(device, backend=SimClient, world=...)``), so tests and
``--simulate`` modes drive the *real* bleak front-end classes.  :func:`simulated_backends` gives
the keyword arguments for :class:`imurep.ble.client.SensorLink` / :func:`imurep.ble.client.scan`.

Time model: the world keeps a virtual "true" clock (seconds since the sensor powered up).  With a
finite ``speed`` it advances with the event loop (``speed`` times faster); with
``speed=math.inf`` it jumps to each frame's send time and frames are sent as fast as the loop
allows (in bursts, yielding every few frames).  The host receive time of a frame is its send time
plus a random latency of up to ``FaultPlan.latency_jitter_s`` (a connection interval).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np
from bleak.args import SizedBuffer
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.client import BaseBleakClient
from bleak.backends.descriptor import BleakGATTDescriptor
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData, AdvertisementDataCallback, BaseBleakScanner
from bleak.backends.service import BleakGATTService, BleakGATTServiceCollection
from bleak.exc import BleakError, BleakGATTProtocolError
from numpy.typing import NDArray

from imurep.ble.protocol import (
    ACC_LSB_G,
    BATTERY_LEVEL_UUID,
    BATTERY_SERVICE_UUID,
    CCCD_UUID,
    CONTROL_CHAR_UUID,
    DATA_CHAR_UUID,
    DIS_SERVICE_UUID,
    ERR_INVALID_OPCODE,
    ERR_INVALID_PARAM,
    ERR_INVALID_STATE,
    ERR_UNSUPPORTED_ODR,
    ERR_UNSUPPORTED_RANGE,
    FIRMWARE_REV_UUID,
    GYR_LSB_DPS,
    HARDWARE_REV_UUID,
    IMU_SIMULATOR,
    INFO_CHAR_UUID,
    MANUFACTURER_ID,
    MANUFACTURER_UUID,
    MODEL_UUID,
    OP_SET_CONFIG,
    OP_START,
    OP_STOP,
    PROTO_MAJOR,
    SERIAL_UUID,
    SERVICE_UUID,
    STATUS_CONFIG_CHANGED,
    STATUS_FIFO_OVERFLOW,
    STATUS_STREAM_STOPPED,
    U32,
    DeviceInfo,
    StartConfig,
    decode_command,
    encode_compact_frame,
    encode_imu_frame,
    encode_status_frame,
    quantize,
    samples_per_frame,
)
from imurep.model.errors import ProtocolError

logger = logging.getLogger(__name__)

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class FaultPlan:
    """Faults injected by a :class:`SimulatedSensor`.

    Attributes
    ----------
    drop_frames
        Numbers (0-based, counted over the sensor's life) of data frames never delivered.
    duplicate_frames
        Data frames delivered twice.
    malformed_before
        Before these data frames, a malformed notification is delivered.
    overflow
        ``(recording sample number, count)``: the firmware FIFO overflows there, ``count`` samples
        are dropped (the index keeps counting) and a ``FIFO_OVERFLOW`` status frame is sent.
    drift_ppm
        Device clock rate error, parts per million (positive: the device clock runs fast).
    fail_connects
        The first ``fail_connects`` connection attempts fail (alternately ``BleakError`` and
        ``TimeoutError``).
    link_loss_after_frames
        The link drops after these data frames (counted over the sensor's life).
    link_loss_s
        Recording time that passes while the link is down (those samples are never sent).
    config_change_at_frame
        Before this data frame the firmware switches the gyro range to 2000 dps (``config_id``
        bump, ``CONFIG_CHANGED`` status frame), as another host's SET_CONFIG would.
    t0_ticks
        Device clock at power-up, ticks (set near 2**32 to exercise the timestamp wrap).
    index_start
        Sample index of the first sample after START (a debug hook to exercise the index wrap).
    latency_jitter_s
        Host receive latency is uniform in ``[0, latency_jitter_s]``, s.
    seed
        Seed of the latency jitter.
    """

    drop_frames: tuple[int, ...] = ()
    duplicate_frames: tuple[int, ...] = ()
    malformed_before: tuple[int, ...] = ()
    overflow: tuple[tuple[int, int], ...] = ()
    drift_ppm: float = 0.0
    fail_connects: int = 0
    link_loss_after_frames: tuple[int, ...] = ()
    link_loss_s: float = 0.5
    config_change_at_frame: int | None = None
    t0_ticks: int = 0
    index_start: int = 0
    latency_jitter_s: float = 0.02
    seed: int = 0


@dataclass(frozen=True, eq=False)
class SentFrame:
    """One data frame the twin produced (the test oracle).

    ``counts`` are the int16 samples (n, 6) as encoded; ``first_sample`` is the recording sample
    number of the first one; ``delivered`` is False for frames dropped by the fault plan.
    """

    segment: int
    first_sample: int
    index: int
    counts: NDArray[np.int16]
    info: DeviceInfo
    delivered: bool


class SimWorld:
    """Registry of simulated sensors and the virtual clock shared with the host side."""

    def __init__(self) -> None:
        self.sensors: dict[str, SimulatedSensor] = {}
        self._virtual_s = 0.0

    def add(self, sensor: SimulatedSensor) -> SimulatedSensor:
        """Register ``sensor`` (by its address) and bind it to this world."""
        self.sensors[sensor.address] = sensor
        sensor.world = self
        return sensor

    def clock(self) -> float:
        """Host clock of the simulation, s (pass as ``clock=`` to the client)."""
        return self._virtual_s

    def advance_to(self, t_s: float) -> None:
        self._virtual_s = max(self._virtual_s, t_s)


class SimulatedSensor:
    """Firmware twin of an imurep sensor playing a recording.

    Parameters
    ----------
    t_s
        Sample times of the recording, shape ``(n,)``, s (the IMU's own sample clock).
    acc_mps2, gyr_rads
        Shapes ``(n, 3)``: m/s² and rad/s.
    name, address
        Advertised name and (fake) address.
    speed
        Playback speed factor (1 = real time, ``math.inf`` = as fast as possible).
    mtu
        Negotiated ATT MTU, bytes (23, 185, 247 ...).
    faults
        What to inject.
    battery_pct
        Battery level reported through the Battery service and the advertisement.
    proto_major
        Protocol major version the twin speaks (to test version mismatch handling).
    """

    def __init__(
        self,
        t_s: Any,
        acc_mps2: Any,
        gyr_rads: Any,
        *,
        name: str = "imurep-SIM1",
        address: str = "5E:AA:00:00:00:01",
        speed: float = math.inf,
        mtu: int = 247,
        faults: FaultPlan | None = None,
        battery_pct: int = 87,
        rssi: int = -55,
        proto_major: int = PROTO_MAJOR,
        firmware: str = "sim-1.0.0",
    ) -> None:
        self.t_s = np.asarray(t_s, dtype=np.float64)
        self.acc_mps2 = np.asarray(acc_mps2, dtype=np.float64)
        self.gyr_rads = np.asarray(gyr_rads, dtype=np.float64)
        if self.t_s.ndim != 1 or self.t_s.size < 2:
            raise ValueError("t_s must have shape (n,) with n >= 2")
        self.name = name
        self.address = address
        self.speed = float(speed)
        self.mtu = int(mtu)
        self.faults = faults or FaultPlan()
        self.battery_pct = battery_pct
        self.rssi = rssi
        self.firmware = firmware
        self.world: SimWorld | None = None
        rate = 1.0 / float(np.median(np.diff(self.t_s)))
        self.odr_mhz = round(rate * 1000)
        self.info = DeviceInfo(
            proto_major=proto_major,
            imu_model=IMU_SIMULATOR,
            odr_mhz=self.odr_mhz,
            max_samples_per_frame=samples_per_frame(self.mtu),
        )
        self.log: list[SentFrame] = []
        self.connected = False
        self.streaming = False
        self.pos = 0  # next recording sample
        self.segment = -1
        self.frame_no = 0  # data frames produced over the sensor's life
        self.connect_attempts = 0
        self.commands: list[bytes] = []
        self._subscribers: dict[str, Callable[[bytearray], None]] = {}
        self._on_disconnect: Callable[[], None] | None = None
        self._task: asyncio.Task[None] | None = None
        self._rng = np.random.default_rng(self.faults.seed)
        self._index = 0
        self._t_origin = float(self.t_s[0])

    # -- clock ----------------------------------------------------------------------------------

    def true_time(self, sample: int) -> float:
        """True time (s since power-up) at which recording sample ``sample`` is taken."""
        return float(self.t_s[min(sample, self.t_s.size - 1)]) - self._t_origin + 1.0

    def device_ticks(self, true_s: float) -> int:
        """Device clock reading (u32 ticks) at true time ``true_s``."""
        rate = self.info.clock_hz * (1.0 + self.faults.drift_ppm * 1e-6)
        return (self.faults.t0_ticks + round(true_s * rate)) % U32

    # -- link -----------------------------------------------------------------------------------

    def connect(self, on_disconnect: Callable[[], None] | None) -> None:
        self.connect_attempts += 1
        if self.connect_attempts <= self.faults.fail_connects:
            if self.connect_attempts % 2:
                raise BleakError("le-connection-abort-by-local (simulated)")
            raise TimeoutError("simulated connection timeout")
        self.connected = True
        self._on_disconnect = on_disconnect

    async def disconnect(self) -> None:
        """Host-initiated disconnect: the firmware stops streaming."""
        await self._stop_stream()
        self.connected = False
        self._subscribers.clear()

    def drop_link(self) -> None:
        """Peripheral-side link loss (supervision timeout)."""
        if not self.connected:
            return
        logger.debug("simulated link loss at sample %d", self.pos)
        self.connected = False
        self.streaming = False
        self._subscribers.clear()
        self.pos += round(self.faults.link_loss_s * self.odr_mhz / 1000.0)
        cb, self._on_disconnect = self._on_disconnect, None
        if cb is not None:
            asyncio.get_running_loop().call_soon(cb)

    # -- GATT -----------------------------------------------------------------------------------

    def gatt_table(self) -> list[tuple[str, list[tuple[str, list[str]]]]]:
        """``[(service uuid, [(characteristic uuid, properties)])]``."""
        return [
            (
                SERVICE_UUID,
                [
                    (DATA_CHAR_UUID, ["notify"]),
                    (CONTROL_CHAR_UUID, ["write", "notify"]),
                    (INFO_CHAR_UUID, ["read"]),
                ],
            ),
            (BATTERY_SERVICE_UUID, [(BATTERY_LEVEL_UUID, ["read", "notify"])]),
            (
                DIS_SERVICE_UUID,
                [
                    (MANUFACTURER_UUID, ["read"]),
                    (MODEL_UUID, ["read"]),
                    (SERIAL_UUID, ["read"]),
                    (FIRMWARE_REV_UUID, ["read"]),
                    (HARDWARE_REV_UUID, ["read"]),
                ],
            ),
        ]

    def read(self, uuid: str) -> bytes:
        values = {
            INFO_CHAR_UUID: lambda: self.info.pack(),
            BATTERY_LEVEL_UUID: lambda: bytes([self.battery_pct]),
            MANUFACTURER_UUID: lambda: b"imurep",
            MODEL_UUID: lambda: b"imurep simulated sensor",
            SERIAL_UUID: lambda: self.address.replace(":", "").encode(),
            FIRMWARE_REV_UUID: lambda: self.firmware.encode(),
            HARDWARE_REV_UUID: lambda: b"sim",
        }
        if uuid not in values:
            raise BleakGATTProtocolError(0x02)  # READ_NOT_PERMITTED
        return values[uuid]()

    def subscribe(self, uuid: str, callback: Callable[[bytearray], None]) -> None:
        self._subscribers[uuid] = callback

    def unsubscribe(self, uuid: str) -> None:
        self._subscribers.pop(uuid, None)

    async def write(self, uuid: str, data: bytes) -> None:
        """A control-point write; rejections raise ``BleakGATTProtocolError(0x80+)``."""
        if uuid != CONTROL_CHAR_UUID:
            raise BleakGATTProtocolError(0x03)  # WRITE_NOT_PERMITTED
        self.commands.append(bytes(data))
        try:
            op, cfg = decode_command(data)
        except ProtocolError as exc:
            code = ERR_INVALID_OPCODE if exc.reason.startswith("INVALID_OPCODE") else ERR_INVALID_PARAM
            raise BleakGATTProtocolError(code) from None
        if op in (OP_START, OP_SET_CONFIG):
            assert cfg is not None
            if op == OP_SET_CONFIG and self.streaming:
                raise BleakGATTProtocolError(ERR_INVALID_STATE)
            self._apply(cfg)
            if op == OP_START:
                await self._stop_stream()
                self._start_stream()
        elif op == OP_STOP:
            await self._stop_stream()

    def _apply(self, cfg: StartConfig) -> None:
        if cfg.odr_hz and abs(cfg.odr_hz * 1000 - self.odr_mhz) > 0.1 * self.odr_mhz:
            raise BleakGATTProtocolError(ERR_UNSUPPORTED_ODR)
        acc = cfg.acc_range_g or self.info.acc_range_g
        gyr = cfg.gyr_range_dps or self.info.gyr_range_dps
        if acc not in ACC_LSB_G or gyr not in GYR_LSB_DPS:
            raise BleakGATTProtocolError(ERR_UNSUPPORTED_RANGE)
        changed = (acc, gyr) != (self.info.acc_range_g, self.info.gyr_range_dps) or (
            cfg.max_latency_ms and cfg.max_latency_ms != self.info.max_latency_ms
        )
        self._set_info(
            acc_range_g=acc,
            gyr_range_dps=gyr,
            acc_lsb_g=ACC_LSB_G[acc],
            gyr_lsb_dps=GYR_LSB_DPS[gyr],
            max_latency_ms=cfg.max_latency_ms or self.info.max_latency_ms,
            bump=bool(changed),
        )

    def _set_info(self, *, bump: bool, **changes: Any) -> None:
        fields = {k: getattr(self.info, k) for k in self.info.__dataclass_fields__}
        fields.update(changes)
        if bump:
            fields["config_id"] = (fields["config_id"] + 1) & 0xFF
        self.info = DeviceInfo(**fields)

    # -- streaming ------------------------------------------------------------------------------

    def _start_stream(self) -> None:
        self.streaming = True
        self.segment += 1
        self._index = self.faults.index_start
        self._set_info(state=1, max_samples_per_frame=samples_per_frame(self.mtu), bump=False)
        self._task = asyncio.get_running_loop().create_task(self._run(), name=f"sim-sensor-{self.name}")

    async def _stop_stream(self) -> None:
        self.streaming = False
        task, self._task = self._task, None
        if task is not None and task is not asyncio.current_task():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._set_info(state=0, bump=False)

    def _notify(self, data: bytes) -> None:
        cb = self._subscribers.get(DATA_CHAR_UUID)
        if cb is not None and self.connected:
            cb(bytearray(data))

    async def _pace(self, true_s: float) -> None:
        world = self.world
        if world is None:
            raise RuntimeError("SimulatedSensor is not in a SimWorld")
        if math.isinf(self.speed):
            if self.frame_no % 16 == 0:
                await asyncio.sleep(0)
        else:
            wait = (true_s - world.clock()) / self.speed
            if wait > 0:
                await asyncio.sleep(wait)
        world.advance_to(true_s + float(self._rng.uniform(0.0, self.faults.latency_jitter_s)))

    async def _run(self) -> None:
        f = self.faults
        n_total = self.t_s.size
        overflow = dict(f.overflow)
        latency_s = self.info.max_latency_ms / 1000.0
        while self.streaming and self.connected and self.pos < n_total:
            if self.frame_no == f.config_change_at_frame:
                self._set_info(gyr_range_dps=2000, gyr_lsb_dps=GYR_LSB_DPS[2000], bump=True)
                self._notify(
                    encode_status_frame(
                        STATUS_CONFIG_CHANGED,
                        self._index,
                        self.device_ticks(self.true_time(self.pos)),
                        config_id=self.info.config_id,
                    )  # fmt: skip
                )
            if self.pos in overflow:
                count = min(overflow[self.pos], n_total - self.pos)
                t_dev = self.device_ticks(self.true_time(self.pos))
                self.pos += count
                self._notify(
                    encode_status_frame(
                        STATUS_FIFO_OVERFLOW, self._index, t_dev, count, config_id=self.info.config_id
                    )
                )
                self._index += count
                continue
            spf = self.info.max_samples_per_frame or 1
            start = self.pos
            stop = start + 1
            t0 = self.true_time(start)
            while (
                stop < n_total
                and stop - start < spf
                and stop not in overflow
                and self.true_time(stop) - t0 < latency_s
            ):
                stop += 1
            send_at = self.true_time(stop - 1) + 0.5e-3  # read out of the FIFO and sent
            await self._pace(send_at)
            if not (self.streaming and self.connected):
                break
            counts = quantize(self.acc_mps2[start:stop], self.gyr_rads[start:stop], self.info)
            t_dev = self.device_ticks(t0)
            if self.info.max_samples_per_frame == 0:
                frames = [
                    encode_compact_frame(
                        self._index + k, self.device_ticks(self.true_time(start + k)), counts[k]
                    )
                    for k in range(stop - start)
                ]
            else:
                frames = [encode_imu_frame(self._index, t_dev, counts, config_id=self.info.config_id)]
            no = self.frame_no
            delivered = no not in f.drop_frames
            self.log.append(SentFrame(self.segment, start, self._index, counts, self.info, delivered))
            if no in f.malformed_before:
                self._notify(b"\x01\x01\x05garbage")
            if delivered:
                for fr in frames:
                    self._notify(fr)
                if no in f.duplicate_frames:
                    for fr in frames:
                        self._notify(fr)
            self._index += stop - start
            self.pos = stop
            self.frame_no += 1
            if no in f.link_loss_after_frames:
                self.drop_link()
                return
        if self.streaming and self.pos >= n_total:
            t_dev = self.device_ticks(self.true_time(n_total - 1))
            self._notify(
                encode_status_frame(
                    STATUS_STREAM_STOPPED, self._index, t_dev, 0, config_id=self.info.config_id
                )
            )
            self.streaming = False

    @property
    def finished(self) -> bool:
        """The whole recording has been played."""
        return self.pos >= self.t_s.size

    def advertisement(self) -> AdvertisementData:
        """What the sensor advertises (service UUID, name, manufacturer data with battery)."""
        return AdvertisementData(
            local_name=self.name,
            manufacturer_data={MANUFACTURER_ID: bytes([self.info.proto_major, self.battery_pct])},
            service_data={},
            service_uuids=[SERVICE_UUID],
            tx_power=0,
            rssi=self.rssi,
            platform_data=(),
        )


# --- bleak backends ----------------------------------------------------------------------------


class SimScanner(BaseBleakScanner):
    """bleak scanner backend advertising the sensors of a :class:`SimWorld`."""

    def __init__(
        self,
        detection_callback: AdvertisementDataCallback | None,
        service_uuids: list[str] | None,
        scanning_mode: str = "active",
        *,
        world: SimWorld,
        advertise_interval_s: float = 0.05,
        **kwargs: Any,
    ) -> None:
        super().__init__(detection_callback, service_uuids)
        self._world = world
        self._interval = advertise_interval_s
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.seen_devices = {}
        self._task = asyncio.get_running_loop().create_task(self._advertise())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _advertise(self) -> None:
        while True:
            for sensor in list(self._world.sensors.values()):
                if sensor.connected:
                    continue  # a connected peripheral stops advertising
                adv = sensor.advertisement()
                if not self.is_allowed_uuid(adv.service_uuids):
                    continue
                dev = self.create_or_update_device(sensor.address, sensor.address, sensor.name, sensor, adv)
                self.call_detection_callbacks(dev, adv)
            await asyncio.sleep(self._interval)


class SimClient(BaseBleakClient):
    """bleak client backend connected in-process to a :class:`SimulatedSensor`."""

    def __init__(
        self, address_or_ble_device: BLEDevice | str, *, world: SimWorld | None = None, **kwargs: Any
    ) -> None:
        super().__init__(
            address_or_ble_device,
            disconnected_callback=kwargs.pop("disconnected_callback", None),
            timeout=kwargs.pop("timeout", 10.0),
        )
        sensor: SimulatedSensor | None = None
        if isinstance(address_or_ble_device, BLEDevice) and isinstance(
            address_or_ble_device.details, SimulatedSensor
        ):
            sensor = address_or_ble_device.details
        elif world is not None:
            sensor = world.sensors.get(self.address)
        self._sensor = sensor
        self._uuid_by_handle: dict[int, str] = {}

    @property
    def name(self) -> str:
        return self._sensor.name if self._sensor else self.address

    @property
    def sensor(self) -> SimulatedSensor:
        if self._sensor is None:
            raise BleakError(f"simulated device {self.address} not found")
        return self._sensor

    async def connect(self, pair: bool, **kwargs: Any) -> None:
        sensor = self.sensor
        await asyncio.sleep(0)
        sensor.connect(self._on_link_lost)
        services = BleakGATTServiceCollection()
        handle = 1
        for svc_uuid, chars in sensor.gatt_table():
            svc = BleakGATTService(None, handle, svc_uuid)
            services.add_service(svc)
            handle += 1
            for char_uuid, props in chars:
                char = BleakGATTCharacteristic(
                    None,
                    handle,
                    char_uuid,
                    cast(Any, props),
                    lambda: sensor.mtu - 3,
                    svc,
                )
                services.add_characteristic(char)
                self._uuid_by_handle[handle] = char_uuid
                handle += 2  # declaration + value
                if "notify" in props:
                    services.add_descriptor(BleakGATTDescriptor(None, handle, CCCD_UUID, char))
                    handle += 1
        self.services = services

    def _on_link_lost(self) -> None:
        if self._disconnected_callback is not None:
            self._disconnected_callback()

    async def disconnect(self) -> None:
        if self._sensor is not None and self._sensor.connected:
            await self._sensor.disconnect()

    async def pair(self, *args: Any, **kwargs: Any) -> None:
        return None

    async def unpair(self) -> None:
        return None

    @property
    def is_connected(self) -> bool:
        return self._sensor is not None and self._sensor.connected

    @property
    def mtu_size(self) -> int:
        return self.sensor.mtu

    def _check(self) -> SimulatedSensor:
        sensor = self.sensor
        if not sensor.connected:
            raise BleakError("Not connected")
        return sensor

    async def read_gatt_char(
        self, characteristic: BleakGATTCharacteristic, *, use_cached: bool = False, **kwargs: Any
    ) -> bytearray:
        await asyncio.sleep(0)
        return bytearray(self._check().read(characteristic.uuid))

    async def read_gatt_descriptor(
        self, descriptor: BleakGATTDescriptor, *, use_cached: bool = False, **kwargs: Any
    ) -> bytearray:
        return bytearray(b"\x00\x00")

    async def write_gatt_char(
        self, characteristic: BleakGATTCharacteristic, data: SizedBuffer, response: bool
    ) -> None:
        await self._check().write(characteristic.uuid, bytes(data))

    async def write_gatt_descriptor(self, descriptor: BleakGATTDescriptor, data: SizedBuffer) -> None:
        raise BleakGATTProtocolError(0x03)

    async def start_notify(
        self, characteristic: BleakGATTCharacteristic, callback: Callable[[bytearray], None], **kwargs: Any
    ) -> None:
        self._check().subscribe(characteristic.uuid, callback)

    async def stop_notify(self, characteristic: BleakGATTCharacteristic) -> None:
        if self._sensor is not None:
            self._sensor.unsubscribe(characteristic.uuid)


def simulated_backends(
    sensor: SimulatedSensor | SimWorld, *, world: SimWorld | None = None
) -> dict[str, Any]:
    """Keyword arguments for :class:`~imurep.ble.client.SensorLink` (and :func:`~imurep.ble.client.scan`).

    Returns ``{"client_backend": SimClient, "scanner_backend": SimScanner, "backend_kwargs":
    {"world": world}, "clock": world.clock, "retry_backoff_s": 0.01}``; the sensor is added to a
    new :class:`SimWorld` unless it is already in one (or ``world`` is given).
    """
    if isinstance(sensor, SimWorld):
        w = sensor
    else:
        w = world or sensor.world or SimWorld()
        if sensor.address not in w.sensors:
            w.add(sensor)
    return {
        "client_backend": SimClient,
        "scanner_backend": SimScanner,
        "backend_kwargs": {"world": w},
        "clock": w.clock,
        "retry_backoff_s": 0.01,
    }


def sensor_from_recording(path: str | Path, **kwargs: Any) -> SimulatedSensor:
    """A :class:`SimulatedSensor` playing a canonical recording CSV (``kwargs`` go to the sensor).

    Raises
    ------
    imurep.model.errors.DataValidationError
        The file is not a valid canonical recording.
    """
    from imurep.io import load_canonical

    rec = load_canonical(path)
    return SimulatedSensor(rec.t_s, rec.acc_mps2, rec.gyr_rads, **kwargs)
