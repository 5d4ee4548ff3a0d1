"""MetaWearLink <-> simulated MetaMotion through the real BleakScanner/BleakClient (bleak backends)."""

from __future__ import annotations

import asyncio
import math
from typing import Any

import numpy as np
import pytest

from imurep.ble.decoder import StreamGap
from imurep.ble.metawear import protocol as mw
from imurep.ble.metawear.driver import MetaWearLink
from imurep.ble.metawear.simulated import MetaWearFaults, SimMetaMotion
from imurep.ble.simperipheral import peripheral_backends
from imurep.model.errors import ConnectionLostError, SensorNotFoundError
from imurep.model.samples import ImuChunk
from imurep.model.units import DEG_PER_RAD, STANDARD_GRAVITY_MPS2
from imurep.sim import SimSettings, simulate

_REC = simulate(SimSettings(seed=3, n_sets=1, reps_per_set=(2, 2), pre_activity=False))


def _board(**kw: Any) -> SimMetaMotion:
    faults = kw.pop("faults", None)
    return SimMetaMotion(_REC.t_s, _REC.acc_mps2, _REC.gyr_rads, faults=faults, **kw)


def _link(board: SimMetaMotion, **kw: Any) -> MetaWearLink:
    kw.setdefault("idle_timeout_s", 0.3)
    return MetaWearLink(**peripheral_backends(board), **kw)


async def _collect(link: MetaWearLink) -> tuple[list[ImuChunk], list[StreamGap]]:
    chunks: list[ImuChunk] = []
    gaps: list[StreamGap] = []
    async for it in link.stream():
        (gaps if isinstance(it, StreamGap) else chunks).append(it)
    return chunks, gaps


def _run(board: SimMetaMotion, **kw: Any) -> tuple[list[ImuChunk], list[StreamGap], MetaWearLink]:
    async def go() -> tuple[list[ImuChunk], list[StreamGap], MetaWearLink]:
        async with _link(board, **kw) as link:
            chunks, gaps = await asyncio.wait_for(_collect(link), 30)
        return chunks, gaps, link

    return asyncio.run(go())


def _cat(chunks: list[ImuChunk]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return (
        np.concatenate([c.t_s for c in chunks]),
        np.concatenate([c.acc_mps2 for c in chunks]),
        np.concatenate([c.gyr_rads for c in chunks]),
    )


def _expected(board: SimMetaMotion, link: MetaWearLink) -> tuple[np.ndarray, np.ndarray]:
    cfg = link.config
    assert cfg is not None
    got = [s for s in board.sent if s.acc_delivered and s.gyr_delivered]
    acc = np.array([s.acc for s in got], dtype=np.float64) * cfg.acc_scale_mps2
    gyr = np.array([s.gyr for s in got], dtype=np.float64) * cfg.gyro_scale_rads
    return acc, gyr


@pytest.mark.parametrize(("model", "rate"), [("S", 100), ("R", 200), ("S", 50)])
def test_fused_stream_is_exact_and_board_left_clean(model: str, rate: int) -> None:
    board = _board(model=model)
    chunks, gaps, link = _run(board, rate_hz=rate, acc_range_g=16, gyr_range_dps=2000)
    assert not gaps and link.active_mode == "fused"
    t, acc, gyr = _cat(chunks)
    exp_acc, exp_gyr = _expected(board, link)
    np.testing.assert_array_equal(acc, exp_acc)
    np.testing.assert_array_equal(gyr, exp_gyr)
    assert len(t) == len(board.sent) and np.all(np.diff(t) > 0)
    assert np.median(np.diff(t)) == pytest.approx(1 / rate, rel=0.01)
    # within quantisation of the recording (interpolated at the board's sample times)
    t_rec = np.array([s.t_true_s for s in board.sent]) - board.sent[0].t_true_s + _REC.t_s[0]
    ref = np.stack([np.interp(t_rec, _REC.t_s, _REC.acc_mps2[:, k]) for k in range(3)], axis=1)
    assert np.max(np.abs(acc - ref)) <= 0.5 * STANDARD_GRAVITY_MPS2 / 2048 + 1e-9
    chip = "bmi270" if model == "S" else "bmi160"
    info = link.info
    assert (info.sample_rate_hz, info.acc_range_g, info.gyr_range_dps) == (rate, 16, 2000)
    assert info.firmware == "1.7.3" and info.battery_pct == 87 and chip in info.protocol_version
    # the board saw the SDK's own configuration bytes and was left clean
    assert (
        mw.acc_config(chip, rate, 16) in board.commands and mw.gyro_config(chip, rate, 2000) in board.commands
    )
    assert board.clean, board.state()
    assert link.stats.samples == len(t) and link.stats.gaps == 0


def test_dropped_samples_are_counted_exactly() -> None:
    board = _board(faults=MetaWearFaults(drop_samples=(50, 51, 52, 300)))
    chunks, gaps, link = _run(board)
    assert [(g.n_samples, g.reason) for g in gaps] == [(3, "lost"), (1, "lost")]
    t, acc, _ = _cat(chunks)
    np.testing.assert_array_equal(acc, _expected(board, link)[0])
    assert link.stats.lost_samples == 4 and link.stats.gaps == 2
    # each gap sits where its samples were missing
    assert gaps[0].t_s == pytest.approx(t[49] + 0.01, abs=0.005)
    assert board.clean


def test_packed_mode_at_400_hz() -> None:
    board = _board()
    chunks, gaps, link = _run(board, rate_hz=400)
    assert link.active_mode == "packed" and not gaps
    t, acc, gyr = _cat(chunks)
    exp_acc, exp_gyr = _expected(board, link)
    np.testing.assert_array_equal(acc, exp_acc)
    np.testing.assert_array_equal(gyr, exp_gyr)  # sample k of acc paired with sample k of gyro
    assert np.median(np.diff(t)) == pytest.approx(1 / 400, rel=0.01)
    assert (mw.Module.ACC, mw.ACC_PACKED["bmi270"]) not in board.s.subs and board.clean


def test_packed_mode_estimates_lost_notifications() -> None:
    lost = tuple(range(600, 640))  # 40 notifications = 120 samples = 0.3 s at 400 Hz, both sensors
    board = _board(faults=MetaWearFaults(drop_notifications=lost, latency_jitter_s=0.005))
    chunks, gaps, link = _run(board, rate_hz=400, mode="packed")
    est = [g for g in gaps if g.reason == "lost-estimated"]
    assert len(est) == 1 and abs(est[0].n_samples - 120) <= 3
    assert sum(len(c) for c in chunks) == sum(1 for s in board.sent if s.acc_delivered and s.gyr_delivered)
    assert board.clean


def test_link_loss_board_stops_itself_then_reconnect_and_clean_stop() -> None:
    board = _board(faults=MetaWearFaults(link_loss_after_samples=(400,), link_loss_s=0.5))
    chunks, gaps, link = _run(board)
    assert link.stats.reconnects == 1
    assert [g.reason for g in gaps] == ["reconnect"] and abs(gaps[0].n_samples - 50) <= 2
    # on the lost link the board ran the disconnect events: sensors off, route gone
    state = board.connect_states[1]
    assert not (state["acc_on"] or state["gyro_on"] or state["acc_int"] or state["gyro_int"])
    assert state["processors"] == {} and board.event_log[:4] == mw.stop_commands()
    _, acc, _ = _cat(chunks)
    np.testing.assert_array_equal(acc, _expected(board, link)[0])
    assert board.clean, board.state()


def test_link_loss_without_reconnect_ends_with_error_and_board_stopped() -> None:
    board = _board(faults=MetaWearFaults(link_loss_after_samples=(200,)))

    async def go() -> None:
        async with _link(board, reconnect=False) as link:
            await _collect(link)

    with pytest.raises(ConnectionLostError, match="reconnect disabled"):
        asyncio.run(go())
    assert not board.sampling and not board.processors and not board.s.subs
    assert len(board.events) == 8  # the disconnect events themselves stay until the next reset


def test_cancellation_stops_the_board_cleanly() -> None:
    board = _board(speed=20.0)
    seen: list[int] = []

    async def consume(link: MetaWearLink) -> None:
        async for it in link.stream():
            if isinstance(it, ImuChunk):
                seen.append(len(it))

    async def go() -> None:
        async with _link(board, idle_timeout_s=None) as link:
            task = asyncio.ensure_future(consume(link))
            while sum(seen) < 50:
                await asyncio.sleep(0.01)
            task.cancel()
            await task

    with pytest.raises(asyncio.CancelledError):
        asyncio.run(go())
    assert sum(seen) >= 50 and board.clean, board.state()


def test_cancelled_main_task_still_cleans_up() -> None:
    """Ctrl-C cancels the task that runs ``async with``: __aexit__ must still stop the board."""
    board = _board(speed=20.0)

    async def main() -> None:
        async with _link(board, idle_timeout_s=None) as link:
            async for _ in link.stream():
                raise asyncio.CancelledError  # what asyncio.run does to the main task on Ctrl-C

    with pytest.raises(asyncio.CancelledError):
        asyncio.run(main())
    assert board.clean, board.state()


def test_stop_mid_stream_keeps_samples_and_is_idempotent() -> None:
    board = _board(speed=20.0)

    async def go() -> tuple[int, MetaWearLink]:
        n = 0
        async with _link(board, idle_timeout_s=None) as link:
            async for it in link.stream():
                if isinstance(it, ImuChunk):
                    n += len(it)
                if n >= 30:
                    await link.stop()
            await link.stop()
        return n, link

    n, link = asyncio.run(go())
    assert n >= 30 and link.stats.samples >= n and board.clean


def test_connection_retries() -> None:
    board = _board(faults=MetaWearFaults(fail_connects=2))
    chunks, gaps, _ = _run(board)
    assert board.connect_attempts == 3 and chunks and not gaps and board.clean


def test_reset_board_removes_other_apps_routes_only_when_asked() -> None:
    def foreign(board: SimMetaMotion) -> None:
        board._handle(
            mw.processor_add(mw.Module.ACC, mw.ACC_DATA, 0xFF, 6, 0x07, b"\x01")
        )  # another app's route
        entry, params = mw.event_entry((mw.Module.SETTINGS, 0x0A, 0xFF), bytes([0x02, 0x01, 0x01]))
        board._handle(entry)
        board._handle(params)

    board = _board()
    foreign(board)
    _run(board)
    assert len(board.processors) == 1 and len(board.events) == 1  # ours are gone, theirs stay
    board = _board()
    foreign(board)
    _run(board, reset_board=True)
    assert not board.processors and not board.events and not board.logging
    assert all(c in board.commands for c in mw.tear_down_commands())


def test_old_firmware_falls_back_to_packed_without_disconnect_event() -> None:
    board = _board(data_processor_revision=0, settings_revision=1)
    chunks, gaps, link = _run(board, mode="fused")
    assert link.active_mode == "packed" and not gaps and chunks
    assert not any(c[0] == mw.Module.EVENT and c[1] != 0x80 for c in board.commands)
    assert link.info.battery_pct is None and board.clean


def test_full_event_table_is_not_fatal() -> None:
    board = _board(faults=MetaWearFaults(event_capacity=2))
    chunks, gaps, _ = _run(board, response_timeout_s=0.05)
    assert chunks and not gaps and board.clean


def test_unsupported_board_is_a_clear_error() -> None:
    class OldBoard(SimMetaMotion):
        def _module_info(self, module: int) -> bytes:
            if module == mw.Module.ACC:
                return bytes([module, 0x80, 0x00, 0x01])  # MMA8452Q
            return super()._module_info(module)

    board = OldBoard(_REC.t_s, _REC.acc_mps2, _REC.gyr_rads)
    with pytest.raises(SensorNotFoundError, match="BMI160/BMI270"):
        _run(board)
    assert board.clean and not board.connected


def test_real_time_pacing() -> None:
    board = _board(speed=40.0)
    t0 = asyncio.run(_timed(board))
    assert 0.25 < t0 < 5.0  # ~19 s of recording at 40x


async def _timed(board: SimMetaMotion) -> float:
    loop = asyncio.get_running_loop()
    start = loop.time()
    async with _link(board) as link:
        await _collect(link)
    return loop.time() - start - 0.3


def test_odr_error_is_followed_by_the_clock_fit() -> None:
    board = _board(faults=MetaWearFaults(odr_error_ppm=5000.0, latency_jitter_s=0.004))
    chunks, gaps, link = _run(board)
    t, _, _ = _cat(chunks)
    assert not gaps
    true_period = 1 / (100 * 1.005)
    assert np.median(np.diff(t[len(t) // 2 :])) == pytest.approx(true_period, rel=0.002)
    assert math.isfinite(link.stats.clock_drift_ppm)


def test_gyro_counts_scale() -> None:
    board = _board()
    chunks, _, link = _run(board, gyr_range_dps=250)
    assert link.info.gyr_range_dps == 250
    g = np.concatenate([c.gyr_rads for c in chunks])
    lsb = 1 / (131.2 * DEG_PER_RAD)
    np.testing.assert_allclose(g / lsb, np.round(g / lsb), atol=1e-6)


def test_packed_mode_link_loss_reports_an_estimated_reconnect_gap() -> None:
    board = _board(
        faults=MetaWearFaults(link_loss_after_samples=(2000,), link_loss_s=0.5, latency_jitter_s=0.003)
    )
    chunks, gaps, link = _run(board, rate_hz=400)
    assert link.active_mode == "packed" and link.stats.reconnects == 1
    recon = [g for g in gaps if g.reason == "reconnect"]
    assert len(recon) == 1 and abs(recon[0].n_samples - 200) <= 6
    t = np.concatenate([c.t_s for c in chunks])
    assert np.all(np.diff(t) > 0)
    assert (
        sum(len(c) for c in chunks) >= sum(1 for s in board.sent if s.acc_delivered and s.gyr_delivered) - 3
    )
    assert board.clean


@pytest.mark.parametrize("mode", ["fused", "packed"])
def test_smallest_mtu_is_enough(mode: str) -> None:
    """MetaWear notifications are at most 20 bytes: the default ATT MTU of 23 carries them."""
    board = _board(mtu=23)
    chunks, gaps, link = _run(board, mode=mode)
    assert not gaps and link.active_mode == mode
    np.testing.assert_array_equal(np.concatenate([c.acc_mps2 for c in chunks]), _expected(board, link)[0])
