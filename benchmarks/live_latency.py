"""Live latency: from the sample at a rep's end arriving to the rep being announced.

Streams simulated sessions through the real ``BleakScanner``/``BleakClient`` classes (simulated
sensor backend) at real pace into the same :class:`~imurep.live.LiveSession` that ``imurep live``
uses (pipeline + recording + view), and measures per rep the wall time from the arrival of the
chunk holding the sample at the rep's ``end_s`` to the rep event.  Also the process CPU use
(this includes the simulated sensor's own encoding work, so it is an upper bound).

Targets: median <= 150 ms, 95th percentile <= 300 ms, CPU <= 15 % of one core at 200 Hz.

Usage: ``python benchmarks/live_latency.py [--sessions 1] [--rate 200] [--speed 1]``
"""

from __future__ import annotations

import argparse
import asyncio
import io
import tempfile
import time
from pathlib import Path

import numpy as np

from imurep.ble.client import SensorLink
from imurep.ble.decoder import StreamGap
from imurep.ble.simulated import SimulatedSensor, simulated_backends
from imurep.core.settings import AnalysisSettings
from imurep.io.canonical import RecordingWriter
from imurep.live.session import LiveSession
from imurep.live.views import PlainView
from imurep.model.events import RepCompleted
from imurep.model.samples import ImuChunk
from imurep.sim import SimSettings, simulate


class _Timed(LiveSession):
    """A live session that notes when each chunk arrived and when each rep was announced."""

    arrivals: list[tuple[float, float]]  # (t_last_s of the chunk, wall arrival)
    latencies_s: list[float]

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
        return events


async def _one(seed: int, rate: float, speed: float, folder: Path) -> tuple[list[float], float, float, int]:
    rec = simulate(SimSettings(seed=seed, sample_rate_hz=rate, n_sets=2, pre_activity=False))
    sensor = SimulatedSensor(rec.t_s, rec.acc_mps2, rec.gyr_rads, speed=speed)
    settings = AnalysisSettings(placement="hip")
    async with SensorLink(None, rate_hz=rate, **simulated_backends(sensor)) as link:
        writer = RecordingWriter(folder / f"s{seed}.csv", {"placement": "hip"})
        session = _Timed(settings, PlainView(io.StringIO()), writer)
        session.arrivals, session.latencies_s = [], []
        wall0, cpu0 = time.perf_counter(), time.process_time()
        async for item in link.stream():
            if isinstance(item, ImuChunk):
                session.on_chunk(item)
            elif isinstance(item, StreamGap):
                session.on_gap(item)
        session.finish()
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    reps = sum(len(s.reps) for s in session.pipeline.sets)
    return session.latencies_s, wall, cpu, reps


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sessions", type=int, default=1)
    ap.add_argument("--rate", type=float, default=200.0, help="sample rate, Hz")
    ap.add_argument("--speed", type=float, default=1.0, help="1 = real pace")
    args = ap.parse_args(argv)
    lat: list[float] = []
    wall = cpu = 0.0
    reps = 0
    with tempfile.TemporaryDirectory() as tmp:
        for k in range(args.sessions):
            one, w, c, n = asyncio.run(_one(50_000 + k, args.rate, args.speed, Path(tmp)))
            lat += one
            wall += w
            cpu += c
            reps += n
    ms = np.asarray(lat) * 1000
    print(
        f"sessions: {args.sessions} at {args.rate:g} Hz, speed x{args.speed:g}, "
        f"{wall:.0f} s streamed, {reps} reps"
    )
    if ms.size:
        print(
            f"rep latency: median {np.median(ms):.0f} ms (target <= 150), p95 {np.percentile(ms, 95):.0f} ms "
            f"(target <= 300), max {ms.max():.0f} ms, n = {ms.size}"
        )
    print(
        f"CPU: {100 * cpu / max(wall, 1e-9):.1f} % of one core "
        "(target <= 15 %; includes the simulated sensor)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
