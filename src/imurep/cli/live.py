"""``imurep live`` (coach and record a session from a sensor or a simulated one) and
``imurep scan`` (list the sensors in range)."""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from imurep.model.errors import RecordingError, SettingsError

_KINDS_HELP = "imurep, metawear (MbientLab MetaMotion), polar (Verity Sense), phyphox (a phone)"


def add_source_args(lv: argparse.ArgumentParser, positive: Callable[[str], float]) -> None:
    """The sensor-choice options of ``imurep live``."""
    from imurep.model.codes import SENSOR_CHOICES

    lv.add_argument(
        "--device", metavar="NAME|ADDRESS", help="sensor to use: name, address or Polar device id (default: "
        "the strongest one found)",
    )  # fmt: skip
    lv.add_argument(
        "--sensor",
        choices=SENSOR_CHOICES,
        default="auto",
        help=f"kind of sensor (default auto: identified in a scan): {_KINDS_HELP}",
    )
    lv.add_argument(
        "--phyphox",
        metavar="URL",
        help="stream from a phone running phyphox with remote access on, at the address it shows "
        "(e.g. http://192.168.1.23:8080)",
    )
    lv.add_argument(
        "--simulate",
        metavar="RECORDING.csv",
        help="play this recording through the simulated sensor of --sensor (default imurep; no hardware)",
    )
    lv.add_argument("--speed", type=positive, metavar="X", help="playback speed with --simulate (default 1)")
    lv.add_argument(
        "--rate",
        type=positive,
        metavar="HZ",
        help="sample rate, Hz (default: imurep 104, MetaWear 100, Polar 52; a phone's rate is set in its "
        "phyphox experiment)",
    )
    lv.add_argument("--acc-range", type=positive, metavar="G", help="accelerometer range, g (default 8)")
    lv.add_argument(
        "--gyro-range", type=positive, metavar="DPS", help="gyroscope range, deg/s (default 1000; Polar 2000)"
    )
    lv.add_argument(
        "--mode",
        choices=("auto", "fused", "packed"),
        default="auto",
        help="MetaWear streaming: fused (exact gaps, up to 200 Hz), packed (400-800 Hz), auto (default)",
    )
    lv.add_argument(
        "--reset-board",
        action="store_true",
        help="MetaWear: remove every data route, event and logger on the board first (also other apps')",
    )
    lv.add_argument(
        "--sdk-mode",
        choices=("auto", "on", "off"),
        default="auto",
        help="Polar SDK mode (needed for rates other than 52 Hz): auto (default), on, off",
    )


def add_scan_args(sc: argparse.ArgumentParser, positive: Callable[[str], float]) -> None:
    """The options of ``imurep scan``."""
    sc.add_argument("--timeout", type=positive, default=5.0, metavar="S", help="scan time, s (default 5)")
    sc.add_argument(
        "--simulate",
        metavar="RECORDING.csv",
        help="scan simulated sensors of every kind playing RECORDING (no hardware)",
    )


def _live_defaults(args: argparse.Namespace) -> tuple[str, str | None]:
    """``(placement, exercise)`` of a live session: the options, else (with ``--simulate``) the
    played recording's sidecar; a placement is required (SettingsError)."""
    placement, exercise = args.placement, args.exercise
    if args.simulate is not None and (placement is None or exercise is None):
        from imurep.io.canonical import read_sidecar

        sidecar = read_sidecar(args.simulate)
        placement = placement or sidecar.get("placement")
        exercise = exercise or sidecar.get("exercise")
    if placement is None:
        raise SettingsError(
            "--placement is required: where the sensor sits, hip (on the pelvis) or thigh (on the working "
            "thigh), e.g. imurep live --placement hip"
        )
    return str(placement), exercise


def cmd_live(args: argparse.Namespace) -> int:
    """``imurep live``: rep-by-rep feedback while recording, until the stream ends, q or Ctrl-C."""
    import asyncio

    from imurep.cli.analyze import sides_of
    from imurep.coaching.exercises import get_profile
    from imurep.core.settings import resolve
    from imurep.live.run import LiveOptions, run_live
    from imurep.live.sources import SourceOptions
    from imurep.live.views import PlainView, RichView

    if args.speed is not None and args.simulate is None:
        raise SettingsError("--speed only applies with --simulate RECORDING.csv")
    if args.out is not None and not Path(args.out).resolve().parent.is_dir():
        raise SettingsError(f"--out {args.out}: the folder {Path(args.out).parent} does not exist")
    source = SourceOptions(
        sensor=args.sensor,
        device=args.device,
        phyphox=args.phyphox,
        simulate=Path(args.simulate) if args.simulate else None,
        speed=args.speed or 1.0,
        rate_hz=args.rate,
        acc_range_g=args.acc_range,
        gyr_range_dps=args.gyro_range,
        metawear_mode=args.mode,
        reset_board=args.reset_board,
        sdk_mode=args.sdk_mode,
    )
    placement, exercise = _live_defaults(args)
    profile = get_profile(exercise)
    settings = resolve(
        profile=profile.settings_overrides(),
        placement=placement,
        sides=sides_of(args),
    )
    options = LiveOptions(
        device=args.device,
        simulate=source.simulate,
        speed=source.speed,
        out=Path(args.out) if args.out else None,
        beep=args.beep,
        voice=args.voice,
        rate_hz=args.rate,
        events=Path(args.events) if args.events else None,
        exercise=profile.name,
        db=args.db,
        store=not args.no_store,
        source=source,
    )
    view = RichView() if sys.stdout.isatty() and not args.plain else PlainView()
    stopped_by: list[str] = []

    def _terminate(signum: int, frame: object) -> None:  # SIGTERM stops like Ctrl-C: all is stored
        stopped_by.append("SIGTERM")
        signal.raise_signal(signal.SIGINT)

    previous = signal.signal(signal.SIGTERM, _terminate)
    sessions: list[Any] = []
    try:
        asyncio.run(run_live(options, settings, view, sessions))
    except KeyboardInterrupt:
        view.status(f"stopped ({stopped_by[0] if stopped_by else 'Ctrl-C'}); the recording is saved")
    finally:
        signal.signal(signal.SIGTERM, previous)
        view.close()
    writer = sessions[0].writer if sessions else None
    error = writer.error if writer is not None else None
    if error is not None:
        raise RecordingError(error)
    return 0


def cmd_scan(args: argparse.Namespace) -> int:
    """``imurep scan``: kind, name, address and RSSI of the supported sensors in range."""
    import asyncio

    from imurep.ble.source import format_sources

    results = asyncio.run(_scan(args.timeout, args.simulate))
    print(format_sources(results))
    print("phones: run phyphox with remote access on, then imurep live --phyphox http://PHONE:8080")
    return 0


async def _scan(timeout_s: float, simulate: str | None) -> list[Any]:
    from imurep.ble.source import scan_sources

    if simulate is None:
        return await scan_sources(timeout_s)
    # one simulated sensor of each kind: the imurep twin in its world, the vendor twins in theirs
    from imurep.ble.metawear.simulated import SimMetaMotion
    from imurep.ble.polar.simulated import SimVeritySense
    from imurep.ble.simperipheral import PeripheralWorld, peripheral_backends
    from imurep.ble.simulated import sensor_from_recording, simulated_backends
    from imurep.io import load_recording

    imurep_kwargs = simulated_backends(sensor_from_recording(simulate))
    rec = load_recording(simulate)
    world = PeripheralWorld()
    world.add(SimMetaMotion(rec.t_s, rec.acc_mps2, rec.gyr_rads))
    world.add(SimVeritySense(rec.t_s, rec.acc_mps2, rec.gyr_rads))
    vendor_kwargs = peripheral_backends(world)
    found = []
    for kw in (imurep_kwargs, vendor_kwargs):
        found += await scan_sources(
            min(timeout_s, 1.0), scanner_backend=kw["scanner_backend"], backend_kwargs=kw["backend_kwargs"]
        )
    return sorted(found, key=lambda r: -(r.rssi if r.rssi is not None else -999))
