"""GS1 Digital Link URIs: the web address in a product's QR code, read as GS1 element strings.

``https://id.gs1.org/01/09506000134352/10/ABC?17=261231`` and the same path on a
brand's own domain (``https://example.com/p/01/09506000134352/10/ABC``) name the
GTIN, batch and expiry exactly as the GS1-128 ``(01)09506000134352(17)261231(10)ABC``
does, so they parse into the same ``GS1Data``. The path holds a primary key (01 GTIN,
00 SSCC, 414 GLN ...) and its qualifiers (22, 10, 21 ...); the query string may add
any other AI (``17=261231``, ``3103=000195``); unknown query parameters are ignored.
The short names of Digital Link 1.0 (``/gtin/``, ``/lot/``, ``/ser/``, ``?exp=``)
are read too.

An address without a primary key followed by a value of the right shape is not a
Digital Link (a shop's web page, a blog) and ``is_digital_link`` says so; one that has
them but a bad check digit or value raises, like a bad GS1-128.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, unquote, urlsplit

from biip import ParseError
from biip.gs1_element_strings import GS1ElementString

from devices.errors import GS1Error, InvalidGS1Value, UnknownAI
from devices.gs1 import element_from_biip
from devices.scan import GS1Data, GS1Element

__all__ = ["is_digital_link", "parse_digital_link"]

# Primary keys and the shape their value must have for a path to count as Digital Link.
_KEYS = {
    "01": r"\d{8}|\d{12,14}", "00": r"\d{18}", "414": r"\d{13}", "415": r"\d{13}", "417": r"\d{13}",
    "8003": r"\d{14}.{0,16}", "8004": r".{1,30}", "8006": r"\d{18}", "8010": r".{1,30}",
    "8013": r".{1,25}", "8017": r"\d{18}", "8018": r"\d{18}", "253": r"\d{13}.{0,17}",
    "255": r"\d{13,25}", "401": r".{1,30}", "402": r"\d{17}",
}
# Digital Link 1.0 short names, still printed on packaging.
_ALIASES = {
    "gtin": "01", "sscc": "00", "gln": "414", "itip": "8006", "giai": "8004", "grai": "8003",
    "gsrn": "8018", "gsrnp": "8017", "gdti": "253", "gcn": "255", "ginc": "401", "gsin": "402",
    "gmn": "8013", "cpid": "8010", "cpv": "22", "lot": "10", "ser": "21", "glnx": "254",
    "exp": "17", "bbd": "15", "sbd": "16", "pkd": "13", "prd": "11", "dt": "7003", "cpsn": "8011",
}
_SCHEME = re.compile(r"https?://", re.IGNORECASE)
_NUMERIC_AI = re.compile(r"\d{2,4}")


def is_digital_link(data: str) -> bool:
    """True when ``data`` is an http(s) address whose path holds a GS1 primary key and its value."""
    return _SCHEME.match(data) is not None and _key_index(_segments(data)) is not None


def parse_digital_link(data: str) -> GS1Data:
    """The element strings of a Digital Link URI, check digits verified.

    Raises ``UnknownAI``, ``InvalidGS1Value``, ``TruncatedGS1`` or ``CheckDigitError``
    for the offending element, and ``InvalidGS1Value`` when ``data`` is no Digital Link.
    """
    segments = _segments(data)
    start = _key_index(segments)
    if not _SCHEME.match(data) or start is None:
        raise InvalidGS1Value(f"{data[:60]!r} is not a GS1 Digital Link")
    path = segments[start:]
    if len(path) % 2:
        raise InvalidGS1Value(f"Digital Link path {'/'.join(path)[:60]!r} has a key without a value")
    pairs = [(_ai(path[i]), path[i + 1]) for i in range(0, len(path), 2)]
    if pairs[0][0] == "01":
        pairs[0] = ("01", pairs[0][1].zfill(14))  # GTIN-8/12/13 are written without padding
    for key, value in parse_qsl(urlsplit(data).query, keep_blank_values=True):
        ai = _ALIASES.get(key, key)
        if _NUMERIC_AI.fullmatch(ai):
            pairs.append((ai, value))
    return GS1Data(elements=tuple(_element(ai, value) for ai, value in pairs))


def _segments(data: str) -> list[str]:
    # Split before decoding, so that an encoded "/" (%2F) stays inside its value.
    return [unquote(part) for part in urlsplit(data).path.split("/") if part]


def _key_index(segments: list[str]) -> int | None:
    for index, segment in enumerate(segments[:-1]):
        ai = _ALIASES.get(segment, segment)
        if ai in _KEYS and re.fullmatch(_KEYS[ai], segments[index + 1]):
            return index
    return None


def _ai(key: str) -> str:
    ai = _ALIASES.get(key, key)
    if not _NUMERIC_AI.fullmatch(ai):
        raise UnknownAI(f"Digital Link path names {key!r}, which is no GS1 application identifier")
    return ai


def _element(ai: str, value: str) -> GS1Element:
    try:
        parsed = GS1ElementString.parse(ai + value)
    except ParseError as exc:
        raise _error(ai, value, exc) from exc
    if parsed.ai.ai != ai or parsed.value != value:
        raise InvalidGS1Value(f"GS1 AI ({ai}) value {value[:30]!r} does not fit format {parsed.ai.format}")
    return element_from_biip(parsed)


def _error(ai: str, value: str, exc: ParseError) -> GS1Error:
    if "application identifier" in str(exc).lower() and "unknown" in str(exc).lower():
        return UnknownAI(f"Digital Link names unknown GS1 application identifier ({ai})")
    return InvalidGS1Value(f"GS1 AI ({ai}) value {value[:30]!r} is not valid: {exc}")
