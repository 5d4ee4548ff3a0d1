"""Which sensor ``imurep live`` streams from: the source factory.

:func:`open_live_source` turns what the user asked for (:class:`SourceOptions`) into an entered
:class:`~imurep.ble.source.Source`:

* ``--phyphox URL``: a phone running phyphox (:class:`~imurep.phone.source.PhyphoxSource`);
* ``--sensor imurep|metawear|polar``: that BLE driver (:func:`imurep.ble.source.open_source`);
* ``--sensor auto`` (the default): one scan (:func:`~imurep.ble.source.scan_sources`) and the
  driver of the sensor found (the one named by ``--device``, else the strongest);
* ``--simulate RECORDING``: the recording played by the simulated device of the chosen kind,
  behind the real bleak classes (imurep firmware, MetaMotion, Verity Sense) or, for
  ``phyphox``, by a simulated phone serving phyphox's HTTP interface on 127.0.0.1.

:func:`source_metadata` is what the recording's sidecar says about the source.
"""

from __future__ import annotations

import contextlib
import logging
import math
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, cast

from imurep.ble.source import KIND_LABELS, KINDS, Source, SourceKind, open_source, scan_sources
from imurep.model.codes import SENSOR_CHOICES, SensorChoice
from imurep.model.errors import SensorNotFoundError, SettingsError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class KindDefaults:
    """Rate (Hz) and ranges (g, deg/s) used when the user does not choose them."""

    rate_hz: float
    acc_range_g: float
    gyr_range_dps: float


DEFAULTS: Final[dict[str, KindDefaults]] = {
    "imurep": KindDefaults(104.0, 8.0, 1000.0),
    "metawear": KindDefaults(100.0, 8.0, 1000.0),
    "polar": KindDefaults(52.0, 8.0, 2000.0),
    "phyphox": KindDefaults(100.0, 16.0, 2000.0),  # set in the phone's experiment, not by imurep
}


@dataclass(frozen=True)
class SourceOptions:
    """The sensor ``imurep live`` should stream from.

    Attributes
    ----------
    sensor
        Kind of sensor (``auto``: identify it in a scan).
    device
        Name, name ending (Polar device id) or address (``None``: the first / strongest found).
    phyphox
        URL of phyphox's remote access (implies ``sensor="phyphox"``).
    simulate, speed
        Play this recording through the simulated device of the kind, at this speed.
    rate_hz, acc_range_g, gyr_range_dps
        Requested rate (Hz) and ranges (g, deg/s); ``None``: the kind's default (:data:`DEFAULTS`).
    metawear_mode, reset_board
        MetaWear streaming mode (``auto``/``fused``/``packed``) and the SDK tear-down on connect.
    sdk_mode
        Polar SDK mode (``auto``/``on``/``off``).
    scan_timeout_s
        How long to look for the sensor, s.
    """

    sensor: SensorChoice = "auto"
    device: str | None = None
    phyphox: str | None = None
    simulate: Path | None = None
    speed: float = 1.0
    rate_hz: float | None = None
    acc_range_g: float | None = None
    gyr_range_dps: float | None = None
    metawear_mode: str = "auto"
    reset_board: bool = False
    sdk_mode: str = "auto"
    scan_timeout_s: float = 10.0

    def __post_init__(self) -> None:
        if self.sensor not in SENSOR_CHOICES:
            raise SettingsError(f"unknown sensor {self.sensor!r}; choose one of {', '.join(SENSOR_CHOICES)}")
        if self.phyphox is not None and self.sensor not in ("auto", "phyphox"):
            raise SettingsError(
                f"--phyphox streams from a phone; it cannot be combined with --sensor {self.sensor}"
            )
        if self.phyphox is not None and self.simulate is not None:
            raise SettingsError(
                "--phyphox URL streams from a phone; to play a recording use "
                "--simulate RECORDING --sensor phyphox"
            )
        if self.phyphox is not None and self.device is not None:
            raise SettingsError("--device names a Bluetooth sensor; a phone is given by --phyphox URL alone")
        if self.sensor == "phyphox" and self.phyphox is None and self.simulate is None:
            raise SettingsError(
                "--sensor phyphox needs --phyphox http://PHONE:8080 (the address phyphox shows under "
                "remote access)"
            )
        if self.metawear_mode != "auto" and self.kind_hint not in ("metawear", "auto"):
            raise SettingsError("--mode applies to MetaWear sensors only")
        if self.reset_board and self.kind_hint not in ("metawear", "auto"):
            raise SettingsError("--reset-board applies to MetaWear sensors only")
        if self.sdk_mode != "auto" and self.kind_hint not in ("polar", "auto"):
            raise SettingsError("--sdk-mode applies to Polar sensors only")

    @property
    def kind_hint(self) -> SensorChoice:
        """The kind when it is known without a scan (``auto`` otherwise)."""
        if self.phyphox is not None:
            return "phyphox"
        if self.simulate is not None and self.sensor == "auto":
            return "imurep"
        return self.sensor


def _link_kwargs(kind: str, opts: SourceOptions) -> dict[str, Any]:
    d = DEFAULTS[kind]
    kwargs: dict[str, Any] = {
        "rate_hz": opts.rate_hz if opts.rate_hz is not None else d.rate_hz,
        "acc_range_g": opts.acc_range_g if opts.acc_range_g is not None else d.acc_range_g,
        "gyr_range_dps": opts.gyr_range_dps if opts.gyr_range_dps is not None else d.gyr_range_dps,
        "scan_timeout_s": opts.scan_timeout_s,
    }
    if kind == "imurep":
        kwargs["acc_range_g"] = round(kwargs["acc_range_g"])
        kwargs["gyr_range_dps"] = round(kwargs["gyr_range_dps"])
    if kind == "metawear":
        kwargs["mode"] = opts.metawear_mode
        kwargs["reset_board"] = opts.reset_board
    if kind == "polar":
        kwargs["sdk_mode"] = opts.sdk_mode
    return kwargs


async def identify_sensor(
    opts: SourceOptions, status: Callable[[str], None], ble_backends: dict[str, Any] | None = None
) -> tuple[SourceKind, str | None]:
    """Scan once and return ``(kind, device)`` of the sensor to use (``ble_backends``: see
    :func:`open_live_source`).

    Raises
    ------
    SensorNotFoundError
        Nothing supported in range (or not the one named by ``device``).
    """
    bk = ble_backends or {}
    found = await scan_sources(
        opts.scan_timeout_s,
        stop_when=opts.device or None,
        scanner_backend=bk.get("scanner_backend"),
        backend_kwargs=bk.get("backend_kwargs"),
    )
    want = (opts.device or "").lower()
    if want:
        found = [
            r
            for r in found
            if want in (r.name.lower(), r.address.lower())
            or (len(want) >= 4 and r.name.lower().endswith(want))
        ]
    if not found:
        target = f"sensor {opts.device!r}" if opts.device else "supported sensor"
        raise SensorNotFoundError(
            f"no {target} found within {opts.scan_timeout_s:g} s; check that it is switched on, in range and "
            "not connected to another phone or computer (imurep scan lists what is in range; a phone running "
            "phyphox: --phyphox http://PHONE:8080)"
        )
    best = found[0]
    if len(found) > 1:
        others = ", ".join(f"{r.name} ({r.kind})" for r in found[1:])
        status(f"found {len(found)} sensors; using {best.name} ({best.kind}, strongest); also seen: {others}")
    return best.kind, opts.device or best.address


@contextlib.asynccontextmanager
async def open_live_source(
    opts: SourceOptions, status: Callable[[str], None], *, ble_backends: dict[str, Any] | None = None
) -> AsyncIterator[Source]:
    """The entered source ``opts`` asks for (stopped and closed on exit, on every path).

    ``status`` receives progress lines for the user.  ``ble_backends`` (tests, demos): bleak
    backends and clock for the scan and the driver, e.g.
    :func:`imurep.ble.simperipheral.peripheral_backends` of a world of simulated sensors.

    Raises
    ------
    SensorNotFoundError, ConnectionLostError, SettingsError, DataValidationError
        With a message saying what to do.
    """
    kind = opts.kind_hint
    if opts.simulate is not None:
        async with _simulated(kind, opts) as src:
            yield src
        return
    if kind == "phyphox":
        from imurep.phone.source import PhyphoxSource

        assert opts.phyphox is not None
        status(f"connecting to phyphox at {opts.phyphox}…")
        async with PhyphoxSource(opts.phyphox, rate_hz=opts.rate_hz) as phone:
            yield phone
        return
    device = opts.device
    if kind == "auto":
        kind, device = await identify_sensor(opts, status, ble_backends)
        status(f"found a {KIND_LABELS[kind]}; connecting…")
    kwargs = {**_link_kwargs(kind, opts), **(ble_backends or {})}
    async with open_source(cast(SourceKind, kind), device, **kwargs) as src:
        yield src


@contextlib.asynccontextmanager
async def _simulated(kind: SensorChoice, opts: SourceOptions) -> AsyncIterator[Source]:
    from imurep.io import load_recording

    assert opts.simulate is not None
    rec = load_recording(opts.simulate)
    speed = opts.speed
    if kind == "phyphox":
        from imurep.phone.simulated import SimPhyphox
        from imurep.phone.source import PhyphoxSource

        rate = opts.rate_hz or DEFAULTS["phyphox"].rate_hz
        phone = SimPhyphox(
            rec.t_s, rec.acc_mps2, rec.gyr_rads, acc_rate_hz=rate, gyr_rate_hz=rate, speed=speed
        )
        url = await phone.start()
        try:
            async with PhyphoxSource(url, clock=phone.host_clock, poll_interval_s=0.05) as src:
                yield src
        finally:
            await phone.close()
        return
    if kind == "imurep":
        from imurep.ble.simulated import SimulatedSensor, simulated_backends

        sensor = SimulatedSensor(rec.t_s, rec.acc_mps2, rec.gyr_rads, speed=speed)
        backends = simulated_backends(sensor)
    elif kind == "metawear":
        from imurep.ble.metawear.simulated import SimMetaMotion
        from imurep.ble.simperipheral import peripheral_backends

        board = SimMetaMotion(rec.t_s, rec.acc_mps2, rec.gyr_rads, speed=speed)
        backends = {**peripheral_backends(board), "idle_timeout_s": 1.0}
    elif kind == "polar":
        from imurep.ble.polar.simulated import SimVeritySense
        from imurep.ble.simperipheral import peripheral_backends

        backends = peripheral_backends(SimVeritySense(rec.t_s, rec.acc_mps2, rec.gyr_rads, speed=speed))
    else:
        raise SettingsError("--simulate needs --sensor imurep, metawear, polar or phyphox (not auto)")
    async with open_source(
        cast(SourceKind, kind), opts.device, **_link_kwargs(kind, opts), **backends
    ) as src:
        yield src


def source_kind(src: Source) -> str:
    """``imurep``, ``metawear``, ``polar`` or ``phyphox``."""
    kind = getattr(src, "KIND", None)
    if isinstance(kind, str):
        return kind
    return "imurep"


def source_metadata(src: Source) -> dict[str, Any]:
    """What the sidecar records about the link at the end: its kind and counters, with the
    device clock's drift against the host clock (ppm)."""
    s = src.stats
    drift = float(s.clock_drift_ppm)
    return {
        "kind": source_kind(src),
        "samples": int(s.samples),
        "gaps": int(s.gaps),
        "lost_samples": int(s.lost_samples),
        "duplicates": int(s.duplicates),
        "malformed": int(s.malformed),
        "reconnects": int(s.reconnects),
        "clock_drift_ppm": round(drift, 2) if math.isfinite(drift) else None,
        "time_base": "host monotonic clock, sample times from the device clock (lower-envelope fit)",
    }


__all__ = [
    "DEFAULTS",
    "KINDS",
    "SENSOR_CHOICES",
    "SensorChoice",
    "SourceOptions",
    "identify_sensor",
    "open_live_source",
    "source_kind",
    "source_metadata",
]
