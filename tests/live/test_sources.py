"""imurep.live.sources: which driver ``imurep live`` picks, and what it asks of it."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from imurep.ble.metawear.simulated import SimMetaMotion
from imurep.ble.polar.simulated import SimVeritySense
from imurep.ble.simperipheral import PeripheralWorld, peripheral_backends
from imurep.io.canonical import write_canonical
from imurep.live.sources import SourceOptions, open_live_source, source_metadata
from imurep.model.errors import SensorNotFoundError, SettingsError
from imurep.model.samples import ImuChunk
from imurep.sim import SimSettings, simulate

_REC = simulate(SimSettings(seed=21, n_sets=1, reps_per_set=(2, 2), pre_activity=False))


def _world() -> tuple[PeripheralWorld, SimMetaMotion, SimVeritySense]:
    world = PeripheralWorld()
    board = SimMetaMotion(_REC.t_s, _REC.acc_mps2, _REC.gyr_rads, rssi=-70)
    polar = SimVeritySense(_REC.t_s, _REC.acc_mps2, _REC.gyr_rads, rssi=-50)
    world.add(board)
    world.add(polar)
    return world, board, polar


def _open(opts: SourceOptions, backends: dict[str, Any]) -> tuple[str, dict[str, Any], list[str], int]:
    lines: list[str] = []

    async def go() -> tuple[str, dict[str, Any], int]:
        n = 0
        async with open_live_source(opts, lines.append, ble_backends=backends) as src:
            async for it in src.stream():
                n += len(it) if isinstance(it, ImuChunk) else 0
            info = src.info
        return info.name, source_metadata(src), n

    name, meta, n = asyncio.run(asyncio.wait_for(go(), 60))
    return name, meta, lines, n


@pytest.mark.parametrize(
    ("device", "kind", "name"),
    [
        (None, "polar", "Polar Sense 1A2B3C4D"),  # the strongest
        ("MetaWear", "metawear", "MetaWear"),
        ("1A2B3C4D", "polar", "Polar Sense 1A2B3C4D"),  # a Polar device id alone
        ("D4:7A:E2:00:00:01", "metawear", "MetaWear"),  # an address
    ],
)
def test_auto_picks_the_driver_of_the_sensor_it_finds(device: str | None, kind: str, name: str) -> None:
    world, board, polar = _world()
    backends = {**peripheral_backends(world), "idle_timeout_s": 0.5}
    if kind == "polar":
        backends.pop("idle_timeout_s")
    got, meta, lines, n = _open(SourceOptions(device=device, scan_timeout_s=2.0), backends)
    assert got == name and meta["kind"] == kind and n > 500
    assert any(f"found a {'Polar' if kind == 'polar' else 'MbientLab'}" in line for line in lines)
    if device is None:
        assert any("found 2 sensors" in line and "also seen: MetaWear" in line for line in lines)
    assert board.clean and polar.clean
    # the kind's own defaults: MetaWear 100 Hz, Polar 52 Hz (normal mode, no SDK mode)
    if kind == "metawear":
        assert board.rate_hz == 100
    assert meta["lost_samples"] == 0 and meta["clock_drift_ppm"] is not None


def test_a_named_sensor_that_is_not_there_says_what_to_do() -> None:
    world, _, _ = _world()
    with pytest.raises(SensorNotFoundError, match=r"no sensor 'Polar Sense 99999999'.*imurep scan"):
        _open(SourceOptions(device="Polar Sense 99999999", scan_timeout_s=0.3), peripheral_backends(world))


def test_forcing_a_kind_ignores_the_others_in_range() -> None:
    world, board, polar = _world()
    name, meta, _, _ = _open(
        SourceOptions(sensor="metawear", rate_hz=50, scan_timeout_s=2.0),
        {**peripheral_backends(world), "idle_timeout_s": 0.5},
    )
    assert meta["kind"] == "metawear" and board.rate_hz == 50 and polar.connections == 0


@pytest.mark.parametrize("kind", ["imurep", "metawear", "polar", "phyphox"])
def test_every_kind_can_be_simulated(kind: str, tmp_path: Path) -> None:
    rec = tmp_path / "r.csv"
    write_canonical(rec, _REC.t_s, _REC.acc_mps2, _REC.gyr_rads, {"placement": "hip"})
    _, meta, _, n = _open(SourceOptions(sensor=kind, simulate=rec, speed=50.0), {})  # type: ignore[arg-type]
    assert meta["kind"] == kind and meta["gaps"] == 0
    rate = {"imurep": 104, "metawear": 100, "polar": 52, "phyphox": 100}[kind]
    assert n == pytest.approx(rate * (_REC.t_s[-1] - _REC.t_s[0]), rel=0.1)


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"sensor": "polar", "phyphox": "http://p:8080"}, "cannot be combined"),
        ({"sensor": "phyphox"}, "needs --phyphox"),
        ({"phyphox": "http://p:8080", "device": "x"}, "--device"),
        ({"sensor": "polar", "metawear_mode": "packed"}, "--mode applies to MetaWear"),
        ({"sensor": "metawear", "sdk_mode": "on"}, "--sdk-mode applies to Polar"),
        ({"phyphox": "http://p:8080", "reset_board": True}, "--reset-board"),
        ({"sensor": "garmin"}, "unknown sensor"),
    ],
)
def test_option_combinations_that_make_no_sense_are_refused(kw: dict[str, Any], match: str) -> None:
    with pytest.raises(SettingsError, match=match):
        SourceOptions(**kw)
