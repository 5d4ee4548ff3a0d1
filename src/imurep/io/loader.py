"""One entry point for every recording format: :func:`load_recording` and :func:`open_recording`.

``open_recording`` streams the canonical CSV chunk by chunk (memory bounded whatever the file
size); the vendor formats are parsed whole (their files hold separate sensors that must be merged
first) and then handed out in chunks.  Either way the recording's ``metadata`` holds
``{"format": <name>, ...}`` plus the sidecar's keys, and units that are evidently wrong (g, °/s)
are converted with a warning (:mod:`imurep.io.units`).
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np

from imurep.io.canonical import DEFAULT_CHUNK_ROWS, PathLike, Recording, iter_canonical_chunks, read_sidecar
from imurep.io.detect import FORMATS, check_input_path, detect_format
from imurep.io.metabase import load_metabase
from imurep.io.phyphox import load_phyphox
from imurep.io.physics_toolbox import load_physics_toolbox
from imurep.io.sensor_logger import load_sensor_logger
from imurep.io.units import check_units, time_unit
from imurep.model.errors import DataValidationError
from imurep.model.samples import ImuChunk

logger = logging.getLogger(__name__)

UNIT_LOOKAHEAD_S: Final = 30.0
"""Seconds of a streamed canonical recording inspected before deciding on unit conversions."""

_LOADERS: Final[dict[str, Callable[[Path], Recording]]] = {
    "metabase": load_metabase,
    "phyphox": load_phyphox,
    "sensor_logger": load_sensor_logger,
    "physics_toolbox": load_physics_toolbox,
}


def nominal_rate_hz(metadata: dict[str, Any]) -> float | None:
    """The nominal sample rate a recording states, Hz, or None.

    From the sidecar's ``sample_rate_hz`` (written by ``imurep live`` from the device and by the
    simulator), else from an importer's ``nominal_rates_hz`` (e.g. MetaBase file names; sensors
    are merged onto the faster one's timeline, so the largest).  A stated value that is not a
    positive number is ignored with a warning.
    """
    value: Any = metadata.get("sample_rate_hz")
    if value is None and isinstance(metadata.get("nominal_rates_hz"), dict):
        rates = [v for v in metadata["nominal_rates_hz"].values() if isinstance(v, int | float)]
        value = max(rates) if rates else None
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 10.0 <= float(value) <= 2000.0:
        logger.warning("the recording's nominal sample rate %r is not 10..2000 Hz; estimating it", value)
        return None
    return float(value)


@dataclass(frozen=True, eq=False)
class RecordingStream:
    """A recording being read: its format, metadata and an iterator of chunks.

    Attributes
    ----------
    path
        What was opened (file, folder or zip).
    format
        One of :data:`imurep.io.detect.FORMATS`.
    metadata
        ``{"format": …}``, what the importer learnt (device, source files, merge, conversions)
        and the sidecar's keys.
    chunks
        :class:`imurep.types.ImuChunk` objects in time order (s, m/s², rad/s, sensor frame);
        iterate once.  Errors further into a streamed file are raised while iterating.
    """

    path: Path
    format: str
    metadata: dict[str, Any]
    chunks: Iterator[ImuChunk]


def _resolve_format(path: Path, fmt: str | None) -> str:
    check_input_path(path)
    if fmt is None or fmt == "auto":
        return detect_format(path)
    if fmt not in FORMATS:
        raise DataValidationError(
            f"unknown format {fmt!r}; use one of auto, {', '.join(FORMATS)}", path=str(path)
        )
    return fmt


def _scaled(
    chunks: Iterator[ImuChunk], acc_scale: float, gyr_scale: float, t_scale: float = 1.0
) -> Iterator[ImuChunk]:
    for c in chunks:
        if acc_scale == 1.0 and gyr_scale == 1.0 and t_scale == 1.0:
            yield c
        else:
            t = c.t_s * t_scale if t_scale != 1.0 else c.t_s
            yield ImuChunk(t, c.acc_mps2 * acc_scale, c.gyr_rads * gyr_scale)


def _open_canonical(path: Path, chunk_rows: int) -> RecordingStream:
    chunks = iter_canonical_chunks(path, chunk_rows)
    head: list[ImuChunk] = []
    for c in chunks:
        head.append(c)
        if float(c.t_s[-1] - head[0].t_s[0]) >= UNIT_LOOKAHEAD_S:
            break
    meta: dict[str, Any] = dict(read_sidecar(path))
    meta["format"] = "canonical"
    if head:
        t = np.concatenate([c.t_s for c in head])
        acc = np.concatenate([c.acc_mps2 for c in head])
        gyr = np.concatenate([c.gyr_rads for c in head])
        t_scale, t_note = time_unit(t, str(path))
        units = check_units(t * t_scale, acc, gyr, str(path))
        notes = ([t_note] if t_note else []) + units.notes()
        if notes:
            meta["conversions"] = notes
        stream = _scaled(itertools.chain(head, chunks), units.acc_scale, units.gyr_scale, t_scale)
    else:
        stream = iter(())
    return RecordingStream(path, "canonical", meta, stream)


def open_recording(
    path: PathLike, fmt: str | None = None, chunk_rows: int = DEFAULT_CHUNK_ROWS
) -> RecordingStream:
    """Open a recording of any supported format for streaming.

    Parameters
    ----------
    path
        A CSV file, or the folder / zip archive of a vendor export.
    fmt
        ``None`` or ``"auto"`` to detect (:func:`imurep.io.detect.detect_format`), else one of
        ``canonical, metabase, phyphox, sensor_logger, physics_toolbox``.
    chunk_rows
        Samples per chunk.

    Raises
    ------
    DataValidationError
        Any problem with the input (one line naming the file, row and column when known).
    """
    p = Path(path)
    name = _resolve_format(p, fmt)
    if name == "canonical":
        return _open_canonical(p, chunk_rows)
    rec = _LOADERS[name](p)
    return RecordingStream(p, name, rec.metadata, rec.chunks(chunk_rows))


def load_recording(path: PathLike, fmt: str | None = None) -> Recording:
    """Load a whole recording of any supported format.

    Parameters
    ----------
    path
        A CSV file, or the folder / zip archive of a vendor export.
    fmt
        ``None``/``"auto"`` (detect) or a format name (see :func:`open_recording`).

    Returns
    -------
    Recording
        ``t_s (n,)`` s, ``acc_mps2 (n, 3)`` specific force m/s² (gravity included), ``gyr_rads
        (n, 3)`` rad/s, sensor frame; ``metadata["format"]`` names the format.

    Raises
    ------
    DataValidationError
        Any problem with the input.
    """
    p = Path(path)
    name = _resolve_format(p, fmt)
    if name != "canonical":
        return _LOADERS[name](p)
    stream = _open_canonical(p, DEFAULT_CHUNK_ROWS)
    chunks = list(stream.chunks)
    if not chunks:
        raise DataValidationError("holds no samples", path=str(p))
    return Recording(
        p,
        np.concatenate([c.t_s for c in chunks]),
        np.concatenate([c.acc_mps2 for c in chunks]),
        np.concatenate([c.gyr_rads for c in chunks]),
        stream.metadata,
    )
