"""Colours and markers of the plot reports: one per phase, fault and side, used by every page."""

from __future__ import annotations

from typing import Final

PHASE_COLORS: Final[dict[str, str]] = {
    "concentric": "#4C9BE8",  # Up: blue
    "top_hold": "#3BB273",  # Squeeze: green
    "eccentric": "#F0A030",  # Down: amber
    "bottom_pause": "#BDBDBD",  # Pause: grey
}
"""One colour per phase, used by every plot (shading, stacked tempo bars)."""

FAULT_COLORS: Final[dict[str, str]] = {
    "hip_tilt": "#D62728",  # red
    "rushed_lowering": "#7B3FA0",  # purple
    "short_hold": "#C2185B",  # magenta
    "partial_rom": "#6D4C41",  # brown
}
"""One colour per fault code, used by every plot (markers, highlighted bars and table cells)."""

FAULT_MARKERS: Final[dict[str, str]] = {
    "hip_tilt": "X",
    "rushed_lowering": "v",
    "short_hold": "D",
    "partial_rom": "^",
}
"""Matplotlib marker of each fault code."""

SIDE_COLORS: Final[dict[str, str]] = {"left": "#3366AA", "right": "#AA3377", "unknown": "#777777"}
"""Colour of each working side in left-vs-right plots."""
