"""``imurep live`` (coach and record a session from a sensor or a simulated one) and
``imurep scan`` (list the sensors in range)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from imurep.model.errors import SettingsError


def cmd_live(args: argparse.Namespace) -> int:
    """``imurep live``: rep-by-rep feedback while recording, until the stream ends, q or Ctrl-C."""
    import asyncio

    from imurep.coaching.exercises import get_profile
    from imurep.core.settings import resolve
    from imurep.live.run import LiveOptions, run_live
    from imurep.live.views import PlainView, RichView

    if args.speed is not None and args.simulate is None:
        raise SettingsError("--speed only applies with --simulate RECORDING.csv")
    if args.out is not None and not Path(args.out).resolve().parent.is_dir():
        raise SettingsError(f"--out {args.out}: the folder {Path(args.out).parent} does not exist")
    profile = get_profile(args.exercise)
    settings = resolve(
        profile=profile.settings_overrides(),
        placement=args.placement,
        sides=[args.side] if args.side else None,
    )
    options = LiveOptions(
        device=args.device,
        simulate=Path(args.simulate) if args.simulate else None,
        speed=args.speed or 1.0,
        out=Path(args.out) if args.out else None,
        beep=args.beep,
        events=Path(args.events) if args.events else None,
        exercise=profile.name,
        db=args.db,
        store=not args.no_store,
    )
    view = RichView() if sys.stdout.isatty() and not args.plain else PlainView()
    try:
        asyncio.run(run_live(options, settings, view))
    except KeyboardInterrupt:
        view.status("stopped (Ctrl-C); the recording is saved")
    finally:
        view.close()
    return 0


def cmd_scan(args: argparse.Namespace) -> int:
    """``imurep scan``: name, address, RSSI and battery of the sensors in range."""
    import asyncio

    from imurep.ble.client import format_scan, scan

    kwargs: dict[str, Any] = {}
    if args.simulate:
        from imurep.ble.simulated import sensor_from_recording, simulated_backends

        backends = simulated_backends(sensor_from_recording(args.simulate))
        kwargs = {k: backends[k] for k in ("scanner_backend", "backend_kwargs")}
    results = asyncio.run(scan(args.timeout, **kwargs))
    print(format_scan(results))
    return 0
