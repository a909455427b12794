"""``parse_scan``: from whatever a scanner, camera or person produced to a ``Scan``.

Order of reading, so the same data always means the same thing:

1. too long -> ``ScanTooLong``; substitutes for GS become 0x1D; surrounding
   whitespace goes; nothing left -> ``EmptyScan``;
2. a leading AIM symbology identifier (``]C1``, ``]E0``, ``]Q3`` ...) is removed
   and tells the symbology; any other control character -> ``NonPrintableInput``;
3. our own prefixes (``BIN:``, ``TOTE:``, ``BADGE:``, ``PICKUP:``, ``ORD:``);
4. GS1 element strings when the symbology says GS1, the data holds a GS
   separator, is in ``(AI)value`` form, or is all digits starting with AI 00/01/02
   and longer than a GTIN;
5. all-digit GTIN/UPC (8, 12, 13, 14 digits; UPC-E when the symbology says so or
   an 8-digit EAN-8 check fails) and bare SSCC (18 digits), check digits verified;
6. anything else printable is ``Text``: the caller decides (a typed bin code,
   a supplier's internal code).
"""

from __future__ import annotations

import datetime as dt
import re

from devices.codes import parse_own_code
from devices.errors import CheckDigitError, EmptyScan, NonPrintableInput, ScanError, ScanTooLong
from devices.gs1 import GS, parse_element_strings, parse_gtin, parse_sscc, parse_upce
from devices.scan import Meaning, Scan, ScanSource, Symbology, Text

__all__ = ["MAX_SCAN_LENGTH", "normalise", "parse_scan"]

MAX_SCAN_LENGTH = 512  # a GS1-128 holds at most 48 characters; our QR codes far less
_STRIP = " \t\r\n" + GS
_AIM = {
    "]C0": Symbology.CODE128,
    "]C1": Symbology.GS1_128,
    "]E0": Symbology.EAN13,
    "]E4": Symbology.EAN8,
    "]Q1": Symbology.QR,
    "]Q3": Symbology.GS1_QR,
    "]d1": Symbology.DATAMATRIX,
    "]d2": Symbology.GS1_DATAMATRIX,
    "]e0": Symbology.DATABAR,
    "]I1": Symbology.ITF14,
}
_AIM_SHAPE = re.compile(r"\][A-Za-z][0-9A-Za-z]")
_GS1_SYMBOLOGIES = {Symbology.GS1_128, Symbology.GS1_QR, Symbology.GS1_DATAMATRIX, Symbology.DATABAR}
_RETAIL = {Symbology.EAN8, Symbology.EAN13, Symbology.UPCA, Symbology.UPCE, Symbology.ITF14}
_DIGITS = re.compile(r"[0-9]+")
_HRI = re.compile(r"\(\d{2,4}\)")


def parse_scan(
    raw: str,
    *,
    source: ScanSource = ScanSource.MANUAL,
    symbology: Symbology | None = None,
    scanned_at: dt.datetime | None = None,
    gs_substitutes: str = "",
    max_length: int = MAX_SCAN_LENGTH,
) -> Scan:
    """Read ``raw`` into a ``Scan`` with its meaning.

    ``gs_substitutes`` are characters a scanner was set to send instead of GS
    (0x1D). ``scanned_at`` defaults to now (UTC).
    Raises a ``ScanError`` subclass naming what was wrong; never anything else.
    """
    data, symbology = normalise(raw, symbology, gs_substitutes=gs_substitutes, max_length=max_length)
    return Scan(
        raw=raw,
        data=data,
        symbology=symbology,
        source=source,
        scanned_at=scanned_at or dt.datetime.now(dt.timezone.utc),
        meaning=_meaning(data, symbology),
    )


def normalise(
    raw: str, symbology: Symbology | None = None, *, gs_substitutes: str = "", max_length: int = MAX_SCAN_LENGTH
) -> tuple[str, Symbology | None]:
    """Steps 1-2 above: the cleaned data and the symbology it tells.

    Raises ``ScanTooLong``, ``EmptyScan`` or ``NonPrintableInput``.
    """
    if not isinstance(raw, str):
        raise ScanError(f"a scan must be text, got {type(raw).__name__}")
    if len(raw) > max_length:
        raise ScanTooLong(f"scan is {len(raw)} characters; the longest code accepted is {max_length}")
    data = raw
    for substitute in gs_substitutes:
        data = data.replace(substitute, GS)
    data = data.strip(_STRIP)
    if _AIM_SHAPE.match(data):
        symbology = symbology or _AIM.get(data[:3])
        data = data[3:].strip(_STRIP)
    if not data:
        raise EmptyScan("the scan is empty")
    _check_printable(data)
    return data, symbology


def _check_printable(data: str) -> None:
    for index, char in enumerate(data):
        if char != GS and not char.isprintable():
            raise NonPrintableInput(f"character U+{ord(char):04X} at position {index} is not printable")


def _meaning(data: str, symbology: Symbology | None) -> Meaning:
    own = parse_own_code(data)
    if own is not None:
        return own
    if _looks_gs1(data, symbology):
        return parse_element_strings(data)
    if _DIGITS.fullmatch(data) and symbology != Symbology.CODE128:
        return _numeric(data, symbology)
    if symbology in _RETAIL:
        raise ScanError(f"{symbology.value} data must be digits, got {data[:40]!r}")
    return Text(data)


def _looks_gs1(data: str, symbology: Symbology | None) -> bool:
    if symbology in _GS1_SYMBOLOGIES or GS in data or _HRI.match(data):
        return True
    numeric_gs1 = _DIGITS.fullmatch(data) and data[:2] in ("00", "01", "02")
    return bool(numeric_gs1) and len(data) > 14 and len(data) != 18 and symbology is None


def _numeric(data: str, symbology: Symbology | None) -> Meaning:
    if symbology == Symbology.UPCE:
        return parse_upce(data)
    if len(data) == 8 and symbology is None:
        return _ean8_or_upce(data)
    if len(data) in (8, 12, 13, 14):
        return parse_gtin(data)
    if len(data) == 18 and symbology is None:
        return parse_sscc(data)
    if symbology in _RETAIL:
        raise ScanError(f"{symbology.value} cannot hold {len(data)} digits")
    return Text(data)


def _ean8_or_upce(data: str) -> Meaning:
    try:
        return parse_gtin(data)
    except CheckDigitError as ean8_error:
        try:
            return parse_upce(data)
        except ScanError:
            raise ean8_error from None
