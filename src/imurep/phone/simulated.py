"""A simulated phone running phyphox with remote access: a real HTTP server playing a recording.

:class:`SimPhyphox` serves ``/get``, ``/control``, ``/config``, ``/meta`` and ``/time`` on a real
socket (``127.0.0.1``, aiohttp) with the semantics of phyphox's Android server
(``RemoteServer.java``; see :mod:`imurep.phone.api`): threshold requests with the 8-digit nudge,
``T|REF`` references, a forced full answer after the data were cleared, values written as
``DecimalFormat("0.#######E0")``, ``null`` for NaN, the session id and the measuring / timed-run
status.  The phone samples the recording (linear interpolation) with its accelerometer and its
gyroscope at their own rates and phases (a little timing jitter), in *experiment time* (pauses left
out, back to 0 after a clear).  :attr:`SimPhyphox.sent_acc` / :attr:`SimPhyphox.sent_gyr` are the
oracle of every sample, as the client reads it.

Time model: a virtual clock runs ``speed`` times faster than ``time.monotonic``.  For an in-process
client :meth:`SimPhyphox.host_clock` is the host clock to use: when the phone answered the last
``/get`` plus a fixed latency, so that sample times do not depend on how busy the event loop was.
A client in another process (speed 1) uses its own ``time.monotonic``.

Run one by hand: ``python -m imurep.phone.simulated RECORDING.csv --port 8080`` (loopback only).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from aiohttp import web
from numpy.typing import NDArray

from imurep.phone import api

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class PhoneFaults:
    """What a :class:`SimPhyphox` does wrong (or what its user does).

    Attributes
    ----------
    dropouts
        ``(true time s, duration s)``: the phone's sensors deliver nothing (both sensors).
    gyro_dropouts
        The same for the gyroscope only.
    pauses
        ``(true time s, duration s of virtual clock)``: the user pauses the measurement and
        presses play again.
    clear
        ``(true time s, duration s)``: the user clears the data (the measurement stops, the
        experiment time restarts at 0) and presses play again.
    error_requests
        ``/get`` requests (numbered from 0) answered with HTTP 503.
    dropped_requests
        ``/get`` requests whose connection is closed without an answer.
    garbled_requests
        ``/get`` requests answered with text that is not JSON.
    buffer_size
        Capacity of every buffer (0: unbounded, as imurep's experiment declares them).
    jitter_s
        Sample timing jitter (uniform, ± half of it), s.
    latency_s
        Answer latency of the in-process host clock (:meth:`SimPhyphox.host_clock`), s.
    seed
        Seed of the jitter.
    """

    dropouts: tuple[tuple[float, float], ...] = ()
    gyro_dropouts: tuple[tuple[float, float], ...] = ()
    pauses: tuple[tuple[float, float], ...] = ()
    clear: tuple[float, float] | None = None
    error_requests: tuple[int, ...] = ()
    dropped_requests: tuple[int, ...] = ()
    garbled_requests: tuple[int, ...] = ()
    buffer_size: int = 0
    jitter_s: float = 0.001
    latency_s: float = 0.004
    seed: int = 0


@dataclass
class _Sensor:
    source: str
    buffers: api.SensorBuffers
    rate_hz: float
    phase_s: float
    next_k: int = 0
    sent_t: list[float] = field(default_factory=list)
    sent_v: list[tuple[float, float, float]] = field(default_factory=list)
    sent_true: list[float] = field(default_factory=list)


def _wire(v: float) -> float:
    """``v`` as a client reads it back (8 significant digits)."""
    text = api.format_number(v)
    return math.nan if text == "null" else float(text)


class SimPhyphox:
    """A phone running phyphox (Android semantics) that plays a recording over HTTP.

    Parameters
    ----------
    t_s, acc_mps2, gyr_rads
        The recording: ``(n,)`` s, ``(n, 3)`` m/s² (specific force) and rad/s.
    acc_rate_hz, gyr_rate_hz
        Rates of the phone's accelerometer and gyroscope, Hz.
    speed
        Virtual clock speed (1 = real time).
    measuring
        The measurement runs already when the server starts (else a client must start it).
    timed_run
        The measurement stops by itself when the recording is over (a phyphox *timed run*);
        otherwise the phone keeps measuring with nothing more to send.
    linear_only
        The experiment measures acceleration *without* g (refused by imurep).
    has_config
        ``/config`` exists (phyphox 1.1.6 and later).
    faults
        What to inject.
    """

    def __init__(
        self,
        t_s: Any,
        acc_mps2: Any,
        gyr_rads: Any,
        *,
        acc_rate_hz: float = 100.0,
        gyr_rate_hz: float = 100.0,
        speed: float = 1.0,
        measuring: bool = False,
        timed_run: bool = True,
        linear_only: bool = False,
        has_config: bool = True,
        session: str = "5e55f1",
        faults: PhoneFaults | None = None,
    ) -> None:
        if not speed > 0 or math.isinf(speed):
            raise ValueError("speed must be positive and finite")
        self.t_s = np.asarray(t_s, dtype=np.float64)
        self.acc_mps2 = np.asarray(acc_mps2, dtype=np.float64)
        self.gyr_rads = np.asarray(gyr_rads, dtype=np.float64)
        self.duration_s = float(self.t_s[-1] - self.t_s[0])
        self.speed = float(speed)
        self.timed_run = timed_run
        self.linear_only = linear_only
        self.has_config = has_config
        self.session = session
        self.faults = faults or PhoneFaults()
        self._rng = np.random.default_rng(self.faults.seed)
        self.acc = _Sensor(
            "linear_acceleration" if linear_only else "accelerometer",
            api.DEFAULT_ACC,
            acc_rate_hz,
            0.3 / acc_rate_hz,
        )
        self.gyr = _Sensor("gyroscope", api.DEFAULT_GYRO, gyr_rate_hz, 0.8 / gyr_rate_hz)
        size = self.faults.buffer_size
        self.buffers: dict[str, list[float]] = {
            n: [] for s in (self.acc, self.gyr) for n in (s.buffers.t, *s.buffers.values)
        }
        self.sizes = {n: size for n in self.buffers}
        self._mono0 = time.monotonic()
        self.measuring = False
        self.ended = False
        self._true_at_change = 0.0
        self._clock_at_change = 0.0
        self._clear_base = 0.0
        self._resume_at: float | None = None
        self._pending: list[tuple[float, str, float]] = sorted(
            [(p, "pause", d) for p, d in self.faults.pauses]
            + ([(self.faults.clear[0], "clear", self.faults.clear[1])] if self.faults.clear else [])
        )
        self._force_full = False
        self.time_events: list[dict[str, Any]] = []
        self.requests: list[str] = []
        """Query strings of every ``/get``, in order."""
        self.controls: list[str] = []
        """Every ``/control`` command received."""
        self._get_no = 0
        self._last_answer_clock = 0.0
        self._runner: web.AppRunner | None = None
        self.url = ""
        if measuring:
            self._start(0.0)

    # -- clocks -----------------------------------------------------------------------------------

    def clock(self) -> float:
        """The virtual clock, s (``speed`` × real time since the phone was created)."""
        return (time.monotonic() - self._mono0) * self.speed

    def host_clock(self) -> float:
        """Host clock for an in-process client: when the last ``/get`` was answered + latency, s."""
        return self._last_answer_clock + self.faults.latency_s

    def _true(self, now: float) -> float:
        if not self.measuring:
            return self._true_at_change
        return self._true_at_change + (now - self._clock_at_change)

    # -- measurement state --------------------------------------------------------------------------

    def _start(self, now: float) -> bool:
        if self.ended:
            return False
        if not self.measuring:
            self.measuring = True
            self._clock_at_change = now
            self.time_events.append(
                {
                    "event": "START",
                    "experimentTime": self._true_at_change - self._clear_base,
                    "systemTime": 1.7e9 + now,
                }
            )
        return True

    def _stop(self, now: float, true_s: float | None = None) -> None:
        if self.measuring:
            self._true_at_change = self._true(now) if true_s is None else true_s
            self.measuring = False
            self.time_events.append(
                {
                    "event": "PAUSE",
                    "experimentTime": self._true_at_change - self._clear_base,
                    "systemTime": 1.7e9 + now,
                }
            )

    def _clear(self) -> None:
        for values in self.buffers.values():
            values.clear()
        self._clear_base = self._true_at_change
        self._force_full = True
        self.time_events.clear()

    def advance(self, now: float | None = None) -> None:
        """Bring the phone up to the virtual time ``now`` (default: :meth:`clock`)."""
        now = self.clock() if now is None else now
        while True:
            if self._resume_at is not None and not self.measuring:
                if self._resume_at > now:
                    return
                at, self._resume_at = self._resume_at, None
                self._start(at)
                continue
            if not self.measuring:
                return
            true_now = self._true(now)
            event = self._pending[0] if self._pending else None
            end = self.duration_s if self.timed_run else math.inf
            if event is not None and event[0] <= min(true_now, end):
                p, kind, d = self._pending.pop(0)
                self._sample_until(p)
                at = self._clock_at_change + (p - self._true_at_change)
                self._stop(at, p)
                if kind == "clear":
                    self._clear()
                self._resume_at = at + d
                continue
            if true_now >= end:
                self._sample_until(end)
                self._stop(self._clock_at_change + (end - self._true_at_change), end)
                self.ended = True
                return
            self._sample_until(true_now)
            return

    def _sample_until(self, true_s: float) -> None:
        end = min(true_s, self.duration_s)
        for s, rec in ((self.acc, self.acc_mps2), (self.gyr, self.gyr_rads)):
            period = 1.0 / s.rate_hz
            k_last = math.floor((end - s.phase_s) / period)  # a sample may need jitter: checked below
            if k_last < s.next_k:
                continue
            k = np.arange(s.next_k, k_last + 2)
            jitter = (
                self._rng.uniform(-0.5, 0.5, size=k.size) * self.faults.jitter_s
                if self.faults.jitter_s
                else 0.0
            )
            t_true = np.asarray(s.phase_s + k * period + jitter, dtype=np.float64)
            n = int(np.searchsorted(t_true > end, True))  # first sample past the end
            if n == 0:
                continue
            t_true = t_true[:n]
            s.next_k += n
            keep = ~self._in_any(t_true, self.faults.dropouts)
            if s is self.gyr:
                keep &= ~self._in_any(t_true, self.faults.gyro_dropouts)
            t_true = t_true[keep]
            if not t_true.size:
                continue
            t_rec = self.t_s[0] + t_true
            v = np.stack([np.interp(t_rec, self.t_s, rec[:, c]) for c in range(3)], axis=1)
            t_exp = t_true - self._clear_base
            self._extend(s.buffers.t, t_exp.tolist())
            for c, name in enumerate(s.buffers.values):
                self._extend(name, v[:, c].tolist())
            s.sent_t.extend(_wire(x) for x in t_exp.tolist())
            s.sent_v.extend((_wire(a), _wire(b), _wire(c)) for a, b, c in v.tolist())
            s.sent_true.extend(t_true.tolist())

    @staticmethod
    def _in_any(t: FloatArray, windows: tuple[tuple[float, float], ...]) -> np.ndarray:
        out = np.zeros(t.shape[0], dtype=bool)
        for a, d in windows:
            out |= (t >= a) & (t < a + d)
        return out

    def _extend(self, name: str, values: list[float]) -> None:
        buf = self.buffers[name]
        buf.extend(values)
        size = self.sizes[name]
        if size and len(buf) > size:
            del buf[: len(buf) - size]

    @property
    def sent_acc(self) -> tuple[FloatArray, FloatArray]:
        """Every accelerometer sample produced: experiment times ``(n,)`` and values ``(n, 3)``."""
        return np.array(self.acc.sent_t), np.array(self.acc.sent_v).reshape(-1, 3)

    @property
    def sent_gyr(self) -> tuple[FloatArray, FloatArray]:
        """Every gyroscope sample produced."""
        return np.array(self.gyr.sent_t), np.array(self.gyr.sent_v).reshape(-1, 3)

    # -- HTTP ---------------------------------------------------------------------------------------

    def _answer_get(self, params: list[tuple[str, str]]) -> str:
        seen: set[str] = set()
        requests: list[tuple[str, float, str]] = []
        for name, value in params:
            if name in seen:
                continue
            seen.add(name)
            th, ref = api.parse_request_value(value)
            if self._force_full and not math.isnan(th):
                th, ref = -math.inf, ""
            requests.append((name, th, ref))
        if requests:
            self._force_full = False
        for name, _th, ref in requests:
            if ref and name in self.buffers and ref not in self.buffers:
                raise web.HTTPBadRequest(
                    text='{"error": "Unknown reference buffer."}', content_type="application/json"
                )
        parts = []
        for name, th, ref in requests:
            data = self.buffers.get(name)
            if data is None:
                continue
            size = self.sizes[name]
            if math.isnan(th):
                last = data[-1] if data else math.nan
                mode, values = "single", [api.format_number(last)]
            else:
                refdata = self.buffers[ref] if ref else data
                n = min(len(data), len(refdata))
                values = [api.format_number(data[i]) for i in range(n) if not refdata[i] <= th]
                mode = "full" if math.isinf(th) else "partial"
            parts.append(f'"{name}":{{"size":{size},"updateMode":"{mode}", "buffer":[{",".join(values)}]}}')
        count_down = max(0.0, self.duration_s - self._true(self.clock())) * 1000 if self.timed_run else 0.0
        status = (
            f'"session":"{self.session}", "measuring":{str(self.measuring).lower()}, '
            f'"timedRun":{str(self.timed_run).lower()}, "countDown":{round(count_down)}'
        )
        return '{"buffer":{\n' + ",\n".join(parts) + '\n},\n"status":{\n' + status + "\n}\n}\n"

    async def _params(self, request: web.Request) -> list[tuple[str, str]]:
        params = list(request.query.items())
        if request.method == "POST" and request.content_type == "application/json":
            try:
                body = json.loads(await request.text())
            except ValueError:
                raise web.HTTPBadRequest(
                    text='{"error": "Malformed request body."}', content_type="application/json"
                ) from None
            params = [(str(k), "" if v is None else str(v)) for k, v in body.items()] + params
        return params

    async def _get(self, request: web.Request) -> web.StreamResponse:
        no = self._get_no
        self._get_no += 1
        self.requests.append(request.rel_url.raw_query_string)
        if no in self.faults.error_requests:
            raise web.HTTPServiceUnavailable(text='{"error": "busy"}', content_type="application/json")
        if no in self.faults.dropped_requests:
            assert request.transport is not None
            request.transport.abort()
            return web.Response()
        now = self.clock()
        self.advance(now)
        self._last_answer_clock = max(self._last_answer_clock, now)
        if no in self.faults.garbled_requests:
            return web.Response(text="<html>phyphox is busy</html>", content_type="text/html")
        try:
            text = self._answer_get(await self._params(request))
        except ValueError:
            raise web.HTTPBadRequest(
                text='{"error": "Invalid threshold."}', content_type="application/json"
            ) from None
        return web.Response(text=text, content_type="application/json")

    async def _control(self, request: web.Request) -> web.Response:
        params = dict(reversed(await self._params(request)))
        cmd = params.get("cmd", "")
        self.controls.append(cmd)
        now = self.clock()
        self.advance(now)
        result = False
        if cmd == "start":
            result = self._start(now)
        elif cmd == "stop":
            self._stop(now)
            result = True
        elif cmd == "clear":
            self._stop(now)
            self._clear()
            result = True
        return web.json_response({"result": result})

    async def _config(self, request: web.Request) -> web.Response:
        if not self.has_config:
            raise web.HTTPNotFound()
        inputs = [
            {"source": s.source, "outputs": [{"x": b.x}, {"y": b.y}, {"z": b.z}, {"t": b.t}]}
            for s in (self.acc, self.gyr)
            for b in (s.buffers,)
        ]
        doc = {
            "crc32": "1a2b3c4d",
            "title": "imurep IMU",
            "localTitle": "imurep IMU",
            "category": "imurep",
            "localCategory": "imurep",
            "buffers": [{"name": n, "size": self.sizes[n]} for n in self.buffers],
            "inputs": inputs,
            "export": [],
        }
        return web.json_response(doc)

    async def _meta(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                "version": "1.2.0",
                "build": "1020009",
                "fileFormat": "1.19",
                "deviceModel": "Pixel 7",
                "deviceBrand": "google",
                "deviceManufacturer": "Google",
                "deviceRelease": "14",
                "sensors": {
                    "accelerometer": {
                        "Name": "LSM6DSR Accelerometer",
                        "Vendor": "STMicro",
                        "Range": "156.9064",
                    },
                    "gyroscope": {"Name": "LSM6DSR Gyroscope", "Vendor": "STMicro", "Range": "34.906586"},
                },
            }
        )

    async def _time(self, request: web.Request) -> web.Response:
        self.advance()
        return web.json_response(self.time_events)

    def app(self) -> web.Application:
        """The aiohttp application (GET and POST on every endpoint, as phyphox)."""
        app = web.Application()
        for path, handler in (
            ("/get", self._get),
            ("/control", self._control),
            ("/config", self._config),
            ("/meta", self._meta),
            ("/time", self._time),
        ):
            app.router.add_get(path, handler)
            app.router.add_post(path, handler)
        return app

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve on ``host:port`` (0: a free port); returns the URL (``http://127.0.0.1:PORT``)."""
        runner = web.AppRunner(self.app(), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        self._runner = runner
        sockets = getattr(site._server, "sockets", None) or []
        actual = sockets[0].getsockname()[1] if sockets else port
        self.url = f"http://{host}:{actual}"
        return self.url

    async def close(self) -> None:
        """Stop serving."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


@contextlib.contextmanager
def serve_in_thread(phone: SimPhyphox, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Serve ``phone`` from a background thread (its own event loop); yields the URL."""
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    url: list[str] = []

    def run() -> None:
        asyncio.set_event_loop(loop)
        url.append(loop.run_until_complete(phone.start(host, port)))
        ready.set()
        loop.run_forever()
        loop.run_until_complete(phone.close())
        loop.close()

    thread = threading.Thread(target=run, name="sim-phyphox", daemon=True)
    thread.start()
    if not ready.wait(10):
        raise RuntimeError("the simulated phone did not start")
    try:
        yield url[0]
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)


def main(argv: list[str] | None = None) -> int:
    """``python -m imurep.phone.simulated RECORDING.csv``: serve a simulated phone on loopback."""
    from imurep.io import load_recording

    ap = argparse.ArgumentParser(prog="python -m imurep.phone.simulated", description=__doc__.split("\n")[0])
    ap.add_argument("recording")
    ap.add_argument("--port", type=int, default=api.DEFAULT_PORT)
    ap.add_argument("--rate", type=float, default=100.0, help="sample rate of both sensors, Hz")
    ap.add_argument("--measuring", action="store_true", help="measure from the start (else wait for start)")
    args = ap.parse_args(argv)
    rec = load_recording(args.recording)
    phone = SimPhyphox(
        rec.t_s,
        rec.acc_mps2,
        rec.gyr_rads,
        acc_rate_hz=args.rate,
        gyr_rate_hz=args.rate,
        measuring=args.measuring,
    )

    async def serve() -> None:
        url = await phone.start("127.0.0.1", args.port)
        print(f"simulated phyphox at {url} ({phone.duration_s:.0f} s of data); Ctrl-C stops", flush=True)
        try:
            while not phone.ended:
                await asyncio.sleep(0.5)
                phone.advance()
            await asyncio.sleep(5.0)
        finally:
            await phone.close()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
