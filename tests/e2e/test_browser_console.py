"""A hub administrator in a real browser: Debian's Chromium on the console that
`backroom hub serve` serves, over a hub seeded with the demo store. A picker's device
(driven in-process) picks an order first. The administrator signs in (a wrong password
refused), reads the overview, finds the order and its timeline, cancels it (the picked
units raise a put-back task), closes that task from the exceptions queue, reads stock
and its ledger, enrols a handheld whose code the device then uses, and revokes it.

Screenshots go to the test's tmp folder; to refresh docs/screens/, run it with
BACKROOM_SCREENS_DIR=docs/screens."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from edge_app.local.replica import Replica
from edge_app.workflows.picking import PickSession
from hub.seed import DEMO_LOCATION
from tests.e2e.browser import backroom, free_port, start_process, stop_process, tail, wait_http
from tests.walks import take_line

pytestmark = pytest.mark.browser

LOGIN, PASSWORD = "ops", "a-long-console-password"


class ConsoleStack:
    """A seeded hub under `hub serve` with one console administrator and a picker's device."""

    def __init__(self, tmp: Path):
        self.tmp = tmp
        self.db = f"sqlite:///{tmp / 'hub.db'}"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.hub = None

    def start(self) -> None:
        backroom("hub", "seed", "--demo", "--db", self.db)
        backroom("hub", "admin", "add", "--db", self.db, "--login", LOGIN, "--name", "Olu Ops",
                 "--role", "network_admin", "--password", PASSWORD)
        self.hub = start_process("hub", "serve", "--db", self.db, "--port", str(self.port), log=self.tmp / "hub.log")
        wait_http(f"{self.url}/healthz", self.hub)
        self.enrol("picker")

    def enrol(self, name: str, code: str | None = None) -> str:
        code = code or backroom("hub", "enroll", "--db", self.db, "--location", DEMO_LOCATION,
                                "--role", "picker").strip().splitlines()[-1]
        backroom("edge", "enroll", "--hub", self.url, "--code", code, "--data-dir", str(self.tmp / name))
        return str(self.tmp / name)

    def pick(self, number: str) -> None:
        folder = str(self.tmp / "picker")
        backroom("edge", "sync", "--data-dir", folder)
        replica = Replica(folder)
        try:
            order_id = replica.query_one("SELECT id FROM orders WHERE number = ?", (number,))["id"]
            session = PickSession(replica, order_id, "P1")
            while session.current is not None:
                assert take_line(session).ok
        finally:
            replica.close()
        backroom("edge", "sync", "--data-dir", folder)

    def stop(self) -> None:
        stop_process(self.hub)

    def logs(self) -> str:
        return f"--- hub.log ---\n{tail(self.tmp / 'hub.log')}"


def shot(page, screens: Path, name: str) -> None:
    page.screenshot(path=str(screens / name), full_page=True)


def only_local(page) -> None:
    page.route("**/*", lambda route: route.continue_() if route.request.url.startswith("http://127.0.0.1")
               else route.abort())


def sign_in(page, stack: ConsoleStack, screens: Path) -> None:
    page.goto(stack.url + "/")
    page.wait_for_url(re.compile(r"/console/sign-in"))
    page.get_by_label("Login").fill(LOGIN)
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_text(re.compile("does not match")).first.wait_for()
    shot(page, screens, "console-sign-in.png")
    page.get_by_label("Login").fill(LOGIN)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/console/$"))


def test_administrator_runs_the_store_from_the_console(console_stack, browser, screens):
    stack = console_stack
    stack.pick("W-1001")
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    only_local(page)
    sign_in(page, stack, screens)
    page.get_by_role("heading", name=re.compile("Overview")).wait_for()
    assert page.locator("text=Olu Ops").count() >= 1
    shot(page, screens, "console-overview.png")

    # the order: found by number, its timeline holds the picker's ops
    page.get_by_role("link", name="Orders", exact=True).first.click()
    page.get_by_label("Number, customer or SKU").fill("W-1001")
    page.keyboard.press("Enter")
    page.get_by_role("link", name="W-1001").first.click()
    page.get_by_role("heading", name=re.compile("Order W-1001")).wait_for()
    assert page.get_by_text("pick.confirmed").count() >= 1
    shot(page, screens, "console-order.png")

    # cancelled at the hub after the pick: the picked units need putting back
    page.get_by_label("Why cancel").fill("customer asked")
    page.get_by_role("button", name="Cancel order").click()
    page.get_by_text("order.cancelled").first.wait_for()
    assert "cancelled" in page.get_by_role("heading", name=re.compile("Order W-1001")).inner_text()

    page.get_by_role("link", name="Exceptions", exact=True).first.click()
    page.get_by_text(re.compile("put", re.I)).first.wait_for()
    shot(page, screens, "console-exceptions.png")
    note = page.get_by_label(re.compile("Why close task")).first
    note.fill("put back on the shelf")
    note.locator("xpath=..").get_by_role("button", name="Close").click()
    page.get_by_text(re.compile("closed", re.I)).first.wait_for()

    # stock and the ledger behind a figure
    page.get_by_role("link", name="Stock", exact=True).first.click()
    page.get_by_role("heading", name=re.compile("Stock")).first.wait_for()
    shot(page, screens, "console-stock.png")
    page.get_by_role("link", name="ledger").first.click()
    page.get_by_role("heading", name=re.compile("Ledger|Movements", re.I)).first.wait_for()
    shot(page, screens, "console-ledger.png")

    # foresight and the event stream
    backroom("hub", "events", "risk", "--db", stack.db)  # what the relay does every minute
    page.get_by_role("link", name="At risk", exact=True).first.click()
    page.get_by_role("heading", name="Orders at risk").wait_for()
    shot(page, screens, "console-risk.png")
    page.get_by_role("link", name="Events", exact=True).first.click()
    page.get_by_role("heading", name="Events out").wait_for()
    shot(page, screens, "console-events.png")

    # a new handheld: the code the console shows enrols it
    page.get_by_role("link", name="Fleet", exact=True).first.click()
    page.get_by_role("button", name="Enrol a device").click()
    code = page.locator("#enrolment .code").inner_text().strip()
    assert page.locator("#enrolment svg").count() == 1
    shot(page, screens, "console-fleet-enrol.png")
    stack.enrol("new-handheld", code)
    page.reload()
    rows_before = page.locator("tbody tr").count()
    assert rows_before >= 2
    shot(page, screens, "console-fleet.png")
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("tbody tr").last.get_by_role("button", name="Revoke").click()
    page.get_by_text("revoked").first.wait_for()

    # the console is the same authority as the API: the revoked device is refused there too
    with pytest.raises(Exception):
        backroom("edge", "sync", "--data-dir", str(stack.tmp / "new-handheld"))
    assert httpx.get(stack.url + "/console/", follow_redirects=False).status_code in (302, 303)
