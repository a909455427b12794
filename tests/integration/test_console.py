"""The admin console through the real hub app: sign-in and sessions, CSRF on every
action, roles and store managers' scope (the same rules as the API), the exceptions
queue acted on through logged hub commands, orders found and paged, enrolment and
revocation, and errors a person can read. Both backends."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from html import unescape

import httpx
import pytest
from click.testing import CliRunner

from hub.admins import create_admin
from hub.log import run_hub_command
from hub.verify import replay
from tests.integration.conftest import HUB_URL
from tests.integration.test_conflicts import cancel, pick_all
from tests.integration.test_pick_slice import order_body, post_order

pytestmark = pytest.mark.anyio
PASSWORD = "correct horse battery"


def add_admin(hub, login: str, role: str = "network_admin", locations: tuple[str, ...] = ()) -> None:
    with hub.db.write() as conn:
        create_admin(conn, login, login.title(), role, PASSWORD, locations)


def browser(hub) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=HUB_URL, transport=hub.transport, follow_redirects=True)


async def signed_in(hub, login: str = "kim", role: str = "network_admin", locations: tuple[str, ...] = ()):
    """A browser signed in as a new administrator; returns it and its CSRF token."""
    add_admin(hub, login, role, locations)
    client = browser(hub)
    answer = await client.post("/console/sign-in", data={"login": login, "password": PASSWORD, "next": "/console/"})
    assert answer.status_code == 200 and "<h1>Overview</h1>" in answer.text, answer.text[:500]
    return client, csrf_of(answer.text)


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def message_of(html: str) -> str:
    found = re.search(r'<p class="message (?:ok|bad)">(.*?)</p>', html, re.S)
    return unescape(found.group(1)) if found else ""


async def test_pages_need_a_session_and_sign_in_returns_to_the_page_asked_for(hub):
    add_admin(hub, "kim")
    async with browser(hub) as client:
        first = await client.get("/console/orders?status=released")
        assert first.url.path == "/console/sign-in" and "Sign in" in first.text
        assert (await client.get("/", follow_redirects=False)).headers["location"] == "/console/"
        htmx = await client.get("/console/stock", headers={"HX-Request": "true"}, follow_redirects=False)
        assert htmx.headers["HX-Redirect"] == "/console/sign-in?next=%2Fconsole%2Fstock"
        answer = await client.post("/console/sign-in", data={"login": "kim", "password": PASSWORD,
                                                               "next": "/console/orders?status=released"})
        assert answer.url.path == "/console/orders" and answer.url.params["status"] == "released"
        cookie = answer.history[0].headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie and "secure" in cookie


async def test_a_wrong_password_and_an_unknown_login_get_the_same_answer_and_are_audited(hub):
    add_admin(hub, "kim")
    async with browser(hub) as client:
        wrong = await client.post("/console/sign-in", data={"login": "kim", "password": "not it at all"})
        nobody = await client.post("/console/sign-in", data={"login": "nobody", "password": "not it at all"})
        assert "does not match" in wrong.text and "does not match" in nobody.text
        assert (await client.get("/console/orders")).url.path == "/console/sign-in"
    with hub.db.read() as conn:
        refused = conn.execute("SELECT target FROM audit WHERE action = 'console.sign_in' AND outcome = 'refused' "
                               "ORDER BY id").scalars().all()
    assert refused == ["kim", "nobody"]


async def test_sign_in_never_sends_anyone_off_site(hub):
    add_admin(hub, "kim")
    async with browser(hub) as client:
        for target in ("https://evil.example/", "//evil.example/console/", "/v1/orders"):
            answer = await client.post("/console/sign-in", data={"login": "kim", "password": PASSWORD, "next": target},
                                       follow_redirects=False)
            assert answer.headers["location"] == "/console/", target


async def test_an_idle_session_ends_and_a_disabled_administrator_is_out_at_once(hub):
    client, _csrf = await signed_in(hub)
    with hub.db.write() as conn:
        conn.execute("UPDATE admin_sessions SET seen_at = :t",
                     {"t": (datetime.now(timezone.utc) - timedelta(minutes=31)).isoformat()})
    answer = await client.get("/console/orders")
    assert answer.url.path == "/console/sign-in" and "session ended" in answer.text
    second, _csrf = await signed_in(hub, "lee")
    with hub.db.write() as conn:
        from hub.admins import set_admin
        set_admin(conn, "lee", "tests", disabled=True)
    assert (await second.get("/console/")).url.path == "/console/sign-in"
    await client.aclose(), await second.aclose()


async def test_every_action_needs_the_sessions_csrf_token_and_nothing_changes_without_it(hub):
    order = await post_order(hub, order_body("X-1", [("MILK-1L", 1)]))
    client, csrf = await signed_in(hub)
    for sent in ({}, {"csrf": "forged"}):
        answer = await client.post(f"/console/orders/{order['id']}/cancel", data={"reason": "test", **sent})
        assert answer.status_code == 403 and "CSRF" in message_of(answer.text)
    with hub.db.read() as conn:
        assert conn.execute("SELECT status FROM orders WHERE id = :o", {"o": order["id"]}).scalar_one() == "released"
    answer = await client.post(f"/console/orders/{order['id']}/cancel", data={"reason": "customer called", "csrf": csrf})
    assert answer.status_code == 200 and message_of(answer.text) == "Order X-1 cancelled."
    await client.aclose()


async def test_cancel_needs_a_reason_and_lands_on_the_orders_timeline_with_who_did_it(hub):
    order = await post_order(hub, order_body("X-2", [("MILK-1L", 1)]))
    client, csrf = await signed_in(hub)
    answer = await client.post(f"/console/orders/{order['id']}/cancel", data={"reason": " ", "csrf": csrf})
    assert answer.status_code == 422 and message_of(answer.text).startswith("reason:")
    await client.post(f"/console/orders/{order['id']}/cancel", data={"reason": "customer called", "csrf": csrf})
    page = (await client.get(f"/console/orders/{order['id']}")).text
    timeline = page[page.index("Timeline"):]
    assert timeline.index("order.accepted") < timeline.index("order.cancelled") and "console:kim" in timeline
    await client.aclose()


async def test_a_store_manager_sees_and_changes_only_their_locations_like_the_api(hub):
    here = await post_order(hub, order_body("NEAR-1", [("MILK-1L", 1)], location="DEMO-1"))
    there = await post_order(hub, order_body("FAR-1", [("CHOC-DARK", 1)], location="DEMO-DS"))
    client, csrf = await signed_in(hub, "sam", "store_manager", ("DEMO-DS",))
    listed = (await client.get("/console/orders")).text
    assert "FAR-1" in listed and "NEAR-1" not in listed
    assert (await client.get(f"/console/orders/{here['id']}")).status_code == 404
    refused = await client.post(f"/console/orders/{here['id']}/cancel", data={"reason": "x", "csrf": csrf})
    assert refused.status_code == 404
    fleet = (await client.get("/console/fleet")).text
    assert '<option>DEMO-DS</option>' in fleet and '<option>DEMO-1</option>' not in fleet
    assert "DEMO-1" not in (await client.get("/console/stock")).text
    ok = await client.post(f"/console/orders/{there['id']}/cancel", data={"reason": "out of stock", "csrf": csrf})
    assert message_of(ok.text) == "Order FAR-1 cancelled."
    await client.aclose()


async def test_a_viewer_reads_everything_and_changes_nothing(hub):
    order = await post_order(hub, order_body("V-1", [("MILK-1L", 1)]))
    client, csrf = await signed_in(hub, "vic", "viewer")
    page = (await client.get(f"/console/orders/{order['id']}")).text
    assert "V-1" in page and "/cancel" not in page  # no button for what would be refused
    refused = await client.post(f"/console/orders/{order['id']}/cancel", data={"reason": "x", "csrf": csrf})
    assert refused.status_code == 403 and "viewer may not change" in message_of(refused.text)
    assert "Enrol a device" not in (await client.get("/console/fleet")).text
    await client.aclose()


async def test_a_conflict_is_resolved_from_the_queue_by_a_logged_command_that_replays(hub, tmp_path):
    order = await post_order(hub, order_body("C-9", [("MILK-1L", 2)]))
    picker = await hub.device(tmp_path / "p")
    await picker.sync()
    pick_all(picker, order["id"])  # offline, while the hub cancels
    await cancel(hub, order["id"])
    await picker.sync()
    client, csrf = await signed_in(hub)
    queue = (await client.get("/console/exceptions?kind=conflict")).text
    assert "cancel vs offline pick" in queue
    conflict_id = re.search(r"/console/exceptions/conflicts/(\d+)/resolve", queue).group(1)
    empty = await client.post(f"/console/exceptions/conflicts/{conflict_id}/resolve", data={"note": "", "csrf": csrf})
    assert message_of(empty.text).startswith("note:")
    done = await client.post(f"/console/exceptions/conflicts/{conflict_id}/resolve",
                             data={"note": "put back on the shelf, customer refunded", "csrf": csrf})
    assert message_of(done.text) == f"Conflict {conflict_id} resolved." and "cancel vs offline pick" not in done.text
    again = await client.post(f"/console/exceptions/conflicts/{conflict_id}/resolve", data={"note": "twice", "csrf": csrf})
    assert "resolved already" in message_of(again.text)
    tasks = (await client.get("/console/exceptions?kind=task")).text
    task_id = re.search(r"/console/exceptions/tasks/(\d+)/assign", tasks).group(1)
    await client.post(f"/console/exceptions/tasks/{task_id}/assign", data={"to": "P1", "csrf": csrf})
    assert "<td>P1</td>" in (await client.get("/console/exceptions?kind=task")).text
    closed = await client.post(f"/console/exceptions/tasks/{task_id}/close", data={"note": "put back", "csrf": csrf})
    assert message_of(closed.text) == f"Task {task_id} closed."
    with hub.db.read() as conn:
        kinds = conn.execute("SELECT kind, actor FROM op_log WHERE kind IN ('conflict.resolved', 'task.assigned', "
                             "'task.closed') AND status = 'applied' ORDER BY log_seq").all()
    assert [(k.kind, k.actor) for k in kinds] == [("conflict.resolved", "console:kim"), ("task.assigned", "console:kim"),
                                                  ("task.closed", "console:kim")]
    assert replay(hub.db).same
    await client.aclose()


async def test_a_refused_op_is_marked_as_looked_at_and_leaves_the_queue(hub, tmp_path):
    from edge_app.local import outbox

    picker = await hub.device(tmp_path / "p")
    with picker.replica.transaction() as conn:  # a pick of an order that does not exist
        outbox.record_op(conn, "pick.confirmed", {"order_id": "no-such-order", "line_no": 1, "sku": "MILK-1L",
                                                  "bin": "A-01", "qty": 1}, "P1", outbox.PendingEffect())
    await picker.sync()
    client, csrf = await signed_in(hub)
    queue = (await client.get("/console/exceptions?kind=refused")).text
    op_id = re.search(r"/console/exceptions/refused/([^/]+)/review", queue).group(1)
    done = await client.post(f"/console/exceptions/refused/{op_id}/review", data={"note": "test scan", "csrf": csrf})
    assert "Refused op marked as looked at." == message_of(done.text) and op_id not in done.text
    await client.aclose()


async def test_orders_are_found_by_number_customer_or_sku_and_paged_without_repeats(hub):
    for i in range(57):
        await post_order(hub, order_body(f"P-{i:03d}", [("MILK-1L" if i % 2 else "CHOC-DARK", 1)],
                                         customer_name=f"Customer {i}"))
    client, _csrf = await signed_in(hub)
    first = (await client.get("/console/orders?q=P-")).text
    numbers = re.findall(r">(P-\d{3})</a>", first)
    nxt = unescape(re.search(r'href="\?([^"]+)"', first).group(1))
    second = (await client.get(f"/console/orders?{nxt}")).text
    more = re.findall(r">(P-\d{3})</a>", second)
    assert len(numbers) == 50 and len(more) == 7 and not set(numbers) & set(more)
    assert sorted(numbers + more) == [f"P-{i:03d}" for i in range(57)]
    by_customer = re.findall(r">(P-\d{3})</a>", (await client.get("/console/orders?q=customer 1")).text)
    assert set(by_customer) == {"P-001"} | {f"P-{i:03d}" for i in range(10, 20)}
    by_sku = re.findall(r">(P-\d{3})</a>", (await client.get("/console/orders?q=choc-dark")).text)
    assert len(by_sku) == 29 and all(int(n[2:]) % 2 == 0 for n in by_sku)
    await client.aclose()


async def test_what_a_customer_typed_is_shown_as_text_never_run(hub):
    order = await post_order(hub, order_body("XSS-1", [("MILK-1L", 1)], customer_name="<script>alert(1)</script>"))
    client, _csrf = await signed_in(hub)
    for path in ("/console/orders", f"/console/orders/{order['id']}"):
        page = (await client.get(path)).text
        assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)" in page
    await client.aclose()


async def test_enrolling_shows_a_one_time_code_and_qr_and_revoking_refuses_the_device(hub, tmp_path):
    from edge_app.enroll import enroll
    from edge_app.local.replica import Replica

    client, csrf = await signed_in(hub)
    shown = await client.post("/console/fleet/enrol", data={"location": "DEMO-1", "role": "picker", "csrf": csrf})
    code = re.search(r'<p class="code">([^<]+)</p>', shown.text).group(1)
    assert "<svg" in shown.text
    replica = Replica(tmp_path / "new")
    await enroll(replica, HUB_URL, code, "handheld-9", transport=hub.transport)
    fleet = (await client.get("/console/fleet")).text
    assert "handheld-9" in fleet
    device_id = replica.get_meta("device_id")
    revoked = await client.post(f"/console/fleet/{device_id}/revoke", data={"csrf": csrf})
    assert message_of(revoked.text) == "Device handheld-9 revoked."
    token = replica.get_meta("device_token")
    async with httpx.AsyncClient(base_url=HUB_URL, transport=hub.transport) as device:
        answer = await device.get("/v1/pull", params={"cursor": 0}, headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 401
    await client.aclose()


async def test_a_form_that_does_not_read_is_answered_in_words_on_the_page(hub):
    client, csrf = await signed_in(hub)
    answer = await client.post("/console/fleet/enrol", data={"csrf": csrf})
    assert answer.status_code == 422 and "location" in message_of(answer.text)
    assert answer.headers["content-type"].startswith("text/html")
    api = await client.get("/v1/orders")  # the API stays JSON
    assert api.headers["content-type"].startswith("application/json")
    await client.aclose()


def test_administrators_are_managed_from_the_command_line(sqlite_hub_url):
    from backroom_cli import cli

    runner = CliRunner()
    env = {"BACKROOM_ADMIN_PASSWORD": PASSWORD}
    added = runner.invoke(cli, ["hub", "admin", "add", "--db", sqlite_hub_url, "--login", "kim", "--name", "Kim",
                                "--role", "store_manager", "--location", "NOWHERE"], env=env)
    assert added.exit_code == 1 and "unknown location 'NOWHERE'" in added.output
    short = runner.invoke(cli, ["hub", "admin", "add", "--db", sqlite_hub_url, "--login", "kim", "--name", "Kim",
                                "--role", "network_admin"], env={"BACKROOM_ADMIN_PASSWORD": "short"})
    assert short.exit_code == 1 and "at least 12 characters" in short.output
    ok = runner.invoke(cli, ["hub", "admin", "add", "--db", sqlite_hub_url, "--login", "kim", "--name", "Kim",
                             "--role", "network_admin"], env=env)
    assert ok.exit_code == 0, ok.output
    assert runner.invoke(cli, ["hub", "admin", "disable", "--db", sqlite_hub_url, "kim"]).exit_code == 0
    listed = runner.invoke(cli, ["hub", "admin", "list", "--db", sqlite_hub_url]).output
    assert "kim" in listed and "disabled" in listed
