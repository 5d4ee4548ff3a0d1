"""Polar Measurement Data (PMD) service codec (pure: no bleak, no asyncio).

Control point (``fb005c81``, write + indicate)
    Commands ``[op, measurement type (| 0x80 offline), params...]``: ``0x01`` get settings,
    ``0x02`` start (params: settings TLV), ``0x03`` stop, ``0x04`` get SDK-mode settings, ``0x05``
    measurement status, ``0x06`` SDK-mode status.  SDK mode (more rates and ranges, on-device
    algorithms off) is started and stopped like a measurement of type ``0x09``.  Responses are
    indications ``[0xF0, op, type, status, more, params...]`` (``more``: the parameters go on in
    the next indication); the device may also send ``[0x01, types...]`` when it stops
    measurements by itself.  Reading the control point returns the feature bits ``[0x0F, b1, b2]``.
Settings TLV
    ``[setting type, count, value * count]`` with little-endian values of a per-type size: sample
    rate, resolution and range 2 bytes, range in milli-units 4, channels 1, factor 4 (a float32,
    only in responses), security 16.
Data (``fb005c82``, notify)
    ``[measurement type, timestamp u64 (ns since 2000-01-01, of the frame's *last* sample), frame
    type, content]``.  Frame types: raw ``0x00/0x01/0x02`` = int8/int16/int24 samples (ACC in mG);
    delta-compressed (bit 7 set): a reference sample, then blocks ``[delta bits, count, count *
    channels deltas bit-packed LSB first]``, each sample = previous + delta.  ACC delta type 0 is
    scaled by the start response's factor to g, delta type 1 to mG; GYRO delta type 0 by the factor
    to deg/s, delta type 1 carries float32 bit patterns.

Everything follows the Polar BLE SDK (polarofficial/polar-ble-sdk, ``BlePMDClient.kt``,
``PmdDataFrame.kt``, ``PmdSetting.kt``, ``model/AccData.kt``, ``model/GyrData.kt``);
``tests/ble/vectors/polar_pmd.json`` holds the SDK's unit-test frames.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Final

import numpy as np
from numpy.typing import NDArray

from imurep.model.errors import ProtocolError
from imurep.model.units import RAD_PER_DEG, STANDARD_GRAVITY_MPS2

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]


def _pmd_uuid(short: int) -> str:
    return f"fb00{short:04x}-02e7-f387-1cad-8acd2d8df0c8"


def sig_uuid(short: int) -> str:
    """A Bluetooth SIG 16-bit UUID in bleak's 128-bit lower-case form."""
    return f"0000{short:04x}-0000-1000-8000-00805f9b34fb"


SERVICE_UUID: Final = _pmd_uuid(0x5C80)
CONTROL_POINT_UUID: Final = _pmd_uuid(0x5C81)
DATA_UUID: Final = _pmd_uuid(0x5C82)
HEART_RATE_SERVICE_UUID: Final = sig_uuid(0x180D)
BATTERY_SERVICE_UUID: Final = sig_uuid(0x180F)
BATTERY_LEVEL_UUID: Final = sig_uuid(0x2A19)
DIS_SERVICE_UUID: Final = sig_uuid(0x180A)
MANUFACTURER_UUID: Final = sig_uuid(0x2A29)
MODEL_NUMBER_UUID: Final = sig_uuid(0x2A24)
SERIAL_UUID: Final = sig_uuid(0x2A25)
FIRMWARE_REV_UUID: Final = sig_uuid(0x2A26)
HARDWARE_REV_UUID: Final = sig_uuid(0x2A27)
POLAR_COMPANY_ID: Final = 0x006B
"""Polar Electro Oy's Bluetooth company id (manufacturer data in the advertisement)."""
EPOCH_2000_UNIX_NS: Final = 946_684_800_000_000_000
"""Polar timestamps count ns from 2000-01-01T00:00:00Z; add this for Unix time."""


class MeasurementType(IntEnum):
    """PMD measurement types (data frame byte 0, command byte 1, masked with 0x3F)."""

    ECG = 0
    PPG = 1
    ACC = 2
    PPI = 3
    GYRO = 5
    MAGNETOMETER = 6
    SKIN_TEMP = 7
    SDK_MODE = 9
    LOCATION = 10
    PRESSURE = 11
    TEMPERATURE = 12
    OFFLINE_RECORDING = 13
    OFFLINE_HR = 14


class Op(IntEnum):
    """Control-point op codes (client to sensor)."""

    GET_MEASUREMENT_SETTINGS = 1
    REQUEST_MEASUREMENT_START = 2
    STOP_MEASUREMENT = 3
    GET_SDK_MODE_MEASUREMENT_SETTINGS = 4
    GET_MEASUREMENT_STATUS = 5
    GET_SDK_MODE_STATUS = 6


class Status(IntEnum):
    """Control-point response status."""

    SUCCESS = 0
    ERROR_INVALID_OP_CODE = 1
    ERROR_INVALID_MEASUREMENT_TYPE = 2
    ERROR_NOT_SUPPORTED = 3
    ERROR_INVALID_LENGTH = 4
    ERROR_INVALID_PARAMETER = 5
    ERROR_ALREADY_IN_STATE = 6
    ERROR_INVALID_RESOLUTION = 7
    ERROR_INVALID_SAMPLE_RATE = 8
    ERROR_INVALID_RANGE = 9
    ERROR_INVALID_MTU = 10
    ERROR_INVALID_NUMBER_OF_CHANNELS = 11
    ERROR_INVALID_STATE = 12
    ERROR_DEVICE_IN_CHARGER = 13
    ERROR_DISK_FULL = 14


class SettingType(IntEnum):
    """Settings TLV types."""

    SAMPLE_RATE = 0
    RESOLUTION = 1
    RANGE = 2
    RANGE_MILLIUNIT = 3
    CHANNELS = 4
    FACTOR = 5
    SECURITY = 6


FIELD_SIZE: Final = {
    SettingType.SAMPLE_RATE: 2,
    SettingType.RESOLUTION: 2,
    SettingType.RANGE: 2,
    SettingType.RANGE_MILLIUNIT: 4,
    SettingType.CHANNELS: 1,
    SettingType.FACTOR: 4,
    SettingType.SECURITY: 16,
}
RESPONSE_CODE: Final = 0xF0
EVENT_MEASUREMENT_STOPPED: Final = 0x01
FEATURE_CODE: Final = 0x0F
_FEATURE_BITS: Final = {
    MeasurementType.ECG: (1, 0x01),
    MeasurementType.PPG: (1, 0x02),
    MeasurementType.ACC: (1, 0x04),
    MeasurementType.PPI: (1, 0x08),
    MeasurementType.GYRO: (1, 0x20),
    MeasurementType.MAGNETOMETER: (1, 0x40),
    MeasurementType.SKIN_TEMP: (1, 0x80),
    MeasurementType.SDK_MODE: (2, 0x02),
    MeasurementType.LOCATION: (2, 0x04),
    MeasurementType.PRESSURE: (2, 0x08),
    MeasurementType.TEMPERATURE: (2, 0x10),
    MeasurementType.OFFLINE_RECORDING: (2, 0x20),
    MeasurementType.OFFLINE_HR: (2, 0x40),
}
HEADER_BYTES: Final = 10


# --- features and settings -----------------------------------------------------------------------


def parse_features(data: bytes | bytearray) -> frozenset[MeasurementType]:
    """Measurement types in the feature bytes read from the control point ``[0x0F, b1, b2...]``."""
    if len(data) < 2:
        raise ProtocolError(bytes(data), "PMD feature read must carry at least 2 bytes")
    out = {t for t, (i, bit) in _FEATURE_BITS.items() if i < len(data) and data[i] & bit}
    return frozenset(out)


def encode_features(types: Iterable[MeasurementType]) -> bytes:
    """Feature bytes for ``types`` (used by the simulated sensor)."""
    b = bytearray([FEATURE_CODE, 0, 0])
    for t in types:
        i, bit = _FEATURE_BITS[t]
        b[i] |= bit
    return bytes(b)


Settings = dict[SettingType, tuple[int, ...]]


def parse_settings(data: bytes | bytearray) -> Settings:
    """Decode a settings TLV into ``{type: values}`` (unsigned little-endian values).

    Raises
    ------
    ProtocolError
        An unknown setting type or a truncated value.
    """
    out: Settings = {}
    off = 0
    while off < len(data):
        if off + 2 > len(data):
            raise ProtocolError(bytes(data), "settings TLV truncated in a header")
        try:
            st = SettingType(data[off])
        except ValueError:
            raise ProtocolError(bytes(data), f"unknown PMD setting type {data[off]}") from None
        count = data[off + 1]
        size = FIELD_SIZE[st]
        off += 2
        if off + count * size > len(data):
            raise ProtocolError(bytes(data), f"settings TLV truncated in {st.name}")
        vals = tuple(
            int.from_bytes(data[off + k * size : off + (k + 1) * size], "little") for k in range(count)
        )
        out[st] = out.get(st, ()) + vals
        off += count * size
    return out


def factor_of(settings: Mapping[SettingType, tuple[int, ...]]) -> float | None:
    """The float32 FACTOR of a start response, ``None`` when absent."""
    vals = settings.get(SettingType.FACTOR)
    if not vals:
        return None
    return float(struct.unpack("<f", struct.pack("<I", vals[0]))[0])


def encode_settings(values: Mapping[SettingType, Iterable[int] | int | float]) -> bytes:
    """A settings TLV.  A FACTOR value may be given as a float (encoded as float32)."""
    out = bytearray()
    for st, v in values.items():
        if st == SettingType.FACTOR and isinstance(v, float):
            items: list[int] = [struct.unpack("<I", struct.pack("<f", v))[0]]
        else:
            items = [int(v)] if isinstance(v, int | float) else [int(x) for x in v]
        out += bytes([st, len(items)])
        for x in items:
            out += int(x).to_bytes(FIELD_SIZE[st], "little")
    return bytes(out)


# --- commands and responses ----------------------------------------------------------------------


def command(
    op: Op, mtype: MeasurementType | None = None, params: bytes = b"", *, offline: bool = False
) -> bytes:
    """``[op, type | 0x80 if offline, params...]`` (no type byte for the status ops)."""
    if mtype is None:
        return bytes([op]) + params
    return bytes([op, int(mtype) | (0x80 if offline else 0)]) + params


def start_command(mtype: MeasurementType, selected: Mapping[SettingType, int]) -> bytes:
    """Start ``mtype`` with one value per setting (FACTOR is never sent)."""
    sel: dict[SettingType, Iterable[int] | int | float] = {
        k: v for k, v in selected.items() if k != SettingType.FACTOR
    }
    return command(Op.REQUEST_MEASUREMENT_START, mtype, encode_settings(sel))


def stop_command(mtype: MeasurementType) -> bytes:
    """``[0x03, type]``."""
    return command(Op.STOP_MEASUREMENT, mtype)


def get_settings_command(mtype: MeasurementType, *, sdk_mode: bool = False) -> bytes:
    """``[0x01, type]`` (current mode) or ``[0x04, type]`` (what SDK mode would allow)."""
    return command(Op.GET_SDK_MODE_MEASUREMENT_SETTINGS if sdk_mode else Op.GET_MEASUREMENT_SETTINGS, mtype)


def sdk_mode_status_command() -> bytes:
    """``[0x06]``: is SDK mode on?  (answered ``[0xF0, 0x06, 0, status, more, enabled]``)."""
    return command(Op.GET_SDK_MODE_STATUS)


def sdk_mode_command(on: bool) -> bytes:
    """``[0x02, 0x09]`` starts SDK mode, ``[0x03, 0x09]`` stops it."""
    return command(Op.REQUEST_MEASUREMENT_START if on else Op.STOP_MEASUREMENT, MeasurementType.SDK_MODE)


@dataclass(frozen=True)
class CpResponse:
    """A control-point response ``[0xF0, op, type, status, more, parameters...]``."""

    op: int
    measurement_type: int
    status: int
    more: bool = False
    parameters: bytes = b""

    @property
    def ok(self) -> bool:
        return self.status == Status.SUCCESS

    @property
    def status_name(self) -> str:
        try:
            return Status(self.status).name
        except ValueError:
            return f"status {self.status}"


def parse_cp_response(data: bytes | bytearray) -> CpResponse:
    """Decode a control-point response (parameters only on success, as the SDK does)."""
    if len(data) < 4 or data[0] != RESPONSE_CODE:
        raise ProtocolError(bytes(data), "not a PMD control-point response")
    status = data[3]
    if status != Status.SUCCESS:
        return CpResponse(data[1], data[2], status)
    more = len(data) > 4 and data[4] != 0
    return CpResponse(data[1], data[2], status, more, bytes(data[5:]))


def encode_cp_response(op: int, mtype: int, status: int, params: bytes = b"", *, more: bool = False) -> bytes:
    """Inverse of :func:`parse_cp_response` (used by the simulated sensor)."""
    return bytes([RESPONSE_CODE, op, mtype, status, 1 if more else 0]) + params


def parse_cp_event(data: bytes | bytearray) -> tuple[MeasurementType, ...] | None:
    """Measurement types the sensor stopped (``[0x01, types...]``), ``None`` if not such an event."""
    if not data or data[0] != EVENT_MEASUREMENT_STOPPED:
        return None
    out = []
    for b in data[1:]:
        try:
            out.append(MeasurementType(b & 0x3F))
        except ValueError:
            continue
    return tuple(out)


# --- data frames -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PmdFrame:
    """One data notification: header fields and the undecoded content."""

    measurement_type: int
    timestamp_ns: int
    frame_type: int
    compressed: bool
    content: bytes = field(repr=False)


_KNOWN_FRAME_TYPES: Final = frozenset({0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 13, 14})


def parse_frame(data: bytes | bytearray) -> PmdFrame:
    """Split a data notification (the frame type must be one the SDK defines)."""
    if len(data) < HEADER_BYTES:
        raise ProtocolError(bytes(data), f"PMD frame shorter than its {HEADER_BYTES}-byte header")
    ftype = data[9] & 0x7F
    if ftype not in _KNOWN_FRAME_TYPES:
        raise ProtocolError(bytes(data), f"PMD frame type 0x{ftype:02x} is not defined")
    (ts,) = struct.unpack_from("<Q", data, 1)
    return PmdFrame(data[0] & 0x3F, ts, ftype, bool(data[9] & 0x80), bytes(data[HEADER_BYTES:]))


def encode_frame(
    mtype: MeasurementType, timestamp_ns: int, frame_type: int, compressed: bool, content: bytes
) -> bytes:
    """Inverse of :func:`parse_frame`."""
    return struct.pack("<BQB", int(mtype), timestamp_ns, frame_type | (0x80 if compressed else 0)) + content


def _sign_extend(v: IntArray, bits: int) -> IntArray:
    if bits <= 0:
        return np.zeros_like(v)
    sign = np.int64(1) << np.int64(bits - 1)
    return (v ^ sign) - sign


def decode_delta(content: bytes, channels: int, resolution: int, *, signed: bool = True) -> IntArray:
    """Samples of a delta-compressed frame, shape ``(n, channels)`` (int64).

    The reference sample has ``channels`` values of ``ceil(resolution / 8)`` bytes; every block
    ``[bits, count, packed deltas]`` adds ``count`` samples.

    Raises
    ------
    ProtocolError
        The content ends inside the reference sample or a block.
    """
    rb = math.ceil(resolution / 8)
    if len(content) < channels * rb:
        raise ProtocolError(content, "delta frame shorter than its reference sample")
    ref = np.array(
        [int.from_bytes(content[k * rb : (k + 1) * rb], "little") for k in range(channels)], dtype=np.int64
    )
    if signed:
        ref = _sign_extend(ref, resolution)
    rows = [ref[None, :]]
    off = channels * rb
    while off < len(content):
        if off + 2 > len(content):
            raise ProtocolError(content, "delta block header truncated")
        bits, count = content[off], content[off + 1]
        off += 2
        nbytes = math.ceil(bits * count * channels / 8)
        if off + nbytes > len(content):
            raise ProtocolError(content, f"delta block of {count} x {bits} bits truncated")
        if count:
            flat = np.unpackbits(
                np.frombuffer(content[off : off + nbytes], dtype=np.uint8), bitorder="little"
            )
            flat = flat[: bits * count * channels].astype(np.int64)
            if bits:
                weights = np.int64(1) << np.arange(bits, dtype=np.int64)
                deltas = _sign_extend((flat.reshape(count * channels, bits) * weights).sum(axis=1), bits)
            else:
                deltas = np.zeros(count * channels, dtype=np.int64)
            rows.append(deltas.reshape(count, channels))
        off += nbytes
    out = np.cumsum(np.concatenate(rows, axis=0), axis=0)
    if resolution == 32:  # float bit patterns: the SDK adds them as 32-bit ints (wrapping)
        out = ((out + (1 << 31)) % (1 << 32)) - (1 << 31)
    return out


def encode_delta(samples: IntArray, resolution: int, block: int = 0) -> bytes:
    """Delta-compress ``samples (n, channels)`` (the simulated sensor's encoder).

    One block per ``block`` samples (0: one block for all), each with the fewest bits that hold
    its deltas.
    """
    s = np.asarray(samples, dtype=np.int64)
    n, ch = s.shape
    rb = math.ceil(resolution / 8)
    out = bytearray()
    for v in s[0]:
        out += int(v & ((1 << (8 * rb)) - 1)).to_bytes(rb, "little")
    deltas = np.diff(s, axis=0)
    step = block or max(1, n - 1)
    for start in range(0, deltas.shape[0], step):
        d = deltas[start : start + step]
        peak = int(np.max(np.abs(d))) if d.size else 0
        bits = max(1, int(peak).bit_length() + 1)
        count = d.shape[0]
        if count > 255:
            raise ValueError("at most 255 samples per delta block")
        u = (d.reshape(-1) & ((1 << bits) - 1)).astype(np.int64)
        bitmat = ((u[:, None] >> np.arange(bits, dtype=np.int64)) & 1).astype(np.uint8).reshape(-1)
        out += bytes([bits, count]) + np.packbits(bitmat, bitorder="little").tobytes()
    return bytes(out)


def delta_frame_bytes(n: int, channels: int, resolution: int, bits: int) -> int:
    """Content size of a one-block delta frame of ``n`` samples with ``bits``-bit deltas."""
    return channels * math.ceil(resolution / 8) + (
        2 + math.ceil(bits * (n - 1) * channels / 8) if n > 1 else 0
    )


_RAW_BYTES: Final = {0: 1, 1: 2, 2: 3}


def acc_samples(frame: PmdFrame, factor: float = 1.0) -> tuple[FloatArray, str]:
    """ACC samples of ``frame``, shape ``(n, 3)``, and their unit (``"g"`` or ``"mG"``).

    Raw frames are mG (factor unused, as in the SDK); delta type 0 is ``counts * factor`` g;
    delta type 1 is ``counts * factor`` mG.
    """
    if frame.compressed:
        if frame.frame_type == 0:
            return decode_delta(frame.content, 3, 16).astype(np.float64) * factor, "g"
        if frame.frame_type == 1:
            return decode_delta(frame.content, 3, 16).astype(np.float64) * factor, "mG"
        raise ProtocolError(frame.content, f"compressed ACC frame type {frame.frame_type} is not supported")
    step = _RAW_BYTES.get(frame.frame_type)
    if step is None:
        raise ProtocolError(frame.content, f"raw ACC frame type {frame.frame_type} is not supported")
    n = len(frame.content) // (3 * step)
    raw = np.array(
        [
            int.from_bytes(frame.content[i * step : (i + 1) * step], "little", signed=True)
            for i in range(3 * n)
        ],
        dtype=np.float64,
    )
    return raw.reshape(n, 3), "mG"


def acc_mps2(frame: PmdFrame, factor: float = 1.0) -> FloatArray:
    """ACC samples of ``frame`` in m/s², shape ``(n, 3)``."""
    v, unit = acc_samples(frame, factor)
    return v * (STANDARD_GRAVITY_MPS2 if unit == "g" else STANDARD_GRAVITY_MPS2 / 1000.0)


def gyro_dps(frame: PmdFrame, factor: float = 1.0) -> FloatArray:
    """GYRO samples of ``frame`` in deg/s, shape ``(n, 3)`` (delta types 0 and 1 only, as the SDK)."""
    if not frame.compressed:
        raise ProtocolError(frame.content, f"raw GYRO frame type {frame.frame_type} is not supported")
    if frame.frame_type == 0:
        return decode_delta(frame.content, 3, 16).astype(np.float64) * factor
    if frame.frame_type == 1:
        bits = decode_delta(frame.content, 3, 32).astype(np.int64) & 0xFFFFFFFF
        return bits.astype("<u4").view("<f4").astype(np.float64) * factor
    raise ProtocolError(frame.content, f"compressed GYRO frame type {frame.frame_type} is not supported")


def gyro_rads(frame: PmdFrame, factor: float = 1.0) -> FloatArray:
    """GYRO samples of ``frame`` in rad/s, shape ``(n, 3)``."""
    return gyro_dps(frame, factor) * RAD_PER_DEG


def sample_times_ns(previous_ns: int, timestamp_ns: int, n: int, rate_hz: float) -> list[int]:
    """Sample times of a frame the way the Polar SDK computes them (``PmdTimeStampUtils``).

    With a previous frame, the interval to it is split evenly; without one (``previous_ns`` 0),
    the period is ``1 / rate_hz`` back from the frame's timestamp (its last sample).
    """
    if n <= 0:
        raise ValueError("a frame has at least one sample")
    if previous_ns == 0:
        if rate_hz <= 0:
            raise ValueError("no previous timestamp and no sample rate")
        delta = 1e9 / rate_hz
        start = timestamp_ns - delta * (n - 1)
    else:
        if timestamp_ns <= previous_ns:
            raise ValueError("timestamp is not after the previous one")
        delta = (timestamp_ns - previous_ns) / n
        start = previous_ns + delta
    if timestamp_ns < delta * n and previous_ns == 0:
        raise ValueError("sample times would be negative")
    return [round(start + delta * i) for i in range(n - 1)] + [timestamp_ns]
