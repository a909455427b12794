"""The imports page: upload a CSV of items, bins or stock; a dry run lists every bad
row with its line and changes nothing; a good file is then applied (in batches of
logged hub commands, hub.imports) without being uploaded again, and the result shown.

A checked file waits in the hub's temporary folder under a random name the page holds,
for its uploader only, so any worker of the hub can apply it."""

from __future__ import annotations

import hashlib
import io
import json
import secrets
import tempfile
import time
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import UploadFile

from hub import imports
from hub.console.web import Checked, Signed, db_of, page
from hub.errors import Invalid

__all__ = ["UPLOADS", "router"]

router = APIRouter(include_in_schema=False)
UPLOADS = Path(tempfile.gettempdir()) / "backroom-console-imports"
KEEP_S = 24 * 3600  # how long a checked file waits to be applied


def _path(token: str) -> Path:
    return UPLOADS / hashlib.sha256(token.encode()).hexdigest()


@router.get("/console/setup/imports", response_class=HTMLResponse)
def imports_page(request: Request, session: Signed) -> HTMLResponse:
    return page(request, "setup_imports.html", session, kinds=imports.KINDS, columns=imports.COLUMNS, report=None)


@router.post("/console/setup/imports", response_class=HTMLResponse)
async def upload(request: Request, session: Checked) -> HTMLResponse:
    """Check an uploaded file (a dry run), or apply one checked before (its token)."""
    form = await request.form()
    access = session.admin.access()
    token = str(form.get("token") or "")
    if token:
        kind, data = _take(token, session.admin.login)
        dry_run = False
    else:
        kind, file = str(form.get("kind") or ""), form.get("file")
        if not isinstance(file, UploadFile) or not file.filename:
            raise Invalid("file: choose a CSV file to upload")
        data = await file.read()
        dry_run = True
    text = imports.text_of(data)
    report = await run_in_threadpool(imports.import_csv, db_of(request), access, kind, text, dry_run)
    token = _keep(kind, data, session.admin.login) if dry_run and report.ok and report.rows else ""
    return page(request, "setup_imports.html", session, kinds=imports.KINDS, columns=imports.COLUMNS, report=report,
                token=token, shown=imports.MAX_BAD_SHOWN)


def _keep(kind: str, data: bytes, login: str) -> str:
    token = secrets.token_urlsafe(24)
    UPLOADS.mkdir(mode=0o700, parents=True, exist_ok=True)
    _forget_old(time.time() - KEEP_S)
    path = _path(token)
    path.with_suffix(".json").write_text(json.dumps({"kind": kind, "login": login}))
    path.write_bytes(data)
    return token


def _forget_old(before: float) -> None:
    """Checked files nobody applied within KEEP_S go (a hub never fills its disk with them)."""
    for path in UPLOADS.iterdir():
        try:
            if path.stat().st_mtime < before:
                path.unlink()
        except OSError:
            continue  # another worker removed it first


def _take(token: str, login: str) -> tuple[str, bytes]:
    """The checked file of `token` (removed: it is applied once); raises Invalid."""
    path = _path(token)
    try:
        said = json.loads(path.with_suffix(".json").read_text())
        data = path.read_bytes()
    except (OSError, ValueError):
        raise Invalid("token: this checked file is gone (applied already, or the hub restarted): upload it again") from None
    if said.get("login") != login:
        raise Invalid("token: this file was checked by someone else: upload it again")
    path.unlink(missing_ok=True)
    path.with_suffix(".json").unlink(missing_ok=True)
    return str(said["kind"]), data


@router.get("/console/setup/exports/{kind}")
def export(request: Request, session: Signed, kind: str) -> Response:
    """Every item, bin or stock figure the administrator may see, as CSV."""
    out = io.StringIO()
    imports.export_csv(db_of(request), session.admin.access(), kind[:10], out)
    return Response(out.getvalue(), media_type="text/csv",
                    headers={"content-disposition": f'attachment; filename="{kind[:10]}.csv"'})
