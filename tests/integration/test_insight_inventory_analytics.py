"""Inventory risk and fulfilment analytics through the real hub (both backends): an order
picked and handed over on a device gives stage times and a day's figures (JSON, CSV, the
console's charts); a location emptied of what it sells is at risk and a suggested transfer
from the dark store ships in one call, logged, and the log replays; a store manager sees
only its locations."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timezone

import pytest

from edge_app.workflows.packing import PackSession, find_order
from edge_app.workflows.picking import BatchPickSession
from edge_app.workflows.pickups import PickupSession, find_pickup
from edge_app.workflows.signin import sign_in_badge, sign_in_pin
from hub.log import run_hub_command
from hub.seed import DARK_STORE, DEMO_LOCATION
from tests.integration.test_authority import op, push
from tests.integration.test_console import signed_in
from tests.integration.test_floor_packing import BARCODE, two_ship_orders, walk
from tests.integration.test_floor_pickups_returns import assert_replays, picked_pickup, rows
from tests.integration.test_pick_slice import order_body, post_order

pytestmark = pytest.mark.anyio

TODAY = datetime.now(timezone.utc).date().isoformat()


async def handed_over(hub, tmp_path) -> dict:
    """W-1001 (2 MILK-1L, 1 COFFEE-250, 3 CHOC-DARK) picked and handed over on a device."""
    device, order = await picked_pickup(hub, tmp_path)
    found, verified = find_pickup(device.replica, f"PICKUP:W-1001:{order['pickup_code']}")
    assert verified and PickupSession(device.replica, found.id, "alex", code_verified=True).hand_over().ok
    assert (await device.sync()).rejected == []
    return order


def empty_choc_at_the_store(hub) -> None:
    """What is left of CHOC-DARK at the store goes (a logged adjustment): nothing to promise."""
    with hub.db.write() as conn:
        held = conn.execute("SELECT bin, on_hand FROM stock WHERE location = :l AND sku = 'CHOC-DARK' "
                            "AND on_hand > 0", {"l": DEMO_LOCATION}).tuples()
        for r in held:
            run_hub_command(conn, "stock.adjusted", {"location": DEMO_LOCATION, "bin": r[0], "sku": "CHOC-DARK",
                                                     "qty": -int(r[1]), "reason": "damaged"})


async def test_stage_times_are_stamped_and_a_days_figures_come_as_json_and_csv(hub, tmp_path):
    order = await handed_over(hub, tmp_path)
    stages = {r["stage"] for r in rows(hub, "SELECT stage FROM order_stages WHERE order_id = :o", o=order["id"])}
    assert stages == {"picked", "handed_over"}  # a pickup is not packed
    async with hub.admin() as admin:
        answer = (await admin.get("/v1/insight/analytics", params={"from": TODAY, "to": TODAY})).json()
        [row] = [r for r in answer["rows"] if r["location"] == DEMO_LOCATION]
        assert (row["day"], row["orders_finished"], row["orders_on_time"], row["on_time_rate"]) == (TODAY, 1, 1, 1.0)
        assert row["units_picked"] == 6 and row["picking_hours"] >= 1 and row["orders_picked"] == 1
        assert row["short_rate"] == 0.0 and row["to_pick_min"] is not None and row["cycle_min"] is not None
        download = await admin.get("/v1/insight/analytics", params={"from": TODAY, "to": TODAY, "format": "csv"})
        assert download.headers["content-type"].startswith("text/csv")
        assert download.headers["content-disposition"] == f'attachment; filename="fulfilment-{TODAY}-{TODAY}.csv"'
        [line] = [r for r in csv.DictReader(io.StringIO(download.text)) if r["location"] == DEMO_LOCATION]
        assert (line["orders_finished"], line["units_picked"], line["on_time_rate"]) == ("1", "6", "1.0")
        backwards = await admin.get("/v1/insight/analytics", params={"from": TODAY, "to": "2020-01-01"})
        assert backwards.status_code == 422 and "after" in backwards.text
    assert_replays(hub)  # the stage rows are a fold of the log too


async def test_a_suggested_transfer_ships_in_one_call_once_and_the_log_replays(hub, tmp_path):
    await handed_over(hub, tmp_path)
    empty_choc_at_the_store(hub)
    async with hub.admin() as admin:
        risk = (await admin.get("/v1/insight/inventory", params={"level": "out"})).json()
        [choc] = [c for c in risk["items"] if c["sku"] == "CHOC-DARK"]
        assert choc["location"] == DEMO_LOCATION and choc["out_by"] == TODAY and choc["per_day"] == 0.21
        assert "CHOC-DARK at DEMO-1: nothing to promise at 0.2/day" in choc["reason"]
        [hint] = [s for s in risk["suggestions"] if s["sku"] == "CHOC-DARK"]
        assert (hint["from_location"], hint["to_location"], hint["qty"]) == (DARK_STORE, DEMO_LOCATION, 3)
        too_many = await admin.post("/v1/insight/inventory/transfers", json={**_pair(hint), "qty": 4})
        assert too_many.status_code == 422 and "at most 3" in too_many.text
        made = await admin.post("/v1/insight/inventory/transfers", json=_pair(hint))
        assert made.status_code == 201, made.text
        transfer = made.json()
        assert transfer["qty"] == 3 and sum(li["qty"] for li in transfer["lines"]) == 3
        again = await admin.post("/v1/insight/inventory/transfers", json=_pair(hint))
        assert again.status_code == 409 and "no transfer of CHOC-DARK" in again.text  # 3 in transit now
        after = (await admin.get("/v1/insight/inventory", params={"location": DEMO_LOCATION, "level": "out"})).json()
    assert [c["in_transit"] for c in after["items"] if c["sku"] == "CHOC-DARK"] == [3]
    [logged] = rows(hub, "SELECT kind, status FROM op_log WHERE kind = 'transfer.shipped'")
    assert logged["status"] == "applied"
    [moved] = rows(hub, "SELECT status FROM transfers WHERE transfer_id = :t", t=transfer["transfer_id"])
    assert moved["status"] == "in_transit"
    assert_replays(hub)


def _pair(hint: dict) -> dict:
    return {k: hint[k] for k in ("sku", "from_location", "to_location")}


async def test_a_store_manager_sees_only_its_locations_and_the_console_ships_a_suggestion(hub, tmp_path):
    await handed_over(hub, tmp_path)
    empty_choc_at_the_store(hub)
    admin, csrf = await signed_in(hub)
    html = (await admin.get("/console/inventory")).text
    assert "CHOC-DARK at DEMO-1: nothing to promise" in html and "Ship 3</button>" in html
    viewer, _ = await signed_in(hub, "vic", "viewer")
    seen = (await viewer.get("/console/inventory")).text
    assert "CHOC-DARK at DEMO-1: nothing to promise" in seen and "Ship 3</button>" not in seen  # reads, changes nothing
    form = {"csrf": csrf, "sku": "CHOC-DARK", "qty": "3", "from_location": DARK_STORE, "to_location": DEMO_LOCATION}
    shipped = await admin.post("/console/inventory/transfers", data=form)
    assert shipped.status_code == 200 and "3 CHOC-DARK on the way from DEMO-DS to DEMO-1" in shipped.text
    page = (await admin.get("/console/analytics", params={"from": TODAY, "to": TODAY})).text
    assert page.count("<svg") == 4 and f"<td>{DEMO_LOCATION}</td><td>{TODAY}</td><td>1</td>" in page
    assert "/console/analytics.csv?from=" in page
    manager, _ = await signed_in(hub, "sam", "store_manager", (DARK_STORE,))
    assert "CHOC-DARK at DEMO-1" not in (await manager.get("/console/inventory")).text
    own = await manager.get("/console/analytics.csv", params={"from": TODAY, "to": TODAY})
    assert own.headers["content-type"].startswith("text/csv") and DEMO_LOCATION not in own.text
    assert own.text.splitlines()[0].startswith("location,day,orders_finished")
    assert (await manager.get("/console/analytics.csv", params={"location": DEMO_LOCATION})).status_code == 404
    everyone = await admin.get("/console/analytics.csv", params={"from": TODAY, "to": TODAY})
    assert f"{DEMO_LOCATION},{TODAY},1,1,1.0" in everyone.text
    assert_replays(hub)


async def test_ops_the_hub_refused_are_counted_per_location_and_day(hub, tmp_path):
    device = await hub.device(tmp_path / "picker")
    refused = [op(device, "pick.confirmed", {"order_id": "NO-SUCH", "line_no": 1, "bin": "A-01-1", "sku": "MILK-1L",
                                             "qty": 1}, seq) for seq in (1, 2)]
    assert [r["status"] for r in await push(hub, device, refused)] == ["rejected", "rejected"]
    async with hub.admin() as admin:
        answer = (await admin.get("/v1/insight/analytics", params={"location": DEMO_LOCATION})).json()
        other = (await admin.get("/v1/insight/analytics", params={"location": DARK_STORE})).json()
    assert [(r["day"], r["refusals"]) for r in answer["rows"]] == [(TODAY, 2)]
    assert other["rows"] == []


async def test_picked_packed_and_shipped_are_stamped_at_the_floors_clock_and_replay(hub, tmp_path):
    orders = await two_ship_orders(hub)
    picker = await hub.device(tmp_path / "picker")
    packer = await hub.device(tmp_path / "packer", name="pack-station", role="packer")
    await picker.sync(), await packer.sync()
    p1 = sign_in_badge(picker.replica, "BADGE:P1").operator_id
    batch = BatchPickSession(picker.replica, [o["id"] for o in orders], p1)
    batch.scan("TOTE:T1"), batch.scan("TOTE:T2")
    walk(batch)
    await picker.sync(), await packer.sync()
    k1 = sign_in_pin(packer.replica, "K1", "2222").operator_id
    pack = PackSession(packer.replica, find_order(packer.replica, "TOTE:T1"), k1)
    for sku in ("MILK-1L", "MILK-1L", "SOAP-BAR"):
        assert pack.scan(BARCODE[sku]).ok
    pack.choose_carton("M")
    assert pack.close_carton(weight_g=2400).ok and pack.hand_to_carrier("DHL").ok
    await packer.sync()
    stamped = {r["stage"]: r["hlc"] for r in rows(hub, "SELECT stage, hlc FROM order_stages WHERE order_id = :o",
                                                   o=orders[0]["id"])}
    logged = {r["kind"]: r["hlc"] for r in rows(
        hub, "SELECT kind, MAX(hlc) AS hlc FROM op_log WHERE order_id = :o GROUP BY kind", o=orders[0]["id"])}
    assert stamped == {"picked": logged["pick.confirmed"], "packed": logged["pack.carton_closed"],
                       "shipped": logged["shipment.handed_to_carrier"]}  # the op that moved it, not the sync
    async with hub.admin() as admin:
        [row] = (await admin.get("/v1/insight/analytics", params={"location": DEMO_LOCATION})).json()["rows"]
    assert row["orders_finished"] == 1 and row["to_pack_min"] is not None and row["to_handover_min"] is not None
    assert row["orders_picked"] == 2 and row["units_picked"] == 4
    assert_replays(hub)


async def test_a_short_that_closes_picking_is_stamped_and_counted_short(hub, tmp_path):
    device = await hub.device(tmp_path / "picker")
    order = await post_order(hub, order_body("SHORT-1", [("TEA-GRN-20", 2)], location=DEMO_LOCATION))
    line = order["lines"][0]
    now_ms = int(datetime.now(timezone.utc).timestamp() * 1000)
    device_id = device.replica.get_meta("device_id")
    short = {**op(device, "pick.shorted", {"order_id": order["id"], "line_no": 1, "bin": line["pick_bin"],
                                            "sku": "TEA-GRN-20", "qty": 2, "reason": "not_found"}, 1),
             "hlc": f"{now_ms:015d}:000000:{device_id}"}
    assert [r["status"] for r in await push(hub, device, [short])] == ["applied"]
    [stage] = rows(hub, "SELECT stage, hlc FROM order_stages WHERE order_id = :o", o=order["id"])
    assert (stage["stage"], stage["hlc"]) == ("picked", short["hlc"])
    async with hub.admin() as admin:
        [row] = (await admin.get("/v1/insight/analytics", params={"location": DEMO_LOCATION})).json()["rows"]
    assert (row["orders_picked"], row["units_ordered"], row["units_short"], row["short_rate"]) == (1, 2, 2, 1.0)
    assert_replays(hub)


async def test_the_cli_lists_covers_ships_a_suggestion_and_prints_the_days_figures(hub, hub_db_url, tmp_path):
    from click.testing import CliRunner

    from hub.cli import hub as hub_cli

    await handed_over(hub, tmp_path)
    empty_choc_at_the_store(hub)
    listed = CliRunner().invoke(hub_cli, ["insight", "inventory", "--db", hub_db_url, "--level", "out"])
    assert listed.exit_code == 0, listed.output
    assert "out       CHOC-DARK at DEMO-1: nothing to promise" in listed.output
    assert "3 CHOC-DARK DEMO-DS -> DEMO-1" in listed.output
    ship = ["insight", "ship", "--db", hub_db_url, "CHOC-DARK", DARK_STORE, DEMO_LOCATION]
    too_many = CliRunner().invoke(hub_cli, [*ship, "--qty", "9"])
    assert too_many.exit_code != 0 and "at most 3 CHOC-DARK are suggested, not 9" in too_many.output
    shipped = CliRunner().invoke(hub_cli, ship)
    assert shipped.exit_code == 0 and "3 CHOC-DARK in transit to DEMO-1" in shipped.output, shipped.output
    table = CliRunner().invoke(hub_cli, ["insight", "analytics", "--db", hub_db_url, "--location", DEMO_LOCATION])
    assert table.exit_code == 0 and f"{DEMO_LOCATION:<12} {TODAY}     1    100%" in table.output, table.output
    as_csv = CliRunner().invoke(hub_cli, ["insight", "analytics", "--db", hub_db_url, "--csv"])
    assert as_csv.output.splitlines()[0].startswith("location,day,")
    assert f"{DEMO_LOCATION},{TODAY},1,1,1.0" in as_csv.output
    assert_replays(hub)
