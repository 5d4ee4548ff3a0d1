"""HostTimeline, PairMerger and coalesce (imurep.ble.timebase) and the Polar stream decoder's timing."""

from __future__ import annotations

import numpy as np
import pytest

from imurep.ble.decoder import StreamGap
from imurep.ble.polar import pmd
from imurep.ble.polar.stream import PmdImuDecoder
from imurep.ble.timebase import DeviceChunk, DeviceGap, HostTimeline, PairMerger, coalesce, to_host_items
from imurep.model.samples import ImuChunk


def _xyz(t: np.ndarray, k: float) -> np.ndarray:
    return np.stack([k * t, -k * t, np.full_like(t, k)], axis=1)


def test_merger_pairs_at_the_same_instants_exactly() -> None:
    m = PairMerger(hold_s=0.005)
    t = np.arange(100) * 0.01
    m.add_acc(t[:50], _xyz(t[:50], 1.0))
    assert m.pop() == [] and m.pending == 50  # waits for gyroscope data
    m.add_gyro(t[:30], _xyz(t[:30], 2.0))
    out = m.pop()
    assert len(out) == 1 and isinstance(out[0], DeviceChunk) and len(out[0].t_s) == 30
    np.testing.assert_allclose(out[0].gyr_rads, _xyz(t[:30], 2.0))
    m.add_gyro(t[30:], _xyz(t[30:], 2.0))
    m.add_acc(t[50:], _xyz(t[50:], 1.0))
    rest = m.pop(final=True)
    assert sum(len(c.t_s) for c in rest if isinstance(c, DeviceChunk)) == 70


def test_merger_interpolates_offset_gyro() -> None:
    m = PairMerger(hold_s=0.006)
    t = np.arange(50) * 0.01
    m.add_gyro(t + 0.004, _xyz(t + 0.004, 3.0))  # gyro sampled 4 ms later
    m.add_acc(t, _xyz(t, 1.0))
    out = m.pop(final=True)
    chunks = [c for c in out if isinstance(c, DeviceChunk)]
    g = np.concatenate([c.gyr_rads for c in chunks])
    tt = np.concatenate([c.t_s for c in chunks])
    np.testing.assert_allclose(g[1:], _xyz(tt[1:], 3.0), atol=1e-12)  # linear signal: exact
    np.testing.assert_allclose(g[0], _xyz(np.array([0.004]), 3.0)[0])  # first: held from the nearest


def test_gyro_gap_drops_exactly_the_uncovered_acc_samples() -> None:
    m = PairMerger(hold_s=0.005)
    t = np.arange(100) * 0.01
    m.add_gyro(t[:40], _xyz(t[:40], 1.0))
    m.gyro_break()
    m.add_gyro(t[47:], _xyz(t[47:], 1.0))
    m.add_acc(t, _xyz(t, 1.0))
    m.acc_gap(1.0, 5, "lost")
    out = m.pop(final=True)
    gaps = [g for g in out if isinstance(g, DeviceGap)]
    assert [(g.n_samples, g.reason) for g in gaps] == [(7, "lost"), (5, "lost")]
    assert gaps[0].t_s == pytest.approx(0.40) and m.dropped == 7 and m.dropped_runs == 1
    assert sum(len(c.t_s) for c in out if isinstance(c, DeviceChunk)) == 93


def test_merger_gives_up_without_gyro_and_flushes_tail_silently() -> None:
    m = PairMerger(hold_s=0.005, max_wait_s=0.5)
    t = np.arange(100) * 0.01
    m.add_acc(t, _xyz(t, 1.0))  # 1 s of acc, no gyro at all
    out = m.pop()
    assert [g.n_samples for g in out if isinstance(g, DeviceGap)] == [100]
    m2 = PairMerger(hold_s=0.005)
    m2.add_gyro(t[:90], _xyz(t[:90], 1.0))
    m2.add_acc(t, _xyz(t, 1.0))
    out = m2.pop(final=True)
    assert not any(isinstance(g, DeviceGap) for g in out)  # the 10 after the last gyro sample: stream end
    assert sum(len(c.t_s) for c in out if isinstance(c, DeviceChunk)) == 90
    with pytest.raises(ValueError):
        PairMerger(hold_s=0.0)


def test_host_timeline_is_increasing_and_tracks_latency_floor() -> None:
    tl = HostTimeline()
    rng = np.random.default_rng(0)
    outs = []
    for k in range(200):
        dev = np.arange(k * 10, k * 10 + 10) * 0.01
        tl.observe(float(dev[-1]), 100.0 + float(dev[-1]) + 0.002 + rng.uniform(0, 0.03))
        outs.append(tl.to_host(dev))
    t = np.concatenate(outs)
    assert np.all(np.diff(t) > 0)
    assert t[-1] == pytest.approx(100.0 + 19.99 + 0.002, abs=0.003)  # the latency floor, not the mean
    assert tl.gap_time(0.0) == tl.last_host_s  # never before what was handed out
    items = to_host_items(
        [DeviceChunk(np.array([30.0]), np.zeros((1, 3)), np.zeros((1, 3))), DeviceGap(30.01, 2, "lost")], tl
    )
    assert (
        isinstance(items[0], ImuChunk)
        and isinstance(items[1], StreamGap)
        and items[1].t_s >= items[0].t_s[-1]
    )


def test_coalesce_joins_chunks_between_gaps() -> None:
    def c(t0: float, n: int) -> ImuChunk:
        t = t0 + np.arange(n) * 0.01
        return ImuChunk(t, np.zeros((n, 3)), np.zeros((n, 3)))

    g = StreamGap(1.0, 3, "lost")
    out = coalesce([c(0.0, 2), c(0.02, 3), g, c(1.03, 1), c(1.04, 1)])
    assert [len(x) if isinstance(x, ImuChunk) else "gap" for x in out] == [5, "gap", 2]
    assert coalesce([]) == []


def _frames(
    mtype: pmd.MeasurementType, rate: float, n_frames: int, per: int, t0_ns: int, factor: float
) -> list[bytes]:
    out = []
    period = 1e9 / rate
    for f in range(n_frames):
        k = np.arange(f * per, (f + 1) * per)
        counts = np.stack([k, -k, k % 7], axis=1)
        ts = t0_ns + round((k[-1]) * period)
        out.append(pmd.encode_frame(mtype, ts, 0, True, pmd.encode_delta(counts, 16)))
    return out


def test_pmd_decoder_gap_counting_tracks_a_fast_clock() -> None:
    rate_true = 52 * 1.01  # the IMU runs 1 % fast against the nominal 52 Hz
    acc = _frames(pmd.MeasurementType.ACC, rate_true, 40, 36, 10**18, 2.44e-4)
    gyr = _frames(pmd.MeasurementType.GYRO, rate_true, 40, 36, 10**18, 0.061)
    dec = PmdImuDecoder(52, 52, 2.44e-4, 0.061)
    items = []
    for i, (a, g) in enumerate(zip(acc, gyr, strict=True)):
        host = 5.0 + i * 36 / rate_true + 0.05
        if i not in (20, 21, 22):  # three ACC frames (108 samples, 2 s) lost
            items += dec.feed(a, host)
        items += dec.feed(g, host + 0.01)
    items += dec.flush()
    gaps = [x for x in items if isinstance(x, StreamGap)]
    assert [(g.n_samples, g.reason) for g in gaps] == [(108, "lost")]
    assert dec.stats.lost_samples == 108 and dec.stats.duplicates == 0
    assert dec.acc_period_s == pytest.approx(1 / rate_true, rel=1e-6)
    n = sum(len(c) for c in items if isinstance(c, ImuChunk))
    assert n == 37 * 36
    # a repeated (stale) frame is dropped as a duplicate
    assert dec.feed(acc[10], 99.0) == [] and dec.stats.duplicates == 1
