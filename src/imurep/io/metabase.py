"""MbientLab MetaBase exports (MetaMotion / MetaWear sensors).

MetaBase writes one CSV per sensor, named
``<session>_<device>_<yyyy-MM-ddTHH.mm.ss.SSS>_<MAC>_<Sensor>_<rate>Hz_<firmware>.csv``, e.g.
``A-squat-heavy_MetaWear_2019-01-15T20.04.08.637_C42732BE255C_Accelerometer_12.500Hz_1.4.4.csv``,
with the header ``epoch (ms),time (<tz>),elapsed (s),x-axis (g),y-axis (g),z-axis (g)`` (gyroscope:
``x-axis (deg/s)`` …).  The accelerometer is the specific force in g ("up" positive, +1 g on an
axis pointing up at rest); the gyroscope is in °/s, on the same axes.

Rules applied here:

* Pass either file of a pair, or a folder / zip holding exactly one pair.  The partner is the
  file with the same name up to ``_<Sensor>_`` and the same firmware suffix (MetaBase sometimes
  leaves copies suffixed ``1.4.41`` — a separate pair).
* Time is ``epoch (ms)``, relative to the earlier of the two files' first samples.  When samples
  were streamed in packed BLE notifications, several consecutive rows share one epoch value; they
  are spread evenly up to the next distinct stamp (see :func:`imurep.io.merge.spread_packets`).
* Units come from the column names (``g`` → × 9.80665, ``deg/s`` → × π/180; ``m/s^2`` and
  ``rad/s`` kept), then the data-based unit check applies.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np

from imurep.io.canonical import Recording, read_sidecar
from imurep.io.merge import Stream, build_recording, make_stream, spread_packets
from imurep.io.tables import Source, list_sources, read_header, read_numeric, require_column
from imurep.io.units import DEG, G
from imurep.model.errors import DataValidationError

logger = logging.getLogger(__name__)

FORMAT: Final = "metabase"

NAME_RE: Final = re.compile(
    r"^(?P<prefix>.+)_(?P<sensor>Accelerometer|Gyroscope)_(?P<rate>\d+(?:\.\d+)?)Hz_(?P<fw>[^_/]*)\.csv$",
    re.IGNORECASE,
)
_WHAT: Final = "a MetaBase CSV with header 'epoch (ms),time,elapsed (s),x-axis (g),y-axis (g),z-axis (g)'"


@dataclass(frozen=True)
class MetaBaseFile:
    """One sensor file of a MetaBase export, as described by its name."""

    source: Source
    prefix: str
    sensor: str
    """``"accelerometer"`` or ``"gyroscope"``."""
    rate_hz: float
    firmware: str

    @property
    def key(self) -> tuple[str, str]:
        """Files of one recording share this key."""
        return self.prefix, self.firmware


def parse_name(src: Source) -> MetaBaseFile | None:
    """Describe ``src`` from its file name, or ``None`` when it is not a MetaBase sensor file."""
    m = NAME_RE.match(src.name)
    if m is None:
        return None
    return MetaBaseFile(src, m["prefix"], m["sensor"].lower(), float(m["rate"]), m["fw"])


def is_metabase_name(name: str) -> bool:
    """Whether ``name`` looks like a MetaBase sensor file name."""
    return NAME_RE.match(name) is not None


def find_pair(path: Path) -> tuple[MetaBaseFile, MetaBaseFile]:
    """The accelerometer and gyroscope files of the recording ``path`` (a file, folder or zip)."""
    where = str(path)
    if path.is_file() and path.suffix.lower() != ".zip":
        this = parse_name(Source(path))
        if this is None:
            raise DataValidationError(
                "is not named like a MetaBase export (..._Accelerometer_<rate>Hz_<firmware>.csv or "
                "..._Gyroscope_...); keep the names MetaBase gave the files",
                path=where,
            )
        candidates = [f for s in list_sources(path.parent) if (f := parse_name(s)) is not None]
        group = [f for f in candidates if f.key == this.key]
    else:
        files = [f for s in list_sources(path) if (f := parse_name(s)) is not None]
        if not files:
            raise DataValidationError(
                "holds no MetaBase files (..._Accelerometer_<rate>Hz_<firmware>.csv and "
                "..._Gyroscope_<rate>Hz_<firmware>.csv)",
                path=where,
            )
        keys = sorted({f.key for f in files})
        if len(keys) > 1:
            names = ", ".join(k[0] for k in keys[:3])
            raise DataValidationError(
                f"holds {len(keys)} MetaBase recordings ({names}{', …' if len(keys) > 3 else ''}); "
                "pass one of the files (its partner is found by name) or a folder with one recording",
                path=where,
            )
        this = files[0]
        group = files
    acc = [f for f in group if f.sensor == "accelerometer"]
    gyr = [f for f in group if f.sensor == "gyroscope"]
    if not gyr:
        raise DataValidationError(
            f"no gyroscope file found for this recording: expected {this.prefix}_Gyroscope_<rate>Hz_"
            f"{this.firmware}.csv beside it — export the gyroscope too (imurep needs both sensors)",
            path=where,
        )
    if not acc:
        raise DataValidationError(
            f"no accelerometer file found for this recording: expected {this.prefix}_Accelerometer_"
            f"<rate>Hz_{this.firmware}.csv beside it",
            path=where,
        )
    if len(acc) > 1 or len(gyr) > 1:
        raise DataValidationError(
            f"several accelerometer or gyroscope files for {this.prefix}; keep one of each", path=where
        )
    return acc[0], gyr[0]


_UNIT_SCALES: Final = {"g": G, "m/s^2": 1.0, "m/s²": 1.0, "deg/s": DEG, "rad/s": 1.0}


def _read(f: MetaBaseFile) -> tuple[Stream, str]:
    """The file's stream (epoch ms, values in SI when the header names the unit) and its unit."""
    src = f.source
    header = read_header(src, _WHAT)
    t_col = require_column(header, src, r"epoch\s*\(ms\)", "'epoch (ms)'", _WHAT)
    cols = [
        require_column(header, src, rf"{ax}-axis\s*\(.*\)|{ax}-axis|{ax}", f"'{ax}-axis (…)'", _WHAT)
        for ax in "xyz"
    ]
    unit_m = re.search(r"\((.*)\)", header.names[cols[0]])
    unit = unit_m.group(1).strip().lower() if unit_m else ""
    data = read_numeric(src, header, [t_col, *cols], _WHAT)
    if data.shape[0] == 0:
        raise DataValidationError(f"holds a header but no data rows; expected {_WHAT}", path=src.where)
    scale = _UNIT_SCALES.get(unit, 1.0)
    stream = make_stream(f.sensor, src.where, data[:, 0], data[:, 1:4] * scale)
    return stream, unit


def load_metabase(path: str | Path) -> Recording:
    """Load a MetaBase accelerometer + gyroscope pair (see the module docstring).

    Parameters
    ----------
    path
        Either CSV of the pair, or a folder or zip archive holding one pair.

    Returns
    -------
    Recording
        ``t_s`` (s from the first sample), ``acc_mps2`` (specific force, m/s²) and ``gyr_rads``
        (rad/s) on the faster sensor's timeline, sensor frame; ``metadata["format"] == "metabase"``.

    Raises
    ------
    DataValidationError
        Missing partner file, bad CSV, implausible units or too little data.
    """
    p = Path(path)
    acc_f, gyr_f = find_pair(p)
    acc, acc_unit = _read(acc_f)
    gyr, gyr_unit = _read(gyr_f)
    epoch0 = min(float(acc.t_s[0]), float(gyr.t_s[0]))
    streams = []
    for s, f in ((acc, acc_f), (gyr, gyr_f)):
        rel = Stream(s.name, s.where, (s.t_s - epoch0) / 1000.0, s.values, s.rows)
        if np.any(np.diff(rel.t_s) < 0):
            streams.append(rel)  # left to clean_times, which repairs jitter or refuses
        else:
            streams.append(spread_packets(rel, 1.0 / f.rate_hz if f.rate_hz > 0 else None))
    meta: dict[str, object] = {
        "source_files": [acc_f.source.where, gyr_f.source.where],
        "start_epoch_s": epoch0 / 1000.0,
        "nominal_rates_hz": {"accelerometer": acc_f.rate_hz, "gyroscope": gyr_f.rate_hz},
        "file_units": {"accelerometer": acc_unit or "?", "gyroscope": gyr_unit or "?"},
        "firmware": acc_f.firmware,
    }
    parts = acc_f.prefix.split("_")
    if len(parts) >= 4:
        meta["device"], meta["mac"] = parts[-3], parts[-1]
    sidecar = read_sidecar(p)
    return build_recording(p, FORMAT, streams[0], streams[1], {**meta, **sidecar})
