"""MetaWear command and notification codec (pure: no bleak, no asyncio).

Every command is ``[module, register, data...]`` written to the command characteristic; every
response and every sensor sample comes back on the notify characteristic as
``[module, register, (processor/event id), data...]``.  Setting bit 7 of the register (``0x80``)
reads it; ``[module, 0x80]`` returns the module's info ``[module, 0x80, implementation, revision,
extra...]`` (just ``[module, 0x80]`` when the module is absent).

Only what an IMU stream needs is encoded here: accelerometer (BMI160 on MetaMotion R/RL/C, BMI270
on MetaMotion S) and gyroscope configuration, start/stop, the plain and the *packed* data
registers (3 samples per notification), the data-processor chain ``gyro -> buffer``, ``acc ->
fuser(buffer) -> accounter(count)`` that delivers acc + gyro of the same instant with a sample
counter in one notification, disconnect-event entries (the board stops its sensors by itself
when the link drops), the battery read and the SDK's tear-down commands.

Register numbers, scales and byte layouts follow the MetaWear C++ SDK (mbientlab/MetaWear-SDK-Cpp);
``tests/ble/vectors/metawear.json`` holds the SDK's own unit-test bytes, which this module must
reproduce.  Counts are little-endian int16 ``x, y, z``; acceleration in g (``LSB/g`` by range) and
rotation in deg/s (``LSB/(deg/s)`` by range) are converted to m/s² and rad/s.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import IntEnum
from typing import Final, Literal

import numpy as np
from numpy.typing import NDArray

from imurep.model.errors import ProtocolError, SettingsError
from imurep.model.units import RAD_PER_DEG, STANDARD_GRAVITY_MPS2

Int16Array = NDArray[np.int16]
FloatArray = NDArray[np.float64]
Chip = Literal["bmi160", "bmi270"]


def _mw_uuid(short: int) -> str:
    return f"326a{short:04x}-85cb-9195-d9dd-464cfbbae75a"


def sig_uuid(short: int) -> str:
    """A Bluetooth SIG 16-bit UUID in bleak's 128-bit lower-case form."""
    return f"0000{short:04x}-0000-1000-8000-00805f9b34fb"


SERVICE_UUID: Final = _mw_uuid(0x9000)
"""The MetaWear service (advertised by the boards)."""
COMMAND_CHAR_UUID: Final = _mw_uuid(0x9001)
NOTIFY_CHAR_UUID: Final = _mw_uuid(0x9006)
DIS_SERVICE_UUID: Final = sig_uuid(0x180A)
MANUFACTURER_UUID: Final = sig_uuid(0x2A29)
MODEL_NUMBER_UUID: Final = sig_uuid(0x2A24)
SERIAL_UUID: Final = sig_uuid(0x2A25)
FIRMWARE_REV_UUID: Final = sig_uuid(0x2A26)
HARDWARE_REV_UUID: Final = sig_uuid(0x2A27)
BATTERY_SERVICE_UUID: Final = sig_uuid(0x180F)
BATTERY_LEVEL_UUID: Final = sig_uuid(0x2A19)

MODEL_NAMES: Final = {"5": "MetaMotion R", "6": "MetaMotion C", "8": "MetaMotion S"}
"""DIS model number -> board name (``"5"`` is also the MetaMotion RL, which lacks the light sensor)."""


class Module(IntEnum):
    """MetaWear module ids (first byte of every command and notification)."""

    ACC = 0x03
    DATA_PROCESSOR = 0x09
    EVENT = 0x0A
    LOGGING = 0x0B
    MACRO = 0x0F
    SETTINGS = 0x11
    GYRO = 0x13
    DEBUG = 0xFE


READ_BIT: Final = 0x80
"""Set on a register to read it; responses to reads carry it too."""
SILENT_BIT: Final = 0x40
INFO_REGISTER: Final = 0x00

# accelerometer (BMI160 and BMI270 share these)
ACC_POWER: Final = 0x01
ACC_INTERRUPT_ENABLE: Final = 0x02
ACC_CONFIG: Final = 0x03
ACC_DATA: Final = 0x04
ACC_PACKED: Final = {"bmi160": 0x1C, "bmi270": 0x05}
# gyroscope
GYRO_POWER: Final = 0x01
GYRO_INTERRUPT_ENABLE: Final = 0x02
GYRO_CONFIG: Final = 0x03
GYRO_DATA: Final = {"bmi160": 0x05, "bmi270": 0x04}
GYRO_PACKED: Final = {"bmi160": 0x07, "bmi270": 0x05}
# data processor
DP_ADD: Final = 0x02
DP_NOTIFY: Final = 0x03
DP_REMOVE: Final = 0x06
DP_NOTIFY_ENABLE: Final = 0x07
DP_REMOVE_ALL: Final = 0x08
DP_TYPE_BUFFER: Final = 0x0F
DP_TYPE_ACCOUNTER: Final = 0x11
DP_TYPE_FUSER: Final = 0x1B
# event
EV_ENTRY: Final = 0x02
EV_CMD_PARAMETERS: Final = 0x03
EV_REMOVE: Final = 0x04
EV_REMOVE_ALL: Final = 0x05
# logging, settings, debug, macro
LOG_ENABLE: Final = 0x01
LOG_TIME: Final = 0x04
LOG_REMOVE_ALL: Final = 0x0A
SET_DISCONNECT_EVENT: Final = 0x0A
SET_BATTERY: Final = 0x0C
DEBUG_RESET: Final = 0x01
DEBUG_DISCONNECT: Final = 0x06
MACRO_ERASE_ALL: Final = 0x08

ACC_IMPLEMENTATIONS: Final[dict[int, Chip]] = {1: "bmi160", 4: "bmi270"}
"""Accelerometer module implementation byte -> chip (0 MMA8452Q and 2 BMA255 boards are not supported)."""
GYRO_IMPLEMENTATIONS: Final[dict[int, Chip]] = {0: "bmi160", 1: "bmi270"}

FUSER_MIN_REVISION: Final = 1
"""Data-processor module revision that has the fuser (``FUSER_REVISION`` in the SDK)."""
DISCONNECT_EVENT_MIN_REVISION: Final = 2
"""Settings module revision that has the disconnect event."""
BATTERY_MIN_REVISION: Final = 3
"""Settings module revision that has the battery state register."""
MAX_NOTIFICATION: Final = 20
"""Bytes in one MetaWear notification (``BLE_PACKET_SIZE`` in the SDK)."""
TICK_S: Final = 48.0 / 32768.0
"""One tick of the board's clock (logging and accounter time mode), s."""

ACC_ODRS_HZ: Final = (0.78125, 1.5625, 3.125, 6.25, 12.5, 25.0, 50.0, 100.0, 200.0, 400.0, 800.0, 1600.0)
"""Accelerometer output data rates; the register code is the index + 1."""
GYRO_ODRS_HZ: Final = (25.0, 50.0, 100.0, 200.0, 400.0, 800.0, 1600.0, 3200.0)
"""Gyroscope output data rates; the register code is the index + 6."""
STREAM_RATES_HZ: Final = (25.0, 50.0, 100.0, 200.0, 400.0, 800.0)
"""Rates imurep streams at (acc and gyro at the same rate)."""
ACC_RANGES_G: Final = (2, 4, 8, 16)
ACC_RANGE_CODE: Final[dict[Chip, dict[int, int]]] = {
    "bmi160": {2: 0x03, 4: 0x05, 8: 0x08, 16: 0x0C},
    "bmi270": {2: 0x00, 4: 0x01, 8: 0x02, 16: 0x03},
}
ACC_LSB_PER_G: Final = {2: 16384.0, 4: 8192.0, 8: 4096.0, 16: 2048.0}
GYRO_RANGES_DPS: Final = (2000, 1000, 500, 250, 125)
"""Gyroscope ranges; the register code is the index."""
GYRO_LSB_PER_DPS: Final = {2000: 16.4, 1000: 32.8, 500: 65.6, 250: 131.2, 125: 262.4}


# --- configuration -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImuConfig:
    """What the board's IMU is set to.

    Attributes
    ----------
    acc_chip, gyro_chip
        ``"bmi160"`` or ``"bmi270"`` (from the module info).
    rate_hz
        Output data rate of both sensors, Hz.
    acc_range_g, gyro_range_dps
        Full-scale ranges, g and deg/s.
    """

    acc_chip: Chip
    gyro_chip: Chip
    rate_hz: float = 100.0
    acc_range_g: int = 8
    gyro_range_dps: int = 1000

    def __post_init__(self) -> None:
        if self.rate_hz not in STREAM_RATES_HZ:
            raise SettingsError(
                f"MetaWear rate must be one of {_fmt(STREAM_RATES_HZ)} Hz, got {self.rate_hz!r}"
            )
        if self.acc_range_g not in ACC_RANGES_G:
            raise SettingsError(f"MetaWear accelerometer range must be one of {ACC_RANGES_G} g")
        if self.gyro_range_dps not in GYRO_RANGES_DPS:
            raise SettingsError(f"MetaWear gyroscope range must be one of {GYRO_RANGES_DPS} deg/s")

    @property
    def acc_scale_mps2(self) -> float:
        """m/s² per count."""
        return STANDARD_GRAVITY_MPS2 / ACC_LSB_PER_G[self.acc_range_g]

    @property
    def gyro_scale_rads(self) -> float:
        """rad/s per count."""
        return RAD_PER_DEG / GYRO_LSB_PER_DPS[self.gyro_range_dps]


def _fmt(values: tuple[float, ...]) -> str:
    return ", ".join(f"{v:g}" for v in values)


def nearest(value: float, options: tuple[float, ...] | tuple[int, ...]) -> float:
    """The option closest to ``value`` (ties go to the larger option)."""
    return float(min(options, key=lambda o: (abs(o - value), -o)))


def range_at_least(value: float, options: tuple[int, ...]) -> int:
    """The smallest option >= ``value`` (the largest option when none is)."""
    bigger = [o for o in options if o >= value]
    return min(bigger) if bigger else max(options)


def _odr_code(rate_hz: float, odrs: tuple[float, ...], first_code: int, what: str) -> int:
    if rate_hz not in odrs:
        raise SettingsError(f"{what} rate must be one of {_fmt(odrs)} Hz, got {rate_hz!r}")
    return odrs.index(rate_hz) + first_code


def acc_config(chip: Chip, rate_hz: float, range_g: int) -> bytes:
    """``[0x03, 0x03, ACC_CONF, ACC_RANGE]``: output rate, filter and range.

    BMI160: ``odr | bwp << 4 | undersampling << 7`` with bwp 2 (normal) from 12.5 Hz up, bwp 0 +
    undersampling below.  BMI270: bwp 2 always, ``acc_filter_perf`` (bit 7) from 12.5 Hz up.
    """
    code = _odr_code(rate_hz, ACC_ODRS_HZ, 1, "accelerometer")
    if range_g not in ACC_RANGE_CODE[chip]:
        raise SettingsError(f"accelerometer range must be one of {ACC_RANGES_G} g, got {range_g!r}")
    high = rate_hz >= 12.5
    bmi160_bits = (2 << 4) if high else 0x80  # normal filter, or undersampling below 12.5 Hz
    bmi270_bits = (2 << 4) | (0x80 if high else 0)  # normal filter, performance mode from 12.5 Hz
    conf = code | (bmi160_bits if chip == "bmi160" else bmi270_bits)
    return bytes([Module.ACC, ACC_CONFIG, conf, ACC_RANGE_CODE[chip][range_g]])


def gyro_config(chip: Chip, rate_hz: float, range_dps: int) -> bytes:
    """``[0x13, 0x03, odr | bwp << 4, range]`` (bwp 2, the same layout on both chips)."""
    del chip  # same register layout on BMI160 and BMI270
    code = _odr_code(rate_hz, GYRO_ODRS_HZ, 6, "gyroscope")
    if range_dps not in GYRO_RANGES_DPS:
        raise SettingsError(f"gyroscope range must be one of {GYRO_RANGES_DPS} deg/s, got {range_dps!r}")
    return bytes([Module.GYRO, GYRO_CONFIG, code | (2 << 4), GYRO_RANGES_DPS.index(range_dps)])


def power(module: Module, on: bool) -> bytes:
    """Start (``on``) or stop the accelerometer or gyroscope: ``[module, 0x01, 1|0]``."""
    return bytes([module, ACC_POWER, 1 if on else 0])


def sampling(module: Module, on: bool) -> bytes:
    """Enable or disable the data interrupt: ``[module, 0x02, enable mask, disable mask]``."""
    return bytes([module, ACC_INTERRUPT_ENABLE, 1, 0] if on else [module, ACC_INTERRUPT_ENABLE, 0, 1])


def subscribe(module: int, register: int, on: bool) -> bytes:
    """Route a data register to the notify characteristic (or stop): ``[module, register, 1|0]``."""
    return bytes([module, register, 1 if on else 0])


def start_commands() -> list[bytes]:
    """Enable sampling of both sensors, then power them (the SDK's order)."""
    return [
        sampling(Module.ACC, True),
        sampling(Module.GYRO, True),
        power(Module.ACC, True),
        power(Module.GYRO, True),
    ]


def stop_commands() -> list[bytes]:
    """Power both sensors down, then disable sampling (the SDK's order)."""
    return [
        power(Module.ACC, False),
        power(Module.GYRO, False),
        sampling(Module.ACC, False),
        sampling(Module.GYRO, False),
    ]


def read_info(module: int) -> bytes:
    """``[module, 0x80]``: read a module's info register."""
    return bytes([module, READ_BIT | INFO_REGISTER])


# --- data processor, events, settings, tear-down -------------------------------------------------


def processor_add(
    source_module: int, source_register: int, source_id: int, source_length: int, type_id: int, config: bytes
) -> bytes:
    """``[0x09, 0x02, source module, register, id, (length-1) << 5 | offset, type, config...]``.

    The length field has 3 bits; the SDK truncates longer sources (a fuser's 12 bytes -> 0x60) and
    so does this function.
    """
    attr = (((source_length - 1) << 5) | 0) & 0xFF
    cmd = (
        bytes([Module.DATA_PROCESSOR, DP_ADD, source_module, source_register, source_id, attr, type_id])
        + config
    )
    if len(cmd) > MAX_NOTIFICATION:
        raise ValueError(f"processor command too long ({len(cmd)} bytes)")
    return cmd


def buffer_processor(chip: Chip) -> bytes:
    """A buffer holding the latest gyroscope sample (6 bytes)."""
    return processor_add(Module.GYRO, GYRO_DATA[chip], 0xFF, 6, DP_TYPE_BUFFER, bytes([6 - 1]))


def fuser_processor(buffer_id: int) -> bytes:
    """Accelerometer samples fused with the buffered gyroscope sample (12-byte output)."""
    refs = bytes([buffer_id]) + bytes(11)
    return processor_add(Module.ACC, ACC_DATA, 0xFF, 6, DP_TYPE_FUSER, bytes([1]) + refs)


def accounter_processor(
    source: tuple[int, int, int], source_length: int, *, mode: Literal["count", "time"] = "count"
) -> bytes:
    """A 4-byte sample counter (or tick stamp) prepended to each output of ``source``.

    ``source`` is ``(module, register, id)`` (``(0x09, 0x03, id)`` for a processor).  Config byte
    ``mode (0 count, 1 time) | (length-1) << 4``, then prescale 3 (what the SDK sends).
    """
    length = 4 if mode == "time" else min(4, MAX_NOTIFICATION - 3 - source_length)
    if length < 1 or source_length + length + 3 > MAX_NOTIFICATION:
        raise ValueError("no room for a counter in the notification")
    config = bytes([(1 if mode == "time" else 0) | ((length - 1) << 4), 0x03])
    return processor_add(*source, source_length, DP_TYPE_ACCOUNTER, config)


def accounter_count_processor(source_id: int, source_length: int = 12) -> bytes:
    """A sample counter on the output of processor ``source_id`` (the fuser: 12 bytes)."""
    return accounter_processor((Module.DATA_PROCESSOR, DP_NOTIFY, source_id), source_length)


def processor_notify(processor_id: int, on: bool) -> list[bytes]:
    """Route a processor's output to the notify characteristic.

    ``[0x09, 0x07, id, 1]`` and ``[0x09, 0x03, 1]`` (on) or ``[0x09, 0x07, id, 0]`` (off).
    """
    if on:
        return [
            bytes([Module.DATA_PROCESSOR, DP_NOTIFY_ENABLE, processor_id, 1]),
            bytes([Module.DATA_PROCESSOR, DP_NOTIFY, 1]),
        ]
    return [bytes([Module.DATA_PROCESSOR, DP_NOTIFY_ENABLE, processor_id, 0])]


def processor_remove(processor_id: int) -> bytes:
    """``[0x09, 0x06, id]``."""
    return bytes([Module.DATA_PROCESSOR, DP_REMOVE, processor_id])


def event_entry(source: tuple[int, int, int], command: bytes) -> tuple[bytes, bytes]:
    """Two writes that make the board run ``command`` whenever ``source`` fires.

    ``source`` is ``(module, register, id)``; returns ``([0x0a, 0x02, src..., dst module, dst
    register, n params], [0x0a, 0x03, params...])``.  The board answers ``[0x0a, 0x02, event id]``.
    """
    if len(command) < 2:
        raise ValueError("an event command needs at least a module and a register")
    params = command[2:]
    entry = bytes([Module.EVENT, EV_ENTRY, *source, command[0], command[1], len(params)])
    return entry, bytes([Module.EVENT, EV_CMD_PARAMETERS]) + params


DISCONNECT_EVENT_SOURCE: Final = (Module.SETTINGS, SET_DISCONNECT_EVENT, 0xFF)


def event_remove(event_id: int) -> bytes:
    """``[0x0a, 0x04, id]``."""
    return bytes([Module.EVENT, EV_REMOVE, event_id])


def battery_read() -> bytes:
    """``[0x11, 0x8c]``: read the battery state (answered ``[0x11, 0x8c, charge %, mV u16]``)."""
    return bytes([Module.SETTINGS, READ_BIT | SET_BATTERY])


def logging_stop() -> bytes:
    """``[0x0b, 0x01, 0x00]``."""
    return bytes([Module.LOGGING, LOG_ENABLE, 0])


def debug_reset() -> bytes:
    """``[0xfe, 0x01]``: soft reset (clears processors, events and loggers)."""
    return bytes([Module.DEBUG, DEBUG_RESET])


def debug_disconnect() -> bytes:
    """``[0xfe, 0x06]``: the board drops the link itself."""
    return bytes([Module.DEBUG, DEBUG_DISCONNECT])


def macro_erase_all() -> bytes:
    """``[0x0f, 0x08]``: erase every stored macro (imurep never sends it on its own)."""
    return bytes([Module.MACRO, MACRO_ERASE_ALL])


def tear_down_commands() -> list[bytes]:
    """The SDK's tear-down: remove every data processor, event and logger on the board."""
    return [
        bytes([Module.DATA_PROCESSOR, DP_REMOVE_ALL]),
        bytes([Module.EVENT, EV_REMOVE_ALL]),
        bytes([Module.LOGGING, LOG_REMOVE_ALL]),
    ]


# --- notifications -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ModuleInfo:
    """One module's info register (``present`` False when the board answered ``[module, 0x80]`` only)."""

    module: int
    present: bool
    implementation: int = 0xFF
    revision: int = 0xFF
    extra: bytes = b""


def parse_module_info(data: bytes | bytearray) -> ModuleInfo:
    """Decode ``[module, 0x80, implementation, revision, extra...]``."""
    if len(data) < 2 or data[1] != READ_BIT | INFO_REGISTER:
        raise ProtocolError(bytes(data), "not a module info response")
    if len(data) < 4:
        return ModuleInfo(data[0], False)
    return ModuleInfo(data[0], True, data[2], data[3], bytes(data[4:]))


@dataclass(frozen=True)
class BatteryState:
    """Battery charge (%) and voltage (mV) from the settings module."""

    charge_pct: int
    voltage_mv: int


def parse_battery(data: bytes | bytearray) -> BatteryState:
    """Decode ``[0x11, 0x8c, charge u8, voltage u16]``."""
    if len(data) < 5 or data[0] != Module.SETTINGS or data[1] & 0x3F != SET_BATTERY:
        raise ProtocolError(bytes(data), "not a battery state response")
    charge, mv = struct.unpack_from("<BH", data, 2)
    return BatteryState(charge, mv)


def parse_logging_time(data: bytes | bytearray) -> tuple[int, int]:
    """Decode ``[0x0b, 0x84, tick u32, reset uid]`` into ``(tick, reset uid)``."""
    if len(data) < 7 or data[0] != Module.LOGGING or data[1] != READ_BIT | LOG_TIME:
        raise ProtocolError(bytes(data), "not a logging time response")
    tick, uid = struct.unpack_from("<IB", data, 2)
    return tick, uid


def xyz_counts(payload: bytes | bytearray | memoryview, n: int | None = None) -> Int16Array:
    """``n`` (default: all) little-endian int16 ``x, y, z`` triples, shape ``(n, 3)``."""
    count = len(payload) // 6 if n is None else n
    if count * 6 > len(payload):
        raise ProtocolError(bytes(payload), f"expected {count} xyz samples, got {len(payload)} bytes")
    return np.frombuffer(bytes(payload[: count * 6]), dtype="<i2").reshape(count, 3).astype(np.int16)


def acc_g(counts: Int16Array, range_g: int) -> FloatArray:
    """Counts -> g (shape kept)."""
    return np.asarray(counts, dtype=np.float64) / ACC_LSB_PER_G[range_g]


def gyro_dps(counts: Int16Array, range_dps: int) -> FloatArray:
    """Counts -> deg/s (shape kept)."""
    return np.asarray(counts, dtype=np.float64) / GYRO_LSB_PER_DPS[range_dps]


@dataclass(frozen=True)
class CountedData:
    """A processor notification with an accounter count: ``[0x09, 0x03, id, count u32, data...]``."""

    processor_id: int
    count: int
    data: bytes


def parse_counted(data: bytes | bytearray) -> CountedData:
    """Split a counted processor notification."""
    if len(data) < 7 or data[0] != Module.DATA_PROCESSOR or data[1] != DP_NOTIFY:
        raise ProtocolError(bytes(data), "not a counted data-processor notification")
    (count,) = struct.unpack_from("<I", data, 3)
    return CountedData(data[2], count, bytes(data[7:]))


def parse_fused(data: bytes | bytearray) -> tuple[int, int, Int16Array, Int16Array]:
    """``(processor id, count, acc counts (1, 3), gyro counts (1, 3))`` of a fused + counted sample."""
    c = parse_counted(data)
    if len(c.data) != 12:
        raise ProtocolError(bytes(data), f"fused sample must carry 12 bytes, got {len(c.data)}")
    return c.processor_id, c.count, xyz_counts(c.data[:6], 1), xyz_counts(c.data[6:], 1)


def encode_xyz(counts: Int16Array) -> bytes:
    """Inverse of :func:`xyz_counts` (used by the simulated board)."""
    return np.ascontiguousarray(counts, dtype="<i2").tobytes()
