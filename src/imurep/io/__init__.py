"""File formats at the edges of imurep: the canonical recording CSV and the analysis outputs.

This is the only part of the package (besides the CLI and the sensor link) allowed to use pandas;
the signal core sees :class:`imurep.types.ImuChunk` objects only.
"""

from __future__ import annotations

from .canonical import (
    MIN_DURATION_S,
    Recording,
    iter_canonical_chunks,
    load_canonical,
    read_sidecar,
    sidecar_path,
)
from .results import render_table, result_to_jsonable, write_json

__all__ = [
    "MIN_DURATION_S",
    "Recording",
    "iter_canonical_chunks",
    "load_canonical",
    "read_sidecar",
    "render_table",
    "result_to_jsonable",
    "sidecar_path",
    "write_json",
]
