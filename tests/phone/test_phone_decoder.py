"""PhoneDecoder: gaps from the sample times, pairing on the experiment clock, segments, host clock."""

from __future__ import annotations

import numpy as np
import pytest

from imurep.ble.decoder import StreamGap
from imurep.model.samples import ImuChunk
from imurep.phone.stream import PhoneDecoder

RATE = 100.0


def _stream(t: np.ndarray, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.normal(size=(t.size, 3))


def _feed_polls(
    dec: PhoneDecoder, acc_t: np.ndarray, gyr_t: np.ndarray, *, poll_s: float = 0.1, offset_s: float = 50.0
) -> tuple[list[ImuChunk], list[StreamGap]]:
    acc, gyr = _stream(acc_t, 1), np.cumsum(np.ones((gyr_t.size, 3)), axis=0) * 0.001
    chunks: list[ImuChunk] = []
    gaps: list[StreamGap] = []
    rng = np.random.default_rng(7)
    end = max(acc_t[-1], gyr_t[-1])
    for k in range(1, int(end / poll_s) + 3):
        t0, t = (k - 1) * poll_s + 1e-9, k * poll_s + 1e-9  # a sample at the poll's instant is in it
        a = (acc_t > t0) & (acc_t <= t)
        g = (gyr_t > t0) & (gyr_t <= t)
        latency = float(rng.uniform(0.003, 0.02))  # answer time after the newest sample
        for it in dec.feed(acc_t[a], acc[a], gyr_t[g], gyr[g], host_s=t + offset_s + latency):
            (chunks if isinstance(it, ImuChunk) else gaps).append(it)
    for it in dec.flush():
        (chunks if isinstance(it, ImuChunk) else gaps).append(it)
    return chunks, gaps


def test_clean_streams_pair_every_sample_on_the_host_clock() -> None:
    acc_t = np.arange(1, 1001) / RATE
    gyr_t = acc_t + 0.004  # the gyroscope samples 4 ms after the accelerometer
    dec = PhoneDecoder(RATE, RATE)
    chunks, gaps = _feed_polls(dec, acc_t, gyr_t)
    assert not gaps
    t = np.concatenate([c.t_s for c in chunks])
    # the first accelerometer sample comes before the first gyroscope sample: not paired, not lost
    assert t.size == acc_t.size - 1 and dec.stats.unpaired == 1
    assert np.median(np.diff(t)) == pytest.approx(1 / RATE, rel=2e-5)
    # the clock fit moves a little when it sees a shorter latency (at chunk boundaries only)
    assert np.all(np.diff(t) > 0) and np.mean(np.abs(np.diff(t) - 1 / RATE) < 1e-4) > 0.98
    assert 0.003 - 1e-6 <= t[0] - (acc_t[1] + 50.0) <= 0.02  # host = experiment time + offset + latency
    gyr = np.concatenate([c.gyr_rads for c in chunks])
    np.testing.assert_allclose(gyr[1:, 0] - gyr[:-1, 0], 0.001, atol=1e-9)  # interpolated, in step
    assert abs(dec.drift_ppm) < 500
    assert dec.stats.samples == t.size and dec.stats.gaps == 0


def test_a_dropout_of_the_accelerometer_is_counted_from_the_sample_times() -> None:
    acc_t = np.arange(1, 1001) / RATE
    missing = (acc_t > 4.0) & (acc_t <= 4.37)  # 37 samples never produced
    dec = PhoneDecoder(RATE, RATE)
    chunks, gaps = _feed_polls(dec, acc_t[~missing], acc_t + 0.004)
    assert [(g.n_samples, g.reason) for g in gaps] == [(int(missing.sum()), "lost-estimated")]
    assert dec.stats.lost_samples == int(missing.sum())
    t = np.concatenate([c.t_s for c in chunks])
    assert gaps[0].t_s == pytest.approx(4.01 + 50.0, abs=0.02)
    assert t.size == (~missing).sum() - 1 or t.size == (~missing).sum()


def test_a_gyroscope_dropout_drops_exactly_the_accelerometer_samples_it_covers() -> None:
    acc_t = np.arange(1, 1001) / RATE
    gyr_t = acc_t + 0.004
    hole = (gyr_t > 6.0) & (gyr_t <= 6.5)
    dec = PhoneDecoder(RATE, RATE)
    chunks, gaps = _feed_polls(dec, acc_t, gyr_t[~hole])
    assert len(gaps) == 1 and gaps[0].reason == "lost"
    t = np.concatenate([c.t_s for c in chunks]) - 50.0
    covered = (acc_t > gyr_t[~hole][gyr_t[~hole] <= 6.0][-1]) & (acc_t < gyr_t[~hole][gyr_t[~hole] > 6.5][0])
    assert gaps[0].n_samples == int(covered.sum())  # one gap over several polls, exact
    assert not np.any((t > 6.02) & (t < 6.49))  # never interpolated across the gyroscope's gap


def test_duplicates_and_invalid_rows_are_dropped_and_counted() -> None:
    dec = PhoneDecoder(RATE, RATE)
    t = np.arange(1, 101) / RATE
    acc = np.ones((100, 3))
    acc[10, 1] = np.nan
    out = dec.feed(t, acc, t, np.zeros((100, 3)), host_s=10.0)
    out += dec.feed(t[-5:], acc[-5:], t[-5:], np.zeros((5, 3)), host_s=10.05)  # sent again
    out += dec.flush()
    assert dec.stats.invalid == 1 and dec.stats.duplicates == 10
    n = sum(len(c) for c in out if isinstance(c, ImuChunk))
    assert n == 99


def test_a_pause_starts_a_new_time_base_and_the_host_clock_sizes_its_gap() -> None:
    dec = PhoneDecoder(RATE, RATE)
    t1 = np.arange(1, 501) / RATE  # 5 s, then a 3 s pause; experiment time goes on from 5 s
    t2 = 5.0 + np.arange(1, 501) / RATE
    items = dec.feed(t1, np.ones((500, 3)), t1 + 0.004, np.zeros((500, 3)), host_s=105.01)
    items += dec.new_segment("paused")
    items += dec.feed(t2, np.ones((500, 3)), t2 + 0.004, np.zeros((500, 3)), host_s=113.01)
    items += dec.flush()
    gaps = [g for g in items if isinstance(g, StreamGap)]
    assert [g.reason for g in gaps] == ["paused"]
    assert gaps[0].n_samples == pytest.approx(300, abs=2)
    t = np.concatenate([c.t_s for c in items if isinstance(c, ImuChunk)])
    assert np.all(np.diff(t) > 0)
    jump = np.diff(t).max()
    assert jump == pytest.approx(3.0 + 1 / RATE, abs=0.02)
    assert dec.stats.segments == 2


def test_data_cleared_time_restarts_and_keeps_going_up_on_the_host_clock() -> None:
    dec = PhoneDecoder(RATE, RATE)
    t = np.arange(1, 301) / RATE
    items = dec.feed(t, np.ones((300, 3)), t + 0.004, np.zeros((300, 3)), host_s=203.01)
    items += dec.new_segment("restarted")
    items += dec.feed(t, np.ones((300, 3)), t + 0.004, np.zeros((300, 3)), host_s=210.01)  # from 0 again
    items += dec.flush()
    chunks = [c for c in items if isinstance(c, ImuChunk)]
    host = np.concatenate([c.t_s for c in chunks])
    assert np.all(np.diff(host) > 0) and host[-1] == pytest.approx(210.01 - 0.004, abs=0.02)
    gaps = [g for g in items if isinstance(g, StreamGap)]
    assert [g.reason for g in gaps] == ["restarted"] and gaps[0].n_samples == pytest.approx(400, abs=3)
