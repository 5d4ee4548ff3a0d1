"""Decode throughput of the BLE stream decoder and the per-frame notification-callback cost.

Run: ``python benchmarks/ble_decode.py``.  Target: >= 100k samples/s on one core.
"""

from __future__ import annotations

import asyncio
import time

import numpy as np

from imurep.ble.decoder import StreamDecoder
from imurep.ble.protocol import DeviceInfo, encode_imu_frame


def main() -> None:
    info = DeviceInfo()
    rng = np.random.default_rng(0)
    for spf in (19, 5, 1):
        n_frames = 20000 if spf > 1 else 40000
        frames = []
        per = info.clock_hz / info.odr_hz
        for k in range(n_frames):
            counts = rng.integers(-3000, 3000, size=(spf, 6)).astype(np.int16)
            frames.append(encode_imu_frame(k * spf, round(k * spf * per), counts))
        dec = StreamDecoder(info)
        hosts = 10.0 + np.arange(n_frames) * spf / info.odr_hz + rng.uniform(0, 0.02, n_frames)
        t0 = time.perf_counter()
        for data, h in zip(frames, hosts, strict=True):
            dec.feed(data, float(h))
        dt = time.perf_counter() - t0
        print(
            f"decode {spf:2d} samples/frame: {n_frames * spf / dt:10.0f} samples/s, "
            f"{dt / n_frames * 1e6:6.1f} us/frame ({n_frames} frames)"
        )

    # Per-notification callback cost: what SensorLink does on the event loop (enqueue bytes + time).
    q: asyncio.Queue[tuple[bytes, float]] = asyncio.Queue()
    data = bytearray(frames[0])
    clock = time.monotonic
    n = 200000
    t0 = time.perf_counter()
    for _ in range(n):
        q.put_nowait((bytes(data), clock()))
    dt = time.perf_counter() - t0
    print(f"notification callback (enqueue only): {dt / n * 1e9:.0f} ns/frame")


if __name__ == "__main__":
    main()
