"""Carriers against an in-process hub (both backends): a rate table loaded through the
API (a dry run and a bad file change nothing, every bad row named), devices get it
through the feed; a carton closed offline goes with the service the hub would choose,
its label carries the address and tracking number, and the hub records both; the
handover manifest lists it; a device without the table gets the hub's choice; the log
replays to the same state."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import text

from edge_app.workflows.pack_labels import carton_label_pdf, carton_label_zpl
from edge_app.workflows.packing import PackSession, find_order
from edge_app.workflows.picking import BatchPickSession
from hub.carrier_demo import DEMO_RATES
from hub.seed import DEMO_LOCATION
from hub.verify import replay
from sync.carriers import is_tracking_number, tracking_number
from tests.integration.test_floor_packing import BARCODE, walk
from tests.integration.test_pick_slice import order_body, post_order

pytestmark = pytest.mark.anyio

BERLIN = {"lines": ["Torstrasse 101", "Hinterhaus"], "postal_code": "10119", "country": "DE"}


def ship_order(number: str, ship_to: dict | None = BERLIN, days: int = 30) -> dict:
    promised = (datetime.now(timezone.utc) + timedelta(days=days)).isoformat()
    extra = {"ship_to": ship_to, "contact": {"phone": "+49 30 7654321"}} if ship_to else {}
    return order_body(number, [("MILK-1L", 1)], fulfilment="ship", location=DEMO_LOCATION, promised_by=promised, **extra)


async def packed_offline(hub, tmp_path, order: dict, weight_g: int = 1500, forget_rates: bool = False) -> tuple:
    """A device picks the order into a tote, syncs, then packs and closes one carton offline."""
    device = await hub.device(tmp_path / "packer", role="packer")
    await device.sync()
    batch = BatchPickSession(device.replica, [order["id"]], "P1")
    batch.scan("TOTE:T7")
    walk(batch)
    await device.sync()
    if forget_rates:  # an app that never pulled a table (or an older one): the hub chooses
        with device.replica.transaction() as conn:
            conn.execute("DELETE FROM carrier_rates")
    pack = PackSession(device.replica, find_order(device.replica, "TOTE:T7"), "K1")
    assert pack.scan(BARCODE["MILK-1L"]).ok
    pack.choose_carton("S")
    assert pack.close_carton(weight_g=weight_g).ok
    return device, pack


async def admin_get(hub, url: str, **params):
    async with hub.admin() as admin:
        return await admin.get(url, params=params)


async def test_a_rate_table_loads_through_the_api_only_when_every_row_is_good_and_reaches_devices(hub, tmp_path):
    bad = {**DEMO_RATES, "rates": DEMO_RATES["rates"] + "PARCEL,standard,MARS,2000,4.49,2\nPARCEL,express,EU,x,1,1\n", "note": "x"}
    async with hub.admin() as admin:
        for dry_run in ("true", "false"):
            report = (await admin.post("/v1/admin/carriers/rates", params={"dry_run": dry_run}, json=bad)).json()
            assert not report["ok"] and report["version"] is None
            assert [(e["file"], e["line"]) for e in report["errors"]] == [("rates", 22), ("rates", 23)]
        good = {**DEMO_RATES, "rates": DEMO_RATES["rates"].replace("PARCEL,express,LOCAL,10000,9.99,1", "PARCEL,express,LOCAL,10000,3.99,1")}
        checked = (await admin.post("/v1/admin/carriers/rates", params={"dry_run": "true"}, json=good)).json()
        assert checked["ok"] and checked["version"] is None and checked["rows"] == {"services": 3, "zones": 8, "rates": 20}
        assert (await admin.get("/v1/admin/carriers/rates")).json()["version"] == 1  # the demo's: nothing loaded yet
        loaded = (await admin.post("/v1/admin/carriers/rates", json={**good, "note": "express on offer"})).json()
        assert loaded["ok"] and loaded["version"] == 2
        assert [v["note"] for v in (await admin.get("/v1/admin/carriers/rates")).json()["versions"]] == ["demo rate table", "express on offer"]
    device = await hub.device(tmp_path / "d")
    await device.sync()
    assert device.replica.query_one("SELECT version FROM carrier_rates WHERE key = 'current'")["version"] == 2
    order = await post_order(hub, ship_order("C-0"))
    quote = (await admin_get(hub, f"/v1/admin/carriers/quote/{order['id']}", weight_g=1500)).json()
    assert (quote["chosen"]["carrier"], quote["chosen"]["service"]) == ("PARCEL", "express")  # now the cheapest in LOCAL
    assert replay(hub.db).same


async def test_a_carton_closed_offline_goes_as_the_hub_would_choose_and_its_label_carries_address_and_tracking(hub, tmp_path):
    order = await post_order(hub, ship_order("C-1"))
    device, pack = await packed_offline(hub, tmp_path, order)
    carton = pack.last_carton
    assert (carton["carrier"], carton["service"], carton["rates_version"]) == ("PARCEL", "standard", 1)
    assert carton["tracking"] == tracking_number("PS", carton["carton_id"]) and is_tracking_number(carton["tracking"])
    zpl = carton_label_zpl(device.replica, pack.order, carton)
    for words in ("Torstrasse 101", "10119 DE", "TEL +49 30 7654321", "PARCEL STANDARD", f"TRACKING {carton['tracking']}"):
        assert words in zpl, words  # field text as printed (^FH escapes only ^ and ~)
    assert carton_label_pdf(device.replica, pack.order, carton)[:5] == b"%PDF-"
    hub_choice = (await admin_get(hub, f"/v1/admin/carriers/quote/{order['id']}", weight_g=1500)).json()["chosen"]
    assert (hub_choice["carrier"], hub_choice["service"]) == ("PARCEL", "standard")

    await device.sync()
    [shipment] = (await admin_get(hub, f"/v1/admin/carriers/orders/{order['id']}")).json()
    assert (shipment["carrier"], shipment["service"], shipment["tracking"]) == ("PARCEL", "standard", carton["tracking"])
    assert shipment["chosen_by"] == "device" and shipment["choice"]["agrees"] and shipment["price_cents"] == 449
    assert shipment["choice"]["hub"]["explanation"][0] == "DE 10119 is in zone LOCAL (postal prefix 10)."
    assert shipment["handed_day"] is None
    seen = (await admin_get(hub, f"/v1/orders/{order['id']}")).json()
    assert seen["shipments"][0]["tracking"] == carton["tracking"] and seen["routing"]["ship_to"]["lines"] == BERLIN["lines"]
    assert "ship_to" not in seen  # the API shows it under "routing", as before

    assert pack.hand_to_carrier().ok
    assert '"carrier": "PARCEL"' in device.replica.query_one(
        "SELECT payload FROM outbox WHERE kind = 'shipment.handed_to_carrier'")["payload"]
    await device.sync()
    today = datetime.now(timezone.utc).date().isoformat()
    body = (await admin_get(hub, "/v1/admin/carriers/manifest", location=DEMO_LOCATION, day=today, carrier="PARCEL")).json()
    [row] = [r for r in body["cartons"] if r["sscc"] == carton["carton_id"]]
    assert (row["tracking"], row["weight_g"], row["postal_code"], row["address_lines"]) == (
        carton["tracking"], 1500, "10119", "Torstrasse 101 / Hinterhaus")
    assert (await admin_get(hub, "/v1/admin/carriers/manifest", location=DEMO_LOCATION, day=today, carrier="COURIER")).json()["cartons"] == []
    as_csv = (await admin_get(hub, "/v1/admin/carriers/manifest", location=DEMO_LOCATION, day=today, format="csv")).text
    [line] = [r for r in csv.DictReader(io.StringIO(as_csv)) if r["sscc"] == carton["carton_id"]]
    assert (line["carrier"], line["service"], line["tracking"], line["country"]) == ("PARCEL", "standard", carton["tracking"], "DE")
    assert replay(hub.db).same


async def test_a_carton_closed_on_a_device_without_the_rate_table_gets_the_hubs_choice_and_tracking(hub, tmp_path):
    order = await post_order(hub, ship_order("C-2", days=0))  # due today: only the same-day courier keeps it
    device, pack = await packed_offline(hub, tmp_path, order, forget_rates=True)
    assert "carrier" not in pack.last_carton
    await device.sync()
    [shipment] = (await admin_get(hub, f"/v1/admin/carriers/orders/{order['id']}")).json()
    assert (shipment["carrier"], shipment["service"], shipment["chosen_by"]) == ("COURIER", "sameday", "hub")
    assert shipment["tracking"] == tracking_number("CC", pack.last_carton["carton_id"])
    assert replay(hub.db).same


async def test_a_heavy_carton_no_service_takes_and_a_pickup_keep_the_carrier_the_packer_names(hub, tmp_path):
    order = await post_order(hub, ship_order("C-3"))
    device, pack = await packed_offline(hub, tmp_path, order, weight_g=40_000)
    assert "carrier" not in pack.last_carton  # over every weight limit: the packer names the carrier
    assert b"TRACKING" not in carton_label_zpl(device.replica, pack.order, pack.last_carton, "Freight Co").encode()
    assert pack.hand_to_carrier("Freight Co").ok
    await device.sync()
    with hub.db.read() as conn:
        row = conn.execute(text("SELECT carrier, service, tracking, chosen_by FROM carton_shipments WHERE order_id = :o"),
                           {"o": order["id"]}).one()
    assert tuple(row) == ("Freight Co", None, None, "handover")
    assert replay(hub.db).same


async def test_the_console_shows_the_manifest_and_a_store_manager_only_their_locations(hub, tmp_path):
    from tests.integration.test_console import signed_in

    order = await post_order(hub, ship_order("C-4"))
    device, pack = await packed_offline(hub, tmp_path, order)
    pack.hand_to_carrier()
    await device.sync()
    client, _csrf = await signed_in(hub)
    today = datetime.now(timezone.utc).date().isoformat()
    html = (await client.get("/console/carriers", params={"location": DEMO_LOCATION, "day": today})).text
    assert pack.last_carton["tracking"] in html and "Torstrasse 101 / Hinterhaus, 10119 DE" in html
    assert "Version 1: 3 services" in html
    assert pack.last_carton["tracking"] in (await client.get(f"/console/orders/{order['id']}")).text
    file = await client.get("/console/carriers/manifest.csv", params={"location": DEMO_LOCATION, "day": today})
    assert file.headers["content-type"].startswith("text/csv") and pack.last_carton["tracking"] in file.text
    await client.aclose()
    manager, _csrf = await signed_in(hub, "sam", "store_manager", ("DEMO-DS",))
    assert (await manager.get("/console/carriers", params={"location": DEMO_LOCATION})).status_code == 404
    await manager.aclose()


def test_the_cli_loads_a_rate_table_names_every_bad_row_and_prints_the_manifest(hub, hub_db_url, tmp_path):
    from click.testing import CliRunner

    from hub.cli import hub as hub_cli

    for part, body in DEMO_RATES.items():
        (tmp_path / f"{part}.csv").write_text(body)
    (tmp_path / "bad.csv").write_text(DEMO_RATES["rates"] + "PARCEL,standard,LOCAL,2000,4.49,2\nPARCEL,express,EU,heavy,1,1\n")
    files = ["--services", str(tmp_path / "services.csv"), "--zones", str(tmp_path / "zones.csv")]
    runner = CliRunner()
    bad = runner.invoke(hub_cli, ["carriers", "load", "--db", hub_db_url, *files, "--rates", str(tmp_path / "bad.csv")])
    assert bad.exit_code == 1
    assert "rates.csv line 22: the same band as line 2 (PARCEL standard, LOCAL, up to 2000 g)" in bad.output
    assert "rates.csv line 23: max_weight_g: 'heavy' is not a whole number" in bad.output
    assert "2 bad row(s) of 3 services, 8 zones, 22 rates: nothing loaded" in bad.output
    dry = runner.invoke(hub_cli, ["carriers", "load", "--db", hub_db_url, *files, "--rates", str(tmp_path / "rates.csv"), "--dry-run"])
    assert dry.exit_code == 0 and "all good (dry run, nothing loaded)" in dry.output
    good = runner.invoke(hub_cli, ["carriers", "load", "--db", hub_db_url, *files, "--rates", str(tmp_path / "rates.csv")])
    assert good.exit_code == 0 and "carrier rate table version 2: 3 services, 8 zones, 20 rates" in good.output
    listed = runner.invoke(hub_cli, ["carriers", "manifest", "--db", hub_db_url, "--location", DEMO_LOCATION, "--csv"])
    assert listed.exit_code == 0 and listed.output.startswith("carrier,service,tracking,sscc,")
    wrong = runner.invoke(hub_cli, ["carriers", "quote", "--db", hub_db_url, "no-such-order", "--weight-g", "10"])
    assert wrong.exit_code == 1 and "no order 'no-such-order'" in wrong.output


async def test_a_rate_table_past_the_usual_body_limit_loads_like_an_import(hub):
    from benchmarks.carriers import big_table_csv
    from hub.api.door import MAX_BODY_BYTES

    texts = big_table_csv(zones=1000)  # 50,000 rates
    texts["rates"] += "C0,xstd,Z1,1000,1.00,1\n"
    assert len(json.dumps(texts)) > MAX_BODY_BYTES
    async with hub.admin() as admin:
        report = (await admin.post("/v1/admin/carriers/rates", params={"dry_run": "true"}, json=texts)).json()
    assert report["rows"]["rates"] == 50_001
    assert report["errors"] == [{"file": "rates", "line": 50_002, "error": "no service C0 xstd in the services file"}]


async def test_a_distance_band_measures_from_the_location_as_the_table_was_loaded_on_hub_and_device_alike(hub, tmp_path):
    from hub.log import run_hub_command

    with hub.db.write() as conn:
        run_hub_command(conn, "location.profile_set", {"code": DEMO_LOCATION, "lat": 52.52, "lon": 13.405})
    async with hub.admin() as admin:  # loaded again: the table keeps where DEMO-1 is now
        assert (await admin.post("/v1/admin/carriers/rates", json=DEMO_RATES)).json()["version"] == 2
    near = {"lines": ["Am Kanal 1"], "postal_code": "14467", "country": "DE", "lat": 52.40, "lon": 13.06}  # ~27 km
    closer = {**near, "lat": 52.45, "lon": 13.30}  # ~11 km, outside Berlin's postal codes
    order = await post_order(hub, ship_order("C-5", ship_to=closer, days=0))
    device, pack = await packed_offline(hub, tmp_path, order)
    assert (pack.last_carton["carrier"], pack.last_carton["service"]) == ("COURIER", "sameday")  # zone NEAR, same day
    await device.sync()
    [shipment] = (await admin_get(hub, f"/v1/admin/carriers/orders/{order['id']}")).json()
    assert shipment["zone"] == "NEAR" and shipment["choice"]["agrees"]
    assert shipment["choice"]["hub"]["why_zone"] == "DE 14467, 11 km away is in zone NEAR (the whole country, 0-25 km)"
    far = await post_order(hub, ship_order("C-6", ship_to=near, days=0))
    quote = (await admin_get(hub, f"/v1/admin/carriers/quote/{far['id']}", weight_g=1500)).json()
    assert quote["zone"] == "DOMESTIC" and quote["chosen"]["service"] == "express"  # past the band: no courier
    assert replay(hub.db).same


async def test_a_carton_closed_with_an_older_table_stands_as_labelled_and_its_result_says_what_the_hub_would_choose(hub, tmp_path):
    order = await post_order(hub, ship_order("C-7"))
    cheaper = {**DEMO_RATES, "rates": DEMO_RATES["rates"].replace("PARCEL,express,LOCAL,10000,9.99,1", "PARCEL,express,LOCAL,10000,3.99,1")}
    device = await hub.device(tmp_path / "packer", role="packer")
    await device.sync()
    async with hub.admin() as admin:  # while the device is offline
        assert (await admin.post("/v1/admin/carriers/rates", json=cheaper)).json()["version"] == 2
    batch = BatchPickSession(device.replica, [order["id"]], "P1")
    batch.scan("TOTE:T7")
    walk(batch)
    pack = PackSession(device.replica, find_order(device.replica, "TOTE:T7"), "K1")
    pack.scan(BARCODE["MILK-1L"]), pack.choose_carton("S"), pack.close_carton(weight_g=1500)
    assert (pack.last_carton["service"], pack.last_carton["rates_version"]) == ("standard", 1)
    await device.sync()
    result = json.loads(device.replica.query_one("SELECT result FROM outbox WHERE kind = 'pack.carton_closed'")["result"])
    assert result["status"] == "applied"
    assert "went with PARCEL standard (rate table version 1); the hub's table (version 2) would choose PARCEL express" in result["message"]
    [shipment] = (await admin_get(hub, f"/v1/admin/carriers/orders/{order['id']}")).json()
    assert (shipment["service"], shipment["chosen_by"], shipment["choice"]["agrees"]) == ("standard", "device", False)
    assert replay(hub.db).same
