"""GS1 parsing and check digits, on top of ``biip`` (the well-kept GS1 parser on PyPI).

``biip`` does the parsing and check-digit arithmetic. This module turns its
results into our ``scan`` types and its errors into our specific error classes:
a truncated element string, an unknown AI, a bad value and a wrong check digit
each raise their own ``GS1Error``/``CheckDigitError`` with a sentence saying what
was wrong.
"""

from __future__ import annotations

import re

from biip import ParseConfig, ParseError
from biip.checksums import gs1_standard_check_digit
from biip.gs1_application_identifiers import GS1ApplicationIdentifier
from biip.gs1_messages import GS1Message
from biip.gtin import Gtin
from biip.sscc import Sscc
from biip.upc import Upc

from devices.errors import CheckDigitError, InvalidGS1Value, ScanError, TruncatedGS1, UnknownAI
from devices.scan import GS1Data, GS1Element, Item, ShippingContainer

__all__ = [
    "GS",
    "gs1_hri",
    "make_sscc",
    "parse_element_strings",
    "parse_gtin",
    "parse_sscc",
    "parse_upce",
]

GS = "\x1d"
_CONFIG = ParseConfig(separator_chars=(GS,))
_FIXED_PART = re.compile(r"[NX](\d+)")


def _raise_for(exc: ParseError, what: str) -> None:
    message = f"{what}: {exc}"
    if "check digit" in str(exc):
        raise CheckDigitError(message) from exc
    raise ScanError(message) from exc


def parse_gtin(code: str) -> Item:
    """An EAN-8, UPC-A (12), EAN-13 or GTIN-14 as an ``Item``.

    Raises ``CheckDigitError`` when the last digit is wrong and ``ScanError``
    when ``code`` is not 8, 12, 13 or 14 digits.
    """
    try:
        gtin = Gtin.parse(code)
    except ParseError as exc:
        _raise_for(exc, f"not a valid GTIN {code!r}")
    return Item(gtin=gtin.as_gtin_14(), code=code)


def parse_upce(code: str) -> Item:
    """A UPC-E (6, 7 or 8 digits) as an ``Item`` carrying its expanded GTIN-14.

    Raises ``CheckDigitError`` for a wrong check digit and ``ScanError`` otherwise.
    """
    try:
        upc = Upc.parse(code)
    except ParseError as exc:
        _raise_for(exc, f"not a valid UPC-E {code!r}")
    return Item(gtin=upc.as_gtin_14(), code=code)


def parse_sscc(code: str) -> ShippingContainer:
    """An 18-digit SSCC. Raises ``CheckDigitError`` or ``ScanError``."""
    try:
        sscc = Sscc.parse(code)
    except ParseError as exc:
        _raise_for(exc, f"not a valid SSCC {code!r}")
    return ShippingContainer(sscc=sscc.value)


def make_sscc(extension_digit: int, company_prefix: str, serial_reference: int) -> str:
    """An 18-digit SSCC with its check digit computed.

    ``company_prefix`` is the GS1 company prefix (6-12 digits); the serial
    reference fills the remaining digits. Raises ``ValueError`` when the parts
    do not fit in 17 digits.
    """
    if not (0 <= extension_digit <= 9 and company_prefix.isdigit() and 6 <= len(company_prefix) <= 12):
        raise ValueError("extension digit must be 0-9 and company prefix 6-12 digits")
    width = 16 - len(company_prefix)
    serial = str(serial_reference)
    if serial_reference < 0 or len(serial) > width:
        raise ValueError(f"serial reference must be 0..{10**width - 1} for this company prefix")
    payload = f"{extension_digit}{company_prefix}{serial.zfill(width)}"
    return payload + str(gs1_standard_check_digit(payload))


def gs1_hri(data: GS1Data) -> str:
    """The human-readable form, e.g. ``(00)373400306809981733``."""
    return "".join(f"({e.ai}){e.value}" for e in data.elements)


def parse_element_strings(data: str) -> GS1Data:
    """Parse GS1 element strings (0x1D-separated, or the ``(AI)value`` HRI form).

    Raises ``TruncatedGS1``, ``UnknownAI``, ``InvalidGS1Value`` or
    ``CheckDigitError`` (for AIs 00, 01, 02) naming the offending element.
    """
    try:
        if data.startswith("("):
            message = GS1Message.parse_hri(data, config=_CONFIG)
        else:
            message = GS1Message.parse(data, config=_CONFIG)
    except ParseError as exc:
        raise _diagnose(data, exc) from exc
    return GS1Data(elements=tuple(_element(e) for e in message.element_strings))


def _element(es) -> GS1Element:
    ai = es.ai.ai
    if es.value == "":
        raise TruncatedGS1(f"GS1 AI ({ai}) has no data")
    for error in (es.gtin_error, es.sscc_error):
        if error:
            cls = CheckDigitError if "check digit" in error else InvalidGS1Value
            raise cls(f"GS1 AI ({ai}): {error}")
    return GS1Element(ai=ai, value=es.value, title=es.ai.data_title, date=es.date, decimal=es.decimal)


def _diagnose(data: str, exc: ParseError) -> Exception:
    """Find which element broke, to raise a specific error; biip's text is kept."""
    if data.startswith("("):
        return InvalidGS1Value(f"GS1 text {data[:40]!r} is not valid: {exc}")
    for chunk in data.split(GS):
        problem = _diagnose_chunk(chunk)
        if problem is not None:
            return problem
    return InvalidGS1Value(f"GS1 element string is not valid: {exc}")


def _diagnose_chunk(chunk: str) -> Exception | None:
    pos = 0
    while pos < len(chunk):
        rest = chunk[pos:]
        try:
            ai = GS1ApplicationIdentifier.extract(rest)
        except ParseError:
            return _unknown_or_truncated(rest)
        body = rest[len(ai.ai):]
        fixed = _fixed_length(ai.format)
        value = body if fixed is None else body[:fixed]
        if fixed is not None and len(body) < fixed:
            return TruncatedGS1(f"GS1 AI ({ai.ai}) needs {fixed} characters, got {len(body)}: {body!r}")
        if not value:
            return TruncatedGS1(f"GS1 AI ({ai.ai}) has no data")
        if not re.fullmatch(ai.pattern.strip("^$"), ai.ai + value):
            return InvalidGS1Value(f"GS1 AI ({ai.ai}) value {value[:30]!r} does not fit format {ai.format}")
        pos += len(ai.ai) + len(value)
    return None


def _unknown_or_truncated(rest: str) -> Exception:
    if rest.isdigit() and len(rest) < 4 and _is_ai_prefix(rest):
        return TruncatedGS1(f"GS1 element string ends inside an application identifier: {rest!r}")
    return UnknownAI(f"unknown GS1 application identifier at {rest[:4]!r}")


def _is_ai_prefix(digits: str) -> bool:
    # biip has no public list of AIs; its table is the only complete one at hand.
    from biip.gs1_application_identifiers import _GS1_APPLICATION_IDENTIFIERS as table

    return any(ai.startswith(digits) and ai != digits for ai in table)


def _fixed_length(fmt: str) -> int | None:
    parts = fmt.split("+")[1:]
    matches = [_FIXED_PART.fullmatch(p) for p in parts]
    if not matches or not all(matches):
        return None
    return sum(int(m.group(1)) for m in matches)
