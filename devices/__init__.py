"""Scanning and labels: wedge scanners, camera decoding, GS1, labels and printers.

The scan model and parser are re-exported here; camera, corpus, label and
printer modules are imported from their own modules (they pull in OpenCV,
Pillow and sockets, which a caller that only parses scans should not pay for).
"""

from devices.errors import DeviceError, ScanError
from devices.parse import ScanOptions, parse_scan, resolve
from devices.scan import (
    AmbiguousCode,
    Badge,
    BinLabel,
    GS1Data,
    GS1Element,
    Item,
    OrderNumber,
    PickupCode,
    Scan,
    ScanSource,
    ShippingContainer,
    Symbology,
    Text,
    ToteLabel,
)
from devices.wedge import WedgeConfig, WedgeReader

__all__ = [
    "AmbiguousCode",
    "Badge",
    "BinLabel",
    "DeviceError",
    "GS1Data",
    "GS1Element",
    "Item",
    "OrderNumber",
    "PickupCode",
    "Scan",
    "ScanError",
    "ScanOptions",
    "ScanSource",
    "ShippingContainer",
    "Symbology",
    "Text",
    "ToteLabel",
    "WedgeConfig",
    "WedgeReader",
    "parse_scan",
    "resolve",
]
