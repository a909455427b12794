"""One line per request from `hub serve`: method, path, status, duration and caller,
as JSON on the hub's log (`--log-level`, default info). The caller is named as the
API names it (`device:<id>`, `<role>:<name>`), never by its token.

Pure ASGI, outermost: it sees pushes answered by the push lane too."""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any, Awaitable, Callable

__all__ = ["RequestLog", "configure_logging", "LEVELS"]

log = logging.getLogger("backroom.requests")
LEVELS = ("debug", "info", "warning", "error")

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


def configure_logging(level: str) -> None:
    """JSON lines on stderr for Backroom's loggers, at `level` (one of LEVELS)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_JsonLines())
    root = logging.getLogger("backroom")
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    root.propagate = False


class _JsonLines(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {"at": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"), "level": record.levelname.lower(),
                "logger": record.name}
        line.update(record.args if isinstance(record.args, dict) else {"message": record.getMessage()})
        return json.dumps(line, separators=(",", ":"))


class RequestLog:
    """Logs every HTTP request once it is answered (or fails)."""

    def __init__(self, app: Any, name_caller: Callable[[str | None], str]):
        self.app = app
        self.name_caller = name_caller

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not log.isEnabledFor(logging.INFO):
            await self.app(scope, receive, send)
            return
        start, status = time.perf_counter(), [500]

        async def send_and_note(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            log.info("request", {
                "method": scope["method"], "path": scope["path"], "status": status[0],
                "ms": round((time.perf_counter() - start) * 1000, 1),
                "caller": self.name_caller(_bearer(scope)), "client": (scope.get("client") or ("", 0))[0],
            })


def _bearer(scope: Scope) -> str | None:
    for key, value in scope.get("headers") or ():
        if key == b"authorization":
            text = value.decode("latin-1")
            return text[7:] if text.lower().startswith("bearer ") else None
    return None
