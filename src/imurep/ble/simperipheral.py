"""In-process simulated BLE peripherals behind the *real* ``BleakScanner``/``BleakClient``.

:class:`SimPeripheral` is the base of the vendor firmware twins (a simulated MetaMotion, a simulated
Verity Sense): link state, a GATT table, subscriptions, notifications, connection faults and the
virtual clock.  :class:`PeripheralScanner` and :class:`PeripheralClient` are bleak backends
(``BleakScanner(backend=PeripheralScanner, world=...)``, ``BleakClient(device,
backend=PeripheralClient, world=...)``), so the drivers run through bleak's own front-end classes
unchanged; :func:`peripheral_backends` gives the keyword arguments for them.

Time model (as :mod:`imurep.ble.simulated`): the world keeps a virtual clock shared with the host
side (pass ``clock=world.clock`` to the driver).  With ``speed=math.inf`` a twin jumps the clock
to each notification's send time and yields to the event loop every few notifications; with a
finite speed it sleeps ``(send time - now) / speed``.  The host sees each notification at its send
time plus a random latency of up to ``latency_jitter_s``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import Callable
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

logger = logging.getLogger(__name__)

CCCD_UUID = "00002902-0000-1000-8000-00805f9b34fb"
GattTable = list[tuple[str, list[tuple[str, list[str]]]]]


class PeripheralWorld:
    """Registry of simulated peripherals and the virtual clock shared with the host side."""

    def __init__(self) -> None:
        self.peripherals: dict[str, SimPeripheral] = {}
        self._virtual_s = 0.0

    def add(self, peripheral: SimPeripheral) -> SimPeripheral:
        """Register ``peripheral`` (by address) and bind it to this world."""
        self.peripherals[peripheral.address] = peripheral
        peripheral.world = self
        return peripheral

    def clock(self) -> float:
        """Host clock of the simulation, s."""
        return self._virtual_s

    def advance_to(self, t_s: float) -> None:
        """Move the clock forward to ``t_s`` (never backwards)."""
        self._virtual_s = max(self._virtual_s, t_s)


class SimPeripheral:
    """Base class of a firmware twin.

    Parameters
    ----------
    name, address
        Advertised name and (fake) address.
    mtu
        Negotiated ATT MTU, bytes (a notification carries at most ``mtu - 3``).
    rssi
        Advertised signal strength, dBm.
    fail_connects
        The first connection attempts fail (alternately ``BleakError`` and ``TimeoutError``).
    speed
        Playback speed (1 = real time, ``math.inf`` = as fast as possible).
    latency_jitter_s
        Host receive latency is uniform in ``[0, latency_jitter_s]``, s.
    seed
        Seed of the latency jitter.
    """

    def __init__(
        self,
        name: str,
        address: str,
        *,
        mtu: int = 247,
        rssi: int = -60,
        fail_connects: int = 0,
        speed: float = math.inf,
        latency_jitter_s: float = 0.01,
        seed: int = 0,
    ) -> None:
        self.name = name
        self.address = address
        self.mtu = int(mtu)
        self.rssi = rssi
        self.fail_connects = fail_connects
        self.speed = float(speed)
        self.latency_jitter_s = latency_jitter_s
        self.world: PeripheralWorld | None = None
        self.connected = False
        self.connect_attempts = 0
        self.connections = 0
        self.host_disconnects = 0
        self.link_losses = 0
        self._subscribers: dict[str, Callable[[bytearray], None]] = {}
        self._on_disconnect: Callable[[], None] | None = None
        self._rng = np.random.default_rng(seed)
        self._sent = 0
        self.writes = 0
        """Writes received over the peripheral's life (see :meth:`settle`)."""
        self.yield_every = 16
        """With ``speed=inf``, yield to the event loop every this many notifications."""

    # -- what a twin provides -------------------------------------------------------------------

    def gatt_table(self) -> GattTable:
        """``[(service uuid, [(characteristic uuid, properties)])]``."""
        raise NotImplementedError

    def advertisement(self) -> AdvertisementData:
        """What the peripheral advertises."""
        raise NotImplementedError

    def read(self, uuid: str) -> bytes:
        """Value of a readable characteristic (``BleakGATTProtocolError(0x02)`` otherwise)."""
        raise BleakGATTProtocolError(0x02)

    async def write(self, uuid: str, data: bytes, response: bool) -> None:
        """A write to ``uuid``."""
        raise BleakGATTProtocolError(0x03)

    def on_connected(self) -> None:
        """Hook: a host connected."""

    def on_disconnected(self, *, host_initiated: bool) -> None:
        """Hook: the link is gone (after ``connected`` became False)."""

    # -- link -----------------------------------------------------------------------------------

    def connect(self, on_disconnect: Callable[[], None] | None) -> None:
        """A host connects (raises the configured connection failures first)."""
        self.connect_attempts += 1
        if self.connect_attempts <= self.fail_connects:
            if self.connect_attempts % 2:
                raise BleakError("le-connection-abort-by-local (simulated)")
            raise TimeoutError("simulated connection timeout")
        self.connected = True
        self.connections += 1
        self._on_disconnect = on_disconnect
        self.on_connected()

    async def disconnect(self) -> None:
        """Host-initiated disconnect."""
        if not self.connected:
            return
        self.connected = False
        self.host_disconnects += 1
        self._subscribers.clear()
        self._on_disconnect = None
        self.on_disconnected(host_initiated=True)
        await asyncio.sleep(0)

    def drop_link(self) -> None:
        """Peripheral-side link loss (supervision timeout): the host's disconnected callback fires."""
        if not self.connected:
            return
        self.connected = False
        self.link_losses += 1
        self._subscribers.clear()
        cb, self._on_disconnect = self._on_disconnect, None
        self.on_disconnected(host_initiated=False)
        if cb is not None:
            asyncio.get_running_loop().call_soon(cb)

    def subscribe(self, uuid: str, callback: Callable[[bytearray], None]) -> None:
        self._subscribers[uuid] = callback

    def unsubscribe(self, uuid: str) -> None:
        self._subscribers.pop(uuid, None)

    def subscribed(self, uuid: str) -> bool:
        """The host has notifications of ``uuid`` enabled."""
        return uuid in self._subscribers

    def notify(self, uuid: str, data: bytes) -> bool:
        """Send a notification (dropped when not connected or not subscribed); True if delivered."""
        if len(data) > self.mtu - 3:
            raise AssertionError(f"{self.name}: notification of {len(data)} bytes exceeds MTU {self.mtu} - 3")
        cb = self._subscribers.get(uuid)
        if cb is None or not self.connected:
            return False
        cb(bytearray(data))
        return True

    async def pace(self, send_at_s: float) -> None:
        """Wait until the virtual clock reaches ``send_at_s`` (see the module's time model)."""
        world = self.world
        if world is None:
            raise RuntimeError(f"{self.name} is not in a PeripheralWorld")
        self._sent += 1
        if math.isinf(self.speed):
            if self._sent % self.yield_every == 0:
                await asyncio.sleep(0)
        else:
            wait = (send_at_s - world.clock()) / self.speed
            if wait > 0:
                await asyncio.sleep(wait)
        world.advance_to(send_at_s + float(self._rng.uniform(0.0, self.latency_jitter_s)))

    async def settle(self, idle_iterations: int = 25) -> None:
        """Wait until the host sent no write for ``idle_iterations`` event-loop iterations.

        A twin calls this before it starts streaming, so that commands the host sends back to
        back (start the accelerometer, start the gyroscope) take effect together even when the
        virtual clock runs as fast as possible.
        """
        seen = -1
        while seen != self.writes:
            seen = self.writes
            for _ in range(idle_iterations):
                await asyncio.sleep(0)

    def now(self) -> float:
        """The virtual clock, s."""
        return self.world.clock() if self.world is not None else 0.0


# --- bleak backends ------------------------------------------------------------------------------


class PeripheralScanner(BaseBleakScanner):
    """bleak scanner backend advertising the (not connected) peripherals of a :class:`PeripheralWorld`."""

    def __init__(
        self,
        detection_callback: AdvertisementDataCallback | None,
        service_uuids: list[str] | None,
        scanning_mode: str = "active",
        *,
        world: PeripheralWorld,
        advertise_interval_s: float = 0.02,
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
            for p in list(self._world.peripherals.values()):
                if p.connected:
                    continue
                adv = p.advertisement()
                if not self.is_allowed_uuid(adv.service_uuids):
                    continue
                dev = self.create_or_update_device(p.address, p.address, p.name, p, adv)
                self.call_detection_callbacks(dev, adv)
            await asyncio.sleep(self._interval)


class PeripheralClient(BaseBleakClient):
    """bleak client backend connected in-process to a :class:`SimPeripheral`."""

    def __init__(
        self, address_or_ble_device: BLEDevice | str, *, world: PeripheralWorld | None = None, **kwargs: Any
    ) -> None:
        super().__init__(
            address_or_ble_device,
            disconnected_callback=kwargs.pop("disconnected_callback", None),
            timeout=kwargs.pop("timeout", 10.0),
        )
        peripheral: SimPeripheral | None = None
        if isinstance(address_or_ble_device, BLEDevice) and isinstance(
            address_or_ble_device.details, SimPeripheral
        ):
            peripheral = address_or_ble_device.details
        elif world is not None:
            peripheral = world.peripherals.get(self.address)
        self._peripheral = peripheral

    @property
    def name(self) -> str:
        return self._peripheral.name if self._peripheral else self.address

    @property
    def peripheral(self) -> SimPeripheral:
        if self._peripheral is None:
            raise BleakError(f"simulated device {self.address} not found")
        return self._peripheral

    async def connect(self, pair: bool, **kwargs: Any) -> None:
        p = self.peripheral
        await asyncio.sleep(0)
        p.connect(self._on_link_lost)
        services = BleakGATTServiceCollection()
        handle = 1
        for svc_uuid, chars in p.gatt_table():
            svc = BleakGATTService(None, handle, svc_uuid)
            services.add_service(svc)
            handle += 1
            for char_uuid, props in chars:
                char = BleakGATTCharacteristic(
                    None, handle, char_uuid, cast(Any, props), lambda: p.mtu - 3, svc
                )
                services.add_characteristic(char)
                handle += 2
                if "notify" in props or "indicate" in props:
                    services.add_descriptor(BleakGATTDescriptor(None, handle, CCCD_UUID, char))
                    handle += 1
        self.services = services

    def _on_link_lost(self) -> None:
        if self._disconnected_callback is not None:
            self._disconnected_callback()

    async def disconnect(self) -> None:
        if self._peripheral is not None and self._peripheral.connected:
            await self._peripheral.disconnect()

    async def pair(self, *args: Any, **kwargs: Any) -> None:
        return None

    async def unpair(self) -> None:
        return None

    @property
    def is_connected(self) -> bool:
        return self._peripheral is not None and self._peripheral.connected

    @property
    def mtu_size(self) -> int:
        return self.peripheral.mtu

    def _check(self) -> SimPeripheral:
        p = self.peripheral
        if not p.connected:
            raise BleakError("Not connected")
        return p

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
        p = self._check()
        p.writes += 1
        await p.write(characteristic.uuid, bytes(data), response)

    async def write_gatt_descriptor(self, descriptor: BleakGATTDescriptor, data: SizedBuffer) -> None:
        raise BleakGATTProtocolError(0x03)

    async def start_notify(
        self, characteristic: BleakGATTCharacteristic, callback: Callable[[bytearray], None], **kwargs: Any
    ) -> None:
        self._check().subscribe(characteristic.uuid, callback)

    async def stop_notify(self, characteristic: BleakGATTCharacteristic) -> None:
        if self._peripheral is not None:
            self._peripheral.unsubscribe(characteristic.uuid)


def peripheral_backends(target: SimPeripheral | PeripheralWorld) -> dict[str, Any]:
    """Keyword arguments for a vendor driver: simulated backends, the world and its clock.

    Returns ``{"client_backend": PeripheralClient, "scanner_backend": PeripheralScanner,
    "backend_kwargs": {"world": world}, "clock": world.clock, "retry_backoff_s": 0.01}``; a
    peripheral not yet in a world is added to a new one.
    """
    if isinstance(target, PeripheralWorld):
        world = target
    else:
        world = target.world or PeripheralWorld()
        if target.address not in world.peripherals:
            world.add(target)
    return {
        "client_backend": PeripheralClient,
        "scanner_backend": PeripheralScanner,
        "backend_kwargs": {"world": world},
        "clock": world.clock,
        "retry_backoff_s": 0.01,
    }
