"""The push lane: `POST /v1/ops` handed to the writer process without going
through FastAPI's routing, dependency solving and exception wrappers.

With a writer process (`backroom hub serve`), an HTTP worker only checks a push
and passes its body on; FastAPI's machinery around the route was much of that
work (measured in docs/benchmarks.md), and on a small machine that CPU is taken
from the writer process, the hub's one serial stage. So this middleware answers pushes itself, with the route's own checks and
errors (hub.api.app hands it `forward_push` and `refusal_of`): the same token
cache, the same 401/403/422/503 bodies. Without a writer process, and for every other
call, requests go on to the app; the route stays the reference and what OpenAPI
documents."""

from __future__ import annotations

import json
from typing import Any, Awaitable, Callable

from fastapi.exceptions import RequestValidationError

from hub.errors import HubError, TooLarge

__all__ = ["PushLane", "MAX_PUSH_BYTES", "PUSH_PATH", "too_large"]

PUSH_PATH = "/v1/ops"
# A full batch (1,000 ops) is ~350 KB; anything far past that is not a device's push.
MAX_PUSH_BYTES = 8 * 1024 * 1024


def too_large() -> TooLarge:
    return TooLarge(f"a push is at most {MAX_PUSH_BYTES // (1024 * 1024)} MB; send the ops in smaller batches")


class PushLane:
    """ASGI middleware: pushes to the writer process, everything else to the app."""

    def __init__(self, app, forward: Callable[[Any, str | None, bytes], Awaitable[bytes]],
                 refusal_of: Callable[[RequestValidationError], dict]):
        """`forward(app, authorization, body)`: the writer's answer to a checked push;
        `refusal_of(exc)`: a 422's body."""
        self.app = app
        self.forward = forward
        self.refusal_of = refusal_of

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope["path"] != PUSH_PATH or scope["method"] != "POST" \
                or scope["app"].state.writer is None:
            await self.app(scope, receive, send)
            return
        try:
            status, body = 200, await self.forward(scope["app"], _header(scope, b"authorization"), await _body(receive))
        except HubError as exc:
            status, body = exc.status, json.dumps(exc.body()).encode()
        except RequestValidationError as exc:
            status, body = 422, json.dumps(self.refusal_of(exc), default=str).encode()
        except _Gone:
            return
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


class _Gone(Exception):
    """The device hung up before its push was read."""


def _header(scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key.lower() == name:
            return value.decode("latin-1")
    return None


async def _body(receive) -> bytes:
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _Gone()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_PUSH_BYTES:
            raise too_large()
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)
