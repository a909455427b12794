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
from biip.gs1_element_strings import GS1ElementString
from biip.gs1_messages import GS1Message
from biip.gtin import Gtin
from biip.sscc import Sscc
from biip.upc import Upc

from devices.errors import CheckDigitError, InvalidGS1Value, ScanError, TruncatedGS1, UnknownAI
from devices.scan import GS1Data, GS1Element, Item, ShippingContainer

__all__ = [
    "CHECKED_AIS",
    "GS",
    "check_element",
    "element_from_biip",
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

# Every AI whose data carries a check digit (GS1 Barcode Syntax Dictionary, linter
# "csum"): the slice of the value the mod-10 check covers, its last digit the check.
# biip checks only 00/01/02; a GLN or GSRN with a wrong digit would pass unnoticed.
_MOD10: dict[str, slice] = {
    "00": slice(0, 18), "01": slice(0, 14), "02": slice(0, 14), "03": slice(0, 14),
    "253": slice(0, 13), "255": slice(0, 13), "402": slice(0, 17),
    **{str(ai): slice(0, 13) for ai in range(410, 418)},
    "8003": slice(1, 14), "8006": slice(0, 14), "8017": slice(0, 18), "8018": slice(0, 18),
    "8026": slice(0, 14),
}
# AIs whose last two characters are a check-character pair ("csumalpha"): GMN, MUDI.
_PAIR = ("8013", "8014")
CHECKED_AIS = frozenset(_MOD10) | frozenset(_PAIR)
_CSET82 = "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
_CSET32 = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
_PRIMES = (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83)


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
    return GS1Data(elements=tuple(element_from_biip(e) for e in message.element_strings))


def element_from_biip(es: GS1ElementString) -> GS1Element:
    """Our element from biip's, its check digit verified. Raises ``TruncatedGS1`` or ``CheckDigitError``."""
    ai = es.ai.ai
    if es.value == "":
        raise TruncatedGS1(f"GS1 AI ({ai}) has no data")
    check_element(ai, es.value, es.ai.data_title)
    return GS1Element(ai=ai, value=es.value, title=es.ai.data_title, date=es.date, decimal=es.decimal)


def check_element(ai: str, value: str, title: str = "") -> None:
    """Verify the check digit (or check-character pair) of one element, if its AI has one.

    Raises ``CheckDigitError`` naming the AI, the value and the expected check.
    """
    name = f"GS1 AI ({ai}){' ' + title if title else ''}"
    if ai in _MOD10:
        digits = value[_MOD10[ai]]
        if not digits.isdigit() or len(digits) < 2:
            raise InvalidGS1Value(f"{name}: {value!r} does not hold its digits")
        expected = str(gs1_standard_check_digit(digits[:-1]))
        if digits[-1] != expected:
            raise CheckDigitError(f"{name} check digit for {digits!r}: expected {expected}, got {digits[-1]}")
    elif ai in _PAIR:
        pair = _check_pair(value[:-2]) if len(value) > 2 and set(value) <= set(_CSET82) else None
        if pair is None or value[-2:] != pair:
            raise CheckDigitError(f"{name} check characters for {value!r}: expected {pair or 'a valid pair'}, got {value[-2:]!r}")


def _check_pair(payload: str) -> str | None:
    """GS1 check-character pair (General Specifications 7.9.5): primes weight from the right, mod 1021."""
    if len(payload) > len(_PRIMES):
        return None
    total = sum(_CSET82.index(c) * _PRIMES[len(payload) - 1 - i] for i, c in enumerate(payload)) % 1021
    return _CSET32[total >> 5] + _CSET32[total & 31]


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
    sizes = [int(m.group(1)) for m in (_FIXED_PART.fullmatch(p) for p in parts) if m is not None]
    if not parts or len(sizes) != len(parts):
        return None
    return sum(sizes)
