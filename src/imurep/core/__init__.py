"""The signal core: settings, the streaming pipeline and its stages (numpy only, no I/O).

Stages run in order :mod:`~imurep.core.calibration` → :mod:`~imurep.core.orientation` →
:mod:`~imurep.core.tracking` → :mod:`~imurep.core.metrics` → :mod:`~imurep.core.faults`, driven
by :class:`imurep.core.pipeline.Pipeline` for offline files and live streams alike.
"""
