"""Live latency: from the sample at a rep's end arriving to the rep being announced, per source.

Streams simulated sessions at real pace into the same :class:`~imurep.live.LiveSession` that
``imurep live`` uses (pipeline + recording + view), through each kind of source:

* ``imurep``   the imurep firmware twin behind the real ``BleakScanner``/``BleakClient``;
* ``metawear`` the MetaMotion twin (fused acc + gyro, one notification per sample);
* ``polar``    the Verity Sense twin (PMD frames of tens of samples, SDK mode above 52 Hz);
* ``phyphox``  a simulated phone serving phyphox's HTTP API on 127.0.0.1, polled over real sockets.

Per rep it measures

* *processing*: wall time from the arrival of the chunk holding the sample at the rep's ``end_s``
  to the rep event (what imurep adds);
* *sample-to-cue*: the source's host clock when the rep is announced minus ``end_s`` (what the
  lifter waits for: transport, the sensor's batching and the processing).

Also the process CPU use (this includes the simulated sensor's own work: an upper bound).

Targets (processing): median <= 150 ms, 95th percentile <= 300 ms, CPU <= 15 % of one core at 200 Hz.

Voice (``imurep live --voice``, issue 16): from the arrival of the chunk holding a rep's last
sample to the first audio the speech engine (espeak-ng) produces for its phrase; the floor is the
spawn of a trivial process (``true``) measured in the same run.  Target: median <= 300 ms.
Skipped without espeak-ng; ``--source none`` measures the voice alone.

Usage: ``python benchmarks/live_latency.py [--source all|imurep|metawear|polar|phyphox] [--sessions 1]
[--sets 2] [--rate 200] [--speed 1]``
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from imurep.ble.decoder import StreamGap
from imurep.ble.source import Source
from imurep.core.settings import AnalysisSettings
from imurep.io.recording_writer import RecordingWriter
from imurep.live.session import LiveSession
from imurep.live.views import PlainView
from imurep.model.events import RepCompleted
from imurep.model.samples import ImuChunk
from imurep.sim import SimSettings, simulate
from imurep.sim.recording import SimRecording

Clock = Callable[[], float]


class _Timed(LiveSession):
    """A live session that notes when each chunk arrived and when each rep was announced."""

    arrivals: list[tuple[float, float]]  # (t_last_s of the chunk, wall arrival)
    latencies_s: list[float]
    cue_latencies_s: list[float]
    clock: Clock

    def on_chunk(self, chunk: ImuChunk) -> list:  # type: ignore[override, type-arg]
        arrived = time.perf_counter()
        self.arrivals.append((float(chunk.t_s[-1]), arrived))
        events = super().on_chunk(chunk)
        emitted = time.perf_counter()
        for e in events:
            if isinstance(e, RepCompleted):
                t_ends = np.array([a[0] for a in self.arrivals])
                k = int(np.searchsorted(t_ends, e.rep.end_s))
                if k < len(self.arrivals):
                    self.latencies_s.append(emitted - self.arrivals[k][1])
                self.cue_latencies_s.append(self.clock() - e.rep.end_s)
        return events


# --- the sources (one function each; each yields an entered Source and its host clock) ----------


@contextlib.asynccontextmanager
async def source_imurep(rec: SimRecording, rate: float, speed: float) -> AsyncIterator[tuple[Source, Clock]]:
    from imurep.ble.client import SensorLink
    from imurep.ble.simulated import SimulatedSensor, simulated_backends

    sensor = SimulatedSensor(rec.t_s, rec.acc_mps2, rec.gyr_rads, speed=speed)
    kw = simulated_backends(sensor)
    async with SensorLink(None, rate_hz=rate, **kw) as link:
        yield link, kw["clock"]


@contextlib.asynccontextmanager
async def source_metawear(
    rec: SimRecording, rate: float, speed: float
) -> AsyncIterator[tuple[Source, Clock]]:
    from imurep.ble.metawear.driver import MetaWearLink
    from imurep.ble.metawear.simulated import SimMetaMotion
    from imurep.ble.simperipheral import peripheral_backends

    board = SimMetaMotion(rec.t_s, rec.acc_mps2, rec.gyr_rads, speed=speed)
    kw = peripheral_backends(board)
    async with MetaWearLink(rate_hz=rate, idle_timeout_s=1.0, **kw) as link:
        yield link, kw["clock"]


@contextlib.asynccontextmanager
async def source_polar(rec: SimRecording, rate: float, speed: float) -> AsyncIterator[tuple[Source, Clock]]:
    from imurep.ble.polar.driver import PolarLink
    from imurep.ble.polar.simulated import SimVeritySense
    from imurep.ble.simperipheral import peripheral_backends

    sensor = SimVeritySense(rec.t_s, rec.acc_mps2, rec.gyr_rads, speed=speed)
    kw = peripheral_backends(sensor)
    async with PolarLink(rate_hz=rate, **kw) as link:  # 208 Hz for 200: SDK mode
        yield link, kw["clock"]


@contextlib.asynccontextmanager
async def source_phyphox(rec: SimRecording, rate: float, speed: float) -> AsyncIterator[tuple[Source, Clock]]:
    from imurep.phone.simulated import SimPhyphox
    from imurep.phone.source import PhyphoxSource

    phone = SimPhyphox(rec.t_s, rec.acc_mps2, rec.gyr_rads, acc_rate_hz=rate, gyr_rate_hz=rate, speed=speed)
    url = await phone.start()
    try:
        async with PhyphoxSource(url, clock=phone.host_clock) as src:  # default poll interval (0.1 s)
            yield src, phone.clock
    finally:
        await phone.close()


SOURCES: dict[str, Callable[[SimRecording, float, float], contextlib.AbstractAsyncContextManager[Any]]] = {
    "imurep": source_imurep,
    "metawear": source_metawear,
    "polar": source_polar,
    "phyphox": source_phyphox,
}


# --- measuring ---------------------------------------------------------------------------------


@dataclass
class Run:
    latencies_s: list[float]
    cue_latencies_s: list[float]
    wall_s: float
    cpu_s: float
    reps: int
    rate_hz: float


async def _one(source: str, seed: int, rate: float, speed: float, sets: int, folder: Path) -> Run:
    rec = simulate(SimSettings(seed=seed, sample_rate_hz=rate, n_sets=sets, pre_activity=False))
    settings = AnalysisSettings(placement="hip")
    async with SOURCES[source](rec, rate, speed) as (link, clock):
        writer = RecordingWriter(folder / f"{source}-s{seed}.csv", {"placement": "hip"})
        session = _Timed(settings, PlainView(io.StringIO()), writer, sample_rate_hz=link.info.sample_rate_hz)
        session.arrivals, session.latencies_s, session.cue_latencies_s = [], [], []
        session.clock = clock
        wall0, cpu0 = time.perf_counter(), time.process_time()
        async for item in link.stream():
            if isinstance(item, ImuChunk):
                session.on_chunk(item)
            elif isinstance(item, StreamGap):
                session.on_gap(item)
        session.finish()
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    reps = sum(len(s.reps) for s in session.pipeline.sets)
    return Run(session.latencies_s, session.cue_latencies_s, wall, cpu, reps, link.info.sample_rate_hz)


def report(source: str, runs: list[Run], speed: float) -> list[str]:
    """Lines of the report of one source."""
    lat = np.asarray([x for r in runs for x in r.latencies_s]) * 1000
    cue = np.asarray([x for r in runs for x in r.cue_latencies_s]) * 1000
    wall = sum(r.wall_s for r in runs)
    cpu = sum(r.cpu_s for r in runs)
    lines = [
        f"[{source}] {len(runs)} session(s) at {runs[0].rate_hz:g} Hz, speed x{speed:g}, "
        f"{wall:.0f} s streamed, {sum(r.reps for r in runs)} reps"
    ]
    if lat.size:
        lines.append(
            f"  processing: median {np.median(lat):.0f} ms (target <= 150), "
            f"p95 {np.percentile(lat, 95):.0f} ms (target <= 300), max {lat.max():.0f} ms, n = {lat.size}"
        )
    if cue.size:
        cue = cue / speed  # the sources' clocks run `speed` times faster than the wall clock
        lines.append(
            f"  sample-to-cue: median {np.median(cue):.0f} ms, p95 {np.percentile(cue, 95):.0f} ms, "
            f"max {cue.max():.0f} ms (wall time)"
        )
    lines.append(
        f"  CPU: {100 * cpu / max(wall, 1e-9):.1f} % of one core "
        "(target <= 15 %; includes the simulated sensor)"
    )
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--source", choices=["all", "none", *SOURCES], default="all", help="which source(s) to measure"
    )
    ap.add_argument("--sessions", type=int, default=1)
    ap.add_argument("--sets", type=int, default=2, help="sets per simulated session")
    ap.add_argument("--rate", type=float, default=200.0, help="sample rate, Hz")
    ap.add_argument("--speed", type=float, default=1.0, help="1 = real pace")
    args = ap.parse_args(argv)
    sources = list(SOURCES) if args.source == "all" else [] if args.source == "none" else [args.source]
    with tempfile.TemporaryDirectory() as tmp:
        for source in sources:
            runs = [
                asyncio.run(_one(source, 50_000 + k, args.rate, args.speed, args.sets, Path(tmp)))
                for k in range(args.sessions)
            ]
            print("\n".join(report(source, runs, args.speed)), flush=True)
    print("\n".join(voice_report(args.sets)), flush=True)
    return 0


def voice_report(n_sets: int, repeats: int = 3) -> list[str]:
    """Rep end (its chunk's arrival) to the speech engine's first audio, over ``repeats`` sessions."""
    import shutil
    import subprocess

    from imurep.live.voice import CommandSpeaker, VoiceCues

    engine = shutil.which("espeak-ng")
    if engine is None:
        return ["voice: skipped (no espeak-ng)"]
    true = shutil.which("true") or "true"
    floor: list[float] = []
    for _ in range(20):
        t0 = time.perf_counter()
        subprocess.run([true], check=False)
        floor.append(time.perf_counter() - t0)
    lat: list[float] = []
    for k in range(repeats):
        rec = simulate(SimSettings(seed=60_000 + k, n_sets=n_sets))
        speaker = CommandSpeaker(engine, extra_args=["--stdout"], stdout=subprocess.PIPE)
        session = LiveSession(
            AnalysisSettings(placement="hip", sides=("left",)),
            PlainView(io.StringIO()),
            voice=VoiceCues(speaker),
        )
        step = 26  # ~0.25 s of samples per chunk at 104 Hz, as the sensors send them
        for a in range(0, rec.t_s.size, step):
            chunk = ImuChunk(rec.t_s[a : a + step], rec.acc_mps2[a : a + step], rec.gyr_rads[a : a + step])
            arrived = time.perf_counter()
            before = len(speaker.spoken)
            events = session.on_chunk(chunk)
            reps = [e for e in events if isinstance(e, RepCompleted)]
            proc = speaker.process
            if reps and len(speaker.spoken) > before and proc is not None and proc.stdout is not None:
                if proc.stdout.read(1):  # the first audio byte: speech starts
                    lat.append(time.perf_counter() - arrived)
                proc.kill()
                proc.wait()
        session.finish()
    if not lat:
        return ["voice: no reps"]
    ms = np.array(lat) * 1000
    f_ms = np.array(floor) * 1000
    return [
        f"voice (espeak-ng, {len(ms)} reps, {repeats} sessions): rep end -> first audio "
        f"median {np.median(ms):.0f} ms, p95 {np.percentile(ms, 95):.0f} ms, min {ms.min():.0f} ms "
        f"(target: median <= 300 ms); floor (spawn of `true`): median {np.median(f_ms):.1f} ms, "
        f"min {f_ms.min():.1f} ms; ratio median/floor {np.median(ms) / np.median(f_ms):.1f}"
    ]


if __name__ == "__main__":
    raise SystemExit(main())
