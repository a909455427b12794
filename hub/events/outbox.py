"""The outbox: the events of the ops a transaction applied, written by hub.log with
their op_log rows, so an event exists if and only if its change committed.

Each applied op gives its own events (a pick's stock movement, a count, a short, the
tasks its collision created, or `backroom.<kind>` with its payload), then the
transaction's order status changes are announced once each, compared with the status
each order was last announced in (`event_order_status`), and the conflicts the ops
recorded (past a watermark). Ids are `<op_id>:<n>`: stable, and unique because op ids are. Positions
come from the table's own counter; write transactions hold the feed lock on
PostgreSQL (hub.store.db), so positions become visible in order and a relay reading
past its cursor skips nothing.

Cost on the push path: one insert of all the rows, one look-up of the orders the ops
touched (by primary key) and two of the conflicts watermark."""

from __future__ import annotations

from typing import Any, Iterable, NamedTuple

from pydantic_core import to_json

from hub.events.types import SECRET_FIELDS, SPECIFIC_KINDS, generic_type, order_type
from hub.outcome import Context
from hub.store.tx import Tx
from sync.kinds import KINDS, SCHEMA_VERSION, upcast
from sync.models import Op, OpResult, OpStatus

__all__ = ["Event", "write_events", "events_of_op", "READY_FOR_PICKUP"]

# Statuses in which a pickup order waits at the counter (hub.domain.pickups.READY_STATUSES,
# not imported: the log's helpers stay clear of the domain).
READY_FOR_PICKUP = ("picked", "short", "packed", "partly_handed_over")


class Event(NamedTuple):
    type: str
    subject: str | None
    location: str | None
    data: dict[str, Any]


Entry = tuple[Context, Op, OpResult]


def write_events(conn: Tx, applied_at: str, entries: Iterable[Entry]) -> int:
    """Write the events of the applied ops among `entries`; returns how many."""
    applied = [(ctx, op, result) for ctx, op, result in entries if result.status == OpStatus.APPLIED]
    if not applied:
        return 0
    per_op: dict[str, list[Event]] = {op.op_id: events_of_op(ctx, op, result) for ctx, op, result in applied}
    last_op_of: dict[str, str] = {}
    for _ctx, op, _result in applied:
        if (order_id := _order_of(op)) is not None:
            last_op_of[order_id] = op.op_id
    for op_id, event in _order_changes(conn, last_op_of):
        per_op[op_id].append(event)
    for op_id, event in _conflicts(conn, {op.op_id: op.kind for _c, op, _r in applied}):
        per_op[op_id].append(event)
    rows = [(f"{op_id}:{n}", e.type, e.subject, e.location, applied_at, to_json(e.data).decode())
            for op_id, events in per_op.items() for n, e in enumerate(events)]
    conn.executemany("INSERT INTO events (id, type, subject, location, time, data) VALUES (?, ?, ?, ?, ?, ?)", rows)
    return len(rows)


def events_of_op(ctx: Context, op: Op, result: OpResult) -> list[Event]:
    """The events one applied op makes by itself (order status changes and conflicts
    are found by write_events, from the tables)."""
    p: dict[str, Any] = op.payload if isinstance(op.payload, dict) else {}
    if op.schema_version < SCHEMA_VERSION and op.kind in KINDS:
        p = upcast(op.kind, op.schema_version, p)  # an op from an older app reads as the current schema
    where = ctx.location or p.get("location")
    try:
        events = _specific(op.kind, where, p) if op.kind in SPECIFIC_KINDS else [_generic(op.kind, where, p)]
    except (KeyError, TypeError, ValueError):  # a payload this module does not expect must not fail the push
        events = [_generic(op.kind, where, p)]
    order_id = _order_of(op) if result.compensations else None
    for c in result.compensations:
        task_id = c.details.get("task_id")
        events.append(Event("backroom.task.recorded", f"task/{task_id}", where, {
            "task_id": task_id, "kind": c.kind, "sentence": c.sentence, "location": where, "order_id": order_id,
            "op_kind": op.kind}))
    return events


def _generic(kind: str, where: str | None, p: dict[str, Any]) -> Event:
    hidden = SECRET_FIELDS.get(kind, ())
    payload = {k: v for k, v in p.items() if k not in hidden}
    subject = p.get("order_id") or p.get("sku") or p.get("operator_id") or p.get("code")
    return Event(generic_type(kind), str(subject) if subject is not None else None, where,
                 {"location": where, "payload": payload})


def _stock(where: str, bin_code: str, sku: str, delta: int, reason: str, order_id: str | None = None) -> Event:
    return Event("backroom.stock.changed", f"{where}/{bin_code}/{sku}", where,
                 {"location": where, "bin": bin_code, "sku": sku, "delta": delta, "reason": reason, "order_id": order_id})


def _specific(kind: str, where: Any, p: dict[str, Any]) -> list[Event]:
    if kind == "pick.confirmed":
        return [_stock(where, p["bin"], p["sku"], -int(p["qty"]), "pick", p["order_id"])]
    if kind == "stock.received":
        return [_stock(where, p["bin"], p["sku"], int(p["qty"]), "receipt")]
    if kind == "stock.moved":
        return [_stock(where, p["from_bin"], p["sku"], -int(p["qty"]), "move"),
                _stock(where, p["to_bin"], p["sku"], int(p["qty"]), "move")]
    if kind == "count.recorded":
        reason = p.get("reason")
        return [Event("backroom.stock.counted", f"{where}/{p['bin']}/{p['sku']}", where, {
            "location": where, "bin": p["bin"], "sku": p["sku"], "counted": p["counted"],
            "reason": getattr(reason, "value", reason)})]
    if kind == "pick.shorted":
        return [Event("backroom.pick.shorted", p["order_id"], where, {
            "location": where, "order_id": p["order_id"], "line_no": p["line_no"], "sku": p["sku"],
            "bin": p.get("bin"), "qty": p["qty"], "reason": str(p["reason"])})]
    if kind == "return.received":
        lines = p.get("lines") or []
        events = [Event("backroom.return.received", p.get("return_id"), where, {
            "return_id": p.get("return_id"), "order_id": p.get("order_id"), "location": where, "lines": lines})]
        events += [_stock(where, line["bin"], line["sku"], int(line["qty"]), "return", p.get("order_id"))
                   for line in lines if line.get("disposition") == "restock" and line.get("bin")]
        return events
    if kind == "order.risk_assessed":
        return _risk(where, p)
    if kind == "device.status_set":
        return [Event("backroom.device.online" if p["online"] else "backroom.device.offline", f"device/{p['device_id']}",
                      where, {k: p.get(k) for k in ("device_id", "location", "online", "unsent_ops", "last_seen_at", "at")})]
    if kind in ("anomaly.raised", "anomaly.cleared"):
        return [_anomaly(kind, where, p)]
    return []  # the order's status change says it (write_events)


def _risk(where: str | None, p: dict[str, Any]) -> list[Event]:
    data = {"order_id": p["order_id"], "location": where, "level": p["level"], "reason": p["reason"],
            "assessed_at": p["at"]}
    if p["level"] == "ok":
        return [Event("backroom.risk.cleared", p["order_id"], where, data)]
    events = [Event("backroom.risk.raised", p["order_id"], where, data)]
    if p["level"] == "late":
        events.append(Event("backroom.order.delayed", p["order_id"], where, data))
    return events


def _anomaly(kind: str, where: str | None, p: dict[str, Any]) -> Event:
    """A cleared one carries its key only (the raise told the rest)."""
    key = str(p["key"])
    return Event(f"backroom.{kind}", key, where, {
        "key": key, "kind": p.get("kind") or key.split(":", 1)[0], "location": where, "subject": p.get("subject") or "",
        "evidence": p.get("evidence") or "", "numbers": p.get("numbers") or {}, "at": str(p["at"])})


def _order_of(op: Op) -> str | None:
    p = op.payload if isinstance(op.payload, dict) else {}
    value = p.get("id") if op.kind == "order.accepted" else p.get("order_id")
    return value if isinstance(value, str) else None


def _order_changes(conn: Tx, last_op_of: dict[str, str]) -> list[tuple[str, Event]]:
    """Each touched order whose status differs from the one last announced: its event
    (accepted first for an order new to the outbox), under the last op that touched it."""
    if not last_op_of:
        return []
    rows = conn.execute(
        "SELECT o.id, o.number, o.channel, o.fulfilment, o.location, o.status, o.promised_by, o.customer_name, "
        "e.status AS announced FROM orders o LEFT JOIN event_order_status e ON e.order_id = o.id WHERE o.id IN :ids",
        {"ids": sorted(last_op_of)},
    ).mappings()
    changed = [r for r in rows if r["status"] != r["announced"]]
    if not changed:
        return []
    lines = _lines(conn, [r["id"] for r in changed if r["announced"] is None])
    out: list[tuple[str, Event]] = []
    for r in sorted(changed, key=lambda r: r["id"]):
        op_id = last_op_of[r["id"]]
        base = {"order_id": r["id"], "number": r["number"], "channel": r["channel"], "fulfilment": r["fulfilment"],
                "location": r["location"], "promised_by": r["promised_by"]}
        previous = r["announced"]
        if previous is None:
            out.append((op_id, Event("backroom.order.accepted", r["id"], r["location"], {
                **base, "status": "accepted", "previous_status": None, "lines": lines.get(r["id"], [])})))
            previous = "accepted"
        out.append((op_id, Event(order_type(r["status"]), r["id"], r["location"],
                                 {**base, "status": r["status"], "previous_status": previous})))
        if r["fulfilment"] == "pickup" and r["status"] in READY_FOR_PICKUP and previous not in READY_FOR_PICKUP:
            out.append((op_id, Event("backroom.pickup.ready", r["id"], r["location"], {
                "order_id": r["id"], "number": r["number"], "location": r["location"],
                "customer_name": r["customer_name"] or "", "status": r["status"], "promised_by": r["promised_by"]})))
    conn.executemany(
        "INSERT INTO event_order_status (order_id, status) VALUES (?, ?) "
        "ON CONFLICT (order_id) DO UPDATE SET status = excluded.status",
        [(r["id"], r["status"]) for r in changed],
    )
    return out


def _lines(conn: Tx, order_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    if not order_ids:
        return {}
    found: dict[str, list[dict[str, Any]]] = {}
    for r in conn.execute("SELECT order_id, line_no, sku, qty FROM order_lines WHERE order_id IN :ids "
                          "ORDER BY order_id, line_no", {"ids": order_ids}).tuples():
        found.setdefault(r[0], []).append({"line_no": r[1], "sku": r[2], "qty": r[3]})
    return found


def _conflicts(conn: Tx, kinds: dict[str, str]) -> list[tuple[str, Event]]:
    """Conflicts recorded since the last announced one (a watermark: looking them up
    by the ops' ids cost a query over every op of a group), under their op."""
    seen = int(conn.execute("SELECT position FROM relay_cursors WHERE name = :n", {"n": _CONFLICTS}).scalar() or 0)
    rows = conn.execute("SELECT id, rule, op_id, device_id, location, outcome FROM conflicts WHERE id > :w ORDER BY id",
                        {"w": seen}).tuples()
    if not rows:
        return []
    conn.execute("INSERT INTO relay_cursors (name, position, updated_at) VALUES (:n, :p, '') "
                 "ON CONFLICT (name) DO UPDATE SET position = excluded.position", {"n": _CONFLICTS, "p": rows[-1][0]})
    return [(op_id, Event("backroom.conflict.recorded", f"conflict/{cid}", location, {
        "conflict_id": cid, "rule": rule, "outcome": outcome, "location": location, "device_id": device,
        "op_kind": kinds[op_id]})) for cid, rule, op_id, device, location, outcome in rows if op_id in kinds]


_CONFLICTS = "outbox:conflicts"  # the last conflict announced (a row of relay_cursors)
