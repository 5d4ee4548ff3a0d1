"""A phone running phyphox as a live source: :class:`PhyphoxSource` (remote access over HTTP).

Satisfies :class:`imurep.ble.source.Source` (an async context manager with ``info``, ``stats``,
``stream()`` and ``stop()``).  Entering it

1. reads ``/config`` (which buffers hold acceleration with g and the rotation rate; phyphox older
   than 1.1.6 has no ``/config``: phyphox's own buffer names are assumed) and ``/meta`` (phone
   model, phyphox version, sensor ranges);
2. asks for the newest time of each sensor (``/get?acc_time&gyr_time``): what the phone measured
   before imurep connected is not fetched;
3. starts the measurement with ``/control?cmd=start`` when it is not running (and then stops it
   again on :meth:`stop`; a measurement the user started is left running);
4. polls ``/get`` with the threshold form (everything after the newest time received), one
   request at a time, every ``poll_interval_s``, until about a second of data has come, to learn
   the sample rates (:attr:`info` is valid from then on).

:meth:`stream` yields what :class:`~imurep.phone.stream.PhoneDecoder` makes of each answer.
Nothing is lost when a request fails: the phone keeps every sample in its buffers (size 0,
unbounded, in imurep's experiment), so the next answer brings them; after ``lost_timeout_s``
without an answer the stream ends with :class:`~imurep.model.errors.ConnectionLostError`.
A pause on the phone is waited out (the samples the host clock says are missing become one
``"paused"`` gap); the stream ends when a phyphox *timed run* is over (not measuring, timed run
on, count-down at 0), or on :meth:`stop`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Final, Self

import aiohttp
import numpy as np

from imurep.ble.client import LinkStats, SensorInfo
from imurep.ble.decoder import StreamGap
from imurep.model.errors import ConnectionLostError, ImurepError, SensorNotFoundError, SettingsError
from imurep.model.samples import ImuChunk
from imurep.model.units import DEG_PER_RAD, STANDARD_GRAVITY_MPS2
from imurep.phone import api
from imurep.phone.stream import PhoneDecoder

logger = logging.getLogger(__name__)

Item = ImuChunk | StreamGap
_END: Final = object()
_HTTP_ERRORS = (aiohttp.ClientError, TimeoutError, OSError)
_POLL_ERRORS = (*_HTTP_ERRORS, ValueError)  # ValueError: an answer that is not JSON


def normalize_url(url: str) -> str:
    """``PHONE``, ``PHONE:8080`` or ``http://PHONE:8080/`` -> ``http://PHONE:8080``.

    Raises
    ------
    SettingsError
        Not an http address (phyphox serves plain HTTP only).
    """
    text = url.strip()
    if "://" not in text:
        text = "http://" + text
    scheme, _, rest = text.partition("://")
    host = rest.split("/", 1)[0]
    if scheme.lower() != "http" or not host:
        raise SettingsError(
            f"--phyphox {url!r}: expected the address phyphox shows under remote access, e.g. "
            "http://192.168.1.23:8080 (plain http)"
        )
    return f"http://{host}"


@dataclass(frozen=True)
class _Poll:
    acc_t: np.ndarray
    acc: np.ndarray
    gyr_t: np.ndarray
    gyr: np.ndarray
    host_s: float
    status: api.Status
    cleared: bool = False
    """The experiment time started again (data cleared, another experiment loaded)."""
    resumed: bool = False
    """The status said "paused" since the previous answer and now says "measuring"."""


@dataclass
class _Cursor:
    """Newest experiment time received per sensor (``None``: ask for everything)."""

    acc: float | None = None
    gyr: float | None = None
    session: str = ""
    measuring: bool = False
    restart_pending: bool = False
    """The data were cleared: the next samples start a new time base."""
    answered: int = 0
    failures: int = 0
    notes: list[str] = field(default_factory=list)


class PhyphoxSource:
    """Live samples from phyphox's remote access (see the module docstring).

    Parameters
    ----------
    url
        The address phyphox shows when remote access is on (``http://PHONE:8080``).
    rate_hz
        Expected sample rate, Hz (``None``: measured; phyphox's rate is set in the experiment,
        not over the network).
    poll_interval_s
        Pause between two requests, s.
    request_timeout_s
        Time allowed for one request, s.
    lost_timeout_s
        End the stream with :class:`ConnectionLostError` after this long without an answer, s.
    start_timeout_s
        How long entering waits for the first second of data, s.
    start_measurement
        Start the measurement when it is not running (and stop it again on :meth:`stop`).
    pause_detect_s
        An answer this much later than the clock fit expects makes imurep ask ``/time`` whether
        the measurement was paused in between, s.
    clock
        Host clock used to timestamp answers, s (default ``time.monotonic``).
    """

    KIND: Final = "phyphox"

    def __init__(
        self,
        url: str,
        *,
        rate_hz: float | None = None,
        poll_interval_s: float = 0.1,
        request_timeout_s: float = 3.0,
        lost_timeout_s: float = 15.0,
        start_timeout_s: float = 10.0,
        start_measurement: bool = True,
        pause_detect_s: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if rate_hz is not None and not 0 < rate_hz < 10_000:
            raise SettingsError(f"rate_hz must be in (0, 10000) Hz, got {rate_hz!r}")
        self.url = normalize_url(url)
        self.rate_hz = rate_hz
        self.poll_interval_s = poll_interval_s
        self.request_timeout_s = request_timeout_s
        self.lost_timeout_s = lost_timeout_s
        self.start_timeout_s = start_timeout_s
        self.start_measurement = start_measurement
        self.pause_detect_s = pause_detect_s
        self._clock = clock
        self.info: SensorInfo
        self.layout: api.ExperimentLayout | None = None
        self.meta: dict[str, Any] = {}
        self.started_measurement = False
        """imurep started the phone's measurement (and stops it on :meth:`stop`)."""
        self.decoder: PhoneDecoder | None = None
        self._http: aiohttp.ClientSession | None = None
        self._cursor = _Cursor()
        self._out: asyncio.Queue[Any] = asyncio.Queue()
        self._poller: asyncio.Task[None] | None = None
        self._shutdown_task: asyncio.Task[None] | None = None
        self._stopping = False
        self._reconnects = 0
        self._malformed = 0
        self._failing = False
        self._time_api: bool | None = None
        self._start_events = 0

    # -- public API -------------------------------------------------------------------------------

    @property
    def stats(self) -> LinkStats:
        """Counters so far (a frozen snapshot)."""
        d = self.decoder
        if d is None:
            return LinkStats(reconnects=self._reconnects, malformed=self._malformed)
        s = d.stats
        return LinkStats(
            frames=s.polls,
            samples=s.samples,
            gaps=s.gaps,
            lost_samples=s.lost_samples,
            duplicates=s.duplicates,
            malformed=self._malformed + s.invalid,
            reconnects=self._reconnects,
            clock_drift_ppm=d.drift_ppm,
        )

    async def __aenter__(self) -> Self:
        self._http = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=self.request_timeout_s),
            # phyphox's server handles one connection at a time: no keep-alive, no pooling
            connector=aiohttp.TCPConnector(force_close=True, limit=1),
        )
        try:
            await self._open()
        except BaseException:
            await self._close_http()
            raise
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    async def stream(self) -> AsyncIterator[Item]:
        """Chunks and gaps in time order (host time base); ends after :meth:`stop`."""
        while True:
            item = await self._out.get()
            if item is _END:
                self._out.put_nowait(_END)
                return
            if isinstance(item, BaseException):
                self._out.put_nowait(_END)
                raise item
            yield item

    async def stop(self) -> None:
        """Stop polling, stop the measurement if imurep started it, close (safe to repeat)."""
        self._stopping = True
        if self._shutdown_task is None:
            self._shutdown_task = asyncio.get_running_loop().create_task(self._shutdown(), name="imurep-stop")
        task = self._shutdown_task
        cancelled = False
        while not task.done():
            try:
                await asyncio.shield(task)
            except asyncio.CancelledError:
                if task.cancelled():
                    break
                cancelled = True  # finish first: the phone should not be left measuring
        if cancelled:
            raise asyncio.CancelledError

    # -- HTTP -------------------------------------------------------------------------------------

    async def _json(self, path: str) -> Any:
        assert self._http is not None
        async with self._http.get(self.url + path) as resp:
            if resp.status != 200:
                raise aiohttp.ClientResponseError(
                    resp.request_info, resp.history, status=resp.status, message=resp.reason or ""
                )
            text = await resp.text()
        return json.loads(text)

    async def _control(self, cmd: str) -> bool:
        doc = await self._json(f"/control?cmd={cmd}")
        return isinstance(doc, dict) and bool(doc.get("result"))

    async def _get(self, requests: dict[str, str]) -> tuple[api.GetAnswer, float]:
        doc = await self._json("/get?" + api.get_query(requests))
        host = self._clock()
        try:
            return api.parse_get(doc), host
        except api.AnswerError as exc:
            self._malformed += 1
            raise aiohttp.ClientPayloadError(f"unexpected /get answer: {exc}") from None

    # -- connecting -------------------------------------------------------------------------------

    async def _open(self) -> None:
        try:
            try:
                config = await self._json("/config")
                self.layout = api.parse_config(config)
            except aiohttp.ClientResponseError as exc:
                if exc.status != 404:
                    raise
                logger.info("phyphox has no /config (older than 1.1.6): assuming its own buffer names")
                self.layout = api.ExperimentLayout("", api.DEFAULT_ACC, api.DEFAULT_GYRO)
            with contextlib.suppress(aiohttp.ClientResponseError, json.JSONDecodeError):
                meta = await self._json("/meta")
                self.meta = meta if isinstance(meta, dict) else {}
            layout = self.layout
            first, _ = await self._get({layout.acc.t: "", layout.gyr.t: ""})
        except _HTTP_ERRORS as exc:
            raise SensorNotFoundError(
                f"could not reach phyphox at {self.url} ({type(exc).__name__}: {exc}); check that the "
                "experiment is open with remote access on, that phone and computer are on the same network, "
                "and the address phyphox shows"
            ) from None
        except json.JSONDecodeError:
            raise SensorNotFoundError(f"{self.url} does not answer like phyphox's remote access") from None
        missing = [n for n in (layout.acc.t, layout.gyr.t) if n not in first.buffers]
        if missing:
            raise SettingsError(
                f"the phyphox experiment has no buffer {', '.join(map(repr, missing))}; "
                "load imurep's experiment "
                "docs/phyphox/imurep-imu.phyphox (acceleration with g + gyroscope)"
            )
        for s in (layout.acc, layout.gyr):
            if s.size:
                logger.warning(
                    "phyphox buffer %s keeps only %d values: samples are lost if a poll comes late; "
                    "use buffers of size 0 (imurep's experiment does)",
                    s.t,
                    s.size,
                )
        cur = self._cursor
        cur.session = first.status.session
        cur.measuring = first.status.measuring
        cur.acc = _last(first.buffers[layout.acc.t].values)
        cur.gyr = _last(first.buffers[layout.gyr.t].values)
        if not first.status.measuring and self.start_measurement:
            try:
                ok = await self._control("start")
            except _HTTP_ERRORS as exc:
                raise SensorNotFoundError(
                    f"phyphox at {self.url} did not take the start command: {exc}"
                ) from None
            if not ok:
                raise SensorNotFoundError(
                    "phyphox refused to start the measurement; press play in the phyphox experiment"
                )
            self.started_measurement = True
            cur.measuring = True
            logger.info("started the phyphox measurement")
        try:
            starts = await self._starts()
            self._time_api, self._start_events = starts is not None, starts or 0
        except aiohttp.ClientResponseError:
            self._time_api = False
        except _POLL_ERRORS:
            self._time_api = None
        polls = await self._first_second()
        acc_rate, gyr_rate = (
            _rate(np.concatenate([p.acc_t for p in polls])),
            _rate(np.concatenate([p.gyr_t for p in polls])),
        )
        if (
            self.rate_hz is not None
            and math.isfinite(acc_rate)
            and abs(acc_rate - self.rate_hz) > 0.2 * self.rate_hz
        ):
            logger.warning(
                "phyphox streams at %.1f Hz, not the %.0f Hz asked for "
                "(the rate is set in the experiment file)",
                acc_rate,
                self.rate_hz,
            )
        self.decoder = PhoneDecoder(acc_rate, gyr_rate)
        self.info = self._info(acc_rate)
        for p in polls:
            self._deliver(p, await self._resume_time(p))
        self._poller = asyncio.get_running_loop().create_task(self._poll_forever(), name="imurep-phyphox")

    async def _first_second(self) -> list[_Poll]:
        """Poll until about a second of both sensors came (the rates are measured from it)."""
        polls: list[_Poll] = []
        deadline = time.monotonic() + self.start_timeout_s
        while True:
            try:
                poll = await self._poll_once()
                if self._failing:
                    self._reconnects += 1
                    self._failing = False
            except _POLL_ERRORS as exc:
                self._failing = True
                if isinstance(exc, ValueError):
                    self._malformed += 1
                if time.monotonic() > deadline:
                    raise SensorNotFoundError(f"phyphox at {self.url} stopped answering: {exc}") from None
                await asyncio.sleep(self.poll_interval_s)
                continue
            polls.append(poll)
            acc_t = np.concatenate([p.acc_t for p in polls])
            gyr_t = np.concatenate([p.gyr_t for p in polls])
            if acc_t.size >= 10 and gyr_t.size >= 10 and min(np.ptp(acc_t), np.ptp(gyr_t)) >= 1.0:
                return polls
            if time.monotonic() > deadline:
                what = "is paused: press play in phyphox" if not poll.status.measuring else "sends no samples"
                raise SensorNotFoundError(
                    f"phyphox at {self.url} {what} (accelerometer {acc_t.size}, "
                    f"gyroscope {gyr_t.size} samples "
                    f"in {self.start_timeout_s:g} s)"
                )
            await asyncio.sleep(self.poll_interval_s)

    def _info(self, rate: float) -> SensorInfo:
        m = self.meta
        model = " ".join(str(m[k]) for k in ("deviceBrand", "deviceModel") if m.get(k)).strip()
        version = str(m.get("version") or "?")
        if m.get("build"):
            version += f" (build {m['build']})"
        raw = m.get("sensors")
        sensors: dict[str, Any] = raw if isinstance(raw, dict) else {}
        acc_range = _range(sensors, api.ACC_SOURCE) / STANDARD_GRAVITY_MPS2
        gyr_range = _range(sensors, api.GYRO_SOURCE) * DEG_PER_RAD
        title = self.layout.title if self.layout else ""
        return SensorInfo(
            name=f"phyphox on {model}" if model else "phyphox",
            address=self.url,
            firmware=f"phyphox {version}",
            protocol_version=f"phyphox remote access ({title or 'experiment'})",
            sample_rate_hz=round(rate, 1) if math.isfinite(rate) else float(self.rate_hz or 100.0),
            acc_range_g=round(acc_range, 1) if math.isfinite(acc_range) and acc_range > 0 else 16.0,
            gyr_range_dps=round(gyr_range) if math.isfinite(gyr_range) and gyr_range > 0 else 2000.0,
            battery_pct=None,
        )

    # -- polling ----------------------------------------------------------------------------------

    async def _poll_once(self) -> _Poll:
        assert self.layout is not None
        lay, cur = self.layout, self._cursor
        answer, host = await self._get(
            {**api.sensor_request(lay.acc, cur.acc), **api.sensor_request(lay.gyr, cur.gyr)}
        )
        acc = api.sensor_data(answer, lay.acc)
        gyr = api.sensor_data(answer, lay.gyr)
        if answer.status.session != cur.session:
            logger.warning("another phyphox experiment was loaded; reading it from its start")
            if acc.missing or gyr.missing:
                raise ConnectionLostError(
                    "the phyphox experiment was changed to one without acceleration with g and gyroscope "
                    f"(buffers {', '.join(acc.missing + gyr.missing)} are gone)"
                )
            cur.session = answer.status.session
            cur.acc = cur.gyr = None  # its time starts again: ask for everything next time
            cur.measuring = answer.status.measuring
            empty = np.zeros(0)
            return _Poll(empty, np.zeros((0, 3)), empty, np.zeros((0, 3)), host, answer.status, cleared=True)
        acc_t, acc_v = acc.t_s, acc.values
        gyr_t, gyr_v = gyr.t_s, gyr.values
        restart = False
        if acc.update_mode == "full" and cur.acc is not None:
            # asked for the new part, got everything: the data were cleared and the time starts
            # again (or a full answer that simply goes on from ours)
            if acc_t.size and acc_t[0] > cur.acc:
                pass
            elif acc_t.size or gyr_t.size:
                restart = True
            else:  # cleared and still empty: ask for everything next time
                cur.acc = cur.gyr = None
                cur.restart_pending = True
        if cur.restart_pending and (acc_t.size or gyr_t.size):
            restart, cur.restart_pending = True, False
        if not restart:
            if cur.acc is not None:
                keep = acc_t > cur.acc
                acc_t, acc_v = acc_t[keep], acc_v[keep]
            if cur.gyr is not None:
                keep = gyr_t > cur.gyr
                gyr_t, gyr_v = gyr_t[keep], gyr_v[keep]
        if acc_t.size:
            cur.acc = float(np.nanmax(acc_t))
        if gyr_t.size:
            cur.gyr = float(np.nanmax(gyr_t))
        resumed = answer.status.measuring and not cur.measuring
        cur.measuring = answer.status.measuring
        cur.answered += 1
        return _Poll(acc_t, acc_v, gyr_t, gyr_v, host, answer.status, cleared=restart, resumed=resumed)

    async def _starts(self) -> int | None:
        """START events in ``/time`` (``None``: no ``/time``, phyphox older than 1.1.8)."""
        events = await self._json("/time")
        return (
            sum(1 for e in events if isinstance(e, dict) and e.get("event") == "START")
            if isinstance(events, list)
            else None
        )

    async def _resume_time(self, poll: _Poll) -> float | None:
        """Experiment time at which the measurement was resumed since the last poll (``None``: it
        was not, or it cannot be told).

        Asked of ``/time`` only when something suggests a pause: the status went from paused to
        measuring, or the newest sample arrived much later than the clock fit says it should (a
        pause and its end can both fall between two polls).
        """
        d = self.decoder
        if self._time_api is False or d is None or poll.cleared:
            return None
        newest = max([float(x[-1]) for x in (poll.acc_t, poll.gyr_t) if x.size], default=math.nan)
        late = (
            math.isfinite(newest)
            and d.timeline.ready
            and poll.host_s - d.timeline.predict(newest) > self.pause_detect_s
        )
        if not (poll.resumed or late):
            return None
        try:
            events = await self._json("/time")
        except (*_POLL_ERRORS, aiohttp.ClientResponseError):
            return None
        if not isinstance(events, list):
            return None
        starts = [e for e in events if isinstance(e, dict) and e.get("event") == "START"]
        known, self._start_events = self._start_events, len(starts)
        if len(starts) <= known or not starts:
            return None
        try:
            return float(starts[-1].get("experimentTime", "nan"))
        except (TypeError, ValueError):
            return None

    def _deliver(self, poll: _Poll, resume_at: float | None = None) -> None:
        d = self.decoder
        assert d is not None
        # an answer given while the phone is not measuring says nothing about the clock: its newest
        # sample is older than the answer by however long the pause has lasted
        observe = poll.status.measuring
        a_t, a, g_t, g, host = poll.acc_t, poll.acc, poll.gyr_t, poll.gyr, poll.host_s
        items: list[Item] = []
        if poll.cleared:
            items += d.new_segment("restarted")
            items += d.feed(a_t, a, g_t, g, host, observe=observe)
        elif resume_at is not None:
            # samples from before the pause continue the old time base (their answer came late:
            # no clock observation), those after it start a new one
            ka, kg = a_t < resume_at, g_t < resume_at
            items += d.feed(a_t[ka], a[ka], g_t[kg], g[kg], host, observe=False)
            items += d.new_segment("paused")
            items += d.feed(a_t[~ka], a[~ka], g_t[~kg], g[~kg], host, observe=observe)
        elif poll.resumed:
            items += d.new_segment("paused")
            items += d.feed(a_t, a, g_t, g, host, observe=observe)
        else:
            items += d.feed(a_t, a, g_t, g, host, observe=observe)
        for it in items:
            self._out.put_nowait(it)

    async def _poll_forever(self) -> None:
        last_ok = time.monotonic()
        paused_logged = False
        try:
            while not self._stopping:
                try:
                    poll = await self._poll_once()
                except _POLL_ERRORS as exc:
                    if isinstance(exc, ValueError):
                        self._malformed += 1
                    if not self._failing:
                        logger.warning("phyphox did not answer (%s); retrying", exc)
                        self._failing = True
                    if time.monotonic() - last_ok > self.lost_timeout_s:
                        raise ConnectionLostError(
                            f"phyphox at {self.url} has not answered for {self.lost_timeout_s:g} s: {exc}; "
                            "the recording so far is saved"
                        ) from None
                    await asyncio.sleep(min(1.0, self.poll_interval_s * 4))
                    continue
                if self._failing:
                    self._reconnects += 1
                    self._failing = False
                    logger.info("phyphox answers again; nothing was lost (the phone kept the samples)")
                last_ok = time.monotonic()
                self._deliver(poll, await self._resume_time(poll))
                st = poll.status
                if not st.measuring:
                    if st.timed_run and st.count_down_ms <= 0 and self.stats.samples:
                        if poll.acc_t.size == 0:  # the last samples came in the previous answers
                            logger.info("the phyphox timed run is over")
                            break
                    elif not paused_logged:
                        logger.warning("the phyphox measurement is paused; press play on the phone to go on")
                        paused_logged = True
                else:
                    paused_logged = False
                await asyncio.sleep(self.poll_interval_s)
        except ImurepError as exc:
            self._out.put_nowait(exc)
        finally:
            if self.decoder is not None:
                for it in self.decoder.flush():
                    self._out.put_nowait(it)
            self._out.put_nowait(_END)

    # -- stopping ---------------------------------------------------------------------------------

    async def _shutdown(self) -> None:
        poller = self._poller
        if poller is not None and not poller.done():
            poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await poller
            if self.decoder is not None:
                for it in self.decoder.flush():
                    self._out.put_nowait(it)
            self._out.put_nowait(_END)
        elif poller is None:
            self._out.put_nowait(_END)
        if self.started_measurement and self._http is not None:
            try:
                await self._control("stop")
                self.started_measurement = False
            except _HTTP_ERRORS as exc:
                logger.warning("could not stop the phyphox measurement: %s", exc)
        await self._close_http()

    async def _close_http(self) -> None:
        if self._http is not None:
            with contextlib.suppress(Exception):
                await self._http.close()
            self._http = None


def _last(values: np.ndarray) -> float | None:
    finite = values[np.isfinite(values)]
    return float(finite[-1]) if finite.size else None


def _rate(t: np.ndarray) -> float:
    t = t[np.isfinite(t)]
    if t.size < 3:
        return math.nan
    dt = np.diff(np.sort(t))
    dt = dt[dt > 0]
    return 1.0 / float(np.median(dt)) if dt.size else math.nan


def _range(sensors: dict[str, Any], name: str) -> float:
    entry = sensors.get(name)
    if not isinstance(entry, dict):
        return math.nan
    try:
        return float(entry.get("Range") or "nan")
    except (TypeError, ValueError):
        return math.nan
