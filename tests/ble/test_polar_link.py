"""PolarLink <-> simulated Verity Sense through the real BleakScanner/BleakClient (bleak backends)."""

from __future__ import annotations

import asyncio
from typing import Any

import numpy as np
import pytest

from imurep.ble.decoder import StreamGap
from imurep.ble.polar import pmd
from imurep.ble.polar.driver import PolarLink
from imurep.ble.polar.pmd import MeasurementType as MT
from imurep.ble.polar.simulated import DEVICE_EPOCH_NS, PolarFaults, SimVeritySense
from imurep.ble.simperipheral import peripheral_backends
from imurep.model.errors import ConnectionLostError, SensorNotFoundError, SettingsError
from imurep.model.samples import ImuChunk
from imurep.model.units import RAD_PER_DEG, STANDARD_GRAVITY_MPS2
from imurep.sim import SimSettings, simulate

_REC = simulate(SimSettings(seed=3, n_sets=1, reps_per_set=(2, 2), pre_activity=False))
SDK_ON = pmd.sdk_mode_command(True)
SDK_OFF = pmd.sdk_mode_command(False)


def _sensor(**kw: Any) -> SimVeritySense:
    return SimVeritySense(_REC.t_s, _REC.acc_mps2, _REC.gyr_rads, **kw)


async def _collect(link: PolarLink) -> tuple[list[ImuChunk], list[StreamGap]]:
    chunks: list[ImuChunk] = []
    gaps: list[StreamGap] = []
    async for it in link.stream():
        (gaps if isinstance(it, StreamGap) else chunks).append(it)
    return chunks, gaps


def _run(sensor: SimVeritySense, **kw: Any) -> tuple[list[ImuChunk], list[StreamGap], PolarLink]:
    async def go() -> tuple[list[ImuChunk], list[StreamGap], PolarLink]:
        async with PolarLink(**peripheral_backends(sensor), **kw) as link:
            chunks, gaps = await asyncio.wait_for(_collect(link), 30)
        return chunks, gaps, link

    return asyncio.run(go())


def _samples(sensor: SimVeritySense, mtype: MT, delivered_only: bool = True) -> dict[int, np.ndarray]:
    """Device timestamp (ns) -> SI value of every sample the sensor sent."""
    out: dict[int, np.ndarray] = {}
    for f in sensor.frames:
        if f.mtype != mtype or (delivered_only and not f.delivered):
            continue
        scale = f.factor * (STANDARD_GRAVITY_MPS2 if mtype == MT.ACC else RAD_PER_DEG)
        for ts, c in zip(f.timestamps_ns, f.counts, strict=True):
            out[int(ts)] = c.astype(np.float64) * scale
    return out


def _check_exact(sensor: SimVeritySense, chunks: list[ImuChunk], *, expected_n: int | None = None) -> None:
    acc = np.concatenate([c.acc_mps2 for c in chunks])
    gyr = np.concatenate([c.gyr_rads for c in chunks])
    t = np.concatenate([c.t_s for c in chunks])
    assert np.all(np.diff(t) > 0)
    sent_acc = _samples(sensor, MT.ACC)
    sent_gyr = _samples(sensor, MT.GYRO)
    both = [ts for ts in sent_acc if ts in sent_gyr]  # ACC and GYRO sampled at the same instants
    n = expected_n if expected_n is not None else len(both)
    assert abs(acc.shape[0] - n) <= 2  # the last frame of one stream may end a few samples early
    ref_acc = np.array([sent_acc[ts] for ts in both[: acc.shape[0]]])
    ref_gyr = np.array([sent_gyr[ts] for ts in both[: acc.shape[0]]])
    np.testing.assert_array_equal(acc, ref_acc[: acc.shape[0]])
    # gyro interpolated at (within ns of) its own sample times: equal to far below one count (~1e-3 rad/s)
    np.testing.assert_allclose(gyr, ref_gyr[: acc.shape[0]], rtol=0, atol=2e-5)


def test_normal_mode_52hz_is_exact_and_sensor_left_clean() -> None:
    sensor = _sensor()
    chunks, gaps, link = _run(sensor)
    assert not gaps
    _check_exact(sensor, chunks)
    info = link.info
    assert (info.sample_rate_hz, info.acc_range_g, info.gyr_range_dps) == (52, 8, 2000)
    assert info.firmware == "2.2.6" and info.battery_pct == 76 and "normal mode" in info.protocol_version
    assert SDK_ON not in sensor.cp_log and sensor.clean
    t = np.concatenate([c.t_s for c in chunks])
    assert np.median(np.diff(t)) == pytest.approx(1 / 52, rel=1e-3)
    # the host saw the start command built from the SDK's settings TLV
    st = pmd.SettingType
    start = pmd.start_command(MT.ACC, {st.SAMPLE_RATE: 52, st.RESOLUTION: 16, st.RANGE: 8, st.CHANNELS: 3})
    assert start in sensor.cp_log


@pytest.mark.parametrize(("rate", "acc_g", "gyr_dps"), [(104, 8, 2000), (208, 4, 1000), (416, 16, 500)])
def test_sdk_mode_is_entered_for_other_rates_and_left_on_stop(rate: int, acc_g: int, gyr_dps: int) -> None:
    sensor = _sensor()
    chunks, gaps, link = _run(sensor, rate_hz=rate, acc_range_g=acc_g, gyr_range_dps=gyr_dps)
    assert not gaps
    _check_exact(sensor, chunks)
    assert (link.info.sample_rate_hz, link.info.acc_range_g, link.info.gyr_range_dps) == (
        rate,
        acc_g,
        gyr_dps,
    )
    assert "SDK mode" in link.info.protocol_version
    assert SDK_ON in sensor.cp_log and sensor.cp_log[-1] == SDK_OFF and sensor.clean


def test_sdk_mode_off_snaps_to_normal_mode() -> None:
    sensor = _sensor()
    _, _, link = _run(sensor, rate_hz=200, acc_range_g=4, sdk_mode="off")
    assert (link.info.sample_rate_hz, link.info.acc_range_g) == (52, 8)
    assert SDK_ON not in sensor.cp_log and sensor.clean


def test_no_sdk_mode_firmware() -> None:
    sensor = _sensor(sdk_mode_supported=False)
    _, _, link = _run(sensor, rate_hz=104)
    assert link.info.sample_rate_hz == 52 and sensor.clean
    with pytest.raises(SettingsError, match="SDK mode"):
        _run(_sensor(sdk_mode_supported=False), sdk_mode="on")


def test_dropped_frames_give_exact_gaps() -> None:
    sensor = _sensor(faults=PolarFaults(drop_frames=(6, 11)))
    chunks, gaps, link = _run(sensor, rate_hz=104)
    dropped = {f.number: f for f in sensor.frames if not f.delivered}
    assert sorted(dropped) == [6, 11]
    assert all(g.reason == "lost" for g in gaps)
    # an ACC frame lost: exactly its samples; a GYRO frame lost: exactly the ACC samples it covered
    assert sorted(g.n_samples for g in gaps) == sorted(len(f.t_true_s) for f in dropped.values())
    assert link.stats.lost_samples == sum(len(f.t_true_s) for f in dropped.values())
    _check_exact(sensor, chunks)
    assert sensor.clean


def test_link_loss_keeps_measuring_then_reconnect_gap_is_exact() -> None:
    sensor = _sensor(faults=PolarFaults(link_loss_after_frames=(41,), link_loss_s=0.5))
    chunks, gaps, link = _run(sensor, rate_hz=208)
    assert link.stats.reconnects == 1
    assert sensor.connect_states[1]["active"] and sensor.connect_states[1]["sdk_mode"]  # still measuring
    recon = [g for g in gaps if g.reason == "reconnect"]
    assert len(recon) == 1
    acc_ts = sorted(_samples(sensor, MT.ACC, delivered_only=False))
    step = np.diff(acc_ts)
    outage = int(np.argmax(step))
    assert recon[0].n_samples == round(step[outage] / (1e9 / 208)) - 1
    _check_exact(sensor, chunks, expected_n=None)
    assert sensor.clean, sensor.state()


def test_link_loss_without_reconnect_leaves_sensor_measuring() -> None:
    """Documented limitation: a Verity Sense keeps measuring when the link is gone for good."""
    sensor = _sensor(faults=PolarFaults(link_loss_after_frames=(10,)))

    async def go() -> None:
        async with PolarLink(**peripheral_backends(sensor), reconnect=False) as link:
            await _collect(link)

    with pytest.raises(ConnectionLostError):
        asyncio.run(go())
    assert sensor.active and not sensor.connected
    sensor2 = _sensor(faults=PolarFaults(link_loss_after_frames=(10,), keeps_measuring_after_link_loss=False))
    with pytest.raises(ConnectionLostError):
        asyncio.run(_once(sensor2, reconnect=False))
    assert sensor2.clean


async def _once(sensor: SimVeritySense, **kw: Any) -> None:
    async with PolarLink(**peripheral_backends(sensor), **kw) as link:
        await _collect(link)


def test_measurements_left_running_by_an_earlier_session_are_restarted() -> None:
    sensor = _sensor()

    async def go() -> None:
        # an earlier session: start ACC in SDK mode, then vanish without stopping
        kw = peripheral_backends(sensor)
        link = PolarLink(**kw, rate_hz=104)
        await link.__aenter__()
        sensor.drop_link()
        link._stopping = True
        await asyncio.sleep(0.05)
        assert sensor.active and sensor.sdk_mode
        link2 = PolarLink(**kw)
        async with link2:
            n = 0
            async for it in link2.stream():
                n += len(it) if isinstance(it, ImuChunk) else 0
        assert n > 100 and link2.info.sample_rate_hz == 52
        assert "SDK mode" in link2.info.protocol_version  # found on, used, and left on stop

    asyncio.run(go())
    assert sensor.clean


@pytest.mark.parametrize("mtu", [100, 185, 247, 517])
def test_frames_fill_any_mtu(mtu: int) -> None:
    sensor = _sensor(mtu=mtu)
    chunks, gaps, _ = _run(sensor)
    assert not gaps
    _check_exact(sensor, chunks)
    assert max(len(f.t_true_s) for f in sensor.frames) > 8


def test_too_small_mtu_is_a_clear_error_and_nothing_is_left_running() -> None:
    sensor = _sensor(mtu=23)
    with pytest.raises(SettingsError, match="MTU"):
        _run(sensor)
    assert sensor.clean and not sensor.connected


def test_cancellation_stops_the_sensor() -> None:
    sensor = _sensor(speed=20.0)

    async def main() -> None:
        async with PolarLink(**peripheral_backends(sensor), rate_hz=104) as link:
            async for it in link.stream():
                if isinstance(it, ImuChunk):
                    raise asyncio.CancelledError

    with pytest.raises(asyncio.CancelledError):
        asyncio.run(main())
    assert sensor.clean, sensor.state()


def test_sensor_without_gyroscope_is_refused() -> None:
    class H10Like(SimVeritySense):
        def features(self) -> frozenset[MT]:
            return frozenset({MT.ECG, MT.ACC})

    sensor = H10Like(_REC.t_s, _REC.acc_mps2, _REC.gyr_rads, name="Polar H10 12345678")
    with pytest.raises(SensorNotFoundError, match="Verity Sense"):
        _run(sensor)
    assert not sensor.connected


def test_odr_error_and_gyro_offset() -> None:
    sensor = _sensor(faults=PolarFaults(odr_error_ppm=4000.0, gyro_offset_s=0.003))
    chunks, gaps, link = _run(sensor, rate_hz=104)
    assert not gaps
    t = np.concatenate([c.t_s for c in chunks])
    assert np.median(np.diff(t)) == pytest.approx(1 / (104 * 1.004), rel=5e-4)
    # gyro interpolated 3 ms off its samples: close to the sent values, not equal
    acc_n = sum(len(c) for c in chunks)
    assert acc_n >= len(_samples(sensor, MT.ACC)) - 2


def test_device_clock_epoch() -> None:
    sensor = _sensor()
    _run(sensor)
    ts = sensor.frames[0].timestamps_ns[-1]
    assert ts > DEVICE_EPOCH_NS and (ts + pmd.EPOCH_2000_UNIX_NS) / 1e9 > 1.7e9  # after 2023 in Unix time
