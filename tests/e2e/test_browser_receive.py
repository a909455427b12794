"""An associate receives a delivery in a real browser: Debian's Chromium, the Flet web app
served by `backroom edge serve`, a real hub under uvicorn. Sign in with a badge, open
"Receive goods", type a delivery note, scan a bin, an unknown barcode (refused with what
to do), the item's GS1 case label, enter the units, confirm; the hub's stock shows them.

Screenshots go to the test's tmp folder; to refresh docs/screens/, run it with
BACKROOM_SCREENS_DIR=docs/screens."""

from __future__ import annotations

import httpx
import pytest

from hub.seed import DEMO_LOCATION
from tests.e2e.browser import click, open_flet_page, serve_stack, type_into, wait_for_text
from tests.e2e.test_browser_associate import CounterStack, scan, sign_in_with_badge
from tests.e2e.test_browser_pick import screenshot, wait_until

pytestmark = [pytest.mark.browser, pytest.mark.timeout(900)]  # a shared 2-core machine starts the stack slowly

MILK_CASE = "(01)04006381333931(17)271231(10)LOT7"  # a GS1-128 case label of the demo milk


class ReceivingStack(CounterStack):
    """The counter stack without the picks: receiving needs none."""

    def pick(self, numbers: list[str]) -> None:
        return None

    def on_hand(self, bin_code: str, sku: str) -> int:
        headers = {"Authorization": f"Bearer {self.admin_token}"}
        rows = httpx.get(f"{self.hub_url}/v1/stock", params={"location": DEMO_LOCATION, "sku": sku}, headers=headers,
                         timeout=5).json()
        return sum(r["on_hand"] for r in rows if r["bin"] == bin_code)


@pytest.fixture
def stack(request, tmp_path):
    yield from serve_stack(request, ReceivingStack(tmp_path))


def test_associate_receives_a_case_of_milk_into_a_bin_in_the_browser(stack, browser, screens):
    before = stack.on_hand("A-02-1", "MILK-1L")
    page = open_flet_page(browser, stack.app_url)
    sign_in_with_badge(page, "A1")
    click(page, "Receive goods")
    wait_for_text(page, "Scan the label of the bin you put the goods in.")
    type_into(page, "Delivery note (optional)", "DN-77")
    wait_for_text(page, "Delivery note DN-77.")
    scan(page, "BIN:A-02-1", "Bin A-02-1. Scan an item's barcode.")
    scan(page, "4000000000006", "No item here has barcode 4000000000006")
    screenshot(page, screens, "receive-unknown.png")
    scan(page, MILK_CASE, "Whole milk 1 L, batch LOT7, best before 2027-12-31")
    type_into(page, "Units", "12")
    wait_for_text(page, "Receive 12 × Whole milk 1 L into bin A-02-1?")
    screenshot(page, screens, "receive.png")
    click(page, "Receive 12 × Whole milk 1 L")
    wait_for_text(page, "Received 12 × Whole milk 1 L into bin A-02-1")
    wait_until(lambda: stack.on_hand("A-02-1", "MILK-1L") == before + 12, 30, "the hub to show the 12 units received")
