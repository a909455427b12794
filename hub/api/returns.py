"""Returns from any channel: a store's counter device asks the hub for an order its
replica does not hold (another location shipped it), by number (`ORD:` receipt
barcode) or by its signed return code.

The answer holds what a return needs and nothing else: the order's number, the
location that sent it, and per line the item, what reached the customer and what
came back already. Never the customer's name, contact, address, pickup code or
return code. Only associate and supervisor devices may ask; each device may ask
LOOKUPS_PER_MINUTE times a minute (429 after), and every answer, found or not, is
written to the audit trail (`returns.lookup`)."""

from __future__ import annotations

from functools import cache
from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel
from starlette.routing import BaseRoute

from hub.api.callers import Caller, client_of, device_of
from hub.api.door import Throttle
from hub.audit import record_audit
from hub.errors import Conflict, Forbidden, Invalid, NotFound, TooMany
from hub.return_codes import return_code_refusal
from hub.store.tx import Tx
from sync.errors import BadReturnCode
from sync.kinds import PRINTABLE
from sync.return_codes import MAX_CODE_CHARS, read_return_code
from sync.rules import units_out

__all__ = ["returns_routes", "ReturnableLine", "ReturnableOrder", "returnable_order", "LOOKUPS_PER_MINUTE"]

LOOKUPS_PER_MINUTE = 30  # a counter serves one customer at a time; a script walking numbers does not
_COUNTER_ROLES = frozenset({"associate", "supervisor"})


class ReturnableLine(BaseModel):
    line_no: int
    sku: str
    name: str
    sold: int  # reached the customer: handed over (pickup), or packed and shipped (sync.rules.units_out)
    returned: int
    refunded: int


class ReturnableOrder(BaseModel):
    order_id: str
    number: str
    location: str | None  # the location that shipped it or handed it over
    fulfilment: str
    status: str
    lines: list[ReturnableLine]


def returnable_order(conn: Tx, *, order_id: str | None = None, number: str | None = None) -> ReturnableOrder:
    """The order as a return needs it; raises NotFound, or Conflict for a number that
    several channels' orders share."""
    where, value = ("id", order_id) if order_id is not None else ("number", number)
    rows = conn.execute(f"SELECT id, number, location, fulfilment, status FROM orders WHERE {where} = :v LIMIT 2",
                        {"v": value}).mappings().all()
    if not rows:
        raise NotFound(f"no order {str(value)[:40]}")
    if len(rows) > 1:
        raise Conflict(f"several orders have number {str(value)[:40]}: scan the return code on the receipt")
    order = rows[0]
    lines = conn.execute(
        "SELECT l.line_no, l.sku, COALESCE(i.name, l.sku) AS name, l.qty_packed, l.qty_handed_over, "
        "l.qty_returned, l.qty_refunded FROM order_lines l LEFT JOIN items i ON i.sku = l.sku "
        "WHERE l.order_id = :o ORDER BY l.line_no", {"o": order["id"]}).mappings()
    return ReturnableOrder(order_id=order["id"], number=order["number"], location=order["location"],
                           fulfilment=order["fulfilment"], status=order["status"], lines=[ReturnableLine(
                               line_no=l["line_no"], sku=l["sku"], name=l["name"], returned=l["qty_returned"],
                               refunded=l["qty_refunded"], sold=units_out(order["fulfilment"], order["status"],
                                                                          l["qty_packed"], l["qty_handed_over"]))
                           for l in lines])


@cache
def returns_routes() -> list[BaseRoute]:
    """The returns look-up route, under /v1; built once per process, like routing_routes."""
    return _build()


def _build() -> list[BaseRoute]:
    router = APIRouter(prefix="/v1", tags=["returns"])

    @router.get("/returns/lookup")
    def lookup(request: Request, who: Caller,
               number: Annotated[str | None, Query(min_length=1, max_length=68, pattern=PRINTABLE)] = None,
               return_code: Annotated[str | None, Query(min_length=1, max_length=MAX_CODE_CHARS, pattern=PRINTABLE)] = None,
               ) -> ReturnableOrder:
        """An order to take back at this counter, by `number` (`ORD:` prefix allowed) or
        by the `return_code` on its receipt (refused when the hub did not sign it)."""
        device = device_of(who)
        if device.role not in _COUNTER_ROLES:
            raise Forbidden(f"a {device.role} device may not look up orders to take back")
        _throttle(request, device.id)
        with request.app.state.db.write() as conn:
            try:
                found = _find(conn, number, return_code)
            except (NotFound, Conflict, Invalid) as exc:
                record_audit(conn, f"device:{device.id}", "returns.lookup", (number or "return code")[:60],
                             type(exc).__name__.lower(), client_of(request), {"location": device.location})
                raise
            record_audit(conn, f"device:{device.id}", "returns.lookup", found.number, "found", client_of(request),
                         {"location": device.location, "order_location": found.location})
            return found

    return list(router.routes)


def _find(conn: Tx, number: str | None, return_code: str | None) -> ReturnableOrder:
    if return_code is not None:
        try:
            said = read_return_code(return_code)
        except BadReturnCode as exc:
            raise Invalid(f"return_code: {exc}") from exc
        forged = return_code_refusal(conn, {"return_code": return_code, "order_id": said.order_id, "lines": []})
        if forged is not None:
            raise Invalid(f"return_code: {forged[1]}")
        return returnable_order(conn, order_id=said.order_id)
    if number is None:
        raise Invalid("give the order's number or the return code on its receipt")
    plain = number[4:] if number.upper().startswith("ORD:") else number
    return returnable_order(conn, number=plain.strip())


def _throttle(request: Request, device_id: str) -> None:
    throttle: Throttle | None = getattr(request.app.state, "return_lookups", None)
    if throttle is None:
        throttle = request.app.state.return_lookups = Throttle(limit=LOOKUPS_PER_MINUTE, window_s=60.0)
    if (wait := throttle.retry_after(device_id)) > 0:
        raise TooMany(f"this device looked up {LOOKUPS_PER_MINUTE} orders in the last minute; try again in {wait} s")
    throttle.failed(device_id)  # counts every look-up, not only failures
