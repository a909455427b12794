"""Substitution at pick, on both backends: a picker takes a ranked substitute for a line
that allows one and the hub applies it; a substitution the hub refuses (the line allows
none, the substitute is no longer free) with a reason while the queue goes on; a
dark-store terminal substituting offline from its escrow allotment, and refused on
the device beyond it."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import text

from edge_app.local import outbox
from edge_app.local.allotments import headroom
from edge_app.workflows.picking import PickSession
from hub.domain.stock import commitments
from hub.log import run_hub_command
from hub.seed import DARK_STORE, DEMO_LOCATION, ean13
from hub.verify import replay
from sync.kinds import ShortReason
from tests.integration.test_console import signed_in
from tests.integration.test_pick_slice import order_body, post_order
from tests.walks import barcode, take_line

pytestmark = pytest.mark.anyio

OTHER_MILK = "MILK-1L-B"  # same category and size as MILK-1L, within the price band
DEAR_MILK = "MILK-1L-PREM"  # same category and size, priced out of the band


def catalogue(hub) -> None:
    """Milk items with what the rule compares; the other brand in stock at both locations."""
    items = [("MILK-1L", "Whole milk 1 L", 119, "400638133393"), (OTHER_MILK, "Whole milk 1 L, other brand", 129, "400638133410"),
             (DEAR_MILK, "Organic whole milk 1 L", 249, "400638133411")]
    with hub.db.write() as conn:
        for sku, name, price, body in items:
            run_hub_command(conn, "catalogue.item_upserted", {"sku": sku, "name": name, "barcodes": [ean13(body)],
                                                              "category": "dairy/milk", "size_qty": 1000, "size_unit": "ml",
                                                              "price_cents": price})
        for sku in (OTHER_MILK, DEAR_MILK):
            run_hub_command(conn, "stock.received", {"location": DEMO_LOCATION, "bin": "A-02-2", "sku": sku, "qty": 5})
        run_hub_command(conn, "bin.added", {"location": DARK_STORE, "code": "DS-09", "seq": 9})
        run_hub_command(conn, "stock.received", {"location": DARK_STORE, "bin": "DS-09", "sku": OTHER_MILK, "qty": 6})
        run_hub_command(conn, "stock.policy_set", {"location": DARK_STORE, "sku": OTHER_MILK, "safety_stock": 1,
                                                   "escrow_floor": 3})


async def milk_order(hub, number: str, qty: int = 2, location: str = DEMO_LOCATION, fulfilment: str = "pickup") -> dict:
    body = order_body(number, [("MILK-1L", qty), ("CHOC-DARK", 1)], location=location, fulfilment=fulfilment)
    body["lines"][0]["substitutes_allowed"] = True
    return await post_order(hub, body)


async def hub_order(hub, order_id: str) -> dict:
    async with hub.admin() as admin:
        return (await admin.get(f"/v1/orders/{order_id}")).json()


def walk_to(session: PickSession, sku: str) -> None:
    while session.current is not None and session.current.sku != sku:
        session.skip()
    assert session.current is not None


async def test_a_substitute_is_offered_ranked_verified_by_its_barcode_and_applied_by_the_hub(hub, tmp_path):
    catalogue(hub)
    order = await milk_order(hub, "SUB-1")
    device = await hub.device(tmp_path / "p")
    await device.sync()
    session = PickSession(device.replica, order["id"], "P1")
    walk_to(session, "MILK-1L")
    assert [c.sku for c in session.substitutes()] == [OTHER_MILK]  # the dear one is out of the price band
    assert session.take_substitute(OTHER_MILK).ok
    assert "bin A-02-2" in session.prompt()
    assert not session.scan(OTHER_MILK).ok  # a typed SKU is no verified scan
    wrong = session.scan(barcode(device.replica, "CHOC-DARK"))
    assert not wrong.ok and "not the substitute" in wrong.message
    assert session.scan(barcode(device.replica, OTHER_MILK)).ok
    done = session.scan(barcode(device.replica, OTHER_MILK))
    assert done.ok and "in place of" in done.message, done.message
    assert session.current is not None and session.current.sku == "CHOC-DARK"  # the milk line is filled

    report = await device.sync()
    assert report.rejected == []
    line = (await hub_order(hub, order["id"]))["lines"][0]
    assert (line["sku"], line["substitute_sku"], line["qty_substituted"], line["qty_picked"]) == ("MILK-1L", OTHER_MILK, 2, 2)
    with hub.db.read() as conn:
        held = conn.execute(text("SELECT qty FROM reservations WHERE order_id = :o AND line_no = 1"), {"o": order["id"]}).scalar()
        other = commitments(conn, DEMO_LOCATION, OTHER_MILK)
        moved = conn.execute(text("SELECT qty FROM movements WHERE order_id = :o AND sku = :s"),
                             {"o": order["id"], "s": OTHER_MILK}).scalars().all()
    assert held == 0 and other.on_hand == 3 and moved == [-2]
    assert replay(hub.db).same


async def test_the_packer_packs_the_substitute_into_its_line(hub, tmp_path):
    from edge_app.workflows.packing import PackSession, find_order

    catalogue(hub)
    order = await milk_order(hub, "SUB-PACK", fulfilment="ship")
    device = await hub.device(tmp_path / "p", role="supervisor")
    await device.sync()
    session = PickSession(device.replica, order["id"], "S1")
    walk_to(session, "MILK-1L")
    session.take_substitute(OTHER_MILK)
    session.scan(barcode(device.replica, OTHER_MILK))
    session.scan(barcode(device.replica, OTHER_MILK))
    while session.current is not None:
        take_line(session)
    await device.sync()
    pack = PackSession(device.replica, find_order(device.replica, f"ORD:{order['number']}"), "S1")
    assert not pack.scan(barcode(device.replica, DEAR_MILK)).ok  # neither the line's item nor its substitute
    for sku in (OTHER_MILK, OTHER_MILK, "CHOC-DARK"):
        assert pack.scan(barcode(device.replica, sku)).ok, sku
    assert pack.choose_carton("M").ok
    assert pack.close_carton(weight_g=2200).ok
    report = await device.sync()
    assert report.rejected == []
    assert [l["qty_packed"] for l in (await hub_order(hub, order["id"]))["lines"]] == [2, 1]
    assert replay(hub.db).same


async def test_the_console_order_page_shows_what_was_substituted(hub, tmp_path):
    catalogue(hub)
    order = await milk_order(hub, "SUB-2")
    device = await hub.device(tmp_path / "p")
    await device.sync()
    session = PickSession(device.replica, order["id"], "P1")
    walk_to(session, "MILK-1L")
    session.take_substitute(OTHER_MILK)
    session.scan(barcode(device.replica, OTHER_MILK))
    assert session.confirm(1).ok
    await device.sync()
    console, _csrf = await signed_in(hub)
    html = (await console.get(f"/console/orders/{order['id']}")).text
    await console.aclose()
    assert f"substituted: 1 × {OTHER_MILK} in place of MILK-1L" in html


async def test_a_substitute_for_a_line_that_allows_none_is_refused_with_a_reason_and_the_queue_goes_on(hub, tmp_path):
    catalogue(hub)
    order = await milk_order(hub, "SUB-3")
    device = await hub.device(tmp_path / "p")
    await device.sync()
    session = PickSession(device.replica, order["id"], "P1")
    walk_to(session, "CHOC-DARK")
    assert session.substitutes() == []
    assert not session.take_substitute(OTHER_MILK).ok  # the device refuses it first
    # A device that sent one anyway (an older app, a forged op): the hub refuses it.
    with device.replica.transaction() as conn:
        outbox.record_op(conn, "pick.substituted", {"order_id": order["id"], "line_no": 2, "sku": "CHOC-DARK",
                                                    "substitute_sku": OTHER_MILK, "bin": "A-02-2", "qty": 1},
                         "P1", outbox.PendingEffect(lines=((order["id"], 2, 1, 0),)))
    walk_to(session, "MILK-1L")
    assert session.short(ShortReason.EMPTY_BIN).ok  # recorded after the refused op
    report = await device.sync()
    assert [r["reason_code"] for r in report.rejected] == ["substitutes_not_allowed"]
    assert report.applied >= 1
    lines = (await hub_order(hub, order["id"]))["lines"]
    assert lines[0]["qty_short"] == 2 and lines[1]["substitute_sku"] is None and lines[1]["qty_picked"] == 0
    assert replay(hub.db).same


async def test_a_substitute_sold_elsewhere_meanwhile_is_refused_never_oversold(hub, tmp_path):
    catalogue(hub)
    order = await milk_order(hub, "SUB-4")
    device = await hub.device(tmp_path / "p")
    await device.sync()
    session = PickSession(device.replica, order["id"], "P1")
    walk_to(session, "MILK-1L")
    session.take_substitute(OTHER_MILK)
    session.scan(barcode(device.replica, OTHER_MILK))
    assert session.scan(barcode(device.replica, OTHER_MILK)).ok  # offline: the device cannot know
    await post_order(hub, order_body("WEB-OTHER", [(OTHER_MILK, 4)]))  # the hub promised 4 of its 5 meanwhile
    report = await device.sync()
    assert [r["reason_code"] for r in report.rejected] == ["substitute_unavailable"]
    assert "put the units back" in report.rejected[0]["message"]
    with hub.db.read() as conn:
        other = commitments(conn, DEMO_LOCATION, OTHER_MILK)
    assert other.free >= 0 and other.on_hand == 5
    line = (await hub_order(hub, order["id"]))["lines"][0]
    assert line["substitute_sku"] is None and line["qty_picked"] == 0  # open again: to be reported short
    assert replay(hub.db).same


async def dark_store_terminal(hub, tmp_path, qty: int):
    catalogue(hub)
    order = await milk_order(hub, f"DS-{qty}", qty=qty, location=DARK_STORE)
    device = await hub.device(tmp_path / "t", location=DARK_STORE, role="terminal")
    await device.sync()
    return device, order


def local_headroom(device, sku: str) -> int:
    with device.replica.transaction() as conn:
        return headroom(conn, sku, datetime.now(timezone.utc))


async def test_a_terminal_substitutes_offline_from_its_allotment_without_overselling(hub, tmp_path):
    device, order = await dark_store_terminal(hub, tmp_path, qty=2)
    assert local_headroom(device, OTHER_MILK) == 3
    session = PickSession(device.replica, order["id"], "dana")
    walk_to(session, "MILK-1L")
    assert session.take_substitute(OTHER_MILK).ok
    session.scan(barcode(device.replica, OTHER_MILK))
    assert session.scan(barcode(device.replica, OTHER_MILK)).ok
    assert local_headroom(device, OTHER_MILK) == 1  # the allotment covers it at once, offline
    # Meanwhile the hub sells every free unit of the other brand to the web.
    await post_order(hub, order_body("WEB-DS", [(OTHER_MILK, 2)], location=DARK_STORE, fulfilment="quick"))
    report = await device.sync()
    assert report.rejected == []
    line = (await hub_order(hub, order["id"]))["lines"][0]
    assert (line["substitute_sku"], line["qty_substituted"]) == (OTHER_MILK, 2)
    with hub.db.read() as conn:
        other = commitments(conn, DARK_STORE, OTHER_MILK)
    assert other.on_hand == 4 and other.reserved + other.allotted <= other.on_hand - other.safety
    assert replay(hub.db).same


async def test_a_terminal_refuses_a_substitute_its_allotment_cannot_cover_and_the_line_stays_short(hub, tmp_path):
    device, order = await dark_store_terminal(hub, tmp_path, qty=4)
    session = PickSession(device.replica, order["id"], "dana")
    walk_to(session, "MILK-1L")
    assert session.take_substitute(OTHER_MILK).ok
    for _ in range(3):
        session.scan(barcode(device.replica, OTHER_MILK))
    beyond = session.scan(barcode(device.replica, OTHER_MILK))  # the fourth: beyond the 3 it holds
    assert not beyond.ok and "not enough" in beyond.message
    assert device.replica.query("SELECT 1 FROM outbox WHERE kind = 'pick.substituted'") == []
    assert session.cancel_substitute().ok
    assert session.short(ShortReason.EMPTY_BIN).ok
    device.replica.conn.execute("UPDATE allotments SET outstanding = 0 WHERE sku = ?", (OTHER_MILK,))
    other = await milk_order(hub, "DS-B", qty=1, location=DARK_STORE)
    await device.sync()
    session = PickSession(device.replica, other["id"], "dana")
    walk_to(session, "MILK-1L")
    refused = session.take_substitute(OTHER_MILK)
    assert not refused.ok and "stays short" in refused.message
    report = await device.sync()
    assert report.rejected == []
    assert (await hub_order(hub, order["id"]))["lines"][0]["qty_short"] == 4
    assert replay(hub.db).same


def test_the_catalogue_csv_carries_category_size_and_price_there_and_back(hub):
    from io import StringIO

    from hub.access import network_admin
    from hub.imports import export_csv, import_csv

    text_in = ("sku,name,category,size_qty,size_unit,price\n"
               "OAT-MILK,Oat drink 1 L,dairy/milk,1000,ml,2.5\nSOY-MILK,Soy drink 1 L,dairy/milk,1000,ml,2.49\n")
    report = import_csv(hub.db, network_admin("t"), "items", StringIO(text_in))
    assert report.ok and report.applied == 2, report.as_dict()
    out = StringIO()
    export_csv(hub.db, network_admin("t"), "items", out)
    rows = out.getvalue().splitlines()
    assert rows[0].endswith(",category,size_qty,size_unit,price")
    assert "OAT-MILK,Oat drink 1 L,,,,,,no,,dairy/milk,1000,ml,2.50" in rows
    with hub.db.read() as conn:
        price = conn.execute(text("SELECT price_cents FROM items WHERE sku = 'SOY-MILK'")).scalar()
    assert price == 249


async def test_an_explicit_list_set_from_the_cli_reaches_the_device_and_the_hub_holds_to_it(hub, hub_db_url, tmp_path):
    from click.testing import CliRunner

    from backroom_cli import cli

    catalogue(hub)

    def run(*args: str):
        return CliRunner().invoke(cli, ["hub", "substitutes", args[0], "--db", hub_db_url, *args[1:]])

    unknown = run("set", "MILK-1L", "--with", "NO-SUCH")
    assert unknown.exit_code == 1 and "unknown SKU 'NO-SUCH'" in unknown.output
    assert run("set", "MILK-1L", "--with", DEAR_MILK, "--no-rule").exit_code == 0
    assert '"by_rule": false' in run("show", "MILK-1L").output
    order = await milk_order(hub, "SUB-LIST")
    device = await hub.device(tmp_path / "p")
    await device.sync()
    session = PickSession(device.replica, order["id"], "P1")
    walk_to(session, "MILK-1L")
    assert [(c.sku, c.why) for c in session.substitutes()] == [(DEAR_MILK, "listed")]  # the rule is off: no other brand
    assert not session.take_substitute(OTHER_MILK).ok
    # One sent anyway (an app that had not pulled the rule yet): the hub holds to the rule it has now.
    with device.replica.transaction() as conn:
        outbox.record_op(conn, "pick.substituted", {"order_id": order["id"], "line_no": 1, "sku": "MILK-1L",
                                                    "substitute_sku": OTHER_MILK, "bin": "A-02-2", "qty": 1},
                         "P1", outbox.PendingEffect(lines=((order["id"], 1, 1, 0),)))
    session = PickSession(device.replica, order["id"], "P1")
    walk_to(session, "MILK-1L")
    assert session.take_substitute(DEAR_MILK).ok
    assert "in place of" in session.scan(barcode(device.replica, DEAR_MILK)).message  # the one unit still open here
    report = await device.sync()
    assert [r["reason_code"] for r in report.rejected] == ["not_a_substitute"]
    line = (await hub_order(hub, order["id"]))["lines"][0]
    assert (line["substitute_sku"], line["qty_substituted"], line["qty_picked"]) == (DEAR_MILK, 1, 1)
    assert replay(hub.db).same
