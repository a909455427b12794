"""Labels as layouts: carton (SSCC), shipping, bin and tote labels.

A label is a list of positioned fields in printer dots (203 dpi by default), so
the same layout goes to a Zebra printer as ZPL (``devices.zpl``) and to an
ordinary printer as PNG or PDF (``devices.render``). The builders check their
data (SSCC check digit, our code conventions) and raise ``LabelError``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

from devices.codes import bin_label_data, order_data, tote_label_data
from devices.errors import LabelError, ScanError
from devices.gs1 import GS, parse_sscc

__all__ = [
    "Address",
    "Barcode",
    "Box",
    "Field",
    "Label",
    "QRCode",
    "TextLine",
    "bin_label",
    "carton_label",
    "shipping_label",
    "tote_label",
]

DPI = 203
FOUR_BY_SIX = (812, 1218)
FOUR_BY_TWO = (812, 406)


@dataclass(frozen=True)
class TextLine:
    """One line of text; ``height`` is the character height in dots."""

    x: int
    y: int
    height: int
    text: str


@dataclass(frozen=True)
class Barcode:
    """A Code128 (or GS1-128 when ``gs1``: ``data`` is element strings with GS separators)."""

    x: int
    y: int
    height: int
    data: str
    gs1: bool = False
    module: int = 3  # narrowest bar, in dots
    human_readable: str = ""


@dataclass(frozen=True)
class QRCode:
    """A QR code; ``module`` is dots per module."""

    x: int
    y: int
    data: str
    module: int = 6


@dataclass(frozen=True)
class Box:
    """A rectangle outline (or a rule when thin)."""

    x: int
    y: int
    width: int
    height: int
    thickness: int = 3


Field = Union[TextLine, Barcode, QRCode, Box]


@dataclass(frozen=True)
class Label:
    """A label: its size in dots, resolution, and fields."""

    width: int
    height: int
    fields: tuple[Field, ...]
    dpi: int = DPI


@dataclass(frozen=True)
class Address:
    """A postal address as printed: a name and up to four lines."""

    name: str
    lines: tuple[str, ...] = ()


def _checked_sscc(sscc: str) -> str:
    try:
        return parse_sscc(sscc).sscc
    except ScanError as exc:
        raise LabelError(f"cannot print SSCC {sscc!r}: {exc}") from exc


def _sscc_fields(sscc: str, y: int) -> list[Field]:
    hri = f"(00) {sscc}"
    return [
        TextLine(40, y, 28, "SSCC"),
        Barcode(60, y + 40, 220, "00" + sscc, gs1=True, module=3, human_readable=hri),
        TextLine(60, y + 270, 34, hri),
    ]


def carton_label(sscc: str, order_number: str, carton_no: int, carton_count: int) -> Label:
    """A 4x6 in carton label: order, carton n of m, and the SSCC as GS1-128.

    Raises ``LabelError`` for a wrong SSCC check digit, a bad order number or
    a carton number outside 1..carton_count.
    """
    sscc = _checked_sscc(sscc)
    if not 1 <= carton_no <= carton_count:
        raise LabelError(f"carton {carton_no} of {carton_count} is not possible")
    fields: list[Field] = [
        TextLine(40, 40, _text_height(f"ORDER {order_number}", 740, 60), f"ORDER {order_number}"),
        _linear_or_qr(order_data(order_number), 40, 120, 120, 772),
        TextLine(40, 300, 80, f"CARTON {carton_no} OF {carton_count}"),
        Box(20, 420, 772, 3),
        *_sscc_fields(sscc, 450),
    ]
    return Label(*FOUR_BY_SIX, tuple(fields))


def shipping_label(
    sscc: str,
    *,
    ship_from: Address,
    ship_to: Address,
    order_number: str,
    carrier: str,
    weight_kg: float | None = None,
    service: str = "",
    tracking: str = "",
    phone: str = "",
) -> Label:
    """A 4x6 in shipping label: addresses, carrier (and service), order and SSCC
    (GS1-128); with a ``tracking`` number, that as Code128 in place of the order's
    barcode (the order number stays in words), and the recipient's ``phone``.

    Raises ``LabelError`` for a wrong SSCC or order number, an address of more than
    four lines, or a tracking number that is not letters and digits.
    """
    sscc = _checked_sscc(sscc)
    for address in (ship_from, ship_to):
        if len(address.lines) > 4:
            raise LabelError(f"address for {address.name!r} has more than four lines")
    if tracking and not (tracking.isalnum() and tracking.isascii() and len(tracking) <= 30):
        raise LabelError(f"cannot print tracking number {tracking!r}: letters and digits only, at most 30")
    fields: list[Field] = [TextLine(40, 30, 24, "FROM")]
    fields += _address(ship_from, 40, 60, 26)
    fields += [Box(20, 210, 772, 3), TextLine(40, 230, 28, "TO")]
    if phone:
        fields.append(TextLine(400, 230, 28, f"TEL {phone}"[:24]))
    fields += _address(ship_to, 40, 270, 40)
    heading = f"{carrier} {service}".strip().upper()
    fields += [Box(20, 500, 772, 3), TextLine(40, 520, _text_height(heading, 470, 44), heading[:30])]
    if weight_kg is not None:
        fields.append(TextLine(520, 520, 44, f"{weight_kg:.2f} KG"))
    order_line = f"ORDER {order_number}"
    if tracking:
        order_data(order_number)  # checked all the same: the number is printed
        fields += [_linear_or_qr(tracking, 40, 575, 90, 772, qr_module=3),
                   TextLine(40, 672, 28, f"TRACKING {tracking}"),
                   TextLine(40, 706, _text_height(order_line, 740, 26), order_line)]
    else:
        fields.append(_linear_or_qr(order_data(order_number), 40, 585, 95, 772, qr_module=3))
        fields.append(TextLine(40, 690, _text_height(order_line, 740, 28), order_line))
    fields.append(Box(20, 740, 772, 3))
    fields += _sscc_fields(sscc, 770)
    return Label(*FOUR_BY_SIX, tuple(fields))


def _address(address: Address, x: int, y: int, height: int) -> list[Field]:
    lines = (address.name, *address.lines)
    return [TextLine(x, y + i * (height + 8), height, line) for i, line in enumerate(lines)]


def _linear_or_qr(data: str, x: int, y: int, height: int, width: int, qr_module: int = 5) -> Field:
    """A Code128 with bars of 3 or 2 dots if it fits in ``width``, else a QR code.

    Bars of one dot (0.125 mm at 203 dpi) do not scan reliably, so long codes go
    to QR. Counts every character as one subset-B symbol (an upper bound), plus
    start, check and stop symbols and a ten-module quiet zone on each side.
    """
    modules = 11 * (len(data) + 2) + 13 + 20
    module = next((m for m in (3, 2) if modules * m <= width), None)
    if module is None:
        return QRCode(x, y - 20, data, module=qr_module)
    return Barcode(x, y, height, data, module=module)


def _text_height(text: str, width: int, largest: int) -> int:
    # Pillow's and the printer's default fonts are about 0.6 em wide per character.
    return max(20, min(largest, int(width / (0.6 * max(len(text), 1)))))


def bin_label(bin_code: str, location: str = "") -> Label:
    """A 4x2 in bin label: the bin code large, and ``BIN:<code>`` as Code128 (QR when too long).

    Raises ``LabelError`` for a bin code our convention does not allow.
    """
    data = bin_label_data(bin_code)
    fields: list[Field] = [
        TextLine(30, 20, _text_height(bin_code, 520, 90), bin_code),
        TextLine(560, 40, 30, location[:16]),
        _linear_or_qr(data, 30, 140, 180, 770),
        TextLine(30, 340, _text_height(data, 760, 30), data),
    ]
    return Label(*FOUR_BY_TWO, tuple(fields))


def tote_label(tote_id: str) -> Label:
    """A 4x2 in tote label: ``TOTE:<id>`` as Code128 (QR when too long) and as QR.

    Raises ``LabelError`` for a tote id our convention does not allow.
    """
    data = tote_label_data(tote_id)
    fields: list[Field] = [
        TextLine(30, 20, _text_height(tote_id, 520, 90), tote_id),
        _linear_or_qr(data, 30, 140, 180, 560),
        TextLine(30, 340, _text_height(data, 540, 30), data),
        QRCode(590, 110, data, module=7 if len(data) <= 20 else 5),
    ]
    return Label(*FOUR_BY_TWO, tuple(fields))


def gs1_segments(data: str) -> list[str]:
    """Element strings split at GS, for encoders that place FNC1 themselves."""
    return [part for part in data.split(GS) if part]
