"""Packing: find an order by its tote or number, scan every unit into a carton
(over-scans and wrong items refused with what to do), choose the carton type,
weigh it, close it (`pack.carton_closed`), print its shipping label and packing
slip, and hand the cartons to the carrier (`shipment.handed_to_carrier`).

The local view of packing is hub state plus this device's pack ops the pulled
state does not reflect yet (the same rebase rule as the outbox overlay)."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Any

from devices.codes import parse_own_code
from devices.errors import ScanError
from devices.gs1 import make_sscc
from devices.scan import OrderNumber, ToteLabel
from edge_app.errors import BadQuantity, Refused, UnknownBarcode, WrongItem
from edge_app.local import outbox
from edge_app.local.replica import Replica
from edge_app.workflows.carriers import carton_carrier
from edge_app.workflows.feedback import Feedback
from edge_app.workflows.pick_list import sku_for_barcode

__all__ = ["CartonType", "CARTON_TYPES", "PackLine", "PackOrder", "orders_to_pack", "orders_to_ship", "find_order",
           "pack_lines", "PackSession", "COMPANY_PREFIX"]

MAX_CARTON_G = 70_000  # a parcel carrier's limit; anything above is a typo on the scale

COMPANY_PREFIX = "0614141"  # GS1 company prefix of the demo retailer (SSCC serials follow it)
_PACKABLE = ("picked", "short", "packing")


@dataclass(frozen=True)
class CartonType:
    code: str
    name: str
    tare_g: int


CARTON_TYPES = {c.code: c for c in (
    CartonType("ENV", "Padded envelope", 40),
    CartonType("S", "Small box 30x20x15", 180),
    CartonType("M", "Medium box 40x30x20", 320),
    CartonType("L", "Large box 60x40x40", 650),
)}


@dataclass(frozen=True)
class PackLine:
    line_no: int
    sku: str
    name: str
    picked: int
    packed: int  # in closed cartons, this device's pending ones included
    unit_weight_g: int
    substitute_sku: str | None = None  # substitution at pick: its barcode packs into this line too
    ship_with: str | None = None  # the channel's label for lines that go in one parcel (a set, a gift)

    @property
    def to_pack(self) -> int:
        return max(self.picked - self.packed, 0)


@dataclass(frozen=True)
class PackOrder:
    id: str
    number: str
    customer_name: str
    tote: str | None
    units_to_pack: int


def _pending_payloads(replica: Replica, kind: str, order_id: str | None = None) -> list[dict[str, Any]]:
    """Payloads of this device's ops of `kind` that pulled hub state does not include yet."""
    rows = replica.query(
        "SELECT payload FROM outbox WHERE kind = ? AND (state = 'pending' OR (state = 'applied' AND change_seq > ?)) "
        "AND (? IS NULL OR json_extract(payload, '$.order_id') = ?) ORDER BY device_seq",
        (kind, replica.cursor, order_id, order_id),
    )
    return [json.loads(r["payload"]) for r in rows]


def _closed_cartons(replica: Replica, order_id: str) -> list[str]:
    """Cartons this device closed for the order and the hub did not refuse."""
    rows = replica.query(
        "SELECT json_extract(payload, '$.carton_id') AS carton FROM outbox WHERE kind = 'pack.carton_closed' "
        "AND state != 'rejected' AND json_extract(payload, '$.order_id') = ? ORDER BY device_seq", (order_id,))
    return [r["carton"] for r in rows]


def pack_lines(replica: Replica, order_id: str) -> list[PackLine]:
    """The order's lines with units picked and packed, pending cartons counted."""
    pending: dict[int, int] = {}
    for payload in _pending_payloads(replica, "pack.carton_closed", order_id):
        for c in payload["contents"]:
            pending[c["line_no"]] = pending.get(c["line_no"], 0) + c["qty"]
    rows = replica.query(
        "SELECT l.line_no, l.sku, COALESCE(i.name, l.sku) AS name, n.qty_picked AS picked, l.qty_packed AS packed, "
        "COALESCE(i.unit_weight_g, 0) AS unit_weight_g, l.substitute_sku, l.ship_with FROM order_lines l "
        "JOIN order_lines_now n ON n.order_id = l.order_id AND n.line_no = l.line_no "
        "LEFT JOIN items i ON i.sku = l.sku WHERE l.order_id = ? ORDER BY l.line_no", (order_id,))
    return [PackLine(**{**dict(r), "packed": r["packed"] + pending.get(r["line_no"], 0)}) for r in rows]


def _status_now(replica: Replica, order_id: str, hub_status: str) -> str:
    """The order's status on this device's view: hub status, moved on by this device's pending ops."""
    if _pending_payloads(replica, "shipment.handed_to_carrier", order_id):
        return "shipped"
    if hub_status in ("released", "picking"):
        # Picked here, offline or not yet pulled back: the lines say so before the hub does.
        left = replica.query_row("SELECT SUM(MAX(qty - qty_picked - qty_short, 0)) AS open, SUM(qty_picked) AS picked "
                                 "FROM order_lines_now WHERE order_id = ?", (order_id,))
        if left["open"] == 0 and left["picked"]:
            hub_status = "picked"
    if hub_status in _PACKABLE and _pending_payloads(replica, "pack.carton_closed", order_id):
        return "packed" if all(line.to_pack == 0 for line in pack_lines(replica, order_id)) else "packing"
    return hub_status


def _ship_orders(replica: Replica) -> list[Any]:
    return replica.query(
        "SELECT id, number, customer_name, tote, status FROM orders WHERE fulfilment = 'ship' "
        "AND status IN ('released', 'picking', 'picked', 'short', 'packing', 'packed') ORDER BY promised_by, number")


def orders_to_pack(replica: Replica) -> list[PackOrder]:
    """Ship orders picked (or partly packed) on this device's view, earliest promise first."""
    found = []
    for r in _ship_orders(replica):
        left = sum(line.to_pack for line in pack_lines(replica, r["id"]))
        if left > 0 and _status_now(replica, r["id"], r["status"]) in _PACKABLE:
            found.append(PackOrder(r["id"], r["number"], r["customer_name"], _tote_of(replica, r["id"], r["tote"]), left))
    return found


def orders_to_ship(replica: Replica) -> list[PackOrder]:
    """Packed orders waiting for the carrier."""
    return [PackOrder(r["id"], r["number"], r["customer_name"], r["tote"], 0) for r in _ship_orders(replica)
            if _status_now(replica, r["id"], r["status"]) == "packed"]


def _tote_of(replica: Replica, order_id: str, hub_tote: str | None) -> str | None:
    picks = _pending_payloads(replica, "pick.confirmed", order_id)
    return next((p["tote"] for p in reversed(picks) if p.get("tote")), hub_tote)


def find_order(replica: Replica, raw: str) -> PackOrder:
    """The order to pack for a scanned tote (`TOTE:…`) or order number (`ORD:…` or typed).
    Raises Refused with what to do."""
    code = raw.strip()
    try:
        meaning = parse_own_code(code)
    except ScanError as exc:
        raise UnknownBarcode(f"{exc}. Scan the tote label or the order number.") from exc
    orders = orders_to_pack(replica)
    if isinstance(meaning, ToteLabel):
        match = [o for o in orders if (o.tote or "").upper() == meaning.tote_id.upper()]
        if not match:
            raise Refused(f"Tote {meaning.tote_id} holds no order waiting to be packed. Check the tote, or scan the order number.")
        return match[0]
    number = meaning.order_number if isinstance(meaning, OrderNumber) else code
    match = [o for o in orders if o.number.upper() == number.upper()]
    if match:
        return match[0]
    row = replica.query_one("SELECT status FROM orders WHERE number = ? COLLATE NOCASE", (number,))
    if row is None:
        raise UnknownBarcode(f"No order or tote has code {code[:40]}. Scan the tote label or the order number.")
    raise Refused(f"Order {number} is {row['status'].replace('_', ' ')}, not waiting to be packed.")


class PackSession:
    """One packer filling one carton after another for one order. The units in the
    open carton live here (and in the saved work in progress) until it is closed."""

    def __init__(self, replica: Replica, order: PackOrder, actor: str):
        self.replica = replica
        self.order = order
        self.actor = actor
        self.carton_type: CartonType | None = None
        self.in_carton: dict[int, int] = {}  # line_no → units scanned into the open carton
        self.last_carton: dict[str, Any] | None = None  # the payload of the carton closed last

    # -- what the screen asks for -----------------------------------------------------
    def lines(self) -> list[PackLine]:
        return [replace(line, packed=line.packed + self.in_carton.get(line.line_no, 0))
                for line in pack_lines(self.replica, self.order.id)]

    @property
    def step(self) -> str:
        """"scan" while units are left, then "carton" (choose a box) and "weigh" (close it),
        "ship" when all is packed, "done" once handed to the carrier."""
        left = sum(line.to_pack for line in self.lines())
        if left:
            return "scan"
        if self.in_carton:
            return "carton" if self.carton_type is None else "weigh"
        return "ship" if _status_now(self.replica, self.order.id, self._hub_status()) == "packed" else "done"

    def prompt(self) -> str:
        step, units = self.step, sum(self.in_carton.values())
        if step == "scan":
            left = sum(line.to_pack for line in self.lines())
            more = " Or choose a carton and close it to start another." if units else ""
            return f"Scan each unit into the carton: {left} left to pack.{more}"
        if step == "carton":
            return "All units are in. Choose the carton type."
        if step == "weigh":
            return f"Weigh the carton ({units} units) and close it."
        if step == "ship":
            return "Order packed. Put the cartons on the carrier shelf and mark them handed to the carrier."
        return "Order shipped. Scan the next tote or order."

    def computed_weight_g(self) -> int:
        """The carton's tare plus the unit weights of what is in it."""
        weights = {line.line_no: line.unit_weight_g for line in pack_lines(self.replica, self.order.id)}
        tare = self.carton_type.tare_g if self.carton_type else 0
        return tare + sum(weights.get(n, 0) * q for n, q in self.in_carton.items())

    # -- what the packer does ---------------------------------------------------------
    def scan(self, raw: str) -> Feedback:
        """A unit scanned into the open carton; refusals change nothing."""
        code = raw.strip()
        try:
            if not code:
                raise Refused("Nothing was scanned. Scan the item's barcode.")
            sku = sku_for_barcode(self.replica, code)
            if sku is None:
                raise UnknownBarcode(f"No item has barcode {code[:40]}. Check the label and scan again.")
            lines = [line for line in self.lines() if sku in (line.sku, line.substitute_sku)]
            if not lines:
                name = self.replica.query_row("SELECT name FROM items WHERE sku = ?", (sku,))["name"]
                raise WrongItem(f"Wrong item: {name} is not in order {self.order.number}. Keep it out of the carton and give it to your supervisor.")
            line = next((line for line in lines if line.to_pack > 0), None)
            if line is None:
                raise BadQuantity(f"Over-scan: all {sum(l.picked for l in lines)} × {lines[0].name} are packed already. Take this one out of the carton.")
        except Refused as exc:
            return Feedback(False, str(exc), self.step)
        self.in_carton[line.line_no] = self.in_carton.get(line.line_no, 0) + 1
        return Feedback(True, f"{line.name}: {line.picked - line.to_pack + 1} of {line.picked} packed.", self.step)

    def choose_carton(self, code: str) -> Feedback:
        if code not in CARTON_TYPES:
            return Feedback(False, f"Unknown carton type {code}. Choose one of the buttons.", self.step)
        self.carton_type = CARTON_TYPES[code]
        return Feedback(True, f"Carton: {self.carton_type.name}.", self.step)

    def close_carton(self, weight_g: int | None = None) -> Feedback:
        """Close the open carton: one `pack.carton_closed` op; `weight_g` None uses the computed weight."""
        if not self.in_carton:
            return Feedback(False, "The carton is empty. Scan the units into it first.", self.step)
        if self.carton_type is None:
            return Feedback(False, "Choose the carton type first.", self.step)
        weight = self.computed_weight_g() if weight_g is None else weight_g
        if weight <= 0:
            return Feedback(False, "Enter the weight in grams from the scale.", self.step)
        if weight > MAX_CARTON_G:
            return Feedback(False, f"A carton weighs at most {MAX_CARTON_G // 1000} kg here; you typed {weight} g. "
                                   "Check the scale and type the grams again.", self.step)
        names = {line.line_no: line for line in pack_lines(self.replica, self.order.id)}
        carton_id = make_sscc(0, COMPANY_PREFIX, secrets.randbelow(10**9))
        payload: dict[str, Any] = {
            "order_id": self.order.id,
            "carton_id": carton_id,
            "carton_type": self.carton_type.code,
            "weight_g": weight,
            "contents": [{"line_no": n, "sku": names[n].sku, "qty": q} for n, q in sorted(self.in_carton.items())],
        }
        # carriers: the service and tracking number printed on the label, chosen here (offline too)
        pick = carton_carrier(self.replica, self.order.id, carton_id, weight, datetime.now(timezone.utc).date())
        if pick is not None:
            payload.update(pick.payload())
        with self.replica.transaction() as conn:
            outbox.record_op(conn, "pack.carton_closed", payload, self.actor, outbox.PendingEffect())
        self.last_carton, self.in_carton, self.carton_type = payload, {}, None
        units = sum(c["qty"] for c in payload["contents"])
        via = f" It goes by {pick.service.name}." if pick is not None else ""
        return Feedback(True, f"Carton closed: {units} units, {weight / 1000:.2f} kg.{via} Stick the label on it.", self.step)

    def carrier(self) -> str | None:
        """The carrier the order's closed cartons were labelled for (the first one's), if any."""
        return next((p["carrier"] for p in self._closed_payloads() if p.get("carrier")), None)

    def hand_to_carrier(self, carrier: str | None = None) -> Feedback:
        """Record that the order's closed cartons went to the carrier: `carrier` None, the
        one on their labels (else "Carrier")."""
        if self.step != "ship":
            return Feedback(False, "Pack and close every carton of the order first.", self.step)
        carrier = carrier or self.carrier() or "Carrier"
        cartons = _closed_cartons(self.replica, self.order.id)
        with self.replica.transaction() as conn:
            outbox.record_op(conn, "shipment.handed_to_carrier",
                             {"order_id": self.order.id, "carrier": carrier, "cartons": cartons}, self.actor, outbox.PendingEffect())
        return Feedback(True, f"Order {self.order.number}: {len(cartons)} carton(s) handed to {carrier}.", "done")

    def _closed_payloads(self) -> list[dict[str, Any]]:
        rows = self.replica.query(
            "SELECT payload FROM outbox WHERE kind = 'pack.carton_closed' AND state != 'rejected' "
            "AND json_extract(payload, '$.order_id') = ? ORDER BY device_seq", (self.order.id,))
        return [json.loads(r["payload"]) for r in rows]

    # -- work in progress -------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        return {"order_id": self.order.id, "carton_type": self.carton_type.code if self.carton_type else None,
                "in_carton": {str(k): v for k, v in self.in_carton.items()}, "last_carton": self.last_carton}

    @classmethod
    def restore(cls, replica: Replica, state: dict[str, Any], actor: str) -> "PackSession | None":
        """The session saved in `state`, or None if its order is gone from this device's view."""
        row = replica.query_one("SELECT id, number, customer_name, tote FROM orders WHERE id = ?", (state["order_id"],))
        if row is None:
            return None
        session = cls(replica, PackOrder(row["id"], row["number"], row["customer_name"], row["tote"], 0), actor)
        session.carton_type = CARTON_TYPES.get(state.get("carton_type") or "")
        session.in_carton = {int(k): v for k, v in state.get("in_carton", {}).items()}
        session.last_carton = state.get("last_carton")
        return session

    def _hub_status(self) -> str:
        row = self.replica.query_one("SELECT status FROM orders WHERE id = ?", (self.order.id,))
        return row["status"] if row else "cancelled"
