"""File formats at the edges of imurep: recordings (canonical CSV and vendor exports) and outputs.

:func:`load_recording` / :func:`open_recording` read any supported recording format (see
``docs/formats.md``); the importers live in one module per format.

This is the only part of the package (besides the CLI and the sensor link) allowed to use pandas;
the signal core sees :class:`imurep.types.ImuChunk` objects only.
"""

from __future__ import annotations

from imurep.io.canonical import (
    MIN_DURATION_S,
    Recording,
    iter_canonical_chunks,
    load_canonical,
    read_sidecar,
    sidecar_path,
    write_canonical,
    write_simulated,
)
from imurep.io.detect import FORMATS, detect_format
from imurep.io.loader import RecordingStream, load_recording, nominal_rate_hz, open_recording
from imurep.io.recording_writer import RecordingWriter
from imurep.io.results_json import result_to_jsonable, write_json

__all__ = [
    "FORMATS",
    "MIN_DURATION_S",
    "Recording",
    "RecordingWriter",
    "RecordingStream",
    "detect_format",
    "load_recording",
    "open_recording",
    "iter_canonical_chunks",
    "load_canonical",
    "nominal_rate_hz",
    "read_sidecar",
    "result_to_jsonable",
    "sidecar_path",
    "write_canonical",
    "write_json",
    "write_simulated",
]
