"""The exceptions queue: open tasks, conflicts (the rule that decided each, and its
inputs), refused ops and orders awaiting stock, one kind at a time; assign a task,
close it, say what was done about a conflict or a refused op. Logged hub commands."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse

from hub.console.reads import exceptions
from hub.console.web import Checked, Signed, db_of, page
from hub.errors import Invalid, NotFound
from hub.log import run_hub_command
from hub.store.tx import Tx

__all__ = ["router", "KINDS"]

router = APIRouter(include_in_schema=False)
KINDS = {"task": "Open tasks", "conflict": "Conflicts", "refused": "Refused ops", "awaiting": "Awaiting stock"}


@router.get("/console/exceptions", response_class=HTMLResponse)
def queue(request: Request, session: Signed, kind: str = "task", location: str = "", after: int | None = None,
          message: str = "") -> HTMLResponse:
    kind = kind if kind in KINDS else "task"
    access = session.admin.access()
    with db_of(request).read() as conn:
        rows, next_after = exceptions(conn, access, kind, datetime.now(timezone.utc), location[:64], after)
    return page(request, "exceptions.html", session, rows=rows, kind=kind, kinds=KINDS, location=location,
                next_after=next_after, message=message, ok=True)


def _location_of(conn: Tx, table: str, key: str, value: object) -> str | None:
    row = conn.execute(f"SELECT location FROM {table} WHERE {key} = :v", {"v": value}).first()
    if row is None:
        raise NotFound(f"no such {table[:-1]}")
    return row.location


def _note(note: str) -> str:
    if not note.strip():
        raise Invalid("note: say what was done (the next person reads it)")
    return note.strip()


@router.post("/console/exceptions/tasks/{task_id}/assign", response_class=HTMLResponse)
def assign(request: Request, task_id: int, session: Checked, to: Annotated[str, Form(max_length=64)] = "") -> HTMLResponse:
    access = session.admin.access()
    if not to.strip():
        raise Invalid("to: whose task is it (an operator id or a name)")
    with db_of(request).write() as conn:
        access.require_change(_location_of(conn, "tasks", "id", task_id), "task")
        run_hub_command(conn, "task.assigned", {"task_id": task_id, "to": to.strip()}, actor=access.actor)
    return queue(request, session, "task", message=f"Task {task_id} is {to.strip()}'s.")


@router.post("/console/exceptions/tasks/{task_id}/close", response_class=HTMLResponse)
def close(request: Request, task_id: int, session: Checked, note: Annotated[str, Form(max_length=500)] = "") -> HTMLResponse:
    access = session.admin.access()
    with db_of(request).write() as conn:
        access.require_change(_location_of(conn, "tasks", "id", task_id), "task")
        run_hub_command(conn, "task.closed", {"task_id": task_id, "note": _note(note)}, actor=access.actor)
    return queue(request, session, "task", message=f"Task {task_id} closed.")


@router.post("/console/exceptions/conflicts/{conflict_id}/resolve", response_class=HTMLResponse)
def resolve(request: Request, conflict_id: int, session: Checked, note: Annotated[str, Form(max_length=500)] = "") -> HTMLResponse:
    access = session.admin.access()
    with db_of(request).write() as conn:
        access.require_change(_location_of(conn, "conflicts", "id", conflict_id), "conflict")
        run_hub_command(conn, "conflict.resolved", {"conflict_id": conflict_id, "note": _note(note), "by": access.actor,
                                                    "at": datetime.now(timezone.utc).isoformat()}, actor=access.actor)
    return queue(request, session, "conflict", message=f"Conflict {conflict_id} resolved.")


@router.post("/console/exceptions/refused/{op_id}/review", response_class=HTMLResponse)
def review(request: Request, op_id: str, session: Checked, note: Annotated[str, Form(max_length=500)] = "") -> HTMLResponse:
    access = session.admin.access()
    with db_of(request).write() as conn:
        access.require_change(_location_of(conn, "op_log", "op_id", op_id[:64]), "refused op")
        run_hub_command(conn, "op.reviewed", {"op_id": op_id[:64], "note": _note(note), "by": access.actor,
                                              "at": datetime.now(timezone.utc).isoformat()}, actor=access.actor)
    return queue(request, session, "refused", message="Refused op marked as looked at.")
