"""Setting up and changing a store network through /v1/admin: locations with their
details, bins with zones, items with GTINs and flags, operators, stock adjustments and
transfers, CSV imports (a dry run names every bad row's line and changes nothing) and
exports; every list paged by cursor with no cap; every change a logged hub command that
replays to the same state and reaches devices through their feed. Both backends."""

from __future__ import annotations

import pytest

from hub.seed import DEMO_LOCATION
from hub.verify import replay

pytestmark = pytest.mark.anyio

SECOND = {"code": "S-2", "name": "Second store", "kind": "store", "address": "2 Market St, Lyon", "lat": 45.76,
          "lon": 4.83, "time_zone": "Europe/Paris", "opening_hours": {"mon": ["08:00-20:00"], "sat": ["09:00-13:00"]},
          "daily_capacity": 400}


async def open_second_store(client) -> None:
    assert (await client.post("/v1/admin/locations", json=SECOND)).status_code == 201
    for seq, code in enumerate(["B-1", "B-2"], start=1):
        answer = await client.post("/v1/admin/bins", json={"location": "S-2", "code": code, "seq": seq, "zone": "dry"})
        assert answer.status_code == 201, answer.text


async def test_a_location_is_created_with_its_details_changed_field_by_field_and_refused_by_field(hub):
    async with hub.admin() as client:
        await open_second_store(client)
        assert (await client.get("/v1/admin/locations/S-2")).json() == SECOND
        changed = await client.patch("/v1/admin/locations/S-2", json={"daily_capacity": 250, "address": None})
        assert changed.status_code == 200 and changed.json()["daily_capacity"] == 250 and changed.json()["address"] is None
        assert changed.json()["opening_hours"] == SECOND["opening_hours"]  # left out: unchanged
        bad_zone = await client.patch("/v1/admin/locations/S-2", json={"time_zone": "Mars/Olympus"})
        assert bad_zone.status_code == 422 and bad_zone.json()["detail"].startswith("time_zone:")
        bad_hours = await client.patch("/v1/admin/locations/S-2", json={"opening_hours": {"mon": ["8 till late"]}})
        assert bad_hours.status_code == 422 and "opening_hours" in bad_hours.json()["detail"]
        bad_day = await client.post("/v1/admin/locations", json={**SECOND, "code": "S-3", "lat": 91})
        assert bad_day.status_code == 422 and "lat" in bad_day.json()["detail"]
        again = await client.post("/v1/admin/locations", json=SECOND)
        assert again.status_code == 422 and again.json()["detail"].startswith("code:")
        missing = await client.patch("/v1/admin/locations/NOPE", json={"daily_capacity": 1})
        assert missing.status_code == 404
    assert replay(hub.db).same


async def test_items_bins_operators_and_stock_changes_are_logged_commands_shown_in_the_ledger(hub):
    async with hub.admin() as client:
        await open_second_store(client)
        item = {"sku": "GLUE-1", "name": "Super glue", "gtins": ["5012345678900"], "unit_weight_g": 20, "length_mm": 80,
                "width_mm": 20, "height_mm": 10, "hazmat": True, "min_age": 16}
        assert (await client.put("/v1/admin/items/GLUE-1", json=item)).status_code == 200
        wrong_gtin = await client.put("/v1/admin/items/GLUE-2", json={"sku": "GLUE-2", "name": "x", "gtins": ["5012345678901"]})
        assert wrong_gtin.status_code == 422 and wrong_gtin.json()["detail"].startswith("gtins:")
        found = (await client.get("/v1/admin/items", params={"gtin": "5012345678900"})).json()["items"]
        assert found[0]["hazmat"] is True and found[0]["min_age"] == 16 and found[0]["gtins"] == ["5012345678900"]
        assert (await client.get("/v1/admin/items", params={"hazmat": "true"})).json()["items"] == found

        assert (await client.post("/v1/admin/operators", json={"operator_id": "P-20", "name": "Ana", "role": "picker",
                                                               "location": "S-2", "pin": "4321"})).status_code == 201
        promote = await client.post("/v1/admin/operators/P-20/role", json={"role": "supervisor"})
        assert promote.status_code == 422 and promote.json()["detail"].startswith("pin:")
        assert (await client.post("/v1/admin/operators/P-20/role", json={"role": "packer"})).status_code == 200
        assert (await client.post("/v1/admin/operators/P-20/disable", json={"reason": "left"})).status_code == 200
        listed = (await client.get("/v1/admin/operators", params={"location": "S-2"})).json()["items"]
        assert [(o["operator_id"], o["role"], o["active"]) for o in listed] == [("P-20", "packer", False)]
        assert (await client.delete("/v1/admin/operators/P-20")).status_code == 200

        stock_file = "location,bin,sku,on_hand\nS-2,B-1,GLUE-1,10\n"
        assert (await client.post("/v1/admin/imports/stock", content=stock_file)).json()["applied"] == 1
        adjust = {"location": "S-2", "bin": "B-1", "sku": "GLUE-1", "qty": -2, "reason": "damaged", "note": "crushed"}
        assert (await client.post("/v1/admin/stock/adjustments", json=adjust)).status_code == 201
        bad_reason = await client.post("/v1/admin/stock/adjustments", json={**adjust, "reason": "because"})
        assert bad_reason.status_code == 422 and "reason" in bad_reason.json()["detail"]
        too_many = await client.post("/v1/admin/transfers", json={"from_location": "S-2", "to_location": DEMO_LOCATION,
                                                                    "lines": [{"bin": "B-1", "sku": "GLUE-1", "qty": 9}]})
        assert too_many.status_code == 422 and too_many.json()["detail"].startswith("lines:")
        shipped = await client.post("/v1/admin/transfers", json={"transfer_id": "T-1", "from_location": "S-2",
                                                                 "to_location": DEMO_LOCATION,
                                                                 "lines": [{"bin": "B-1", "sku": "GLUE-1", "qty": 3}]})
        assert shipped.status_code == 201
        on_road = (await client.get("/v1/admin/transfers", params={"status": "in_transit"})).json()["items"]
        assert [t["transfer_id"] for t in on_road] == ["T-1"]
        demo_bin = (await client.get("/v1/admin/bins", params={"location": DEMO_LOCATION, "limit": 1})).json()["items"][0]
        assert (await client.post("/v1/admin/transfers/T-1/receive", json={"bin": demo_bin["code"]})).status_code == 200
        twice = await client.post("/v1/admin/transfers/T-1/receive", json={"bin": demo_bin["code"]})
        assert twice.status_code == 422
        ledger = (await client.get("/v1/admin/movements", params={"sku": "GLUE-1"})).json()["items"]
        assert [(m["location"], m["qty"], m["reason"]) for m in ledger] == [
            ("S-2", 10, "snapshot"), ("S-2", -2, "adjust:damaged"), ("S-2", -3, "transfer_out"),
            (DEMO_LOCATION, 3, "transfer_in")]
        on_hand = (await client.get("/v1/admin/stock", params={"sku": "GLUE-1"})).json()["items"]
        assert {(s["location"], s["on_hand"]) for s in on_hand} == {("S-2", 5), (DEMO_LOCATION, 3)}
    assert replay(hub.db).same


async def test_a_dry_run_reports_every_bad_row_by_line_and_changes_nothing(hub):
    rows = ["sku,name,gtins,unit_weight_g,hazmat,min_age", "OK-1,Fine,,10,no,", "BAD-1,,,,,", "OK-2,Fine too,,x,no,",
            "OK-1,Again,,,,", "BAD-2,Glue,5012345678901,,,", "BAD-3,Beer,,,perhaps,", "BAD-4,Wine,,,,150"]
    async with hub.admin() as client:
        before = (await client.get("/v1/admin/items", params={"limit": 1000})).json()["items"]
        dry = (await client.post("/v1/admin/imports/items", params={"dry_run": "true"}, content="\n".join(rows))).json()
        assert [e["line"] for e in dry["errors"]] == [3, 4, 5, 6, 7, 8]
        assert dry["errors"][0]["error"].startswith("name:") and dry["errors"][2]["error"] == "sku: OK-1 is on line 2 too"
        assert dry["applied"] == 0 and dry["dry_run"] is True
        real = (await client.post("/v1/admin/imports/items", content="\n".join(rows))).json()
        assert real["bad_rows"] == 6 and real["applied"] == 0  # a bad row: nothing applied
        header = (await client.post("/v1/admin/imports/bins", content="where,code\nx,y\n")).json()
        assert header["errors"][0]["line"] == 1 and "missing column location, seq" in header["errors"][0]["error"]
        assert (await client.get("/v1/admin/items", params={"limit": 1000})).json()["items"] == before


async def test_imported_items_bins_and_stock_page_by_cursor_without_a_cap_and_reach_a_device(hub, tmp_path):
    items = "sku,name,gtins\n" + "".join(f"IMP-{i:05d},Imported {i},\n" for i in range(2500))
    async with hub.admin() as client:
        await open_second_store(client)
        report = (await client.post("/v1/admin/imports/items", content=items)).json()
        assert (report["applied"], report["batches"]) == (2500, 1)
        stock = "location,bin,sku,on_hand\n" + "".join(f"S-2,B-{1 + i % 2},IMP-{i:05d},{i % 7 + 1}\n" for i in range(2500))
        assert (await client.post("/v1/admin/imports/stock", content=stock)).json()["applied"] == 2500
        seen, after = [], None
        while True:
            page = (await client.get("/v1/admin/items", params={"q": "IMP-", "limit": 1000, **({"after": after} if after else {})})).json()
            seen += [i["sku"] for i in page["items"]]
            after = page["next"]
            if after is None:
                break
        assert seen == [f"IMP-{i:05d}" for i in range(2500)]
        first = (await client.get("/v1/admin/stock", params={"location": "S-2", "limit": 1000})).json()
        second = (await client.get("/v1/admin/stock", params={"location": "S-2", "limit": 1000, "after": first["next"]})).json()
        assert len(first["items"]) == 1000 and len(second["items"]) == 1000 and second["next"]
        assert (await client.get("/v1/admin/items", params={"after": "not a cursor!"})).status_code == 422
        exported = (await client.get("/v1/admin/exports/stock")).text.splitlines()
        assert exported[0] == "location,bin,sku,on_hand" and "S-2,B-1,IMP-00000,1" in exported
        again = (await client.post("/v1/admin/imports/stock", content=stock)).json()
        assert again["applied"] == 2500
        ledger = (await client.get("/v1/admin/movements", params={"location": "S-2", "reason": "snapshot", "limit": 1000})).json()
        assert ledger["next"] is not None  # 2,500 snapshot movements, the second run added none
    device = await hub.device(tmp_path / "d", location="S-2")
    await device.sync()
    assert device.replica.query_one("SELECT COUNT(*) AS n FROM items WHERE sku LIKE 'IMP-%'")["n"] == 2500
    assert device.replica.query_one("SELECT name FROM items WHERE sku = 'IMP-02499'")["name"] == "Imported 2499"
    assert {r["code"] for r in device.replica.query("SELECT code FROM bins")} == {"B-1", "B-2"}
    assert device.replica.query_one("SELECT on_hand FROM stock WHERE bin = 'B-2' AND sku = 'IMP-00001'")["on_hand"] == 2
    assert device.replica.query_one("SELECT COUNT(*) AS n FROM stock")["n"] == 2500
    assert replay(hub.db).same


async def test_only_an_admin_token_sets_up_the_network(hub, tmp_path):
    device = await hub.device(tmp_path / "d")
    token = device.replica.get_meta("token")
    async with hub.admin() as client:
        client.headers["Authorization"] = f"Bearer {token}"
        assert (await client.get("/v1/admin/locations")).status_code == 403
        assert (await client.post("/v1/admin/imports/items", content="sku,name\nA,B\n")).status_code == 403


def test_the_cli_sets_up_a_store_imports_with_a_dry_run_and_exports(hub_db_url, tmp_path):
    from click.testing import CliRunner

    from backroom_cli import cli

    def run(*args: str):
        return CliRunner().invoke(cli, ["hub", *args[:2], "--db", hub_db_url, *args[2:]])

    assert run("location", "add", "C-1", "--name", "CLI store", "--kind", "store", "--time-zone", "Europe/Oslo",
               "--hours", '{"sun": ["10:00-16:00"]}').exit_code == 0
    bad_zone = run("location", "update", "C-1", "--time-zone", "Oslo")
    assert bad_zone.exit_code == 1 and "time_zone:" in bad_zone.output
    assert run("bin", "add", "--location", "C-1", "--code", "K-1", "--seq", "1", "--zone", "dry").exit_code == 0
    items = tmp_path / "items.csv"
    items.write_text("sku,name,gtins\nK-SKU,Thing,\nK-BAD,,\n")
    dry = run("import", "items", str(items), "--dry-run")
    assert dry.exit_code == 1 and "line 3: name:" in dry.output and "nothing imported" in dry.output
    items.write_text("sku,name,gtins\nK-SKU,Thing,96385074\n")
    assert "imported 1 items in 1 batches" in run("import", "items", str(items)).output
    stock = tmp_path / "stock.csv"
    stock.write_text("location,bin,sku,on_hand\nC-1,K-1,K-SKU,9\n")
    assert run("import", "stock", str(stock)).exit_code == 0
    adjusted = run("stock", "adjust", "--location", "C-1", "--bin", "K-1", "--sku", "K-SKU", "--qty", "-1",
                   "--reason", "expired")
    assert adjusted.exit_code == 0, adjusted.output
    exported = run("export", "stock")
    assert "C-1,K-1,K-SKU,8" in exported.output.splitlines()
