"""The door: what every request meets before a route reads its body.

- A client that failed authentication (a bad token, a bad enrolment code) too often
  in the last minute gets 429 with Retry-After, and nothing else is done for it.
- A body larger than its route allows gets 413 from its Content-Length, unread; a
  body sent without one is cut off once it passes the limit (413 as well).
- Every /v1 call but enrolment is authenticated from its header first: a bad token
  gets 401 before a byte of its body is read.
Every 401 counts against the client and is written to the audit trail (while the
client is not throttled, so a flood writes a bounded number of rows)."""

from __future__ import annotations

import json
import time
from collections import deque
from typing import Any

from fastapi.concurrency import run_in_threadpool

from hub.api.callers import caller, client_of
from hub.api.push_lane import MAX_PUSH_BYTES, PUSH_PATH, too_large
from hub.audit import audit_now
from hub.errors import DeviceRevoked, TooLarge, Unauthorized

__all__ = ["Door", "Throttle", "MAX_BODY_BYTES", "MAX_IMPORT_BYTES", "ENROLL_PATH"]

MAX_BODY_BYTES = 1024 * 1024  # anything but a push: an order of 500 lines is ~40 KB
# set-up: a CSV import (100,000 items is ~6 MB), through the API or the console's upload
MAX_IMPORT_BYTES = 64 * 1024 * 1024
IMPORT_PATHS: tuple[str, ...] = ("/v1/admin/imports/", "/console/setup/imports")
IMPORT_PATHS += ("/v1/admin/carriers/rates",)  # carriers: a rate table's three CSV files in one body
ENROLL_PATH = "/v1/devices/enroll"


class Throttle:
    """Failed authentications per client: `limit` in `window_s` and the client waits."""

    def __init__(self, limit: int = 10, window_s: float = 60.0, clients: int = 100_000):
        self.limit, self.window_s, self.clients = limit, window_s, clients
        self._failures: dict[str, deque[float]] = {}

    def retry_after(self, client: str, now: float | None = None) -> int:
        """Seconds this client must wait, 0 when it may go on."""
        now = time.monotonic() if now is None else now
        failures = self._failures.get(client)
        if not failures:
            return 0
        while failures and failures[0] <= now - self.window_s:
            failures.popleft()
        if len(failures) < self.limit:
            return 0
        return max(1, int(failures[0] + self.window_s - now + 0.999))

    def failed(self, client: str, now: float | None = None) -> None:
        if len(self._failures) >= self.clients:
            self._failures.clear()  # a flood from everywhere: start counting again
        self._failures.setdefault(client, deque(maxlen=self.limit)).append(time.monotonic() if now is None else now)


class Door:
    """ASGI middleware in front of the app (and of the push lane)."""

    def __init__(self, app: Any):
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        hub, path, client = scope["app"], scope["path"], client_of(scope)
        throttle: Throttle = hub.state.throttle
        if wait := throttle.retry_after(client):
            await _answer(send, 429, f"too many failed attempts from {client}; try again in {wait} s",
                          [(b"retry-after", str(wait).encode())])
            return
        limit = MAX_PUSH_BYTES if path == PUSH_PATH else MAX_IMPORT_BYTES if path.startswith(IMPORT_PATHS) else MAX_BODY_BYTES
        length = _header(scope, b"content-length")
        if length is not None and (not length.isdigit() or int(length) > limit):
            await _answer(send, 413, str(too_large()) if path == PUSH_PATH else f"a request to {path} is at most {limit // 1024} KB")
            return
        if path.startswith("/v1/") and path != ENROLL_PATH:
            try:
                await caller(hub, _header(scope, b"authorization"))
            except Unauthorized as exc:
                # A revoked device's token is known, not guessed: counting it would lock every
                # other device behind the store's one address out with it.
                await self._refused(hub, client, path, str(exc), send, guessed=not isinstance(exc, DeviceRevoked))
                return
        if length is None and scope["method"] in ("POST", "PUT", "PATCH"):
            try:
                receive = await _buffered(receive, limit)
            except TooLarge as exc:
                await _answer(send, 413, str(exc))
                return
        status: list[int] = []

        async def watched_send(message: dict) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])
            await send(message)

        await self.app(scope, receive, watched_send)
        if status and status[0] == 401:  # a bad enrolment code
            throttle.failed(client)
            await run_in_threadpool(audit_now, hub.state.db, "unknown", "enroll.failed", path, "401", client)

    async def _refused(self, hub: Any, client: str, path: str, why: str, send, guessed: bool = True) -> None:
        if guessed:
            hub.state.throttle.failed(client)
        await _answer(send, 401, why, [(b"www-authenticate", b"Bearer")])
        await run_in_threadpool(audit_now, hub.state.db, "unknown", "auth.failed", path, "401", client, {"why": why})


async def _buffered(receive, limit: int):
    """A body sent without its length (chunked), read up to `limit`, and a `receive`
    that hands it on; raises TooLarge past the limit."""
    messages, seen = [], 0
    while True:
        message = await receive()
        messages.append(message)
        seen += len(message.get("body", b""))
        if seen > limit:
            raise TooLarge(f"a request body is at most {limit // 1024} KB")
        if message["type"] != "http.request" or not message.get("more_body", False):
            break

    async def replay() -> dict:
        return messages.pop(0) if messages else await receive()

    return replay


def _header(scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key.lower() == name:
            return value.decode("latin-1")
    return None


async def _answer(send, status: int, detail: str, headers: list[tuple[bytes, bytes]] | None = None) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            *(headers or [])]})
    await send({"type": "http.response.body", "body": body})
