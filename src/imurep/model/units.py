"""Units and frames shared by every part of imurep.

Units
    SI inside the library: seconds (``_s``), metres per second squared (``_mps2``), radians per
    second (``_rads``), radians (``_rad``), hertz (``_hz``).  Degrees (``_deg``) only in reported
    metrics; conversions happen at the edges (readers, the orientation filter's interface, views).
Frames
    ``sensor``: the IMU's own axes, any mounting.  ``segment``: the body segment carrying the
    sensor (pelvis or thigh); x = medio-lateral (towards the lifter's right), y = antero-posterior
    (anterior), z = longitudinal (cranial for the pelvis, proximal for the thigh).  ``world``:
    z up, x/y horizontal with arbitrary heading (no magnetometer).
Accelerometer
    Specific force, gravity included: a sensor at rest reads +9.81 m/s² on an axis pointing up.
Quaternions
    Scalar-first ``(w, x, y, z)`` when stored as arrays; rotations map sensor -> world.
    :mod:`scipy.spatial.transform` (scalar-last) is used for all conversions.
"""

from __future__ import annotations

from typing import Final

STANDARD_GRAVITY_MPS2: Final = 9.80665
"""Standard gravity in m/s²."""

DEG_PER_RAD: Final = 57.29577951308232
RAD_PER_DEG: Final = 1.0 / DEG_PER_RAD
