"""A simulated MetaMotion board that speaks the MetaWear byte protocol (a firmware twin).

:class:`SimMetaMotion` answers the commands the MetaWear SDK's unit tests show (module info reads,
configuration, power and interrupt registers, data routes, data processors ``buffer``, ``fuser``
and ``accounter``, disconnect events, battery, tear-down, reset) and streams a recording
(``t_s``, ``acc_mps2``, ``gyr_rads``, e.g. from :func:`imurep.sim.simulate`) through whatever
routes the host set up: plain, packed (3 samples per notification) or fused + counted data.  It
runs behind the real ``BleakScanner``/``BleakClient`` via :mod:`imurep.ble.simperipheral`.

The board's state (:meth:`SimMetaMotion.state`, :attr:`SimMetaMotion.clean`) is what the tests
check after each exit path; :attr:`SimMetaMotion.sent` is the oracle of every sample it produced.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np
from bleak.backends.scanner import AdvertisementData
from bleak.exc import BleakGATTProtocolError
from numpy.typing import NDArray

from imurep.ble.metawear import protocol as mw
from imurep.ble.simperipheral import GattTable, SimPeripheral
from imurep.model.units import DEG_PER_RAD, STANDARD_GRAVITY_MPS2

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class MetaWearFaults:
    """Faults injected by a :class:`SimMetaMotion`.

    Attributes
    ----------
    drop_samples
        Samples (numbered over the board's life from 0) that are produced and counted but whose
        notification never arrives (fused and plain routes).
    drop_notifications
        Packed notifications (numbered over the board's life per sensor) that never arrive.
    link_loss_after_samples
        The link drops once this many samples were produced (over the board's life).
    link_loss_s
        Time that passes while the link is down, s.
    fail_connects
        The first connection attempts fail.
    odr_error_ppm
        The IMU's output rate error (positive: faster than nominal), ppm.
    latency_jitter_s
        Host receive latency is uniform in ``[0, latency_jitter_s]``, s.
    event_capacity
        Event table size (entries beyond it get no answer).
    seed
        Seed of the latency jitter.
    """

    drop_samples: tuple[int, ...] = ()
    drop_notifications: tuple[int, ...] = ()
    link_loss_after_samples: tuple[int, ...] = ()
    link_loss_s: float = 0.5
    fail_connects: int = 0
    odr_error_ppm: float = 0.0
    latency_jitter_s: float = 0.01
    event_capacity: int = 28
    seed: int = 0


@dataclass
class _Processor:
    pid: int
    type_id: int
    source: tuple[int, int, int]
    config: bytes
    notify: bool = False
    count: int = 0
    state: bytes = b""


@dataclass(frozen=True)
class SentSample:
    """One sample the board produced (the test oracle).

    ``acc``/``gyr`` are the int16 counts; ``delivered`` says whether the host could get the
    notification carrying it (fused/plain: the sample's own; packed: acc and gyro separately).
    """

    index: int
    connection: int
    t_true_s: float
    acc: tuple[int, int, int]
    gyr: tuple[int, int, int]
    acc_delivered: bool
    gyr_delivered: bool
    count: int | None = None


@dataclass
class _Stream:
    acc_on: bool = False
    gyro_on: bool = False
    acc_int: bool = False
    gyro_int: bool = False
    acc_conf: bytes = b"\x28\x03"
    gyro_conf: bytes = b"\x28\x00"
    subs: set[tuple[int, int]] = field(default_factory=set)


class SimMetaMotion(SimPeripheral):
    """Firmware twin of a MetaMotion S (BMI270) or R (BMI160) playing a recording.

    Parameters
    ----------
    t_s, acc_mps2, gyr_rads
        The recording: times ``(n,)`` s, specific force ``(n, 3)`` m/s², rate ``(n, 3)`` rad/s.
        The board samples it (linear interpolation) at its own output rate.
    model
        ``"S"`` (BMI270, model number 8) or ``"R"`` (BMI160, model number 5).
    data_processor_revision, settings_revision
        Module revisions reported (fuser needs >= 1, disconnect event >= 2, battery >= 3).
    faults
        What to inject.
    **kwargs
        Name, address, MTU, speed ... (see :class:`~imurep.ble.simperipheral.SimPeripheral`).
    """

    def __init__(
        self,
        t_s: Any,
        acc_mps2: Any,
        gyr_rads: Any,
        *,
        model: Literal["S", "R"] = "S",
        name: str = "MetaWear",
        address: str = "D4:7A:E2:00:00:01",
        firmware: str = "1.7.3",
        battery_pct: int = 87,
        data_processor_revision: int = 3,
        settings_revision: int = 10,
        faults: MetaWearFaults | None = None,
        **kwargs: Any,
    ) -> None:
        self.faults = faults or MetaWearFaults()
        kwargs.setdefault("latency_jitter_s", self.faults.latency_jitter_s)
        super().__init__(
            name, address, fail_connects=self.faults.fail_connects, seed=self.faults.seed, **kwargs
        )
        self.t_s = np.asarray(t_s, dtype=np.float64)
        self.acc_mps2 = np.asarray(acc_mps2, dtype=np.float64)
        self.gyr_rads = np.asarray(gyr_rads, dtype=np.float64)
        self.model = model
        self.chip: mw.Chip = "bmi270" if model == "S" else "bmi160"
        self.firmware = firmware
        self.battery_pct = battery_pct
        self.revisions = {
            mw.Module.DATA_PROCESSOR: data_processor_revision,
            mw.Module.SETTINGS: settings_revision,
        }
        self.s = _Stream()
        self.processors: dict[int, _Processor] = {}
        self.events: dict[int, tuple[tuple[int, int, int], bytes]] = {}
        self.dp_notify = False
        self.logging = True
        self.commands: list[bytes] = []
        self.event_log: list[bytes] = []
        self.sent: list[SentSample] = []
        self.connect_states: list[dict[str, Any]] = []
        """The board's :meth:`state` whenever a host connected."""
        self._pending_event: tuple[tuple[int, int, int], int, int, int] | None = None
        self._task: asyncio.Task[None] | None = None
        self._t0_true: float | None = None  # true time of sample 0 (first start)
        self._next_k = 0
        self._index = 0  # samples produced over the board's life
        self._packed: dict[int, list[tuple[bytes, int]]] = {mw.Module.ACC: [], mw.Module.GYRO: []}
        self._packed_no: dict[int, int] = {mw.Module.ACC: 0, mw.Module.GYRO: 0}
        self._gyro_latest = bytes(6)

    # -- GATT -------------------------------------------------------------------------------------

    def gatt_table(self) -> GattTable:
        return [
            (
                mw.SERVICE_UUID,
                [
                    (mw.COMMAND_CHAR_UUID, ["write", "write-without-response"]),
                    (mw.NOTIFY_CHAR_UUID, ["notify"]),
                ],
            ),
            (
                mw.DIS_SERVICE_UUID,
                [
                    (u, ["read"])
                    for u in (
                        mw.MANUFACTURER_UUID,
                        mw.MODEL_NUMBER_UUID,
                        mw.SERIAL_UUID,
                        mw.FIRMWARE_REV_UUID,
                        mw.HARDWARE_REV_UUID,
                    )
                ],
            ),
        ]

    def advertisement(self) -> AdvertisementData:
        return AdvertisementData(self.name, {}, {}, [mw.SERVICE_UUID], 0, self.rssi, ())

    def read(self, uuid: str) -> bytes:
        values = {
            mw.MANUFACTURER_UUID: b"MbientLab Inc",
            mw.MODEL_NUMBER_UUID: b"8" if self.model == "S" else b"5",
            mw.SERIAL_UUID: self.address.replace(":", "")[-6:].encode(),
            mw.FIRMWARE_REV_UUID: self.firmware.encode(),
            mw.HARDWARE_REV_UUID: b"0.1",
        }
        if uuid not in values:
            raise BleakGATTProtocolError(0x02)
        return values[uuid]

    async def write(self, uuid: str, data: bytes, response: bool) -> None:
        if uuid != mw.COMMAND_CHAR_UUID:
            raise BleakGATTProtocolError(0x03)
        self.commands.append(bytes(data))
        self._handle(bytes(data))
        await asyncio.sleep(0)

    def _reply(self, data: bytes) -> None:
        self.notify(mw.NOTIFY_CHAR_UUID, data)

    # -- commands -------------------------------------------------------------------------------

    def _module_info(self, module: int) -> bytes:
        table: dict[int, bytes] = {
            mw.Module.ACC: bytes([4 if self.chip == "bmi270" else 1, 0 if self.chip == "bmi270" else 1]),
            mw.Module.GYRO: bytes([1 if self.chip == "bmi270" else 0, 0 if self.chip == "bmi270" else 1]),
            mw.Module.DATA_PROCESSOR: bytes([0, self.revisions[mw.Module.DATA_PROCESSOR], 0x1C]),
            mw.Module.EVENT: bytes([0, 0, self.faults.event_capacity]),
            mw.Module.LOGGING: bytes([0, 3, 8, 0, 0, 0xFB, 3, 0, 2]),
            mw.Module.SETTINGS: bytes([0, self.revisions[mw.Module.SETTINGS], 7, 0]),
            mw.Module.MACRO: bytes([0, 2, 8]),
            mw.Module.DEBUG: bytes([0, 5, 3]),
        }
        return bytes([module, 0x80]) + table.get(module, b"")

    def _handle(self, cmd: bytes) -> None:
        if len(cmd) < 2:
            return
        mod, reg = cmd[0], cmd[1]
        if reg == mw.READ_BIT | mw.INFO_REGISTER:
            self._reply(self._module_info(mod))
        elif mod in (mw.Module.ACC, mw.Module.GYRO):
            self._sensor(mod, reg, cmd[2:])
        elif mod == mw.Module.DATA_PROCESSOR:
            self._processor(reg, cmd[2:])
        elif mod == mw.Module.EVENT:
            self._event(reg, cmd[2:])
        elif mod == mw.Module.SETTINGS and reg & 0x3F == mw.SET_BATTERY and reg & mw.READ_BIT:
            self._reply(bytes([mw.Module.SETTINGS, 0x8C, self.battery_pct]) + (4100).to_bytes(2, "little"))
        elif mod == mw.Module.LOGGING:
            if reg == mw.LOG_ENABLE and len(cmd) > 2:
                self.logging = bool(cmd[2])
            elif reg == mw.READ_BIT | mw.LOG_TIME:
                ticks = round(self.now() / mw.TICK_S) % (1 << 32)
                self._reply(bytes([mw.Module.LOGGING, 0x84]) + ticks.to_bytes(4, "little") + b"\x00")
        elif mod == mw.Module.DEBUG:
            if reg == mw.DEBUG_RESET:
                self._reset()
                self.drop_link()
            elif reg == mw.DEBUG_DISCONNECT:
                self.drop_link()

    def _sensor(self, mod: int, reg: int, args: bytes) -> None:
        s = self.s
        acc = mod == mw.Module.ACC
        if reg == mw.ACC_POWER and args:
            if acc:
                s.acc_on = bool(args[0])
            else:
                s.gyro_on = bool(args[0])
            self._update_stream()
        elif reg == mw.ACC_INTERRUPT_ENABLE and len(args) >= 2:
            on = bool(args[0] & 1) if args[0] else not bool(args[1] & 1)
            if acc:
                s.acc_int = on
            else:
                s.gyro_int = on
            self._update_stream()
        elif reg == mw.ACC_CONFIG and len(args) >= 2:
            if acc:
                s.acc_conf = bytes(args[:2])
            else:
                s.gyro_conf = bytes(args[:2])
        elif args and (
            reg in (mw.ACC_DATA, mw.ACC_PACKED[self.chip])
            if acc
            else reg in (mw.GYRO_DATA[self.chip], mw.GYRO_PACKED[self.chip])
        ):
            if args[0]:
                s.subs.add((mod, reg))
            else:
                s.subs.discard((mod, reg))

    def _processor(self, reg: int, args: bytes) -> None:
        if reg == mw.DP_ADD and len(args) >= 5:
            pid = next(i for i in range(256) if i not in self.processors)
            source = (args[0], args[1], args[2])
            self.processors[pid] = _Processor(pid, args[4], source, bytes(args[5:]))
            if args[4] == mw.DP_TYPE_BUFFER:
                self.processors[pid].state = bytes(6)
            self._reply(bytes([mw.Module.DATA_PROCESSOR, mw.DP_ADD, pid]))
        elif reg == mw.DP_NOTIFY_ENABLE and len(args) >= 2 and args[0] in self.processors:
            self.processors[args[0]].notify = bool(args[1])
        elif reg == mw.DP_NOTIFY and args:
            self.dp_notify = bool(args[0])
        elif reg == mw.DP_REMOVE and args:
            self._remove_processor(args[0])
        elif reg == mw.DP_REMOVE_ALL:
            self.processors.clear()

    def _remove_processor(self, pid: int) -> None:
        if self.processors.pop(pid, None) is None:
            return
        for child in [
            p.pid
            for p in self.processors.values()
            if p.source == (mw.Module.DATA_PROCESSOR, mw.DP_NOTIFY, pid)
        ]:
            self._remove_processor(child)

    def _event(self, reg: int, args: bytes) -> None:
        if reg == mw.EV_ENTRY and len(args) >= 6:
            self._pending_event = ((args[0], args[1], args[2]), args[3], args[4], args[5])
        elif reg == mw.EV_CMD_PARAMETERS and self._pending_event is not None:
            source, dmod, dreg, _n = self._pending_event
            self._pending_event = None
            if len(self.events) >= self.faults.event_capacity:
                return  # table full: no answer
            eid = next(i for i in range(256) if i not in self.events)
            self.events[eid] = (source, bytes([dmod, dreg]) + bytes(args))
            self._reply(bytes([mw.Module.EVENT, mw.EV_ENTRY, eid]))
        elif reg == mw.EV_REMOVE and args:
            self.events.pop(args[0], None)
        elif reg == mw.EV_REMOVE_ALL:
            self.events.clear()

    def _reset(self) -> None:
        self.s = _Stream()
        self.processors.clear()
        self.events.clear()
        self.dp_notify = False
        self._update_stream()

    # -- link -------------------------------------------------------------------------------------

    def on_connected(self) -> None:
        self.connect_states.append(self.state())
        self._update_stream()

    def on_disconnected(self, *, host_initiated: bool) -> None:
        for source, cmd in list(self.events.values()):
            if source == mw.DISCONNECT_EVENT_SOURCE:
                self.event_log.append(cmd)
                self._handle(cmd)
        self._discard_partial()
        if not host_initiated and self.world is not None:
            self.world.advance_to(self.now() + self.faults.link_loss_s)
        self._update_stream()

    # -- state --------------------------------------------------------------------------------------

    @property
    def sampling(self) -> bool:
        """Either sensor is powered with its data interrupt enabled."""
        s = self.s
        return (s.acc_on and s.acc_int) or (s.gyro_on and s.gyro_int)

    @property
    def clean(self) -> bool:
        """Sensors off, no data route, no processor, no event (what a clean stop leaves)."""
        s = self.s
        return not (
            s.acc_on or s.gyro_on or s.acc_int or s.gyro_int or s.subs or self.processors or self.events
        )

    def state(self) -> dict[str, Any]:
        """A summary of the board's state (for test messages)."""
        s = self.s
        return {
            "acc_on": s.acc_on,
            "gyro_on": s.gyro_on,
            "acc_int": s.acc_int,
            "gyro_int": s.gyro_int,
            "subs": sorted(s.subs),
            "processors": {p.pid: (p.type_id, p.source, p.notify) for p in self.processors.values()},
            "events": dict(self.events),
        }

    @property
    def rate_hz(self) -> float:
        return mw.ACC_ODRS_HZ[(self.s.acc_conf[0] & 0x0F) - 1]

    def _ranges(self) -> tuple[int, int]:
        codes = {v: k for k, v in mw.ACC_RANGE_CODE[self.chip].items()}
        return codes[self.s.acc_conf[1] & 0x0F], mw.GYRO_RANGES_DPS[self.s.gyro_conf[1] & 0x07]

    # -- streaming --------------------------------------------------------------------------------

    def _update_stream(self) -> None:
        run = self.sampling and self.connected
        if run and self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name=f"sim-metawear-{self.name}")
        elif not run and self._task is not None:
            task, self._task = self._task, None
            if task is not asyncio.current_task():
                task.cancel()

    async def stopped(self) -> None:
        """Wait until the streaming task ended (test helper)."""
        task = self._task
        if task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def _value(self, t_true: float) -> tuple[NDArray[np.int16], NDArray[np.int16]] | None:
        assert self._t0_true is not None
        t_rec = self.t_s[0] + (t_true - self._t0_true)
        if t_rec > self.t_s[-1]:
            return None
        acc = np.array([np.interp(t_rec, self.t_s, self.acc_mps2[:, k]) for k in range(3)])
        gyr = np.array([np.interp(t_rec, self.t_s, self.gyr_rads[:, k]) for k in range(3)])
        range_g, range_dps = self._ranges()
        a = np.clip(np.round(acc / STANDARD_GRAVITY_MPS2 * mw.ACC_LSB_PER_G[range_g]), -32768, 32767)
        g = np.clip(np.round(gyr * DEG_PER_RAD * mw.GYRO_LSB_PER_DPS[range_dps]), -32768, 32767)
        return a.astype(np.int16), g.astype(np.int16)

    async def _run(self) -> None:
        await self.settle()  # the start commands come back to back: let them all arrive
        period = 1.0 / (self.rate_hz * (1.0 + self.faults.odr_error_ppm * 1e-6))
        now = self.now()
        if self._t0_true is None:
            self._t0_true = now + period
            self._next_k = 0
        else:  # resume: samples while the link was down were produced but went nowhere
            resume = max(self._next_k, math.ceil((now - self._t0_true) / period))
            skipped = resume - self._next_k
            for p in self.processors.values():
                if p.type_id == mw.DP_TYPE_ACCOUNTER:
                    p.count += skipped
            self._next_k = resume
        while self.connected and self.sampling:
            t = self._t0_true + self._next_k * period
            values = self._value(t)
            if values is None:
                self._discard_partial()
                break  # the recording is over: the board keeps running but has nothing to send
            await self.pace(t + 0.5e-3)
            if not (self.connected and self.sampling):
                break
            self._emit(t, *values)
            self._next_k += 1
            if self._index in self.faults.link_loss_after_samples:
                self.drop_link()
                break
        if self._task is asyncio.current_task():
            self._task = None

    def _emit(self, t: float, acc: NDArray[np.int16], gyr: NDArray[np.int16]) -> None:
        s = self.s
        acc_run = s.acc_on and s.acc_int
        gyr_run = s.gyro_on and s.gyro_int
        drop = self._index in self.faults.drop_samples
        acc_b, gyr_b = mw.encode_xyz(acc), mw.encode_xyz(gyr)
        acc_ok = gyr_ok = False
        count: int | None = None
        if gyr_run:
            self._gyro_latest = gyr_b
            gyr_ok |= self._route(mw.Module.GYRO, mw.GYRO_DATA[self.chip], gyr_b, drop)
            gyr_ok |= self._pack(mw.Module.GYRO, mw.GYRO_PACKED[self.chip], gyr_b)
        if acc_run:
            acc_ok |= self._route(mw.Module.ACC, mw.ACC_DATA, acc_b, drop)
            acc_ok |= self._pack(mw.Module.ACC, mw.ACC_PACKED[self.chip], acc_b)
            fused_ok, count = self._processors_on_acc(acc_b, drop)
            if count is not None:
                acc_ok = gyr_ok = fused_ok
        self.sent.append(
            SentSample(
                self._index,
                self.connections,
                t,
                tuple(int(x) for x in acc),  # type: ignore[arg-type]
                tuple(int(x) for x in gyr),  # type: ignore[arg-type]
                acc_ok,
                gyr_ok,
                count,
            )
        )
        self._index += 1

    def _route(self, mod: int, reg: int, data: bytes, drop: bool) -> bool:
        if (mod, reg) not in self.s.subs:
            return False
        return not drop and self.notify(mw.NOTIFY_CHAR_UUID, bytes([mod, reg]) + data)

    def _pack(self, mod: int, reg: int, data: bytes) -> bool:
        """Packed route: 3 samples per notification; True if this sample's notification arrives."""
        if (mod, reg) not in self.s.subs:
            return False
        buf = self._packed[mod]
        buf.append((data, self._index))
        if len(buf) < 3:
            return True  # decided when the notification goes out (see _fix_packed)
        no = self._packed_no[mod]
        self._packed_no[mod] += 1
        payload = bytes([mod, reg]) + b"".join(d for d, _ in buf)
        ok = no not in self.faults.drop_notifications and self.notify(mw.NOTIFY_CHAR_UUID, payload)
        if not ok:
            self._fix_packed([i for _, i in buf[:-1]], mod)
        buf.clear()
        return ok

    def _fix_packed(self, indices: list[int], mod: int) -> None:
        first = self.sent[0].index if self.sent else 0
        for i in indices:
            k = i - first
            if 0 <= k < len(self.sent) and self.sent[k].index == i:
                if mod == mw.Module.ACC:
                    self.sent[k] = replace(self.sent[k], acc_delivered=False)
                else:
                    self.sent[k] = replace(self.sent[k], gyr_delivered=False)

    def _discard_partial(self) -> None:
        """Samples waiting in a partly filled packed notification never go out."""
        for mod, buf in self._packed.items():
            self._fix_packed([i for _, i in buf], mod)
            buf.clear()

    def _processors_on_acc(self, acc_b: bytes, drop: bool) -> tuple[bool, int | None]:
        """Run the processors fed by acc data; ``(delivered, count)`` of a counted output."""
        for p in self.processors.values():
            if p.type_id == mw.DP_TYPE_BUFFER and p.source[:2] == (mw.Module.GYRO, mw.GYRO_DATA[self.chip]):
                p.state = self._gyro_latest
        delivered, count = False, None
        for fuser in [p for p in self.processors.values() if p.type_id == mw.DP_TYPE_FUSER]:
            if fuser.source[:2] != (mw.Module.ACC, mw.ACC_DATA):
                continue
            refs = fuser.config[1 : 1 + fuser.config[0]]
            out = acc_b + b"".join(self.processors[r].state for r in refs if r in self.processors)
            for acct in self.processors.values():
                if acct.type_id != mw.DP_TYPE_ACCOUNTER or acct.source != (
                    mw.Module.DATA_PROCESSOR,
                    mw.DP_NOTIFY,
                    fuser.pid,
                ):
                    continue
                count = acct.count
                acct.count = (acct.count + 1) % (1 << 32)
                if acct.notify and self.dp_notify and not drop:
                    msg = (
                        bytes([mw.Module.DATA_PROCESSOR, mw.DP_NOTIFY, acct.pid])
                        + count.to_bytes(4, "little")
                        + out
                    )
                    delivered = self.notify(mw.NOTIFY_CHAR_UUID, msg) or delivered
        return delivered, count
