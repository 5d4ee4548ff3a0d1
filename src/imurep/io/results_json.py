"""Outputs of an analysis: the JSON document (schema ``imurep.analysis/1``) and the terminal table."""

from __future__ import annotations

import enum
import json
import logging
import math
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final, TextIO

import numpy as np
from rich.console import Console
from rich.table import Table
from rich.text import Text

from imurep.model.codes import FAULT_LABELS, FAULTS, METRICS
from imurep.model.results import RepResult, SessionResult, SetResult

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

_TABLE_COLUMNS: Final = (
    "index",
    "start_s",
    "concentric_s",
    "top_hold_s",
    "eccentric_s",
    "bottom_pause_s",
    "rom_deg",
    "peak_tilt_deg",
)
_MISSING: Final = "—"


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
    elif isinstance(dest, str | Path):
        Path(dest).write_text(text, encoding="utf-8")
    else:
        dest.write(text)


# --- table -------------------------------------------------------------------------------------


def _fmt(value: float | int | None, key: str) -> str:
    if value is None:
        return _MISSING
    return format(value, METRICS[key].fmt)


def _rep_value(rep: RepResult, key: str) -> float | int | None:
    value = getattr(rep, key)
    return value if value is None else (int(value) if key == "index" else float(value))


def _fault_text(codes: tuple[str, ...] | list[str]) -> Text:
    if not codes:
        return Text("ok", style="green")
    return Text(", ".join(FAULT_LABELS.get(c, c) for c in codes), style="yellow")


def _seconds(x: float | None) -> str:
    return _MISSING if x is None else f"{x:.1f} s"


def _is_lift_set(s: SetResult) -> bool:
    """Whether the set's movements are leg lifts (glute bridge with leg lift)."""
    return bool(s.summary.reps_by_side)


def _set_header(s: SetResult) -> str:
    side = s.side if s.side else ("both legs" if _is_lift_set(s) else "side unknown")
    kind = " · leg lifts" if _is_lift_set(s) else ""
    return f"Set {s.index} · {side}{kind} · {s.start_s:.1f}–{s.end_s:.1f} s"


def _summary_line(s: SetResult) -> Text:
    m = s.summary
    line = Text()
    word = "lift" if _is_lift_set(s) else "rep"
    line.append(f"{m.reps} {word}{'s' if m.reps != 1 else ''}", style="bold")
    if m.reps_by_side:
        line.append(" (" + " · ".join(f"{side} {n}" for side, n in m.reps_by_side.items()) + ")")
    line.append(f" · {m.clean_reps} clean · time under tension {m.time_under_tension_s:.1f} s")
    if m.mean_rom_deg is not None:
        line.append(f" · mean {'bridge height' if _is_lift_set(s) else 'ROM'} {m.mean_rom_deg:.1f}°")
    line.append(
        f"\ntempo up {_seconds(m.mean_concentric_s)} · hold {_seconds(m.mean_top_hold_s)}"
        f" · down {_seconds(m.mean_eccentric_s)}"
    )
    order = [c for c in FAULTS if c in m.fault_counts] + [c for c in m.fault_counts if c not in FAULTS]
    counts = [(c, m.fault_counts[c]) for c in order if m.fault_counts[c]]
    if counts:
        line.append(" · faults: ")
        line.append(", ".join(f"{FAULT_LABELS.get(c, c)} ×{n}" for c, n in counts), style="yellow")
    else:
        line.append(" · no faults", style="green")
    return line


def _rep_table(s: SetResult) -> Table:
    table = Table(show_edge=False, pad_edge=False, header_style="bold")
    lifts = _is_lift_set(s)
    for key in _TABLE_COLUMNS:
        m = METRICS[key]
        label = "Lift" if lifts and key == "index" else m.label
        # Unit on a second header line keeps the table within 80 columns.
        table.add_column(f"{label}\n({m.unit})" if m.unit else label, justify="right", no_wrap=True)
        if lifts and key == "index":
            table.add_column("Side", justify="left", no_wrap=True)
    table.add_column("Faults", justify="left", min_width=8, overflow="fold")
    for rep in s.reps:
        cells: list[str | Text] = [_fmt(_rep_value(rep, key), key) for key in _TABLE_COLUMNS]
        if lifts:
            cells.insert(_TABLE_COLUMNS.index("index") + 1, rep.side or _MISSING)
        cells.append(_fault_text(rep.faults))
        table.add_row(*cells)
    return table


def render_table(result: SessionResult, console: Console) -> None:
    """Print the per-set rep tables and summaries of ``result``.

    Parameters
    ----------
    result
        The analysis.
    console
        Where to print (use ``Console(stderr=True)`` to keep standard output free).
    """
    q = result.quality
    console.print(
        Text.assemble(
            (result.source or "recording", "bold"),
            f" · {result.placement} · {q.sample_rate_hz:.1f} Hz · {q.duration_s / 60:.1f} min"
            f" · {q.n_samples} samples",
        )
    )
    if q.n_gaps:
        console.print(
            Text(
                f"{q.n_gaps} gap{'s' if q.n_gaps != 1 else ''} in the data ({q.gap_total_s:.2f} s in total)",
                style="yellow",
            )
        )
    if not result.sets:
        console.print(
            Text(
                "no sets found — no reps were detected. Check that the recording contains hip thrusts, "
                f"that the sensor placement is right (now {result.placement}; use --placement hip|thigh), "
                "and rerun with -v for details.",
                style="yellow",
            )
        )
        return
    for s in result.sets:
        console.print()
        console.print(Text(_set_header(s), style="bold cyan"))
        if s.reps:
            console.print(_rep_table(s))
        else:
            console.print(Text("no reps in this set", style="yellow"))
        console.print(_summary_line(s))
