"""Fails loudly if a bleak upgrade changes the (officially unstable) backend API imurep relies on."""

from __future__ import annotations

import inspect

import bleak
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
