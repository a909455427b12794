"""Our own label codes: bins, totes, badges, pickup codes and order numbers.

The data inside the barcode (Code128 or QR) is a prefix and a value::

    BIN:<bin_code>                  BIN:A-01-1
    TOTE:<tote_id>                  TOTE:T0042
    BADGE:<operator_id>             BADGE:OP-17
    PICKUP:<order_number>:<code>    PICKUP:SO-100234:7Q4K9M
    ORD:<order_number>              ORD:SO-100234

Identifiers are 1-40 characters of letters, digits and ``. _ / -``, starting
with a letter or digit; a pickup code is 4-12 letters and digits. Prefixes are
read case-insensitively (a wedge scanner on the wrong keyboard layout or with
Caps Lock may flip case); values are kept as scanned.
"""

from __future__ import annotations

import re

from devices.errors import LabelError, MalformedLabel
from devices.scan import Badge, BinLabel, Meaning, OrderNumber, PickupCode, ToteLabel

__all__ = [
    "PREFIXES",
    "badge_data",
    "bin_label_data",
    "order_data",
    "parse_own_code",
    "pickup_data",
    "tote_label_data",
]

PREFIXES = ("BIN:", "TOTE:", "BADGE:", "PICKUP:", "ORD:")
_IDENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]{0,39}")
_PICKUP = re.compile(r"[A-Za-z0-9]{4,12}")


def _checked(value: str, what: str, pattern: re.Pattern[str] = _IDENT) -> str:
    if not pattern.fullmatch(value):
        allowed = "4-12 letters or digits" if pattern is _PICKUP else "1-40 letters, digits or . _ / -"
        raise LabelError(f"{what} {value!r} is not {allowed}")
    return value


def bin_label_data(bin_code: str) -> str:
    """Barcode data for a bin label. Raises ``LabelError`` for an unusable code."""
    return "BIN:" + _checked(bin_code, "bin code")


def tote_label_data(tote_id: str) -> str:
    """Barcode data for a tote label. Raises ``LabelError``."""
    return "TOTE:" + _checked(tote_id, "tote id")


def badge_data(operator_id: str) -> str:
    """Barcode data for an operator badge. Raises ``LabelError``."""
    return "BADGE:" + _checked(operator_id, "operator id")


def order_data(order_number: str) -> str:
    """Barcode data for an order number label. Raises ``LabelError``."""
    return "ORD:" + _checked(order_number, "order number")


def pickup_data(order_number: str, code: str) -> str:
    """Barcode (QR) data for a customer's pickup code. Raises ``LabelError``."""
    return f"PICKUP:{_checked(order_number, 'order number')}:{_checked(code, 'pickup code', _PICKUP)}"


def parse_own_code(data: str) -> Meaning | None:
    """The meaning of ``data`` if it starts with one of our prefixes, else None.

    Raises ``MalformedLabel`` when the prefix is ours but the rest is not.
    """
    head, sep, rest = data.partition(":")
    if not sep:
        return None
    prefix = head.upper() + ":"
    if prefix not in PREFIXES:
        return None
    if prefix == "PICKUP:":
        return _pickup(rest)
    if not _IDENT.fullmatch(rest):
        raise MalformedLabel(f"{prefix} label holds {rest[:40]!r}, not 1-40 letters, digits or . _ / -")
    return {"BIN:": BinLabel, "TOTE:": ToteLabel, "BADGE:": Badge, "ORD:": OrderNumber}[prefix](rest)


def _pickup(rest: str) -> PickupCode:
    order_number, sep, code = rest.rpartition(":")
    if not sep or not _IDENT.fullmatch(order_number) or not _PICKUP.fullmatch(code):
        raise MalformedLabel(f"PICKUP: code {rest[:40]!r} is not <order number>:<4-12 letters/digits>")
    return PickupCode(order_number=order_number, code=code)
