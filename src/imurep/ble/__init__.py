"""BLE link to imurep sensors: protocol codec, bleak client and a simulated sensor."""
