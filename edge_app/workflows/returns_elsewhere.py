"""Returns from any channel: a customer brings back an order this device does not
hold, because another location shipped it (a web order sent from the warehouse) or
handed it over. Online, the device asks the hub (`ask`: GET /v1/returns/lookup, see
edge_app.hub_lookups); offline, it reads the signed return code (`RET1:…`, a QR on the
receipt and the packing slip, sync.return_codes). Either way the return is put
together and recorded as any other (edge_app.workflows.returns.ReturnSession): the
units land here, the refund goes against the original order's lines, and the hub
refuses a code it did not sign, or units the customer never got or already brought back.

`ask` is a plain callable (query → the hub's answer) that raises HubUnreachable when
the hub can't be reached, UnknownBarcode when it knows no such order, and Refused with
the sentence to show otherwise; it runs on the screen's worker thread."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Callable

from edge_app.errors import HubUnreachable, Refused, UnknownBarcode
from edge_app.local.replica import Replica
from edge_app.workflows.returns import Chosen, ReturnLine, ReturnOrder, find_order
from sync.errors import BadReturnCode
from sync.return_codes import ReturnCode, is_return_code, read_return_code

__all__ = ["Ask", "lookup_query", "find_any_order", "order_from_hub", "order_from_return_code", "where_words",
           "with_returned"]

Ask = Callable[[dict[str, str]], dict[str, Any]]


def lookup_query(raw: str) -> dict[str, str]:
    """What to ask the hub for a scan: its return code, or an order number (`ORD:` kept)."""
    text = raw.strip()
    return {"return_code": text} if is_return_code(text) else {"number": text}


def find_any_order(replica: Replica, raw: str, ask: Ask | None) -> ReturnOrder:
    """The order on this device (edge_app.workflows.returns.find_order); else the hub's
    answer when it can be asked; else, offline, what the return code says. Raises Refused
    (UnknownBarcode when nobody knows the order)."""
    try:
        return find_order(replica, raw)
    except UnknownBarcode as not_here:
        missing = str(not_here)
    text = raw.strip()
    if is_return_code(text):
        _readable(text)
    if ask is not None:
        try:
            return order_from_hub(replica, ask(lookup_query(text)))
        except HubUnreachable:
            pass  # offline: the return code, if there is one
    if is_return_code(text):
        return order_from_return_code(replica, text)
    raise UnknownBarcode(f"{missing} The hub can't be asked now (offline): scan the return QR code on the "
                         "receipt or packing slip instead.")


def order_from_hub(replica: Replica, answer: dict[str, Any]) -> ReturnOrder:
    """The hub's look-up answer as a return order, with this device's own unsynced returns counted."""
    pending = _pending_returned(replica, answer["order_id"])
    lines = tuple(ReturnLine(line["line_no"], line["sku"], line["name"], line["sold"],
                             line["returned"] + pending.get(line["line_no"], 0)) for line in answer["lines"])
    if not any(line.sold for line in lines):
        raise Refused(f"Nothing of order {answer['number']} has reached the customer yet, so nothing can come back.")
    return ReturnOrder(answer["order_id"], answer["number"], "", lines, source="hub", shipped_by=answer.get("location"),
                       fulfilment=answer.get("fulfilment") or "")


def order_from_return_code(replica: Replica, raw: str) -> ReturnOrder:
    """The order a return code names, as far as the code says: each line up to its ordered
    quantity (the hub holds the return to what was really sold when it arrives)."""
    said = _readable(raw.strip())
    pending = _pending_returned(replica, said.order_id)
    names = {r["sku"]: r["name"] for r in replica.query(
        f"SELECT sku, name FROM items WHERE sku IN ({', '.join('?' * len(said.lines))})", tuple(l.sku for l in said.lines))}
    lines = tuple(ReturnLine(l.line_no, l.sku, names.get(l.sku, l.sku), l.qty, pending.get(l.line_no, 0)) for l in said.lines)
    return ReturnOrder(said.order_id, said.number, "", lines, source="return_code", shipped_by=said.location or None,
                       return_code=raw.strip())


def where_words(replica: Replica, order: ReturnOrder) -> str:
    """The sentence that tells the associate which case this is."""
    here = replica.get_meta("location") or "this store"
    if order.source == "device":
        return f"Order {order.number} for {order.customer_name}. Choose what comes back."
    verb = "handed over" if order.fulfilment == "pickup" else "shipped"
    by = f"was {verb} by {order.shipped_by}" if order.shipped_by else "is another location's"
    if order.source == "hub":
        return f"Order {order.number} {by}; the return is recorded here at {here}. Choose what comes back."
    return (f"Order {order.number} {by} (read from its receipt, offline); the return is recorded here at {here}, "
            "and the hub checks the receipt when this device syncs. Choose what comes back.")


def with_returned(order: ReturnOrder, chosen: list[Chosen]) -> ReturnOrder:
    """The order once the `chosen` units are recorded as back (this device holds no copy to re-read)."""
    back: dict[int, int] = {}
    for c in chosen:
        if c.line_no is not None:
            back[c.line_no] = back.get(c.line_no, 0) + c.qty
    return replace(order, lines=tuple(replace(line, returned=line.returned + back.get(line.line_no, 0)) for line in order.lines))


def _readable(text: str) -> ReturnCode:
    try:
        return read_return_code(text)
    except BadReturnCode as exc:
        raise Refused("This return code does not read as one of ours: the receipt is damaged or not genuine. "
                      "Search by the order number, or call a supervisor.") from exc


def _pending_returned(replica: Replica, order_id: str) -> dict[int, int]:
    """Units of the order's lines this device returned that the hub's answer may not count yet."""
    rows = replica.query("SELECT line_no, SUM(returned) AS n FROM live_floor_effects WHERE order_id = ? "
                         "AND line_no IS NOT NULL GROUP BY line_no", (order_id,))
    return {r["line_no"]: r["n"] for r in rows}
