"""Webhooks: subscribers that receive events by HTTP POST, signed, at least once, in order.

A subscription (table `webhooks`) names a URL, the event types it wants (exact, or a
prefix ending in `.*`: `backroom.order.*`; none: all) and the locations (none: all;
an event without a location goes only to subscriptions without a location filter).
Subscriptions are administrators' configuration of the outbound relay, like API
tokens, not floor state: they live in an admin table, every change is in the audit
trail, and `hub verify` leaves them out (hub.verify.NOT_FOLDED). Their signing secret
has to be kept readable to sign with; it is shown once, when the subscription is made.

Each subscription has its own cursor. The deliverer posts the next matching event
past it (CloudEvents structured JSON); a 2xx moves the cursor. A failure is tried
again after 1, 2, 4 … s (capped at 5 min); after MAX_ATTEMPTS the event goes to the
subscription's dead letters and the cursor moves past it, so one bad event never
stops the others.

Signature: header `Backroom-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of
"<t>." + body with the secret>`; a receiver checks it with `verify_signature`
and refuses stale timestamps (replays)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import secrets
import time
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx

from hub.audit import record_audit
from hub.errors import Invalid, NotFound
from hub.events.stream import StoredEvent, envelope_json, head, page
from hub.store.db import Database
from hub.store.tx import Tx

__all__ = ["MAX_ATTEMPTS", "SIGNATURE_HEADER", "subscribe", "unsubscribe", "webhook_rows", "dead_letters", "sign",
           "verify_signature", "matches", "WebhookDeliverer"]

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
SIGNATURE_HEADER = "Backroom-Signature"
_FIRST_RETRY_S = 1.0
_LAST_RETRY_S = 300.0
_TIMEOUT_S = 10.0


def subscribe(conn: Tx, url: str, types: list[str], locations: list[str], actor: str, from_start: bool = False,
              client: str = "") -> tuple[str, str]:
    """A new subscription: (its id, its signing secret, shown this once). It receives
    events from now on, or every event kept (`from_start`). Raises Invalid for a URL
    that is not http(s)."""
    if not url.startswith(("http://", "https://")) or len(url) > 500:
        raise Invalid("url: an http:// or https:// URL of at most 500 characters")
    hook_id, secret = secrets.token_hex(8), secrets.token_hex(32)
    conn.execute(
        "INSERT INTO webhooks (id, url, secret, types, locations, cursor, attempts, created_at, created_by) "
        "VALUES (:i, :u, :s, :t, :l, :c, 0, :at, :by)",
        {"i": hook_id, "u": url, "s": secret, "t": json.dumps(sorted(set(types))), "l": json.dumps(sorted(set(locations))),
         "c": 0 if from_start else head(conn), "at": _now().isoformat(), "by": actor[:100]},
    )
    record_audit(conn, actor, "webhook.subscribed", hook_id, "applied", client, {"url": url, "types": types,
                                                                                  "locations": locations})
    return hook_id, secret


def unsubscribe(conn: Tx, hook_id: str, actor: str, client: str = "") -> None:
    """Stop deliveries to the subscription (its dead letters stay readable). Raises NotFound."""
    done = conn.execute("UPDATE webhooks SET disabled_at = :t WHERE id = :i AND disabled_at IS NULL",
                        {"t": _now().isoformat(), "i": hook_id}).rowcount
    if not done:
        raise NotFound(f"no active webhook {hook_id}")
    record_audit(conn, actor, "webhook.unsubscribed", hook_id, "applied", client, {})


def webhook_rows(conn: Tx) -> list[dict[str, Any]]:
    """Every subscription as plain dicts (no secret), with how far behind the outbox it is."""
    top = head(conn)
    rows = conn.execute("SELECT id, url, types, locations, cursor, attempts, next_attempt_at, last_error, created_at, "
                        "created_by, disabled_at FROM webhooks ORDER BY created_at, id").mappings()
    dead = dict(conn.execute("SELECT webhook_id, COUNT(*) FROM webhook_dead_letters GROUP BY webhook_id").tuples())
    return [{**r, "types": json.loads(r["types"]), "locations": json.loads(r["locations"]), "behind": top - r["cursor"],
             "dead_letters": dead.get(r["id"], 0)} for r in rows]


def dead_letters(conn: Tx, webhook_id: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
    """Events given up on, newest first, as plain dicts (for the API and the console)."""
    where, params = ("WHERE d.webhook_id = :w", {"w": webhook_id}) if webhook_id else ("", {})
    return list(conn.execute(
        "SELECT d.id, d.webhook_id, w.url, d.position, d.event_id, d.type, d.attempts, d.last_error, d.dead_at "
        f"FROM webhook_dead_letters d LEFT JOIN webhooks w ON w.id = d.webhook_id {where} ORDER BY d.id DESC LIMIT :n",
        {**params, "n": limit}).mappings())


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The signature header's value for `body` sent at `timestamp`."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify_signature(secret: str, header: str, body: bytes, tolerance_s: int = 300, now: float | None = None) -> bool:
    """True if `header` signs `body` with `secret` and its timestamp is within the tolerance."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs((time.time() if now is None else now) - timestamp) > tolerance_s:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), f"t={timestamp},v1={parts.get('v1', '')}")


def matches(event: StoredEvent, types: list[str], locations: list[str]) -> bool:
    if locations and event.location not in locations:
        return False
    return not types or any(event.type == t or (t.endswith(".*") and event.type.startswith(t[:-1])) for t in types)


class WebhookDeliverer:
    """Delivers to every active subscription, each from its own cursor, side by side."""

    def __init__(self, db: Database, client: httpx.AsyncClient | None = None, max_attempts: int = MAX_ATTEMPTS,
                 first_retry_s: float = _FIRST_RETRY_S):
        self.db, self.client = db, client
        self.max_attempts, self.first_retry_s = max_attempts, first_retry_s
        self.delivered = 0
        self._own_client = False

    async def aclose(self) -> None:
        """Close the HTTP client this deliverer made (not one it was given)."""
        if self._own_client and self.client is not None:
            await self.client.aclose()
            self.client, self._own_client = None, False

    async def run(self, stop: asyncio.Event, idle_s: float = 0.05) -> None:
        try:
            while not stop.is_set():
                try:
                    busy = await self.deliver_round()
                except Exception as exc:  # noqa: BLE001 - the database away: try again, nothing skipped
                    log.warning("webhooks: a round failed (%s)", exc)
                    busy = False
                if not busy:
                    try:
                        await asyncio.wait_for(stop.wait(), timeout=max(idle_s, 0.05))
                    except asyncio.TimeoutError:
                        pass
        finally:
            await self.aclose()

    async def deliver_round(self) -> bool:
        """One event (at most) to each subscription that is due; True if any was sent."""
        with self.db.read() as conn:
            hooks = conn.execute("SELECT id, url, secret, types, locations, cursor, attempts, next_attempt_at "
                                 "FROM webhooks WHERE disabled_at IS NULL").mappings()
        now = _now()
        due = [h for h in hooks if not h["next_attempt_at"] or datetime.fromisoformat(h["next_attempt_at"]) <= now]
        sent = await asyncio.gather(*(self._deliver_next(h) for h in due))
        return any(sent)

    async def _deliver_next(self, hook: dict[str, Any]) -> bool:
        event, scanned = self._next_event(hook)
        if event is None:
            if scanned > hook["cursor"]:
                self._save(hook["id"], scanned, 0, None, None)
            return False
        error = await self._post(hook, event)
        if error is None:
            self.delivered += 1
            self._save(hook["id"], event.position, 0, None, None)
            return True
        attempts = hook["attempts"] + 1
        if attempts >= self.max_attempts:
            self._dead(hook["id"], event, attempts, error)
            return True
        retry = min(self.first_retry_s * 2 ** (attempts - 1), _LAST_RETRY_S)
        self._save(hook["id"], hook["cursor"], attempts, (_now() + timedelta(seconds=retry)).isoformat(), error)
        return False

    def _next_event(self, hook: dict[str, Any]) -> tuple[StoredEvent | None, int]:
        """The first matching event past the cursor, and how far the search read."""
        types, locations = json.loads(hook["types"]), json.loads(hook["locations"])
        after = hook["cursor"]
        with self.db.read() as conn:
            for _ in range(20):  # at most 10,000 events read per round
                events = page(conn, after, 500)
                for event in events:
                    if matches(event, types, locations):
                        return event, after
                    after = event.position
                if len(events) < 500:
                    break
        return None, after

    async def _post(self, hook: dict[str, Any], event: StoredEvent) -> str | None:
        """None if the subscriber took the event; otherwise what went wrong."""
        body = envelope_json(event)
        headers = {"Content-Type": "application/cloudevents+json", "ce-id": event.id, "ce-type": event.type,
                   SIGNATURE_HEADER: sign(hook["secret"], int(time.time()), body)}
        if self.client is None:
            self.client, self._own_client = httpx.AsyncClient(timeout=_TIMEOUT_S), True
        try:
            response = await self.client.post(hook["url"], content=body, headers=headers)
        except httpx.HTTPError as exc:
            return f"{type(exc).__name__}: {exc}"[:500]
        return None if 200 <= response.status_code < 300 else f"HTTP {response.status_code}"

    def _save(self, hook_id: str, position: int, attempts: int, next_at: str | None, error: str | None) -> None:
        with self.db.write() as conn:
            conn.execute("UPDATE webhooks SET cursor = :c, attempts = :a, next_attempt_at = :n, last_error = :e "
                         "WHERE id = :i", {"c": position, "a": attempts, "n": next_at, "e": error, "i": hook_id})

    def _dead(self, hook_id: str, event: StoredEvent, attempts: int, error: str) -> None:
        """Give up on the event: a dead letter, and the cursor past it, in one transaction."""
        with self.db.write() as conn:
            conn.execute("INSERT INTO webhook_dead_letters (webhook_id, position, event_id, type, attempts, last_error, "
                         "dead_at) VALUES (:w, :p, :e, :t, :a, :l, :d)",
                         {"w": hook_id, "p": event.position, "e": event.id, "t": event.type, "a": attempts,
                          "l": error, "d": _now().isoformat()})
            conn.execute("UPDATE webhooks SET cursor = :c, attempts = 0, next_attempt_at = NULL, last_error = :l "
                         "WHERE id = :i", {"c": event.position, "l": error, "i": hook_id})


def _now() -> datetime:
    return datetime.now(timezone.utc)
