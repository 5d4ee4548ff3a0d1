"""PhyphoxSource against the simulated phone over real sockets on 127.0.0.1 (aiohttp both sides).

The phone's oracle (:attr:`SimPhyphox.sent_acc`) holds every sample it produced as the client
reads it (8 significant digits): what comes out of the stream must be exactly those samples, the
gaps exactly what the phone did not produce.
"""

from __future__ import annotations

import asyncio
import math
import socket
from typing import Any

import numpy as np
import pytest

from imurep.ble.decoder import StreamGap
from imurep.ble.source import Source
from imurep.model.errors import ConnectionLostError, SensorNotFoundError, SettingsError
from imurep.model.samples import ImuChunk
from imurep.phone.simulated import PhoneFaults, SimPhyphox
from imurep.phone.source import PhyphoxSource, normalize_url
from imurep.sim import SimSettings, simulate

_REC = simulate(SimSettings(seed=11, n_sets=1, reps_per_set=(2, 2), pre_activity=False))


def _phone(**kw: Any) -> SimPhyphox:
    kw.setdefault("speed", 25.0)
    return SimPhyphox(_REC.t_s, _REC.acc_mps2, _REC.gyr_rads, **kw)


async def _collect(src: PhyphoxSource) -> tuple[list[ImuChunk], list[StreamGap]]:
    chunks: list[ImuChunk] = []
    gaps: list[StreamGap] = []
    async for it in src.stream():
        (gaps if isinstance(it, StreamGap) else chunks).append(it)
    return chunks, gaps


def _run(phone: SimPhyphox, **kw: Any) -> tuple[list[ImuChunk], list[StreamGap], PhyphoxSource]:
    async def go() -> tuple[list[ImuChunk], list[StreamGap], PhyphoxSource]:
        url = await phone.start()
        try:
            kw.setdefault("poll_interval_s", 0.02)
            async with PhyphoxSource(url, clock=phone.host_clock, **kw) as src:
                chunks, gaps = await asyncio.wait_for(_collect(src), 60)
        finally:
            await phone.close()
        return chunks, gaps, src

    return asyncio.run(go())


def _received_acc(chunks: list[ImuChunk]) -> np.ndarray:
    return np.concatenate([c.acc_mps2 for c in chunks])


def _assert_acc_is_what_the_phone_sent(phone: SimPhyphox, chunks: list[ImuChunk], *, lost: int = 0) -> None:
    sent_t, sent = phone.sent_acc
    got = _received_acc(chunks)
    # every sample but those before the first / after the last gyroscope sample of a segment
    rows = {tuple(r) for r in sent}
    assert all(tuple(r) in rows for r in got)
    assert sent.shape[0] - got.shape[0] - lost <= 4
    t = np.concatenate([c.t_s for c in chunks])
    assert np.all(np.diff(t) > 0)


def test_streams_every_sample_and_stops_the_measurement_it_started() -> None:
    phone = _phone()
    chunks, gaps, src = _run(phone)
    assert not gaps
    _assert_acc_is_what_the_phone_sent(phone, chunks)
    got = _received_acc(chunks)
    sent_t, sent = phone.sent_acc
    # in order (the first comes before the first gyroscope sample)
    np.testing.assert_array_equal(got, sent[1 : 1 + got.shape[0]])
    assert phone.controls == ["start", "stop"] and src.started_measurement is False
    info = src.info
    assert info.name == "phyphox on google Pixel 7" and info.firmware.startswith("phyphox 1.2.0")
    assert info.sample_rate_hz == pytest.approx(100.0, rel=0.01)
    assert info.acc_range_g == pytest.approx(16.0, abs=0.1)
    assert info.gyr_range_dps == pytest.approx(2000, abs=1)
    assert isinstance(src, Source)
    t = np.concatenate([c.t_s for c in chunks])
    assert (t[-1] - t[0]) / (t.size - 1) == pytest.approx(0.01, rel=1e-3)  # the phone's clock
    assert abs(src.stats.clock_drift_ppm) < 1000 and src.stats.samples == got.shape[0]
    # polls asked only for what was new, with the bar percent-encoded
    assert any("accX=" in q and "%7Cacc_time" in q for q in phone.requests)
    assert phone.requests[0] == "acc_time&gyr_time"


def test_gyroscope_is_interpolated_at_the_accelerometer_times() -> None:
    phone = _phone(gyr_rate_hz=200.0)
    chunks, gaps, _ = _run(phone)
    assert not gaps
    gt, gv = phone.sent_gyr
    t_acc = np.array(phone.acc.sent_t)
    acc = _received_acc(chunks)
    gyr = np.concatenate([c.gyr_rads for c in chunks])
    idx = [int(np.flatnonzero((phone.sent_acc[1] == row).all(axis=1))[0]) for row in acc[:200]]
    want = np.stack([np.interp(t_acc[idx], gt, gv[:, k]) for k in range(3)], axis=1)
    np.testing.assert_allclose(gyr[:200], want, atol=1e-9)


def test_a_measurement_already_running_is_joined_from_now_and_left_running() -> None:
    phone = _phone(measuring=True)

    async def go() -> tuple[list[ImuChunk], PhyphoxSource]:
        url = await phone.start()
        await asyncio.sleep(0.2)  # 5 s of data recorded before imurep connects
        phone.advance()
        before = len(phone.acc.sent_t)
        assert before > 300
        async with PhyphoxSource(url, clock=phone.host_clock, poll_interval_s=0.02) as src:
            chunks, _ = await asyncio.wait_for(_collect(src), 60)
        await phone.close()
        first = float(np.concatenate([c.acc_mps2 for c in chunks])[0, 0])
        sent_before = phone.sent_acc[1][:before, 0]
        assert first not in set(sent_before.tolist()) or math.isnan(first)
        return chunks, src

    chunks, src = asyncio.run(go())
    assert "start" not in phone.controls and "stop" not in phone.controls  # the user's measurement
    assert src.started_measurement is False


def test_failed_requests_lose_nothing() -> None:
    faults = PhoneFaults(error_requests=(6, 7, 8), dropped_requests=(12,), garbled_requests=(15,))
    phone = _phone(speed=5.0, faults=faults)
    chunks, gaps, src = _run(phone)
    assert not gaps
    _assert_acc_is_what_the_phone_sent(phone, chunks)
    assert src.stats.reconnects >= 2 and src.stats.malformed >= 1


def test_sensor_dropouts_are_gaps_of_the_right_size() -> None:
    phone = _phone(faults=PhoneFaults(dropouts=((4.0, 0.5),), gyro_dropouts=((9.0, 0.3),)))
    chunks, gaps, src = _run(phone)
    dt = np.diff(np.array(phone.acc.sent_true))
    hole = round(float(dt.max()) / 0.01) - 1  # the samples the phone did not produce
    assert hole == pytest.approx(50, abs=1)
    by_reason = {g.reason: g for g in gaps}
    assert set(by_reason) == {"lost-estimated", "lost"}
    assert by_reason["lost-estimated"].n_samples == pytest.approx(hole, abs=1)
    # the accelerometer samples inside the gyroscope's hole: dropped, counted exactly
    t_acc = np.array(phone.acc.sent_true)
    g_true = np.array(phone.gyr.sent_true)
    before, after = g_true[g_true < 9.0][-1], g_true[g_true >= 9.3][0]
    hold = 0.25 / 100
    covered = int(np.sum((t_acc > before + hold) & (t_acc < after - hold)))
    assert by_reason["lost"].n_samples == covered
    _assert_acc_is_what_the_phone_sent(phone, chunks, lost=covered)
    assert src.stats.lost_samples == sum(g.n_samples for g in gaps)


@pytest.mark.parametrize("poll_s", [0.02, 0.5])
def test_a_pause_on_the_phone_is_one_gap_sized_by_the_host_clock(poll_s: float) -> None:
    """With slow polls (0.5 s real = 12.5 s of phone time) the pause begins and ends between two
    polls: imurep notices the late answer and asks /time when the measurement resumed."""
    phone = _phone(faults=PhoneFaults(pauses=((6.0, 4.0),)))
    chunks, gaps, _ = _run(phone, poll_interval_s=poll_s)
    assert [g.reason for g in gaps] == ["paused"]
    # 400 sample periods (estimated from the host clock: within a few percent)
    assert gaps[0].n_samples == pytest.approx(401, abs=12)
    t = np.concatenate([c.t_s for c in chunks])
    jump = int(np.argmax(np.diff(t)))
    assert np.diff(t)[jump] == pytest.approx(4.0 + 0.01, abs=0.03)
    _assert_acc_is_what_the_phone_sent(phone, chunks)


def test_cleared_data_restart_the_time_and_the_gap_spans_what_was_cleared_unread() -> None:
    phone = _phone(faults=PhoneFaults(clear=(7.0, 1.0)), speed=5.0)
    chunks, gaps, src = _run(phone)
    assert [g.reason for g in gaps] == ["restarted"]
    # what the user cleared before imurep fetched it is gone: the gap holds it and the 1 s stop
    unread = len(phone.acc.sent_t) - _received_acc(chunks).shape[0]
    assert gaps[0].n_samples == pytest.approx(unread + 100, abs=4)
    _assert_acc_is_what_the_phone_sent(phone, chunks, lost=unread)
    restart = int(np.argmin(np.diff(np.array(phone.acc.sent_t))))
    assert phone.acc.sent_t[restart + 1] < 0.02  # the phone's time did start again
    assert src.decoder is not None and src.decoder.stats.segments == 2


def test_a_bounded_buffer_polled_too_slowly_loses_samples_and_says_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    phone = _phone(faults=PhoneFaults(buffer_size=200))
    chunks, gaps, _ = _run(phone, poll_interval_s=0.25)  # 6 s of phone time between polls
    assert "keeps only 200 values" in caplog.text
    # both ring buffers lose samples: accelerometer holes are estimated from the sample times,
    # accelerometer samples in a gyroscope hole are dropped and counted
    assert gaps and {g.reason for g in gaps} <= {"lost-estimated", "lost"}
    received = _received_acc(chunks).shape[0]
    # (a hole's size is its length over the running median interval of the phone's jittery
    # clock, rounded: about 1 % of the samples lost, and one per hole)
    lost = sum(g.n_samples for g in gaps)
    assert received + lost == pytest.approx(len(phone.acc.sent_t), abs=5 + len(gaps) + 0.01 * lost)


def test_experiment_without_gravity_is_refused() -> None:
    with pytest.raises(SettingsError, match=r"Acceleration \(without g\)"):
        _run(_phone(linear_only=True))


def test_phyphox_without_config_uses_its_own_buffer_names() -> None:
    phone = _phone(has_config=False)
    chunks, gaps, _ = _run(phone)
    assert not gaps and sum(len(c) for c in chunks) > 1000


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_nothing_listening_is_a_clear_error() -> None:
    async def go() -> None:
        async with PhyphoxSource(f"http://127.0.0.1:{_free_port()}", request_timeout_s=1.0):
            pass

    with pytest.raises(SensorNotFoundError, match="remote access on"):
        asyncio.run(go())


def test_a_phone_that_goes_away_ends_the_stream_with_connection_lost() -> None:
    phone = _phone(speed=5.0)

    async def go() -> int:
        url = await phone.start()
        n = 0
        kw: dict[str, Any] = {"clock": phone.host_clock, "poll_interval_s": 0.02, "lost_timeout_s": 1.0}
        async with PhyphoxSource(url, **kw) as src:
            with pytest.raises(ConnectionLostError, match="has not answered"):
                async for it in src.stream():
                    n += len(it) if isinstance(it, ImuChunk) else 0
                    if n > 200 and phone._runner is not None:
                        await phone.close()
        return n

    assert asyncio.run(go()) > 200


def test_cancellation_stops_the_measurement() -> None:
    phone = _phone(speed=5.0)

    async def go() -> None:
        url = await phone.start()
        try:
            async with PhyphoxSource(url, clock=phone.host_clock, poll_interval_s=0.02) as src:
                async for it in src.stream():
                    if isinstance(it, ImuChunk):
                        raise asyncio.CancelledError
        finally:
            await phone.close()

    with pytest.raises(asyncio.CancelledError):
        asyncio.run(go())
    assert phone.controls == ["start", "stop"] and not phone.measuring


@pytest.mark.parametrize(
    ("url", "want"),
    [
        ("192.168.1.23:8080", "http://192.168.1.23:8080"),
        ("http://phone.local:8080/", "http://phone.local:8080"),
    ],
)
def test_urls(url: str, want: str) -> None:
    assert normalize_url(url) == want
    with pytest.raises(SettingsError, match="plain http"):
        normalize_url("https://x")
