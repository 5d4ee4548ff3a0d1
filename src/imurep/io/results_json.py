"""The JSON document of an analysis (schema ``imurep.analysis/1``); the terminal table is
:mod:`imurep.report.table`."""

from __future__ import annotations

import contextlib
import enum
import json
import logging
import math
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final, TextIO

import numpy as np

from imurep.model.results import SessionResult

logger = logging.getLogger(__name__)

# Decimals kept in the JSON, by key suffix; other floats keep 10 significant digits.
_DECIMALS_BY_SUFFIX: Final = (
    ("_s", 4),
    ("_deg", 2),
    ("_hz", 3),
    ("_fraction", 4),
    ("_mps2", 4),
    ("_rads", 5),
)


def _round_float(x: float, key: str) -> float | None:
    if not math.isfinite(x):
        logger.warning("non-finite value %r for %r written as null", x, key)
        return None
    for suffix, decimals in _DECIMALS_BY_SUFFIX:
        if key.endswith(suffix):
            return round(x, decimals) + 0.0  # + 0.0 turns -0.0 into 0.0
    return float(f"{x:.10g}")


def _jsonable(obj: Any, key: str = "") -> Any:
    """Plain JSON types with rounded floats (see :data:`_DECIMALS_BY_SUFFIX`)."""
    if obj is None or isinstance(obj, bool | str):
        return obj
    if isinstance(obj, enum.Enum):
        return _jsonable(obj.value, key)
    if isinstance(obj, int | np.integer):
        return int(obj)
    if isinstance(obj, float | np.floating):
        return _round_float(float(obj), key)
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, Path):
        return str(obj)
    if isinstance(obj, Mapping):
        return {str(k): _jsonable(v, str(k)) for k, v in obj.items()}
    if isinstance(obj, np.ndarray):
        return [_jsonable(v, key) for v in obj.tolist()]
    if isinstance(obj, list | tuple | set | frozenset):
        return [_jsonable(v, key) for v in obj]
    raise TypeError(f"cannot write {type(obj).__name__} (key {key!r}) as JSON")


def result_to_jsonable(result: SessionResult, coaching: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The JSON document of ``result`` as plain Python objects.

    Times (keys ending ``_s``) are rounded to 4 decimals, angles (``_deg``) to 2, rates (``_hz``)
    to 3; non-finite numbers become ``None``.

    Parameters
    ----------
    result
        The analysis.
    coaching
        The coaching of ``result`` (:func:`imurep.coaching.coaching_dict`), added as the top-level
        key ``"coaching"`` (same rounding rules); None: no such key.
    """
    doc = _jsonable(result.to_dict())
    assert isinstance(doc, dict)
    if coaching is not None:
        doc["coaching"] = _jsonable(coaching, "coaching")
    return doc


def write_json(
    result: SessionResult, dest: str | Path | TextIO, *, coaching: Mapping[str, Any] | None = None
) -> None:
    """Write the analysis as JSON (schema ``imurep.analysis/1``, UTF-8, indented).

    Parameters
    ----------
    result
        The analysis.
    dest
        A file path, ``"-"`` for standard output, or an open text stream.
    coaching
        The coaching of ``result`` (:func:`imurep.coaching.coaching_dict`), written as the
        top-level key ``"coaching"``; None: left out.
    """
    doc = result_to_jsonable(result, coaching)
    text = json.dumps(doc, indent=2, allow_nan=False, ensure_ascii=False) + "\n"
    if isinstance(dest, str) and dest == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
    elif isinstance(dest, str | Path):  # whole or not at all: a temporary file, then renamed
        path = Path(dest)
        tmp = path.with_name(f".{path.name}.tmp")
        try:
            tmp.write_text(text, encoding="utf-8")
            os.replace(tmp, path)
        finally:
            with contextlib.suppress(OSError):
                tmp.unlink()
    else:
        dest.write(text)
