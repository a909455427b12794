"""The change feed: every hub write that a device must see becomes a row here,
scoped to one location (or `*` for all), and devices pull rows past their cursor."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Callable, NamedTuple

from pydantic_core import to_json

from hub.return_codes import return_code_for
from hub.store.tx import FEED, Tx
from sync.models import PullResponse

__all__ = ["ALL_LOCATIONS", "device_scope", "FeedRow", "Page", "emit", "emit_order", "emit_stock", "order_snapshot", "order_snapshots", "line_extras", "LineExtras", "order_extras",
           "publish_known_orders", "publish_known_stock", "forget_known", "flush", "pull", "head", "cursor_tag",
           "unpublished", "publishing"]

ALL_LOCATIONS = "*"


# A what-if replays the log into a scratch database no device pulls from and no relay
# reads: there, nothing is staged for the feed and no event is written (a third of the
# replay's time went to rows nobody would read).
_UNPUBLISHED: ContextVar[bool] = ContextVar("backroom_feed_unpublished", default=False)


@contextmanager
def unpublished() -> Iterator[None]:
    """Within it, writes publish nothing: no change feed rows, no events."""
    token = _UNPUBLISHED.set(True)
    try:
        yield
    finally:
        _UNPUBLISHED.reset(token)


def publishing() -> bool:
    return not _UNPUBLISHED.get()


def device_scope(device_id: str) -> str:
    """The change-feed scope of one device's own rows (its allotments)."""
    return f"device:{device_id}"


def emit(conn: Tx, scope: str, entity: str, key: str, data: dict[str, Any] | None) -> None:
    """Publish an entity's state (None: it is gone) with the transaction.

    Each change carries the entity's whole state, so the transaction writes only
    the last one per entity, when it flushes: a push of twenty picks on one order
    line publishes the order once, not twenty times."""
    _stage(conn, (scope, entity, key), data)


def emit_order(conn: Tx, order_id: str) -> None:
    """Publish the order as it stands when the transaction flushes, to its location's devices."""
    staged = conn.staged.get("feed")
    if staged is not None:
        marker = staged.get(("", "order", order_id))
        if isinstance(marker, _AtFlush) and marker.known is None:
            return  # staged to be read at the flush already (the pick path calls this once a unit)
    _stage(conn, ("", "order", order_id), _AtFlush("order"))


def emit_stock(conn: Tx, location: str, bin_code: str, sku: str) -> None:
    """Publish the bin's on-hand of the SKU as it stands when the transaction flushes."""
    _stage(conn, (location, "stock", f"{bin_code}|{sku}"), _AtFlush("stock", bin_code, sku))


def publish_known_orders(conn: Tx, snapshots: dict[str, Callable[[], dict[str, Any]]]) -> None:
    """Orders staged to be read at the flush whose state the caller holds: published
    from `snapshots[id]()` instead (held orders, just written back). A later
    `emit_order` (a handler that changed the tables) stages a read again."""
    staged = conn.staged.get("feed")
    if not staged:
        return
    for order_id, snapshot in snapshots.items():
        marker = staged.get(("", "order", order_id))
        if isinstance(marker, _AtFlush):
            marker.known = snapshot()


def publish_known_stock(conn: Tx, rows: list[tuple[str, str, str, int]]) -> None:
    """Publish (location, bin, sku, on_hand) rows the caller has just written, as they are."""
    for location, bin_code, sku, on_hand in rows:
        marker = _AtFlush("stock", bin_code, sku)
        marker.known = {"location": location, "bin": bin_code, "sku": sku, "on_hand": on_hand}
        _stage(conn, (location, "stock", f"{bin_code}|{sku}"), marker)


def forget_known(conn: Tx) -> None:
    """Read every staged entity back at the flush after all: a handler is about to
    change tables behind what the stagers held."""
    for marker in (conn.staged.get("feed") or {}).values():
        if isinstance(marker, _AtFlush):
            marker.known = None


def order_snapshot(conn: Tx, order_id: str) -> dict[str, Any] | None:
    return order_snapshots(conn, [order_id]).get(order_id)


def order_snapshots(conn: Tx, order_ids: list[str]) -> dict[str, dict[str, Any]]:
    """Orders with their lines, as devices receive them, by id (two queries for all)."""
    # carriers: the ship-to address and contact (JSON text) go with the order, for its label
    orders = {o["id"]: dict(o) for o in conn.execute(
        "SELECT o.*, d.ship_to, d.contact FROM orders o LEFT JOIN order_details d ON d.order_id = o.id WHERE o.id IN :ids",
        {"ids": order_ids}).mappings()}
    for order in orders.values():
        order["lines"] = []
    lines = conn.execute("SELECT * FROM order_lines WHERE order_id IN :ids ORDER BY order_id, line_no", {"ids": order_ids})
    extras = line_extras(conn, list(orders))  # substitution at pick, lines shipped together
    for line in lines.mappings():
        order_id = line.pop("order_id")
        orders[order_id]["lines"].append({**line, **extras.get(order_id, _NO_EXTRAS).of(line["line_no"])})
    for order in orders.values():  # returns from any channel: printed on the packing slip
        order["return_code"] = return_code_for(conn, order["id"], order["number"], order["location"],
                                               [(l["line_no"], l["sku"], l["qty"]) for l in order["lines"]])
    for order_id, extra in order_extras(conn, list(orders)).items():
        orders[order_id].update(extra)
    return orders


def order_extras(conn: Tx, order_ids: list[str]) -> dict[str, dict[str, Any]]:
    """What devices get with an order beyond its row, by id: the hub's SLA risk (at-risk
    orders first on their lists) and why routing sent it there. The pick path's snapshot
    (hub.domain.pick_state) merges the same, so both publish one shape."""
    extras: dict[str, dict[str, Any]] = {}
    if not order_ids:
        return extras
    for order_id, level, reason in conn.execute("SELECT order_id, level, reason FROM order_risk WHERE order_id IN :ids",
                                                {"ids": order_ids}).tuples():
        extras.setdefault(order_id, {}).update(risk_level=level, risk_reason=reason)
    for order_id, why in conn.execute("SELECT order_id, why_here FROM routing_decisions WHERE order_id IN :ids "
                                      "AND why_here IS NOT NULL ORDER BY id", {"ids": order_ids}).tuples():
        extras.setdefault(order_id, {})["routing_why"] = why  # the last decision's
    return extras


class LineExtras(NamedTuple):
    """What a channel said about an order's lines (routing keeps it in order_details)."""

    substitutes: frozenset[int] = frozenset()  # lines that allow a substitute
    groups: dict[int, str] = {}  # line → the label of the lines it ships together with

    def of(self, line_no: int) -> dict[str, Any]:
        """The fields each line of the order carries to devices beyond its row."""
        return {"substitutes_allowed": line_no in self.substitutes, "ship_with": self.groups.get(line_no)}


_NO_EXTRAS = LineExtras()


def line_extras(conn: Tx, order_ids: list[str]) -> dict[str, LineExtras]:
    """Per order, its lines' substitution and ship-together settings (absent: none)."""
    if not order_ids:
        return {}
    rows = conn.execute("SELECT order_id, substitutes, ship_groups FROM order_details WHERE order_id IN :ids",
                        {"ids": order_ids})
    return {r.order_id: LineExtras(frozenset(json.loads(r.substitutes)) if r.substitutes else frozenset(),
                                   {int(n): g for n, g in json.loads(r.ship_groups).items()} if r.ship_groups else {})
            for r in rows if r.substitutes or r.ship_groups}


def flush(conn: Tx) -> None:
    """Write the staged changes, in the order their entities were last touched."""
    staged: dict[tuple[str, str, str], Any] = conn.staged.pop("feed", {})
    resolved = _resolve_at_flush(conn, staged)
    rows = []
    for entity_key, data in staged.items():
        scope, entity, key = entity_key
        if isinstance(data, _AtFlush):
            if entity_key not in resolved:
                continue
            scope, data = resolved[entity_key]
        rows.append((scope, entity, key, None if data is None else to_json(data).decode()))
    conn.executemany("INSERT INTO changes (scope, entity, key, data) VALUES (?, ?, ?, ?)", rows)


def head(conn: Tx) -> int:
    """The last change's sequence number, the staged changes written first."""
    if conn.staged.get("feed"):
        flush(conn)
    return conn.execute("SELECT COALESCE(MAX(seq), 0) FROM changes").scalar_one()


def _stage(conn: Tx, entity_key: tuple[str, str, str], data: Any) -> None:
    if _UNPUBLISHED.get():
        return
    staged = conn.staged.setdefault("feed", {})
    staged.pop(entity_key, None)  # moved to the end: the order of last touches
    staged[entity_key] = data
    conn.on_flush("feed", flush, stage=FEED)


class _AtFlush:
    """An entity published as it stands at the flush, read then with the others of its kind."""

    __slots__ = ("kind", "bin", "sku", "known")

    def __init__(self, kind: str, bin_code: str = "", sku: str = ""):
        self.kind, self.bin, self.sku = kind, bin_code, sku
        self.known: dict[str, Any] | None = None  # its state, if the stager knows it


FeedKey = tuple[str, str, str]


def _resolve_at_flush(conn: Tx, staged: dict[FeedKey, Any]) -> dict[FeedKey, tuple[str, dict[str, Any]]]:
    """(scope, data) of every entity staged to be read at the flush: one query per kind."""
    markers = [(k, v) for k, v in staged.items() if isinstance(v, _AtFlush)]
    snapshots = {k[2]: v.known for k, v in markers if v.known is not None and v.kind == "order"}
    orders = [k for k, v in markers if v.kind == "order"]
    resolved: dict[FeedKey, tuple[str, dict[str, Any]]] = {
        k: (k[0], v.known) for k, v in markers if v.kind == "stock" and v.known is not None}
    stock = [(k, v) for k, v in markers if v.kind == "stock" and v.known is None]
    if orders:
        unknown = [key for _s, _e, key in orders if key not in snapshots]
        if unknown:
            snapshots.update(order_snapshots(conn, unknown))
        # An order gone, or not routed to a location yet, is published to nobody.
        resolved.update({k: (snapshots[k[2]]["location"], snapshots[k[2]]) for k in orders
                         if k[2] in snapshots and snapshots[k[2]]["location"] is not None})
    if stock:
        resolved.update(_stock_at_flush(conn, stock))
    return resolved


def _stock_at_flush(conn: Tx, staged: list[tuple[FeedKey, _AtFlush]]) -> dict[FeedKey, tuple[str, dict[str, Any]]]:
    by_location: dict[str, list[tuple[FeedKey, _AtFlush]]] = {}
    for k, at in staged:
        by_location.setdefault(k[0], []).append((k, at))
    resolved = {}
    for location, same in by_location.items():
        # By SKU (an index), then the bins wanted among them.
        rows = conn.execute(
            "SELECT bin, sku, on_hand FROM stock WHERE location = :l AND sku IN :skus",
            {"l": location, "skus": sorted({at.sku for _k, at in same})},
        ).all()
        on_hand = {(r.bin, r.sku): r.on_hand for r in rows}
        for k, at in same:
            data = {"location": location, "bin": at.bin, "sku": at.sku, "on_hand": on_hand.get((at.bin, at.sku)) or 0}
            resolved[k] = (location, data)
    return resolved


class FeedRow(NamedTuple):
    """One change as stored: its data is JSON text, passed on without parsing."""

    seq: int
    entity: str
    key: str
    data_json: str | None


@dataclass
class Page:
    """A page of the feed for one device: its changes, the cursor after them, more to come."""

    changes: list[FeedRow]
    cursor: int
    more: bool
    settled: int | None = None  # with more to come: the feed position the device's state reflects
    tag: str = ""  # the cursor's fingerprint (cursor_tag)

    def json(self, hlc: str | None) -> bytes:
        """PullResponse JSON. The stored data is spliced in as it is: parsing and
        re-serialising thousands of changes was most of a pull's time."""
        changes = ",".join(
            f'{{"seq":{c.seq},"entity":{json.dumps(c.entity)},"key":{json.dumps(c.key)},'
            f'"data":{"null" if c.data_json is None else c.data_json}}}'
            for c in self.changes
        )
        more = "true" if self.more else "false"
        settled = "" if self.settled is None else f',"settled":{self.settled}'
        return (f'{{"changes":[{changes}],"cursor":{self.cursor},"more":{more}{settled},"tag":"{self.tag}",'
                f'"hlc":{json.dumps(hlc)}}}').encode()

    def response(self, hlc: str | None = None) -> PullResponse:
        return PullResponse.model_validate_json(self.json(hlc))


def pull(conn: Tx, location: str, since: int, limit: int, device_scope: str = "") -> Page:
    """Changes for `location` (and the device's own scope) after `since`, oldest first, at most `limit`."""
    rows, cursor, more, settled = _page(conn, location, since, limit, device_scope)
    return Page(list(map(FeedRow._make, rows)), cursor, more, settled, cursor_tag(conn, cursor))


def cursor_tag(conn: Tx, cursor: int) -> str:
    """A fingerprint of the feed at `cursor` (its last change at or before it): a device
    sends it back with the cursor, and a hub restored from a backup, whose feed took
    other changes at those positions, finds it does not match (hub.api.pull_checks)."""
    row = conn.execute("SELECT seq, scope, entity, key, data FROM changes WHERE seq <= :c ORDER BY seq DESC LIMIT 1",
                       {"c": cursor}).first()
    if row is None:
        return ""
    return hashlib.sha256("|".join(str(v) for v in row).encode()).hexdigest()[:32]


def _page(conn: Tx, location: str, since: int, limit: int, device_scope: str):
    # The head is read first and bounds the page: rows up to it are all committed
    # (feed rows commit in seq order), so a cursor moved to it skips nothing, even
    # where each statement sees the latest commits (PostgreSQL's read committed).
    #
    # Compacted: a change that a later one (up to the head, in the same scopes)
    # replaces is not sent, as each carries its entity's whole state and a device
    # keeps only the last. Applying the rest gives the state applying all would, so a
    # new device's bootstrap is as long as its scope's current state, not its history.
    # A page's cursor is its last row: a change replaced after this page's head by one
    # past the cursor is sent in a later page (that one); none is sent twice.
    top = head(conn)
    rows = conn.execute(
        "SELECT seq, entity, key, data FROM changes c "
        "WHERE seq > :since AND seq <= :top AND scope IN (:loc, :all, :dev) "
        "AND NOT EXISTS (SELECT 1 FROM changes l WHERE l.entity = c.entity AND l.key = c.key "
        "AND l.seq > c.seq AND l.seq <= :top AND l.scope IN (:loc, :all, :dev)) ORDER BY seq LIMIT :lim",
        {"since": since, "top": top, "loc": location, "all": ALL_LOCATIONS, "dev": device_scope, "lim": limit + 1},
    ).tuples()
    more = len(rows) > limit
    rows = rows[:limit]
    # With nothing more to send, skip the device past other locations' changes too.
    cursor = rows[-1][0] if more else max(top, since)
    return rows, cursor, more, _settled(conn, since, cursor, top, (location, device_scope)) if more else None


def _settled(conn: Tx, since: int, cursor: int, top: int, scopes: tuple[str, str]) -> int:
    """Up to where a device that applied this page holds the hub's state: before the
    first change this page left out for a later one past its cursor (sent in a later
    page). An op's effect the device overlays leaves only once its position is reached."""
    first = conn.execute(
        "SELECT MIN(seq) FROM changes c WHERE seq > :since AND seq <= :cursor AND scope IN (:loc, :all, :dev) "
        "AND EXISTS (SELECT 1 FROM changes l WHERE l.entity = c.entity AND l.key = c.key "
        "AND l.seq > :cursor AND l.seq <= :top AND l.scope IN (:loc, :all, :dev))",
        {"since": since, "cursor": cursor, "top": top, "loc": scopes[0], "all": ALL_LOCATIONS, "dev": scopes[1]},
    ).scalar_one()
    return cursor if first is None else first - 1
