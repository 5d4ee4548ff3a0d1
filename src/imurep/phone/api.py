"""phyphox's remote-access REST interface, as imurep uses it (pure: no HTTP, no asyncio).

When *remote access* is switched on in a running phyphox experiment, the app serves a small HTTP
API on the phone (Android: port 8080, iOS: 80).  The facts below come from phyphox's own server
code (``RemoteServer.java`` of phyphox-android, ``ExperimentWebServer.swift`` of phyphox-ios) and
the OpenAPI description in phyphox-docs (``docs/remote-interface/openapi.yaml``, API 1.1.0):

``GET /get?NAME=VALUE&...``
    Every query parameter names a buffer; its value says how much of it to return: empty = the
    last value only (``updateMode: "single"``), ``full`` = everything, a number ``T`` = every
    value greater than ``T``, ``T|REF`` = the values at the indices where buffer ``REF`` is
    greater than ``T`` (the ``|`` percent-encoded as ``%7C``).  Values travel with 8 significant
    digits (Java ``DecimalFormat("0.#######E0")``), so the server nudges a threshold up by one unit
    in its last place (``10 ** floor(log10(|T| / 1e7))``) before comparing: a value already
    delivered is not delivered again.  After the data were cleared the server answers the next
    request in full whatever was asked (``updateMode: "full"``).  NaN and infinite values come as
    ``null``; buffers that do not exist are left out.  The answer::

        {"buffer": {"acc_time": {"size": 0, "updateMode": "partial", "buffer": [1.2E0, ...]}, ...},
         "status": {"session": "8a3f01", "measuring": true, "timedRun": false, "countDown": 0}}

    ``session`` changes when another experiment is loaded; ``countDown`` is in ms.
``GET /control?cmd=start|stop|clear``
    ``{"result": true|false}`` (``start`` answers false when the experiment cannot start).
``GET /config``
    The experiment: title, buffers (``name``, ``size``: 0 = unbounded), inputs (``source`` =
    ``accelerometer`` (acceleration *with* g), ``linear_acceleration``, ``gyroscope``, ... with
    ``outputs`` ``[{"x": BUFFER}, {"y": ...}, {"z": ...}, {"t": ...}]``).  Since phyphox 1.1.6.
``GET /meta``
    Device and app: ``version``, ``build``, ``deviceModel``, ``deviceBrand``, ... and (Android) per
    sensor ``Name``, ``Vendor``, ``Range`` (m/s², rad/s), ``MinDelay`` (µs).  Since 1.1.8.
``GET /time``
    ``[{"event": "START"|"PAUSE", "experimentTime": s, "systemTime": unix s}, ...]``.

Sensor times are *experiment time*: seconds since the measurement first started on the phone's
monotonic clock, pauses left out (so a pause is no jump in them).  The server is single-threaded
and slow: requests are sent one at a time.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import quote

import numpy as np
from numpy.typing import NDArray

from imurep.model.errors import SettingsError

FloatArray = NDArray[np.float64]

DEFAULT_PORT: Final = 8080
"""phyphox on Android listens on 8080 (iOS: 80)."""

ACC_SOURCE: Final = "accelerometer"
"""The ``/config`` input source of "Acceleration with g"."""
LINEAR_ACC_SOURCE: Final = "linear_acceleration"
GYRO_SOURCE: Final = "gyroscope"


@dataclass(frozen=True)
class SensorBuffers:
    """The buffers one 3-axis sensor of the experiment writes to."""

    t: str
    x: str
    y: str
    z: str
    size: int = 0
    """Declared capacity of the time buffer (0: unbounded)."""

    @property
    def values(self) -> tuple[str, str, str]:
        return (self.x, self.y, self.z)


DEFAULT_ACC: Final = SensorBuffers("acc_time", "accX", "accY", "accZ")
"""Buffer names of phyphox's own "Acceleration with g" experiment (and imurep's experiment file)."""
DEFAULT_GYRO: Final = SensorBuffers("gyr_time", "gyrX", "gyrY", "gyrZ")
"""Buffer names of phyphox's own "Gyroscope" experiment (and imurep's experiment file)."""


@dataclass(frozen=True)
class ExperimentLayout:
    """Where an experiment keeps acceleration with g and rotation rate."""

    title: str
    acc: SensorBuffers
    gyr: SensorBuffers


def _outputs(entry: Mapping[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in entry.get("outputs") or []:
        if isinstance(item, Mapping):
            for k, v in item.items():
                if isinstance(v, str) and v:
                    out.setdefault(str(k), v)
    return out


def _sensor(entry: Mapping[str, Any], sizes: Mapping[str, int]) -> SensorBuffers | None:
    o = _outputs(entry)
    if not all(k in o for k in ("t", "x", "y", "z")):
        return None
    return SensorBuffers(o["t"], o["x"], o["y"], o["z"], int(sizes.get(o["t"], 0)))


def parse_config(config: Mapping[str, Any]) -> ExperimentLayout:
    """The acceleration-with-g and gyroscope buffers named by a ``/config`` answer.

    Raises
    ------
    SettingsError
        The experiment has no accelerometer (with g) or no gyroscope input with x, y, z and t
        outputs; the message says how to set the experiment up.
    """
    sizes = {
        str(b.get("name")): int(b.get("size") or 0)
        for b in config.get("buffers") or []
        if isinstance(b, Mapping) and b.get("name") is not None
    }
    inputs = [i for i in config.get("inputs") or [] if isinstance(i, Mapping)]
    sources = [str(i.get("source", "")) for i in inputs]
    acc = next((s for i in inputs if i.get("source") == ACC_SOURCE and (s := _sensor(i, sizes))), None)
    gyr = next((s for i in inputs if i.get("source") == GYRO_SOURCE and (s := _sensor(i, sizes))), None)
    title = str(config.get("localTitle") or config.get("title") or "")
    if acc is None or gyr is None:
        missing = []
        if acc is None:
            missing.append(
                "'Acceleration with g' (sensor type accelerometer"
                + (
                    "; 'Acceleration (without g)' has no gravity and cannot be used"
                    if LINEAR_ACC_SOURCE in sources
                    else ""
                )
                + ")"
            )
        if gyr is None:
            missing.append("'Gyroscope' (sensor type gyroscope)")
        raise SettingsError(
            f"the phyphox experiment {title!r} lacks {' and '.join(missing)} with x, y, z and t outputs "
            f"(it has: {', '.join(sources) or 'no sensor inputs'}); load imurep's experiment "
            "docs/phyphox/imurep-imu.phyphox, or build one with both sensors in the phyphox editor"
        )
    return ExperimentLayout(title, acc, gyr)


# --- /get -------------------------------------------------------------------------------------


def get_query(requests: Mapping[str, str]) -> str:
    """The query string of a ``/get`` request (``{buffer: value}``; ``|`` encoded as ``%7C``)."""
    return "&".join(
        f"{quote(k, safe='')}={quote(v, safe='')}" if v else quote(k, safe="") for k, v in requests.items()
    )


def threshold_text(t: float) -> str:
    """A threshold as sent to the server (the shortest text that reads back as ``t``)."""
    return repr(float(t))


def sensor_request(buffers: SensorBuffers, after_s: float | None) -> dict[str, str]:
    """``/get`` parameters for every value of one sensor after ``after_s`` (``None``: all)."""
    if after_s is None:
        return {buffers.t: "full", **{v: "full" for v in buffers.values}}
    th = threshold_text(after_s)
    return {buffers.t: th, **{v: f"{th}|{buffers.t}" for v in buffers.values}}


@dataclass(frozen=True)
class Status:
    """The ``status`` part of a ``/get`` answer."""

    session: str
    measuring: bool
    timed_run: bool
    count_down_ms: float


@dataclass(frozen=True)
class BufferData:
    """One buffer of a ``/get`` answer (``null`` values as NaN)."""

    size: int
    update_mode: str
    values: FloatArray


@dataclass(frozen=True)
class GetAnswer:
    """A parsed ``/get`` answer."""

    buffers: dict[str, BufferData]
    status: Status


@dataclass(frozen=True)
class SensorData:
    """The new samples of one 3-axis sensor in a ``/get`` answer (experiment time)."""

    t_s: FloatArray
    """Shape ``(n,)``, s."""
    values: FloatArray
    """Shape ``(n, 3)``; rows with a NaN left in (the caller decides)."""
    update_mode: str
    missing: tuple[str, ...] = field(default=())
    """Requested buffers the answer did not contain."""


class AnswerError(ValueError):
    """A ``/get`` answer that is not of the documented form."""


def _floats(raw: Any) -> FloatArray:
    if not isinstance(raw, list):
        raise AnswerError("buffer is not a list")
    try:
        return np.array([math.nan if v is None else float(v) for v in raw], dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise AnswerError(f"buffer holds a non-number: {exc}") from None


def parse_get(doc: Any) -> GetAnswer:
    """Parse a ``/get`` answer (the decoded JSON).

    Raises
    ------
    AnswerError
        Not an object with ``buffer`` and ``status`` of the documented form.
    """
    if not isinstance(doc, Mapping) or not isinstance(doc.get("buffer"), Mapping):
        raise AnswerError("no 'buffer' object")
    st = doc.get("status")
    if not isinstance(st, Mapping):
        raise AnswerError("no 'status' object")
    buffers: dict[str, BufferData] = {}
    for name, b in doc["buffer"].items():
        if not isinstance(b, Mapping):
            raise AnswerError(f"buffer {name!r} is not an object")
        buffers[str(name)] = BufferData(
            int(b.get("size") or 0), str(b.get("updateMode", "")), _floats(b.get("buffer", []))
        )
    try:
        count_down = float(st.get("countDown") or 0.0)
    except (TypeError, ValueError):
        count_down = 0.0
    status = Status(
        str(st.get("session", "")), bool(st.get("measuring")), bool(st.get("timedRun")), count_down
    )
    return GetAnswer(buffers, status)


def sensor_data(answer: GetAnswer, buffers: SensorBuffers) -> SensorData:
    """The samples of one sensor in ``answer`` (columns cut to the shortest one)."""
    names = (buffers.t, *buffers.values)
    missing = tuple(n for n in names if n not in answer.buffers)
    if missing:
        return SensorData(np.zeros(0), np.zeros((0, 3)), "", missing)
    cols = [answer.buffers[n].values for n in names]
    n = min(c.shape[0] for c in cols)
    t = cols[0][:n]
    values = np.stack([c[:n] for c in cols[1:]], axis=1) if n else np.zeros((0, 3))
    return SensorData(t, values, answer.buffers[buffers.t].update_mode)


# --- what the phone's server does (for the simulated phone and the tests) -----------------------


def format_number(v: float) -> str:
    """A value as phyphox writes it: Java ``DecimalFormat("0.#######E0")`` (8 significant digits)."""
    if not math.isfinite(v):
        return "null"
    if v == 0:
        return "0E0"
    mantissa, exp = f"{v:.7e}".split("e")
    if "." in mantissa:
        mantissa = mantissa.rstrip("0").rstrip(".")
    return f"{mantissa}E{int(exp)}"


def nudged_threshold(t: float) -> float:
    """The threshold the server really compares with (one unit in the 8th digit above ``t``)."""
    if t == 0 or not math.isfinite(t):
        return t
    return t + 10.0 ** math.floor(math.log10(abs(t) / 1e7))


def parse_request_value(value: str | None) -> tuple[float, str]:
    """``(threshold, reference)`` of one ``/get`` parameter value: NaN = single value, ``-inf`` =
    full; ``reference`` is empty when the threshold applies to the buffer itself.

    Raises
    ------
    ValueError
        A threshold that is not a number.
    """
    if value is None or value == "":
        return math.nan, ""
    if value == "full":
        return -math.inf, ""
    th, _, ref = value.partition("|")
    return nudged_threshold(float(th)), ref
