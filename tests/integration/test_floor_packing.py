"""Sign-in, batch picking and packing against an in-process hub (both backends): operators
reach the devices, a picker batch-picks two ship orders into totes offline, a
packer on another device finds them by tote, packs, closes cartons and hands them
to the carrier; the hub moves each order picked → packed → shipped, the actor on
every op is the signed-in operator, and the log replays to the same state."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text

from edge_app.workflows.packing import PackSession, find_order, orders_to_pack
from edge_app.workflows.picking import BatchPickSession
from edge_app.workflows.signin import sign_in_badge, sign_in_pin
from hub.commands import operator_payload
from hub.log import run_hub_command
from hub.seed import DARK_STORE, DEMO_ITEMS, DEMO_LOCATION, ean13
from hub.verify import replay
from tests.integration.test_pick_slice import order_body, post_order

pytestmark = pytest.mark.anyio

BARCODE = {sku: ean13(body) for sku, _name, _w, body in DEMO_ITEMS}
PAYLOAD_KEYS = {"operator_id", "name", "role", "location", "pin_hash", "salt"}


async def get_order(hub, order_id: str) -> dict:
    async with hub.admin() as admin:
        return (await admin.get(f"/v1/orders/{order_id}")).json()


async def two_ship_orders(hub) -> list[dict]:
    return [await post_order(hub, order_body("S-1", [("MILK-1L", 2), ("SOAP-BAR", 1)], fulfilment="ship", location=DEMO_LOCATION)),
            await post_order(hub, order_body("S-2", [("MILK-1L", 1)], fulfilment="ship", location=DEMO_LOCATION))]


def held(hub, order_id: str) -> list[int]:
    with hub.db.read() as conn:
        return conn.execute(text("SELECT qty FROM reservations WHERE order_id = :o ORDER BY line_no"), {"o": order_id}).scalars().all()


def walk(session: BatchPickSession) -> None:
    """Pick every line: bin, each unit, the tote."""
    while session.current is not None:
        line = session.current
        if session.step == "bin":  # the next line in the same bin is the same stop
            assert session.scan(f"BIN:{line.bin}").ok
        for _ in range(line.open_qty):
            assert session.scan(BARCODE[line.sku]).ok
        assert session.scan(f"TOTE:{session.tote_for(line.order_id)}").ok


async def test_demo_operators_reach_the_store_devices_as_a_pin_check_only_and_sign_in(hub, tmp_path):
    device = await hub.device(tmp_path / "d1")
    await device.sync()
    assert sign_in_badge(device.replica, "BADGE:P1").role == "picker"
    assert sign_in_pin(device.replica, "K1", "2222").role == "packer"
    rows = device.replica.query("SELECT pin_hash, pin_check FROM operators")
    assert rows and all(r["pin_hash"] == "" and len(r["pin_check"]) == 2 for r in rows)  # 8 bits, never the hash


async def test_an_operator_added_on_the_hub_reaches_only_their_location(hub, tmp_path):
    with hub.db.write() as conn:
        run_hub_command(conn, "operator.upserted", operator_payload("DS7", "Dee", "picker", DARK_STORE, "4321"))
    with hub.db.read() as conn:
        logged = conn.execute(text("SELECT payload FROM op_log WHERE kind = 'operator.upserted'")).scalars().all()
    assert all(set(json.loads(p)) == PAYLOAD_KEYS for p in logged)  # the PIN itself is never logged
    store = await hub.device(tmp_path / "store")
    dark = await hub.device(tmp_path / "dark", location=DARK_STORE, role="terminal")
    await store.sync(), await dark.sync()
    assert store.replica.query_one("SELECT 1 FROM operators WHERE operator_id = 'DS7'") is None
    assert sign_in_pin(dark.replica, "DS7", "4321").name == "Dee"


async def test_batch_pick_pack_and_ship_moves_orders_to_shipped_on_the_hub(hub, tmp_path):
    orders = await two_ship_orders(hub)
    picker = await hub.device(tmp_path / "picker")
    packer = await hub.device(tmp_path / "packer", name="pack-station", role="packer")
    await picker.sync(), await packer.sync()
    p1 = sign_in_badge(picker.replica, "BADGE:P1")
    batch = BatchPickSession(picker.replica, [o["id"] for o in orders], p1.operator_id)
    batch.scan("TOTE:T1"), batch.scan("TOTE:T2")
    walk(batch)  # offline: nothing has been pushed yet
    assert (await get_order(hub, orders[0]["id"]))["status"] == "released"
    await picker.sync()
    first = await get_order(hub, orders[0]["id"])
    assert first["status"] == "picked" and first["tote"] == "T1"
    assert held(hub, orders[0]["id"]) == [0, 0]  # picked lines hold nothing, until the order goes

    await packer.sync()
    k1 = sign_in_pin(packer.replica, "K1", "2222")
    assert {o.number for o in orders_to_pack(packer.replica)} >= {"S-1", "S-2"}
    pack = PackSession(packer.replica, find_order(packer.replica, "TOTE:T1"), k1.operator_id)
    assert not pack.scan(BARCODE["COFFEE-250"]).ok
    for sku in ("MILK-1L", "MILK-1L", "SOAP-BAR"):
        assert pack.scan(BARCODE[sku]).ok
    assert not pack.scan(BARCODE["MILK-1L"]).ok
    pack.choose_carton("M")
    assert pack.close_carton(weight_g=2400).ok
    carton = pack.last_carton["carton_id"]
    await packer.sync()
    packed = await get_order(hub, orders[0]["id"])
    assert packed["status"] == "packed" and packed["tote"] is None
    assert [l["qty_packed"] for l in packed["lines"]] == [2, 1]

    assert pack.hand_to_carrier("DHL").ok
    await packer.sync()
    assert (await get_order(hub, orders[0]["id"]))["status"] == "shipped"
    assert held(hub, orders[0]["id"]) == []
    with hub.db.read() as conn:
        actors = dict(conn.execute(text("SELECT kind, actor FROM op_log WHERE kind IN "
                                        "('pick.confirmed', 'pack.carton_closed', 'shipment.handed_to_carrier')")).all())
        row = conn.execute(text("SELECT status, weight_g FROM cartons WHERE carton_id = :c"), {"c": carton}).one()
    assert actors == {"pick.confirmed": "P1", "pack.carton_closed": "K1", "shipment.handed_to_carrier": "K1"}
    assert tuple(row) == ("shipped", 2400)
    assert replay(hub.db).same


async def test_a_carton_packed_for_an_order_cancelled_meanwhile_stands_and_asks_for_an_unpack(hub, tmp_path):
    [order, _other] = await two_ship_orders(hub)
    device = await hub.device(tmp_path / "d", role="packer")
    await device.sync()
    batch = BatchPickSession(device.replica, [order["id"]], "P1")
    batch.scan("TOTE:T5")
    walk(batch)
    await device.sync()
    pack = PackSession(device.replica, find_order(device.replica, "ORD:S-1"), "K1")
    for sku in ("MILK-1L", "MILK-1L", "SOAP-BAR"):
        pack.scan(BARCODE[sku])
    pack.choose_carton("S")
    pack.close_carton()  # offline
    async with hub.admin() as admin:
        assert (await admin.post(f"/v1/orders/{order['id']}/cancel", json={"reason": "customer"})).status_code == 200
    await device.sync()
    result = json.loads(device.replica.query_one("SELECT result FROM outbox WHERE kind = 'pack.carton_closed'")["result"])
    assert result["status"] == "applied" and result["compensations"][0]["kind"] == "unpack"
    assert (await get_order(hub, order["id"]))["status"] == "cancelled"


async def test_a_carton_for_another_locations_order_is_refused(hub, tmp_path):
    [order, _other] = await two_ship_orders(hub)
    dark = await hub.device(tmp_path / "dark", location=DARK_STORE, role="supervisor")
    with dark.replica.transaction() as conn:
        from edge_app.local import outbox
        outbox.record_op(conn, "pack.carton_closed", {"order_id": order["id"], "carton_id": "006141410000000019",
                         "carton_type": "S", "weight_g": 100, "contents": [{"line_no": 1, "sku": "MILK-1L", "qty": 1}]},
                         "X", outbox.PendingEffect())
    await dark.sync()
    assert dark.replica.query_one("SELECT reason_code FROM outbox")["reason_code"] == "unknown_order"  # as if none


def test_cli_operator_add_stores_a_salted_hash_and_refuses_a_bad_pin(tmp_path):
    from click.testing import CliRunner

    from backroom_cli import cli
    from hub.store.db import Database

    url = f"sqlite:///{tmp_path / 'hub.db'}"
    runner = CliRunner()
    assert runner.invoke(cli, ["hub", "seed", "--demo", "--db", url]).exit_code == 0
    done = runner.invoke(cli, ["hub", "operator", "add", "--db", url, "--location", DEMO_LOCATION, "--id", "K7",
                               "--name", "Kim Seven", "--role", "packer", "--pin", "2468"])
    assert done.exit_code == 0, done.output
    bad = runner.invoke(cli, ["hub", "operator", "add", "--db", url, "--location", DEMO_LOCATION, "--id", "K8",
                              "--name", "K", "--role", "packer", "--pin", "12"])
    assert bad.exit_code != 0 and "4 to 12 digits" in bad.output
    db = Database(url)
    with db.read() as conn:
        row = conn.execute(text("SELECT role, pin_hash, salt FROM operators WHERE operator_id = 'K7'")).one()
        logged = conn.execute(text("SELECT payload FROM op_log WHERE kind = 'operator.upserted'")).scalars().all()
    db.dispose()
    assert row.role == "packer" and row.pin_hash.startswith("scrypt$") and len(row.salt) == 32
    assert all(set(json.loads(p)) == PAYLOAD_KEYS for p in logged)
