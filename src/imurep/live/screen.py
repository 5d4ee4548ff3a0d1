"""The live screen read from a bench: big rep count with the target, the last reps as a strip, a
tilt gauge with its scale and limit, and the rest timer between sets.

Pure text builders (no terminal I/O), used by :class:`imurep.live.views.RichView` and tested as
they are.  Block digits are 5 rows tall: readable from about 3 m on a laptop screen.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from imurep.model.codes import FAULT_LABELS
from imurep.model.results import RepResult

_DIGITS: Final[dict[str, tuple[str, ...]]] = {
    "0": ("███", "█ █", "█ █", "█ █", "███"),
    "1": (" ██", "  █", "  █", "  █", "  █"),
    "2": ("███", "  █", "███", "█  ", "███"),
    "3": ("███", "  █", "███", "  █", "███"),
    "4": ("█ █", "█ █", "███", "  █", "  █"),
    "5": ("███", "█  ", "███", "  █", "███"),
    "6": ("███", "█  ", "███", "█ █", "███"),
    "7": ("███", "  █", "  █", "  █", "  █"),
    "8": ("███", "█ █", "███", "█ █", "███"),
    "9": ("███", "█ █", "███", "  █", "███"),
    ":": ("   ", " █ ", "   ", " █ ", "   "),
    " ": ("   ", "   ", "   ", "   ", "   "),
    ".": ("   ", "   ", "   ", "   ", " █ "),
}


def big_text(text: str) -> list[str]:
    """``text`` (digits, ``:``, ``.`` and spaces) in 5-row block characters, each glyph doubled in width."""
    rows = []
    for r in range(5):
        row = " ".join(_DIGITS.get(ch, _DIGITS[" "])[r].replace("█", "██").replace(" ", "  ") for ch in text)
        rows.append(row.rstrip())
    return rows


def counter_text(n: int, rep_range: tuple[int, int], word: str = "rep") -> str:
    """``"4 of 12–15 reps"``: the count against the exercise's target."""
    return f"{n} of {rep_range[0]}–{rep_range[1]} {word}s"


def rep_strip(reps: Sequence[RepResult], scale_s: float = 0.25, last: int = 6) -> list[str]:
    """The last reps, one line each: number, tempo bar (``▲`` up, ``■`` squeeze, ``▼`` down, one
    cell per ``scale_s``) and its faults (or ``ok``)."""
    lines = []
    for r in reps[-last:]:
        cells = [("▲", r.concentric_s), ("■", r.top_hold_s), ("▼", r.eccentric_s)]
        bar = "".join(sym * max(1, round(t / scale_s)) for sym, t in cells)
        faults = ", ".join(FAULT_LABELS.get(f, f) for f in r.faults) or "ok"
        lines.append(f"{r.index:>3} {bar:<32} {faults}")
    return lines


def tilt_gauge(tilt_deg: float | None, limit_deg: float, width: int = 25) -> str:
    """The pelvis tilt on a scale from 0 to twice the limit, the limit marked ``|``, e.g.
    ``"tilt 0 ━━━━━━━●━━━━|──────────── 10°  3.1° (limit 5°)"``; "" without a tilt (thigh)."""
    if tilt_deg is None:
        return ""
    top = 2.0 * limit_deg
    pos = round(min(abs(tilt_deg), top) / top * (width - 1))
    at_limit = round(limit_deg / top * (width - 1))
    cells = ["━" if i < at_limit else "─" for i in range(width)]
    cells[at_limit] = "|"
    cells[pos] = "●"
    state = "over the limit" if abs(tilt_deg) > limit_deg else "level"
    return f"tilt 0 {''.join(cells)} {top:g}°  {abs(tilt_deg):.1f}° (limit {limit_deg:g}°, {state})"


def clock_text(seconds: float) -> str:
    """``"1:05"``."""
    s = max(0, int(seconds))
    return f"{s // 60}:{s % 60:02d}"
