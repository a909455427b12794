"""What a pull checks before it reads the feed: that the device and the hub agree on
where each of them is. A device can be ahead of the hub (the hub was restored from a
backup), or behind it (the device's replica was wiped or restored); either way the
device is told so with a reason code and what the hub holds, never a page that would
skip changes or pretend its ops arrived.

    409 hub_behind_device    the device had ops acknowledged past the hub's last one:
                             it sends them again (it keeps acknowledged ops for a while)
    409 cursor_ahead_of_hub  the device's cursor is past the feed's head: it pulls its
                             scope's state again from 0 (a compacted bootstrap)
    409 device_behind_hub    the hub holds ops from this device past the last one the
                             device ever numbered: its replica was reset; it numbers its
                             unsent ops after the hub's last and pulls again from 0
    409 cursor_unknown       the feed at the cursor is not what the device pulled there
                             (its fingerprint differs: the hub was restored and took other
                             changes since): it pulls again from 0
"""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse

from hub.audit import record_audit
from hub.credentials import Device
from hub.feed import cursor_tag, head
from hub.store.db import Database
from hub.store.tx import Tx

__all__ = ["pull_refusal", "PULL_REFUSALS"]

# The pull route's documented refusals (OpenAPI), so clients and schemathesis know them.
PULL_REFUSALS: dict[int | str, dict[str, Any]] = {
    409: {"description": "The device and the hub disagree on where they are: `reason` is "
                         "`hub_behind_device`, `cursor_ahead_of_hub`, `device_behind_hub` or `cursor_unknown`, "
                         "with the hub's `head` and the device's `last_seq` as the hub holds them."},
}


def pull_refusal(db: Database, device: Device, since: int, acked: int | None, numbered: int | None,
                 tag: str | None = None) -> JSONResponse | None:
    """None when the device may pull from `since`; else the 409 that says why not.
    `acked`: the last op the device has an answer for; `numbered`: the last it numbered;
    `tag`: the fingerprint the hub gave with the cursor. A hub found behind a device
    writes it to the audit trail: the operators learn which ops come again."""
    with db.read() as conn:
        refusal = _refusal(conn, device, since, acked, numbered, tag)
    if refusal is not None and refusal[0] == "hub_behind_device":
        with db.write() as conn:
            record_audit(conn, f"device:{device.id}", "sync.hub_behind_device", f"ops #{refusal[2]['last_seq'] + 1}..#{acked}",
                         "resend_asked", "", {"hub_last_seq": refusal[2]["last_seq"], "device_acked": acked})
    return None if refusal is None else _refused(*refusal)


Refusal = tuple[str, str, dict[str, int]]


def _refusal(conn: Tx, device: Device, since: int, acked: int | None, numbered: int | None,
             tag: str | None) -> Refusal | None:
    top = head(conn)
    last_seq = conn.execute("SELECT last_seq FROM devices WHERE id = :d", {"d": device.id}).scalar_one()
    where = {"head": top, "last_seq": last_seq}
    if acked is not None and acked > last_seq:
        return ("hub_behind_device", f"this device has answers for ops up to #{acked} but the hub holds only up "
                        f"to #{last_seq} (the hub was restored): send ops #{last_seq + 1}..#{acked} again", where)
    if numbered is not None and numbered < last_seq:
        return ("device_behind_hub", f"the hub holds this device's ops up to #{last_seq} but the device numbered "
                        f"only up to #{numbered} (its replica was reset or restored): number new ops after "
                        f"#{last_seq} and pull again from 0", where)
    if since > top:
        return ("cursor_ahead_of_hub", f"cursor {since} is past the hub's last change {top} (the hub was "
                        "restored, or the cursor is not this hub's): pull again from 0", where)
    if tag is not None and since > 0 and tag != cursor_tag(conn, since):
        return ("cursor_unknown", f"the hub's feed at cursor {since} is not what this device pulled there (the "
                        "hub was restored from a backup): pull again from 0", where)
    return None


def _refused(reason: str, detail: str, where: dict[str, int]) -> JSONResponse:
    return JSONResponse({"detail": detail, "reason": reason, **where}, status_code=409)
