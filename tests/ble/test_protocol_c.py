"""The C reference codec (firmware_protocol/c): compiled with the host compiler and checked against
the JSON vectors (through the generated test_vectors.h) and, byte for byte, against the Python
encoder on random frames and random sample streams (ring buffer + flush policy + overflow)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections import deque
from pathlib import Path

import numpy as np
import pytest

from imurep.ble.decoder import StreamDecoder
from imurep.ble.protocol import (
    OP_SET_CONFIG,
    OP_START,
    OP_STOP,
    STATUS_FIFO_OVERFLOW,
    U32,
    DeviceInfo,
    StartConfig,
    encode_command,
    encode_compact_frame,
    encode_imu_frame,
    encode_status_frame,
    samples_per_frame,
)

ROOT = Path(__file__).resolve().parents[2] / "firmware_protocol"
CDIR = ROOT / "c"
SOURCES = [CDIR / "test_proto.c", CDIR / "imurep_proto.c"]
STRICT = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", "-Wshadow", "-Wconversion", "-O1"]
SANITIZE = ["-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-fno-omit-frame-pointer"]


def test_generated_header_is_up_to_date(tmp_path: Path) -> None:
    out = tmp_path / "test_vectors.h"
    subprocess.run([sys.executable, str(ROOT / "tools" / "vectors_to_c.py"), str(out)], check=True)
    assert out.read_text() == (CDIR / "test_vectors.h").read_text(), (
        "firmware_protocol/c/test_vectors.h is stale: run python firmware_protocol/tools/vectors_to_c.py"
    )


@pytest.fixture(scope="module")
def binary(tmp_path_factory: pytest.TempPathFactory) -> Path:
    cc = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if cc is None:
        pytest.skip("no C compiler (cc) on PATH")
    out = tmp_path_factory.mktemp("cproto") / "test_proto"
    base = [cc, *STRICT, "-I", str(CDIR), "-o", str(out), *map(str, SOURCES)]
    # Prefer ASan/UBSan; fall back to a plain build where the sanitizer runtimes are missing.
    for flags in (SANITIZE, []):
        res = subprocess.run([*base[:-2], *flags, *base[-2:]], capture_output=True, text=True)
        if res.returncode == 0:
            probe = subprocess.run([str(out), "frames"], input="", capture_output=True, text=True)
            if probe.returncode == 0:
                return out
        elif not flags:
            pytest.fail(f"C build failed (warnings are errors):\n{res.stderr}")
    pytest.fail("the C test program does not run")


def test_c_codec_passes_all_vectors(binary: Path) -> None:
    res = subprocess.run([str(binary)], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stdout + res.stderr
    assert " 0 failures" in res.stdout


def _rand_samples(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.integers(-32768, 32768, size=(n, 6)).astype(np.int16)


def test_c_encoder_equals_python_encoder(binary: Path) -> None:
    rng = np.random.default_rng(1234)
    lines, expected = [], []
    for _ in range(200):
        kind = rng.integers(0, 4)
        idx, t = int(rng.integers(0, 2**32)), int(rng.integers(0, 2**32))
        if kind == 0:
            n, cfg = int(rng.integers(1, 20)), int(rng.integers(0, 256))
            s = _rand_samples(rng, n)
            lines.append(f"imu {cfg} {idx} {t} {n} " + " ".join(map(str, s.ravel())))
            expected.append(encode_imu_frame(idx, t, s, config_id=cfg))
        elif kind == 1:
            s = _rand_samples(rng, 1)
            lines.append(f"compact {idx} {t} " + " ".join(map(str, s.ravel())))
            expected.append(encode_compact_frame(idx, t, s[0]))
        elif kind == 2:
            code, cfg, value = (
                int(rng.integers(0, 256)),
                int(rng.integers(0, 256)),
                int(rng.integers(0, 2**32)),
            )
            lines.append(f"status {code} {cfg} {idx} {t} {value}")
            expected.append(encode_status_frame(code, idx, t, value, config_id=cfg))
        else:
            op = int(rng.choice([OP_START, OP_SET_CONFIG, OP_STOP]))
            odr, acc, gyr, lat = (int(rng.integers(0, 2**16)), int(rng.integers(0, 256)),
                                  int(rng.integers(0, 2**16)), int(rng.integers(0, 2**16)))  # fmt: skip
            lines.append(f"cmd {op} {odr} {acc} {gyr} {lat}")
            cfg_ = StartConfig(odr, acc, gyr, lat) if op != OP_STOP else None
            expected.append(encode_command(op, cfg_))
    res = subprocess.run(
        [str(binary), "frames"], input="\n".join(lines) + "\n", capture_output=True, text=True, timeout=60
    )
    assert res.returncode == 0, res.stderr
    assert res.stdout.split() == [e.hex() for e in expected]


class _PacketizerModel:
    """PROTOCOL.md §6 in Python, with the Python encoder: ring (drop oldest, index keeps counting),
    FIFO_OVERFLOW before the next IMU frame, flush when the frame is full / the latency elapsed /
    a gap ends a run / the ring is full."""

    def __init__(self, mtu: int, latency_ms: int, clock_hz: int, capacity: int) -> None:
        self.spf = samples_per_frame(mtu)
        self.latency = latency_ms * clock_hz // 1000
        self.cap = capacity
        self.ring: deque[tuple[int, int, np.ndarray]] = deque()
        self.next_index = 0
        self.overflow: list[int] | None = None
        self.out: list[bytes] = []

    def _account(self, first: int, n: int) -> None:
        if self.overflow is None:
            self.overflow = [first, n]
        else:  # hull of both ranges (mod 2**32)
            d = (first - self.overflow[0]) % U32
            if d >= 1 << 31:
                self.overflow = [first, self.overflow[1] + U32 - d]
                d = 0
            self.overflow[1] = max(self.overflow[1], d + n)

    def push(self, t: int, s: np.ndarray) -> None:
        if len(self.ring) == self.cap:
            self._account(self.ring.popleft()[0], 1)
        self.ring.append((self.next_index % U32, t, s))
        self.next_index += 1

    def skip(self, n: int) -> None:
        self._account(self.next_index % U32, n)
        self.next_index += n

    def drain(self, now: int, force: bool) -> None:
        while True:
            if self.overflow is not None:
                first, count = self.overflow
                self.out.append(encode_status_frame(STATUS_FIFO_OVERFLOW, first, now, count))
                self.overflow = None
                continue
            if not self.ring:
                return
            limit = self.spf or 1
            i0, t0, _ = self.ring[0]
            run = 1
            while run < min(limit, len(self.ring)) and self.ring[run][0] == (i0 + run) % U32:
                run += 1
            due = (
                force
                or run >= limit
                or run < len(self.ring)
                or len(self.ring) == self.cap
                or (now - t0) % U32 >= self.latency
            )
            if not due:
                return
            if self.spf == 0:
                self.out.append(encode_compact_frame(i0, t0, self.ring[0][2]))
            else:
                counts = np.stack([self.ring[k][2] for k in range(run)])
                self.out.append(encode_imu_frame(i0, t0, counts))
            for _ in range(run):
                self.ring.popleft()


@pytest.mark.parametrize(
    ("mtu", "latency_ms", "capacity", "seed"),
    [(247, 50, 4096, 0), (185, 20, 64, 1), (247, 1000, 16, 2), (23, 50, 8, 3), (40, 5, 32, 4)],
)
def test_c_stream_packetizer_equals_python_model(
    binary: Path, mtu: int, latency_ms: int, capacity: int, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    clock_hz = 1_000_000
    model = _PacketizerModel(mtu, latency_ms, clock_hz, capacity)
    script: list[str] = []
    t = 0xFFFFFFFF - 300_000  # the device clock wraps during the stream
    tx = True
    for _ in range(1500):
        r = rng.random()
        if r < 0.01:
            tx = not tx
            script.append("txon" if tx else "txoff")
        elif r < 0.015:
            n = int(rng.integers(1, 40))
            script.append(f"skip {n}")
            model.skip(n)
        t = (t + int(rng.integers(9000, 10200))) % U32  # ~104 Hz with jitter
        s = _rand_samples(rng, 1)[0]
        script.append(f"s {t} " + " ".join(map(str, s)))
        model.push(t, s)
        if tx:
            model.drain(t, False)
    script.append(f"flush {t}")
    model.drain(t, True)
    res = subprocess.run(
        [str(binary), "stream", str(mtu), str(latency_ms), str(clock_hz), str(capacity)],
        input="\n".join(script) + "\n",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert res.returncode == 0, res.stderr
    got = res.stdout.split()
    assert got == [f.hex() for f in model.out]
    # and the host decoder recovers every sample that was not dropped, with exact gap accounting
    dec = StreamDecoder(DeviceInfo(max_samples_per_frame=model.spf))
    n = 0
    for k, h in enumerate(got):
        n += sum(len(c) for c in dec.feed(bytes.fromhex(h), 1.0 + k * 1e-3).chunks)
    assert n + dec.stats.overflow_samples == model.next_index
    assert dec.stats.lost_samples == 0
