"""A hub administrator opens a second store in a real browser (Debian's Chromium on
`backroom hub serve`): creates the location with its details, adds a bin from the form,
imports bins, items and stock as CSV files (a dry run first: a bad row is listed by its
line and nothing changes), finds an imported item, adds an operator, and enrols the
store's first handheld, which pulls what was set up.

Screenshots go to the test's tmp folder; BACKROOM_SCREENS_DIR=docs/screens refreshes
the README's."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from edge_app.local.replica import Replica
from tests.e2e.browser import backroom
from tests.e2e.test_browser_console import only_local, shot, sign_in

pytestmark = pytest.mark.browser


def upload(page, tmp: Path, kind: str, text: str) -> None:
    path = tmp / f"{kind}.csv"
    path.write_text(text)
    page.get_by_label("What it holds").select_option(kind)
    page.get_by_label("File").set_input_files(str(path))
    page.get_by_role("button", name="Check it (dry run)").click()


def test_administrator_opens_a_second_store_from_the_console_and_csv(console_stack, browser, screens, tmp_path):
    setup_stack = console_stack
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    only_local(page)
    sign_in(page, setup_stack, screens)
    page.get_by_role("link", name="Set-up", exact=True).first.click()
    page.get_by_role("heading", name="Set-up").wait_for()

    page.get_by_role("link", name="Locations", exact=True).click()
    form = page.locator("#new-location")
    form.get_by_label("Code").fill("LYON-2")
    form.get_by_label("Name").fill("Lyon Part-Dieu")
    form.get_by_label("Address").fill("5 Place Charles Béraudier, Lyon")
    form.get_by_label("Latitude").fill("45.7606")
    form.get_by_label("Longitude").fill("4.8593")
    form.get_by_label("Time zone").fill("Europe/Paris")
    form.get_by_label("Orders a day").fill("300")
    form.get_by_label("mon").fill("08:00-20:00")
    form.get_by_role("button", name="Create location").click()
    page.get_by_text("Location LYON-2 created.").wait_for()
    shot(page, screens, "console-setup-location.png")

    page.get_by_role("link", name="Bins", exact=True).click()
    add = page.locator("#add-bin")
    add.get_by_label("Location").select_option("LYON-2")
    add.get_by_label("Bin").fill("L-00")
    add.get_by_label("Pick path").fill("5")
    add.get_by_role("button", name="Save bin").click()
    page.get_by_text(re.compile("Bin L-00 at LYON-2 saved")).wait_for()

    page.get_by_role("link", name="Imports", exact=True).click()
    upload(page, tmp_path, "bins", "location,code,seq,zone\nLYON-2,L-01,10,dry\nLYON-2,L-02,20,chiller\n")
    page.get_by_role("button", name=re.compile("Import these 2 rows")).click()
    page.get_by_text("Imported 2 bins in 1 batch").wait_for()
    upload(page, tmp_path, "items", "sku,name,gtins,hazmat,min_age\nLY-WINE,Red wine,5012345678900,no,18\nLY-BAD,,,maybe,\n")
    page.get_by_text(re.compile("1 bad row of 2: nothing was changed")).wait_for()
    assert page.locator("#bad-rows td").first.inner_text() == "3"
    shot(page, screens, "console-setup-import-bad.png")
    upload(page, tmp_path, "items", "sku,name,gtins,hazmat,min_age\nLY-WINE,Red wine,5012345678900,no,18\nLY-GLUE,Glue,,yes,\n")
    page.get_by_role("button", name=re.compile("Import these 2 rows")).click()
    page.get_by_text("Imported 2 items in 1 batch").wait_for()
    upload(page, tmp_path, "stock", "location,bin,sku,on_hand\nLYON-2,L-01,LY-WINE,24\nLYON-2,L-02,LY-GLUE,6\n")
    page.get_by_role("button", name=re.compile("Import these 2 rows")).click()
    page.get_by_text("Imported 2 stock in 1 batch").wait_for()
    shot(page, screens, "console-setup-imports.png")

    page.get_by_role("link", name="Items", exact=True).click()
    page.get_by_label("SKU or name starts with").fill("ly-")
    page.keyboard.press("Enter")
    page.get_by_role("link", name="LY-WINE").wait_for()
    shot(page, screens, "console-setup-items.png")

    page.get_by_role("link", name="Operators", exact=True).click()
    op = page.locator("#add-operator")
    op.get_by_label("Badge id").fill("LY-1")
    op.get_by_label("Name").fill("Inès")
    op.get_by_label("Location").select_option("LYON-2")
    op.get_by_label(re.compile("PIN")).fill("2468")
    op.get_by_role("button", name="Add operator").click()
    page.get_by_text(re.compile("Operator LY-1 added")).wait_for()
    shot(page, screens, "console-setup-operators.png")

    page.goto(setup_stack.url + "/console/stock?location=LYON-2")
    page.get_by_role("cell", name="LY-WINE").first.wait_for()

    # the new store's first handheld: enrolled with the code the console shows, it pulls
    # the store's catalogue, stock and operators through the normal feed
    page.get_by_role("link", name="Fleet", exact=True).first.click()
    page.get_by_label("Location").select_option("LYON-2")
    page.get_by_label("Device role").select_option("associate")
    page.get_by_role("button", name="Enrol a device").click()
    code = page.locator("#enrolment .code").inner_text().strip()
    folder = setup_stack.enrol("lyon-handheld", code)
    backroom("edge", "sync", "--data-dir", folder)
    replica = Replica(folder)
    try:
        assert replica.get_meta("location") == "LYON-2"
        assert replica.query_one("SELECT name FROM items WHERE sku = 'LY-WINE'")["name"] == "Red wine"
        assert replica.query_one("SELECT COUNT(*) AS n FROM operators WHERE operator_id = 'LY-1'")["n"] == 1
    finally:
        replica.close()
    page.goto(setup_stack.url + "/console/fleet?location=LYON-2")
    page.get_by_role("cell", name="LYON-2").first.wait_for()
    assert page.locator("tbody tr", has_text="LYON-2").count() == 1
