"""Phones as live sources: phyphox's remote-access HTTP interface (:mod:`imurep.phone.source`)."""
