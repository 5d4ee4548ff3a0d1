"""Polar sensors with the Polar Measurement Data (PMD) service (Verity Sense): codec, driver, twin.

Talks to the PMD control point and data characteristics with :mod:`bleak`; no Polar SDK.  The
format and the conformance vectors come from the Polar BLE SDK (``tests/ble/vectors/polar_pmd.json``
names the file and test of every vector).
"""
