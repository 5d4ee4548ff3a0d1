"""Every sensor link satisfies imurep.ble.source.Source, checked against the same contract.

The imurep firmware's SensorLink runs unchanged (its own simulated sensor), next to the MetaWear
and Polar drivers with their twins; plus identification of each kind in one scan.
"""

from __future__ import annotations

import asyncio
import inspect
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from bleak.backends.scanner import AdvertisementData

from imurep.ble import protocol as imurep_protocol
from imurep.ble.client import SensorLink
from imurep.ble.decoder import StreamGap
from imurep.ble.metawear import protocol as mw
from imurep.ble.metawear.driver import MetaWearLink
from imurep.ble.metawear.simulated import SimMetaMotion
from imurep.ble.polar import pmd
from imurep.ble.polar.driver import PolarLink
from imurep.ble.polar.simulated import SimVeritySense
from imurep.ble.simperipheral import PeripheralWorld, peripheral_backends
from imurep.ble.simulated import SimulatedSensor, simulated_backends
from imurep.ble.source import (
    KINDS,
    Source,
    SourceInfo,
    SourceStats,
    format_sources,
    identify,
    open_source,
    scan_sources,
)
from imurep.model.errors import SensorNotFoundError, SettingsError
from imurep.model.samples import ImuChunk
from imurep.sim import SimSettings, simulate

_REC = simulate(SimSettings(seed=5, n_sets=1, reps_per_set=(1, 1), pre_activity=False))


def _imurep() -> Source:
    sensor = SimulatedSensor(_REC.t_s, _REC.acc_mps2, _REC.gyr_rads)
    return SensorLink(**simulated_backends(sensor))


def _metawear() -> Source:
    board = SimMetaMotion(_REC.t_s, _REC.acc_mps2, _REC.gyr_rads)
    return MetaWearLink(rate_hz=100, idle_timeout_s=0.3, **peripheral_backends(board))


def _polar() -> Source:
    sensor = SimVeritySense(_REC.t_s, _REC.acc_mps2, _REC.gyr_rads)
    return PolarLink(rate_hz=52, **peripheral_backends(sensor))


FACTORIES: dict[str, Callable[[], Source]] = {"imurep": _imurep, "metawear": _metawear, "polar": _polar}


def _check_info(info: SourceInfo) -> None:
    for name in ("name", "address", "firmware", "protocol_version"):
        assert isinstance(getattr(info, name), str), name
    for name in ("sample_rate_hz", "acc_range_g", "gyr_range_dps"):
        v = getattr(info, name)
        assert isinstance(v, float | int) and v > 0, name
    assert info.battery_pct is None or 0 <= info.battery_pct <= 100


def _check_stats(stats: SourceStats) -> None:
    for name in ("samples", "gaps", "lost_samples", "duplicates", "malformed", "reconnects"):
        assert isinstance(getattr(stats, name), int) and getattr(stats, name) >= 0, name
    assert math.isfinite(stats.clock_drift_ppm)


@pytest.mark.parametrize("kind", list(FACTORIES))
def test_source_contract(kind: str) -> None:
    async def go() -> None:
        src = FACTORIES[kind]()
        entered = await src.__aenter__()
        assert entered is src
        try:
            assert isinstance(src, Source)  # (``info`` exists once connected)
            _check_info(src.info)
            last = -math.inf
            n = 0
            async for item in src.stream():
                assert isinstance(item, ImuChunk | StreamGap)
                if isinstance(item, ImuChunk):
                    assert item.acc_mps2.shape == (len(item), 3) and item.gyr_rads.shape == (len(item), 3)
                    assert item.t_s[0] > last and np.all(np.diff(item.t_s) > 0)
                    last = float(item.t_s[-1])
                    n += len(item)
                    # a sensor at rest on the hip reads about 1 g in total
                    assert 0.2 * 9.81 < float(np.median(np.linalg.norm(item.acc_mps2, axis=1))) < 3 * 9.81
                if n > 200:
                    break
            assert n > 200
            _check_stats(src.stats)
            assert src.stats.samples >= n
        finally:
            await src.stop()
        await src.stop()  # idempotent
        rest = [it async for it in src.stream()]  # ends after stop
        assert all(isinstance(it, ImuChunk | StreamGap) for it in rest)

    asyncio.run(asyncio.wait_for(go(), 30))


@pytest.mark.parametrize("cls", [SensorLink, MetaWearLink, PolarLink])
def test_public_shape(cls: type) -> None:
    for name in ("__aenter__", "__aexit__", "stop"):
        assert inspect.iscoroutinefunction(getattr(cls, name)), name
    assert inspect.isasyncgenfunction(cls.stream)
    assert isinstance(cls.stats, property)
    params = inspect.signature(cls.__init__).parameters
    for name in ("device", "rate_hz", "acc_range_g", "gyr_range_dps"):
        assert name in params, name
    # what `imurep live` passes today works for every kind
    for name in (
        "client_backend",
        "scanner_backend",
        "backend_kwargs",
        "clock",
        "retry_backoff_s",
        "reconnect",
    ):
        assert name in params or any(p.kind is p.VAR_KEYWORD for p in params.values()), name


def test_open_source_factory() -> None:
    assert type(open_source("metawear", rate_hz=200)).__name__ == "MetaWearLink"
    assert isinstance(open_source("polar"), PolarLink) and isinstance(open_source("imurep"), SensorLink)
    assert set(KINDS) == {"imurep", "metawear", "polar"}
    with pytest.raises(SettingsError, match="unknown sensor kind"):
        open_source("movesense")  # type: ignore[arg-type]


def _adv(
    name: str | None, uuids: list[str] | None = None, mdata: dict[int, bytes] | None = None
) -> AdvertisementData:
    return AdvertisementData(name, mdata or {}, {}, uuids or [], 0, -60, ())


def test_identify_advertisements() -> None:
    assert identify(None, _adv("imurep-AB12", [imurep_protocol.SERVICE_UUID])) == "imurep"
    assert identify(None, _adv("MetaWear", [mw.SERVICE_UUID])) == "metawear"
    assert identify(None, _adv("MetaWear")) == "metawear"
    assert identify(None, _adv("MetaMotionS hip", [])) == "metawear"
    assert identify(None, _adv(None, [mw.SERVICE_UUID.upper()])) == "metawear"
    assert identify(None, _adv("Polar Sense 1A2B3C4D", [pmd.HEART_RATE_SERVICE_UUID])) == "polar"
    assert identify(None, _adv(None, [], {pmd.POLAR_COMPANY_ID: b"\x00"})) == "polar"
    assert identify("Polar H10 12345678", _adv(None)) == "polar"
    assert identify(None, _adv("Flex", [pmd.HEART_RATE_SERVICE_UUID])) is None


def _world() -> tuple[PeripheralWorld, dict[str, Any]]:
    world = PeripheralWorld()
    world.add(SimMetaMotion(_REC.t_s, _REC.acc_mps2, _REC.gyr_rads, name="MetaWear", rssi=-70))
    world.add(SimVeritySense(_REC.t_s, _REC.acc_mps2, _REC.gyr_rads, name="Polar Sense 0A1B2C3D", rssi=-50))
    world.add(
        SimVeritySense(
            _REC.t_s,
            _REC.acc_mps2,
            _REC.gyr_rads,
            name="Polar Sense 99887766",
            address="A0:9E:1A:00:00:02",
            rssi=-65,
        )
    )
    return world, peripheral_backends(world)


def test_scan_finds_every_kind_strongest_first() -> None:
    world, kw = _world()
    res = asyncio.run(
        scan_sources(0.2, scanner_backend=kw["scanner_backend"], backend_kwargs=kw["backend_kwargs"])
    )
    assert [(r.kind, r.name) for r in res] == [
        ("polar", "Polar Sense 0A1B2C3D"),
        ("polar", "Polar Sense 99887766"),
        ("metawear", "MetaWear"),
    ]
    table = format_sources(res)
    assert "Polar Sense 0A1B2C3D" in table and table.splitlines()[0].startswith("kind")
    assert format_sources([]) == "no supported sensors found"
    only = asyncio.run(
        scan_sources(
            0.2,
            kinds=("metawear",),
            scanner_backend=kw["scanner_backend"],
            backend_kwargs=kw["backend_kwargs"],
        )
    )
    assert [r.kind for r in only] == ["metawear"]


def test_driver_picks_the_named_sensor_by_device_id() -> None:
    world, kw = _world()

    async def go() -> str:
        async with PolarLink("99887766", **kw) as link:
            name = link.info.name
        return name

    assert asyncio.run(go()) == "Polar Sense 99887766"
    wanted = world.peripherals["A0:9E:1A:00:00:02"]
    assert isinstance(wanted, SimVeritySense) and wanted.connections == 1 and wanted.clean

    async def missing() -> None:
        async with PolarLink("NOPE1234", **{**kw, "scan_timeout_s": 0.1}):
            pass

    with pytest.raises(SensorNotFoundError, match="NOPE1234"):
        asyncio.run(missing())
