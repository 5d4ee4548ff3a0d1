"""Colours, markers and matplotlib rc style of the plot reports, shared by every page."""

from __future__ import annotations

from typing import Any, Final

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

TRACE_COLOR: Final = "#222222"
"""Colour of the measured traces (sagittal angle, pelvis tilt)."""

OK_COLOR: Final = "#2E7D32"
"""Colour of the allowed band (level pelvis)."""

WARN_COLOR: Final = "#B71C1C"
"""Colour of warning lines (the asymmetry limit of the progress page)."""

WARN_FILL: Final = "#FFE0E0"
"""Fill of a table cell whose asymmetry is above the limit."""

NOTE_FILL: Final = "#FFF3E0"
"""Fill of a table cell that deserves a look (faulty rep, gaps, fallback tilt baseline)."""

TABLE_HEADER_COLOR: Final = "#EEEEEE"
"""Fill of the header row of every report table."""

RC_STYLE: Final[Any] = {  # Any: matplotlib types the keys as a Literal of every rc name
    "font.size": 9.5,
    "axes.titlesize": 11,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.titley": 1.0,  # no top ticks anywhere: skip the costly automatic title placement
    "axes.labelsize": 9.5,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#E6E6E6",
    "grid.linewidth": 0.6,
    "legend.fontsize": 8.5,
    "legend.frameon": False,
    "xtick.labelsize": 8.5,
    "ytick.labelsize": 8.5,
    "pdf.compression": 6,
    "svg.fonttype": "none",
}
"""Matplotlib rc parameters of every report figure (use with ``matplotlib.rc_context``)."""
