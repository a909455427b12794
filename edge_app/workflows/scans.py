"""Reading a scan (or a typed code) into what it names: an item, a bin, a label.
One look-up for every screen, so a typed SKU works wherever a barcode does."""

from __future__ import annotations

from devices.errors import ScanError
from devices.parse import parse_scan
from devices.scan import Item, Meaning
from edge_app.errors import Refused, UnknownBarcode
from edge_app.local.replica import Replica

__all__ = ["read_scan", "barcode_forms", "item_for_scan", "bin_for_scan", "role_of"]


def read_scan(raw: str) -> Meaning:
    """What a scan names. Raises Refused with what to do for an empty or unreadable one."""
    try:
        return parse_scan(raw).meaning
    except ScanError as exc:
        raise UnknownBarcode(f"That scan could not be read ({exc}). Scan again or type it.") from exc


def barcode_forms(raw: str) -> list[str]:
    """The codes a catalogue may hold for what was scanned: the digits as scanned, and
    the GTIN of an EAN/UPC or a GS1 element string in its 14, 13, 12 and 8-digit forms
    (a GS1-128 carton label names the same item as the EAN on the unit)."""
    code = raw.strip()
    forms = [code]
    try:
        scan = parse_scan(code)
    except ScanError:
        return forms
    if isinstance(scan.meaning, Item):
        forms.append(scan.meaning.code)
    gtin = scan.gtin
    if gtin:
        forms += [gtin, gtin[1:], gtin[2:]] + ([gtin[6:]] if gtin.startswith("000000") else [])
    return list(dict.fromkeys(f for f in forms if f))


def item_for_scan(replica: Replica, raw: str) -> tuple[str, str]:
    """(sku, name) of the item a barcode, a GS1 label or a typed SKU names: the one item
    look-up every screen uses. Raises UnknownBarcode."""
    forms = barcode_forms(raw)
    marks = ", ".join("?" * len(forms))
    row = replica.query_one(
        f"SELECT i.sku, i.name FROM barcodes b JOIN items i ON i.sku = b.sku WHERE b.code IN ({marks}) LIMIT 1", tuple(forms)
    ) or replica.query_one("SELECT sku, name FROM items WHERE sku = ? COLLATE NOCASE", (raw.strip(),))
    if row is None:
        raise UnknownBarcode(f"No item has barcode {raw.strip()[:40]}. Check the label and scan again.")
    return str(row["sku"]), str(row["name"])


def bin_for_scan(replica: Replica, raw: str) -> str:
    """The bin a label (`BIN:…`) or typed code names; raises Refused for anything else."""
    code = raw.strip()
    if code.upper().startswith("BIN:"):
        code = code[4:]
    row = replica.query_one("SELECT code FROM bins WHERE code = ? COLLATE NOCASE", (code,))
    if row is None:
        raise Refused(f"There is no bin {code[:40]} here. Scan the label on the shelf edge.")
    return row["code"]


def role_of(replica: Replica, role: str | None) -> str:
    """The role a workflow acts for: the signed-in person's, else the device's."""
    return role or replica.get_meta("role") or "associate"

