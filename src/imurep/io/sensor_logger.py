"""Sensor Logger exports (Kelvin Choi's app, Android and iOS; https://www.tszheichoi.com/sensorlogger).

An export is a folder (or its "Zipped CSV" archive) with one CSV per sensor, each with the header
``time,seconds_elapsed,z,y,x`` (columns read by name): ``time`` in ns since the Unix epoch,
``seconds_elapsed`` since the start.  ``Metadata.csv`` names the ``platform`` (``android`` /
``ios``), the device and the app version.  With the app's default settings ("Standardise Units &
Frames" off) the streams are, verified on the real exports in ``../shared/data/sensor_logger``:

===========================  ==================================  ===================================
file                         Android                             iOS (Core Motion, scaled to m/s²)
===========================  ==================================  ===================================
``Accelerometer.csv``        linear acceleration, m/s²           user acceleration, m/s², *sign of
                                                                 Core Motion* (opposite)
``Gravity.csv``              +9.81 "up" (screen up: +z)          −9.81 "down" (screen up: −z)
``TotalAcceleration.csv``    specific force, m/s² (= acc + grav)  (absent)
``Gyroscope.csv``            rad/s                               rad/s
===========================  ==================================  ===================================

Specific force (what imurep needs, +9.81 on the axis pointing up at rest):

* Android: ``TotalAcceleration`` when present, else ``Accelerometer + Gravity``.
* iOS: ``−(Accelerometer + Gravity)``; Core Motion's ``userAcceleration`` and ``gravity`` both use
  the convention where the raw accelerometer reads −1 g on the axis pointing up.
* Without ``Gravity.csv`` (and, on Android, ``TotalAcceleration.csv``) gravity cannot be recovered
  and the export is refused.  Without ``Metadata.csv`` the platform, hence the sign, is unknown
  unless ``TotalAcceleration.csv`` (Android only) is there: refused with a clear message.

Time is ``time`` (ns) relative to the earliest first sample of the streams used; the streams
have separate clocks on Android and are merged as described in :mod:`imurep.io.merge`.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Final

from imurep.io.canonical import Recording, read_sidecar
from imurep.io.merge import Stream, add_streams, build_recording, clean_times, make_stream
from imurep.io.tables import (
    ArchiveError,
    Source,
    find_source,
    list_sources,
    read_header,
    read_numeric,
    require_column,
)
from imurep.model.errors import DataValidationError

logger = logging.getLogger(__name__)

FORMAT: Final = "sensor_logger"

_WHAT: Final = "a Sensor Logger CSV with header time,seconds_elapsed,z,y,x"
_MARKER_FILES: Final = ("accelerometer.csv", "gyroscope.csv", "gravity.csv", "totalacceleration.csv")


def looks_like_sensor_logger(sources: list[Source]) -> bool:
    """Whether the files look like a Sensor Logger export (its sensor file names, header)."""
    for name in _MARKER_FILES:
        src = find_source(sources, name)
        if src is None:
            continue
        try:
            header = read_header(src, _WHAT)
        except ArchiveError:
            raise
        except DataValidationError:
            continue
        if header.find("seconds_elapsed") is not None:
            return True
    return False


def _platform(sources: list[Source]) -> tuple[str | None, dict[str, object]]:
    import pandas as pd  # imported only when a Sensor Logger export is read

    src = find_source(sources, "Metadata.csv")
    if src is None:
        return None, {}
    try:
        header = read_header(src, "Sensor Logger Metadata.csv")
        with src.open() as fh:
            table = pd.read_csv(fh, sep=header.sep, dtype=str, keep_default_na=False)
    except (DataValidationError, ValueError, pd.errors.ParserError, UnicodeDecodeError):
        logger.warning("%s: unreadable; platform unknown", src.where)
        return None, {}
    if table.empty:
        return None, {}
    row = {str(k).strip().lower(): str(v).strip() for k, v in table.iloc[0].items()}
    meta: dict[str, object] = {}
    for key, out in (
        ("device name", "device"),
        ("appversion", "app_version"),
        ("recording time", "recorded_at"),
    ):
        if row.get(key):
            meta[out] = row[key]
    platform = row.get("platform", "").lower() or None
    if platform is not None:
        meta["platform"] = platform
    return platform, meta


def _stream(src: Source, name: str) -> tuple[Stream, float]:
    """The file's stream with ``t_s`` = ``time`` in s since the epoch, and its first ``time`` (ns)."""
    header = read_header(src, _WHAT)
    t_col = require_column(header, src, r"time", "'time' (ns)", _WHAT)
    cols = [require_column(header, src, ax, f"'{ax}'", _WHAT) for ax in "xyz"]
    data = read_numeric(src, header, [t_col, *cols], _WHAT)
    if data.shape[0] == 0:
        raise DataValidationError(f"holds a header but no data rows; expected {_WHAT}", path=src.where)
    t0 = float(data[0, 0])
    return make_stream(name, src.where, data[:, 0], data[:, 1:4]), t0


def _rebase(stream: Stream, t0_ns: float) -> Stream:
    return Stream(stream.name, stream.where, (stream.t_s - t0_ns) / 1e9, stream.values, stream.rows)


def load_sensor_logger(path: str | Path) -> Recording:
    """Load a Sensor Logger export (see the module docstring).

    Parameters
    ----------
    path
        The export folder, its zip archive, or one of its CSV files (its folder is read).

    Returns
    -------
    Recording
        ``t_s`` (s), ``acc_mps2`` (specific force, m/s², gravity included, "up" positive),
        ``gyr_rads`` (rad/s), phone frame; ``metadata["format"] == "sensor_logger"``.

    Raises
    ------
    DataValidationError
        Missing gyroscope or gravity, unknown platform, bad CSV or too little data.
    """
    p = Path(path)
    where = str(p)
    folder = p.parent if p.is_file() and p.suffix.lower() != ".zip" else p
    sources = list_sources(folder)
    platform, meta = _platform(sources)
    gyr_src = find_source(sources, "Gyroscope.csv")
    acc_src = find_source(sources, "Accelerometer.csv")
    grav_src = find_source(sources, "Gravity.csv")
    total_src = find_source(sources, "TotalAcceleration.csv")
    if gyr_src is None:
        raise DataValidationError(
            "holds no Gyroscope.csv; enable the gyroscope in Sensor Logger and export again "
            "(imurep needs the accelerometer and the gyroscope)",
            path=where,
        )
    if platform is None and total_src is not None:
        platform = "android"
    if platform not in ("android", "ios"):
        raise DataValidationError(
            "cannot tell whether this Sensor Logger export comes from Android or iOS (Metadata.csv "
            f"missing or its platform is {platform!r}); the sign of gravity differs between them — "
            "keep Metadata.csv in the export",
            path=where,
        )
    gyr, t_gyr = _stream(gyr_src, "gyroscope")
    firsts = [t_gyr]
    used = [gyr_src.where]
    if platform == "android" and total_src is not None:
        acc, t_acc = _stream(total_src, "accelerometer")
        firsts.append(t_acc)
        used.append(total_src.where)
        rule = "TotalAcceleration"
    elif acc_src is not None and grav_src is not None:
        lin, t_lin = _stream(acc_src, "linear acceleration")
        grav, t_grav = _stream(grav_src, "gravity")
        firsts += [t_lin, t_grav]
        used += [acc_src.where, grav_src.where]
        t0 = min(t_lin, t_grav)
        sign = 1.0 if platform == "android" else -1.0
        acc = add_streams(
            clean_times(_rebase(lin, t0)), clean_times(_rebase(grav, t0)), "accelerometer", sign
        )
        acc = Stream(acc.name, acc.where, acc.t_s * 1e9 + t0, acc.values, acc.rows)
        rule = "Accelerometer + Gravity" if sign > 0 else "-(Accelerometer + Gravity)"
    else:
        missing = "Gravity.csv" if acc_src is not None else "Accelerometer.csv and Gravity.csv"
        extra = " (or TotalAcceleration.csv)" if platform == "android" else ""
        raise DataValidationError(
            f"holds no {missing}{extra}: Sensor Logger's Accelerometer.csv is gravity-free, so the "
            "sensor's tilt cannot be recovered without the gravity stream — enable Gravity in "
            "Sensor Logger and export again",
            path=where,
        )
    t0 = min(firsts)
    meta.update(
        {
            "source_files": used,
            "start_epoch_s": t0 / 1e9,
            "specific_force": rule,
        }
    )
    sidecar = read_sidecar(p)
    return build_recording(p, FORMAT, _rebase(acc, t0), _rebase(gyr, t0), {**meta, **sidecar})
