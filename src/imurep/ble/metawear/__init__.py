"""MbientLab MetaWear boards (MetaMotion R/RL/C/S): byte codec, stream decoder, bleak driver, twin.

Talks to the board's own command/notify characteristics with :mod:`bleak`; no MbientLab SDK and
no native build.  The register layout and the conformance vectors come from the MetaWear C++ SDK
(``tests/ble/vectors/metawear.json`` names the file and test of every vector).
"""
