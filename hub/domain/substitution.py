"""Substitution at pick: substitute rules as catalogue data, and a picker's substitute
for an order line that allows one.

A substitution is a request (sync.kinds.PickSubstituted): the hub refuses it with a
reason code when the line does not allow substitutes, the item may not stand in
(sync.substitutes), or the hub cannot hold the units: the substitute must be free at
the location, or covered by the sending terminal's escrow allotment. So a substitute
taken offline never oversells; a refused one leaves the line as it was (open, to be
reported short) and the picker puts the units back."""

from __future__ import annotations

import json

from hub.commands import SubstitutesSet
from hub.domain.escrow import ESCROW_ROLES, draw_allotment, outstanding
from hub.domain.picking import line_state, refuse_line, settle_order_status
from hub.domain.stock import Movement, commitments, move, promising
from hub.domain.network import emit_items
from hub.outcome import Context, Outcome
from hub.store.tx import Tx
from sync.kinds import PickSubstituted
from sync.models import Op
from sync.rules import PICKING_STATUSES
from sync.substitutes import ItemFacts, SubstituteRule, may_substitute

__all__ = ["substitutes_set", "pick_substituted", "item_facts", "substitute_rule", "allowed_lines"]


def substitutes_set(conn: Tx, _ctx: Context, _op: Op, p: SubstitutesSet) -> Outcome:
    known = set(conn.execute("SELECT sku FROM items WHERE sku IN :s", {"s": [p.sku, *p.substitutes]}).scalars())
    if p.sku not in known:
        return Outcome.refused("unknown_sku", f"sku: unknown SKU {p.sku!r}")
    if unknown := [s for s in p.substitutes if s not in known]:
        return Outcome.refused("unknown_sku", f"substitutes: unknown SKU {unknown[0]!r}")
    if p.sku in p.substitutes:
        return Outcome.refused("invalid", f"substitutes: {p.sku} cannot stand in for itself")
    listed = list(dict.fromkeys(p.substitutes))
    conn.execute("DELETE FROM substitute_rules WHERE sku = :s", {"s": p.sku})
    conn.execute("INSERT INTO substitute_rules (sku, substitutes, by_rule, price_band_pct) VALUES (:s, :l, :r, :b)",
                 {"s": p.sku, "l": json.dumps(listed), "r": p.by_rule, "b": p.price_band_pct})
    emit_items(conn, [p.sku])  # the rule travels with its item: an app without it ignores it
    return Outcome(message=f"{len(listed)} listed substitutes for {p.sku}")


def item_facts(conn: Tx, sku: str) -> ItemFacts | None:
    row = conn.execute("SELECT sku, name, category, size_qty, size_unit, price_cents FROM items WHERE sku = :s",
                       {"s": sku}).first()
    return None if row is None else ItemFacts(row.sku, row.name, row.category, row.size_qty, row.size_unit, row.price_cents)


def substitute_rule(conn: Tx, sku: str) -> SubstituteRule | None:
    row = conn.execute("SELECT substitutes, by_rule, price_band_pct FROM substitute_rules WHERE sku = :s", {"s": sku}).first()
    return None if row is None else SubstituteRule(sku, tuple(json.loads(row.substitutes)), bool(row.by_rule), row.price_band_pct)


def allowed_lines(conn: Tx, order_id: str) -> list[int]:
    """Line numbers of the order that allow substitutes (kept by routing in order_details)."""
    raw = conn.execute("SELECT substitutes FROM order_details WHERE order_id = :o", {"o": order_id}).scalar()
    return json.loads(raw) if raw else []


def pick_substituted(conn: Tx, ctx: Context, op: Op, p: PickSubstituted) -> Outcome:
    if (refusal := _refusal(conn, ctx, p)) is not None:
        return refusal
    escrow = p.from_allotment and ctx.role in ESCROW_ROLES and outstanding(conn, ctx.device_id, p.substitute_sku) >= p.qty
    if not escrow and (free := commitments(conn, ctx.here, p.substitute_sku).free) < p.qty:
        code = "escrow_lapsed" if p.from_allotment else "substitute_unavailable"
        return Outcome.refused(code, f"{p.substitute_sku} has {max(free, 0)} free here, not {p.qty}: put the units back "
                                     f"in bin {p.bin}; line {p.line_no} stays open (report it short)")
    with promising(conn, ctx.here, [p.substitute_sku]):
        if escrow:  # the terminal's own units: nobody else was promised them
            draw_allotment(conn, ctx.device_id, p.substitute_sku, p.qty)
        move(conn, Movement(ctx.here, p.bin, p.substitute_sku, -p.qty, "pick", p.order_id, op.op_id, op.hlc))
        _fill_line(conn, p)
    settle_order_status(conn, p.order_id, op.hlc)
    where = "from this terminal's allotment" if escrow else "from the store's free stock"
    return Outcome(message=f"{p.qty} × {p.substitute_sku} in place of {p.sku} on line {p.line_no} ({where})")


def _refusal(conn: Tx, ctx: Context, p: PickSubstituted) -> Outcome | None:
    found = line_state(conn, p.order_id, p.line_no)
    if (refusal := refuse_line(found, ctx, p.order_id, p.line_no, p.sku)) is not None:
        return refusal
    _location, status, _sku, line = found
    back = f"put the {p.qty} × {p.substitute_sku} back in bin {p.bin}"
    if status not in PICKING_STATUSES:
        return Outcome.refused("not_pickable", f"the order is {status.replace('_', ' ')}: {back}")
    if p.line_no not in allowed_lines(conn, p.order_id):
        return Outcome.refused("substitutes_not_allowed", f"line {p.line_no} does not allow substitutes: {back}")
    if p.qty > line.open_qty:
        return Outcome.refused("line_filled", f"line {p.line_no} needs {line.open_qty} more, not {p.qty}: {back}")
    taken = conn.execute("SELECT substitute_sku FROM order_lines WHERE order_id = :o AND line_no = :n",
                         {"o": p.order_id, "n": p.line_no}).scalar()
    if taken and taken != p.substitute_sku:
        return Outcome.refused("one_substitute_per_line", f"line {p.line_no} already has {taken} in its place: {back}")
    original, substitute = item_facts(conn, p.sku), item_facts(conn, p.substitute_sku)
    if substitute is None:
        return Outcome.refused("unknown_sku", f"substitute_sku: unknown SKU {p.substitute_sku!r}")
    assert original is not None  # the line names it
    if not may_substitute(original, substitute, substitute_rule(conn, p.sku)):
        return Outcome.refused("not_a_substitute", f"{p.substitute_sku} may not stand in for {p.sku}: {back}")
    return None


def _fill_line(conn: Tx, p: PickSubstituted) -> None:
    """The substitute's units count as picked on the line; the original's hold goes."""
    conn.execute("UPDATE order_lines SET qty_picked = qty_picked + :q, qty_substituted = qty_substituted + :q, "
                 "substitute_sku = :s WHERE order_id = :o AND line_no = :n",
                 {"q": p.qty, "s": p.substitute_sku, "o": p.order_id, "n": p.line_no})
    conn.execute(  # down to 0, not deleted: see hub.domain.stock.release_order
        "UPDATE reservations SET qty = CASE WHEN qty > :q THEN qty - :q ELSE 0 END WHERE order_id = :o AND line_no = :n",
        {"q": p.qty, "o": p.order_id, "n": p.line_no})
    if p.tote:
        conn.execute("UPDATE orders SET tote = :t WHERE id = :o", {"t": p.tote, "o": p.order_id})
