"""Signing in and out of the console, and the overview: tiles with counts that link to
the lists behind them, kept live by server-sent events."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone
from typing import Annotated, AsyncIterator

from fastapi import APIRouter, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse

from hub.admins import IDLE_TIMEOUT, REFUSED_SIGN_IN, Session, sign_in, sign_out
from hub.console.reads import OPEN_STATUSES, open_by_location, tiles
from hub.console.web import COOKIE, TEMPLATES, Checked, Signed, client, db_of, page

__all__ = ["router", "LIVE_EVERY_S"]

router = APIRouter(include_in_schema=False)
LIVE_EVERY_S = 5.0  # how often the overview's tiles are sent again


def _safe_next(target: str) -> str:
    """Only a console path: the sign-in form never sends anyone off-site."""
    return target if target.startswith("/console/") and not target.startswith("//") else "/console/"


@router.get("/console/sign-in", response_class=HTMLResponse)
def sign_in_form(request: Request, next: str = "/console/", why: str = "") -> HTMLResponse:
    return page(request, "sign_in.html", None, next=_safe_next(next), why=why[:200])


@router.post("/console/sign-in")
def sign_in_post(request: Request, login: Annotated[str, Form(max_length=64)], password: Annotated[str, Form(max_length=200)],
                 next: Annotated[str, Form(max_length=500)] = "/console/") -> Response:
    with db_of(request).write() as conn:
        signed = sign_in(conn, login.strip(), password, client(request))
    if signed is None:
        return page(request, "sign_in.html", None, next=_safe_next(next), why=REFUSED_SIGN_IN)
    token, _session = signed
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(COOKIE, token, httponly=True, samesite="strict", secure=request.url.scheme == "https",
                        max_age=int(IDLE_TIMEOUT.total_seconds()) * 24, path="/console")
    return response


@router.post("/console/sign-out")
async def sign_out_post(request: Request, session: Checked) -> Response:
    def end() -> None:
        with db_of(request).write() as conn:
            sign_out(conn, request.cookies.get(COOKIE))
    await run_in_threadpool(end)
    response = RedirectResponse("/console/sign-in?why=Signed out.", status_code=303)
    response.delete_cookie(COOKIE, path="/console")
    return response


@router.get("/console/", response_class=HTMLResponse)
def overview(request: Request, session: Signed) -> HTMLResponse:
    with db_of(request).read() as conn:
        by_location = open_by_location(conn, session.admin.access())
    return page(request, "overview.html", session, tiles=_tiles(request, session), by_location=by_location,
                statuses=OPEN_STATUSES)


@router.get("/console/live/tiles")
async def live_tiles(request: Request, session: Signed) -> StreamingResponse:
    """The tiles again every LIVE_EVERY_S, as `tiles` events (htmx's SSE extension swaps them in)."""
    async def events() -> AsyncIterator[str]:
        while not await request.is_disconnected():
            current = await run_in_threadpool(_tiles, request, session)
            html = TEMPLATES.get_template("_tiles.html").render(tiles=current)
            yield "event: tiles\ndata: " + html.replace("\n", "\ndata: ") + "\n\n"
            await asyncio.sleep(LIVE_EVERY_S)
    return StreamingResponse(events(), media_type="text/event-stream", headers={"Cache-Control": "no-store"})


def _tiles(request: Request, session: Session) -> list[object]:
    with db_of(request).read() as conn:
        return list(tiles(conn, session.admin.access(), datetime.now(timezone.utc)))
