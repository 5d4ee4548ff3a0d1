"""Physics Toolbox Sensor Suite (Vieyra Software) "Multi Record" CSV exports.

Layout (verified on ``../shared/data/physics_toolbox``): possibly blank first line(s), then the
header, e.g. ``time,gFx,gFy,gFz,ax,ay,az,wx,wy,wz,`` (a trailing comma gives an empty last
column), comma separated, decimal point.  ``time`` is seconds since the start; ``gFx..gFz`` the
g-force meter (specific force in g, gravity included, "up" positive as on Android: +1 on the axis
pointing up at rest); ``ax..az`` the linear accelerometer (m/s², gravity removed); ``wx..wz`` the
gyroscope (rad/s).  Other sensors (``Bx``, ``p``, …) may add columns, ignored here.

One row is written per sensor *event*; the other sensors' columns repeat their last value
(zero-order hold) and read 0 before that sensor's first event.  Each sensor's own samples are
therefore recovered as the rows where its three values change (leading all-zero rows dropped);
a sensor that reports exactly the same three values twice loses the repeat, which the linear
interpolation of :mod:`imurep.io.merge` then bridges.

Specific force = ``gF × 9.80665``.  The sign was checked on the real file: ``gF·g − a`` (Android:
gravity = accelerometer − linear acceleration) has a steady norm of 9.8 m/s², whereas
``−gF·g − a`` does not.  Without the gF columns (linear acceleration only) gravity cannot be
recovered and the file is refused.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Final

import numpy as np

from imurep.io.canonical import Recording, read_sidecar
from imurep.io.merge import Stream, build_recording
from imurep.io.tables import Header, Source, read_header, read_numeric, require_column
from imurep.io.units import G
from imurep.model.errors import DataValidationError
from imurep.model.samples import FloatArray

logger = logging.getLogger(__name__)

FORMAT: Final = "physics_toolbox"

_WHAT: Final = "a Physics Toolbox Multi Record CSV with header time,gFx,gFy,gFz,…,wx,wy,wz"


def looks_like_physics_toolbox(header: Header) -> bool:
    """Whether ``header`` is a Physics Toolbox multi-record header (``time`` plus ``gFx`` or ``wx``)."""
    names = {n.strip().lower() for n in header.names}
    return "time" in names and ("gfx" in names or {"wx", "wy", "wz"} <= names)


def _events(t: FloatArray, v: FloatArray, rows: np.ndarray, name: str, where: str) -> Stream:
    """The rows where ``v`` (shape ``(n, 3)``) changes, leading all-zero rows dropped."""
    nonzero = np.flatnonzero((v != 0).any(axis=1))
    if nonzero.size == 0:
        raise DataValidationError(
            f"the {name} columns hold only zeros; that sensor never reported", path=where
        )
    first = int(nonzero[0])
    t, v, rows = t[first:], v[first:], rows[first:]
    change = np.r_[True, (v[1:] != v[:-1]).any(axis=1)]
    return Stream(name, where, t[change], v[change], rows[change])


def load_physics_toolbox(path: str | Path) -> Recording:
    """Load a Physics Toolbox Sensor Suite multi-record CSV (see the module docstring).

    Returns
    -------
    Recording
        ``t_s`` (s), ``acc_mps2`` (specific force, m/s²), ``gyr_rads`` (rad/s), phone frame;
        ``metadata["format"] == "physics_toolbox"``.

    Raises
    ------
    DataValidationError
        No g-force or gyroscope columns, bad CSV, or too little data.
    """
    p = Path(path)
    src = Source(p)
    header = read_header(src, _WHAT)
    t_col = require_column(header, src, r"time", "'time'", _WHAT)
    gf = [header.find(rf"gf{ax}") for ax in "xyz"]
    w = [header.find(rf"w{ax}") for ax in "xyz"]
    if any(c is None for c in gf):
        lin = all(header.find(rf"a{ax}") is not None for ax in "xyz")
        raise DataValidationError(
            "has no g-force columns gFx,gFy,gFz"
            + (" (only the linear accelerometer ax,ay,az, which has gravity removed)" if lin else "")
            + ": the sensor's tilt cannot be recovered — record with the g-Force Meter enabled in "
            "Multi Record",
            path=str(p),
        )
    if any(c is None for c in w):
        raise DataValidationError(
            "has no gyroscope columns wx,wy,wz; enable the gyroscope in Multi Record and record again",
            path=str(p),
        )
    cols = [t_col, *(c for c in gf if c is not None), *(c for c in w if c is not None)]
    data = read_numeric(src, header, cols, _WHAT)
    if data.shape[0] == 0:
        raise DataValidationError(f"holds a header but no data rows; expected {_WHAT}", path=str(p))
    rows = np.arange(1, data.shape[0] + 1, dtype=np.int64)
    t = data[:, 0]
    acc = _events(t, data[:, 1:4] * G, rows, "accelerometer", str(p))
    gyr = _events(t, data[:, 4:7], rows, "gyroscope", str(p))
    meta: dict[str, object] = {
        "source_files": [str(p)],
        "events": {"accelerometer": len(acc), "gyroscope": len(gyr), "rows": int(data.shape[0])},
    }
    sidecar = read_sidecar(p)
    return build_recording(p, FORMAT, acc, gyr, {**meta, **sidecar}, acc_label="g-force meter")
