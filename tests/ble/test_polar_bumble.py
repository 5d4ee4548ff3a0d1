"""Tier 2 for a vendor sensor: the Polar Verity Sense twin (PMD service) as a bumble GATT server,
driven by the real PolarLink through the real BleakScanner/BleakClient over bumble's in-process
link: real ATT PDUs (MTU exchange, discovery, CCCD writes for the control point's *indications*
and the data characteristic's notifications, write requests, frames sized from the negotiated MTU).
Deselect with ``-m "not bumble"``."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import numpy as np
import pytest

pytest.importorskip("bumble")

from bumble_tier import BumbleWorld  # noqa: E402
from bumble_vendor import VendorBumblePeripheral, vendor_bumble_backends  # noqa: E402

from imurep.ble.decoder import StreamGap  # noqa: E402
from imurep.ble.polar import pmd  # noqa: E402
from imurep.ble.polar.driver import PolarLink  # noqa: E402
from imurep.ble.polar.pmd import MeasurementType as MT  # noqa: E402
from imurep.ble.polar.simulated import SimVeritySense  # noqa: E402
from imurep.ble.source import scan_sources  # noqa: E402
from imurep.model.errors import SettingsError  # noqa: E402
from imurep.model.samples import ImuChunk  # noqa: E402
from imurep.model.units import RAD_PER_DEG, STANDARD_GRAVITY_MPS2  # noqa: E402
from imurep.sim import SimSettings, simulate  # noqa: E402

pytestmark = pytest.mark.bumble

_REC = simulate(SimSettings(seed=8, n_sets=1, reps_per_set=(2, 2), pre_activity=False))
T = TypeVar("T")


def _run(fn: Callable[[BumbleWorld, VendorBumblePeripheral], Awaitable[T]], **twin_kw: Any) -> T:
    async def go() -> T:
        world = BumbleWorld()
        periph = VendorBumblePeripheral(
            world, SimVeritySense(_REC.t_s, _REC.acc_mps2, _REC.gyr_rads, **twin_kw)
        )
        await periph.start()
        try:
            return await asyncio.wait_for(fn(world, periph), 60)
        finally:
            await periph.close()

    return asyncio.run(go())


async def _stream(link: PolarLink) -> tuple[list[ImuChunk], list[StreamGap]]:
    chunks: list[ImuChunk] = []
    gaps: list[StreamGap] = []
    async for it in link.stream():
        (gaps if isinstance(it, StreamGap) else chunks).append(it)
    return chunks, gaps


def _sent(twin: SimVeritySense, mtype: MT) -> dict[int, np.ndarray]:
    out: dict[int, np.ndarray] = {}
    for f in twin.frames:
        if f.mtype != mtype or not f.delivered:
            continue
        scale = f.factor * (STANDARD_GRAVITY_MPS2 if mtype == MT.ACC else RAD_PER_DEG)
        for ts, c in zip(f.timestamps_ns, f.counts, strict=True):
            out[int(ts)] = c.astype(np.float64) * scale
    return out


@pytest.mark.parametrize("rate", [52, 104])
def test_polar_link_over_real_att_is_exact_and_leaves_the_sensor_clean(rate: int) -> None:
    async def fn(world: BumbleWorld, periph: VendorBumblePeripheral) -> tuple[Any, ...]:
        found = await scan_sources(5.0, stop_when="1A2B3C4D", **_scan_kwargs(world))
        assert [(r.kind, r.name) for r in found] == [("polar", "Polar Sense 1A2B3C4D")]
        async with PolarLink("1A2B3C4D", rate_hz=rate, **vendor_bumble_backends(world, periph)) as link:
            chunks, gaps = await _stream(link)
            mtu = periph.connection.att_mtu if periph.connection else None
        return chunks, gaps, link, mtu, periph

    # speed 20, not as fast as possible: the twin must not run ahead of bumble's delivery, whose
    # receive times (on the twin's virtual clock) would then be late by a varying amount
    chunks, gaps, link, mtu, periph = _run(fn, speed=20.0)
    twin: SimVeritySense = periph.twin
    assert mtu == 247  # the host exchanged MTUs
    assert not gaps
    acc = np.concatenate([c.acc_mps2 for c in chunks])
    t = np.concatenate([c.t_s for c in chunks])
    sent_acc, sent_gyr = _sent(twin, MT.ACC), _sent(twin, MT.GYRO)
    both = [ts for ts in sent_acc if ts in sent_gyr]
    assert abs(acc.shape[0] - len(both)) <= 2
    np.testing.assert_array_equal(acc, np.array([sent_acc[ts] for ts in both[: acc.shape[0]]]))
    assert np.median(np.diff(t)) == pytest.approx(1 / rate, rel=2e-3)
    assert link.info.sample_rate_hz == rate and link.info.firmware == "2.2.6" and link.info.battery_pct == 76
    # the control point answered by ATT indications, the data by notifications, MTU-sized frames
    kinds = {(u, k) for u, _d, k in periph.sent}
    assert (pmd.CONTROL_POINT_UUID, "indicate") in kinds and (pmd.DATA_UUID, "notify") in kinds
    assert max(len(d) for u, d, _k in periph.sent if u == pmd.DATA_UUID) > 100
    assert (pmd.CONTROL_POINT_UUID, False, True) in periph.subscriptions
    sdk_on, sdk_off = pmd.sdk_mode_command(True), pmd.sdk_mode_command(False)
    if rate == 52:
        assert sdk_on not in twin.cp_log
    else:  # SDK mode entered for 104 Hz and left again on stop
        assert sdk_on in twin.cp_log and twin.cp_log[-1] == sdk_off
    assert twin.clean, twin.state()


def _scan_kwargs(world: BumbleWorld) -> dict[str, Any]:
    from bumble_tier import BumbleScanner

    return {"scanner_backend": BumbleScanner, "backend_kwargs": {"world": world}}


def test_without_an_mtu_exchange_the_driver_refuses_clearly_and_stops_nothing_running() -> None:
    async def fn(world: BumbleWorld, periph: VendorBumblePeripheral) -> SimVeritySense:
        kw = vendor_bumble_backends(world, periph)
        kw["backend_kwargs"] = {"world": world, "request_mtu": 0}  # stay at ATT MTU 23
        with pytest.raises(SettingsError, match="MTU"):
            async with PolarLink(**kw) as link:
                await _stream(link)
        return periph.twin  # type: ignore[return-value]

    twin = _run(fn)
    assert twin.clean and not twin.active
