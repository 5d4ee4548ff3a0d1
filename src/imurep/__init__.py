"""imurep: rep, tempo, range-of-motion and form analysis of the hip thrust family from one IMU.

The pipeline reads as the package: :mod:`calibration` → :mod:`orientation` → :mod:`segmentation`
→ :mod:`metrics` → :mod:`faults`, driven by :class:`imurep.pipeline.Pipeline` for both offline
files and live streams.

The Python API is :func:`imurep.analyze` (a path, DataFrame or arrays in, an
:class:`imurep.Analysis` with ``.reps`` / ``.sets`` DataFrames and ``.to_json()`` out); it is
imported on first use, so ``import imurep`` stays light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from imurep.api import Analysis, analyze

__version__ = "0.1.0"
__all__ = ["Analysis", "__version__", "analyze"]


def __getattr__(name: str) -> Any:
    if name in ("analyze", "Analysis"):
        from imurep import api

        return getattr(api, name)
    raise AttributeError(f"module 'imurep' has no attribute {name!r}")
