"""Connection machinery shared by the vendor-sensor drivers (MetaWear, Polar PMD).

:class:`VendorLink` does what :class:`imurep.ble.client.SensorLink` does for the imurep firmware,
with the same public shape (:class:`imurep.ble.source.Source`): find the sensor in a scan, connect
with retries and back-off (the ``BLEDevice`` from the scan is passed to ``BleakClient``), hand
notifications to a consumer task (the bleak callback only timestamps and enqueues, or resolves a
pending request), reconnect after a link loss (a new segment), and stop cleanly on every exit path:
:meth:`stop` runs the driver's tear-down even when the task that calls it is being cancelled
(Ctrl-C), and a second cancellation does not cut it short (each command has its own timeout).

A driver subclass provides :meth:`_setup` (discover, configure, subscribe, start; returns the
:class:`~imurep.ble.client.SensorInfo`), :meth:`_teardown` (stop the sensor and remove what it
set up), :meth:`_decode` (a batch of notifications to chunks and gaps), :meth:`_new_segment`
and :meth:`_stats`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, ClassVar, Self

from bleak import BleakClient
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.device import BLEDevice
from bleak.exc import BleakError

from imurep.ble.client import LinkStats, SensorInfo, _is_no_stack, _no_stack
from imurep.ble.decoder import StreamGap
from imurep.ble.source import SourceKind, scan_sources
from imurep.model.errors import (
    ConnectionLostError,
    ImurepError,
    ProtocolError,
    SensorNotFoundError,
    SettingsError,
)
from imurep.model.samples import ImuChunk

logger = logging.getLogger(__name__)

Item = ImuChunk | StreamGap
Notification = tuple[str, bytes, float]
"""``(characteristic uuid, value, host receive time s)``."""

_END = object()
_LINK_LOST = object()
_TRANSIENT = (BleakError, OSError, TimeoutError)


@dataclass
class _Waiter:
    uuid: str
    match: Callable[[bytes], bool]
    complete: Callable[[bytes], bool]
    future: asyncio.Future[list[bytes]]
    parts: list[bytes] = field(default_factory=list)


class VendorLink:
    """Base of a self-healing stream from one vendor sensor (async context manager).

    Parameters
    ----------
    device
        Advertised name (or its ending, e.g. a Polar device id) or address; ``None`` = the first
        sensor of this kind found.
    rate_hz, acc_range_g, gyr_range_dps
        Requested sample rate (Hz) and full-scale ranges (g, deg/s); each driver snaps them to
        what the sensor supports (the values in force are in :attr:`info`).
    client_backend, scanner_backend, backend_kwargs
        bleak backend classes (``None`` = platform default) and extra keyword arguments for them.
    reconnect
        Reconnect after a link loss (else the stream ends with :class:`ConnectionLostError`).
    max_retries
        Connection attempts after the first one (back-off from ``retry_backoff_s``, capped at 5 s).
    scan_timeout_s, connect_timeout_s, response_timeout_s
        How long to look for the sensor, to connect, and to wait for each response, s.
    idle_timeout_s
        End the stream when no notification came for this long (``None``: never), s.
    clock
        Host clock used to timestamp notifications, s (default ``time.monotonic``).
    """

    KIND: ClassVar[SourceKind]
    LABEL: ClassVar[str] = "sensor"

    def __init__(
        self,
        device: str | None = None,
        *,
        rate_hz: float,
        acc_range_g: float,
        gyr_range_dps: float,
        client_backend: type | None = None,
        scanner_backend: type | None = None,
        backend_kwargs: dict[str, Any] | None = None,
        reconnect: bool = True,
        max_retries: int = 5,
        scan_timeout_s: float = 10.0,
        connect_timeout_s: float = 20.0,
        retry_backoff_s: float = 0.5,
        response_timeout_s: float = 2.0,
        idle_timeout_s: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not 0 < rate_hz < 10_000:
            raise SettingsError(f"rate_hz must be in (0, 10000) Hz, got {rate_hz!r}")
        if acc_range_g <= 0 or gyr_range_dps <= 0:
            raise SettingsError("acc_range_g and gyr_range_dps must be positive")
        self.device = device
        self.rate_hz = float(rate_hz)
        self.acc_range_g = float(acc_range_g)
        self.gyr_range_dps = float(gyr_range_dps)
        self._client_backend = client_backend
        self._scanner_backend = scanner_backend
        self._backend_kwargs = dict(backend_kwargs or {})
        self.reconnect = reconnect
        self.max_retries = max_retries
        self.scan_timeout_s = scan_timeout_s
        self.connect_timeout_s = connect_timeout_s
        self.retry_backoff_s = retry_backoff_s
        self.response_timeout_s = response_timeout_s
        self.idle_timeout_s = idle_timeout_s
        self._clock = clock
        self.info: SensorInfo
        self._client: BleakClient | None = None
        self._subscribed: list[str] = []
        self._waiters: list[_Waiter] = []
        self._raw: asyncio.Queue[Any] = asyncio.Queue()
        self._out: asyncio.Queue[Any] = asyncio.Queue()
        self._consumer: asyncio.Task[None] | None = None
        self._shutdown_task: asyncio.Task[None] | None = None
        self._stopping = False
        self._reconnects = 0

    # -- subclass hooks ------------------------------------------------------------------------

    async def _setup(self, client: BleakClient, *, reconnect: bool) -> SensorInfo:
        """Discover, configure, subscribe and start streaming on a fresh connection."""
        raise NotImplementedError

    async def _teardown(self, client: BleakClient) -> None:
        """Stop the sensor and remove everything :meth:`_setup` put on it (link still up)."""
        raise NotImplementedError

    def _decode(self, batch: list[Notification]) -> tuple[list[Item], bool]:
        """Chunks and gaps of a batch of notifications, and whether the sensor stopped streaming."""
        raise NotImplementedError

    def _new_segment(self) -> None:
        """The link was lost; the next :meth:`_setup` starts a new segment."""

    def _flush(self) -> list[Item]:
        """What the decoder still holds when the stream ends."""
        return []

    def _stats(self) -> LinkStats:
        raise NotImplementedError

    # -- public API ------------------------------------------------------------------------------

    @property
    def stats(self) -> LinkStats:
        """Counters so far (a frozen snapshot)."""
        return self._stats()

    @property
    def connected(self) -> bool:
        """The link is up."""
        return self._client is not None and self._client.is_connected

    async def __aenter__(self) -> Self:
        await self._connect(first=True)
        self._consumer = asyncio.get_running_loop().create_task(self._consume(), name=f"imurep-{self.KIND}")
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    async def stream(self) -> AsyncIterator[Item]:
        """Chunks and gaps in time order (host time base); ends after :meth:`stop`.

        Raises :class:`ConnectionLostError` if the link is lost and cannot be re-established.
        """
        while True:
            item = await self._out.get()
            if item is _END:
                self._out.put_nowait(_END)
                return
            if isinstance(item, BaseException):
                self._out.put_nowait(_END)
                raise item
            yield item

    async def stop(self) -> None:
        """Stop the sensor, leave it clean and disconnect (safe to call again, and when cancelled)."""
        self._stopping = True
        if self._shutdown_task is None:
            self._shutdown_task = asyncio.get_running_loop().create_task(self._shutdown(), name="imurep-stop")
        task = self._shutdown_task
        cancelled = False
        while not task.done():
            try:
                await asyncio.shield(task)
            except asyncio.CancelledError:
                if task.cancelled():
                    break
                cancelled = True  # finish the tear-down first (it has its own timeouts)
        if cancelled:
            raise asyncio.CancelledError

    async def _shutdown(self) -> None:
        client = self._client
        if client is not None and client.is_connected:
            await self._teardown_and_disconnect(client)
        self._raw.put_nowait(_END)
        consumer = self._consumer
        if consumer is None:
            self._out.put_nowait(_END)
            return
        try:
            await asyncio.wait_for(asyncio.shield(consumer), 5.0)
        except TimeoutError:
            consumer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await consumer
            self._out.put_nowait(_END)

    async def _teardown_and_disconnect(self, client: BleakClient) -> None:
        try:
            await asyncio.wait_for(self._teardown(client), max(5.0, 4 * self.response_timeout_s))
        except (*_TRANSIENT, ImurepError) as exc:
            logger.warning("could not stop the %s cleanly: %s", self.LABEL, exc)
        for uuid in list(self._subscribed):
            with contextlib.suppress(*_TRANSIENT, ValueError):
                await client.stop_notify(uuid)
        self._subscribed.clear()
        with contextlib.suppress(*_TRANSIENT):
            await client.disconnect()

    # -- helpers for drivers ---------------------------------------------------------------------

    async def _subscribe(self, client: BleakClient, uuid: str) -> None:
        """Enable notifications/indications of ``uuid`` (values go to requests or the consumer)."""

        def on_value(_char: BleakGATTCharacteristic, data: bytearray) -> None:
            value = bytes(data)
            for w in self._waiters:
                if w.uuid == uuid and not w.future.done() and w.match(value):
                    w.parts.append(value)
                    if w.complete(value):
                        w.future.set_result(w.parts)
                        self._waiters.remove(w)
                    return
            self._raw.put_nowait((uuid, value, self._clock()))

        await client.start_notify(uuid, on_value)
        if uuid not in self._subscribed:
            self._subscribed.append(uuid)

    async def _request(
        self,
        client: BleakClient,
        write_uuid: str,
        payload: bytes,
        reply_uuid: str,
        match: Callable[[bytes], bool],
        *,
        retries: int = 1,
        response: bool = True,
    ) -> bytes:
        """Write ``payload`` and return the first notification of ``reply_uuid`` that ``match`` es.

        Raises
        ------
        TimeoutError
            No matching reply within ``response_timeout_s`` (after ``retries`` more tries).
        """
        parts = await self._request_all(
            client, write_uuid, payload, reply_uuid, match, retries=retries, response=response
        )
        return parts[0]

    async def _request_all(
        self,
        client: BleakClient,
        write_uuid: str,
        payload: bytes,
        reply_uuid: str,
        match: Callable[[bytes], bool],
        complete: Callable[[bytes], bool] = lambda _v: True,
        *,
        retries: int = 1,
        response: bool = True,
    ) -> list[bytes]:
        """Like :meth:`_request`, collecting matching replies until one is ``complete``."""
        loop = asyncio.get_running_loop()
        for attempt in range(retries + 1):
            waiter = _Waiter(reply_uuid, match, complete, loop.create_future())
            self._waiters.append(waiter)
            try:
                await client.write_gatt_char(write_uuid, payload, response=response)
                return await asyncio.wait_for(waiter.future, self.response_timeout_s)
            except TimeoutError:
                logger.debug("no reply to %s (attempt %d)", payload.hex(" "), attempt + 1)
            finally:
                if waiter in self._waiters:
                    self._waiters.remove(waiter)
        raise TimeoutError(f"the {self.LABEL} did not answer {payload.hex(' ')}")

    async def _read_text(self, client: BleakClient, uuid: str) -> str:
        try:
            return bytes(await client.read_gatt_char(uuid)).decode("utf-8", "replace").strip("\x00 ")
        except (BleakError, OSError):
            return ""

    async def _read_battery_service(self, client: BleakClient, uuid: str) -> int | None:
        try:
            data = await client.read_gatt_char(uuid)
        except (BleakError, OSError):
            return None
        return data[0] if len(data) == 1 and data[0] <= 100 else None

    # -- connection ------------------------------------------------------------------------------

    async def _find(self) -> BLEDevice:
        found = await scan_sources(
            self.scan_timeout_s,
            kinds=(self.KIND,),
            stop_when=self.device or "",
            scanner_backend=self._scanner_backend,
            backend_kwargs=self._backend_kwargs,
        )
        want = (self.device or "").lower()
        for res in found:
            name = res.name.lower()
            if not want or want in (name, res.address.lower()) or (len(want) >= 4 and name.endswith(want)):
                return res.device
        seen = ", ".join(f"{r.name} ({r.address})" for r in found) or "none"
        target = f"{self.LABEL} {self.device!r}" if self.device else self.LABEL
        raise SensorNotFoundError(
            f"no {target} found within {self.scan_timeout_s:g} s (seen: {seen}); check that it is switched "
            "on, in range and not connected to another phone or computer"
        )

    async def _connect(self, *, first: bool) -> None:
        last: BaseException | None = None
        attempts = self.max_retries + 1
        for attempt in range(attempts):
            if self._stopping:
                raise ConnectionLostError("stopped while reconnecting")
            try:
                device = await self._find()
                await self._connect_once(device, reconnect=not first)
                return
            except (ProtocolError, SettingsError):
                raise
            except SensorNotFoundError as exc:
                if first:
                    raise
                last = exc
            except _TRANSIENT as exc:
                if _is_no_stack(exc):
                    raise _no_stack(exc) from None
                last = exc
            delay = min(5.0, self.retry_backoff_s * 2**attempt)
            logger.info(
                "connection attempt %d/%d failed (%s); retrying in %.2f s", attempt + 1, attempts, last, delay
            )
            await asyncio.sleep(delay)
        what = self.device or f"the {self.LABEL}"
        raise ConnectionLostError(f"could not connect to {what} after {attempts} attempts: {last}")

    async def _connect_once(self, device: BLEDevice, *, reconnect: bool) -> None:
        client = BleakClient(
            device,
            disconnected_callback=self._on_disconnect,
            timeout=self.connect_timeout_s,
            backend=self._client_backend,
            **self._backend_kwargs,
        )
        await client.connect()
        self._subscribed.clear()
        try:
            info = await self._setup(client, reconnect=reconnect)
        except BaseException:
            if client.is_connected:
                await self._teardown_and_disconnect(client)
            raise
        self._client = client
        self.info = info
        if self._stopping:  # stop() came while we were setting up
            await self._teardown_and_disconnect(client)
            raise ConnectionLostError("stopped while connecting")
        logger.info("connected to %s (%s), MTU %d, %s", info.name, device.address, client.mtu_size, info)

    def _on_disconnect(self, client: BleakClient) -> None:
        if self._stopping or client is not self._client:
            return
        self._raw.put_nowait(_LINK_LOST)

    # -- consumer --------------------------------------------------------------------------------

    async def _next_batch(self) -> list[Any] | None:
        try:
            first = await asyncio.wait_for(self._raw.get(), self.idle_timeout_s)
        except TimeoutError:
            return None
        batch = [first]
        while not self._raw.empty() and len(batch) < 4096:
            batch.append(self._raw.get_nowait())
        return batch

    async def _consume(self) -> None:
        try:
            while True:
                batch = await self._next_batch()
                if batch is None:
                    logger.warning(
                        "no data from the %s for %g s; ending the stream", self.LABEL, self.idle_timeout_s
                    )
                    break
                data = [x for x in batch if isinstance(x, tuple)]
                items, ended = self._decode(data) if data else ([], False)
                for it in items:
                    self._out.put_nowait(it)
                if ended:
                    logger.info("the %s stopped streaming", self.LABEL)
                    break
                if any(x is _END for x in batch):
                    break
                if any(x is _LINK_LOST for x in batch) and not await self._handle_link_lost():
                    break
        except ImurepError as exc:
            self._out.put_nowait(exc)
        finally:
            for it in self._flush():
                self._out.put_nowait(it)
            self._out.put_nowait(_END)

    async def _handle_link_lost(self) -> bool:
        if self._stopping:
            return False
        if not self.reconnect:
            raise ConnectionLostError(f"the link to the {self.LABEL} was lost (reconnect disabled)")
        logger.warning("link to the %s lost; reconnecting", self.LABEL)
        self._reconnects += 1
        self._client = None
        self._new_segment()
        await self._connect(first=False)
        return True
