"""Substitutes on the floor: which items may stand in for a short line, as this device
sees them (offline too: the rules, the catalogue attributes and the stock come with
the feed), and recording the substitute taken (`pick.substituted`).

The candidates are ranked by sync.substitutes, the same rule the hub checks. A
terminal substitutes only from its escrow allotment of the substitute: it confirms
at once, online or not, so what it covers can never oversell; beyond its allotment
it says so and the line stays short."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from edge_app.errors import Refused, WrongItem
from edge_app.local import outbox
from edge_app.local.allotments import headroom
from edge_app.local.replica import Replica
from edge_app.workflows.pick_list import PickLine
from edge_app.workflows.scans import barcode_forms
from sync.substitutes import Candidate, ItemFacts, SubstituteRule, rank_candidates

__all__ = ["Substitute", "substitutable", "candidates", "choose", "verify_scan", "record"]

_FACTS = "SELECT sku, name, category, size_qty, size_unit, price_cents FROM items"


@dataclass(frozen=True)
class Substitute:
    """The candidate the picker chose, and the bin to take it from."""

    sku: str
    name: str
    bin: str
    from_allotment: bool  # a terminal: covered by its escrow allotment


def substitutable(replica: Replica, line: PickLine) -> bool:
    row = replica.query_one("SELECT substitutes_allowed FROM order_lines WHERE order_id = ? AND line_no = ?",
                            (line.order_id, line.line_no))
    return bool(row and row["substitutes_allowed"])


def candidates(replica: Replica, line: PickLine) -> list[Candidate]:
    """The items that may stand in for the line's, with units on hand here, closest match first."""
    if not substitutable(replica, line):
        return []
    row = replica.query_one(f"{_FACTS} WHERE sku = ?", (line.sku,))
    if row is None:
        return []
    original = _facts(row)
    rule = _rule(replica, line.sku)
    listed = rule.listed if rule else ()
    others = [_facts(r) for r in replica.query(
        f"{_FACTS} WHERE category = ? OR sku IN ({', '.join('?' * len(listed)) or 'NULL'})", (original.category, *listed))]
    skus = [i.sku for i in others if i.sku != line.sku]
    if not skus:
        return []
    on_hand = {r["sku"]: r["units"] for r in replica.query(  # only the candidates' bins: a render asks this
        f"SELECT sku, SUM(on_hand) AS units FROM stock_now WHERE sku IN ({', '.join('?' * len(skus))}) GROUP BY sku",
        tuple(skus))}
    return rank_candidates(original, others, rule, on_hand)


def choose(replica: Replica, line: PickLine, sku: str, qty: int = 1) -> Substitute:
    """The candidate `sku` for the line, with its fullest bin. Raises Refused when it is
    no candidate, or (a terminal) when its allotment cannot cover `qty` units."""
    found = next((c for c in candidates(replica, line) if c.sku == sku), None)
    if found is None:
        raise Refused(f"{sku[:40]} is not a substitute for {line.name} here. Choose one from the list.")
    terminal = replica.get_meta("role") == "terminal"
    if terminal and (held := _headroom(replica, sku)) < qty:
        raise Refused(f"This terminal holds {held} × {found.name} to sell offline: not enough to substitute "
                      f"{qty}. The line stays short: report it short.")
    bin_row = replica.query_one("SELECT s.bin FROM stock_now s LEFT JOIN bins b ON b.code = s.bin "
                                "WHERE s.sku = ? AND s.on_hand > 0 ORDER BY s.on_hand DESC, b.seq LIMIT 1", (sku,))
    assert bin_row is not None  # a candidate has units on hand
    return Substitute(found.sku, found.name, bin_row["bin"], terminal)


def verify_scan(replica: Replica, substitute: Substitute, raw: str) -> None:
    """The scan must be a barcode of the substitute itself (a typed SKU is not
    enough: nothing unverified is picked). Raises WrongItem or Refused."""
    forms = barcode_forms(raw)
    row = replica.query_one(f"SELECT b.sku, i.name FROM barcodes b LEFT JOIN items i ON i.sku = b.sku "
                            f"WHERE b.code IN ({', '.join('?' * len(forms))}) LIMIT 1", tuple(forms))
    if row is None:
        raise Refused(f"No item has barcode {raw.strip()[:40]}. Scan the barcode on the {substitute.name}.")
    if row["sku"] != substitute.sku:
        raise WrongItem(f"Wrong item: that is {row['name'] or row['sku']}, not the substitute {substitute.name}.")


def record(conn: sqlite3.Connection, line: PickLine, substitute: Substitute, qty: int, actor: str,
           tote: str | None) -> None:
    """Record `qty` units of the substitute for the line, inside the caller's transaction.
    Raises Refused (nothing written) when a terminal's allotment no longer covers them."""
    if substitute.from_allotment and (held := headroom(conn, substitute.sku, datetime.now(timezone.utc))) < qty:
        raise Refused(f"This terminal holds {held} × {substitute.name} to sell offline: not enough for {qty}. "
                      "Put them back; the line stays short: report it short.")
    payload: dict[str, Any] = {"order_id": line.order_id, "line_no": line.line_no, "sku": line.sku,
                               "substitute_sku": substitute.sku, "bin": substitute.bin, "qty": qty,
                               "from_allotment": substitute.from_allotment}
    if tote:
        payload["tote"] = tote
    outbox.record_op(conn, "pick.substituted", payload, actor, outbox.PendingEffect(
        lines=((line.order_id, line.line_no, qty, 0),), stock=((substitute.bin, substitute.sku, -qty),),
        escrow=((substitute.sku, qty),) if substitute.from_allotment else ()))


def _headroom(replica: Replica, sku: str) -> int:
    with replica.transaction() as conn:
        return headroom(conn, sku, datetime.now(timezone.utc))


def _facts(row: Any) -> ItemFacts:
    return ItemFacts(row["sku"], row["name"], row["category"], row["size_qty"], row["size_unit"], row["price_cents"])


def _rule(replica: Replica, sku: str) -> SubstituteRule | None:
    row = replica.query_one("SELECT substitutes, by_rule, price_band_pct FROM substitute_rules WHERE sku = ?", (sku,))
    if row is None:
        return None
    return SubstituteRule(sku, tuple(json.loads(row["substitutes"])), bool(row["by_rule"]), row["price_band_pct"])
