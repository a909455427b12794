"""The one scan model every input source produces: ``Scan`` and what it means.

A ``Scan`` is what a person scanned (raw data, symbology when known, source,
time) together with its parsed ``meaning``: one of the small frozen dataclasses
below. ``devices.parse.parse_scan`` builds them; nothing else should.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass
from decimal import Decimal
from typing import Union

__all__ = [
    "AmbiguousCode",
    "Badge",
    "BinLabel",
    "GS1Data",
    "GS1Element",
    "Item",
    "Meaning",
    "OrderNumber",
    "PickupCode",
    "Scan",
    "ScanSource",
    "ShippingContainer",
    "Symbology",
    "Text",
    "ToteLabel",
]


class Symbology(str, enum.Enum):
    """Barcode symbologies Backroom reads or prints."""

    EAN8 = "EAN-8"
    EAN13 = "EAN-13"
    UPCA = "UPC-A"
    UPCE = "UPC-E"
    CODE128 = "Code128"
    GS1_128 = "GS1-128"
    QR = "QR"
    GS1_QR = "GS1-QR"
    DATAMATRIX = "DataMatrix"
    GS1_DATAMATRIX = "GS1-DataMatrix"
    ITF14 = "ITF-14"
    DATABAR = "DataBar"


class ScanSource(str, enum.Enum):
    """Where a scan came from."""

    WEDGE = "wedge"  # a hardware scanner typing into the app
    KEYBOARD = "keyboard"  # a person typing a code
    CAMERA = "camera"
    MANUAL = "manual"  # handed to parse_scan by code (tests, imports)


@dataclass(frozen=True)
class Item:
    """A trade item: an EAN/UPC/GTIN-14. ``gtin`` is always the 14-digit form.

    ``add_on`` holds an EAN-2/EAN-5 supplement when one was read with the code
    (a book's price, a magazine's issue); it is not part of the GTIN.
    """

    gtin: str
    code: str  # the digits of the main code as scanned (8, 12, 13 or 14 of them)
    add_on: str = ""
    kind = "item"


@dataclass(frozen=True)
class ShippingContainer:
    """A bare 18-digit SSCC (a carton or pallet)."""

    sscc: str
    kind = "sscc"


@dataclass(frozen=True)
class GS1Element:
    """One GS1 element string: application identifier, raw value, parsed value."""

    ai: str
    value: str
    title: str
    date: dt.date | None = None
    decimal: Decimal | None = None


@dataclass(frozen=True)
class GS1Data:
    """A GS1 element string (GS1-128, GS1 QR/DataMatrix): its elements in order."""

    elements: tuple[GS1Element, ...]
    kind = "gs1"

    def get(self, ai: str) -> GS1Element | None:
        """The first element with this AI, or None."""
        return next((e for e in self.elements if e.ai == ai), None)

    def _value(self, ai: str) -> str | None:
        element = self.get(ai)
        return element.value if element else None

    @property
    def gtin(self) -> str | None:
        """AI 01 (the item itself), else AI 02 (the items inside)."""
        return self._value("01") or self._value("02")

    @property
    def sscc(self) -> str | None:
        """AI 00."""
        return self._value("00")

    @property
    def batch(self) -> str | None:
        """AI 10, batch or lot."""
        return self._value("10")

    @property
    def serial(self) -> str | None:
        """AI 21, serial number."""
        return self._value("21")

    @property
    def expiry(self) -> dt.date | None:
        """AI 17 (expiry), else AI 15 (best before)."""
        element = self.get("17") or self.get("15")
        return element.date if element else None

    @property
    def count(self) -> int | None:
        """AI 37 (units of the AI 02 item inside), else AI 30 (variable count)."""
        value = self._value("37") or self._value("30")
        return int(value) if value else None

    @property
    def net_weight_kg(self) -> Decimal | None:
        """AI 310n, net weight in kilograms with n decimals."""
        element = next((e for e in self.elements if e.ai.startswith("310")), None)
        return element.decimal if element else None


@dataclass(frozen=True)
class AmbiguousCode:
    """Digits that read validly as more than one code, with nothing to tell which.

    A wedge scanner sends no symbology identifier by default, so ``07654374`` may be
    an EAN-8 or a UPC-E, and 18 digits may be an SSCC or a book with a price add-on.
    The candidates are listed, each with its form (``forms[i]`` names
    ``candidates[i]``); ``devices.parse.resolve`` picks the one the catalogue knows.
    """

    code: str
    candidates: tuple[Item | ShippingContainer, ...]
    forms: tuple[str, ...]
    kind = "ambiguous"


@dataclass(frozen=True)
class BinLabel:
    """Our bin label: ``BIN:<bin_code>``."""

    bin_code: str
    kind = "bin"


@dataclass(frozen=True)
class ToteLabel:
    """Our tote label: ``TOTE:<tote_id>``."""

    tote_id: str
    kind = "tote"


@dataclass(frozen=True)
class Badge:
    """An operator badge: ``BADGE:<operator_id>``."""

    operator_id: str
    kind = "badge"


@dataclass(frozen=True)
class PickupCode:
    """A customer's pickup code: ``PICKUP:<order_number>:<code>``."""

    order_number: str
    code: str
    kind = "pickup"


@dataclass(frozen=True)
class OrderNumber:
    """An order number label: ``ORD:<order_number>``."""

    order_number: str
    kind = "order"


@dataclass(frozen=True)
class Text:
    """Printable text with no recognised structure; the caller decides what it is."""

    text: str
    kind = "text"


Meaning = Union[
    Item, ShippingContainer, GS1Data, BinLabel, ToteLabel, Badge, PickupCode, OrderNumber, Text, AmbiguousCode
]


@dataclass(frozen=True)
class Scan:
    """One scan from any source.

    ``raw`` is exactly what arrived; ``data`` is the normalised content (symbology
    identifier removed, GS substitutes turned into 0x1D, surrounding whitespace
    stripped); ``meaning`` is what it is.
    """

    raw: str
    data: str
    symbology: Symbology | None
    source: ScanSource
    scanned_at: dt.datetime
    meaning: Meaning

    @property
    def kind(self) -> str:
        """Short name of the meaning: item, sscc, gs1, bin, tote, badge, pickup, order, text."""
        return self.meaning.kind

    @property
    def gtin(self) -> str | None:
        """The 14-digit GTIN this scan names, if any (EAN/UPC or GS1 AI 01/02).

        None for an ``AmbiguousCode``: it names no GTIN until it is resolved.
        """
        if isinstance(self.meaning, (Item, GS1Data)):
            return self.meaning.gtin
        return None

    @property
    def candidate_gtins(self) -> tuple[str, ...]:
        """Every GTIN this scan may name: one for an item, two or more for an ambiguous code."""
        if isinstance(self.meaning, AmbiguousCode):
            return tuple(c.gtin for c in self.meaning.candidates if isinstance(c, Item))
        return (self.gtin,) if self.gtin else ()

    @property
    def sscc(self) -> str | None:
        """The SSCC this scan names, if any (bare 18 digits or GS1 AI 00)."""
        if isinstance(self.meaning, (ShippingContainer, GS1Data)):
            return self.meaning.sscc
        return None
