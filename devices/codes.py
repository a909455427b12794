"""Our own label codes: bins, totes, badges, pickup codes and order numbers.

The data inside the barcode (Code128 or QR) is a prefix and a value::

    BIN:<bin_code>                  BIN:A-01-1
    TOTE:<tote_id>                  TOTE:T0042
    BADGE:<operator_id>             BADGE:OP-17
    PICKUP:<order_number>:<code>    PICKUP:SO-100234:7Q4K9M
    ORD:<order_number>              ORD:SO-100234

Identifiers are 2-40 characters of letters, digits and ``. _ / -`` that start
and end with a letter or digit; a pickup code is 4-12 letters and digits.
Prefixes are read case-insensitively (a wedge scanner on the wrong keyboard
layout or with Caps Lock may flip case); values are kept as scanned.

Why not one character, and why not a trailing separator: a scan cut short (a
scanner that pauses mid-code, a clear that lands mid-scan) leaves ``BIN:A-`` or
``TOTE:T``, which would otherwise read as a real label. A site whose bins really
are one character long says so with ``LabelRules(min_length=1)``.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from devices.errors import LabelError, MalformedLabel
from devices.scan import Badge, BinLabel, Meaning, OrderNumber, PickupCode, ToteLabel

__all__ = [
    "PREFIXES",
    "LabelRules",
    "badge_data",
    "bin_label_data",
    "order_data",
    "parse_own_code",
    "pickup_data",
    "tote_label_data",
]

PREFIXES = ("BIN:", "TOTE:", "BADGE:", "PICKUP:", "ORD:")
_PICKUP = re.compile(r"[A-Za-z0-9]{4,12}")
_MAX_LENGTH = 40


@dataclass(frozen=True)
class LabelRules:
    """What a site accepts as an identifier on its own labels (the same rules print and read)."""

    min_length: int = 2
    trailing_separator: bool = False  # allow ``A-01-`` (a cut-short scan looks exactly like it)

    def pattern(self) -> re.Pattern[str]:
        """The regular expression an identifier must match in full."""
        return _ident_pattern(self.min_length, self.trailing_separator)

    def describe(self) -> str:
        """The rule in words, for error messages."""
        end = "" if self.trailing_separator else ", starting and ending with a letter or digit"
        return f"{self.min_length}-{_MAX_LENGTH} letters, digits or . _ / -{end}"


@functools.lru_cache(maxsize=None)
def _ident_pattern(min_length: int, trailing_separator: bool) -> re.Pattern[str]:
    low = max(1, min_length)
    end = "" if trailing_separator else "(?<![._/-])"
    return re.compile(f"[A-Za-z0-9][A-Za-z0-9._/-]{{{low - 1},{_MAX_LENGTH - 1}}}{end}")


DEFAULT_RULES = LabelRules()


def _checked(value: str, what: str, rules: LabelRules) -> str:
    if not rules.pattern().fullmatch(value):
        raise LabelError(f"{what} {value!r} is not {rules.describe()}")
    return value


def bin_label_data(bin_code: str, rules: LabelRules = DEFAULT_RULES) -> str:
    """Barcode data for a bin label. Raises ``LabelError`` for an unusable code."""
    return "BIN:" + _checked(bin_code, "bin code", rules)


def tote_label_data(tote_id: str, rules: LabelRules = DEFAULT_RULES) -> str:
    """Barcode data for a tote label. Raises ``LabelError``."""
    return "TOTE:" + _checked(tote_id, "tote id", rules)


def badge_data(operator_id: str, rules: LabelRules = DEFAULT_RULES) -> str:
    """Barcode data for an operator badge. Raises ``LabelError``."""
    return "BADGE:" + _checked(operator_id, "operator id", rules)


def order_data(order_number: str, rules: LabelRules = DEFAULT_RULES) -> str:
    """Barcode data for an order number label. Raises ``LabelError``."""
    return "ORD:" + _checked(order_number, "order number", rules)


def pickup_data(order_number: str, code: str, rules: LabelRules = DEFAULT_RULES) -> str:
    """Barcode (QR) data for a customer's pickup code. Raises ``LabelError``."""
    if not _PICKUP.fullmatch(code):
        raise LabelError(f"pickup code {code!r} is not 4-12 letters or digits")
    return f"PICKUP:{_checked(order_number, 'order number', rules)}:{code}"


def parse_own_code(data: str, rules: LabelRules = DEFAULT_RULES) -> Meaning | None:
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
        return _pickup(rest, rules)
    if not rules.pattern().fullmatch(rest):
        raise MalformedLabel(f"{prefix} label holds {rest[:40]!r}, not {rules.describe()}")
    if prefix == "BIN:":
        return BinLabel(rest)
    if prefix == "TOTE:":
        return ToteLabel(rest)
    if prefix == "BADGE:":
        return Badge(rest)
    return OrderNumber(rest)


def _pickup(rest: str, rules: LabelRules) -> PickupCode:
    order_number, sep, code = rest.rpartition(":")
    if not sep or not rules.pattern().fullmatch(order_number) or not _PICKUP.fullmatch(code):
        raise MalformedLabel(f"PICKUP: code {rest[:40]!r} is not <order number>:<4-12 letters/digits>")
    return PickupCode(order_number=order_number, code=code)
