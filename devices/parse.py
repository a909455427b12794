"""``parse_scan``: from whatever a scanner, camera or person produced to a ``Scan``.

Order of reading, so the same data always means the same thing:

1. too long -> ``ScanTooLong``; substitutes for GS (``~``, ``<GS>`` ...) become 0x1D;
   surrounding whitespace goes; nothing left -> ``EmptyScan``;
2. a leading AIM symbology identifier (``]C1``, ``]E0``, ``]Q3`` ...) is removed
   and tells the symbology; any other control character -> ``NonPrintableInput``;
3. our own prefixes (``BIN:``, ``TOTE:``, ``BADGE:``, ``PICKUP:``, ``ORD:``);
4. a GS1 Digital Link URI (``https://id.gs1.org/01/…``, or any domain with that path);
5. GS1 element strings when the symbology says GS1, the data holds a GS
   separator, is in ``(AI)value`` form, or is all digits starting with AI 00/01/02
   and longer than a GTIN;
6. all-digit codes (``devices.retail``): GTIN/UPC, UPC-E, SSCC, EAN add-ons, check
   digits verified; digits that are validly two codes are an ``AmbiguousCode``;
7. anything else printable is ``Text``: the caller decides (a typed bin code,
   a supplier's internal code).

``ScanOptions`` carries how a site's scanners are set up; ``resolve`` settles an
``AmbiguousCode`` by asking the catalogue about each candidate.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from dataclasses import dataclass
from typing import Callable, Iterable

from devices.codes import LabelRules, parse_own_code
from devices.digital_link import is_digital_link, parse_digital_link
from devices.errors import AmbiguousScan, EmptyScan, NonPrintableInput, ScanError, ScanTooLong
from devices.gs1 import GS, parse_element_strings
from devices.retail import AddOns, EightDigits, read_digits
from devices.scan import AmbiguousCode, Item, Meaning, Scan, ScanSource, ShippingContainer, Symbology, Text

__all__ = ["MAX_SCAN_LENGTH", "ScanOptions", "normalise", "parse_scan", "resolve"]

MAX_SCAN_LENGTH = 512  # a GS1-128 holds at most 48 characters; our QR codes far less
_STRIP = " \t\r\n" + GS
_AIM = {
    "]C0": Symbology.CODE128,
    "]C1": Symbology.GS1_128,
    "]E0": Symbology.EAN13,
    "]E1": Symbology.EAN13,
    "]E2": Symbology.EAN13,
    "]E3": Symbology.EAN13,
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


@dataclass(frozen=True)
class ScanOptions:
    """How a site's scanners are set up, as far as reading their data is concerned.

    ``gs_substitutes``: strings a scanner sends in place of GS (0x1D), e.g. ``("~",)``
    or ``("<GS>",)``; a real 0x1D is always accepted. ``eight_digits``: what 8 digits
    without a symbology identifier are — ``"ean8"``, ``"upce"``, or ``"ask"`` (the
    default: the reading whose check digit passes, both as an ``AmbiguousCode``).
    ``add_ons``: ``"ask"`` reads 15 or 18 digits starting 977/978/979 as a book or
    periodical code with its add-on where the check digits say so; ``"never"``
    when the scanners are set not to send add-ons (18 digits are then an SSCC).
    ``labels``: the rules for our own BIN:/TOTE:/... identifiers.
    """

    gs_substitutes: tuple[str, ...] = ()
    eight_digits: EightDigits = "ask"
    add_ons: AddOns = "ask"
    labels: LabelRules = LabelRules()


DEFAULT_OPTIONS = ScanOptions()


def parse_scan(
    raw: str,
    *,
    source: ScanSource = ScanSource.MANUAL,
    symbology: Symbology | None = None,
    scanned_at: dt.datetime | None = None,
    gs_substitutes: str | Iterable[str] = "",
    max_length: int = MAX_SCAN_LENGTH,
    options: ScanOptions = DEFAULT_OPTIONS,
) -> Scan:
    """Read ``raw`` into a ``Scan`` with its meaning.

    ``gs_substitutes`` adds to ``options.gs_substitutes``: a string is a set of
    single characters (``"~|"``), any other iterable a list of strings (``["<GS>"]``).
    ``scanned_at`` defaults to now (UTC).
    Raises a ``ScanError`` subclass naming what was wrong; never anything else.
    """
    substitutes = options.gs_substitutes + _substitutes(gs_substitutes)
    data, symbology, aim = _normalise(raw, symbology, substitutes, max_length)
    return Scan(
        raw=raw,
        data=data,
        symbology=symbology,
        source=source,
        scanned_at=scanned_at or dt.datetime.now(dt.timezone.utc),
        meaning=_meaning(data, symbology, aim, options),
    )


def normalise(
    raw: str, symbology: Symbology | None = None, *, gs_substitutes: str | Iterable[str] = "",
    max_length: int = MAX_SCAN_LENGTH,
) -> tuple[str, Symbology | None]:
    """Steps 1-2 above: the cleaned data and the symbology it tells.

    Raises ``ScanTooLong``, ``EmptyScan`` or ``NonPrintableInput``.
    """
    data, symbology, _ = _normalise(raw, symbology, _substitutes(gs_substitutes), max_length)
    return data, symbology


def resolve(
    scan: Scan, *, known_gtin: Callable[[str], bool], known_sscc: Callable[[str], bool] = lambda _: False
) -> Scan:
    """``scan`` with an ``AmbiguousCode`` settled by the catalogue; any other scan as it is.

    ``known_gtin``/``known_sscc`` say whether the site knows a GTIN / an SSCC. Exactly
    one known candidate becomes the meaning. Raises ``AmbiguousScan`` naming the
    candidates when none or more than one is known: never a guess.
    """
    meaning = scan.meaning
    if not isinstance(meaning, AmbiguousCode):
        return scan
    known = [
        (candidate, form) for candidate, form in zip(meaning.candidates, meaning.forms)
        if (known_gtin(candidate.gtin) if isinstance(candidate, Item) else known_sscc(candidate.sscc))
    ]
    if len(known) == 1:
        return dataclasses.replace(scan, meaning=known[0][0])
    readings = " or ".join(f"{form} {_key(c)}" for c, form in zip(meaning.candidates, meaning.forms))
    which = "neither is known here" if not known else "both are known here; scan the code with the camera"
    raise AmbiguousScan(f"{meaning.code} could be {readings}: {which}")


def _key(candidate: Item | ShippingContainer) -> str:
    return candidate.gtin if isinstance(candidate, Item) else candidate.sscc


def _substitutes(given: str | Iterable[str]) -> tuple[str, ...]:
    if isinstance(given, str):
        return tuple(given)
    return tuple(given)


def _normalise(
    raw: str, symbology: Symbology | None, substitutes: tuple[str, ...], max_length: int
) -> tuple[str, Symbology | None, str]:
    if not isinstance(raw, str):
        raise ScanError(f"a scan must be text, got {type(raw).__name__}")
    if len(raw) > max_length:
        raise ScanTooLong(f"scan is {len(raw)} characters; the longest code accepted is {max_length}")
    data = raw
    # Longest first: with "<GS>" and ">" both configured, "<GS>" must not lose its ">".
    for substitute in sorted(filter(None, substitutes), key=len, reverse=True):
        data = data.replace(substitute, GS)
    data = data.strip(_STRIP)
    aim = ""
    if _AIM_SHAPE.match(data):
        aim = data[:3]
        symbology = symbology or _AIM.get(aim)
        data = data[3:].strip(_STRIP)
    if not data:
        raise EmptyScan("the scan is empty")
    _check_printable(data)
    return data, symbology, aim


def _check_printable(data: str) -> None:
    for index, char in enumerate(data):
        if char != GS and not char.isprintable():
            raise NonPrintableInput(f"character U+{ord(char):04X} at position {index} is not printable")


def _meaning(data: str, symbology: Symbology | None, aim: str, options: ScanOptions) -> Meaning:
    own = parse_own_code(data, options.labels)
    if own is not None:
        return own
    if symbology not in _RETAIL and is_digital_link(data):
        return parse_digital_link(data)
    if _looks_gs1(data, symbology):
        return parse_element_strings(data)
    if _DIGITS.fullmatch(data) and symbology != Symbology.CODE128:
        return read_digits(data, symbology, aim, eight_digits=options.eight_digits, add_ons=options.add_ons)
    if symbology in _RETAIL:
        raise ScanError(f"{symbology.value} data must be digits, got {data[:40]!r}")
    return Text(data)


def _looks_gs1(data: str, symbology: Symbology | None) -> bool:
    if symbology in _GS1_SYMBOLOGIES or GS in data or _HRI.match(data):
        return True
    numeric_gs1 = _DIGITS.fullmatch(data) and data[:2] in ("00", "01", "02")
    return bool(numeric_gs1) and len(data) > 14 and len(data) != 18 and symbology is None
