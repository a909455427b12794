"""Picking through the floor app in a real browser: Debian's Chromium, the Flet web
app served by `backroom edge serve`, and a real hub under uvicorn. One order picked
while the hub goes away halfway through and comes back, then a line of another
order reported short through the reason dialog; scans fired back to back; a count
typed before anything was scanned; and an order another handheld claimed first.

Screenshots (orders, pick, pick-error, offline) go to the test's tmp folder; to
refresh the ones in docs/screens/, run it with BACKROOM_SCREENS_DIR=docs/screens."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import httpx
import pytest

from hub.seed import DEMO_ITEMS, DEMO_LOCATION, ean13
from tests.e2e.browser import (
    backroom,
    click,
    free_port,
    open_flet_page,
    scan,
    serve_stack,
    sign_in,
    start_process,
    stop_process,
    tail,
    type_into,
    wait_for_text,
    wait_http,
)

pytestmark = pytest.mark.browser

BARCODE = {sku: ean13(body) for sku, _name, _weight, body in DEMO_ITEMS}
NAME = {sku: name for sku, name, _weight, _body in DEMO_ITEMS}
UNKNOWN_BARCODE = "4000000000006"
WAITING = re.compile(r"^(\d+) waiting to send$")


class Stack:
    """A hub and one enrolled floor app, as processes; `hub_down()` / `hub_up()` in between."""

    def __init__(self, tmp: Path):
        self.tmp = tmp
        self.db = f"sqlite:///{tmp / 'hub.db'}"
        self.hub_port, self.app_port = free_port(), free_port()
        self.hub_url = f"http://127.0.0.1:{self.hub_port}"
        self.app_url = f"http://127.0.0.1:{self.app_port}/"
        self.hub = self.app = None

    def start(self, sync_interval: float = 1.0) -> None:
        backroom("hub", "seed", "--demo", "--db", self.db)
        self.admin_token = backroom("hub", "token", "--db", self.db, "--role", "admin").strip().splitlines()[-1]
        # A handheld for picking and packing (test_browser_packer shares it): a packer station may do both.
        code = backroom("hub", "enroll", "--db", self.db, "--location", DEMO_LOCATION, "--role", "packer").strip().splitlines()[-1]
        self.hub_up()
        backroom("edge", "enroll", "--hub", self.hub_url, "--code", code, "--data-dir", str(self.tmp / "device"))
        self.app = start_process("edge", "serve", "--data-dir", str(self.tmp / "device"), "--port", str(self.app_port),
                                 "--sync-interval", str(sync_interval), log=self.tmp / "app.log")
        wait_http(self.app_url, self.app)

    def hub_up(self) -> None:
        self.hub = start_process("hub", "serve", "--db", self.db, "--port", str(self.hub_port), log=self.tmp / "hub.log")
        wait_http(f"{self.hub_url}/healthz", self.hub)

    def hub_down(self) -> None:
        stop_process(self.hub)

    def stop(self) -> None:
        stop_process(self.app)
        stop_process(self.hub)

    def admin_get(self, path: str, **params) -> object:
        response = httpx.get(self.hub_url + path, params=params, timeout=5,
                             headers={"Authorization": f"Bearer {self.admin_token}"})
        response.raise_for_status()
        return response.json()

    def ops_recorded(self) -> int:
        """Every op the device ever wrote, answered or not (`backroom edge status`)."""
        status = json.loads(backroom("edge", "status", "--data-dir", str(self.tmp / "device"), "--json"))
        return sum(status["outbox"].values())

    def logs(self) -> str:
        return f"--- app.log ---\n{tail(self.tmp / 'app.log')}\n--- hub.log ---\n{tail(self.tmp / 'hub.log')}"


@pytest.fixture
def stack(request, tmp_path):
    yield from serve_stack(request, Stack(tmp_path))


def waiting_count(page) -> int:
    text = page.get_by_text(WAITING).first.inner_text().strip()
    return int(WAITING.match(text).group(1))


def wait_until(check, timeout: float, what: str, every: float = 0.3):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def screenshot(page, folder: Path, name: str) -> None:
    page.wait_for_timeout(400)  # the semantics tree runs a frame ahead of the pixels
    page.screenshot(path=str(folder / name))


def in_bin_order(order: dict) -> list[dict]:
    return sorted(order["lines"], key=lambda line: line["pick_bin"])  # demo bins sort in pick-path order


def hub_line(stack: Stack, order_id: str, line_no: int) -> dict:
    return next(line for line in stack.admin_get(f"/v1/orders/{order_id}")["lines"] if line["line_no"] == line_no)


def go_to_bin(page, line: dict) -> None:
    wait_for_text(page, f"Go to bin {line['pick_bin']} and scan the bin label.")
    scan(page, f"BIN:{line['pick_bin']}", f"Bin {line['pick_bin']} OK")


def scan_every_unit(page, line: dict) -> None:
    """One scan per unit, each seen counted; the last unit confirms the line by itself."""
    qty, name = line["qty"], NAME[line["sku"]]
    for unit in range(1, qty + 1):
        scan(page, BARCODE[line["sku"]], f"Picked {qty} × {name}" if unit == qty else f"{unit} of {qty} × {name}")


def mis_scan_changes_nothing(page, stack: Stack, line: dict) -> None:
    """A barcode no item has: said on screen, no op recorded, still the same step."""
    recorded_before = stack.ops_recorded()
    scan(page, UNKNOWN_BARCODE, f"No item has barcode {UNKNOWN_BARCODE}")
    wait_for_text(page, f"Scan {NAME[line['sku']]} ({line['sku']})")
    wait_for_text(page, f"0 of {line['qty']} picked")
    assert waiting_count(page) == 0
    assert stack.ops_recorded() == recorded_before


def confirm_typed_quantity(page, line: dict) -> None:
    """Scan one unit, then type the count and press Confirm count."""
    scan(page, BARCODE[line["sku"]], f"1 of {line['qty']}")
    type_into(page, "Count", str(line["qty"]), enter=False)
    click(page, "Confirm count")


def short_with_reason(page, line: dict, reason: str) -> None:
    click(page, "Short", exact=True)
    wait_for_text(page, "Why is it short?")
    click(page, reason, exact=True)
    wait_for_text(page, f"Reported {line['qty']} × {NAME[line['sku']]} short ({reason.lower()})")


def test_picker_picks_an_order_in_the_browser_online_and_offline(stack, browser, screens):
    orders = {o["number"]: o for o in stack.admin_get("/v1/orders", location=DEMO_LOCATION)}
    order, lines = orders["W-1001"], in_bin_order(orders["W-1001"])
    assert len(lines) == 3 and lines[0]["qty"] > 1

    page = open_flet_page(browser, stack.app_url)
    wait_for_text(page, "Online")
    sign_in(page, "P1")  # the demo picker's badge
    click(page, "To pick")
    wait_for_text(page, "W-1001")
    screenshot(page, screens, "orders.png")
    click(page, "W-1001")

    go_to_bin(page, lines[0])
    mis_scan_changes_nothing(page, stack, lines[0])
    screenshot(page, screens, "pick-error.png")
    scan_every_unit(page, lines[0])
    screenshot(page, screens, "pick.png")

    # The hub goes away: picking goes on, the outbox fills, the bar says Offline.
    stack.hub_down()
    go_to_bin(page, lines[1])
    scan_every_unit(page, lines[1])
    go_to_bin(page, lines[2])
    confirm_typed_quantity(page, lines[2])
    wait_for_text(page, "Order complete")
    page.get_by_text("Offline", exact=True).first.wait_for(state="attached", timeout=15_000)
    wait_until(lambda: waiting_count(page) >= 1, 10, "ops waiting in the outbox")
    screenshot(page, screens, "offline.png")

    # The hub comes back: Sync now sends the outbox and the hub shows the order picked.
    stack.hub_up()
    click(page, "Sync now")
    page.get_by_text("Online", exact=True).first.wait_for(state="attached", timeout=30_000)
    wait_until(lambda: waiting_count(page) == 0, 30, "an empty outbox")
    wait_until(lambda: stack.admin_get(f"/v1/orders/{order['id']}")["status"] == "picked", 30,
               "the hub to show the order picked")
    assert [(line["sku"], line["qty_picked"]) for line in in_bin_order(stack.admin_get(f"/v1/orders/{order['id']}"))] \
        == [(line["sku"], line["qty"]) for line in lines]

    # Back on the orders screen the picked order is gone; a short pick goes through the reason dialog.
    click(page, "Back to orders")
    wait_for_text(page, "W-1002")
    assert page.get_by_role("button", name="W-1001").count() == 0
    other = orders["W-1002"]
    shorted = in_bin_order(other)[0]
    click(page, "W-1002")
    go_to_bin(page, shorted)
    short_with_reason(page, shorted, "Damaged")
    wait_until(lambda: hub_line(stack, other["id"], shorted["line_no"])["qty_short"] == shorted["qty"], 30,
               "the hub to record the short pick")


def open_order_to_pick(page, number: str) -> None:
    wait_for_text(page, "Online")
    sign_in(page, "P1")
    click(page, "To pick")
    wait_for_text(page, number)
    click(page, number)


def test_scans_fired_back_to_back_are_each_counted(stack, browser, screens):
    """Three units scanned with no pause between them (a wedge scanner at full speed)."""
    order = next(o for o in stack.admin_get("/v1/orders", location=DEMO_LOCATION) if o["number"] == "M-2001")
    line = next(l for l in in_bin_order(order) if l["qty"] >= 3)  # SOAP-BAR × 4
    page = open_flet_page(browser, stack.app_url)
    open_order_to_pick(page, "M-2001")
    while True:  # walk to the line's bin: the lines before it are shorted
        prompt = wait_for_text(page, re.compile("Go to bin")).inner_text()
        if line["pick_bin"] in prompt:
            break
        click(page, "Short", exact=True)
        click(page, "Not found", exact=True)
        page.wait_for_timeout(500)
    scan(page, f"BIN:{line['pick_bin']}", f"Bin {line['pick_bin']} OK")
    page.get_by_role("textbox", name="Scan").click()
    page.wait_for_timeout(300)
    for _ in range(3):  # each a whole scan with its Enter, nothing between them
        page.keyboard.type(BARCODE[line["sku"]])
        page.keyboard.press("Enter")
    wait_for_text(page, f"3 of {line['qty']} scanned")
    screenshot(page, screens, "pick-rapid.png")


def test_a_count_typed_before_any_scan_records_nothing(stack, browser, screens):
    order = next(o for o in stack.admin_get("/v1/orders", location=DEMO_LOCATION) if o["number"] == "W-1001")
    first = in_bin_order(order)[0]
    assert first["qty"] > 1
    page = open_flet_page(browser, stack.app_url)
    open_order_to_pick(page, "W-1001")
    wait_for_text(page, f"Go to bin {first['pick_bin']}")
    assert page.get_by_role("button", name="Confirm count").count() == 0  # no count before the bin and a unit
    scan(page, f"BIN:{first['pick_bin']}", f"Bin {first['pick_bin']} OK")
    assert page.get_by_role("button", name="Confirm count").count() == 0
    recorded = stack.ops_recorded()
    scan(page, BARCODE[first["sku"]], f"1 of {first['qty']}")
    assert page.get_by_role("button", name="Confirm count").count() == 1
    assert stack.ops_recorded() == recorded  # the unit in hand is not a pick until the line is taken
    screenshot(page, screens, "pick-count.png")


def test_an_order_another_handheld_claimed_first_says_stop(stack, browser, screens):
    """Another handheld opened W-1002 first: opening it here, the hub refuses this claim."""
    order = next(o for o in stack.admin_get("/v1/orders", location=DEMO_LOCATION) if o["number"] == "W-1002")
    other = stack.tmp / "other"
    code = backroom("hub", "enroll", "--db", stack.db, "--location", DEMO_LOCATION, "--role", "picker").strip().splitlines()[-1]
    backroom("edge", "enroll", "--hub", stack.hub_url, "--code", code, "--data-dir", str(other), "--name", "Zebra-2")
    backroom("edge", "sync", "--data-dir", str(other))
    from edge_app.local.replica import Replica
    from edge_app.workflows.picking import claim_order

    replica = Replica(other)
    claim_order(replica, order["id"], "P2")
    replica.close()
    backroom("edge", "sync", "--data-dir", str(other))
    assert stack.admin_get(f"/v1/orders/{order['id']}")["claimed_actor"] == "P2"

    page = open_flet_page(browser, stack.app_url)
    open_order_to_pick(page, "W-1002")
    wait_for_text(page, "is being picked by P2 on another handheld", timeout_ms=30_000)
    screenshot(page, screens, "pick-claimed.png")


def test_the_pick_screen_on_a_terminal_puts_the_pick_list_beside_the_scan_panel(stack, browser, screens):
    page = open_flet_page(browser, stack.app_url, width=1280, height=800)
    open_order_to_pick(page, "W-1001")
    step = wait_for_text(page, "STEP 1 · BIN").bounding_box()
    listing = wait_for_text(page, "Pick list").bounding_box()
    assert listing["x"] > step["x"] + step["width"] - 5  # beside it, not under it
    assert abs(listing["y"] - step["y"]) < 100
    buttons = [page.get_by_role("button", name=n).first.bounding_box() for n in ("Short", "Skip line")]
    assert all(b["width"] < 640 for b in buttons)  # no button across the whole terminal
    screenshot(page, screens, "pick-terminal.png")
