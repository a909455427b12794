"""The hub's OpenAPI document and its pages: the bearer scheme on every call that
needs a token, the error answers each call can give (with the bodies they carry),
and /docs and /redoc served from files installed with the hub (no CDN: a store's
back office may have no internet)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import fastapi_offline
from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

__all__ = ["install_docs", "ERROR_ANSWERS", "STATIC_PATH"]

STATIC_PATH = "/docs/static"
_ASSETS = Path(fastapi_offline.__file__).parent / "static"

_PROBLEM = {"$ref": "#/components/schemas/Problem"}
ERROR_ANSWERS: dict[str, str] = {
    "401": "No token, or one that is unknown, revoked or expired",
    "403": "A known token used outside its role or channel",
    "404": "No such thing, or one outside the caller's location or channel",
    "409": "The request contradicts what the hub holds",
    "413": "The body is larger than this call accepts",
    "422": "The body or a parameter does not fit; `detail` names every problem",
    "429": "Too many failed attempts from this client; see Retry-After",
}


def install_docs(app: FastAPI) -> None:
    """Serve /docs and /redoc from local files, and complete the OpenAPI document."""
    app.mount(STATIC_PATH, StaticFiles(directory=_ASSETS), name="docs-static")

    @app.get("/docs", include_in_schema=False)
    def swagger() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url="/openapi.json", title=f"{app.title} — API",
                                   swagger_js_url=f"{STATIC_PATH}/swagger-ui-bundle.js",
                                   swagger_css_url=f"{STATIC_PATH}/swagger-ui.css",
                                   swagger_favicon_url=f"{STATIC_PATH}/favicon.png")

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> HTMLResponse:
        return get_redoc_html(openapi_url="/openapi.json", title=f"{app.title} — API",
                              redoc_js_url=f"{STATIC_PATH}/redoc.standalone.js",
                              redoc_favicon_url=f"{STATIC_PATH}/favicon.png", with_google_fonts=False)

    make_schema = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = _completed(make_schema())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to extend the schema


def _completed(schema: dict[str, Any]) -> dict[str, Any]:
    components = schema.setdefault("components", {})
    components.setdefault("securitySchemes", {})["bearer"] = {
        "type": "http", "scheme": "bearer",
        "description": "A device token (from enrolment) or an API token (`backroom hub token`)."}
    schemas = components.setdefault("schemas", {})
    schemas["Problem"] = {"type": "object", "required": ["detail"], "properties": {"detail": {"type": "string"}}}
    schemas["Refusal"] = {"type": "object", "required": ["detail"],
                          "properties": {"detail": {"type": "string"}, "errors": {"type": "array", "items": {}}}}
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    for path, operations in schema.get("paths", {}).items():
        for operation in operations.values():
            _complete_operation(path, operation)
    return schema


def _complete_operation(path: str, operation: dict[str, Any]) -> None:
    needs_token = path.startswith("/v1/") and path != "/v1/devices/enroll"
    if needs_token:
        operation["security"] = [{"bearer": []}]
    answers = operation.setdefault("responses", {})
    codes = list(ERROR_ANSWERS) if path.startswith("/v1/") else ["429"]
    if not needs_token:
        codes = [c for c in codes if c not in ("403",)]
    for code in codes:
        schema = {"$ref": "#/components/schemas/Refusal"} if code == "422" else _PROBLEM
        answers[code] = {"description": ERROR_ANSWERS[code], "content": {"application/json": {"schema": schema}}}
    if path == "/v1/ops":
        answers["503"] = {"description": "The hub's writer is restarting: send the push again",
                          "content": {"application/json": {"schema": _PROBLEM}}}
