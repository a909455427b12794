"""What every console page shares: templates, the signed-in administrator (a session
cookie, checked on every request), CSRF on every action, cursors for paging, and how
a hub error becomes a page or a fragment a person can read."""

from __future__ import annotations

import base64
import json
from urllib.parse import urlencode
from pathlib import Path
from typing import Any, Annotated

from fastapi import Depends, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from hub.access import Access
from hub.admins import Session, session_of
from hub.api.callers import client_of
from hub.errors import Forbidden, HubError, Unauthorized
from hub.store.db import Database

__all__ = ["COOKIE", "TEMPLATES", "STATIC", "page", "fragment", "signed_in", "Signed", "checked", "encode_cursor",
           "decode_cursor", "NotSignedIn", "client", "Checked", "db_of", "sign_in_redirect", "error_fragment"]

HERE = Path(__file__).parent
TEMPLATES = Jinja2Templates(directory=HERE / "templates")
# A list's "next page" link: the same filters, the cursor after the last row shown.
TEMPLATES.env.filters["urlencode_filters"] = lambda params, **changes: urlencode({**dict(params), **changes})
STATIC = HERE / "static"
COOKIE = "backroom_console"


NOT_SIGNED_IN = "not signed in"


class NotSignedIn(Exception):
    """No valid session: the page answers with the sign-in form (htmx: a redirect header)."""


def db_of(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def client(request: Request) -> str:
    return client_of(request)


def _session(db: Database, token: str | None) -> Session:
    with db.write() as conn:  # the idle clock restarts on every request
        return session_of(conn, token)


async def signed_in(request: Request) -> Session:
    """The session of this request's cookie; raises NotSignedIn."""
    try:
        return await run_in_threadpool(_session, db_of(request), request.cookies.get(COOKIE))
    except Unauthorized as exc:
        raise NotSignedIn(str(exc)) from exc


Signed = Annotated[Session, Depends(signed_in)]


async def checked(request: Request, session: Signed, csrf: Annotated[str, Form()] = "") -> Session:
    """An action's session, once its CSRF token matches (a form field, or the htmx header)."""
    sent = csrf or request.headers.get("x-csrf-token", "")
    if not sent or sent != session.csrf:
        raise Forbidden("this form is out of date (CSRF check): reload the page and try again")
    return session


Checked = Annotated[Session, Depends(checked)]


def page(request: Request, template: str, session: Session | None, **context: Any) -> HTMLResponse:
    """A whole page (or, asked for by htmx with hx-target, the same template: it extends base.html)."""
    access: Access | None = session.admin.access() if session else None
    return TEMPLATES.TemplateResponse(request, template, {"session": session, "access": access, **context})


def fragment(request: Request, template: str, session: Session | None, **context: Any) -> HTMLResponse:
    """Part of a page, for htmx to swap in."""
    return page(request, template, session, fragment=True, **context)


def encode_cursor(*key: Any) -> str:
    """An opaque cursor for the row after `key` (the sort key of the last row shown)."""
    return base64.urlsafe_b64encode(json.dumps(list(key)).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> list[Any] | None:
    """The sort key a cursor holds; None for none (or one that does not read: the first page)."""
    if not cursor:
        return None
    try:
        value = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, TypeError):
        return None
    return value if isinstance(value, list) else None


def sign_in_redirect(request: Request, why: str) -> Response:
    """Back to the sign-in form, then to where the person was going."""
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    said = {"next": target, "why": why} if why != NOT_SIGNED_IN else {"next": target}  # a first visit is no error
    location = f"/console/sign-in?{urlencode(said)}"
    if request.headers.get("hx-request"):
        return Response(status_code=204, headers={"HX-Redirect": location})
    return RedirectResponse(location, status_code=303)


def error_fragment(request: Request, exc: HubError) -> HTMLResponse:
    """A refused action, said in the page's message area (htmx) or as a page of its own."""
    body = TEMPLATES.get_template("_message.html").render(ok=False, message=str(exc))
    status = 200 if request.headers.get("hx-request") else exc.status
    headers = {"HX-Retarget": "#message", "HX-Reswap": "innerHTML"} if request.headers.get("hx-request") else {}
    return HTMLResponse(body, status_code=status, headers=headers)
