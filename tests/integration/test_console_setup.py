"""The console's set-up pages through the real hub app: a network admin opens a store
(location with its details, bins, items, operators) from forms, imports CSV files with
a dry run that lists bad rows by line before anything changes, and store managers and
viewers get what the API's rules give them. Every change is a logged hub command that
replays to the same state. Both backends."""

from __future__ import annotations

import re
from contextlib import aclosing
from html import unescape

import pytest

from hub.seed import DARK_STORE, DEMO_LOCATION
from hub.verify import replay
from tests.integration.test_console import browser, message_of, signed_in

pytestmark = pytest.mark.anyio

NEW_STORE = {"code": "LYON-2", "name": "Lyon Part-Dieu", "kind": "store", "address": "5 Place Charles Béraudier",
             "lat": "45.7606", "lon": "4.8593", "time_zone": "Europe/Paris", "daily_capacity": "300",
             "hours_mon": "08:00-12:00, 14:00-20:00", "hours_sat": "09:00-13:00"}


def logged(hub, kind: str) -> list[str]:
    with hub.db.read() as conn:
        return conn.execute("SELECT actor FROM op_log WHERE kind = :k ORDER BY log_seq", {"k": kind}).scalars().all()


def rows_of(html: str, table_id: str | None = None) -> list[list[str]]:
    if table_id:
        html = html[html.index(f'id="{table_id}"'):]
    body = html[html.index("<tbody>"):html.index("</tbody>")]
    return [[unescape(re.sub(r"<[^>]+>", "", cell)).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.DOTALL)]
            for row in re.findall(r"<tr>(.*?)</tr>", body, re.DOTALL)]


async def test_a_network_admin_opens_a_store_from_the_set_up_pages(hub):
    client, csrf = await signed_in(hub)
    async with aclosing(client):
        home = await client.get("/console/setup")
        assert 'href="/console/setup"' in home.text and "<h1>Set-up</h1>" in home.text
        created = await client.post("/console/setup/locations", data={"csrf": csrf, **NEW_STORE})
        assert created.status_code == 200 and message_of(created.text) == "Location LYON-2 created."
        assert 'value="Europe/Paris"' in created.text and 'value="08:00-12:00, 14:00-20:00"' in created.text
        edited = await client.post("/console/setup/locations/LYON-2",
                                   data={"csrf": csrf, **NEW_STORE, "daily_capacity": "250", "hours_sat": ""})
        assert message_of(edited.text) == "Location LYON-2 changed: daily_capacity, opening_hours."
        bad = await client.post("/console/setup/locations/LYON-2", data={"csrf": csrf, **NEW_STORE, "lat": "north"})
        assert bad.status_code == 422 and message_of(bad.text) == "lat: 'north' is not a number"
        bad_zone = await client.post("/console/setup/locations/LYON-2", data={"csrf": csrf, **NEW_STORE, "time_zone": "Lyon"})
        assert bad_zone.status_code == 422 and message_of(bad_zone.text).startswith("time_zone:")

        for seq, code in enumerate(["L-01", "L-02"], start=1):
            added = await client.post("/console/setup/bins", data={"csrf": csrf, "location": "LYON-2", "code": code,
                                                                    "seq": str(seq * 10), "zone": "dry"})
            assert message_of(added.text).startswith(f"Bin {code} at LYON-2 saved")
        assert [r[:4] for r in rows_of((await client.get("/console/setup/bins?location=LYON-2")).text)] == [
            ["LYON-2", "10", "L-01", "dry"], ["LYON-2", "20", "L-02", "dry"]]

        item = {"csrf": csrf, "sku": "WINE-RED", "name": "Red wine 75 cl", "gtins": "5012345678900", "unit_weight_g": "1250",
                "length_mm": "80", "width_mm": "80", "height_mm": "300", "hazmat": "no", "min_age": "18"}
        saved = await client.post("/console/setup/items", data=item)
        assert message_of(saved.text) == "Item WINE-RED saved."
        wrong = await client.post("/console/setup/items", data={**item, "gtins": "5012345678901"})
        assert wrong.status_code == 422 and message_of(wrong.text).startswith("gtins:")
        found = await client.get("/console/setup/items?q=wine")
        assert rows_of(found.text)[0][:3] == ["WINE-RED", "Red wine 75 cl", "5012345678900"] and "18+" in found.text

        added = await client.post("/console/setup/operators", data={"csrf": csrf, "operator_id": "LY-1", "name": "Inès",
                                                                    "role": "picker", "location": "LYON-2", "pin": "2468"})
        assert message_of(added.text).startswith("Operator LY-1 added")
        needs_pin = await client.post("/console/setup/operators/LY-1/role", data={"csrf": csrf, "role": "supervisor"})
        assert needs_pin.status_code == 422 and message_of(needs_pin.text).startswith("pin:")
        promoted = await client.post("/console/setup/operators/LY-1/role", data={"csrf": csrf, "role": "supervisor",
                                                                                 "pin": "135790"})
        assert message_of(promoted.text) == "Operator LY-1 is now a supervisor."
        disabled = await client.post("/console/setup/operators/LY-1/disable", data={"csrf": csrf})
        assert ["LY-1", "Inès", "LYON-2", "supervisor", "disabled"] in [r[:5] for r in rows_of(disabled.text)]
        removed = await client.post("/console/setup/operators/LY-1/remove", data={"csrf": csrf})
        assert message_of(removed.text) == "Operator LY-1 removed."
    assert logged(hub, "location.added")[-1] == "console:kim"
    assert logged(hub, "location.updated") == ["console:kim"]
    assert len(logged(hub, "bin.added")) >= 2 and logged(hub, "operator.removed") == ["console:kim"]
    assert replay(hub.db).same


async def test_an_import_lists_bad_rows_by_line_changes_nothing_then_applies_a_good_file(hub):
    client, csrf = await signed_in(hub)
    bad = "sku,name,gtins,hazmat\nOK-1,Fine,,no\nNO-NAME,,,no\nOK-2,Fine,,perhaps\nOK-1,Twice,,\n"
    good = "sku,name,gtins,hazmat,min_age\n" + "".join(f"CSV-{i:03d},Imported {i},,no,\n" for i in range(120))
    async with aclosing(client):
        checked = await client.post("/console/setup/imports", data={"csrf": csrf, "kind": "items"},
                                    files={"file": ("items.csv", bad.encode(), "text/csv")})
        assert "3 bad rows of 4: nothing was changed" in checked.text
        assert [r[0] for r in rows_of(checked.text, "bad-rows")] == ["3", "4", "5"]
        assert rows_of(checked.text, "bad-rows")[2][1] == "sku: OK-1 is on line 2 too"
        assert 'id="apply-import"' not in checked.text
        dry = await client.post("/console/setup/imports", data={"csrf": csrf, "kind": "items"},
                                files={"file": ("items.csv", good.encode(), "text/csv")})
        assert "The file is good: 120 items rows, nothing changed yet" in dry.text
        assert (await client.get("/console/setup/items?q=CSV-")).text.count("Imported ") == 0
        token = re.search(r'name="token" value="([^"]+)"', dry.text).group(1)
        applied = await client.post("/console/setup/imports", data={"csrf": csrf, "token": token})
        assert "Imported 120 items in 1 batch" in applied.text
        again = await client.post("/console/setup/imports", data={"csrf": csrf, "token": token})
        assert again.status_code == 422 and message_of(again.text).startswith("token:")
        listed = await client.get("/console/setup/items?q=CSV-")
        assert len(rows_of(listed.text)) == 50 and "Next 50" in listed.text
        stock = f"location,bin,sku,on_hand\n{DEMO_LOCATION},NOPE,CSV-001,4\n"
        refused = await client.post("/console/setup/imports", data={"csrf": csrf, "kind": "stock"},
                                    files={"file": ("stock.csv", stock.encode(), "text/csv")})
        assert rows_of(refused.text, "bad-rows") == [["2", f"bin: no bin 'NOPE' at '{DEMO_LOCATION}'"]]
        exported = await client.get("/console/setup/exports/items")
        assert exported.headers["content-type"].startswith("text/csv") and "CSV-119,Imported 119,,,,,,no," in exported.text
    assert logged(hub, "catalogue.items_imported") == ["console:kim"]
    assert replay(hub.db).same


async def test_a_store_manager_sets_up_its_own_location_only_and_a_viewer_only_reads(hub):
    manager, csrf = await signed_in(hub, "sam", "store_manager", (DEMO_LOCATION,))
    async with aclosing(manager):
        page = await manager.get(f"/console/setup/locations/{DEMO_LOCATION}")
        assert 'id="edit-location"' in page.text
        assert 'id="new-location"' not in (await manager.get("/console/setup/locations")).text
        form = {"csrf": csrf, "name": "Demo store", "kind": "store", "daily_capacity": "80"}
        changed = await manager.post(f"/console/setup/locations/{DEMO_LOCATION}", data=form)
        assert changed.status_code == 200 and "daily_capacity" in message_of(changed.text)
        assert (await manager.get(f"/console/setup/locations/{DARK_STORE}")).status_code == 404
        refused = await manager.post("/console/setup/locations", data={"csrf": csrf, **NEW_STORE})
        assert refused.status_code == 403
        elsewhere = await manager.post("/console/setup/bins", data={"csrf": csrf, "location": DARK_STORE, "code": "X",
                                                                    "seq": "1"})
        assert elsewhere.status_code == 404
        listed = rows_of((await manager.get("/console/setup/bins")).text)
        assert listed and {r[0] for r in listed} == {DEMO_LOCATION}
        items = await manager.post("/console/setup/imports", data={"csrf": csrf, "kind": "items"},
                                   files={"file": ("i.csv", b"sku,name\nA,B\n", "text/csv")})
        assert "only a network admin imports items" in items.text
    viewer, csrf = await signed_in(hub, "vic", "viewer")
    async with aclosing(viewer):
        bins = await viewer.get("/console/setup/bins")
        assert rows_of(bins.text) and 'id="add-bin"' not in bins.text
        assert 'id="upload"' not in (await viewer.get("/console/setup/imports")).text
        refused = await viewer.post("/console/setup/bins", data={"csrf": csrf, "location": DEMO_LOCATION, "code": "X",
                                                                 "seq": "1"})
        assert refused.status_code == 403 and "viewer may not change" in message_of(refused.text)
        no_csrf = await viewer.post("/console/setup/items", data={"sku": "A", "name": "B"})
        assert no_csrf.status_code == 403 and "CSRF" in message_of(no_csrf.text)
    async with browser(hub) as anonymous:
        assert (await anonymous.get("/console/setup/items")).url.path == "/console/sign-in"


async def test_stock_is_shipped_to_another_location_and_received_there_from_the_console(hub):
    client, csrf = await signed_in(hub)
    async with aclosing(client):
        typo = await client.post("/console/setup/transfers", data={"csrf": csrf, "from_location": DEMO_LOCATION,
                                                                   "to_location": DARK_STORE, "lines": "A-01-1 MILK-1L"})
        assert typo.status_code == 422 and message_of(typo.text).startswith("lines: line 1")
        shipped = await client.post("/console/setup/transfers", data={"csrf": csrf, "from_location": DEMO_LOCATION,
                                                                      "to_location": DARK_STORE, "lines": "A-01-1 MILK-1L 1\n"})
        said = message_of(shipped.text)
        assert said.startswith("Transfer T-") and said.endswith(f"on its way to {DARK_STORE}.")
        transfer_id = said.split()[1]
        assert rows_of(shipped.text, "transfers")[0][:4] == [transfer_id, DEMO_LOCATION, DARK_STORE, "1 × MILK-1L (A-01-1)"]
        received = await client.post(f"/console/setup/transfers/{transfer_id}/receive", data={"csrf": csrf, "bin": "DS-01"})
        assert message_of(received.text) == f"Transfer {transfer_id} received into {DARK_STORE}/DS-01."
        assert rows_of(received.text, "transfers") == [["No transfer here."]]
    assert replay(hub.db).same
