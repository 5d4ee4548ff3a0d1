"""One interface for every sensor imurep streams from, and finding them in a scan.

:class:`Source` is what ``imurep live`` needs of a sensor link; :class:`imurep.ble.client.SensorLink`
(the imurep firmware), :class:`imurep.ble.metawear.driver.MetaWearLink` (MbientLab MetaMotion) and
:class:`imurep.ble.polar.driver.PolarLink` (Polar Verity Sense) all satisfy it::

    async with open_source("metawear", rate_hz=200) as src:
        print(src.info.name, src.info.sample_rate_hz)
        async for item in src.stream():      # ImuChunk (host time base) or StreamGap
            ...
        # src.stats: samples, gaps, lost_samples, reconnects, clock_drift_ppm ...

:func:`identify` tells the kind of a sensor from its advertisement, :func:`scan_sources` lists
every supported sensor in range (one scan, no service filter: Polar sensors do not advertise the
PMD service).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Final, Literal, Protocol, Self, runtime_checkable

from bleak import BleakScanner
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData
from bleak.exc import BleakError

from imurep.ble import protocol as imurep_protocol
from imurep.ble.client import _is_no_stack, _no_stack  # shared "no Bluetooth" diagnosis
from imurep.ble.decoder import StreamGap
from imurep.ble.metawear import protocol as mw
from imurep.ble.polar import pmd
from imurep.model.errors import ImurepError, SensorNotFoundError, SettingsError
from imurep.model.samples import ImuChunk

SourceKind = Literal["imurep", "metawear", "polar"]
KINDS: Final[tuple[SourceKind, ...]] = ("imurep", "metawear", "polar")
KIND_LABELS: Final[dict[SourceKind, str]] = {
    "imurep": "imurep sensor",
    "metawear": "MbientLab MetaWear / MetaMotion",
    "polar": "Polar Verity Sense (PMD)",
}


class SourceInfo(Protocol):
    """What a connected source reports (rates in Hz, ranges in g and deg/s)."""

    @property
    def name(self) -> str: ...
    @property
    def address(self) -> str: ...
    @property
    def firmware(self) -> str: ...
    @property
    def protocol_version(self) -> str: ...
    @property
    def sample_rate_hz(self) -> float: ...
    @property
    def acc_range_g(self) -> float: ...
    @property
    def gyr_range_dps(self) -> float: ...
    @property
    def battery_pct(self) -> int | None: ...


class SourceStats(Protocol):
    """Counters of a source (a snapshot)."""

    @property
    def samples(self) -> int: ...
    @property
    def gaps(self) -> int: ...
    @property
    def lost_samples(self) -> int: ...
    @property
    def duplicates(self) -> int: ...
    @property
    def malformed(self) -> int: ...
    @property
    def reconnects(self) -> int: ...
    @property
    def clock_drift_ppm(self) -> float: ...


@runtime_checkable
class Source(Protocol):
    """A live stream of IMU samples from one sensor (an async context manager).

    Entering connects (with retries) and starts streaming; :attr:`info` is valid from then on.
    :meth:`stream` yields :class:`~imurep.model.samples.ImuChunk` s on the host time base
    (``time.monotonic`` unless a ``clock`` was given; strictly increasing across chunks) and
    :class:`~imurep.ble.protocol.StreamGap` s where samples are missing, and ends after
    :meth:`stop` or when the sensor stops.  :meth:`stop` (also run on exit, on cancellation and
    after a lost link) stops the sensor, leaves it in a clean state and disconnects; it may be
    called more than once.  After a link loss a source reconnects by itself (a ``"reconnect"``
    gap) or ends the stream with :class:`~imurep.model.errors.ConnectionLostError`.
    """

    @property
    def info(self) -> SourceInfo: ...

    @property
    def stats(self) -> SourceStats: ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...

    def stream(self) -> AsyncIterator[ImuChunk | StreamGap]: ...

    async def stop(self) -> None: ...


# --- identification and scanning ---------------------------------------------------------------------

_METAWEAR_NAMES: Final = ("metawear", "metamotion")


def identify(name: str | None, adv: AdvertisementData) -> SourceKind | None:
    """The kind of sensor an advertisement comes from (``None``: not one imurep supports).

    * imurep firmware: its 128-bit service UUID.
    * MetaWear: the MetaWear service ``326a9000-...`` or a name starting with "MetaWear" /
      "MetaMotion" (the boards advertise "MetaWear" until renamed).
    * Polar: a name starting with "Polar " (e.g. "Polar Sense 1A2B3C4D"), or the PMD service, or
      Polar's company id in the manufacturer data.  Only the Verity Sense has a gyroscope; the
      driver refuses sensors without one when it connects.
    """
    uuids = {u.lower() for u in adv.service_uuids}
    label = (adv.local_name or name or "").strip()
    low = label.lower()
    if imurep_protocol.SERVICE_UUID in uuids:
        return "imurep"
    if mw.SERVICE_UUID in uuids or low.startswith(_METAWEAR_NAMES):
        return "metawear"
    if pmd.SERVICE_UUID in uuids or low.startswith("polar ") or pmd.POLAR_COMPANY_ID in adv.manufacturer_data:
        return "polar"
    return None


@dataclass(frozen=True)
class SourceScanResult:
    """One supported sensor seen while scanning."""

    kind: SourceKind
    name: str
    address: str
    rssi: int | None
    device: BLEDevice = field(compare=False, repr=False)


def _matches(res: SourceScanResult, want: str) -> bool:
    w = want.lower()
    return w in (res.name.lower(), res.address.lower()) or (len(w) >= 4 and res.name.lower().endswith(w))


async def scan_sources(
    timeout_s: float = 5.0,
    *,
    kinds: tuple[SourceKind, ...] | None = None,
    stop_when: str | None = None,
    scanner_backend: type | None = None,
    backend_kwargs: dict[str, Any] | None = None,
) -> list[SourceScanResult]:
    """Supported sensors in range, strongest first.

    Parameters
    ----------
    timeout_s
        Scan duration, s.
    kinds
        Only these kinds (default: all).
    stop_when
        End the scan early when a sensor of that name or address is seen (``""``: the first one);
        a name also matches by its ending (e.g. the Polar device id "1A2B3C4D").
    scanner_backend, backend_kwargs
        bleak scanner backend class (``None`` = the platform's) and extra keyword arguments for it.

    Raises
    ------
    SensorNotFoundError
        No Bluetooth adapter or stack is available (the message says what to check).
    """
    wanted = kinds or KINDS
    found: dict[str, SourceScanResult] = {}
    done = asyncio.Event()

    def on_adv(dev: BLEDevice, adv: AdvertisementData) -> None:
        kind = identify(dev.name, adv)
        if kind is None or kind not in wanted:
            return
        res = SourceScanResult(kind, adv.local_name or dev.name or "", dev.address, adv.rssi, dev)
        found[res.address] = res
        if stop_when is not None and (stop_when == "" or _matches(res, stop_when)):
            done.set()

    try:
        scanner = BleakScanner(on_adv, backend=scanner_backend, **(backend_kwargs or {}))
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


def format_sources(results: list[SourceScanResult]) -> str:
    """A plain-text table of scan results (one sensor per line)."""
    if not results:
        return "no supported sensors found"
    lines = [f"{'kind':<9} {'name':<24} {'address':<40} {'rssi':>5}"]
    for r in results:
        rssi = f"{r.rssi}" if r.rssi is not None else "?"
        lines.append(f"{r.kind:<9} {r.name:<24} {r.address:<40} {rssi:>5}")
    return "\n".join(lines)


def open_source(kind: SourceKind, device: str | None = None, **kwargs: Any) -> Source:
    """A (not yet entered) source of ``kind``; ``kwargs`` go to the driver's constructor.

    Common keywords: ``rate_hz``, ``acc_range_g``, ``gyr_range_dps``, ``client_backend``,
    ``scanner_backend``, ``backend_kwargs``, ``reconnect``, ``max_retries``, ``scan_timeout_s``,
    ``clock``.

    Raises
    ------
    SettingsError
        Unknown kind.
    """
    if kind == "imurep":
        from imurep.ble.client import SensorLink

        return SensorLink(device, **kwargs)
    if kind == "metawear":
        from imurep.ble.metawear.driver import MetaWearLink

        return MetaWearLink(device, **kwargs)
    if kind == "polar":
        from imurep.ble.polar.driver import PolarLink

        return PolarLink(device, **kwargs)
    raise SettingsError(f"unknown sensor kind {kind!r}; choose one of {', '.join(KINDS)}")
