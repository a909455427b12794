"""The administrators' console: server-rendered pages from the hub (Jinja templates,
htmx for partial updates, server-sent events for the live tiles), no CDN and no
front-end build. Pages read through hub.console.reads and change things through the
same logged hub commands and the same authorisation (hub.access) as the JSON API."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from hub.console import (
    carrier_pages,
    events_pages,
    exception_pages,
    import_pages,
    insight_pages,
    order_pages,
    routing_pages,
    session_pages,
    setup_pages,
    stock_fleet_pages,
)
from hub.console import anomaly_pages  # anomalies
from hub.console.web import STATIC, NotSignedIn, error_fragment, sign_in_redirect
from hub.errors import HubError, Invalid

__all__ = ["install_console", "is_console"]

ROUTERS: tuple[APIRouter, ...] = (session_pages.router, order_pages.router, exception_pages.router, stock_fleet_pages.router,
           setup_pages.router, import_pages.router, events_pages.router)
ROUTERS += (carrier_pages.router,)  # carriers
ROUTERS += (routing_pages.router,)  # routing policy, what-if, scheduled jobs


def is_console(request: Request) -> bool:
    return request.url.path.startswith("/console")


def install_console(app: FastAPI) -> None:
    """Mount the console at /console (and send / there). Hub errors on console paths
    become a readable message; elsewhere the API's JSON answers stay as they are."""
    for router in ROUTERS:
        app.include_router(router)
    app.include_router(anomaly_pages.router)  # anomalies
    app.include_router(insight_pages.router)  # inventory risk and fulfilment analytics
    app.mount("/console/static", StaticFiles(directory=STATIC), name="console-static")

    @app.get("/", include_in_schema=False)
    def home() -> Response:
        return RedirectResponse("/console/", status_code=303)

    @app.exception_handler(NotSignedIn)
    async def not_signed_in(request: Request, exc: NotSignedIn) -> Response:
        return sign_in_redirect(request, str(exc))


def console_error(request: Request, exc: Exception) -> Response | None:
    """The console's answer to an error, or None when the request is not the console's."""
    if not is_console(request):
        return None
    if isinstance(exc, RequestValidationError):
        fields = "; ".join(f"{'.'.join(str(p) for p in e['loc'][1:])}: {e['msg']}" for e in exc.errors())
        return error_fragment(request, Invalid(fields or "the form did not read"))
    if isinstance(exc, HubError):
        return error_fragment(request, exc)
    return None
