"""Webhooks against a real HTTP receiver (a server in a thread): filtered by type and
location, signed, in order from each subscription's cursor; a receiver that keeps
failing is retried with backoff and its events end as dead letters, listed."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from hub.events.stream import head
from hub.events.webhooks import SIGNATURE_HEADER, WebhookDeliverer, dead_letters, sign, subscribe, unsubscribe, \
    verify_signature, webhook_rows
from hub.seed import DEMO_LOCATION
from tests.integration.test_pick_slice import order_body, post_order

pytestmark = pytest.mark.anyio


class Receiver:
    """A local HTTP server answering `status` to every POST, keeping what it got."""

    def __init__(self, status: int = 200):
        self.received: list[tuple[dict[str, str], bytes]] = []
        received, answer = self.received, status

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                received.append((dict(self.headers), body))
                self.send_response(answer)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def failing_receiver():
    r = Receiver(status=503)
    yield r
    r.close()


async def deliver_until_caught_up(hub, deliverer, hook_id: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    try:
        while True:
            await deliverer.deliver_round()
            with hub.db.read() as conn:
                row = next(r for r in webhook_rows(conn) if r["id"] == hook_id)
            if row["behind"] == 0:
                return
            assert time.monotonic() < deadline, row
            time.sleep(0.01)
    finally:
        await deliverer.aclose()


async def test_a_subscriber_gets_its_types_and_location_in_order_signed(hub, receiver):
    await post_order(hub, order_body("WH-1", [("MILK-1L", 1)]))
    with hub.db.write() as conn:
        hook_id, secret = subscribe(conn, receiver.url, ["backroom.order.*"], [DEMO_LOCATION], "tests", from_start=True)
    await post_order(hub, order_body("WH-2", [("MILK-1L", 1)]))
    deliverer = WebhookDeliverer(hub.db)
    await deliver_until_caught_up(hub, deliverer, hook_id)
    events = [json.loads(body) for _h, body in receiver.received]
    assert events and all(e["type"].startswith("backroom.order.") and e["location"] == DEMO_LOCATION for e in events)
    assert {e["data"]["number"] for e in events} >= {"WH-1", "WH-2"}
    assert [e["position"] for e in events] == sorted(e["position"] for e in events)
    for headers, body in receiver.received:
        assert headers["Content-Type"] == "application/cloudevents+json"
        assert verify_signature(secret, headers[SIGNATURE_HEADER], body)
        assert not verify_signature("another secret", headers[SIGNATURE_HEADER], body)
    with hub.db.read() as conn:
        assert dead_letters(conn, hook_id) == []


async def test_a_subscription_made_now_gets_only_what_happens_next(hub, receiver):
    await post_order(hub, order_body("WH-3", [("MILK-1L", 1)]))
    with hub.db.write() as conn:
        hook_id, _secret = subscribe(conn, receiver.url, ["backroom.order.accepted"], [], "tests")
    await post_order(hub, order_body("WH-4", [("MILK-1L", 1)]))
    await deliver_until_caught_up(hub, WebhookDeliverer(hub.db), hook_id)
    assert [json.loads(b)["data"]["number"] for _h, b in receiver.received] == ["WH-4"]


async def test_a_failing_receiver_is_retried_with_backoff_then_its_events_are_dead_letters(hub, failing_receiver):
    with hub.db.write() as conn:
        hook_id, _secret = subscribe(conn, failing_receiver.url, ["backroom.order.accepted"], [], "tests")
    await post_order(hub, order_body("WH-5", [("MILK-1L", 1)]))
    await post_order(hub, order_body("WH-6", [("MILK-1L", 1)]))
    deliverer = WebhookDeliverer(hub.db, max_attempts=3, first_retry_s=0.05)
    started = time.monotonic()
    await deliver_until_caught_up(hub, deliverer, hook_id)
    assert time.monotonic() - started >= 2 * (0.05 + 0.1)  # waited 0.05 s, then 0.1 s, before each event's last try
    assert len(failing_receiver.received) == 6  # three tries of each event
    with hub.db.read() as conn:
        dead = dead_letters(conn, hook_id)
        row = next(r for r in webhook_rows(conn) if r["id"] == hook_id)
    assert [(d["type"], d["attempts"], d["last_error"]) for d in dead] == [("backroom.order.accepted", 3, "HTTP 503")] * 2
    assert dead[0]["url"] == failing_receiver.url and row["dead_letters"] == 2 and row["attempts"] == 0


async def test_dead_letters_are_listed_by_the_api_and_a_bad_url_is_refused(hub, failing_receiver):
    async with hub.admin() as admin:
        bad = await admin.post("/v1/webhooks", json={"url": "ftp://x", "types": []})
        assert bad.status_code == 422, bad.text
        made = await admin.post("/v1/webhooks", json={"url": failing_receiver.url, "types": ["backroom.order.accepted"]})
        assert made.status_code == 201, made.text
        hook_id = made.json()["id"]
        assert len(made.json()["secret"]) == 64
        await post_order(hub, order_body("WH-7", [("MILK-1L", 1)]))
        await deliver_until_caught_up(hub, WebhookDeliverer(hub.db, max_attempts=1), hook_id)
        listed = (await admin.get("/v1/webhooks/dead-letters")).json()
        assert [d["webhook_id"] for d in listed] == [hook_id]
        hooks = (await admin.get("/v1/webhooks")).json()
        assert [h["id"] for h in hooks] == [hook_id] and "secret" not in hooks[0]
        gone = await admin.delete(f"/v1/webhooks/{hook_id}")
        assert gone.status_code == 200
        assert (await admin.delete(f"/v1/webhooks/{hook_id}")).status_code == 404


def test_a_signature_names_its_time_and_a_stale_one_is_refused():
    body = b'{"id":"x"}'
    header = sign("s3cret", 1_000_000, body)
    assert header.startswith("t=1000000,v1=")
    assert verify_signature("s3cret", header, body, now=1_000_100)
    assert not verify_signature("s3cret", header, body, now=1_000_000 + 301)
    assert not verify_signature("s3cret", header, body + b" ", now=1_000_100)
    assert not verify_signature("s3cret", "garbage", body)


def test_unsubscribing_an_unknown_webhook_is_a_clear_error(hub):
    from hub.errors import NotFound

    with pytest.raises(NotFound, match="no active webhook"):
        with hub.db.write() as conn:
            unsubscribe(conn, "nope", "tests")
    with hub.db.read() as conn:
        assert head(conn) > 0
