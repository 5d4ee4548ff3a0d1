"""imurep: rep, tempo, range-of-motion and form analysis of the hip thrust family from one IMU.

The pipeline reads as the package: :mod:`calibration` → :mod:`orientation` → :mod:`segmentation`
→ :mod:`metrics` → :mod:`faults`, driven by :class:`imurep.pipeline.Pipeline` for both offline
files and live streams.
"""

__version__ = "0.1.0"
