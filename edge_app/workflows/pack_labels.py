"""The pictures a closed carton needs: its shipping label (devices.labels, 4x6 in,
SSCC as GS1-128) as PNG, ZPL (a Zebra printer) or PDF (a print dialog), and a packing
slip listing what is inside, as PNG.

An order with a ship-to address gets it on the label with the recipient's phone, and
the carrier, service and tracking number its carton was closed with
(edge_app.workflows.carriers); a pickup, or an order the channel sent without an
address, keeps the customer's name and the order number's barcode."""

from __future__ import annotations

from typing import Any

import segno

from devices.labels import FOUR_BY_SIX, Address, Box, Label, QRCode, TextLine, shipping_label
from devices.render import to_pdf, to_png
from devices.zpl import to_zpl
from edge_app.local.replica import Replica
from edge_app.workflows.carriers import ship_to_of
from edge_app.workflows.packing import CARTON_TYPES, PackOrder

__all__ = ["carton_label", "carton_label_png", "carton_label_zpl", "carton_label_pdf", "packing_slip_png", "label_address"]


def label_address(name: str, ship_to: dict[str, Any] | None) -> Address:
    """The ship-to as printed: the name, then up to four lines ending with postal code and
    country (a fourth address line is joined to the third to make room)."""
    if ship_to is None:
        return Address(name[:40])
    lines = [str(line) for line in ship_to["lines"]]
    if len(lines) > 3:
        lines = lines[:2] + [", ".join(lines[2:])]
    return Address(name[:40], tuple(line[:40] for line in lines) + (f"{ship_to['postal_code']} {ship_to['country']}",))


def carton_label(replica: Replica, order: PackOrder, carton: dict[str, Any], carrier: str = "Carrier") -> Label:
    """The shipping label of a closed carton (`carton`: its pack.carton_closed payload);
    `carrier` is printed when the carton was closed without a carrier service."""
    location = replica.get_meta("location") or ""
    ship_to, contact = ship_to_of(replica, order.id)
    carrier_name, service = carrier, ""
    if carton.get("carrier"):
        carrier_name, service = carton["carrier"], carton.get("service") or ""
    return shipping_label(
        carton["carton_id"],
        ship_from=Address(f"Backroom {location}"[:40]),
        ship_to=label_address(order.customer_name or "Customer", ship_to),
        order_number=order.number,
        carrier=carrier_name,
        weight_kg=carton["weight_g"] / 1000,
        service=service,
        tracking=carton.get("tracking") or "",
        phone=(contact or {}).get("phone") or "",
    )


def carton_label_png(replica: Replica, order: PackOrder, carton: dict[str, Any], carrier: str = "Carrier") -> bytes:
    """The shipping label as PNG (a screen, an ordinary printer)."""
    return to_png(carton_label(replica, order, carton, carrier))


def carton_label_zpl(replica: Replica, order: PackOrder, carton: dict[str, Any], carrier: str = "Carrier") -> str:
    """The shipping label as ZPL II for a Zebra printer."""
    return to_zpl(carton_label(replica, order, carton, carrier))


def carton_label_pdf(replica: Replica, order: PackOrder, carton: dict[str, Any], carrier: str = "Carrier") -> bytes:
    """The shipping label as a one-page PDF the label's size (a print dialog)."""
    return to_pdf([carton_label(replica, order, carton, carrier)])


def packing_slip_png(replica: Replica, order: PackOrder, carton: dict[str, Any]) -> bytes:
    """A 4x6 in packing slip: order, carton type, and each line's units in this carton."""
    names = {r["sku"]: r["name"] for r in replica.query("SELECT sku, name FROM items")}
    fields: list[Any] = [
        TextLine(40, 40, 48, "PACKING SLIP"),
        TextLine(40, 110, 36, f"ORDER {order.number}"[:34]),
        TextLine(40, 160, 30, (order.customer_name or "")[:40]),
        TextLine(40, 205, 26, f"{CARTON_TYPES[carton['carton_type']].name}, {carton['weight_g'] / 1000:.2f} kg"[:46]),
        Box(20, 250, 772, 3),
    ]
    row = replica.query_one("SELECT return_code FROM orders WHERE id = ?", (order.id,))
    return_code = row["return_code"] if row else None
    shown = 24 if not return_code else 17
    for i, line in enumerate(carton["contents"][:shown]):
        fields.append(TextLine(40, 275 + i * 38, 28, f"{line['qty']:>3} x {names.get(line['sku'], line['sku'])}"[:46]))
    if len(carton["contents"]) > shown:
        fields.append(TextLine(40, 275 + shown * 38, 24, f"... and {len(carton['contents']) - shown} more lines"))
    if return_code:
        fields += _return_fields(return_code)
    fields.append(TextLine(40, 1160, 22, f"SSCC {carton['carton_id']}"))
    return to_png(Label(*FOUR_BY_SIX, tuple(fields)))


_QR_SPACE = 250  # dots, square, beside the returns words; a module under 2 dots does not scan


def _return_fields(return_code: str) -> list[Any]:
    """Returns from any channel: the order's signed return code (sync.return_codes) as a
    QR code, so any store can take the return, even offline; a code too long for the
    space leaves the words only (the store looks the order up online)."""
    side = int(segno.make_qr(return_code, error="m").symbol_size(border=4)[0])
    module = min(4, _QR_SPACE // side)
    fields: list[Any] = [Box(20, 955, 772, 3), TextLine(40, 985, 30, "RETURNS"), TextLine(40, 1030, 22, "Bring this slip to any"),
                         TextLine(40, 1060, 22, "of our stores: they scan"), TextLine(40, 1090, 22, "the code to take it back.")]
    if module >= 2:
        fields.append(QRCode(790 - side * module, 962, return_code, module=module))
    return fields
