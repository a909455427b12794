"""Returns from any channel, through the real hub (both backends) and real replicas:
an order one location (DEMO-1) sent out is brought back at another store (ST-2),
looked up online or read from the signed return code offline. The units land at
ST-2, the refund goes against the original order, forged codes and units that came
back already are refused with a reason while the queue goes on, and the log replays."""

from __future__ import annotations

import asyncio
import io
import json

import pytest

from edge_app.errors import HubUnreachable, Refused
from edge_app.hub_lookups import blocking
from edge_app.workflows.pack_labels import packing_slip_png
from edge_app.workflows.packing import PackOrder, PackSession
from edge_app.workflows.packing import find_order as find_pack_order
from edge_app.workflows.returns import ReturnSession
from edge_app.workflows.returns_elsewhere import find_any_order, where_words
from edge_app.workflows.signin import sign_in_pin
from edge_app.workflows.stock import CountSession, look_up
from hub.actions import accept_order
from hub.log import run_hub_command
from sync.kinds import Condition, Disposition
from sync.models import OrderIn
from tests.integration.test_console import signed_in
from tests.integration.test_floor_pickups_returns import assert_replays, order_by_number, pick_all, rows
from tests.integration.test_pick_slice import BARCODE

pytestmark = pytest.mark.anyio

STORE = "ST-2"


def add_store(hub) -> None:
    with hub.db.write() as conn:
        run_hub_command(conn, "location.added", {"code": STORE, "name": "Second store", "kind": "store"})
        run_hub_command(conn, "bin.added", {"location": STORE, "code": "S2-01", "seq": 1})


async def shipped_elsewhere(hub, tmp_path, number: str = "W-1002"):
    """`number` picked, packed and handed to the carrier at DEMO-1, and the DEMO-1 packing
    station that did it (its replica has the return code the packing slip prints)."""
    add_store(hub)
    sender = await hub.device(tmp_path / "sender", name="pack-station", role="packer")
    await sender.sync()
    order_id = order_by_number(hub, number)["id"]
    pick_all(sender, order_id)
    await sender.sync()
    pack = PackSession(sender.replica, find_pack_order(sender.replica, number), sign_in_pin(sender.replica, "K1", "2222").operator_id)
    for line in pack.lines():
        for _ in range(line.to_pack):
            assert pack.scan(BARCODE[line.sku]).ok
    pack.choose_carton("M")
    assert pack.close_carton(weight_g=1500).ok and pack.hand_to_carrier("DHL").ok
    assert (await sender.sync()).rejected == []
    assert order_by_number(hub, number)["status"] == "shipped"
    return sender


async def counter(hub, tmp_path, name: str = "counter", role: str = "associate"):
    device = await hub.device(tmp_path / name, location=STORE, name=name, role=role)
    await device.sync()
    return device


def ask_of(device):
    """The look-up a screen uses (edge_app.ui.runtime), on this test's event loop."""
    return blocking(asyncio.get_running_loop(), device.agent.client)


async def find(device, raw: str, ask=None):
    return await asyncio.to_thread(find_any_order, device.replica, raw, ask)


def return_code_of(device, number: str) -> str:
    return device.replica.query_one("SELECT return_code FROM orders WHERE number = ?", (number,))["return_code"]


def read_qr(png: bytes) -> list[str]:
    zxingcpp = pytest.importorskip("zxingcpp")
    from PIL import Image

    return [found.text for found in zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))]


def offline(_query):
    raise HubUnreachable("no network")


def take_oil_back(device, order, bin_raw: str = "BIN:S2-01"):
    oil = next(line for line in order.lines if line.sku == "OLIVE-OIL")
    session = ReturnSession(device.replica, "alex", order, "associate")
    assert session.add_line(oil.line_no, 1, Condition.NEW, Disposition.RESTOCK, bin_raw).ok
    assert session.submit().ok
    return oil


def line_of(hub, order_id: str, line_no: int) -> dict:
    return dict(rows(hub, "SELECT * FROM order_lines WHERE order_id = :o AND line_no = :n", o=order_id, n=line_no)[0])


async def test_a_return_of_an_order_shipped_elsewhere_looked_up_online_lands_here_and_refunds_the_order(hub, tmp_path):
    sender = await shipped_elsewhere(hub, tmp_path)
    device = await counter(hub, tmp_path)
    assert device.replica.query_one("SELECT 1 FROM orders WHERE number = 'W-1002'") is None  # not this store's
    order = await find(device, "ORD:W-1002", ask_of(device))
    assert order.source == "hub" and order.shipped_by == "DEMO-1" and order.customer_name == ""
    assert where_words(device.replica, order).startswith("Order W-1002 was shipped by DEMO-1; the return is recorded here at ST-2")
    assert look_up(device.replica, BARCODE["OLIVE-OIL"]).on_hand == 0  # none at this store yet
    oil = take_oil_back(device, order)
    assert (await device.sync()).rejected == []
    assert (line_of(hub, order.id, oil.line_no)["qty_returned"], line_of(hub, order.id, oil.line_no)["qty_refunded"]) == (1, 1)
    moves = rows(hub, "SELECT location, bin, qty, order_id FROM movements WHERE reason = 'return'")
    assert [tuple(m.values()) for m in moves] == [(STORE, "S2-01", 1, order.id)]
    assert rows(hub, "SELECT location FROM returns")[0]["location"] == STORE
    assert look_up(device.replica, BARCODE["OLIVE-OIL"]).bins == (("S2-01", 1),)  # the receiving store's movement
    await sender.sync()  # the sending store sees the order come back
    back = sender.replica.query_one("SELECT qty_returned, qty_refunded FROM order_lines WHERE order_id = ? AND line_no = ?",
                                    (order.id, oil.line_no))
    assert (back["qty_returned"], back["qty_refunded"]) == (1, 1)
    client, _csrf = await signed_in(hub)  # and its order page in the console says where the units are
    page = (await client.get(f"/console/orders/{order.id}")).text
    returns = page[page.index("<h2>Returns</h2>"):page.index("<h2>Tasks</h2>")]
    assert "ST-2 <small>(another location: the units are there)</small>" in returns and "1 × OLIVE-OIL, new, restock to S2-01" in returns
    movements = page[page.index("Picks and stock movements"):]
    assert "ST-2 · S2-01" in movements
    await client.aclose()
    assert_replays(hub)


async def test_a_return_taken_offline_from_the_signed_code_is_checked_and_applied_when_synced(hub, tmp_path):
    sender = await shipped_elsewhere(hub, tmp_path)
    code = return_code_of(sender, "W-1002")
    assert code.startswith("RET1:k1:") and ":W-1002:DEMO-1:" in code
    slip = packing_slip_png(sender.replica, PackOrder(order_by_number(hub, "W-1002")["id"], "W-1002", "Ben Okafor", None, 0),
                            {"carton_id": "000000000000000000", "carton_type": "S", "weight_g": 900,
                             "contents": [{"line_no": 1, "sku": "OLIVE-OIL", "qty": 1}]})
    assert read_qr(slip) == [code]  # what the customer brings back
    device = await counter(hub, tmp_path)
    order = await find(device, code, offline)  # the hub can't be reached: the code says it all
    assert order.source == "return_code" and order.shipped_by == "DEMO-1"
    assert "read from its receipt, offline" in where_words(device.replica, order)
    oil = take_oil_back(device, order)
    again = await find(device, code, offline)  # the same receipt, scanned again before syncing
    assert next(line for line in again.lines if line.line_no == oil.line_no).returnable == 0
    report = await device.sync()
    assert report.rejected == []
    assert (line_of(hub, order.id, oil.line_no)["qty_returned"], line_of(hub, order.id, oil.line_no)["qty_refunded"]) == (1, 1)
    logged = [json.loads(r["payload"]) for r in rows(hub, "SELECT payload FROM op_log WHERE kind = 'return.received'")]
    assert [p["return_code"] for p in logged] == [code]
    assert rows(hub, "SELECT SUM(on_hand) AS n FROM stock WHERE location = :l AND sku = 'OLIVE-OIL'", l=STORE)[0]["n"] == 1
    assert_replays(hub)


async def test_a_forged_code_is_refused_by_the_hub_with_a_reason_and_the_queue_goes_on(hub, tmp_path):
    sender = await shipped_elsewhere(hub, tmp_path)
    forged = return_code_of(sender, "W-1002").replace("*1,", "*3,")  # three bottles instead of one
    device = await counter(hub, tmp_path)
    with pytest.raises(Refused, match="forged or altered"):  # online, the hub says so at once
        await find(device, forged, ask_of(device))
    order = await find(device, forged, offline)  # offline, nothing can tell: the hub refuses it later
    oil = next(line for line in order.lines if line.sku == "OLIVE-OIL")
    session = ReturnSession(device.replica, "alex", order, "associate")
    assert session.add_line(oil.line_no, 3, Condition.NEW, Disposition.RESTOCK, "BIN:S2-01").ok and session.submit().ok
    count = CountSession(device.replica, "alex")  # something recorded after it
    assert count.scan("BIN:S2-01").ok and count.scan(BARCODE["OLIVE-OIL"]).ok
    count.submit(0)
    report = await device.sync()
    assert [r["reason_code"] for r in report.rejected] == [
        "return_code_forged", "return_not_recorded"]  # the return, then its refund
    assert "forged or altered" in report.rejected[0]["message"]
    assert rows(hub, "SELECT kind FROM op_log WHERE kind = 'count.recorded'")  # the queue went on
    assert rows(hub, "SELECT * FROM returns") == [] and rows(hub, "SELECT * FROM movements WHERE reason = 'return'") == []
    assert line_of(hub, order.id, oil.line_no)["qty_returned"] == 0
    assert look_up(device.replica, BARCODE["OLIVE-OIL"]).on_hand == 0  # the local stock effect is gone with it
    assert_replays(hub)


async def test_the_same_units_brought_back_twice_are_refused_the_second_time(hub, tmp_path):
    sender = await shipped_elsewhere(hub, tmp_path)
    code = return_code_of(sender, "W-1002")
    first, second = await counter(hub, tmp_path, "first"), await counter(hub, tmp_path, "second")
    take_oil_back(first, await find(first, "W-1002", ask_of(first)))
    assert (await first.sync()).rejected == []
    oil = take_oil_back(second, await find(second, code, offline))  # the same receipt at another till, offline
    report = await second.sync()
    assert [r["reason_code"] for r in report.rejected] == [
        "already_returned", "return_not_recorded"]  # the return, then its refund
    order_id = order_by_number(hub, "W-1002")["id"]
    assert (line_of(hub, order_id, oil.line_no)["qty_returned"], line_of(hub, order_id, oil.line_no)["qty_refunded"]) == (1, 1)
    assert len(rows(hub, "SELECT * FROM movements WHERE reason = 'return'")) == 1
    online = await find(second, "W-1002", ask_of(second))  # and online it shows nothing left to bring back
    assert next(line for line in online.lines if line.line_no == oil.line_no).returnable == 0
    assert_replays(hub)


async def test_the_look_up_reveals_what_a_return_needs_and_never_the_customer(hub, tmp_path):
    with hub.db.write() as conn:
        accept_order(conn, OrderIn.model_validate({
            "number": "W-2002", "channel": "webshop", "fulfilment": "ship", "promised_by": "2030-01-01T10:00:00+00:00",
            "customer_name": "Erin Secret", "location": "DEMO-1", "lines": [{"sku": "OLIVE-OIL", "qty": 1}],
            "ship_to": {"lines": ["12 Hidden Lane"], "postal_code": "1011 AB", "country": "NL"},
            "contact": {"email": "erin@example.com", "phone": "+31 20 555 0100"}}), "2029-12-31T10:00:00+00:00")
    await shipped_elsewhere(hub, tmp_path, "W-2002")
    device = await counter(hub, tmp_path)
    answer = await device.agent.client.get("/v1/returns/lookup", params={"number": "ORD:W-2002"})
    assert answer.status_code == 200
    body = answer.json()
    assert set(body) == {"order_id", "number", "location", "fulfilment", "status", "lines"}
    assert set(body["lines"][0]) == {"line_no", "sku", "name", "sold", "returned", "refunded"}
    for secret in ("Erin", "Hidden Lane", "1011 AB", "erin@example.com", "555 0100", "RET1:"):
        assert secret not in answer.text
    pickup = await device.agent.client.get("/v1/returns/lookup", params={"number": "W-1001"})
    assert pickup.status_code == 200 and order_by_number(hub, "W-1001")["pickup_code"] not in pickup.text
    assert [line["sold"] for line in pickup.json()["lines"]] == [0, 0, 0]  # nothing handed over yet
    audit = rows(hub, "SELECT actor, target, outcome FROM audit WHERE action = 'returns.lookup' ORDER BY id")
    assert [(a["target"], a["outcome"]) for a in audit] == [("W-2002", "found"), ("W-1001", "found")]
    assert (await device.agent.client.get("/v1/returns/lookup", params={"number": "NOPE-1"})).status_code == 404


async def test_only_counter_devices_look_up_and_each_only_so_often(hub, tmp_path):
    add_store(hub)
    picker = await hub.device(tmp_path / "picker", location=STORE, role="picker")
    assert (await picker.agent.client.get("/v1/returns/lookup", params={"number": "W-1002"})).status_code == 403
    async with hub.admin() as admin:
        assert (await admin.get("/v1/returns/lookup", params={"number": "W-1002"})).status_code == 403
    device = await counter(hub, tmp_path)
    asked = [(await device.agent.client.get("/v1/returns/lookup", params={"number": "W-1002"})).status_code for _ in range(31)]
    assert asked == [200] * 30 + [429]
    with pytest.raises(Refused, match="too many orders in the last minute"):
        await find(device, "W-1002", ask_of(device))
