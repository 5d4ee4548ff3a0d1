"""phyphox CSV exports (https://phyphox.org), Android and iOS.

An export is a folder or zip holding one CSV per sensor (``Accelerometer.csv``,
``Gyroscope.csv``, … for a "simple experiment"; ``Raw Data.csv`` for a standard experiment) and a
``meta/`` folder (``device.csv``, ``time.csv``).  Separator comma, tab or semicolon, decimal point
or comma (chosen when exporting).  Columns, by platform and experiment:

=============================  ==========================================  =======================
stream                         column names (time always ``Time (s)``)     unit
=============================  ==========================================  =======================
acceleration with g            ``Acceleration x (m/s^2)`` (Android) or     m/s², specific force,
                               ``X (m/s^2)`` in ``Accelerometer.csv``      +9.81 up at rest
linear acceleration (no g)     ``Linear Acceleration x (m/s^2)``           m/s²
gyroscope                      ``Gyroscope x (rad/s)`` or ``X (rad/s)``    rad/s
=============================  ==========================================  =======================

phyphox converts iOS data to the Android convention, so no sign change is needed on either
platform (checked on the real exports: +9.9 m/s² on z for an iPhone lying screen up).

"Acceleration (without g)" holds linear acceleration only, from which gravity (the tilt) cannot
be recovered: such an export is refused with a message saying what to record instead.

Pauses: ``meta/time.csv`` lists ``START``/``PAUSE`` events with experiment and system time.  The
data's ``Time (s)`` is experiment time, which does not advance while paused; with several
``START`` events the samples of each run are shifted to system time (relative to the first start),
so a pause becomes a gap in the recording instead of a silent jump.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np

from imurep.io.canonical import Recording, read_sidecar
from imurep.io.merge import Stream, build_recording, make_stream
from imurep.io.tables import (
    ArchiveError,
    Header,
    Source,
    find_source,
    list_sources,
    read_header,
    read_numeric,
)
from imurep.model.errors import DataValidationError
from imurep.model.samples import FloatArray

logger = logging.getLogger(__name__)

FORMAT: Final = "phyphox"

_WHAT: Final = "a phyphox CSV export with a 'Time (s)' column"
_TIME_RE: Final = r"time\s*\(s\)|t\s*\(s\)"
_AX: Final = r"{prefix}{ax}\s*\((?:{unit})\)"
_ACC_UNIT: Final = r"m/s\^?2|m/s²"
_GYR_UNIT: Final = r"rad/s"


@dataclass(frozen=True)
class PhyphoxTable:
    """The sensor columns found in one phyphox CSV."""

    source: Source
    header: Header
    time: int
    acc: tuple[int, int, int] | None
    """Acceleration *with* g."""
    linear: tuple[int, int, int] | None
    gyr: tuple[int, int, int] | None


def _triple(header: Header, prefix: str, unit: str) -> tuple[int, int, int] | None:
    pre = rf"{prefix}\s*" if prefix else ""
    cols = [header.find(_AX.format(prefix=pre, ax=ax, unit=unit)) for ax in "xyz"]
    if any(c is None for c in cols):
        return None
    return cols[0], cols[1], cols[2]  # type: ignore[return-value]


def classify(src: Source) -> PhyphoxTable | None:
    """The phyphox sensor columns of ``src``, or ``None`` when it has no ``Time (s)`` column."""
    header = read_header(src, _WHAT)
    t = header.find(_TIME_RE)
    if t is None:
        return None
    name = src.name.lower()
    linear = _triple(header, "linear acceleration", _ACC_UNIT)
    acc = _triple(header, "acceleration", _ACC_UNIT)
    if acc is not None and linear is not None and acc == linear:
        acc = None
    gyr = _triple(header, "gyroscope", _GYR_UNIT)
    # iOS simple experiments: bare "X (m/s^2)" columns; the file name tells the sensor.
    bare_acc = _triple(header, "", _ACC_UNIT)
    if bare_acc is not None and acc is None and linear is None:
        if "linear" in name or "without" in name:
            linear = bare_acc
        else:
            acc = bare_acc
    if gyr is None and "linear" not in name:
        gyr = _triple(header, "", _GYR_UNIT)
    return PhyphoxTable(src, header, t, acc, linear, gyr)


def looks_like_phyphox(src: Source) -> bool:
    """Whether ``src`` has phyphox's ``Time (s)`` header (cheap check, for auto-detection)."""
    try:
        header = read_header(src, _WHAT)
    except ArchiveError:
        raise
    except DataValidationError:
        return False
    return header.find(_TIME_RE) is not None


def _in_meta(src: Source) -> bool:
    """Whether ``src`` lies in an export's ``meta/`` folder."""
    if src.member is not None:
        return "meta" in src.member.split("/")[:-1]
    return src.path.parent.name == "meta"


def _pause_map(sources: list[Source]) -> list[tuple[float, float]]:
    """``(experiment_time_start, shift_s)`` per run from ``meta/time.csv`` (empty when not needed)."""
    time_src = find_source([s for s in sources if _in_meta(s)], "time.csv")
    if time_src is None:
        return []
    try:
        header = read_header(time_src, "phyphox meta/time.csv")
        ev = header.find(r"event")
        exp = header.find(r"experiment time")
        sys_ = header.find(r"system time")
        if ev is None or exp is None or sys_ is None:
            return []
        import pandas as pd

        with time_src.open() as fh:
            table = pd.read_csv(fh, sep=header.sep, dtype=str, keep_default_na=False)
        events = table.iloc[:, ev].str.strip().str.upper().tolist()
        exp_t = pd.to_numeric(table.iloc[:, exp].str.replace(header.decimal, "."), errors="coerce").tolist()
        sys_t = pd.to_numeric(table.iloc[:, sys_].str.replace(header.decimal, "."), errors="coerce").tolist()
    except (DataValidationError, ValueError, KeyError, IndexError):
        logger.warning("%s: could not read the START/PAUSE events; pauses are not restored", time_src.where)
        return []
    starts = [(e, s) for name, e, s in zip(events, exp_t, sys_t, strict=True) if name == "START"]
    if len(starts) < 2 or any(not np.isfinite([e, s]).all() for e, s in starts):
        return []
    sys0 = starts[0][1]
    return [(e, (s - sys0) - e) for e, s in starts]


def _apply_pauses(t: FloatArray, runs: list[tuple[float, float]]) -> FloatArray:
    if not runs:
        return t
    out = t.copy()
    for e0, shift in runs:
        out[t >= e0] = t[t >= e0] + shift
    return out


def _stream(
    table: PhyphoxTable, cols: tuple[int, int, int], name: str, runs: list[tuple[float, float]]
) -> Stream:
    data = read_numeric(table.source, table.header, [table.time, *cols], _WHAT)
    if data.shape[0] == 0:
        raise DataValidationError(
            f"holds a header but no data rows; expected {_WHAT}", path=table.source.where
        )
    return make_stream(name, table.source.where, _apply_pauses(data[:, 0], runs), data[:, 1:4])


def load_phyphox(path: str | Path) -> Recording:
    """Load a phyphox export (see the module docstring).

    Parameters
    ----------
    path
        A phyphox CSV, or the folder or zip archive of an export.

    Returns
    -------
    Recording
        ``t_s`` (s, experiment time), ``acc_mps2`` (specific force, m/s²), ``gyr_rads`` (rad/s),
        sensor frame; ``metadata["format"] == "phyphox"``.

    Raises
    ------
    DataValidationError
        No accelerometer with g (e.g. an "Acceleration (without g)" export), no gyroscope, bad CSV,
        or too little data.
    """
    p = Path(path)
    where = str(p)
    sources = list_sources(p)
    if p.is_file() and p.suffix.lower() != ".zip":
        # A single CSV: also look at the other CSVs of its folder (one file per sensor).
        sources = [Source(p)] + [s for s in list_sources(p.parent) if s.path != p]
    data_sources = [s for s in sources if s.name.lower().endswith((".csv", ".txt")) and not _in_meta(s)]
    tables = [t for s in data_sources if (t := _classify_quiet(s, primary=s == Source(p))) is not None]
    runs = _pause_map(sources)
    acc_t = next((t for t in tables if t.acc is not None), None)
    gyr_t = next((t for t in tables if t.gyr is not None), None)
    lin_t = next((t for t in tables if t.linear is not None), None)
    if acc_t is None:
        if lin_t is not None:
            raise DataValidationError(
                f"{lin_t.source.name} holds phyphox 'Linear Acceleration' (acceleration without g) only: "
                "without gravity the sensor's tilt cannot be recovered — record with phyphox's "
                "'Acceleration with g' and 'Gyroscope' experiments, or a simple experiment with "
                "Accelerometer + Gyroscope",
                path=where,
            )
        raise DataValidationError(
            "holds no phyphox accelerometer data (columns 'Time (s)', 'Acceleration x (m/s^2)' … or "
            "'X (m/s^2)' in Accelerometer.csv); export the experiment as CSV",
            path=where,
        )
    if gyr_t is None:
        raise DataValidationError(
            f"holds phyphox accelerometer data ({acc_t.source.name}) but no gyroscope "
            "('Gyroscope x (rad/s)' or Gyroscope.csv with 'X (rad/s)'); imurep needs both — record "
            "a simple experiment with Accelerometer + Gyroscope",
            path=where,
        )
    assert acc_t.acc is not None and gyr_t.gyr is not None
    acc = _stream(acc_t, acc_t.acc, "accelerometer", runs)
    gyr = _stream(gyr_t, gyr_t.gyr, "gyroscope", runs)
    meta: dict[str, object] = {"source_files": sorted({acc_t.source.where, gyr_t.source.where})}
    if runs:
        meta["pauses_restored"] = len(runs) - 1
    meta.update(_device(sources))
    sidecar = read_sidecar(p)
    return build_recording(p, FORMAT, acc, gyr, {**meta, **sidecar})


def _classify_quiet(src: Source, primary: bool) -> PhyphoxTable | None:
    """:func:`classify`, but errors in secondary files (other CSVs in the folder) are skipped."""
    if primary:
        return classify(src)
    try:
        return classify(src)
    except ArchiveError:
        raise
    except DataValidationError as exc:
        logger.debug("skipping %s: %s", src.where, exc)
        return None


def _device(sources: list[Source]) -> dict[str, object]:
    dev = find_source([s for s in sources if _in_meta(s)], "device.csv")
    if dev is None:
        return {}
    try:
        header = read_header(dev, "phyphox meta/device.csv")
        import pandas as pd

        with dev.open() as fh:
            table = pd.read_csv(fh, sep=header.sep, dtype=str, keep_default_na=False)
        props = dict(zip(table.iloc[:, 0].str.strip(), table.iloc[:, 1].str.strip(), strict=True))
    except (DataValidationError, ValueError, KeyError, IndexError):
        return {}
    out: dict[str, object] = {}
    if "version" in props:
        out["app_version"] = props["version"]
    model = props.get("deviceModel") or props.get("deviceBrand") or props.get("model")
    if model:
        out["device"] = model
    return out
