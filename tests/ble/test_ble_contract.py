"""Fails loudly if a bleak upgrade changes the (officially unstable) backend API imurep relies on,
or if the simulated and bumble device tiers stop plugging into the link the same way."""

from __future__ import annotations

import inspect

import bleak
import pytest
from bleak import BleakClient, BleakScanner
from bleak.backends.client import BaseBleakClient
from bleak.backends.scanner import AdvertisementData, BaseBleakScanner


def test_abstract_method_sets() -> None:
    assert BaseBleakClient.__abstractmethods__ == {
        "connect", "disconnect", "pair", "unpair", "is_connected", "mtu_size", "read_gatt_char",
        "read_gatt_descriptor", "write_gatt_char", "write_gatt_descriptor", "start_notify", "stop_notify",
    }  # fmt: skip
    assert BaseBleakScanner.__abstractmethods__ == {"start", "stop"}


def test_constructor_and_method_signatures() -> None:
    sc = inspect.signature(BleakScanner.__init__).parameters
    assert list(sc)[:4] == ["self", "detection_callback", "service_uuids", "scanning_mode"]
    assert "backend" in sc and sc["kwargs"].kind is inspect.Parameter.VAR_KEYWORD
    cl = inspect.signature(BleakClient.__init__).parameters
    assert list(cl)[:3] == ["self", "address_or_ble_device", "disconnected_callback"]
    assert "backend" in cl and cl["kwargs"].kind is inspect.Parameter.VAR_KEYWORD
    base = inspect.signature(BaseBleakClient.__init__).parameters
    assert {"address_or_ble_device", "disconnected_callback", "timeout", "kwargs"} <= set(base)
    assert list(inspect.signature(BaseBleakScanner.__init__).parameters) == [
        "self",
        "detection_callback",
        "service_uuids",
    ]
    assert AdvertisementData._fields == (
        "local_name", "manufacturer_data", "service_data", "service_uuids",
        "tx_power", "rssi", "platform_data",
    )  # fmt: skip
    for name in ("create_or_update_device", "call_detection_callbacks", "is_allowed_uuid"):
        assert callable(getattr(BaseBleakScanner, name))
    assert "response" in inspect.signature(BleakClient.write_gatt_char).parameters
    assert bleak.__name__ == "bleak"


def _link_params() -> tuple[set[str], set[str]]:
    from imurep.ble.client import SensorLink, scan

    link = set(inspect.signature(SensorLink.__init__).parameters) - {"self", "device"}
    return link, set(inspect.signature(scan).parameters) - {"timeout_s"}


def test_simulated_backends_are_sensor_link_and_scan_keywords() -> None:
    """The one interface the link shares with its test/simulated devices: bleak ``backend=`` classes
    plus these ``SensorLink`` keywords (the devices themselves implement bleak's abstract backends)."""
    from imurep.ble.simulated import SimClient, SimScanner, SimWorld, simulated_backends

    link, scan_params = _link_params()
    kw = simulated_backends(SimWorld())
    assert set(kw) == {"client_backend", "scanner_backend", "backend_kwargs", "clock", "retry_backoff_s"}
    assert set(kw) <= link and {"scanner_backend", "backend_kwargs"} <= scan_params
    assert issubclass(kw["client_backend"], BaseBleakClient) and kw["client_backend"] is SimClient
    assert issubclass(kw["scanner_backend"], BaseBleakScanner) and kw["scanner_backend"] is SimScanner


def test_bumble_backends_have_the_same_shape() -> None:
    pytest.importorskip("bumble")
    from bumble_tier import BumbleClient, BumbleScanner, BumbleWorld, bumble_backends

    from imurep.ble.simulated import SimWorld, simulated_backends

    kw = bumble_backends(BumbleWorld())
    assert set(kw) == set(simulated_backends(SimWorld()))
    assert kw["client_backend"] is BumbleClient and issubclass(BumbleClient, BaseBleakClient)
    assert kw["scanner_backend"] is BumbleScanner and issubclass(BumbleScanner, BaseBleakScanner)
