"""Test-only bumble tier: the firmware twin as a real GATT server, reached through real ATT/GATT.

* :class:`BumbleWorld`: one in-process ``bumble.link.LocalLink`` with software controllers
  (``bumble.controller.Controller``) and hosts (``bumble.host.Host`` + ``bumble.device.Device``).
* :class:`BumblePeripheral`: a :class:`~imurep.ble.simulated.SimulatedSensor` (the same control-point
  state machine, flush policy and frame encoder as tier 1) exposed as a bumble GATT server: its
  ``gatt_table()`` becomes bumble services (bumble adds the CCCDs), reads/writes go to the twin,
  twin rejections (``BleakGATTProtocolError``) become ATT error responses, the twin's frames become
  ATT notifications (only once the host has written the CCCD), and the negotiated ATT MTU is fed
  back to the twin, which sizes its frames from it.  Advertising: flags + the 128-bit service UUID
  + manufacturer data in the ADV, the name in the scan response (PROTOCOL.md §1).
* :class:`BumbleScanner` / :class:`BumbleClient`: thin bleak backends over a bumble *central*, to
  drive the real ``BleakScanner`` / ``BleakClient`` (``backend=``) and :class:`SensorLink`.

Fidelity: real ATT/GATT PDUs (MTU exchange, discovery, CCCD writes, error responses); no radio
timing (``LocalLink`` delivers with ``call_soon``).  Kept out of the runtime package on purpose.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import itertools
import struct
import uuid
from collections.abc import Callable
from typing import Any, cast

from bleak.args import SizedBuffer
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.client import BaseBleakClient
from bleak.backends.descriptor import BleakGATTDescriptor
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData, AdvertisementDataCallback, BaseBleakScanner
from bleak.backends.service import BleakGATTService, BleakGATTServiceCollection
from bleak.exc import BleakError, BleakGATTProtocolError
from bumble import att, gatt, hci
from bumble.controller import Controller
from bumble.device import Advertisement, Connection, Device, Peer
from bumble.host import Host
from bumble.link import LocalLink
from bumble.transport.common import AsyncPipeSink

from imurep.ble.protocol import DATA_CHAR_UUID, MANUFACTURER_ID, SERVICE_UUID, sig_uuid
from imurep.ble.simulated import SimulatedSensor, SimWorld

_PROPS = {
    "read": gatt.Characteristic.Properties.READ,
    "write": gatt.Characteristic.Properties.WRITE,
    "write-without-response": gatt.Characteristic.Properties.WRITE_WITHOUT_RESPONSE,
    "notify": gatt.Characteristic.Properties.NOTIFY,
    "indicate": gatt.Characteristic.Properties.INDICATE,
}
_ADDRESSES = itertools.count(1)


class _Controller(Controller):
    """bumble 0.0.236's software controller answers an active scan with the ADV data in the
    SCAN_RSP report; substitute the advertiser's real scan-response data (set by its host through
    HCI), so the name travels in the scan response as PROTOCOL.md §1 specifies."""

    def send_hci_packet(self, packet: hci.HCI_Packet) -> None:
        if isinstance(packet, hci.HCI_LE_Extended_Advertising_Report_Event):
            scan_rsp = hci.HCI_LE_Extended_Advertising_Report_Event.EventType.SCAN_RESPONSE
            reports = [
                dataclasses.replace(r, data=self._scan_response_of(r.address, r.data))
                if r.event_type & scan_rsp
                else r
                for r in packet.reports
            ]
            packet = hci.HCI_LE_Extended_Advertising_Report_Event(reports)
        super().send_hci_packet(packet)

    def _scan_response_of(self, address: hci.Address, default: bytes) -> bytes:
        other = self.link.find_le_controller(address)
        if other is None:
            return default
        for adv_set in other.advertising_sets.values():
            if adv_set.address == address:
                return bytes(adv_set.scan_response_data)
        return bytes(other.le_legacy_advertiser.scan_response_data)


class BumbleWorld:
    """A ``LocalLink`` and the bumble devices on it (one shared central for the bleak backends)."""

    def __init__(self) -> None:
        self.link = LocalLink()
        self.peripherals: dict[str, BumblePeripheral] = {}
        self.sim = SimWorld()  # the twins' virtual clock (host timestamps use it too)
        self._central: Device | None = None
        self._central_lock = asyncio.Lock()

    def new_device(self, name: str) -> Device:
        n = next(_ADDRESSES)
        addr = f"F0:00:00:00:{(n >> 8) & 0xFF:02X}:{n & 0xFF:02X}"
        controller = _Controller(name, link=self.link, public_address=addr)
        return Device(name=name, address=hci.Address(addr), host=Host(controller, AsyncPipeSink(controller)))

    async def central(self) -> Device:
        async with self._central_lock:
            if self._central is None:
                dev = self.new_device("imurep-host")
                await dev.power_on()
                self._central = dev
            return self._central


def _refuse_read(_conn: Connection) -> bytes:
    raise att.ATT_Error(att.ErrorCode.READ_NOT_PERMITTED)


def _refuse_write(_conn: Connection, _value: bytes) -> None:
    raise att.ATT_Error(att.ErrorCode.WRITE_NOT_PERMITTED)


def _uuid_le(u: str) -> bytes:
    return uuid.UUID(u).bytes[::-1]


class BumblePeripheral:
    """A :class:`SimulatedSensor` served by a bumble GATT server (see the module docstring).

    Attributes
    ----------
    subscriptions
        ``(characteristic uuid, notify enabled)`` for every CCCD write the server saw.
    writes
        Raw control-point writes as received over ATT.
    notified
        Data notifications handed to bumble, in order.
    """

    def __init__(self, world: BumbleWorld, sensor: SimulatedSensor, *, max_mtu: int = 247) -> None:
        self.world = world
        self.sensor = sensor
        world.sim.add(sensor)
        self.device = world.new_device(sensor.name)
        self.device.gatt_server.max_mtu = max_mtu
        self.subscriptions: list[tuple[str, bool]] = []
        self.writes: list[bytes] = []
        self.notified: list[bytes] = []
        self.connection: Connection | None = None
        self._chars: dict[str, gatt.Characteristic[Any]] = {}
        self._queue: asyncio.Queue[bytes] = asyncio.Queue()
        self._pump: asyncio.Task[None] | None = None
        services = []
        for svc_uuid, chars in sensor.gatt_table():
            characteristics = []
            for char_uuid, props in chars:
                flags = gatt.Characteristic.Properties(0)
                for prop in props:
                    flags |= _PROPS[prop]
                perms = gatt.Characteristic.Permissions(0)
                if "read" in props:
                    perms |= gatt.Characteristic.Permissions.READABLE
                if "write" in props:
                    perms |= gatt.Characteristic.Permissions.WRITEABLE
                # Every value gets both callbacks: bumble 0.0.236 does not check the permissions
                # itself, so refusals are answered here as a SoftDevice would (0x02 / 0x03).
                value = gatt.CharacteristicValue(
                    read=self._reader(char_uuid) if "read" in props else _refuse_read,
                    write=self._writer(char_uuid) if "write" in props else _refuse_write,
                )
                char: gatt.Characteristic[Any] = gatt.Characteristic(char_uuid, flags, perms, value)
                char.on(char.EVENT_SUBSCRIPTION, self._subscription_handler(char_uuid))
                self._chars[char_uuid] = char
                characteristics.append(char)
            services.append(gatt.Service(svc_uuid, characteristics))
        for svc in services:
            self.device.add_service(svc)
        self.device.on(self.device.EVENT_CONNECTION, self._on_connection)

    @property
    def address(self) -> str:
        return str(self.device.random_address.to_string(False))

    def advertising_data(self) -> tuple[bytes, bytes]:
        """(ADV, scan response) as PROTOCOL.md §1 specifies (legacy, <= 31 bytes each)."""
        mfr = struct.pack("<HBB", MANUFACTURER_ID, self.sensor.info.proto_major, self.sensor.battery_pct)
        adv = (
            bytes([2, 0x01, 0x06])
            + bytes([17, 0x07])
            + _uuid_le(SERVICE_UUID)
            + bytes([1 + len(mfr), 0xFF])
            + mfr
        )
        name = self.sensor.name.encode()
        scan_rsp = bytes([1 + len(name), 0x09]) + name
        assert len(adv) <= 31 and len(scan_rsp) <= 31
        return adv, scan_rsp

    async def start(self) -> None:
        await self.device.power_on()
        self.world.peripherals[self.address] = self
        adv, rsp = self.advertising_data()
        await self.device.start_advertising(
            advertising_data=adv, scan_response_data=rsp, auto_restart=True, advertising_interval_min=20.0,
            advertising_interval_max=20.0,
        )  # fmt: skip
        self._pump = asyncio.get_running_loop().create_task(self._run_pump(), name="bumble-notify-pump")

    async def close(self) -> None:
        if self._pump is not None:
            self._pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pump
        with contextlib.suppress(Exception):
            await self.sensor.disconnect()
        with contextlib.suppress(Exception):
            await self.device.stop_advertising()

    # -- GATT callbacks ---------------------------------------------------------------------

    def _reader(self, char_uuid: str) -> Callable[[Connection], bytes]:
        def read(_conn: Connection) -> bytes:
            try:
                return self.sensor.read(char_uuid)
            except BleakGATTProtocolError as exc:
                raise att.ATT_Error(int(exc.code)) from None

        return read

    def _writer(self, char_uuid: str) -> Callable[[Connection, bytes], Any]:
        async def write(_conn: Connection, value: bytes) -> None:
            self.writes.append(bytes(value))
            try:
                await self.sensor.write(char_uuid, bytes(value))
            except BleakGATTProtocolError as exc:
                raise att.ATT_Error(int(exc.code)) from None

        return write

    def _subscription_handler(self, char_uuid: str) -> Callable[..., None]:
        def on_subscription(_bearer: Any, notify: bool, _indicate: bool) -> None:
            self.subscriptions.append((char_uuid, notify))
            if char_uuid != DATA_CHAR_UUID:
                return
            if notify:
                self.sensor.subscribe(DATA_CHAR_UUID, self._enqueue)
            else:
                self.sensor.unsubscribe(DATA_CHAR_UUID)

        return on_subscription

    def _enqueue(self, data: bytearray) -> None:
        self._queue.put_nowait(bytes(data))

    async def _run_pump(self) -> None:
        # One sender keeps the notifications in the order the twin produced them.
        char = self._chars[DATA_CHAR_UUID]
        while True:
            data = await self._queue.get()
            conn = self.connection
            if conn is None:
                continue
            self.notified.append(data)
            await self.device.notify_subscriber(conn, char, data)

    # -- link -------------------------------------------------------------------------------

    def _on_connection(self, connection: Connection) -> None:
        self.connection = connection
        self.sensor.connect(None)
        self.sensor.mtu = connection.att_mtu  # 23 until (unless) the central exchanges MTUs

        def on_mtu() -> None:
            self.sensor.mtu = connection.att_mtu  # the twin sizes its frames from it at START

        def on_disconnection(_reason: int) -> None:
            self.connection = None
            while not self._queue.empty():
                self._queue.get_nowait()
            asyncio.get_running_loop().create_task(self.sensor.disconnect())

        connection.on(connection.EVENT_CONNECTION_ATT_MTU_UPDATE, on_mtu)
        connection.on(connection.EVENT_DISCONNECTION, on_disconnection)


# --- bleak backends over a bumble central ------------------------------------------------------


def _parse_ad(data: bytes) -> tuple[str | None, list[str], dict[int, bytes]]:
    name: str | None = None
    uuids: list[str] = []
    mfr: dict[int, bytes] = {}
    i = 0
    while i + 1 < len(data):
        n = data[i]
        if n == 0:
            break
        ad_type, body = data[i + 1], data[i + 2 : i + 1 + n]
        if ad_type in (0x06, 0x07):
            uuids += [str(uuid.UUID(bytes=body[k : k + 16][::-1])) for k in range(0, len(body) - 15, 16)]
        elif ad_type in (0x02, 0x03):
            uuids += [sig_uuid(int.from_bytes(body[k : k + 2], "little")) for k in range(0, len(body) - 1, 2)]
        elif ad_type in (0x08, 0x09):
            name = body.decode("utf-8", "replace")
        elif ad_type == 0xFF and len(body) >= 2:
            mfr[int.from_bytes(body[:2], "little")] = bytes(body[2:])
        i += 1 + n
    return name, uuids, mfr


class BumbleScanner(BaseBleakScanner):
    """bleak scanner backend: a bumble central scanning the ``LocalLink``."""

    def __init__(
        self,
        detection_callback: AdvertisementDataCallback | None,
        service_uuids: list[str] | None,
        scanning_mode: str = "active",
        *,
        world: BumbleWorld,
        **kwargs: Any,
    ) -> None:
        super().__init__(detection_callback, service_uuids)
        self._world = world
        self._device: Device | None = None
        self._merged: dict[str, tuple[str | None, list[str], dict[int, bytes]]] = {}

    async def start(self) -> None:
        self.seen_devices = {}
        self._merged = {}
        self._device = await self._world.central()
        self._device.on(self._device.EVENT_ADVERTISEMENT, self._on_advertisement)
        await self._device.start_scanning(active=True, filter_duplicates=False)

    async def stop(self) -> None:
        if self._device is not None:
            self._device.remove_listener(self._device.EVENT_ADVERTISEMENT, self._on_advertisement)
            with contextlib.suppress(Exception):
                await self._device.stop_scanning()
            self._device = None

    def _on_advertisement(self, adv: Advertisement) -> None:
        address = adv.address.to_string(False)
        name, uuids, mfr = _parse_ad(adv.data_bytes)
        old_name, old_uuids, old_mfr = self._merged.get(address, (None, [], {}))
        merged = (name or old_name, sorted({*old_uuids, *uuids}), {**old_mfr, **mfr})
        self._merged[address] = merged
        data = AdvertisementData(
            local_name=merged[0],
            manufacturer_data=merged[2],
            service_data={},
            service_uuids=merged[1],
            tx_power=None,
            rssi=adv.rssi,
            platform_data=(adv,),
        )
        if not self.is_allowed_uuid(data.service_uuids):
            return
        device = self.create_or_update_device(address, address, merged[0], adv.address, data)
        self.call_detection_callbacks(device, data)


class BumbleClient(BaseBleakClient):
    """bleak client backend: a bumble central connection (real ATT client).

    On connect it does what the OS stacks do: MTU exchange (``request_mtu``, default 247), then
    full discovery (services, characteristics, descriptors) mapped to bleak's GATT objects.
    """

    def __init__(
        self,
        address_or_ble_device: BLEDevice | str,
        *,
        world: BumbleWorld,
        request_mtu: int = 247,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            address_or_ble_device,
            disconnected_callback=kwargs.pop("disconnected_callback", None),
            timeout=kwargs.pop("timeout", 10.0),
        )
        self._world = world
        self._target: hci.Address = (
            address_or_ble_device.details
            if isinstance(address_or_ble_device, BLEDevice)
            and isinstance(address_or_ble_device.details, hci.Address)
            else hci.Address(self.address)
        )
        self._request_mtu = request_mtu
        self._connection: Connection | None = None
        self._peer: Peer | None = None
        self._name = address_or_ble_device.name if isinstance(address_or_ble_device, BLEDevice) else None

    @property
    def name(self) -> str:
        return self._name or self.address

    async def connect(self, pair: bool, **kwargs: Any) -> None:
        central = await self._world.central()
        try:
            conn = await central.connect(self._target, timeout=self._timeout)
        except Exception as exc:  # bumble raises its own errors (timeout, connection failure)
            raise BleakError(f"bumble connect failed: {exc}") from exc
        self._connection = conn
        conn.on(conn.EVENT_DISCONNECTION, self._on_disconnection)
        peer = Peer(conn)
        self._peer = peer
        if self._request_mtu:
            await peer.request_mtu(self._request_mtu)
        await peer.discover_all()
        services = BleakGATTServiceCollection()
        for svc in peer.services:
            bsvc = BleakGATTService(svc, svc.handle, _norm_uuid(svc.uuid))
            services.add_service(bsvc)
            for ch in svc.characteristics:
                props = [name for name, flag in _PROPS.items() if ch.properties & flag]
                bch = BleakGATTCharacteristic(
                    ch, ch.handle, _norm_uuid(ch.uuid), cast(Any, props), lambda: conn.att_mtu - 3, bsvc
                )
                services.add_characteristic(bch)
                for d in ch.descriptors:
                    services.add_descriptor(BleakGATTDescriptor(d, d.handle, _norm_uuid(d.type), bch))
        self.services = services

    def _on_disconnection(self, _reason: int) -> None:
        self._connection = None
        if self._disconnected_callback is not None:
            self._disconnected_callback()

    async def disconnect(self) -> None:
        conn = self._connection
        if conn is not None:
            with contextlib.suppress(Exception):
                await conn.disconnect()

    async def pair(self, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError("pairing is not used by imurep")

    async def unpair(self) -> None:
        raise NotImplementedError("pairing is not used by imurep")

    @property
    def is_connected(self) -> bool:
        return self._connection is not None

    @property
    def mtu_size(self) -> int:
        if self._connection is None:
            raise BleakError("Not connected")
        return int(self._connection.att_mtu)

    def _proxy(self, obj: BleakGATTCharacteristic | BleakGATTDescriptor) -> Any:
        if self._connection is None:
            raise BleakError("Not connected")
        return obj.obj

    async def read_gatt_char(
        self, characteristic: BleakGATTCharacteristic, *, use_cached: bool = False, **kwargs: Any
    ) -> bytearray:
        try:
            return bytearray(await self._proxy(characteristic).read_value())
        except att.ATT_Error as exc:
            raise BleakGATTProtocolError(int(exc.error_code)) from None

    async def read_gatt_descriptor(
        self, descriptor: BleakGATTDescriptor, *, use_cached: bool = False, **kwargs: Any
    ) -> bytearray:
        try:
            return bytearray(await self._proxy(descriptor).read_value())
        except att.ATT_Error as exc:
            raise BleakGATTProtocolError(int(exc.error_code)) from None

    async def write_gatt_char(
        self, characteristic: BleakGATTCharacteristic, data: SizedBuffer, response: bool
    ) -> None:
        try:
            await self._proxy(characteristic).write_value(bytes(data), with_response=response)
        except att.ATT_Error as exc:
            raise BleakGATTProtocolError(int(exc.error_code)) from None

    async def write_gatt_descriptor(self, descriptor: BleakGATTDescriptor, data: SizedBuffer) -> None:
        try:
            await self._proxy(descriptor).write_value(bytes(data), with_response=True)
        except att.ATT_Error as exc:
            raise BleakGATTProtocolError(int(exc.error_code)) from None

    async def start_notify(
        self, characteristic: BleakGATTCharacteristic, callback: Callable[[bytearray], None], **kwargs: Any
    ) -> None:
        def on_value(value: bytes) -> None:
            callback(bytearray(value))

        try:
            await self._proxy(characteristic).subscribe(on_value, prefer_notify=True)
        except att.ATT_Error as exc:
            raise BleakGATTProtocolError(int(exc.error_code)) from None

    async def stop_notify(self, characteristic: BleakGATTCharacteristic) -> None:
        if self._connection is not None:
            await self._proxy(characteristic).unsubscribe(force=True)


def _norm_uuid(u: Any) -> str:
    """bumble UUID → bleak's lower-case 128-bit string."""
    raw: bytes = u.to_bytes(force_128=True)  # little-endian
    return str(uuid.UUID(bytes=raw[::-1]))


def bumble_backends(world: BumbleWorld) -> dict[str, Any]:
    """Keyword arguments for :class:`~imurep.ble.client.SensorLink` over the bumble tier."""
    return {
        "client_backend": BumbleClient,
        "scanner_backend": BumbleScanner,
        "backend_kwargs": {"world": world},
        "clock": world.sim.clock,
        "retry_backoff_s": 0.01,
    }
