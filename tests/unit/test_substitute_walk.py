"""The substitute step of the pick walk on a device replica alone (no hub): offered only
for a line that allows substitutes, a verified scan per unit, one op for the line;
and the pick screen shows the button and the cancel only when they apply."""

from __future__ import annotations

import json

from edge_app.local.hub_state import apply_change
from edge_app.ui.screen import Who
from edge_app.ui.screens.pick import PickView
from edge_app.workflows.picking import PickSession
from edge_app.workflows.signin import Operator
from sync.kinds import ShortReason
from sync.models import Change
from tests.unit.floor_store import MILK, ops, order, put, store

OAT = "4006381339995"  # the oat drink's barcode


def milk_store(tmp_path, allow: bool = True):
    replica = store(tmp_path / "d")
    for sku, name, code, price in (("MILK-1L", "Whole milk 1 L", MILK, 119), ("OAT-1L", "Oat drink 1 L", OAT, 129)):
        put(replica, "item", sku, {"sku": sku, "name": name, "unit_weight_g": 1030, "barcodes": [code],
                                   "category": "dairy/milk", "size_qty": 1000, "size_unit": "ml", "price_cents": price})
    put(replica, "stock", "A-02-1|OAT-1L", {"location": "S1", "bin": "A-02-1", "sku": "OAT-1L", "on_hand": 3})
    order(replica, "o-1", "N-1", [("MILK-1L", 2)])
    if allow:  # the hub sends whether each line allows substitutes with the order
        with replica.transaction() as conn:
            row = conn.execute("SELECT * FROM orders WHERE id = 'o-1'").fetchone()
            lines = [dict(r) | {"substitutes_allowed": True} for r in conn.execute("SELECT * FROM order_lines")]
            apply_change(conn, Change(seq=10**6, entity="order", key="o-1", data={**dict(row), "lines": lines}))
    return replica


def test_a_line_that_allows_no_substitutes_offers_none(tmp_path):
    session = PickSession(milk_store(tmp_path, allow=False), "o-1", "P1")
    assert session.substitutes() == []
    refused = session.take_substitute("OAT-1L")
    assert not refused.ok and "does not allow a substitute" in refused.message


def test_the_substitute_is_verified_by_its_barcode_and_recorded_once_for_the_line(tmp_path):
    replica = milk_store(tmp_path)
    session = PickSession(replica, "o-1", "P1")
    assert [(c.sku, c.on_hand) for c in session.substitutes()] == [("OAT-1L", 3)]
    assert session.take_substitute("OAT-1L").ok and session.step == "substitute"
    assert not session.confirm(1).ok  # nothing scanned yet: nothing unverified is picked
    assert not session.scan(MILK).ok and not session.scan("OAT-1L").ok
    assert session.scan(OAT).ok
    assert not session.short(ShortReason.EMPTY_BIN).ok  # a substitute in hand must be confirmed or put back
    done = session.confirm()
    assert done.ok and "in place of Whole milk 1 L" in done.message
    [(kind, payload, actor)] = ops(replica, "pick.substituted")
    assert payload == {"order_id": "o-1", "line_no": 1, "sku": "MILK-1L", "substitute_sku": "OAT-1L", "bin": "A-02-1",
                       "qty": 1, "from_allotment": False} and actor == "P1"
    assert session.current is not None and session.current.open_qty == 1  # one more to take, of either item
    assert replica.query_one("SELECT on_hand FROM stock_now WHERE sku = 'OAT-1L'")["on_hand"] == 2


def test_a_cancelled_substitute_goes_back_to_the_lines_own_item(tmp_path):
    session = PickSession(milk_store(tmp_path), "o-1", "P1")
    session.take_substitute("OAT-1L")
    session.scan(OAT)
    assert session.cancel_substitute().ok and session.step == "bin" and session.scanned_units == 0
    assert session.short(ShortReason.NOT_FOUND).ok


class _App:
    """Just enough of the app for a screen: its replica, the operator, a page width."""

    def __init__(self, replica):
        self.runtime = type("Runtime", (), {"replica": replica, "recorded": lambda self: None, "touch": lambda self: None})()
        self.nav = type("Nav", (), {"operator": Operator("P1", "Pat", "picker"), "runtime": self.runtime})()
        self.page = type("Page", (), {"width": 412})()


def test_the_pick_screen_offers_the_substitute_button_only_where_it_applies(tmp_path):
    replica = milk_store(tmp_path)
    view = PickView(Who(_App(replica)), session=PickSession(replica, "o-1", "P1"))
    assert view._substitute.visible and not view._cancel_substitute.visible
    view.session.take_substitute("OAT-1L")
    view.render()
    assert not view._substitute.visible and view._cancel_substitute.visible
    view.session.cancel_substitute()
    view.session.short(ShortReason.NOT_FOUND)
    view.render()
    assert not view._substitute.visible  # the line is done
    assert json.loads(replica.query_one("SELECT payload FROM outbox WHERE kind = 'pick.shorted'")["payload"])["qty"] == 2


def test_in_a_batch_the_substitute_goes_into_the_orders_tote(tmp_path):
    from edge_app.workflows.picking import BatchPickSession

    replica = milk_store(tmp_path)
    batch = BatchPickSession(replica, ["o-1"], "P1")
    assert batch.scan("TOTE:T9").ok
    assert batch.take_substitute("OAT-1L").ok
    batch.scan(OAT)
    done = batch.scan(OAT)
    assert done.ok and "Put them into tote T9" in done.message
    [(_kind, payload, _actor)] = ops(replica, "pick.substituted")
    assert (payload["tote"], payload["qty"]) == ("T9", 2)
