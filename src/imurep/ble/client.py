"""The BLE link to an imurep sensor, built on bleak's public API (``BleakScanner``/``BleakClient``).

* :func:`scan` lists sensors advertising the imurep service (name, address, RSSI, battery).
* :class:`SensorLink` connects (with retries and back-off), reads the info characteristic,
  configures and starts the stream, and yields decoded :class:`~imurep.model.samples.ImuChunk` s and
  :class:`~imurep.ble.decoder.StreamGap` s in time order.  The notification callback only
  enqueues ``(bytes, host time)``; a consumer task decodes.  After a link loss it reconnects and
  continues (new segment, gap recorded), keeping everything already received.

Both accept ``scanner_backend``/``client_backend`` classes and ``backend_kwargs`` that are handed
to bleak's ``backend=`` hooks, which is how :mod:`imurep.ble.simulated` plugs in.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from bleak import BleakClient, BleakScanner
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData
from bleak.exc import BleakBluetoothNotAvailableError, BleakDBusError, BleakError, BleakGATTProtocolError

from imurep.ble.decoder import DecodeResult, StreamDecoder, StreamGap
from imurep.ble.protocol import (
    BATTERY_LEVEL_UUID,
    CONTROL_CHAR_UUID,
    DATA_CHAR_UUID,
    ERROR_NAMES,
    FIRMWARE_REV_UUID,
    INFO_CHAR_UUID,
    MANUFACTURER_ID,
    OP_START,
    OP_STOP,
    PROTO_MAJOR,
    SERVICE_UUID,
    STATUS_STREAM_STOPPED,
    DeviceInfo,
    StartConfig,
    encode_command,
)
from imurep.model.errors import (
    ConnectionLostError,
    ImurepError,
    ProtocolError,
    SensorNotFoundError,
    SettingsError,
)
from imurep.model.samples import ImuChunk

logger = logging.getLogger(__name__)

__all__ = ["LinkStats", "ScanResult", "SensorInfo", "SensorLink", "StreamGap", "scan"]

_NO_STACK_HINT = (
    "no usable Bluetooth adapter or stack ({detail}); check that a Bluetooth adapter is present and "
    "powered on and that the Bluetooth service (BlueZ bluetoothd on Linux) is running and accessible, "
    "or use --simulate RECORDING.csv"
)


def _no_stack(exc: BaseException) -> SensorNotFoundError:
    detail = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return SensorNotFoundError(_NO_STACK_HINT.format(detail=detail))


def _is_no_stack(exc: BaseException) -> bool:
    if isinstance(exc, BleakBluetoothNotAvailableError | FileNotFoundError | PermissionError):
        return True
    if isinstance(exc, BleakDBusError):
        return exc.dbus_error in (
            "org.bluez.Error.NotReady",
            "org.freedesktop.DBus.Error.ServiceUnknown",
            "org.freedesktop.DBus.Error.AccessDenied",
            "org.freedesktop.DBus.Error.NoReply",
        )
    return isinstance(exc, BleakError) and "adapter" in str(exc).lower() and "not found" in str(exc).lower()


@dataclass(frozen=True)
class ScanResult:
    """One sensor seen while scanning.

    Attributes
    ----------
    rssi
        Received signal strength, dBm.
    battery_pct
        From the advertised manufacturer data, ``None`` when not advertised.
    protocol_major
        Advertised protocol major version, ``None`` when not advertised.
    device
        The bleak device handle to connect to.
    """

    name: str
    address: str
    rssi: int | None
    battery_pct: int | None
    protocol_major: int | None
    device: BLEDevice = field(compare=False, repr=False)


@dataclass(frozen=True)
class SensorInfo:
    """What a connected sensor reported (rates in Hz, ranges in g and deg/s)."""

    name: str
    address: str
    firmware: str
    protocol_version: str
    sample_rate_hz: float
    acc_range_g: float
    gyr_range_dps: float
    battery_pct: int | None


@dataclass(frozen=True)
class LinkStats:
    """Counters of a :class:`SensorLink` (a snapshot)."""

    frames: int = 0
    samples: int = 0
    gaps: int = 0
    lost_samples: int = 0
    overflow_samples: int = 0
    duplicates: int = 0
    malformed: int = 0
    unknown_frames: int = 0
    status_frames: int = 0
    reconnects: int = 0
    clock_drift_ppm: float = 0.0


def _scan_result(dev: BLEDevice, adv: AdvertisementData) -> ScanResult:
    mdata = adv.manufacturer_data.get(MANUFACTURER_ID, b"")
    major = mdata[0] if len(mdata) >= 1 else None
    battery = mdata[1] if len(mdata) >= 2 and mdata[1] <= 100 else None
    return ScanResult(adv.local_name or dev.name or "", dev.address, adv.rssi, battery, major, dev)


async def _scan(
    timeout_s: float,
    scanner_backend: type | None,
    backend_kwargs: dict[str, Any] | None,
    stop_when: str | None,
) -> list[ScanResult]:
    found: dict[str, ScanResult] = {}
    done = asyncio.Event()

    def on_adv(dev: BLEDevice, adv: AdvertisementData) -> None:
        if SERVICE_UUID not in adv.service_uuids:
            return
        res = _scan_result(dev, adv)
        found[res.address] = res
        if stop_when is not None and (
            stop_when == "" or stop_when.lower() in (res.name.lower(), res.address.lower())
        ):
            done.set()

    try:
        scanner = BleakScanner(
            on_adv, service_uuids=[SERVICE_UUID], backend=scanner_backend, **(backend_kwargs or {})
        )
        async with scanner:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(done.wait(), timeout_s)
    except ImurepError:
        raise
    except (BleakError, OSError) as exc:
        if _is_no_stack(exc) or isinstance(exc, OSError):
            raise _no_stack(exc) from None
        raise SensorNotFoundError(f"Bluetooth scan failed: {exc}") from None
    return sorted(found.values(), key=lambda r: -(r.rssi if r.rssi is not None else -999))


async def scan(
    timeout_s: float = 5.0,
    *,
    scanner_backend: type | None = None,
    backend_kwargs: dict[str, Any] | None = None,
) -> list[ScanResult]:
    """Sensors advertising the imurep service, strongest first.

    Parameters
    ----------
    timeout_s
        Scan duration, s.
    scanner_backend, backend_kwargs
        bleak scanner backend class (``None`` = the platform's) and extra keyword arguments for it.

    Raises
    ------
    SensorNotFoundError
        No Bluetooth adapter or stack is available (the message says what to check).
    """
    return await _scan(timeout_s, scanner_backend, backend_kwargs, None)


_END = object()
_LINK_LOST = object()


class SensorLink:
    """A live, self-healing stream from one imurep sensor (async context manager).

    Parameters
    ----------
    device
        Advertised name or address of the sensor; ``None`` = the first one found.
    rate_hz
        Requested sample rate, Hz (the firmware snaps it; the actual rate is in :attr:`info`).
    acc_range_g, gyr_range_dps
        Requested full-scale ranges (supported: 2/4/8/16 g, 125/245/500/1000/2000 dps).
    client_backend, scanner_backend, backend_kwargs
        bleak backend classes (``None`` = platform default) and extra keyword arguments for them.
    reconnect
        Reconnect after a link loss (else the stream ends with :class:`ConnectionLostError`).
    max_retries
        Connection attempts after the first one (exponential back-off from ``retry_backoff_s``,
        capped at 5 s).
    scan_timeout_s
        How long to look for the sensor, s.
    clock
        Host clock used to timestamp notifications, s (default ``time.monotonic``).
    """

    def __init__(
        self,
        device: str | None = None,
        *,
        rate_hz: float = 104.0,
        acc_range_g: int = 8,
        gyr_range_dps: int = 1000,
        max_latency_ms: int = 0,
        client_backend: type | None = None,
        scanner_backend: type | None = None,
        backend_kwargs: dict[str, Any] | None = None,
        reconnect: bool = True,
        max_retries: int = 5,
        scan_timeout_s: float = 10.0,
        connect_timeout_s: float = 20.0,
        retry_backoff_s: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not 0 < rate_hz < 65536:
            raise SettingsError(f"rate_hz must be in (0, 65536) Hz, got {rate_hz!r}")
        self.device = device
        self.config = StartConfig(round(rate_hz), acc_range_g, gyr_range_dps, max_latency_ms)
        self._client_backend = client_backend
        self._scanner_backend = scanner_backend
        self._backend_kwargs = dict(backend_kwargs or {})
        self.reconnect = reconnect
        self.max_retries = max_retries
        self.scan_timeout_s = scan_timeout_s
        self.connect_timeout_s = connect_timeout_s
        self.retry_backoff_s = retry_backoff_s
        self._clock = clock
        self.decoder = StreamDecoder()
        self.info: SensorInfo
        self.device_info: DeviceInfo | None = None
        self._client: BleakClient | None = None
        self._raw: asyncio.Queue[Any] = asyncio.Queue()
        self._out: asyncio.Queue[Any] = asyncio.Queue()
        self._consumer: asyncio.Task[None] | None = None
        self._stopping = False
        self._stopped = False
        self._reconnects = 0
        self._last_malformed_log = -1e9

    # -- public API -----------------------------------------------------------------------------

    @property
    def stats(self) -> LinkStats:
        """Counters so far (a frozen snapshot)."""
        s = self.decoder.stats
        return LinkStats(
            frames=s.frames,
            samples=s.samples,
            gaps=s.gaps,
            lost_samples=s.lost_samples,
            overflow_samples=s.overflow_samples,
            duplicates=s.duplicates,
            malformed=s.malformed,
            unknown_frames=s.unknown,
            status_frames=s.status,
            reconnects=self._reconnects,
            clock_drift_ppm=self.decoder.clock.drift_ppm,
        )

    async def __aenter__(self) -> SensorLink:
        await self._connect(first=True)
        self._consumer = asyncio.get_running_loop().create_task(self._consume(), name="imurep-ble-consumer")
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    async def stream(self) -> AsyncIterator[ImuChunk | StreamGap]:
        """Decoded chunks and gaps in time order (host time base); ends after :meth:`stop`.

        Also ends when the sensor reports that it stopped streaming (e.g. a simulated recording
        is over).  Raises :class:`ConnectionLostError` if the link is lost and cannot be
        re-established.
        """
        while True:
            item = await self._out.get()
            if item is _END:
                self._out.put_nowait(_END)  # later calls end at once too
                return
            if isinstance(item, BaseException):
                self._out.put_nowait(_END)
                raise item
            yield item

    async def stop(self) -> None:
        """Stop streaming and disconnect; :meth:`stream` ends after what was already received."""
        if self._stopped:
            return
        self._stopped = True
        self._stopping = True
        client = self._client
        if client is not None and client.is_connected:
            try:
                await client.write_gatt_char(CONTROL_CHAR_UUID, encode_command(OP_STOP), response=True)
                await client.stop_notify(DATA_CHAR_UUID)
            except (BleakError, OSError, TimeoutError) as exc:
                logger.debug("stop: %s", exc)
            with contextlib.suppress(BleakError, OSError, TimeoutError):
                await client.disconnect()
        self._raw.put_nowait(_END)
        consumer = self._consumer
        if consumer is not None:
            try:
                await asyncio.wait_for(asyncio.shield(consumer), 5.0)
            except TimeoutError:
                consumer.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await consumer
                self._out.put_nowait(_END)
        else:
            self._out.put_nowait(_END)

    # -- connection -----------------------------------------------------------------------------

    async def _find(self) -> BLEDevice:
        found = await _scan(
            self.scan_timeout_s, self._scanner_backend, self._backend_kwargs, self.device or ""
        )
        want = (self.device or "").lower()
        for res in found:
            if not want or want in (res.name.lower(), res.address.lower()):
                if res.protocol_major is not None and res.protocol_major != PROTO_MAJOR:
                    raise ProtocolError(
                        bytes([res.protocol_major]),
                        f"sensor {res.name} advertises protocol v{res.protocol_major}, this imurep supports "
                        f"v{PROTO_MAJOR}; update imurep or the sensor firmware",
                    )
                return res.device
        seen = ", ".join(f"{r.name} ({r.address})" for r in found) or "none"
        target = f"sensor {self.device!r}" if self.device else "imurep sensor"
        raise SensorNotFoundError(
            f"no {target} found within {self.scan_timeout_s:g} s (sensors seen: {seen}); check that it is "
            "switched on, in range and not connected to another host"
        )

    async def _connect(self, *, first: bool) -> None:
        last: BaseException | None = None
        attempts = self.max_retries + 1
        for attempt in range(attempts):
            if self._stopping:
                raise ConnectionLostError("stopped while reconnecting")
            try:
                device = await self._find()
                await self._connect_once(device)
                return
            except (ProtocolError, SettingsError):
                raise
            except SensorNotFoundError as exc:
                if first:
                    raise
                last = exc
            except (BleakError, OSError, TimeoutError) as exc:
                if _is_no_stack(exc):
                    raise _no_stack(exc) from None
                last = exc
            delay = min(5.0, self.retry_backoff_s * 2**attempt)
            logger.info(
                "connection attempt %d/%d failed (%s); retrying in %.2f s", attempt + 1, attempts, last, delay
            )
            await asyncio.sleep(delay)
        what = self.device or "the sensor"
        raise ConnectionLostError(f"could not connect to {what} after {attempts} attempts: {last}")

    async def _connect_once(self, device: BLEDevice) -> None:
        client = BleakClient(
            device,
            disconnected_callback=self._on_disconnect,
            timeout=self.connect_timeout_s,
            backend=self._client_backend,
            **self._backend_kwargs,
        )
        await client.connect()
        try:
            info = await self._read_info(client)
            firmware = await self._read_text(client, FIRMWARE_REV_UUID)
            battery = await self._read_battery(client)
            self.decoder.set_info(info)
            await client.start_notify(DATA_CHAR_UUID, self._on_data)
            try:
                await client.write_gatt_char(
                    CONTROL_CHAR_UUID, encode_command(OP_START, self.config), response=True
                )
            except BleakGATTProtocolError as exc:
                name = ERROR_NAMES.get(int(exc.code), f"0x{int(exc.code):02x}")
                raise SettingsError(
                    f"the sensor refused START (rate {self.config.odr_hz} Hz, ±{self.config.acc_range_g} g, "
                    f"±{self.config.gyr_range_dps} dps): {name}; choose a supported rate/range"
                ) from None
            info = await self._read_info(client)  # the values actually applied
            self.decoder.set_info(info)
        except BaseException:
            with contextlib.suppress(BleakError, OSError, TimeoutError):
                await client.disconnect()
            raise
        self._client = client
        self.device_info = info
        self.info = SensorInfo(
            name=client.name or device.name or "",
            address=device.address,
            firmware=firmware,
            protocol_version=f"{info.proto_major}.{info.proto_minor}",
            sample_rate_hz=info.odr_hz,
            acc_range_g=float(info.acc_range_g),
            gyr_range_dps=float(info.gyr_range_dps),
            battery_pct=battery,
        )
        logger.info(
            "connected to %s (%s), MTU %d, %s", self.info.name, device.address, client.mtu_size, self.info
        )

    async def _read_info(self, client: BleakClient) -> DeviceInfo:
        data = await client.read_gatt_char(INFO_CHAR_UUID)
        return DeviceInfo.unpack(data)

    async def _read_text(self, client: BleakClient, uuid: str) -> str:
        try:
            return bytes(await client.read_gatt_char(uuid)).decode("utf-8", "replace")
        except (BleakError, OSError):
            return ""

    async def _read_battery(self, client: BleakClient) -> int | None:
        try:
            data = await client.read_gatt_char(BATTERY_LEVEL_UUID)
        except (BleakError, OSError):
            return None
        return data[0] if len(data) == 1 and data[0] <= 100 else None

    # -- callbacks (event loop thread; they only enqueue) ---------------------------------------

    def _on_data(self, _char: BleakGATTCharacteristic, data: bytearray) -> None:
        self._raw.put_nowait((bytes(data), self._clock()))

    def _on_disconnect(self, client: BleakClient) -> None:
        if self._stopping or client is not self._client:
            return
        self._raw.put_nowait(_LINK_LOST)

    # -- consumer -------------------------------------------------------------------------------

    async def _consume(self) -> None:
        try:
            while True:
                item = await self._raw.get()
                if item is _END:
                    break
                if item is _LINK_LOST:
                    if not await self._handle_link_lost():
                        break
                    continue
                data, host = item
                try:
                    res = self.decoder.feed(data, host)
                except ProtocolError as exc:
                    if host - self._last_malformed_log > 10.0:
                        self._last_malformed_log = host
                        logger.warning(
                            "skipping malformed frame: %s (%d so far)",
                            exc.reason,
                            self.decoder.stats.malformed,
                        )
                    continue
                items = res.items()
                status = list(res.status)
                if res.needs_info:
                    more = await self._refresh_info()
                    if more is not None:
                        items += more.items()
                        status += more.status
                ended = any(s.code == STATUS_STREAM_STOPPED for s in status)
                for it in items:
                    self._out.put_nowait(it)
                if ended:
                    logger.info("the sensor stopped streaming")
                    break
        except ImurepError as exc:
            self._out.put_nowait(exc)
        finally:
            self._out.put_nowait(_END)

    async def _refresh_info(self) -> DecodeResult | None:
        client = self._client
        if client is None:
            return None
        try:
            info = await self._read_info(client)
        except (BleakError, OSError, TimeoutError) as exc:
            logger.warning("could not re-read the sensor info after a configuration change: %s", exc)
            return None
        logger.info("sensor configuration changed (config_id %d)", info.config_id)
        self.device_info = info
        return self.decoder.set_info(info)

    async def _handle_link_lost(self) -> bool:
        if self._stopping:
            return False
        if not self.reconnect:
            raise ConnectionLostError("the link to the sensor was lost (reconnect disabled)")
        logger.warning("link to the sensor lost; reconnecting")
        self._reconnects += 1
        self.decoder.new_segment()
        self._client = None
        await self._connect(first=False)
        return True


def format_scan(results: list[ScanResult]) -> str:
    """A plain-text table of scan results (one sensor per line)."""
    if not results:
        return "no imurep sensors found"
    lines = [f"{'name':<20} {'address':<40} {'rssi':>5} {'battery':>8}"]
    for r in results:
        rssi = f"{r.rssi}" if r.rssi is not None else "?"
        batt = f"{r.battery_pct}%" if r.battery_pct is not None else "?"
        lines.append(f"{r.name:<20} {r.address:<40} {rssi:>5} {batt:>8}")
    return "\n".join(lines)
