"""All-digit codes: EAN/UPC, GTIN-14, SSCC, EAN add-ons, and the digits that could be two of them.

A symbology identifier settles what digits are: ``]E4`` EAN-8, ``]E0`` EAN-13/UPC-A or,
with 8 digits, UPC-E, ``]E3`` a code with its EAN-2/EAN-5 add-on. Wedge scanners send
none by default, and then two readings can both be valid:

* 8 digits: an EAN-8 and a UPC-E agree on the check digit for 58 % of UPC-E codes
  (``07654374`` is EAN-8 GTIN ``00000007654374`` and UPC-E GTIN ``00076543000074``);
* 18 digits starting 977/978/979: a book or periodical with a 5-digit add-on, or an SSCC
  with extension digit 9.

``ScanOptions`` says how a site's scanners are set up; where it leaves the question
open (``"ask"``, the default) a reading that fails its check digit is dropped, and when
both pass the scan is an ``AmbiguousCode`` carrying both. Never a silent guess.
"""

from __future__ import annotations

from typing import Callable, Literal, Union

from devices.errors import ScanError
from devices.gs1 import parse_gtin, parse_sscc, parse_upce
from devices.scan import AmbiguousCode, Item, Meaning, ShippingContainer, Symbology, Text

__all__ = ["AddOns", "EightDigits", "read_digits"]

EightDigits = Literal["ask", "ean8", "upce"]
AddOns = Literal["ask", "never"]
_RETAIL = {Symbology.EAN8, Symbology.EAN13, Symbology.UPCA, Symbology.UPCE, Symbology.ITF14}
_BOOKLAND = ("977", "978", "979")  # ISSN and ISBN prefixes: the codes that carry add-ons
_Reading = Union[Item, ShippingContainer]


def read_digits(
    data: str, symbology: Symbology | None, aim: str, *, eight_digits: EightDigits, add_ons: AddOns
) -> Meaning:
    """What an all-digit ``data`` is, given its symbology and AIM identifier (``aim``, or "").

    Raises ``CheckDigitError`` when no reading passes its check digit, and ``ScanError``
    when the symbology cannot hold this many digits.
    """
    if aim == "]E3":
        return _with_add_on(data)
    if aim in ("]E1", "]E2"):
        raise ScanError(f"an EAN add-on alone ({data!r}) names no item; scan the main code")
    if aim == "]E0" and len(data) == 8:
        return parse_upce(data)
    if symbology == Symbology.UPCE:
        return parse_gtin(data) if len(data) in (12, 13) else parse_upce(data)
    if symbology is None:
        return _unidentified(data, eight_digits, add_ons)
    if len(data) in (8, 12, 13, 14):
        return parse_gtin(data)
    if symbology in _RETAIL:
        raise ScanError(f"{symbology.value} cannot hold {len(data)} digits")
    return Text(data)


def _unidentified(data: str, eight_digits: EightDigits, add_ons: AddOns) -> Meaning:
    if len(data) == 8:
        return _eight_digits(data, eight_digits)
    if len(data) in (12, 13, 14):
        return parse_gtin(data)
    if len(data) == 15 and add_ons == "ask" and data.startswith(_BOOKLAND):
        return _with_add_on(data)
    if len(data) == 18:
        return _eighteen_digits(data, add_ons)
    return Text(data)


def _eight_digits(data: str, policy: EightDigits) -> Meaning:
    if policy == "ean8":
        return parse_gtin(data)
    if policy == "upce":
        return parse_upce(data)
    return _one_or_both(data, ((parse_gtin, "EAN-8"), (parse_upce, "UPC-E")))


def _eighteen_digits(data: str, add_ons: AddOns) -> Meaning:
    if add_ons == "never" or not data.startswith(_BOOKLAND):
        return parse_sscc(data)
    return _one_or_both(data, ((parse_sscc, "SSCC"), (_with_add_on, "EAN-13 + 5-digit add-on")))


def _one_or_both(data: str, readers: tuple[tuple[Callable[[str], _Reading], str], ...]) -> Meaning:
    """The readings that pass their check digit: one is the answer, two are an AmbiguousCode.

    With none, the first reading's error is raised (it names the expected digit).
    """
    valid: list[tuple[_Reading, str]] = []
    errors: list[ScanError] = []
    for reader, form in readers:
        try:
            valid.append((reader(data), form))
        except ScanError as exc:
            errors.append(exc)
    if not valid:
        raise errors[0]
    if len(valid) == 1:
        return valid[0][0]
    return AmbiguousCode(data, tuple(r for r, _ in valid), tuple(f for _, f in valid))


def _with_add_on(data: str) -> Item:
    """A code followed by its 2- or 5-digit add-on (``]E3``, or a book code without identifier)."""
    for main in (13, 12, 8):
        if len(data) - main in (2, 5):
            item = parse_upce(data[:8]) if main == 8 else parse_gtin(data[:main])
            return Item(gtin=item.gtin, code=item.code, add_on=data[main:])
    raise ScanError(f"{data!r} is not an EAN/UPC code followed by a 2- or 5-digit add-on")
