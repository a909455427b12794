"""A swapped handheld (`backroom hub device hand-over`, `POST /v1/devices/{id}/hand-over`):
the old device's unfinished work goes to the new one only through this explicit act.
In one transaction: the logged hub command that moves the work (hub.domain.device_swap),
the old device's revocation, and an audit entry naming who handed over what."""

from __future__ import annotations

from typing import Any

from hub.actions import revoke_device
from hub.audit import record_audit
from hub.domain.device_swap import unfinished_work
from hub.errors import Conflict, Invalid, NotFound
from hub.log import run_hub_command
from hub.store.tx import Tx

__all__ = ["hand_over"]


def hand_over(conn: Tx, from_device: str, to_device: str, by: str, client: str = "") -> dict[str, Any]:
    """Hand `from_device`'s claims, allotments and open tasks to `to_device` and revoke
    `from_device`; returns what moved. Raises NotFound for an unknown device, Invalid when
    the two are one, or work at different locations or in different roles, Conflict when
    the new device is revoked."""
    old, new = _device(conn, from_device), _device(conn, to_device)
    if old.id == new.id:
        raise Invalid(f"--to: {to_device} is the device handing over; name the handheld that replaces it")
    if new.revoked_at:
        raise Conflict(f"device {to_device} is revoked: hand the work to a device in use")
    if (old.location, old.role) != (new.location, new.role):
        raise Invalid(f"device {to_device} is a {new.role} at {new.location}, {from_device} a {old.role} at "
                      f"{old.location}: work goes to a device of the same role at the same location")
    work = unfinished_work(conn, old.id, old.location)
    result = run_hub_command(conn, "device.work_handed_over",
                             {"from_device": old.id, "to_device": new.id, "location": old.location}, actor=by[:64])
    revoke_device(conn, old.id, by, client)
    conn.execute("UPDATE devices SET handed_over_to = :to WHERE id = :d", {"to": new.id, "d": old.id})
    moved = {"from_device": old.id, "to_device": new.id, **work.as_dict()}
    record_audit(conn, by, "device.handed_over", old.id, "applied", client, {**moved, "op_id": result.op_id})
    return {**moved, "message": result.message}


def _device(conn: Tx, device_id: str) -> Any:
    row = conn.execute("SELECT id, location, role, revoked_at FROM devices WHERE id = :d", {"d": device_id}).first()
    if row is None:
        raise NotFound(f"no device {device_id!r}")
    return row
