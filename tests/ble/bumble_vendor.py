"""Test-only bumble tier for the vendor twins: a :class:`~imurep.ble.simperipheral.SimPeripheral`
(e.g. the Polar Verity Sense twin) served as a real bumble GATT server on :mod:`bumble_tier`'s
in-process ``LocalLink``.

* The twin's ``gatt_table()`` becomes bumble services (bumble adds the CCCDs); reads and writes go
  to the twin, its ``BleakGATTProtocolError`` s become ATT error responses.
* A CCCD write subscribes the twin's characteristic; what the twin ``notify()`` s goes out as an
  ATT notification or, for characteristics that only indicate (the PMD control point), as an ATT
  indication (each one confirmed before the next), in the order the twin produced them.
* The negotiated ATT MTU is fed back to the twin (the Polar twin sizes its frames from it).
* Advertising: flags + 16-bit service UUIDs + manufacturer data in the ADV, the name in the scan
  response.

The twin keeps its own virtual clock (a :class:`~imurep.ble.simperipheral.PeripheralWorld`);
:func:`vendor_bumble_backends` gives the driver the bumble bleak backends and that clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
import uuid
from collections.abc import Callable
from typing import Any

from bleak.exc import BleakGATTProtocolError
from bumble import att, gatt
from bumble.device import Connection
from bumble_tier import _PROPS, BumbleClient, BumbleScanner, BumbleWorld, _refuse_read, _refuse_write

from imurep.ble.simperipheral import PeripheralWorld, SimPeripheral

_SIG_BASE = "-0000-1000-8000-00805f9b34fb"


def _ad(ad_type: int, body: bytes) -> bytes:
    return bytes([1 + len(body), ad_type]) + body


class VendorBumblePeripheral:
    """A vendor twin served by a bumble GATT server (see the module docstring).

    Attributes
    ----------
    subscriptions
        ``(characteristic uuid, notify, indicate)`` for every CCCD write the server saw.
    sent
        ``(characteristic uuid, value, "notify" | "indicate")`` handed to bumble, in order.
    """

    def __init__(self, world: BumbleWorld, twin: SimPeripheral, *, max_mtu: int = 247) -> None:
        self.world = world
        self.twin = twin
        self.twin_world = twin.world or PeripheralWorld()
        if twin.world is None:
            self.twin_world.add(twin)
        self.device = world.new_device(twin.name)
        self.device.gatt_server.max_mtu = max_mtu
        self.subscriptions: list[tuple[str, bool, bool]] = []
        self.sent: list[tuple[str, bytes, str]] = []
        self.connection: Connection | None = None
        self._chars: dict[str, gatt.Characteristic[Any]] = {}
        self._props: dict[str, list[str]] = {}
        self._queue: asyncio.Queue[tuple[str, bytes]] = asyncio.Queue()
        self._pump: asyncio.Task[None] | None = None
        for svc_uuid, chars in twin.gatt_table():
            characteristics = []
            for char_uuid, props in chars:
                flags = gatt.Characteristic.Properties(0)
                for prop in props:
                    flags |= _PROPS[prop]
                perms = gatt.Characteristic.Permissions(0)
                if "read" in props:
                    perms |= gatt.Characteristic.Permissions.READABLE
                if "write" in props or "write-without-response" in props:
                    perms |= gatt.Characteristic.Permissions.WRITEABLE
                value = gatt.CharacteristicValue(
                    read=self._reader(char_uuid) if "read" in props else _refuse_read,
                    write=self._writer(char_uuid)
                    if ("write" in props or "write-without-response" in props)
                    else _refuse_write,
                )
                char: gatt.Characteristic[Any] = gatt.Characteristic(char_uuid, flags, perms, value)
                char.on(char.EVENT_SUBSCRIPTION, self._subscription_handler(char_uuid))
                self._chars[char_uuid] = char
                self._props[char_uuid] = list(props)
                characteristics.append(char)
            self.device.add_service(gatt.Service(svc_uuid, characteristics))
        self.device.on(self.device.EVENT_CONNECTION, self._on_connection)

    @property
    def address(self) -> str:
        return str(self.device.random_address.to_string(False))

    def advertising_data(self) -> tuple[bytes, bytes]:
        """(ADV, scan response) from the twin's advertisement (legacy, <= 31 bytes each)."""
        adv_data = self.twin.advertisement()
        short = [
            int(u[4:8], 16) for u in adv_data.service_uuids if u.startswith("0000") and u.endswith(_SIG_BASE)
        ]
        adv = _ad(0x01, b"\x06")
        if short:
            adv += _ad(0x03, b"".join(struct.pack("<H", u) for u in short))
        for u in adv_data.service_uuids:
            if not (u.startswith("0000") and u.endswith(_SIG_BASE)):
                adv += _ad(0x07, uuid.UUID(u).bytes[::-1])
        for company, data in adv_data.manufacturer_data.items():
            adv += _ad(0xFF, struct.pack("<H", company) + data)
        scan_rsp = _ad(0x09, (adv_data.local_name or self.twin.name).encode())
        assert len(adv) <= 31 and len(scan_rsp) <= 31, (adv.hex(), scan_rsp.hex())
        return adv, scan_rsp

    async def start(self) -> None:
        await self.device.power_on()
        self.world.peripherals[self.address] = self  # type: ignore[assignment]
        adv, rsp = self.advertising_data()
        await self.device.start_advertising(
            advertising_data=adv, scan_response_data=rsp, auto_restart=True, advertising_interval_min=20.0,
            advertising_interval_max=20.0,
        )  # fmt: skip
        self._pump = asyncio.get_running_loop().create_task(self._run_pump(), name="bumble-vendor-pump")

    async def close(self) -> None:
        if self._pump is not None:
            self._pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pump
        with contextlib.suppress(Exception):
            await self.twin.disconnect()
        with contextlib.suppress(Exception):
            await self.device.stop_advertising()

    # -- GATT callbacks ---------------------------------------------------------------------

    def _reader(self, char_uuid: str) -> Callable[[Connection], bytes]:
        def read(_conn: Connection) -> bytes:
            try:
                return self.twin.read(char_uuid)
            except BleakGATTProtocolError as exc:
                raise att.ATT_Error(int(exc.code)) from None

        return read

    def _writer(self, char_uuid: str) -> Callable[[Connection, bytes], Any]:
        async def write(_conn: Connection, value: bytes) -> None:
            self.twin.writes += 1
            try:
                await self.twin.write(char_uuid, bytes(value), True)
            except BleakGATTProtocolError as exc:
                raise att.ATT_Error(int(exc.code)) from None

        return write

    def _subscription_handler(self, char_uuid: str) -> Callable[..., None]:
        def on_subscription(_bearer: Any, notify: bool, indicate: bool) -> None:
            self.subscriptions.append((char_uuid, notify, indicate))
            if notify or indicate:
                self.twin.subscribe(char_uuid, lambda data: self._queue.put_nowait((char_uuid, bytes(data))))
            else:
                self.twin.unsubscribe(char_uuid)

        return on_subscription

    async def _run_pump(self) -> None:
        # One sender keeps notifications and indications in the order the twin produced them.
        while True:
            char_uuid, data = await self._queue.get()
            conn = self.connection
            if conn is None:
                continue
            char = self._chars[char_uuid]
            props = self._props[char_uuid]
            if "notify" not in props and "indicate" in props:
                self.sent.append((char_uuid, data, "indicate"))
                await self.device.indicate_subscriber(conn, char, data)
            else:
                self.sent.append((char_uuid, data, "notify"))
                await self.device.notify_subscriber(conn, char, data)

    # -- link -------------------------------------------------------------------------------

    def _on_connection(self, connection: Connection) -> None:
        self.connection = connection
        self.twin.connect(None)
        self.twin.mtu = connection.att_mtu

        def on_mtu() -> None:
            self.twin.mtu = connection.att_mtu

        def on_disconnection(_reason: int) -> None:
            self.connection = None
            while not self._queue.empty():
                self._queue.get_nowait()
            asyncio.get_running_loop().create_task(self.twin.disconnect())

        connection.on(connection.EVENT_CONNECTION_ATT_MTU_UPDATE, on_mtu)
        connection.on(connection.EVENT_DISCONNECTION, on_disconnection)


def vendor_bumble_backends(world: BumbleWorld, periph: VendorBumblePeripheral) -> dict[str, Any]:
    """Keyword arguments for a vendor driver over the bumble tier (the twin's clock for timestamps)."""
    return {
        "client_backend": BumbleClient,
        "scanner_backend": BumbleScanner,
        "backend_kwargs": {"world": world},
        "clock": periph.twin_world.clock,
        "retry_backoff_s": 0.01,
    }
