"""Batch picking and packing in a real browser: Debian's Chromium, the Flet web app served by
`backroom edge serve`, a real hub under uvicorn. A picker signs in with a badge
and batch-picks the two demo ship orders into totes; signs out; a packer signs in
with ID + PIN, finds an order by its tote, is refused a wrong item and an
over-scan, packs the rest, closes the carton, sees its label and slip, and hands
it to the carrier; the hub shows the order shipped. Then the terminal layout, and an
app restart in the middle of a carton that reopens at the same step.

Screenshots go to the test's tmp folder; to refresh docs/screens/, run it with
BACKROOM_SCREENS_DIR=docs/screens."""

from __future__ import annotations

import pytest

from hub.seed import DEMO_LOCATION
from tests.e2e.browser import (
    click,
    scan as scan_into_focus,
    open_flet_page,
    sign_in,
    start_process,
    stop_process,
    type_into,
    wait_for_text,
    wait_http,
)
from tests.e2e.test_browser_pick import BARCODE, NAME, stack, wait_until  # noqa: F401, F811

pytestmark = pytest.mark.browser

BATCH = ("W-1002", "M-2001")  # the demo's ship orders, in the order they are ticked


def key_in(page, code: str) -> None:
    """Type into the focused scan field the way a wedge scanner does: no tap, then Enter."""
    page.keyboard.type(code)
    page.keyboard.press("Enter")


def screenshot(page, folder, name: str) -> None:
    page.wait_for_timeout(1000)  # the scan field clears after 0.6 s of quiet; pixels follow the semantics tree
    page.screenshot(path=str(folder / name))


def scan(page, code: str, expect: str) -> None:
    scan_into_focus(page, code, expect, tap=False)


def walk_order(orders: dict) -> list[tuple[str, dict]]:
    """(tote, line) in the batch's pick-path order: bin, then order, then line."""
    rank = {number: i for i, number in enumerate(BATCH)}
    lines = [(f"T{rank[n] + 1}", n, line) for n in BATCH for line in orders[n]["lines"]]
    lines.sort(key=lambda t: (t[2]["pick_bin"], rank[t[1]], t[2]["line_no"]))
    return [(tote, line) for tote, _n, line in lines]


def batch_pick(page, orders: dict, folder) -> None:
    click(page, "Batch pick into totes")
    wait_for_text(page, "Tick up to 6 orders")
    for number in BATCH:
        page.get_by_role("checkbox", name=number).first.click()
    click(page, "Start batch (2)")
    type_into(page, "Scan", "TOTE:T1")
    wait_for_text(page, "Tote T1 is for order W-1002")
    scan(page, "TOTE:T1", "Tote T1 is already on this cart")  # one tote per order
    scan(page, "TOTE:T2", "All totes set.")
    at_bin = None
    for i, (tote, line) in enumerate(walk_order(orders)):
        if line["pick_bin"] != at_bin:  # the next line in the same bin is the same stop
            scan(page, f"BIN:{line['pick_bin']}", f"Bin {line['pick_bin']} OK")
            at_bin = line["pick_bin"]
        for _ in range(line["qty"]):
            key_in(page, BARCODE[line["sku"]])
        wait_for_text(page, f"into tote {tote} and scan")
        if i == 0:
            wrong = "T2" if tote == "T1" else "T1"
            scan(page, f"TOTE:{wrong}", f"Wrong tote: {wrong}")
            screenshot(page, folder, "batch-pick.png")
        scan(page, f"TOTE:{tote}", f"× {NAME[line['sku']]} in tote {tote}.")
    wait_for_text(page, "Batch done")


def pack_w1002(page, folder) -> None:
    click(page, "To pack")
    wait_for_text(page, "Scan a tote or an order number")
    screenshot(page, folder, "pack-queue.png")
    type_into(page, "Scan tote or order", "TOTE:T1")
    wait_for_text(page, "Order W-1002 open.")
    scan(page, BARCODE["MILK-1L"], "Wrong item: Whole milk 1 L is not in order W-1002.")
    screenshot(page, folder, "pack-wrong-item.png")
    scan(page, BARCODE["OLIVE-OIL"], "Olive oil 750 ml: 1 of 1 packed.")
    scan(page, BARCODE["PASTA-FUS"], "Fusilli 500 g: 1 of 2 packed.")
    scan(page, BARCODE["PASTA-FUS"], "Fusilli 500 g: 2 of 2 packed.")
    wait_for_text(page, "All units are in. Choose the carton type.")
    scan(page, BARCODE["PASTA-FUS"], "Over-scan: all 2 × Fusilli 500 g are packed already.")
    click(page, "Medium box")
    wait_for_text(page, "Weigh the carton (3 units) and close it.")
    click(page, "Close carton")
    wait_for_text(page, "Carton closed: 3 units")
    page.get_by_role("img", name="Shipping label").wait_for(state="attached", timeout=30_000)
    screenshot(page, folder, "pack-closed.png")
    page.mouse.wheel(0, 700)
    screenshot(page, folder, "pack-label.png")
    page.mouse.wheel(0, -700)
    click(page, "Handed to carrier")
    wait_for_text(page, "Order W-1002: 1 carton(s) handed to PARCEL.")  # the carrier on its label (docs/carriers.md)


@pytest.fixture
def page(browser, stack, tmp_path):
    """The handheld page; its last picture is kept in the test's tmp folder (for failures)."""
    the_page = open_flet_page(browser, stack.app_url)
    yield the_page
    the_page.screenshot(path=str(tmp_path / "last-seen.png"))


def test_picker_batch_picks_and_packer_packs_and_ships_in_the_browser(stack, browser, screens, page):
    orders = {o["number"]: o for o in stack.admin_get("/v1/orders", location=DEMO_LOCATION)}
    wait_for_text(page, "Online")
    screenshot(page, screens, "sign-in.png")
    sign_in(page, "P1")
    wait_for_text(page, "Hello, Pat Picker")
    screenshot(page, screens, "home-picker.png")
    batch_pick(page, orders, screens)
    click(page, "Sign out")
    wait_for_text(page, "Signed out.")
    type_into(page, "Badge", "BADGE:NOBODY")
    wait_for_text(page, "Badge NOBODY is not known here.")
    sign_in(page, "K1", "2222")
    wait_for_text(page, "Hello, Kim Packer")
    pack_w1002(page, screens)
    order_id = orders["W-1002"]["id"]
    wait_until(lambda: stack.admin_get(f"/v1/orders/{order_id}")["status"] == "shipped", 60, "W-1002 shipped on the hub")
    hub_ops = stack.admin_get("/v1/orders/" + orders["M-2001"]["id"])
    assert hub_ops["tote"] == "T2"

    wide = open_flet_page(browser, stack.app_url, width=1280, height=800)
    sign_in(wide, "K1", "2222")
    click(wide, "To pack")
    type_into(wide, "Scan tote or order", "ORD:M-2001")
    wait_for_text(wide, "Order M-2001 open.")
    scan(wide, BARCODE["SOAP-BAR"], "Hand soap bar: 1 of 4 packed.")
    screenshot(wide, screens, "pack-terminal.png")

    restart_app(stack)  # the open carton survives: same order, same unit in it
    again = open_flet_page(browser, stack.app_url)
    sign_in(again, "K1", "2222")
    wait_for_text(again, "Welcome back, Kim Packer. Carry on where you left off.")
    wait_for_text(again, "1 of 4 packed · 1 in this carton")
    scan(again, BARCODE["SOAP-BAR"], "Hand soap bar: 2 of 4 packed.")


def restart_app(stack) -> None:
    stop_process(stack.app)
    stack.app = start_process("edge", "serve", "--data-dir", str(stack.tmp / "device"), "--port", str(stack.app_port),
                              "--sync-interval", "1.0", log=stack.tmp / "app.log")
    wait_http(stack.app_url, stack.app)
