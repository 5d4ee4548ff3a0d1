"""Stream a Polar Verity Sense (PMD service) with bleak: :class:`PolarLink`.

On every connection the driver enables indications of the PMD control point and notifications of
the PMD data characteristic, reads the Device Information (firmware 0x2A26) and Battery (0x2A19)
services and the PMD feature bits, stops ACC and GYRO (a measurement left running by an earlier
session would refuse to start), reads the available settings and starts ACC and GYRO at the same
rate.  Rates other than 52 Hz and ranges other than 8 g / 2000 deg/s need *SDK mode*, which the
driver enables only when needed (``sdk_mode="auto"``) and disables again on :meth:`stop`.

Verity Sense sensors keep their measurements (and SDK mode) when the link drops; the driver stops
and restarts them after reconnecting.  If the link never comes back the sensor goes on measuring
until it is switched off (as the Polar SDK's known-issues page says of the H10).
"""

from __future__ import annotations

import logging
from typing import Any, Literal

from bleak import BleakClient

from imurep.ble.client import LinkStats, SensorInfo
from imurep.ble.metawear.protocol import nearest, range_at_least
from imurep.ble.polar import pmd
from imurep.ble.polar.pmd import MeasurementType as MT
from imurep.ble.polar.pmd import SettingType as ST
from imurep.ble.polar.stream import PmdImuDecoder
from imurep.ble.vendor_link import Item, Notification, VendorLink
from imurep.model.errors import ProtocolError, SensorNotFoundError, SettingsError

logger = logging.getLogger(__name__)

SdkMode = Literal["auto", "on", "off"]
_OK_WHEN_STOPPING = (pmd.Status.SUCCESS, pmd.Status.ERROR_ALREADY_IN_STATE, pmd.Status.ERROR_INVALID_STATE)


def _cp_done(value: bytes) -> bool:
    """A control-point response that is the last of its parts."""
    try:
        return not pmd.parse_cp_response(value).more
    except ProtocolError:
        return True


def _choose(
    acc: pmd.Settings, gyro: pmd.Settings, rate_hz: float, acc_range_g: float, gyr_range_dps: float
) -> tuple[int, int, int, bool]:
    """``(rate, acc range, gyro range, exact)`` closest to the request among ``acc``/``gyro`` settings."""
    rates = sorted(set(acc.get(ST.SAMPLE_RATE, ())) & set(gyro.get(ST.SAMPLE_RATE, ())))
    acc_ranges = tuple(sorted(acc.get(ST.RANGE, ()))) or (8,)
    gyro_ranges = tuple(sorted(gyro.get(ST.RANGE, ()))) or (2000,)
    if not rates:
        raise SettingsError("the Polar sensor offers no sample rate common to ACC and GYRO")
    rate = int(nearest(rate_hz, tuple(rates)))
    ar = range_at_least(acc_range_g, acc_ranges)
    gr = range_at_least(gyr_range_dps, gyro_ranges)
    exact = rate == rate_hz and ar == acc_range_g and gr == gyr_range_dps
    return rate, ar, gr, exact


def _score(choice: tuple[int, int, int, bool], rate_hz: float) -> tuple[bool, float]:
    return (not choice[3], abs(choice[0] - rate_hz))


class PolarLink(VendorLink):
    """A live, self-healing stream from a Polar Verity Sense (see :class:`~imurep.ble.source.Source`).

    Parameters
    ----------
    device
        Advertised name ("Polar Sense 1A2B3C4D"), its device id ("1A2B3C4D") or address
        (``None``: the first Polar sensor found).
    rate_hz
        Requested rate, Hz (Verity Sense: 26, 52, 104, 208 or 416; 52 without SDK mode).
    acc_range_g, gyr_range_dps
        Requested ranges, snapped up to what the sensor offers (2/4/8/16 g, 250-2000 deg/s).
    sdk_mode
        ``"auto"``: enable SDK mode only when the request needs it; ``"on"``/``"off"``: always /
        never (then the closest normal-mode setting is used).
    **kwargs
        See :class:`~imurep.ble.vendor_link.VendorLink`.
    """

    KIND = "polar"
    LABEL = "Polar sensor"

    def __init__(
        self,
        device: str | None = None,
        *,
        rate_hz: float = 52.0,
        acc_range_g: float = 8,
        gyr_range_dps: float = 2000,
        sdk_mode: SdkMode = "auto",
        **kwargs: Any,
    ) -> None:
        super().__init__(
            device, rate_hz=rate_hz, acc_range_g=acc_range_g, gyr_range_dps=gyr_range_dps, **kwargs
        )
        if sdk_mode not in ("auto", "on", "off"):
            raise ValueError(f"sdk_mode must be auto, on or off, got {sdk_mode!r}")
        self.sdk_mode = sdk_mode
        self.features: frozenset[MT] = frozenset()
        self.sdk_mode_active = False
        self.settings: dict[MT, dict[ST, int]] = {}
        self.factors: dict[MT, float] = {}
        self.model = ""
        self.serial = ""
        self._decoder: PmdImuDecoder | None = None
        self._pending_segment = False

    # -- control point --------------------------------------------------------------------------

    async def _cp(self, client: BleakClient, cmd: bytes) -> pmd.CpResponse:
        """Send a control-point command and return its (joined) response."""
        parts = await self._request_all(
            client,
            pmd.CONTROL_POINT_UUID,
            cmd,
            pmd.CONTROL_POINT_UUID,
            lambda v: len(v) >= 4 and v[0] == pmd.RESPONSE_CODE and v[1] == cmd[0],
            _cp_done,
            retries=0,
        )
        first = pmd.parse_cp_response(parts[0])
        params = b"".join(pmd.parse_cp_response(p).parameters for p in parts)
        return pmd.CpResponse(first.op, first.measurement_type, first.status, False, params)

    async def _settings(self, client: BleakClient, mtype: MT, *, sdk: bool) -> pmd.Settings:
        r = await self._cp(client, pmd.get_settings_command(mtype, sdk_mode=sdk))
        if not r.ok:
            raise SettingsError(
                f"the Polar sensor refused to list its {mtype.name} settings: {r.status_name}"
            )
        return pmd.parse_settings(r.parameters)

    async def _stop_measurement(self, client: BleakClient, mtype: MT) -> None:
        r = await self._cp(client, pmd.stop_command(mtype))
        if r.status not in _OK_WHEN_STOPPING:
            logger.debug("stopping %s: %s", mtype.name, r.status_name)

    async def _set_sdk_mode(self, client: BleakClient, on: bool) -> None:
        r = await self._cp(client, pmd.sdk_mode_command(on))
        if r.status not in (pmd.Status.SUCCESS, pmd.Status.ERROR_ALREADY_IN_STATE):
            raise SettingsError(
                f"the Polar sensor refused to {'enter' if on else 'leave'} SDK mode: {r.status_name}"
            )
        self.sdk_mode_active = on

    async def _start(
        self, client: BleakClient, mtype: MT, available: pmd.Settings, rate: int, rng: int
    ) -> float:
        sel: dict[ST, int] = {ST.SAMPLE_RATE: rate, ST.RANGE: rng}
        if available.get(ST.RESOLUTION):
            sel[ST.RESOLUTION] = max(available[ST.RESOLUTION])
        if available.get(ST.CHANNELS):
            sel[ST.CHANNELS] = max(available[ST.CHANNELS])
        order = [t for t in (ST.SAMPLE_RATE, ST.RESOLUTION, ST.RANGE, ST.CHANNELS) if t in sel]
        cmd = pmd.start_command(mtype, {t: sel[t] for t in order})
        r = await self._cp(client, cmd)
        if r.status == pmd.Status.ERROR_ALREADY_IN_STATE:
            await self._stop_measurement(client, mtype)
            r = await self._cp(client, cmd)
        if r.status == pmd.Status.ERROR_INVALID_MTU:
            raise SettingsError(
                f"the Polar sensor refused to start {mtype.name}: the link's MTU ({client.mtu_size}) is too "
                "small; "
                "use a Bluetooth adapter/OS that negotiates a larger MTU (BlueZ >= 5.55, macOS, Windows 10+)"
            )
        if not r.ok:
            raise SettingsError(
                f"the Polar sensor refused to start {mtype.name} at {rate} Hz, range {rng}: {r.status_name}"
            )
        factor = pmd.factor_of(pmd.parse_settings(r.parameters)) if r.parameters else None
        self.settings[mtype] = sel
        self.factors[mtype] = factor if factor is not None else 1.0
        return self.factors[mtype]

    # -- set-up ---------------------------------------------------------------------------------

    async def _setup(self, client: BleakClient, *, reconnect: bool) -> SensorInfo:
        await self._subscribe(client, pmd.CONTROL_POINT_UUID)
        await self._subscribe(client, pmd.DATA_UUID)
        firmware = await self._read_text(client, pmd.FIRMWARE_REV_UUID)
        self.model = await self._read_text(client, pmd.MODEL_NUMBER_UUID)
        self.serial = await self._read_text(client, pmd.SERIAL_UUID)
        battery = await self._read_battery_service(client, pmd.BATTERY_LEVEL_UUID)
        self.features = pmd.parse_features(bytes(await client.read_gatt_char(pmd.CONTROL_POINT_UUID)))
        if MT.ACC not in self.features or MT.GYRO not in self.features:
            what = "gyroscope" if MT.ACC in self.features else "IMU"
            raise SensorNotFoundError(
                f"{self.model or 'this Polar sensor'} streams no {what} data over PMD (the H10 and OH1 "
                "have an accelerometer only); imurep needs a Polar Verity Sense"
            )
        for mtype in (MT.ACC, MT.GYRO):
            await self._stop_measurement(client, mtype)
        if MT.SDK_MODE in self.features and not self.sdk_mode_active:
            status = await self._cp(client, pmd.sdk_mode_status_command())
            if status.ok and status.parameters[:1] not in (b"", b"\x00"):
                logger.info(
                    "the Polar sensor is in SDK mode (left by an earlier session); imurep will leave it"
                )
                self.sdk_mode_active = True
        acc = await self._settings(client, MT.ACC, sdk=False)
        gyro = await self._settings(client, MT.GYRO, sdk=False)
        choice = _choose(acc, gyro, self.rate_hz, self.acc_range_g, self.gyr_range_dps)
        want_sdk = (
            self.sdk_mode == "on" or (self.sdk_mode == "auto" and not choice[3]) or self.sdk_mode_active
        )
        if want_sdk and MT.SDK_MODE in self.features and self.sdk_mode != "off":
            full_acc = await self._settings(client, MT.ACC, sdk=True)
            full_gyro = await self._settings(client, MT.GYRO, sdk=True)
            sdk_choice = _choose(full_acc, full_gyro, self.rate_hz, self.acc_range_g, self.gyr_range_dps)
            if (
                self.sdk_mode == "on"
                or self.sdk_mode_active
                or _score(sdk_choice, self.rate_hz) < _score(choice, self.rate_hz)
            ):
                await self._set_sdk_mode(client, True)
                acc = await self._settings(client, MT.ACC, sdk=False)
                gyro = await self._settings(client, MT.GYRO, sdk=False)
                choice = _choose(acc, gyro, self.rate_hz, self.acc_range_g, self.gyr_range_dps)
        elif want_sdk and self.sdk_mode == "on":
            raise SettingsError(
                "this Polar sensor has no SDK mode (Verity Sense needs firmware 1.1.5 or later)"
            )
        rate, acc_range, gyro_range, exact = choice
        if not exact:
            logger.info(
                "Polar: %g Hz, %g g, %g dps requested; streaming at %d Hz, %d g, %d dps",
                self.rate_hz, self.acc_range_g, self.gyr_range_dps, rate, acc_range, gyro_range,
            )  # fmt: skip
        acc_factor = await self._start(client, MT.ACC, acc, rate, acc_range)
        gyro_factor = await self._start(client, MT.GYRO, gyro, rate, gyro_range)
        if self._decoder is not None and self._pending_segment and self._decoder.acc_rate_hz == rate:
            self._decoder.configure(acc_factor, gyro_factor)
            self._decoder.new_segment()
        else:
            self._decoder = PmdImuDecoder(rate, rate, acc_factor, gyro_factor)
        self._pending_segment = False
        mode = "SDK mode" if self.sdk_mode_active else "normal mode"
        return SensorInfo(
            name=client.name or self.device or "Polar",
            address=client.address,
            firmware=firmware,
            protocol_version=f"polar-pmd ({self.model or 'Polar'}, {mode})",
            sample_rate_hz=float(rate),
            acc_range_g=float(acc_range),
            gyr_range_dps=float(gyro_range),
            battery_pct=battery,
        )

    # -- tear-down, decoding, stats --------------------------------------------------------------

    async def _teardown(self, client: BleakClient) -> None:
        for mtype in (MT.ACC, MT.GYRO):
            await self._stop_measurement(client, mtype)
        if self.sdk_mode_active:
            await self._set_sdk_mode(client, False)

    def _decode(self, batch: list[Notification]) -> tuple[list[Item], bool]:
        ended = False
        data: list[tuple[bytes, float]] = []
        for uuid, value, host in batch:
            if uuid == pmd.DATA_UUID:
                data.append((value, host))
            elif uuid == pmd.CONTROL_POINT_UUID:
                stopped = pmd.parse_cp_event(value)
                if stopped and (MT.ACC in stopped or MT.GYRO in stopped):
                    ended = True
        items = self._decoder.feed_many(data) if self._decoder is not None and data else []
        return items, ended

    def _flush(self) -> list[Item]:
        return self._decoder.flush() if self._decoder is not None else []

    def _new_segment(self) -> None:
        self._pending_segment = True

    def _stats(self) -> LinkStats:
        d = self._decoder
        if d is None:
            return LinkStats(reconnects=self._reconnects)
        s = d.stats
        return LinkStats(
            frames=s.frames,
            samples=s.samples,
            gaps=s.gaps,
            lost_samples=s.lost_samples,
            duplicates=s.duplicates,
            malformed=s.malformed,
            unknown_frames=s.unknown,
            reconnects=self._reconnects,
            clock_drift_ppm=d.timeline.drift_ppm,
        )
