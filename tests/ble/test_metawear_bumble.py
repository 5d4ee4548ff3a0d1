"""Tier 2 for the MetaMotion: the MetaWear twin as a bumble GATT server, driven by the real
MetaWearLink through the real BleakScanner/BleakClient over bumble's in-process link (real ATT
write requests on the command characteristic, notifications of the MetaWear notify characteristic,
the 128-bit service UUID in the advertisement).  Deselect with ``-m "not bumble"``."""

from __future__ import annotations

import asyncio
from typing import Any

import numpy as np
import pytest

pytest.importorskip("bumble")

from bumble_tier import BumbleScanner, BumbleWorld  # noqa: E402
from bumble_vendor import VendorBumblePeripheral, vendor_bumble_backends  # noqa: E402

from imurep.ble.metawear import protocol as mw  # noqa: E402
from imurep.ble.metawear.driver import MetaWearLink  # noqa: E402
from imurep.ble.metawear.simulated import SimMetaMotion  # noqa: E402
from imurep.ble.source import scan_sources  # noqa: E402
from imurep.model.samples import ImuChunk  # noqa: E402
from imurep.sim import SimSettings, simulate  # noqa: E402

pytestmark = pytest.mark.bumble

_REC = simulate(SimSettings(seed=9, n_sets=1, reps_per_set=(1, 1), pre_activity=False))


def test_metawear_fused_stream_over_real_att_is_exact_and_leaves_the_board_clean() -> None:
    async def go() -> tuple[Any, ...]:
        world = BumbleWorld()
        # speed 10: the twin must not run ahead of bumble's delivery (see test_polar_bumble)
        board = SimMetaMotion(_REC.t_s, _REC.acc_mps2, _REC.gyr_rads, speed=10.0)
        periph = VendorBumblePeripheral(world, board)
        await periph.start()
        try:
            found = await scan_sources(
                5.0, stop_when="", scanner_backend=BumbleScanner, backend_kwargs={"world": world}
            )
            assert [(r.kind, r.name) for r in found] == [("metawear", "MetaWear")]
            kw = vendor_bumble_backends(world, periph)
            async with MetaWearLink(rate_hz=100, idle_timeout_s=1.0, **kw) as link:
                chunks = [it async for it in link.stream() if isinstance(it, ImuChunk)]
        finally:
            await periph.close()
        return board, periph, link, chunks

    board, periph, link, chunks = asyncio.run(asyncio.wait_for(go(), 120))
    assert link.active_mode == "fused"
    cfg = link.config
    acc = np.concatenate([c.acc_mps2 for c in chunks])
    sent = [s for s in board.sent if s.acc_delivered and s.gyr_delivered]
    np.testing.assert_array_equal(acc, np.array([s.acc for s in sent], dtype=np.float64) * cfg.acc_scale_mps2)
    t = np.concatenate([c.t_s for c in chunks])
    assert np.median(np.diff(t)) == pytest.approx(0.01, rel=0.01)
    assert all(u == mw.NOTIFY_CHAR_UUID and k == "notify" for u, _d, k in periph.sent)
    assert (mw.NOTIFY_CHAR_UUID, True, False) in periph.subscriptions
    assert link.info.battery_pct == 87 and link.info.firmware == "1.7.3"
    assert board.clean, board.state()
