"""What an administrator asks of the network's set-up, from the API, the console or the
CLI: each call checks the caller's access (hub.access), then runs one logged hub
command, whose payload model says what is wrong with bad input (the field first).

    network admin   adds locations and items, changes anything
    store manager   changes its own locations: their details, bins, stock, operators
    viewer          changes nothing"""

from __future__ import annotations

import uuid
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from hub.access import Access
from hub.commands import operator_payload
from hub.errors import Invalid, NotFound
from hub.log import run_hub_command
from hub.store.tx import Tx
from sync.authority import PRIVILEGED_ROLES
from sync.models import OpResult

__all__ = [
    "add_bin",
    "add_location",
    "add_operator",
    "adjust_stock",
    "change_operator_role",
    "disable_operator",
    "gtin_problem",
    "receive_transfer",
    "remove_operator",
    "ship_transfer",
    "time_zone_problem",
    "update_location",
    "upsert_item",
]


def time_zone_problem(name: str | None) -> str | None:
    """Why `name` is no IANA time zone (Europe/Paris), or None."""
    if name is None:
        return None
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return f"time_zone: {name!r} is not a time zone name such as Europe/Paris"
    return None


def gtin_problem(code: str) -> str | None:
    """Why an all-digit barcode of a GTIN's length (8, 12, 13, 14) is no GTIN: its check
    digit. Other barcodes (a store's own labels) are taken as they are."""
    if not (code.isdigit() and len(code) in (8, 12, 13, 14)):
        return None
    # From the right, leaving out the check digit: weights 3, 1, 3, 1 …
    total = 3 * sum(map(int, code[-2::-2])) + sum(map(int, code[-3::-2]))
    if (10 - total % 10) % 10 != int(code[-1]):
        return f"gtins: {code} is not a GTIN (its check digit is wrong)"
    return None


def _run(conn: Tx, access: Access, kind: str, payload: dict[str, Any]) -> OpResult:
    return run_hub_command(conn, kind, payload, actor=access.actor)


def add_location(conn: Tx, access: Access, payload: dict[str, Any]) -> OpResult:
    access.require_network()
    if problem := time_zone_problem(payload.get("time_zone")):
        raise Invalid(problem)
    return _run(conn, access, "location.added", payload)


def update_location(conn: Tx, access: Access, code: str, changes: dict[str, Any]) -> OpResult:
    """Change the given fields of a location; a store manager changes its own, but not its kind."""
    access.require_change(code, "location")
    if "kind" in changes and access.role != "network_admin":
        access.require_network()
    if problem := time_zone_problem(changes.get("time_zone")):
        raise Invalid(problem)
    if conn.execute("SELECT 1 FROM locations WHERE code = :c", {"c": code}).first() is None:
        raise NotFound(f"no location {code!r}")
    return _run(conn, access, "location.updated", {**changes, "code": code})


def add_bin(conn: Tx, access: Access, payload: dict[str, Any]) -> OpResult:
    access.require_change(str(payload.get("location", "")), "location")
    return _run(conn, access, "bin.added", payload)


def upsert_item(conn: Tx, access: Access, payload: dict[str, Any]) -> OpResult:
    """Add or change an item (the catalogue is the network's: a network admin's)."""
    access.require_network()
    for code in payload.get("barcodes") or ():
        if isinstance(code, str) and (problem := gtin_problem(code)):
            raise Invalid(problem)
    return _run(conn, access, "catalogue.item_upserted", payload)


def add_operator(conn: Tx, access: Access, operator_id: str, name: str, role: str, location: str, pin: str) -> OpResult:
    access.require_change(location, "location")
    try:
        payload = operator_payload(operator_id, name, role, location, pin)
    except ValueError as exc:
        raise Invalid(f"pin: {exc}") from exc
    return _run(conn, access, "operator.upserted", payload)


def _operator(conn: Tx, access: Access, operator_id: str) -> Any:
    row = conn.execute("SELECT operator_id, name, role, location, pin_hash, salt, active FROM operators "
                       "WHERE operator_id = :i", {"i": operator_id}).first()
    if row is None or not access.sees(row.location):
        raise NotFound(f"no operator {operator_id!r}")
    access.require_change(row.location, "operator")
    return row


def change_operator_role(conn: Tx, access: Access, operator_id: str, role: str, pin: str = "") -> OpResult:
    """A new role keeps the PIN, unless it is a supervisor's (a longer one): then a new PIN
    is required. `operator.upserted` with the stored key, so devices learn it on their next sync."""
    row = _operator(conn, access, operator_id)
    if pin or (role in PRIVILEGED_ROLES and row.role not in PRIVILEGED_ROLES):
        if not pin:
            raise Invalid(f"pin: a {role} needs a new PIN of 6 to 12 digits")
        return add_operator(conn, access, operator_id, row.name, role, row.location, pin)
    payload = {"operator_id": row.operator_id, "name": row.name, "role": role, "location": row.location,
               "pin_hash": row.pin_hash, "salt": row.salt}
    return _run(conn, access, "operator.upserted", payload)


def disable_operator(conn: Tx, access: Access, operator_id: str, reason: str = "") -> OpResult:
    _operator(conn, access, operator_id)
    return _run(conn, access, "operator.disabled", {"operator_id": operator_id, "reason": reason})


def remove_operator(conn: Tx, access: Access, operator_id: str) -> OpResult:
    _operator(conn, access, operator_id)
    return _run(conn, access, "operator.removed", {"operator_id": operator_id})


def adjust_stock(conn: Tx, access: Access, payload: dict[str, Any]) -> OpResult:
    access.require_change(str(payload.get("location", "")), "location")
    return _run(conn, access, "stock.adjusted", payload)


def ship_transfer(conn: Tx, access: Access, payload: dict[str, Any]) -> str:
    """Ship units to another location; returns the transfer's id (drawn if not given)."""
    access.require_change(str(payload.get("from_location", "")), "location")
    transfer_id = payload.get("transfer_id") or f"T-{uuid.uuid4().hex[:10].upper()}"
    _run(conn, access, "transfer.shipped", {**payload, "transfer_id": transfer_id})
    return str(transfer_id)


def receive_transfer(conn: Tx, access: Access, transfer_id: str, bin_code: str) -> OpResult:
    row = conn.execute("SELECT to_location FROM transfers WHERE transfer_id = :t", {"t": transfer_id}).first()
    if row is None:
        raise NotFound(f"no transfer {transfer_id!r}")
    access.require_change(row.to_location, "location")
    return _run(conn, access, "transfer.received", {"transfer_id": transfer_id, "bin": bin_code})
