"""Auto-detection of a recording's format from its path, file names and header line.

Rules, in order:

1. A folder or zip archive: MetaBase file names (``…_Accelerometer_<rate>Hz_….csv``) →
   ``metabase``; Sensor Logger files (``Gyroscope.csv`` … with a ``seconds_elapsed`` column) →
   ``sensor_logger``; any CSV with a ``Time (s)`` column (phyphox) → ``phyphox``.
2. A file named like a MetaBase export → ``metabase``.
3. A CSV whose header has ``seconds_elapsed`` → ``sensor_logger`` (its folder is read);
   ``time`` with ``gFx`` or ``wx,wy,wz`` → ``physics_toolbox``; ``Time (s)`` → ``phyphox``.
4. Anything else → ``canonical`` (whose loader explains what columns it expected).

Spreadsheets and other binary files are refused with a hint to export CSV.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Final

from imurep.io.metabase import is_metabase_name
from imurep.io.phyphox import looks_like_phyphox
from imurep.io.physics_toolbox import looks_like_physics_toolbox
from imurep.io.sensor_logger import looks_like_sensor_logger
from imurep.io.tables import Source, list_sources, read_header
from imurep.model.errors import DataValidationError

FORMATS: Final = ("canonical", "metabase", "phyphox", "sensor_logger", "physics_toolbox")
"""Format names accepted by :func:`imurep.io.load_recording` (and ``--format``)."""

_SPREADSHEET_MARKERS: Final = ("[Content_Types].xml", "xl/workbook.xml", "content.xml")


def check_input_path(path: str | Path) -> Path:
    """Refuse a missing path, or one that is neither a folder nor a regular file (a named pipe, a
    device: opening it could block forever), before anything opens it."""
    p = Path(path)
    if not p.exists():
        raise DataValidationError(
            "file not found; check the path (a recording is a CSV file, or a folder/zip of an export)",
            path=str(p),
        )
    if not (p.is_dir() or p.is_file()):
        raise DataValidationError(
            "is not a regular file (a pipe, socket or device); save the recording to a file and pass that",
            path=str(p),
        )
    return p


def detect_format(path: str | Path) -> str:
    """Name of the format of the recording at ``path`` (one of :data:`FORMATS`).

    Raises
    ------
    DataValidationError
        ``path`` does not exist, is a spreadsheet, or is a folder / zip no importer recognises.
    """
    p = check_input_path(path)
    where = str(p)
    if p.is_dir() or (p.is_file() and zipfile.is_zipfile(p)):
        sources = list_sources(p)
        names = [s.member or s.name for s in sources]
        if any(m in names for m in _SPREADSHEET_MARKERS):
            raise DataValidationError(
                "is a spreadsheet (Excel/ODS), not CSV; export the sheet as CSV", path=where
            )
        if any(is_metabase_name(s.name) for s in sources):
            return "metabase"
        if looks_like_sensor_logger(sources):
            return "sensor_logger"
        csvs = [s for s in sources if s.name.lower().endswith(".csv")]
        if any(looks_like_phyphox(s) for s in csvs):
            return "phyphox"
        if p.is_dir() and len(csvs) == 0:
            raise DataValidationError(
                "is a folder without CSV files; pass a recording CSV or the folder of a MetaBase, "
                "phyphox or Sensor Logger export",
                path=where,
            )
        raise DataValidationError(
            "is a folder or zip archive that matches no known export (MetaBase, phyphox, Sensor "
            "Logger); pass the recording CSV itself, or name the format with --format",
            path=where,
        )
    if is_metabase_name(p.name):
        return "metabase"
    try:
        header = read_header(Source(p), "a recording CSV")
    except DataValidationError:
        return "canonical"  # its loader gives the precise message (empty, binary, …)
    lower = {n.strip().lower() for n in header.names}
    if "seconds_elapsed" in lower:
        return "sensor_logger"
    if looks_like_physics_toolbox(header):
        return "physics_toolbox"
    if header.find(r"time\s*\(s\)") is not None:
        return "phyphox"
    return "canonical"
