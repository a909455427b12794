"""The change feed: every hub write that a device must see becomes a row here,
scoped to one location (or `*` for all), and devices pull rows past their cursor."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from hub.tx import Tx
from sync.models import PullResponse

__all__ = ["ALL_LOCATIONS", "FeedRow", "Page", "emit", "emit_order", "emit_stock", "order_snapshot", "flush", "pull", "head"]

ALL_LOCATIONS = "*"


def emit(conn: Tx, scope: str, entity: str, key: str, data: dict[str, Any] | None) -> None:
    """Publish an entity's state (None: it is gone) with the transaction.

    Each change carries the entity's whole state, so the transaction writes only
    the last one per entity, when it flushes: a push of twenty picks on one order
    line publishes the order once, not twenty times."""
    _stage(conn, (scope, entity, key), data)


def emit_order(conn: Tx, order_id: str) -> None:
    """Publish the order as it stands when the transaction flushes, to its location's devices."""
    _stage(conn, ("", "order", order_id), _OrderAtFlush(order_id))


def emit_stock(conn: Tx, location: str, bin_code: str, sku: str) -> None:
    """Publish the bin's on-hand of the SKU as it stands when the transaction flushes."""
    _stage(conn, (location, "stock", f"{bin_code}|{sku}"), _StockAtFlush(location, bin_code, sku))


def order_snapshot(conn: Tx, order_id: str) -> dict[str, Any] | None:
    order = conn.execute("SELECT * FROM orders WHERE id = :id", {"id": order_id}).mappings().first()
    if order is None:
        return None
    lines = conn.execute(
        "SELECT * FROM order_lines WHERE order_id = :id ORDER BY line_no", {"id": order_id}
    ).mappings()
    snapshot = dict(order)
    snapshot["lines"] = [{k: v for k, v in line.items() if k != "order_id"} for line in lines]
    return snapshot


def flush(conn: Tx) -> None:
    """Write the staged changes, in the order their entities were last touched."""
    staged: dict[tuple[str, str, str], Any] = conn.staged.pop("feed", {})
    rows = []
    for (scope, entity, key), data in staged.items():
        if callable(data):
            scope, data = data(conn)
            if scope is None:
                continue
        rows.append({"s": scope, "e": entity, "k": key, "d": None if data is None else json.dumps(data)})
    conn.executemany("INSERT INTO changes (scope, entity, key, data) VALUES (:s, :e, :k, :d)", rows)


def head(conn: Tx) -> int:
    """The last change's sequence number, the staged changes written first."""
    if conn.staged.get("feed"):
        flush(conn)
    return conn.execute("SELECT COALESCE(MAX(seq), 0) FROM changes").scalar_one()


def _stage(conn: Tx, entity_key: tuple[str, str, str], data: Any) -> None:
    staged = conn.staged.setdefault("feed", {})
    staged.pop(entity_key, None)  # moved to the end: the order of last touches
    staged[entity_key] = data
    conn.on_flush("feed", flush, last=True)


@dataclass(frozen=True)
class _OrderAtFlush:
    order_id: str

    def __call__(self, conn: Tx) -> tuple[str | None, dict[str, Any] | None]:
        snapshot = order_snapshot(conn, self.order_id)
        return (None, None) if snapshot is None else (snapshot["location"], snapshot)


@dataclass(frozen=True)
class _StockAtFlush:
    location: str
    bin: str
    sku: str

    def __call__(self, conn: Tx) -> tuple[str, dict[str, Any]]:
        on_hand = conn.execute(
            "SELECT on_hand FROM stock WHERE location = :l AND bin = :b AND sku = :s",
            {"l": self.location, "b": self.bin, "s": self.sku},
        ).scalar()
        return self.location, {"location": self.location, "bin": self.bin, "sku": self.sku, "on_hand": on_hand or 0}


@dataclass
class FeedRow:
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

    def json(self, hlc: str | None) -> bytes:
        """PullResponse JSON. The stored data is spliced in as it is: parsing and
        re-serialising thousands of changes was most of a pull's time."""
        changes = ",".join(
            f'{{"seq":{c.seq},"entity":{json.dumps(c.entity)},"key":{json.dumps(c.key)},'
            f'"data":{"null" if c.data_json is None else c.data_json}}}'
            for c in self.changes
        )
        more = "true" if self.more else "false"
        return f'{{"changes":[{changes}],"cursor":{self.cursor},"more":{more},"hlc":{json.dumps(hlc)}}}'.encode()

    def response(self, hlc: str | None = None) -> PullResponse:
        return PullResponse.model_validate_json(self.json(hlc))


def pull(conn: Tx, location: str, since: int, limit: int, device_scope: str = "") -> Page:
    """Changes for `location` (and the device's own scope) after `since`, oldest first, at most `limit`."""
    rows, cursor, more = _page(conn, location, since, limit, device_scope)
    return Page([FeedRow(r.seq, r.entity, r.key, r.data) for r in rows], cursor, more)


def _page(conn: Tx, location: str, since: int, limit: int, device_scope: str):
    # The head is read first and bounds the page: rows up to it are all committed
    # (feed rows commit in seq order), so a cursor moved to it skips nothing, even
    # where each statement sees the latest commits (PostgreSQL's read committed).
    top = head(conn)
    rows = conn.execute(
        "SELECT seq, entity, key, data FROM changes "
        "WHERE seq > :since AND seq <= :top AND scope IN (:loc, :all, :dev) ORDER BY seq LIMIT :lim",
        {"since": since, "top": top, "loc": location, "all": ALL_LOCATIONS, "dev": device_scope, "lim": limit + 1},
    ).all()
    more = len(rows) > limit
    rows = rows[:limit]
    # With nothing more to send, skip the device past other locations' changes too.
    cursor = rows[-1].seq if more else max(top, since)
    return rows, cursor, more
