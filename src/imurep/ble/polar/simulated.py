"""A simulated Polar Verity Sense that speaks the PMD byte protocol (a firmware twin).

:class:`SimVeritySense` answers the control-point commands of the Polar SDK's tests (feature read,
get settings in normal and SDK mode, start with settings, stop, SDK mode on/off, typed error
statuses, ``INVALID_MTU`` below a minimum MTU) and streams a recording as delta-compressed ACC
(frame type 0x80, factor in g per count) and GYRO (0x80, factor in deg/s per count) frames that
fill the MTU, each stamped with the device time (ns since 2000-01-01) of its last sample.  It
runs behind the real ``BleakScanner``/``BleakClient`` via :mod:`imurep.ble.simperipheral`.

:attr:`SimVeritySense.clean` (no measurement running, not in SDK mode) is what the tests check
after each exit path; :attr:`SimVeritySense.frames` is the oracle of every frame it produced.
"""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from bleak.backends.scanner import AdvertisementData
from bleak.exc import BleakGATTProtocolError
from numpy.typing import NDArray

from imurep.ble.polar import pmd
from imurep.ble.polar.pmd import MeasurementType as MT
from imurep.ble.polar.pmd import SettingType as ST
from imurep.ble.polar.pmd import Status
from imurep.ble.simperipheral import GattTable, SimPeripheral
from imurep.model.units import DEG_PER_RAD, STANDARD_GRAVITY_MPS2

NORMAL_SETTINGS: dict[MT, pmd.Settings] = {
    MT.ACC: {ST.SAMPLE_RATE: (52,), ST.RESOLUTION: (16,), ST.RANGE: (8,), ST.CHANNELS: (3,)},
    MT.GYRO: {ST.SAMPLE_RATE: (52,), ST.RESOLUTION: (16,), ST.RANGE: (2000,), ST.CHANNELS: (3,)},
}
"""What a Verity Sense offers without SDK mode (``documentation/products/PolarVeritySense.md``)."""
SDK_SETTINGS: dict[MT, pmd.Settings] = {
    MT.ACC: {
        ST.SAMPLE_RATE: (26, 52, 104, 208, 416),
        ST.RESOLUTION: (16,),
        ST.RANGE: (2, 4, 8, 16),
        ST.CHANNELS: (3,),
    },
    MT.GYRO: {
        ST.SAMPLE_RATE: (26, 52, 104, 208, 416),
        ST.RESOLUTION: (16,),
        ST.RANGE: (250, 500, 1000, 2000),
        ST.CHANNELS: (3,),
    },
}
"""What it offers in SDK mode."""
DEVICE_EPOCH_NS = 757_382_400_000_000_000
"""Device clock at the simulation's time 0: 2024-01-01 in ns since 2000-01-01."""


@dataclass(frozen=True)
class PolarFaults:
    """Faults injected by a :class:`SimVeritySense`.

    Attributes
    ----------
    drop_frames
        Data frames (numbered over the sensor's life, both streams) never delivered.
    link_loss_after_frames
        The link drops after these data frames.
    link_loss_s
        Time that passes while the link is down, s.
    fail_connects
        The first connection attempts fail.
    keeps_measuring_after_link_loss
        Measurements (and SDK mode) survive a lost link (else they stop with it).
    odr_error_ppm
        The IMU's rate error against the device clock (positive: fast), ppm.
    gyro_offset_s
        GYRO samples are taken this long after the ACC samples, s.
    min_mtu
        Below this ATT MTU a start is refused with ``ERROR_INVALID_MTU``.
    max_samples_per_frame
        Cap on the samples in one frame (the sensor also fills the MTU).
    latency_jitter_s, seed
        Host receive latency (uniform in ``[0, latency_jitter_s]``, s) and its seed.
    """

    drop_frames: tuple[int, ...] = ()
    link_loss_after_frames: tuple[int, ...] = ()
    link_loss_s: float = 0.5
    fail_connects: int = 0
    keeps_measuring_after_link_loss: bool = True
    odr_error_ppm: float = 0.0
    gyro_offset_s: float = 0.0
    min_mtu: int = 70
    max_samples_per_frame: int = 64
    latency_jitter_s: float = 0.02
    seed: int = 0


@dataclass
class _Measurement:
    mtype: MT
    rate_hz: float
    range: int
    factor: float
    t0_true: float  # true time of sample 0
    next_k: int = 0


@dataclass(frozen=True, eq=False)
class SentFrame:
    """One data frame the sensor produced (the test oracle).

    ``counts (n, 3)`` as encoded, ``t_true_s (n,)`` the true sample times, ``timestamps_ns`` the
    device times, ``delivered`` False for frames dropped or sent while the link was down.
    """

    number: int
    mtype: MT
    t_true_s: NDArray[np.float64]
    timestamps_ns: NDArray[np.int64]
    counts: NDArray[np.int64]
    factor: float
    delivered: bool


class SimVeritySense(SimPeripheral):
    """Firmware twin of a Polar Verity Sense playing a recording.

    Parameters
    ----------
    t_s, acc_mps2, gyr_rads
        The recording (times ``(n,)`` s, ``(n, 3)`` m/s² and rad/s), sampled by linear
        interpolation at the sensor's own rate.
    sdk_mode_supported
        The firmware has SDK mode (1.1.5 and later).
    stop_at_end
        When the recording is over, stop the measurements and say so on the control point
        (``[0x01, 0x02, 0x05]``), as the sensor does when it stops by itself.
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
        name: str = "Polar Sense 1A2B3C4D",
        address: str = "A0:9E:1A:00:00:01",
        firmware: str = "2.2.6",
        battery_pct: int = 76,
        sdk_mode_supported: bool = True,
        stop_at_end: bool = True,
        faults: PolarFaults | None = None,
        **kwargs: Any,
    ) -> None:
        self.faults = faults or PolarFaults()
        kwargs.setdefault("latency_jitter_s", self.faults.latency_jitter_s)
        super().__init__(
            name, address, fail_connects=self.faults.fail_connects, seed=self.faults.seed, **kwargs
        )
        self.t_s = np.asarray(t_s, dtype=np.float64)
        self.acc_mps2 = np.asarray(acc_mps2, dtype=np.float64)
        self.gyr_rads = np.asarray(gyr_rads, dtype=np.float64)
        self.firmware = firmware
        self.battery_pct = battery_pct
        self.sdk_mode_supported = sdk_mode_supported
        self.stop_at_end = stop_at_end
        self.sdk_mode = False
        self.active: dict[MT, _Measurement] = {}
        self.cp_log: list[bytes] = []
        self.frames: list[SentFrame] = []
        self.connect_states: list[dict[str, Any]] = []
        """The sensor's :meth:`state` whenever a host connected."""
        self._frame_no = 0
        self.yield_every = 1  # frames hold a second or more of samples
        self._first_start: float | None = None
        self._task: asyncio.Task[None] | None = None

    # -- GATT -------------------------------------------------------------------------------------

    def gatt_table(self) -> GattTable:
        return [
            (
                pmd.SERVICE_UUID,
                [(pmd.CONTROL_POINT_UUID, ["read", "write", "indicate"]), (pmd.DATA_UUID, ["notify"])],
            ),
            (pmd.BATTERY_SERVICE_UUID, [(pmd.BATTERY_LEVEL_UUID, ["read", "notify"])]),
            (
                pmd.DIS_SERVICE_UUID,
                [
                    (u, ["read"])
                    for u in (
                        pmd.MANUFACTURER_UUID,
                        pmd.MODEL_NUMBER_UUID,
                        pmd.SERIAL_UUID,
                        pmd.FIRMWARE_REV_UUID,
                    )
                ],
            ),
        ]

    def advertisement(self) -> AdvertisementData:
        uuids = [pmd.HEART_RATE_SERVICE_UUID, pmd.sig_uuid(0xFEEE)]
        return AdvertisementData(
            self.name, {pmd.POLAR_COMPANY_ID: b"\x3f\x00\x00"}, {}, uuids, 0, self.rssi, ()
        )

    def features(self) -> frozenset[MT]:
        types = {MT.ACC, MT.GYRO, MT.PPG, MT.PPI, MT.MAGNETOMETER}
        if self.sdk_mode_supported:
            types.add(MT.SDK_MODE)
        return frozenset(types)

    def read(self, uuid: str) -> bytes:
        values = {
            pmd.CONTROL_POINT_UUID: lambda: pmd.encode_features(self.features()),
            pmd.BATTERY_LEVEL_UUID: lambda: bytes([self.battery_pct]),
            pmd.MANUFACTURER_UUID: lambda: b"Polar Electro Oy",
            pmd.MODEL_NUMBER_UUID: lambda: b"Polar Sense",
            pmd.SERIAL_UUID: lambda: self.name.split()[-1].encode(),
            pmd.FIRMWARE_REV_UUID: lambda: self.firmware.encode(),
        }
        if uuid not in values:
            raise BleakGATTProtocolError(0x02)
        return values[uuid]()

    async def write(self, uuid: str, data: bytes, response: bool) -> None:
        if uuid != pmd.CONTROL_POINT_UUID:
            raise BleakGATTProtocolError(0x03)
        self.cp_log.append(bytes(data))
        await asyncio.sleep(0)
        if data and data[0] == pmd.Op.GET_SDK_MODE_STATUS:
            if not self.sdk_mode_supported:
                self._respond(data[0], 0, Status.ERROR_NOT_SUPPORTED)
            else:
                self._respond(data[0], 0, Status.SUCCESS, bytes([1 if self.sdk_mode else 0]))
            return
        if len(data) < 2:
            self._respond(data[0] if data else 0, 0, Status.ERROR_INVALID_LENGTH)
            return
        op, mtype = data[0], data[1] & 0x3F
        if op in (pmd.Op.GET_MEASUREMENT_SETTINGS, pmd.Op.GET_SDK_MODE_MEASUREMENT_SETTINGS):
            self._get_settings(op, mtype)
        elif op == pmd.Op.REQUEST_MEASUREMENT_START:
            self._start(mtype, bytes(data[2:]))
        elif op == pmd.Op.STOP_MEASUREMENT:
            self._stop(mtype)
        else:
            self._respond(op, mtype, Status.ERROR_INVALID_OP_CODE)

    def _respond(self, op: int, mtype: int, status: Status, params: bytes = b"") -> None:
        # Long parameter lists go out in parts ("more" set on all but the last).
        room = self.mtu - 3 - 5
        chunks = [params[i : i + room] for i in range(0, len(params), room)] or [b""]
        for i, c in enumerate(chunks):
            self.notify(
                pmd.CONTROL_POINT_UUID, pmd.encode_cp_response(op, mtype, status, c, more=i < len(chunks) - 1)
            )

    # -- control point ------------------------------------------------------------------------------

    def _available(self, mtype: MT) -> pmd.Settings:
        return (SDK_SETTINGS if self.sdk_mode else NORMAL_SETTINGS)[mtype]

    def _get_settings(self, op: int, mtype: int) -> None:
        if mtype not in (MT.ACC, MT.GYRO):
            self._respond(op, mtype, Status.ERROR_NOT_SUPPORTED)
            return
        if op == pmd.Op.GET_SDK_MODE_MEASUREMENT_SETTINGS:
            if not self.sdk_mode_supported:
                self._respond(op, mtype, Status.ERROR_NOT_SUPPORTED)
                return
            table = SDK_SETTINGS[MT(mtype)]
        else:
            table = self._available(MT(mtype))
        self._respond(op, mtype, Status.SUCCESS, pmd.encode_settings(table))

    def _start(self, mtype: int, params: bytes) -> None:
        op = pmd.Op.REQUEST_MEASUREMENT_START
        if mtype == MT.SDK_MODE:
            if not self.sdk_mode_supported:
                self._respond(op, mtype, Status.ERROR_NOT_SUPPORTED)
            elif self.active:
                self._respond(op, mtype, Status.ERROR_INVALID_STATE)
            elif self.sdk_mode:
                self._respond(op, mtype, Status.ERROR_ALREADY_IN_STATE)
            else:
                self.sdk_mode = True
                self._respond(op, mtype, Status.SUCCESS)
            return
        if mtype not in (MT.ACC, MT.GYRO):
            self._respond(op, mtype, Status.ERROR_NOT_SUPPORTED)
            return
        m = MT(mtype)
        if m in self.active:
            self._respond(op, mtype, Status.ERROR_ALREADY_IN_STATE)
            return
        try:
            sel = pmd.parse_settings(params)
        except Exception:
            self._respond(op, mtype, Status.ERROR_INVALID_PARAMETER)
            return
        avail = self._available(m)
        errors = {
            ST.SAMPLE_RATE: Status.ERROR_INVALID_SAMPLE_RATE,
            ST.RANGE: Status.ERROR_INVALID_RANGE,
            ST.RESOLUTION: Status.ERROR_INVALID_RESOLUTION,
            ST.CHANNELS: Status.ERROR_INVALID_NUMBER_OF_CHANNELS,
        }
        for st, values in sel.items():
            if st in errors and (len(values) != 1 or values[0] not in avail[st]):
                self._respond(op, mtype, errors[st])
                return
        if self.mtu < self.faults.min_mtu:
            self._respond(op, mtype, Status.ERROR_INVALID_MTU)
            return
        rate = sel.get(ST.SAMPLE_RATE, avail[ST.SAMPLE_RATE])[0]
        rng = sel.get(ST.RANGE, avail[ST.RANGE])[0]
        factor = float(np.float32(rng / 32768.0))
        now = self.now()
        if self._first_start is None:
            self._first_start = now
        offset = self.faults.gyro_offset_s if m == MT.GYRO else 0.0
        self.active[m] = _Measurement(m, float(rate), int(rng), factor, now + 1.0 / rate + offset)
        self._respond(op, mtype, Status.SUCCESS, pmd.encode_settings({ST.FACTOR: factor}))
        self._update_stream()

    def _stop(self, mtype: int) -> None:
        op = pmd.Op.STOP_MEASUREMENT
        if mtype == MT.SDK_MODE:
            if self.active:
                self._respond(op, mtype, Status.ERROR_INVALID_STATE)
            elif not self.sdk_mode:
                self._respond(op, mtype, Status.ERROR_ALREADY_IN_STATE)
            else:
                self.sdk_mode = False
                self._respond(op, mtype, Status.SUCCESS)
            return
        if mtype not in (MT.ACC, MT.GYRO) or MT(mtype) not in self.active:
            self._respond(op, mtype, Status.ERROR_ALREADY_IN_STATE)
            return
        del self.active[MT(mtype)]
        self._respond(op, mtype, Status.SUCCESS)
        self._update_stream()

    # -- link and state ---------------------------------------------------------------------------

    def on_connected(self) -> None:
        self.connect_states.append(self.state())
        self._update_stream()

    def on_disconnected(self, *, host_initiated: bool) -> None:
        if not self.faults.keeps_measuring_after_link_loss:
            self.active.clear()
        if not host_initiated and self.world is not None:
            self.world.advance_to(self.now() + self.faults.link_loss_s)
        self._update_stream()

    @property
    def clean(self) -> bool:
        """No measurement running and not in SDK mode."""
        return not self.active and not self.sdk_mode

    def state(self) -> dict[str, Any]:
        """A summary of the sensor's state (for test messages)."""
        return {
            "sdk_mode": self.sdk_mode,
            "active": {m.name: (a.rate_hz, a.range) for m, a in self.active.items()},
        }

    # -- streaming --------------------------------------------------------------------------------

    def _update_stream(self) -> None:
        run = bool(self.active) and self.connected
        if run and self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name=f"sim-polar-{self.name}")
        elif not run and self._task is not None:
            task, self._task = self._task, None
            if task is not asyncio.current_task():
                task.cancel()

    def _period(self, m: _Measurement) -> float:
        return 1.0 / (m.rate_hz * (1.0 + self.faults.odr_error_ppm * 1e-6))

    def _counts(self, m: _Measurement, t_true: NDArray[np.float64]) -> NDArray[np.int64] | None:
        assert self._first_start is not None
        t_rec = self.t_s[0] + (t_true - self._first_start)
        if t_rec[-1] > self.t_s[-1]:
            return None
        src = self.acc_mps2 if m.mtype == MT.ACC else self.gyr_rads
        v = np.stack([np.interp(t_rec, self.t_s, src[:, k]) for k in range(3)], axis=1)
        units = v / STANDARD_GRAVITY_MPS2 if m.mtype == MT.ACC else v * DEG_PER_RAD
        return np.clip(np.round(units / m.factor), -32768, 32767).astype(np.int64)

    def _frame_size(self, counts: NDArray[np.int64]) -> int:
        limit = self.mtu - 3 - pmd.HEADER_BYTES
        n_max = min(len(counts), self.faults.max_samples_per_frame, 256)
        d = np.abs(np.diff(counts[:n_max], axis=0)).max(axis=1) if n_max > 1 else np.zeros(0, np.int64)
        bits = (
            np.maximum.accumulate(np.array([int(x).bit_length() + 1 for x in d], dtype=np.int64))
            if d.size
            else d
        )
        n = 1
        for k in range(1, n_max):
            if pmd.delta_frame_bytes(k + 1, 3, 16, int(bits[k - 1])) > limit:
                break
            n = k + 1
        return n

    async def _run(self) -> None:
        await self.settle()  # ACC and GYRO are started by separate commands: let both arrive
        now = self.now()
        for m in self.active.values():  # samples taken while the link was down went nowhere
            m.next_k = max(m.next_k, math.ceil((now - m.t0_true) / self._period(m) - 1e-9))
        while self.connected and self.active:
            plans = []
            for m in self.active.values():
                k = m.next_k + np.arange(self.faults.max_samples_per_frame)
                t = (m.t0_true + k * self._period(m)).astype(np.float64)
                counts = self._counts(m, t)
                if counts is None:
                    continue
                n = self._frame_size(counts)
                plans.append((float(t[n - 1]), m, t[:n], counts[:n]))
            if not plans:
                if self.stop_at_end:
                    types = bytes(int(m) for m in self.active)
                    self.active.clear()
                    self.notify(pmd.CONTROL_POINT_UUID, bytes([pmd.EVENT_MEASUREMENT_STOPPED]) + types)
                break
            t_last, m, t, counts = min(plans, key=lambda p: p[0])
            await self.pace(t_last + 1e-3)
            if not (self.connected and m.mtype in self.active):
                continue
            ts = (DEVICE_EPOCH_NS + np.round(t * 1e9)).astype(np.int64)
            content = pmd.encode_delta(counts, 16)
            data = pmd.encode_frame(m.mtype, int(ts[-1]), 0, True, content)
            no = self._frame_no
            self._frame_no += 1
            delivered = no not in self.faults.drop_frames and self.notify(pmd.DATA_UUID, data)
            self.frames.append(SentFrame(no, m.mtype, t, ts, counts, m.factor, delivered))
            m.next_k += len(t)
            if no in self.faults.link_loss_after_frames:
                self.drop_link()
                break
        if self._task is asyncio.current_task():
            self._task = None
