"""Stream a MbientLab MetaMotion (MetaWear firmware) with bleak: :class:`MetaWearLink`.

On every connection the driver

1. enables notifications of the MetaWear notify characteristic and reads the Device Information
   service (firmware 0x2A26, model 0x2A24 -> board name, serial 0x2A25);
2. reads the module info of the accelerometer, gyroscope, data processor, event and settings
   modules (BMI160 on MetaMotion R/RL/C, BMI270 on MetaMotion S);
3. stops both sensors and removes the routes it created on an earlier connection (by id), or
   with ``reset_board=True`` runs the SDK's tear-down (removes *every* processor, event and
   logger, stops logging);
4. configures rate and ranges, creates the data route (``fused``: ``gyro -> buffer``, ``acc ->
   fuser(buffer) -> accounter(count)``, one notification per sample with a counter; ``packed``:
   the packed acc and gyro registers, 3 samples per notification) and programs the settings
   module's *disconnect event* to stop the sensors and drop the route if the link is lost;
5. reads the battery (settings module, else the Battery service) and starts acc and gyro.

:meth:`stop` (also on Ctrl-C) stops both sensors and removes the route and the disconnect events.
After a dropped link the board has already stopped itself; the driver reconnects, removes the
leftovers by id and starts a new segment.
"""

from __future__ import annotations

import logging
from typing import Any, Literal

from bleak import BleakClient

from imurep.ble.client import LinkStats, SensorInfo
from imurep.ble.metawear import protocol as mw
from imurep.ble.metawear.stream import FusedStreamDecoder, PackedStreamDecoder
from imurep.ble.vendor_link import Item, Notification, VendorLink
from imurep.model.errors import SensorNotFoundError

logger = logging.getLogger(__name__)

Mode = Literal["auto", "fused", "packed"]
FUSED_MAX_RATE_HZ = 200.0
"""``mode="auto"`` streams fused (exact gaps) up to this rate and packed above it."""


class MetaWearLink(VendorLink):
    """A live, self-healing stream from a MetaMotion board (see :class:`~imurep.ble.source.Source`).

    Parameters
    ----------
    device
        Advertised name or address (``None``: the first MetaWear board found).
    rate_hz
        Requested rate, Hz; snapped to 25, 50, 100, 200, 400 or 800 Hz.
    acc_range_g, gyr_range_dps
        Requested ranges; snapped up to 2/4/8/16 g and 125/250/500/1000/2000 deg/s.
    mode
        ``"fused"`` (acc + gyro of one instant with a sample counter: exact gaps; one notification
        per sample), ``"packed"`` (3 samples per notification per sensor: for 400-800 Hz; timing
        from the rate, gaps estimated) or ``"auto"`` (fused up to 200 Hz when the board's data
        processor has the fuser).
    reset_board
        Run the SDK tear-down on connect (removes every processor, event and logger on the board,
        also those of other apps, and stops logging).
    write_with_response
        Write commands with ATT write requests (acknowledged) instead of write commands (the SDK's
        choice, faster).
    **kwargs
        See :class:`~imurep.ble.vendor_link.VendorLink`.
    """

    KIND = "metawear"
    LABEL = "MetaWear board"

    def __init__(
        self,
        device: str | None = None,
        *,
        rate_hz: float = 100.0,
        acc_range_g: float = 8,
        gyr_range_dps: float = 1000,
        mode: Mode = "auto",
        reset_board: bool = False,
        write_with_response: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            device, rate_hz=rate_hz, acc_range_g=acc_range_g, gyr_range_dps=gyr_range_dps, **kwargs
        )
        if mode not in ("auto", "fused", "packed"):
            raise ValueError(f"mode must be auto, fused or packed, got {mode!r}")
        self.mode: Mode = mode
        self.reset_board = reset_board
        self.write_with_response = write_with_response
        self.config: mw.ImuConfig | None = None
        self.active_mode: Literal["fused", "packed"] | None = None
        self.model = ""
        self.serial = ""
        self.modules: dict[int, mw.ModuleInfo] = {}
        self._processors: list[int] = []  # created on the board, in creation order
        self._events: list[int] = []
        self._fused: FusedStreamDecoder | None = None
        self._packed: PackedStreamDecoder | None = None
        self._pending_segment = False

    # -- commands -------------------------------------------------------------------------------

    async def _send(self, client: BleakClient, *commands: bytes) -> None:
        for cmd in commands:
            await client.write_gatt_char(mw.COMMAND_CHAR_UUID, cmd, response=self.write_with_response)

    async def _ask(self, client: BleakClient, cmd: bytes, header: bytes, *, retries: int = 1) -> bytes:
        return await self._request(
            client,
            mw.COMMAND_CHAR_UUID,
            cmd,
            mw.NOTIFY_CHAR_UUID,
            lambda v: v[: len(header)] == header,
            retries=retries,
            response=self.write_with_response,
        )

    async def _module(self, client: BleakClient, module: int) -> mw.ModuleInfo:
        try:
            info = mw.parse_module_info(await self._ask(client, mw.read_info(module), bytes([module, 0x80])))
        except TimeoutError:
            info = mw.ModuleInfo(module, False)
        self.modules[module] = info
        return info

    async def _create_processor(self, client: BleakClient, cmd: bytes) -> int:
        reply = await self._ask(client, cmd, bytes([mw.Module.DATA_PROCESSOR, mw.DP_ADD]), retries=0)
        pid = reply[2]
        self._processors.append(pid)
        return pid

    async def _create_event(self, client: BleakClient, command: bytes) -> int:
        entry, params = mw.event_entry(mw.DISCONNECT_EVENT_SOURCE, command)
        await self._send(client, entry)
        reply = await self._ask(client, params, bytes([mw.Module.EVENT, mw.EV_ENTRY]), retries=0)
        self._events.append(reply[2])
        return reply[2]

    async def _remove_routes(self, client: BleakClient) -> None:
        for pid in reversed(self._processors):
            await self._send(client, *mw.processor_notify(pid, False), mw.processor_remove(pid))
        self._processors.clear()
        for eid in self._events:
            await self._send(client, mw.event_remove(eid))
        self._events.clear()

    # -- set-up ---------------------------------------------------------------------------------

    async def _setup(self, client: BleakClient, *, reconnect: bool) -> SensorInfo:
        await self._subscribe(client, mw.NOTIFY_CHAR_UUID)
        firmware = await self._read_text(client, mw.FIRMWARE_REV_UUID)
        model_number = await self._read_text(client, mw.MODEL_NUMBER_UUID)
        self.model = mw.MODEL_NAMES.get(model_number, f"MetaWear model {model_number or '?'}")
        self.serial = await self._read_text(client, mw.SERIAL_UUID)
        acc = await self._module(client, mw.Module.ACC)
        gyro = await self._module(client, mw.Module.GYRO)
        dp = await self._module(client, mw.Module.DATA_PROCESSOR)
        ev = await self._module(client, mw.Module.EVENT)
        settings = await self._module(client, mw.Module.SETTINGS)
        acc_chip = mw.ACC_IMPLEMENTATIONS.get(acc.implementation) if acc.present else None
        gyro_chip = mw.GYRO_IMPLEMENTATIONS.get(gyro.implementation) if gyro.present else None
        if acc_chip is None or gyro_chip is None:
            raise SensorNotFoundError(
                f"{self.model} (firmware {firmware or '?'}) has no BMI160/BMI270 accelerometer + gyroscope "
                f"(accelerometer {acc.implementation if acc.present else 'absent'}, gyroscope "
                f"{gyro.implementation if gyro.present else 'absent'}); "
                "imurep supports the MetaMotion R, RL, C and S"
            )
        if self.reset_board:
            await self._send(client, mw.logging_stop(), *mw.tear_down_commands())
            self._processors.clear()
            self._events.clear()
        await self._send(client, *mw.stop_commands())
        await self._remove_routes(client)  # what an earlier connection of ours left behind
        rate = mw.nearest(self.rate_hz, mw.STREAM_RATES_HZ)
        cfg = mw.ImuConfig(
            acc_chip,
            gyro_chip,
            rate,
            mw.range_at_least(self.acc_range_g, mw.ACC_RANGES_G),
            mw.range_at_least(self.gyr_range_dps, mw.GYRO_RANGES_DPS),
        )
        if rate != self.rate_hz:
            logger.info("MetaWear: %g Hz requested, streaming at %g Hz", self.rate_hz, rate)
        fuser_ok = dp.present and dp.revision >= mw.FUSER_MIN_REVISION
        mode = self.mode
        if mode == "auto":
            mode = "fused" if fuser_ok and rate <= FUSED_MAX_RATE_HZ else "packed"
        elif mode == "fused" and not fuser_ok:
            logger.warning(
                "MetaWear data processor revision %s has no fuser; streaming packed data", dp.revision
            )
            mode = "packed"
        if self.active_mode is not None and mode != self.active_mode:
            mode = self.active_mode  # keep the mode of the session across reconnects
        await self._send(
            client,
            mw.acc_config(acc_chip, rate, cfg.acc_range_g),
            mw.gyro_config(gyro_chip, rate, cfg.gyro_range_dps),
        )
        off_commands: list[bytes] = list(mw.stop_commands())
        if mode == "fused":
            buf = await self._create_processor(client, mw.buffer_processor(gyro_chip))
            fuser = await self._create_processor(client, mw.fuser_processor(buf))
            counter = await self._create_processor(client, mw.accounter_count_processor(fuser))
            await self._send(client, *mw.processor_notify(counter, True))
            off_commands += mw.processor_notify(counter, False)
            off_commands += [mw.processor_remove(p) for p in (counter, fuser, buf)]
        else:
            counter = -1
            routes = [(mw.Module.ACC, mw.ACC_PACKED[acc_chip]), (mw.Module.GYRO, mw.GYRO_PACKED[gyro_chip])]
            await self._send(client, *(mw.subscribe(m, r, True) for m, r in routes))
            off_commands += [mw.subscribe(m, r, False) for m, r in routes]
        if ev.present and settings.present and settings.revision >= mw.DISCONNECT_EVENT_MIN_REVISION:
            try:
                for cmd in off_commands:
                    await self._create_event(client, cmd)
            except TimeoutError:
                logger.warning(
                    "the MetaWear board did not accept the disconnect event (its event table may be full: "
                    "reset the board); a lost link will leave its sensors running until it is reset"
                )
        battery = await self._battery(client, settings)
        self._install_decoder(cfg, mode, counter)
        await self._send(client, *mw.start_commands())
        self.config = cfg
        self.active_mode = mode
        name = client.name or self.device or "MetaWear"
        return SensorInfo(
            name=name,
            address=client.address,
            firmware=firmware,
            protocol_version=f"metawear ({self.model}, {acc_chip}, {mode})",
            sample_rate_hz=rate,
            acc_range_g=float(cfg.acc_range_g),
            gyr_range_dps=float(cfg.gyro_range_dps),
            battery_pct=battery,
        )

    async def _battery(self, client: BleakClient, settings: mw.ModuleInfo) -> int | None:
        if settings.present and settings.revision >= mw.BATTERY_MIN_REVISION:
            try:
                reply = await self._ask(
                    client, mw.battery_read(), bytes([mw.Module.SETTINGS, 0x8C]), retries=0
                )
                return mw.parse_battery(reply).charge_pct
            except (TimeoutError, ValueError):
                pass
        return await self._read_battery_service(client, mw.BATTERY_LEVEL_UUID)

    def _install_decoder(self, cfg: mw.ImuConfig, mode: str, counter: int) -> None:
        if mode == "fused":
            if self._fused is not None and self._fused.config == cfg and self._pending_segment:
                self._fused.new_segment(counter)
            else:
                self._fused = FusedStreamDecoder(cfg, counter)
            self._packed = None
        else:
            if self._packed is not None and self._packed.config == cfg and self._pending_segment:
                self._packed.new_segment()
            else:
                self._packed = PackedStreamDecoder(cfg)
            self._fused = None
        self._pending_segment = False

    # -- tear-down, decoding, stats --------------------------------------------------------------

    async def _teardown(self, client: BleakClient) -> None:
        await self._send(client, *mw.stop_commands())
        if self.active_mode == "packed" and self.config is not None:
            cfg = self.config
            await self._send(
                client,
                mw.subscribe(mw.Module.ACC, mw.ACC_PACKED[cfg.acc_chip], False),
                mw.subscribe(mw.Module.GYRO, mw.GYRO_PACKED[cfg.gyro_chip], False),
            )
        await self._remove_routes(client)

    def _decode(self, batch: list[Notification]) -> tuple[list[Item], bool]:
        pairs = [(data, host) for uuid, data, host in batch if uuid == mw.NOTIFY_CHAR_UUID]
        if self._fused is not None:
            return self._fused.feed_many(pairs), False
        if self._packed is not None:
            return self._packed.feed_many(pairs), False
        return [], False

    def _flush(self) -> list[Item]:
        return self._packed.flush() if self._packed is not None else []

    def _new_segment(self) -> None:
        self._pending_segment = True

    def _stats(self) -> LinkStats:
        dec = self._fused or self._packed
        if dec is None:
            return LinkStats(reconnects=self._reconnects)
        s = dec.stats
        return LinkStats(
            frames=s.notifications,
            samples=s.samples,
            gaps=s.gaps,
            lost_samples=s.lost_samples + s.estimated_lost_samples,
            duplicates=s.duplicates,
            malformed=s.malformed,
            unknown_frames=s.unknown,
            reconnects=self._reconnects,
            clock_drift_ppm=dec.timeline.drift_ppm,
        )
